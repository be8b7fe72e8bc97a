//! What is known about each civil day of one user's data type: the unit the sync engine plans with.
//!
//! A day is in one of four conditions:
//! - **final**: fetched completely after every device that records the type had synced past its end
//!   (plus a settle margin, see [`crate::sync::horizon`]); never fetched again unless `verify` finds it
//!   disagrees with the API;
//! - **open**: fetched, but a device may still upload data for it (today, a watch that has not synced
//!   since, an in-progress sleep); fetched again every refresh round;
//! - **failed**: its last fetch failed or met unreadable points; retried with backoff ([`DayFailure`]);
//! - **missing**: never fetched (the backfill), which is everything not in the other three.
//!
//! Days an archive import wrote (`fitbit-influx import`) are kept apart, as **imported**: the backfill
//! does not fetch them — except the newest, which an export may have cut off — until `verify` finds
//! one disagreeing with the API. Days the archive lacks are fetched as usual.
//!
//! Day sets are stored as sorted, disjoint, inclusive ranges, so a year of final days is one entry.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A set of civil days as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DaySet(Vec<(NaiveDate, NaiveDate)>);

impl DaySet {
    pub fn ranges(&self) -> &[(NaiveDate, NaiveDate)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.0.iter().any(|(a, b)| *a <= day && day <= *b)
    }

    pub fn len(&self) -> i64 {
        self.0.iter().map(|(a, b)| (*b - *a).num_days() + 1).sum()
    }

    pub fn insert_range(&mut self, from: NaiveDate, to: NaiveDate) {
        if from > to {
            return;
        }
        let (mut lo, mut hi) = (from, to);
        let mut kept = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            // Overlapping or adjacent ranges merge.
            if b + Duration::days(1) < lo || hi + Duration::days(1) < a {
                kept.push((a, b));
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        kept.push((lo, hi));
        kept.sort();
        self.0 = kept;
    }

    pub fn insert(&mut self, day: NaiveDate) {
        self.insert_range(day, day);
    }

    pub fn remove_range(&mut self, from: NaiveDate, to: NaiveDate) {
        if from > to {
            return;
        }
        let mut kept = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            if b < from || to < a {
                kept.push((a, b));
                continue;
            }
            if a < from {
                kept.push((a, from - Duration::days(1)));
            }
            if to < b {
                kept.push((to + Duration::days(1), b));
            }
        }
        self.0 = kept;
    }

    pub fn remove(&mut self, day: NaiveDate) {
        self.remove_range(day, day);
    }

    /// The newest day in the set.
    pub fn last(&self) -> Option<NaiveDate> {
        self.0.last().map(|(_, b)| *b)
    }

    /// The last day of the range that reaches furthest back to `from`: "final through" for people.
    pub fn through_from(&self, from: NaiveDate) -> Option<NaiveDate> {
        self.0
            .iter()
            .find(|(a, b)| *a <= from && from <= *b)
            .map(|(_, b)| *b)
    }
}

/// A day whose last fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFailure {
    /// Failed attempts in a row.
    pub attempts: u32,
    pub last_error: String,
    /// Not tried again before this.
    pub next_try: DateTime<Utc>,
    /// When the first failure in this row happened.
    pub since: DateTime<Utc>,
}

/// Retry delays for failed days: 1, 2, 4 … minutes, at most [`RETRY_MAX`] apart.
pub const RETRY_FIRST: std::time::Duration = std::time::Duration::from_secs(60);
pub const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
/// After this many failures in a row a day is reported (warning, `status`, health note).
pub const REPORT_AFTER_ATTEMPTS: u32 = 3;

pub fn retry_delay(attempts: u32) -> Duration {
    let secs = RETRY_FIRST
        .as_secs()
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
    Duration::seconds(secs.min(RETRY_MAX.as_secs()) as i64)
}

/// One data type's coverage for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    #[serde(default, rename = "final", skip_serializing_if = "DaySet::is_empty")]
    pub final_days: DaySet,
    #[serde(default, rename = "open", skip_serializing_if = "DaySet::is_empty")]
    pub open_days: DaySet,
    /// Days an archive import wrote points of this type on.
    #[serde(default, rename = "imported", skip_serializing_if = "DaySet::is_empty")]
    pub imported_days: DaySet,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed: BTreeMap<NaiveDate, DayFailure>,
    /// Set when the API said this request can never work for this account (a configuration fact such
    /// as `UNSUPPORTED_DATA_TYPE_ACTION`): the type is not requested again; the text says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    /// The last time a window of this type was fetched and written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
    /// When open days were last written. Persisted so that restarts (even a crash loop) do not
    /// fetch them again before the next refresh is due, but continue the backfill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_fetched_at: Option<DateTime<Utc>>,
}

/// What the sync learned about one day of a window that was fetched and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOutcome {
    /// Every device had synced past it: the data can no longer change.
    Final,
    /// Written, but it may still change.
    Open,
}

