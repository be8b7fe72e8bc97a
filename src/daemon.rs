//! The daemon: rounds of [`UserSync`] for every user, the sleep between them, and shutdown.
//!
//! A user whose refresh token Google refused is not a crash loop: the explanation is logged once, the
//! daemon reports itself unhealthy, tries that user again hourly and keeps the others going.

use crate::api::{HealthClient, Pacing, API_BACKOFF};
use crate::auth::TokenManager;
use crate::config::{Config, ConfigError};
use crate::health::Health;
use crate::influx::InfluxWriter;
use crate::state::{SharedState, StateError, StateStore};
use crate::sync::{RoundOutcome, UserSync};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// How often a user with a refused refresh token is tried again.
pub const AUTH_RETRY: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    AuthRevoked(String),
    /// A user with no refresh token anywhere: a configuration error (exit status 2).
    #[error(transparent)]
    NoToken(ConfigError),
}

struct Slot {
    sync: UserSync,
    next: Instant,
    /// The refusal was logged; later hourly retries stay quiet unless they succeed.
    auth_reported: bool,
}

/// Runs until `shutdown` is cancelled (or, with `once`, after one full round).
pub async fn run(
    config: Config,
    once: bool,
    shutdown: CancellationToken,
) -> Result<(), DaemonError> {
    let (store, mut state) = StateStore::open(&config.sync.state_file)?;
    for user in &config.google.users {
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
    let state = Arc::new(SharedState::new(store, state));
    let writer = Arc::new(InfluxWriter::new(&config.influx));
    let pacing = Pacing {
        requests_per_minute: config.sync.requests_per_minute,
        rate_limit_sleep: config.sync.rate_limit_sleep,
        backoff: API_BACKOFF,
    };
    let mut slots: Vec<Slot> = config
        .google
        .users
        .iter()
        .map(|user| {
            let tokens = Arc::new(TokenManager::new(&config.google, user, state.clone()));
            let client = HealthClient::new(&config.google.health_api_url, tokens, pacing);
            Slot {
                sync: UserSync::new(
                    client,
                    state.clone(),
                    writer.clone(),
                    config.sync.backfill_from,
                ),
                next: Instant::now(),
                auth_reported: false,
            }
        })
        .collect();
    info!(users = slots.len(), once, state_file = %state.path().display(), "fitbit-influx started");
    let health = Health::new(state.path());
    let beat_stop = shutdown.child_token();
    let _beat = health.spawn_beat(beat_stop.clone());
    let result = rounds(&mut slots, &config, once, &shutdown, &health).await;
    beat_stop.cancel();
    result
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
            .map(|slot| async move {
                let outcome = slot.sync.round().await;
                match &outcome {
                    RoundOutcome::Done { failed_windows } => {
                        if slot.auth_reported {
                            info!(
                                user = slot.sync.user(),
                                "Google accepts the refresh token again"
                            );
                            slot.auth_reported = false;
                            health.set_problem(slot.sync.user(), None);
                        }
                        if *failed_windows > 0 {
                            warn!(
                                user = slot.sync.user(),
                                failed_windows,
                                "round finished with failures; they are retried next round"
                            );
                        } else {
                            info!(user = slot.sync.user(), "round finished: up to date");
                        }
                        slot.next = Instant::now() + config.sync.sync_interval;
                    }
                    RoundOutcome::AuthRevoked(why) => {
                        if !slot.auth_reported {
                            error!(
                                user = slot.sync.user(),
                                retry_every_s = AUTH_RETRY.as_secs(),
                                "{why}"
                            );
                            slot.auth_reported = true;
                            health.set_problem(
                                slot.sync.user(),
                                Some("Google refused the refresh token; see the log".into()),
                            );
                        }
                        slot.next = Instant::now() + AUTH_RETRY;
                    }
                }
                outcome
            });
        let outcomes = tokio::select! {
            o = futures::future::join_all(due) => o,
            _ = shutdown.cancelled() => {
                info!("shutting down: the current windows were abandoned, their cursors unchanged");
                return Ok(());
            }
        };
        if once {
            return match outcomes.into_iter().find_map(|o| match o {
                RoundOutcome::AuthRevoked(why) => Some(why),
                RoundOutcome::Done { .. } => None,
            }) {
                Some(why) => Err(DaemonError::AuthRevoked(why)),
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
