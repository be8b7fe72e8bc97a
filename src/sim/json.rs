//! Proto3 JSON exactly as the Google Health API sends it (reference §2): int64 as strings, doubles as
//! numbers (an integral double has no `.0`), Durations as `"3600s"`, Timestamps as RFC 3339 with `Z`,
//! dates as `{year, month, day}`, times of day with zero fields left out (midnight is `"time": {}`).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use serde_json::{json, Map, Value};

pub fn int64(v: i64) -> Value {
    Value::String(v.to_string())
}

/// A double the way Google's JSON encoder prints it: `72350`, `64.2`, `"NaN"`.
pub fn double(v: f64) -> Value {
    if v.is_nan() {
        Value::String("NaN".into())
    } else if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

pub fn duration(seconds: i64) -> Value {
    Value::String(format!("{seconds}s"))
}

pub fn timestamp(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub fn date(d: NaiveDate) -> Value {
    json!({"year": d.year(), "month": d.month(), "day": d.day()})
}

pub fn time_of_day(t: chrono::NaiveTime) -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("hours", t.hour()),
        ("minutes", t.minute()),
        ("seconds", t.second()),
    ] {
        if v != 0 {
            m.insert(k.into(), Value::from(v));
        }
    }
    Value::Object(m)
}

pub fn civil(dt: NaiveDateTime) -> Value {
    json!({"date": date(dt.date()), "time": time_of_day(dt.time())})
}

/// [`timestamp`] as text into `out` (seconds precision plus fraction when present), without quotes.
pub fn write_timestamp(out: &mut String, t: DateTime<Utc>) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    // 0, 3, 6 or 9 fraction digits, like `timestamp` (RFC 3339 as Google prints it).
    let nanos = t.nanosecond();
    if nanos == 0 {
    } else if nanos.is_multiple_of(1_000_000) {
        let _ = write!(out, ".{:03}", nanos / 1_000_000);
    } else if nanos.is_multiple_of(1_000) {
        let _ = write!(out, ".{:06}", nanos / 1_000);
    } else {
        let _ = write!(out, ".{nanos:09}");
    }
    out.push('Z');
}

/// [`civil`] as text into `out`.
pub fn write_civil(out: &mut String, dt: NaiveDateTime) {
    use std::fmt::Write;
    let _ = write!(
        out,
        r#"{{"date":{{"year":{},"month":{},"day":{}}},"time":{{"#,
        dt.year(),
        dt.month(),
        dt.day()
    );
    let mut first = true;
    for (k, v) in [
        ("hours", dt.hour()),
        ("minutes", dt.minute()),
        ("seconds", dt.second()),
    ] {
        if v != 0 {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, r#""{k}":{v}"#);
        }
    }
    out.push_str("}}");
}

/// Local wall time of `t` at a UTC offset.
pub fn local(t: DateTime<Utc>, offset_seconds: i32) -> NaiveDateTime {
    t.naive_utc() + chrono::Duration::seconds(offset_seconds as i64)
}

/// `ObservationTimeInterval` with the output-only civil fields.
pub fn interval(start: DateTime<Utc>, start_off: i32, end: DateTime<Utc>, end_off: i32) -> Value {
    json!({
        "startTime": timestamp(start), "startUtcOffset": duration(start_off as i64),
        "endTime": timestamp(end), "endUtcOffset": duration(end_off as i64),
        "civilStartTime": civil(local(start, start_off)),
        "civilEndTime": civil(local(end, end_off)),
    })
}

/// `SessionTimeInterval` as observed on sleep: no civil fields.
pub fn session_interval(
    start: DateTime<Utc>,
    start_off: i32,
    end: DateTime<Utc>,
    end_off: i32,
) -> Value {
    json!({
        "startTime": timestamp(start), "startUtcOffset": duration(start_off as i64),
        "endTime": timestamp(end), "endUtcOffset": duration(end_off as i64),
    })
}

/// `ObservationSampleTime`.
pub fn sample_time(t: DateTime<Utc>, off: i32) -> Value {
    json!({"physicalTime": timestamp(t), "utcOffset": duration(off as i64), "civilTime": civil(local(t, off))})
}

/// The `dataSource` object of a Fitbit-recorded point (`device` comes back empty for Fitbit).
pub fn data_source(recording_method: &str) -> Value {
    json!({"device": {}, "platform": "FITBIT", "recordingMethod": recording_method})
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn text_encodings_equal_the_value_encodings() {
        let t = Utc.with_ymd_and_hms(2026, 1, 8, 1, 55, 0).unwrap()
            + chrono::Duration::nanoseconds(661_487_000);
        let mut s = String::new();
        write_timestamp(&mut s, t);
        assert_eq!(Value::String(s), timestamp(t));
        for (h, m, sec) in [(0, 0, 0), (21, 54, 0), (0, 0, 7), (22, 25, 14)] {
            let dt = NaiveDate::from_ymd_opt(2026, 1, 7)
                .unwrap()
                .and_hms_opt(h, m, sec)
                .unwrap();
            let mut s = String::new();
            write_civil(&mut s, dt);
            assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), civil(dt));
        }
    }

    #[test]
    fn encodings_match_the_reference() {
        assert_eq!(int64(100), json!("100"));
        assert_eq!(double(72350.0), json!(72350));
        assert_eq!(double(64.2), json!(64.2));
        assert_eq!(double(f64::NAN), json!("NaN"));
        assert_eq!(duration(-14400), json!("-14400s"));
        let t = Utc.with_ymd_and_hms(2026, 1, 8, 1, 55, 0).unwrap();
        assert_eq!(timestamp(t), json!("2026-01-08T01:55:00Z"));
        let midnight = NaiveDate::from_ymd_opt(2026, 1, 7)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(
            civil(midnight),
            json!({"date": {"year": 2026, "month": 1, "day": 7}, "time": {}})
        );
        assert_eq!(
            interval(t - chrono::Duration::minutes(1), -14400, t, -14400)["civilStartTime"],
            json!({"date": {"year": 2026, "month": 1, "day": 7}, "time": {"hours": 21, "minutes": 54}})
        );
    }
}
