//! SIGKILL at random moments while saving: the state file is always one complete save, mode 0600.
//! Its own test binary, because it forks: a fork inherits open lock files for a moment, which would
//! disturb the lock tests running beside it.

use chrono::{NaiveDate, TimeZone, Utc};
use fitbit_influx::coverage::Coverage;
use fitbit_influx::secret::Secret;
use fitbit_influx::state::{self, State, StateStore, Tokens};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

fn sample_state(n: u32) -> State {
    let mut s = State::default();
    let user = s.users.entry("me".into()).or_default();
    user.tokens = Some(Tokens {
        refresh_token: Secret::new(format!("1//refresh-{n}")),
        access_token: Some(Secret::new(format!("ya29.access-{n}"))),
        access_token_expires_at: Some(Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()),
        seeded_from: Secret::new("1//initial").fingerprint(),
    });
    let mut coverage = Coverage::default();
    let first = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    coverage
        .final_days
        .insert_range(first, first + chrono::Days::new(n as u64));
    user.coverage.insert("heart-rate".into(), coverage);
    s
}

/// Child mode of `saves_survive_sigkill_at_any_moment`: saves numbered states as fast as it can.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var("FI_STATE_CRASH_CHILD") else {
        return;
    };
    let (store, _) = StateStore::open(&path).unwrap();
    for n in 0.. {
        store.save(&sample_state(n)).unwrap();
    }
}

#[test]
fn saves_survive_sigkill_at_any_moment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let exe = std::env::current_exe().unwrap();
    let mut seen_versions = std::collections::BTreeSet::new();
    for round in 0..20u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env("FI_STATE_CRASH_CHILD", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 120));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if !path.exists() {
            continue; // killed before the first save finished
        }
        let s = state::load(&path).expect("after SIGKILL the state file still parses");
        let tokens = s.users["me"].tokens.as_ref().unwrap();
        let n: u32 = tokens
            .refresh_token
            .expose()
            .trim_start_matches("1//refresh-")
            .parse()
            .unwrap();
        assert_eq!(s, sample_state(n), "the file is exactly one complete save");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        seen_versions.insert(n);
    }
    assert!(
        seen_versions.len() > 5,
        "the child saved many versions: {seen_versions:?}"
    );
}
