//! Verify: compare, day by day, what InfluxDB holds with what the API says it should hold, and hand
//! back the days that disagree so that the sync fetches them again.
//!
//! Two comparisons, each one cheap request per window on the API side:
//! - **dense streams** (heart rate, ≈17,000–37,000 samples a day) are compared through the API's
//!   `dailyRollUp`: the day's min, max and mean of the samples against the same aggregates of the
//!   stored points ([`ROLLUP_CHECKS`]);
//! - **everything else** is listed (or rolled up) again and converted as the sync would; the number
//!   of points each day gives is compared with the number stored that day.
//!
//! A day InfluxDB lacks (an answer of `200 {}`, a page token that went missing, points deleted by
//! hand) shows as a smaller count or different aggregates; so does a day InfluxDB has more of than
//! the API (points the API no longer has are reported, the re-fetch overwrites what still exists).

use super::fetcher;
use super::planner::Window;
use super::SyncError;
use crate::api::HealthClient;
use crate::catalog::{self, Context, DataType};
use crate::influx::{InfluxReader, QueryError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// A dense stream checked through the API's daily rollup.
pub struct RollupCheck {
    /// Catalog entry name.
    pub data_type: &'static str,
    /// The rollup's value object and its min/max/avg members.
    pub payload_key: &'static str,
    pub min: &'static str,
    pub max: &'static str,
    pub avg: &'static str,
    /// The stored field the aggregates are taken over.
    pub field: &'static str,
    /// The API's longest rollup range for this type (reference §3.4).
    pub cap_days: u32,
}

pub const ROLLUP_CHECKS: &[RollupCheck] = &[RollupCheck {
    data_type: "heart-rate",
    payload_key: "heartRate",
    min: "beatsPerMinuteMin",
    max: "beatsPerMinuteMax",
    avg: "beatsPerMinuteAvg",
    field: "bpm",
    cap_days: 14,
}];

/// What is compared for one day.
#[derive(Debug, Clone, PartialEq)]
enum Fingerprint {
    Count(u64),
    Aggregates { min: f64, max: f64, mean: f64 },
}

impl Fingerprint {
    fn agrees(&self, other: &Fingerprint) -> bool {
        match (self, other) {
            (Fingerprint::Count(a), Fingerprint::Count(b)) => a == b,
            (
                Fingerprint::Aggregates { min, max, mean },
                Fingerprint::Aggregates {
                    min: m2,
                    max: x2,
                    mean: e2,
                },
            ) => min == m2 && max == x2 && (mean - e2).abs() <= 0.01,
            _ => false,
        }
    }
}

/// A day that disagrees, with what each side said (for the log and `verify`'s report).
#[derive(Debug, Clone, PartialEq)]
pub struct Disagreement {
    pub day: NaiveDate,
    pub api: String,
    pub stored: String,
}

fn describe(f: Option<&Fingerprint>) -> String {
    match f {
        None => "nothing".into(),
        Some(Fingerprint::Count(n)) => format!("{n} points"),
        Some(Fingerprint::Aggregates { min, max, mean }) => {
            format!("min {min} max {max} mean {mean:.2}")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// The window size verify uses for a type: the rollup cap for dense streams, else the type's own.
pub fn window_days(dt: &DataType) -> u32 {
    ROLLUP_CHECKS
        .iter()
        .find(|c| c.data_type == dt.name)
        .map_or(dt.window_days, |c| c.cap_days)
}

/// Compares `window` of `dt` and returns the days that disagree.
pub async fn check_window(
    client: &HealthClient,
    reader: &InfluxReader,
    dt: &'static DataType,
    cx: &Context<'_>,
    (window, sources): (Window, &fetcher::FetchOptions),
) -> Result<Vec<Disagreement>, VerifyError> {
    let check = ROLLUP_CHECKS
        .iter()
        .find(|c| c.data_type == dt.name)
        // With every source stored, a stream is not the API's reconciled rollup: count instead.
        .filter(|_| !sources.all);
    let api = match check {
        Some(c) => api_aggregates(client, dt, c, (window, sources)).await?,
        None => api_counts(client, dt, cx, (window, sources)).await?,
    };
    let stored = stored(reader, dt, check, cx, (window, sources.per_minute(dt))).await?;
    Ok(window
        .days()
        .filter_map(|day| {
            let (a, s) = (api.get(&day), stored.get(&day));
            let same = match (a, s) {
                (None, None) => true,
                (Some(a), Some(s)) => a.agrees(s),
                _ => false,
            };
            (!same).then(|| Disagreement {
                day,
                api: describe(a),
                stored: describe(s),
            })
        })
        .collect())
}

/// The API's points per day, converted as the sync converts them.
async fn api_counts(
    client: &HealthClient,
    dt: &'static DataType,
    cx: &Context<'_>,
    (window, sources): (Window, &fetcher::FetchOptions),
) -> Result<BTreeMap<NaiveDate, Fingerprint>, SyncError> {
    let measurement = dt.measurements[0].name;
    let mut counts: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut pages = fetcher::Pages::new(dt, window, sources);
    while let Some((page, key)) = pages.next(client, cx).await? {
        for item in page
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // Unreadable and unfinished points are not stored either; they are not counted.
            for p in (dt.convert)(item, cx).unwrap_or_default() {
                if p.measurement == measurement && p.has_fields() {
                    *counts.entry(day_of(p.time_ns, cx)).or_default() += 1;
                }
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(|(d, n)| (d, Fingerprint::Count(n)))
        .collect())
}

/// The API's daily min/max/avg of a dense stream.
async fn api_aggregates(
    client: &HealthClient,
    dt: &'static DataType,
    c: &RollupCheck,
    (window, sources): (Window, &fetcher::FetchOptions),
) -> Result<BTreeMap<NaiveDate, Fingerprint>, SyncError> {
    let path = format!("dataTypes/{}/dataPoints:dailyRollUp", dt.api_type);
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = dt.daily_rollup_body(window.from, window.to, token.as_deref());
        if let Some(f) = &sources.family {
            body["dataSourceFamily"] = Value::String(format!("users/me/dataSourceFamilies/{f}"));
        }
        let page = client.post(&path, &body).await?;
        for w in page
            .get("rollupDataPoints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Ok(day), Some(v)) = (
                catalog::read::date(w, "civilStartTime/date"),
                w.get(c.payload_key),
            ) else {
                continue;
            };
            let num = |k: &str| catalog::read::opt_double(v, k).ok().flatten();
            if let (Some(min), Some(max), Some(mean)) = (num(c.min), num(c.max), num(c.avg)) {
                out.insert(day, Fingerprint::Aggregates { min, max, mean });
            }
        }
        match page
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(out),
        }
    }
}

/// What InfluxDB holds per day: the same fingerprint, one statement per day in one request. With
/// per-minute heart rate the samples' aggregates come from the minutes: min of the minimums, max of
/// the maximums, and the mean weighted by each minute's sample count (or the sample count).
async fn stored(
    reader: &InfluxReader,
    dt: &DataType,
    check: Option<&RollupCheck>,
    cx: &Context<'_>,
    (window, per_minute): (Window, bool),
) -> Result<BTreeMap<NaiveDate, Fingerprint>, QueryError> {
    let measurement = if per_minute {
        catalog::minute::HEART_RATE_MINUTE.name
    } else {
        dt.measurements[0].name
    };
    let days: Vec<NaiveDate> = window.days().collect();
    let statements: Vec<String> = days
        .iter()
        .map(|d| {
            let (a, b) = (
                catalog::read::local_midnight(*d, cx.tz),
                catalog::read::local_midnight(*d + Duration::days(1), cx.tz),
            );
            let filter = format!(
                "\"user\" = '{}' AND time >= {} AND time < {}",
                cx.user.replace('\'', ""),
                nanos(a),
                nanos(b)
            );
            match (check, per_minute) {
                (Some(c), false) => format!(
                    "SELECT min(\"{f}\") AS min, max(\"{f}\") AS max, mean(\"{f}\") AS mean FROM \"{measurement}\" WHERE {filter}",
                    f = c.field
                ),
                (Some(_), true) => format!(
                    "SELECT min(\"min_bpm\") AS min, max(\"max_bpm\") AS max, sum(\"w\") / sum(\"n\") AS mean FROM \
                     (SELECT \"mean_bpm\" * \"samples\" AS w, \"samples\" AS n, \"min_bpm\", \"max_bpm\" FROM \"{measurement}\" WHERE {filter})"
                ),
                (None, true) => format!("SELECT sum(\"samples\") FROM \"{measurement}\" WHERE {filter}"),
                (None, false) => format!("SELECT count(*) FROM \"{measurement}\" WHERE {filter}"),
            }
        })
        .collect();
    let results = reader.query(&statements).await?;
    let mut out = BTreeMap::new();
    for (day, series) in days.into_iter().zip(results) {
        let Some(s) = series.first() else { continue };
        let Some(row) = s.values.first() else {
            continue;
        };
        let col = |name: &str| {
            s.columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| row.get(i))
                .and_then(Value::as_f64)
        };
        let fp = match check {
            Some(_) => match (col("min"), col("max"), col("mean")) {
                (Some(min), Some(max), Some(mean)) => Fingerprint::Aggregates { min, max, mean },
                _ => continue,
            },
            // count(*) gives one column per field; a point has at least one. A row without any
            // count is no points that day (a count, not a data value: nothing is written from it).
            None => Fingerprint::Count(
                row.iter()
                    .skip(1)
                    .filter_map(Value::as_u64)
                    .max()
                    .unwrap_or(0),
            ),
        };
        if fp != Fingerprint::Count(0) {
            out.insert(day, fp);
        }
    }
    Ok(out)
}

fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

fn day_of(time_ns: i64, cx: &Context<'_>) -> NaiveDate {
    DateTime::from_timestamp_nanos(time_ns)
        .with_timezone(&cx.tz)
        .date_naive()
}
