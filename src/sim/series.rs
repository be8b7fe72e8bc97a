//! How each simulated data type's records are generated from a person's day and rendered as the API's
//! JSON (reference §5). The table that ties them to type names is [`super::types`].

use super::json::{self, data_source};
use super::types::Record;
use super::world::Person;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

pub(super) fn sample_record(p: &Person, t: DateTime<Utc>, value: f64) -> Record {
    let civil = json::local(t, p.offset_seconds(t));
    Record {
        start: t,
        end: t,
        civil_start: civil,
        civil_end: civil,
        value,
        ..Default::default()
    }
}

pub(super) fn interval_record(
    p: &Person,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    value: f64,
) -> Record {
    Record {
        start,
        end,
        civil_start: json::local(start, p.offset_seconds(start)),
        civil_end: json::local(end, p.offset_seconds(end)),
        value,
        ..Default::default()
    }
}

pub fn heart_rate(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.heart_rate(day)
        .into_iter()
        .map(|(t, bpm)| sample_record(p, t, bpm as f64))
        .collect()
}

pub fn render_heart_rate(p: &Person, r: &Record) -> Value {
    json!({
        "dataSource": data_source("PASSIVELY_MEASURED"),
        "heartRate": {"beatsPerMinute": json::int64(r.value as i64), "sampleTime": json::sample_time(r.start, p.offset_seconds(r.start))},
    })
}

