//! The sync engine: one person's rounds over every catalog entry.
//!
//! | module | its one job |
//! |---|---|
//! | [`account`] | time zone, Google account, first day, height — read once per run |
//! | [`horizon`] | which days can still change, from the devices' last syncs |
//! | [`planner`] | which windows to fetch, from a type's coverage ([`crate::coverage`]) |
//! | [`fetcher`] | one window: pages → points → InfluxDB, unreadable points skipped and reported |
//! | [`verify`] | what InfluxDB holds against what the API says, day by day |
//! | `booking` | a window's outcome into the coverage: final, open, failed; what a failure means |
//! | `derived` | after a round: the insights ([`crate::insights`]) from the earliest day it wrote |
//! | this module | the round: recent days of every type first, then history |
//!
//! A window's days are recorded (final, open or failed) only after InfluxDB acknowledged its points,
//! and the state file is saved right then: a kill at any moment loses nothing and repeats at most one
//! window; writes are idempotent (same series and timestamp overwrite). A failed window never stops
//! the windows after it: its days are retried with backoff ([`crate::coverage::retry_delay`]).

pub mod account;
mod booking;
mod derived;
pub mod fetcher;
pub mod horizon;
pub mod pipeline;
pub mod planner;
pub mod verify;

use crate::api::{ApiError, HealthClient};

use crate::catalog::{self, Context, DataType, Fetch};
use crate::coverage::Coverage;
use crate::influx::{InfluxReader, InfluxWriter, WriteError};
use crate::state::SharedState;
use account::Account;
use booking::{classify_stop, note_write_failure};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use horizon::Horizon;
use planner::{Plan, Window};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tracing::{info, info_span, warn, Instrument};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error("the API kept sending page tokens ({0} pages in one window)")]
    TooManyPages(usize),
}

/// Days counted as "recent": a new installation fills these for every type before any history.
pub const RECENT_DAYS: i64 = 7;

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoundReport {
    /// API requests the round made (every attempt).
    pub requests: u64,
    pub windows_ok: usize,
    pub windows_failed: usize,
    pub points: usize,
    pub skipped_points: usize,
    /// The last failure, for health and the log.
    pub last_error: Option<String>,
    /// InfluxDB refused a write (credentials, missing bucket/database): with the reason.
    pub write_refused: Option<String>,
    /// The earliest day of a window that wrote points: insights are recomputed from there.
    pub written_from: Option<NaiveDate>,
}

/// How a user's round ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RoundOutcome {
    /// The round ran; see the report for failures (their days are retried with backoff).
    Done(RoundReport),
    /// Nothing could be started (settings, identity or profile unreadable): try again soon.
    NotStarted(String),
    /// Google refused the credentials (refresh token or OAuth client): nothing can be fetched until the
    /// user fixes it. Carries the explanation to log.
    AuthRevoked(String),
    /// Every request answers 403 `RESOURCE_PERMISSION_DENIED` (reference §11 #15): re-grant needed.
    PermissionLost(String),
    /// InfluxDB refused a write for a reason every write shares (credentials, no such bucket or
    /// database): the round stopped without blaming the days; try again soon.
    WriteRefused(String),
}

/// What ends a round early.
enum Stop {
    Auth(String),
    Permission(String),
    Write(String),
}

impl From<Stop> for RoundOutcome {
    fn from(s: Stop) -> RoundOutcome {
        match s {
            Stop::Auth(why) => RoundOutcome::AuthRevoked(why),
            Stop::Permission(why) => RoundOutcome::PermissionLost(why),
            Stop::Write(why) => RoundOutcome::WriteRefused(why),
        }
    }
}

/// How often the daemon verifies recent days on its own, and how many.
#[derive(Debug, Clone, Copy)]
pub struct VerifySettings {
    pub every: std::time::Duration,
    pub days: u32,
}

