//! # fitbit-influx
//!
//! A long-running daemon that keeps a person's Fitbit / Pixel Watch data flowing from the Google Health
//! API v4 into InfluxDB, where provisioned Grafana dashboards chart it.
//!
//! The modules, in the order data flows through them:
//!
//! | module | what it is |
//! |---|---|
//! | [`config`] | every setting, read from the environment once and validated at start-up |
//! | [`secret`] | a string that never shows itself in logs or `Debug` output (tokens, passwords) |
//! | [`state`] | the state file: OAuth tokens and per-data-type coverage, written atomically, locked |
//! | [`coverage`] | per user and data type: the final, open and failed days, and retry delays |
//! | [`auth`] | OAuth: access tokens refreshed ahead of expiry; a rotated refresh token saved before use |
//! | [`api`] | the Google Health API client: paced by governor, 429 sleeps, retries, 401 refresh |
//! | [`catalog`] | every data type as one entry: endpoint, window, measurements, JSON → points |
//! | [`point`] | how a measurement becomes an InfluxDB point, and line-protocol escaping (the only place) |
//! | [`influx`] | the InfluxDB writer: one interface, a 2.x/3.x transport and a 1.x transport, retries |
//! | [`sync`] | the sync engine: account, horizon, planner, fetcher, verify; a round per user |
//! | [`insights`] | wear time, activity class, baselines, trends and "what changed", from the stored series |
//! | [`daemon`] | rounds for every user, sleeping between them, hourly retries after `invalid_grant`, shutdown |
//! | [`memory`] | the allocator's free memory handed back to the system after each round |
//! | [`health`] | the health file the daemon keeps fresh, read by `fitbit-influx health` |
//! | [`metrics`] | Prometheus metrics and `/metrics`, `/healthz`, `/readyz` (`METRICS_LISTEN`) |
//! | [`export`] | `fitbit-influx export`: types and days of a person into CSV or JSON Lines files, from the API or InfluxDB |
//! | [`import`] | `fitbit-influx import`: a fitbit.com or Google Takeout archive into the same measurements |
//! | [`status`] | `fitbit-influx status`: the coverage of the state file as a table |
//! | [`retry`] | exponential backoff with jitter, shared by every retry loop |
//! | [`telemetry`] | tracing set-up (`LOG_FORMAT`, `RUST_LOG`) |
//! | [`consent`] | `fitbit-influx auth`: the first refresh token through Google's consent (PKCE) |
//! | [`cli`] | the command line: `run`, `check`, `auth`, `health`, `status`, `verify`, `export`, `import`, `sim`, `bench` |
//! | [`sim`] | `fitbit-influx sim`: a Google Health API v4 simulator for tests and the demo |
//! | [`outcome`] | how `export` and `import` fail: one error type, one meaning per exit status |
//! | [`bench`] | `fitbit-influx bench`: a measured backfill (requests, CPU per point, memory), or an archive import (`--import`) |
//!
//! `main.rs` only parses the command line and hands over to [`cli::main`].

pub mod api;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod consent;
pub mod coverage;
pub mod daemon;
pub mod export;
pub mod health;
pub mod import;
pub mod influx;
pub mod insights;
pub mod memory;
pub mod metrics;
pub mod outcome;
pub mod point;
pub mod retry;
pub mod secret;
pub mod sim;
pub mod state;
pub mod status;
pub mod sync;
pub mod telemetry;
