//! Points and InfluxDB line protocol.
//!
//! This is the only module that knows how a measurement is spelled on the wire. Rules, checked against a
//! real InfluxDB by the integration tests:
//! - measurement names: `,` and space are escaped;
//! - tag keys, tag values and field keys: `,`, `=` and space are escaped. A backslash is written as it
//!   is (InfluxDB stores `a\b` as `a\b`), except where it would escape the next delimiter or end the
//!   value (`a\` makes the line unparseable): there it is written as `/`. Newlines become spaces. Empty
//!   tag values are not allowed by InfluxDB; such tags are left out.
//! - string fields: `"` and `\` are escaped; newlines become spaces.
//! - integers get the `i` suffix, floats are written in full precision, non-finite floats (`NaN`) are left
//!   out: a `NaN` from the API means "no value", never a number.
//! - timestamps are nanoseconds since the Unix epoch (UTC).
//!
//! A field's type is part of its identity in InfluxDB (a batch with `steps=1i` after `steps=1.0` is
//! rejected), so [`FieldValue`] keeps the type explicit and the catalog fixes it per field.

use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// A field value with its InfluxDB type.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

/// The InfluxDB type of a field, fixed per field by the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Int,
    Float,
    Bool,
    Str,
}

impl FieldValue {
    pub fn kind(&self) -> FieldKind {
        match self {
            FieldValue::Int(_) => FieldKind::Int,
            FieldValue::Float(_) => FieldKind::Float,
            FieldValue::Bool(_) => FieldKind::Bool,
            FieldValue::Str(_) => FieldKind::Str,
        }
    }
}

