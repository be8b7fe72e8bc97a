//! The daemon against the API as real accounts see it (reference §11), the simulator's default: a
//! phone that also counts steps, dense heart rate in 5,000-point pages with empty pages carrying
//! tokens, sleep in progress, SDNN 0, range caps and refused actions, permission lost everywhere.
//! The simulator's own API is the truth; the data lands in the real InfluxDB.

mod common;

use chrono::{Duration, NaiveDate, TimeZone, Timelike, Utc};
use common::daemon::Daemon;
use common::sim::start;
use common::truth::*;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn requests(stats: &Value, key: &str) -> i64 {
    stats["by_type"][key].as_i64().unwrap_or(0)
}

fn int(v: &Value) -> i64 {
    v.as_str().unwrap().parse().unwrap()
}

/// The simulator's raw `list` of steps over [a, b), by source platform: (start ns → count).
async fn raw_steps_by_source(
    sim: &common::sim::TestSim,
    tok: &str,
    a: chrono::DateTime<Utc>,
    b: chrono::DateTime<Utc>,
) -> BTreeMap<String, BTreeMap<i64, i64>> {
    let f = format!(
        r#"steps.interval.start_time >= "{}" AND steps.interval.start_time < "{}""#,
        ts(a),
        ts(b)
    );
    let (raw, _) = sim.list_all(tok, "steps", &f, Some(10_000)).await;
    let mut out: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for p in raw {
        let t: chrono::DateTime<Utc> = p["steps"]["interval"]["startTime"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let form = p["dataSource"]["platform"].as_str().unwrap().to_string();
        out.entry(form)
            .or_default()
            .insert(t.timestamp_nanos_opt().unwrap(), int(&p["steps"]["count"]));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_in_the_pocket_counts_once_and_data_sources_all_keeps_both_tagged() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 6;
        a.heart_rate_every = 300;
    })
    .await;
    let tok = sim.access_token(0).await;
    let db = fresh_database(&s, "phone").await;
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path()).run_once().await;
    assert_eq!(code, Some(0), "{log}");

    let (a, b) = (midnight(sim.sim.first_day), midnight(today()));
    // Per minute: the reconciled stream, exactly.
    let truth = list_truth(&sim, &tok, "steps", STEPS, a, b).await;
    assert_eq!(stored(&s, &db, "steps", "count", a, b).await, truth);
    // Daily: the simulator's dailyRollUp, and below what a sum of raw `list` points would say.
    let last = today() - Duration::days(1);
    let daily = daily_steps_truth(&sim, &tok, sim.sim.first_day, last).await;
    let mut kept = daily_steps_stored(&s, &db).await;
    kept.remove(&today());
    assert_eq!(kept, daily);
    let raw = raw_steps_by_source(&sim, &tok, a, b).await;
    // The watch (platform FITBIT) and the phone (HEALTH_CONNECT).
    assert_eq!(raw.len(), 2, "{:?}", raw.keys());
    let raw_sum: i64 = raw.values().flat_map(|m| m.values()).sum();
    let stored_sum: i64 = kept.values().sum();
    assert!(
        raw_sum > stored_sum + 1000,
        "raw list {raw_sum} would double count; stored {stored_sum}"
    );
    // DATA_SOURCES=all: each source's raw points, tagged with the source.
    let db = fresh_database(&s, "phone_all").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path()).env("DATA_SOURCES", "all");
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let sources: Vec<String> = rows(&s, &db, "SHOW TAG VALUES FROM steps WITH KEY = \"source\"")
        .await
        .iter()
        .filter_map(|r| r["value"].as_str().map(str::to_string))
        .collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    for (form, points) in &raw {
        let source = sources
            .iter()
            .find(|s| s.starts_with(form.as_str()))
            .unwrap_or_else(|| panic!("a source tag for {form}: {sources:?}"));
        let got: BTreeMap<i64, i64> = rows(
            &s,
            &db,
            &format!(
                "SELECT \"count\" FROM steps WHERE \"source\" = '{source}' AND time >= '{}' AND time < '{}'",
                ts(a),
                ts(b)
            ),
        )
        .await
        .iter()
        .map(|r| (r["time"].as_i64().unwrap(), r["count"].as_i64().unwrap()))
        .collect();
        assert_eq!(&got, points, "{form}");
    }
    // The daily totals stay reconciled.
    let mut kept = daily_steps_stored(&s, &db).await;
    kept.remove(&today());
    assert_eq!(kept, daily);
}

