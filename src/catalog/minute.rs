//! Heart rate per minute instead of every sample (`HEART_RATE_RESOLUTION=minute`), for small hosts:
//! real accounts record a sample every 2 s or so (reference §11 #3), ≈37,000 a day, ≈95 % of all rows.
//! Per minute that is 1,440 rows a day at most, each with the minute's mean, min, max and sample count.
//!
//! The samples of one request window (a civil day) are summed up here as they are converted, page by
//! page, and written when the window is complete, so a minute split across two pages is one row.

use super::types::field;
use super::{Measurement, USER_TAG};
use crate::point::FieldKind::{Float, Int};
use crate::point::{FieldValue, Point};
use chrono::DateTime;
use std::collections::BTreeMap;

/// The catalog entry whose samples are summarised.
pub const SUMMARISED: &str = "heart-rate";

/// The source measurement and field the summary reads.
const SAMPLE_MEASUREMENT: &str = "heart_rate";
const SAMPLE_FIELD: &str = "bpm";

pub static HEART_RATE_MINUTE: Measurement = Measurement {
    name: "heart_rate_minute",
    doc: "heart rate per minute, instead of every sample, with HEART_RATE_RESOLUTION=minute (minutes without samples are absent)",
    time: "start of the minute (UTC)",
    tags: &[USER_TAG],
    fields: &[
        field("mean_bpm", Float, "bpm", "mean of the minute's samples"),
        field("min_bpm", Int, "bpm", "lowest sample"),
        field("max_bpm", Int, "bpm", "highest sample"),
        field("samples", Int, "samples", "number of samples in the minute"),
    ],
};

const MINUTE_NS: i64 = 60_000_000_000;

#[derive(Debug, Clone, Copy)]
struct Minute {
    sum: i64,
    min: i64,
    max: i64,
    samples: i64,
}

/// A point's tags and the start of its minute (ns).
type MinuteKey = (Vec<(&'static str, String)>, i64);

/// The minutes of one window, by tag set and minute start.
#[derive(Debug, Default)]
pub struct MinuteSummary {
    minutes: BTreeMap<MinuteKey, Minute>,
}

impl MinuteSummary {
    /// Adds a heart-rate sample point; other points are ignored.
    pub fn add(&mut self, p: &Point) {
        if p.measurement != SAMPLE_MEASUREMENT {
            return;
        }
        let Some(bpm) = p.fields.iter().find_map(|(k, v)| match v {
            FieldValue::Int(n) if *k == SAMPLE_FIELD => Some(*n),
            _ => None,
        }) else {
            return;
        };
        let start = p.time_ns.div_euclid(MINUTE_NS) * MINUTE_NS;
        self.minutes
            .entry((p.tags.clone(), start))
            .and_modify(|m| {
                m.sum += bpm;
                m.min = m.min.min(bpm);
                m.max = m.max.max(bpm);
                m.samples += 1;
            })
            .or_insert(Minute {
                sum: bpm,
                min: bpm,
                max: bpm,
                samples: 1,
            });
    }

    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }

    /// One point per minute that had samples.
    pub fn into_points(self) -> Vec<Point> {
        self.minutes
            .into_iter()
            .map(|((tags, start), m)| {
                let mut p = Point::new(
                    HEART_RATE_MINUTE.name,
                    DateTime::from_timestamp_nanos(start),
                )
                .float("mean_bpm", m.sum as f64 / m.samples as f64)
                .int("min_bpm", m.min)
                .int("max_bpm", m.max)
                .int("samples", m.samples);
                p.tags = tags;
                p
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(secs: i64, bpm: i64) -> Point {
        Point::new("heart_rate", DateTime::from_timestamp(secs, 0).unwrap())
            .tag("user", "me")
            .int("bpm", bpm)
    }

    #[test]
    fn a_minute_is_its_samples_mean_min_max_and_count() {
        let mut s = MinuteSummary::default();
        // Newest first, as pages come; the minute 60..120 split across "pages".
        for (t, bpm) in [(125, 90), (119, 70), (61, 60), (60, 65), (59, 100)] {
            s.add(&sample(t, bpm));
        }
        let got: Vec<String> = s.into_points().iter().map(Point::to_line).collect();
        assert_eq!(
            got,
            [
                "heart_rate_minute,user=me mean_bpm=100,min_bpm=100i,max_bpm=100i,samples=1i 0",
                "heart_rate_minute,user=me mean_bpm=65,min_bpm=60i,max_bpm=70i,samples=3i 60000000000",
                "heart_rate_minute,user=me mean_bpm=90,min_bpm=90i,max_bpm=90i,samples=1i 120000000000",
            ]
        );
    }
}
