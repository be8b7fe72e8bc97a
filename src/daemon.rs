//! The daemon: rounds of [`UserSync`] for every user, when each is due, and shutdown.
//!
//! When a user's next round is due:
//! - after a round: at the next refresh (the persisted last refresh plus `SYNC_INTERVAL`), or earlier
//!   when a failed day's retry comes first (minutes, see [`crate::coverage::retry_delay`]);
//! - when the round could not start (DNS not up after a reboot, the token endpoint down) or InfluxDB
//!   refused the writes (credentials, missing bucket or database): after 5 s, doubling to
//!   [`START_RETRY_MAX`];
//! - when Google refused the credentials or the grant: hourly ([`AUTH_RETRY`]), logged once.
//!
//! Health ([`crate::health`]) is judged here, from what the rounds report and from the writer and the
//! state file; `run --once` turns the same judgement into its exit status ([`OnceFailure`]).

use crate::api::{HealthClient, Pacing, API_BACKOFF};
use crate::auth::TokenManager;
use crate::config::{Config, ConfigError, GoogleConfig, SyncConfig, UserConfig};
use crate::health::Health;
use crate::influx::{InfluxReader, InfluxWriter};
use crate::state::{SharedState, StateError, StateStore};
use crate::sync::fetcher::FetchOptions;
use crate::sync::{RoundOutcome, RoundReport, SyncOptions, UserSync, VerifySettings};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// How often a user whose credentials or grant Google refused is tried again.
pub const AUTH_RETRY: Duration = Duration::from_secs(3600);
/// The longest wait between attempts to start a round that could not start.
pub const START_RETRY_MAX: Duration = Duration::from_secs(300);
/// How often the watch looks at InfluxDB and the state file: often enough that a short
/// `INFLUXDB_DOWN_AFTER` is honoured within seconds, cheap because it only reads two fields.
const WATCH_EVERY: Duration = Duration::from_secs(5);
/// The shortest pause between two rounds of one user (failed days due at once do not spin).
const MIN_PAUSE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    State(#[from] StateError),
    /// A user with no refresh token anywhere: a configuration error (exit status 2).
    #[error(transparent)]
    NoToken(ConfigError),
    /// A setting that only shows its problem when used (METRICS_LISTEN's port taken): exit status 2.
    #[error(transparent)]
    Config(ConfigError),
    /// `run --once` ended with failures.
    #[error("{0}")]
    Once(OnceFailure),
}

/// Why `run --once` did not succeed, most serious first; each has its exit status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnceFailure {
    /// Exit 1: Google refused the refresh token, the OAuth client, or the grant.
    #[error("{0}")]
    Credentials(String),
    /// Exit 4: InfluxDB refused the writes (credentials, missing bucket or database).
    #[error("{0}")]
    NothingWritten(String),
    /// Exit 3: some windows failed (they are retried by the next run).
    #[error("{0}")]
    SomeFailed(String),
}

impl OnceFailure {
    pub fn exit_code(&self) -> u8 {
        match self {
            OnceFailure::Credentials(_) => 1,
            OnceFailure::SomeFailed(_) => 3,
            OnceFailure::NothingWritten(_) => 4,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            OnceFailure::Credentials(_) => 3,
            OnceFailure::NothingWritten(_) => 2,
            OnceFailure::SomeFailed(_) => 1,
        }
    }
}

struct Slot {
    sync: UserSync,
    next: Instant,
    /// The refusal was logged; later hourly retries stay quiet unless they succeed.
    refusal_reported: bool,
    /// Rounds in a row that could not start.
    start_failures: u32,
    /// The last round in which a window succeeded (or there was nothing to do).
    last_progress: Instant,
}

/// The state file opened and seeded, the InfluxDB writer and reader, one [`UserSync`] per user.
struct Setup {
    state: Arc<SharedState>,
    writer: Arc<InfluxWriter>,
    syncs: Vec<UserSync>,
}

/// Opens (and locks) the state file and seeds it with each user's configured refresh token; a
/// user with no token anywhere is a configuration error.
pub fn open_state(
    google: &GoogleConfig,
    state_file: &std::path::Path,
) -> Result<Arc<SharedState>, DaemonError> {
    let (store, mut state) = StateStore::open(state_file)?;
    for user in &google.users {
        let stored = state.users.entry(user.name.clone()).or_default();
        let seeded = match &user.refresh_token {
            Some(token) => stored.seed_tokens(token),
            None if stored.tokens.is_none() => {
                return Err(DaemonError::NoToken(ConfigError {
                    variable: user.token_variable.clone().into(),
                    problem: format!(
                        "is not set, and the state file {} holds no token for user \"{}\" (get one with `fitbit-influx auth`)",
                        store.path().display(),
                        user.name
                    ),
                }))
            }
            None => false,
        };
        if seeded {
            store.save(&state)?;
            info!(user = %user.name, state_file = %store.path().display(), "stored the configured refresh token in the state file");
        }
    }
    Ok(Arc::new(SharedState::new(store, state)))
}