/// Three days of dense heart rate (a sample every 2 s, as real accounts show) on a still clock, so
/// that today's truth read after the daemon is what the daemon could see.
async fn dense_sim() -> common::sim::TestSim {
    let sim = start(|a| {
        a.days = 3;
        a.heart_rate_every = 2;
    })
    .await;
    let now = Utc::now();
    sim.sim.control.set(|c| c.now = Some(now));
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dense_heart_rate_in_5000_point_pages_lands_whole_in_few_requests() {
    let Some(s) = servers() else { return };
    let sim = dense_sim().await;
    let db = fresh_database(&s, "dense").await;
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path()).run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let asked = requests(&sim.stats().await, "heart-rate:reconcile");

    let tok = sim.access_token(0).await;
    let (a, b) = (
        midnight(sim.sim.first_day),
        midnight(today() + Duration::days(1)),
    );
    let truth = list_truth(&sim, &tok, "heart-rate", HEART_RATE, a, b).await;
    // Two days and what there is of today; one of the days may be the unworn one and today may
    // have just begun, so one worn day (≈40,000 samples, eight pages or more) is all that is sure.
    assert!(truth.len() > 35_000, "{} samples", truth.len());
    assert_eq!(stored(&s, &db, "heart_rate", "bpm", a, b).await, truth);
    // The fewest requests possible: ⌈samples ÷ 5,000⌉. On top of it only what the API imposes: one
    // part-filled page per window and the occasional empty page (about 1 in 25). Over a year that
    // is ≈1.05 × the minimum (docs/performance.md); three days are too few pages for a percentage.
    let minimum = (truth.len() as i64 + 4999) / 5000;
    let windows = log.lines().filter(|l| l.contains("heart-rate: ")).count() as i64;
    let empty_pages = asked / 25 + 2;
    assert!(
        asked >= minimum && asked <= minimum + windows + empty_pages,
        "{asked} heart-rate requests for a minimum of {minimum} in {windows} window(s)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleep_in_progress_waits_for_its_end_and_sdnn_zero_is_absent() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 4;
        a.heart_rate_every = 300;
    })
    .await;
    // The watch last synced at 03:00 of the latest night that is surely over by now (wake-ups are
    // before 10:00): its sleep was going on.
    let now = Utc::now().with_timezone(&BERLIN);
    let wake = if now.hour() >= 12 {
        now.date_naive()
    } else {
        now.date_naive() - Duration::days(1)
    };
    let synced = BERLIN
        .from_local_datetime(&wake.and_hms_opt(3, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    sim.sim.control.set(|c| c.watch_synced = Some(synced));
    let db = fresh_database(&s, "in_progress").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("in progress"), "the log says why: {log}");
    let night = |db: String| {
        let s = &s;
        async move {
            rows(
                s,
                &db,
                &format!(
                    // Sessions are stamped at their end: the ones that ended on the wake date.
                    "SELECT * FROM sleep WHERE time >= '{}' AND time < '{}'",
                    ts(midnight(wake)),
                    ts(midnight(wake + Duration::days(1)))
                ),
            )
            .await
        }
    };
    assert!(night(db.clone()).await.is_empty(), "nothing written for it");
    let zeros = rows(&s, &db, "SELECT * FROM sleep WHERE minutes_asleep = 0").await;
    assert!(zeros.is_empty(), "{zeros:?}");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&d.state_file).unwrap()).unwrap();
    let open = &state["users"]["me"]["coverage"]["sleep"]["open"];
    let open_from: NaiveDate = open[0][0].as_str().unwrap().parse().unwrap();
    assert!(open_from <= wake, "its wake date stays open: {open}");

    // The watch syncs: the night lands complete, as the simulator has it.
    sim.sim.control.set(|c| c.watch_synced = None);
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let tok = sim.access_token(0).await;
    let f = format!(
        r#"sleep.interval.end_time >= "{}" AND sleep.interval.end_time < "{}""#,
        ts(midnight(wake)),
        ts(midnight(wake + Duration::days(1)))
    );
    let (sessions, _) = sim.list_all(&tok, "sleep", &f, None).await;
    let main = sessions
        .iter()
        .find(|p| p["sleep"]["metadata"]["mainSleep"] == true)
        .expect("a main sleep");
    let stored: Vec<i64> = night(db.clone())
        .await
        .iter()
        .filter(|r| r["main_sleep"] == true)
        .map(|r| r["minutes_asleep"].as_i64().unwrap())
        .collect();
    assert_eq!(stored, [int(&main["sleep"]["summary"]["minutesAsleep"])]);

    // HRV: the watch's SDNN is always 0.0 ("not measured"): absent, while RMSSD is there.
    let (hrv, _) = sim.list_all(&tok, "heart-rate-variability", "", None).await;
    assert!(hrv
        .iter()
        .all(|p| p["heartRateVariability"]["standardDeviationMilliseconds"] == 0.0));
    let r = rows(&s, &db, "SELECT count(rmssd_ms) FROM hrv").await;
    assert!(r[0]["count"].as_i64().unwrap() > 0);
    assert!(rows(&s, &db, "SELECT count(sdnn_ms) FROM hrv")
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_caps_are_learnt_and_a_refused_action_is_reported_once() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 20;
        a.heart_rate_every = 300;
        // Narrower than the catalog's 90/14 days: the API says so with maxDurationDays.
        a.rollup_cap_days = Some(7);
        // A catalog mistake, or an API change: floors no longer offers dailyRollUp.
        a.refused_actions = vec!["floors:dailyRollUp".into()];
    })
    .await;
    let db = fresh_database(&s, "caps").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(3), "a disabled entry is reported: {log}");
    assert_eq!(
        log.matches("the API caps this rollup's range").count(),
        // steps, distance, altitude, total-calories, active-energy-burned, active-minutes,
        // time-in-heart-rate-zone: each learns once.
        7,
        "{log}"
    );
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("catalog entry is disabled"))
        .collect();
    assert_eq!(refused.len(), 1, "{log}");
    // floors is rollup-only: what is left to it is rollUp, as the API says.
    assert!(
        refused[0].contains("allowed actions: rollUp)"),
        "{}",
        refused[0]
    );
    // Every daily value lands all the same.
    let tok = sim.access_token(0).await;
    let last = today() - Duration::days(1);
    let daily = daily_steps_truth(&sim, &tok, sim.sim.first_day, last).await;
    let mut kept = daily_steps_stored(&s, &db).await;
    kept.remove(&today());
    assert_eq!(kept, daily);
    let health = d.command(&["health"]).output().await.unwrap();
    let said = String::from_utf8_lossy(&health.stdout);
    assert!(said.contains("floors"), "{said}");
    let status = d.command(&["status"]).output().await.unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("disabled"), "{status}");

    // The next round does not ask again.
    let before = sim.stats().await;
    let (_, log) = d.run_once().await;
    let after = sim.stats().await;
    assert_eq!(
        requests(&after, "floors:dailyRollUp"),
        requests(&before, "floors:dailyRollUp")
    );
    assert!(!log.contains("catalog entry is disabled"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_lost_everywhere_is_unhealthy_with_the_regrant_steps() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 4;
        a.heart_rate_every = 300;
    })
    .await;
    sim.sim.control.set(|c| c.permission_lost = true);
    let db = fresh_database(&s, "permission").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path()).env("SYNC_INTERVAL", "1s");
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("myaccount.google.com/connections"), "{log}");
    let health = d.command(&["health"]).output().await.unwrap();
    assert_eq!(health.status.code(), Some(1));
    let said = String::from_utf8_lossy(&health.stdout);
    assert!(
        said.starts_with("unhealthy: me:") && said.contains("consent again"),
        "{said}"
    );
    // No hammering: the round stopped at the first refusal, not once per type.
    let stats = sim.stats().await;
    let data: i64 = stats["by_type"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert!(data <= 2, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heart_rate_per_minute_equals_the_minutes_of_the_raw_samples() {
    let Some(s) = servers() else { return };
    let sim = dense_sim().await;
    let db = fresh_database(&s, "hr_minute").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path()).env("HEART_RATE_RESOLUTION", "minute");
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");

    // The minutes, computed here from the simulator's samples.
    let tok = sim.access_token(0).await;
    let (a, b) = (
        midnight(sim.sim.first_day),
        midnight(today() + Duration::days(1)),
    );
    let samples = list_truth(&sim, &tok, "heart-rate", HEART_RATE, a, b).await;
    let mut minutes: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (t, bpm) in &samples {
        minutes
            .entry(t - t.rem_euclid(60_000_000_000))
            .or_default()
            .push(*bpm);
    }
    let stored: BTreeMap<i64, (f64, i64, i64, i64)> = rows(
        &s,
        &db,
        "SELECT mean_bpm, min_bpm, max_bpm, samples FROM heart_rate_minute",
    )
    .await
    .iter()
    .map(|r| {
        (
            r["time"].as_i64().unwrap(),
            (
                r["mean_bpm"].as_f64().unwrap(),
                r["min_bpm"].as_i64().unwrap(),
                r["max_bpm"].as_i64().unwrap(),
                r["samples"].as_i64().unwrap(),
            ),
        )
    })
    .collect();
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        minutes.keys().collect::<Vec<_>>()
    );
    for (t, v) in &minutes {
        let (mean, min, max, n) = stored[t];
        let expected = v.iter().sum::<i64>() as f64 / v.len() as f64;
        assert!((mean - expected).abs() < 1e-9, "{t}: {mean} vs {expected}");
        assert_eq!(
            (min, max, n),
            (
                *v.iter().min().unwrap(),
                *v.iter().max().unwrap(),
                v.len() as i64
            ),
            "{t}"
        );
    }
    assert!(rows(&s, &db, "SELECT count(bpm) FROM heart_rate")
        .await
        .is_empty());
    // ≈43,000 samples a worn day become at most 1,440 rows.
    assert!(stored.len() * 20 < samples.len(), "{} rows", stored.len());

    // The check against the API's daily min/max/mean agrees with the minutes: nothing to repair.
    let out = d.command(&["verify"]).output().await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains(" 0 disagreed"), "{said}");
}

