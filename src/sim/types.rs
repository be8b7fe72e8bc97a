//! The simulator's data types, one table entry each (reference §4–5): URL name, payload key, how list
//! filters address it, its page limits and rollup cap, and how a person's day becomes its data points.

use super::json::{self, data_source};
use super::world::{Person, SleepSession};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Value};

/// How a type's records are addressed by filters and ordered (reference §4 "record").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `{t}.sample_time.physical_time` / `.civil_time`
    Sample,
    /// `{t}.interval.start_time` / `.civil_start_time`
    Interval,
    /// `{t}.date`
    Daily,
    /// sleep: `sleep.interval.end_time` / `.civil_end_time`, with AND and OR
    SleepSession,
}

/// How raw values combine in rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollup {
    /// An int64 sum under the given field name (`countSum`).
    Sum(&'static str),
    /// `{prefix}Avg`, `{prefix}Max`, `{prefix}Min` as numbers.
    AvgMaxMin(&'static str),
    /// One average under the given name (`weightGramsAvg`).
    Avg(&'static str),
}

/// One generated data point with the coordinates filters and ordering need.
#[derive(Debug, Clone)]
pub struct Record {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub civil_start: NaiveDateTime,
    pub civil_end: NaiveDateTime,
    /// The civil date of a daily record.
    pub date: Option<NaiveDate>,
    /// The number rollups combine and the payload shows (steps count, bpm, grams).
    pub value: f64,
    /// The session behind a sleep record.
    pub sleep: Option<Box<SleepSession>>,
}

pub struct SimType {
    pub name: &'static str,
    pub payload_key: &'static str,
    pub filter_prefix: &'static str,
    pub kind: RecordKind,
    pub default_page: usize,
    pub max_page: usize,
    /// False for rollup-only types (list answers 400).
    pub listable: bool,
    pub rollup: Option<Rollup>,
    /// Longest rollup range in days (14 or 90).
    pub rollup_cap_days: i64,
    /// The read scope it needs (reference §4 "read scope"), without the `googlehealth.` prefix.
    pub scope: &'static str,
    /// Whether civil-time filters find anything. The reference observed 0 results for civil filters on
    /// steps and heart-rate (§4 "Observed caveats"), so the simulator reproduces that.
    pub civil_filters_match: bool,
    /// The records of one civil day (sessions: those ending on it), in any order. Cheap: no JSON.
    pub generate: fn(&Person, NaiveDate) -> Vec<Record>,
    /// The complete `DataPoint` JSON of a record, built only for records that are returned.
    pub render: fn(&Person, &Record) -> Value,
}

pub static TYPES: &[SimType] = &[
    SimType {
        name: "heart-rate",
        scope: "health_metrics_and_measurements",
        payload_key: "heartRate",
        filter_prefix: "heart_rate",
        kind: RecordKind::Sample,
        default_page: 1440,
        max_page: 10_000,
        listable: true,
        rollup: Some(Rollup::AvgMaxMin("beatsPerMinute")),
        rollup_cap_days: 14,
        civil_filters_match: false,
        generate: heart_rate,
        render: render_heart_rate,
    },
    SimType {
        name: "steps",
        scope: "activity_and_fitness",
        payload_key: "steps",
        filter_prefix: "steps",
        kind: RecordKind::Interval,
        default_page: 1440,
        max_page: 10_000,
        listable: true,
        rollup: Some(Rollup::Sum("countSum")),
        rollup_cap_days: 90,
        civil_filters_match: false,
        generate: steps,
        render: render_steps,
    },
    SimType {
        name: "daily-resting-heart-rate",
        scope: "health_metrics_and_measurements",
        payload_key: "dailyRestingHeartRate",
        filter_prefix: "daily_resting_heart_rate",
        kind: RecordKind::Daily,
        default_page: 1440,
        max_page: 10_000,
        listable: true,
        rollup: None,
        rollup_cap_days: 90,
        civil_filters_match: true,
        generate: resting_heart_rate,
        render: render_resting_heart_rate,
    },
    SimType {
        name: "sleep",
        scope: "sleep",
        payload_key: "sleep",
        filter_prefix: "sleep",
        kind: RecordKind::SleepSession,
        default_page: 25,
        max_page: 25,
        listable: true,
        rollup: None,
        rollup_cap_days: 90,
        civil_filters_match: true,
        generate: sleep,
        render: render_sleep,
    },
    SimType {
        name: "weight",
        scope: "health_metrics_and_measurements",
        payload_key: "weight",
        filter_prefix: "weight",
        kind: RecordKind::Sample,
        default_page: 1440,
        max_page: 10_000,
        listable: true,
        rollup: Some(Rollup::Avg("weightGramsAvg")),
        rollup_cap_days: 90,
        civil_filters_match: true,
        generate: weight,
        render: render_weight,
    },
];

/// Every data type the API knows (reference §4). Those the simulator does not generate answer like an
/// account without such data: an empty list.
pub const API_TYPES: &[&str] = &[
    "active-energy-burned",
    "active-minutes",
    "active-zone-minutes",
    "activity-level",
    "altitude",
    "basal-energy-burned",
    "blood-glucose",
    "body-fat",
    "calories-in-heart-rate-zone",
    "core-body-temperature",
    "daily-heart-rate-variability",
    "daily-heart-rate-zones",
    "daily-oxygen-saturation",
    "daily-respiratory-rate",
    "daily-resting-heart-rate",
    "daily-sleep-temperature-derivations",
    "daily-vo2-max",
    "distance",
    "electrocardiogram",
    "exercise",
    "floors",
    "food",
    "food-measurement-unit",
    "heart-rate",
    "heart-rate-variability",
    "height",
    "hydration-log",
    "irregular-rhythm-notification",
    "nutrition-log",
    "oxygen-saturation",
    "respiratory-rate-sleep-summary",
    "run-vo2-max",
    "sedentary-period",
    "sleep",
    "steps",
    "swim-lengths-data",
    "time-in-heart-rate-zone",
    "total-calories",
    "vo2-max",
    "weight",
];

/// Types that only support rollups: list answers 400 (reference §4, checklist item 2).
pub const ROLLUP_ONLY: &[&str] = &["floors", "total-calories", "calories-in-heart-rate-zone"];

pub fn find(name: &str) -> Option<&'static SimType> {
    TYPES.iter().find(|t| t.name == name)
}

fn sample_record(p: &Person, t: DateTime<Utc>, value: f64) -> Record {
    let civil = json::local(t, p.offset_seconds(t));
    Record {
        start: t,
        end: t,
        civil_start: civil,
        civil_end: civil,
        date: None,
        value,
        sleep: None,
    }
}

fn interval_record(p: &Person, start: DateTime<Utc>, end: DateTime<Utc>, value: f64) -> Record {
    Record {
        start,
        end,
        civil_start: json::local(start, p.offset_seconds(start)),
        civil_end: json::local(end, p.offset_seconds(end)),
        date: None,
        value,
        sleep: None,
    }
}

fn heart_rate(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.heart_rate(day)
        .into_iter()
        .map(|(t, bpm)| sample_record(p, t, bpm as f64))
        .collect()
}

fn render_heart_rate(p: &Person, r: &Record) -> Value {
    json!({
        "dataSource": data_source("PASSIVELY_MEASURED"),
        "heartRate": {"beatsPerMinute": json::int64(r.value as i64), "sampleTime": json::sample_time(r.start, p.offset_seconds(r.start))},
    })
}

fn steps(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.steps(day)
        .into_iter()
        .map(|(t, count)| interval_record(p, t, t + Duration::minutes(1), count as f64))
        .collect()
}

fn render_steps(p: &Person, r: &Record) -> Value {
    json!({
        "dataSource": data_source("PASSIVELY_MEASURED"),
        "steps": {"count": json::int64(r.value as i64), "interval": json::interval(r.start, p.offset_seconds(r.start), r.end, p.offset_seconds(r.end))},
    })
}

fn resting_heart_rate(p: &Person, day: NaiveDate) -> Vec<Record> {
    let Some(bpm) = p.resting_heart_rate(day) else {
        return Vec::new();
    };
    let start = p.day_start(day);
    let mut r = interval_record(p, start, start, bpm as f64);
    r.date = Some(day);
    vec![r]
}

fn render_resting_heart_rate(_: &Person, r: &Record) -> Value {
    json!({
        "dailyRestingHeartRate": {
            "beatsPerMinute": json::int64(r.value as i64),
            "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"},
            "date": json::date(r.date.expect("daily records have a date")),
        },
        "dataSource": data_source("DERIVED"),
    })
}