/// [`render_heart_rate`] as text (same fields; `dataSource` only for list, not reconcile).
pub fn render_heart_rate_text(p: &Person, r: &Record, with_source: bool, out: &mut String) {
    use std::fmt::Write;
    let t = r.start;
    let off = p.offset_seconds(t);
    out.push('{');
    if with_source {
        out.push_str(r#""dataSource":{"device":{},"platform":"FITBIT","recordingMethod":"PASSIVELY_MEASURED"},"#);
    }
    let _ = write!(
        out,
        r#""heartRate":{{"beatsPerMinute":"{}","sampleTime":{{"physicalTime":""#,
        r.value as i64
    );
    json::write_timestamp(out, t);
    let _ = write!(out, r#"","utcOffset":"{off}s","civilTime":"#);
    json::write_civil(out, json::local(t, off));
    out.push_str("}}}");
}

pub fn steps(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.steps(day)
        .into_iter()
        .map(|(t, count)| interval_record(p, t, t + Duration::minutes(1), count as f64))
        .collect()
}

pub fn render_steps(p: &Person, r: &Record) -> Value {
    json!({
        "dataSource": data_source("PASSIVELY_MEASURED"),
        "steps": {"count": json::int64(r.value as i64), "interval": json::interval(r.start, p.offset_seconds(r.start), r.end, p.offset_seconds(r.end))},
    })
}

pub fn resting_heart_rate(p: &Person, day: NaiveDate) -> Vec<Record> {
    let Some(bpm) = p.resting_heart_rate(day) else {
        return Vec::new();
    };
    let start = p.day_start(day);
    let mut r = interval_record(p, start, start, bpm as f64);
    r.date = Some(day);
    vec![r]
}

pub fn render_resting_heart_rate(_: &Person, r: &Record) -> Value {
    json!({
        "dailyRestingHeartRate": {
            "beatsPerMinute": json::int64(r.value as i64),
            "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"},
            "date": json::date(r.date.expect("daily records have a date")),
        },
        "dataSource": data_source("DERIVED"),
    })
}

pub fn sleep(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.sleep_ending_on(day)
        .into_iter()
        .map(|s| {
            let mut r = interval_record(p, s.start, s.end, 0.0);
            r.sleep = Some(Box::new(s));
            r
        })
        .collect()
}

pub fn render_sleep(p: &Person, r: &Record) -> Value {
    let s = r
        .sleep
        .as_deref()
        .expect("sleep records carry their session");
    let off = |t| p.offset_seconds(t);
    let mut minutes = std::collections::BTreeMap::<&str, (i64, i64)>::new();
    let stages: Vec<Value> = s
        .stages
        .iter()
        .map(|(kind, a, b)| {
            let e = minutes.entry(kind).or_default();
            e.0 += (*b - *a).num_seconds();
            e.1 += 1;
            let mut st = json::session_interval(*a, off(*a), *b, off(*b));
            st["type"] = json!(kind);
            st
        })
        .collect();
    let stage_minutes = |k: &str| minutes.get(k).map_or(0, |(secs, _)| (secs + 30) / 60);
    let asleep = if s.nap {
        stage_minutes("ASLEEP") + stage_minutes("RESTLESS")
    } else {
        stage_minutes("LIGHT") + stage_minutes("DEEP") + stage_minutes("REM")
    };
    let summary_kinds: &[&str] = if s.nap {
        &["ASLEEP", "RESTLESS", "AWAKE"]
    } else {
        &["AWAKE", "LIGHT", "DEEP", "REM"]
    };
    let stages_summary: Vec<Value> = summary_kinds
        .iter()
        .map(|k| json!({"type": k, "minutes": json::int64(stage_minutes(k)), "count": json::int64(minutes.get(k).map_or(0, |(_, n)| *n))}))
        .collect();
    let to_fall_asleep = match s.stages.first() {
        Some(("AWAKE", a, b)) => ((*b - *a).num_seconds() + 30) / 60,
        _ => 0,
    };
    let mut v = json!({
        "name": format!("users/{}/dataTypes/sleep/dataPoints/{}", p.health_user_id(), s.id),
        "dataSource": data_source("DERIVED"),
        "sleep": {
            "interval": json::session_interval(s.start, off(s.start), s.end, off(s.end)),
            "type": if s.nap { "CLASSIC" } else { "STAGES" },
            "stages": stages,
            "metadata": {"mainSleep": !s.nap, "nap": s.nap, "processed": true, "stagesStatus": "SUCCEEDED"},
            "summary": {
                "minutesAfterWakeUp": "0",
                "minutesAsleep": json::int64(asleep),
                "minutesAwake": json::int64(stage_minutes("AWAKE")),
                "minutesInSleepPeriod": json::int64(((s.end - s.start).num_seconds() + 30) / 60),
                "minutesToFallAsleep": json::int64(to_fall_asleep),
                "stagesSummary": stages_summary,
            },
            "createTime": json::timestamp(s.start + Duration::minutes(20)),
            "updateTime": json::timestamp(s.end + Duration::minutes(7)),
        },
    });
    if s.in_progress {
        // An in-progress sleep has no summary yet (reference §11 #10).
        let sleep = v["sleep"].as_object_mut().expect("an object");
        sleep.remove("summary");
        sleep.insert(
            "metadata".into(),
            json!({"mainSleep": !s.nap, "nap": s.nap, "processed": false}),
        );
    }
    v
}

pub fn weight(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.weight(day)
        .map(|(t, grams)| sample_record(p, t, grams))
        .into_iter()
        .collect()
}

pub fn render_weight(p: &Person, r: &Record) -> Value {
    json!({
        "name": format!("users/{}/dataTypes/weight/dataPoints/{}", p.health_user_id(), r.start.timestamp()),
        "dataSource": {"device": {"displayName": "Aria Air"}, "platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED"},
        "weight": {"sampleTime": json::sample_time(r.start, p.offset_seconds(r.start)), "weightGrams": json::double(r.value)},
    })
}

/// A daily type's value of a day: the main number and up to three more.
type DailyValue = fn(&Person, NaiveDate) -> Option<(f64, [f64; 3])>;

fn daily(p: &Person, day: NaiveDate, f: DailyValue) -> Vec<Record> {
    let Some((value, more)) = f(p, day) else {
        return Vec::new();
    };
    let start = p.day_start(day);
    // A daily value is there from the morning on.
    let mut r = interval_record(p, start, start + Duration::hours(10), value);
    r.date = Some(day);
    r.more = more;
    vec![r]
}

fn date_of(r: &Record) -> NaiveDate {
    r.date.expect("daily records have a date")
}

/// Per-minute interval records of a worn day, for minutes `f` gives a value (and maybe a category).
fn per_minute(
    p: &Person,
    day: NaiveDate,
    f: impl Fn(&Person, &crate::sim::world::Minute) -> Option<(f64, Option<&'static str>)>,
) -> Vec<Record> {
    p.minutes(day)
        .iter()
        .filter_map(|m| {
            let (value, category) = f(p, m)?;
            let mut r = interval_record(p, m.t, m.t + Duration::minutes(1), value);
            r.category = category;
            Some(r)
        })
        .collect()
}

fn interval_json(p: &Person, r: &Record) -> Value {
    json::interval(
        r.start,
        p.offset_seconds(r.start),
        r.end,
        p.offset_seconds(r.end),
    )
}

fn sample_json(p: &Person, r: &Record) -> Value {
    json::sample_time(r.start, p.offset_seconds(r.start))
}

/// Rollup-only types are never listed, so never rendered.
pub fn render_unlisted(_: &Person, _: &Record) -> Value {
    unreachable!("rollup-only types are not listed")
}

pub fn distance(p: &Person, day: NaiveDate) -> Vec<Record> {
    per_minute(p, day, |p, m| {
        (m.steps > 0).then(|| (p.distance_mm(m) as f64, None))
    })
}

pub fn render_distance(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("PASSIVELY_MEASURED"),
           "distance": {"interval": interval_json(p, r), "millimeters": json::int64(r.value as i64)}})
}