/// A user's API client, paced by the settings.
pub fn client_for(
    google: &GoogleConfig,
    sync: &SyncConfig,
    user: &UserConfig,
    state: Arc<SharedState>,
) -> HealthClient {
    let pacing = Pacing {
        requests_per_minute: sync.requests_per_minute,
        rate_limit_sleep: sync.rate_limit_sleep,
        backoff: API_BACKOFF,
    };
    let tokens = Arc::new(TokenManager::new(google, user, state));
    HealthClient::new(&google.health_api_url, tokens, pacing)
}

fn open(config: &Config) -> Result<Setup, DaemonError> {
    let state = open_state(&config.google, &config.sync.state_file)?;
    let writer = Arc::new(InfluxWriter::new(&config.influx));
    let reader = Arc::new(InfluxReader::new(&config.influx));
    let verify = VerifySettings {
        every: config.sync.verify_every,
        days: config.sync.verify_days,
    };
    let syncs = config
        .google
        .users
        .iter()
        .map(|user| {
            let client = client_for(&config.google, &config.sync, user, state.clone());
            let options = SyncOptions {
                backfill_from: config.sync.backfill_from,
                verify,
                sources: FetchOptions {
                    all: config.sync.all_sources,
                    family: user.data_source_family.clone(),
                    heart_rate_per_minute: config.sync.heart_rate_per_minute,
                },
            };
            UserSync::new(
                client,
                state.clone(),
                (writer.clone(), reader.clone()),
                options,
            )
        })
        .collect();
    Ok(Setup {
        state,
        writer,
        syncs,
    })
}

/// Runs until `shutdown` is cancelled (or, with `once`, after one full round).
pub async fn run(
    config: Config,
    once: bool,
    shutdown: CancellationToken,
) -> Result<(), DaemonError> {
    let Setup {
        state,
        writer,
        syncs,
    } = open(&config)?;
    let mut slots: Vec<Slot> = syncs
        .into_iter()
        .map(|sync| Slot {
            sync,
            next: Instant::now(),
            refusal_reported: false,
            start_failures: 0,
            last_progress: Instant::now(),
        })
        .collect();
    info!(users = slots.len(), once, state_file = %state.path().display(), "fitbit-influx started");
    if let Some(addr) = config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            DaemonError::Config(ConfigError {
                variable: "METRICS_LISTEN".into(),
                problem: format!("cannot listen on {addr}: {e}"),
            })
        })?;
        info!(%addr, "serving /metrics, /healthz and /readyz");
        tokio::spawn(crate::metrics::serve(listener, state.path().to_path_buf()));
    }
    let health = Health::new(state.path());
    let beat_stop = shutdown.child_token();
    let _beat = health.spawn_beat(beat_stop.clone());
    let _watch = spawn_watch(
        health.clone(),
        config.sync.influxdb_down_after,
        writer.clone(),
        state.clone(),
        beat_stop.clone(),
    );
    let result = rounds(&mut slots, &config, once, &shutdown, &health).await;
    beat_stop.cancel();
    result
}

/// `fitbit-influx verify`: for each user (or only `only_user`), compares `[from, to]` with the API
/// and fetches again what disagrees. Prints one line per disagreeing day and a summary per user.
pub async fn verify(
    config: Config,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    only_user: Option<String>,
) -> Result<(), DaemonError> {
    let Setup { syncs, .. } = open(&config)?;
    let mut worst: Option<OnceFailure> = None;
    let mut found_user = false;
    for mut sync in syncs {
        if only_user.as_deref().is_some_and(|u| u != sync.user()) {
            continue;
        }
        found_user = true;
        let user = sync.user().to_string();
        let failure = match sync.verify_and_repair(from, to).await {
            Ok((v, r)) => {
                for (t, d) in &v.disagreements {
                    println!(
                        "{user} {t} {}: InfluxDB had {}, the API has {}",
                        d.day, d.stored, d.api
                    );
                }
                for (t, e) in &v.errors {
                    println!("{user} {t}: could not verify: {e}");
                }
                println!(
                    "{user}: {} type-days checked, {} disagreed, {} window(s) fetched again ({} failed)",
                    v.checked_days,
                    v.disagreements.len(),
                    r.windows_ok,
                    r.windows_failed
                );
                (!v.errors.is_empty() || r.windows_failed > 0).then(|| {
                    OnceFailure::SomeFailed(format!(
                        "{user}: not everything could be verified or repaired"
                    ))
                })
            }
            Err(RoundOutcome::AuthRevoked(why) | RoundOutcome::PermissionLost(why)) => {
                Some(OnceFailure::Credentials(why))
            }
            Err(RoundOutcome::WriteRefused(why)) => Some(OnceFailure::NothingWritten(why)),
            Err(other) => Some(OnceFailure::SomeFailed(format!("{user}: {other:?}"))),
        };
        if let Some(f) = failure {
            if worst.as_ref().is_none_or(|w| f.rank() > w.rank()) {
                worst = Some(f);
            }
        }
    }
    if !found_user {
        return Err(DaemonError::NoToken(ConfigError {
            variable: "--user".into(),
            problem: format!(
                "\"{}\" is not a configured user",
                only_user.unwrap_or_default()
            ),
        }));
    }
    match worst {
        Some(f) => Err(DaemonError::Once(f)),
        None => Ok(()),
    }
}

