//! OAuth for the simulator (reference §1): the token endpoint, access-token checks, revocation, the
//! per-user quota and fault injection.

use super::errors::{oauth_error, ApiError};
use super::world::mix;
use super::SimArgs;
use crate::secret::Secret;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The read scopes the simulator grants (reference §1.7, the recommended daemon set).
pub const GRANTED_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
    "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",
    "https://www.googleapis.com/auth/googlehealth.sleep.readonly",
    "https://www.googleapis.com/auth/googlehealth.profile.readonly",
    "https://www.googleapis.com/auth/googlehealth.settings.readonly",
];

/// An authorization code waiting to be exchanged.
struct PendingCode {
    user: u32,
    redirect_uri: String,
    code_challenge: Option<String>,
    scopes: Vec<String>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct Auth {
    pub client_id: String,
    pub client_secret: Secret,
    /// The current refresh token of each user (replaced on every refresh with --rotate-refresh-tokens).
    refresh_tokens: Mutex<Vec<Secret>>,
    rotate: bool,
    granted: Vec<&'static str>,
    revoked: Mutex<HashSet<u32>>,
    /// access token → (user index, expiry)
    access: Mutex<HashMap<String, (u32, Instant)>>,
    /// Unredeemed authorization codes.
    codes: Mutex<HashMap<String, PendingCode>>,
    ttl: Duration,
    quota_per_minute: u32,
    quota_burst: f64,
    buckets: Mutex<HashMap<u32, Bucket>>,
    data_requests: AtomicU64,
    token_requests: AtomicU64,
    api_requests: AtomicU64,
    rate_limited: AtomicU64,
    /// Data requests per data type and method (`steps:dailyRollUp`, `heart-rate`), for request budgets.
    by_type: Mutex<std::collections::BTreeMap<String, u64>>,
    fail_every: Option<u64>,
    fail_with: u16,
    send_retry_after: bool,
}

fn hex(x: u64) -> String {
    format!("{x:016x}")
}

impl Auth {
    pub fn new(args: &SimArgs) -> Auth {
        let s = args.seed;
        Auth {
            client_id: format!(
                "{}-sim{}.apps.googleusercontent.com",
                100_000 + mix(s) % 900_000,
                s
            ),
            client_secret: Secret::new(format!("GOCSPX-sim-{}", hex(mix(s ^ 0xc1)))),
            refresh_tokens: Mutex::new(
                (0..args.users)
                    .map(|i| {
                        Secret::new(format!(
                            "1//0sim-{}-{}",
                            i + 1,
                            hex(mix(s ^ 0x7e ^ ((i as u64) << 20)))
                        ))
                    })
                    .collect(),
            ),
            rotate: args.rotate_refresh_tokens,
            granted: GRANTED_SCOPES
                .iter()
                .copied()
                .filter(|full| {
                    !args
                        .withheld_scopes
                        .iter()
                        .any(|w| full.ends_with(&format!(".{w}.readonly")))
                })
                .collect(),
            revoked: Mutex::new(HashSet::new()),
            access: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            ttl: args.access_token_ttl,
            quota_per_minute: args.quota_per_minute.max(1),
            quota_burst: args.quota_burst.unwrap_or(args.quota_per_minute).max(1) as f64,
            buckets: Mutex::new(HashMap::new()),
            data_requests: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
            api_requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            by_type: Mutex::new(std::collections::BTreeMap::new()),
            fail_every: args.fail_every.filter(|n| *n > 0),
            fail_with: args.fail_with,
            send_retry_after: !args.no_retry_after,
        }
    }

    /// The user's current refresh token.
    pub fn refresh_token(&self, user: u32) -> Secret {
        self.refresh_tokens.lock().expect("lock")[user as usize].clone()
    }

    fn user_of_refresh_token(&self, token: &str) -> Option<u32> {
        let i = self
            .refresh_tokens
            .lock()
            .expect("lock")
            .iter()
            .position(|t| t.expose() == token)? as u32;
        (!self.revoked.lock().expect("lock").contains(&i)).then_some(i)
    }

    /// Whether the user granted `scope` (short name, e.g. `sleep`).
    pub fn granted(&self, scope: &str) -> bool {
        self.granted
            .iter()
            .any(|g| g.ends_with(&format!(".{scope}.readonly")))
    }

