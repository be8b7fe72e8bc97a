//! Synthetic archives of a simulated person in the formats of the reference (fitbit-takeout.md §2,
//! written out here byte for byte: Jackson-style JSON with `" : "`, UTC `MM/DD/YY` clocks, local
//! sleep and weight times, a year file of resting heart rate with placeholders, a sleep session
//! repeated in two chunks, the CSV families with their own headers and clocks), laid out as each of
//! the four generations lays them out (§1). The content comes from the simulator's API answers, so
//! what an import writes can be compared with the simulator and with an API sync.

use crate::common::sim::TestSim;
use crate::common::truth::*;
use crate::common::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gen {
    /// fitbit.com, `user-site-export/`: classic JSON only, no Profile.csv.
    A,
    /// fitbit.com with category folders.
    B,
    /// Google Takeout "Fitbit".
    C,
    /// Google Takeout "Google Health": heart rate and weight only as the new CSVs, family folders.
    D,
}

/// Where a file of generation C's `folder` lies in generation `g`, if `g` has it.
fn layout(g: Gen, folder: &str, base: &str) -> Option<String> {
    let json = folder == "Global Export Data";
    match g {
        Gen::A => json.then(|| format!("MyFitbitData/user-site-export/{base}")),
        Gen::B => {
            let category = match folder {
                "Global Export Data" if base.starts_with("sleep") => "Sleep",
                "Global Export Data" | "Daily Readiness" => "Physical Activity",
                "Sleep Score"
                | "Heart Rate Variability"
                | "Oxygen Saturation (SpO2)"
                | "Temperature" => "Sleep",
                "Stress Score" => "Stress",
                "Your Profile" => "Personal & Account",
                "Biometrics" => "Biometrics",
                _ => return None,
            };
            Some(format!("MyFitbitData/TestPerson/{category}/{base}"))
        }
        // The family sub-folders of `Physical Activity_GoogleData` (Oct 2026) are generation D's.
        Gen::C if folder.starts_with("Physical Activity_GoogleData/") => None,
        Gen::C => Some(format!("Takeout/Fitbit/{folder}/{base}")),
        // Heart rate, weight and resting heart rate only as CSVs; the night's figures in the new
        // families instead of the older category folders.
        Gen::D
            if json
                && ["heart_rate", "weight", "resting_heart_rate"]
                    .iter()
                    .any(|k| base.starts_with(k)) =>
        {
            None
        }
        Gen::D
            if [
                "Physical Activity_GoogleData",
                "Oxygen Saturation (SpO2)",
                "Heart Rate Variability",
                "Temperature",
            ]
            .contains(&folder) =>
        {
            None
        }
        Gen::D => Some(format!("Takeout/Google Health/{folder}/{base}")),
    }
}

/// The files of an archive, by generation-C folder and base name.
#[derive(Default)]
pub struct Files(Vec<(String, String, String)>);

impl Files {
    pub fn add(&mut self, folder: &str, base: &str, text: impl Into<String>) {
        self.0.push((folder.into(), base.into(), text.into()));
    }

