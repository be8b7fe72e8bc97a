//! The sync engine: backfill every catalog entry until caught up, then re-fetch the last day and today
//! every round.
//!
//! Each entry has a cursor in the state file: the last civil day that is completely in InfluxDB. A round
//! walks each entry from the day after its cursor (but never later than yesterday, which is always
//! fetched again because watches sync late) up to today, in windows of the entry's size. A window's
//! points are written page by page as they arrive; the cursor moves only after InfluxDB acknowledged the
//! whole window, and the state file is saved right then. A kill at any moment therefore loses nothing and
//! repeats at most one window; writes are idempotent (same series and timestamp overwrite).

use crate::api::{ApiError, HealthClient};
use crate::auth::AuthError;
use crate::catalog::{self, Context, DataType, Fetch};
use crate::influx::{InfluxWriter, WriteError};
use crate::state::SharedState;
use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use tracing::{info, info_span, warn, Instrument};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Convert(#[from] catalog::ConvertError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// How a user's round ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RoundOutcome {
    /// Every enabled type is up to date (some windows may have failed and wait for the next round).
    Done { failed_windows: usize },
    /// Google refused the refresh token (or there is none); nothing can be fetched until the user
    /// fixes it. Carries the explanation to log.
    AuthRevoked(String),
}

/// One person's sync: their API client, time zone and backfill start.
pub struct UserSync {
    client: HealthClient,
    user: String,
    state: Arc<SharedState>,
    writer: Arc<InfluxWriter>,
    /// First day to backfill when a type has no cursor yet.
    backfill_from: Option<NaiveDate>,
    tz: Option<Tz>,
    start: Option<NaiveDate>,
    /// The latest height in metres (for BMI), read once per run.
    height_m: Option<f64>,
    /// Types that answered 403/404 this run: skipped, warned about once.
    skipped: HashSet<&'static str>,
}

