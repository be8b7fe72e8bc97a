//! Every Grafana panel, as Grafana would run it, against the real InfluxDB filled by the daemon from the
//! simulator: two people in two zones (Tokyo and Los Angeles), each looking at the dashboards in their
//! own browser, the variables picked as Grafana picks them. Every panel must show the numbers computed
//! here from the simulator's own API — per day in that person's zone, not merely some rows.

mod common;
#[path = "grafana_queries/insights.rs"]
mod insights;
#[path = "grafana_queries/panels.rs"]
mod panels;
#[path = "grafana_queries/panels_more.rs"]
mod panels_more;
#[path = "grafana_queries/pipeline.rs"]
mod pipeline;
#[path = "grafana_queries/truth.rs"]
mod truth;

use chrono::Utc;
use chrono_tz::Tz;
use common::daemon::Daemon;
use common::grafana::{columns, table_rows, Cell, Columns, View};
use common::sim::start;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use truth::{Expect, Truth};

/// Neither zone is the dashboards' first static option, so each zone must come from what the daemon
/// wrote (measurement `person`); they are 17 hours apart, so a day taken in the wrong zone shows.
const PEOPLE: [(&str, Tz); 2] = [
    ("alice", chrono_tz::Asia::Tokyo),
    ("bob", chrono_tz::America::Los_Angeles),
];
/// More than the 30 days a resting-heart-rate baseline needs.
const DAYS: u32 = 45;

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

/// The last non-null value of the first series' first value column (Grafana's "lastNotNull").
fn last_not_null(series: &[Value]) -> Option<f64> {
    series.first()?["values"]
        .as_array()?
        .iter()
        .rev()
        .find_map(|row| row[1].as_f64())
}

