//! The catalog entries and their measurements. Units are converted here, once (grams → kg, …).

use super::read::{
    self, date, int64, local_midnight, missing, opt_bool, opt_str, timestamp, try_int64,
};
use super::{activity, body, health};
use super::{Context, DataType, Fetch, Field, Measurement, Tag, WindowFilter, USER_TAG};
use crate::point::{FieldKind, Point};
use serde_json::Value;

pub(super) const DEVICE_TAG: Tag = Tag {
    name: "device",
    doc: "the recording device's display name, where the API gives one",
};

pub const fn field(
    name: &'static str,
    kind: FieldKind,
    unit: &'static str,
    doc: &'static str,
) -> Field {
    Field {
        name,
        kind,
        unit,
        doc,
    }
}

use FieldKind::{Bool, Float, Int};

pub static HEART_RATE: Measurement = Measurement {
    name: "heart_rate",
    doc: "every heart-rate sample the watch recorded",
    time: "the sample's instant",
    tags: &[USER_TAG],
    fields: &[field("bpm", Int, "bpm", "beats per minute")],
};

pub static STEPS: Measurement = Measurement {
    name: "steps",
    doc: "steps per minute (only minutes with data)",
    time: "start of the minute",
    tags: &[USER_TAG],
    fields: &[field("count", Int, "steps", "steps in the interval")],
};

pub static STEPS_DAILY: Measurement = Measurement {
    name: "steps_daily",
    doc: "steps per civil day, from the API's daily rollup (days without data are absent)",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[field("count", Int, "steps", "steps that day")],
};

pub static RESTING_HEART_RATE: Measurement = Measurement {
    name: "resting_heart_rate",
    doc: "daily resting heart rate",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[field("bpm", Int, "bpm", "resting heart rate")],
};

pub static SLEEP: Measurement = Measurement {
    name: "sleep",
    doc:
        "one point per sleep session (main sleep and naps); a session belongs to the day it ends on",
    time: "end of the session (wake-up), so daily grouping puts a night on the date it ends",
    tags: &[USER_TAG],
    fields: &[
        field(
            "start_epoch_s",
            Int,
            "s",
            "start of the session (bedtime), Unix seconds",
        ),
        field("duration_s", Int, "s", "end minus start"),
        field(
            "bedtime_min",
            Int,
            "min",
            "bedtime on the clock, in minutes from the local midnight of the wake date (23:15 the evening before: -45)",
        ),
        field(
            "wake_min",
            Int,
            "min",
            "wake-up on the clock, in minutes from the local midnight of the wake date (07:00: 420)",
        ),
        field(
            "minutes_asleep",
            Int,
            "min",
            "time asleep (light + deep + REM, or asleep + restless for classic sessions)",
        ),
        field("minutes_awake", Int, "min", "time awake within the session"),
        field(
            "minutes_in_sleep_period",
            Int,
            "min",
            "time from falling asleep to waking up",
        ),
        field(
            "minutes_to_fall_asleep",
            Int,
            "min",
            "time before falling asleep",
        ),
        field(
            "minutes_after_wakeup",
            Int,
            "min",
            "time in bed after waking",
        ),
        field("minutes_deep", Int, "min", "deep sleep (stage sessions)"),
        field("minutes_light", Int, "min", "light sleep (stage sessions)"),
        field("minutes_rem", Int, "min", "REM sleep (stage sessions)"),
        field(
            "efficiency",
            Float,
            "%",
            "minutes asleep / minutes in sleep period × 100",
        ),
        field("main_sleep", Bool, "", "the night's main sleep"),
        field("nap", Bool, "", "a nap"),
    ],
};

pub static SLEEP_STAGE: Measurement = Measurement {
    name: "sleep_stage",
    doc: "one point per stage segment of a sleep session",
    time: "start of the segment",
    tags: &[
        USER_TAG,
        Tag {
            name: "stage",
            doc: "awake, light, deep, rem (stage sessions) or asleep, restless (classic)",
        },
    ],
    fields: &[field("duration_s", Int, "s", "length of the segment")],
};

