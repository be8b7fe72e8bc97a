//! Activity measurements: daily totals from rollups, active zone minutes, activity levels, exercises.
//! Units are converted here: millimetres → metres, Durations → seconds.

use super::read::{self, int64, opt_double, opt_str, timestamp, try_int64, ConvertError};
use super::types::{field, interval_point, rollup_day_point};
use super::{Context, Measurement, Tag, USER_TAG};
use crate::point::FieldKind::{Float, Int};
use crate::point::Point;
use serde_json::Value;

pub static DISTANCE_DAILY: Measurement = Measurement {
    name: "distance_daily",
    doc: "distance per civil day",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[field("m", Float, "m", "distance that day")],
};

pub static FLOORS_DAILY: Measurement = Measurement {
    name: "floors_daily",
    doc: "floors climbed per civil day",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[field("count", Int, "floors", "floors climbed that day")],
};

pub static ELEVATION_DAILY: Measurement = Measurement {
    name: "elevation_daily",
    doc: "elevation gained per civil day (the API's altitude gain)",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[field("m", Float, "m", "elevation gained that day")],
};

pub static CALORIES_DAILY: Measurement = Measurement {
    name: "calories_daily",
    doc: "energy per civil day: total (including resting metabolism) and active",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[
        field("total_kcal", Float, "kcal", "total energy burned that day"),
        field(
            "active_kcal",
            Float,
            "kcal",
            "energy burned by activity that day",
        ),
    ],
};

pub static ACTIVE_MINUTES_DAILY: Measurement = Measurement {
    name: "active_minutes_daily",
    doc: "active minutes per civil day by intensity",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[
        field("light", Int, "min", "lightly active minutes"),
        field("moderate", Int, "min", "moderately active minutes"),
        field("vigorous", Int, "min", "very active minutes"),
    ],
};

pub static HEART_ZONE_TIME_DAILY: Measurement = Measurement {
    name: "heart_zone_time_daily",
    doc: "time in each heart-rate zone per civil day",
    time: super::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[
        field("light_s", Int, "s", "time in the light zone"),
        field("moderate_s", Int, "s", "time in the moderate zone"),
        field("vigorous_s", Int, "s", "time in the vigorous zone"),
        field("peak_s", Int, "s", "time in the peak zone"),
    ],
};

pub static ACTIVE_ZONE_MINUTES: Measurement = Measurement {
    name: "active_zone_minutes",
    doc: "each minute in a heart-rate zone. Minutes per zone: count(azm) GROUP BY zone; the Fitbit headline figure (fat burn + 2 × (cardio + peak)): sum(azm)",
    time: "start of the minute",
    tags: &[USER_TAG, Tag { name: "zone", doc: "fat_burn, cardio or peak" }],
    fields: &[field("azm", Int, "AZM", "active zone minutes earned in the minute: 1 in fat burn, 2 in cardio and peak")],
};

pub static ACTIVITY_LEVEL: Measurement = Measurement {
    name: "activity_level",
    doc: "stretches of time at one activity level (sleep is not included)",
    time: "start of the stretch",
    tags: &[
        USER_TAG,
        Tag {
            name: "level",
            doc: "sedentary, lightly_active, moderately_active or very_active",
        },
    ],
    fields: &[field("duration_s", Int, "s", "length of the stretch")],
};

/// The `type` of the poorer form a wide exercise query returns (reference §11 #12). The daemon asks
/// in windows of at most 31 days, but earlier versions asked wider, so such points can be stored; a
/// session that comes back with its real type replaces it.
pub const DOWNGRADED_EXERCISE_TYPE: &str = "workout";

pub static EXERCISE: Measurement = Measurement {
    name: "exercise",
    doc: "one point per exercise session",
    time: "start of the session",
    tags: &[
        USER_TAG,
        Tag {
            name: "type",
            doc: "exercise type in lower case (running, walking, …)",
        },
    ],
    fields: &[
        field("duration_s", Int, "s", "end minus start"),
        field("active_duration_s", Int, "s", "time actually exercising"),
        field("distance_m", Float, "m", "distance"),
        field("calories_kcal", Float, "kcal", "energy burned"),
        field("avg_bpm", Int, "bpm", "average heart rate"),
        field("azm", Int, "AZM", "active zone minutes earned"),
        field("steps", Int, "steps", "steps"),
        field("elevation_gain_m", Float, "m", "elevation gained"),
        field(
            "vo2max",
            Float,
            "ml/kg/min",
            "run VO2 max estimated from the session",
        ),
    ],
};

/// A `"123s"` / `"1.5s"` Duration in whole seconds.
fn seconds(v: &Value) -> Option<i64> {
    v.as_str()?
        .strip_suffix('s')?
        .parse::<f64>()
        .ok()
        .map(|s| s.round() as i64)
}

