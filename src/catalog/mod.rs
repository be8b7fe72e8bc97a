//! The data-type catalog: every data type the daemon reads, described once, as data.
//!
//! An entry says which API type it reads, how (list with a filter, or daily rollup), how many civil days
//! one request window may span, which measurements it writes (names, tags, field types and units — the
//! source of `docs/schema.md`), and how one API object becomes points. The sync engine has no
//! type-specific code: adding a type is adding an entry here.

mod activity;
mod body;
mod health;
pub mod minute;
pub mod person;
pub mod pipeline;
pub mod read;
pub mod typed;
mod types;

use crate::point::{FieldKind, Point};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
pub use read::ConvertError;
use serde_json::{json, Value};

/// The `time` of a daily measurement: [`Measurement::is_daily`] reads it.
pub const DAILY_TIME: &str = "local midnight of the day, in the user's time zone";

/// A measurement as written to InfluxDB.
#[derive(Debug)]
pub struct Measurement {
    pub name: &'static str,
    pub doc: &'static str,
    /// What the point's timestamp is.
    pub time: &'static str,
    pub tags: &'static [Tag],
    pub fields: &'static [Field],
}

impl Measurement {
    /// One point per civil day, at its local midnight.
    pub fn is_daily(&self) -> bool {
        self.time == DAILY_TIME
    }

    /// The field called `name`, if the measurement has one.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug)]
pub struct Tag {
    pub name: &'static str,
    pub doc: &'static str,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
    pub unit: &'static str,
    pub doc: &'static str,
}

/// The `user` tag every point carries.
pub const USER_TAG: Tag = Tag {
    name: "user",
    doc: "the person (`me`, or the name from `USERS`)",
};

/// How an entry fetches a window of civil days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// `dataPoints` list with the largest page size, filtered to the window.
    List {
        filter: WindowFilter,
        page_size: u32,
    },
    /// `dataPoints:dailyRollUp`, one window per civil day.
    DailyRollUp,
    /// A user resource read once per round (no cursor), e.g. `pairedDevices`: its `list_key` array's
    /// items are converted with the round's time.
    Snapshot {
        path: &'static str,
        list_key: &'static str,
    },
}

/// Which filter member bounds a list window (reference §4, "Filter grammar").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFilter {
    /// `{t}.sample_time.physical_time` over the window's local midnights.
    SampleTime,
    /// `{t}.interval.start_time` over the window's local midnights. (Civil-time filters on steps
    /// and heart-rate were observed to return nothing, so physical time it is.)
    IntervalStart,
    /// `{t}.date` over the window's dates.
    Date,
    /// `sleep.interval.end_time`: a session belongs to the day it ends on.
    SessionEnd,
    /// `{t}.interval.civil_start_time` with local date-times (exercise offers no other member).
    CivilStart,
}

/// What a converter knows besides the JSON.
pub struct Context<'a> {
    pub user: &'a str,
    /// The user's time zone: daily values are stamped at its local midnight.
    pub tz: Tz,
    /// The round's time, for snapshots (battery levels).
    pub now: DateTime<Utc>,
    /// The user's latest height in metres, when known, for BMI.
    pub height_m: Option<f64>,
}

pub struct DataType {
    /// Name in logs and the state file's coverage.
    pub name: &'static str,
    /// The API's data type (`users/me/dataTypes/{api_type}/dataPoints`).
    pub api_type: &'static str,
    pub fetch: Fetch,
    /// Civil days per request window: rollups the API's cap (14 or 90 days); lists, which have no
    /// cap, about what fills a 5,000-point page at the type's usual density (a year of a daily value,
    /// two weeks of steps, three days of heart rate), so that few pages are part-filled.
    pub window_days: u32,
    pub measurements: &'static [&'static Measurement],
    /// One API object (a data point, or a rollup window) into points.
    pub convert: fn(&Value, &Context) -> Result<Vec<Point>, ConvertError>,
    /// For dense streams: a whole page straight from the response bytes, without a `Value` tree
    /// (the same points as `convert`; used unless `DATA_SOURCES=all` needs each point's source).
    pub decode_page: Option<typed::PageDecoder>,
}

