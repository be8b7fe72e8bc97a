//! `fitbit-influx auth`: Google's authorization-code flow with PKCE, to obtain the first refresh token.
//!
//! The user opens the printed address in any browser, signs in and allows access. Google then sends the
//! browser to `http://127.0.0.1:PORT/callback?state=…&code=…`:
//! - on a desktop, a listener on that port receives it;
//! - on a headless server (`docker compose run --rm fitbit-influx auth`), that page cannot load in the
//!   user's browser; the user pastes its address (or just the code) at the prompt.
//!
//! Whichever comes first wins. The `state` must match (CSRF), the PKCE verifier proves the code was asked
//! for by this process, and the granted scopes are checked against what the catalog needs.

use crate::catalog;
use crate::config::{self, ConfigError, Env};
use crate::secret::Secret;
use crate::state::{StateStore, Tokens};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

pub const DEFAULT_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
const SCOPE_PREFIX: &str = "https://www.googleapis.com/auth/googlehealth.";

/// Options of `fitbit-influx auth`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// Loopback port Google redirects to (http://127.0.0.1:PORT/callback); register that redirect URI on
    /// a "Web application" client, or use a "Desktop app" client, which allows any port. 0 picks a free one.
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Do not try to open a browser; only print the address.
    #[arg(long)]
    pub no_browser: bool,
    /// Also store the tokens in STATE_FILE (atomically, mode 0600), so no .env change is needed.
    #[arg(long)]
    pub write_state: bool,
    /// The person these tokens are for (default: USER_NAME, else "me").
    #[arg(long)]
    pub user: Option<String>,
    /// Suggest the Google account to sign in with (an e-mail address).
    #[arg(long)]
    pub login_hint: Option<String>,
}

/// The read scopes the daemon needs: those of every catalog entry, plus profile and settings.
pub fn needed_scopes() -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> = catalog::CATALOG
        .iter()
        .map(|t| catalog::scope_of(t.api_type))
        .collect();
    scopes.extend(["profile", "settings"]);
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

/// What `state`/`code` the browser came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub code: String,
    pub state: Option<String>,
}

