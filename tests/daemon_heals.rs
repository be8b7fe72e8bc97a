//! When reality is not one clean pass: a watch that syncs days late, unreadable points, `200 {}`
//! answers and lost page tokens, points deleted in InfluxDB, a moved `BACKFILL_FROM`, another Google
//! account. Each against the simulator (its own API is the truth) and the real InfluxDB.

mod common;

use chrono::{Duration, Utc};
use common::daemon::Daemon;
use common::sim::start;
use common::truth::*;
use common::*;
use serde_json::Value;

fn state_of(d: &Daemon<'_>) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&d.state_file).unwrap()).unwrap()
}

fn requests(stats: &Value, key: &str) -> i64 {
    stats["by_type"][key].as_i64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_that_syncs_three_days_late_still_lands_exactly_and_only_open_days_are_fetched_again(
) {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 12;
        a.heart_rate_every = 60;
        // Exact request counts below: no occasional empty pages (reference §11 #2).
        a.no_empty_pages = true;
    })
    .await;
    // The watch was left at home: its last sync was three days ago.
    let synced = Utc::now() - Duration::days(3);
    sim.sim.control.set(|c| c.watch_synced = Some(synced));
    let db = fresh_database(&s, "late").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    // The days after the last sync are open, not final.
    let st = state_of(&d);
    let open = &st["users"]["me"]["coverage"]["heart-rate"]["open"];
    let open_from: chrono::NaiveDate = open[0][0].as_str().unwrap().parse().unwrap();
    // Open from the last day the watch had not synced past (plus the hour's settle margin).
    assert_eq!(
        open_from,
        (synced - Duration::hours(1))
            .with_timezone(&BERLIN)
            .date_naive(),
        "{open}"
    );
    let status = d.command(&["status"]).output().await.unwrap();
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        status.contains("heart-rate") && status.contains(&open_from.to_string()),
        "{status}"
    );

    // The watch comes home and syncs.
    sim.sim.control.set(|c| c.watch_synced = None);
    let before = sim.stats().await;
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let after = sim.stats().await;
    // Nothing older than needed is fetched again: the open days only, of the 12, in 3-day windows
    // of one page each (1,440 samples a day).
    let open_days = (today() - open_from).num_days() + 1;
    let hr_requests =
        requests(&after, "heart-rate:reconcile") - requests(&before, "heart-rate:reconcile");
    assert_eq!(hr_requests, (open_days + 2) / 3, "{log}");
    assert_eq!(
        requests(&after, "steps:dailyRollUp") - requests(&before, "steps:dailyRollUp"),
        1,
        "one rollup request for the open days"
    );

    let tok = sim.access_token(0).await;
    let (a, b) = (midnight(sim.sim.first_day), midnight(today()));
    let hr = list_truth(&sim, &tok, "heart-rate", HEART_RATE, a, b).await;
    assert!(hr.len() > 1000 * 10);
    assert_eq!(stored(&s, &db, "heart_rate", "bpm", a, b).await, hr);
    let steps = list_truth(&sim, &tok, "steps", STEPS, a, b).await;
    assert_eq!(stored(&s, &db, "steps", "count", a, b).await, steps);
    let daily = daily_steps_truth(&sim, &tok, sim.sim.first_day, today() - Duration::days(1)).await;
    let mut kept = daily_steps_stored(&s, &db).await;
    kept.remove(&today());
    assert_eq!(kept, daily, "every daily value of the late days");
    // Sleep of the late nights: the sessions ending on them, with their minutes.
    let filter = format!(
        r#"sleep.interval.end_time >= "{}" AND sleep.interval.end_time < "{}""#,
        ts(a),
        ts(b)
    );
    let (sessions, _) = sim.list_all(&tok, "sleep", &filter, None).await;
    let truth: std::collections::BTreeSet<i64> = sessions
        .iter()
        .map(|p| {
            p["sleep"]["summary"]["minutesAsleep"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let got: std::collections::BTreeSet<i64> = rows(
        &s,
        &db,
        &format!("SELECT minutes_asleep FROM sleep WHERE time < '{}'", ts(b)),
    )
    .await
    .iter()
    .map(|r| r["minutes_asleep"].as_i64().unwrap())
    .collect();
    assert_eq!(got, truth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_point_costs_that_point_only_and_is_named() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 6;
        a.heart_rate_every = 60;
        a.corrupt_every = Some(997);
    })
    .await;
    let db = fresh_database(&s, "corrupt").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(3), "skipped points are a partial failure: {log}");
    assert!(log.contains("unreadable point(s) skipped"), "{log}");

    let tok = sim.access_token(0).await;
    let (a, b) = (midnight(sim.sim.first_day), midnight(today()));
    let filter = format!(
        r#"heart_rate.sample_time.physical_time >= "{}" AND heart_rate.sample_time.physical_time < "{}""#,
        ts(a),
        ts(b)
    );
    let (raw, _) = sim
        .list_all(&tok, "heart-rate", &filter, Some(10_000))
        .await;
    let broken: Vec<&Value> = raw
        .iter()
        .filter(|p| {
            p["heartRate"]["beatsPerMinute"]
                .as_str()
                .is_none_or(|v| v.parse::<i64>().is_err())
        })
        .collect();
    assert!(!broken.is_empty(), "the simulator broke some samples");
    // Each broken sample is named (by its time) in a warning; nothing else of its day is lost.
    for p in &broken {
        let t = p["heartRate"]["sampleTime"]["physicalTime"]
            .as_str()
            .unwrap();
        assert!(
            log.lines()
                .any(|l| l.contains("skipping an unreadable data point") && l.contains(t)),
            "a warning names the sample at {t}: {log}"
        );
    }
    let truth = list_truth(&sim, &tok, "heart-rate", HEART_RATE, a, b).await;
    assert_eq!(truth.len(), raw.len() - broken.len());
    assert_eq!(stored(&s, &db, "heart_rate", "bpm", a, b).await, truth);
    let steps = list_truth(&sim, &tok, "steps", STEPS, a, b).await;
    assert_eq!(stored(&s, &db, "steps", "count", a, b).await, steps);
    // A broken float is left out, never NaN or 0: every stored SpO2 value is a real percentage.
    for r in rows(&s, &db, "SELECT pct FROM spo2").await {
        let v = r["pct"].as_f64().unwrap();
        assert!((80.0..=100.0).contains(&v), "{v}");
    }
    // The days with broken points are failed (retried later), and say why.
    let st = state_of(&d);
    let failed = st["users"]["me"]["coverage"]["heart-rate"]["failed"]
        .as_object()
        .unwrap();
    assert!(!failed.is_empty());
    assert!(failed
        .values()
        .all(|f| f["last_error"].as_str().unwrap().contains("unreadable")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_answers_lost_page_tokens_and_deleted_points_are_found_and_repaired() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 6;
        // Two pages a day: a lost token loses a page.
        a.heart_rate_every = 5;
        a.empty_every = Some(5);
        a.drop_token_every = Some(3);
    })
    .await;
    let db = fresh_database(&s, "repair").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert!(code == Some(0) || code == Some(3), "{log}");
    sim.sim.control.set(|c| {
        c.empty_every = None;
        c.drop_token_every = None;
    });
    let tok = sim.access_token(0).await;
    let yesterday = today() - Duration::days(1);
    let (a, b) = (midnight(sim.sim.first_day), midnight(yesterday));
    let truth = list_truth(&sim, &tok, "heart-rate", HEART_RATE, a, b).await;
    let before = stored(&s, &db, "heart_rate", "bpm", a, b).await;
    assert!(before.len() < truth.len(), "the faults lost samples");

    let out = d
        .command(&["verify", "--to", &yesterday.to_string()])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("me heart-rate "), "{stdout}");
    assert_eq!(stored(&s, &db, "heart_rate", "bpm", a, b).await, truth);
    let steps = list_truth(&sim, &tok, "steps", STEPS, a, b).await;
    assert_eq!(stored(&s, &db, "steps", "count", a, b).await, steps);
    let mut daily = daily_steps_stored(&s, &db).await;
    daily.retain(|d, _| *d < yesterday);
    assert_eq!(
        daily,
        daily_steps_truth(&sim, &tok, sim.sim.first_day, yesterday - Duration::days(1)).await
    );

    // A day deleted by hand in InfluxDB: the daemon's own periodic check finds and refills it.
    let day = sim.sim.first_day + Duration::days(1);
    assert!(sim.sim.person(0).worn(day));
    let deleted = reqwest::Client::new()
        .post(format!("{}/query", s.v1))
        .form(&[
            ("db", db.as_str()),
            (
                "q",
                &format!(
                    "DELETE FROM heart_rate WHERE time >= '{}' AND time < '{}'",
                    ts(midnight(day)),
                    ts(midnight(day + Duration::days(1)))
                ),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let body = deleted.text().await.unwrap();
    assert!(!body.contains("error"), "{body}");
    let left = stored(&s, &db, "heart_rate", "bpm", a, b).await.len();
    assert!(
        left < truth.len(),
        "{left} of {} after deleting {day}: {body}",
        truth.len()
    );
    let (code, log) = d.env("VERIFY_EVERY", "1s").run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("InfluxDB disagrees with the API") && log.contains(&day.to_string()),
        "{log}"
    );
    assert_eq!(stored(&s, &db, "heart_rate", "bpm", a, b).await, truth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_backfill_from_fills_the_gap_and_another_account_loads_its_own_history() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 20;
        a.users = 2;
        a.heart_rate_every = 600;
    })
    .await;
    let db = fresh_database(&s, "moved").await;
    let dir = tempfile::tempdir().unwrap();
    let from = |n: i64| (today() - Duration::days(n)).to_string();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d
        .command(&["run", "--once"])
        .env("BACKFILL_FROM", from(5))
        .output()
        .await
        .map(|o| {
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        daily_steps_stored(&s, &db).await.keys().next().copied(),
        Some(today() - Duration::days(5))
    );
    let (code, log) = d
        .command(&["run", "--once"])
        .env("BACKFILL_FROM", from(15))
        .output()
        .await
        .map(|o| {
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, Some(0), "{log}");
    let tok = sim.access_token(0).await;
    let yesterday = today() - Duration::days(1);
    let mut stored_daily = daily_steps_stored(&s, &db).await;
    stored_daily.remove(&today());
    assert_eq!(
        stored_daily,
        daily_steps_truth(&sim, &tok, today() - Duration::days(15), yesterday).await,
        "the days between the old and the new BACKFILL_FROM are filled"
    );

    // The refresh token of another Google account (the second simulated person), same state file:
    // that account's whole history is loaded, with a warning.
    let mut other = Daemon::new(&sim, &s, &db, dir.path());
    other.user = 1;
    let (code, log) = other.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("belongs to another Google account"), "{log}");
    let tok1 = sim.access_token(1).await;
    let truth = daily_steps_truth(&sim, &tok1, sim.sim.first_day, yesterday).await;
    let mut got = daily_steps_stored(&s, &db).await;
    got.remove(&today());
    assert_eq!(got, truth, "the new account's history from its first day");
    let st = state_of(&other);
    assert_eq!(
        st["users"]["me"]["account"],
        Value::from(sim.sim.person(1).health_user_id())
    );
}