impl Coverage {
    /// Days written: final or open as the sync judged them. A day leaves the failed set.
    pub fn record_written(&mut self, day: NaiveDate, outcome: DayOutcome, now: DateTime<Utc>) {
        self.failed.remove(&day);
        match outcome {
            DayOutcome::Final => {
                self.open_days.remove(day);
                self.final_days.insert(day);
            }
            DayOutcome::Open => {
                self.final_days.remove(day);
                self.open_days.insert(day);
                self.open_fetched_at = Some(now);
            }
        }
        self.last_success = Some(now);
    }

    /// A failed fetch (or unreadable points) for `day`: counted, retried after a backoff.
    pub fn record_failure(&mut self, day: NaiveDate, error: &str, now: DateTime<Utc>) -> u32 {
        self.final_days.remove(day);
        let entry = self.failed.entry(day).or_insert(DayFailure {
            attempts: 0,
            last_error: String::new(),
            next_try: now,
            since: now,
        });
        entry.attempts += 1;
        entry.last_error = error.chars().take(300).collect();
        entry.next_try = now + retry_delay(entry.attempts);
        entry.attempts
    }

    /// Forgets what is known of `[from, to]` so that the next round fetches it again (`verify`).
    pub fn reopen(&mut self, from: NaiveDate, to: NaiveDate) {
        self.final_days.remove_range(from, to);
        self.open_days.remove_range(from, to);
        self.imported_days.remove_range(from, to);
    }

    /// Whether an archive already gave `day`, so the API need not: any imported day but the newest
    /// (an export ends during its last day, whose rest the API fills).
    pub fn from_archive(&self, day: NaiveDate) -> bool {
        self.imported_days.contains(day) && self.imported_days.last() != Some(day)
    }

    /// Days only an archive gave (not fetched from the API since), for the progress figures.
    pub fn archive_only_days(&self) -> i64 {
        self.imported_days
            .ranges()
            .iter()
            .flat_map(|(a, b)| a.iter_days().take_while(move |d| d <= b))
            .filter(|d| {
                self.from_archive(*d)
                    && !self.final_days.contains(*d)
                    && !self.open_days.contains(*d)
            })
            .count() as i64
    }

    /// When the open days are due again, refreshing every `interval`.
    pub fn next_refresh(&self, interval: Duration) -> Option<DateTime<Utc>> {
        if self.open_days.is_empty() || self.disabled.is_some() {
            return None;
        }
        Some(
            self.open_fetched_at
                .map_or(DateTime::<Utc>::MIN_UTC, |t| t + interval),
        )
    }

    /// The earliest retry of a failed day.
    pub fn next_retry(&self) -> Option<DateTime<Utc>> {
        self.failed.values().map(|f| f.next_try).min()
    }

    /// Failed days that failed often enough to be reported.
    pub fn persistent_failures(&self) -> impl Iterator<Item = (&NaiveDate, &DayFailure)> {
        self.failed
            .iter()
            .filter(|(_, f)| f.attempts >= REPORT_AFTER_ATTEMPTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn day_sets_merge_split_and_count() {
        let mut s = DaySet::default();
        s.insert_range(d("2026-01-10"), d("2026-01-12"));
        s.insert(d("2026-01-14"));
        assert_eq!(s.ranges().len(), 2);
        s.insert(d("2026-01-13")); // bridges the gap
        assert_eq!(s.ranges(), &[(d("2026-01-10"), d("2026-01-14"))]);
        assert_eq!(s.len(), 5);
        s.remove(d("2026-01-12"));
        assert_eq!(
            s.ranges(),
            &[
                (d("2026-01-10"), d("2026-01-11")),
                (d("2026-01-13"), d("2026-01-14"))
            ]
        );
        assert!(!s.contains(d("2026-01-12")) && s.contains(d("2026-01-13")));
        assert_eq!(s.through_from(d("2026-01-10")), Some(d("2026-01-11")));
        s.remove_range(d("2026-01-01"), d("2026-02-01"));
        assert!(s.is_empty());
    }

    #[test]
    fn failures_back_off_and_writes_clear_them() {
        let now: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
        let mut c = Coverage::default();
        let day = d("2026-02-27");
        c.record_written(day, DayOutcome::Final, now);
        assert_eq!(c.record_failure(day, "503", now), 1);
        assert!(!c.final_days.contains(day));
        assert_eq!(c.failed[&day].next_try, now + Duration::minutes(1));
        c.record_failure(day, "503", now);
        c.record_failure(day, "503", now);
        assert_eq!(c.failed[&day].next_try, now + Duration::minutes(4));
        assert_eq!(c.persistent_failures().count(), 1);
        for _ in 0..30 {
            c.record_failure(day, "503", now);
        }
        assert_eq!(c.failed[&day].next_try, now + Duration::hours(6));
        c.record_written(day, DayOutcome::Open, now);
        assert!(c.failed.is_empty() && c.open_days.contains(day));
        c.record_written(day, DayOutcome::Final, now);
        assert!(c.open_days.is_empty() && c.final_days.contains(day));
    }
}
