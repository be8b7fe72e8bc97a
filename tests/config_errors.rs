//! Every configuration error names its variable and says what is wrong, in one line.

use fitbit_influx::config::{Config, Env, InfluxConfig, InfluxTarget, LogFormat, SyncConfig};
use std::time::Duration;

const GOOD: &[(&str, &str)] = &[
    ("GOOGLE_CLIENT_ID", "123-abc.apps.googleusercontent.com"),
    ("GOOGLE_CLIENT_SECRET", "GOCSPX-topsecret"),
    ("GOOGLE_REFRESH_TOKEN", "1//0grefreshtoken"),
    ("INFLUXDB_URL", "http://influxdb:8086"),
    ("INFLUXDB_TOKEN", "influx-admin-token"),
    ("INFLUXDB_ORG", "home"),
    ("INFLUXDB_BUCKET", "fitbit"),
];

/// The good environment with `changes` applied (a value of `None` removes the variable).
fn env_with(changes: &[(&'static str, Option<&'static str>)]) -> Env {
    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    for (k, v) in changes {
        pairs.retain(|(name, _)| name != k);
        if let Some(v) = v {
            pairs.push((k, v));
        }
    }
    Env::from_pairs(pairs)
}

fn error_of(changes: &[(&'static str, Option<&'static str>)]) -> String {
    Config::from_env(&env_with(changes))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn good_environment_gives_documented_defaults() {
    let c = Config::from_env(&env_with(&[])).unwrap();
    assert_eq!(
        c.google.health_api_url.as_str(),
        "https://health.googleapis.com/"
    );
    assert_eq!(
        c.google.token_url.as_str(),
        "https://oauth2.googleapis.com/token"
    );
    assert_eq!(c.sync.state_file.to_str(), Some("./data/state.json"));
    assert_eq!(c.sync.sync_interval, Duration::from_secs(4 * 3600));
    assert_eq!(c.sync.influxdb_down_after, Duration::from_secs(180));
    assert_eq!(c.sync.rate_limit_sleep, Duration::from_secs(3600));
    assert_eq!(c.sync.requests_per_minute, 240);
    assert_eq!(c.sync.backfill_from, None);
    assert!(matches!(c.influx.target, InfluxTarget::V2 { ref bucket, .. } if bucket == "fitbit"));
    assert_eq!(
        LogFormat::from_env(&env_with(&[])).unwrap(),
        LogFormat::Text
    );
}

#[test]
fn missing_variables_are_named_in_the_order_of_env_example() {
    // GOOGLE_REFRESH_TOKEN may be absent when the state file holds a token: the daemon checks it
    // (tests/cli.rs).
    for var in [
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "INFLUXDB_URL",
        "INFLUXDB_TOKEN",
        "INFLUXDB_ORG",
        "INFLUXDB_BUCKET",
    ] {
        assert_eq!(error_of(&[(var, None)]), format!("{var}: is not set"));
        // A blank value (`VAR=` in .env) is the same as a missing one.
        assert_eq!(error_of(&[(var, Some("  "))]), format!("{var}: is not set"));
    }
    assert_eq!(
        Config::from_env(&Env::from_pairs([]))
            .unwrap_err()
            .to_string(),
        "GOOGLE_CLIENT_ID: is not set"
    );
}

#[test]
fn influxdb_v1_needs_a_database_only() {
    let env = env_with(&[
        ("INFLUXDB_API", Some("v1")),
        ("INFLUXDB_TOKEN", None),
        ("INFLUXDB_ORG", None),
        ("INFLUXDB_BUCKET", None),
    ]);
    assert_eq!(
        InfluxConfig::from_env(&env).unwrap_err().to_string(),
        "INFLUXDB_DATABASE: is not set"
    );
    let env = env_with(&[
        ("INFLUXDB_API", Some("V1")),
        ("INFLUXDB_DATABASE", Some("fitbit")),
    ]);
    let c = InfluxConfig::from_env(&env).unwrap();
    assert_eq!(
        c.target,
        InfluxTarget::V1 {
            database: "fitbit".into(),
            username: None,
            password: None
        }
    );
}

#[test]
fn malformed_values_name_the_variable_and_the_problem() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "SYNC_INTERVAL",
            "4 hours-ish",
            r#"SYNC_INTERVAL: "4 hours-ish" is not a duration (examples: 30m, 4h)"#,
        ),
        (
            "SYNC_INTERVAL",
            "0s",
            r#"SYNC_INTERVAL: "0s" must be longer than zero"#,
        ),
        (
            "RATE_LIMIT_SLEEP",
            "soon",
            r#"RATE_LIMIT_SLEEP: "soon" is not a duration (examples: 30m, 4h)"#,
        ),
        (
            "REQUESTS_PER_MINUTE",
            "lots",
            r#"REQUESTS_PER_MINUTE: "lots" must be a whole number from 1 to 300 (the API's per-user quota)"#,
        ),
        (
            "REQUESTS_PER_MINUTE",
            "301",
            r#"REQUESTS_PER_MINUTE: "301" must be a whole number from 1 to 300 (the API's per-user quota)"#,
        ),
        (
            "REQUESTS_PER_MINUTE",
            "0",
            r#"REQUESTS_PER_MINUTE: "0" must be a whole number from 1 to 300 (the API's per-user quota)"#,
        ),
        (
            "BACKFILL_FROM",
            "01/02/2024",
            r#"BACKFILL_FROM: "01/02/2024" is not a date (example: 2024-01-31)"#,
        ),
        (
            "INFLUXDB_URL",
            "influxdb:8086",
            r#"INFLUXDB_URL: "influxdb:8086" is not an http(s) URL (example: http://influxdb:8086)"#,
        ),
        (
            "HEALTH_API_URL",
            "ftp://x",
            r#"HEALTH_API_URL: "ftp://x" is not an http(s) URL (example: http://influxdb:8086)"#,
        ),
        (
            "GOOGLE_TOKEN_URL",
            "nope",
            r#"GOOGLE_TOKEN_URL: "nope" is not an http(s) URL (example: http://influxdb:8086)"#,
        ),
        (
            "INFLUXDB_API",
            "v3",
            r#"INFLUXDB_API: "v3" is not an InfluxDB API (use v2 for InfluxDB 2.x/3.x, v1 for 1.x)"#,
        ),
    ];
    for (var, value, expected) in cases {
        let var: &'static str = var;
        let value: &'static str = value;
        assert_eq!(&error_of(&[(var, Some(value))]), expected, "{var}={value}");
    }
    assert_eq!(
        LogFormat::from_env(&env_with(&[("LOG_FORMAT", Some("xml"))]))
            .unwrap_err()
            .to_string(),
        r#"LOG_FORMAT: "xml" is not a log format (use text or json)"#
    );
}