/// Reads a pasted answer: the whole address the browser ended on, or just the code.
pub fn parse_pasted(input: &str) -> Result<Callback, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("nothing was pasted".into());
    }
    if input.starts_with("http://") || input.starts_with("https://") {
        let url = reqwest::Url::parse(input).map_err(|e| format!("not an address ({e})"))?;
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        if let Some(err) = q.get("error") {
            return Err(format!("Google answered {err}: access was not granted"));
        }
        let code = q.get("code").ok_or("the address has no code= in it")?;
        return Ok(Callback {
            code: code.clone(),
            state: q.get("state").cloned(),
        });
    }
    Ok(Callback {
        code: input.to_string(),
        state: None,
    })
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Runs the flow; the `Err` is a one-line reason (exit status 1), except configuration errors.
pub async fn run(env: &Env, args: AuthArgs) -> Result<(), AuthFailure> {
    let c = config::ConsentConfig::from_env(env).map_err(AuthFailure::Config)?;
    let user = match &args.user {
        Some(u) => u.trim().to_ascii_lowercase(),
        None => c.user_name.clone(),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await;
    let port = match &listener {
        Ok(l) => l.local_addr().map(|a| a.port()).unwrap_or(args.port),
        Err(_) => args.port,
    };
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = BasicClient::new(ClientId::new(c.client_id.clone()))
        .set_client_secret(ClientSecret::new(c.client_secret.expose().to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::from_url(c.auth_url.clone()))
        .set_token_uri(TokenUrl::from_url(c.token_url.clone()))
        .set_redirect_uri(
            RedirectUrl::new(redirect.clone()).map_err(|e| AuthFailure::Other(e.to_string()))?,
        );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_extra_param("access_type", "offline")
        .add_extra_param("prompt", "consent")
        .set_pkce_challenge(challenge);
    for s in needed_scopes() {
        request = request.add_scope(Scope::new(format!("{SCOPE_PREFIX}{s}.readonly")));
    }
    if let Some(hint) = &args.login_hint {
        request = request.add_extra_param("login_hint", hint.clone());
    }
    let (url, csrf) = request.url();

    say("Open this address in a browser (on any machine), sign in with the Google account your Fitbit or");
    say("Pixel Watch uses, and allow access:\n");
    say(&format!("  {url}\n"));
    say("(If Google answers \"Error 400: redirect_uri_mismatch\", the OAuth client is a \"Web application\":");
    say(&format!(
        " create a \"Desktop app\" client instead, README step 4, or register {redirect} with this one.)\n"
    ));
    if !args.no_browser {
        open_browser(url.as_str());
    }
    match &listener {
        Ok(_) => say(&format!(
            "Waiting for Google to send the browser back to {redirect} ..."
        )),
        Err(e) => say(&format!(
            "(Cannot listen on port {port}: {e}; paste the address instead.)"
        )),
    }
    say("On a server without a browser, the browser ends on a page that cannot be reached: copy that");
    say("page's address (or just the code= value) and paste it here, then press Enter:");

    let callback = tokio::select! {
        c = receive_on_loopback(listener.ok()) => c,
        c = receive_pasted() => c,
        _ = tokio::time::sleep(Duration::from_secs(900)) => Err("no answer within 15 minutes".to_string()),
    }
    .map_err(AuthFailure::Other)?;
    if let Some(state) = &callback.state {
        if state != csrf.secret() {
            return Err(AuthFailure::Other(
                "the answer does not belong to this request (state mismatch); start `fitbit-influx auth` again".into(),
            ));
        }
    }

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("static client configuration");
    let token = client
        .exchange_code(AuthorizationCode::new(callback.code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(|e| AuthFailure::Other(format!("Google refused the code: {}", describe(&e))))?;
    let refresh = token.refresh_token().map(|t| Secret::new(t.secret().clone())).ok_or_else(|| {
        AuthFailure::Other(
            "Google sent no refresh token. Remove this app's access at https://myaccount.google.com/permissions and run `fitbit-influx auth` again".into(),
        )
    })?;

    let granted: Vec<String> = token
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    report_scopes(&granted);
    let variable = if c.several_users {
        config::refresh_token_variable(&user)
    } else {
        "GOOGLE_REFRESH_TOKEN".to_string()
    };
    say(&format!(
        "\nThe refresh token for \"{user}\" (keep it secret; put this line into .env):\n"
    ));
    say(&format!("{variable}={}", refresh.expose()));
    say("\nIf the OAuth app is still in \"Testing\" (Google Auth Platform → Audience), this token expires");
    say("in 7 days. Publish the app (\"In production\") for your personal use and run this again.");

    if args.write_state {
        let (store, mut state) =
            StateStore::open(&c.state_file).map_err(|e| AuthFailure::Other(e.to_string()))?;
        // The daemon re-seeds from the configured token when it changes; mark the configured one (if
        // any) as already seen, so an old token in .env does not replace this new one.
        let seeded_from = c
            .configured_token(&variable)
            .unwrap_or_else(|| refresh.clone())
            .fingerprint();
        let expires_at = token
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| chrono::Utc::now() + d);
        state.users.entry(user.clone()).or_default().tokens = Some(Tokens {
            refresh_token: refresh,
            access_token: Some(Secret::new(token.access_token().secret().clone())),
            access_token_expires_at: expires_at,
            seeded_from,
        });
        store
            .save(&state)
            .map_err(|e| AuthFailure::Other(e.to_string()))?;
        say(&format!(
            "\nStored in {} for \"{user}\".",
            store.path().display()
        ));
    }
    Ok(())
}

/// A one-line account of an OAuth error, without secrets.
fn describe<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    e: &oauth2::RequestTokenError<RE, T>,
) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => r.to_string(),
        other => other.to_string(),
    }
}

