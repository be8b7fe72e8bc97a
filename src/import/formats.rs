//! The file kinds this importer reads, told apart by file name (never by folder: folders were renamed
//! and nested differently in each generation, reference fitbit-takeout.md §0 rule 1), and how each
//! becomes the same points the API sync writes. Time zones per kind follow §2.16: classic JSON heart
//! rate and steps are UTC, resting heart rate a local date, sleep local wall-clock times; the new CSVs
//! are UTC (`…Z`).

use crate::catalog::{self, read::local_midnight};
use crate::point::Point;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::Value;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `heart_rate-YYYY-MM-DD.json`: one local day of samples, UTC timestamps.
    HeartRateJson,
    /// `heart_rate_YYYY-MM-DD.csv` (Physical Activity_GoogleData): one UTC day; used only when the
    /// archive has no heart-rate JSON (one canonical source per metric).
    HeartRateCsv,
    /// `steps-YYYY-MM-DD.json`: about 30 days of per-minute steps, UTC.
    StepsJson,
    /// `resting_heart_rate-YYYY-MM-DD.json`: a year of daily values (placeholders skipped).
    RestingHeartRateJson,
    /// `sleep-YYYY-MM-DD.json`: about 30 days of sessions with stages, local times.
    SleepJson,
    /// `sleep_score.csv`: the sleep scores the API does not offer.
    SleepScoreCsv,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::HeartRateJson => "heart rate (JSON)",
            Kind::HeartRateCsv => "heart rate (CSV)",
            Kind::StepsJson => "steps (JSON)",
            Kind::RestingHeartRateJson => "resting heart rate (JSON)",
            Kind::SleepJson => "sleep (JSON)",
            Kind::SleepScoreCsv => "sleep score (CSV)",
        }
    }
}

/// `stem` + `sep` + a date + `.ext` → the date.
fn dated(base: &str, stem: &str, sep: char, ext: &str) -> Option<NaiveDate> {
    let rest = base.strip_prefix(stem)?.strip_prefix(sep)?;
    let date = rest.strip_suffix(ext)?.strip_suffix('.')?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// The kind of a file by its name; `None` for files this importer does not read (yet).
pub fn classify(base: &str) -> Option<Kind> {
    // Exact stems: `heart_rate` must not take `heart_rate_variability` or `daily_heart_rate_zones`.
    if dated(base, "heart_rate", '-', "json").is_some() {
        Some(Kind::HeartRateJson)
    } else if dated(base, "heart_rate", '_', "csv").is_some() {
        Some(Kind::HeartRateCsv)
    } else if dated(base, "steps", '-', "json").is_some() {
        Some(Kind::StepsJson)
    } else if dated(base, "resting_heart_rate", '-', "json").is_some() {
        Some(Kind::RestingHeartRateJson)
    } else if dated(base, "sleep", '-', "json").is_some() {
        Some(Kind::SleepJson)
    } else if base.eq_ignore_ascii_case("sleep_score.csv") {
        Some(Kind::SleepScoreCsv)
    } else {
        None
    }
}

/// A file read into points: what was written and what was skipped, with why.
#[derive(Debug, Default)]
pub struct Parsed {
    pub points: Vec<Point>,
    pub records: usize,
    /// Records skipped: (where, why), e.g. ("record 17", "bpm is not a number").
    pub skipped: Vec<(String, String)>,
}

impl Parsed {
    fn skip(&mut self, at: String, why: impl Into<String>) {
        self.skipped.push((at, why.into()));
    }
}

pub struct Context<'a> {
    pub user: &'a str,
    pub tz: Tz,
}

/// Reads one file of `kind`. `Err` when the file as a whole is unreadable (not JSON, no header):
/// nothing of it is written.
pub fn parse(kind: Kind, bytes: &[u8], cx: &Context) -> Result<Parsed, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim() == "no data" {
        return Ok(Parsed::default());
    }
    match kind {
        Kind::HeartRateJson => json_records(text, cx, heart_rate_json),
        Kind::StepsJson => json_records(text, cx, steps_json),
        Kind::RestingHeartRateJson => json_records(text, cx, resting_heart_rate_json),
        Kind::SleepJson => json_records(text, cx, sleep_json),
        Kind::HeartRateCsv => heart_rate_csv(text, cx),
        Kind::SleepScoreCsv => sleep_score_csv(text, cx),
    }
}

type RecordFn = fn(&Value, &Context) -> Result<Vec<Point>, String>;