#[test]
fn valid_values_are_parsed() {
    let env = env_with(&[
        ("SYNC_INTERVAL", Some("30m")),
        ("INFLUXDB_DOWN_AFTER", Some("10s")),
        ("RATE_LIMIT_SLEEP", Some("90s")),
        ("REQUESTS_PER_MINUTE", Some("300")),
        ("BACKFILL_FROM", Some("2024-01-31")),
        ("STATE_FILE", Some("/data/state.json")),
    ]);
    let s = SyncConfig::from_env(&env).unwrap();
    assert_eq!(s.sync_interval, Duration::from_secs(1800));
    assert_eq!(s.influxdb_down_after, Duration::from_secs(10));
    assert_eq!(s.rate_limit_sleep, Duration::from_secs(90));
    assert_eq!(s.requests_per_minute, 300);
    assert_eq!(s.backfill_from.unwrap().to_string(), "2024-01-31");
    assert_eq!(s.state_file.to_str(), Some("/data/state.json"));
    assert_eq!(
        LogFormat::from_env(&env_with(&[("LOG_FORMAT", Some("JSON"))])).unwrap(),
        LogFormat::Json
    );
}

#[test]
fn debug_output_of_the_config_holds_no_secret() {
    let c = Config::from_env(&env_with(&[])).unwrap();
    let debug = format!("{c:?}");
    for secret in [
        "GOCSPX-topsecret",
        "1//0grefreshtoken",
        "influx-admin-token",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert!(
        debug.contains("123-abc.apps.googleusercontent.com"),
        "non-secrets stay visible"
    );
}

#[test]
fn several_people_each_have_their_own_token_variable() {
    let env = env_with(&[
        ("USERS", Some("alice, Bob,x-y")),
        ("GOOGLE_REFRESH_TOKEN", None),
        ("GOOGLE_REFRESH_TOKEN_ALICE", Some("1//alice")),
        ("GOOGLE_REFRESH_TOKEN_X_Y", Some("1//xy")),
    ]);
    let users = Config::from_env(&env).unwrap().google.users;
    let got: Vec<(&str, Option<&str>, &str)> = users
        .iter()
        .map(|u| {
            (
                u.name.as_str(),
                u.refresh_token.as_ref().map(|t| t.expose()),
                u.token_variable.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("alice", Some("1//alice"), "GOOGLE_REFRESH_TOKEN_ALICE"),
            // bob's token may already be in the state file; the daemon checks that at start.
            ("bob", None, "GOOGLE_REFRESH_TOKEN_BOB"),
            ("x-y", Some("1//xy"), "GOOGLE_REFRESH_TOKEN_X_Y"),
        ]
    );
    assert!(
        !format!("{users:?}").contains("1//alice"),
        "tokens stay redacted"
    );
}

#[test]
fn user_names_are_checked() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "USERS",
            Some("al ice"),
            r#"USERS: "al ice" is not a user name (letters, digits, - and _; at most 32)"#,
        ),
        ("USERS", Some("bob,bob"), r#"USERS: "bob" is listed twice"#),
        (
            "USERS",
            Some(" , "),
            "USERS: lists no user (example: USERS=alice,bob)",
        ),
        (
            "USER_NAME",
            Some("me!"),
            r#"USER_NAME: "me!" is not a user name (letters, digits, - and _; at most 32)"#,
        ),
    ];
    for (var, value, expected) in cases {
        let var: &'static str = var;
        let value: Option<&'static str> = *value;
        let env = env_with(&[(var, value), ("GOOGLE_REFRESH_TOKEN_BOB", Some("1//bob"))]);
        assert_eq!(&Config::from_env(&env).unwrap_err().to_string(), expected);
    }
    let env = env_with(&[("USER_NAME", Some("Jo"))]);
    assert_eq!(Config::from_env(&env).unwrap().google.users[0].name, "jo");
    assert_eq!(
        Config::from_env(&env_with(&[])).unwrap().google.users[0].name,
        "me"
    );
}

