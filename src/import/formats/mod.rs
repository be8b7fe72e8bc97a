//! The file kinds this importer reads, told apart by file name (never by folder: folders were renamed
//! and nested differently in each generation, reference fitbit-takeout.md §0 rule 1), and how each
//! becomes the same points the API sync writes. Every kind is described once, in [`KINDS`]: its
//! name pattern, the kind it yields to when the archive has both (one canonical source per metric),
//! the sync's data type whose days it covers, and its reader. Time zones per kind follow §2.16.
//!
//! | module | reads |
//! |---|---|
//! | `classic` | the classic JSON arrays (heart rate, steps, resting heart rate, sleep, weight, exercise) |
//! | [`tables`] | the CSV files, most of them as a [`tables::Table`] description |

mod classic;
pub mod tables;

use crate::catalog::Measurement;
use crate::point::Point;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    HeartRateJson,
    HeartRateCsv,
    StepsJson,
    RestingHeartRateJson,
    SleepJson,
    SleepScoreCsv,
    WeightJson,
    WeightCsv,
    ExerciseJson,
    MinuteSpo2Csv,
    DailySpo2Csv,
    HrvDetailsCsv,
    HrvSummaryCsv,
    RespiratoryRateCsv,
    ComputedTemperatureCsv,
    StressScoreCsv,
    ReadinessCsv,
}

