//! Configuration, read once from the environment and validated before anything else happens.
//!
//! Every variable is first read as an optional string (through `envy`), then each section parses and
//! checks its own values, so that a bad value produces one line that names the variable and says what
//! is wrong: `SYNC_INTERVAL: "4 hrs." is not a duration (examples: 30m, 4h)`. An empty value counts as
//! unset, because `docker compose` passes `VAR=` for a blank line in `.env`.
//!
//! Sections are loaded separately so that each command asks only for what it needs (`check` needs no
//! Google credentials).

use crate::secret::Secret;
use chrono::NaiveDate;
use reqwest::Url;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration problem: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Per-user variables (`GOOGLE_REFRESH_TOKEN_ALICE`) are named at run time, hence the Cow.
    pub variable: std::borrow::Cow<'static, str>,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.into(),
        problem: problem.into(),
    }
}

/// The raw environment: every variable the program knows, as an optional string.
/// Field names are the variable names in lower case (`envy`'s convention).
#[derive(Deserialize, Default, Clone)]
pub struct Env {
    google_client_id: Option<String>,
    google_client_secret: Option<String>,
    google_refresh_token: Option<String>,
    health_api_url: Option<String>,
    google_token_url: Option<String>,
    google_auth_url: Option<String>,
    influxdb_url: Option<String>,
    influxdb_api: Option<String>,
    influxdb_token: Option<String>,
    influxdb_org: Option<String>,
    influxdb_bucket: Option<String>,
    influxdb_database: Option<String>,
    influxdb_username: Option<String>,
    influxdb_password: Option<String>,
    state_file: Option<String>,
    sync_interval: Option<String>,
    influxdb_down_after: Option<String>,
    rate_limit_sleep: Option<String>,
    requests_per_minute: Option<String>,
    backfill_from: Option<String>,
    verify_every: Option<String>,
    verify_days: Option<String>,
    data_sources: Option<String>,
    heart_rate_resolution: Option<String>,
    metrics_listen: Option<String>,
    data_source_family: Option<String>,
    log_format: Option<String>,
    users: Option<String>,
    user_name: Option<String>,
    /// `GOOGLE_REFRESH_TOKEN_<NAME>` (and `DATA_SOURCE_FAMILY_<NAME>`) variables, whose names depend
    /// on `USERS`.
    #[serde(skip)]
    per_user_tokens: HashMap<String, String>,
}

impl Env {
    /// Reads the process environment.
    pub fn from_process() -> Env {
        // Every field is an Option<String>, so deserialisation cannot fail on content; a non-UTF-8
        // variable is the only way it can, and then treating everything as unset would hide it.
        envy::from_env::<Env>().unwrap_or_else(|e| {
            eprintln!("environment: {e}");
            std::process::exit(2)
        });
        let vars: HashMap<String, String> = std::env::vars().collect();
        match with_secret_files(vars) {
            Ok(vars) => Env::from_map(vars),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2)
            }
        }
    }

    fn from_map(map: HashMap<String, String>) -> Env {
        let mut env: Env =
            envy::from_iter(map.clone()).expect("string-only fields always deserialize");
        env.per_user_tokens = per_user_tokens(map);
        env
    }

    /// Builds an environment from pairs, for tests and tools (`[("INFLUXDB_URL", "http://…")]`).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env::from_map(with_secret_files(map).unwrap_or_else(|e| panic!("{e}")))
    }
}

/// Secrets that may come from a file (the Docker secrets convention): `X_FILE=/run/secrets/x`
/// stands for `X` when `X` itself is unset; the file's content without surrounding whitespace.
const SECRET_FILE_VARIABLES: &[&str] = &[
    "GOOGLE_CLIENT_SECRET",
    "GOOGLE_REFRESH_TOKEN",
    "INFLUXDB_TOKEN",
    "INFLUXDB_PASSWORD",
];