/// Watches what retries hide: InfluxDB failing for minutes, the state file failing to save.
fn spawn_watch(
    health: Health,
    down_after: Duration,
    writer: Arc<InfluxWriter>,
    state: Arc<SharedState>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let influx = writer.failing_since().and_then(|(since, why)| {
                let secs = (chrono::Utc::now() - since).num_seconds().max(0) as u64;
                (secs >= down_after.as_secs())
                    .then(|| format!("writes have failed for {secs}s ({why}); check InfluxDB and INFLUXDB_* settings"))
            });
            // A refusal (set by a round) stays until a write succeeds; only the watch's own text is
            // cleared here.
            if influx.is_some() || writer.failing_since().is_none() {
                health.set_problem("influxdb", influx);
            }
            health.set_problem(
                "state file",
                state
                    .save_error()
                    .map(|e| format!("{e}; progress and tokens cannot be saved")),
            );
            tokio::select! {
                _ = tokio::time::sleep(WATCH_EVERY) => {}
                _ = stop.cancelled() => return,
            }
        }
    })
}

/// The wait before trying a round that could not start again: 5 s doubling to [`START_RETRY_MAX`].
fn start_retry(failures: u32) -> Duration {
    (Duration::from_secs(5) * 2u32.saturating_pow(failures.saturating_sub(1).min(10)))
        .min(START_RETRY_MAX)
}

/// Turns a UTC instant into a tokio instant (past instants are now).
fn instant_at(t: chrono::DateTime<chrono::Utc>) -> Instant {
    let wait = (t - chrono::Utc::now()).to_std().unwrap_or_default();
    Instant::now() + wait
}

async fn user_round(
    slot: &mut Slot,
    config: &Config,
    once: bool,
    health: &Health,
) -> Result<(), OnceFailure> {
    let interval = config.sync.sync_interval;
    let started = chrono::Utc::now();
    let refresh_before = if once {
        started
    } else {
        started
            - chrono::Duration::from_std(interval).unwrap_or_else(|_| chrono::Duration::hours(4))
    };
    let user = slot.sync.user().to_string();
    let outcome = slot.sync.round(refresh_before).await;
    slot.sync.record_round(&outcome).await;
    let now = Instant::now();
    let metrics = &crate::metrics::METRICS;
    match &outcome {
        RoundOutcome::Done(report) => {
            metrics.credentials(&user, "ok");
            if report.windows_failed == 0 {
                metrics.successful_round(&user);
            }
        }
        RoundOutcome::AuthRevoked(_) => metrics.credentials(&user, "refused"),
        RoundOutcome::PermissionLost(_) => metrics.credentials(&user, "regrant_needed"),
        RoundOutcome::NotStarted(_) | RoundOutcome::WriteRefused(_) => {}
    }
    match outcome {
        RoundOutcome::Done(report) => {
            slot.start_failures = 0;
            if slot.refusal_reported {
                info!(user, "Google accepts the credentials again");
                slot.refusal_reported = false;
            }
            let result = judge_round(slot, &user, &report, interval, health);
            let next_refresh = slot
                .sync
                .next_refresh(interval)
                .map_or(now + interval, instant_at);
            let next_retry = slot.sync.next_retry().map(instant_at);
            slot.next = next_retry
                .map_or(next_refresh, |r| r.min(next_refresh))
                .max(now + MIN_PAUSE);
            let wait_s = slot.next.saturating_duration_since(now).as_secs();
            info!(
                user,
                requests = report.requests,
                windows = report.windows_ok,
                failed = report.windows_failed,
                points = report.points,
                skipped_points = report.skipped_points,
                next_round_in_s = wait_s,
                "round finished"
            );
            result
        }
        RoundOutcome::NotStarted(why) => {
            slot.start_failures += 1;
            let wait = start_retry(slot.start_failures);
            warn!(user, error = %why, retry_in_s = wait.as_secs(), "cannot start the round (settings, identity or profile unreadable); trying again soon");
            slot.next = now + wait;
            if now.duration_since(slot.last_progress) > interval {
                health.set_problem(&user, Some(format!("no data fetched for a while: {why}")));
            }
            Err(OnceFailure::SomeFailed(format!("{user}: {why}")))
        }
        RoundOutcome::WriteRefused(why) => {
            slot.start_failures += 1;
            let wait = start_retry(slot.start_failures);
            error!(user, retry_in_s = wait.as_secs(), "{why}");
            health.set_problem("influxdb", Some(why.clone()));
            slot.next = now + wait;
            Err(OnceFailure::NothingWritten(why))
        }
        RoundOutcome::AuthRevoked(why) | RoundOutcome::PermissionLost(why) => {
            if !slot.refusal_reported {
                error!(user, retry_every_s = AUTH_RETRY.as_secs(), "{why}");
                slot.refusal_reported = true;
            }
            health.set_problem(&user, Some(why.clone()));
            slot.next = now + AUTH_RETRY;
            Err(OnceFailure::Credentials(why))
        }
    }
}

