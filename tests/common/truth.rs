//! The simulator's truth, read through its own API (independently of the daemon's code), and what
//! InfluxDB holds, for comparing the two.
#![allow(dead_code)]

use super::sim::TestSim;
use super::{rows, Servers};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use std::collections::BTreeMap;

pub const BERLIN: Tz = chrono_tz::Europe::Berlin;

/// The median, as a statistics textbook defines it (the mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&BERLIN).date_naive()
}

pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    BERLIN
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn nanos(v: &Value) -> i64 {
    v.as_str()
        .unwrap()
        .parse::<DateTime<Utc>>()
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

/// An int64 as the API spells it, or `None` when it is missing or not a number (a broken point).
fn int(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_i64())
}

/// Every readable sample of a list type's reconciled stream (what the daemon stores) over [a, b):
/// (time ns → integer value).
pub async fn list_truth(
    sim: &TestSim,
    token: &str,
    data_type: &str,
    (member, payload, time, value): (&str, &str, &str, &str),
    a: DateTime<Utc>,
    b: DateTime<Utc>,
) -> BTreeMap<i64, i64> {
    let filter = format!(r#"{member} >= "{}" AND {member} < "{}""#, ts(a), ts(b));
    let (points, _) = sim
        .list_all(
            token,
            &format!("{data_type}:reconcile"),
            &filter,
            Some(10_000),
        )
        .await;
    points
        .iter()
        .filter_map(|p| {
            let v = &p[payload];
            Some((nanos(v.pointer(time).unwrap()), int(&v[value])?))
        })
        .collect()
}

/// Every reconciled heart-rate sample of a Berlin civil day: (time ns → bpm).
pub async fn heart_rate_of_day(sim: &TestSim, token: &str, day: NaiveDate) -> BTreeMap<i64, i64> {
    let next = day + chrono::Duration::days(1);
    list_truth(
        sim,
        token,
        "heart-rate",
        HEART_RATE,
        midnight(day),
        midnight(next),
    )
    .await
}

pub const HEART_RATE: (&str, &str, &str, &str) = (
    "heart_rate.sample_time.physical_time",
    "heartRate",
    "/sampleTime/physicalTime",
    "beatsPerMinute",
);
pub const STEPS: (&str, &str, &str, &str) = (
    "steps.interval.start_time",
    "steps",
    "/interval/startTime",
    "count",
);

/// (time ns → integer field) of a measurement over [a, b).
pub async fn stored(
    s: &Servers,
    db: &str,
    measurement: &str,
    field: &str,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
) -> BTreeMap<i64, i64> {
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
    .map(|r| (r["time"].as_i64().unwrap(), r[field].as_i64().unwrap()))
    .collect()
}

/// The simulator's daily steps (its `dailyRollUp`) over [from, to], by date.
pub async fn daily_steps_truth(
    sim: &TestSim,
    token: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<NaiveDate, i64> {
    use chrono::Datelike;
    let d = |d: NaiveDate| serde_json::json!({"date": {"year": d.year(), "month": d.month(), "day": d.day()}});
    let mut out = BTreeMap::new();
    let mut from = from;
    while from <= to {
        // A week at a time: within any range cap the simulator may be told to enforce.
        let end = (from + chrono::Duration::days(6)).min(to);
        let (status, body) = sim
            .post(
                token,
                "users/me/dataTypes/steps/dataPoints:dailyRollUp",
                &serde_json::json!({"range": {"start": d(from), "end": d(end + chrono::Duration::days(1))}, "windowSizeDays": 1}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        for w in body["rollupDataPoints"].as_array().into_iter().flatten() {
            out.insert(
                super::date_of(&w["civilStartTime"]["date"]),
                int(&w["steps"]["countSum"]).unwrap(),
            );
        }
        from = end + chrono::Duration::days(1);
    }
    out
}

/// Stored daily steps by local date.
pub async fn daily_steps_stored(s: &Servers, db: &str) -> BTreeMap<NaiveDate, i64> {
    rows(s, db, "SELECT \"count\" FROM \"steps_daily\"")
        .await
        .into_iter()
        .map(|r| {
            let t = DateTime::from_timestamp_nanos(r["time"].as_i64().unwrap());
            (
                t.with_timezone(&BERLIN).date_naive(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect()
}