pub fn floors(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.floors(day)
        .into_iter()
        .map(|(t, n)| interval_record(p, t, t + Duration::minutes(1), n as f64))
        .collect()
}

pub fn altitude(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.floors(day)
        .into_iter()
        .map(|(t, n)| interval_record(p, t, t + Duration::minutes(1), n as f64 * 3_000.0))
        .collect()
}

pub fn render_altitude(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("PASSIVELY_MEASURED"),
           "altitude": {"interval": interval_json(p, r), "gainMillimeters": json::int64(r.value as i64)}})
}

pub fn total_calories(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.calories(day)
        .into_iter()
        .map(|(t, total, _)| interval_record(p, t, t + Duration::minutes(1), total))
        .collect()
}

pub fn active_energy(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.calories(day)
        .into_iter()
        .filter(|(_, _, active)| *active > 0.0)
        .map(|(t, _, active)| interval_record(p, t, t + Duration::minutes(1), active))
        .collect()
}

pub fn render_active_energy(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"),
           "activeEnergyBurned": {"interval": interval_json(p, r), "kcal": json::double(r.value)}})
}

pub fn active_zone_minutes(p: &Person, day: NaiveDate) -> Vec<Record> {
    per_minute(p, day, |_, m| {
        Person::azm_zone(m).map(|(zone, v)| (v as f64, Some(zone)))
    })
}

pub fn render_active_zone_minutes(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("PASSIVELY_MEASURED"),
           "activeZoneMinutes": {"interval": interval_json(p, r), "heartRateZone": r.category,
                                 "activeZoneMinutes": json::int64(r.value as i64)}})
}

pub fn active_minutes(p: &Person, day: NaiveDate) -> Vec<Record> {
    per_minute(p, day, |_, m| {
        Person::active_level(m).map(|level| (1.0, Some(level)))
    })
}

pub fn render_active_minutes(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"),
           "activeMinutes": {"interval": interval_json(p, r),
                             "activeMinutesByActivityLevel": [{"activityLevel": r.category, "activeMinutes": json::int64(r.value as i64)}]}})
}

pub fn activity_level(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.activity_levels(day)
        .into_iter()
        .map(|(a, b, level)| {
            let mut r = interval_record(p, a, b, (b - a).num_seconds() as f64);
            r.category = Some(level);
            r
        })
        .collect()
}

pub fn render_activity_level(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"),
           "activityLevel": {"interval": interval_json(p, r), "activityLevelType": r.category}})
}

pub fn time_in_zone(p: &Person, day: NaiveDate) -> Vec<Record> {
    per_minute(p, day, |_, m| {
        Person::heart_zone(m).map(|zone| (60.0, Some(zone)))
    })
}

pub fn render_time_in_zone(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"),
           "timeInHeartRateZone": {"interval": interval_json(p, r), "heartRateZoneType": r.category}})
}

pub fn heart_rate_zones_day(p: &Person, day: NaiveDate) -> Option<(f64, [f64; 3])> {
    p.heart_rate_zones(day).map(|z| (z[0].1 as f64, [0.0; 3]))
}

pub fn daily_heart_rate_zones(p: &Person, day: NaiveDate) -> Vec<Record> {
    daily(p, day, heart_rate_zones_day)
}

pub fn render_heart_rate_zones(p: &Person, r: &Record) -> Value {
    let zones = p
        .heart_rate_zones(date_of(r))
        .expect("zones exist for a generated day");
    let zones: Vec<Value> = zones
        .iter()
        .map(|(z, lo, hi)| json!({"heartRateZoneType": z, "minBeatsPerMinute": json::int64(*lo), "maxBeatsPerMinute": json::int64(*hi)}))
        .collect();
    json!({"dataSource": data_source("DERIVED"), "dailyHeartRateZones": {"date": json::date(date_of(r)), "heartRateZones": zones}})
}

pub fn hrv(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.hrv_samples(day)
        .into_iter()
        .map(|(t, rmssd, sdnn)| {
            let mut r = sample_record(p, t, rmssd);
            r.more[0] = sdnn;
            r
        })
        .collect()
}

pub fn render_hrv(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("PASSIVELY_MEASURED"),
           "heartRateVariability": {"sampleTime": sample_json(p, r),
               "rootMeanSquareOfSuccessiveDifferencesMilliseconds": json::double(r.value),
               // Pixel Watches send 0 here, always (reference §11 #14).
               "standardDeviationMilliseconds": 0.0}})
}

