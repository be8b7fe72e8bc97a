//! Reading the API's proto3 JSON tolerantly (reference §2): int64 arrives as a string but a number is
//! accepted too; doubles are numbers or `"NaN"`/`"Infinity"`; Durations are `"3600s"`; dates are
//! `{year, month, day}`. A missing required field is a [`ConvertError`]; unknown extra fields and enum
//! values are ignored.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {what} in {snippet}", if *.incomplete { "incomplete data point" } else { "unreadable data point" })]
pub struct ConvertError {
    pub what: String,
    pub snippet: String,
    /// Not broken but not finished yet (a sleep in progress): its day stays open, nothing is written.
    pub incomplete: bool,
}

fn snippet(v: &Value) -> String {
    let mut snippet = v.to_string();
    if snippet.len() > 200 {
        let mut end = 200;
        while !snippet.is_char_boundary(end) {
            end -= 1;
        }
        snippet.truncate(end);
    }
    snippet
}

pub fn missing(what: &str, v: &Value) -> ConvertError {
    ConvertError {
        what: what.to_string(),
        snippet: snippet(v),
        incomplete: false,
    }
}

/// A data point that is not finished yet (see [`ConvertError::incomplete`]).
pub fn incomplete(what: &str, v: &Value) -> ConvertError {
    ConvertError {
        incomplete: true,
        ..missing(what, v)
    }
}

/// The civil day a data point (or rollup window) belongs to, for attributing a point that cannot be
/// converted: its sample time, its interval's start (or end, for sessions that belong to the day they
/// end on), its date, or a rollup's civil start.
pub fn item_day(item: &Value, by_end: bool, tz: Tz) -> Option<NaiveDate> {
    let instant = |v: &Value, path: &str| {
        timestamp(v, path)
            .ok()
            .map(|t| t.with_timezone(&tz).date_naive())
    };
    if let Ok(d) = date(item, "civilStartTime/date") {
        return Some(d);
    }
    let payload = item.as_object()?.iter().find_map(|(k, v)| {
        (k != "dataSource" && k != "name" && k != "dataPointName" && v.is_object()).then_some(v)
    })?;
    instant(payload, "sampleTime/physicalTime")
        .or_else(|| {
            instant(
                payload,
                if by_end {
                    "interval/endTime"
                } else {
                    "interval/startTime"
                },
            )
        })
        .or_else(|| date(payload, "date").ok())
}

/// How a point is named in a warning: its resource name, else its payload and time
/// (`heartRate at 2026-12-01T08:08:00Z`), else the item itself, cut short.
pub fn item_name(item: &Value) -> String {
    if let Some(name) = item
        .get("name")
        .or_else(|| item.get("dataPointName"))
        .and_then(Value::as_str)
    {
        return name.to_string();
    }
    let payload = item.as_object().and_then(|o| {
        o.iter().find(|(k, v)| {
            *k != "dataSource" && *k != "name" && *k != "dataPointName" && v.is_object()
        })
    });
    if let Some((key, v)) = payload {
        let time = ["sampleTime/physicalTime", "interval/startTime"]
            .iter()
            .find_map(|p| at(v, p).and_then(Value::as_str).map(str::to_string))
            .or_else(|| date(v, "date").ok().map(|d| d.to_string()));
        if let Some(t) = time {
            return format!("{key} at {t}");
        }
    }
    snippet(item)
}

/// The value at a `/`-separated path.
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(v, |v, k| v.get(k))
}

pub fn int64(v: &Value, path: &str) -> Result<i64, ConvertError> {
    opt_int64(v, path).ok_or_else(|| missing(path, v))
}

/// An int64 that may be absent; present but unreadable is an error (never a 0).
pub fn try_int64(v: &Value, path: &str) -> Result<Option<i64>, ConvertError> {
    match at(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| missing(&format!("{path} (not an integer: {s:?})"), v)),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.round() as i64)
            })
            .map(Some)
            .ok_or_else(|| missing(&format!("{path} (not an integer)"), v)),
        Some(_) => Err(missing(&format!("{path} (not an integer)"), v)),
    }
}

pub fn opt_int64(v: &Value, path: &str) -> Option<i64> {
    try_int64(v, path).ok().flatten()
}

/// A double that may be absent. proto3 JSON spells non-finite doubles `"NaN"`, `"Infinity"` and
/// `"-Infinity"`: those mean "no value" and come back as `Ok(None)`, so the field is left out. Anything
/// else that is not a number is an error: the point is unreadable, never a NaN or a 0.
pub fn try_double(v: &Value, path: &str) -> Result<Option<f64>, ConvertError> {
    match at(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => match s.trim() {
            "NaN" | "Infinity" | "-Infinity" => Ok(None),
            t => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| missing(&format!("{path} (not a number: {s:?})"), v)),
        },
        Some(_) => Err(missing(&format!("{path} (not a number)"), v)),
    }
}

