//! `cargo bench`: the performance targets, measured (not asserted: a loaded CI machine is no judge).
//!
//! - simulator: a 10,000-point heart-rate page answers in well under 100 ms;
//! - line protocol: encoding points is far faster than InfluxDB can ingest them (~300k points/s).

use chrono::{TimeZone, Utc};
use fitbit_influx::point::{LineBatch, Point};
use fitbit_influx::sim::{self, SimArgs};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, target: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: median {:.1} ms, p95 {:.1} ms over {} runs (target: {target})",
        percentile(&samples, 0.5).as_secs_f64() * 1000.0,
        percentile(&samples, 0.95).as_secs_f64() * 1000.0,
        samples.len()
    );
}

async fn sim_page() {
    let mut args = SimArgs::for_tests();
    args.end = Some("2026-11-20".parse().unwrap());
    args.days = 30;
    args.heart_rate_every = 5;
    args.quota_per_minute = 100_000;
    let (addr, sim, _h) = sim::start(args, std::future::pending()).await.unwrap();
    let http = reqwest::Client::new();
    let a = &sim.auth;
    let tok: serde_json::Value = http
        .post(format!("http://{addr}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", a.client_id.as_str()),
            ("client_secret", a.client_secret.expose()),
            ("refresh_token", a.refresh_token(0).expose()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().unwrap().to_string();
    let mut samples = Vec::new();
    for day in 1..=30 {
        let from =
            Utc.with_ymd_and_hms(2026, 10, 21, 23, 0, 0).unwrap() + chrono::Duration::days(day);
        let filter = format!(
            r#"heart_rate.sample_time.physical_time >= "{}" AND heart_rate.sample_time.physical_time < "{}""#,
            from.to_rfc3339(),
            (from + chrono::Duration::days(1)).to_rfc3339()
        );
        let t = Instant::now();
        let resp = http
            .get(format!(
                "http://{addr}/v4/users/me/dataTypes/heart-rate/dataPoints"
            ))
            .bearer_auth(&token)
            .query(&[("filter", filter.as_str()), ("pageSize", "10000")])
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
        let body = resp.bytes().await.unwrap();
        let elapsed = t.elapsed();
        // The simulated person did not wear the watch one day: that page is empty and not a sample.
        if body.len() > 1_000_000 {
            samples.push(elapsed);
        }
    }
    report(
        "sim: 10,000-point heart-rate page",
        "well under 100 ms",
        samples,
    );
}

fn line_protocol() {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let points: Vec<Point> = (0..100_000)
        .map(|i| {
            Point::new("heart_rate", t0 + chrono::Duration::seconds(i))
                .tag("user", "me")
                .int("bpm", 60 + i % 40)
        })
        .collect();
    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        for chunk in points.chunks(5_000) {
            std::hint::black_box(LineBatch::new(chunk));
        }
        samples.push(t.elapsed());
    }
    samples.sort();
    let per_second = 100_000.0 / percentile(&samples, 0.5).as_secs_f64();
    report(
        "line protocol: 100,000 points",
        "far above 300k points/s",
        samples,
    );
    println!("line protocol: {:.0} points/s", per_second);
}

fn main() {
    line_protocol();
    tokio::runtime::Runtime::new().unwrap().block_on(sim_page());
}
