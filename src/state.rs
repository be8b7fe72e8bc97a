//! The state file: each user's OAuth tokens, which Google account they belong to, and the coverage of
//! every data type (which days are final, open or failed, see [`crate::coverage`]).
//!
//! It is the one thing the daemon cannot lose (a lost refresh token means the user must consent again),
//! so it is handled with care:
//! - **Atomic replace**: a save writes a temp file in the same directory, fsyncs it, renames it over the
//!   old file and fsyncs the directory. A crash at any moment leaves either the old or the new file,
//!   never a mix or an empty file.
//! - **Mode 0600** from the moment the temp file is created; the parent directory is created if missing.
//! - **One process at a time**: an advisory lock on `<state file>.lock` (a separate file, because the
//!   state file itself is replaced by rename on every save) is held for the life of [`StateStore`].
//! - **Never overwritten when unreadable**: a corrupt or unknown-version file stops the program with a
//!   message naming the file; the bad file stays where it is.

use crate::coverage::Coverage;
use crate::secret::Secret;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The format version this build writes. Version 1 (one cursor per type) is still read and migrated.
pub const STATE_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Keyed by user name (`me` for a single-person set-up).
    #[serde(default)]
    pub users: BTreeMap<String, UserState>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: STATE_VERSION,
            users: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    /// The Google account (`identity.healthUserId`) the coverage below belongs to. A token of another
    /// account starts the coverage over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// When the daemon last compared recent weeks with the API on its own (`verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_verify: Option<DateTime<Utc>>,
    /// Per data type (keyed by the catalog's data-type name).
    #[serde(default)]
    pub coverage: BTreeMap<String, Coverage>,
    /// Archive files imported (`fitbit-influx import`): path inside the archive → its fingerprint
    /// (size and CRC-32), recorded once all its points were written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub imported: BTreeMap<String, String>,
    /// The time zone the last import applied, for the next part of a Takeout export in parts
    /// (only one part holds Profile.csv).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_zone: Option<String>,
}

