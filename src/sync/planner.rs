//! Which windows a round fetches for one data type, from its coverage: days never fetched (backfill),
//! open days (when a refresh is due) and failed days whose retry time has come — newest first, cut into
//! windows of at most the type's window size. Contiguous due days share a window, so a failed day in
//! the middle of history costs one small window, not a re-fetch of its neighbours.

use crate::coverage::Coverage;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A window of civil days `[from, to]`, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        self.from.iter_days().take_while({
            let to = self.to;
            move |d| *d <= to
        })
    }

    /// Days in the window (a window always has at least one).
    pub fn days_count(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// What the planner is asked.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// The first day of the user's history (account start or `BACKFILL_FROM`).
    pub start: NaiveDate,
    /// Today in the user's zone.
    pub today: NaiveDate,
    pub window_days: u32,
    /// Open days written before this instant are fetched again (`None`: not this round).
    pub refresh_before: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// Whether `day` needs fetching this round.
fn due(c: &Coverage, day: NaiveDate, plan: &Plan) -> bool {
    if let Some(f) = c.failed.get(&day) {
        return f.next_try <= plan.now;
    }
    if c.final_days.contains(day) || c.from_archive(day) {
        return false;
    }
    if c.open_days.contains(day) {
        return plan
            .refresh_before
            .is_some_and(|before| c.open_fetched_at.is_none_or(|t| t < before));
    }
    true
}

/// The windows to fetch, newest first.
pub fn windows(c: &Coverage, plan: &Plan) -> Vec<Window> {
    let mut out = Vec::new();
    let size = Duration::days(plan.window_days.max(1) as i64);
    let mut day = plan.today;
    while day >= plan.start {
        if !due(c, day, plan) {
            day -= Duration::days(1);
            continue;
        }
        // A run of due days ending at `day`, at most one window long.
        let to = day;
        let mut from = day;
        while from > plan.start && to - from + Duration::days(1) < size {
            let prev = from - Duration::days(1);
            if !due(c, prev, plan) {
                break;
            }
            from = prev;
        }
        out.push(Window { from, to });
        day = from - Duration::days(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::DayOutcome;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn plan(refresh: bool) -> Plan {
        let now: DateTime<Utc> = "2026-01-20T12:00:00Z".parse().unwrap();
        Plan {
            start: d("2026-01-01"),
            today: d("2026-01-20"),
            window_days: 7,
            refresh_before: refresh.then_some(now),
            now,
        }
    }

    fn w(a: &str, b: &str) -> Window {
        Window {
            from: d(a),
            to: d(b),
        }
    }

    #[test]
    fn a_new_type_is_planned_newest_first_in_full_windows() {
        let c = Coverage::default();
        assert_eq!(
            windows(&c, &plan(false)),
            vec![
                w("2026-01-14", "2026-01-20"),
                w("2026-01-07", "2026-01-13"),
                w("2026-01-01", "2026-01-06")
            ]
        );
    }

    #[test]
    fn final_open_and_failed_days_are_planned_as_they_should() {
        let p = plan(false);
        let mut c = Coverage::default();
        c.final_days.insert_range(d("2026-01-01"), d("2026-01-17"));
        c.open_days.insert_range(d("2026-01-18"), d("2026-01-20"));
        assert!(windows(&c, &p).is_empty(), "nothing due between refreshes");
        assert_eq!(
            windows(&c, &plan(true)),
            vec![w("2026-01-18", "2026-01-20")]
        );
        // Open days written after the refresh point (earlier in this round, or just before a
        // restart) are not fetched again.
        c.open_fetched_at = Some(p.now + Duration::seconds(1));
        assert!(windows(&c, &plan(true)).is_empty());
        // A failure in history: only that day, and only once its retry time has come.
        c.record_failure(d("2026-01-05"), "503", p.now - Duration::minutes(5));
        assert_eq!(windows(&c, &p), vec![w("2026-01-05", "2026-01-05")]);
        c.record_failure(d("2026-01-05"), "503", p.now);
        assert!(windows(&c, &p).is_empty());
        // BACKFILL_FROM moved earlier: the new days are missing, hence due.
        c.record_written(d("2026-01-05"), DayOutcome::Final, p.now);
        let earlier = Plan {
            start: d("2025-12-29"),
            ..p
        };
        assert_eq!(windows(&c, &earlier), vec![w("2025-12-29", "2025-12-31")]);
    }

    #[test]
    fn imported_days_are_not_fetched_but_the_newest_and_what_verify_reopens() {
        let p = plan(false);
        let mut c = Coverage::default();
        c.imported_days
            .insert_range(d("2026-01-03"), d("2026-01-10"));
        c.imported_days
            .insert_range(d("2026-01-12"), d("2026-01-15"));
        assert_eq!(
            windows(&c, &p),
            vec![
                w("2026-01-15", "2026-01-20"),
                w("2026-01-11", "2026-01-11"),
                w("2026-01-01", "2026-01-02")
            ],
            "the archive's newest day (cut off by the export) and the days it lacks"
        );
        assert_eq!(c.archive_only_days(), 11);
        c.reopen(d("2026-01-05"), d("2026-01-05"));
        assert!(windows(&c, &p).contains(&w("2026-01-05", "2026-01-05")));
    }
}