pub static WEIGHT: Measurement = Measurement {
    name: "weight",
    doc: "weight measurements (scale or manual)",
    time: "the measurement's instant",
    tags: &[USER_TAG, DEVICE_TAG],
    fields: &[
        field("kg", Float, "kg", "body weight"),
        field(
            "bmi",
            Float,
            "kg/m²",
            "body-mass index, from this weight and the latest height (absent without a height)",
        ),
    ],
};

pub static CATALOG: &[DataType] = &[
    DataType {
        name: "heart-rate",
        api_type: "heart-rate",
        // ~17,000-43,000 samples a day in pages of at most ≈5,000 (reference §11 #1): three days a
        // window leave one part-filled page per three days instead of one a day.
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 3,
        measurements: &[&HEART_RATE],
        convert: heart_rate,
        decode_page: Some(super::typed::heart_rate),
    },
    DataType {
        name: "steps",
        api_type: "steps",
        // Minutes with steps, a few hundred a day: two weeks fill about a page.
        fetch: Fetch::List {
            filter: WindowFilter::IntervalStart,
            page_size: 10_000,
        },
        window_days: 14,
        measurements: &[&STEPS],
        convert: steps,
        decode_page: None,
    },
    DataType {
        name: "steps-daily",
        api_type: "steps",
        // The rollup cap for steps is 90 days: one request per quarter.
        fetch: Fetch::DailyRollUp,
        window_days: 90,
        measurements: &[&STEPS_DAILY],
        convert: steps_daily,
        decode_page: None,
    },
    DataType {
        name: "daily-resting-heart-rate",
        api_type: "daily-resting-heart-rate",
        fetch: Fetch::List {
            filter: WindowFilter::Date,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&RESTING_HEART_RATE],
        convert: resting_heart_rate,
        decode_page: None,
    },
    DataType {
        name: "sleep",
        api_type: "sleep",
        // 25 sessions per page at most: a month is two or three pages.
        fetch: Fetch::List {
            filter: WindowFilter::SessionEnd,
            page_size: 25,
        },
        window_days: 20,
        measurements: &[&SLEEP, &SLEEP_STAGE],
        convert: sleep,
        decode_page: None,
    },
    DataType {
        // Before weight: BMI needs the latest height.
        name: "height",
        api_type: "height",
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&body::HEIGHT],
        convert: body::height,
        decode_page: None,
    },
    DataType {
        name: "weight",
        api_type: "weight",
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&WEIGHT],
        convert: weight,
        decode_page: None,
    },
    DataType {
        name: "body-fat",
        api_type: "body-fat",
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&body::BODY_FAT],
        convert: body::body_fat,
        decode_page: None,
    },
    // Activity: daily totals from dailyRollUp in the largest windows the caps allow.
    DataType {
        name: "distance-daily",
        api_type: "distance",
        fetch: Fetch::DailyRollUp,
        window_days: 90,
        measurements: &[&activity::DISTANCE_DAILY],
        convert: activity::distance_daily,
        decode_page: None,
    },
    DataType {
        name: "floors-daily",
        api_type: "floors",
        fetch: Fetch::DailyRollUp,
        window_days: 90,
        measurements: &[&activity::FLOORS_DAILY],
        convert: activity::floors_daily,
        decode_page: None,
    },
    DataType {
        name: "elevation-daily",
        api_type: "altitude",
        fetch: Fetch::DailyRollUp,
        window_days: 90,
        measurements: &[&activity::ELEVATION_DAILY],
        convert: activity::elevation_daily,
        decode_page: None,
    },
    DataType {
        name: "calories-daily",
        api_type: "total-calories",
        // total-calories rollups are capped at 14 days.
        fetch: Fetch::DailyRollUp,
        window_days: 14,
        measurements: &[&activity::CALORIES_DAILY],
        convert: activity::total_calories_daily,
        decode_page: None,
    },
    DataType {
        name: "active-energy-daily",
        api_type: "active-energy-burned",
        fetch: Fetch::DailyRollUp,
        window_days: 90,
        measurements: &[&activity::CALORIES_DAILY],
        convert: activity::active_energy_daily,
        decode_page: None,
    },
    DataType {
        name: "active-minutes-daily",
        api_type: "active-minutes",
        // active-minutes rollups are capped at 14 days.
        fetch: Fetch::DailyRollUp,
        window_days: 14,
        measurements: &[&activity::ACTIVE_MINUTES_DAILY],
        convert: activity::active_minutes_daily,
        decode_page: None,
    },
    DataType {
        name: "heart-zone-time-daily",
        api_type: "time-in-heart-rate-zone",
        fetch: Fetch::DailyRollUp,
        window_days: 90,
        measurements: &[&activity::HEART_ZONE_TIME_DAILY],
        convert: activity::heart_zone_time_daily,
        decode_page: None,
    },
    DataType {
        name: "active-zone-minutes",
        api_type: "active-zone-minutes",
        // A few hundred minutes a month at most: one page.
        fetch: Fetch::List {
            filter: WindowFilter::IntervalStart,
            page_size: 10_000,
        },
        window_days: 30,
        measurements: &[&activity::ACTIVE_ZONE_MINUTES],
        convert: activity::active_zone_minutes,
        decode_page: None,
    },
    DataType {
        name: "activity-level",
        api_type: "activity-level",
        fetch: Fetch::List {
            filter: WindowFilter::IntervalStart,
            page_size: 10_000,
        },
        window_days: 20,
        measurements: &[&activity::ACTIVITY_LEVEL],
        convert: activity::activity_level,
        decode_page: None,
    },
    DataType {
        name: "exercise",
        api_type: "exercise",
        // 25 sessions per page; exercise filters only on civil start time.
        fetch: Fetch::List {
            filter: WindowFilter::CivilStart,
            page_size: 25,
        },
        // Wide queries downgrade sessions to WORKOUT with fewer metrics (reference §11 #12).
        window_days: 31,
        measurements: &[&activity::EXERCISE],
        convert: activity::exercise,
        decode_page: None,
    },
    // Heart and sleep physiology.
    DataType {
        name: "heart-rate-zones",
        api_type: "daily-heart-rate-zones",
        fetch: Fetch::List {
            filter: WindowFilter::Date,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::HEART_RATE_ZONES],
        convert: health::heart_rate_zones,
        decode_page: None,
    },
    DataType {
        name: "hrv",
        api_type: "heart-rate-variability",
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 30,
        measurements: &[&health::HRV],
        convert: health::hrv,
        decode_page: None,
    },
    DataType {
        name: "hrv-daily",
        api_type: "daily-heart-rate-variability",
        fetch: Fetch::List {
            filter: WindowFilter::Date,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::HRV_DAILY],
        convert: health::hrv_daily,
        decode_page: None,
    },
    DataType {
        name: "spo2",
        api_type: "oxygen-saturation",
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 30,
        measurements: &[&health::SPO2],
        convert: health::spo2,
        decode_page: None,
    },
    DataType {
        name: "spo2-daily",
        api_type: "daily-oxygen-saturation",
        fetch: Fetch::List {
            filter: WindowFilter::Date,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::SPO2_DAILY],
        convert: health::spo2_daily,
        decode_page: None,
    },
    DataType {
        name: "respiratory-rate-daily",
        api_type: "daily-respiratory-rate",
        fetch: Fetch::List {
            filter: WindowFilter::Date,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::RESPIRATORY_RATE_DAILY],
        convert: health::respiratory_rate_daily,
        decode_page: None,
    },
    DataType {
        name: "respiratory-rate-sleep",
        api_type: "respiratory-rate-sleep-summary",
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::RESPIRATORY_RATE_SLEEP],
        convert: health::respiratory_rate_sleep,
        decode_page: None,
    },
    DataType {
        name: "sleep-temperature",
        api_type: "daily-sleep-temperature-derivations",
        fetch: Fetch::List {
            filter: WindowFilter::Date,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::SLEEP_TEMPERATURE],
        convert: health::sleep_temperature,
        decode_page: None,
    },
    DataType {
        name: "vo2max-daily",
        api_type: "daily-vo2-max",
        fetch: Fetch::List {
            filter: WindowFilter::Date,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::VO2MAX_DAILY],
        convert: health::vo2max_daily,
        decode_page: None,
    },
    DataType {
        name: "run-vo2max",
        api_type: "run-vo2-max",
        fetch: Fetch::List {
            filter: WindowFilter::SampleTime,
            page_size: 10_000,
        },
        window_days: 365,
        measurements: &[&health::RUN_VO2MAX],
        convert: health::run_vo2max,
        decode_page: None,
    },
    // Devices: battery and last sync, every round.
    DataType {
        name: "devices",
        api_type: "pairedDevices",
        fetch: Fetch::Snapshot {
            path: "pairedDevices",
            list_key: "pairedDevices",
        },
        window_days: 1,
        measurements: &[&body::DEVICE],
        convert: body::device_snapshot,
        decode_page: None,
    },
];

