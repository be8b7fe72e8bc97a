//! InfluxDB stops while batches are being written and comes back later: nothing is lost.
//! Its own test binary, because it stops the shared InfluxDB (test binaries run one after another);
//! within it, the tests take turns through `OUTAGE`.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use fitbit_influx::influx::InfluxWriter;
use fitbit_influx::point::Point;
use fitbit_influx::retry::Backoff;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn influxd_dir() -> PathBuf {
    let conf =
        std::env::var("FI_TEST_INFLUXD_CONF").expect("scripts/test.sh sets FI_TEST_INFLUXD_CONF");
    PathBuf::from(conf).parent().unwrap().to_path_buf()
}

async fn ping(url: &str) -> bool {
    reqwest::get(format!("{url}/ping"))
        .await
        .is_ok_and(|r| r.status().as_u16() == 204)
}

async fn stop_influxd(s: &Servers) {
    let pid = std::fs::read_to_string(influxd_dir().join("influxd.pid")).unwrap();
    assert!(std::process::Command::new("kill")
        .arg(pid.trim())
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while ping(&s.v1).await {
        assert!(Instant::now() < deadline, "influxd did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// The restarted influxd outlives this test on purpose: the next test binaries use it, and
// scripts/services.sh stops it through the pid file written here.
#[allow(clippy::zombie_processes)]
async fn start_influxd(s: &Servers) {
    let dir = influxd_dir();
    let child = std::process::Command::new("influxd")
        .arg("-config")
        .arg(dir.join("influxdb.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::fs::write(dir.join("influxd.pid"), child.id().to_string()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ping(&s.v1).await {
        assert!(Instant::now() < deadline, "influxd did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

static OUTAGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn writes_wait_for_influxdb_to_come_back_and_lose_nothing() {
    let Some(s) = servers() else { return };
    let _turn = OUTAGE.lock().await;
    let db = fresh_database(&s, "outage").await;
    let points: Vec<Point> = (0..7_000)
        .map(|i| {
            Point::new("hr", Utc.timestamp_opt(1_700_000_000 + i, 0).unwrap())
                .tag("user", "me")
                .int("bpm", 60 + i % 40)
        })
        .collect();
    let (first, second) = points.split_at(3_500);
    let quick = Backoff::new(Duration::from_millis(50), Duration::from_millis(400), None);
    let v1 = InfluxWriter::new(&v1_config(&s, &db)).with_backoff(quick);
    let v2 = InfluxWriter::new(&v2_config(&s, &db)).with_backoff(quick);

    stop_influxd(&s).await;
    let (w1, w2) = (first.to_vec(), second.to_vec());
    let writes = tokio::spawn(async move {
        // v1 meets a refused connection, v2 meets nginx's 502: both are retried.
        let (a, b) = tokio::join!(v1.write(&w1), v2.write(&w2));
        a.and(b)
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!writes.is_finished(), "writes wait while InfluxDB is down");
    start_influxd(&s).await;
    tokio::time::timeout(Duration::from_secs(30), writes)
        .await
        .expect("writes finish")
        .unwrap()
        .unwrap();

    let r = rows(&s, &db, "SELECT count(bpm), sum(bpm) FROM hr").await;
    let expected: i64 = (0..7_000).map(|i| 60 + i % 40).sum();
    assert_eq!(r[0]["count"], json!(7_000));
    assert_eq!(r[0]["sum"], json!(expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_rides_out_an_influxdb_outage_mid_backfill() {
    use common::daemon::{Api, Daemon};
    let Some(s) = servers() else { return };
    let _turn = OUTAGE.lock().await;
    let sim = common::sim::start(|a| {
        a.days = 12;
        a.heart_rate_every = 30;
    })
    .await;
    let (db, clean_db) = (
        fresh_database(&s, "dout").await,
        fresh_database(&s, "dclean").await,
    );
    let (dir, clean_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut d = Daemon::new(&sim, &s, &db, dir.path());
    d.api = Api::V2;
    let child = d.spawn(&["run", "--once"]);
    // Let the backfill get going, then pull InfluxDB away under it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while rows(&s, &db, "SELECT count(bpm) FROM heart_rate")
        .await
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the backfill started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_influxd(&s).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    start_influxd(&s).await;
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("finishes")
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains("InfluxDB write failed, retrying"),
        "the outage was met: {log}"
    );
    let (code, log) = Daemon::new(&sim, &s, &clean_db, clean_dir.path())
        .run_once()
        .await;
    assert_eq!(code, Some(0), "{log}");
    for m in [
        "heart_rate",
        "steps",
        "steps_daily",
        "sleep",
        "sleep_stage",
        "weight",
        "resting_heart_rate",
    ] {
        let q = format!("SELECT count(*) FROM \"{m}\" WHERE time < now() - 2h");
        let (got, want) = (rows(&s, &db, &q).await, rows(&s, &clean_db, &q).await);
        assert!(!want.is_empty(), "{m}");
        assert_eq!(got, want, "{m}: nothing lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn influxdb_down_for_20s_at_start_delays_the_data_by_less_than_a_minute_and_readyz_says_so() {
    use common::daemon::Daemon;
    let Some(s) = servers() else { return };
    let _turn = OUTAGE.lock().await;
    let sim = common::sim::start(|a| {
        a.days = 3;
        a.heart_rate_every = 300;
    })
    .await;
    let db = fresh_database(&s, "downatstart").await;
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{listen}");
    let d = Daemon::new(&sim, &s, &db, dir.path())
        .env("METRICS_LISTEN", &listen)
        .env("INFLUXDB_DOWN_AFTER", "5s");
    stop_influxd(&s).await;
    let mut child = d.spawn(&["run"]);
    // Down longer than INFLUXDB_DOWN_AFTER: /readyz turns 503 with health's reason.
    let readyz = || async {
        let r = reqwest::get(format!("{url}/readyz")).await.ok()?;
        Some((r.status().as_u16(), r.text().await.ok()?))
    };
    let down = Instant::now();
    let said = loop {
        assert!(
            down.elapsed() < Duration::from_secs(18),
            "/readyz turns 503 within seconds of INFLUXDB_DOWN_AFTER"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        match readyz().await {
            Some((503, said)) => break said,
            Some((200, said)) => assert!(said.starts_with("healthy"), "{said}"),
            _ => {}
        }
    };
    assert!(said.contains("writes have failed"), "{said}");
    assert!(said.contains("check InfluxDB"), "says what to do: {said}");
    let health = d.command(&["health"]).output().await.unwrap();
    let said_health = String::from_utf8_lossy(&health.stdout);
    assert_eq!(
        health.status.code(),
        Some(1),
        "health exits 1 while InfluxDB is down: {said_health}"
    );
    assert!(said_health.contains("writes have failed"), "{said_health}");
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(down.elapsed())).await;
    start_influxd(&s).await;
    let back = Instant::now();
    while rows(&s, &db, "SELECT count(bpm) FROM heart_rate")
        .await
        .is_empty()
    {
        assert!(
            back.elapsed() < Duration::from_secs(60),
            "data flows within a minute after InfluxDB is back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Writes succeed again: /readyz is back to 200 within the watch's few seconds.
    loop {
        assert!(
            back.elapsed() < Duration::from_secs(75),
            "/readyz turns 200 once writes succeed"
        );
        if let Some((200, said)) = readyz().await {
            assert!(said.starts_with("healthy"), "{said}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    child.kill().await.unwrap();
}