    /// The archive as generation `g` packs it: a zip at `path`.
    pub fn zip(&self, g: Gen, path: &std::path::Path) {
        let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (folder, base, text) in &self.0 {
            let Some(name) = layout(g, folder, base) else {
                continue;
            };
            let o = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file(name, o).unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
}

/// What the archive holds, from the simulator, for the comparisons.
#[derive(Default)]
pub struct Truth {
    pub heart_rate: BTreeMap<i64, i64>,
    /// Minutes with steps.
    pub steps: BTreeMap<i64, i64>,
    pub resting_hr: BTreeMap<NaiveDate, i64>,
    pub sleep_score: BTreeMap<i64, i64>,
    /// Weight instants → grams.
    pub weight_g: BTreeMap<i64, f64>,
    pub stress: BTreeMap<NaiveDate, i64>,
    pub readiness: BTreeMap<NaiveDate, (i64, String)>,
    /// SpO2 rows at the sensor's 50.0 floor written into the archive (not readings).
    pub spo2_floor_rows: usize,
}

fn classic(t: DateTime<Utc>) -> String {
    t.format("%m/%d/%y %H:%M:%S").to_string()
}

fn local_naive(t: DateTime<Utc>) -> String {
    t.with_timezone(&BERLIN)
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

fn at(v: &Value, pointer: &str) -> DateTime<Utc> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
        .parse()
        .unwrap()
}

fn num(v: &Value, pointer: &str) -> f64 {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.parse().unwrap(),
        Some(x) => x.as_f64().unwrap(),
        None => panic!("{pointer} in {v}"),
    }
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

async fn all(sim: &TestSim, tok: &str, data_type: &str) -> Vec<Value> {
    sim.list_all(tok, data_type, "", None).await.0
}

/// The archive of the simulator's first person over `[first, end]`, Berlin time.
pub async fn build(sim: &TestSim, tok: &str, first: NaiveDate, end: NaiveDate) -> (Files, Truth) {
    let mut f = Files::default();
    let mut truth = Truth::default();
    const GED: &str = "Global Export Data";

    // Heart rate: one JSON file per local day (25 hours on 2026-10-25), UTC clocks; and the same
    // samples as generation D's CSV, one file per UTC day.
    let mut csv_days: BTreeMap<NaiveDate, String> = BTreeMap::new();
    for day in first.iter_days().take_while(|d| *d <= end) {
        let samples = heart_rate_of_day(sim, tok, day).await;
        let records: Vec<Value> = samples
            .iter()
            .map(|(ns, bpm)| json!({"dateTime": classic(DateTime::from_timestamp_nanos(*ns)), "value": {"bpm": bpm, "confidence": 2}}))
            .collect();
        if !records.is_empty() {
            f.add(GED, &format!("heart_rate-{day}.json"), jackson(&records));
        }
        for (ns, bpm) in &samples {
            let t = DateTime::from_timestamp_nanos(*ns);
            csv_days
                .entry(t.date_naive())
                .or_insert_with(|| "timestamp,beats per minute,data source\n".into())
                .push_str(&format!("{},{bpm}.0,Pixel Watch 3\n", ts(t)));
        }
        truth.heart_rate.extend(samples);
    }
    for (day, text) in csv_days {
        f.add(
            "Physical Activity_GoogleData/Heart Rate",
            &format!("heart_rate_{day}.csv"),
            text,
        );
    }
    // The CSV twin in generation C: the JSON is canonical, so it must not be read.
    f.add(
        "Physical Activity_GoogleData",
        "heart_rate_2026-10-20.csv",
        "timestamp,beats per minute,data source\n2026-10-20T00:00:04Z,199.0,Pixel Watch 2\n",
    );

    // Steps: one 30-day chunk, string values, every minute (zeros too).
    let steps = list_truth(
        sim,
        tok,
        "steps",
        STEPS,
        midnight(first),
        midnight(end + Duration::days(1)),
    )
    .await;
    let records: Vec<Value> = steps
        .iter()
        .map(|(ns, n)| json!({"dateTime": classic(DateTime::from_timestamp_nanos(*ns)), "value": n.to_string()}))
        .collect();
    f.add(GED, &format!("steps-{first}.json"), jackson(&records));
    truth.steps = steps.into_iter().filter(|(_, n)| *n > 0).collect();

    // Resting heart rate: a year file, with a placeholder row.
    let mut records = vec![
        json!({"dateTime": "10/01/26 00:00:00", "value": {"date": null, "value": 0.0, "error": 0.0}}),
    ];
    for p in all(sim, tok, "daily-resting-heart-rate").await {
        let v = &p["dailyRestingHeartRate"];
        let d = date_of(&v["date"]);
        let bpm = num(v, "/beatsPerMinute") as i64;
        truth.resting_hr.insert(d, bpm);
        let mmddyy = d.format("%m/%d/%y").to_string();
        records.push(json!({"dateTime": format!("{mmddyy} 00:00:00"), "value": {"date": mmddyy, "value": bpm as f64, "error": 6.5}}));
    }
    f.add(GED, "resting_heart_rate-2026-01-01.json", jackson(&records));

    sleep(&mut f, &mut truth, sim, tok).await;
    body_and_exercise(&mut f, &mut truth, sim, tok, (first, end)).await;
    nightly_csvs(&mut f, &mut truth, sim, tok).await;
    google_health_csvs(&mut f, &truth, sim, tok).await;
    daily_scores(&mut f, &mut truth, first, end);

    f.add(
        "Your Profile",
        "Profile.csv",
        "id,full_name,timezone,weight_unit\nABC123,Test Person,Europe/Berlin,POUND\n",
    );
    f.add("Biometrics", "Glucose 2306.csv", "no data");
    // A broken file: named, not recorded, the others go on.
    f.add(
        GED,
        "steps-2026-09-01.json",
        "[{\n  \"dateTime\" : \"09/01/26 00:0",
    );
    (f, truth)
}

/// Sleep: sessions newest first in two chunks, the newest of the first chunk repeated in the second;
/// the sleep scores the API lacks, one per main sleep at its wake-up.
async fn sleep(f: &mut Files, truth: &mut Truth, sim: &TestSim, tok: &str) {
    let sessions: Vec<Value> = all(sim, tok, "sleep")
        .await
        .into_iter()
        .map(|p| p["sleep"].clone())
        .filter(|s| s.get("summary").is_some())
        .collect();
    assert!(sessions.len() >= 10, "{} sessions", sessions.len());
    let archived: Vec<Value> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| sleep_record(s, i))
        .collect();
    let half = archived.len() / 2;
    f.add(
        "Global Export Data",
        "sleep-2026-10-01.json",
        jackson(&archived[..=half]),
    );
    f.add(
        "Global Export Data",
        "sleep-2026-10-20.json",
        jackson(&archived[half..]),
    );
    let mut scores = String::from("sleep_log_entry_id,timestamp,overall_score,composition_score,revitalization_score,duration_score,deep_sleep_in_minutes,resting_heart_rate,restlessness\n");
    for (i, s) in sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| s["metadata"]["mainSleep"] == true)
    {
        let wake = at(s, "/interval/endTime");
        let overall = 60 + (i as i64 * 7) % 35;
        truth
            .sleep_score
            .insert(wake.timestamp_nanos_opt().unwrap(), overall);
        scores += &format!(
            "{},{},{overall},,{},,{},58,0.{:02}\n",
            41_941_918_001_i64 + i as i64,
            ts(wake),
            overall - 2,
            60 + i,
            10 + i
        );
    }
    f.add("Sleep Score", "sleep_score.csv", scores);
}

