//! The archives' CSV files. Most are a timestamp and a few value columns, so each is described as a
//! [`Table`] — which column holds the time and what kind of time it is (reference §2.16), which
//! columns become which fields, which rows mean "no value" — and read by one function. The
//! heart-rate CSV, which needs a choice between sources, has its own reader.

use super::{text_number, wall, Context, Parsed};
use crate::catalog::{self, read::local_midnight, Measurement};
use crate::import::scores;
use crate::point::{FieldKind, Point};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::collections::BTreeMap;

/// What a table's time column means.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// ISO-8601 with `Z` or an offset: a true instant.
    Instant,
    /// ISO-8601 without an offset (seconds optional): the person's wall clock, rows in time order
    /// (which places the repeated hour of the autumn DST night).
    Wall,
    /// Its date part names a civil day: the point sits at that day's local midnight.
    Day,
}

/// One CSV kind: a header, a time column, value columns. Column names are compared normalised
/// (lower case, without spaces and underscores), as the archives spell them several ways.
pub struct Table {
    pub measurement: &'static Measurement,
    time: (&'static str, Clock),
    /// Archive column → field (its type from the measurement), and what a number is divided by
    /// (grams → kg: 1000, as the API sync divides, so the same grams give the same float).
    columns: &'static [(&'static str, &'static str, f64)],
    /// Rows whose column has one of these values hold no score: skipped, with the reason.
    reject: &'static [(&'static str, &'static str)],
    /// A value that is the sensor's floor, not a reading (Minute SpO2's 50.0): skipped.
    floor: Option<f64>,
    /// Fields where an exact 0 means "not measured" (Pixel Watch SDNN, a resting heart rate of 0):
    /// absent, never 0.
    zero_is_none: &'static [&'static str],
}

