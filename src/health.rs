//! The daemon's health, for `fitbit-influx health` (and Docker's `HEALTHCHECK`).
//!
//! While the daemon runs it rewrites the health file of its state file (`state.json` →
//! `state.health.json`, so two daemons in one directory do not share one) every [`BEAT`]: `ok`, or
//! `unhealthy` with the reasons — Google refused the credentials or the grant, InfluxDB refused writes
//! or was unreachable for minutes, the state file cannot be written, no window succeeded for longer
//! than a round. Problems that do not stop the data (days that keep failing) are `notes`.
//! `fitbit-influx health` reads it and exits 0 only if the status is `ok` and the file is fresh, so a
//! hung or dead daemon is unhealthy too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the health file is rewritten.
pub const BEAT: Duration = Duration::from_secs(30);
/// Older than this, the file means the daemon is not running properly.
pub const STALE_AFTER: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub status: Status,
    /// Why, when unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Things worth knowing that do not make the daemon unhealthy (days that keep failing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub updated: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Unhealthy,
}

/// The health file that belongs to a state file: `state.json` → `state.health.json` beside it.
pub fn path_for(state_file: &Path) -> PathBuf {
    let stem = state_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    state_file.with_file_name(format!("{stem}.health.json"))
}

/// The daemon's side: problems per user, written out on every beat.
#[derive(Clone)]
pub struct Health {
    path: PathBuf,
    problems: Arc<Mutex<std::collections::BTreeMap<String, String>>>,
    notes: Arc<Mutex<std::collections::BTreeMap<String, String>>>,
}

impl Health {
    pub fn new(state_file: &Path) -> Health {
        Health {
            path: path_for(state_file),
            problems: Arc::default(),
            notes: Arc::default(),
        }
    }

    /// Sets or clears the problem under `key` (a user name, `influxdb`, `state file`) and writes the
    /// file when something changed.
    pub fn set_problem(&self, key: &str, problem: Option<String>) {
        if set(&self.problems, key, problem) {
            self.write();
        }
    }

    /// Sets or clears a note (not a reason to be unhealthy).
    pub fn set_note(&self, key: &str, note: Option<String>) {
        if set(&self.notes, key, note) {
            self.write();
        }
    }

    fn report(&self) -> Report {
        let notes = join(&self.notes.lock().expect("health lock"));
        let p = self.problems.lock().expect("health lock");
        Report {
            status: if p.is_empty() {
                Status::Ok
            } else {
                Status::Unhealthy
            },
            reason: join(&p),
            notes,
            updated: Utc::now(),
        }
    }

    /// Writes the file now (temp file and rename: a reader never sees half a file).
    pub fn write(&self) {
        let json = serde_json::to_vec(&self.report()).expect("report serializes");
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(self.path.file_name().unwrap_or_default());
        temp_name.push(".tmp");
        let temp = self.path.with_file_name(temp_name);
        if let Err(e) = std::fs::write(&temp, json).and_then(|_| std::fs::rename(&temp, &self.path))
        {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write the health file");
        }
    }

    /// Rewrites the file every [`BEAT`] until `stop`.
    pub fn spawn_beat(&self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                me.write();
                tokio::select! {
                    _ = tokio::time::sleep(BEAT) => {}
                    _ = stop.cancelled() => return,
                }
            }
        })
    }
}

type Entries = Mutex<std::collections::BTreeMap<String, String>>;

/// Returns whether the entry changed.
fn set(map: &Entries, key: &str, value: Option<String>) -> bool {
    let mut m = map.lock().expect("health lock");
    match value {
        Some(text) => m.insert(key.to_string(), text.clone()).as_ref() != Some(&text),
        None => m.remove(key).is_some(),
    }
}

fn join(m: &std::collections::BTreeMap<String, String>) -> Option<String> {
    (!m.is_empty()).then(|| {
        m.iter()
            .map(|(k, why)| format!("{k}: {why}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// `fitbit-influx health`: Ok(line) when healthy, Err(line) otherwise.
pub fn check(state_file: &Path) -> Result<String, String> {
    let path = path_for(state_file);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "unhealthy: cannot read {} ({e}); is the daemon running?",
            path.display()
        )
    })?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| format!("unhealthy: {} is unreadable ({e})", path.display()))?;
    let age = (Utc::now() - report.updated).to_std().unwrap_or_default();
    if age > STALE_AFTER {
        return Err(format!(
            "unhealthy: the daemon has not reported for {}s",
            age.as_secs()
        ));
    }
    match report.status {
        Status::Ok => Ok(match report.notes {
            Some(n) => format!("healthy (note: {n})"),
            None => "healthy".to_string(),
        }),
        Status::Unhealthy => Err(format!("unhealthy: {}", report.reason.unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_unhealthy_stale_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        assert!(check(&state)
            .unwrap_err()
            .contains("is the daemon running?"));
        let h = Health::new(&state);
        h.write();
        assert_eq!(check(&state), Ok("healthy".into()));
        h.set_problem("me", Some("token refused".into()));
        assert_eq!(check(&state), Err("unhealthy: me: token refused".into()));
        h.set_problem("me", None);
        assert_eq!(check(&state), Ok("healthy".into()));
        h.set_note("me", Some("2 days keep failing".into()));
        assert_eq!(
            check(&state),
            Ok("healthy (note: me: 2 days keep failing)".into())
        );
        assert_eq!(
            path_for(&state).file_name().unwrap(),
            "state.health.json",
            "the health file belongs to its state file"
        );
        let old = Report {
            status: Status::Ok,
            reason: None,
            notes: None,
            updated: Utc::now() - chrono::Duration::seconds(600),
        };
        std::fs::write(path_for(&state), serde_json::to_vec(&old).unwrap()).unwrap();
        assert!(check(&state).unwrap_err().contains("has not reported for"));
    }
}
