//! The simulator's truth for the panels: its own API read here, independently of the daemon.

use crate::common::date_of;
use crate::common::grafana::{Cell, Columns, Range, View};
use crate::common::sim::TestSim;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a panel must show.
pub(crate) enum Expect {
    /// Value columns over time (legend name → epoch ms → value).
    Columns(Columns),
    /// Table rows: epoch ms, then the columns in order.
    Rows(Vec<Vec<Option<Cell>>>),
    /// A stat's last non-null value.
    Stat(f64),
    /// A pie: each target's alias → its value (0 when the query finds nothing).
    Pie(BTreeMap<String, f64>),
    /// The devices table: model → (battery %, last sync in epoch ms).
    Devices(BTreeMap<String, (f64, f64)>),
    /// A pipeline panel: what the daemon reports about itself, checked by `pipeline::check`.
    Pipeline(crate::pipeline::Want),
}

pub(crate) fn num(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok().filter(|x: &f64| x.is_finite()),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

pub(crate) fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

pub(crate) fn secs(v: &Value) -> Option<f64> {
    v.as_str()?.strip_suffix('s')?.parse().ok()
}

/// One person's truth, read from the simulator's API.
pub(crate) struct Truth<'a> {
    pub sim: &'a TestSim,
    pub tok: String,
    pub view: View,
    pub first_day: NaiveDate,
}

impl Truth<'_> {
    /// Every point of a reconciled list, newest first as the API gives them.
    pub(crate) async fn list(&self, api: &str, filter: &str) -> Vec<Value> {
        let method = format!("{api}:reconcile");
        self.sim
            .list_all(&self.tok, &method, filter, Some(10_000))
            .await
            .0
    }

    /// A daily list type (one point per civil date) as date → the point's payload.
    pub(crate) async fn daily(&self, api: &str, key: &str) -> BTreeMap<NaiveDate, Value> {
        self.list(api, "")
            .await
            .into_iter()
            .map(|p| (date_of(&p[key]["date"]), p[key].clone()))
            .collect()
    }

    /// A rollup type's `dailyRollUp` over the whole history, date → the window's payload.
    pub(crate) async fn rollup(&self, api: &str) -> BTreeMap<NaiveDate, Value> {
        use chrono::Datelike;
        let d = |d: NaiveDate| serde_json::json!({"date": {"year": d.year(), "month": d.month(), "day": d.day()}});
        let mut out = BTreeMap::new();
        let mut from = self.first_day;
        let last = self.view.today();
        while from <= last {
            let end = (from + Duration::days(6)).min(last);
            let body = serde_json::json!({"range": {"start": d(from), "end": d(end + Duration::days(1))}, "windowSizeDays": 1});
            let path = format!("users/me/dataTypes/{api}/dataPoints:dailyRollUp");
            let (status, answer) = self.sim.post(&self.tok, &path, &body).await;
            assert_eq!(status, 200, "{answer}");
            for w in answer["rollupDataPoints"].as_array().into_iter().flatten() {
                let payload = w
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| !k.starts_with("civil"))
                    .map(|(_, v)| v.clone())
                    .unwrap();
                out.insert(date_of(&w["civilStartTime"]["date"]), payload);
            }
            from = end + Duration::days(1);
        }
        out
    }

    /// The sleep sessions with a summary (complete), as (wake-up date, session).
    pub(crate) async fn sleeps(&self) -> Vec<(NaiveDate, Value)> {
        self.list("sleep", "")
            .await
            .into_iter()
            .map(|p| p["sleep"].clone())
            .filter(|s| s.get("summary").is_some())
            .map(|s| (self.view.date_of(time(&s["interval"]["endTime"])), s))
            .collect()
    }

    /// Per-day values inside the range's days, keyed by local midnight as InfluxDB's tz() buckets are.
    pub(crate) fn per_day(
        &self,
        r: Range,
        values: BTreeMap<NaiveDate, f64>,
    ) -> BTreeMap<i64, Cell> {
        let (a, b) = self.view.days(r);
        values
            .into_iter()
            .filter(|(d, _)| *d >= a && *d <= b)
            .map(|(d, v)| (self.view.midnight(d).timestamp_millis(), Cell::Num(v)))
            .collect()
    }

    /// A daily column from date → payload, reading one value out of each payload.
    pub(crate) fn column(
        &self,
        r: Range,
        days: &BTreeMap<NaiveDate, Value>,
        value: impl Fn(&Value) -> Option<f64>,
    ) -> BTreeMap<i64, Cell> {
        self.per_day(
            r,
            days.iter()
                .filter_map(|(d, p)| Some((*d, value(p)?)))
                .collect(),
        )
    }

    /// Sums of a value per wake-up date over the sessions that pass `keep`.
    pub(crate) fn nightly(
        &self,
        r: Range,
        sleeps: &[(NaiveDate, Value)],
        keep: impl Fn(&Value) -> bool,
        value: impl Fn(&Value) -> Option<f64>,
    ) -> BTreeMap<i64, Cell> {
        let mut by_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for (d, s) in sleeps.iter().filter(|(_, s)| keep(s)) {
            if let Some(v) = value(s) {
                *by_day.entry(*d).or_default() += v;
            }
        }
        self.per_day(r, by_day)
    }

    /// A session's start or end as the viewer's clock shows it, in minutes from the midnight that
    /// begins the wake-up date: the clock's hours and minutes, less a day for each date before it.
    pub(crate) fn clock_minutes(&self, s: &Value, end: &str) -> f64 {
        let wake = self.view.date_of(time(&s["interval"]["endTime"]));
        let local = time(&s["interval"][end]).with_timezone(&self.view.tz);
        let (h, m) = (
            local.format("%H").to_string(),
            local.format("%M").to_string(),
        );
        let days_before = (wake - local.date_naive()).num_days();
        (h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap() - 1440 * days_before) as f64
    }

    /// The last value on or before today, however old.
    pub(crate) fn latest(days: &BTreeMap<NaiveDate, Value>, today: NaiveDate, value: &str) -> f64 {
        days.range(..=today)
            .next_back()
            .and_then(|(_, p)| num(&p[value]))
            .expect("a latest value")
    }
}