/// Says which scopes were granted and which data types a missing one disables.
fn report_scopes(granted: &[String]) {
    let short: Vec<&str> = granted
        .iter()
        .filter_map(|s| {
            s.strip_prefix(SCOPE_PREFIX)
                .and_then(|s| s.strip_suffix(".readonly"))
        })
        .collect();
    say(&format!(
        "\nGoogle granted: {}",
        if short.is_empty() {
            "(nothing)".to_string()
        } else {
            short.join(", ")
        }
    ));
    let mut missing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in catalog::CATALOG {
        let scope = catalog::scope_of(t.api_type);
        if !short.contains(&scope) {
            missing.entry(scope).or_default().push(t.name);
        }
    }
    for (scope, types) in &missing {
        say(&format!(
            "warning: scope {scope}.readonly was not granted; these data types will be skipped: {}",
            types.join(", ")
        ));
    }
    for scope in ["profile", "settings"] {
        if !short.contains(&scope) {
            say(&format!("warning: scope {scope}.readonly was not granted; the daemon needs it (time zone, account start)"));
        }
    }
    if !missing.is_empty() {
        say("(Consent again and tick every box, or add the scopes under Google Auth Platform → Data Access.)");
    }
}

async fn receive_on_loopback(
    listener: Option<tokio::net::TcpListener>,
) -> Result<Callback, String> {
    let Some(listener) = listener else {
        return std::future::pending().await;
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Callback, String>>(1);
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::get(
            move |axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>| {
                let tx = tx.clone();
                async move {
                    let result = match (q.get("code"), q.get("error")) {
                        (_, Some(err)) => {
                            Err(format!("Google answered {err}: access was not granted"))
                        }
                        (Some(code), None) => Ok(Callback {
                            code: code.clone(),
                            state: q.get("state").cloned(),
                        }),
                        (None, None) => Err("Google's answer had no code".to_string()),
                    };
                    let _ = tx.send(result).await;
                    axum::response::Html(
                        "<p>fitbit-influx received Google's answer. You can close this window.</p>",
                    )
                }
            },
        ),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    rx.recv()
        .await
        .unwrap_or_else(|| Err("the loopback listener stopped".into()))
}

async fn receive_pasted() -> Result<Callback, String> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) if line.trim().is_empty() => continue,
            Ok(Some(line)) => return parse_pasted(&line),
            // No terminal (stdin closed): only the loopback listener can answer.
            Ok(None) | Err(_) => return std::future::pending().await,
        }
    }
}

/// Opens the address in a browser when there is a desktop; failures are fine (the address is printed).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        Some("open")
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        Some("xdg-open")
    } else {
        None
    };
    if let Some(cmd) = opener {
        let _ = std::process::Command::new(cmd)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

#[derive(Debug)]
pub enum AuthFailure {
    Config(ConfigError),
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_addresses_and_codes() {
        let c = parse_pasted(
            "  http://127.0.0.1:8765/callback?state=abc&code=4/0Ab-cd&scope=x%20y&authuser=0 ",
        )
        .unwrap();
        assert_eq!(
            c,
            Callback {
                code: "4/0Ab-cd".into(),
                state: Some("abc".into())
            }
        );
        assert_eq!(
            parse_pasted("4/0Ab-cd").unwrap(),
            Callback {
                code: "4/0Ab-cd".into(),
                state: None
            }
        );
        assert!(
            parse_pasted("http://127.0.0.1:8765/callback?error=access_denied&state=abc")
                .unwrap_err()
                .contains("access_denied")
        );
        assert!(parse_pasted("http://127.0.0.1:8765/callback?state=abc").is_err());
        assert!(parse_pasted("").is_err());
    }

    #[test]
    fn the_needed_scopes_are_the_five_read_scopes() {
        assert_eq!(
            needed_scopes(),
            [
                "activity_and_fitness",
                "health_metrics_and_measurements",
                "profile",
                "settings",
                "sleep"
            ]
        );
    }
}
