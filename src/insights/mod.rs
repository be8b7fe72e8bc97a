//! Insights the daemon derives from what InfluxDB holds, after each round that wrote data (and once
//! over the whole history when it starts): wear time and the day's activity class, personal baselines
//! with the days far outside them, 7- and 28-day trends, sleep regularity, and a line saying what
//! changed. Everything is recomputed from the stored series, so a rerun writes the same values over
//! the same points; a day without enough history says so (`history_days`) and gets no baseline.
//!
//! | module | its one job |
//! |---|---|
//! | [`compute`] | the arithmetic on day → value series (median/MAD baselines, trends, classes, wording) |
//! | this module | which series, read from InfluxDB; the points of `insight` and `day_insight` |

pub mod compute;

use crate::catalog::{self, field, Measurement, Tag, USER_TAG};
use crate::influx::{InfluxReader, InfluxWriter};
use crate::point::FieldKind::{Bool, Float, Int, Str};
use crate::point::Point;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use compute::{Series, Wording};
use std::collections::BTreeMap;

pub static INSIGHT: Measurement = Measurement {
    name: "insight",
    doc: "one metric's day against the person's own history (recomputed from the stored series after each round)",
    time: catalog::DAILY_TIME,
    tags: &[
        USER_TAG,
        Tag {
            name: "metric",
            doc: "resting_hr, hrv, breathing_rate, sleep_minutes, skin_temperature, bedtime, wake, steps",
        },
    ],
    fields: &[
        field("value", Float, "", "the day's value (for a night: the main sleep ending that day)"),
        field("history_days", Int, "days", "days with a value among the 30 before; a baseline needs 14"),
        field("baseline_median", Float, "", "median of those days (absent with less than 14)"),
        field("baseline_mad", Float, "", "median absolute deviation from that median"),
        field("deviation_z", Float, "", "(value − median) / max(1.4826 × MAD, the metric's floor): a robust z-score"),
        field("outside_baseline", Bool, "", "|deviation_z| ≥ 3: a day far outside the usual"),
        field("mean_7d", Float, "", "mean of the 7 days ending here (at least 4 values)"),
        field("mean_28d", Float, "", "mean of the 28 days ending here (at least 14 values)"),
        field("slope_per_week", Float, "/week", "least-squares trend over those 28 days"),
        field("sd_7d", Float, "", "sample standard deviation over 7 days (bedtime, wake: sleep regularity)"),
        field("sd_28d", Float, "", "sample standard deviation over 28 days"),
    ],
};

pub static DAY_INSIGHT: Measurement = Measurement {
    name: "day_insight",
    doc: "the day as a whole: wear time, activity class and what changed",
    time: catalog::DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[
        field(
            "wear_min",
            Int,
            "min",
            "minutes of the day with at least one heart-rate sample",
        ),
        field(
            "activity_class",
            Str,
            "",
            "not_worn (under 60 wear minutes), low (< 500 steps), normal (< 10,000), high",
        ),
        field(
            "activity_level",
            Int,
            "",
            "the class as 0 (not worn) … 3 (high), for charts",
        ),
        field(
            "outside_metrics",
            Int,
            "",
            "metrics outside their baseline that day",
        ),
        field(
            "summary",
            Str,
            "",
            "what changed, e.g. \"resting HR 6 bpm above your baseline for 3 days\"",
        ),
    ],
};

/// Everything this module writes, for docs/schema.md.
pub static MEASUREMENTS: &[&Measurement] = &[&INSIGHT, &DAY_INSIGHT];

/// A metric: where its daily value is stored and how it is worded.
struct Metric {
    name: &'static str,
    measurement: &'static str,
    field: &'static str,
    /// Extra InfluxQL condition (the main sleep).
    only: &'static str,
    /// The smallest spread a deviation is measured in (see [`compute::metric_day`]).
    floor: f64,
    wording: Wording,
}

const MAIN: &str = " AND \"main_sleep\" = true";

