//! `fitbit-influx sim`: a local Google Health API v4 simulator, faithful to the reference
//! (`shared/reference/google-health-api.md` §1–6 and the §9 checklist).
//!
//! It lets the tests and the demo stack run without a Google account. It serves the OAuth token
//! endpoint, the user resources and the data-point methods over HTTP with Google's JSON conventions and
//! error bodies, enforces the per-user quota and can inject faults.
//!
//! | module | what it is |
//! |---|---|
//! | [`world`] | the simulated people and their days (deterministic, generated on demand) |
//! | [`metrics`] | the person's further series (distance, calories, zones, HRV, SpO2, …) |
//! | [`types`] | the simulated data types, one table entry each |
//! | [`series`] | each type's records and JSON |
//! | [`sources`] | the watch and the phone: raw `list` per source, reconciled streams and rollups |
//! | [`json`] | proto3 JSON as Google encodes it |
//! | [`filter`] | the AIP-160 list filter subset |
//! | [`api`] | the HTTP handlers for `/v4/...`: user resources, list and reconcile |
//! | `rollup` | `:rollUp` and `:dailyRollUp` |
//! | [`auth`] | `/token`, access tokens, the quota bucket and fault injection |
//! | [`control`] | what tests move while it runs: the clock, the watch's last sync, broken answers |
//! | [`errors`] | error bodies |

pub mod api;
pub mod auth;
pub mod control;
pub mod errors;
pub mod filter;
pub mod json;
pub mod metrics;
mod rollup;
pub mod series;
pub mod sources;
pub mod types;
pub mod world;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::net::SocketAddr;
use std::sync::Arc;
use world::Person;

/// Options of `fitbit-influx sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8099")]
    pub listen: SocketAddr,
    /// Number of simulated people (each gets its own refresh token).
    #[arg(long, default_value_t = 1)]
    pub users: u32,
    /// Days of history, ending with the last day.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Seed of all generated data, tokens and ids (same seed, same data).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The people's time zones (IANA names, comma-separated): person i lives in zone i, the last
    /// zone repeating for the people after it (a family in one home, one on the road).
    #[arg(long, value_delimiter = ',', num_args = 1.., default_value = "Europe/Berlin")]
    pub tz: Vec<Tz>,
    /// Last day of data (YYYY-MM-DD), complete in every zone. Without it the last day is today in
    /// each person's zone and "now" follows the wall clock, so the latest day keeps growing.
    #[arg(long)]
    pub end: Option<NaiveDate>,
    /// Requests per minute per user before HTTP 429 (token bucket).
    #[arg(long, default_value_t = 300)]
    pub quota_per_minute: u32,
    /// Requests a user may make in a burst before the per-minute pace applies (default: the whole
    /// minute's quota, like a fresh quota window).
    #[arg(long)]
    pub quota_burst: Option<u32>,
    /// Inject a failure into every N-th data request.
    #[arg(long)]
    pub fail_every: Option<u64>,
    /// The status of injected failures: 429, 500 or 503.
    #[arg(long, default_value_t = 503, value_parser = parse_fail_status)]
    pub fail_with: u16,
    /// Lifetime of issued access tokens (Google: 1 hour).
    #[arg(long, default_value = "3600s", value_parser = humantime::parse_duration)]
    pub access_token_ttl: std::time::Duration,
    /// Seconds between heart-rate samples (real accounts: a median of 2, ≈37,000 a day, reference
    /// §11 #3 — the dense mode; the default keeps tests and demos light).
    #[arg(long, default_value_t = 5)]
    pub heart_rate_every: u32,
    /// A simulated illness over the last N complete days: the resting heart rate 15 bpm above the
    /// person's usual (what the insights' baseline should flag). 0: none.
    #[arg(long, default_value_t = 0)]
    pub fever_days: u32,
    /// Consent without this scope (repeatable): `activity_and_fitness`, `health_metrics_and_measurements`,
    /// `sleep`, `profile` or `settings`. Requests that need it get 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT.
    #[arg(long = "withhold-scope", value_name = "SCOPE")]
    pub withheld_scopes: Vec<String>,
    /// Answer every refresh with a new refresh token and retire the old one (Google does not rotate;
    /// this proves a client keeps the newest token).
    #[arg(long)]
    pub rotate_refresh_tokens: bool,
    /// Leave out the Retry-After header on 429 answers (the reference does not confirm Google sends it).
    #[arg(long)]
    pub no_retry_after: bool,
    /// The watch last synced this long ago, so its newer data is not in the API yet (e.g. `3d` for a
    /// watch left at home while travelling).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub watch_sync_lag: Option<std::time::Duration>,
    /// About one list data point in N is unreadable (value missing or not a number).
    #[arg(long)]
    pub corrupt_every: Option<u64>,
    /// Every N-th data request answers `200 {}`.
    #[arg(long)]
    pub empty_every: Option<u64>,
    /// Every N-th page that has a next page loses its `nextPageToken`.
    #[arg(long)]
    pub drop_token_every: Option<u64>,
    /// The most points a list page holds, whatever `pageSize` asks (real accounts: about 5,000,
    /// reference §11 #1); 0 for the documented 10,000.
    #[arg(long, default_value_t = 5000)]
    pub page_cap: usize,
    /// Never answer an empty page that still carries a `nextPageToken` (real accounts do, now and
    /// then, reference §11 #2).
    #[arg(long)]
    pub no_empty_pages: bool,
    /// No phone: steps and distance come from the watch alone (by default a phone also records them,
    /// as real accounts show, reference §11 #4).
    #[arg(long)]
    pub no_phone: bool,
    /// Cap rollup ranges at this many days, when narrower than the type's documented cap (the
    /// API's caps are its own to change; it says so with `maxDurationDays`, reference §11 #6).
    #[arg(long)]
    pub rollup_cap_days: Option<i64>,
    /// Refuse an action of a type with 400 `UNSUPPORTED_DATA_TYPE_ACTION` (repeatable), as
    /// `TYPE:ACTION`, e.g. `floors:dailyRollUp` — a type that stopped offering an operation.
    #[arg(long = "refuse-action", value_name = "TYPE:ACTION")]
    pub refused_actions: Vec<String>,
}