fn with_secret_files(
    mut vars: HashMap<String, String>,
) -> Result<HashMap<String, String>, ConfigError> {
    let files: Vec<(String, String)> = vars
        .iter()
        .filter_map(|(k, path)| {
            let base = k.strip_suffix("_FILE")?;
            let secret =
                SECRET_FILE_VARIABLES.contains(&base) || base.starts_with(PER_USER_TOKEN_PREFIX);
            secret.then(|| (base.to_string(), path.clone()))
        })
        .collect();
    for (base, path) in files {
        if vars.get(&base).is_some_and(|v| !v.trim().is_empty()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            variable: format!("{base}_FILE").into(),
            problem: format!("cannot read {path}: {e}"),
        })?;
        vars.insert(base, text.trim().to_string());
    }
    Ok(vars)
}

const PER_USER_TOKEN_PREFIX: &str = "GOOGLE_REFRESH_TOKEN_";

const PER_USER_FAMILY_PREFIX: &str = "DATA_SOURCE_FAMILY_";

fn per_user_tokens(vars: impl IntoIterator<Item = (String, String)>) -> HashMap<String, String> {
    vars.into_iter()
        .filter(|(k, _)| {
            k.starts_with(PER_USER_TOKEN_PREFIX) || k.starts_with(PER_USER_FAMILY_PREFIX)
        })
        .collect()
}

/// A `dataSourceFamily` value (reference §3.3), checked.
fn family(text: &str, variable: String) -> Result<String, ConfigError> {
    match text {
        "all-sources" | "google-wearables" | "google-sources" => Ok(text.to_string()),
        _ => Err(ConfigError {
            variable: variable.into(),
            problem: format!(
                "\"{text}\" is not a data source family (all-sources, google-wearables or google-sources)"
            ),
        }),
    }
}

/// The variable holding a user's refresh token: `alice` → `GOOGLE_REFRESH_TOKEN_ALICE`.
pub fn refresh_token_variable(user: &str) -> String {
    format!(
        "{PER_USER_TOKEN_PREFIX}{}",
        user.to_ascii_uppercase().replace('-', "_")
    )
}

/// Treats blank values as unset.
fn value(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn required<'a>(raw: &'a Option<String>, variable: &'static str) -> Result<&'a str, ConfigError> {
    value(raw).ok_or_else(|| err(variable, "is not set"))
}

fn url(raw: &Option<String>, variable: &'static str, default: &str) -> Result<Url, ConfigError> {
    let text = value(raw).unwrap_or(default);
    parse_url(text, variable)
}

fn parse_url(text: &str, variable: &'static str) -> Result<Url, ConfigError> {
    match Url::parse(text) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => Ok(u),
        _ => Err(err(
            variable,
            format!("\"{text}\" is not an http(s) URL (example: http://influxdb:8086)"),
        )),
    }
}

fn duration(
    raw: &Option<String>,
    variable: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let Some(text) = value(raw) else {
        return Ok(default);
    };
    match humantime::parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(err(
            variable,
            format!("\"{text}\" must be longer than zero"),
        )),
        Err(_) => Err(err(
            variable,
            format!("\"{text}\" is not a duration (examples: 30m, 4h)"),
        )),
    }
}

/// A person whose data the daemon syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConfig {
    /// The `user` tag on every point and the key in the state file.
    pub name: String,
    /// The configured refresh token; the state file keeps the current one. `None`: the state file must
    /// hold one already (written by `fitbit-influx auth --write-state`).
    pub refresh_token: Option<Secret>,
    /// The variable it comes from (`GOOGLE_REFRESH_TOKEN` or `GOOGLE_REFRESH_TOKEN_ALICE`), for messages.
    pub token_variable: String,
    /// Which sources the API merges for this person (`DATA_SOURCE_FAMILY[_<NAME>]`); `None`: all.
    pub data_source_family: Option<String>,
}

/// The single person's name when `USERS` is not set.
pub const DEFAULT_USER: &str = "me";

fn user_name(text: &str, variable: &'static str) -> Result<String, ConfigError> {
    let name = text.trim().to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(err(
            variable,
            format!("\"{text}\" is not a user name (letters, digits, - and _; at most 32)"),
        ))
    }
}