    fn issue_access_token(&self, user: u32) -> (String, u64) {
        let token = format!("ya29.sim-{}", hex(rand::random::<u64>()));
        self.access
            .lock()
            .expect("lock")
            .insert(token.clone(), (user, Instant::now() + self.ttl));
        // Google answers 3599 for a one-hour token.
        (token, self.ttl.as_secs().saturating_sub(1).max(1))
    }

    /// `POST /token` (form-encoded).
    pub fn token_endpoint(&self, form: &HashMap<String, String>) -> Response {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("client_id") != self.client_id
            || field("client_secret") != self.client_secret.expose()
        {
            return oauth_error(401, "invalid_client", "Unauthorized");
        }
        match field("grant_type") {
            "refresh_token" => match self.user_of_refresh_token(field("refresh_token")) {
                None => oauth_error(400, "invalid_grant", "Token has been expired or revoked."),
                Some(user) => {
                    let (access_token, expires_in) = self.issue_access_token(user);
                    // No refresh_token in a refresh answer: Google does not rotate them (§1.4).
                    let mut answer = json!({
                        "access_token": access_token,
                        "expires_in": expires_in,
                        "scope": self.granted.join(" "),
                        "token_type": "Bearer",
                    });
                    if self.rotate {
                        let fresh =
                            Secret::new(format!("1//0sim-rotated-{}", hex(rand::random::<u64>())));
                        answer["refresh_token"] = json!(fresh.expose());
                        self.refresh_tokens.lock().expect("lock")[user as usize] = fresh;
                    }
                    Json(answer).into_response()
                }
            },
            "authorization_code" => {
                let Some(pending) = self.codes.lock().expect("lock").remove(field("code")) else {
                    // Unknown or already redeemed (codes are single-use).
                    return oauth_error(400, "invalid_grant", "Bad Request");
                };
                if pending.redirect_uri != field("redirect_uri") {
                    return oauth_error(400, "invalid_grant", "Bad Request");
                }
                if let Some(challenge) = &pending.code_challenge {
                    use base64::Engine;
                    use sha2::Digest;
                    let digest = sha2::Sha256::digest(field("code_verifier").as_bytes());
                    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
                    if field("code_verifier").is_empty() || &expected != challenge {
                        return oauth_error(400, "invalid_grant", "Bad Request");
                    }
                }
                let (access_token, expires_in) = self.issue_access_token(pending.user);
                Json(json!({
                    "access_token": access_token,
                    "expires_in": expires_in,
                    "refresh_token": self.refresh_token(pending.user).expose(),
                    "scope": pending.scopes.join(" "),
                    "token_type": "Bearer",
                }))
                .into_response()
            }
            "" => oauth_error(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            ),
            _ => oauth_error(400, "unsupported_grant_type", "Invalid grant_type"),
        }
    }