impl UserSync {
    pub fn new(
        client: HealthClient,
        state: Arc<SharedState>,
        writer: Arc<InfluxWriter>,
        backfill_from: Option<NaiveDate>,
    ) -> UserSync {
        UserSync {
            user: client.user().to_string(),
            client,
            state,
            writer,
            backfill_from,
            tz: None,
            start: None,
            height_m: None,
            skipped: HashSet::new(),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// Reads the user's time zone (settings) and the account's start (profile), once per run.
    async fn prepare(&mut self) -> Result<(Tz, NaiveDate), ApiError> {
        if let (Some(tz), Some(start)) = (self.tz, self.start) {
            return Ok((tz, start));
        }
        let settings = self.client.get("settings", &[]).await?;
        let tz = zone_of(&settings);
        let start = match self.backfill_from {
            Some(d) => d,
            None => {
                let profile = self.client.get("profile", &[]).await?;
                catalog::read::date(&profile, "membershipStartDate").unwrap_or_else(|_| {
                    warn!(user = %self.user, "the profile has no membershipStartDate; backfilling one year");
                    Utc::now().with_timezone(&tz).date_naive() - Duration::days(365)
                })
            }
        };
        self.height_m = self.latest_height().await;
        info!(user = %self.user, time_zone = %tz.name(), backfill_from = %start, height_m = ?self.height_m, "user prepared");
        self.tz = Some(tz);
        self.start = Some(start);
        Ok((tz, start))
    }

    /// The newest height entry (lists are newest first), for BMI. Absent or not granted: no BMI.
    async fn latest_height(&self) -> Option<f64> {
        let page = self
            .client
            .get("dataTypes/height/dataPoints", &[("pageSize", "1")])
            .await
            .ok()?;
        catalog::read::opt_int64(page.get("dataPoints")?.get(0)?, "height/heightMillimeters")
            .map(|mm| mm as f64 / 1000.0)
    }

    fn context(&self, tz: Tz) -> Context<'_> {
        Context {
            user: &self.user,
            tz,
            now: Utc::now(),
            height_m: self.height_m,
        }
    }

    /// A snapshot entry: one request, its items written at the round's time; no cursor.
    async fn sync_snapshot(
        &self,
        dt: &'static DataType,
        tz: Tz,
        path: &str,
        list_key: &str,
    ) -> Result<(), SyncError> {
        let cx = self.context(tz);
        let page = self.client.get(path, &[]).await?;
        let mut points = Vec::new();
        for item in page
            .get(list_key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            points.extend((dt.convert)(item, &cx)?);
        }
        self.writer.write(&points).await?;
        tracing::debug!(points = points.len(), "{} polled", dt.name);
        Ok(())
    }

    /// One round over every catalog entry.
    pub async fn round(&mut self) -> RoundOutcome {
        let (tz, start) = match self.prepare().await {
            Ok(x) => x,
            Err(ApiError::Auth(e @ (AuthError::Revoked { .. } | AuthError::NoToken(_)))) => {
                return RoundOutcome::AuthRevoked(e.to_string())
            }
            Err(e) => {
                warn!(user = %self.user, error = %e, "cannot read settings/profile; trying again next round");
                return RoundOutcome::Done { failed_windows: 1 };
            }
        };
        let mut failed = 0;
        for dt in catalog::CATALOG {
            if self.skipped.contains(dt.name) {
                continue;
            }
            let span = info_span!("sync", user = %self.user, data_type = dt.name);
            match self.sync_type(dt, tz, start).instrument(span).await {
                Ok(()) => {}
                Err(SyncError::Api(ApiError::Auth(
                    e @ (AuthError::Revoked { .. } | AuthError::NoToken(_)),
                ))) => return RoundOutcome::AuthRevoked(e.to_string()),
                Err(SyncError::Api(ApiError::NotAvailable { status, message })) => {
                    warn!(user = %self.user, data_type = dt.name, status, %message,
                        "data type not available (scope not granted, or not offered for this account); skipping it until restart");
                    self.skipped.insert(dt.name);
                }
                Err(e) => {
                    warn!(user = %self.user, data_type = dt.name, error = %e, "window failed; its cursor stays, the next round tries again");
                    failed += 1;
                }
            }
        }
        RoundOutcome::Done {
            failed_windows: failed,
        }
    }

    async fn sync_type(
        &self,
        dt: &'static DataType,
        tz: Tz,
        start: NaiveDate,
    ) -> Result<(), SyncError> {
        if let Fetch::Snapshot { path, list_key } = dt.fetch {
            return self.sync_snapshot(dt, tz, path, list_key).await;
        }
        let today = Utc::now().with_timezone(&tz).date_naive();
        let yesterday = today - Duration::days(1);
        let cursor = self.state.read(|s| {
            s.users
                .get(&self.user)
                .and_then(|u| u.cursors.get(dt.name))
                .and_then(|c| c.complete_through)
        });
        let mut from = match cursor {
            Some(c) => (c + Duration::days(1)).min(yesterday),
            None => start,
        }
        .max(start);
        while from <= today {
            let to = (from + Duration::days(dt.window_days as i64 - 1)).min(today);
            // Yesterday and today are refetched every round; only older days are backfill.
            let left = (yesterday - to).num_days();
            if left > 0 {
                info!("{}: {from} → {to} ({left} days left)", dt.name);
            } else {
                info!("{}: {from} → {to} (refresh)", dt.name);
            }
            let points = self.sync_window(dt, tz, from, to).await?;
            // Acknowledged by InfluxDB: the days up to `to` are complete, except today.
            let complete = to.min(yesterday);
            if cursor.is_none_or(|c| complete > c) {
                self.state.update(|s| {
                    let c = s
                        .users
                        .entry(self.user.clone())
                        .or_default()
                        .cursors
                        .entry(dt.name.to_string())
                        .or_default();
                    c.complete_through = c.complete_through.max(Some(complete));
                })?;
            }
            tracing::debug!(points, %from, %to, "window written");
            from = to + Duration::days(1);
        }
        Ok(())
    }

    /// Fetches and writes one window; returns the number of points written.
    async fn sync_window(
        &self,
        dt: &'static DataType,
        tz: Tz,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<usize, SyncError> {
        let cx = self.context(tz);
        let path = format!("dataTypes/{}/dataPoints", dt.api_type);
        let mut page_token: Option<String> = None;
        let mut written = 0;
        loop {
            let (page, key) = match dt.fetch {
                Fetch::List { page_size, .. } => {
                    let (start, end) = (
                        catalog::read::local_midnight(from, tz),
                        catalog::read::local_midnight(to + Duration::days(1), tz),
                    );
                    let filter = dt
                        .filter(from, to, start, end)
                        .expect("list entries have a filter");
                    let size = page_size.to_string();
                    let mut q: Vec<(&str, &str)> = vec![("filter", &filter), ("pageSize", &size)];
                    if let Some(t) = &page_token {
                        q.push(("pageToken", t));
                    }
                    (self.client.get(&path, &q).await?, "dataPoints")
                }
                Fetch::DailyRollUp => {
                    let body = dt.daily_rollup_body(from, to, page_token.as_deref());
                    let page = self
                        .client
                        .post(&format!("{path}:dailyRollUp"), &body)
                        .await?;
                    (page, "rollupDataPoints")
                }
                Fetch::Snapshot { .. } => unreachable!("snapshots are not windowed"),
            };
            let mut points = Vec::new();
            for item in page
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                points.extend((dt.convert)(item, &cx)?);
            }
            self.writer.write(&points).await?;
            written += points.len();
            match page
                .get("nextPageToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                Some(t) => page_token = Some(t.to_string()),
                None => return Ok(written),
            }
        }
    }
}

/// The user's time zone from `settings`: the IANA `timeZone`, else a fixed zone from `utcOffset`,
/// else UTC.
fn zone_of(settings: &Value) -> Tz {
    if let Some(tz) = settings
        .get("timeZone")
        .and_then(Value::as_str)
        .and_then(|n| n.parse::<Tz>().ok())
    {
        return tz;
    }
    let offset_hours = settings
        .get("utcOffset")
        .and_then(Value::as_str)
        .and_then(|s| s.trim_end_matches('s').parse::<i64>().ok())
        .filter(|s| s % 3600 == 0)
        .map(|s| s / 3600);
    // Etc/GMT zones have inverted signs: UTC+1 is Etc/GMT-1.
    let fixed = offset_hours.map(|h| match h {
        0 => "Etc/UTC".to_string(),
        h => format!("Etc/GMT{:+}", -h),
    });
    match fixed.and_then(|n| n.parse::<Tz>().ok()) {
        Some(tz) => tz,
        None => {
            warn!("settings have no usable timeZone or utcOffset; using UTC for day boundaries");
            Tz::UTC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zones_from_settings() {
        assert_eq!(
            zone_of(&json!({"timeZone": "America/New_York", "utcOffset": "-14400s"})).name(),
            "America/New_York"
        );
        assert_eq!(
            zone_of(&json!({"timeZone": "Mars/Base", "utcOffset": "3600s"})).name(),
            "Etc/GMT-1"
        );
        assert_eq!(
            zone_of(&json!({"utcOffset": "-18000s"})).name(),
            "Etc/GMT+5"
        );
        assert_eq!(zone_of(&json!({})).name(), "UTC");
    }
}