const METRICS: &[Metric] = &[
    Metric {
        name: "resting_hr",
        measurement: "resting_heart_rate",
        field: "bpm",
        only: "",
        floor: 1.0,
        wording: Wording {
            label: "resting HR",
            unit: "bpm",
            decimals: 0,
        },
    },
    Metric {
        name: "hrv",
        measurement: "hrv_daily",
        field: "avg_ms",
        only: "",
        floor: 3.0,
        wording: Wording {
            label: "HRV",
            unit: "ms",
            decimals: 0,
        },
    },
    Metric {
        name: "breathing_rate",
        measurement: "respiratory_rate_daily",
        field: "brpm",
        only: "",
        floor: 0.3,
        wording: Wording {
            label: "breathing rate",
            unit: "breaths/min",
            decimals: 1,
        },
    },
    Metric {
        name: "sleep_minutes",
        measurement: "sleep",
        field: "minutes_asleep",
        only: MAIN,
        floor: 20.0,
        wording: Wording {
            label: "sleep",
            unit: "min",
            decimals: 0,
        },
    },
    Metric {
        name: "skin_temperature",
        measurement: "sleep_temperature",
        field: "nightly_c",
        only: "",
        floor: 0.2,
        wording: Wording {
            label: "skin temperature",
            unit: "°C",
            decimals: 1,
        },
    },
    Metric {
        name: "bedtime",
        measurement: "sleep",
        field: "bedtime_min",
        only: MAIN,
        floor: 20.0,
        wording: Wording {
            label: "bedtime",
            unit: "min",
            decimals: 0,
        },
    },
    Metric {
        name: "wake",
        measurement: "sleep",
        field: "wake_min",
        only: MAIN,
        floor: 20.0,
        wording: Wording {
            label: "wake-up",
            unit: "min",
            decimals: 0,
        },
    },
    Metric {
        name: "steps",
        measurement: "steps_daily",
        field: "count",
        only: "",
        // Steps vary widely from day to day: only a day thousands away from the usual is news.
        floor: 2500.0,
        wording: Wording {
            label: "steps",
            unit: "",
            decimals: 0,
        },
    },
];

/// Whose insights, and how their heart rate is stored.
pub struct Subject<'a> {
    pub user: &'a str,
    pub tz: Tz,
    /// The first day of the history: no day before it gets a point.
    pub start: NaiveDate,
    /// `HEART_RATE_RESOLUTION=minute`: wear minutes are the stored minutes.
    pub heart_rate_per_minute: bool,
}

/// Recomputes and writes the insights of `[from, today]`. Returns the points written.
pub async fn refresh(
    reader: &InfluxReader,
    writer: &InfluxWriter,
    who: &Subject<'_>,
    from: NaiveDate,
    today: NaiveDate,
) -> Result<usize, String> {
    let from = from.max(who.start);
    if from > today {
        return Ok(0);
    }
    // Baselines of the first days, and the days in a row before them, need 58 days of history.
    let read_from = from - Duration::days(compute::BASELINE_DAYS + 28);
    let mut series = Vec::with_capacity(METRICS.len());
    for m in METRICS {
        series.push(daily_series(reader, who, m, read_from, today).await?);
    }
    let wear = wear_minutes(reader, who, from, today).await?;
    let mut points = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= today) {
        let midnight = catalog::read::local_midnight(day, who.tz);
        let mut clauses = Vec::new();
        let mut outside = 0;
        let mut most_history = 0;
        let mut any_value = false;
        for (m, s) in METRICS.iter().zip(&series) {
            let Some(md) = compute::metric_day(s, day, m.floor) else {
                continue;
            };
            most_history = most_history.max(md.history_days);
            any_value = true;
            if md.outside() == Some(true) {
                outside += 1;
                let sign = |d: NaiveDate| {
                    compute::metric_day(s, d, m.floor)
                        .filter(|x| x.outside() == Some(true))
                        .and_then(|x| x.z)
                        .map(|z| z.signum() as i8)
                };
                let days = compute::run_length(day, sign);
                clauses.extend(compute::clause(&m.wording, &md, days));
            }
            points.push(insight_point(who.user, m.name, midnight, &md));
        }
        // A day without a heart-rate sample was worn for 0 minutes: a count, not a missing value.
        let wear_min = wear.get(&day).copied().unwrap_or(0);
        let steps = series[METRICS.len() - 1].get(&day).map(|v| *v as i64);
        let (class, level) = compute::activity_class(wear_min, steps);
        let summary = if !clauses.is_empty() {
            clauses.join("; ")
        } else if !any_value {
            "no values to compare that day".to_string()
        } else if most_history < compute::MIN_BASELINE_VALUES {
            format!(
                "not enough history for baselines yet ({most_history} of the {} days they need)",
                compute::MIN_BASELINE_VALUES
            )
        } else {
            "everything within your baselines".to_string()
        };
        points.push(
            Point::new(DAY_INSIGHT.name, midnight)
                .tag("user", who.user)
                .int("wear_min", wear_min)
                .string("activity_class", class)
                .int("activity_level", level)
                .int("outside_metrics", outside)
                .string("summary", summary),
        );
    }
    writer.write(&points).await.map_err(|e| e.to_string())?;
    Ok(points.len())
}

