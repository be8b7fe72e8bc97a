//! What the insights panels must show: the rules of docs/schema.md ("Insights") applied again here,
//! written out anew, to the simulator's own answers.

use super::truth::*;
use crate::common::grafana::{Cell, Range};
use crate::common::truth::median;
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

type Days = BTreeMap<NaiveDate, f64>;
/// A day of a metric: its value, days of history, and (baseline median, z) with enough history.
type Judged = (f64, usize, Option<(f64, f64)>);

/// A metric as docs/schema.md describes it: name, wording (label, unit, decimals), floor, values.
struct Metric {
    label: &'static str,
    unit: &'static str,
    decimals: usize,
    floor: f64,
    values: Days,
}

/// A day of a metric: (value, days of history, the baseline median and the z-score when there are
/// at least 14 of the 30 days before).
fn judge(s: &Days, day: NaiveDate, floor: f64) -> Option<Judged> {
    let value = *s.get(&day)?;
    let before: Vec<f64> = s
        .range(day - Duration::days(30)..day)
        .map(|(_, v)| *v)
        .collect();
    if before.len() < 14 {
        return Some((value, before.len(), None));
    }
    let m = median(before.clone());
    let mad = median(before.iter().map(|v| (v - m).abs()).collect());
    Some((
        value,
        before.len(),
        Some((m, (value - m) / (1.4826 * mad).max(floor))),
    ))
}

/// The direction of a day far outside its baseline (|z| ≥ 3), else `None`.
fn outside(s: &Days, day: NaiveDate, floor: f64) -> Option<bool> {
    let (_, _, b) = judge(s, day, floor)?;
    let (_, z) = b?;
    (z.abs() >= 3.0).then_some(z > 0.0)
}

/// Values of `s` in the `n` days ending at `day`, when there are at least `min`.
fn last_days(s: &Days, day: NaiveDate, n: i64, min: usize) -> Option<Vec<f64>> {
    let v: Vec<f64> = s
        .range(day - Duration::days(n - 1)..=day)
        .map(|(_, v)| *v)
        .collect();
    (v.len() >= min).then_some(v)
}

