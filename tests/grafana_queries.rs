//! Every Grafana panel query, run as Grafana would run it, against the real InfluxDB filled by the daemon
//! from the simulator. Stat panels must show what the simulator says is true.

mod common;

use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use common::daemon::Daemon;
use common::sim::start;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// The simulated person's zone: not the dashboards' first static option, so the zone variable must
/// come from what the daemon wrote (measurement `person`).
const TZ: Tz = chrono_tz::Asia::Tokyo;
const DAYS: u32 = 30;

/// Grafana's substitutions: `$timeFilter` as epoch milliseconds, `$__interval`, and the variables.
fn grafana_query(q: &str, from_ms: i64, to_ms: i64) -> String {
    q.replace(
        "$timeFilter",
        &format!("time >= {from_ms}ms and time <= {to_ms}ms"),
    )
    .replace("$__interval", "1h")
    .replace("$tz", TZ.name())
    .replace("$user", "me")
}

fn dashboards() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana/dashboards");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The dashboard's range as Grafana resolves it: `now-Nd/d` .. `now/d` are whole days in the time zone.
fn range_ms(d: &Value) -> (i64, i64, NaiveDate) {
    let from = d["time"]["from"].as_str().unwrap();
    assert_eq!(d["time"]["to"], "now/d", "day-aligned ranges");
    let days: i64 = from
        .strip_prefix("now-")
        .and_then(|f| f.strip_suffix("d/d"))
        .unwrap()
        .parse()
        .unwrap();
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let midnight = |d: NaiveDate| {
        use chrono::TimeZone;
        TZ.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .earliest()
            .unwrap()
            .timestamp_millis()
    };
    let first = today - Duration::days(days);
    (
        midnight(first),
        midnight(today + Duration::days(1)) - 1,
        first,
    )
}