fn sleep_record(s: &Value, id: usize) -> Value {
    let t = |k: &str| at(s, &format!("/interval/{k}"));
    let n = |k: &str| num(s, &format!("/summary/{k}")) as i64;
    let minutes = |k: &str| {
        s["summary"]["stagesSummary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["type"] == k)
            .map_or(0, |x| num(x, "/minutes") as i64)
    };
    let classic_log = s["type"] == "CLASSIC";
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
    let summary: serde_json::Map<String, Value> = kinds
        .iter()
        .map(|(api, name)| {
            (
                (*name).to_string(),
                json!({"count": 1, "minutes": minutes(api), "thirtyDayAvgMinutes": 0}),
            )
        })
        .collect();
    let data: Vec<Value> = s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            let (a, b) = (at(st, "/startTime"), at(st, "/endTime"));
            let level = match st["type"].as_str().unwrap() {
                "AWAKE" if !classic_log => "wake".to_string(),
                other => other.to_ascii_lowercase(),
            };
            json!({"dateTime": local_naive(a), "level": level, "seconds": (b - a).num_seconds()})
        })
        .collect();
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
}

/// Weight in pounds (one decimal, as the archives have it) with BMI and body fat, local clock; the
/// same in grams as generation D's `weight.csv`; exercises in `exercise-0.json`, starts in UTC.
async fn body_and_exercise(
    f: &mut Files,
    truth: &mut Truth,
    sim: &TestSim,
    tok: &str,
    (first, end): (NaiveDate, NaiveDate),
) {
    let fat: BTreeMap<DateTime<Utc>, f64> = all(sim, tok, "body-fat")
        .await
        .iter()
        .map(|p| {
            (
                at(p, "/bodyFat/sampleTime/physicalTime"),
                num(p, "/bodyFat/percentage"),
            )
        })
        .collect();
    let mut records = Vec::new();
    let mut csv = String::from("timestamp,weight grams,data source\n");
    for p in all(sim, tok, "weight").await {
        let t = at(&p, "/weight/sampleTime/physicalTime");
        let grams = num(&p, "/weight/weightGrams");
        truth
            .weight_g
            .insert(t.timestamp_nanos_opt().unwrap(), grams);
        let local = t.with_timezone(&BERLIN);
        let lb = (grams / 453.592_37 * 10.0).round() / 10.0;
        let bmi = (grams / 1000.0 / (1.74 * 1.74) * 100.0).round() / 100.0;
        let mut r = json!({"logId": local.naive_local().and_utc().timestamp_millis(), "weight": lb, "bmi": bmi,
            "date": local.format("%m/%d/%y").to_string(), "time": local.format("%H:%M:%S").to_string(), "source": "Aria"});
        if let Some(pct) = fat.get(&t) {
            r["fat"] = json!(pct);
        }
        records.push(r);
        csv += &format!("{},{grams},Aria Air\n", ts(t));
    }
    assert!(records.len() >= 3, "weights: {}", records.len());
    assert!(
        records.iter().any(|r| r.get("fat").is_some()),
        "body fat measured with the weight"
    );
    f.add(
        "Global Export Data",
        "weight-2026-10-01.json",
        jackson(&records),
    );
    f.add("Physical Activity_GoogleData/Weight", "weight.csv", csv);

    // A narrow query: a wide one downgrades sessions to WORKOUT (reference §11).
    let narrow = format!(
        r#"exercise.interval.civil_start_time >= "{first}T00:00:00" AND exercise.interval.civil_start_time < "{}T00:00:00""#,
        end + Duration::days(1)
    );
    let exercises: Vec<Value> = sim
        .list_all(tok, "exercise", &narrow, None)
        .await
        .0
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let e = &p["exercise"];
            let (a, b) = (at(e, "/interval/startTime"), at(e, "/interval/endTime"));
            let m = |k: &str| num(e, &format!("/metricsSummary/{k}"));
            let active: i64 = e["activeDuration"].as_str().unwrap().trim_end_matches('s').parse().unwrap();
            json!({
                "logId": 253_307_636 + i as i64, "activityName": "Run", "activityTypeId": 90009,
                "averageHeartRate": m("averageHeartRateBeatsPerMinute") as i64, "calories": m("caloriesKcal"),
                "distance": m("distanceMillimeters") / 1e6, "distanceUnit": "Kilometer",
                "duration": (b - a).num_milliseconds(), "activeDuration": active * 1000,
                "steps": m("steps") as i64, "logType": "tracker",
                "activeZoneMinutes": {"totalMinutes": m("activeZoneMinutes") as i64, "minutesInHeartRateZones": []},
                "lastModified": classic(b), "startTime": classic(a), "originalStartTime": classic(a),
                "originalDuration": (b - a).num_milliseconds(),
                "elevationGain": m("elevationGainMillimeters") / 1000.0, "hasGps": false, "shouldFetchDetails": false,
            })
        })
        .collect();
    assert!(!exercises.is_empty(), "the simulator has exercises");
    f.add("Global Export Data", "exercise-0.json", jackson(&exercises));
}

