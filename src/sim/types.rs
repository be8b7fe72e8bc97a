//! The simulator's data types, one table entry each (reference §4–5): URL name, payload key, how list
//! filters address it, its page limits, rollup and cap, its scope, and how a person's day becomes its data
//! points (the generators and renderers live in [`super::series`]).

use super::metrics::Exercise;
use super::series::*;
use super::world::{Person, SleepSession};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

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
    /// exercise: `exercise.interval.civil_start_time` only
    ExerciseSession,
}

/// How raw values combine in rollups (reference §3.5 rollup value table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollup {
    /// An int64 sum under the given field name (`countSum`).
    Sum(&'static str),
    /// A double sum (`kcalSum`).
    SumDouble(&'static str),
    /// `{prefix}Avg`, `{prefix}Max`, `{prefix}Min` as numbers.
    AvgMaxMin(&'static str),
    /// One average under the given name (`weightGramsAvg`).
    Avg(&'static str),
    /// int64 sums per category under fixed names (active zone minutes: `sumInCardioHeartZone`, …).
    CategorySums(&'static [(&'static str, &'static str)]),
    /// A list with one entry per category: `{list: [{category_key: c, value_key: v}]}`, the value an
    /// int64 sum or a Duration.
    CategoryList {
        list: &'static str,
        category_key: &'static str,
        value_key: &'static str,
        duration: bool,
    },
}

/// One generated data point with the coordinates filters and ordering need.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub civil_start: NaiveDateTime,
    pub civil_end: NaiveDateTime,
    /// The civil date of a daily record.
    pub date: Option<NaiveDate>,
    /// The number rollups combine and the payload shows (steps count, bpm, grams).
    pub value: f64,
    /// Further numbers a payload shows (SDNN next to RMSSD, …).
    pub more: [f64; 3],
    /// The zone or level of a categorised record.
    pub category: Option<&'static str>,
    /// The session behind a sleep record.
    pub sleep: Option<Box<SleepSession>>,
    /// The summary behind an exercise record.
    pub exercise: Option<Box<Exercise>>,
    /// Recorded by the phone, not the watch (reference §11 #4).
    pub phone: bool,
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
    /// The same JSON written straight as text, for types whose pages hold 10,000 points: building
    /// 10,000 `Value` trees costs more than the rest of a request. `bool`: with `dataSource`.
    pub render_text: Option<fn(&Person, &Record, bool, &mut String)>,
}

const ACTIVITY: &str = "activity_and_fitness";
const HEALTH: &str = "health_metrics_and_measurements";

/// An entry with the common defaults: listable, pages of 1440 (at most 10,000), civil filters work,
/// no rollup, 90-day rollup cap.
#[allow(clippy::too_many_arguments)]
const fn entry(
    name: &'static str,
    payload_key: &'static str,
    filter_prefix: &'static str,
    kind: RecordKind,
    scope: &'static str,
    generate: fn(&Person, NaiveDate) -> Vec<Record>,
    render: fn(&Person, &Record) -> Value,
) -> SimType {
    SimType {
        name,
        payload_key,
        filter_prefix,
        kind,
        default_page: 1440,
        max_page: 10_000,
        listable: true,
        rollup: None,
        rollup_cap_days: 90,
        scope,
        civil_filters_match: true,
        generate,
        render,
        render_text: None,
    }
}

use RecordKind::{Daily, ExerciseSession, Interval, Sample};

pub static TYPES: &[SimType] = &[
    SimType {
        rollup: Some(Rollup::AvgMaxMin("beatsPerMinute")),
        rollup_cap_days: 14,
        civil_filters_match: false,
        render_text: Some(render_heart_rate_text),
        ..entry(
            "heart-rate",
            "heartRate",
            "heart_rate",
            Sample,
            HEALTH,
            heart_rate,
            render_heart_rate,
        )
    },
    SimType {
        rollup: Some(Rollup::Sum("countSum")),
        civil_filters_match: false,
        ..entry(
            "steps",
            "steps",
            "steps",
            Interval,
            ACTIVITY,
            steps,
            render_steps,
        )
    },
    entry(
        "daily-resting-heart-rate",
        "dailyRestingHeartRate",
        "daily_resting_heart_rate",
        Daily,
        HEALTH,
        resting_heart_rate,
        render_resting_heart_rate,
    ),
    SimType {
        default_page: 25,
        max_page: 25,
        ..entry(
            "sleep",
            "sleep",
            "sleep",
            RecordKind::SleepSession,
            "sleep",
            sleep,
            render_sleep,
        )
    },
    SimType {
        rollup: Some(Rollup::Avg("weightGramsAvg")),
        ..entry(
            "weight",
            "weight",
            "weight",
            Sample,
            HEALTH,
            weight,
            render_weight,
        )
    },
    SimType {
        rollup: Some(Rollup::Sum("millimetersSum")),
        ..entry(
            "distance",
            "distance",
            "distance",
            Interval,
            ACTIVITY,
            distance,
            render_distance,
        )
    },
    SimType {
        listable: false,
        rollup: Some(Rollup::Sum("countSum")),
        ..entry(
            "floors",
            "floors",
            "floors",
            Interval,
            ACTIVITY,
            floors,
            render_unlisted,
        )
    },
    SimType {
        rollup: Some(Rollup::Sum("gainMillimetersSum")),
        ..entry(
            "altitude",
            "altitude",
            "altitude",
            Interval,
            ACTIVITY,
            altitude,
            render_altitude,
        )
    },
    SimType {
        listable: false,
        rollup: Some(Rollup::SumDouble("kcalSum")),
        rollup_cap_days: 14,
        ..entry(
            "total-calories",
            "totalCalories",
            "total_calories",
            Interval,
            ACTIVITY,
            total_calories,
            render_unlisted,
        )
    },
    SimType {
        rollup: Some(Rollup::SumDouble("kcalSum")),
        ..entry(
            "active-energy-burned",
            "activeEnergyBurned",
            "active_energy_burned",
            Interval,
            ACTIVITY,
            active_energy,
            render_active_energy,
        )
    },
    SimType {
        rollup: Some(Rollup::CategorySums(&[
            ("FAT_BURN", "sumInFatBurnHeartZone"),
            ("CARDIO", "sumInCardioHeartZone"),
            ("PEAK", "sumInPeakHeartZone"),
        ])),
        ..entry(
            "active-zone-minutes",
            "activeZoneMinutes",
            "active_zone_minutes",
            Interval,
            ACTIVITY,
            active_zone_minutes,
            render_active_zone_minutes,
        )
    },
    SimType {
        rollup: Some(Rollup::CategoryList {
            list: "activeMinutesRollupByActivityLevel",
            category_key: "activityLevel",
            value_key: "activeMinutesSum",
            duration: false,
        }),
        rollup_cap_days: 14,
        ..entry(
            "active-minutes",
            "activeMinutes",
            "active_minutes",
            Interval,
            ACTIVITY,
            active_minutes,
            render_active_minutes,
        )
    },
    entry(
        "activity-level",
        "activityLevel",
        "activity_level",
        Interval,
        ACTIVITY,
        activity_level,
        render_activity_level,
    ),
    SimType {
        rollup: Some(Rollup::CategoryList {
            list: "timeInHeartRateZones",
            category_key: "heartRateZone",
            value_key: "duration",
            duration: true,
        }),
        ..entry(
            "time-in-heart-rate-zone",
            "timeInHeartRateZone",
            "time_in_heart_rate_zone",
            Interval,
            ACTIVITY,
            time_in_zone,
            render_time_in_zone,
        )
    },
    entry(
        "daily-heart-rate-zones",
        "dailyHeartRateZones",
        "daily_heart_rate_zones",
        Daily,
        HEALTH,
        daily_heart_rate_zones,
        render_heart_rate_zones,
    ),
    entry(
        "heart-rate-variability",
        "heartRateVariability",
        "heart_rate_variability",
        Sample,
        HEALTH,
        hrv,
        render_hrv,
    ),
    entry(
        "daily-heart-rate-variability",
        "dailyHeartRateVariability",
        "daily_heart_rate_variability",
        Daily,
        HEALTH,
        daily_hrv,
        render_daily_hrv,
    ),
    entry(
        "oxygen-saturation",
        "oxygenSaturation",
        "oxygen_saturation",
        Sample,
        HEALTH,
        spo2,
        render_spo2,
    ),
    entry(
        "daily-oxygen-saturation",
        "dailyOxygenSaturation",
        "daily_oxygen_saturation",
        Daily,
        HEALTH,
        daily_spo2,
        render_daily_spo2,
    ),
    entry(
        "daily-respiratory-rate",
        "dailyRespiratoryRate",
        "daily_respiratory_rate",
        Daily,
        HEALTH,
        daily_respiratory,
        render_daily_respiratory,
    ),
    entry(
        "respiratory-rate-sleep-summary",
        "respiratoryRateSleepSummary",
        "respiratory_rate_sleep_summary",
        Sample,
        HEALTH,
        respiratory_summary,
        render_respiratory_summary,
    ),
    entry(
        "daily-sleep-temperature-derivations",
        "dailySleepTemperatureDerivations",
        "daily_sleep_temperature_derivations",
        Daily,
        HEALTH,
        daily_temperature,
        render_temperature,
    ),
    entry(
        "daily-vo2-max",
        "dailyVo2Max",
        "daily_vo2_max",
        Daily,
        ACTIVITY,
        daily_vo2,
        render_daily_vo2,
    ),
    entry(
        "run-vo2-max",
        "runVo2Max",
        "run_vo2_max",
        Sample,
        ACTIVITY,
        run_vo2,
        render_run_vo2,
    ),
    SimType {
        rollup: Some(Rollup::Avg("bodyFatPercentageAvg")),
        ..entry(
            "body-fat",
            "bodyFat",
            "body_fat",
            Sample,
            HEALTH,
            body_fat,
            render_body_fat,
        )
    },
    entry(
        "height",
        "height",
        "height",
        Sample,
        HEALTH,
        height,
        render_height,
    ),
    SimType {
        default_page: 25,
        max_page: 25,
        ..entry(
            "exercise",
            "exercise",
            "exercise",
            ExerciseSession,
            ACTIVITY,
            exercise,
            render_exercise,
        )
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