/// The last non-null value of the first series' first value column (Grafana's "lastNotNull").
fn last_not_null(series: &[Value]) -> Option<f64> {
    series.first()?["values"]
        .as_array()?
        .iter()
        .rev()
        .find_map(|row| row[1].as_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_query_returns_rows_and_the_stats_are_true() {
    let Some(s) = servers() else { return };
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let sim = start(|a| {
        a.days = DAYS;
        a.heart_rate_every = 300;
        a.tz = vec![TZ];
        // A complete today: the stat panels' truth does not move while the test runs.
        a.end = Some(today);
    })
    .await;
    let tok = sim.access_token(0).await;
    let db = fresh_database(&s, "grafana").await;
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path()).run_once().await;
    assert_eq!(code, Some(0), "{log}");

    let mut pie_first_day = today;
    let mut queries = 0;
    let mut stats: BTreeMap<String, Option<f64>> = BTreeMap::new();
    let mut pie_counts: BTreeMap<String, i64> = BTreeMap::new();
    for (file, d) in dashboards() {
        let (from_ms, to_ms, first_day) = range_ms(&d);
        // Each query variable's first option, which Grafana selects (no value is saved): the one
        // person, and that person's own time zone ahead of the static ones.
        for v in d["templating"]["list"].as_array().unwrap() {
            assert_eq!(v["type"], "query", "{file}: {}", v["name"]);
            let series = query(
                &s,
                &db,
                &grafana_query(v["query"].as_str().unwrap(), from_ms, to_ms),
            )
            .await;
            let expected = match v["name"].as_str().unwrap() {
                "user" => "me",
                "tz" => {
                    assert_eq!(v["staticOptionsOrder"], "after", "{file}");
                    TZ.name()
                }
                other => panic!("{file}: unexpected variable {other}"),
            };
            assert_eq!(
                series[0]["values"][0][1], expected,
                "{file}: variable {}",
                v["name"]
            );
        }
        for p in d["panels"].as_array().unwrap() {
            let title = p["title"].as_str().unwrap();
            for t in p["targets"].as_array().unwrap() {
                let q = grafana_query(t["query"].as_str().unwrap(), from_ms, to_ms);
                let series = query(&s, &db, &q).await;
                queries += 1;
                if title == "Days by activity level" {
                    pie_first_day = first_day;
                    let n = series
                        .first()
                        .map_or(0, |s| s["values"][0][1].as_i64().unwrap());
                    pie_counts.insert(t["alias"].as_str().unwrap().to_string(), n);
                    continue;
                }
                let rows: usize = series
                    .iter()
                    .map(|s| s["values"].as_array().map_or(0, Vec::len))
                    .sum();
                assert!(rows > 0, "{file}: panel {title:?} returned no rows for {q}");
                if p["type"] == "stat" {
                    stats.insert(title.to_string(), last_not_null(&series));
                }
            }
        }
    }
    assert!(queries >= 25, "{queries} queries");

    // Steps today: the simulator's steps of today, summed here from its reconciled minutes (a raw
    // `list` counts the phone's minutes twice, reference §11 #4).
    let day_start = |d: NaiveDate| sim.sim.person(0).day_start(d);
    let f = format!(
        r#"steps.interval.start_time >= "{}" AND steps.interval.start_time < "{}""#,
        day_start(today).to_rfc3339(),
        day_start(today + Duration::days(1)).to_rfc3339()
    );
    let (steps, _) = sim.list_all(&tok, "steps:reconcile", &f, None).await;
    let today_steps: i64 = steps
        .iter()
        .map(|p| {
            p["steps"]["count"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert_eq!(stats["Steps today"], Some(today_steps as f64));

    // Last night's sleep: the main session that ended today.
    let f = format!(
        r#"sleep.interval.end_time >= "{}" AND sleep.interval.end_time < "{}""#,
        day_start(today).to_rfc3339(),
        day_start(today + Duration::days(1)).to_rfc3339()
    );
    let (sleep, _) = sim.list_all(&tok, "sleep", &f, None).await;
    let main = sleep
        .iter()
        .find(|p| p["sleep"]["metadata"]["mainSleep"] == true)
        .expect("a main sleep ended today");
    let asleep: f64 = main["sleep"]["summary"]["minutesAsleep"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(stats["Last night's sleep"], Some(asleep));
    assert!(stats["Resting heart rate"].is_some());
    // Weight: the newest weigh-in however old, from the simulator's list (newest first).
    let (weights, _) = sim.list_all(&tok, "weight", "", None).await;
    let newest = weights
        .iter()
        .find_map(|p| p["weight"]["weightGrams"].as_f64())
        .expect("a weigh-in");
    assert_eq!(stats["Weight"], Some(newest / 1000.0));

    // Days by activity level: the simulator's daily steps over the panel's days, classified here.
    // The simulated data starts on its first day; days of the range before it have no data either.
    let first_day = pie_first_day;
    let mut per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut d = first_day;
    while d <= today {
        per_day.insert(d, 0);
        d += Duration::days(1);
    }
    let f = format!(
        r#"steps.interval.start_time >= "{}" AND steps.interval.start_time < "{}""#,
        day_start(first_day).to_rfc3339(),
        day_start(today + Duration::days(1)).to_rfc3339()
    );
    for p in sim
        .list_all(&tok, "steps:reconcile", &f, Some(10_000))
        .await
        .0
    {
        let dt = &p["steps"]["interval"]["civilStartTime"]["date"];
        *per_day.entry(date_of(dt)).or_default() += p["steps"]["count"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap();
    }
    let class = |pred: &dyn Fn(i64) -> bool| per_day.values().filter(|s| pred(**s)).count() as i64;
    let expected: BTreeMap<String, i64> = [
        ("not worn (0 steps)", class(&|s| s == 0)),
        ("low (< 500)", class(&|s| s > 0 && s < 500)),
        (
            "normal (500-10,000)",
            class(&|s| (500..=10_000).contains(&s)),
        ),
        ("high (> 10,000)", class(&|s| s > 10_000)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(pie_counts, expected, "days by activity level");
    assert!(
        expected["not worn (0 steps)"] >= 1,
        "the simulated unworn day is in range"
    );
}

#[test]
fn the_dev_compose_file_carries_the_simulators_seed_1_credentials() {
    let compose = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docker-compose.dev.yml"
    ))
    .unwrap();
    let value = |key: &str| {
        compose
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} in docker-compose.dev.yml"))
            .trim()
            .to_string()
    };
    let mut args = fitbit_influx::sim::SimArgs::for_tests();
    args.seed = 1;
    let sim = fitbit_influx::sim::Sim::new(args);
    assert_eq!(value("GOOGLE_CLIENT_ID"), sim.auth.client_id);
    assert_eq!(
        value("GOOGLE_CLIENT_SECRET"),
        sim.auth.client_secret.expose()
    );
    assert_eq!(
        value("GOOGLE_REFRESH_TOKEN"),
        sim.auth.refresh_token(0).expose()
    );
    assert!(compose.contains(r#""--seed", "1""#));
}