fn insight_point(
    user: &str,
    metric: &'static str,
    t: chrono::DateTime<Utc>,
    m: &compute::MetricDay,
) -> Point {
    let mut p = Point::new(INSIGHT.name, t)
        .tag("user", user)
        .tag("metric", metric)
        .float("value", m.value)
        .int("history_days", m.history_days as i64);
    if let Some((med, mad)) = m.baseline {
        p = p.float("baseline_median", med).float("baseline_mad", mad);
    }
    p.float_opt("deviation_z", m.z)
        .bool_opt("outside_baseline", m.outside())
        .float_opt("mean_7d", m.mean_7d)
        .float_opt("mean_28d", m.mean_28d)
        .float_opt("slope_per_week", m.slope_per_week)
        .float_opt("sd_7d", m.sd_7d)
        .float_opt("sd_28d", m.sd_28d)
}

fn quoted(user: &str) -> String {
    user.replace('\\', "\\\\").replace('\'', "\\'")
}

fn ns(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// A metric's values by civil date over `[from, to]` (the last of a date when there are several).
async fn daily_series(
    reader: &InfluxReader,
    who: &Subject<'_>,
    m: &Metric,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Series, String> {
    let q = format!(
        "SELECT \"{}\" FROM \"{}\" WHERE \"user\" = '{}' AND time >= {} AND time < {}{}",
        m.field,
        m.measurement,
        quoted(who.user),
        ns(catalog::read::local_midnight(from, who.tz)),
        ns(catalog::read::local_midnight(
            to + Duration::days(1),
            who.tz
        )),
        m.only
    );
    let answer = reader.query(&[q]).await.map_err(|e| e.to_string())?;
    let mut out = Series::new();
    for s in answer.into_iter().flatten() {
        for row in s.values {
            let (Some(t), Some(v)) = (
                row.first().and_then(|v| v.as_i64()),
                row.get(1).and_then(|v| v.as_f64()),
            ) else {
                continue;
            };
            out.insert(
                Utc.timestamp_nanos(t).with_timezone(&who.tz).date_naive(),
                v,
            );
        }
    }
    Ok(out)
}

/// Minutes with at least one heart-rate sample, per civil day of `[from, to]` (a week per request).
async fn wear_minutes(
    reader: &InfluxReader,
    who: &Subject<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, i64>, String> {
    let (measurement, field) = if who.heart_rate_per_minute {
        (catalog::minute::HEART_RATE_MINUTE.name, "samples")
    } else {
        ("heart_rate", "bpm")
    };
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let mut out = BTreeMap::new();
    for week in days.chunks(7) {
        let statements: Vec<String> = week
            .iter()
            .map(|d| {
                format!(
                    "SELECT count(\"{field}\") FROM \"{measurement}\" WHERE \"user\" = '{}' AND time >= {} AND time < {} GROUP BY time(1m) fill(none)",
                    quoted(who.user),
                    ns(catalog::read::local_midnight(*d, who.tz)),
                    ns(catalog::read::local_midnight(*d + Duration::days(1), who.tz)),
                )
            })
            .collect();
        let answer = reader.query(&statements).await.map_err(|e| e.to_string())?;
        for (d, series) in week.iter().zip(answer) {
            let minutes: usize = series.iter().map(|s| s.values.len()).sum();
            if minutes > 0 {
                out.insert(*d, minutes as i64);
            }
        }
    }
    Ok(out)
}
