//! Prometheus metrics and the HTTP health endpoints (`METRICS_LISTEN`, off by default).
//!
//! One process-wide set of metric families ([`METRICS`]), updated where things happen: the API client
//! counts requests, 429s, quota waits and retries; the InfluxDB writer counts points per measurement
//! and failed batches; the sync books coverage (final/open/failed days, backfill progress, lag)
//! after each window; the daemon sets the credentials state and the last successful round.
//!
//! Labels are bounded by construction: `user` (configured people), `data_type` and `endpoint` (catalog
//! entries), `measurement` (the catalog's), `status` (HTTP codes), `state` (a few words). No token,
//! URL or message ever becomes a label.
//!
//! Served by [`serve`]: `/metrics` (Prometheus text format), `/healthz` (200 while the process runs)
//! and `/readyz` (the judgement of `fitbit-influx health`: 200 healthy, 503 otherwise, with its line).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;

type Labels = Vec<(&'static str, String)>;
type FloatCounter = Counter<f64, AtomicU64>;
type FloatGauge = Gauge<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    api_requests: Family<Labels, Counter>,
    rate_limited: Family<Labels, Counter>,
    quota_wait: Family<Labels, FloatCounter>,
    api_retries: Family<Labels, Counter>,
    points_written: Family<Labels, Counter>,
    write_failures: Family<Labels, Counter>,
    days: Family<Labels, Gauge>,
    backfill_days_done: Family<Labels, Gauge>,
    backfill_days_total: Family<Labels, Gauge>,
    lag: Family<Labels, FloatGauge>,
    credentials: Family<Labels, Gauge>,
    last_round: Family<Labels, FloatGauge>,
}

/// The states of a person's credentials, as the `state` label of `fitbit_influx_credentials`.
pub const CREDENTIAL_STATES: [&str; 3] = ["ok", "refused", "regrant_needed"];

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let mut root = Registry::default();
        let r = root.sub_registry_with_prefix("fitbit_influx");
        let m = Metrics {
            api_requests: Family::default(),
            rate_limited: Family::default(),
            quota_wait: Family::default(),
            api_retries: Family::default(),
            points_written: Family::default(),
            write_failures: Family::default(),
            days: Family::default(),
            backfill_days_done: Family::default(),
            backfill_days_total: Family::default(),
            lag: Family::default(),
            credentials: Family::default(),
            last_round: Family::default(),
            registry: Registry::default(),
        };
        r.register(
            "api_requests",
            "Google Health API requests by user, endpoint (data type and method) and HTTP status (`transport`: no answer)",
            m.api_requests.clone(),
        );
        r.register(
            "api_rate_limited",
            "HTTP 429 answers from the Google Health API",
            m.rate_limited.clone(),
        );
        r.register(
            "api_quota_wait_seconds",
            "Time spent waiting for the request pace (REQUESTS_PER_MINUTE) and after HTTP 429",
            m.quota_wait.clone(),
        );
        r.register(
            "api_retries",
            "API requests retried after a transient failure (503, 504, no answer)",
            m.api_retries.clone(),
        );
        r.register(
            "points_written",
            "Points InfluxDB acknowledged, by measurement",
            m.points_written.clone(),
        );
        r.register(
            "write_failures",
            "Batches InfluxDB did not take, by kind (rejected, target, gave_up)",
            m.write_failures.clone(),
        );
        r.register(
            "days",
            "Civil days per user and data type by coverage state (final, open, failed)",
            m.days.clone(),
        );
        r.register(
            "backfill_days_done",
            "Days of the backfill range fetched at least once (final or open)",
            m.backfill_days_done.clone(),
        );
        r.register(
            "backfill_days_total",
            "Days from the first day to backfill to today",
            m.backfill_days_total.clone(),
        );
        r.register(
            "lag_seconds",
            "Now minus the end of the newest final day, per user and data type",
            m.lag.clone(),
        );
        r.register(
            "credentials",
            "1 for the current state of a user's Google credentials (ok, refused, regrant_needed)",
            m.credentials.clone(),
        );
        r.register(
            "last_successful_round_timestamp_seconds",
            "When a user's last round without failed windows ended (Unix time)",
            m.last_round.clone(),
        );
        let build = Family::<Labels, Gauge>::default();
        build
            .get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_string())])
            .set(1);
        r.register("build_info", "The running version", build);
        Metrics {
            registry: root,
            ..m
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String");
        out
    }

    pub fn api_request(&self, user: &str, endpoint: String, status: &str) {
        self.api_requests
            .get_or_create(&vec![
                ("user", user.to_string()),
                ("endpoint", endpoint),
                ("status", status.to_string()),
            ])
            .inc();
    }

    pub fn rate_limited(&self, user: &str) {
        self.rate_limited
            .get_or_create(&vec![("user", user.to_string())])
            .inc();
    }

    pub fn quota_wait(&self, user: &str, seconds: f64) {
        if seconds > 0.0 {
            self.quota_wait
                .get_or_create(&vec![("user", user.to_string())])
                .inc_by(seconds);
        }
    }

    pub fn api_retry(&self, user: &str) {
        self.api_retries
            .get_or_create(&vec![("user", user.to_string())])
            .inc();
    }

    pub fn points_written(&self, measurement: &str, n: u64) {
        self.points_written
            .get_or_create(&vec![("measurement", measurement.to_string())])
            .inc_by(n);
    }

    pub fn write_failure(&self, kind: &'static str) {
        self.write_failures
            .get_or_create(&vec![("kind", kind.to_string())])
            .inc();
    }

    /// A data type's coverage after a window was booked.
    pub fn coverage(&self, user: &str, data_type: &str, c: &CoverageFigures) {
        let labels = |extra: Option<(&'static str, &str)>| {
            let mut l = vec![
                ("user", user.to_string()),
                ("data_type", data_type.to_string()),
            ];
            if let Some((k, v)) = extra {
                l.push((k, v.to_string()));
            }
            l
        };
        for (state, n) in [
            ("final", c.final_days),
            ("open", c.open_days),
            ("failed", c.failed_days),
        ] {
            self.days
                .get_or_create(&labels(Some(("state", state))))
                .set(n as i64);
        }
        self.backfill_days_done
            .get_or_create(&labels(None))
            .set(c.done_days as i64);
        self.backfill_days_total
            .get_or_create(&labels(None))
            .set(c.total_days as i64);
        if let Some(lag) = c.lag_seconds {
            self.lag.get_or_create(&labels(None)).set(lag);
        }
    }

    /// Which of [`CREDENTIAL_STATES`] a user's credentials are in.
    pub fn credentials(&self, user: &str, current: &str) {
        for state in CREDENTIAL_STATES {
            self.credentials
                .get_or_create(&vec![
                    ("user", user.to_string()),
                    ("state", state.to_string()),
                ])
                .set(i64::from(state == current));
        }
    }

    pub fn successful_round(&self, user: &str) {
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        self.last_round
            .get_or_create(&vec![("user", user.to_string())])
            .set(now);
    }
}