pub fn hrv_day(p: &Person, day: NaiveDate) -> Option<(f64, [f64; 3])> {
    p.daily_hrv(day)
        .map(|(avg, non_rem, entropy, deep)| (avg, [non_rem as f64, entropy, deep]))
}

pub fn daily_hrv(p: &Person, day: NaiveDate) -> Vec<Record> {
    daily(p, day, hrv_day)
}

pub fn render_daily_hrv(_: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"),
           "dailyHeartRateVariability": {"date": json::date(date_of(r)),
               "averageHeartRateVariabilityMilliseconds": json::double(r.value),
               "nonRemHeartRateBeatsPerMinute": json::int64(r.more[0] as i64),
               "entropy": json::double(r.more[1]),
               "deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds": json::double(r.more[2])}})
}

pub fn spo2(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.spo2_samples(day)
        .into_iter()
        .map(|(t, pct)| sample_record(p, t, pct))
        .collect()
}

pub fn render_spo2(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("PASSIVELY_MEASURED"),
           "oxygenSaturation": {"sampleTime": sample_json(p, r), "percentage": json::double(r.value)}})
}

pub fn spo2_day(p: &Person, day: NaiveDate) -> Option<(f64, [f64; 3])> {
    p.daily_spo2(day)
        .map(|(avg, lo, hi, sd)| (avg, [lo, hi, sd]))
}

pub fn daily_spo2(p: &Person, day: NaiveDate) -> Vec<Record> {
    daily(p, day, spo2_day)
}

pub fn render_daily_spo2(_: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("PASSIVELY_MEASURED"),
           "dailyOxygenSaturation": {"date": json::date(date_of(r)), "averagePercentage": json::double(r.value),
               "lowerBoundPercentage": json::double(r.more[0]), "upperBoundPercentage": json::double(r.more[1]),
               "standardDeviationPercentage": json::double(r.more[2])}})
}

pub fn respiratory_day(p: &Person, day: NaiveDate) -> Option<(f64, [f64; 3])> {
    p.respiratory(day)
        .map(|(_, full, _, _, _)| (full, [0.0; 3]))
}

pub fn daily_respiratory(p: &Person, day: NaiveDate) -> Vec<Record> {
    daily(p, day, respiratory_day)
}

pub fn render_daily_respiratory(_: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"),
           "dailyRespiratoryRate": {"date": json::date(date_of(r)), "breathsPerMinute": json::double(r.value)}})
}

pub fn respiratory_summary(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.respiratory(day)
        .map(|(t, full, deep, light, rem)| {
            let mut r = sample_record(p, t, full);
            r.more = [deep, light, rem];
            r
        })
        .into_iter()
        .collect()
}

pub fn render_respiratory_summary(p: &Person, r: &Record) -> Value {
    let stats = |brpm: f64| json!({"breathsPerMinute": json::double(brpm), "standardDeviation": 0.8, "signalToNoise": 12.5});
    json!({"dataSource": data_source("DERIVED"),
           "respiratoryRateSleepSummary": {"sampleTime": sample_json(p, r), "fullSleepStats": stats(r.value),
               "deepSleepStats": stats(r.more[0]), "lightSleepStats": stats(r.more[1]), "remSleepStats": stats(r.more[2])}})
}

pub fn temperature_day(p: &Person, day: NaiveDate) -> Option<(f64, [f64; 3])> {
    p.temperature(day)
        .map(|(nightly, baseline, stddev)| (nightly, [baseline, stddev, 0.0]))
}

pub fn daily_temperature(p: &Person, day: NaiveDate) -> Vec<Record> {
    daily(p, day, temperature_day)
}

pub fn render_temperature(_: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"),
           "dailySleepTemperatureDerivations": {"date": json::date(date_of(r)),
               "nightlyTemperatureCelsius": json::double(r.value),
               "baselineTemperatureCelsius": json::double(r.more[0]),
               "relativeNightlyStddev30dCelsius": json::double(r.more[1])}})
}

pub fn vo2_day(p: &Person, day: NaiveDate) -> Option<(f64, [f64; 3])> {
    p.vo2max(day).map(|(v, _)| (v, [0.0; 3]))
}

pub fn daily_vo2(p: &Person, day: NaiveDate) -> Vec<Record> {
    daily(p, day, vo2_day)
}

