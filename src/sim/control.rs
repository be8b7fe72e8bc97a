//! What a test (or the demo) can change while the simulator runs: the clock, the watch's last sync,
//! and the misbehaviours real accounts show (reference §11): unreadable points, `200 {}` answers,
//! pages whose `nextPageToken` went missing.
//!
//! A device's data is in the API only up to its last sync (§11 #20): the watch's records become
//! visible when the watch syncs past their end, so a test moves `watch_synced` to play a watch that
//! syncs days late.

use super::types::Record;
use super::world::mix;
use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default, Clone)]
pub struct Settings {
    /// The simulated "now" (`None`: the wall clock, or the end of `--end`).
    pub now: Option<DateTime<Utc>>,
    /// The watch's last sync (`None`: a few minutes before now, as a watch in reach of its phone).
    pub watch_synced: Option<DateTime<Utc>>,
    /// About one list record in N is unreadable: its value is missing or a non-number string.
    pub corrupt_every: Option<u64>,
    /// Every N-th data request answers `200 {}`.
    pub empty_every: Option<u64>,
    /// Every N-th page that has a next page is answered without its `nextPageToken`.
    pub drop_token_every: Option<u64>,
    /// The token endpoint answers 503 (an outage of Google's OAuth service, or a network blip).
    pub token_endpoint_down: bool,
    /// Every `/v4` endpoint answers 403 `RESOURCE_PERMISSION_DENIED` (reference §11 #15).
    pub permission_lost: bool,
}

#[derive(Debug, Default)]
pub struct Control {
    settings: Mutex<Settings>,
    empty_counter: AtomicU64,
    drop_counter: AtomicU64,
}

/// How an unreadable record is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// The value field is missing.
    Missing,
    /// The value is a string that is not a number.
    NotANumber,
}

impl Control {
    pub fn new(settings: Settings) -> Control {
        Control {
            settings: Mutex::new(settings),
            ..Control::default()
        }
    }

    pub fn get(&self) -> Settings {
        self.settings.lock().expect("control lock").clone()
    }

    /// Changes the settings (tests: `sim.control.set(|s| s.watch_synced = Some(t))`).
    pub fn set(&self, f: impl FnOnce(&mut Settings)) {
        f(&mut self.settings.lock().expect("control lock"));
    }

    /// The watch's last sync at `now`.
    pub fn watch_synced(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.get().watch_synced {
            Some(t) => t.min(now),
            None => now - Duration::minutes(7 + (now.timestamp() / 60 % 13)),
        }
    }

    /// Whether this data request is to be answered `200 {}`.
    pub fn empty_answer(&self) -> bool {
        let Some(every) = self.get().empty_every.filter(|n| *n > 0) else {
            return false;
        };
        (self.empty_counter.fetch_add(1, Ordering::SeqCst) + 1).is_multiple_of(every)
    }

    /// Whether this page's next token is to be dropped.
    pub fn drop_token(&self) -> bool {
        let Some(every) = self.get().drop_token_every.filter(|n| *n > 0) else {
            return false;
        };
        (self.drop_counter.fetch_add(1, Ordering::SeqCst) + 1).is_multiple_of(every)
    }

    /// Whether (and how) a record of `data_type` is unreadable. Stable per record, so a test can
    /// compute the truth without the broken points.
    pub fn corruption(&self, data_type: &str, r: &Record) -> Option<Corruption> {
        let every = self.get().corrupt_every.filter(|n| *n > 0)?;
        let h = data_type
            .bytes()
            .fold(mix(r.start.timestamp() as u64), |a, b| mix(a ^ b as u64));
        if !h.is_multiple_of(every) {
            return None;
        }
        Some(if (h / every).is_multiple_of(2) {
            Corruption::Missing
        } else {
            Corruption::NotANumber
        })
    }
}

/// Breaks a rendered data point as `how` says: the first scalar value of its payload (not its time)
/// goes missing or becomes a non-number string.
pub fn corrupt(point: &mut serde_json::Value, how: Corruption) {
    let Some(obj) = point.as_object_mut() else {
        return;
    };
    let Some(payload) = obj
        .iter_mut()
        .find(|(k, v)| *k != "dataSource" && *k != "name" && *k != "dataPointName" && v.is_object())
        .and_then(|(_, v)| v.as_object_mut())
    else {
        return;
    };
    let Some(key) = payload
        .iter()
        .find(|(_, v)| v.is_string() || v.is_number())
        .map(|(k, _)| k.clone())
    else {
        return;
    };
    match how {
        Corruption::Missing => {
            payload.remove(&key);
        }
        Corruption::NotANumber => {
            payload.insert(key, serde_json::json!("n/a"));
        }
    }
}
