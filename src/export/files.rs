//! Points into files: CSV or JSON Lines, one file per measurement or per measurement and day, in the
//! catalog's columns or the tutorials' layouts (docs/export.md describes every column).
//!
//! Points arrive in time order, a window at a time, each with its civil date (the wake date for a
//! night and its stages). A file is created (truncated) the first time this run writes to it and
//! appended to after that, so a rerun replaces what an earlier run wrote instead of adding to it.

use crate::catalog::Measurement;
use crate::point::{FieldKind, FieldValue, Point};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// JSON Lines: one document per value (`mongoimport --type json` reads it as it is).
    Jsonl,
}

/// How points are spread over files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// One file per measurement: `<out>/<user>/<measurement>.csv`.
    Type,
    /// One file per measurement and civil day: `<out>/<user>/<measurement>/<YYYY-MM-DD>.csv`.
    Day,
}

/// Which columns and document shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// The catalog's tags and fields (docs/schema.md), with the instant and the civil date.
    Columns,
    /// The tutorials': intraday heart rate as `Time,Heart Rate` and sleep stages as
    /// `dateTime,level,seconds`, one file a day; JSON documents `{type, data: {dateTime, value}}`.
    /// Other measurements keep the catalog's columns.
    Tutorial,
}

/// A point and the civil date it belongs to.
pub struct Dated {
    pub date: NaiveDate,
    pub point: Point,
}

/// What was written to one measurement's files.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub files: u64,
}

pub struct Files {
    dir: PathBuf,
    user: String,
    tz: Tz,
    format: Format,
    split: Split,
    layout: Layout,
    /// Every path this run has created; a second write appends.
    created: HashSet<PathBuf>,
    /// The file a measurement is writing to (one per measurement: days come in order).
    current: BTreeMap<&'static str, (PathBuf, BufWriter<File>)>,
    pub written: BTreeMap<&'static str, Written>,
}

impl Files {
    pub fn new(
        out: &Path,
        user: &str,
        tz: Tz,
        (format, split, layout): (Format, Split, Layout),
    ) -> Files {
        Files {
            dir: out.join(user),
            user: user.to_string(),
            tz,
            format,
            split,
            layout,
            created: HashSet::new(),
            current: BTreeMap::new(),
            written: BTreeMap::new(),
        }
    }

    /// Where `m`'s points of `date` go, and the file's first line for CSV.
    fn path_of(&self, m: &Measurement, date: NaiveDate) -> PathBuf {
        let ext = match self.format {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        };
        match (self.split, self.tutorial_csv(m)) {
            (_, true) => self
                .dir
                .join(m.name)
                .join(format!("{}_{date}.{ext}", m.name)),
            (Split::Day, false) => self.dir.join(m.name).join(format!("{date}.{ext}")),
            (Split::Type, false) => self.dir.join(format!("{}.{ext}", m.name)),
        }
    }

    /// The tutorials' per-day CSV layouts exist for intraday heart rate and sleep stages.
    fn tutorial_csv(&self, m: &Measurement) -> bool {
        self.layout == Layout::Tutorial
            && self.format == Format::Csv
            && matches!(m.name, "heart_rate" | "sleep_stage")
    }

    fn header(&self, m: &Measurement) -> String {
        if self.tutorial_csv(m) {
            return match m.name {
                "heart_rate" => "Time,Heart Rate".into(),
                _ => "dateTime,level,seconds".into(),
            };
        }
        columns(m).join(",")
    }

    /// Writes `p` (of measurement `m`) to its file.
    pub fn write(&mut self, m: &'static Measurement, d: &Dated) -> std::io::Result<()> {
        let path = self.path_of(m, d.date);
        if self.current.get(m.name).is_none_or(|(p, _)| *p != path) {
            self.switch(m, path)?;
        }
        let line = match self.format {
            Format::Csv => self.csv_row(m, d),
            Format::Jsonl => self.json_line(m, d),
        };
        let (_, w) = self.current.get_mut(m.name).expect("switched above");
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        self.written.entry(m.name).or_default().rows += 1;
        Ok(())
    }

    fn switch(&mut self, m: &'static Measurement, path: PathBuf) -> std::io::Result<()> {
        if let Some((_, mut old)) = self.current.remove(m.name) {
            old.flush()?;
        }
        let fresh = self.created.insert(path.clone());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(!fresh)
            .truncate(fresh)
            .open(&path)?;
        let mut w = BufWriter::with_capacity(64 * 1024, file);
        if fresh {
            self.written.entry(m.name).or_default().files += 1;
            if self.format == Format::Csv {
                writeln!(w, "{}", self.header(m))?;
            }
        }
        self.current.insert(m.name, (path, w));
        Ok(())
    }

    /// Flushes every open file.
    pub fn finish(&mut self) -> std::io::Result<()> {
        for (_, w) in self.current.values_mut() {
            w.flush()?;
        }
        self.current.clear();
        Ok(())
    }

