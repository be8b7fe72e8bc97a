//! Grafana's side of a panel query, done as Grafana does it: the dashboard's range and a panel's time
//! overrides resolved in the viewer's zone, the variables substituted into the InfluxQL, and the
//! answer read back as the panel would see it (named value columns over time, or table rows).
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use std::collections::BTreeMap;

/// One person's view of the dashboards: their browser in their own zone, "now", and the values
/// Grafana picked for the dashboard variables.
pub struct View {
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub vars: BTreeMap<String, String>,
}

/// A panel's time range, both ends included (Grafana's `$timeFilter` uses `<=`).
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Range {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.from && t <= self.to
    }
}

impl View {
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }

    pub fn midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        self.tz
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    pub fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The local days a range covers.
    pub fn days(&self, r: Range) -> (NaiveDate, NaiveDate) {
        (self.date_of(r.from), self.date_of(r.to))
    }

    /// A panel's range: the dashboard's `now-Nd/d` .. `now/d` (whole days in the viewer's zone), then
    /// the panel's `timeFrom` (replaces the range) and `timeShift` (moves it back, rounding to days).
    pub fn range(&self, dashboard: &Value, panel: &Value) -> Range {
        let days: i64 = dashboard["time"]["from"]
            .as_str()
            .and_then(|f| f.strip_prefix("now-"))
            .and_then(|f| f.strip_suffix("d/d"))
            .expect("dashboard ranges of whole days")
            .parse()
            .unwrap();
        assert_eq!(dashboard["time"]["to"], "now/d", "day-aligned ranges");
        let end_of =
            |d: NaiveDate| self.midnight(d + Duration::days(1)) - Duration::milliseconds(1);
        let today = self.today();
        let mut r = Range {
            from: self.midnight(today - Duration::days(days)),
            to: end_of(today),
        };
        match panel["timeFrom"].as_str() {
            None => {}
            // Grafana reads "now/d" as "now/d to now": today so far.
            Some("now/d") => {
                r = Range {
                    from: self.midnight(today),
                    to: self.now,
                }
            }
            Some("24h") => {
                r = Range {
                    from: self.now - Duration::hours(24),
                    to: self.now,
                }
            }
            Some(other) => panic!("a timeFrom this test cannot resolve: {other}"),
        }
        let shift = panel["timeShift"].as_str().map(|s| {
            let mut s = s.to_string();
            for (name, value) in &self.vars {
                s = s.replace(&format!("${name}"), value);
            }
            s
        });
        match shift.as_deref() {
            None => {}
            // Each end moved back a day, the start rounded down and the end up to whole days.
            Some("1d/d") => {
                r = Range {
                    from: self.midnight(self.date_of(r.from - Duration::days(1))),
                    to: end_of(self.date_of(r.to - Duration::days(1))),
                }
            }
            // Whole days back, both ends, no rounding (what "Nd" means to Grafana).
            Some(days)
                if days
                    .strip_suffix('d')
                    .is_some_and(|n| n.parse::<i64>().is_ok()) =>
            {
                let n: i64 = days.strip_suffix('d').unwrap().parse().unwrap();
                r = Range {
                    from: r.from - Duration::days(n),
                    to: r.to - Duration::days(n),
                }
            }
            Some(other) => panic!("a timeShift this test cannot resolve: {other}"),
        }
        r
    }

    /// The query as Grafana sends it: `$timeFilter` in epoch milliseconds, `${__from}`/`${__to}`,
    /// `$__interval` (one hour: what a 30-day panel a few hundred pixels wide gets), the variables.
    pub fn substitute(&self, q: &str, r: Range) -> String {
        let (from, to) = (r.from.timestamp_millis(), r.to.timestamp_millis());
        let mut q = q
            .replace(
                "$timeFilter",
                &format!("time >= {from}ms and time <= {to}ms"),
            )
            .replace("${__from}", &from.to_string())
            .replace("${__to}", &to.to_string())
            .replace("$__interval", "1h");
        for (name, value) in &self.vars {
            q = q
                .replace(&format!("${{{name}}}"), value)
                .replace(&format!("${name}"), value);
        }
        assert!(!q.contains('$'), "an unsubstituted variable in {q}");
        q
    }
}

/// A value a panel shows: numbers compared with a relative tolerance, text exactly.
#[derive(Debug, Clone)]
pub enum Cell {
    Num(f64),
    Text(String),
}

impl PartialEq for Cell {
    fn eq(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Num(a), Cell::Num(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0),
            (Cell::Text(a), Cell::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Num(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}

fn cell(v: &Value) -> Option<Cell> {
    match v {
        Value::Number(n) => Some(Cell::Num(n.as_f64().unwrap())),
        Value::String(s) => Some(Cell::Text(s.clone())),
        Value::Bool(b) => Some(Cell::Text(b.to_string())),
        _ => None,
    }
}

/// What a panel shows, keyed the way a person reads it.
pub type Columns = BTreeMap<String, BTreeMap<i64, Cell>>;

/// A time-series answer as value columns (legend name → epoch ms → value), nulls left out. A
/// target's alias names its only value column, as Grafana's legend does.
pub fn columns(series: &[Value], alias: Option<&str>, out: &mut Columns) {
    for s in series {
        let names: Vec<&str> = s["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for row in s["values"].as_array().into_iter().flatten() {
            let t = row[0].as_i64().unwrap() / 1_000_000;
            for (j, name) in names.iter().enumerate().skip(1) {
                let name = match alias {
                    Some(a) if names.len() == 2 => a,
                    _ => name,
                };
                if let Some(c) = cell(&row[j]) {
                    out.entry(name.to_string()).or_default().insert(t, c);
                }
            }
        }
    }
}

/// A table answer as rows (epoch ms, then the value columns in order), sorted by time.
pub fn table_rows(series: &[Value]) -> Vec<Vec<Option<Cell>>> {
    let mut out: Vec<(i64, Vec<Option<Cell>>)> = Vec::new();
    for s in series {
        for row in s["values"].as_array().into_iter().flatten() {
            let row = row.as_array().unwrap();
            let t = row[0].as_i64().unwrap() / 1_000_000;
            let mut cells = vec![Some(Cell::Num(t as f64))];
            cells.extend(row[1..].iter().map(cell));
            out.push((t, cells));
        }
    }
    out.sort_by_key(|a| a.0);
    out.into_iter().map(|(_, c)| c).collect()
}