/// What [`Metrics::coverage`] shows of one data type.
#[derive(Debug, Clone, Default)]
pub struct CoverageFigures {
    pub final_days: u64,
    pub open_days: u64,
    pub failed_days: u64,
    pub done_days: u64,
    pub total_days: u64,
    pub lag_seconds: Option<f64>,
}

impl CoverageFigures {
    /// The figures of `c` for a backfill from `start` in `tz`, at `now`.
    pub fn of(
        c: &crate::coverage::Coverage,
        start: chrono::NaiveDate,
        tz: chrono_tz::Tz,
        now: chrono::DateTime<chrono::Utc>,
    ) -> CoverageFigures {
        let today = now.with_timezone(&tz).date_naive();
        let total = ((today - start).num_days() + 1).max(0) as u64;
        let (final_days, open_days) = (c.final_days.len() as u64, c.open_days.len() as u64);
        let lag_seconds = c.final_days.last().map(|d| {
            let end = crate::catalog::read::local_midnight(d + chrono::Duration::days(1), tz);
            (now - end).num_milliseconds() as f64 / 1000.0
        });
        CoverageFigures {
            final_days,
            open_days,
            failed_days: c.failed.len() as u64,
            done_days: (final_days + open_days + c.archive_only_days() as u64).min(total),
            total_days: total,
            lag_seconds,
        }
    }
}

/// An API path as the `endpoint` label: `dataTypes/heart-rate/dataPoints:reconcile` →
/// `heart-rate:reconcile`; `pairedDevices`, `settings`, … as they are.
pub fn endpoint_of(path: &str) -> String {
    match path.strip_prefix("dataTypes/") {
        Some(rest) => {
            let (data_type, op) = rest.split_once('/').unwrap_or((rest, ""));
            match op.split_once(':') {
                Some((_, method)) => format!("{data_type}:{method}"),
                None => data_type.to_string(),
            }
        }
        None => path.split('/').next().unwrap_or(path).to_string(),
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state_file: PathBuf) {
    use axum::http::StatusCode;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    METRICS.render(),
                )
            }),
        )
        .route("/healthz", get(|| async { "alive\n" }))
        .route(
            "/readyz",
            get(move || {
                let state_file = state_file.clone();
                async move {
                    match crate::health::check(&state_file) {
                        Ok(line) => (StatusCode::OK, format!("{line}\n")),
                        Err(line) => (StatusCode::SERVICE_UNAVAILABLE, format!("{line}\n")),
                    }
                }
            }),
        );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_data_type_and_method() {
        assert_eq!(
            endpoint_of("dataTypes/heart-rate/dataPoints:reconcile"),
            "heart-rate:reconcile"
        );
        assert_eq!(endpoint_of("dataTypes/height/dataPoints"), "height");
        assert_eq!(endpoint_of("pairedDevices"), "pairedDevices");
        assert_eq!(endpoint_of("settings"), "settings");
    }
}
