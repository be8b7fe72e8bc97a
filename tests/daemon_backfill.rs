//! `fitbit-influx run` end to end: the binary against the simulator and the real InfluxDB. The truth is
//! the simulator's own API, summed here independently of the daemon's code.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use common::daemon::{Api, Daemon};
use common::sim::{start, TestSim};
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

const TZ: Tz = chrono_tz::Europe::Berlin;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&TZ).date_naive()
}

/// Days of history so that the range surely holds a DST change (at least 60).
fn days_with_a_dst_change() -> u32 {
    let p = |d: NaiveDate| common_midnight(d);
    let mut d = today() - Duration::days(2);
    while p(d + Duration::days(1)) - p(d) == Duration::hours(24) {
        d -= Duration::days(1);
    }
    ((today() - d).num_days() as u32 + 3).max(60)
}

fn common_midnight(d: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    TZ.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn range(member: &str, a: DateTime<Utc>, b: DateTime<Utc>) -> String {
    format!(r#"{member} >= "{}" AND {member} < "{}""#, ts(a), ts(b))
}

fn t(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn i(v: &Value) -> i64 {
    v.as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| v.as_i64())
        .unwrap()
}

fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap()
}

/// (time ns → value) of a field over [a, b).
async fn influx_series(
    s: &Servers,
    db: &str,
    measurement: &str,
    field: &str,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
) -> BTreeMap<i64, Value> {
    rows(
        s,
        db,
        &format!(
            "SELECT \"{field}\" FROM \"{measurement}\" WHERE time >= '{}' AND time < '{}'",
            ts(a),
            ts(b)
        ),
    )
    .await
    .into_iter()
    .map(|r| (r["time"].as_i64().unwrap(), r[field].clone()))
    .collect()
}

async fn sim_and_token(days: u32) -> (TestSim, String) {
    let sim = start(|a| {
        a.days = days;
        a.heart_rate_every = 60;
    })
    .await;
    let token = sim.access_token(0).await;
    (sim, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_equals_the_simulator_exactly_and_a_second_run_adds_nothing() {
    let Some(s) = servers() else { return };
    let days = days_with_a_dst_change();
    let (sim, tok) = sim_and_token(days).await;
    let db = fresh_database(&s, "backfill").await;
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::new(&sim, &s, &db, dir.path());
    d.api = Api::V2;
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("heart-rate: ") && log.contains("days left)"),
        "progress is logged per type"
    );

    let first = sim.sim.first_day;
    let (a, b) = (common_midnight(first), common_midnight(today()));

    // Heart rate and steps: every raw point, exactly.
    let (hr, _) = sim
        .list_all(
            &tok,
            "heart-rate",
            &range("heart_rate.sample_time.physical_time", a, b),
            Some(10_000),
        )
        .await;
    let truth: BTreeMap<i64, Value> = hr
        .iter()
        .map(|p| {
            (
                nanos(t(&p["heartRate"]["sampleTime"]["physicalTime"])),
                Value::from(i(&p["heartRate"]["beatsPerMinute"])),
            )
        })
        .collect();
    assert!(truth.len() > 1000 * days as usize);
    assert_eq!(
        influx_series(&s, &db, "heart_rate", "bpm", a, b).await,
        truth,
        "heart_rate"
    );

    let (steps, _) = sim
        .list_all(
            &tok,
            "steps:reconcile",
            &range("steps.interval.start_time", a, b),
            Some(10_000),
        )
        .await;
    let truth: BTreeMap<i64, Value> = steps
        .iter()
        .map(|p| {
            (
                nanos(t(&p["steps"]["interval"]["startTime"])),
                Value::from(i(&p["steps"]["count"])),
            )
        })
        .collect();
    assert_eq!(
        influx_series(&s, &db, "steps", "count", a, b).await,
        truth,
        "steps"
    );

    // Daily steps: the raw minutes summed per civil day, here, against steps_daily at local midnight.
    let mut per_day: BTreeMap<i64, i64> = BTreeMap::new();
    for p in &steps {
        let d = &p["steps"]["interval"]["civilStartTime"]["date"];
        let date = date_of(d);
        *per_day.entry(nanos(common_midnight(date))).or_default() += i(&p["steps"]["count"]);
    }
    let daily = influx_series(&s, &db, "steps_daily", "count", a, b).await;
    assert_eq!(
        daily,
        per_day
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect::<BTreeMap<_, _>>(),
        "steps_daily"
    );
    assert!(
        !daily.contains_key(&nanos(common_midnight(sim.sim.person(0).unworn_day))),
        "no zero row for the unworn day"
    );

    // Resting heart rate at local midnight of its date.
    let f = format!(
        r#"daily_resting_heart_rate.date >= "{first}" AND daily_resting_heart_rate.date < "{}""#,
        today()
    );
    let (rhr, _) = sim
        .list_all(&tok, "daily-resting-heart-rate", &f, None)
        .await;
    let truth: BTreeMap<i64, Value> = rhr
        .iter()
        .map(|p| {
            let d = &p["dailyRestingHeartRate"]["date"];
            let date = date_of(d);
            (
                nanos(common_midnight(date)),
                Value::from(i(&p["dailyRestingHeartRate"]["beatsPerMinute"])),
            )
        })
        .collect();
    assert_eq!(truth.len(), days as usize - 2, "every complete worn day");
    assert_eq!(
        influx_series(&s, &db, "resting_heart_rate", "bpm", a, b).await,
        truth,
        "resting_heart_rate"
    );

    // Weight in kg, converted once.
    let (w, _) = sim
        .list_all(
            &tok,
            "weight",
            &range("weight.sample_time.physical_time", a, b),
            None,
        )
        .await;
    let truth: BTreeMap<i64, Value> = w
        .iter()
        .map(|p| {
            (
                nanos(t(&p["weight"]["sampleTime"]["physicalTime"])),
                Value::from(p["weight"]["weightGrams"].as_f64().unwrap() / 1000.0),
            )
        })
        .collect();
    assert!(!truth.is_empty());
    assert_eq!(
        influx_series(&s, &db, "weight", "kg", a, b).await,
        truth,
        "weight"
    );

    // Sleep: each session at its end instant, summary and stages exact; nights on the date they end.
    let (sl, _) = sim
        .list_all(&tok, "sleep", &range("sleep.interval.end_time", a, b), None)
        .await;
    let truth: BTreeMap<i64, Value> = sl
        .iter()
        .map(|p| {
            (
                nanos(t(&p["sleep"]["interval"]["endTime"])),
                Value::from(i(&p["sleep"]["summary"]["minutesAsleep"])),
            )
        })
        .collect();
    assert_eq!(
        influx_series(&s, &db, "sleep", "minutes_asleep", a, b).await,
        truth,
        "sleep"
    );
    let first_start = sl
        .iter()
        .map(|p| t(&p["sleep"]["interval"]["startTime"]))
        .min()
        .unwrap();
    let last_end = sl
        .iter()
        .map(|p| t(&p["sleep"]["interval"]["endTime"]))
        .max()
        .unwrap();
    let truth_stages: BTreeMap<i64, Value> = sl
        .iter()
        .flat_map(|p| p["sleep"]["stages"].as_array().unwrap().clone())
        .map(|st| {
            (
                nanos(t(&st["startTime"])),
                Value::from((t(&st["endTime"]) - t(&st["startTime"])).num_seconds()),
            )
        })
        .collect();
    assert_eq!(
        influx_series(&s, &db, "sleep_stage", "duration_s", first_start, last_end).await,
        truth_stages,
        "sleep_stage"
    );
    let crossing = sl
        .iter()
        .find(|p| {
            let (st, en) = (
                t(&p["sleep"]["interval"]["startTime"]),
                t(&p["sleep"]["interval"]["endTime"]),
            );
            st.with_timezone(&TZ).date_naive() < en.with_timezone(&TZ).date_naive()
        })
        .expect("a night that crosses midnight");
    let wake_day = t(&crossing["sleep"]["interval"]["endTime"])
        .with_timezone(&TZ)
        .date_naive();
    let on_wake_day = rows(
        &s,
        &db,
        &format!(
            "SELECT minutes_asleep FROM sleep WHERE time >= '{}' AND time < '{}'",
            ts(common_midnight(wake_day)),
            ts(common_midnight(wake_day + Duration::days(1)))
        ),
    )
    .await;
    assert!(
        on_wake_day
            .iter()
            .any(|r| r["minutes_asleep"] == i(&crossing["sleep"]["summary"]["minutesAsleep"])),
        "the night counts for the day it ends"
    );

    // The DST day: 23 or 25 hourly step buckets, each equal to the simulator's hourly rollup.
    let mut dst = first;
    while common_midnight(dst + Duration::days(1)) - common_midnight(dst) == Duration::hours(24) {
        dst += Duration::days(1);
    }
    let (da, db_) = (
        common_midnight(dst),
        common_midnight(dst + Duration::days(1)),
    );
    let hours = (db_ - da).num_hours();
    assert!(hours == 23 || hours == 25);
    let buckets = rows(&s, &db, &format!("SELECT sum(count) FROM steps WHERE time >= '{}' AND time < '{}' GROUP BY time(1h) fill(0)", ts(da), ts(db_))).await;
    assert_eq!(
        buckets.len() as i64,
        hours,
        "one bucket per hour of the {dst} DST day"
    );
    let (_, rollup) = sim
        .post(&tok, "users/me/dataTypes/steps/dataPoints:rollUp", &serde_json::json!({"range": {"startTime": ts(da), "endTime": ts(db_)}, "windowSize": "3600s"}))
        .await;
    let expected: BTreeMap<i64, i64> = rollup["rollupDataPoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (nanos(t(&w["startTime"])), i(&w["steps"]["countSum"])))
        .collect();
    for bkt in &buckets {
        assert_eq!(
            bkt["sum"].as_i64().unwrap(),
            expected
                .get(&bkt["time"].as_i64().unwrap())
                .copied()
                .unwrap_or(0)
        );
    }

    // A second run writes no duplicates: the complete days are unchanged.
    let count_all = |m: &'static str, f: &'static str| {
        let (s, db) = (&s, &db);
        async move {
            rows(
                s,
                db,
                &format!(
                    "SELECT count(\"{f}\") FROM \"{m}\" WHERE time < '{}'",
                    ts(b)
                ),
            )
            .await[0]["count"]
                .clone()
        }
    };
    let before = (
        count_all("heart_rate", "bpm").await,
        count_all("steps", "count").await,
        count_all("sleep_stage", "duration_s").await,
        count_all("steps_daily", "count").await,
    );
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(
        !log.contains("days left"),
        "the second run only refreshes: {log}"
    );
    let after = (
        count_all("heart_rate", "bpm").await,
        count_all("steps", "count").await,
        count_all("sleep_stage", "duration_s").await,
        count_all("steps_daily", "count").await,
    );
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_every_one_to_three_seconds_from_start_still_finishes_the_backfill_exactly() {
    let Some(s) = servers() else { return };
    let (sim, _) = sim_and_token(20).await;
    let (killed_db, clean_db) = (
        fresh_database(&s, "killed").await,
        fresh_database(&s, "clean").await,
    );
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &killed_db, dir.path());
    // A crash loop: the daemon is killed 30 times, each time 1-3 s after it started.
    for round in 0..30u64 {
        let mut child = d.spawn(&["run"]);
        let wait = std::time::Duration::from_millis(1000 + (round * 7919) % 2000);
        tokio::time::sleep(wait).await;
        child.kill().await.unwrap(); // SIGKILL
        let state = std::fs::read_to_string(&d.state_file).expect("state file exists");
        let json: Value = serde_json::from_str(&state).expect("the state file stays readable");
        assert_eq!(
            json["users"]["me"]["tokens"]["refresh_token"],
            sim.sim.auth.refresh_token(0).expose(),
            "no refresh token lost"
        );
    }
    // Every start continued where the last one stopped: the backfill finished within the loop.
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&d.state_file).unwrap()).unwrap();
    let first = sim.sim.first_day;
    for dt in fitbit_influx::catalog::CATALOG
        .iter()
        .filter(|t| !matches!(t.fetch, fitbit_influx::catalog::Fetch::Snapshot { .. }))
    {
        let c = &state["users"]["me"]["coverage"][dt.name];
        let covered = |day: NaiveDate| {
            ["final", "open"].iter().any(|k| {
                c[k].as_array().into_iter().flatten().any(|r| {
                    let a: NaiveDate = r[0].as_str().unwrap().parse().unwrap();
                    let b: NaiveDate = r[1].as_str().unwrap().parse().unwrap();
                    a <= day && day <= b
                })
            })
        };
        let missing: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| *d <= today())
            .filter(|d| !covered(*d))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: {missing:?} never fetched in the crash loop",
            dt.name
        );
    }
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let clean_dir = tempfile::tempdir().unwrap();
    let (code, log) = Daemon::new(&sim, &s, &clean_db, clean_dir.path())
        .run_once()
        .await;
    assert_eq!(code, Some(0), "{log}");
    let b = ts(common_midnight(today()));
    for (m, f) in [
        ("heart_rate", "bpm"),
        ("steps", "count"),
        ("steps_daily", "count"),
        ("resting_heart_rate", "bpm"),
        ("sleep", "minutes_asleep"),
        ("sleep_stage", "duration_s"),
        ("weight", "kg"),
    ] {
        let q = format!("SELECT count(\"{f}\"), sum(\"{f}\") FROM \"{m}\" WHERE time < '{b}'");
        let (killed, clean) = (
            rows(&s, &killed_db, &q).await,
            rows(&s, &clean_db, &q).await,
        );
        assert!(!clean.is_empty(), "{m} has data");
        assert_eq!(
            killed, clean,
            "{m}: the killed-and-restarted run has exactly the clean run's data"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_secret_appears_in_trace_logs() {
    let Some(s) = servers() else { return };
    let (sim, _) = sim_and_token(3).await;
    let db = fresh_database(&s, "trace").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path()).env("RUST_LOG", "trace");
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.lines().count() > 50, "trace logging is on");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&d.state_file).unwrap()).unwrap();
    let access = state["users"]["me"]["tokens"]["access_token"]
        .as_str()
        .unwrap();
    let a = &sim.sim.auth;
    for secret in [
        access,
        a.refresh_token(0).expose(),
        a.client_secret.expose(),
    ] {
        let leaked: Vec<&str> = log.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaked.is_empty(), "{secret} leaked: {leaked:?}");
    }
}
