//! `fitbit-influx import` of synthetic archives of all four generations (tests/import/takeout.rs),
//! built from the simulator's own answers over twelve days around the October DST change, imported
//! into the real InfluxDB and compared with the simulator and with what an API sync of the same
//! person writes; then the daemon's backfill over the imported days, a second import, and an import
//! killed half-way and run again.

mod common;
#[path = "import/takeout.rs"]
mod takeout;

use chrono::{DateTime, Duration, NaiveDate};
use common::daemon::Daemon;
use common::sim::{start, TestSim};
use common::truth::*;
use common::*;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use takeout::Gen;

const END: &str = "2026-10-28";
const DAYS: i64 = 12;

type Row = Map<String, Value>;

/// Every row of a measurement.
async fn points(s: &Servers, db: &str, m: &str) -> Vec<Row> {
    rows(s, db, &format!("SELECT * FROM \"{m}\"")).await
}

/// time → the given fields (and tags) of every point of `m`.
async fn fields(s: &Servers, db: &str, m: &str, names: &[&str]) -> BTreeMap<i64, Vec<Value>> {
    points(s, db, m)
        .await
        .iter()
        .map(|r| {
            let v = names
                .iter()
                .map(|n| match r.get(*n).unwrap_or(&Value::Null) {
                    // Compare floats to a micro-unit: cm → m and km → m take different roundings.
                    Value::Number(x) if x.is_f64() => {
                        serde_json::json!((x.as_f64().unwrap() * 1e6).round() / 1e6)
                    }
                    other => other.clone(),
                })
                .collect();
            (r["time"].as_i64().unwrap(), v)
        })
        .collect()
}

fn local_date(ns: i64) -> NaiveDate {
    DateTime::from_timestamp_nanos(ns)
        .with_timezone(&BERLIN)
        .date_naive()
}