/// What a verify found: per data type, the days that disagreed.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub checked_days: usize,
    pub disagreements: Vec<(&'static str, verify::Disagreement)>,
    /// Types that could not be checked, with why.
    pub errors: Vec<(&'static str, String)>,
}

/// A person's settings for the sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// First day to backfill (`None`: the account's start).
    pub backfill_from: Option<NaiveDate>,
    pub verify: VerifySettings,
    pub sources: fetcher::FetchOptions,
}

/// One person's sync: their API client, the state and the writer.
pub struct UserSync {
    client: HealthClient,
    user: String,
    state: Arc<SharedState>,
    writer: Arc<InfluxWriter>,
    reader: Arc<InfluxReader>,
    verify: VerifySettings,
    sources: fetcher::FetchOptions,
    backfill_from: Option<NaiveDate>,
    account: Option<Account>,
    /// Types that answered 403/404 this run (scope not granted, not offered): skipped until restart.
    skipped: HashSet<&'static str>,
    /// Window sizes the API asked for (`INVALID_ROLLUP_QUERY_DURATION` + `maxDurationDays`).
    window_caps: HashMap<&'static str, u32>,
    /// The client's tally when the last round was recorded (`sync_round` reports the difference).
    recorded: crate::api::Tally,
    /// Insights are due from this day on (the whole history at start; `None`: up to date).
    insights_due: Option<NaiveDate>,
}

