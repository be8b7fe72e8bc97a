//! `fitbit-influx export` end to end: a simulated week exported from the API and from the real
//! InfluxDB the daemon filled, compared with the simulator's own answers (read here through its API,
//! independently of the daemon's code) and with each other.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::daemon::Daemon;
use common::sim::start;
use common::truth::*;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir`, relative path → lines.
fn tree(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let text = std::fs::read_to_string(&p).unwrap();
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, text.lines().map(str::to_string).collect());
            }
        }
    }
    out
}

fn local(t: DateTime<Utc>) -> chrono::DateTime<chrono_tz::Tz> {
    t.with_timezone(&BERLIN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_exports_from_the_api_and_from_influxdb_exactly_as_the_simulator_has_it() {
    let Some(s) = servers() else { return };
    let sim = start(|a| a.days = 9).await;
    let db = fresh_database(&s, "export").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let tok = sim.access_token(0).await;
    let (from, to) = (today() - Duration::days(7), today() - Duration::days(1));
    let range = ["--from", &from.to_string(), "--to", &to.to_string()];
    let export = |out: &Path, extra: &[&str]| {
        let mut args = vec!["export", "--out", out.to_str().unwrap()];
        args.extend(range);
        args.extend(extra);
        d.command(&args)
    };

    // The tutorials' heart-rate layout: one `Time,Heart Rate` file a day, the reconciled samples
    // in time order, on the person's clock.
    let t = dir.path().join("tutorial");
    let out = export(&t, &["--types", "heart-rate,sleep", "--layout", "tutorial"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = tree(&t.join("me"));
    let mut unworn = 0;
    for day in from.iter_days().take_while(|x| *x <= to) {
        let truth = heart_rate_of_day(&sim, &tok, day).await;
        let want: Vec<String> = std::iter::once("Time,Heart Rate".to_string())
            .chain(truth.iter().map(|(ns, bpm)| {
                format!(
                    "{},{bpm}",
                    local(DateTime::from_timestamp_nanos(*ns)).format("%H:%M:%S")
                )
            }))
            .collect();
        let name = format!("heart_rate/heart_rate_{day}.csv");
        if truth.is_empty() {
            // The day the watch stayed in a drawer: no file, rather than an empty one.
            assert!(!files.contains_key(&name), "{name}");
            unworn += 1;
            continue;
        }
        let got = &files[&name];
        assert!(want.len() > 1000, "a day of heart rate: {}", want.len());
        assert_eq!(got.len(), want.len(), "{day}: rows");
        assert_eq!(got, &want, "{day}");
    }
    assert_eq!(
        unworn, 1,
        "the simulated week has one day without the watch"
    );
    // Sleep stages: one file per wake date, each session's stages in order.
    let filter = format!(
        r#"sleep.interval.end_time >= "{}" AND sleep.interval.end_time < "{}""#,
        ts(midnight(from)),
        ts(midnight(to + Duration::days(1)))
    );
    let (sessions, _) = sim.list_all(&tok, "sleep", &filter, None).await;
    let mut want: BTreeMap<NaiveDate, Vec<(String, String, i64)>> = BTreeMap::new();
    for sess in &sessions {
        let end: DateTime<Utc> = sess["sleep"]["interval"]["endTime"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        for st in sess["sleep"]["stages"].as_array().unwrap() {
            let a: DateTime<Utc> = st["startTime"].as_str().unwrap().parse().unwrap();
            let b: DateTime<Utc> = st["endTime"].as_str().unwrap().parse().unwrap();
            want.entry(local(end).date_naive()).or_default().push((
                local(a).format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                st["type"].as_str().unwrap().to_ascii_lowercase(),
                (b - a).num_seconds(),
            ));
        }
    }
    assert!(want.len() >= 6, "a week of nights: {want:?}");
    for (day, mut stages) in want {
        stages.sort();
        let got: Vec<(String, String, i64)> = files[&format!("sleep_stage/sleep_stage_{day}.csv")]
            [1..]
            .iter()
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].to_string(), c[1].to_string(), c[2].parse().unwrap())
            })
            .collect();
        assert_eq!(got, stages, "stages of the night ending {day}");
    }

    // JSON Lines of every type, from the API and from InfluxDB: the same documents, and the daily
    // steps are the simulator's.
    let (api, stored) = (dir.path().join("api"), dir.path().join("stored"));
    for (out, extra) in [(&api, &[][..]), (&stored, &["--from-influx"][..])] {
        let mut args = vec!["--format", "jsonl", "--split", "day"];
        args.extend(extra);
        let o = export(out, &args).output().await.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (a, b) = (tree(&api.join("me")), tree(&stored.join("me")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (file, lines) in &a {
        let parse = |ls: &[String]| {
            ls.iter()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            parse(lines),
            parse(&b[file]),
            "{file}: the API and InfluxDB disagree"
        );
    }
    for m in [
        "heart_rate",
        "steps",
        "sleep",
        "resting_heart_rate",
        "weight",
        "hrv",
    ] {
        assert!(
            a.keys().any(|k| k.starts_with(&format!("{m}/"))),
            "{m} exported: {:?}",
            a.keys()
        );
    }
    let steps = daily_steps_truth(&sim, &tok, from, to).await;
    assert_eq!(
        steps.len(),
        6,
        "seven days, one without the watch: {steps:?}"
    );
    for (day, count) in &steps {
        let doc: Value = serde_json::from_str(&a[&format!("steps_daily/{day}.jsonl")][0]).unwrap();
        assert_eq!(doc["fields"]["count"], *count, "{doc}");
        assert_eq!(doc["date"], day.to_string());
        assert_eq!(doc["time"], local(midnight(*day)).to_rfc3339(), "{doc}");
    }

    // The tutorials' document shape, read back; a second run into the same place replaces, not adds.
    let m = dir.path().join("mongo");
    for _ in 0..2 {
        let o = export(
            &m,
            &[
                "--types",
                "steps-daily",
                "--format",
                "jsonl",
                "--layout",
                "tutorial",
            ],
        )
        .output()
        .await
        .unwrap();
        assert!(o.status.success());
    }
    let docs: Vec<Value> = tree(&m.join("me"))["steps_daily.jsonl"]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: BTreeMap<NaiveDate, i64> = docs
        .iter()
        .map(|d| {
            assert_eq!(d["type"], "steps_daily");
            (
                d["data"]["dateTime"].as_str().unwrap().parse().unwrap(),
                d["data"]["value"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        docs.len(),
        steps.len(),
        "one document per day, not two after the rerun"
    );
    assert_eq!(got, steps);

    // A type that does not exist is a usage error naming the option.
    let o = export(&m, &["--types", "heartrate"])
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--types"));
}
