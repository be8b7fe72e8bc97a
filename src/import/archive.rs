//! An archive as a list of entries read one at a time: a `.zip` (read in place, entry by entry, never
//! unpacked to disk) or an unpacked folder. Each entry has a fingerprint — size and CRC-32 in a zip
//! (every entry of a Takeout zip carries the same mtime, so it cannot be the mtime), size and mtime in
//! a folder — that tells a file already imported from one that changed.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One file of the archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The path inside the archive, with `/` separators.
    pub name: String,
    pub size: u64,
    pub fingerprint: String,
    index: Source,
}

#[derive(Debug, Clone)]
enum Source {
    Zip(usize),
    File(PathBuf),
}

impl Entry {
    /// The file name without folders.
    pub fn base_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

pub enum Archive {
    Zip(Box<zip::ZipArchive<std::fs::File>>),
    Folder(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: {why}")]
    Open { path: String, why: String },
    #[error("{entry}: cannot be read from the archive: {why}")]
    Entry { entry: String, why: String },
}

impl Archive {
    pub fn open(path: &Path) -> Result<Archive, ArchiveError> {
        let err = |why: String| ArchiveError::Open {
            path: path.display().to_string(),
            why,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        if meta.is_dir() {
            return Ok(Archive::Folder(path.to_path_buf()));
        }
        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let zip = zip::ZipArchive::new(file).map_err(|e| {
            err(format!(
                "not a readable zip archive ({e}); give the .zip Google or fitbit.com sent, or the folder it unpacks to"
            ))
        })?;
        Ok(Archive::Zip(Box::new(zip)))
    }

    /// Every file, in a stable order (by name).
    pub fn entries(&mut self) -> Result<Vec<Entry>, ArchiveError> {
        let mut out = Vec::new();
        match self {
            Archive::Zip(z) => {
                for i in 0..z.len() {
                    let f = z.by_index_raw(i).map_err(|e| ArchiveError::Entry {
                        entry: format!("entry {i}"),
                        why: e.to_string(),
                    })?;
                    if f.is_dir() {
                        continue;
                    }
                    out.push(Entry {
                        name: f.name().to_string(),
                        size: f.size(),
                        fingerprint: format!("{}:{:08x}", f.size(), f.crc32()),
                        index: Source::Zip(i),
                    });
                }
            }
            Archive::Folder(root) => walk(root, root, &mut out)?,
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The entry's bytes. One file at a time (the largest, a month of per-minute calories, is a few
    /// MB), so memory does not grow with the archive.
    pub fn read(&mut self, e: &Entry) -> Result<Vec<u8>, ArchiveError> {
        let err = |why: String| ArchiveError::Entry {
            entry: e.name.clone(),
            why,
        };
        let mut buf = Vec::with_capacity(e.size.min(64 << 20) as usize);
        match (&mut *self, &e.index) {
            (Archive::Zip(z), Source::Zip(i)) => {
                let mut f = z.by_index(*i).map_err(|x| err(x.to_string()))?;
                f.read_to_end(&mut buf).map_err(|x| err(x.to_string()))?;
            }
            (Archive::Folder(_), Source::File(p)) => {
                buf = std::fs::read(p).map_err(|x| err(x.to_string()))?;
            }
            _ => return Err(err("entry of another archive".into())),
        }
        Ok(buf)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> Result<(), ArchiveError> {
    let err = |p: &Path, why: String| ArchiveError::Open {
        path: p.display().to_string(),
        why,
    };
    for item in std::fs::read_dir(dir).map_err(|e| err(dir, e.to_string()))? {
        let item = item.map_err(|e| err(dir, e.to_string()))?;
        let path = item.path();
        let meta = item.metadata().map_err(|e| err(&path, e.to_string()))?;
        if meta.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        out.push(Entry {
            name,
            size: meta.len(),
            fingerprint: format!("{}:m{mtime}", meta.len()),
            index: Source::File(path),
        });
    }
    Ok(())
}