/// Health and the `--once` verdict after a round that ran.
fn judge_round(
    slot: &mut Slot,
    user: &str,
    report: &RoundReport,
    interval: Duration,
    health: &Health,
) -> Result<(), OnceFailure> {
    let now = Instant::now();
    if report.windows_ok > 0 || report.windows_failed == 0 {
        slot.last_progress = now;
    }
    match &report.write_refused {
        Some(why) => health.set_problem("influxdb", Some(why.clone())),
        None if report.windows_ok > 0 => health.set_problem("influxdb", None),
        None => {}
    }
    let stalled = now.duration_since(slot.last_progress) > interval;
    health.set_problem(
        user,
        stalled.then(|| {
            format!(
                "no window has succeeded for {}s; last error: {}",
                now.duration_since(slot.last_progress).as_secs(),
                report.last_error.as_deref().unwrap_or("unknown")
            )
        }),
    );
    let failing = slot.sync.persistent_failures();
    let disabled = slot.sync.disabled_types();
    let mut notes = Vec::new();
    if failing > 0 {
        notes.push(format!("{failing} day(s) keep failing"));
    }
    if !disabled.is_empty() {
        notes.push(format!(
            "not offered by the API, not fetched: {} (please report it)",
            disabled.join(", ")
        ));
    }
    health.set_note(
        user,
        (!notes.is_empty()).then(|| format!("{}; see `fitbit-influx status`", notes.join("; "))),
    );
    if let Some(why) = &report.write_refused {
        if report.windows_ok == 0 {
            return Err(OnceFailure::NothingWritten(why.clone()));
        }
    }
    if report.windows_failed > 0 || report.skipped_points > 0 {
        return Err(OnceFailure::SomeFailed(format!(
            "{user}: {} window(s) failed, {} unreadable point(s) skipped; last error: {}",
            report.windows_failed,
            report.skipped_points,
            report.last_error.as_deref().unwrap_or("none")
        )));
    }
    if !disabled.is_empty() {
        return Err(OnceFailure::SomeFailed(format!(
            "{user}: not fetched, the API does not offer the request: {} (see `fitbit-influx status`)",
            disabled.join(", ")
        )));
    }
    Ok(())
}

async fn rounds(
    slots: &mut [Slot],
    config: &Config,
    once: bool,
    shutdown: &CancellationToken,
    health: &Health,
) -> Result<(), DaemonError> {
    loop {
        let now = Instant::now();
        let due = slots
            .iter_mut()
            .filter(|s| s.next <= now)
            .map(|slot| user_round(slot, config, once, health));
        let outcomes = tokio::select! {
            o = futures::future::join_all(due) => o,
            _ = shutdown.cancelled() => {
                info!("shutting down: the current windows were abandoned, their days unchanged");
                return Ok(());
            }
        };
        // The round's pages are freed; hand the memory back before sleeping for hours.
        crate::memory::give_back();
        if once {
            let worst = outcomes
                .into_iter()
                .filter_map(Result::err)
                .max_by_key(OnceFailure::rank);
            return match worst {
                Some(f) => Err(DaemonError::Once(f)),
                None => Ok(()),
            };
        }
        let next = slots
            .iter()
            .map(|s| s.next)
            .min()
            .expect("at least one user");
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = shutdown.cancelled() => {
                info!("shutting down");
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_retries_grow_to_five_minutes() {
        assert_eq!(start_retry(1), Duration::from_secs(5));
        assert_eq!(start_retry(2), Duration::from_secs(10));
        assert_eq!(start_retry(20), START_RETRY_MAX);
    }
}