/// The nightly CSVs: SpO2 per minute (UTC, with rows at the 50.0 floor) and per night, HRV details
/// (local wall clock) and per night, breathing rate, skin temperature (on the date the sleep ends).
async fn nightly_csvs(f: &mut Files, truth: &mut Truth, sim: &TestSim, tok: &str) {
    let mut by_day: BTreeMap<NaiveDate, String> = BTreeMap::new();
    for p in all(sim, tok, "oxygen-saturation").await {
        let t = at(&p, "/oxygenSaturation/sampleTime/physicalTime");
        let row = by_day
            .entry(t.with_timezone(&BERLIN).date_naive())
            .or_insert_with(|| {
                truth.spo2_floor_rows += 1;
                // A floor row, 30 s off the minute grid so it cannot hide a reading.
                format!("timestamp,value\n{},50.0\n", ts(t - Duration::seconds(30)))
            });
        row.push_str(&format!(
            "{},{}\n",
            ts(t),
            p["oxygenSaturation"]["percentage"]
        ));
    }
    assert!(by_day.len() >= 5, "SpO2 nights: {}", by_day.len());
    for (day, text) in by_day {
        f.add(
            "Oxygen Saturation (SpO2)",
            &format!("Minute SpO2 - {day}.csv"),
            text,
        );
    }
    let daily = |k: &str, v: &Value| date_of(&v[k]["date"]);
    let mut spo2 = String::from("timestamp,average_value,lower_bound,upper_bound\n");
    for p in all(sim, tok, "daily-oxygen-saturation").await {
        let v = &p["dailyOxygenSaturation"];
        spo2 += &format!(
            "{}T00:00:00Z,{},{},{}\n",
            daily("dailyOxygenSaturation", &p),
            v["averagePercentage"],
            v["lowerBoundPercentage"],
            v["upperBoundPercentage"]
        );
    }
    f.add(
        "Oxygen Saturation (SpO2)",
        "Daily SpO2 - 2026-10-01-2026-11-01.csv",
        spo2,
    );
    // Rows in time order (the API lists newest first), local wall clock.
    let mut details: BTreeMap<NaiveDate, BTreeMap<i64, String>> = BTreeMap::new();
    for p in all(sim, tok, "heart-rate-variability").await {
        let t = at(&p, "/heartRateVariability/sampleTime/physicalTime");
        details
            .entry(t.with_timezone(&BERLIN).date_naive())
            .or_default()
            .insert(
                t.timestamp(),
                format!(
                    "{},{},0.93,512.1,301.2\n",
                    t.with_timezone(&BERLIN).format("%Y-%m-%dT%H:%M:%S"),
                    p["heartRateVariability"]["rootMeanSquareOfSuccessiveDifferencesMilliseconds"]
                ),
            );
    }
    assert!(!details.is_empty(), "HRV samples");
    for (day, rows) in details {
        let text: String =
            std::iter::once("timestamp,rmssd,coverage,low_frequency,high_frequency\n")
                .chain(rows.values().map(String::as_str))
                .collect();
        f.add(
            "Heart Rate Variability",
            &format!("Heart Rate Variability Details - {day}.csv"),
            text,
        );
    }
    let mut summary = String::from("timestamp,rmssd,nremhr,entropy\n");
    for p in all(sim, tok, "daily-heart-rate-variability").await {
        let v = &p["dailyHeartRateVariability"];
        summary += &format!(
            "{}T00:00:00,{},{}.0,{}\n",
            daily("dailyHeartRateVariability", &p),
            v["averageHeartRateVariabilityMilliseconds"],
            num(v, "/nonRemHeartRateBeatsPerMinute"),
            v["entropy"]
        );
    }
    f.add(
        "Heart Rate Variability",
        "Daily Heart Rate Variability Summary - 2026-10-(1).csv",
        summary,
    );
    let mut breathing = String::from("timestamp,daily_respiratory_rate\n");
    for p in all(sim, tok, "daily-respiratory-rate").await {
        breathing += &format!(
            "{}T00:00:00,{}\n",
            daily("dailyRespiratoryRate", &p),
            p["dailyRespiratoryRate"]["breathsPerMinute"]
        );
    }
    f.add(
        "Heart Rate Variability",
        "Daily Respiratory Rate Summary - 2026-10-01.csv",
        breathing,
    );
    let mut temperature = String::from("type,sleep_start,sleep_end,temperature_samples,nightly_temperature,baseline_relative_sample_sum,baseline_relative_sample_sum_of_squares,baseline_relative_nightly_standard_deviation,baseline_relative_sample_standard_deviation\n");
    for p in all(sim, tok, "daily-sleep-temperature-derivations").await {
        let d = daily("dailySleepTemperatureDerivations", &p);
        temperature += &format!(
            "IDT,{}T23:15,{d}T07:05,530,{},NaN,NaN,NaN,NaN\n",
            d - Duration::days(1),
            p["dailySleepTemperatureDerivations"]["nightlyTemperatureCelsius"]
        );
    }
    f.add(
        "Temperature",
        "Computed Temperature - 2026-10-01.csv",
        temperature,
    );
}