/// How a kind's files are named (the base name, without folders).
enum FileName {
    /// `stem` + `sep` + `YYYY-MM-DD` + `.ext`.
    Dated(&'static str, char, &'static str),
    /// `stem-N.ext` with a record offset N (`exercise-100.json`).
    Numbered(&'static str, &'static str),
    /// Starts with the text and ends with `.ext` (dates in the rest are quirky: `2024-07-(21)`).
    Prefixed(&'static str, &'static str),
    /// Exactly this name, any case.
    Exact(&'static str),
}

enum Reader {
    /// A JSON array of a dense series: each record decoded on its own into a typed struct that
    /// borrows from the file's text (no JSON tree), so a bad record is skipped, not the file.
    Samples(SampleFn),
    /// A JSON array whose records each become points.
    Records(RecordFn),
    /// A CSV described as a table.
    Table(&'static tables::Table),
    /// A file read as a whole.
    Whole(fn(&str, &Context) -> Result<Parsed, String>),
}

type RecordFn = fn(&Value, &Context) -> Result<Vec<Point>, String>;
type SampleFn = fn(&str, &Context) -> Result<Option<Point>, String>;

/// One kind of file, described once.
pub struct Spec {
    pub kind: Kind,
    /// For the summary.
    pub name: &'static str,
    file: FileName,
    /// Read only when the archive has no file of that kind: the same metric twice would be written
    /// twice (reference §0 rule 5).
    pub unless: Option<Kind>,
    /// The sync's data type this kind fills, and the measurement whose points' local dates are the
    /// days it covers: the backfill does not fetch them again (the coverage's imported days).
    pub covers: Option<(&'static str, &'static Measurement)>,
    reader: Reader,
}

pub static KINDS: &[Spec] = &[
    Spec {
        kind: Kind::HeartRateJson,
        name: "heart rate (JSON)",
        file: FileName::Dated("heart_rate", '-', "json"),
        unless: None,
        covers: Some(("heart-rate", &crate::catalog::HEART_RATE)),
        reader: Reader::Samples(classic::heart_rate),
    },
    Spec {
        kind: Kind::HeartRateCsv,
        name: "heart rate (CSV)",
        file: FileName::Dated("heart_rate", '_', "csv"),
        unless: Some(Kind::HeartRateJson),
        covers: Some(("heart-rate", &crate::catalog::HEART_RATE)),
        reader: Reader::Whole(tables::heart_rate),
    },
    Spec {
        kind: Kind::StepsJson,
        name: "steps (JSON)",
        file: FileName::Dated("steps", '-', "json"),
        unless: None,
        covers: Some(("steps", &crate::catalog::STEPS)),
        reader: Reader::Samples(classic::steps),
    },
    Spec {
        kind: Kind::RestingHeartRateJson,
        name: "resting heart rate (JSON)",
        file: FileName::Dated("resting_heart_rate", '-', "json"),
        unless: None,
        covers: Some((
            "daily-resting-heart-rate",
            &crate::catalog::RESTING_HEART_RATE,
        )),
        reader: Reader::Records(classic::resting_heart_rate),
    },
    Spec {
        kind: Kind::SleepJson,
        name: "sleep (JSON)",
        file: FileName::Dated("sleep", '-', "json"),
        unless: None,
        covers: Some(("sleep", &crate::catalog::SLEEP)),
        reader: Reader::Records(classic::sleep),
    },
    Spec {
        kind: Kind::SleepScoreCsv,
        name: "sleep score (CSV)",
        file: FileName::Exact("sleep_score.csv"),
        unless: None,
        covers: None,
        reader: Reader::Table(&tables::SLEEP_SCORE),
    },
    Spec {
        kind: Kind::WeightJson,
        name: "weight (JSON)",
        file: FileName::Dated("weight", '-', "json"),
        unless: None,
        covers: Some(("weight", &crate::catalog::WEIGHT)),
        reader: Reader::Records(classic::weight),
    },
    Spec {
        kind: Kind::WeightCsv,
        name: "weight (CSV)",
        file: FileName::Exact("weight.csv"),
        unless: Some(Kind::WeightJson),
        covers: Some(("weight", &crate::catalog::WEIGHT)),
        reader: Reader::Table(&tables::WEIGHT),
    },
    Spec {
        kind: Kind::ExerciseJson,
        name: "exercise (JSON)",
        file: FileName::Numbered("exercise", "json"),
        unless: None,
        covers: Some(("exercise", &crate::catalog::EXERCISE)),
        reader: Reader::Records(classic::exercise),
    },
    Spec {
        kind: Kind::MinuteSpo2Csv,
        name: "SpO2 per minute (CSV)",
        file: FileName::Dated("Minute SpO2 -", ' ', "csv"),
        unless: None,
        covers: Some(("spo2", &crate::catalog::SPO2)),
        reader: Reader::Table(&tables::MINUTE_SPO2),
    },
    Spec {
        kind: Kind::DailySpo2Csv,
        name: "SpO2 per night (CSV)",
        file: FileName::Prefixed("Daily SpO2 - ", "csv"),
        unless: None,
        covers: Some(("spo2-daily", &crate::catalog::SPO2_DAILY)),
        reader: Reader::Table(&tables::DAILY_SPO2),
    },
    Spec {
        kind: Kind::HrvDetailsCsv,
        name: "HRV details (CSV)",
        file: FileName::Dated("Heart Rate Variability Details -", ' ', "csv"),
        unless: None,
        covers: Some(("hrv", &crate::catalog::HRV)),
        reader: Reader::Table(&tables::HRV_DETAILS),
    },
    Spec {
        kind: Kind::HrvSummaryCsv,
        name: "HRV per night (CSV)",
        file: FileName::Prefixed("Daily Heart Rate Variability Summary - ", "csv"),
        unless: None,
        covers: Some(("hrv-daily", &crate::catalog::HRV_DAILY)),
        reader: Reader::Table(&tables::HRV_SUMMARY),
    },
    Spec {
        kind: Kind::RespiratoryRateCsv,
        name: "breathing rate per night (CSV)",
        file: FileName::Prefixed("Daily Respiratory Rate Summary - ", "csv"),
        unless: None,
        covers: Some((
            "respiratory-rate-daily",
            &crate::catalog::RESPIRATORY_RATE_DAILY,
        )),
        reader: Reader::Table(&tables::RESPIRATORY_RATE),
    },
    Spec {
        kind: Kind::ComputedTemperatureCsv,
        name: "skin temperature per night (CSV)",
        file: FileName::Prefixed("Computed Temperature - ", "csv"),
        unless: None,
        covers: Some(("sleep-temperature", &crate::catalog::SLEEP_TEMPERATURE)),
        reader: Reader::Table(&tables::COMPUTED_TEMPERATURE),
    },
    Spec {
        kind: Kind::StressScoreCsv,
        name: "stress score (CSV)",
        file: FileName::Exact("Stress Score.csv"),
        unless: None,
        covers: None,
        reader: Reader::Table(&tables::STRESS_SCORE),
    },
    Spec {
        kind: Kind::ReadinessCsv,
        name: "readiness score (CSV)",
        file: FileName::Prefixed("Daily Readiness Score - ", "csv"),
        unless: None,
        covers: None,
        reader: Reader::Table(&tables::READINESS),
    },
];

impl Kind {
    pub fn spec(self) -> &'static Spec {
        KINDS
            .iter()
            .find(|s| s.kind == self)
            .expect("every kind is described in KINDS")
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

/// `stem` + `sep` + a date + `.ext` → the date.
fn dated(base: &str, stem: &str, sep: char, ext: &str) -> Option<NaiveDate> {
    let rest = base.strip_prefix(stem)?.strip_prefix(sep)?;
    let date = rest.strip_suffix(ext)?.strip_suffix('.')?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

impl FileName {
    fn matches(&self, base: &str) -> bool {
        match *self {
            FileName::Dated(stem, sep, ext) => dated(base, stem, sep, ext).is_some(),
            FileName::Numbered(stem, ext) => base
                .strip_prefix(stem)
                .and_then(|r| r.strip_prefix('-'))
                .and_then(|r| r.strip_suffix(ext))
                .and_then(|r| r.strip_suffix('.'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
            FileName::Prefixed(prefix, ext) => {
                base.starts_with(prefix)
                    && base
                        .rsplit_once('.')
                        .is_some_and(|(_, e)| e.eq_ignore_ascii_case(ext))
            }
            FileName::Exact(name) => base.eq_ignore_ascii_case(name),
        }
    }
}

/// The kind of a file by its name; `None` for files this importer does not read (yet).
pub fn classify(base: &str) -> Option<Kind> {
    // Exact stems: `heart_rate` must not take `heart_rate_variability` or `daily_heart_rate_zones`.
    KINDS.iter().find(|s| s.file.matches(base)).map(|s| s.kind)
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
    match kind.spec().reader {
        Reader::Samples(f) => json_samples(text, cx, f),
        Reader::Records(f) => json_records(text, cx, f),
        Reader::Table(t) => t.read(text, cx),
        Reader::Whole(f) => f(text, cx),
    }
}

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

fn json_samples(text: &str, cx: &Context, f: SampleFn) -> Result<Parsed, String> {
    let records: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON array of records: {e}"))?;
    let mut out = Parsed {
        records: records.len(),
        points: Vec::with_capacity(records.len()),
        ..Parsed::default()
    };
    for (i, r) in records.iter().enumerate() {
        match f(r.get(), cx) {
            Ok(p) => out.points.extend(p),
            Err(why) => out.skip(format!("record {}", i + 1), why),
        }
    }
    Ok(out)
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

/// A wall-clock time in `tz` read in time order: in the hour the clocks repeat (the autumn DST
/// night) the later reading is taken when the earlier one would run backwards from `not_before`,
/// the previous time read from the same file or session.
fn wall(t: NaiveDateTime, tz: Tz, not_before: Option<DateTime<Utc>>) -> DateTime<Utc> {
    match tz.from_local_datetime(&t) {
        chrono::LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            if not_before.is_some_and(|n| a < n) {
                b
            } else {
                a
            }
        }
        _ => local(t, tz),
    }
}

/// A number the archive spells as a JSON number or a string; -1, NaN and empty are "no value".
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite() && *x != -1.0),
        Value::String(s) => text_number(s),
        _ => None,
    }
}

/// A number in text; -1, NaN and empty are "no value".
fn text_number(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x != -1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::read::local_midnight;
    use crate::point::FieldValue;

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
        assert_eq!(classify("exercise-100.json"), Some(Kind::ExerciseJson));
        assert_eq!(classify("exercise-.json"), None);
        assert_eq!(
            classify("Daily Heart Rate Variability Summary - 2024-07-(21).csv"),
            Some(Kind::HrvSummaryCsv)
        );
        assert_eq!(
            classify("Minute SpO2 - 2023-06-15.csv"),
            Some(Kind::MinuteSpo2Csv)
        );
        assert_eq!(
            classify("Daily SpO2 - 2023-10-09-2023-11-07.csv"),
            Some(Kind::DailySpo2Csv)
        );
        assert_eq!(classify("weight.csv"), Some(Kind::WeightCsv));
        assert_eq!(classify("weight-2023-06-01.json"), Some(Kind::WeightJson));
        for spec in KINDS {
            assert_eq!(spec.kind.spec().name, spec.name, "one description per kind");
        }
    }