/// A point at local midnight of the daily record's `{key}/date`.
pub(super) fn daily_point(
    v: &Value,
    cx: &Context,
    key: &str,
    m: &Measurement,
) -> Result<Point, read::ConvertError> {
    let day = date(v, &format!("{key}/date"))?;
    Ok(Point::new(m.name, local_midnight(day, cx.tz)).tag("user", cx.user))
}

/// A point at the sample's instant (`{key}/sampleTime/physicalTime`).
pub(super) fn sample_point(
    v: &Value,
    cx: &Context,
    key: &str,
    m: &Measurement,
) -> Result<Point, read::ConvertError> {
    let t = timestamp(v, &format!("{key}/sampleTime/physicalTime"))?;
    Ok(Point::new(m.name, t).tag("user", cx.user))
}

/// A point at the start of the interval (`{key}/interval/startTime`).
pub(super) fn interval_point(
    v: &Value,
    cx: &Context,
    key: &str,
    m: &Measurement,
) -> Result<Point, read::ConvertError> {
    let t = timestamp(v, &format!("{key}/interval/startTime"))?;
    Ok(Point::new(m.name, t).tag("user", cx.user))
}

/// A point at local midnight of a daily rollup window's day.
pub(super) fn rollup_day_point(
    v: &Value,
    cx: &Context,
    m: &Measurement,
) -> Result<Point, read::ConvertError> {
    let day = date(v, "civilStartTime/date")?;
    Ok(Point::new(m.name, local_midnight(day, cx.tz)).tag("user", cx.user))
}

