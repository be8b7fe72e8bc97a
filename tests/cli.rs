//! The binary as a user runs it: exit codes, one-line errors, `check` against the real InfluxDB.

mod common;

use common::*;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fitbit-influx"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(c: &mut Command) -> (Output, String, String) {
    let out = c.output().unwrap();
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    (out, o, e)
}

#[test]
fn run_with_an_empty_environment_exits_2_naming_the_first_missing_variable() {
    let (out, _, err) = run(bin().arg("run"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        err, "GOOGLE_CLIENT_ID: is not set\n",
        "one line, no panic, no backtrace"
    );
}

#[test]
fn a_malformed_value_exits_2_with_the_reason() {
    let (out, _, err) = run(bin()
        .arg("run")
        .env("GOOGLE_CLIENT_ID", "id")
        .env("GOOGLE_CLIENT_SECRET", "secret")
        .env("GOOGLE_REFRESH_TOKEN", "1//tok")
        .env("INFLUXDB_URL", "http://127.0.0.1:1")
        .env("INFLUXDB_TOKEN", "t")
        .env("INFLUXDB_ORG", "o")
        .env("INFLUXDB_BUCKET", "b")
        .env("SYNC_INTERVAL", "4 hrs."));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        err,
        "SYNC_INTERVAL: \"4 hrs.\" is not a duration (examples: 30m, 4h)\n"
    );
}

#[test]
fn run_without_any_refresh_token_exits_2_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _, err) = run(bin()
        .arg("run")
        .env("GOOGLE_CLIENT_ID", "id")
        .env("GOOGLE_CLIENT_SECRET", "secret")
        .env("INFLUXDB_URL", "http://127.0.0.1:1")
        .env("INFLUXDB_API", "v1")
        .env("INFLUXDB_DATABASE", "x")
        .env("STATE_FILE", dir.path().join("state.json")));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.starts_with("GOOGLE_REFRESH_TOKEN: is not set, and the state file "),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("holds no token for user \"me\" (get one with `fitbit-influx auth`)"),
        "{err}"
    );
}

#[test]
fn check_needs_only_the_influxdb_settings() {
    let (out, _, err) = run(bin().arg("check"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err, "INFLUXDB_URL: is not set\n");
}

fn check_v1(url: &str, db: &str) -> (Output, String, String) {
    run(bin()
        .arg("check")
        .env("INFLUXDB_URL", url)
        .env("INFLUXDB_API", "v1")
        .env("INFLUXDB_DATABASE", db))
}

fn check_v2(url: &str, bucket: &str) -> (Output, String, String) {
    check_v2_as(url, "test-token", "home", bucket)
}

fn check_v2_as(url: &str, token: &str, org: &str, bucket: &str) -> (Output, String, String) {
    run(bin()
        .arg("check")
        .env("INFLUXDB_URL", url)
        .env("INFLUXDB_TOKEN", token)
        .env("INFLUXDB_ORG", org)
        .env("INFLUXDB_BUCKET", bucket))
}

#[tokio::test]
async fn check_says_it_works_on_both_apis_and_writes_nothing() {
    let Some(s) = servers() else { return };
    let db = fresh_database(&s, "check").await;
    let (out, stdout, _) = check_v1(&s.v1, &db);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout,
        format!("InfluxDB works: database \"{db}\" exists and the credentials are accepted (checked by an empty write; nothing written)\n")
    );
    // The suite's InfluxDB 2 (scripts/influx2_standin.py in front of the real engine) refuses an
    // empty write the way InfluxDB 2 does, so `check` must not rely on one there.
    let empty = reqwest::Client::new()
        .post(format!("{}/api/v2/write?org=home&bucket={db}", s.v2))
        .header("Authorization", "Token test-token")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    assert!(empty
        .text()
        .await
        .unwrap()
        .contains("writing requires points"));
    let (out, stdout, err) = check_v2(&s.v2, &db);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout,
        format!("InfluxDB works: bucket \"{db}\" exists and the credentials are accepted (checked by InfluxDB 2 buckets API; nothing written)\n")
    );
    assert!(!err.contains("test-token") && !stdout.contains("test-token"));
    assert!(
        query(&s, &db, "SHOW MEASUREMENTS").await.is_empty(),
        "check wrote nothing"
    );
}

#[test]
fn check_says_why_a_wrong_database_or_bucket_fails() {
    let Some(s) = servers() else { return };
    let (out, stdout, _) = check_v1(&s.v1, "no_such_database");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("database \"no_such_database\" does not exist"),
        "{stdout}"
    );
    let (out, stdout, _) = check_v2(&s.v2, "no_such_bucket");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("bucket \"no_such_bucket\" does not exist"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    // A wrong token and a wrong organisation, each named.
    let (out, stdout, _) = check_v2_as(&s.v2, "wrong-token", "home", "_internal");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("unauthorized access") && stdout.contains("INFLUXDB_TOKEN"),
        "{stdout}"
    );
    assert!(!stdout.contains("wrong-token"), "{stdout}");
    let (out, stdout, _) = check_v2_as(&s.v2, "test-token", "work", "_internal");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("organization name \"work\" not found") && stdout.contains("INFLUXDB_ORG"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
}

#[test]
fn check_says_when_influxdb_is_unreachable() {
    // Port 9 (discard) on loopback: nothing listens there.
    let (out, stdout, _) = check_v1("http://127.0.0.1:9", "x");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.starts_with("InfluxDB is unreachable:"), "{stdout}");
}

#[test]
fn an_unreadable_secret_file_exits_2_naming_the_variable() {
    let (out, _, err) = run(bin()
        .arg("check")
        .env("INFLUXDB_URL", "http://127.0.0.1:9")
        .env("INFLUXDB_ORG", "home")
        .env("INFLUXDB_BUCKET", "b")
        .env("INFLUXDB_TOKEN_FILE", "/nonexistent/influx_token"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.starts_with("INFLUXDB_TOKEN_FILE: cannot read /nonexistent/influx_token"),
        "{err}"
    );
}