impl Table {
    /// A table without rejected rows, floors or zeros that mean "not measured".
    const fn of(
        measurement: &'static Measurement,
        time: (&'static str, Clock),
        columns: &'static [(&'static str, &'static str, f64)],
    ) -> Table {
        Table {
            measurement,
            time,
            columns,
            reject: &[],
            floor: None,
            zero_is_none: &[],
        }
    }
}

pub static SLEEP_SCORE: Table = Table::of(
    &scores::SLEEP_SCORE,
    ("timestamp", Clock::Instant),
    &[
        ("overallscore", "overall", 1.0),
        ("compositionscore", "composition", 1.0),
        ("revitalizationscore", "revitalization", 1.0),
        ("durationscore", "duration", 1.0),
        ("deepsleepinminutes", "deep_sleep_min", 1.0),
        ("restingheartrate", "resting_hr", 1.0),
        ("restlessness", "restlessness", 1.0),
    ],
);

/// `weight.csv` (generation D): grams, UTC.
pub static WEIGHT: Table = Table::of(
    &catalog::WEIGHT,
    ("timestamp", Clock::Instant),
    &[("weightgrams", "kg", 1000.0)],
);

/// `Minute SpO2 - YYYY-MM-DD.csv`: UTC; about 15 % of rows are exactly 50.0, the floor of
/// invalid readings (reference §2.10).
pub static MINUTE_SPO2: Table = Table {
    floor: Some(50.0),
    ..Table::of(
        &catalog::SPO2,
        ("timestamp", Clock::Instant),
        &[("value", "pct", 1.0)],
    )
};

/// `Daily SpO2 - <start>-<end>.csv`: the date part is the night's (wake) date.
pub static DAILY_SPO2: Table = Table::of(
    &catalog::SPO2_DAILY,
    ("timestamp", Clock::Day),
    &[
        ("averagevalue", "avg_pct", 1.0),
        ("lowerbound", "min_pct", 1.0),
        ("upperbound", "max_pct", 1.0),
    ],
);

/// `Heart Rate Variability Details - YYYY-MM-DD.csv`: 5-minute RMSSD during sleep, local times.
pub static HRV_DETAILS: Table = Table::of(
    &catalog::HRV,
    ("timestamp", Clock::Wall),
    &[("rmssd", "rmssd_ms", 1.0)],
);

/// `Daily Heart Rate Variability Summary - YYYY-MM-(N).csv`: the night's HRV on its local date.
pub static HRV_SUMMARY: Table = Table::of(
    &catalog::HRV_DAILY,
    ("timestamp", Clock::Day),
    &[
        ("rmssd", "avg_ms", 1.0),
        ("nremhr", "non_rem_bpm", 1.0),
        ("entropy", "entropy", 1.0),
    ],
);

/// `Daily Respiratory Rate Summary - *.csv`: breaths per minute, local date.
pub static RESPIRATORY_RATE: Table = Table::of(
    &catalog::RESPIRATORY_RATE_DAILY,
    ("timestamp", Clock::Day),
    &[("dailyrespiratoryrate", "brpm", 1.0)],
);

/// `Computed Temperature - YYYY-MM-DD.csv`: one row per sleep, on the date it ends (local); the
/// baseline columns are relative sums, not the baseline itself, so only the nightly value is read.
pub static COMPUTED_TEMPERATURE: Table = Table::of(
    &catalog::SLEEP_TEMPERATURE,
    ("sleepend", Clock::Day),
    &[("nightlytemperature", "nightly_c", 1.0)],
);

/// `Stress Score.csv`: one row per day, the whole history.
pub static STRESS_SCORE: Table = Table {
    reject: &[("status", "NO_DATA"), ("calculationfailed", "true")],
    ..Table::of(
        &scores::STRESS_SCORE,
        ("date", Clock::Day),
        &[
            ("stressscore", "score", 1.0),
            ("sleeppoints", "sleep_points", 1.0),
            ("maxsleeppoints", "max_sleep_points", 1.0),
            ("responsivenesspoints", "responsiveness_points", 1.0),
            ("maxresponsivenesspoints", "max_responsiveness_points", 1.0),
            ("exertionpoints", "exertion_points", 1.0),
            ("maxexertionpoints", "max_exertion_points", 1.0),
            ("status", "status", 1.0),
        ],
    )
};

/// `Daily Readiness Score - YYYY-MM-01.csv`: a month of days.
pub static READINESS: Table = Table::of(
    &scores::READINESS,
    ("date", Clock::Day),
    &[
        ("readinessscorevalue", "score", 1.0),
        ("readinessstate", "state", 1.0),
        ("activitysubcomponent", "activity_subcomponent", 1.0),
        ("sleepsubcomponent", "sleep_subcomponent", 1.0),
        ("hrvsubcomponent", "hrv_subcomponent", 1.0),
    ],
);

/// `daily_resting_heart_rate.csv`: `T00:00:00Z` labels the local date, it is not an instant
/// (reference §2.6); zero rows occur.
pub static DAILY_RESTING_HEART_RATE: Table = Table {
    zero_is_none: &["bpm"],
    ..Table::of(
        &catalog::RESTING_HEART_RATE,
        ("timestamp", Clock::Day),
        &[("beatsperminute", "bpm", 1.0)],
    )
};

/// `oxygen_saturation_YYYY-MM-DD.csv`: samples, UTC.
pub static OXYGEN_SATURATION: Table = Table::of(
    &catalog::SPO2,
    ("timestamp", Clock::Instant),
    &[("oxygensaturationpercentage", "pct", 1.0)],
);

/// `daily_oxygen_saturation[_YYYY-MM-DD].csv`: the night's average on its date.
pub static DAILY_OXYGEN_SATURATION: Table = Table::of(
    &catalog::SPO2_DAILY,
    ("timestamp", Clock::Day),
    &[("averagepercentage", "avg_pct", 1.0)],
);

/// `heart_rate_variability_YYYY-MM-DD.csv`: 5-minute samples, UTC; SDNN 0 is "not measured".
pub static HEART_RATE_VARIABILITY: Table = Table {
    zero_is_none: &["sdnn_ms"],
    ..Table::of(
        &catalog::HRV,
        ("timestamp", Clock::Instant),
        &[
            (
                "rootmeansquareofsuccessivedifferencesmilliseconds",
                "rmssd_ms",
                1.0,
            ),
            ("standarddeviationmilliseconds", "sdnn_ms", 1.0),
        ],
    )
};

/// `daily_heart_rate_variability.csv`: the night's HRV on its local date.
pub static DAILY_HEART_RATE_VARIABILITY: Table = Table::of(
    &catalog::HRV_DAILY,
    ("timestamp", Clock::Day),
    &[
        ("averageheartratevariabilitymilliseconds", "avg_ms", 1.0),
        ("nonremheartratebeatsperminute", "non_rem_bpm", 1.0),
        ("entropy", "entropy", 1.0),
        (
            "deepsleeprootmeansquareofsuccessivedifferencesmilliseconds",
            "deep_sleep_rmssd_ms",
            1.0,
        ),
    ],
);

/// `daily_respiratory_rate[_YYYY-MM-DD].csv`: breaths per minute on the night's date.
pub static DAILY_RESPIRATORY_RATE: Table = Table::of(
    &catalog::RESPIRATORY_RATE_DAILY,
    ("timestamp", Clock::Day),
    &[("breathsperminute", "brpm", 1.0)],
);

/// `daily_sleep_temperature_derivations[_YYYY-MM-DD].csv`: the night's skin temperature, its
/// baseline and 30-day spread (the deviation is left to the API sync, which computes it).
pub static DAILY_SLEEP_TEMPERATURE: Table = Table::of(
    &catalog::SLEEP_TEMPERATURE,
    ("timestamp", Clock::Day),
    &[
        ("nightlytemperaturecelsius", "nightly_c", 1.0),
        ("baselinetemperaturecelsius", "baseline_c", 1.0),
        ("relativenightlystddev30dcelsius", "stddev_30d_c", 1.0),
    ],
);

/// Rows of a CSV with a header, the header's names lower-cased with spaces and underscores removed.
fn csv_rows(text: &str) -> Result<(Vec<String>, csv::StringRecordsIntoIter<&[u8]>), String> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .map_err(|e| format!("no CSV header: {e}"))?
        .iter()
        .map(normalised)
        .collect();
    Ok((header, r.into_records()))
}

