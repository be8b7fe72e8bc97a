//! `fitbit-influx import` of a synthetic Google Takeout "Fitbit" archive (generation C, the formats
//! of the reference's §2 written out here byte for byte: Jackson-style JSON with `" : "`, UTC
//! `MM/DD/YY` clocks, local sleep times, a year file of resting heart rate with placeholders, a sleep
//! session repeated in two chunks, sleep_score.csv, Profile.csv) built from the simulator's own
//! answers over twelve days around the October DST change; imported into the real InfluxDB and
//! compared with the simulator and with what an API sync of the same person writes.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::daemon::Daemon;
use common::sim::{start, TestSim};
use common::truth::*;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;

const END: &str = "2026-10-28";
const DAYS: i64 = 12;

fn classic(t: DateTime<Utc>) -> String {
    t.format("%m/%d/%y %H:%M:%S").to_string()
}

fn local_naive(t: DateTime<Utc>) -> String {
    t.with_timezone(&BERLIN)
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

/// Jackson's pretty print as the archives have it: `"key" : value`, two-space indent, `},{`
/// between records, no trailing newline.
fn jackson(records: &[Value]) -> String {
    let body: Vec<String> = records
        .iter()
        .map(|r| {
            serde_json::to_string_pretty(r)
                .unwrap()
                .replace("\": ", "\" : ")
        })
        .collect();
    format!("[{}]", body.join(",").replace("}\n,{", "},{"))
}

struct Zip {
    w: zip::ZipWriter<std::fs::File>,
}

impl Zip {
    fn add(&mut self, name: &str, text: &str) {
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        self.w
            .start_file(format!("Takeout/Fitbit/{name}"), o)
            .unwrap();
        self.w.write_all(text.as_bytes()).unwrap();
    }
}

async fn sleeps(sim: &TestSim, tok: &str) -> Vec<Value> {
    sim.list_all(tok, "sleep", "", None)
        .await
        .0
        .into_iter()
        .map(|p| p["sleep"].clone())
        .collect()
}

/// Every row of a measurement for `user`, without the tags' column order mattering.
async fn points(s: &Servers, db: &str, m: &str) -> Vec<serde_json::Map<String, Value>> {
    rows(s, db, &format!("SELECT * FROM \"{m}\"")).await
}

/// Points per measurement the import writes.
async fn counts(s: &Servers, db: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for m in ["heart_rate", "steps", "sleep", "sleep_stage", "sleep_score"] {
        out.push(points(s, db, m).await.len());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeout_archive_imports_exactly_as_the_api_has_it_and_again_changes_nothing() {
    let Some(s) = servers() else { return };
    let end: NaiveDate = END.parse().unwrap();
    let sim = start(|a| {
        a.days = DAYS as u32;
        a.end = Some(end);
        a.heart_rate_every = 60;
    })
    .await;
    let tok = sim.access_token(0).await;
    let first = end - Duration::days(DAYS - 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeout-20261101T000000Z-1-001.zip");
    let mut z = Zip {
        w: zip::ZipWriter::new(std::fs::File::create(&path).unwrap()),
    };

    // Heart rate: one file per local day (25 hours on 2026-10-25), UTC clocks.
    let mut hr_truth = BTreeMap::new();
    for day in first.iter_days().take_while(|d| *d <= end) {
        let samples = heart_rate_of_day(&sim, &tok, day).await;
        let records: Vec<Value> = samples
            .iter()
            .map(|(ns, bpm)| json!({"dateTime": classic(DateTime::from_timestamp_nanos(*ns)), "value": {"bpm": bpm, "confidence": 2}}))
            .collect();
        if !records.is_empty() {
            z.add(
                &format!("Global Export Data/heart_rate-{day}.json"),
                &jackson(&records),
            );
        }
        hr_truth.extend(samples);
    }
    // The CSV twin of one day: the JSON is canonical, so it must not be read.
    z.add(
        "Physical Activity_GoogleData/heart_rate_2026-10-20.csv",
        "timestamp,beats per minute,data source\n2026-10-20T00:00:04Z,199.0,Pixel Watch 2\n",
    );
    // Steps: one 30-day chunk, string values, per minute.
    let steps_truth = list_truth(
        &sim,
        &tok,
        "steps",
        STEPS,
        midnight(first),
        midnight(end + Duration::days(1)),
    )
    .await;
    let records: Vec<Value> = steps_truth
        .iter()
        .map(|(ns, n)| json!({"dateTime": classic(DateTime::from_timestamp_nanos(*ns)), "value": n.to_string()}))
        .collect();
    z.add(
        &format!("Global Export Data/steps-{first}.json"),
        &jackson(&records),
    );
    // Resting heart rate: a year file, with a placeholder row.
    let (rhr, _) = sim
        .list_all(&tok, "daily-resting-heart-rate", "", None)
        .await;
    let mut rhr_truth = BTreeMap::new();
    let mut records = vec![
        json!({"dateTime": "10/01/26 00:00:00", "value": {"date": null, "value": 0.0, "error": 0.0}}),
    ];
    for p in &rhr {
        let v = &p["dailyRestingHeartRate"];
        let d = date_of(&v["date"]);
        let bpm: i64 = v["beatsPerMinute"].as_str().unwrap().parse().unwrap();
        rhr_truth.insert(d, bpm);
        let mmddyy = d.format("%m/%d/%y").to_string();
        records.push(json!({"dateTime": format!("{mmddyy} 00:00:00"), "value": {"date": mmddyy, "value": bpm as f64, "error": 6.5}}));
    }
    z.add(
        "Global Export Data/resting_heart_rate-2026-01-01.json",
        &jackson(&records),
    );
    // Sleep: sessions newest first in two chunks, the newest of the first chunk repeated in the second.
    let sessions = sleeps(&sim, &tok).await;
    let as_archive = |s: &Value, id: usize| {
        let t = |k: &str| {
            s["interval"][k]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
        };
        let n = |k: &str| s["summary"][k].as_str().unwrap().parse::<i64>().unwrap();
        let minutes = |k: &str| {
            s["summary"]["stagesSummary"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["type"] == k)
                .map(|x| x["minutes"].as_str().unwrap().parse::<i64>().unwrap())
        };
        let classic_log = s["type"] == "CLASSIC";
        let mut summary = serde_json::Map::new();
        let kinds: &[(&str, &str)] = if classic_log {
            &[
                ("ASLEEP", "asleep"),
                ("RESTLESS", "restless"),
                ("AWAKE", "awake"),
            ]
        } else {
            &[
                ("DEEP", "deep"),
                ("AWAKE", "wake"),
                ("LIGHT", "light"),
                ("REM", "rem"),
            ]
        };
        for (api, name) in kinds {
            summary.insert(
                (*name).into(),
                json!({"count": 1, "minutes": minutes(api).unwrap_or(0), "thirtyDayAvgMinutes": 0}),
            );
        }
        let data: Vec<Value> = s["stages"].as_array().unwrap().iter().map(|st| {
            let (a, b) = (st["startTime"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), st["endTime"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap());
            let level = match st["type"].as_str().unwrap() { "AWAKE" if !classic_log => "wake".to_string(), other => other.to_ascii_lowercase() };
            json!({"dateTime": local_naive(a), "level": level, "seconds": (b - a).num_seconds()})
        }).collect();
        json!({
            "logId": 25_555_303_911_i64 + id as i64,
            "dateOfSleep": t("endTime").with_timezone(&BERLIN).date_naive().to_string(),
            "startTime": local_naive(t("startTime")),
            "endTime": local_naive(t("endTime")),
            "duration": (t("endTime") - t("startTime")).num_milliseconds(),
            "minutesToFallAsleep": n("minutesToFallAsleep"),
            "minutesAsleep": n("minutesAsleep"),
            "minutesAwake": n("minutesAwake"),
            "minutesAfterWakeup": n("minutesAfterWakeUp"),
            "timeInBed": n("minutesInSleepPeriod"),
            "efficiency": 93,
            "type": if classic_log { "classic" } else { "stages" },
            "infoCode": 0,
            "logType": "auto_detected",
            "levels": {"summary": summary, "data": data, "shortData": [{"dateTime": local_naive(t("startTime") + Duration::minutes(5)), "level": "wake", "seconds": 60}]},
            "mainSleep": s["metadata"]["mainSleep"],
        })
    };
    let complete: Vec<&Value> = sessions
        .iter()
        .filter(|s| s.get("summary").is_some())
        .collect();
    assert!(complete.len() >= 10, "{} sessions", complete.len());
    let archived: Vec<Value> = complete
        .iter()
        .enumerate()
        .map(|(i, s)| as_archive(s, i))
        .collect();
    let half = archived.len() / 2;
    z.add(
        "Global Export Data/sleep-2026-10-01.json",
        &jackson(&archived[..=half]),
    );
    z.add(
        "Global Export Data/sleep-2026-10-20.json",
        &jackson(&archived[half..]),
    );
    // Sleep scores, which the API lacks: one per main sleep, at the wake-up.
    let mut scores = String::from("sleep_log_entry_id,timestamp,overall_score,composition_score,revitalization_score,duration_score,deep_sleep_in_minutes,resting_heart_rate,restlessness\n");
    let mut score_truth = BTreeMap::new();
    for (i, s) in complete
        .iter()
        .enumerate()
        .filter(|(_, s)| s["metadata"]["mainSleep"] == true)
    {
        let wake: DateTime<Utc> = s["interval"]["endTime"].as_str().unwrap().parse().unwrap();
        let overall = 60 + (i as i64 * 7) % 35;
        score_truth.insert(wake.timestamp_nanos_opt().unwrap(), overall);
        scores += &format!(
            "{},{},{overall},,{},,{},58,0.{:02}\n",
            41_941_918_001_i64 + i as i64,
            ts(wake),
            overall - 2,
            60 + i,
            10 + i
        );
    }
    z.add("Sleep Score/sleep_score.csv", &scores);
    z.add(
        "Your Profile/Profile.csv",
        "id,full_name,timezone,weight_unit\nABC123,Test Person,Europe/Berlin,POUND\n",
    );
    z.add("Biometrics/Glucose 2306.csv", "no data");
    // A broken file: named, not recorded, the others go on.
    z.add(
        "Global Export Data/steps-2026-09-01.json",
        "[{\n  \"dateTime\" : \"09/01/26 00:0",
    );
    z.w.finish().unwrap();

    let db = fresh_database(&s, "import").await;
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let import = || d.command(&["import", path.to_str().unwrap()]).output();
    let out = import().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(3),
        "the broken file: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("steps-2026-09-01.json") && stdout.contains("time zone Europe/Berlin"),
        "{stdout}"
    );

    // Against the simulator.
    let hr: BTreeMap<i64, i64> = points(&s, &db, "heart_rate")
        .await
        .iter()
        .map(|r| (r["time"].as_i64().unwrap(), r["bpm"].as_i64().unwrap()))
        .collect();
    assert!(hr_truth.len() > 10_000);
    assert_eq!(
        hr, hr_truth,
        "heart rate, every sample, the DST day's 25 hours too"
    );
    let steps: BTreeMap<i64, i64> = points(&s, &db, "steps")
        .await
        .iter()
        .map(|r| (r["time"].as_i64().unwrap(), r["count"].as_i64().unwrap()))
        .collect();
    let moving: BTreeMap<i64, i64> = steps_truth.into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(steps, moving, "minutes with steps");
    let rhr: BTreeMap<NaiveDate, i64> = points(&s, &db, "resting_heart_rate")
        .await
        .iter()
        .map(|r| {
            (
                DateTime::from_timestamp_nanos(r["time"].as_i64().unwrap())
                    .with_timezone(&BERLIN)
                    .date_naive(),
                r["bpm"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rhr, rhr_truth,
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
    assert_eq!(scored, score_truth);

    // Against an API sync of the same person: the same sleep points, stage by stage.
    let synced = fresh_database(&s, "import_api").await;
    let api = Daemon::new(&sim, &s, &synced, &dir.path().join("api"))
        .env("BACKFILL_FROM", &first.to_string());
    std::fs::create_dir_all(dir.path().join("api")).unwrap();
    let (code, log) = api.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    for m in ["sleep", "sleep_stage", "heart_rate", "resting_heart_rate"] {
        let (a, b) = (points(&s, &db, m).await, points(&s, &synced, m).await);
        assert!(!a.is_empty());
        assert_eq!(a, b, "{m}: the archive and the API disagree");
    }
    let before = counts(&s, &db).await;

    // A second import changes nothing: every good file is known, the broken one fails again.
    let out = import().await.unwrap();
    let again = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(3), "{again}");
    assert!(again.contains("already imported"), "{again}");
    // Then the daemon syncs the same days into the imported database: no type conflict, no duplicate.
    let both = Daemon::new(&sim, &s, &db, dir.path()).env("BACKFILL_FROM", &first.to_string());
    let (code, log) = both.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let after = counts(&s, &db).await;
    assert_eq!(
        before, after,
        "points per measurement after a second import and an API sync"
    );
}
