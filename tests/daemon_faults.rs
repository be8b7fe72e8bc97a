//! The daemon under rate limits, server errors and a revoked refresh token.

mod common;

use common::daemon::{terminate, Daemon};
use common::sim::start;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

async fn heart_rate_count(s: &Servers, db: &str) -> i64 {
    rows(s, db, "SELECT count(bpm) FROM heart_rate")
        .await
        .first()
        .and_then(|r| r["count"].as_i64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_tiny_quota_it_sleeps_as_retry_after_says_and_finishes() {
    let Some(s) = servers() else { return };
    // 60 per minute with a burst of 2: the daemon (paced at 300/min) runs into 429s with Retry-After: 1.
    let sim = start(|a| {
        a.days = 4;
        a.heart_rate_every = 300;
        a.quota_per_minute = 60;
        a.quota_burst = Some(2);
    })
    .await;
    let db = fresh_database(&s, "quota").await;
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path()).run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let limited = sim.stats().await["rate_limited"].as_u64().unwrap();
    assert!(limited >= 3, "the quota was hit: {limited}");
    let sleeps: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("HTTP 429 from the Google Health API: sleeping"))
        .collect();
    assert_eq!(sleeps.len() as u64, limited, "every 429 is logged");
    assert!(
        sleeps.iter().all(|l| l.contains("source=\"Retry-After\"")
            && l.contains("sleep_s=1")
            && l.contains("until=")),
        "{sleeps:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(limited),
        "it slept as told"
    );
    assert!(heart_rate_count(&s, &db).await > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retry_after_it_sleeps_rate_limit_sleep() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 3;
        a.heart_rate_every = 300;
        a.fail_every = Some(4);
        a.fail_with = 429;
        a.no_retry_after = true;
    })
    .await;
    let db = fresh_database(&s, "ratelimitsleep").await;
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path())
        .env("RATE_LIMIT_SLEEP", "2s")
        .run_once()
        .await;
    assert_eq!(code, Some(0), "{log}");
    let sleeps: Vec<&str> = log.lines().filter(|l| l.contains("HTTP 429")).collect();
    assert!(sleeps.len() >= 2, "{log}");
    assert!(
        sleeps
            .iter()
            .all(|l| l.contains("source=\"RATE_LIMIT_SLEEP\"") && l.contains("sleep_s=2")),
        "{sleeps:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(2 * sleeps.len() as u64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_unavailable_answers_are_retried_and_the_backfill_completes() {
    let Some(s) = servers() else { return };
    let clean_sim = start(|a| {
        a.days = 5;
        a.heart_rate_every = 300;
    })
    .await;
    let failing_sim = start(|a| {
        a.days = 5;
        a.heart_rate_every = 300;
        a.fail_every = Some(3);
        // 503 UNAVAILABLE is one of the transient answers (reference §11 #16).
        a.fail_with = 503;
    })
    .await;
    let (clean_db, failing_db) = (
        fresh_database(&s, "clean503").await,
        fresh_database(&s, "fail503").await,
    );
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (code, log) = Daemon::new(&failing_sim, &s, &failing_db, d1.path())
        .run_once()
        .await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("API request failed; retrying"), "{log}");
    assert!(
        !log.contains("window failed"),
        "bounded retries were enough: {log}"
    );
    let (code, log) = Daemon::new(&clean_sim, &s, &clean_db, d2.path())
        .run_once()
        .await;
    assert_eq!(code, Some(0), "{log}");
    for m in ["heart_rate", "steps", "sleep_stage"] {
        let q = format!("SELECT count(*) FROM \"{m}\" WHERE time < now() - 1h");
        assert_eq!(
            rows(&s, &failing_db, &q).await,
            rows(&s, &clean_db, &q).await,
            "{m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_keeps_the_daemon_up_logs_once_and_does_not_spin() {
    let Some(s) = servers() else { return };
    let sim = start(|a| a.days = 3).await;
    let refresh = sim.sim.auth.refresh_token(0).expose().to_string();
    let r = sim
        .http
        .post(format!("{}/revoke", sim.url))
        .query(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let db = fresh_database(&s, "revoked").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path()).env("SYNC_INTERVAL", "1s");
    let child = d.spawn(&["run"]);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let health = d.command(&["health"]).output().await.unwrap();
    assert_eq!(
        health.status.code(),
        Some(1),
        "the daemon reports itself unhealthy"
    );
    let said = String::from_utf8_lossy(&health.stdout);
    assert!(
        said.starts_with("unhealthy: me: Google refused the refresh token"),
        "{said}"
    );
    terminate(&child);
    let out = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("exits within seconds of SIGTERM")
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "still running after 4 s, and a clean exit on SIGTERM"
    );
    let log = String::from_utf8_lossy(&out.stderr);
    let fixes: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Google refused the refresh token"))
        .collect();
    assert_eq!(fixes.len(), 1, "the fix is logged once: {log}");
    assert!(
        fixes[0].contains("GOOGLE_REFRESH_TOKEN") && fixes[0].contains("7 days"),
        "{}",
        fixes[0]
    );
    assert_eq!(
        sim.stats().await["token_requests"],
        1,
        "no retry storm against the token endpoint"
    );
    // run --once reports it and fails.
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("Google refused the refresh token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_backfill_exits_0_within_seconds_and_resumes_later() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 30;
        a.heart_rate_every = 5;
    })
    .await;
    let db = fresh_database(&s, "sigterm").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let child = d.spawn(&["run"]);
    // Wait until the backfill has saved progress (a heart-rate cursor), however loaded the machine is.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let saved = std::fs::read_to_string(&d.state_file)
            .ok()
            .is_some_and(|t| t.contains("\"heart-rate\""));
        if saved {
            break;
        }
        assert!(Instant::now() < deadline, "no progress saved within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let health = d.command(&["health"]).output().await.unwrap();
    assert_eq!(String::from_utf8_lossy(&health.stdout), "healthy\n");
    assert_eq!(health.status.code(), Some(0));
    let asked = Instant::now();
    terminate(&child);
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("exits")
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("days left") && log.contains("shutting down"),
        "{log}"
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&d.state_file).unwrap()).unwrap();
    // The next start resumes with the newest heart-rate day not yet written (recent first).
    let covered = |d: chrono::NaiveDate| {
        let hr = &state["users"]["me"]["coverage"]["heart-rate"];
        ["final", "open"].iter().any(|k| {
            hr[k].as_array().into_iter().flatten().any(|r| {
                let a: chrono::NaiveDate = r[0].as_str().unwrap().parse().unwrap();
                let b: chrono::NaiveDate = r[1].as_str().unwrap().parse().unwrap();
                a <= d && d <= b
            })
        })
    };
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive();
    assert!(covered(today), "recent days first: {state}");
    let mut next_day = today;
    while covered(next_day) {
        next_day -= chrono::Duration::days(1);
    }
    let child = d.spawn(&["run"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    terminate(&child);
    let out = child.wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let first_window = log
        .lines()
        .find(|l| l.contains("heart-rate: "))
        .expect("a heart-rate window");
    // Windows are logged oldest day first: the first one ends on that day.
    assert!(
        first_window.contains(&format!(" → {next_day} (")),
        "resumed at {next_day}, without fetching the open days again: {first_window}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_without_its_scope_is_skipped_with_one_warning_and_the_others_go_on() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        // Ten days, so that the scale surely has a weight in them (it weighs on about half the days).
        a.days = 10;
        a.heart_rate_every = 300;
        a.withheld_scopes = vec!["sleep".into()];
    })
    .await;
    let db = fresh_database(&s, "noscope").await;
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path()).run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("data type not available"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("data_type=\"sleep\"") && warnings[0].contains("status=403"),
        "{}",
        warnings[0]
    );
    assert!(rows(&s, &db, "SELECT count(minutes_asleep) FROM sleep")
        .await
        .is_empty());
    for m in ["heart_rate", "steps", "weight", "resting_heart_rate"] {
        assert!(
            !rows(&s, &db, &format!("SELECT count(*) FROM {m}"))
                .await
                .is_empty(),
            "{m} synced"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_is_kept_in_the_state_file() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 2;
        a.heart_rate_every = 600;
        a.rotate_refresh_tokens = true;
    })
    .await;
    let initial = sim.sim.auth.refresh_token(0);
    let db = fresh_database(&s, "rotate").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let stored = || {
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(&d.state_file).unwrap()).unwrap();
        state["users"]["me"]["tokens"]["refresh_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(
        stored(),
        initial.expose(),
        "the new token replaced the old one"
    );
    assert_eq!(stored(), sim.sim.auth.refresh_token(0).expose());
    // The old token is dead at the simulator; a second run works only with the stored one. The state's
    // access token is still valid, so expire it first to force a refresh.
    let state_text = std::fs::read_to_string(&d.state_file).unwrap();
    let mut state: Value = serde_json::from_str(&state_text).unwrap();
    state["users"]["me"]["tokens"]["access_token_expires_at"] = Value::from("2000-01-01T00:00:00Z");
    std::fs::write(&d.state_file, serde_json::to_vec(&state).unwrap()).unwrap();
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(stored(), sim.sim.auth.refresh_token(0).expose());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_from_overrides_the_account_start() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 10;
        a.heart_rate_every = 600;
    })
    .await;
    let from = sim.sim.first_day + chrono::Duration::days(6);
    let db = fresh_database(&s, "from").await;
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path())
        .env("BACKFILL_FROM", &from.to_string())
        .run_once()
        .await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains(&format!("backfill_from={from}")), "{log}");
    let first = rows(&s, &db, "SELECT first(bpm) FROM heart_rate").await;
    let first_ns = first[0]["time"].as_i64().unwrap();
    let midnight = sim
        .sim
        .person(0)
        .day_start(from)
        .timestamp_nanos_opt()
        .unwrap();
    assert!(first_ns >= midnight, "nothing before BACKFILL_FROM");
    assert!(
        first_ns < midnight + 3_600_000_000_000,
        "and that day itself is there"
    );
}