pub(super) fn device(v: &Value) -> Option<&str> {
    opt_str(v, "dataSource/device/displayName")
}

fn heart_rate(v: &Value, cx: &Context) -> Result<Vec<Point>, read::ConvertError> {
    let t = timestamp(v, "heartRate/sampleTime/physicalTime")?;
    Ok(vec![Point::new(HEART_RATE.name, t)
        .tag("user", cx.user)
        .int("bpm", int64(v, "heartRate/beatsPerMinute")?)])
}

fn steps(v: &Value, cx: &Context) -> Result<Vec<Point>, read::ConvertError> {
    let t = timestamp(v, "steps/interval/startTime")?;
    Ok(vec![Point::new(STEPS.name, t)
        .tag("user", cx.user)
        .int("count", int64(v, "steps/count")?)])
}

fn steps_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, read::ConvertError> {
    let day = date(v, "civilStartTime/date")?;
    Ok(vec![Point::new(
        STEPS_DAILY.name,
        local_midnight(day, cx.tz),
    )
    .tag("user", cx.user)
    .int("count", int64(v, "steps/countSum")?)])
}

fn resting_heart_rate(v: &Value, cx: &Context) -> Result<Vec<Point>, read::ConvertError> {
    let day = date(v, "dailyRestingHeartRate/date")?;
    Ok(vec![Point::new(
        RESTING_HEART_RATE.name,
        local_midnight(day, cx.tz),
    )
    .tag("user", cx.user)
    .int("bpm", int64(v, "dailyRestingHeartRate/beatsPerMinute")?)])
}

