//! The daemon's own figures, written into InfluxDB after every round (`sync_type` and `sync_round`,
//! described in `catalog::pipeline`), so that the bundled Grafana shows whether data is flowing. The
//! coverage figures are the ones `/metrics` publishes and the costs come from the client's tally,
//! which counts the same events as the Prometheus counters.

use super::{RoundOutcome, UserSync};
use crate::catalog::{self, pipeline};
use crate::metrics::CoverageFigures;
use crate::point::Point;
use chrono::{DateTime, Utc};
use tracing::debug;

impl UserSync {
    /// Writes how the round ended and every type's coverage. A failed write is only logged: these
    /// points describe the data rather than being data, and the next round writes them afresh.
    pub async fn record_round(&mut self, outcome: &RoundOutcome) {
        let now = Utc::now();
        let tally = self.client.tally();
        let cost = tally.since(self.recorded);
        self.recorded = tally;
        let (state, report) = match outcome {
            RoundOutcome::Done(r) if r.windows_failed == 0 => ("ok", Some(r)),
            RoundOutcome::Done(r) => ("some_failed", Some(r)),
            RoundOutcome::NotStarted(_) => ("not_started", None),
            RoundOutcome::AuthRevoked(_) => ("credentials_refused", None),
            RoundOutcome::PermissionLost(_) => ("regrant_needed", None),
            // InfluxDB refuses every write: nothing to record with.
            RoundOutcome::WriteRefused(_) => return,
        };
        let mut round = Point::new(pipeline::SYNC_ROUND.name, now)
            .tag("user", &self.user)
            .string("state", state)
            .int("requests", cost.requests as i64)
            .int("rate_limited", cost.rate_limited as i64)
            .float("quota_wait_s", cost.quota_wait_s);
        if let Some(r) = report {
            round = round
                .int("points", r.points as i64)
                .int("skipped_points", r.skipped_points as i64)
                .int("windows_failed", r.windows_failed as i64);
        }
        let mut points = vec![round];
        points.extend(self.coverage_points(now));
        if let Err(e) = self.writer.write(&points).await {
            debug!(user = %self.user, error = %e, "could not write the round's figures");
        }
    }

    /// One `sync_type` point per type with a coverage, once the account is known.
    fn coverage_points(&self, now: DateTime<Utc>) -> Vec<Point> {
        let Some(a) = self.account else {
            return Vec::new();
        };
        self.state.read(|s| {
            let Some(u) = s.users.get(&self.user) else {
                return Vec::new();
            };
            catalog::CATALOG
                .iter()
                .filter_map(|dt| {
                    let c = u.coverage.get(dt.name)?;
                    let f = CoverageFigures::of(c, a.start, a.tz, now);
                    Some(
                        Point::new(pipeline::SYNC_TYPE.name, now)
                            .tag("user", &self.user)
                            .tag("data_type", dt.name)
                            .int("final_days", f.final_days as i64)
                            .int("open_days", f.open_days as i64)
                            .int("failed_days", f.failed_days as i64)
                            .int("done_days", f.done_days as i64)
                            .int("total_days", f.total_days as i64)
                            .float_opt("lag_s", f.lag_seconds),
                    )
                })
                .collect()
        })
    }
}