#[test]
fn secrets_can_come_from_files_the_docker_secrets_way() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client_secret");
    std::fs::write(&secret, "GOCSPX-from-a-file\n").unwrap();
    let token = dir.path().join("influx_token");
    std::fs::write(&token, "  token-from-a-file  ").unwrap();
    let (secret, token) = (secret.display().to_string(), token.display().to_string());
    let mut pairs: Vec<(&str, &str)> = GOOD
        .iter()
        .copied()
        .filter(|(k, _)| *k != "GOOGLE_CLIENT_SECRET" && *k != "INFLUXDB_TOKEN")
        .collect();
    pairs.push(("GOOGLE_CLIENT_SECRET_FILE", &secret));
    pairs.push(("INFLUXDB_TOKEN_FILE", &token));
    let c = Config::from_env(&Env::from_pairs(pairs.clone())).unwrap();
    assert_eq!(c.google.client_secret.expose(), "GOCSPX-from-a-file");
    match &c.influx.target {
        InfluxTarget::V2 { token, .. } => assert_eq!(token.expose(), "token-from-a-file"),
        other => panic!("{other:?}"),
    }
    // The variable itself wins over its file.
    pairs.push(("INFLUXDB_TOKEN", "set-directly"));
    let c = Config::from_env(&Env::from_pairs(pairs)).unwrap();
    match &c.influx.target {
        InfluxTarget::V2 { token, .. } => assert_eq!(token.expose(), "set-directly"),
        other => panic!("{other:?}"),
    }
}