/// Version 1's per-type progress: every day up to `complete_through` was written.
#[derive(Debug, Clone, Default, Deserialize)]
struct CursorV1 {
    #[serde(default)]
    complete_through: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct UserStateV1 {
    #[serde(default)]
    tokens: Option<Tokens>,
    #[serde(default)]
    cursors: BTreeMap<String, CursorV1>,
}

#[derive(Deserialize)]
struct StateV1 {
    #[serde(default)]
    users: BTreeMap<String, UserStateV1>,
}

/// Days before a version-1 cursor that are fetched once more after the upgrade: version 1 trusted
/// whatever it saw once, so the last week may miss data that arrived late.
const V1_REFETCH_DAYS: i64 = 7;

impl From<StateV1> for State {
    fn from(v1: StateV1) -> State {
        let users = v1
            .users
            .into_iter()
            .map(|(name, u)| {
                let coverage = u
                    .cursors
                    .into_iter()
                    // Version 1 fetched exercise in 90-day windows, which return sessions as the
                    // generic WORKOUT (reference §11 #12): its whole history is fetched again in
                    // narrow windows, each session replacing its generic copy.
                    .filter(|(t, _)| t != "exercise")
                    .filter_map(|(t, c)| {
                        let through = c.complete_through? - chrono::Duration::days(V1_REFETCH_DAYS);
                        let mut cov = Coverage::default();
                        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
                        cov.final_days.insert_range(epoch, through);
                        Some((t, cov))
                    })
                    .collect();
                let user = UserState {
                    tokens: u.tokens,
                    coverage,
                    ..UserState::default()
                };
                (name, user)
            })
            .collect();
        State {
            version: STATE_VERSION,
            users,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tokens {
    pub refresh_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Fingerprint of the configured (`GOOGLE_REFRESH_TOKEN`) token these tokens descend from. When the
    /// configured token changes, the user has re-authorized and the stored tokens are replaced.
    pub seeded_from: String,
}

impl UserState {
    /// Seeds the tokens from the configured refresh token unless the stored ones already descend from
    /// it. Returns true if the tokens were (re)seeded, which the caller must save.
    pub fn seed_tokens(&mut self, configured: &Secret) -> bool {
        let fingerprint = configured.fingerprint();
        if matches!(&self.tokens, Some(t) if t.seeded_from == fingerprint) {
            return false;
        }
        self.tokens = Some(Tokens {
            refresh_token: configured.clone(),
            access_token: None,
            access_token_expires_at: None,
            seeded_from: fingerprint,
        });
        true
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state file {path} is locked by another fitbit-influx process; stop that one first (only one may use a state file)")]
    Locked { path: PathBuf },
    #[error("state file {path} is not readable state ({reason}). It was left untouched: fix it or move it away to start over (the daemon will then need GOOGLE_REFRESH_TOKEN and will backfill again)")]
    Corrupt { path: PathBuf, reason: String },
    #[error("state file {path} has format version {found}, this build reads version {STATE_VERSION}; use a newer fitbit-influx or move the file away")]
    UnknownVersion { path: PathBuf, found: u32 },
    #[error("state file {path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// The open, locked state file.
#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    // Held for the lifetime of the store; the OS releases the lock when it is closed.
    _lock: File,
}

impl StateStore {
    /// Creates the parent directory if needed, takes the lock and loads the state (an absent file is an
    /// empty state; it is created on the first save).
    pub fn open(path: impl Into<PathBuf>) -> Result<(StateStore, State), StateError> {
        let path = path.into();
        let dir = parent_dir(&path);
        fs::create_dir_all(&dir).map_err(io_err(&path, "creating its directory"))?;
        let lock_path = lock_path(&path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io_err(&lock_path, "opening the lock file"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StateError::Locked { path }),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path, "locking")(e)),
        }
        let state = load(&path)?;
        Ok((StateStore { path, _lock: lock }, state))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Atomically replaces the state file with `state`.
    pub fn save(&self, state: &State) -> Result<(), StateError> {
        let temp = write_temp(&self.path, state)?;
        commit(&temp, &self.path)
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".tmp");
    path.with_file_name(name)
}

/// Reads the state file; an absent file is an empty state.
pub fn load(path: &Path) -> Result<State, StateError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
        Err(e) => return Err(io_err(path, "reading")(e)),
    };
    #[derive(Deserialize)]
    struct VersionOnly {
        version: u32,
    }
    let corrupt = |e: serde_json::Error| StateError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let version = serde_json::from_slice::<VersionOnly>(&bytes)
        .map_err(corrupt)?
        .version;
    match version {
        STATE_VERSION => serde_json::from_slice(&bytes).map_err(corrupt),
        1 => Ok(serde_json::from_slice::<StateV1>(&bytes)
            .map_err(corrupt)?
            .into()),
        found => Err(StateError::UnknownVersion {
            path: path.to_path_buf(),
            found,
        }),
    }
}

/// First half of a save: the complete new content, durable in a temp file beside the target.
/// A crash after this and before [`commit`] leaves the old state file as it was.
pub fn write_temp(path: &Path, state: &State) -> Result<PathBuf, StateError> {
    let temp = temp_path(path);
    let mut json = serde_json::to_vec_pretty(state).expect("state always serializes");
    json.push(b'\n');
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&temp)
        .map_err(io_err(&temp, "creating the temp file"))?;
    // `mode` applies only when the file is created; a leftover temp file gets the same mode here.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(io_err(&temp, "restricting the temp file to its owner"))?;
    file.write_all(&json)
        .map_err(io_err(&temp, "writing the temp file"))?;
    file.sync_all()
        .map_err(io_err(&temp, "flushing the temp file to disk"))?;
    Ok(temp)
}

/// Second half of a save: rename the temp file over the target and make the rename durable.
pub fn commit(temp: &Path, path: &Path) -> Result<(), StateError> {
    fs::rename(temp, path).map_err(io_err(path, "replacing it"))?;
    let dir = parent_dir(path);
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(path, "flushing its directory to disk"))
}

/// The state shared by the token managers and the sync engine: every change is saved before
/// [`SharedState::update`] returns, so what the program acts on is always on disk first.
#[derive(Debug)]
pub struct SharedState {
    store: StateStore,
    state: std::sync::Mutex<State>,
    /// The last save's error, while saves fail (for health).
    save_error: std::sync::Mutex<Option<String>>,
}

impl SharedState {
    pub fn new(store: StateStore, state: State) -> SharedState {
        SharedState {
            store,
            state: std::sync::Mutex::new(state),
            save_error: std::sync::Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock().expect("state lock poisoned"))
    }

    /// Applies `f` and saves the result. If saving fails, the change is rolled back in memory too,
    /// so memory never runs ahead of the file.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> Result<R, StateError> {
        let mut guard = self.state.lock().expect("state lock poisoned");
        let mut next = guard.clone();
        let r = f(&mut next);
        let saved = self.store.save(&next);
        *self.save_error.lock().expect("state lock poisoned") =
            saved.as_ref().err().map(|e| e.to_string());
        saved?;
        *guard = next;
        Ok(r)
    }

    /// Why the last save failed, while saves fail.
    pub fn save_error(&self) -> Option<String> {
        self.save_error.lock().expect("state lock poisoned").clone()
    }
}