/// Generation D's `Physical Activity_GoogleData` families for what the older exports had in JSON
/// or category folders: resting heart rate (with a zero row, "no value"), SpO2 and HRV samples in
/// UTC (SDNN 0: not measured), and the nightly figures labelled `T00:00:00Z` on their dates.
async fn google_health_csvs(f: &mut Files, truth: &Truth, sim: &TestSim, tok: &str) {
    const PA: &str = "Physical Activity_GoogleData";
    let mut rhr =
        String::from("timestamp,beats per minute,data source\n2026-10-01T00:00:00Z,0,Fitbit App\n");
    for (d, bpm) in &truth.resting_hr {
        rhr += &format!("{d}T00:00:00Z,{bpm}.0,Fitbit App\n");
    }
    f.add(
        &format!("{PA}/Daily Resting Heart Rate"),
        "daily_resting_heart_rate.csv",
        rhr,
    );
    let mut spo2 = String::from("timestamp,oxygen saturation percentage,data source\n");
    for p in all(sim, tok, "oxygen-saturation").await.iter().rev() {
        let t = at(p, "/oxygenSaturation/sampleTime/physicalTime");
        spo2 += &format!(
            "{},{},Pixel Watch 3\n",
            ts(t),
            p["oxygenSaturation"]["percentage"]
        );
    }
    f.add(
        &format!("{PA}/Oxygen Saturation"),
        "oxygen_saturation_2026-10-01.csv",
        spo2,
    );
    let mut hrv = String::from("timestamp,root mean square of successive differences milliseconds,standard deviation milliseconds,data source\n");
    for p in all(sim, tok, "heart-rate-variability").await.iter().rev() {
        let v = &p["heartRateVariability"];
        hrv += &format!(
            "{},{},{:.1},Pixel Watch 3\n",
            ts(at(v, "/sampleTime/physicalTime")),
            v["rootMeanSquareOfSuccessiveDifferencesMilliseconds"],
            num(v, "/standardDeviationMilliseconds")
        );
    }
    f.add(
        &format!("{PA}/Heart Rate Variability"),
        "heart_rate_variability_2026-10-01.csv",
        hrv,
    );
    let daily = |header: &str, rows: Vec<(NaiveDate, String)>| {
        let mut text = format!("timestamp,{header},data source\n");
        for (d, values) in rows {
            text += &format!("{d}T00:00:00Z,{values},Fitbit\n");
        }
        text
    };
    let rows = |points: Vec<Value>, key: &str, cells: &dyn Fn(&Value) -> String| {
        points
            .iter()
            .map(|p| (date_of(&p[key]["date"]), cells(&p[key])))
            .collect::<Vec<_>>()
    };
    let hrv_daily = rows(
        all(sim, tok, "daily-heart-rate-variability").await,
        "dailyHeartRateVariability",
        &|v| {
            format!(
                "{},{},{},{}",
                v["averageHeartRateVariabilityMilliseconds"],
                num(v, "/nonRemHeartRateBeatsPerMinute"),
                v["entropy"],
                v["deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds"]
            )
        },
    );
    f.add(
        &format!("{PA}/Daily Heart Rate Variability"),
        "daily_heart_rate_variability.csv",
        daily("average heart rate variability milliseconds,non rem heart rate beats per minute,entropy,deep sleep root mean square of successive differences milliseconds", hrv_daily),
    );
    let breathing = rows(
        all(sim, tok, "daily-respiratory-rate").await,
        "dailyRespiratoryRate",
        &|v| v["breathsPerMinute"].to_string(),
    );
    f.add(
        &format!("{PA}/Daily Respiratory Rate"),
        "daily_respiratory_rate.csv",
        daily("breaths per minute", breathing),
    );
    let temperature = rows(
        all(sim, tok, "daily-sleep-temperature-derivations").await,
        "dailySleepTemperatureDerivations",
        &|v| {
            format!(
                "{},{},{}",
                v["nightlyTemperatureCelsius"],
                v["baselineTemperatureCelsius"],
                v["relativeNightlyStddev30dCelsius"]
            )
        },
    );
    f.add(
        &format!("{PA}/Daily Sleep Temperature Derivations"),
        "daily_sleep_temperature_derivations.csv",
        daily("nightly temperature celsius,baseline temperature celsius,relative nightly stddev 30d celsius", temperature),
    );
    let spo2_daily = rows(
        all(sim, tok, "daily-oxygen-saturation").await,
        "dailyOxygenSaturation",
        &|v| v["averagePercentage"].to_string(),
    );
    f.add(
        &format!("{PA}/Daily Oxygen Saturation"),
        "daily_oxygen_saturation.csv",
        daily("average percentage", spo2_daily),
    );
}

