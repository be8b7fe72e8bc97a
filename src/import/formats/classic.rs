//! The classic JSON files (Jackson arrays, `MM/DD/YY HH:MM:SS` clocks): heart rate, steps and
//! exercise starts in UTC; resting heart rate on local dates; sleep and weight on the person's wall
//! clock (reference §2.16).

use super::{local, number, text_number, wall, Context};
use crate::catalog::{self, read::local_midnight};
use crate::point::Point;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::Value;

/// `MM/DD/YY HH:MM:SS`, the classic JSON clock.
fn classic_clock(s: &str, key: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s, "%m/%d/%y %H:%M:%S")
        .map_err(|_| format!("{key} {s:?} is not MM/DD/YY HH:MM:SS"))
}

fn classic(v: &Value, key: &str) -> Result<NaiveDateTime, String> {
    let s = v
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no {key}"))?;
    classic_clock(s, key)
}

/// One record of a dense series (`{"dateTime" : …, "value" : …}`), borrowing from the file's text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sample<'a, V> {
    #[serde(borrow)]
    date_time: &'a str,
    value: V,
}

#[derive(Deserialize)]
struct Bpm {
    bpm: i64,
}

/// A number the archive writes as text (`"23"`) or as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Count<'a> {
    Number(f64),
    Text(&'a str),
}