/// A daily measurement's integer field by local date.
async fn daily_ints(s: &Servers, db: &str, m: &str, field: &str) -> BTreeMap<NaiveDate, i64> {
    points(s, db, m)
        .await
        .iter()
        .map(|r| {
            (
                local_date(r["time"].as_i64().unwrap()),
                r[field].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Points per measurement an import writes.
const WRITTEN: &[&str] = &[
    "heart_rate",
    "steps",
    "resting_heart_rate",
    "sleep",
    "sleep_stage",
    "sleep_score",
    "weight",
    "body_fat",
    "exercise",
    "spo2",
    "spo2_daily",
    "hrv",
    "hrv_daily",
    "respiratory_rate_daily",
    "sleep_temperature",
    "stress_score",
    "readiness",
];

async fn counts(s: &Servers, db: &str) -> Vec<(&'static str, usize)> {
    let mut out = Vec::new();
    for m in WRITTEN {
        out.push((*m, points(s, db, m).await.len()));
    }
    out
}

/// The measurements read from a generation's files that only CSVs (generations B–D) carry.
const FROM_CSV: &[&str] = &[
    "sleep_score",
    "spo2",
    "spo2_daily",
    "hrv",
    "hrv_daily",
    "respiratory_rate_daily",
    "sleep_temperature",
    "stress_score",
    "readiness",
];

async fn import(d: &Daemon<'_>, path: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["import", path.to_str().unwrap()];
    args.extend(extra);
    let out = d.command(&args).output().await.unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

async fn sim_of_the_archive() -> TestSim {
    let end: NaiveDate = END.parse().unwrap();
    start(|a| {
        a.days = DAYS as u32;
        a.end = Some(end);
        a.heart_rate_every = 60;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_of_every_generation_import_exactly_as_the_api_has_it_and_again_change_nothing() {
    let Some(s) = servers() else { return };
    let end: NaiveDate = END.parse().unwrap();
    let first = end - Duration::days(DAYS - 1);
    let sim = sim_of_the_archive().await;
    let tok = sim.access_token(0).await;
    let (files, truth) = takeout::build(&sim, &tok, first, end).await;
    let dir = tempfile::tempdir().unwrap();

    // Generation C, the full comparison.
    let path = dir.path().join("takeout-20261101T000000Z-1-001.zip");
    files.zip(Gen::C, &path);
    let db = fresh_database(&s, "import").await;
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, out) = import(&d, &path, &[]).await;
    assert_eq!(code, Some(3), "the broken file: {out}");
    assert!(
        out.contains("steps-2026-09-01.json") && out.contains("time zone Europe/Berlin"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "skipped {}: 50 is the sensor's floor",
            truth.spo2_floor_rows
        )),
        "the SpO2 floor rows, counted: {out}"
    );

    // Bad input: a broken zip and an archive of something else, each named, exit 1.
    let broken = dir.path().join("broken.zip");
    std::fs::write(&broken, b"PK\x03\x04 not really").unwrap();
    let (code, out) = import(&d, &broken, &[]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("broken.zip") && out.contains("not a readable zip"),
        "{out}"
    );
    let other = dir.path().join("photos");
    std::fs::create_dir_all(other.join("2026")).unwrap();
    std::fs::write(other.join("2026/IMG_0001.jpg"), b"\xff\xd8").unwrap();
    let (code, out) = import(&d, &other, &[]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("photos") && out.contains("is it a Fitbit archive"),
        "{out}"
    );

    // Against the simulator.
    let hr: BTreeMap<i64, i64> = points(&s, &db, "heart_rate")
        .await
        .iter()
        .map(|r| (r["time"].as_i64().unwrap(), r["bpm"].as_i64().unwrap()))
        .collect();
    assert!(truth.heart_rate.len() > 10_000);
    assert_eq!(
        hr, truth.heart_rate,
        "heart rate, every sample, the DST day's 25 hours too"
    );
    let steps: BTreeMap<i64, i64> = points(&s, &db, "steps")
        .await
        .iter()
        .map(|r| (r["time"].as_i64().unwrap(), r["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(steps, truth.steps, "minutes with steps");
    let rhr = daily_ints(&s, &db, "resting_heart_rate", "bpm").await;
    assert_eq!(
        rhr, truth.resting_hr,
        "resting heart rate on its local dates, the placeholder left out"
    );
    let scored: BTreeMap<i64, i64> = points(&s, &db, "sleep_score")
        .await
        .iter()
        .map(|r| {
            assert!(
                r.get("composition").is_none_or(Value::is_null),
                "a blank cell stays absent: {r:?}"
            );
            (r["time"].as_i64().unwrap(), r["overall"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(scored, truth.sleep_score);
    let weight = points(&s, &db, "weight").await;
    assert_eq!(weight.len(), truth.weight_g.len());
    for r in &weight {
        let grams = truth.weight_g[&r["time"].as_i64().unwrap()];
        let kg = r["kg"].as_f64().unwrap();
        assert!(
            (kg - grams / 1000.0).abs() < 0.025,
            "pounds with one decimal → {kg} kg, the scale said {grams} g"
        );
        assert!(r.get("device").is_none_or(Value::is_null), "{r:?}");
    }
    let stress = daily_ints(&s, &db, "stress_score", "score").await;
    assert_eq!(
        stress, truth.stress,
        "stress scores, the NO_DATA day left out"
    );
    let readiness: BTreeMap<NaiveDate, (i64, String)> = points(&s, &db, "readiness")
        .await
        .iter()
        .map(|r| {
            (
                local_date(r["time"].as_i64().unwrap()),
                (
                    r["score"].as_i64().unwrap(),
                    r["state"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(readiness, truth.readiness);

    // What generation C gave, for the other generations.
    let c_points: BTreeMap<&str, Vec<Row>> = {
        let mut m = BTreeMap::new();
        for name in WRITTEN {
            m.insert(*name, points(&s, &db, name).await);
        }
        m
    };

    // Against an API sync of the same person: the same points, field by field where the archive
    // has the field.
    let synced = fresh_database(&s, "import_api").await;
    std::fs::create_dir_all(dir.path().join("api")).unwrap();
    let api = Daemon::new(&sim, &s, &synced, &dir.path().join("api"))
        .env("BACKFILL_FROM", &first.to_string());
    let before_api = sim.stats().await;
    let (code, log) = api.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let api_hr_requests = requests(&sim.stats().await, &before_api, "heart-rate");
    assert!(
        points(&s, &db, "sleep")
            .await
            .iter()
            .any(|r| r["nap"] == Value::Bool(true)),
        "a nap among the sessions"
    );
    for m in ["sleep", "sleep_stage", "heart_rate", "resting_heart_rate"] {
        let (a, b) = (points(&s, &db, m).await, points(&s, &synced, m).await);
        assert!(!a.is_empty());
        assert_eq!(a, b, "{m}: the archive and the API disagree");
    }
    for (m, names) in [
        ("spo2", &["pct"][..]),
        ("spo2_daily", &["avg_pct", "min_pct", "max_pct"]),
        ("hrv", &["rmssd_ms", "sdnn_ms"]),
        ("hrv_daily", &["avg_ms", "non_rem_bpm", "entropy"]),
        ("respiratory_rate_daily", &["brpm"]),
        ("body_fat", &["pct"]),
        ("sleep_temperature", &["nightly_c"]),
        (
            "exercise",
            &[
                "type",
                "duration_s",
                "active_duration_s",
                "distance_m",
                "calories_kcal",
                "avg_bpm",
                "azm",
                "steps",
                "elevation_gain_m",
            ],
        ),
    ] {
        let (a, b) = (
            fields(&s, &db, m, names).await,
            fields(&s, &synced, m, names).await,
        );
        assert!(!a.is_empty(), "{m}");
        let differ: Vec<_> = a
            .iter()
            .filter(|(t, v)| b.get(t) != Some(v))
            .map(|(t, v)| (DateTime::from_timestamp_nanos(*t), v, b.get(t)))
            .chain(
                b.iter()
                    .filter(|(t, _)| !a.contains_key(t))
                    .map(|(t, v)| (DateTime::from_timestamp_nanos(*t), v, None)),
            )
            .take(5)
            .collect();
        assert!(
            differ.is_empty(),
            "{m}: the archive and the API disagree: {differ:?}"
        );
    }
    let api_weight: Vec<i64> = points(&s, &synced, "weight")
        .await
        .iter()
        .map(|r| r["time"].as_i64().unwrap())
        .collect();
    assert_eq!(
        api_weight,
        truth.weight_g.keys().copied().collect::<Vec<_>>()
    );
    let before = counts(&s, &db).await;

    // A second import changes nothing: every good file is known, the broken one fails again.
    let (code, again) = import(&d, &path, &[]).await;
    assert_eq!(code, Some(3), "{again}");
    assert!(again.contains("already imported"), "{again}");
    // A second part of the same export holding only the CSV twin of the heart rate: the JSON of
    // the first part is the canonical source, so it is not read.
    let mut part = takeout::Files::default();
    part.add(
        "Physical Activity_GoogleData",
        "heart_rate_2026-10-21.csv",
        "timestamp,beats per minute,data source\n2026-10-21T00:00:04Z,199.0,Pixel Watch 2\n",
    );
    let part_path = dir.path().join("takeout-20261101T000000Z-1-002.zip");
    part.zip(Gen::C, &part_path);
    let (code, out) = import(&d, &part_path, &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 other file(s) not read"), "{out}");
    assert_eq!(counts(&s, &db).await, before, "{out}");

    // Then the daemon syncs into the imported database: it does not fetch what the archive covered
    // but its newest day (which an export cuts off), fills the rest, and nothing is doubled.
    let both = Daemon::new(&sim, &s, &db, dir.path()).env("BACKFILL_FROM", &first.to_string());
    let before_sync = sim.stats().await;
    let (code, log) = both.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let after = counts(&s, &db).await;
    assert_eq!(
        before, after,
        "points per measurement after a second import and an API sync"
    );
    let status = d.command(&["status", "--json"]).output().await.unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let hr_cov = &status["users"]["me"]["types"]["heart-rate"];
    let days = |k: &str| -> std::collections::BTreeSet<NaiveDate> {
        hr_cov[k]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .flat_map(|r| {
                let (a, b): (NaiveDate, NaiveDate) = (
                    r[0].as_str().unwrap().parse().unwrap(),
                    r[1].as_str().unwrap().parse().unwrap(),
                );
                a.iter_days().take_while(move |d| *d <= b)
            })
            .collect()
    };
    let worn: std::collections::BTreeSet<NaiveDate> =
        truth.heart_rate.keys().map(|t| local_date(*t)).collect();
    assert_eq!(days("imported"), worn, "the archive's days: {hr_cov}");
    let fetched: std::collections::BTreeSet<NaiveDate> = &days("final") | &days("open");
    for day in first
        .iter_days()
        .take_while(|d| *d <= end + Duration::days(3))
    {
        assert_eq!(
            fetched.contains(&day),
            day >= end || !worn.contains(&day),
            "{day} fetched from the API? Only the archive's newest day and the days it lacks: {hr_cov}"
        );
    }
    let sync_hr_requests = requests(&sim.stats().await, &before_sync, "heart-rate");
    assert!(
        sync_hr_requests < api_hr_requests,
        "heart-rate requests after the import {sync_hr_requests}, without it {api_hr_requests}"
    );

    // Generations A, B and D: the same points as generation C's import where they carry the same
    // files.
    for g in [Gen::A, Gen::B, Gen::D] {
        let path = dir.path().join(format!("archive-{g:?}.zip"));
        files.zip(g, &path);
        let db_g = fresh_database(&s, &format!("import_{g:?}")).await;
        let state = dir.path().join(format!("gen-{g:?}"));
        std::fs::create_dir_all(&state).unwrap();
        let d = Daemon::new(&sim, &s, &db_g, &state);
        // Generation A has no Profile.csv: without --tz the import says what to give.
        let tz: &[&str] = if g == Gen::A {
            let (code, out) = import(&d, &path, &[]).await;
            assert_eq!(code, Some(2), "{out}");
            assert!(out.contains("--tz"), "{out}");
            let (code, out) = import(&d, &path, &["--user", "nobody"]).await;
            assert_eq!(code, Some(2), "{out}");
            assert!(out.contains("--user") && out.contains("USERS: me"), "{out}");
            &["--tz", "Europe/Berlin"]
        } else {
            &[]
        };
        let killed_after = if g == Gen::B {
            Some(kill_half_way(&d, &path).await)
        } else {
            None
        };
        let (code, out) = import(&d, &path, tz).await;
        assert_eq!(code, Some(3), "generation {g:?}: {out}");
        if let Some(n) = killed_after {
            assert!(
                recorded(&d.state_file) > n,
                "the rerun imported the rest: {out}"
            );
            assert!(out.contains("already imported"), "{out}");
        }
        for m in WRITTEN {
            let got = points(&s, &db_g, m).await;
            if g == Gen::A && FROM_CSV.contains(m) {
                assert!(got.is_empty(), "{m} in generation A");
            } else if g == Gen::D && *m == "weight" {
                // weight.csv: grams, exactly.
                let kg: BTreeMap<i64, f64> = got
                    .iter()
                    .map(|r| (r["time"].as_i64().unwrap(), r["kg"].as_f64().unwrap()))
                    .collect();
                let want: BTreeMap<i64, f64> = truth
                    .weight_g
                    .iter()
                    .map(|(t, g)| (*t, g / 1000.0))
                    .collect();
                assert_eq!(kg, want, "generation D weight");
            } else if g == Gen::D && *m == "body_fat" {
                assert!(got.is_empty(), "weight.csv has no body fat");
            } else if let Some(names) = fields_in_d(g, m) {
                // The new families carry other fields than the older files: as the API has them.
                let (a, b) = (
                    fields(&s, &db_g, m, names).await,
                    fields(&s, &synced, m, names).await,
                );
                assert!(!a.is_empty(), "{m} in generation D");
                assert_eq!(a, b, "{m} in generation D against the API");
            } else {
                assert_eq!(&got, &c_points[m], "{m} in generation {g:?}: {out}");
            }
        }
    }
}

/// The measurements whose generation-D CSVs carry other fields than generation C's files: those.
fn fields_in_d(g: Gen, m: &str) -> Option<&'static [&'static str]> {
    match (g, m) {
        (Gen::D, "hrv_daily") => Some(&["avg_ms", "non_rem_bpm", "entropy", "deep_sleep_rmssd_ms"]),
        (Gen::D, "sleep_temperature") => Some(&["nightly_c", "baseline_c", "stddev_30d_c"]),
        (Gen::D, "spo2_daily") => Some(&["avg_pct"]),
        _ => None,
    }
}

/// Files the state file records as imported for `me` (0 before the first save).
fn recorded(state_file: &std::path::Path) -> usize {
    std::fs::read(state_file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["users"]["me"]["imported"].as_object().map(|m| m.len()))
        .unwrap_or_default()
}

/// Starts an import and SIGKILLs it once it has recorded three files; how many it had recorded.
async fn kill_half_way(d: &Daemon<'_>, path: &std::path::Path) -> usize {
    let mut child = d.spawn(&["import", path.to_str().unwrap()]);
    loop {
        let n = recorded(&d.state_file);
        if n >= 3 {
            child.start_kill().unwrap(); // SIGKILL
            child.wait().await.unwrap();
            return recorded(&d.state_file);
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the import ended ({status}) before it could be killed, {n} files recorded");
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// Data requests for `data_type` (any method) between two `/sim/stats` answers.
fn requests(after: &Value, before: &Value, data_type: &str) -> i64 {
    let sum = |s: &Value| -> i64 {
        s["by_type"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.split(':').next() == Some(data_type))
                    .map(|(_, v)| v.as_i64().unwrap_or_default())
                    .sum()
            })
            .unwrap_or_default()
    };
    sum(after) - sum(before)
}
