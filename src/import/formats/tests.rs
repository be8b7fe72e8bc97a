//! The file kinds' readers on the reference's fixture snippets.
use super::*;
use crate::catalog::read::local_midnight;
use crate::point::FieldValue;

#[test]
fn names_pick_exact_stems() {
    assert_eq!(
        classify("heart_rate-2023-06-15.json"),
        Some(Kind::HeartRateJson)
    );
    assert_eq!(
        classify("heart_rate_2024-10-27.csv"),
        Some(Kind::HeartRateCsv)
    );
    assert_eq!(
        classify("heart_rate_variability_2024-10-27.csv"),
        Some(Kind::HrvCsv)
    );
    assert_eq!(
        classify("daily_resting_heart_rate.csv"),
        Some(Kind::DailyRestingHeartRateCsv)
    );
    assert_eq!(
        classify("daily_oxygen_saturation_2026-01-01.csv"),
        Some(Kind::DailyOxygenSaturationCsv)
    );
    assert_eq!(classify("daily_heart_rate_zones.csv"), None);
    assert_eq!(
        classify("resting_heart_rate-2023-05-16.json"),
        Some(Kind::RestingHeartRateJson)
    );
    assert_eq!(classify("sleep-2023-06-01.json"), Some(Kind::SleepJson));
    assert_eq!(classify("sleep_score.csv"), Some(Kind::SleepScoreCsv));
    assert_eq!(classify("Sleep Profile.csv"), None);
    assert_eq!(classify("exercise-100.json"), Some(Kind::ExerciseJson));
    assert_eq!(classify("exercise-.json"), None);
    assert_eq!(
        classify("Daily Heart Rate Variability Summary - 2024-07-(21).csv"),
        Some(Kind::HrvSummaryCsv)
    );
    assert_eq!(
        classify("Minute SpO2 - 2023-06-15.csv"),
        Some(Kind::MinuteSpo2Csv)
    );
    assert_eq!(
        classify("Daily SpO2 - 2023-10-09-2023-11-07.csv"),
        Some(Kind::DailySpo2Csv)
    );
    assert_eq!(classify("weight.csv"), Some(Kind::WeightCsv));
    assert_eq!(classify("weight-2023-06-01.json"), Some(Kind::WeightJson));
    for spec in KINDS {
        assert_eq!(spec.kind.spec().name, spec.name, "one description per kind");
    }
}

fn cx() -> Context<'static> {
    Context {
        user: "me",
        tz: chrono_tz::Australia::Melbourne,
    }
}

#[test]
fn a_bad_sample_is_skipped_by_number_and_the_rest_lands() {
    let text = r#"[{
  "dateTime" : "06/14/23 14:00:03",
  "value" : {
"bpm" : 61,
"confidence" : 2
  }
},{
  "dateTime" : "06/14/23 14:00:08",
  "value" : {
"bpm" : "sixty",
"confidence" : 3
  }
},{
  "dateTime" : "06/15/23 13:59:55",
  "value" : {
"bpm" : 64,
"confidence" : 1
  }
}]"#;
    let p = parse(Kind::HeartRateJson, text.as_bytes(), &cx()).unwrap();
    assert_eq!((p.records, p.points.len(), p.unreadable), (3, 2, 1));
    assert_eq!(p.skipped[0].0, "record 2");
    assert_eq!(
        DateTime::from_timestamp_nanos(p.points[1].time_ns).to_rfc3339(),
        "2023-06-15T13:59:55+00:00",
        "UTC clocks"
    );
    let steps = r#"[{"dateTime" : "05/31/23 14:00:00", "value" : "0"},{"dateTime" : "05/31/23 14:01:00", "value" : "23"},{"dateTime" : "01/01/70 00:00:00", "value" : "5"}]"#;
    let p = parse(Kind::StepsJson, steps.as_bytes(), &cx()).unwrap();
    assert_eq!(
        p.points.len(),
        1,
        "a minute without steps is not a point, nor an epoch placeholder"
    );
    assert_eq!(p.unreadable, 0);
    assert!(p.skipped[0].1.contains("placeholder"), "{:?}", p.skipped);
    assert_eq!(p.points[0].fields, vec![("count", FieldValue::Int(23))]);
}

