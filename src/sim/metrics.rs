//! The simulated person's other series, all derived from the day's minute timeline and sleep, so that
//! they agree with each other (a run shows up in steps, distance, calories, zones and the exercise).

use super::world::{mix, Activity, Minute, Person, SleepSession};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A recorded run with the summary the API reports for it.
#[derive(Debug, Clone)]
pub struct Exercise {
    pub id: u64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub steps: i64,
    pub distance_mm: f64,
    pub kcal: f64,
    pub avg_bpm: i64,
    pub azm: i64,
    pub elevation_mm: f64,
    pub vo2max: f64,
}

/// Resting metabolism per minute, kcal.
const BMR_PER_MINUTE: f64 = 1.1;

/// Rounds to one decimal, as the API's percentages and rates come.
fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Person {
    /// Millimetres covered in a minute: steps times the stride (longer when running).
    pub fn distance_mm(&self, m: &Minute) -> i64 {
        let stride = if m.activity == Activity::Running {
            self.stride_mm() * 14 / 10
        } else {
            self.stride_mm()
        };
        m.steps * stride
    }

    /// Floors climbed per minute (some walking minutes take stairs).
    pub fn floors(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, i64)> {
        let mut r = self.rng(day, 8);
        self.minutes(day)
            .into_iter()
            .filter(|m| m.activity == Activity::Walking)
            .filter_map(|m| r.chance(6).then_some((m.t, 1)))
            .collect()
    }

    /// Calories of each minute of a worn day: (minute, total kcal, active kcal above resting).
    pub fn calories(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, f64, f64)> {
        self.minutes(day)
            .into_iter()
            .map(|m| {
                let active = match m.activity {
                    Activity::Asleep => 0.0,
                    Activity::Resting if m.steps > 0 => 0.8,
                    Activity::Resting => 0.0,
                    Activity::Walking => 3.5,
                    Activity::Running => 11.0,
                };
                (m.t, BMR_PER_MINUTE + active, active)
            })
            .collect()
    }

    /// The Active Zone Minutes zone of a minute: FAT_BURN (worth 1) or CARDIO/PEAK (worth 2).
    pub fn azm_zone(m: &Minute) -> Option<(&'static str, i64)> {
        match m.activity {
            Activity::Walking => Some(("FAT_BURN", 1)),
            Activity::Running if m.peak => Some(("PEAK", 2)),
            Activity::Running => Some(("CARDIO", 2)),
            _ => None,
        }
    }

    /// The heart-rate zone of a minute for time-in-zone (LIGHT/MODERATE/VIGOROUS/PEAK).
    pub fn heart_zone(m: &Minute) -> Option<&'static str> {
        match m.activity {
            Activity::Resting if m.steps > 0 => Some("LIGHT"),
            Activity::Walking => Some("MODERATE"),
            Activity::Running if m.peak => Some("PEAK"),
            Activity::Running => Some("VIGOROUS"),
            _ => None,
        }
    }

    /// The active-minutes level of a minute (LIGHT/MODERATE/VIGOROUS), if it was active.
    pub fn active_level(m: &Minute) -> Option<&'static str> {
        match m.activity {
            Activity::Resting if m.steps > 0 => Some("LIGHT"),
            Activity::Walking => Some("MODERATE"),
            Activity::Running => Some("VIGOROUS"),
            _ => None,
        }
    }

    /// Activity-level intervals of a worn day (contiguous minutes of one level; sleep is not counted).
    pub fn activity_levels(
        &self,
        day: NaiveDate,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>, &'static str)> {
        let mut out: Vec<(DateTime<Utc>, DateTime<Utc>, &'static str)> = Vec::new();
        for m in self.minutes(day) {
            let level = match m.activity {
                Activity::Asleep => None,
                Activity::Resting if m.steps > 0 => Some("LIGHTLY_ACTIVE"),
                Activity::Resting => Some("SEDENTARY"),
                Activity::Walking => Some("MODERATELY_ACTIVE"),
                Activity::Running => Some("VERY_ACTIVE"),
            };
            let Some(level) = level else { continue };
            let end = m.t + Duration::minutes(1);
            match out.last_mut() {
                Some(last) if last.2 == level && last.1 == m.t => last.1 = end,
                _ => out.push((m.t, end, level)),
            }
        }
        out
    }

    /// The main sleep that ends on `day`.
    pub fn main_sleep(&self, day: NaiveDate) -> Option<SleepSession> {
        self.sleep_ending_on(day).into_iter().find(|s| !s.nap)
    }

    /// HRV samples every five minutes of the main sleep ending on `day`: (instant, RMSSD ms, SDNN ms).
    pub fn hrv_samples(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, f64, f64)> {
        let Some(s) = self.main_sleep(day) else {
            return Vec::new();
        };
        let mut r = self.rng(day, 9);
        let base = 30.0 + (mix(self.seed ^ 0x4a ^ self.index as u64) % 20) as f64;
        let mut out = Vec::new();
        let mut t = s.start + Duration::minutes(5);
        while t < s.end {
            let rmssd = tenth(base + r.range(-80, 80) as f64 / 10.0);
            out.push((t, rmssd, tenth(rmssd * 1.4 + r.range(0, 50) as f64 / 10.0)));
            t += Duration::minutes(5);
        }
        out
    }

    /// SpO2 samples every five minutes of the main sleep ending on `day`: (instant, percent).
    pub fn spo2_samples(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, f64)> {
        let Some(s) = self.main_sleep(day) else {
            return Vec::new();
        };
        let mut r = self.rng(day, 10);
        let mut out = Vec::new();
        let mut t = s.start + Duration::minutes(5);
        while t < s.end {
            out.push((t, tenth(93.0 + r.range(0, 55) as f64 / 10.0)));
            t += Duration::minutes(5);
        }
        out
    }

    /// Daily HRV for the night ending on `day`: (average ms, non-REM bpm, entropy, deep-sleep RMSSD ms).
    pub fn daily_hrv(&self, day: NaiveDate) -> Option<(f64, i64, f64, f64)> {
        let samples = self.hrv_samples(day);
        if samples.is_empty() {
            return None;
        }
        let avg = tenth(samples.iter().map(|s| s.1).sum::<f64>() / samples.len() as f64);
        let mut r = self.rng(day, 11);
        Some((
            avg,
            self.resting_bpm() - 3,
            tenth(1.2 + r.range(0, 8) as f64 / 10.0),
            tenth(avg * 0.9),
        ))
    }

    /// Daily SpO2 for the night ending on `day`: (average, lowest, highest, standard deviation) percent.
    pub fn daily_spo2(&self, day: NaiveDate) -> Option<(f64, f64, f64, f64)> {
        let v: Vec<f64> = self.spo2_samples(day).into_iter().map(|s| s.1).collect();
        if v.is_empty() {
            return None;
        }
        let avg = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        let lo = v.iter().copied().fold(f64::MAX, f64::min);
        let hi = v.iter().copied().fold(f64::MIN, f64::max);
        Some((tenth(avg), lo, hi, tenth(sd)))
    }

    /// Breathing rate of the night ending on `day`, per sleep stage: (end of sleep, full, deep, light, REM).
    pub fn respiratory(&self, day: NaiveDate) -> Option<(DateTime<Utc>, f64, f64, f64, f64)> {
        let s = self.main_sleep(day)?;
        let mut r = self.rng(day, 12);
        let full = tenth(14.0 + r.range(0, 25) as f64 / 10.0);
        Some((
            s.end,
            full,
            tenth(full - 0.8),
            tenth(full - 0.2),
            tenth(full + 0.9),
        ))
    }

    /// Sleep temperature of the night ending on `day`: (nightly, baseline, 30-day deviation) °C; the
    /// baseline is NaN for the first three nights and the deviation for the first two weeks, as on a
    /// newly paired watch.
    pub fn temperature(&self, day: NaiveDate) -> Option<(f64, f64, f64)> {
        self.main_sleep(day)?;
        let mut r = self.rng(day, 13);
        let nth = (day - self.first_day).num_days();
        let nightly = ((34.2 + r.range(0, 80) as f64 / 100.0) * 100.0).round() / 100.0;
        let baseline = if nth < 3 { f64::NAN } else { 34.6 };
        let stddev = if nth < 14 { f64::NAN } else { 0.21 };
        Some((nightly, baseline, stddev))
    }

    /// Cardio fitness of `day`: (VO2 max, level).
    pub fn vo2max(&self, day: NaiveDate) -> Option<(f64, &'static str)> {
        if !self.worn(day) {
            return None;
        }
        let v = tenth(
            44.0 + (mix(self.seed ^ 0x02 ^ self.index as u64) % 6) as f64
                + self.rng(day, 14).range(-5, 5) as f64 / 10.0,
        );
        let level = match v {
            x if x < 38.0 => "FAIR",
            x if x < 44.0 => "AVERAGE",
            x if x < 48.0 => "GOOD",
            _ => "VERY_GOOD",
        };
        Some((v, level))
    }

    /// Heart-rate zones of `day` (Karvonen): (zone, min bpm, max bpm).
    pub fn heart_rate_zones(&self, day: NaiveDate) -> Option<[(&'static str, i64, i64); 4]> {
        if !self.worn(day) {
            return None;
        }
        let rest = self.resting_heart_rate(day)?;
        let reserve = 190 - rest;
        let at = |f: f64| rest + (reserve as f64 * f).round() as i64;
        Some([
            ("LIGHT", at(0.3), at(0.4) - 1),
            ("MODERATE", at(0.4), at(0.6) - 1),
            ("VIGOROUS", at(0.6), at(0.85) - 1),
            ("PEAK", at(0.85), 220),
        ])
    }

    /// Body fat, measured with the weight: (instant, percent).
    pub fn body_fat(&self, day: NaiveDate) -> Option<(DateTime<Utc>, f64)> {
        let (t, grams) = self.weight(day)?;
        Some((t, tenth(14.0 + (grams - 60_000.0) / 2_000.0)))
    }

    /// Height, entered once when the account was set up: (instant, millimetres).
    pub fn height(&self, day: NaiveDate) -> Option<(DateTime<Utc>, i64)> {
        (day == self.first_day).then(|| {
            (
                self.at(day, 9, 0, 0),
                1_650 + (mix(self.seed ^ 0x77 ^ self.index as u64) % 300) as i64,
            )
        })
    }

    /// The run of `day` as an exercise, summarised from the same minutes and samples.
    pub fn exercise(&self, day: NaiveDate) -> Option<Exercise> {
        let (start, end) = self.run_on(day)?;
        let minutes: Vec<Minute> = self
            .minutes(day)
            .into_iter()
            .filter(|m| m.t >= start && m.t < end)
            .collect();
        let hr: Vec<i64> = self
            .heart_rate(day)
            .into_iter()
            .filter(|(t, _)| *t >= start && *t < end)
            .map(|(_, b)| b)
            .collect();
        let kcal: f64 = self
            .calories(day)
            .into_iter()
            .filter(|(t, _, _)| *t >= start && *t < end)
            .map(|(_, total, _)| total)
            .sum();
        let floors = self
            .floors(day)
            .into_iter()
            .filter(|(t, _)| *t >= start && *t < end)
            .count();
        Some(Exercise {
            id: 2_026_000_000_000_000_000
                + mix(self.seed ^ start.timestamp() as u64) % 100_000_000_000_000,
            start,
            end,
            steps: minutes.iter().map(|m| m.steps).sum(),
            distance_mm: minutes.iter().map(|m| self.distance_mm(m)).sum::<i64>() as f64,
            kcal: tenth(kcal),
            avg_bpm: if hr.is_empty() {
                0
            } else {
                hr.iter().sum::<i64>() / hr.len() as i64
            },
            azm: minutes
                .iter()
                .filter_map(Self::azm_zone)
                .map(|(_, v)| v)
                .sum(),
            elevation_mm: floors as f64 * 3_000.0,
            vo2max: self.vo2max(day).map_or(0.0, |(v, _)| tenth(v + 1.5)),
        })
    }
}