/// What an earlier version stored from its 90-day exercise windows: each session in the poorer form a
/// wide query returns (`WORKOUT`, no distance), under the `type` tag `workout`. A narrow fetch brings
/// the real session; it must replace that copy, not sit beside it (reference §11 #12) — on InfluxDB
/// 1.x through `DELETE`, and on the InfluxDB 2 path through `/api/v2/delete` (the stand-in deletes
/// as InfluxDB 2 does, in 1.6.7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_workout_stored_by_a_wide_query_is_replaced_by_its_real_session() {
    use common::daemon::Api;
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 12;
        a.heart_rate_every = 300;
    })
    .await;
    let tok = sim.access_token(0).await;
    let (wide, _) = sim.list_all(&tok, "exercise", "", None).await;
    assert!(wide.len() >= 3, "sessions: {}", wide.len());
    let mut lines = String::new();
    for p in &wide {
        let e = &p["exercise"];
        assert_eq!(e["exerciseType"], "WORKOUT", "a wide query's poorer form");
        let start: chrono::DateTime<Utc> = e["interval"]["startTime"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        lines += &format!(
            "exercise,type=workout,user=me calories_kcal={},steps={}i {}\n",
            e["metricsSummary"]["caloriesKcal"],
            int(&e["metricsSummary"]["steps"]),
            start.timestamp_nanos_opt().unwrap()
        );
    }
    for api in [Api::V1, Api::V2] {
        let db = fresh_database(&s, "workout").await;
        let written = reqwest::Client::new()
            .post(format!("{}/write?db={db}", s.v1))
            .body(lines.clone())
            .send()
            .await
            .unwrap();
        assert!(written.status().is_success());
        let dir = tempfile::tempdir().unwrap();
        let mut d = Daemon::new(&sim, &s, &db, dir.path());
        d.api = api;
        let (code, log) = d.run_once().await;
        assert_eq!(code, Some(0), "{log}");
        let stored = rows(&s, &db, "SELECT * FROM exercise").await;
        assert_eq!(
            stored.len(),
            wide.len(),
            "{api:?}: one point per session: {stored:#?}"
        );
        for r in &stored {
            assert_ne!(r["type"], "workout", "{api:?}: {r:?}");
            assert!(
                r["distance_m"].as_f64().is_some(),
                "{api:?}: the richer form: {r:?}"
            );
        }
        assert!(!log.contains("could not remove"), "{log}");
    }
}
