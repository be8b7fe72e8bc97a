//! The state file: round trip, atomic replace, 0600, the lock, corrupt files kept, and a crash loop.

use chrono::{NaiveDate, TimeZone, Utc};
use fitbit_influx::coverage::Coverage;
use fitbit_influx::secret::Secret;
use fitbit_influx::state::{self, State, StateError, StateStore, Tokens};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn round_trip_in_a_new_directory_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/state.json");
    let (store, loaded) = StateStore::open(&path).unwrap();
    assert_eq!(loaded, State::default(), "an absent file is an empty state");
    let s = sample_state(7);
    store.save(&s).unwrap();
    assert_eq!(mode(&path), 0o600);
    drop(store);
    let (_store, again) = StateStore::open(&path).unwrap();
    assert_eq!(again, s);
    // The file is plain, versioned JSON a person can read.
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["version"], 2);
    assert_eq!(
        json["users"]["me"]["tokens"]["refresh_token"],
        "1//refresh-7"
    );
    assert_eq!(
        json["users"]["me"]["coverage"]["heart-rate"]["final"],
        serde_json::json!([["2025-01-01", "2025-01-08"]])
    );
}

#[test]
fn a_crash_between_write_and_rename_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let (store, _) = StateStore::open(&path).unwrap();
    store.save(&sample_state(1)).unwrap();
    // The first half of a save, then "crash": the rename never happens.
    let temp = state::write_temp(&path, &sample_state(2)).unwrap();
    assert!(temp.exists());
    assert_eq!(state::load(&path).unwrap(), sample_state(1));
    // The next save replaces the leftover temp file and succeeds.
    store.save(&sample_state(3)).unwrap();
    assert_eq!(state::load(&path).unwrap(), sample_state(3));
    assert!(!temp.exists(), "the temp file was renamed into place");
}

#[test]
fn a_second_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let (_first, _) = StateStore::open(&path).unwrap();
    let second = StateStore::open(&path).unwrap_err();
    assert!(matches!(second, StateError::Locked { .. }));
    let msg = second.to_string();
    assert!(
        msg.contains("locked by another fitbit-influx process"),
        "{msg}"
    );
    assert!(msg.contains(path.to_str().unwrap()), "{msg}");
}

#[test]
fn the_lock_is_released_when_the_store_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    drop(StateStore::open(&path).unwrap());
    StateStore::open(&path).unwrap();
}

#[test]
fn a_corrupt_file_is_reported_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    for bad in [&b"{\"version\": 1, \"users\": {\"me\": "[..], b"", b"[1,2]"] {
        std::fs::write(&path, bad).unwrap();
        let e = StateStore::open(&path).unwrap_err();
        assert!(matches!(e, StateError::Corrupt { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(path.to_str().unwrap()) && msg.contains("left untouched"),
            "{msg}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bad,
            "the bad file is kept as it was"
        );
    }
}

#[test]
fn an_unknown_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, r#"{"version": 99, "users": {}}"#).unwrap();
    let e = StateStore::open(&path).unwrap_err();
    assert!(
        matches!(e, StateError::UnknownVersion { found: 99, .. }),
        "{e}"
    );
}

#[test]
fn a_changed_configured_token_reseeds_and_the_same_one_does_not() {
    let mut s = sample_state(1);
    let user = s.users.get_mut("me").unwrap();
    // Same configured token as the state was seeded from: the refreshed tokens are kept.
    assert!(!user.seed_tokens(&Secret::new("1//initial")));
    assert_eq!(
        user.tokens.as_ref().unwrap().refresh_token.expose(),
        "1//refresh-1"
    );
    // A new configured token (the user re-authorized): it replaces the stored ones.
    assert!(user.seed_tokens(&Secret::new("1//brand-new")));
    let t = user.tokens.as_ref().unwrap();
    assert_eq!(t.refresh_token.expose(), "1//brand-new");
    assert_eq!(t.access_token, None);
    assert_eq!(t.seeded_from, Secret::new("1//brand-new").fingerprint());
    assert_eq!(user.coverage.len(), 1, "coverage survives a re-seed");
}

#[test]
fn a_version_1_file_is_migrated_keeping_tokens_and_refetching_its_last_week() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(
        &path,
        r#"{"version": 1, "users": {"me": {"tokens": {"refresh_token": "1//old", "seeded_from": "x"},
            "cursors": {"heart-rate": {"complete_through": "2026-05-20"}, "sleep": {},
                        "exercise": {"complete_through": "2026-05-20"}}}}}"#,
    )
    .unwrap();
    let (_store, s) = StateStore::open(&path).unwrap();
    let me = &s.users["me"];
    assert_eq!(me.tokens.as_ref().unwrap().refresh_token.expose(), "1//old");
    let hr = &me.coverage["heart-rate"];
    let day = |t: &str| t.parse::<NaiveDate>().unwrap();
    assert!(hr.final_days.contains(day("2026-05-13")));
    assert!(
        !hr.final_days.contains(day("2026-05-14")),
        "version 1 trusted late days it should not have; the last week is fetched again"
    );
    assert!(!me.coverage.contains_key("sleep"), "no cursor, no coverage");
    assert!(
        !me.coverage.contains_key("exercise"),
        "version 1's wide exercise windows stored generic WORKOUT sessions: all fetched again"
    );
}