impl Truth<'_> {
    /// The eight metrics, in the order their clauses are joined, up to today.
    async fn metrics(&self) -> Vec<Metric> {
        let today = self.view.today();
        let upto =
            |d: BTreeMap<NaiveDate, f64>| d.into_iter().filter(|(k, _)| *k <= today).collect();
        let daily = |days: BTreeMap<NaiveDate, serde_json::Value>, key: &'static str| {
            upto(
                days.into_iter()
                    .filter_map(|(d, p)| Some((d, num(&p[key])?)))
                    .collect(),
            )
        };
        // The main sleep ending each day (the last one when there are several).
        let mut nights = self.sleeps().await;
        nights.retain(|(_, s)| main_sleep(s));
        nights.sort_by_key(|(_, s)| time(&s["interval"]["endTime"]));
        let night = |value: &dyn Fn(&serde_json::Value) -> Option<f64>| {
            let mut out = Days::new();
            for (d, s) in &nights {
                if let Some(v) = value(s) {
                    out.insert(*d, v);
                }
            }
            upto(out)
        };
        let m = |label, unit, decimals, floor, values| Metric {
            label,
            unit,
            decimals,
            floor,
            values,
        };
        vec![
            m(
                "resting HR",
                "bpm",
                0,
                1.0,
                daily(
                    self.daily("daily-resting-heart-rate", "dailyRestingHeartRate")
                        .await,
                    "beatsPerMinute",
                ),
            ),
            m(
                "HRV",
                "ms",
                0,
                3.0,
                daily(
                    self.daily("daily-heart-rate-variability", "dailyHeartRateVariability")
                        .await,
                    "averageHeartRateVariabilityMilliseconds",
                ),
            ),
            m(
                "breathing rate",
                "breaths/min",
                1,
                0.3,
                daily(
                    self.daily("daily-respiratory-rate", "dailyRespiratoryRate")
                        .await,
                    "breathsPerMinute",
                ),
            ),
            m("sleep", "min", 0, 20.0, night(&summary("minutesAsleep"))),
            m(
                "skin temperature",
                "°C",
                1,
                0.2,
                daily(
                    self.daily(
                        "daily-sleep-temperature-derivations",
                        "dailySleepTemperatureDerivations",
                    )
                    .await,
                    "nightlyTemperatureCelsius",
                ),
            ),
            m(
                "bedtime",
                "min",
                0,
                20.0,
                night(&|s| Some(self.clock_minutes(s, "startTime"))),
            ),
            m(
                "wake-up",
                "min",
                0,
                20.0,
                night(&|s| Some(self.clock_minutes(s, "endTime"))),
            ),
            m(
                "steps",
                "",
                0,
                2500.0,
                daily(self.rollup("steps").await, "countSum"),
            ),
        ]
    }

    /// Minutes with a heart-rate sample, per local day of the history up to today (0 without any).
    async fn wear(&self) -> Days {
        let mut minutes: BTreeMap<NaiveDate, std::collections::BTreeSet<i64>> = BTreeMap::new();
        for p in self.list("heart-rate", "").await {
            let t = time(&p["heartRate"]["sampleTime"]["physicalTime"]);
            minutes
                .entry(self.view.date_of(t))
                .or_default()
                .insert(t.timestamp().div_euclid(60));
        }
        self.history()
            .map(|d| (d, minutes.get(&d).map_or(0, |m| m.len()) as f64))
            .collect()
    }

    fn history(&self) -> impl Iterator<Item = NaiveDate> {
        let today = self.view.today();
        self.first_day.iter_days().take_while(move |d| *d <= today)
    }

    /// The day's summary line.
    fn summary_of(metrics: &[Metric], day: NaiveDate) -> String {
        let mut clauses = Vec::new();
        let mut most = None;
        for m in metrics {
            let Some((value, history, baseline)) = judge(&m.values, day, m.floor) else {
                continue;
            };
            most = Some(most.unwrap_or(0).max(history));
            let Some(up) = outside(&m.values, day, m.floor) else {
                continue;
            };
            let mut run = 0;
            let mut d = day;
            while outside(&m.values, d, m.floor) == Some(up) {
                run += 1;
                d -= Duration::days(1);
            }
            let (median, _) = baseline.unwrap();
            let side = if value >= median { "above" } else { "below" };
            let span = if run == 1 {
                "for 1 day".to_string()
            } else {
                format!("for {run} days")
            };
            // "resting HR 6 bpm above …"; a count has no unit: "steps 8345 above …".
            let amount = format!("{:.*} {}", m.decimals, (value - median).abs(), m.unit);
            clauses.push(format!(
                "{} {} {side} your baseline {span}",
                m.label,
                amount.trim_end()
            ));
        }
        match most {
            _ if !clauses.is_empty() => clauses.join("; "),
            None => "no values to compare that day".into(),
            Some(n) if n < 14 => {
                format!("not enough history for baselines yet ({n} of the 14 days they need)")
            }
            Some(_) => "everything within your baselines".into(),
        }
    }

    pub(crate) async fn expect_insights(&self, title: &str, r: Range) -> Expect {
        let metrics = self.metrics().await;
        let rhr = &metrics[0];
        let per_metric_day = |m: &Metric, value: &dyn Fn(NaiveDate) -> Option<f64>| {
            self.per_day(
                r,
                m.values
                    .keys()
                    .filter_map(|d| Some((*d, value(*d)?)))
                    .collect(),
            )
        };
        match title {
            "What changed" => {
                let wear = self.wear().await;
                let steps = &metrics[7].values;
                let rows = self
                    .history()
                    .filter(|d| r.contains(self.view.midnight(*d)))
                    .map(|d| {
                        let worn = wear[&d];
                        let st = steps.get(&d).copied().unwrap_or(0.0);
                        let class = match () {
                            _ if worn < 60.0 => "not_worn",
                            _ if st < 500.0 => "low",
                            _ if st < 10_000.0 => "normal",
                            _ => "high",
                        };
                        vec![
                            Some(Cell::Num(self.view.midnight(d).timestamp_millis() as f64)),
                            Some(Cell::Text(Self::summary_of(&metrics, d))),
                            Some(Cell::Text(class.into())),
                            Some(Cell::Num(worn)),
                        ]
                    })
                    .collect();
                Expect::Rows(rows)
            }
            "Resting heart rate against your baseline" => cols(vec![
                ("resting HR", per_metric_day(rhr, &|d| Some(rhr.values[&d]))),
                (
                    "baseline (30-day median)",
                    per_metric_day(rhr, &|d| {
                        judge(&rhr.values, d, rhr.floor)?.2.map(|(m, _)| m)
                    }),
                ),
            ]),
            "Wear time per day" => cols(vec![("worn", self.per_day(r, self.wear().await))]),
            "Sleep regularity (28-day spread)" => {
                let spread = |m: &Metric| {
                    per_metric_day(m, &|d| Some(sample_sd(&last_days(&m.values, d, 28, 14)?)))
                };
                cols(vec![
                    ("bedtime", spread(&metrics[5])),
                    ("wake-up", spread(&metrics[6])),
                ])
            }
            "Resting heart rate trend" => {
                let mean = |n, min| {
                    per_metric_day(rhr, &move |d| {
                        let v = last_days(&rhr.values, d, n, min)?;
                        Some(v.iter().sum::<f64>() / v.len() as f64)
                    })
                };
                cols(vec![
                    ("7-day mean", mean(7, 4)),
                    ("28-day mean", mean(28, 14)),
                ])
            }
            _ => panic!("insights.json: panel {title:?} has no truth in this test: add one"),
        }
    }
}
