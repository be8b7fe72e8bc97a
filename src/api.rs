//! The Google Health API v4 client for one user.
//!
//! Every request is paced by a token bucket (governor) at `REQUESTS_PER_MINUTE`, below Google's
//! 300/min/user quota. What happens when a request fails:
//! - **429**: sleep as long as `Retry-After` says, else `RATE_LIMIT_SLEEP` (an hour by default), logging
//!   when and until what time; then try again.
//! - **401**: refresh the access token once and try again.
//! - **503, 504, timeouts, broken connections, unreadable bodies** (the transient answers of reference
//!   §11 #16): bounded retries with exponential backoff and jitter; then [`ApiError::Transient`] — the
//!   caller records the window's days as failed and retries them in minutes.
//! - **403 `RESOURCE_PERMISSION_DENIED`**: [`ApiError::PermissionLost`] — the grant is gone (§11 #15).
//! - **other 403, 404**: [`ApiError::NotAvailable`] (scope not granted, type not available).
//! - **other 4xx and 5xx**: [`ApiError::Rejected`] with Google's message, reason and metadata
//!   (`INVALID_ROLLUP_QUERY_DURATION` + `maxDurationDays`, `UNSUPPORTED_DATA_TYPE_ACTION` +
//!   `allowed_actions`, §11 #6–7); not retried here.

use crate::auth::{AuthError, TokenManager};
use crate::retry::Backoff;
use crate::secret::Secret;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("not available ({status}): {message}")]
    NotAvailable { status: u16, message: String },
    #[error("rejected ({status}{}): {message}", reason.as_deref().map(|r| format!(" {r}")).unwrap_or_default())]
    Rejected {
        status: u16,
        message: String,
        /// `error.details[].reason` of Google's ErrorInfo.
        reason: Option<String>,
        /// The ErrorInfo's `metadata`.
        metadata: BTreeMap<String, String>,
    },
    #[error("Google answers 403 RESOURCE_PERMISSION_DENIED ({message}): the app's access was withdrawn on Google's side. Fix: remove the app at https://myaccount.google.com/connections, then consent again (fitbit-influx auth) and restart with the new refresh token")]
    PermissionLost { message: String },
    #[error("failed after {attempts} attempts: {last}")]
    Transient { attempts: u32, last: String },
}

/// Request limits and sleeps, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub requests_per_minute: u32,
    pub rate_limit_sleep: Duration,
    pub backoff: Backoff,
}

/// Retries of 5xx/timeouts: 1 s doubling to 30 s, five attempts in all.
pub const API_BACKOFF: Backoff =
    Backoff::new(Duration::from_secs(1), Duration::from_secs(30), Some(5));

pub struct HealthClient {
    http: reqwest::Client,
    /// `…/v4/users/me/`
    base: Url,
    tokens: Arc<TokenManager>,
    limiter: DefaultDirectRateLimiter,
    pacing: Pacing,
    sent: std::sync::atomic::AtomicU64,
    rate_limited: std::sync::atomic::AtomicU64,
    /// Microseconds spent waiting on the pace and on 429s.
    waited_us: std::sync::atomic::AtomicU64,
}

/// What a client has done so far: the figures a round reports (the difference of two tallies).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub requests: u64,
    pub rate_limited: u64,
    pub quota_wait_s: f64,
}

impl Tally {
    /// What happened between `earlier` and this tally.
    pub fn since(self, earlier: Tally) -> Tally {
        Tally {
            requests: self.requests - earlier.requests,
            rate_limited: self.rate_limited - earlier.rate_limited,
            quota_wait_s: (self.quota_wait_s - earlier.quota_wait_s).max(0.0),
        }
    }
}

/// What one attempt ended in.
enum Attempt<T> {
    Done(T),
    Retry(String),
    RateLimited(Option<Duration>),
    Unauthorized,
    Fail(ApiError),
}