fn normalised(name: &str) -> String {
    name.to_ascii_lowercase().replace([' ', '_'], "")
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
            // The kind of problem only (the line is in `at`), so that the summary groups them.
            let why = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "a row that is not UTF-8 text",
                csv::ErrorKind::UnequalLengths { .. } => "a row with another number of cells",
                _ => "an unreadable CSV row",
            };
            out.skip(at, why);
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

fn instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Clock {
    fn read(self, s: &str, cx: &Context, previous: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let s = s.trim();
        match self {
            Clock::Instant => instant(s),
            Clock::Wall => ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                .map(|t| wall(t, cx.tz, previous)),
            Clock::Day => {
                let day = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
                Some(local_midnight(day, cx.tz))
            }
        }
    }
}

impl Table {
    pub fn read(&self, text: &str, cx: &Context) -> Result<Parsed, String> {
        let (header, rows) = csv_rows(text)?;
        let t = column(&header, self.time.0)?;
        // The value columns this file has (older files lack some), with their fields' types.
        let fields: Vec<(usize, &'static str, FieldKind, f64)> = self
            .columns
            .iter()
            .filter_map(|(col, name, divisor)| {
                let kind = self.measurement.field(name)?.kind;
                Some((header.iter().position(|h| h == col)?, *name, kind, *divisor))
            })
            .collect();
        if fields.is_empty() {
            return Err(format!(
                "none of the columns {} in the header",
                self.columns
                    .iter()
                    .map(|c| c.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let reject: Vec<(usize, &str)> = self
            .reject
            .iter()
            .filter_map(|(col, value)| Some((header.iter().position(|h| h == col)?, *value)))
            .collect();
        let mut out = Parsed::default();
        let mut previous = None;
        for (i, row) in rows.enumerate() {
            let Some((at, row)) = counted_row(&mut out, i, row) else {
                continue;
            };
            if let Some((c, v)) = reject.iter().find(|(c, v)| {
                row.get(*c)
                    .is_some_and(|x| x.trim().eq_ignore_ascii_case(v))
            }) {
                out.pass(at, format!("{} is {v}: no score that day", header[*c]));
                continue;
            }
            let Some(when) = row.get(t).and_then(|s| self.time.1.read(s, cx, previous)) else {
                out.skip(
                    at,
                    format!("{:?} is not a time", row.get(t).unwrap_or_default()),
                );
                continue;
            };
            previous = Some(when);
            let mut p = Point::new(self.measurement.name, when).tag("user", cx.user);
            let mut floor = None;
            let mut garbled = None;
            for (c, name, kind, divisor) in &fields {
                let cell = row.get(*c).unwrap_or_default().trim();
                // Empty, NaN and -1 are the archives' "no value"; other text is a broken cell.
                if *kind != FieldKind::Str && !cell.is_empty() && cell.parse::<f64>().is_err() {
                    garbled = Some(format!("{} is not a number", header[*c]));
                }
                p = match kind {
                    FieldKind::Str if !cell.is_empty() => p.string(name, cell.to_ascii_lowercase()),
                    FieldKind::Int | FieldKind::Float => match text_number(cell) {
                        Some(x) if x == 0.0 && self.zero_is_none.contains(name) => p,
                        Some(x) if Some(x) == self.floor => {
                            floor = Some(x);
                            p
                        }
                        Some(x) if *kind == FieldKind::Int => {
                            p.int(name, (x / divisor).round() as i64)
                        }
                        Some(x) => p.float(name, x / divisor),
                        None => p,
                    },
                    _ => p,
                };
            }
            if let Some(why) = garbled {
                out.skip(at, why);
            } else if let Some(x) = floor {
                out.pass(at, format!("{x} is the sensor's floor, not a reading"));
            } else if p.fields.is_empty() {
                out.pass(at, "no values");
            } else {
                out.points.push(p);
            }
        }
        Ok(out)
    }
}

/// Heart rate from the new CSV: one source per file (the one with most rows: a phone app's rows at
/// the same seconds as the watch's would otherwise count twice).
pub(super) fn heart_rate(text: &str, cx: &Context) -> Result<Parsed, String> {
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
            row.get(t).and_then(instant),
            row.get(bpm).and_then(text_number),
        ) else {
            out.skip(at, "no timestamp or no beats per minute");
            continue;
        };
        let src = source.and_then(|s| row.get(s)).unwrap_or("").to_string();
        samples.push((when, value.round() as i64, src));
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
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
            out.pass(
                format!("{when}"),
                format!("another source ({src}) than the file's main one"),
            );
        }
    }
    Ok(out)
}