    fn cx() -> Context<'static> {
        Context {
            user: "me",
            tz: chrono_tz::Australia::Melbourne,
        }
    }

    #[test]
    fn a_bad_sample_is_skipped_by_number_and_the_rest_lands() {
        let text = r#"[{
  "dateTime" : "06/14/23 14:00:03",
  "value" : {
    "bpm" : 61,
    "confidence" : 2
  }
},{
  "dateTime" : "06/14/23 14:00:08",
  "value" : {
    "bpm" : "sixty",
    "confidence" : 3
  }
},{
  "dateTime" : "06/15/23 13:59:55",
  "value" : {
    "bpm" : 64,
    "confidence" : 1
  }
}]"#;
        let p = parse(Kind::HeartRateJson, text.as_bytes(), &cx()).unwrap();
        assert_eq!((p.records, p.points.len()), (3, 2));
        assert_eq!(p.skipped[0].0, "record 2");
        assert_eq!(
            DateTime::from_timestamp_nanos(p.points[1].time_ns).to_rfc3339(),
            "2023-06-15T13:59:55+00:00",
            "UTC clocks"
        );
        let steps = r#"[{"dateTime" : "05/31/23 14:00:00", "value" : "0"},{"dateTime" : "05/31/23 14:01:00", "value" : "23"}]"#;
        let p = parse(Kind::StepsJson, steps.as_bytes(), &cx()).unwrap();
        assert_eq!(p.points.len(), 1, "a minute without steps is not a point");
        assert_eq!(p.points[0].fields, vec![("count", FieldValue::Int(23))]);
    }

    #[test]
    fn weight_in_pounds_or_kilograms_by_its_bmi_and_local_clock() {
        let text = r#"[{
  "logId" : 1561626912000,
  "weight" : 191.4,
  "bmi" : 27.71,
  "fat" : 23.148000717163086,
  "date" : "06/27/19",
  "time" : "09:15:12",
  "source" : "Aria"
},{
  "logId" : 1562111999000,
  "weight" : 86.8,
  "bmi" : 27.71,
  "date" : "07/02/19",
  "time" : "23:59:59"
}]"#;
        let p = parse(Kind::WeightJson, text.as_bytes(), &cx()).unwrap();
        assert_eq!(p.points.len(), 3, "two weights and one body fat");
        let kg = |i: usize| match p.points[i].fields[0].1 {
            FieldValue::Float(x) => x,
            ref other => panic!("{other:?}"),
        };
        assert!((kg(0) - 86.818).abs() < 0.001, "191.4 lb: {}", kg(0));
        assert_eq!(p.points[1].measurement, "body_fat");
        assert!((kg(2) - 86.8).abs() < 1e-9, "already kilograms: {}", kg(2));
        // 09:15:12 in Melbourne in June (AEST, UTC+10).
        assert_eq!(
            DateTime::from_timestamp_nanos(p.points[0].time_ns).to_rfc3339(),
            "2019-06-26T23:15:12+00:00"
        );
    }

    #[test]
    fn tables_skip_the_spo2_floor_and_scoreless_days_by_name() {
        let spo2 = "timestamp,value\n2024-02-22T07:00:00Z,95.3\n2024-02-22T07:01:00Z,50.0\n2024-02-22T07:02:00Z,NaN\n";
        let p = parse(Kind::MinuteSpo2Csv, spo2.as_bytes(), &cx()).unwrap();
        assert_eq!((p.records, p.points.len()), (3, 1));
        assert_eq!(p.skipped[0].0, "line 3");
        assert!(p.skipped[0].1.contains("floor"), "{:?}", p.skipped);
        assert_eq!(p.skipped[1].1, "no values");
        let stress = "DATE,UPDATED_AT,STRESS_SCORE,SLEEP_POINTS,MAX_SLEEP_POINTS,RESPONSIVENESS_POINTS,MAX_RESPONSIVENESS_POINTS,EXERTION_POINTS,MAX_EXERTION_POINTS,STATUS,CALCULATION_FAILED\n2024-01-12T00:00:00,2024-01-12T17:07:49.634,79,24,30,22,30,33,40,READY,false\n2024-01-11T00:00:00,2024-01-11T07:23:52.009,0,0,0,0,0,0,0,NO_DATA,true\n";
        let p = parse(Kind::StressScoreCsv, stress.as_bytes(), &cx()).unwrap();
        assert_eq!(p.points.len(), 1);
        assert_eq!(
            p.points[0].time_ns,
            local_midnight("2024-01-12".parse().unwrap(), cx().tz)
                .timestamp_nanos_opt()
                .unwrap()
        );
        assert!(p.points[0].fields.contains(&("score", FieldValue::Int(79))));
        assert!(p.points[0]
            .fields
            .contains(&("status", FieldValue::Str("ready".into()))));
        assert!(p.skipped[0].1.contains("NO_DATA"), "{:?}", p.skipped);
        assert!(
            parse(Kind::HrvDetailsCsv, b"time,other\n1,2\n", &cx()).is_err(),
            "a header without the kind's columns is an error"
        );
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