impl HealthClient {
    pub fn new(health_api_url: &Url, tokens: Arc<TokenManager>, pacing: Pacing) -> HealthClient {
        let mut base = health_api_url.clone();
        base.path_segments_mut()
            .map(|mut s| {
                s.pop_if_empty().extend(["v4", "users", "me", ""]);
            })
            .expect("http(s) URLs have path segments");
        let rpm = NonZeroU32::new(pacing.requests_per_minute.max(1)).expect("at least one");
        // Evenly spaced requests with a small burst, so a quota window is never overrun.
        let quota = Quota::per_minute(rpm).allow_burst(NonZeroU32::new(5).expect("five"));
        HealthClient {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .build()
                .expect("static client configuration"),
            base,
            tokens,
            limiter: RateLimiter::direct(quota),
            pacing,
            sent: std::sync::atomic::AtomicU64::new(0),
            rate_limited: std::sync::atomic::AtomicU64::new(0),
            waited_us: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn user(&self) -> &str {
        self.tokens.user()
    }

    /// Requests sent so far (every attempt, answered or not).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests, 429s and quota waits so far; the same events `/metrics` counts.
    pub fn tally(&self) -> Tally {
        use std::sync::atomic::Ordering::Relaxed;
        Tally {
            requests: self.sent.load(Relaxed),
            rate_limited: self.rate_limited.load(Relaxed),
            quota_wait_s: self.waited_us.load(Relaxed) as f64 / 1e6,
        }
    }

    fn waited(&self, d: Duration) {
        crate::metrics::METRICS.quota_wait(self.user(), d.as_secs_f64());
        self.waited_us.fetch_add(
            d.as_micros().min(u64::MAX as u128) as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The pace requests are held to.
    pub fn requests_per_minute(&self) -> u32 {
        self.pacing.requests_per_minute.max(1)
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.request(Method::GET, path, query, None, &|b| {
            serde_json::from_slice(b)
        })
        .await
    }

    /// A GET whose answer `decode` reads straight from the body's bytes (typed pages, no `Value`
    /// tree). A body `decode` cannot read is retried like unreadable JSON.
    pub async fn get_decoded<T>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        decode: &(dyn Fn(&[u8]) -> Result<T, serde_json::Error> + Sync),
    ) -> Result<T, ApiError> {
        self.request(Method::GET, path, query, None, decode).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.request(Method::POST, path, &[], Some(body), &|b| {
            serde_json::from_slice(b)
        })
        .await
    }

    async fn request<T>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        decode: &(dyn Fn(&[u8]) -> Result<T, serde_json::Error> + Sync),
    ) -> Result<T, ApiError> {
        let url = self
            .base
            .join(path)
            .expect("catalog paths are relative URLs");
        let mut failures = 0u32;
        let mut refreshed = false;
        let endpoint = crate::metrics::endpoint_of(path);
        let metrics = &crate::metrics::METRICS;
        loop {
            let waited = std::time::Instant::now();
            self.limiter.until_ready().await;
            self.waited(waited.elapsed());
            let token = self.tokens.access_token().await?;
            self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (attempt, status) = self
                .attempt(&method, &url, (query, body), &token, decode)
                .await;
            metrics.api_request(self.user(), endpoint.clone(), &status);
            match attempt {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(e) => return Err(e),
                Attempt::Unauthorized if !refreshed => {
                    debug!(user = self.user(), "access token rejected; refreshing once");
                    self.tokens.refresh_after_rejection(&token).await?;
                    refreshed = true;
                }
                Attempt::Unauthorized => {
                    return Err(ApiError::Rejected {
                        status: 401,
                        message: "the API refused a freshly refreshed access token".into(),
                        reason: None,
                        metadata: BTreeMap::new(),
                    })
                }
                Attempt::RateLimited(told) => {
                    let sleep = told.unwrap_or(self.pacing.rate_limit_sleep);
                    let until = chrono::Utc::now()
                        + chrono::Duration::from_std(sleep)
                            .unwrap_or_else(|_| chrono::Duration::hours(1));
                    warn!(
                        user = self.user(),
                        sleep_s = sleep.as_secs_f64(),
                        until = %until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        source = if told.is_some() { "Retry-After" } else { "RATE_LIMIT_SLEEP" },
                        "HTTP 429 from the Google Health API: sleeping"
                    );
                    metrics.rate_limited(self.user());
                    self.rate_limited
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.waited(sleep);
                    tokio::time::sleep(sleep).await;
                }
                Attempt::Retry(reason) => match self.pacing.backoff.delay(failures) {
                    Some(delay) => {
                        metrics.api_retry(self.user());
                        warn!(user = self.user(), path, %reason, retry_in_ms = delay.as_millis() as u64, "API request failed; retrying");
                        tokio::time::sleep(delay).await;
                        failures += 1;
                    }
                    None => {
                        return Err(ApiError::Transient {
                            attempts: failures + 1,
                            last: reason,
                        })
                    }
                },
            }
        }
    }

    async fn attempt<T>(
        &self,
        method: &Method,
        url: &Url,
        (query, body): (&[(&str, &str)], Option<&Value>),
        token: &Secret,
        decode: &(dyn Fn(&[u8]) -> Result<T, serde_json::Error> + Sync),
    ) -> (Attempt<T>, String) {
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(token.expose())
            .query(query);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return (
                    Attempt::Retry(e.without_url().to_string()),
                    "transport".into(),
                )
            }
        };
        let status = resp.status();
        (
            Self::judge(resp, status, decode).await,
            status.as_u16().to_string(),
        )
    }

