//! What the pipeline panels must show after one complete run: every round ended well, every type holds
//! every day of the history, and the requests they report are the ones the simulator counted.

use fitbit_influx::catalog::{self, Fetch};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) struct Want {
    /// Days from the first day of the person's history to their today.
    pub days: i64,
}

/// The rows of a table answer as column name → value maps, with the series' tags.
fn rows(series: &[Value]) -> Vec<BTreeMap<String, Value>> {
    let mut out = Vec::new();
    for s in series {
        let names = s["columns"].as_array().unwrap();
        for row in s["values"].as_array().into_iter().flatten() {
            let mut m: BTreeMap<String, Value> = names
                .iter()
                .zip(row.as_array().unwrap())
                .map(|(n, v)| (n.as_str().unwrap().to_string(), v.clone()))
                .collect();
            for (k, v) in s["tags"].as_object().into_iter().flatten() {
                m.insert(k.clone(), v.clone());
            }
            out.push(m);
        }
    }
    out
}

pub(crate) fn check(
    what: &str,
    title: &str,
    want: &Want,
    answers: &[&[Value]],
    requests: &mut BTreeMap<String, u64>,
) {
    let rows = rows(answers[0]);
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
