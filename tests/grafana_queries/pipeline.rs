//! What the pipeline panels must show after one complete run: every round ended well, every type holds
//! every day of the history, and the requests they report are the ones the simulator counted.

use fitbit_influx::catalog::{self, Fetch};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) struct Want {
    /// Days from the first day of the person's history to their today.
    pub days: i64,
}

pub(crate) fn check(
    what: &str,
    title: &str,
    want: &Want,
    answers: &[&[Value]],
    requests: &mut BTreeMap<String, u64>,
) {
    let rows = crate::common::rows_of(answers[0]);
    assert!(!rows.is_empty(), "{what}: nothing to show");
    match title {
        "Last round" => assert_eq!(rows.last().unwrap()["state"], "ok", "{what}"),
        "Requests per hour" => {
            let n: u64 = rows.iter().map(|r| r["requests"].as_u64().unwrap()).sum();
            *requests.entry(title.into()).or_default() += n;
            assert!(rows.iter().all(|r| r["429s"] == 0), "{what}: {rows:?}");
        }
        "Rounds" => {
            // One run, one round (the backfill and the refresh round are one pass with --once).
            assert_eq!(rows.len(), 1, "{what}: {rows:?}");
            let r = &rows[0];
            assert_eq!(r["state"], "ok", "{what}");
            for zero in ["429s", "skipped", "failed windows"] {
                assert_eq!(r[zero], 0, "{what}: {zero}");
            }
            assert!(r["points"].as_u64().unwrap() > 0, "{what}");
            assert!(r["quota wait"].as_f64().unwrap() >= 0.0, "{what}");
            *requests.entry(title.into()).or_default() += r["requests"].as_u64().unwrap();
        }
        "Data types" => {
            let types: BTreeSet<&str> = catalog::CATALOG
                .iter()
                .filter(|t| !matches!(t.fetch, Fetch::Snapshot { .. }))
                .map(|t| t.name)
                .collect();
            let shown: BTreeSet<&str> = rows
                .iter()
                .map(|r| r["data_type"].as_str().unwrap())
                .collect();
            assert_eq!(shown, types, "{what}");
            for r in &rows {
                let t = r["data_type"].as_str().unwrap();
                assert_eq!(r["days in history"], want.days, "{what}: {t}");
                assert_eq!(r["days done"], want.days, "{what}: {t}");
                assert_eq!(r["failed"], 0, "{what}: {t}");
                assert!(r["open"].as_i64().unwrap() <= want.days, "{what}: {t}");
                // The newest final day ends before now; how far depends on how late the type's data
                // can change, but never more than a week here.
                let lag = r["lag"].as_f64().unwrap();
                assert!(lag > 0.0 && lag < 7.0 * 86_400.0, "{what}: {t} lag {lag}");
            }
        }
        other => panic!("pipeline.json: panel {other:?} has no truth in this test: add one"),
    }
}