    /// What an answer means for the request.
    async fn judge<T>(
        resp: reqwest::Response,
        status: StatusCode,
        decode: &(dyn Fn(&[u8]) -> Result<T, serde_json::Error> + Sync),
    ) -> Attempt<T> {
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::Retry(format!("reading the body: {}", e.without_url())),
        };
        if status.is_success() {
            return match decode(&bytes) {
                Ok(v) => Attempt::Done(v),
                Err(e) => Attempt::Retry(format!("unreadable JSON ({e})")),
            };
        }
        let error = GoogleError::parse(&String::from_utf8_lossy(&bytes));
        match status {
            StatusCode::TOO_MANY_REQUESTS => Attempt::RateLimited(retry_after),
            StatusCode::UNAUTHORIZED => Attempt::Unauthorized,
            StatusCode::FORBIDDEN
                if error.reason.as_deref() == Some("RESOURCE_PERMISSION_DENIED") =>
            {
                Attempt::Fail(ApiError::PermissionLost {
                    message: error.message,
                })
            }
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
                Attempt::Fail(ApiError::NotAvailable {
                    status: status.as_u16(),
                    message: error.message,
                })
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                Attempt::Retry(format!("{}: {}", status.as_u16(), error.message))
            }
            s => Attempt::Fail(ApiError::Rejected {
                status: s.as_u16(),
                message: error.message,
                reason: error.reason,
                metadata: error.metadata,
            }),
        }
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3).
fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// A `google.rpc.Status` body: its message, and the ErrorInfo's reason and metadata.
#[derive(Debug, Default, PartialEq)]
struct GoogleError {
    message: String,
    reason: Option<String>,
    metadata: BTreeMap<String, String>,
}

impl GoogleError {
    fn parse(text: &str) -> GoogleError {
        #[derive(serde::Deserialize)]
        struct Body {
            error: Status,
        }
        #[derive(serde::Deserialize)]
        struct Status {
            #[serde(default)]
            message: String,
            #[serde(default)]
            details: Vec<Detail>,
        }
        #[derive(serde::Deserialize)]
        struct Detail {
            #[serde(default)]
            reason: Option<String>,
            #[serde(default)]
            metadata: BTreeMap<String, Value>,
        }
        match serde_json::from_str::<Body>(text) {
            Ok(b) => {
                let info = b.error.details.into_iter().find(|d| d.reason.is_some());
                GoogleError {
                    message: b.error.message,
                    reason: info.as_ref().and_then(|d| d.reason.clone()),
                    metadata: info
                        .map(|d| {
                            d.metadata
                                .into_iter()
                                .map(|(k, v)| {
                                    let v = v
                                        .as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| v.to_string());
                                    (k, v)
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            }
            Err(_) => GoogleError {
                message: text.chars().take(300).collect(),
                ..GoogleError::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("12"), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        let future = (chrono::Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let d = parse_retry_after(&future).unwrap();
        assert!(
            d > Duration::from_secs(85) && d <= Duration::from_secs(90),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn google_errors_are_read_with_reason_and_metadata() {
        let e = GoogleError::parse(
            r#"{"error": {"code": 403, "message": "Request had insufficient authentication scopes.", "status": "PERMISSION_DENIED"}}"#,
        );
        assert_eq!(e.message, "Request had insufficient authentication scopes.");
        assert_eq!(e.reason, None);
        let e = GoogleError::parse(
            r#"{"error": {"code": 400, "message": "too long", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_ROLLUP_QUERY_DURATION", "metadata": {"maxDurationDays": "14"}}]}}"#,
        );
        assert_eq!(e.reason.as_deref(), Some("INVALID_ROLLUP_QUERY_DURATION"));
        assert_eq!(e.metadata["maxDurationDays"], "14");
        assert_eq!(
            GoogleError::parse("<html>404</html>").message,
            "<html>404</html>"
        );
    }
}
