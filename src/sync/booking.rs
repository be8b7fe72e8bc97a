//! Booking a window's outcome: which days became final, open or failed, what a failure means (a
//! stop for the user, an entry the API does not offer, a range cap to learn, or a window to retry),
//! and the coverage the metrics show.

use super::account::Account;
use super::fetcher;
use super::horizon::Horizon;
use super::planner::Window;
use super::{RoundReport, Stop, SyncError, UserSync};
use crate::api::ApiError;
use crate::auth::AuthError;
use crate::catalog::{self, DataType};
use crate::coverage::{Coverage, DayOutcome};
use crate::influx::WriteError;
use chrono::{Duration, Utc};
use tracing::warn;

impl UserSync {
    pub(super) fn coverage(&self, dt: &DataType) -> Coverage {
        self.state.read(|s| {
            s.users
                .get(&self.user)
                .and_then(|u| u.coverage.get(dt.name))
                .cloned()
                .unwrap_or_default()
        })
    }

    pub(super) fn update_coverage(
        &self,
        dt: &DataType,
        f: impl FnOnce(&mut Coverage),
    ) -> Result<(), String> {
        self.state
            .update(|s| {
                let c = s
                    .users
                    .entry(self.user.clone())
                    .or_default()
                    .coverage
                    .entry(dt.name.to_string())
                    .or_default();
                f(c)
            })
            .map_err(|e| e.to_string())
    }

    /// Shows a type's coverage in `/metrics`.
    pub(super) fn publish_coverage(&self, dt: &DataType, a: &Account) {
        let coverage = self.state.read(|s| {
            s.users
                .get(&self.user)
                .and_then(|u| u.coverage.get(dt.name))
                .cloned()
        });
        if let Some(c) = coverage {
            let figures = crate::metrics::CoverageFigures::of(&c, a.start, a.tz, Utc::now());
            crate::metrics::METRICS.coverage(&self.user, dt.name, &figures);
        }
    }

    /// Records a written window's days: failed where points were unreadable, open where data may
    /// still change, final otherwise.
    pub(super) fn record_window(
        &self,
        dt: &DataType,
        a: &Account,
        horizon: &Horizon,
        w: Window,
        r: &fetcher::WindowReport,
        report: &mut RoundReport,
    ) {
        let now = Utc::now();
        let recorder = catalog::recorder_of(dt.api_type);
        let saved = self.update_coverage(dt, |c| {
            for day in w.days() {
                if let Some(problem) = r.problem_on(day) {
                    c.record_failure(day, &problem, now);
                    continue;
                }
                let end = catalog::read::local_midnight(day + Duration::days(1), a.tz);
                let outcome = if r.incomplete.contains(&day) {
                    DayOutcome::Open
                } else {
                    horizon.judge(end, recorder)
                };
                c.record_written(day, outcome, now);
            }
        });
        self.publish_coverage(dt, a);
        report.points += r.points;
        report.skipped_points += r.skipped();
        if r.points > 0 {
            report.written_from = Some(report.written_from.map_or(w.from, |d| d.min(w.from)));
        }
        match saved {
            Ok(()) => report.windows_ok += 1,
            Err(e) => {
                report.windows_failed += 1;
                report.last_error = Some(e);
            }
        }
        tracing::debug!(points = r.points, pages = r.pages, from = %w.from, to = %w.to, "window written");
    }

    /// Books a failed window. `Ok(Some(true))`: plan the type again (smaller windows);
    /// `Ok(Some(false))`/`Ok(None)`: go on with the next window.
    pub(super) fn handle_failure(
        &mut self,
        dt: &'static DataType,
        w: Window,
        e: SyncError,
        report: &mut RoundReport,
    ) -> Result<Option<bool>, Stop> {
        if let SyncError::Api(api) = &e {
            if let Some(stop) = classify_stop(api) {
                return Err(stop);
            }
            match api {
                ApiError::NotAvailable { status, message } => {
                    warn!(user = %self.user, data_type = dt.name, status, %message,
                        "data type not available (scope not granted, or not offered for this account); skipping it until restart");
                    self.skipped.insert(dt.name);
                    return Ok(Some(false));
                }
                ApiError::Rejected {
                    reason: Some(reason),
                    metadata,
                    message,
                    ..
                } if reason == "INVALID_ROLLUP_QUERY_DURATION" => {
                    let cap = metadata
                        .get("maxDurationDays")
                        .and_then(|d| d.parse::<u32>().ok())
                        .filter(|d| *d >= 1 && (*d as i64) < w.days_count());
                    if let Some(cap) = cap {
                        warn!(user = %self.user, data_type = dt.name, max_days = cap, "the API caps this rollup's range; using smaller windows");
                        self.window_caps.insert(dt.name, cap);
                        return Ok(Some(true));
                    }
                    tracing::debug!(%message, "range cap without a usable maxDurationDays");
                }
                ApiError::Rejected {
                    reason: Some(reason),
                    metadata,
                    message,
                    ..
                } if reason == "UNSUPPORTED_DATA_TYPE_ACTION" => {
                    let allowed = metadata
                        .get("allowed_actions")
                        .cloned()
                        .unwrap_or_else(|| "not given".into());
                    let why = format!(
                        "the API does not offer this request for {} (allowed actions: {allowed}): {}",
                        dt.api_type,
                        message.trim_end_matches('.')
                    );
                    warn!(user = %self.user, data_type = dt.name, %allowed, "{why}; this catalog entry is disabled (please report it)");
                    let _ = self.update_coverage(dt, |c| c.disabled = Some(why));
                    return Ok(Some(false));
                }
                _ => {}
            }
        }
        if let SyncError::Write(we @ WriteError::Target { .. }) = &e {
            return Err(Stop::Write(we.to_string()));
        }
        if let SyncError::Write(we) = &e {
            note_write_failure(report, we);
        }
        let text = e.to_string();
        let now = Utc::now();
        let mut attempts = 0;
        let saved = self.update_coverage(dt, |c| {
            for day in w.days() {
                attempts = attempts.max(c.record_failure(day, &text, now));
            }
        });
        report.windows_failed += 1;
        report.last_error = Some(saved.err().unwrap_or_else(|| text.clone()));
        if attempts >= crate::coverage::REPORT_AFTER_ATTEMPTS {
            warn!(user = %self.user, data_type = dt.name, from = %w.from, to = %w.to, attempts, error = %text,
                "window keeps failing; it is retried with backoff (see `fitbit-influx status`)");
        } else {
            warn!(user = %self.user, data_type = dt.name, from = %w.from, to = %w.to, error = %text,
                "window failed; its days are retried in a few minutes, the next windows go on");
        }
        Ok(None)
    }
}

pub(super) fn note_write_failure(report: &mut RoundReport, e: &WriteError) {
    if matches!(e, WriteError::Target { .. } | WriteError::GaveUp { .. }) {
        report.write_refused = Some(e.to_string());
    }
}

/// Errors that end the round for this user: the credentials were refused, or the grant is gone.
pub(super) fn classify_stop(e: &ApiError) -> Option<Stop> {
    match e {
        ApiError::Auth(
            a @ (AuthError::Revoked { .. } | AuthError::NoToken(_) | AuthError::BadClient { .. }),
        ) => Some(Stop::Auth(a.to_string())),
        ApiError::PermissionLost { .. } => Some(Stop::Permission(e.to_string())),
        _ => None,
    }
}