fn json_records(text: &str, cx: &Context, f: RecordFn) -> Result<Parsed, String> {
    let records: Vec<Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON array of records: {e}"))?;
    let mut out = Parsed {
        records: records.len(),
        ..Parsed::default()
    };
    for (i, r) in records.iter().enumerate() {
        match f(r, cx) {
            Ok(p) => out.points.extend(p),
            Err(why) => out.skip(format!("record {}", i + 1), why),
        }
    }
    Ok(out)
}

/// `MM/DD/YY HH:MM:SS`, the classic JSON clock.
fn classic(v: &Value, key: &str) -> Result<NaiveDateTime, String> {
    let s = v
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no {key}"))?;
    NaiveDateTime::parse_from_str(s, "%m/%d/%y %H:%M:%S")
        .map_err(|_| format!("{key} {s:?} is not MM/DD/YY HH:MM:SS"))
}

/// A wall-clock time in `tz`: the earlier reading when the clock repeats, the first instant after
/// a gap when it skips.
fn local(t: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    tz.from_local_datetime(&t)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(t + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| t.and_utc(), |x| x.with_timezone(&Utc))
}

/// A number the archive spells as a JSON number or a string; -1, NaN and empty are "no value".
fn number(v: Option<&Value>) -> Option<f64> {
    let x = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (x.is_finite() && x != -1.0).then_some(x)
}

fn heart_rate_json(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
    let t = classic(r, "dateTime")?.and_utc();
    let bpm = r
        .pointer("/value/bpm")
        .and_then(Value::as_i64)
        .ok_or("value.bpm is not a whole number")?;
    Ok(vec![Point::new(catalog::HEART_RATE.name, t)
        .tag("user", cx.user)
        .int("bpm", bpm)])
}

fn steps_json(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
    let t = classic(r, "dateTime")?.and_utc();
    let n = number(r.get("value")).ok_or("value is not a number")?;
    // Minutes without steps are not written: the API lists minutes with steps only.
    if n == 0.0 {
        return Ok(Vec::new());
    }
    Ok(vec![Point::new(catalog::STEPS.name, t)
        .tag("user", cx.user)
        .int("count", n.round() as i64)])
}

fn resting_heart_rate_json(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
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

/// A session's local time as an instant not before `not_before`: in the hour the clocks repeat (the
/// autumn DST night) the later reading is taken when the earlier one would run backwards.
fn sleep_time(s: &str, tz: Tz, not_before: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, String> {
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| format!("{s:?} is not a local YYYY-MM-DDTHH:MM:SS.fff"))?;
    Ok(match tz.from_local_datetime(&t) {
        chrono::LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            if not_before.is_some_and(|n| a < n) {
                b
            } else {
                a
            }
        }
        _ => local(t, tz),
    })
}

/// A session as the API sync writes it: the point at the wake-up, the same fields, the stages (the
/// `shortData` wake segments overlap `data` and are left out; the API's stages do not overlap).
fn sleep_json(r: &Value, cx: &Context) -> Result<Vec<Point>, String> {
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

/// Rows of a CSV with a header, the header's names lower-cased with spaces and underscores removed.
fn csv_rows(text: &str) -> Result<(Vec<String>, csv::StringRecordsIntoIter<&[u8]>), String> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .map_err(|e| format!("no CSV header: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase().replace([' ', '_'], ""))
        .collect();
    Ok((header, r.into_records()))
}

/// A CSV row counted as a record, with where it is (`line N`, the header being line 1); a row the
/// parser cannot read is skipped and named.
fn counted_row(
    out: &mut Parsed,
    i: usize,
    row: csv::Result<csv::StringRecord>,
) -> Option<(String, csv::StringRecord)> {
    out.records += 1;
    let at = format!("line {}", i + 2);
    match row {
        Ok(r) => Some((at, r)),
        Err(e) => {
            out.skip(at, e.to_string());
            None
        }
    }
}

fn column(header: &[String], name: &str) -> Result<usize, String> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| format!("no column {name:?} in the header"))
}

