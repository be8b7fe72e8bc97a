//! The catalog against its declarations and against docs/schema.md:
//! - every point any converter produces from the simulator's data uses a declared measurement, declared
//!   tags and declared fields with the declared type, so no field can be written with two types;
//! - docs/schema.md lists exactly the catalog's measurements, tags and fields with the same types and units.

use chrono::{Duration, NaiveDate};
use fitbit_influx::catalog::{self, Context, Fetch};
use fitbit_influx::point::{FieldKind, Point};
use fitbit_influx::sim::{types as simtypes, world::Person};
use std::collections::{BTreeMap, BTreeSet};

fn person() -> Person {
    let last: NaiveDate = "2026-11-20".parse().unwrap();
    Person {
        seed: 7,
        index: 0,
        tz: chrono_tz::Europe::Berlin,
        first_day: last - Duration::days(40),
        last_day: last,
        unworn_day: last - Duration::days(30),
        heart_rate_every: 600,
        fever_from: None,
    }
}

fn kind_name(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Int => "int",
        FieldKind::Float => "float",
        FieldKind::Bool => "bool",
        FieldKind::Str => "string",
    }
}

/// Every point every catalog entry makes from 40 simulated days (list entries from the raw data points,
/// rollup entries from rollup-shaped windows built from the same records).
fn all_points() -> Vec<(&'static str, Point)> {
    let p = person();
    let cx = Context {
        user: "me",
        tz: p.tz,
        now: chrono::Utc::now(),
        height_m: Some(1.75),
    };
    let mut out = Vec::new();
    for entry in catalog::CATALOG {
        // Rollup and snapshot entries are checked end to end, from the field types InfluxDB stored
        // (tests/daemon_catalog.rs).
        let Fetch::List { .. } = entry.fetch else {
            continue;
        };
        let sim_type = simtypes::find(entry.api_type)
            .unwrap_or_else(|| panic!("the simulator serves {}", entry.api_type));
        let mut day = p.first_day;
        while day <= p.last_day {
            let records = (sim_type.generate)(&p, day);
            let objects: Vec<serde_json::Value> =
                records.iter().map(|r| (sim_type.render)(&p, r)).collect();
            for o in &objects {
                for point in
                    (entry.convert)(o, &cx).unwrap_or_else(|e| panic!("{}: {e}", entry.name))
                {
                    out.push((entry.name, point));
                }
            }
            day += Duration::days(1);
        }
    }
    out
}

#[test]
fn every_point_matches_its_declared_measurement_and_field_types() {
    let points = all_points();
    let mut seen: BTreeMap<(&str, &str), FieldKind> = BTreeMap::new();
    let mut measurements_seen = BTreeSet::new();
    for (entry_name, p) in &points {
        let entry = catalog::find(entry_name).unwrap();
        let m = entry
            .measurements
            .iter()
            .find(|m| m.name == p.measurement)
            .unwrap_or_else(|| {
                panic!(
                    "{entry_name} wrote undeclared measurement {}",
                    p.measurement
                )
            });
        measurements_seen.insert(m.name);
        for (k, _) in &p.tags {
            assert!(
                m.tags.iter().any(|t| t.name == *k),
                "{}: undeclared tag {k}",
                m.name
            );
        }
        assert!(
            p.tags.iter().any(|(k, v)| *k == "user" && v == "me"),
            "{}: every point has user",
            m.name
        );
        for (k, v) in &p.fields {
            let f = m
                .fields
                .iter()
                .find(|f| f.name == *k)
                .unwrap_or_else(|| panic!("{}: undeclared field {k}", m.name));
            assert_eq!(v.kind(), f.kind, "{}.{k} declared {:?}", m.name, f.kind);
            // Across all measurements and entries, one type per (measurement, field).
            let prev = seen.insert((m.name, k), v.kind());
            assert!(
                prev.is_none_or(|pk| pk == v.kind()),
                "{}.{k} written with two types",
                m.name
            );
        }
    }
    let declared: BTreeSet<&str> = catalog::CATALOG
        .iter()
        .filter(|e| matches!(e.fetch, Fetch::List { .. }))
        .flat_map(|e| e.measurements.iter().map(|m| m.name))
        .collect();
    assert_eq!(
        measurements_seen, declared,
        "every list entry's measurement is produced from simulated data"
    );
}