impl UserConfig {
    /// `USERS=alice,bob` with `GOOGLE_REFRESH_TOKEN_ALICE`, …; else one person (`USER_NAME`, default `me`)
    /// with `GOOGLE_REFRESH_TOKEN`.
    pub fn list_from_env(env: &Env) -> Result<Vec<UserConfig>, ConfigError> {
        let Some(list) = value(&env.users) else {
            let name = match value(&env.user_name) {
                Some(n) => user_name(n, "USER_NAME")?,
                None => DEFAULT_USER.to_string(),
            };
            let data_source_family = value(&env.data_source_family)
                .map(|f| family(f, "DATA_SOURCE_FAMILY".into()))
                .transpose()?;
            return Ok(vec![UserConfig {
                name,
                refresh_token: value(&env.google_refresh_token).map(Secret::new),
                token_variable: "GOOGLE_REFRESH_TOKEN".into(),
                data_source_family,
            }]);
        };
        let mut users: Vec<UserConfig> = Vec::new();
        for part in list.split(',').filter(|p| !p.trim().is_empty()) {
            let name = user_name(part, "USERS")?;
            if users.iter().any(|u| u.name == name) {
                return Err(err("USERS", format!("\"{name}\" is listed twice")));
            }
            let variable = refresh_token_variable(&name);
            let token = env
                .per_user_tokens
                .get(&variable)
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .map(Secret::new);
            let family_variable = format!(
                "{PER_USER_FAMILY_PREFIX}{}",
                name.to_ascii_uppercase().replace('-', "_")
            );
            let data_source_family = match env
                .per_user_tokens
                .get(&family_variable)
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
            {
                Some(f) => Some(family(f, family_variable)?),
                None => value(&env.data_source_family)
                    .map(|f| family(f, "DATA_SOURCE_FAMILY".into()))
                    .transpose()?,
            };
            users.push(UserConfig {
                name,
                refresh_token: token,
                token_variable: variable,
                data_source_family,
            });
        }
        if users.is_empty() {
            return Err(err("USERS", "lists no user (example: USERS=alice,bob)"));
        }
        Ok(users)
    }
}

/// The Google OAuth client and the Health API endpoints.
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    pub client_id: String,
    pub client_secret: Secret,
    /// The people to sync, each with their initial refresh token.
    pub users: Vec<UserConfig>,
    /// Base URL without the `/v4` suffix.
    pub health_api_url: Url,
    pub token_url: Url,
}

pub const DEFAULT_HEALTH_API_URL: &str = "https://health.googleapis.com";
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

impl GoogleConfig {
    pub fn from_env(env: &Env) -> Result<GoogleConfig, ConfigError> {
        Ok(GoogleConfig {
            client_id: required(&env.google_client_id, "GOOGLE_CLIENT_ID")?.to_string(),
            client_secret: Secret::new(required(
                &env.google_client_secret,
                "GOOGLE_CLIENT_SECRET",
            )?),
            users: UserConfig::list_from_env(env)?,
            health_api_url: url(
                &env.health_api_url,
                "HEALTH_API_URL",
                DEFAULT_HEALTH_API_URL,
            )?,
            token_url: url(&env.google_token_url, "GOOGLE_TOKEN_URL", DEFAULT_TOKEN_URL)?,
        })
    }
}

/// What `fitbit-influx auth` needs: the OAuth client and endpoints, and where the state file is.
#[derive(Debug, Clone)]
pub struct ConsentConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub auth_url: Url,
    pub token_url: Url,
    pub state_file: PathBuf,
    /// `USER_NAME`, else `me`.
    pub user_name: String,
    /// `USERS` is set: tokens go into `GOOGLE_REFRESH_TOKEN_<NAME>`.
    pub several_users: bool,
    configured: HashMap<String, String>,
}