pub fn render_daily_vo2(p: &Person, r: &Record) -> Value {
    let level = p.vo2max(date_of(r)).map_or("AVERAGE", |(_, l)| l);
    json!({"dataSource": data_source("DERIVED"),
           "dailyVo2Max": {"date": json::date(date_of(r)), "vo2Max": json::double(r.value), "estimated": true,
               "cardioFitnessLevel": level, "vo2MaxCovariance": 0.5}})
}

pub fn run_vo2(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.exercise(day)
        .map(|e| sample_record(p, e.end, e.vo2max))
        .into_iter()
        .collect()
}

pub fn render_run_vo2(p: &Person, r: &Record) -> Value {
    json!({"dataSource": data_source("DERIVED"), "runVo2Max": {"sampleTime": sample_json(p, r), "runVo2Max": json::double(r.value)}})
}

pub fn body_fat(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.body_fat(day)
        .map(|(t, pct)| sample_record(p, t, pct))
        .into_iter()
        .collect()
}

pub fn render_body_fat(p: &Person, r: &Record) -> Value {
    json!({"name": format!("users/{}/dataTypes/body-fat/dataPoints/{}", p.health_user_id(), r.start.timestamp()),
           "dataSource": {"device": {"displayName": "Aria Air"}, "platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED"},
           "bodyFat": {"sampleTime": sample_json(p, r), "percentage": json::double(r.value)}})
}

pub fn height(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.height(day)
        .map(|(t, mm)| sample_record(p, t, mm as f64))
        .into_iter()
        .collect()
}

pub fn render_height(p: &Person, r: &Record) -> Value {
    json!({"name": format!("users/{}/dataTypes/height/dataPoints/{}", p.health_user_id(), r.start.timestamp()),
           "dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "MANUAL"},
           "height": {"sampleTime": sample_json(p, r), "heightMillimeters": json::int64(r.value as i64)}})
}

/// Exercises are sessions listed by the day they start on.
pub fn exercise(p: &Person, day: NaiveDate) -> Vec<Record> {
    p.exercise(day)
        .map(|e| {
            let mut r = interval_record(p, e.start, e.end, e.steps as f64);
            r.exercise = Some(Box::new(e));
            r
        })
        .into_iter()
        .collect()
}

pub fn render_exercise(p: &Person, r: &Record) -> Value {
    let e = r
        .exercise
        .as_deref()
        .expect("exercise records carry their summary");
    let active = (e.end - e.start).num_seconds();
    json!({
        "name": format!("users/{}/dataTypes/exercise/dataPoints/{}", p.health_user_id(), e.id),
        "dataSource": {"platform": "FITBIT", "recordingMethod": "ACTIVELY_MEASURED", "device": {"displayName": "Pixel Watch 3"}},
        "exercise": {
            "interval": interval_json(p, r),
            "exerciseType": "RUNNING", "displayName": "Run", "activeDuration": json::duration(active), "notes": "",
            "metricsSummary": {
                "caloriesKcal": json::double(e.kcal), "distanceMillimeters": json::double(e.distance_mm), "steps": json::int64(e.steps),
                "averageSpeedMillimetersPerSecond": json::double((e.distance_mm / active as f64 * 10.0).round() / 10.0),
                "averageHeartRateBeatsPerMinute": json::int64(e.avg_bpm), "elevationGainMillimeters": json::double(e.elevation_mm),
                "activeZoneMinutes": json::int64(e.azm), "runVo2Max": json::double(e.vo2max),
            },
            "exerciseMetadata": {"hasGps": true},
            "exerciseEvents": [{"eventTime": json::timestamp(e.start), "eventUtcOffset": json::duration(p.offset_seconds(e.start) as i64), "exerciseEventType": "START"}],
            "createTime": json::timestamp(e.end + Duration::minutes(1)), "updateTime": json::timestamp(e.end + Duration::minutes(1)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heart_rate_text_equals_the_value_rendering() {
        let last: NaiveDate = "2026-10-26".parse().unwrap();
        let p = Person {
            seed: 3,
            index: 0,
            tz: chrono_tz::Europe::Berlin,
            first_day: last - Duration::days(20),
            last_day: last,
            unworn_day: last - Duration::days(15),
            heart_rate_every: 7,
            fever_from: None,
        };
        // The DST day, so both offsets appear.
        for r in heart_rate(&p, "2026-10-25".parse().unwrap()) {
            let value = render_heart_rate(&p, &r);
            for with_source in [true, false] {
                let mut text = String::new();
                render_heart_rate_text(&p, &r, with_source, &mut text);
                let mut expected = value.clone();
                if !with_source {
                    expected.as_object_mut().unwrap().remove("dataSource");
                }
                assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
            }
        }
    }
}