impl DataType {
    /// The list filter for a window of civil days `[from, to]`, given its instant bounds.
    pub fn filter(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Option<String> {
        let Fetch::List { filter, .. } = self.fetch else {
            return None;
        };
        let prefix = self.api_type.replace('-', "_");
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (member, lo, hi) = match filter {
            WindowFilter::SampleTime => (
                format!("{prefix}.sample_time.physical_time"),
                ts(start),
                ts(end),
            ),
            WindowFilter::IntervalStart => {
                (format!("{prefix}.interval.start_time"), ts(start), ts(end))
            }
            WindowFilter::SessionEnd => (format!("{prefix}.interval.end_time"), ts(start), ts(end)),
            WindowFilter::CivilStart => (
                format!("{prefix}.interval.civil_start_time"),
                format!("{from}T00:00:00"),
                format!("{}T00:00:00", to + chrono::Duration::days(1)),
            ),
            WindowFilter::Date => (
                format!("{prefix}.date"),
                from.to_string(),
                (to + chrono::Duration::days(1)).to_string(),
            ),
        };
        Some(format!(r#"{member} >= "{lo}" AND {member} < "{hi}""#))
    }

    /// The dailyRollUp request body for `[from, to]` (nested CivilDateTime, reference §3.5).
    pub fn daily_rollup_body(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        page_token: Option<&str>,
    ) -> Value {
        use chrono::Datelike;
        let d =
            |d: NaiveDate| json!({"date": {"year": d.year(), "month": d.month(), "day": d.day()}});
        let mut body = json!({"range": {"start": d(from), "end": d(to + chrono::Duration::days(1))}, "windowSizeDays": 1});
        if let Some(t) = page_token {
            body["pageToken"] = json!(t);
        }
        body
    }
}

pub use activity::{DOWNGRADED_EXERCISE_TYPE, EXERCISE};
pub use body::BODY_FAT;
pub use health::{HRV, HRV_DAILY, RESPIRATORY_RATE_DAILY, SLEEP_TEMPERATURE, SPO2, SPO2_DAILY};
pub use types::{
    field, CATALOG, HEART_RATE, RESTING_HEART_RATE, SLEEP, SLEEP_STAGE, STEPS, WEIGHT,
};

/// The read scope an API type needs (reference §4 "read scope"), as the short name between
/// `googlehealth.` and `.readonly`.
pub fn scope_of(api_type: &str) -> &'static str {
    match api_type {
        "sleep" => "sleep",
        "pairedDevices" => "settings",
        "steps"
        | "distance"
        | "floors"
        | "altitude"
        | "total-calories"
        | "active-energy-burned"
        | "active-zone-minutes"
        | "active-minutes"
        | "activity-level"
        | "time-in-heart-rate-zone"
        | "exercise"
        | "daily-vo2-max"
        | "run-vo2-max"
        | "vo2-max"
        | "sedentary-period" => "activity_and_fitness",
        _ => "health_metrics_and_measurements",
    }
}

/// Which kind of device records a data type: it decides when a day of that type is final
/// ([`crate::sync::horizon`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorder {
    /// A watch or tracker (and the phone beside it).
    Tracker,
    /// A scale (or a manual entry in the app).
    Scale,
    /// Entered by hand: in the API as soon as it is saved.
    Manual,
}

/// The recorder of an API type.
pub fn recorder_of(api_type: &str) -> Recorder {
    match api_type {
        "weight" | "body-fat" => Recorder::Scale,
        "height" => Recorder::Manual,
        _ => Recorder::Tracker,
    }
}

pub fn find(name: &str) -> Option<&'static DataType> {
    CATALOG.iter().find(|t| t.name == name)
}

/// Every measurement the catalog writes, once each.
pub fn measurements() -> Vec<&'static Measurement> {
    let mut out: Vec<&'static Measurement> = Vec::new();
    for t in CATALOG {
        for m in t.measurements {
            if !out.iter().any(|o| o.name == m.name) {
                out.push(m);
            }
        }
    }
    // Written instead of heart_rate with HEART_RATE_RESOLUTION=minute.
    out.push(&minute::HEART_RATE_MINUTE);
    // Written every round, for the dashboards.
    out.push(&person::PERSON);
    // Written every round about the daemon itself, for the pipeline dashboard.
    out.push(&pipeline::SYNC_TYPE);
    out.push(&pipeline::SYNC_ROUND);
    out
}