    /// `GET /o/oauth2/v2/auth`: consent is automatic (for the user named by `login_hint`, a 1-based
    /// number, else user 1); redirects to `redirect_uri` with `code`, `state` and the granted scopes,
    /// which are the requested ones minus any withheld with --withhold-scope.
    pub fn authorize(&self, q: &HashMap<String, String>) -> Response {
        use axum::http::{header, StatusCode};
        let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
        if get("client_id") != self.client_id {
            return (
                StatusCode::UNAUTHORIZED,
                "Error 401: invalid_client\nThe OAuth client was not found.",
            )
                .into_response();
        }
        let Ok(mut redirect) = reqwest::Url::parse(get("redirect_uri")) else {
            return (
                StatusCode::BAD_REQUEST,
                "Error 400: invalid_request\nMissing or invalid redirect_uri.",
            )
                .into_response();
        };
        if get("response_type") != "code" {
            return (
                StatusCode::BAD_REQUEST,
                "Error 400: invalid_request\nresponse_type must be code.",
            )
                .into_response();
        }
        let users = self.refresh_tokens.lock().expect("lock").len() as u32;
        let user = get("login_hint")
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=users).contains(n))
            .map_or(0, |n| n - 1);
        let scopes: Vec<String> = get("scope")
            .split_whitespace()
            .filter(|s| !s.contains("googlehealth.") || self.granted.iter().any(|g| g == s))
            .map(str::to_string)
            .collect();
        let code = format!("4/0sim-{}", hex(rand::random::<u64>()));
        let challenge = match (get("code_challenge"), get("code_challenge_method")) {
            ("", _) => None,
            (c, "S256") => Some(c.to_string()),
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    "Error 400: invalid_request\nOnly S256 code challenges are supported.",
                )
                    .into_response()
            }
        };
        self.codes.lock().expect("lock").insert(
            code.clone(),
            PendingCode {
                user,
                redirect_uri: get("redirect_uri").to_string(),
                code_challenge: challenge,
                scopes: scopes.clone(),
            },
        );
        redirect
            .query_pairs_mut()
            .append_pair("state", get("state"))
            .append_pair("code", &code)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("authuser", "0")
            .append_pair("prompt", "consent");
        (
            StatusCode::FOUND,
            [(header::LOCATION, redirect.to_string())],
        )
            .into_response()
    }

    /// `POST /revoke?token=…` (Google's revocation endpoint): revokes a refresh or access token.
    pub fn revoke(&self, token: &str) -> Response {
        let position = self
            .refresh_tokens
            .lock()
            .expect("lock")
            .iter()
            .position(|t| t.expose() == token);
        if let Some(i) = position {
            self.revoked.lock().expect("lock").insert(i as u32);
            self.access
                .lock()
                .expect("lock")
                .retain(|_, (u, _)| *u != i as u32);
            return Json(json!({})).into_response();
        }
        if self.access.lock().expect("lock").remove(token).is_some() {
            return Json(json!({})).into_response();
        }
        oauth_error(400, "invalid_token", "Token expired or revoked")
    }

    /// The user an API request is for, from its bearer token.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<u32, ApiError> {
        self.api_requests.fetch_add(1, Ordering::SeqCst);
        let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return Err(ApiError::unauthenticated_missing());
        };
        let Some(token) = value.strip_prefix("Bearer ") else {
            return Err(ApiError::unauthenticated_missing());
        };
        match self.access.lock().expect("lock").get(token.trim()) {
            Some((user, expiry)) if Instant::now() < *expiry => Ok(*user),
            _ => Err(ApiError::unauthenticated_invalid()),
        }
    }

    /// Takes one request from the user's per-minute bucket, or says how long until one is free.
    pub fn take_quota(&self, user: u32) -> Result<(), ApiError> {
        let per_second = self.quota_per_minute as f64 / 60.0;
        let mut buckets = self.buckets.lock().expect("lock");
        let now = Instant::now();
        let b = buckets.entry(user).or_insert(Bucket {
            tokens: self.quota_burst,
            updated: now,
        });
        b.tokens = (b.tokens + (now - b.updated).as_secs_f64() * per_second).min(self.quota_burst);
        b.updated = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - b.tokens) / per_second).ceil().max(1.0) as u64;
        self.rate_limited.fetch_add(1, Ordering::SeqCst);
        Err(ApiError::quota(self.send_retry_after.then_some(wait)))
    }

    /// Counters for tests and the demo: `GET /sim/stats`.
    pub fn stats(&self) -> serde_json::Value {
        json!({
            "token_requests": self.token_requests.load(Ordering::SeqCst),
            "api_requests": self.api_requests.load(Ordering::SeqCst),
            "data_requests": self.data_requests.load(Ordering::SeqCst),
            "rate_limited": self.rate_limited.load(Ordering::SeqCst),
            "by_type": *self.by_type.lock().expect("lock"),
        })
    }

    /// Counts a data request that was answered, under `type[:method]`.
    pub fn count_request(&self, key: String) {
        *self.by_type.lock().expect("lock").entry(key).or_default() += 1;
    }

    /// The injected failure for this data request, if it is an N-th one.
    pub fn injected_fault(&self) -> Option<ApiError> {
        let n = self.data_requests.fetch_add(1, Ordering::SeqCst) + 1;
        let every = self.fail_every?;
        if !n.is_multiple_of(every) {
            return None;
        }
        Some(match self.fail_with {
            429 => ApiError::quota(self.send_retry_after.then_some(1)),
            500 => ApiError::internal(),
            _ => ApiError::unavailable(),
        })
    }
}