impl ConsentConfig {
    pub fn from_env(env: &Env) -> Result<ConsentConfig, ConfigError> {
        let mut configured = env.per_user_tokens.clone();
        if let Some(t) = value(&env.google_refresh_token) {
            configured.insert("GOOGLE_REFRESH_TOKEN".into(), t.to_string());
        }
        Ok(ConsentConfig {
            client_id: required(&env.google_client_id, "GOOGLE_CLIENT_ID")?.to_string(),
            client_secret: Secret::new(required(
                &env.google_client_secret,
                "GOOGLE_CLIENT_SECRET",
            )?),
            auth_url: url(
                &env.google_auth_url,
                "GOOGLE_AUTH_URL",
                crate::consent::DEFAULT_AUTH_URL,
            )?,
            token_url: url(&env.google_token_url, "GOOGLE_TOKEN_URL", DEFAULT_TOKEN_URL)?,
            state_file: PathBuf::from(value(&env.state_file).unwrap_or("./data/state.json")),
            user_name: match value(&env.user_name) {
                Some(n) => user_name(n, "USER_NAME")?,
                None => DEFAULT_USER.to_string(),
            },
            several_users: value(&env.users).is_some(),
            configured,
        })
    }

    /// The token currently configured in `variable`, if any.
    pub fn configured_token(&self, variable: &str) -> Option<Secret> {
        self.configured
            .get(variable)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(Secret::new)
    }
}

/// Where points go, and how to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfluxTarget {
    /// InfluxDB 2.x or 3.x: `/api/v2/write?org=…&bucket=…` with `Authorization: Token …`.
    V2 {
        token: Secret,
        org: String,
        bucket: String,
    },
    /// InfluxDB 1.x (and 3.x's compatibility API): `/write?db=…`, optional basic auth.
    V1 {
        database: String,
        username: Option<String>,
        password: Option<Secret>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfluxConfig {
    pub url: Url,
    pub target: InfluxTarget,
}

impl InfluxConfig {
    pub fn from_env(env: &Env) -> Result<InfluxConfig, ConfigError> {
        let url = parse_url(required(&env.influxdb_url, "INFLUXDB_URL")?, "INFLUXDB_URL")?;
        let api = value(&env.influxdb_api).unwrap_or("v2");
        let target = match api.to_ascii_lowercase().as_str() {
            "v2" => InfluxTarget::V2 {
                token: Secret::new(required(&env.influxdb_token, "INFLUXDB_TOKEN")?),
                org: required(&env.influxdb_org, "INFLUXDB_ORG")?.to_string(),
                bucket: required(&env.influxdb_bucket, "INFLUXDB_BUCKET")?.to_string(),
            },
            "v1" => InfluxTarget::V1 {
                database: required(&env.influxdb_database, "INFLUXDB_DATABASE")?.to_string(),
                username: value(&env.influxdb_username).map(str::to_string),
                password: value(&env.influxdb_password).map(Secret::new),
            },
            other => {
                return Err(err(
                    "INFLUXDB_API",
                    format!(
                    "\"{other}\" is not an InfluxDB API (use v2 for InfluxDB 2.x/3.x, v1 for 1.x)"
                ),
                ))
            }
        };
        Ok(InfluxConfig { url, target })
    }
}

/// How the sync engine paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    pub state_file: PathBuf,
    /// Time between refresh rounds once caught up.
    pub sync_interval: Duration,
    /// How long InfluxDB writes may keep failing (retried, nothing lost) before `health`, `/readyz`
    /// and the exit code call it a problem: short outages (a restart, an upgrade) stay quiet.
    pub influxdb_down_after: Duration,
    /// How long to sleep after HTTP 429 when the server does not say.
    pub rate_limit_sleep: Duration,
    pub requests_per_minute: u32,
    /// First day to backfill; `None` means the account's start (profile `membershipStartDate`).
    pub backfill_from: Option<NaiveDate>,
    /// How often the daemon compares the recent days in InfluxDB with the API (`verify`).
    pub verify_every: Duration,
    /// How many recent days that check covers.
    pub verify_days: u32,
    /// `DATA_SOURCES=all`: every source's raw points, tagged with their source, instead of the
    /// reconciled stream (reference §11 #4).
    pub all_sources: bool,
    /// `HEART_RATE_RESOLUTION=minute`: heart rate stored per minute (mean, min, max, count) instead
    /// of every sample, for small hosts (reference §11 #3).
    pub heart_rate_per_minute: bool,
}