impl UserSync {
    pub fn new(
        client: HealthClient,
        state: Arc<SharedState>,
        (writer, reader): (Arc<InfluxWriter>, Arc<InfluxReader>),
        options: SyncOptions,
    ) -> UserSync {
        UserSync {
            user: client.user().to_string(),
            client,
            state,
            writer,
            reader,
            verify: options.verify,
            sources: options.sources,
            backfill_from: options.backfill_from,
            account: None,
            skipped: HashSet::new(),
            window_caps: HashMap::new(),
            recorded: crate::api::Tally::default(),
            insights_due: Some(NaiveDate::MIN),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// When open days of some type are next due for a refresh (written more than `interval` ago).
    pub fn next_refresh(&self, interval: std::time::Duration) -> Option<DateTime<Utc>> {
        let interval = Duration::from_std(interval).unwrap_or_else(|_| Duration::hours(4));
        self.state.read(|s| {
            s.users
                .get(&self.user)?
                .coverage
                .values()
                .filter_map(|c| c.next_refresh(interval))
                .min()
        })
    }

    /// The earliest retry of a failed day of any type.
    pub fn next_retry(&self) -> Option<DateTime<Utc>> {
        self.state.read(|s| {
            let u = s.users.get(&self.user)?;
            u.coverage
                .iter()
                .filter(|(name, c)| {
                    c.disabled.is_none() && !self.skipped.iter().any(|sk| sk == name)
                })
                .filter_map(|(_, c)| c.next_retry())
                .min()
        })
    }

    /// Days of any type that failed often enough to be reported.
    pub fn persistent_failures(&self) -> usize {
        self.state.read(|s| {
            s.users.get(&self.user).map_or(0, |u| {
                u.coverage
                    .values()
                    .map(|c| c.persistent_failures().count())
                    .sum()
            })
        })
    }

    /// Catalog entries the API refused as unsupported (`UNSUPPORTED_DATA_TYPE_ACTION`), by name.
    pub fn disabled_types(&self) -> Vec<String> {
        self.state.read(|s| {
            s.users.get(&self.user).map_or(Vec::new(), |u| {
                u.coverage
                    .iter()
                    .filter(|(_, c)| c.disabled.is_some())
                    .map(|(name, _)| name.clone())
                    .collect()
            })
        })
    }

    fn context(&self, a: &Account) -> Context<'_> {
        Context {
            user: &self.user,
            tz: a.tz,
            now: Utc::now(),
            height_m: a.height_m,
        }
    }

    /// Reads the person's account once per run.
    async fn account(&mut self) -> Result<Account, RoundOutcome> {
        if let Some(a) = self.account {
            return Ok(a);
        }
        match account::read(&self.client, &self.state, &self.user, self.backfill_from).await {
            Ok(a) => Ok(*self.account.insert(a)),
            Err(e) => Err(match classify_stop(&e) {
                Some(stop) => stop.into(),
                None => RoundOutcome::NotStarted(e.to_string()),
            }),
        }
    }

    /// One round. Open days written before `refresh_before` are fetched again (the daemon passes
    /// "one interval ago", `run --once` the round's start), so restarts do not repeat a refresh.
    /// When the periodic check is due, the recent days are verified and what disagrees is fetched
    /// again in the same round.
    pub async fn round(&mut self, refresh_before: DateTime<Utc>) -> RoundOutcome {
        let account = match self.account().await {
            Ok(a) => a,
            Err(outcome) => return outcome,
        };
        for dt in catalog::CATALOG {
            self.publish_coverage(dt, &account);
        }
        // The person's time zone and first day, where the dashboards read them.
        let person = catalog::person::point(&self.user, account.tz, account.start, Utc::now());
        if let Err(e) = self.writer.write(&[person]).await {
            warn!(user = %self.user, error = %e, "could not write the person's settings for the dashboards");
        }
        let mut report = RoundReport::default();
        let sent_before = self.client.requests_sent();
        let r = self.fetch_due(&account, refresh_before, &mut report).await;
        if let Err(stop) = r {
            return stop.into();
        }
        let last = self.state.read(|s| s.users.get(&self.user)?.last_verify);
        let every = Duration::from_std(self.verify.every).unwrap_or_else(|_| Duration::days(1));
        if last.is_none() {
            // Data fetched moments ago needs no check: the first one is due an interval from now.
            let _ = self.state.update(|s| {
                s.users.entry(self.user.clone()).or_default().last_verify = Some(Utc::now());
            });
        } else if last.is_some_and(|t| Utc::now() - t >= every) {
            let today = Utc::now().with_timezone(&account.tz).date_naive();
            let from = today - Duration::days(self.verify.days as i64);
            let v = self.verify_range(&account, from, today).await;
            if !v.disagreements.is_empty() {
                warn!(user = %self.user, days = v.disagreements.len(),
                    "the periodic check found days where InfluxDB disagrees with the API; fetching them again");
                if let Err(stop) = self.fetch_due(&account, refresh_before, &mut report).await {
                    return stop.into();
                }
            }
        }
        self.update_insights(&account, &report).await;
        report.requests = self.client.requests_sent() - sent_before;
        RoundOutcome::Done(report)
    }

    /// `fitbit-influx verify`: compares `[from, to]` (default: the whole history up to yesterday) and
    /// fetches again every day that disagrees.
    pub async fn verify_and_repair(
        &mut self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<(VerifyReport, RoundReport), RoundOutcome> {
        let account = self.account().await?;
        let today = Utc::now().with_timezone(&account.tz).date_naive();
        let from = from.unwrap_or(account.start).max(account.start);
        let to = to.unwrap_or(today).min(today);
        let v = self.verify_range(&account, from, to).await;
        let mut report = RoundReport::default();
        // Nothing else is refreshed: open days written before the epoch do not exist.
        self.fetch_due(&account, DateTime::<Utc>::MIN_UTC, &mut report)
            .await
            .map_err(RoundOutcome::from)?;
        Ok((v, report))
    }

    /// Verifies `[from, to]` of every type and forgets the days that disagree, so that the next fetch
    /// gets them again. Records the time of the check.
    async fn verify_range(&mut self, a: &Account, from: NaiveDate, to: NaiveDate) -> VerifyReport {
        let mut out = VerifyReport::default();
        let cx_tz = a.tz;
        for dt in catalog::CATALOG {
            if matches!(dt.fetch, Fetch::Snapshot { .. })
                || self.skipped.contains(dt.name)
                || self.coverage(dt).disabled.is_some()
            {
                continue;
            }
            let plan = Plan {
                start: from.max(a.start),
                today: to,
                window_days: verify::window_days(dt),
                refresh_before: None,
                now: Utc::now(),
            };
            // Every day of the range, in windows (an empty coverage plans them all).
            for w in planner::windows(&Coverage::default(), &plan) {
                let cx = Context {
                    user: &self.user,
                    tz: cx_tz,
                    now: Utc::now(),
                    height_m: a.height_m,
                };
                match verify::check_window(&self.client, &self.reader, dt, &cx, (w, &self.sources))
                    .await
                {
                    Ok(found) => {
                        out.checked_days += w.days_count() as usize;
                        // Only final and imported days can be wrong: open days are fetched again anyway,
                        // missing ones are still to come.
                        let coverage = self.coverage(dt);
                        let found: Vec<_> = found
                            .into_iter()
                            .filter(|d| {
                                coverage.final_days.contains(d.day) || coverage.from_archive(d.day)
                            })
                            .collect();
                        if found.is_empty() {
                            continue;
                        }
                        let _ = self.update_coverage(dt, |c| {
                            for d in &found {
                                c.reopen(d.day, d.day);
                            }
                        });
                        for d in found {
                            warn!(user = %self.user, data_type = dt.name, day = %d.day, api = %d.api, stored = %d.stored,
                                "InfluxDB disagrees with the API; the day is fetched again");
                            out.disagreements.push((dt.name, d));
                        }
                    }
                    Err(e) => {
                        warn!(user = %self.user, data_type = dt.name, from = %w.from, to = %w.to, error = %e, "cannot verify this window");
                        out.errors.push((dt.name, e.to_string()));
                    }
                }
            }
        }
        let _ = self.state.update(|s| {
            s.users.entry(self.user.clone()).or_default().last_verify = Some(Utc::now());
        });
        info!(user = %self.user, checked_days = out.checked_days, disagreeing = out.disagreements.len(), "verified");
        out
    }

    /// Fetches every window that is due: recent days of every type first, then history.
    async fn fetch_due(
        &mut self,
        account: &Account,
        refresh_before: DateTime<Utc>,
        report: &mut RoundReport,
    ) -> Result<(), Stop> {
        let horizon = self.devices(account, report).await?;
        let now = Utc::now();
        let today = now.with_timezone(&account.tz).date_naive();
        let recent_from = today - Duration::days(RECENT_DAYS - 1);
        // Recent days of every type first, so that the dashboards fill within minutes; then history.
        for recent in [true, false] {
            for dt in catalog::CATALOG {
                if matches!(dt.fetch, Fetch::Snapshot { .. }) || self.skipped.contains(dt.name) {
                    continue;
                }
                let span = info_span!("sync", user = %self.user, data_type = dt.name);
                let phase = if recent {
                    Phase::Recent(recent_from)
                } else {
                    Phase::History(recent_from)
                };
                self.sync_type(dt, account, &horizon, today, refresh_before, phase, report)
                    .instrument(span)
                    .await?;
            }
        }
        Ok(())
    }

    /// Reads `pairedDevices` once: the devices' last syncs for the horizon, and the battery points.
    async fn devices(&mut self, a: &Account, report: &mut RoundReport) -> Result<Horizon, Stop> {
        let Some(dt) = catalog::CATALOG
            .iter()
            .find(|t| matches!(t.fetch, Fetch::Snapshot { .. }))
        else {
            return Ok(Horizon::unknown(Utc::now()));
        };
        let Fetch::Snapshot { path, list_key } = dt.fetch else {
            unreachable!("found as a snapshot")
        };
        let answer = match self.client.get(path, &[]).await {
            Ok(v) => v,
            Err(e) => {
                if let Some(stop) = classify_stop(&e) {
                    return Err(stop);
                }
                if !self.skipped.contains(dt.name) {
                    warn!(user = %self.user, error = %e, "cannot read the paired devices; days stay open for {} days instead of following the devices' last syncs", horizon::FALLBACK_SETTLE.num_days());
                }
                if matches!(e, ApiError::NotAvailable { .. }) {
                    self.skipped.insert(dt.name);
                }
                return Ok(Horizon::unknown(Utc::now()));
            }
        };
        let cx = self.context(a);
        let mut points = Vec::new();
        for item in answer
            .get(list_key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match (dt.convert)(item, &cx) {
                Ok(p) => points.extend(p),
                Err(e) => {
                    warn!(user = %self.user, device = %catalog::read::item_name(item), problem = %e.what, "skipping an unreadable device entry");
                    report.skipped_points += 1;
                }
            }
        }
        match self.writer.write(&points).await {
            Ok(()) => report.points += points.len(),
            Err(e @ WriteError::Target { .. }) => return Err(Stop::Write(e.to_string())),
            Err(e) => note_write_failure(report, &e),
        }
        Ok(Horizon::from_devices(&answer, cx.now))
    }

    #[allow(clippy::too_many_arguments)]
    async fn sync_type(
        &mut self,
        dt: &'static DataType,
        a: &Account,
        horizon: &Horizon,
        today: NaiveDate,
        refresh_before: DateTime<Utc>,
        phase: Phase,
        report: &mut RoundReport,
    ) -> Result<(), Stop> {
        loop {
            let coverage = self.coverage(dt);
            if coverage.disabled.is_some() {
                return Ok(());
            }
            let plan = Plan {
                start: a.start,
                today,
                window_days: self
                    .window_caps
                    .get(dt.name)
                    .copied()
                    .unwrap_or(dt.window_days),
                refresh_before: Some(refresh_before),
                now: Utc::now(),
            };
            let windows: Vec<Window> = planner::windows(&coverage, &plan)
                .into_iter()
                .filter(|w| phase.takes(w))
                .collect();
            let mut left: i64 = windows.iter().map(Window::days_count).sum();
            let mut replan = false;
            // Pages per window so far, for the time left at the request pace.
            let (mut done, mut pages) = (0usize, 0usize);
            let count = windows.len();
            for w in windows {
                left -= w.days_count();
                if w.days().all(|d| coverage.open_days.contains(d)) {
                    info!("{}: {} → {} (refresh)", dt.name, w.from, w.to);
                } else if w.days().any(|d| coverage.failed.contains_key(&d)) {
                    info!("{}: {} → {} (retry)", dt.name, w.from, w.to);
                } else if done > 0 && left > 0 {
                    let requests = (count - done - 1) as f64 * pages as f64 / done as f64;
                    let minutes = requests / self.client.requests_per_minute() as f64;
                    info!(
                        "{}: {} → {} ({left} days left, about {} at {} requests a minute)",
                        dt.name,
                        w.from,
                        w.to,
                        if minutes < 1.0 {
                            "a minute".to_string()
                        } else {
                            format!("{:.0} minutes", minutes.ceil())
                        },
                        self.client.requests_per_minute()
                    );
                } else {
                    info!("{}: {} → {} ({left} days left)", dt.name, w.from, w.to);
                }
                let cx = self.context(a);
                let result =
                    fetcher::fetch_window(&self.client, &self.writer, dt, &cx, (w, &self.sources))
                        .await;
                match result {
                    Ok(r) => {
                        done += 1;
                        pages += r.pages;
                        self.record_window(dt, a, horizon, w, &r, report);
                    }
                    Err(e) => {
                        if let Some(next) = self.handle_failure(dt, w, e, report)? {
                            replan = next;
                            if replan {
                                break;
                            }
                            if self.skipped.contains(dt.name) {
                                return Ok(());
                            }
                        }
                    }
                }
            }
            if !replan {
                return Ok(());
            }
        }
    }
}

/// Which part of the plan a pass takes.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Windows reaching into the recent days (from this day on).
    Recent(NaiveDate),
    /// The rest.
    History(NaiveDate),
}

impl Phase {
    fn takes(&self, w: &Window) -> bool {
        match *self {
            Phase::Recent(from) => w.to >= from,
            Phase::History(from) => w.to < from,
        }
    }
}