/// One InfluxDB point. Measurement and keys are `'static` because they come from the data-type catalog;
/// values are owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub measurement: &'static str,
    pub tags: Vec<(&'static str, String)>,
    pub fields: Vec<(&'static str, FieldValue)>,
    /// Nanoseconds since the Unix epoch, UTC.
    pub time_ns: i64,
}

impl Point {
    pub fn new(measurement: &'static str, time: DateTime<Utc>) -> Point {
        Point {
            measurement,
            tags: Vec::new(),
            fields: Vec::new(),
            // Representable until the year 2262; every Health API timestamp is.
            time_ns: time.timestamp_nanos_opt().unwrap_or(i64::MAX),
        }
    }

    pub fn tag(mut self, key: &'static str, value: impl Into<String>) -> Point {
        self.tags.push((key, value.into()));
        self
    }

    pub fn field(mut self, key: &'static str, value: FieldValue) -> Point {
        self.fields.push((key, value));
        self
    }

    pub fn int(self, key: &'static str, value: i64) -> Point {
        self.field(key, FieldValue::Int(value))
    }

    pub fn float(self, key: &'static str, value: f64) -> Point {
        self.field(key, FieldValue::Float(value))
    }

    pub fn bool(self, key: &'static str, value: bool) -> Point {
        self.field(key, FieldValue::Bool(value))
    }

    pub fn string(self, key: &'static str, value: impl Into<String>) -> Point {
        self.field(key, FieldValue::Str(value.into()))
    }

    /// The field when the API gave a value; nothing otherwise (absent stays absent, never zero).
    pub fn float_opt(self, key: &'static str, value: Option<f64>) -> Point {
        match value {
            Some(v) => self.float(key, v),
            None => self,
        }
    }

    /// See [`Point::float_opt`].
    pub fn int_opt(self, key: &'static str, value: Option<i64>) -> Point {
        match value {
            Some(v) => self.int(key, v),
            None => self,
        }
    }

    /// See [`Point::float_opt`].
    pub fn bool_opt(self, key: &'static str, value: Option<bool>) -> Point {
        match value {
            Some(v) => self.bool(key, v),
            None => self,
        }
    }

    /// See [`Point::float_opt`].
    pub fn string_opt(self, key: &'static str, value: Option<impl Into<String>>) -> Point {
        match value {
            Some(v) => self.string(key, v),
            None => self,
        }
    }

    /// True if the point has at least one field that can be written (InfluxDB needs one).
    pub fn has_fields(&self) -> bool {
        self.fields.iter().any(|(_, v)| writable(v))
    }

    /// Appends this point as one line of line protocol (with the trailing newline) to `out`.
    /// A point without a writable field writes nothing.
    pub fn write_line(&self, out: &mut String) {
        if !self.has_fields() {
            return;
        }
        escape_into(out, self.measurement, Part::Measurement);
        let mut tags: Vec<&(&'static str, String)> =
            self.tags.iter().filter(|(_, v)| !v.is_empty()).collect();
        // InfluxDB recommends sorted tags (it sorts them anyway; sorted input is cheaper).
        tags.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in tags {
            out.push(',');
            escape_into(out, k, Part::Key);
            out.push('=');
            escape_into(out, v, Part::Key);
        }
        let mut first = true;
        for (k, v) in self.fields.iter().filter(|(_, v)| writable(v)) {
            out.push(if first { ' ' } else { ',' });
            first = false;
            escape_into(out, k, Part::Key);
            out.push('=');
            match v {
                FieldValue::Int(i) => {
                    let _ = write!(out, "{i}i");
                }
                // `{}` on f64 prints the shortest text that reads back as the same number.
                FieldValue::Float(f) => {
                    let _ = write!(out, "{f}");
                }
                FieldValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                FieldValue::Str(s) => {
                    out.push('"');
                    for c in s.chars() {
                        match c {
                            '"' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            '\n' | '\r' => out.push(' '),
                            c => out.push(c),
                        }
                    }
                    out.push('"');
                }
            }
        }
        let _ = writeln!(out, " {}", self.time_ns);
    }

    /// This point as line protocol, without the trailing newline.
    pub fn to_line(&self) -> String {
        let mut s = String::new();
        self.write_line(&mut s);
        if s.ends_with('\n') {
            s.pop();
        }
        s
    }
}

fn writable(v: &FieldValue) -> bool {
    !matches!(v, FieldValue::Float(f) if !f.is_finite())
}

#[derive(Clone, Copy)]
enum Part {
    Measurement,
    /// Tag keys, tag values and field keys share one rule.
    Key,
}

fn escape_into(out: &mut String, s: &str, part: Part) {
    let special = |c: char| match part {
        Part::Measurement => c == ',' || c == ' ',
        Part::Key => c == ',' || c == ' ' || c == '=',
    };
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' => {
                out.push('\\');
                out.push(' ');
            }
            '\\' => {
                // A backslash before a delimiter (or at the end) would be read as an escape.
                let next_is_special = match chars.peek() {
                    None => true,
                    Some(&n) => special(n) || n == '\n' || n == '\r' || n == '\\',
                };
                out.push(if next_is_special { '/' } else { '\\' });
            }
            c if special(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// Line protocol for a batch of points, ready to send (also what the InfluxDB 2 client streams).
#[derive(Debug, Clone)]
pub struct LineBatch {
    pub body: bytes::Bytes,
    pub points: usize,
}

impl LineBatch {
    pub fn new(points: &[Point]) -> LineBatch {
        let mut s = String::with_capacity(points.len() * 96);
        let mut n = 0;
        for p in points {
            if p.has_fields() {
                p.write_line(&mut s);
                n += 1;
            }
        }
        LineBatch {
            body: bytes::Bytes::from(s),
            points: n,
        }
    }

    pub fn lines(&self) -> impl Iterator<Item = &str> {
        std::str::from_utf8(&self.body).unwrap_or_default().lines()
    }
}

impl influxdb2::models::WriteDataPoint for LineBatch {
    fn write_data_point_to<W: std::io::Write>(&self, mut w: W) -> std::io::Result<()> {
        w.write_all(&self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 8, 1, 54, 0).unwrap()
    }

    #[test]
    fn plain_point() {
        let p = Point::new("steps", t0())
            .tag("user", "me")
            .int("count", 100)
            .float("ratio", 0.5)
            .bool("main", true)
            .string("kind", "walk");
        assert_eq!(
            p.to_line(),
            "steps,user=me count=100i,ratio=0.5,main=true,kind=\"walk\" 1767837240000000000"
        );
    }

    #[test]
    fn tags_are_sorted_and_empty_tags_dropped() {
        let p = Point::new("m", t0())
            .tag("z", "1")
            .tag("a", "2")
            .tag("e", "")
            .int("v", 1);
        assert_eq!(p.to_line(), "m,a=2,z=1 v=1i 1767837240000000000");
    }

    #[test]
    fn escaping_by_part() {
        let p = Point::new("my m,x", t0())
            .tag("k ,=", "v ,=\"q")
            .string("f ,=", "say \"hi\" \\ ok, a=b");
        assert_eq!(
            p.to_line(),
            r#"my\ m\,x,k\ \,\==v\ \,\="q f\ \,\=="say \"hi\" \\ ok, a=b" 1767837240000000000"#
        );
    }

    #[test]
    fn backslashes_in_tags_stay_unless_they_would_escape() {
        let p = Point::new("m", t0())
            .tag("a", r"x\y")
            .tag("b", r"end\")
            .tag("c", r"x\,y")
            .int("v", 1);
        assert_eq!(
            p.to_line(),
            r"m,a=x\y,b=end/,c=x/\,y v=1i 1767837240000000000"
        );
    }

    #[test]
    fn nan_fields_are_left_out_and_nan_only_points_write_nothing() {
        let p = Point::new("m", t0()).float("a", f64::NAN).float("b", 36.5);
        assert_eq!(p.to_line(), "m b=36.5 1767837240000000000");
        let empty = Point::new("m", t0()).float("a", f64::NAN);
        assert!(!empty.has_fields());
        assert_eq!(empty.to_line(), "");
        assert_eq!(LineBatch::new(&[empty, p]).points, 1);
    }

    #[test]
    fn floats_keep_full_precision() {
        let p = Point::new("m", t0()).float("a", 0.1 + 0.2).float("b", 1e21);
        let line = p.to_line();
        let a: f64 = line.split(['=', ',']).nth(1).unwrap().parse().unwrap();
        assert_eq!(a, 0.1 + 0.2);
        assert!(line.contains("b=1000000000000000000000 "));
    }
}
