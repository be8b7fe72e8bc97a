//! Several people in one daemon: separate tokens, cursors and data, tagged by user; one person's
//! refused token never stalls the other.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::daemon::Daemon;
use common::sim::{start, TestSim};
use common::*;
use serde_json::Value;

/// (count, sum) of heart-rate samples and steps over the complete days, at the simulator, for user `i`.
async fn truth(sim: &TestSim, i: u32) -> [(usize, i64); 2] {
    let tok = sim.access_token(i).await;
    let p = sim.sim.person(i);
    let (a, b) = (
        p.day_start(sim.sim.first_day),
        p.day_start(p.civil_day(Utc::now())),
    );
    let range = |m: &str| {
        format!(
            r#"{m} >= "{}" AND {m} < "{}""#,
            a.to_rfc3339(),
            b.to_rfc3339()
        )
    };
    let (hr, _) = sim
        .list_all(
            &tok,
            "heart-rate",
            &range("heart_rate.sample_time.physical_time"),
            Some(10_000),
        )
        .await;
    let (steps, _) = sim
        .list_all(
            &tok,
            "steps:reconcile",
            &range("steps.interval.start_time"),
            Some(10_000),
        )
        .await;
    let sum = |v: &[Value], path: &str| {
        v.iter()
            .map(|p| {
                p.pointer(path)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
            })
            .sum::<i64>()
    };
    [
        (hr.len(), sum(&hr, "/heartRate/beatsPerMinute")),
        (steps.len(), sum(&steps, "/steps/count")),
    ]
}

async fn stored(s: &Servers, db: &str, user: &str, sim: &TestSim) -> [(usize, i64); 2] {
    let p = sim.sim.person(0);
    let (a, b): (DateTime<Utc>, DateTime<Utc>) = (
        p.day_start(sim.sim.first_day),
        p.day_start(p.civil_day(Utc::now())),
    );
    let mut out = [(0, 0); 2];
    for (k, (m, f)) in [("heart_rate", "bpm"), ("steps", "count")]
        .into_iter()
        .enumerate()
    {
        let q = format!("SELECT count(\"{f}\"), sum(\"{f}\") FROM \"{m}\" WHERE \"user\" = '{user}' AND time >= '{}' AND time < '{}'", a.to_rfc3339(), b.to_rfc3339());
        if let Some(r) = rows(s, db, &q).await.first() {
            out[k] = (
                r["count"].as_u64().unwrap() as usize,
                r["sum"].as_i64().unwrap(),
            );
        }
    }
    out
}

fn two_people<'a>(sim: &'a TestSim, s: &'a Servers, db: &str, dir: &std::path::Path) -> Daemon<'a> {
    let a = &sim.sim.auth;
    Daemon::new(sim, s, db, dir)
        .env("USERS", "alice,bob")
        .env("GOOGLE_REFRESH_TOKEN_ALICE", a.refresh_token(0).expose())
        .env("GOOGLE_REFRESH_TOKEN_BOB", a.refresh_token(1).expose())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_are_synced_into_one_influxdb_correctly_and_separately() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.users = 2;
        a.days = 10;
        a.heart_rate_every = 300;
    })
    .await;
    let db = fresh_database(&s, "two").await;
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = two_people(&sim, &s, &db, dir.path()).run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let (alice, bob) = (truth(&sim, 0).await, truth(&sim, 1).await);
    assert_ne!(alice, bob, "the simulated people differ");
    assert_eq!(stored(&s, &db, "alice", &sim).await, alice);
    assert_eq!(stored(&s, &db, "bob", &sim).await, bob);
    let users = rows(
        &s,
        &db,
        "SHOW TAG VALUES FROM \"steps_daily\" WITH KEY = \"user\"",
    )
    .await;
    let users: Vec<&str> = users.iter().map(|r| r["value"].as_str().unwrap()).collect();
    assert_eq!(
        users,
        ["alice", "bob"],
        "the dashboards' user variable lists both"
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    for (name, i) in [("alice", 0), ("bob", 1)] {
        assert_eq!(
            state["users"][name]["tokens"]["refresh_token"],
            sim.sim.auth.refresh_token(i).expose(),
            "{name}'s own token"
        );
        assert!(
            state["users"][name]["coverage"]["heart-rate"]["final"].is_array(),
            "{name}'s own coverage"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_persons_revoked_token_leaves_the_others_sync_untouched() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.users = 2;
        a.days = 8;
        a.heart_rate_every = 300;
    })
    .await;
    let bob = sim.sim.auth.refresh_token(1).expose().to_string();
    let r = sim
        .http
        .post(format!("{}/revoke", sim.url))
        .query(&[("token", bob.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let db = fresh_database(&s, "revoked_one").await;
    let dir = tempfile::tempdir().unwrap();
    let d = two_people(&sim, &s, &db, dir.path()).env("SYNC_INTERVAL", "1s");
    // As a daemon: alice keeps syncing round after round while bob waits for a new token.
    let child = d.spawn(&["run"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let alice_truth = truth(&sim, 0).await;
    while stored(&s, &db, "alice", &sim).await != alice_truth {
        assert!(
            std::time::Instant::now() < deadline,
            "alice's backfill completes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let health = d.command(&["health"]).output().await.unwrap();
    assert_eq!(health.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&health.stdout).contains("bob: Google refused the refresh token")
    );
    // Wait for alice's whole first round: a cursor for every windowed catalog entry.
    let windowed = fitbit_influx::catalog::CATALOG
        .iter()
        .filter(|e| !matches!(e.fetch, fitbit_influx::catalog::Fetch::Snapshot { .. }))
        .count();
    loop {
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
                .unwrap();
        if state["users"]["alice"]["coverage"]
            .as_object()
            .map_or(0, |c| c.len())
            == windowed
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "alice's round completes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::seconds(1).to_std().unwrap()).await;
    common::daemon::terminate(&child);
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    let refusals = log
        .lines()
        .filter(|l| l.contains("Google refused the refresh token"))
        .count();
    assert_eq!(refusals, 1, "bob's problem is logged once: {log}");
    assert!(
        log.lines()
            .any(|l| l.contains("round finished") && l.contains("alice")),
        "alice's round finished: {log}"
    );
    let refusal = log
        .lines()
        .find(|l| l.contains("Google refused the refresh token"))
        .unwrap();
    assert!(
        refusal.contains("put it in GOOGLE_REFRESH_TOKEN_BOB"),
        "the fix names bob's variable: {refusal}"
    );
    assert!(rows(
        &s,
        &db,
        "SELECT count(bpm) FROM heart_rate WHERE \"user\" = 'bob'"
    )
    .await
    .is_empty());
}