pub fn distance_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let mm = int64(v, "distance/millimetersSum")?;
    Ok(vec![
        rollup_day_point(v, cx, &DISTANCE_DAILY)?.float("m", mm as f64 / 1000.0)
    ])
}

pub fn floors_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    Ok(vec![
        rollup_day_point(v, cx, &FLOORS_DAILY)?.int("count", int64(v, "floors/countSum")?)
    ])
}

pub fn elevation_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let mm = int64(v, "altitude/gainMillimetersSum")?;
    Ok(vec![
        rollup_day_point(v, cx, &ELEVATION_DAILY)?.float("m", mm as f64 / 1000.0)
    ])
}

pub fn total_calories_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let kcal = read::double(v, "totalCalories/kcalSum")?;
    Ok(vec![
        rollup_day_point(v, cx, &CALORIES_DAILY)?.float_opt("total_kcal", kcal)
    ])
}

pub fn active_energy_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let kcal = read::double(v, "activeEnergyBurned/kcalSum")?;
    Ok(vec![
        rollup_day_point(v, cx, &CALORIES_DAILY)?.float_opt("active_kcal", kcal)
    ])
}

pub fn active_minutes_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let mut p = rollup_day_point(v, cx, &ACTIVE_MINUTES_DAILY)?;
    for e in v
        .pointer("/activeMinutes/activeMinutesRollupByActivityLevel")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = match e.get("activityLevel").and_then(Value::as_str) {
            Some("LIGHT") => "light",
            Some("MODERATE") => "moderate",
            Some("VIGOROUS") => "vigorous",
            _ => continue,
        };
        p = p.int_opt(name, try_int64(e, "activeMinutesSum")?);
    }
    Ok(vec![p])
}

pub fn heart_zone_time_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let mut p = rollup_day_point(v, cx, &HEART_ZONE_TIME_DAILY)?;
    for e in v
        .pointer("/timeInHeartRateZone/timeInHeartRateZones")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = match e.get("heartRateZone").and_then(Value::as_str) {
            Some("LIGHT") => "light_s",
            Some("MODERATE") => "moderate_s",
            Some("VIGOROUS") => "vigorous_s",
            Some("PEAK") => "peak_s",
            _ => continue,
        };
        if let Some(s) = e.get("duration").and_then(seconds) {
            p = p.int(name, s);
        }
    }
    Ok(vec![p])
}

pub fn active_zone_minutes(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let zone = opt_str(v, "activeZoneMinutes/heartRateZone")
        .unwrap_or("unknown")
        .to_ascii_lowercase();
    Ok(vec![interval_point(
        v,
        cx,
        "activeZoneMinutes",
        &ACTIVE_ZONE_MINUTES,
    )?
    .tag("zone", zone)
    .int("azm", int64(v, "activeZoneMinutes/activeZoneMinutes")?)])
}

pub fn activity_level(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let level = opt_str(v, "activityLevel/activityLevelType")
        .unwrap_or("unknown")
        .to_ascii_lowercase();
    let (a, b) = (
        timestamp(v, "activityLevel/interval/startTime")?,
        timestamp(v, "activityLevel/interval/endTime")?,
    );
    Ok(vec![interval_point(
        v,
        cx,
        "activityLevel",
        &ACTIVITY_LEVEL,
    )?
    .tag("level", level)
    .int("duration_s", (b - a).num_seconds())])
}

pub fn exercise(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let e = v
        .get("exercise")
        .ok_or_else(|| read::missing("exercise", v))?;
    let (a, b) = (
        timestamp(e, "interval/startTime")?,
        timestamp(e, "interval/endTime")?,
    );
    let kind = opt_str(e, "exerciseType")
        .unwrap_or("unknown")
        .to_ascii_lowercase();
    let mut p = interval_point(v, cx, "exercise", &EXERCISE)?
        .tag("type", kind)
        .int("duration_s", (b - a).num_seconds());
    if let Some(s) = e.get("activeDuration").and_then(seconds) {
        p = p.int("active_duration_s", s);
    }
    let m = |k: &str| format!("metricsSummary/{k}");
    p = p.float_opt(
        "distance_m",
        opt_double(e, &m("distanceMillimeters"))?.map(|mm| mm / 1000.0),
    );
    p = p.float_opt("calories_kcal", opt_double(e, &m("caloriesKcal"))?);
    for (api, name) in [
        ("averageHeartRateBeatsPerMinute", "avg_bpm"),
        ("activeZoneMinutes", "azm"),
        ("steps", "steps"),
    ] {
        p = p.int_opt(name, try_int64(e, &m(api))?);
    }
    p = p.float_opt(
        "elevation_gain_m",
        opt_double(e, &m("elevationGainMillimeters"))?.map(|mm| mm / 1000.0),
    );
    p = p.float_opt("vo2max", opt_double(e, &m("runVo2Max"))?);
    Ok(vec![p])
}