/// The API allows 300 requests per minute per user; staying below leaves room for retries.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 240;
pub const API_REQUESTS_PER_MINUTE_QUOTA: u32 = 300;

impl SyncConfig {
    pub fn from_env(env: &Env) -> Result<SyncConfig, ConfigError> {
        let requests_per_minute = match value(&env.requests_per_minute) {
            None => DEFAULT_REQUESTS_PER_MINUTE,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=API_REQUESTS_PER_MINUTE_QUOTA).contains(&n) => n,
                _ => {
                    return Err(err(
                        "REQUESTS_PER_MINUTE",
                        format!(
                            "\"{text}\" must be a whole number from 1 to {API_REQUESTS_PER_MINUTE_QUOTA} (the API's per-user quota)"
                        ),
                    ))
                }
            },
        };
        let backfill_from = match value(&env.backfill_from) {
            None => None,
            Some(text) => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                err(
                    "BACKFILL_FROM",
                    format!("\"{text}\" is not a date (example: 2024-01-31)"),
                )
            })?),
        };
        Ok(SyncConfig {
            state_file: PathBuf::from(value(&env.state_file).unwrap_or("./data/state.json")),
            sync_interval: duration(
                &env.sync_interval,
                "SYNC_INTERVAL",
                Duration::from_secs(4 * 3600),
            )?,
            influxdb_down_after: duration(
                &env.influxdb_down_after,
                "INFLUXDB_DOWN_AFTER",
                Duration::from_secs(180),
            )?,
            rate_limit_sleep: duration(
                &env.rate_limit_sleep,
                "RATE_LIMIT_SLEEP",
                Duration::from_secs(3600),
            )?,
            requests_per_minute,
            backfill_from,
            verify_every: duration(
                &env.verify_every,
                "VERIFY_EVERY",
                Duration::from_secs(24 * 3600),
            )?,
            all_sources: match value(&env.data_sources) {
                None | Some("reconciled") => false,
                Some("all") => true,
                Some(other) => {
                    return Err(err(
                        "DATA_SOURCES",
                        format!("\"{other}\" must be reconciled (the app's numbers) or all (every source, tagged)"),
                    ))
                }
            },
            heart_rate_per_minute: match value(&env.heart_rate_resolution) {
                None | Some("sample") => false,
                Some("minute") => true,
                Some(other) => {
                    return Err(err(
                        "HEART_RATE_RESOLUTION",
                        format!("\"{other}\" must be sample (every sample) or minute (per-minute mean, min, max, count)"),
                    ))
                }
            },
            verify_days: match value(&env.verify_days) {
                None => 28,
                Some(text) => text
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=366).contains(n))
                    .ok_or_else(|| {
                        err(
                            "VERIFY_DAYS",
                            format!("\"{text}\" must be a whole number of days from 1 to 366"),
                        )
                    })?,
            },
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn from_env(env: &Env) -> Result<LogFormat, ConfigError> {
        match value(&env.log_format)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(err(
                "LOG_FORMAT",
                format!("\"{other}\" is not a log format (use text or json)"),
            )),
        }
    }
}

/// Everything `run` needs, checked in the order a user fills in `.env`.
#[derive(Debug, Clone)]
pub struct Config {
    pub google: GoogleConfig,
    pub influx: InfluxConfig,
    pub sync: SyncConfig,
    /// `METRICS_LISTEN`: where `/metrics`, `/healthz` and `/readyz` are served; `None`: nowhere.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        Ok(Config {
            google: GoogleConfig::from_env(env)?,
            influx: InfluxConfig::from_env(env)?,
            sync: SyncConfig::from_env(env)?,
            metrics_listen: match value(&env.metrics_listen) {
                None => None,
                Some(text) => Some(text.parse().map_err(|_| {
                    err(
                        "METRICS_LISTEN",
                        format!("\"{text}\" is not an address and port (example: 0.0.0.0:9464)"),
                    )
                })?),
            },
        })
    }
}
