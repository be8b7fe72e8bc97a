//! The arithmetic of the insights, on plain day → value series: robust baselines, trends, spreads,
//! the day's activity class and the "what changed" line. No I/O, so every rule is tested here.

use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

/// A daily series: civil date → value (days without a value are absent, never 0).
pub type Series = BTreeMap<NaiveDate, f64>;

/// Days before a day that make its baseline.
pub const BASELINE_DAYS: i64 = 30;
/// Values needed in those days before a baseline is given.
pub const MIN_BASELINE_VALUES: usize = 14;
/// How far outside the baseline (in robust standard deviations) a day is flagged.
pub const OUTSIDE_Z: f64 = 3.0;
/// MAD × this estimates the standard deviation of normally distributed values.
const MAD_TO_SD: f64 = 1.4826;

/// What a day of one metric looks like against its own history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricDay {
    pub value: f64,
    /// Values in the 30 days before this one.
    pub history_days: usize,
    /// Median and MAD of those values, when there are at least [`MIN_BASELINE_VALUES`].
    pub baseline: Option<(f64, f64)>,
    /// (value − median) / max(1.4826 × MAD, floor): the robust z-score.
    pub z: Option<f64>,
    pub mean_7d: Option<f64>,
    pub mean_28d: Option<f64>,
    /// Least-squares slope over the 28 days ending here, per week.
    pub slope_per_week: Option<f64>,
    pub sd_7d: Option<f64>,
    pub sd_28d: Option<f64>,
}

