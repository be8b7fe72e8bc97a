//! Every catalog entry end to end: 60 simulated days through the daemon into the real InfluxDB, compared
//! with the simulator's own API (counts, sums, a few exact values), the field types InfluxDB stored
//! compared with the catalog's declarations, and the requests the simulator counted compared with the
//! request formula of docs/requests.md.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use common::daemon::Daemon;
use common::sim::{start, TestSim};
use common::*;
use fitbit_influx::catalog::{self, Fetch};
use fitbit_influx::point::FieldKind;
use serde_json::Value;
use std::collections::BTreeMap;

const TZ: Tz = chrono_tz::Europe::Berlin;
const DAYS: u32 = 60;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    TZ.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn num(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::String(s)) => s.parse().unwrap_or(f64::NAN),
        Some(Value::Number(n)) => n.as_f64().unwrap(),
        _ => f64::NAN,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

struct Run<'a> {
    s: &'a Servers,
    db: String,
    sim: &'a TestSim,
    tok: String,
    first: NaiveDate,
    today: NaiveDate,
}

impl Run<'_> {
    /// All data points of a list type's reconciled stream over the complete days, through the
    /// simulator's API, in windows of 28 days (a wider exercise query returns poorer sessions).
    async fn truth(&self, api_type: &str) -> Vec<Value> {
        let entry = catalog::CATALOG
            .iter()
            .find(|e| e.api_type == api_type && matches!(e.fetch, Fetch::List { .. }))
            .unwrap();
        let last = self.today - Duration::days(1);
        let mut all = Vec::new();
        let mut from = self.first;
        while from <= last {
            let to = (from + Duration::days(27)).min(last);
            let filter = entry
                .filter(from, to, midnight(from), midnight(to + Duration::days(1)))
                .unwrap();
            let method = format!("{api_type}:reconcile");
            all.extend(self.sim.list_all(&self.tok, &method, &filter, None).await.0);
            from = to + Duration::days(1);
        }
        all
    }

    /// (count, sum) of a field over the complete days in InfluxDB.
    async fn stored(&self, measurement: &str, field: &str) -> (f64, f64) {
        let q = format!(
            "SELECT count(\"{field}\"), sum(\"{field}\") FROM \"{measurement}\" WHERE time >= '{}' AND time < '{}'",
            ts(midnight(self.first)),
            ts(midnight(self.today))
        );
        match rows(self.s, &self.db, &q).await.first() {
            Some(r) => (r["count"].as_f64().unwrap(), r["sum"].as_f64().unwrap()),
            None => (0.0, 0.0),
        }
    }

    async fn daily_rollup(&self, api_type: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut from = self.first;
        while from < self.today {
            let to = (from + Duration::days(14)).min(self.today);
            let d = |d: NaiveDate| serde_json::json!({"date": {"year": chrono::Datelike::year(&d), "month": chrono::Datelike::month(&d), "day": chrono::Datelike::day(&d)}});
            let (status, body) = self
                .sim
                .post(
                    &self.tok,
                    &format!("users/me/dataTypes/{api_type}/dataPoints:dailyRollUp"),
                    &serde_json::json!({"range": {"start": d(from), "end": d(to)}}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            out.extend(
                body["rollupDataPoints"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            from = to;
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_lands_in_influxdb_as_the_simulator_says() {
    let Some(s) = servers() else { return };
    let sim = start(|a| {
        a.days = DAYS;
        a.heart_rate_every = 300;
        // The request formula below is exact only without the occasional empty page (§11 #2);
        // tests/dense_heart_rate.rs checks requests with them.
        a.no_empty_pages = true;
    })
    .await;
    let tok = sim.access_token(0).await;
    let db = fresh_database(&s, "catalog").await;
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = Daemon::new(&sim, &s, &db, dir.path()).run_once().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("WARN"), "a clean run: {log}");
    // What the daemon asked for, before this test's own requests add to the counters.
    let daemon_stats: Value = sim.stats().await;
    let r = Run {
        s: &s,
        db: db.clone(),
        sim: &sim,
        tok,
        first: sim.sim.first_day,
        today: Utc::now().with_timezone(&TZ).date_naive(),
    };

    // Every measurement is there, with exactly the declared field types (heart_rate_minute only
    // with HEART_RATE_RESOLUTION=minute, tested in tests/api_as_observed.rs).
    let minute = catalog::minute::HEART_RATE_MINUTE.name;
    for m in catalog::measurements()
        .into_iter()
        .filter(|m| m.name != minute)
    {
        let keys = rows(&s, &db, &format!("SHOW FIELD KEYS FROM \"{}\"", m.name)).await;
        assert!(!keys.is_empty(), "{} was written", m.name);
        for k in &keys {
            let name = k["fieldKey"].as_str().unwrap();
            let f = m
                .fields
                .iter()
                .find(|f| f.name == name)
                .unwrap_or_else(|| panic!("{}.{name} undeclared", m.name));
            let expected = match f.kind {
                FieldKind::Int => "integer",
                FieldKind::Float => "float",
                FieldKind::Bool => "boolean",
                FieldKind::Str => "string",
            };
            assert_eq!(
                k["fieldType"].as_str().unwrap(),
                expected,
                "{}.{name}",
                m.name
            );
        }
    }

    // List types: count and sum of the main field equal the simulator's.
    let list_checks: &[(&str, &str, &str, &str, f64)] = &[
        (
            "active-zone-minutes",
            "/activeZoneMinutes/activeZoneMinutes",
            "active_zone_minutes",
            "azm",
            1.0,
        ),
        (
            "heart-rate-variability",
            "/heartRateVariability/rootMeanSquareOfSuccessiveDifferencesMilliseconds",
            "hrv",
            "rmssd_ms",
            1.0,
        ),
        (
            "daily-heart-rate-variability",
            "/dailyHeartRateVariability/averageHeartRateVariabilityMilliseconds",
            "hrv_daily",
            "avg_ms",
            1.0,
        ),
        (
            "oxygen-saturation",
            "/oxygenSaturation/percentage",
            "spo2",
            "pct",
            1.0,
        ),
        (
            "daily-oxygen-saturation",
            "/dailyOxygenSaturation/averagePercentage",
            "spo2_daily",
            "avg_pct",
            1.0,
        ),
        (
            "daily-respiratory-rate",
            "/dailyRespiratoryRate/breathsPerMinute",
            "respiratory_rate_daily",
            "brpm",
            1.0,
        ),
        (
            "respiratory-rate-sleep-summary",
            "/respiratoryRateSleepSummary/fullSleepStats/breathsPerMinute",
            "respiratory_rate_sleep",
            "full_brpm",
            1.0,
        ),
        (
            "daily-sleep-temperature-derivations",
            "/dailySleepTemperatureDerivations/nightlyTemperatureCelsius",
            "sleep_temperature",
            "nightly_c",
            1.0,
        ),
        (
            "daily-vo2-max",
            "/dailyVo2Max/vo2Max",
            "vo2max_daily",
            "vo2max",
            1.0,
        ),
        (
            "run-vo2-max",
            "/runVo2Max/runVo2Max",
            "run_vo2max",
            "vo2max",
            1.0,
        ),
        ("body-fat", "/bodyFat/percentage", "body_fat", "pct", 1.0),
        ("height", "/height/heightMillimeters", "height", "m", 0.001),
        (
            "daily-heart-rate-zones",
            "/dailyHeartRateZones/heartRateZones/0/minBeatsPerMinute",
            "heart_rate_zones",
            "light_min_bpm",
            1.0,
        ),
        (
            "exercise",
            "/exercise/metricsSummary/steps",
            "exercise",
            "steps",
            1.0,
        ),
        (
            "exercise",
            "/exercise/metricsSummary/distanceMillimeters",
            "exercise",
            "distance_m",
            0.001,
        ),
    ];
    for (api_type, path, m, f, scale) in list_checks {
        let truth = r.truth(api_type).await;
        assert!(!truth.is_empty(), "{api_type} has data");
        let sum: f64 = truth.iter().map(|p| num(p.pointer(path)) * scale).sum();
        let (count, stored_sum) = r.stored(m, f).await;
        assert_eq!(count as usize, truth.len(), "{m}.{f} count");
        assert!(
            close(stored_sum, sum),
            "{m}.{f}: stored {stored_sum}, simulator {sum}"
        );
    }
    let levels = r.truth("activity-level").await;
    let secs: f64 = levels
        .iter()
        .map(|p| {
            let iv = &p["activityLevel"]["interval"];
            (iv["endTime"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
                - iv["startTime"]
                    .as_str()
                    .unwrap()
                    .parse::<DateTime<Utc>>()
                    .unwrap())
            .num_seconds() as f64
        })
        .sum();
    assert_eq!(
        r.stored("activity_level", "duration_s").await,
        (levels.len() as f64, secs)
    );

    // The AZM headline figure: fat burn + 2 × (cardio + peak) minutes, per the simulator's minutes.
    let azm = r.truth("active-zone-minutes").await;
    let minutes = |zone: &str| {
        azm.iter()
            .filter(|p| p["activeZoneMinutes"]["heartRateZone"] == zone)
            .count() as f64
    };
    assert_eq!(
        r.stored("active_zone_minutes", "azm").await.1,
        minutes("FAT_BURN") + 2.0 * (minutes("CARDIO") + minutes("PEAK"))
    );

    // Sleep temperature: the first nights have no baseline, so no baseline and no deviation ("NaN" is absent).
    let temps = r.truth("daily-sleep-temperature-derivations").await;
    let with_baseline = temps
        .iter()
        .filter(|p| p["dailySleepTemperatureDerivations"]["baselineTemperatureCelsius"].is_number())
        .count();
    assert!(
        with_baseline < temps.len(),
        "some NaN baselines in the data"
    );
    assert_eq!(
        r.stored("sleep_temperature", "baseline_c").await.0 as usize,
        with_baseline
    );
    assert_eq!(
        r.stored("sleep_temperature", "deviation_c").await.0 as usize,
        with_baseline
    );

    // Daily rollups against the reconciled points, summed here (where the type can be listed).
    let rollup_checks: &[(&str, &str, &str, &str, f64)] = &[
        (
            "distance",
            "/distance/millimeters",
            "distance_daily",
            "m",
            0.001,
        ),
        (
            "active-energy-burned",
            "/activeEnergyBurned/kcal",
            "calories_daily",
            "active_kcal",
            1.0,
        ),
    ];
    for (api_type, path, m, f, scale) in rollup_checks {
        let last = r.today - Duration::days(1);
        let member = format!("{}.interval.start_time", api_type.replace('-', "_"));
        let filter = format!(
            r#"{member} >= "{}" AND {member} < "{}""#,
            ts(midnight(r.first)),
            ts(midnight(r.today))
        );
        let method = format!("{api_type}:reconcile");
        let (merged, _) = sim.list_all(&r.tok, &method, &filter, Some(10_000)).await;
        let sum: f64 = merged.iter().map(|p| num(p.pointer(path)) * scale).sum();
        let (raw, _) = sim.list_all(&r.tok, api_type, &filter, Some(10_000)).await;
        let raw_sum: f64 = raw.iter().map(|p| num(p.pointer(path)) * scale).sum();
        if *api_type == "distance" {
            // The phone walks along: raw `list` counts those minutes twice (reference §11 #4).
            assert!(
                raw_sum > sum * 1.01,
                "{m}: raw list {raw_sum} vs reconciled {sum}"
            );
        }
        let (count, stored) = r.stored(m, f).await;
        assert_eq!(
            count as i64,
            (last - r.first).num_days() + 1 - 1,
            "{m}.{f}: one value per complete worn day"
        );
        assert!(
            (stored - sum).abs() < 0.01,
            "{m}.{f}: stored {stored}, reconciled sum {sum}"
        );
    }
    for (api_type, key, m, f) in [
        ("floors", "/floors/countSum", "floors_daily", "count"),
        (
            "total-calories",
            "/totalCalories/kcalSum",
            "calories_daily",
            "total_kcal",
        ),
    ] {
        // Rollup-only types: the daemon's values equal the simulator's daily rollup.
        let windows = r.daily_rollup(api_type).await;
        let sum: f64 = windows.iter().map(|w| num(w.pointer(key))).sum();
        assert!((r.stored(m, f).await.1 - sum).abs() < 0.01, "{m}.{f}");
    }

    // BMI from the weight and the simulator's height.
    let height_m = num(r.truth("height").await[0].pointer("/height/heightMillimeters")) / 1000.0;
    for w in rows(&s, &db, "SELECT kg, bmi FROM weight LIMIT 5").await {
        assert!(close(
            w["bmi"].as_f64().unwrap(),
            w["kg"].as_f64().unwrap() / (height_m * height_m)
        ));
    }

    // Devices: both paired devices with the simulator's battery levels.
    let (_, devices, _) = sim.get(&r.tok, "users/me/pairedDevices", &[]).await;
    for d in devices["pairedDevices"].as_array().unwrap() {
        let name = d["deviceVersion"].as_str().unwrap();
        let got = rows(
            &s,
            &db,
            &format!("SELECT battery_pct, kind FROM device WHERE device = '{name}'"),
        )
        .await;
        assert_eq!(got.len(), 1, "{name}: one poll in one round");
        assert_eq!(
            got[0]["kind"],
            d["deviceType"].as_str().unwrap().to_lowercase()
        );
        assert!(
            (got[0]["battery_pct"].as_i64().unwrap() - d["batteryLevel"].as_i64().unwrap()).abs()
                <= 2,
            "{name} battery"
        );
    }

    // Requests: what the simulator counted per type equals the formula of docs/requests.md:
    // Σ over windows of max(1, ceil(points in window / min(page size, 5,000))).
    let days = (r.today - r.first).num_days() + 1;
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for e in catalog::CATALOG {
        let (key, n) = match e.fetch {
            Fetch::Snapshot { path, .. } => (path.to_string(), 1),
            Fetch::DailyRollUp => (
                format!("{}:dailyRollUp", e.api_type),
                (days + e.window_days as i64 - 1) / e.window_days as i64,
            ),
            Fetch::List { page_size, .. } => {
                let mut n = 0;
                let mut from = r.first;
                while from <= r.today {
                    let to = (from + Duration::days(e.window_days as i64 - 1)).min(r.today);
                    // Pages hold the catalog's page size, at most the observed 5,000 (§11 #1).
                    let page = (page_size as i64).min(5000);
                    let f = e
                        .filter(from, to, midnight(from), midnight(to + Duration::days(1)))
                        .unwrap();
                    let method = format!("{}:reconcile", e.api_type);
                    let points = sim.list_all(&r.tok, &method, &f, None).await.0.len() as i64;
                    n += ((points + page - 1) / page).max(1);
                    from = to + Duration::days(1);
                }
                // Streams come reconciled (reference §11 #4).
                (format!("{}:reconcile", e.api_type), n)
            }
        };
        *expected.entry(key).or_default() += n;
    }
    // The latest height for BMI: one request per run.
    *expected.entry("height".into()).or_default() += 1;
    let counted: BTreeMap<String, i64> = daemon_stats["by_type"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect();
    assert_eq!(
        counted, expected,
        "requests per type: counted by the simulator vs the formula"
    );
}
