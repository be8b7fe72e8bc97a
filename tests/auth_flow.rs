//! `fitbit-influx auth` end to end against the simulator's authorization endpoint and code grant.

mod common;

use common::sim::{start, TestSim};
use common::*;
use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

struct Auth {
    child: Child,
    /// The consent address the command printed.
    url: reqwest::Url,
    /// What the command prints after the address (read as it comes, so the pipe never fills).
    rest: tokio::task::JoinHandle<String>,
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start_auth(
    sim: &TestSim,
    state_file: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Auth {
    let a = &sim.sim.auth;
    let mut c = Command::new(env!("CARGO_BIN_EXE_fitbit-influx"));
    c.arg("auth")
        .args(["--no-browser", "--port", "0"])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GOOGLE_CLIENT_ID", &a.client_id)
        .env("GOOGLE_CLIENT_SECRET", a.client_secret.expose())
        .env("GOOGLE_AUTH_URL", format!("{}/o/oauth2/v2/auth", sim.url))
        .env("GOOGLE_TOKEN_URL", format!("{}/token", sim.url))
        .env("STATE_FILE", state_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the command prints the address");
            if let Some(u) = line.trim().strip_prefix("http") {
                return reqwest::Url::parse(&format!("http{u}")).unwrap();
            }
        }
    })
    .await
    .expect("the address is printed");
    // Keep reading stdout in the background so the process never blocks on a full pipe.
    let rest = tokio::spawn(async move {
        let mut out = String::new();
        while let Ok(Some(l)) = lines.next_line().await {
            out.push_str(&l);
            out.push('\n');
        }
        out
    });
    Auth { child, url, rest }
}

/// Waits for the command: (exit code, stdout after the address, stderr).
async fn finish(mut auth: Auth) -> (Option<i32>, String, String) {
    let mut stderr = auth.child.stderr.take().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), auth.child.wait())
        .await
        .expect("auth finishes")
        .unwrap();
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut err)
        .await
        .unwrap();
    (status.code(), auth.rest.await.unwrap(), err)
}

/// Consents at the simulator: the address Google would send the browser back to.
async fn consent(url: &reqwest::Url) -> reqwest::Url {
    let r = no_redirects().get(url.clone()).send().await.unwrap();
    assert_eq!(r.status(), 302);
    reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap()
}

async fn paste(auth: &mut Auth, text: &str) {
    let stdin = auth.child.stdin.as_mut().unwrap();
    stdin
        .write_all(format!("{text}\n").as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
}

fn sim_args(a: &mut fitbit_influx::sim::SimArgs) {
    a.days = 3;
    a.heart_rate_every = 600;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_variant() {
    let sim = start(sim_args).await;
    let dir = tempfile::tempdir().unwrap();
    let auth = start_auth(&sim, &dir.path().join("state.json"), &[], &[]).await;
    let q: HashMap<String, String> = auth.url.query_pairs().into_owned().collect();
    assert_eq!(
        (
            q["access_type"].as_str(),
            q["prompt"].as_str(),
            q["code_challenge_method"].as_str()
        ),
        ("offline", "consent", "S256")
    );
    assert_eq!(
        q["scope"].split(' ').count(),
        5,
        "the five read scopes: {}",
        q["scope"]
    );
    let back = consent(&auth.url).await;
    assert!(back.as_str().starts_with("http://127.0.0.1:"));
    // The browser follows the redirect to the command's own listener.
    let page = reqwest::get(back).await.unwrap();
    assert_eq!(page.status(), 200);
    let (code, out, err) = finish(auth).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!(
            "GOOGLE_REFRESH_TOKEN={}",
            sim.sim.auth.refresh_token(0).expose()
        )),
        "{out}"
    );
    assert!(out.contains("Google granted: activity_and_fitness, health_metrics_and_measurements, profile, settings, sleep"), "{out}");
    assert!(
        out.contains("expires\nin 7 days") || out.contains("7 days"),
        "explains the Testing expiry: {out}"
    );
    assert!(
        !dir.path().join("state.json").exists(),
        "nothing written without --write-state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_variant_with_the_whole_address_or_just_the_code() {
    let sim = start(|a| {
        sim_args(a);
        a.users = 2;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut auth = start_auth(
        &sim,
        &dir.path().join("state.json"),
        &["--login-hint", "2"],
        &[],
    )
    .await;
    let back = consent(&auth.url).await;
    paste(&mut auth, back.as_str()).await;
    let (code, out, err) = finish(auth).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!(
            "GOOGLE_REFRESH_TOKEN={}",
            sim.sim.auth.refresh_token(1).expose()
        )),
        "the second person: {out}"
    );

    let mut auth = start_auth(
        &sim,
        &dir.path().join("state.json"),
        &[],
        &[("USERS", "alice,bob")],
    )
    .await;
    let back = consent(&auth.url).await;
    let code_only: String = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    paste(&mut auth, &code_only).await;
    let (code, out, err) = finish(auth).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("GOOGLE_REFRESH_TOKEN_ME="),
        "with USERS, the per-person variable: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_state_is_rejected() {
    let sim = start(sim_args).await;
    let dir = tempfile::tempdir().unwrap();
    let mut auth = start_auth(&sim, &dir.path().join("state.json"), &[], &[]).await;
    let back = consent(&auth.url).await;
    let forged: Vec<(String, String)> = back
        .query_pairs()
        .map(|(k, v)| {
            if k == "state" {
                (k.into_owned(), "forged".to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    let mut forged_url = back.clone();
    forged_url.query_pairs_mut().clear().extend_pairs(forged);
    paste(&mut auth, forged_url.as_str()).await;
    let (code, out, err) = finish(auth).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("state mismatch"), "{err}");
    assert!(!out.contains("GOOGLE_REFRESH_TOKEN="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkce_mismatch_is_rejected() {
    let sim = start(sim_args).await;
    let dir = tempfile::tempdir().unwrap();
    let mut auth = start_auth(&sim, &dir.path().join("state.json"), &[], &[]).await;
    // A code issued for another verifier's challenge, carrying this request's state.
    let mut other = auth.url.clone();
    let pairs: Vec<(String, String)> = auth
        .url
        .query_pairs()
        .map(|(k, v)| {
            if k == "code_challenge" {
                (
                    k.into_owned(),
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
                )
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    other.query_pairs_mut().clear().extend_pairs(pairs);
    let back = consent(&other).await;
    paste(&mut auth, back.as_str()).await;
    let (code, out, err) = finish(auth).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        err.contains("Google refused the code") && err.contains("invalid_grant"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_state_reports_missing_scopes_and_the_daemon_runs_on_it() {
    let sim = start(|a| {
        sim_args(a);
        a.withheld_scopes = vec!["sleep".into()];
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    let auth = start_auth(&sim, &state_file, &["--write-state"], &[]).await;
    let back = consent(&auth.url).await;
    reqwest::get(back).await.unwrap();
    let (code, out, err) = finish(auth).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("warning: scope sleep.readonly was not granted; these data types will be skipped: sleep"), "{out}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&state_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(
        state["users"]["me"]["tokens"]["refresh_token"],
        sim.sim.auth.refresh_token(0).expose()
    );

    // The daemon runs on the stored token alone: no GOOGLE_REFRESH_TOKEN in its environment.
    let Some(s) = servers() else { return };
    let db = fresh_database(&s, "authstate").await;
    let d = common::daemon::Daemon::new(&sim, &s, &db, dir.path()).env("GOOGLE_REFRESH_TOKEN", "");
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(!rows(&s, &db, "SELECT count(bpm) FROM heart_rate")
        .await
        .is_empty());
}