impl MetricDay {
    pub fn outside(&self) -> Option<bool> {
        self.z.map(|z| z.abs() >= OUTSIDE_Z)
    }
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Values of `s` in `[from, to]` with their day offsets from `from`.
fn span(s: &Series, from: NaiveDate, to: NaiveDate) -> Vec<(f64, f64)> {
    s.range(from..=to)
        .map(|(d, v)| ((*d - from).num_days() as f64, *v))
        .collect()
}

fn mean(v: &[(f64, f64)]) -> f64 {
    v.iter().map(|(_, y)| y).sum::<f64>() / v.len() as f64
}

/// Sample standard deviation.
fn sd(v: &[(f64, f64)]) -> f64 {
    let m = mean(v);
    (v.iter().map(|(_, y)| (y - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

fn slope(v: &[(f64, f64)]) -> Option<f64> {
    let n = v.len() as f64;
    let mx = v.iter().map(|(x, _)| x).sum::<f64>() / n;
    let my = mean(v);
    let sxx: f64 = v.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = v.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// `day` of `s` against its history; `None` when the day has no value. `floor` is the smallest
/// spread the z-score divides by (a metric that hardly varies would flag every wobble).
pub fn metric_day(s: &Series, day: NaiveDate, floor: f64) -> Option<MetricDay> {
    let value = *s.get(&day)?;
    let mut before: Vec<f64> = s
        .range(day - Duration::days(BASELINE_DAYS)..day)
        .map(|(_, v)| *v)
        .collect();
    let history_days = before.len();
    let baseline = (history_days >= MIN_BASELINE_VALUES).then(|| {
        let med = median(&mut before);
        let mut dev: Vec<f64> = before.iter().map(|v| (v - med).abs()).collect();
        (med, median(&mut dev))
    });
    let z = baseline.map(|(med, mad)| (value - med) / (MAD_TO_SD * mad).max(floor));
    let w7 = span(s, day - Duration::days(6), day);
    let w28 = span(s, day - Duration::days(27), day);
    let enough = |w: &[(f64, f64)], n: usize| w.len() >= n;
    Some(MetricDay {
        value,
        history_days,
        baseline,
        z,
        mean_7d: enough(&w7, 4).then(|| mean(&w7)),
        mean_28d: enough(&w28, 14).then(|| mean(&w28)),
        slope_per_week: enough(&w28, 14)
            .then(|| slope(&w28))
            .flatten()
            .map(|b| b * 7.0),
        sd_7d: enough(&w7, 4).then(|| sd(&w7)),
        sd_28d: enough(&w28, 14).then(|| sd(&w28)),
    })
}

/// The day's activity class as the tutorials draw it: under an hour of heart rate is a day the
/// watch was not worn; then the 500- and 10,000-step lines. A worn day with no step total is a day
/// without steps (the rollup leaves such days out), hence `low`, not a guess.
pub fn activity_class(wear_min: i64, steps: Option<i64>) -> (&'static str, i64) {
    match (wear_min, steps.unwrap_or(0)) {
        (w, _) if w < 60 => ("not_worn", 0),
        (_, s) if s < 500 => ("low", 1),
        (_, s) if s < 10_000 => ("normal", 2),
        _ => ("high", 3),
    }
}

/// How a metric is named in the summary line, its unit, and how many decimals it reads with.
pub struct Wording {
    pub label: &'static str,
    pub unit: &'static str,
    pub decimals: usize,
}

/// Consecutive days, ending at `day`, on which `flag(day)` gave the same sign as on `day`.
pub fn run_length(day: NaiveDate, sign_on: impl Fn(NaiveDate) -> Option<i8>) -> usize {
    let Some(sign) = sign_on(day) else { return 0 };
    let mut n = 0;
    let mut d = day;
    while sign_on(d) == Some(sign) {
        n += 1;
        d -= Duration::days(1);
    }
    n
}

/// One clause of the summary: "resting HR 6 bpm above your baseline for 3 days".
pub fn clause(w: &Wording, m: &MetricDay, days: usize) -> Option<String> {
    let (med, _) = m.baseline?;
    let diff = m.value - med;
    let side = if diff >= 0.0 { "above" } else { "below" };
    let span = match days {
        0 | 1 => "for 1 day".to_string(),
        n => format!("for {n} days"),
    };
    let unit = if w.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", w.unit)
    };
    Some(format!(
        "{} {:.*}{unit} {side} your baseline {span}",
        w.label,
        w.decimals,
        diff.abs(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(n)
    }

    #[test]
    fn too_little_history_gives_no_baseline_and_no_invented_numbers() {
        let s: Series = (0..10).map(|i| (d(i), 60.0)).collect();
        let m = metric_day(&s, d(9), 1.0).unwrap();
        assert_eq!(m.history_days, 9);
        assert_eq!(
            (m.baseline, m.z, m.mean_28d, m.outside()),
            (None, None, None, None)
        );
        assert_eq!(m.mean_7d, Some(60.0));
        assert!(
            metric_day(&s, d(20), 1.0).is_none(),
            "a day without a value"
        );
    }

    #[test]
    fn the_baseline_is_the_median_and_mad_of_the_thirty_days_before() {
        // 30 days alternating 58 and 62, then 70: median 60, MAD 2, z = 10 / 2.9652.
        let mut s: Series = (0..30)
            .map(|i| (d(i), if i % 2 == 0 { 58.0 } else { 62.0 }))
            .collect();
        s.insert(d(30), 70.0);
        // A value 31 days back does not count.
        s.insert(d(-1), 1000.0);
        let m = metric_day(&s, d(30), 0.5).unwrap();
        assert_eq!(m.history_days, 30);
        assert_eq!(m.baseline, Some((60.0, 2.0)));
        assert!((m.z.unwrap() - 10.0 / (1.4826 * 2.0)).abs() < 1e-12);
        assert_eq!(m.outside(), Some(true));
        // A flat history divides by the floor, not by zero.
        let flat: Series = (0..31)
            .map(|i| (d(i), if i == 30 { 61.0 } else { 60.0 }))
            .collect();
        assert_eq!(metric_day(&flat, d(30), 2.0).unwrap().z, Some(0.5));
    }

    #[test]
    fn trends_are_means_and_a_least_squares_slope_per_week() {
        let s: Series = (0..28).map(|i| (d(i), 50.0 + i as f64 / 7.0)).collect();
        let m = metric_day(&s, d(27), 1.0).unwrap();
        assert!((m.slope_per_week.unwrap() - 1.0).abs() < 1e-9);
        assert!((m.mean_28d.unwrap() - (50.0 + 13.5 / 7.0)).abs() < 1e-9);
        assert!((m.mean_7d.unwrap() - (50.0 + 24.0 / 7.0)).abs() < 1e-9);
    }

    #[test]
    fn classes_follow_the_wear_and_step_lines() {
        assert_eq!(activity_class(30, Some(20_000)).0, "not_worn");
        assert_eq!(activity_class(600, Some(499)).0, "low");
        assert_eq!(activity_class(600, None).0, "low");
        assert_eq!(activity_class(600, Some(500)).0, "normal");
        assert_eq!(activity_class(600, Some(10_000)).0, "high");
    }

    #[test]
    fn the_summary_counts_the_days_in_a_row() {
        let sign = |x: NaiveDate| (x >= d(3) && x <= d(5)).then_some(1);
        assert_eq!(run_length(d(5), sign), 3);
        assert_eq!(run_length(d(6), sign), 0);
        let w = Wording {
            label: "resting HR",
            unit: "bpm",
            decimals: 0,
        };
        let m = MetricDay {
            value: 66.0,
            baseline: Some((60.0, 1.0)),
            ..Default::default()
        };
        assert_eq!(
            clause(&w, &m, 3).unwrap(),
            "resting HR 6 bpm above your baseline for 3 days"
        );
    }
}