pub(crate) fn cols(entries: Vec<(&str, BTreeMap<i64, Cell>)>) -> Expect {
    Expect::Columns(
        entries
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// The sleep score the test's archive gives a main sleep (the API has none): made up from the
/// minutes asleep, so that every night differs.
pub(crate) fn archive_score(s: &Value) -> Option<f64> {
    summary("minutesAsleep")(s).map(|m| 50.0 + m % 50.0)
}

pub(crate) fn main_sleep(s: &Value) -> bool {
    s["metadata"]["mainSleep"] == true
}

pub(crate) fn summary(key: &'static str) -> impl Fn(&Value) -> Option<f64> {
    move |s: &Value| num(&s["summary"][key])
}

pub(crate) fn stage_minutes(stage: &'static str) -> impl Fn(&Value) -> Option<f64> {
    move |s: &Value| {
        s["summary"]["stagesSummary"]
            .as_array()?
            .iter()
            .find(|x| x["type"] == stage)
            .and_then(|x| num(&x["minutes"]))
    }
}

/// A value from the list entry whose `key` is `value` (the rollups' per-level and per-zone lists).
pub(crate) fn in_list(
    list: &'static str,
    key: &'static str,
    value: &'static str,
    read: fn(&Value) -> Option<f64>,
) -> impl Fn(&Value) -> Option<f64> {
    move |p: &Value| {
        p[list]
            .as_array()?
            .iter()
            .find(|x| x[key] == value)
            .and_then(read)
    }
}

/// The sample standard deviation (n - 1), as InfluxQL's stddev() gives it.
pub(crate) fn sample_sd(xs: &[f64]) -> f64 {
    assert!(xs.len() > 1, "a spread needs two values");
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}
