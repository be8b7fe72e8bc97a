//! OAuth tokens for one user: the access token is refreshed ahead of its expiry (and on demand after a
//! 401), through the oauth2 crate against the configured Google token endpoint.
//!
//! The refresh token is the one thing that must never be lost. Google does not rotate refresh tokens,
//! but if an answer ever carries a new one it is written to the state file **before** it is used.
//! `invalid_grant` (revoked, expired after 7 days in "Testing", unused for 6 months) is reported as
//! [`AuthError::Revoked`] with instructions; the caller decides how rarely to try again.

use crate::config::{GoogleConfig, UserConfig};
use crate::secret::Secret;
use crate::state::{SharedState, StateError, Tokens};
use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, RequestTokenError,
    TokenResponse, TokenUrl,
};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info};

/// Refresh this long before the access token expires, so no request carries a token about to die.
pub const REFRESH_AHEAD: Duration = Duration::from_secs(300);

/// Retries of a refresh that could not reach the token endpoint: 1 s doubling, four attempts in all.
const REFRESH_BACKOFF: crate::retry::Backoff =
    crate::retry::Backoff::new(Duration::from_secs(1), Duration::from_secs(8), Some(3));

type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Google refused the refresh token of user \"{user}\" ({description}). The token was revoked, has expired (apps left in \"Testing\" get tokens that expire after 7 days), or was unused for 6 months. Fix: get a new refresh token (fitbit-influx auth), put it in {variable} and restart; publish the OAuth app (\"In production\") to stop the 7-day expiry")]
    Revoked {
        user: String,
        description: String,
        variable: String,
    },
    #[error("Google refused the OAuth client ({description}): check GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET")]
    BadClient { description: String },
    #[error("the token endpoint could not be reached or answered nonsense: {0}")]
    Transient(String),
    #[error("user \"{0}\" has no refresh token in the state file; set GOOGLE_REFRESH_TOKEN")]
    NoToken(String),
    #[error(transparent)]
    State(#[from] StateError),
}

/// Hands out valid access tokens for one user.
pub struct TokenManager {
    user: String,
    /// Where the user's token is configured, for the fix in messages.
    token_variable: String,
    oauth: OAuthClient,
    http: reqwest::Client,
    state: Arc<SharedState>,
    /// One refresh at a time; a caller that waited finds the fresh token in the state.
    refreshing: tokio::sync::Mutex<()>,
}

