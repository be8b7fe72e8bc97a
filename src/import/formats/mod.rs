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
    DailyRestingHeartRateCsv,
    OxygenSaturationCsv,
    DailyOxygenSaturationCsv,
    HrvCsv,
    DailyHrvCsv,
    DailyRespiratoryRateCsv,
    SleepTemperatureCsv,
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
    /// `stem.ext`, the whole history, or `stem_YYYY-MM-DD.ext` where an export shards it.
    Stem(&'static str, &'static str),
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
    // The `Physical Activity_GoogleData` families of the "Google Health" exports (2026), read when
    // the archive lacks the older file of the same metric.
    Spec {
        kind: Kind::DailyRestingHeartRateCsv,
        name: "resting heart rate (CSV)",
        file: FileName::Stem("daily_resting_heart_rate", "csv"),
        unless: Some(Kind::RestingHeartRateJson),
        covers: Some((
            "daily-resting-heart-rate",
            &crate::catalog::RESTING_HEART_RATE,
        )),
        reader: Reader::Table(&tables::DAILY_RESTING_HEART_RATE),
    },
    Spec {
        kind: Kind::OxygenSaturationCsv,
        name: "SpO2 samples (CSV)",
        file: FileName::Dated("oxygen_saturation", '_', "csv"),
        unless: Some(Kind::MinuteSpo2Csv),
        covers: Some(("spo2", &crate::catalog::SPO2)),
        reader: Reader::Table(&tables::OXYGEN_SATURATION),
    },
    Spec {
        kind: Kind::DailyOxygenSaturationCsv,
        name: "SpO2 per night (daily CSV)",
        file: FileName::Stem("daily_oxygen_saturation", "csv"),
        unless: Some(Kind::DailySpo2Csv),
        covers: Some(("spo2-daily", &crate::catalog::SPO2_DAILY)),
        reader: Reader::Table(&tables::DAILY_OXYGEN_SATURATION),
    },
    Spec {
        kind: Kind::HrvCsv,
        name: "HRV samples (CSV)",
        file: FileName::Dated("heart_rate_variability", '_', "csv"),
        unless: Some(Kind::HrvDetailsCsv),
        covers: Some(("hrv", &crate::catalog::HRV)),
        reader: Reader::Table(&tables::HEART_RATE_VARIABILITY),
    },
    Spec {
        kind: Kind::DailyHrvCsv,
        name: "HRV per night (daily CSV)",
        file: FileName::Stem("daily_heart_rate_variability", "csv"),
        unless: Some(Kind::HrvSummaryCsv),
        covers: Some(("hrv-daily", &crate::catalog::HRV_DAILY)),
        reader: Reader::Table(&tables::DAILY_HEART_RATE_VARIABILITY),
    },
    Spec {
        kind: Kind::DailyRespiratoryRateCsv,
        name: "breathing rate per night (daily CSV)",
        file: FileName::Stem("daily_respiratory_rate", "csv"),
        unless: Some(Kind::RespiratoryRateCsv),
        covers: Some((
            "respiratory-rate-daily",
            &crate::catalog::RESPIRATORY_RATE_DAILY,
        )),
        reader: Reader::Table(&tables::DAILY_RESPIRATORY_RATE),
    },
    Spec {
        kind: Kind::SleepTemperatureCsv,
        name: "skin temperature per night (daily CSV)",
        file: FileName::Stem("daily_sleep_temperature_derivations", "csv"),
        unless: Some(Kind::ComputedTemperatureCsv),
        covers: Some(("sleep-temperature", &crate::catalog::SLEEP_TEMPERATURE)),
        reader: Reader::Table(&tables::DAILY_SLEEP_TEMPERATURE),
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
            FileName::Stem(stem, ext) => {
                base.strip_prefix(stem)
                    .and_then(|r| r.strip_suffix(ext))
                    .and_then(|r| r.strip_suffix('.'))
                    == Some("")
                    || dated(base, stem, '_', ext).is_some()
            }
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
    /// How many of them could not be read (the others hold no value: a sensor's floor, a day
    /// without a score). A file with unreadable records does not cover its days: the API may have
    /// what they held.
    pub unreadable: usize,
    /// Where the first of them is.
    pub first_unreadable: Option<String>,
}

impl Parsed {
    /// A record that cannot be read.
    fn skip(&mut self, at: String, why: impl Into<String>) {
        self.unreadable += 1;
        self.first_unreadable.get_or_insert_with(|| at.clone());
        self.skipped.push((at, why.into()));
    }

    /// A record that is read but holds no value to write.
    fn pass(&mut self, at: String, why: impl Into<String>) {
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
    let mut parsed = match kind.spec().reader {
        Reader::Samples(f) => json_samples(text, cx, f),
        Reader::Records(f) => json_records(text, cx, f),
        Reader::Table(t) => t.read(text, cx),
        Reader::Whole(f) => f(text, cx),
    }?;
    // Rows keyed at the Unix epoch (or a two-digit year read as 1970…2008) are placeholders, not
    // data: nothing was recorded before Fitbit's first trackers (reference §0 rule 10).
    let first = FIRST_DATA.timestamp_nanos_opt().unwrap_or(i64::MIN);
    if parsed.points.iter().any(|p| p.time_ns < first) {
        let (kept, early): (Vec<Point>, Vec<Point>) =
            parsed.points.into_iter().partition(|p| p.time_ns >= first);
        parsed.points = kept;
        for p in early {
            let at = DateTime::from_timestamp_nanos(p.time_ns);
            parsed.pass(
                format!("{} at {at}", p.measurement),
                "dated before 2009: a placeholder",
            );
        }
    }
    Ok(parsed)
}

/// Nothing real is older: Fitbit's first tracker shipped in late 2009.
const FIRST_DATA: DateTime<Utc> = DateTime::from_timestamp_nanos(1_230_768_000_000_000_000);

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
mod tests;