fn parse_fail_status(s: &str) -> Result<u16, String> {
    match s {
        "429" | "500" | "503" => Ok(s.parse().expect("a listed number")),
        _ => Err("must be 429, 500 or 503".into()),
    }
}

impl SimArgs {
    /// Person `index`'s zone: its entry of `--tz`, or the last one.
    pub fn tz_of(&self, index: u32) -> Tz {
        let last = self.tz.len().saturating_sub(1);
        self.tz
            .get((index as usize).min(last))
            .copied()
            .unwrap_or(chrono_tz::Europe::Berlin)
    }

    /// The defaults, for tests: like `fitbit-influx sim` with no options but on a free port.
    pub fn for_tests() -> SimArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: SimArgs,
        }
        let mut a = Wrapper::parse_from(["sim"]).args;
        a.listen = "127.0.0.1:0".parse().expect("static address");
        a
    }
}

/// The running simulator's shared state.
pub struct Sim {
    pub args: SimArgs,
    pub first_day: NaiveDate,
    pub auth: auth::Auth,
    pub control: control::Control,
}

impl Sim {
    pub fn new(args: SimArgs) -> Sim {
        let last = args
            .end
            .unwrap_or_else(|| Utc::now().with_timezone(&args.tz_of(0)).date_naive());
        let first_day = last - Duration::days(args.days.max(1) as i64 - 1);
        let auth = auth::Auth::new(&args);
        let control = control::Control::new(control::Settings {
            corrupt_every: args.corrupt_every,
            empty_every: args.empty_every,
            drop_token_every: args.drop_token_every,
            ..control::Settings::default()
        });
        let sim = Sim {
            args,
            first_day,
            auth,
            control,
        };
        if let Some(lag) = sim.args.watch_sync_lag {
            let synced = sim.now() - chrono::Duration::from_std(lag).unwrap_or_default();
            sim.control.set(|s| s.watch_synced = Some(synced));
        }
        sim
    }

    /// The simulated "now": set by a test, the end of `--end`, or the wall clock.
    pub fn now(&self) -> DateTime<Utc> {
        if let Some(t) = self.control.get().now {
            return t;
        }
        match self.args.end {
            // The end of the last day in the zone where it ends latest: complete for everyone.
            Some(end) => {
                use chrono::TimeZone;
                let midnight = (end + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight");
                self.args
                    .tz
                    .iter()
                    .map(|tz| {
                        tz.from_local_datetime(&midnight)
                            .earliest()
                            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
                    })
                    .max()
                    .unwrap_or_else(|| midnight.and_utc())
            }
            None => Utc::now(),
        }
    }

    /// Until when a data type's records are in the API: the watch's data up to its last sync; the
    /// scale's and manual entries up to now (a scale uploads right after each weigh-in).
    pub fn visible_until(&self, data_type: &str) -> DateTime<Utc> {
        let now = self.now();
        match data_type {
            "weight" | "body-fat" | "height" => now,
            _ => self.control.watch_synced(now),
        }
    }

    /// Person `index` (0-based) as of now.
    pub fn person(&self, index: u32) -> Person {
        let tz = self.args.tz_of(index);
        let last_day = self.args.end.unwrap_or_else(|| {
            let now = self.control.get().now.unwrap_or_else(Utc::now);
            now.with_timezone(&tz).date_naive()
        });
        let span = (last_day - self.first_day).num_days();
        Person {
            seed: self.args.seed,
            index,
            tz,
            first_day: self.first_day,
            last_day,
            unworn_day: self.first_day + Duration::days((span / 2).min(10)),
            heart_rate_every: self.args.heart_rate_every.max(1),
            fever_from: (self.args.fever_days > 0)
                .then(|| last_day - Duration::days(self.args.fever_days as i64)),
        }
    }

    /// The lines printed at start: where to point the daemon and with which credentials.
    pub fn banner(&self, addr: SocketAddr) -> String {
        let mut s = format!(
            "fitbit-influx sim listening on http://{addr}\n\
             HEALTH_API_URL=http://{addr}\n\
             GOOGLE_TOKEN_URL=http://{addr}/token\n\
             GOOGLE_AUTH_URL=http://{addr}/o/oauth2/v2/auth\n\
             GOOGLE_CLIENT_ID={}\n\
             GOOGLE_CLIENT_SECRET={}\n",
            self.auth.client_id,
            self.auth.client_secret.expose()
        );
        for i in 0..self.args.users {
            s.push_str(&format!(
                "user {} (healthUserId {}): GOOGLE_REFRESH_TOKEN={}\n",
                i + 1,
                self.person(i).health_user_id(),
                self.auth.refresh_token(i).expose()
            ));
        }
        if !self.args.withheld_scopes.is_empty() {
            s.push_str(&format!(
                "withheld scopes: {}\n",
                self.args.withheld_scopes.join(", ")
            ));
        }
        s
    }
}

/// Binds the listener and serves until `shutdown` resolves. Returns the bound address at once.
pub async fn start(
    args: SimArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, Arc<Sim>, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let sim = Arc::new(Sim::new(args));
    let app = api::router(sim.clone());
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok((addr, sim, handle))
}