impl TokenManager {
    pub fn new(google: &GoogleConfig, user: &UserConfig, state: Arc<SharedState>) -> TokenManager {
        let oauth = BasicClient::new(ClientId::new(google.client_id.clone()))
            .set_client_secret(ClientSecret::new(google.client_secret.expose().to_string()))
            // The reference's token requests carry client_id/client_secret in the form body.
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::from_url(google.token_url.clone()));
        let http = reqwest::Client::builder()
            // oauth2's advice: never follow redirects from a token endpoint.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("static client configuration");
        TokenManager {
            user: user.name.clone(),
            token_variable: user.token_variable.clone(),
            oauth,
            http,
            state,
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    fn tokens(&self) -> Option<Tokens> {
        self.state
            .read(|s| s.users.get(&self.user).and_then(|u| u.tokens.clone()))
    }

    fn usable(tokens: &Tokens, now: DateTime<Utc>) -> Option<Secret> {
        let expires = tokens.access_token_expires_at?;
        let ahead = chrono::Duration::from_std(REFRESH_AHEAD).expect("small duration");
        (expires - ahead > now)
            .then(|| tokens.access_token.clone())
            .flatten()
    }

    /// A valid access token, refreshing it first when it expires within [`REFRESH_AHEAD`].
    pub async fn access_token(&self) -> Result<Secret, AuthError> {
        if let Some(t) = self.tokens().and_then(|t| Self::usable(&t, Utc::now())) {
            return Ok(t);
        }
        let _guard = self.refreshing.lock().await;
        // Someone else may have refreshed while we waited.
        if let Some(t) = self.tokens().and_then(|t| Self::usable(&t, Utc::now())) {
            return Ok(t);
        }
        self.refresh_locked().await
    }

    /// Refreshes now, whatever the expiry says (after the API answered 401 to `rejected`).
    pub async fn refresh_after_rejection(&self, rejected: &Secret) -> Result<Secret, AuthError> {
        let _guard = self.refreshing.lock().await;
        if let Some(current) = self.tokens().and_then(|t| t.access_token) {
            if &current != rejected {
                return Ok(current); // refreshed by someone else meanwhile
            }
        }
        self.refresh_locked().await
    }

    async fn refresh_locked(&self) -> Result<Secret, AuthError> {
        let tokens = self
            .tokens()
            .ok_or_else(|| AuthError::NoToken(self.user.clone()))?;
        let refresh = RefreshToken::new(tokens.refresh_token.expose().to_string());
        debug!(user = %self.user, "refreshing the access token");
        // A token endpoint that is briefly unreachable (DNS after a reboot, a blip) is retried here,
        // so that one failed refresh does not fail every window of the round.
        let mut attempt = 0;
        let answer = loop {
            let result = self
                .oauth
                .exchange_refresh_token(&refresh)
                .request_async(&self.http)
                .await
                .map_err(|e| self.classify(e));
            match result {
                Err(AuthError::Transient(why)) => match REFRESH_BACKOFF.delay(attempt) {
                    Some(delay) => {
                        tracing::warn!(user = %self.user, error = %why, retry_in_ms = delay.as_millis() as u64, "token refresh failed; retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(AuthError::Transient(why)),
                },
                other => break other?,
            }
        };
        if let Some(new_refresh) = answer.refresh_token() {
            // Persist a rotated refresh token before anything uses the new access token.
            let new_refresh = Secret::new(new_refresh.secret().clone());
            self.state.update(|s| {
                if let Some(t) = s.users.get_mut(&self.user).and_then(|u| u.tokens.as_mut()) {
                    t.refresh_token = new_refresh;
                }
            })?;
            info!(user = %self.user, "Google issued a new refresh token; saved it in the state file");
        }
        let access = Secret::new(answer.access_token().secret().clone());
        let lifetime = answer.expires_in().unwrap_or(Duration::from_secs(3600));
        let expires_at = Utc::now()
            + chrono::Duration::from_std(lifetime).unwrap_or_else(|_| chrono::Duration::hours(1));
        self.state.update(|s| {
            if let Some(t) = s.users.get_mut(&self.user).and_then(|u| u.tokens.as_mut()) {
                t.access_token = Some(access.clone());
                t.access_token_expires_at = Some(expires_at);
            }
        })?;
        debug!(user = %self.user, %expires_at, "access token refreshed");
        Ok(access)
    }

    fn classify<RE: std::error::Error + 'static>(
        &self,
        e: RequestTokenError<RE, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
    ) -> AuthError {
        match e {
            RequestTokenError::ServerResponse(r) => {
                let description = r
                    .error_description()
                    .cloned()
                    .unwrap_or_else(|| r.error().to_string());
                match r.error() {
                    BasicErrorResponseType::InvalidGrant => AuthError::Revoked {
                        user: self.user.clone(),
                        description,
                        variable: self.token_variable.clone(),
                    },
                    BasicErrorResponseType::InvalidClient
                    | BasicErrorResponseType::UnauthorizedClient => {
                        AuthError::BadClient { description }
                    }
                    other => AuthError::Transient(format!("{other}: {description}")),
                }
            }
            RequestTokenError::Request(e) => AuthError::Transient(e.to_string()),
            RequestTokenError::Parse(e, _) => {
                AuthError::Transient(format!("unreadable answer: {e}"))
            }
            RequestTokenError::Other(s) => AuthError::Transient(s),
        }
    }
}