fn utc(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Heart rate from the new CSV: one source per file (the one with most rows: a phone app's rows at
/// the same seconds as the watch's would otherwise count twice).
fn heart_rate_csv(text: &str, cx: &Context) -> Result<Parsed, String> {
    let (header, rows) = csv_rows(text)?;
    let (t, bpm) = (
        column(&header, "timestamp")?,
        column(&header, "beatsperminute")?,
    );
    let source = header.iter().position(|h| h == "datasource");
    let mut out = Parsed::default();
    let mut samples: Vec<(DateTime<Utc>, i64, String)> = Vec::new();
    for (i, row) in rows.enumerate() {
        let Some((at, row)) = counted_row(&mut out, i, row) else {
            continue;
        };
        let (Some(when), Some(value)) = (
            row.get(t).and_then(utc),
            number(row.get(bpm).map(|s| Value::String(s.into())).as_ref()),
        ) else {
            out.skip(at, "no timestamp or no beats per minute");
            continue;
        };
        let src = source.and_then(|s| row.get(s)).unwrap_or("").to_string();
        samples.push((when, value.round() as i64, src));
    }
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for (_, _, s) in &samples {
        *counts.entry(s.as_str()).or_default() += 1;
    }
    let main = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(s, _)| s.to_string());
    for (when, bpm, src) in &samples {
        if Some(src) == main.as_ref() {
            out.points.push(
                Point::new(catalog::HEART_RATE.name, *when)
                    .tag("user", cx.user)
                    .int("bpm", *bpm),
            );
        } else {
            out.skip(
                format!("{when}"),
                format!("another source ({src}) than the file's main one"),
            );
        }
    }
    Ok(out)
}

fn sleep_score_csv(text: &str, cx: &Context) -> Result<Parsed, String> {
    let (header, rows) = csv_rows(text)?;
    let t = column(&header, "timestamp")?;
    let fields: Vec<(usize, &'static str, bool)> = super::SLEEP_SCORE_COLUMNS
        .iter()
        .filter_map(|(col, field, int)| Some((header.iter().position(|h| h == col)?, *field, *int)))
        .collect();
    let mut out = Parsed::default();
    for (i, row) in rows.enumerate() {
        let Some((at, row)) = counted_row(&mut out, i, row) else {
            continue;
        };
        let Some(when) = row.get(t).and_then(utc) else {
            out.skip(at, "no timestamp");
            continue;
        };
        let mut p = Point::new(super::SLEEP_SCORE.name, when).tag("user", cx.user);
        for (c, name, int) in &fields {
            let v = number(row.get(*c).map(|s| Value::String(s.into())).as_ref());
            p = match (v, int) {
                (Some(v), true) => p.int(name, v.round() as i64),
                (Some(v), false) => p.float(name, v),
                (None, _) => p,
            };
        }
        if p.fields.is_empty() {
            out.skip(at, "no score");
        } else {
            out.points.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pick_exact_stems() {
        assert_eq!(
            classify("heart_rate-2023-06-15.json"),
            Some(Kind::HeartRateJson)
        );
        assert_eq!(
            classify("heart_rate_2024-10-27.csv"),
            Some(Kind::HeartRateCsv)
        );
        assert_eq!(classify("heart_rate_variability_2024-10-27.csv"), None);
        assert_eq!(
            classify("resting_heart_rate-2023-05-16.json"),
            Some(Kind::RestingHeartRateJson)
        );
        assert_eq!(classify("sleep-2023-06-01.json"), Some(Kind::SleepJson));
        assert_eq!(classify("sleep_score.csv"), Some(Kind::SleepScoreCsv));
        assert_eq!(classify("Sleep Profile.csv"), None);
    }

    #[test]
    fn resting_heart_rate_placeholders_and_local_dates() {
        let text = r#"[{
  "dateTime" : "05/16/17 00:00:00",
  "value" : {
    "date" : "05/16/17",
    "value" : 61.92847123718262,
    "error" : 7.104521751403809
  }
},{
  "dateTime" : "05/17/17 00:00:00",
  "value" : {
    "date" : null,
    "value" : 0.0,
    "error" : 0.0
  }
}]"#;
        let cx = Context {
            user: "me",
            tz: chrono_tz::Australia::Melbourne,
        };
        let p = parse(Kind::RestingHeartRateJson, text.as_bytes(), &cx).unwrap();
        assert_eq!((p.records, p.points.len(), p.skipped.len()), (2, 1, 0));
        assert_eq!(
            p.points[0].time_ns,
            local_midnight("2017-05-16".parse().unwrap(), cx.tz)
                .timestamp_nanos_opt()
                .unwrap()
        );
        assert_eq!(
            p.points[0].fields,
            vec![("bpm", crate::point::FieldValue::Int(62))]
        );
        assert!(
            parse(Kind::SleepJson, b"{oops", &cx).is_err(),
            "a broken file is an error, not an empty one"
        );
    }
}