fn sleep(v: &Value, cx: &Context) -> Result<Vec<Point>, read::ConvertError> {
    let s = v.get("sleep").ok_or_else(|| missing("sleep", v))?;
    // A sleep in progress has no summary yet (reference §11 #10): nothing is written, its day stays
    // open and is fetched again until the session is complete.
    if s.get("summary").is_none() {
        return Err(read::incomplete("sleep without summary (in progress)", v));
    }
    let start = timestamp(s, "interval/startTime")?;
    let end = timestamp(s, "interval/endTime")?;
    let mut p = Point::new(SLEEP.name, end)
        .tag("user", cx.user)
        .int("start_epoch_s", start.timestamp())
        .int("duration_s", (end - start).num_seconds());
    // Bedtime and wake-up as clock times around the wake date's midnight, for regularity charts
    // (epoch seconds cannot be compared night to night).
    let wake_date = end.with_timezone(&cx.tz).date_naive();
    p = p
        .int("bedtime_min", read::clock_minutes(wake_date, start, cx.tz))
        .int("wake_min", read::clock_minutes(wake_date, end, cx.tz));
    let summary_fields = [
        ("minutesAsleep", "minutes_asleep"),
        ("minutesAwake", "minutes_awake"),
        ("minutesInSleepPeriod", "minutes_in_sleep_period"),
        ("minutesToFallAsleep", "minutes_to_fall_asleep"),
        ("minutesAfterWakeUp", "minutes_after_wakeup"),
    ];
    for (api, name) in summary_fields {
        p = p.int_opt(name, try_int64(s, &format!("summary/{api}"))?);
    }
    for st in s
        .pointer("/summary/stagesSummary")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = match st.get("type").and_then(Value::as_str) {
            Some("DEEP") => "minutes_deep",
            Some("LIGHT") => "minutes_light",
            Some("REM") => "minutes_rem",
            _ => continue,
        };
        p = p.int_opt(name, try_int64(st, "minutes")?);
    }
    if let (Some(asleep), Some(period)) = (
        try_int64(s, "summary/minutesAsleep")?,
        try_int64(s, "summary/minutesInSleepPeriod")?,
    ) {
        if period > 0 {
            p = p.float("efficiency", asleep as f64 * 100.0 / period as f64);
        }
    }
    let nap = opt_bool(s, "metadata/nap").unwrap_or(false);
    p = p
        .bool(
            "main_sleep",
            opt_bool(s, "metadata/mainSleep").unwrap_or(!nap),
        )
        .bool("nap", nap);
    let mut points = vec![p];
    for st in s
        .get("stages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (a, b) = (timestamp(st, "startTime")?, timestamp(st, "endTime")?);
        let stage = st
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("UNKNOWN")
            .to_ascii_lowercase();
        points.push(
            Point::new(SLEEP_STAGE.name, a)
                .tag("user", cx.user)
                .tag("stage", stage)
                .int("duration_s", (b - a).num_seconds()),
        );
    }
    Ok(points)
}

fn weight(v: &Value, cx: &Context) -> Result<Vec<Point>, read::ConvertError> {
    let t = timestamp(v, "weight/sampleTime/physicalTime")?;
    let Some(grams) = read::double(v, "weight/weightGrams")? else {
        return Ok(Vec::new()); // "NaN": no measurement
    };
    let kg = grams / 1000.0;
    let mut p = Point::new(WEIGHT.name, t)
        .tag("user", cx.user)
        .float("kg", kg);
    if let Some(h) = cx.height_m.filter(|h| *h > 0.5) {
        p = p.float("bmi", kg / (h * h));
    }
    if let Some(d) = device(v) {
        p = p.tag("device", d);
    }
    Ok(vec![p])
}
