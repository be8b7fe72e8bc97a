//! Where records come from (reference §11 #4). The watch records every type; the phone (Health
//! Connect, form factor PHONE) also counts steps and distance while it is carried — on the walks to and
//! from work. `list` returns each source separately, so a sum of raw `list` points counts those minutes
//! twice; `:reconcile` and the rollups merge them into one stream (per minute the larger count, the
//! way the Fitbit app shows it); `dataSourceFamily=…/google-wearables` leaves the phone out.

use super::errors::ApiError;
use super::types::{Record, SimType};
use super::world::Person;
use chrono::{NaiveDate, Timelike};
use std::collections::BTreeMap;

/// The data source families of reference §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    AllSources,
    GoogleWearables,
    GoogleSources,
}

impl Family {
    /// From a `dataSourceFamily` value (absent: all sources).
    pub fn parse(value: Option<&str>, data_type: &str) -> Result<Family, ApiError> {
        let Some(v) = value.filter(|v| !v.is_empty()) else {
            return Ok(Family::AllSources);
        };
        if data_type == "sleep" {
            return Err(ApiError::invalid_argument(
                "dataSourceFamily is not supported for data type sleep.",
            ));
        }
        match v.rsplit('/').next() {
            Some("all-sources") => Ok(Family::AllSources),
            Some("google-wearables") => Ok(Family::GoogleWearables),
            Some("google-sources") => Ok(Family::GoogleSources),
            _ => Err(ApiError::bad_request(
                "INVALID_DATA_POINT_DATA_SOURCE_FAMILY",
                format!("Invalid data source family: {v}."),
                &[(
                    "data_source_family",
                    format!("Invalid data source family: {v}."),
                )],
                None,
            )),
        }
    }
}

/// Types a phone also records.
pub fn phone_records_type(data_type: &str) -> bool {
    matches!(data_type, "steps" | "distance")
}

/// The phone's records of a day: the commute walks (it stays on the desk at lunch), counting a little
/// differently from the watch.
fn phone(p: &Person, day: NaiveDate, watch: &[Record]) -> Vec<Record> {
    let mut r = p.rng(day, 0x9404e);
    watch
        .iter()
        .filter(|w| {
            let local = w.start.with_timezone(&p.tz);
            let minute = local.hour() * 60 + local.minute();
            (8 * 60..8 * 60 + 25).contains(&minute)
                || (17 * 60 + 30..17 * 60 + 55).contains(&minute)
        })
        .filter_map(|w| {
            // 75-110 % of the watch's count; a minute now and then the phone misses.
            let pct = r.range(75, 110) as f64;
            if r.chance(8) {
                return None;
            }
            let mut ph = w.clone();
            ph.value = (w.value * pct / 100.0).round();
            ph.phone = true;
            (ph.value > 0.0).then_some(ph)
        })
        .collect()
}

/// A day's records as `list` shows them (each source separately) or, with `reconciled`, as one
/// merged stream.
pub fn records(
    p: &Person,
    t: &SimType,
    day: NaiveDate,
    family: Family,
    reconciled: bool,
    with_phone: bool,
) -> Vec<Record> {
    let watch = (t.generate)(p, day);
    if !with_phone || !phone_records_type(t.name) || family == Family::GoogleWearables {
        return watch;
    }
    let phone = phone(p, day, &watch);
    if !reconciled {
        let mut all = watch;
        all.extend(phone);
        return all;
    }
    let mut merged: BTreeMap<i64, Record> = watch
        .into_iter()
        .map(|r| (r.start.timestamp(), r))
        .collect();
    for ph in phone {
        let m = merged
            .entry(ph.start.timestamp())
            .or_insert_with(|| ph.clone());
        if ph.value > m.value {
            m.value = ph.value;
        }
        m.phone = false;
    }
    merged.into_values().collect()
}

/// The `dataSource` of a phone record.
pub fn phone_source() -> serde_json::Value {
    serde_json::json!({
        "device": {"formFactor": "PHONE", "manufacturer": "Google", "displayName": "Pixel 9"},
        "application": {"packageName": "com.google.android.apps.fitness"},
        "platform": "HEALTH_CONNECT",
        "recordingMethod": "PASSIVELY_MEASURED"
    })
}
