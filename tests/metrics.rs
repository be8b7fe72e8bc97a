//! `/metrics`, `/healthz` and `/readyz` of a running daemon (METRICS_LISTEN), scraped during and after a
//! backfill and parsed with a Prometheus text-format parser; the counters are compared with the
//! simulator's own request counts and with the points in the real InfluxDB.

mod common;

use common::daemon::{terminate, Daemon};
use common::sim::start;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// (metric name, labels) → value of one scrape.
type Samples = Vec<(String, BTreeMap<String, String>, f64)>;

async fn scrape(url: &str) -> Option<Samples> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition format");
    Some(
        scrape
            .samples
            .into_iter()
            .map(|s| {
                let value = match s.value {
                    prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Untyped(v) => v,
                    other => panic!("no histograms or summaries expected: {other:?}"),
                };
                let labels = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                (s.metric, labels, value)
            })
            .collect(),
    )
}

fn sum(samples: &Samples, metric: &str, filter: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(m, l, _)| {
            m == metric
                && filter
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_agree_with_the_simulator_and_influxdb_and_readyz_follows_health() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = 30;
        a.heart_rate_every = 60;
    })
    .await;
    let db = fresh_database(&s, "metrics").await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let d = Daemon::new(&sim, &s, &db, dir.path())
        .env("METRICS_LISTEN", &format!("127.0.0.1:{port}"))
        .env("SYNC_INTERVAL", "1h")
        .env("REQUESTS_PER_MINUTE", "150");
    let child = d.spawn(&["run"]);

    // During the backfill: progress only grows, and ends at the total.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut progress: Vec<f64> = Vec::new();
    let last = loop {
        assert!(Instant::now() < deadline, "the backfill ends: {progress:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Some(samples) = scrape(&url).await else {
            continue;
        };
        let done = sum(&samples, "fitbit_influx_backfill_days_done", &[]);
        let total = sum(&samples, "fitbit_influx_backfill_days_total", &[]);
        if total > 0.0 {
            progress.push(done);
        }
        let round_over = sum(
            &samples,
            "fitbit_influx_last_successful_round_timestamp_seconds",
            &[],
        ) > 0.0;
        if total > 0.0 && done == total && round_over {
            break samples;
        }
    };
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {progress:?}"
    );
    assert!(
        progress.iter().any(|p| *p < *progress.last().unwrap()),
        "seen in between: {progress:?}"
    );

    // Requests: per endpoint, what the simulator counted.
    let stats = sim.stats().await;
    for (endpoint, n) in stats["by_type"].as_object().unwrap() {
        assert_eq!(
            sum(
                &last,
                "fitbit_influx_api_requests_total",
                &[("endpoint", endpoint)]
            ),
            n.as_f64().unwrap(),
            "{endpoint}"
        );
    }
    assert_eq!(
        sum(
            &last,
            "fitbit_influx_api_requests_total",
            &[("status", "200")]
        ),
        sum(&last, "fitbit_influx_api_requests_total", &[]),
        "every request answered 200"
    );
    // Points: what InfluxDB holds (one round, every point written once).
    for (measurement, field) in [
        ("heart_rate", "bpm"),
        ("steps", "count"),
        ("sleep", "minutes_asleep"),
    ] {
        let r = rows(
            &s,
            &db,
            &format!("SELECT count(\"{field}\") FROM \"{measurement}\""),
        )
        .await;
        assert_eq!(
            sum(
                &last,
                "fitbit_influx_points_written_total",
                &[("measurement", measurement)]
            ),
            r[0]["count"].as_f64().unwrap(),
            "{measurement}"
        );
    }
    // Lag: heart rate is final up to a day or two ago.
    let lag = sum(
        &last,
        "fitbit_influx_lag_seconds",
        &[("data_type", "heart-rate")],
    );
    assert!(lag > 0.0 && lag < 2.0 * 86400.0, "{lag}");
    assert_eq!(
        sum(&last, "fitbit_influx_credentials", &[("state", "ok")]),
        1.0
    );
    // Bounded labels, no secrets.
    let names: BTreeSet<&str> = last
        .iter()
        .flat_map(|(_, l, _)| l.keys().map(String::as_str))
        .collect();
    let allowed = BTreeSet::from([
        "user",
        "endpoint",
        "status",
        "measurement",
        "kind",
        "data_type",
        "state",
        "version",
    ]);
    assert!(names.is_subset(&allowed), "{names:?}");
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in [
        sim.sim.auth.refresh_token(0).expose().to_string(),
        sim.sim.auth.client_secret.expose().to_string(),
        "test-token".to_string(),
    ] {
        assert!(!text.contains(&secret), "a secret in /metrics");
    }

    // Liveness and readiness.
    let get = |path: &'static str| {
        let url = url.clone();
        async move {
            let r = reqwest::get(format!("{url}{path}")).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await.0, 200);
    let (status, said) = get("/readyz").await;
    assert_eq!(status, 200, "{said}");
    assert!(said.starts_with("healthy"), "{said}");
    terminate(&child);
    let _ = child.wait_with_output().await;

    // A refused token: /readyz says so (503, with health's line), and the credentials gauge too.
    let r = sim
        .http
        .post(format!("{}/revoke", sim.url))
        .query(&[("token", sim.sim.auth.refresh_token(0).expose())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let child = d.spawn(&["run"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "readyz turns 503");
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Ok(r) = reqwest::get(format!("{url}/readyz")).await else {
            continue;
        };
        if r.status() == 503 {
            let said = r.text().await.unwrap();
            assert!(said.contains("refused"), "{said}");
            break;
        }
    }
    let samples = scrape(&url).await.unwrap();
    assert_eq!(
        sum(
            &samples,
            "fitbit_influx_credentials",
            &[("state", "refused")]
        ),
        1.0
    );
    terminate(&child);
    let _ = child.wait_with_output().await;
}
