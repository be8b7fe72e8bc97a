//! The writer against a real InfluxDB, through both transports: exact read-back, escaping, batching,
//! rejected batches, unknown targets.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use fitbit_influx::influx::{InfluxWriter, WriteError, MAX_BATCH_POINTS};
use fitbit_influx::point::Point;
use serde_json::json;

const TRICKY: &[&str] = &[
    "plain",
    "with space",
    "comma,inside",
    "equals=sign",
    "quote\"mark",
    r"back\slash",
    "ünïcödé ♥",
    r#"all , = " a\b mixed"#,
];

fn tricky_points() -> Vec<Point> {
    TRICKY
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Point::new(
                "escape test",
                Utc.timestamp_opt(1_700_000_000 + i as i64, 123_456_789)
                    .unwrap(),
            )
            .tag("tag key", *s)
            .int("index", i as i64)
            .string("text", *s)
            .string("quoted", format!("\"{s}\" and \\{s}\\"))
            .float("ratio", i as f64 + 0.125)
            .bool("even", i % 2 == 0)
        })
        .collect()
}

async fn check_round_trip(s: &Servers, writer: &InfluxWriter, db: &str) {
    within(30, writer.write(&tricky_points())).await.unwrap();
    let got = rows(s, db, r#"SELECT * FROM "escape test" ORDER BY time"#).await;
    assert_eq!(got.len(), TRICKY.len());
    for (i, (row, s)) in got.iter().zip(TRICKY).enumerate() {
        let t = (1_700_000_000 + i as i64) * 1_000_000_000 + 123_456_789;
        assert_eq!(row["time"], json!(t), "nanosecond timestamps survive");
        assert_eq!(row["tag key"], json!(s));
        assert_eq!(row["text"], json!(s));
        assert_eq!(row["quoted"], json!(format!("\"{s}\" and \\{s}\\")));
        assert_eq!(row["index"], json!(i));
        assert_eq!(row["ratio"], json!(i as f64 + 0.125));
        assert_eq!(row["even"], json!(i % 2 == 0));
    }
    // Field types as InfluxDB recorded them.
    let types = rows(s, db, r#"SHOW FIELD KEYS FROM "escape test""#).await;
    let types: Vec<(String, String)> = types
        .iter()
        .map(|r| {
            (
                r["fieldKey"].as_str().unwrap().into(),
                r["fieldType"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (k, t) in [
        ("index", "integer"),
        ("text", "string"),
        ("ratio", "float"),
        ("even", "boolean"),
    ] {
        assert!(
            types.contains(&(k.into(), t.into())),
            "{k} is {t}: {types:?}"
        );
    }
}

#[tokio::test]
async fn v1_transport_round_trips_exactly() {
    let Some(s) = servers() else { return };
    let db = fresh_database(&s, "w1").await;
    check_round_trip(&s, &InfluxWriter::new(&v1_config(&s, &db)), &db).await;
}

#[tokio::test]
async fn v2_transport_round_trips_exactly() {
    let Some(s) = servers() else { return };
    let db = fresh_database(&s, "w2").await;
    check_round_trip(&s, &InfluxWriter::new(&v2_config(&s, &db)), &db).await;
}

/// The one lossy case, documented in `point.rs`: a tag backslash that would escape a delimiter or end
/// the value is written as `/`.
#[tokio::test]
async fn tag_backslashes_before_delimiters_become_slashes() {
    let Some(s) = servers() else { return };
    let db = fresh_database(&s, "bs").await;
    let t = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let points = [Point::new("m", t)
        .tag("a", r"end\")
        .tag("b", r"x\ y")
        .tag("c", r"x\,y")
        .int("v", 1)];
    within(30, InfluxWriter::new(&v1_config(&s, &db)).write(&points))
        .await
        .unwrap();
    let r = rows(&s, &db, "SELECT * FROM m").await;
    assert_eq!(
        (&r[0]["a"], &r[0]["b"], &r[0]["c"]),
        (&json!("end/"), &json!("x/ y"), &json!("x/,y"))
    );
}

#[tokio::test]
async fn large_writes_are_batched_and_complete() {
    let Some(s) = servers() else { return };
    for v2 in [false, true] {
        let db = fresh_database(&s, "big").await;
        let config = if v2 {
            v2_config(&s, &db)
        } else {
            v1_config(&s, &db)
        };
        let n = MAX_BATCH_POINTS * 2 + 17;
        let points: Vec<Point> = (0..n)
            .map(|i| {
                Point::new(
                    "hr",
                    Utc.timestamp_opt(1_700_000_000 + i as i64, 0).unwrap(),
                )
                .tag("user", "me")
                .int("bpm", (i % 200) as i64)
            })
            .collect();
        within(30, InfluxWriter::new(&config).write(&points))
            .await
            .unwrap();
        let r = rows(&s, &db, "SELECT count(bpm), sum(bpm) FROM hr").await;
        let expected_sum: usize = (0..n).map(|i| i % 200).sum();
        assert_eq!(r[0]["count"], json!(n), "v2={v2}");
        assert_eq!(r[0]["sum"], json!(expected_sum), "v2={v2}");
    }
}

#[tokio::test]
async fn rewriting_the_same_points_creates_no_duplicates() {
    let Some(s) = servers() else { return };
    let db = fresh_database(&s, "idem").await;
    let w = InfluxWriter::new(&v2_config(&s, &db));
    let points: Vec<Point> = (0..10)
        .map(|i| {
            Point::new(
                "steps",
                Utc.timestamp_opt(1_700_000_000 + 60 * i, 0).unwrap(),
            )
            .tag("user", "me")
            .int("count", i)
        })
        .collect();
    within(30, w.write(&points)).await.unwrap();
    within(30, w.write(&points)).await.unwrap();
    let r = rows(&s, &db, "SELECT count(count) FROM steps").await;
    assert_eq!(r[0]["count"], json!(10));
}

#[tokio::test]
async fn a_field_type_conflict_is_reported_with_the_server_message_and_line() {
    let Some(s) = servers() else { return };
    for v2 in [false, true] {
        let db = fresh_database(&s, "conflict").await;
        let config = if v2 {
            v2_config(&s, &db)
        } else {
            v1_config(&s, &db)
        };
        let w = InfluxWriter::new(&config);
        let t = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        within(30, w.write(&[Point::new("weight", t).float("kg", 70.5)]))
            .await
            .unwrap();
        let batch = [
            Point::new("steps", t).int("count", 5),
            Point::new("weight", t + chrono::Duration::days(1)).int("kg", 71),
        ];
        let err = within(30, w.write(&batch)).await.unwrap_err();
        match &err {
            WriteError::Rejected {
                status,
                message,
                first_line,
            } => {
                // 1.x answers 400; InfluxDB 2 (and the suite's stand-in of it) 422.
                assert_eq!(*status, if v2 { 422 } else { 400 });
                assert!(
                    message.contains("field type conflict"),
                    "server message kept: {message}"
                );
                assert_eq!(first_line, "weight kg=71i 1700086400000000000");
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        // The stored field keeps its type.
        let r = rows(&s, &db, "SHOW FIELD KEYS FROM weight").await;
        assert_eq!(r[0]["fieldType"], json!("float"));
    }
}

#[tokio::test]
async fn an_unknown_database_or_bucket_is_a_target_error() {
    let Some(s) = servers() else { return };
    for config in [
        v1_config(&s, "no_such_db_x"),
        v2_config(&s, "no_such_bucket_x"),
    ] {
        let writer = InfluxWriter::new(&config);
        let err = within(30, writer.write(&[Point::new("m", Utc::now()).int("v", 1)]))
            .await
            .unwrap_err();
        match err {
            WriteError::Target {
                status: 404,
                message,
                hint,
            } => {
                // 1.x's words, and InfluxDB 2's (the suite's 2.x stand-in answers as it does).
                assert!(
                    message.contains("database not found")
                        || message.contains("bucket \"no_such_bucket_x\" not found"),
                    "{message}"
                );
                assert!(hint.contains("does not exist"), "{hint}");
            }
            other => panic!("expected a 404 target error, got {other:?}"),
        }
    }
}