    fn local(&self, p: &Point) -> DateTime<Tz> {
        Utc.timestamp_nanos(p.time_ns).with_timezone(&self.tz)
    }

    fn csv_row(&self, m: &Measurement, d: &Dated) -> String {
        let p = &d.point;
        if self.tutorial_csv(m) {
            let t = self.local(p);
            return match m.name {
                "heart_rate" => format!("{},{}", t.format("%H:%M:%S"), cell(field(p, "bpm"))),
                _ => format!(
                    "{},{},{}",
                    t.format("%Y-%m-%dT%H:%M:%S%.3f"),
                    csv_text(tag(p, "stage").unwrap_or_default()),
                    cell(field(p, "duration_s"))
                ),
            };
        }
        let mut row = vec![
            self.local(p).to_rfc3339_opts(SecondsFormat::AutoSi, false),
            d.date.to_string(),
            csv_text(&self.user),
        ];
        for t in extra_tags(m) {
            row.push(csv_text(tag(p, t).unwrap_or_default()));
        }
        for f in m.fields {
            row.push(cell(field(p, f.name)));
        }
        row.join(",")
    }

    fn json_line(&self, m: &Measurement, d: &Dated) -> String {
        let p = &d.point;
        let mut fields = Map::new();
        for (k, v) in &p.fields {
            if let Some(v) = json_value(v) {
                fields.insert((*k).to_string(), v);
            }
        }
        let doc = match self.layout {
            Layout::Tutorial => {
                let when = if m.is_daily() {
                    d.date.to_string()
                } else {
                    self.local(p).format("%Y-%m-%dT%H:%M:%S").to_string()
                };
                let value = match fields.len() {
                    1 => fields
                        .into_iter()
                        .next()
                        .map(|(_, v)| v)
                        .unwrap_or(Value::Null),
                    _ => Value::Object(fields),
                };
                let mut data = json!({"dateTime": when, "value": value});
                for (k, v) in p.tags.iter().filter(|(k, _)| *k != "user") {
                    data[*k] = json!(v);
                }
                json!({"type": m.name, "user": self.user, "data": data})
            }
            Layout::Columns => {
                let tags: Map<String, Value> = p
                    .tags
                    .iter()
                    .filter(|(k, _)| *k != "user")
                    .map(|(k, v)| ((*k).to_string(), json!(v)))
                    .collect();
                json!({
                    "measurement": m.name,
                    "user": self.user,
                    "time": self.local(p).to_rfc3339_opts(SecondsFormat::AutoSi, false),
                    "date": d.date.to_string(),
                    "tags": tags,
                    "fields": fields,
                })
            }
        };
        doc.to_string()
    }
}

/// The columns of a measurement's CSV in the catalog layout.
pub fn columns(m: &Measurement) -> Vec<&'static str> {
    let mut c = vec!["time", "date", "user"];
    c.extend(extra_tags(m));
    c.extend(m.fields.iter().map(|f| f.name));
    c
}

/// The measurement's tags besides `user`, and `source` (present with `DATA_SOURCES=all`).
fn extra_tags(m: &Measurement) -> impl Iterator<Item = &'static str> + '_ {
    m.tags
        .iter()
        .map(|t| t.name)
        .filter(|n| *n != "user")
        .chain(std::iter::once("source"))
}

fn tag<'p>(p: &'p Point, key: &str) -> Option<&'p str> {
    p.tags
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

fn field<'p>(p: &'p Point, key: &str) -> Option<&'p FieldValue> {
    p.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// A CSV cell: absent is empty (never 0).
fn cell(v: Option<&FieldValue>) -> String {
    match v {
        None => String::new(),
        Some(FieldValue::Int(i)) => i.to_string(),
        Some(FieldValue::Float(f)) if f.is_finite() => f.to_string(),
        Some(FieldValue::Float(_)) => String::new(),
        Some(FieldValue::Bool(b)) => b.to_string(),
        Some(FieldValue::Str(s)) => csv_text(s),
    }
}

/// Quotes text that holds a comma, a quote or a line break (RFC 4180).
fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn json_value(v: &FieldValue) -> Option<Value> {
    Some(match v {
        FieldValue::Int(i) => json!(i),
        FieldValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number)?,
        FieldValue::Bool(b) => json!(b),
        FieldValue::Str(s) => json!(s),
    })
}

/// A field value of the catalog's kind from a JSON value (InfluxDB's query answers, export files).
pub fn field_value(kind: FieldKind, v: &Value) -> Option<FieldValue> {
    match kind {
        FieldKind::Int => v.as_i64().map(FieldValue::Int),
        FieldKind::Float => v.as_f64().map(FieldValue::Float),
        FieldKind::Bool => v.as_bool().map(FieldValue::Bool),
        FieldKind::Str => v.as_str().map(|s| FieldValue::Str(s.to_string())),
    }
}