fn sample<'a, V: Deserialize<'a>>(raw: &'a str, what: &str) -> Result<Sample<'a, V>, String> {
    // Without serde's "at line L column C": the record's number says where, and the summary
    // groups records by reason.
    serde_json::from_str(raw).map_err(|e| {
        let e = e.to_string();
        let why = e.rsplit_once(" at line ").map_or(e.as_str(), |(w, _)| w);
        format!("not a {what} sample: {why}")
    })
}

pub(super) fn heart_rate(raw: &str, cx: &Context) -> Result<Option<Point>, String> {
    let s: Sample<Bpm> = sample(raw, "heart-rate")?;
    let t = classic_clock(s.date_time, "dateTime")?.and_utc();
    Ok(Some(
        Point::new(catalog::HEART_RATE.name, t)
            .tag("user", cx.user)
            .int("bpm", s.value.bpm),
    ))
}

pub(super) fn steps(raw: &str, cx: &Context) -> Result<Option<Point>, String> {
    let s: Sample<Count> = sample(raw, "steps")?;
    let t = classic_clock(s.date_time, "dateTime")?.and_utc();
    let n = match s.value {
        Count::Number(n) => Some(n),
        Count::Text(text) => text_number(text),
    }
    .filter(|n| *n >= 0.0)
    .ok_or("value is not a number of steps")?;
    // Minutes without steps are not written: the API lists minutes with steps only.
    Ok((n > 0.0).then(|| {
        Point::new(catalog::STEPS.name, t)
            .tag("user", cx.user)
            .int("count", n.round() as i64)
    }))
}

pub(super) fn resting_heart_rate(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
    let v = r.get("value").ok_or("no value")?;
    // Placeholder rows pad the year: `{"date": null, "value": 0.0}`.
    let (Some(date), Some(bpm)) = (
        v.get("date").and_then(Value::as_str),
        number(v.get("value")).filter(|b| *b > 0.0),
    ) else {
        return Ok(Vec::new());
    };
    let day = NaiveDate::parse_from_str(date, "%m/%d/%y")
        .map_err(|_| format!("date {date:?} is not MM/DD/YY"))?;
    Ok(vec![Point::new(
        catalog::RESTING_HEART_RATE.name,
        local_midnight(day, cx.tz),
    )
    .tag("user", cx.user)
    .int("bpm", bpm.round() as i64)])
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    start_time: String,
    end_time: String,
    minutes_asleep: Option<i64>,
    minutes_awake: Option<i64>,
    minutes_to_fall_asleep: Option<i64>,
    minutes_after_wakeup: Option<i64>,
    time_in_bed: Option<i64>,
    main_sleep: Option<bool>,
    /// Milliseconds: end − start, which places an end in the hour the clocks repeat.
    duration: Option<i64>,
    #[serde(default)]
    levels: Levels,
}

#[derive(Deserialize, Default)]
struct Levels {
    #[serde(default)]
    summary: serde_json::Map<String, Value>,
    #[serde(default)]
    data: Vec<Segment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Segment {
    date_time: String,
    level: String,
    seconds: i64,
}

/// A session's local time (`2017-08-20T02:21:30.000`), read in time order.
fn sleep_time(s: &str, tz: Tz, not_before: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, String> {
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| format!("{s:?} is not a local YYYY-MM-DDTHH:MM:SS.fff"))?;
    Ok(wall(t, tz, not_before))
}

/// A session as the API sync writes it: the point at the wake-up, the same fields, the stages (the
/// `shortData` wake segments overlap `data` and are left out; the API's stages do not overlap).
pub(super) fn sleep(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
    let s: Session =
        serde_json::from_value(r.clone()).map_err(|e| format!("not a sleep session: {e}"))?;
    let start = sleep_time(&s.start_time, cx.tz, None)?;
    let end = match s.duration.filter(|d| *d > 0) {
        Some(ms) => start + chrono::Duration::milliseconds(ms),
        None => sleep_time(&s.end_time, cx.tz, Some(start))?,
    };
    let wake = end.with_timezone(&cx.tz).date_naive();
    let main = s.main_sleep.unwrap_or(true);
    let mut p = Point::new(catalog::SLEEP.name, end)
        .tag("user", cx.user)
        .int("start_epoch_s", start.timestamp())
        .int("duration_s", (end - start).num_seconds())
        .int(
            "bedtime_min",
            catalog::read::clock_minutes(wake, start, cx.tz),
        )
        .int("wake_min", catalog::read::clock_minutes(wake, end, cx.tz))
        .int_opt("minutes_asleep", s.minutes_asleep)
        .int_opt("minutes_awake", s.minutes_awake)
        // The archive's time in bed is the whole session, the API's minutes in the sleep period.
        .int_opt("minutes_in_sleep_period", s.time_in_bed)
        .int_opt("minutes_to_fall_asleep", s.minutes_to_fall_asleep)
        .int_opt("minutes_after_wakeup", s.minutes_after_wakeup);
    for (level, field) in [
        ("deep", "minutes_deep"),
        ("light", "minutes_light"),
        ("rem", "minutes_rem"),
    ] {
        p = p.int_opt(
            field,
            s.levels
                .summary
                .get(level)
                .and_then(|x| x.get("minutes"))
                .and_then(Value::as_i64),
        );
    }
    if let (Some(asleep), Some(period)) = (s.minutes_asleep, s.time_in_bed.filter(|m| *m > 0)) {
        p = p.float("efficiency", asleep as f64 * 100.0 / period as f64);
    }
    let mut points = vec![p.bool("main_sleep", main).bool("nap", !main)];
    let mut previous = start;
    for seg in &s.levels.data {
        let a = sleep_time(&seg.date_time, cx.tz, Some(previous))?;
        previous = a;
        // Classic logs say `awake`, stage logs `wake`; the API says AWAKE for both.
        let stage = match seg.level.as_str() {
            "wake" => "awake".to_string(),
            other => other.to_ascii_lowercase(),
        };
        points.push(
            Point::new(catalog::SLEEP_STAGE.name, a)
                .tag("user", cx.user)
                .tag("stage", stage)
                .int("duration_s", seg.seconds),
        );
    }
    Ok(points)
}

/// Pounds to kilograms.
const KG_PER_LB: f64 = 0.453_592_37;

/// A weight entry: `date` + `time` are the person's wall clock; `weight` is in pounds in every
/// archive seen, but the API allows kilograms, so the unit is checked against the entry's BMI:
/// the unit whose implied height (√(kg ÷ BMI)) is a person's is taken, pounds when both or neither
/// are (reference §2.9).
pub(super) fn weight(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
    let (date, time) = (
        r.get("date").and_then(Value::as_str).ok_or("no date")?,
        // Fitbit stamps a manual entry without a time 23:59:59 (reference §2.9); an entry without
        // the key is taken the same way, at the end of its day.
        r.get("time").and_then(Value::as_str).unwrap_or("23:59:59"),
    );
    let t = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%m/%d/%y %H:%M:%S")
        .map_err(|_| format!("date/time {date:?} {time:?} is not MM/DD/YY HH:MM:SS"))?;
    let at = local(t, cx.tz);
    let w = number(r.get("weight")).ok_or("weight is not a number")?;
    let bmi = number(r.get("bmi")).filter(|b| *b > 0.0);
    let plausible = |kg: f64| bmi.is_some_and(|b| (1.2..=2.3).contains(&(kg / b).sqrt()));
    let kg = if !plausible(w * KG_PER_LB) && plausible(w) {
        w
    } else {
        w * KG_PER_LB
    };
    let mut points = vec![Point::new(catalog::WEIGHT.name, at)
        .tag("user", cx.user)
        .float("kg", (kg * 1000.0).round() / 1000.0)
        .float_opt("bmi", bmi)];
    if let Some(fat) = number(r.get("fat")).filter(|f| *f > 0.0) {
        points.push(
            Point::new(catalog::BODY_FAT.name, at)
                .tag("user", cx.user)
                .float("pct", fat),
        );
    }
    Ok(points)
}

/// The API's exercise type (lower case) for the archive's `activityName`: most names are the
/// type's words (`Circuit Training` → `circuit_training`); the short ones are not.
fn exercise_type(name: &str) -> String {
    match name {
        "Run" => "running".into(),
        "Walk" => "walking".into(),
        "Bike" => "biking".into(),
        "Swim" => "swimming".into(),
        "Hike" => "hiking".into(),
        "Weights" => "weightlifting".into(),
        other => other.trim().to_ascii_lowercase().replace([' ', '-'], "_"),
    }
}

/// An exercise as the API sync writes it: the point at its start (UTC in the archive).
pub(super) fn exercise(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
    let start = classic(r, "startTime")?.and_utc();
    let name = r
        .get("activityName")
        .and_then(Value::as_str)
        .ok_or("no activityName")?;
    let seconds = |k: &str| number(r.get(k)).map(|ms| (ms / 1000.0).round() as i64);
    let metres = match (
        number(r.get("distance")),
        r.get("distanceUnit").and_then(Value::as_str),
    ) {
        (None, _) => None,
        (Some(d), Some("Kilometer")) => Some(d * 1000.0),
        (Some(d), Some("Mile")) => Some(d * 1609.344),
        (Some(_), unit) => return Err(format!("distanceUnit {unit:?} is not Kilometer or Mile")),
    };
    let whole = |k: &str| number(r.get(k)).map(|x| x.round() as i64);
    Ok(vec![Point::new(catalog::EXERCISE.name, start)
        .tag("user", cx.user)
        .tag("type", exercise_type(name))
        .int_opt("duration_s", seconds("duration"))
        .int_opt("active_duration_s", seconds("activeDuration"))
        .float_opt("distance_m", metres)
        .float_opt("calories_kcal", number(r.get("calories")))
        .int_opt("avg_bpm", whole("averageHeartRate"))
        .int_opt(
            "azm",
            number(r.pointer("/activeZoneMinutes/totalMinutes")).map(|x| x.round() as i64),
        )
        .int_opt("steps", whole("steps"))
        .float_opt(
            "elevation_gain_m",
            number(r.get("elevationGain")),
        )])
}
