//! Shared helpers for tests that talk to the real InfluxDB started by `scripts/test.sh`.
//!
//! Without the servers these tests fail, saying how to start them (`scripts/test.sh` does), so that a
//! test that did not run can never show "ok". `FI_SKIP_SERVER_TESTS=1` skips them on purpose; each
//! then prints `skipped` and passes.
#![allow(dead_code)]

pub mod daemon;
pub mod grafana;
pub mod sim;
pub mod truth;

use fitbit_influx::config::{InfluxConfig, InfluxTarget};
use fitbit_influx::secret::Secret;
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Servers {
    /// InfluxDB 1.6.7 itself (`/write`, `/query`).
    pub v1: String,
    /// nginx in front of it, serving `/api/v2/write`.
    pub v2: String,
}

pub fn servers() -> Option<Servers> {
    match (
        std::env::var("FI_TEST_INFLUX_V1_URL"),
        std::env::var("FI_TEST_INFLUX_V2_URL"),
    ) {
        (Ok(v1), Ok(v2)) => Some(Servers { v1, v2 }),
        _ if std::env::var("FI_SKIP_SERVER_TESTS").is_ok_and(|v| v == "1") => {
            eprintln!("skipped: no InfluxDB (FI_SKIP_SERVER_TESTS=1)");
            None
        }
        _ => panic!(
            "this test needs the test servers: run scripts/test.sh, or start them with \
             `eval \"$(scripts/services.sh start /tmp/fi-services)\"` and run cargo test again; \
             FI_SKIP_SERVER_TESTS=1 skips the tests that need them"
        ),
    }
}

/// A loopback port nobody listens on (for the daemon's METRICS_LISTEN).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `google.type.Date` JSON object (`{"year", "month", "day"}`) as a date.
pub fn date_of(d: &Value) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(
        d["year"].as_i64().unwrap() as i32,
        d["month"].as_u64().unwrap() as u32,
        d["day"].as_u64().unwrap() as u32,
    )
    .unwrap_or_else(|| panic!("not a date: {d}"))
}

/// Awaits `fut`, failing the test if it takes longer than `secs` (writes retry for ever by design, so a
/// broken server would otherwise hang the suite).
pub async fn within<T>(secs: u64, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(secs), fut)
        .await
        .unwrap_or_else(|_| panic!("did not finish within {secs}s"))
}

/// A fresh database with a unique name (tests run in parallel).
pub async fn fresh_database(s: &Servers, prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/query", s.v1))
        .form(&[("q", format!("CREATE DATABASE \"{name}\""))])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
    // InfluxDB 1.6.7 under parallel CREATE DATABASEs now and then answers "database not found" to a
    // write that follows at once: wait until an (empty, 1.x-accepted) write finds it.
    for _ in 0..100 {
        let probe = reqwest::Client::new()
            .post(format!("{}/write", s.v1))
            .query(&[("db", name.as_str())])
            .body("")
            .send()
            .await
            .unwrap();
        if probe.status().is_success() {
            return name;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("database {name} did not appear within 5 s")
}

/// Runs InfluxQL and returns the first statement's series (empty when there are none).
pub async fn query(s: &Servers, db: &str, q: &str) -> Vec<Value> {
    let resp: Value = reqwest::Client::new()
        .get(format!("{}/query", s.v1))
        .query(&[("db", db), ("q", q), ("epoch", "ns")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(resp.get("error").is_none(), "query {q} failed: {resp}");
    let result = &resp["results"][0];
    assert!(result.get("error").is_none(), "query {q} failed: {result}");
    result["series"].as_array().cloned().unwrap_or_default()
}

/// Rows of a one-series result as (column name → value) maps.
pub async fn rows(s: &Servers, db: &str, q: &str) -> Vec<serde_json::Map<String, Value>> {
    rows_of(&query(s, db, q).await)
}

/// The rows of an answer's series as (column name → value) maps, with each series' tags among them.
pub fn rows_of(series: &[Value]) -> Vec<serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    for ser in series {
        let cols: Vec<String> = ser["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        for row in ser["values"].as_array().unwrap() {
            let mut m = serde_json::Map::new();
            for (c, v) in cols.iter().zip(row.as_array().unwrap()) {
                m.insert(c.clone(), v.clone());
            }
            for (k, v) in ser["tags"].as_object().into_iter().flatten() {
                m.insert(k.clone(), v.clone());
            }
            out.push(m);
        }
    }
    out
}

pub fn v1_config(s: &Servers, db: &str) -> InfluxConfig {
    InfluxConfig {
        url: s.v1.parse().unwrap(),
        target: InfluxTarget::V1 {
            database: db.into(),
            username: None,
            password: None,
        },
    }
}

pub fn v2_config(s: &Servers, bucket: &str) -> InfluxConfig {
    InfluxConfig {
        url: s.v2.parse().unwrap(),
        target: InfluxTarget::V2 {
            token: Secret::new("test-token"),
            org: "home".into(),
            bucket: bucket.into(),
        },
    }
}