/// Stress and readiness scores (not in the API, so made up here): one NO_DATA day, one day
/// without a readiness row.
fn daily_scores(f: &mut Files, truth: &mut Truth, first: NaiveDate, end: NaiveDate) {
    let mut stress = String::from("DATE,UPDATED_AT,STRESS_SCORE,SLEEP_POINTS,MAX_SLEEP_POINTS,RESPONSIVENESS_POINTS,MAX_RESPONSIVENESS_POINTS,EXERTION_POINTS,MAX_EXERTION_POINTS,STATUS,CALCULATION_FAILED\n");
    let mut readiness = String::from("date,readiness_score_value,readiness_state,activity_subcomponent,sleep_subcomponent,hrv_subcomponent,activity_state,sleep_state,hrv_state\n");
    for (i, d) in first.iter_days().take_while(|d| *d <= end).enumerate() {
        if i == 3 {
            stress += &format!("{d}T00:00:00,{d}T07:23:52.009,0,0,0,0,0,0,0,NO_DATA,true\n");
        } else {
            let score = 60 + (i as i64 * 5) % 30;
            truth.stress.insert(d, score);
            stress +=
                &format!("{d}T00:00:00,{d}T17:07:49.634,{score},24,30,22,30,33,40,READY,false\n");
        }
        if i != 5 {
            let score = 50 + (i as i64 * 3) % 45;
            let state = if score > 70 { "HIGH" } else { "MEDIUM" };
            truth
                .readiness
                .insert(d, (score, state.to_ascii_lowercase()));
            readiness += &format!("{d},{score},{state},80,75,70,GOOD,FAIR,GOOD\n");
        }
    }
    f.add("Stress Score", "Stress Score.csv", stress);
    f.add(
        "Daily Readiness",
        "Daily Readiness Score - 2026-10-01.csv",
        readiness,
    );
}