/// Polls `fitbit-influx health` until it says something containing `needle` (and exits 1).
async fn wait_unhealthy(d: &Daemon<'_>, needle: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let out = d.command(&["health"]).output().await.unwrap();
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.code() == Some(1) && line.contains(needle) {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "health did not report {needle:?} within {secs}s: {line}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_secret_or_a_missing_database_exits_with_its_code_and_turns_health_unhealthy(
) {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 3;
        a.heart_rate_every = 300;
    })
    .await;
    let db = fresh_database(&s, "exitcodes").await;
    // A wrong client secret: exit 1, and the message names the variables to check.
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path()).env("GOOGLE_CLIENT_SECRET", "not-the-secret");
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("GOOGLE_CLIENT_SECRET"), "{log}");
    let mut child = d.spawn(&["run"]);
    let line = wait_unhealthy(&d, "GOOGLE_CLIENT_SECRET", 30).await;
    assert!(line.starts_with("unhealthy: me: "), "{line}");
    child.kill().await.unwrap();

    // A database that does not exist: exit 4 (nothing could be written), health names InfluxDB.
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, "no_such_database", dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(4), "{log}");
    assert!(log.contains("database not found"), "{log}");
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, "no_such_database", dir.path());
    let mut child = d.spawn(&["run"]);
    let line = wait_unhealthy(&d, "influxdb: ", 60).await;
    assert!(line.contains("database not found"), "{line}");
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_down_for_20s_at_start_delays_the_data_by_less_than_a_minute() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 3;
        a.heart_rate_every = 300;
    })
    .await;
    sim.sim.control.set(|c| c.token_endpoint_down = true);
    let db = fresh_database(&s, "tokendown").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let mut child = d.spawn(&["run"]);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(rows(&s, &db, "SELECT count(bpm) FROM heart_rate")
        .await
        .is_empty());
    sim.sim.control.set(|c| c.token_endpoint_down = false);
    let back = Instant::now();
    while rows(&s, &db, "SELECT count(bpm) FROM heart_rate")
        .await
        .is_empty()
    {
        assert!(
            back.elapsed() < Duration::from_secs(60),
            "data flows within a minute after the token endpoint is back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().await.unwrap();
}