/// [`try_double`] for optional fields whose absence is normal.
pub fn opt_double(v: &Value, path: &str) -> Result<Option<f64>, ConvertError> {
    try_double(v, path)
}

/// A double that must be there: absent is an error; a proto3 non-finite spelling is "no value".
pub fn double(v: &Value, path: &str) -> Result<Option<f64>, ConvertError> {
    match at(v, path) {
        None | Some(Value::Null) => Err(missing(path, v)),
        Some(_) => try_double(v, path),
    }
}

pub fn opt_bool(v: &Value, path: &str) -> Option<bool> {
    at(v, path)?.as_bool()
}

pub fn opt_str<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path)?.as_str().filter(|s| !s.is_empty())
}

pub fn timestamp(v: &Value, path: &str) -> Result<DateTime<Utc>, ConvertError> {
    at(v, path)
        .and_then(Value::as_str)
        .and_then(timestamp_of)
        .ok_or_else(|| missing(path, v))
}

/// An RFC 3339 timestamp (`google.protobuf.Timestamp` in JSON) as UTC.
pub fn timestamp_of(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A `google.type.Date` object.
pub fn date(v: &Value, path: &str) -> Result<NaiveDate, ConvertError> {
    let d = at(v, path).ok_or_else(|| missing(path, v))?;
    let part = |k: &str| d.get(k).and_then(Value::as_i64);
    match (part("year"), part("month"), part("day")) {
        (Some(y), Some(m), Some(day)) => NaiveDate::from_ymd_opt(y as i32, m as u32, day as u32),
        _ => None,
    }
    .ok_or_else(|| missing(path, v))
}

/// The start of a civil day in the user's time zone, as a UTC instant. Daily values are stamped with
/// it, so that a `GROUP BY time(1d)` in the same zone puts each value on its own day.
/// The wall-clock time of `t` in `tz` as minutes from the local midnight that starts `day`: 23:15 the
/// evening before is -45, 07:00 is 420. Counted on the clock, not in elapsed time, so a night across a
/// DST change still reads as the times a person saw (rounded down to the minute).
pub fn clock_minutes(day: NaiveDate, t: DateTime<Utc>, tz: Tz) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    (t.with_timezone(&tz).naive_local() - midnight)
        .num_seconds()
        .div_euclid(60)
}

pub fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&naive)
        .earliest()
        // A zone whose clocks skip midnight: the first instant of the day.
        .or_else(|| {
            tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_numbers() {
        let v = json!({"a": "100", "b": 100, "c": "NaN", "d": 64.2, "e": "x"});
        assert_eq!(int64(&v, "a"), Ok(100));
        assert_eq!(int64(&v, "b"), Ok(100));
        assert!(int64(&v, "e").is_err());
        assert_eq!(opt_double(&v, "c"), Ok(None), "proto3 NaN is no value");
        assert_eq!(opt_double(&v, "d"), Ok(Some(64.2)));
        assert_eq!(opt_double(&v, "a"), Ok(Some(100.0)));
        assert_eq!(opt_double(&v, "zz"), Ok(None));
        assert!(
            opt_double(&v, "e").is_err(),
            "a non-number string is unreadable, not NaN"
        );
        assert!(double(&v, "zz").is_err());
        assert!(try_int64(&v, "e").is_err());
        assert_eq!(try_int64(&v, "zz"), Ok(None));
    }

    #[test]
    fn clock_minutes_count_on_the_clock() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(); // clocks go back at 03:00
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 23:15 summer time the evening before, 07:00 winter time: 8 h 45 min on the clock.
        assert_eq!(clock_minutes(day, at("2026-10-24T21:15:00Z"), tz), -45);
        assert_eq!(clock_minutes(day, at("2026-10-25T06:00:00Z"), tz), 420);
        assert_eq!(clock_minutes(day, at("2026-10-24T21:59:30Z"), tz), -1);
    }

    #[test]
    fn local_midnight_follows_dst() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let summer = local_midnight(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(), tz);
        let winter = local_midnight(NaiveDate::from_ymd_opt(2026, 10, 26).unwrap(), tz);
        assert_eq!(summer.to_rfc3339(), "2026-10-24T22:00:00+00:00");
        assert_eq!(winter.to_rfc3339(), "2026-10-25T23:00:00+00:00");
    }
}