/// A variable query's options, as Grafana lists them (each row's value column).
fn options(series: &[Value]) -> Vec<String> {
    series
        .iter()
        .flat_map(|s| s["values"].as_array().cloned().unwrap_or_default())
        .map(|row| match &row[1] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_shows_each_persons_own_numbers_on_their_own_days() {
    let Some(s) = servers() else { return };
    let now = Utc::now();
    // The last day is today where it is latest (Tokyo): complete, so the truth does not move while
    // the test runs; for Los Angeles it is tomorrow, which the daemon does not fetch yet.
    let end = PEOPLE
        .iter()
        .map(|(_, tz)| now.with_timezone(tz).date_naive())
        .max()
        .unwrap();
    let sim = start(|a| {
        a.users = 2;
        a.days = DAYS;
        a.heart_rate_every = 300;
        a.tz = PEOPLE.iter().map(|(_, tz)| *tz).collect();
        a.end = Some(end);
    })
    .await;
    let db = fresh_database(&s, "grafana").await;
    let dir = tempfile::tempdir().unwrap();
    let auth = &sim.sim.auth;
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path())
        .env("USERS", "alice,bob")
        .env("GOOGLE_REFRESH_TOKEN_ALICE", auth.refresh_token(0).expose())
        .env("GOOGLE_REFRESH_TOKEN_BOB", auth.refresh_token(1).expose())
        .run_once()
        .await;
    assert_eq!(code, Some(0), "{log}");
    let sim_requests = sim.stats().await["api_requests"].as_u64().unwrap();

    let mut panels_checked = 0;
    let mut not_worn_seen = false;
    // The requests the daemon says it made, per panel that shows them, summed over the people.
    let mut requests_shown: BTreeMap<String, u64> = BTreeMap::new();
    for (i, (user, tz)) in PEOPLE.iter().enumerate() {
        let truth = Truth {
            sim: &sim,
            tok: sim.access_token(i as u32).await,
            view: View {
                tz: *tz,
                now: Utc::now(),
                vars: BTreeMap::new(),
            },
            first_day: sim.sim.first_day,
        };
        import_sleep_scores(
            &Daemon::new(&sim, &s, &db, dir.path()).env("USERS", "alice,bob"),
            dir.path(),
            user,
            *tz,
            &truth.sleeps().await,
        )
        .await;
        let mut view = View {
            tz: *tz,
            now: truth.view.now,
            vars: BTreeMap::new(),
        };
        // Each dashboard as provisioned, and activity once more over 90 days as a person would widen
        // it: the range then reaches before the account's first day and holds the unworn day.
        let mut views = dashboards();
        let mut wide = views
            .iter()
            .find(|(f, _)| f == "activity.json")
            .unwrap()
            .clone();
        wide.1["time"]["from"] = "now-90d/d".into();
        views.push(wide);
        // The sleep dashboard once more with an earlier night picked for the hypnogram.
        let mut earlier = views
            .iter()
            .find(|(f, _)| f == "sleep.json")
            .unwrap()
            .clone();
        for v in earlier.1["templating"]["list"].as_array_mut().unwrap() {
            if v["name"] == "night" {
                v["current"] = serde_json::json!({"text": "3 nights before", "value": "3d"});
            }
        }
        views.push(earlier);
        for (file, d) in views {
            // The variables in order, each from its query as Grafana runs it on load (no value is
            // saved): the person is picked from the list, the zone and first day follow from them.
            view.vars.clear();
            let any = view.range(&d, &Value::Null);
            for v in d["templating"]["list"].as_array().unwrap() {
                let name = v["name"].as_str().unwrap();
                if v["type"] == "custom" {
                    // A list of its own: Grafana shows the saved current value, which must be one of
                    // the options the query string spells.
                    let current = v["current"]["value"].as_str().unwrap().to_string();
                    let spelled: Vec<&str> = v["query"]
                        .as_str()
                        .unwrap()
                        .split(',')
                        .map(|o| o.rsplit(" : ").next().unwrap().trim())
                        .collect();
                    assert!(spelled.contains(&current.as_str()), "{file}: ${name}");
                    view.vars.insert(name.to_string(), current);
                    continue;
                }
                let q = view.substitute(v["query"].as_str().unwrap(), any);
                let offered = options(&query(&s, &db, &q).await);
                let picked = match name {
                    "user" => {
                        assert_eq!(offered, ["alice", "bob"], "{file}");
                        user.to_string()
                    }
                    "tz" => {
                        assert_eq!(v["staticOptionsOrder"], "after", "{file}");
                        assert_eq!(offered, [tz.name()], "{file}: {user}'s zone");
                        offered[0].clone()
                    }
                    "since" => {
                        let start = view.midnight(sim.sim.first_day).timestamp();
                        assert_eq!(offered, [start.to_string()], "{file}: {user}'s first day");
                        offered[0].clone()
                    }
                    other => panic!("{file}: a variable this test does not know: {other}"),
                };
                view.vars.insert(name.to_string(), picked);
            }
            for p in d["panels"].as_array().unwrap() {
                let title = p["title"].as_str().unwrap();
                let r = view.range(&d, p);
                let what = format!(
                    "{user} ({}), {file} from {}, panel {title:?}",
                    tz.name(),
                    d["time"]["from"]
                );
                let expect = truth.expect(&file, title, r).await;
                let mut answers = Vec::new();
                for t in p["targets"].as_array().unwrap() {
                    let q = view.substitute(t["query"].as_str().unwrap(), r);
                    answers.push((t["alias"].as_str(), query(&s, &db, &q).await));
                }
                match expect {
                    Expect::Columns(want) => {
                        assert!(
                            !want.is_empty(),
                            "{what}: the simulator has nothing to show"
                        );
                        let mut got = Columns::new();
                        for (alias, series) in &answers {
                            columns(series, *alias, &mut got);
                        }
                        assert_eq!(got, want, "{what}");
                    }
                    Expect::Rows(want) => {
                        assert!(
                            !want.is_empty(),
                            "{what}: the simulator has nothing to show"
                        );
                        let got: Vec<_> = answers.iter().flat_map(|(_, s)| table_rows(s)).collect();
                        assert_eq!(got, want, "{what}");
                    }
                    Expect::Stat(want) => {
                        assert_eq!(
                            last_not_null(&answers[0].1).map(Cell::Num),
                            Some(Cell::Num(want)),
                            "{what}"
                        )
                    }
                    Expect::Pie(want) => {
                        assert!(want.values().sum::<f64>() > 0.0, "{what}: an empty pie");
                        // Per-day statistics over days that are over: today is still partial.
                        assert!(r.to < view.midnight(view.today()), "{what}: counts today");
                        not_worn_seen |= want.get("not worn (0 steps)").is_some_and(|n| *n > 0.0);
                        let got: BTreeMap<String, f64> = answers
                            .iter()
                            .map(|(alias, series)| {
                                let v = series
                                    .first()
                                    .map_or(0.0, |s| s["values"][0][1].as_f64().unwrap());
                                (alias.unwrap().to_string(), v)
                            })
                            .collect();
                        assert_eq!(got, want, "{what}");
                    }
                    Expect::Devices(want) => {
                        let mut got = BTreeMap::new();
                        for s in &answers[0].1 {
                            let row = &s["values"][0];
                            let model = s["tags"]["device"].as_str().unwrap().to_string();
                            got.insert(model, (row[1].as_f64().unwrap(), row[2].as_f64().unwrap()));
                        }
                        assert_eq!(got.len(), want.len(), "{what}: {got:?}");
                        for (model, (battery, sync)) in want {
                            let (b, s) = got[&model];
                            assert_eq!(b, battery, "{what}: {model}");
                            // The watch's last sync follows the clock between the poll and now.
                            assert!(
                                (s - sync).abs() <= 600_000.0,
                                "{what}: {model} {s} vs {sync}"
                            );
                        }
                    }
                    Expect::Pipeline(want) => {
                        let series: Vec<&[Value]> =
                            answers.iter().map(|(_, s)| s.as_slice()).collect();
                        pipeline::check(&what, title, &want, &series, &mut requests_shown);
                    }
                }
                panels_checked += 1;
            }
        }
    }
    let count = |d: &Value| d["panels"].as_array().unwrap().len();
    let all = dashboards();
    let panels: usize = all.iter().map(|(_, d)| count(d)).sum();
    assert!(panels >= 30, "{panels} panels");
    let again = |file: &str| count(&all.iter().find(|(f, _)| f == file).unwrap().1);
    // Every panel, plus activity over 90 days and sleep with an earlier night.
    assert_eq!(
        panels_checked,
        PEOPLE.len() * (panels + again("activity.json") + again("sleep.json"))
    );
    assert!(not_worn_seen, "the unworn day was in a pie's range");
    // Every request the daemon made reached the simulator, which counted it (before the truth was read).
    for (panel, n) in &requests_shown {
        assert_eq!(*n, sim_requests, "panel {panel:?}: requests of both people");
    }
    assert_eq!(requests_shown.len(), 2, "{requests_shown:?}");
}
/// The sleep scores the API lacks, from an archive as `fitbit-influx import` reads it: a folder
/// holding this person's `sleep_score.csv`, one score per main sleep at its wake-up (UTC).
async fn import_sleep_scores(
    d: &Daemon<'_>,
    dir: &std::path::Path,
    user: &str,
    tz: Tz,
    sleeps: &[(chrono::NaiveDate, Value)],
) {
    let folder = dir.join(format!("archive-{user}")).join("Sleep Score");
    std::fs::create_dir_all(&folder).unwrap();
    let mut csv = String::from("sleep_log_entry_id,timestamp,overall_score,composition_score,revitalization_score,duration_score,deep_sleep_in_minutes,resting_heart_rate,restlessness\n");
    for (i, (_, s)) in sleeps
        .iter()
        .filter(|(_, s)| truth::main_sleep(s))
        .enumerate()
    {
        let score = truth::archive_score(s).unwrap();
        let wake = s["interval"]["endTime"].as_str().unwrap();
        csv += &format!("{i},{wake},{score},,{},,60,58,0.1\n", score - 3.0);
    }
    std::fs::write(folder.join("sleep_score.csv"), csv).unwrap();
    let out = d
        .command(&[
            "import",
            dir.join(format!("archive-{user}")).to_str().unwrap(),
            "--user",
            user,
            "--tz",
            tz.name(),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
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