fn sleep(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.sleep_ending_on(day)
        .into_iter()
        .map(|s| {
            let mut r = interval_record(p, s.start, s.end, 0.0);
            r.sleep = Some(Box::new(s));
            r
        })
        .collect()
}

fn render_sleep(p: &Person, r: &Record) -> Value {
    let s = r
        .sleep
        .as_deref()
        .expect("sleep records carry their session");
    let off = |t| p.offset_seconds(t);
    let mut minutes = std::collections::BTreeMap::<&str, (i64, i64)>::new();
    let stages: Vec<Value> = s
        .stages
        .iter()
        .map(|(kind, a, b)| {
            let e = minutes.entry(kind).or_default();
            e.0 += (*b - *a).num_seconds();
            e.1 += 1;
            let mut st = json::session_interval(*a, off(*a), *b, off(*b));
            st["type"] = json!(kind);
            st
        })
        .collect();
    let stage_minutes = |k: &str| minutes.get(k).map_or(0, |(secs, _)| (secs + 30) / 60);
    let asleep = if s.nap {
        stage_minutes("ASLEEP") + stage_minutes("RESTLESS")
    } else {
        stage_minutes("LIGHT") + stage_minutes("DEEP") + stage_minutes("REM")
    };
    let summary_kinds: &[&str] = if s.nap {
        &["ASLEEP", "RESTLESS", "AWAKE"]
    } else {
        &["AWAKE", "LIGHT", "DEEP", "REM"]
    };
    let stages_summary: Vec<Value> = summary_kinds
        .iter()
        .map(|k| json!({"type": k, "minutes": json::int64(stage_minutes(k)), "count": json::int64(minutes.get(k).map_or(0, |(_, n)| *n))}))
        .collect();
    let to_fall_asleep = match s.stages.first() {
        Some(("AWAKE", a, b)) => ((*b - *a).num_seconds() + 30) / 60,
        _ => 0,
    };
    json!({
        "name": format!("users/{}/dataTypes/sleep/dataPoints/{}", p.health_user_id(), s.id),
        "dataSource": data_source("DERIVED"),
        "sleep": {
            "interval": json::session_interval(s.start, off(s.start), s.end, off(s.end)),
            "type": if s.nap { "CLASSIC" } else { "STAGES" },
            "stages": stages,
            "metadata": {"mainSleep": !s.nap, "nap": s.nap, "processed": true, "stagesStatus": "SUCCEEDED"},
            "summary": {
                "minutesAfterWakeUp": "0",
                "minutesAsleep": json::int64(asleep),
                "minutesAwake": json::int64(stage_minutes("AWAKE")),
                "minutesInSleepPeriod": json::int64(((s.end - s.start).num_seconds() + 30) / 60),
                "minutesToFallAsleep": json::int64(to_fall_asleep),
                "stagesSummary": stages_summary,
            },
            "createTime": json::timestamp(s.start + Duration::minutes(20)),
            "updateTime": json::timestamp(s.end + Duration::minutes(7)),
        },
    })
}

fn weight(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.weight(day)
        .map(|(t, grams)| sample_record(p, t, grams))
        .into_iter()
        .collect()
}

fn render_weight(p: &Person, r: &Record) -> Value {
    json!({
        "name": format!("users/{}/dataTypes/weight/dataPoints/{}", p.health_user_id(), r.start.timestamp()),
        "dataSource": {"device": {"displayName": "Aria Air"}, "platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED"},
        "weight": {"sampleTime": json::sample_time(r.start, p.offset_seconds(r.start)), "weightGrams": json::double(r.value)},
    })
}
