//! The insights the daemon writes after a round, against a computation made here from the
//! simulator's own answers (median and MAD written out again, not the daemon's code): wear minutes,
//! activity classes, the resting-heart-rate baseline and its deviations, a simulated fever flagged
//! with its summary line, and days with too little history marked instead of given a number.

mod common;

use chrono::{DateTime, Duration, NaiveDate};
use common::daemon::Daemon;
use common::sim::start;
use common::truth::*;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

fn local_date(ns: i64) -> NaiveDate {
    DateTime::from_timestamp_nanos(ns)
        .with_timezone(&BERLIN)
        .date_naive()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insights_equal_a_computation_from_the_simulators_data_and_a_fever_is_flagged() {
    let Some(s) = servers() else { return };
    const DAYS: i64 = 40;
    let sim = start(|a| {
        a.days = DAYS as u32;
        a.heart_rate_every = 60;
        a.fever_days = 3;
    })
    .await;
    let db = fresh_database(&s, "insights").await;
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::new(&sim, &s, &db, dir.path());
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let tok = sim.access_token(0).await;
    let (first, last) = (
        today() - Duration::days(DAYS - 1),
        today() - Duration::days(1),
    );

    // Resting heart rate as the simulator lists it, by date.
    let filter = format!(
        r#"daily_resting_heart_rate.date >= "{first}" AND daily_resting_heart_rate.date < "{}""#,
        today()
    );
    let (rhr, _) = sim
        .list_all(&tok, "daily-resting-heart-rate", &filter, None)
        .await;
    let rhr: BTreeMap<NaiveDate, f64> = rhr
        .iter()
        .map(|p| {
            let v = &p["dailyRestingHeartRate"];
            let bpm = v["beatsPerMinute"].as_str().map(|s| s.parse().unwrap());
            (
                date_of(&v["date"]),
                bpm.or(v["beatsPerMinute"].as_f64()).unwrap(),
            )
        })
        .collect();
    assert!(rhr.len() >= 35, "{rhr:?}");
    let stored = rows(
        &s,
        &db,
        "SELECT * FROM \"insight\" WHERE \"metric\" = 'resting_hr'",
    )
    .await;
    let by_day: BTreeMap<NaiveDate, _> = stored
        .iter()
        .map(|r| (local_date(r["time"].as_i64().unwrap()), r))
        .collect();
    let mut with_baseline = 0;
    let mut flagged = BTreeSet::new();
    for (day, value) in rhr.range(..=last) {
        let r = by_day
            .get(day)
            .unwrap_or_else(|| panic!("no insight for {day}"));
        assert_eq!(r["value"].as_f64(), Some(*value), "{day}");
        let before: Vec<f64> = rhr
            .range(*day - Duration::days(30)..*day)
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(
            r["history_days"].as_i64(),
            Some(before.len() as i64),
            "{day}"
        );
        if before.len() < 14 {
            // Too little history: said so, and no number invented.
            assert!(
                r["baseline_median"].is_null() && r["deviation_z"].is_null(),
                "{day}: {r:?}"
            );
            assert!(r["outside_baseline"].is_null(), "{day}");
            continue;
        }
        with_baseline += 1;
        let m = median(before.clone());
        let mad = median(before.iter().map(|v| (v - m).abs()).collect());
        let z = (value - m) / (1.4826 * mad).max(1.0);
        assert_eq!(r["baseline_median"].as_f64(), Some(m), "{day}");
        assert_eq!(r["baseline_mad"].as_f64(), Some(mad), "{day}");
        assert!(
            (r["deviation_z"].as_f64().unwrap() - z).abs() < 1e-9,
            "{day}: {r:?} vs {z}"
        );
        assert_eq!(
            r["outside_baseline"].as_bool(),
            Some(z.abs() >= 3.0),
            "{day}"
        );
        if z.abs() >= 3.0 {
            flagged.insert(*day);
        }
    }
    assert!(with_baseline >= 15, "{with_baseline} days with a baseline");
    // The fever: the last three complete days, and only those.
    let fever: BTreeSet<NaiveDate> = (1..=3).map(|n| today() - Duration::days(n)).collect();
    assert_eq!(flagged, fever, "the fever days and no others are flagged");

    // Wear minutes (minutes with a sample) and the activity class, per day.
    let days = rows(&s, &db, "SELECT * FROM \"day_insight\"").await;
    let days: BTreeMap<NaiveDate, _> = days
        .iter()
        .map(|r| (local_date(r["time"].as_i64().unwrap()), r))
        .collect();
    let steps = daily_steps_truth(&sim, &tok, first, last).await;
    let mut classes = BTreeSet::new();
    for day in first.iter_days().take_while(|x| *x <= last) {
        let samples = heart_rate_of_day(&sim, &tok, day).await;
        let minutes: BTreeSet<i64> = samples.keys().map(|ns| ns / 60_000_000_000).collect();
        let r = days
            .get(&day)
            .unwrap_or_else(|| panic!("no day_insight for {day}"));
        assert_eq!(r["wear_min"].as_i64(), Some(minutes.len() as i64), "{day}");
        let st = steps.get(&day).copied().unwrap_or(0);
        let class = if minutes.len() < 60 {
            "not_worn"
        } else if st < 500 {
            "low"
        } else if st < 10_000 {
            "normal"
        } else {
            "high"
        };
        assert_eq!(
            r["activity_class"].as_str(),
            Some(class),
            "{day}: {st} steps"
        );
        classes.insert(class);
        let summary = r["summary"].as_str().unwrap();
        if day == last {
            let m = median(
                rhr.range(day - Duration::days(30)..day)
                    .map(|(_, v)| *v)
                    .collect(),
            );
            let want = format!(
                "resting HR {:.0} bpm above your baseline for 3 days",
                rhr[&day] - m
            );
            assert!(summary.contains(&want), "{day}: {summary:?}, want {want:?}");
        } else if !rhr.contains_key(&day) {
            assert_eq!(summary, "no values to compare that day", "{day}");
        } else if day < first + Duration::days(14) {
            assert!(
                summary.starts_with("not enough history"),
                "{day}: {summary}"
            );
        }
    }
    assert!(
        classes.contains("not_worn") && classes.len() >= 2,
        "{classes:?}"
    );

    // Recomputed, not accumulated: a second run leaves the same values.
    let before = rows(&s, &db, "SELECT * FROM \"insight\"").await;
    let (code, log) = d.run_once().await;
    assert_eq!(code, Some(0), "{log}");
    let after = rows(&s, &db, "SELECT * FROM \"insight\"").await;
    let today_ns = midnight(today()).timestamp_nanos_opt().unwrap();
    let keep = |v: &Vec<serde_json::Map<String, serde_json::Value>>| {
        v.iter()
            .filter(|r| r["time"].as_i64().unwrap() < today_ns)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keep(&before), keep(&after));
}
