//! Reading the API's proto3 JSON tolerantly (reference §2): int64 arrives as a string but a number is
//! accepted too; doubles are numbers or `"NaN"`/`"Infinity"`; Durations are `"3600s"`; dates are
//! `{year, month, day}`. A missing required field is a [`ConvertError`]; unknown extra fields and enum
//! values are ignored.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable data point: {what} in {snippet}")]
pub struct ConvertError {
    pub what: String,
    pub snippet: String,
}

pub fn missing(what: &str, v: &Value) -> ConvertError {
    let mut snippet = v.to_string();
    snippet.truncate(200);
    ConvertError {
        what: what.to_string(),
        snippet,
    }
}

/// The value at a `/`-separated path.
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(v, |v, k| v.get(k))
}

pub fn int64(v: &Value, path: &str) -> Result<i64, ConvertError> {
    opt_int64(v, path).ok_or_else(|| missing(path, v))
}

pub fn opt_int64(v: &Value, path: &str) -> Option<i64> {
    match at(v, path)? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        _ => None,
    }
}

/// A double; `"NaN"` and other non-numbers come back as NaN, which the point module leaves out.
pub fn opt_double(v: &Value, path: &str) -> Option<f64> {
    match at(v, path)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().or(Some(f64::NAN)),
        _ => None,
    }
}

pub fn double(v: &Value, path: &str) -> Result<f64, ConvertError> {
    opt_double(v, path).ok_or_else(|| missing(path, v))
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
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| missing(path, v))
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
        assert!(opt_double(&v, "c").unwrap().is_nan());
        assert_eq!(opt_double(&v, "d"), Some(64.2));
        assert_eq!(opt_double(&v, "a"), Some(100.0));
        assert_eq!(opt_double(&v, "zz"), None);
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