#[test]
fn weight_in_pounds_or_kilograms_by_its_bmi_and_local_clock() {
    let text = r#"[{
  "logId" : 1561626912000,
  "weight" : 191.4,
  "bmi" : 27.71,
  "fat" : 23.148000717163086,
  "date" : "06/27/19",
  "time" : "09:15:12",
  "source" : "Aria"
},{
  "logId" : 1562111999000,
  "weight" : 86.8,
  "bmi" : 27.71,
  "date" : "07/02/19",
  "time" : "23:59:59"
}]"#;
    let p = parse(Kind::WeightJson, text.as_bytes(), &cx()).unwrap();
    assert_eq!(p.points.len(), 3, "two weights and one body fat");
    let kg = |i: usize| match p.points[i].fields[0].1 {
        FieldValue::Float(x) => x,
        ref other => panic!("{other:?}"),
    };
    assert!((kg(0) - 86.818).abs() < 0.001, "191.4 lb: {}", kg(0));
    assert_eq!(p.points[1].measurement, "body_fat");
    assert!((kg(2) - 86.8).abs() < 1e-9, "already kilograms: {}", kg(2));
    // 09:15:12 in Melbourne in June (AEST, UTC+10).
    assert_eq!(
        DateTime::from_timestamp_nanos(p.points[0].time_ns).to_rfc3339(),
        "2019-06-26T23:15:12+00:00"
    );
}

#[test]
fn tables_skip_the_spo2_floor_and_scoreless_days_by_name() {
    let spo2 = "timestamp,value\n2024-02-22T07:00:00Z,95.3\n2024-02-22T07:01:00Z,50.0\n2024-02-22T07:02:00Z,NaN\n";
    let p = parse(Kind::MinuteSpo2Csv, spo2.as_bytes(), &cx()).unwrap();
    assert_eq!((p.records, p.points.len()), (3, 1));
    assert_eq!(p.skipped[0].0, "line 3");
    assert!(p.skipped[0].1.contains("floor"), "{:?}", p.skipped);
    assert_eq!(p.skipped[1].1, "no values");
    assert_eq!(
        p.unreadable, 0,
        "a floor and a NaN are no readings, not broken rows"
    );
    let garbled = "timestamp,value\n2024-02-22T07:00:00Z,9x.3\n";
    let p = parse(Kind::MinuteSpo2Csv, garbled.as_bytes(), &cx()).unwrap();
    assert_eq!((p.points.len(), p.unreadable), (0, 1));
    assert_eq!(p.skipped[0].1, "value is not a number");
    let stress = "DATE,UPDATED_AT,STRESS_SCORE,SLEEP_POINTS,MAX_SLEEP_POINTS,RESPONSIVENESS_POINTS,MAX_RESPONSIVENESS_POINTS,EXERTION_POINTS,MAX_EXERTION_POINTS,STATUS,CALCULATION_FAILED\n2024-01-12T00:00:00,2024-01-12T17:07:49.634,79,24,30,22,30,33,40,READY,false\n2024-01-11T00:00:00,2024-01-11T07:23:52.009,0,0,0,0,0,0,0,NO_DATA,true\n";
    let p = parse(Kind::StressScoreCsv, stress.as_bytes(), &cx()).unwrap();
    assert_eq!(p.points.len(), 1);
    assert_eq!(
        p.points[0].time_ns,
        local_midnight("2024-01-12".parse().unwrap(), cx().tz)
            .timestamp_nanos_opt()
            .unwrap()
    );
    assert!(p.points[0].fields.contains(&("score", FieldValue::Int(79))));
    assert!(p.points[0]
        .fields
        .contains(&("status", FieldValue::Str("ready".into()))));
    assert!(p.skipped[0].1.contains("NO_DATA"), "{:?}", p.skipped);
    assert!(
        parse(Kind::HrvDetailsCsv, b"time,other\n1,2\n", &cx()).is_err(),
        "a header without the kind's columns is an error"
    );
}

#[test]
fn resting_heart_rate_placeholders_and_local_dates() {
    let text = r#"[{
  "dateTime" : "05/16/17 00:00:00",
  "value" : {
"date" : "05/16/17",
"value" : 61.92847123718262,
"error" : 7.104521751403809
  }
},{
  "dateTime" : "05/17/17 00:00:00",
  "value" : {
"date" : null,
"value" : 0.0,
"error" : 0.0
  }
}]"#;
    let cx = Context {
        user: "me",
        tz: chrono_tz::Australia::Melbourne,
    };
    let p = parse(Kind::RestingHeartRateJson, text.as_bytes(), &cx).unwrap();
    assert_eq!((p.records, p.points.len(), p.skipped.len()), (2, 1, 0));
    assert_eq!(
        p.points[0].time_ns,
        local_midnight("2017-05-16".parse().unwrap(), cx.tz)
            .timestamp_nanos_opt()
            .unwrap()
    );
    assert_eq!(
        p.points[0].fields,
        vec![("bpm", crate::point::FieldValue::Int(62))]
    );
    assert!(
        parse(Kind::SleepJson, b"{oops", &cx).is_err(),
        "a broken file is an error, not an empty one"
    );
}