/// Rows of docs/schema.md: (measurement, kind, name, type, unit).
fn documented() -> BTreeSet<(String, String, String, String, String)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md")).unwrap();
    let mut current = String::new();
    let mut rows = BTreeSet::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            current = name.trim().to_string();
        } else if !current.is_empty()
            && (line.starts_with("| tag |") || line.starts_with("| field |"))
        {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            rows.insert((
                current.clone(),
                cells[0].clone(),
                cells[1].clone(),
                cells[2].clone(),
                cells[3].clone(),
            ));
        }
    }
    rows
}

#[test]
fn docs_schema_lists_exactly_what_the_catalog_writes() {
    let mut from_code = BTreeSet::new();
    let insights = fitbit_influx::insights::MEASUREMENTS
        .iter()
        .chain(fitbit_influx::import::MEASUREMENTS)
        .copied();
    for m in catalog::measurements().into_iter().chain(insights) {
        for t in m.tags {
            from_code.insert((
                m.name.to_string(),
                "tag".into(),
                t.name.to_string(),
                String::new(),
                String::new(),
            ));
        }
        for f in m.fields {
            from_code.insert((
                m.name.to_string(),
                "field".into(),
                f.name.to_string(),
                kind_name(f.kind).into(),
                f.unit.to_string(),
            ));
        }
    }
    let from_doc = documented();
    let missing: Vec<_> = from_code.difference(&from_doc).collect();
    let extra: Vec<_> = from_doc.difference(&from_code).collect();
    assert!(missing.is_empty() && extra.is_empty(), "docs/schema.md is out of date.\nmissing from the doc: {missing:#?}\nin the doc but not written: {extra:#?}");
}

/// docs/schema.md's "Where each measurement comes from" table: (measurement, API type, method).
#[test]
fn docs_schema_says_which_method_feeds_each_measurement() {
    let mut from_code = BTreeSet::new();
    for e in catalog::CATALOG {
        let method = match e.fetch {
            // Reconciled streams (reference §11 #4); `DATA_SOURCES=all` switches to `list`.
            Fetch::List { .. } => "reconcile",
            Fetch::DailyRollUp => "dailyRollUp",
            Fetch::Snapshot { .. } => "get",
        };
        for m in e.measurements {
            from_code.insert(format!("| {} | {} | {method} |", m.name, e.api_type));
        }
    }
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md")).unwrap();
    let section = text
        .split("## Where each measurement comes from")
        .nth(1)
        .expect("docs/schema.md has the section");
    let from_doc: BTreeSet<String> = section
        .lines()
        .skip_while(|l| !l.starts_with("| measurement |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            format!("| {} | {} | {} |", cells[0], cells[1], cells[2])
        })
        .collect();
    let missing: Vec<_> = from_code.difference(&from_doc).collect();
    let extra: Vec<_> = from_doc.difference(&from_code).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/schema.md's sources are out of date.\nmissing: {missing:#?}\nextra: {extra:#?}"
    );
}

/// The per-minute heart rate (HEART_RATE_RESOLUTION=minute) of the simulated samples writes exactly
/// its declared fields and types.
#[test]
fn per_minute_heart_rate_matches_its_declaration() {
    let m = &catalog::minute::HEART_RATE_MINUTE;
    let mut summary = catalog::minute::MinuteSummary::default();
    let mut samples = 0;
    for (entry, p) in all_points() {
        if entry == catalog::minute::SUMMARISED {
            summary.add(&p);
            samples += 1;
        }
    }
    let points = summary.into_points();
    assert!(samples > 0 && !points.is_empty());
    let mut total = 0;
    for p in &points {
        assert_eq!(p.measurement, m.name);
        assert_eq!(p.tags, [("user", "me".to_string())]);
        let names: Vec<&str> = p.fields.iter().map(|(k, _)| *k).collect();
        let declared: Vec<&str> = m.fields.iter().map(|f| f.name).collect();
        assert_eq!(names, declared);
        for ((_, v), f) in p.fields.iter().zip(m.fields) {
            assert_eq!(v.kind(), f.kind, "{}", f.name);
        }
        if let Some((_, fitbit_influx::point::FieldValue::Int(n))) =
            p.fields.iter().find(|(k, _)| *k == "samples")
        {
            total += n;
        }
    }
    assert_eq!(total, samples, "every sample in one minute");
}
