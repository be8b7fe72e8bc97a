//! `fitbit-influx status`: what the state file says about every user and data type — which days are
//! final, which are open, which failed (with the last error and the next try), which entries are
//! disabled — as a table for people or `--json` for scripts. It only reads the state file, so it
//! works while the daemon runs.

use crate::coverage::{Coverage, DaySet};
use crate::state::State;
use serde_json::{json, Value};
use std::fmt::Write;

/// The table for people.
pub fn table(state: &State) -> String {
    let mut out = String::new();
    if state.users.is_empty() {
        out.push_str("no user has synced yet\n");
    }
    for (name, user) in &state.users {
        let _ = writeln!(
            out,
            "user {name} (Google account {}, last verify {})",
            user.account.as_deref().unwrap_or("not yet known"),
            user.last_verify.map_or("never".to_string(), |t| t
                .format("%Y-%m-%d %H:%M UTC")
                .to_string())
        );
        let _ = writeln!(
            out,
            "  {:<26} {:<27} {:<25} {:>6}  LAST SUCCESS",
            "DATA TYPE", "FINAL", "OPEN", "FAILED"
        );
        for (t, c) in &user.coverage {
            let _ = writeln!(
                out,
                "  {:<26} {:<27} {:<25} {:>6}  {}",
                t,
                days(&c.final_days),
                days(&c.open_days),
                c.failed.len(),
                c.last_success.map_or("never".to_string(), |t| t
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string())
            );
            if !c.imported_days.is_empty() {
                let _ = writeln!(
                    out,
                    "    from an archive: {} (not fetched from the API but the newest)",
                    days(&c.imported_days)
                );
            }
            if let Some(why) = &c.disabled {
                let _ = writeln!(out, "    disabled: {why}");
            }
            failures(&mut out, c);
        }
    }
    out
}

fn failures(out: &mut String, c: &Coverage) {
    for (day, f) in &c.failed {
        let _ = writeln!(
            out,
            "    failed {day}: {} attempt(s), next try {}, last error: {}",
            f.attempts,
            f.next_try.format("%Y-%m-%d %H:%M:%S UTC"),
            f.last_error
        );
    }
}

/// A day set in a few characters: `2026-01-01…2026-11-30` (and `+N ranges` when it has gaps).
fn days(set: &DaySet) -> String {
    match set.ranges() {
        [] => "-".into(),
        [(a, b)] if a == b => a.to_string(),
        [(a, b)] => format!("{a}…{b}"),
        [(a, _), .., (_, b)] => format!("{a}…{b} ({} ranges)", set.ranges().len()),
    }
}

/// The same for scripts: per user the account and every type's coverage as the state file holds it.
pub fn json(state: &State) -> Value {
    let users: serde_json::Map<String, Value> = state
        .users
        .iter()
        .map(|(name, u)| {
            (
                name.clone(),
                json!({
                    "account": u.account,
                    "last_verify": u.last_verify,
                    "types": u.coverage,
                }),
            )
        })
        .collect();
    json!({ "users": users })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::DayOutcome;

    #[test]
    fn the_table_shows_final_open_failed_and_disabled() {
        let now = "2026-03-01T12:00:00Z".parse().unwrap();
        let d = |s: &str| s.parse().unwrap();
        let mut c = Coverage::default();
        c.final_days.insert_range(d("2026-01-01"), d("2026-02-27"));
        c.record_written(d("2026-03-01"), DayOutcome::Open, now);
        c.record_failure(d("2026-02-28"), "503: unavailable", now);
        let mut state = State::default();
        let u = state.users.entry("me".into()).or_default();
        u.coverage.insert("heart-rate".into(), c.clone());
        c.disabled = Some("UNSUPPORTED_DATA_TYPE_ACTION".into());
        u.coverage.insert("floors-daily".into(), c);
        let t = table(&state);
        assert!(t.contains("heart-rate"), "{t}");
        assert!(t.contains("2026-01-01…2026-02-27"), "{t}");
        assert!(t.contains("failed 2026-02-28: 1 attempt(s), next try 2026-03-01 12:01:00 UTC, last error: 503: unavailable"), "{t}");
        assert!(t.contains("disabled: UNSUPPORTED_DATA_TYPE_ACTION"), "{t}");
        let j = json(&state);
        assert_eq!(
            j["users"]["me"]["types"]["heart-rate"]["open"][0][0],
            "2026-03-01"
        );
    }
}
