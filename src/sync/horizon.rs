//! Which days can still change: the devices' last syncs (`pairedDevices[].lastSyncTime`, reference §3.7
//! and §11 #20). Data newer than a device's last sync cannot be in the API yet, so a day is final only
//! once every device that records its data type has synced past the day's end plus [`SETTLE_MARGIN`].
//!
//! Two bounds keep a silent device from holding everything open for ever:
//! - a device whose last sync is older than [`LOOKBACK`] is treated as retired and ignored;
//! - a day that ended more than [`LOOKBACK`] ago is final whatever the devices say.
//!
//! Without device information (the `settings` scope withheld, or the request failed) a day is final
//! [`FALLBACK_SETTLE`] after its end.

use crate::catalog::{self, Recorder};
use crate::coverage::DayOutcome;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// Time after a day's end that a device must have synced past before the day is final (the API needs
/// a moment to process an upload).
pub const SETTLE_MARGIN: Duration = Duration::hours(1);
/// How far back a late device can hold days open.
pub const LOOKBACK: Duration = Duration::days(14);
/// How long a day stays open when the devices' last syncs are unknown.
pub const FALLBACK_SETTLE: Duration = Duration::days(3);

/// The newest instant up to which each kind of device has delivered its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub now: DateTime<Utc>,
    /// The oldest last sync of the active trackers (watches); `None`: unknown.
    pub tracker: Option<DateTime<Utc>>,
    /// The oldest last sync of the active scales; `None`: the account has none (manual entries only).
    pub scale: Option<DateTime<Utc>>,
    /// Whether the devices were read at all.
    pub known: bool,
}

impl Horizon {
    /// No device information: days settle after [`FALLBACK_SETTLE`].
    pub fn unknown(now: DateTime<Utc>) -> Horizon {
        Horizon {
            now,
            tracker: None,
            scale: None,
            known: false,
        }
    }

    /// From a `pairedDevices` answer.
    pub fn from_devices(devices: &Value, now: DateTime<Utc>) -> Horizon {
        let mut h = Horizon {
            now,
            tracker: None,
            scale: None,
            known: true,
        };
        for d in devices
            .get("pairedDevices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Ok(synced) = catalog::read::timestamp(d, "lastSyncTime") else {
                continue;
            };
            if now - synced > LOOKBACK {
                continue; // retired: not synced for weeks
            }
            let slot = match d.get("deviceType").and_then(Value::as_str) {
                Some("SCALE") => &mut h.scale,
                _ => &mut h.tracker,
            };
            *slot = Some(slot.map_or(synced, |s: DateTime<Utc>| s.min(synced)));
        }
        h
    }

    /// Whether a day ending at `day_end`, of a type recorded by `recorder`, can still change.
    pub fn judge(&self, day_end: DateTime<Utc>, recorder: Recorder) -> DayOutcome {
        if day_end > self.now {
            return DayOutcome::Open;
        }
        if self.now - day_end > LOOKBACK {
            return DayOutcome::Final;
        }
        let synced = match recorder {
            Recorder::Manual => Some(self.now),
            Recorder::Scale if self.known => Some(self.scale.unwrap_or(self.now)),
            Recorder::Tracker if self.known => self.tracker,
            _ => None,
        };
        let settled = match synced {
            Some(t) => t >= day_end + SETTLE_MARGIN,
            None => self.now >= day_end + FALLBACK_SETTLE,
        };
        if settled {
            DayOutcome::Final
        } else {
            DayOutcome::Open
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_day_is_final_once_every_device_synced_past_it() {
        let now = t("2026-03-10T12:00:00Z");
        let devices = json!({"pairedDevices": [
            {"deviceType": "TRACKER", "lastSyncTime": "2026-03-07T09:00:00Z"},
            {"deviceType": "TRACKER", "lastSyncTime": "2026-03-10T11:50:00Z"},
            {"deviceType": "TRACKER", "lastSyncTime": "2026-01-01T00:00:00Z"},
            {"deviceType": "SCALE", "lastSyncTime": "2026-03-10T06:00:00Z"}]});
        let h = Horizon::from_devices(&devices, now);
        // The slowest active tracker decides; the one silent since January is retired.
        assert_eq!(h.tracker, Some(t("2026-03-07T09:00:00Z")));
        let end_of = |d: &str| t(&format!("{d}T00:00:00Z"));
        assert_eq!(
            h.judge(end_of("2026-03-07"), Recorder::Tracker),
            DayOutcome::Final
        );
        assert_eq!(
            h.judge(end_of("2026-03-08"), Recorder::Tracker),
            DayOutcome::Open
        );
        assert_eq!(
            h.judge(end_of("2026-03-10"), Recorder::Scale),
            DayOutcome::Final
        );
        assert_eq!(
            h.judge(end_of("2026-03-11"), Recorder::Manual),
            DayOutcome::Open,
            "today is never final"
        );
        assert_eq!(
            h.judge(end_of("2026-02-20"), Recorder::Tracker),
            DayOutcome::Final,
            "the lookback bounds how long a day can stay open"
        );
        let unknown = Horizon::unknown(now);
        assert_eq!(
            unknown.judge(end_of("2026-03-08"), Recorder::Tracker),
            DayOutcome::Open
        );
        assert_eq!(
            unknown.judge(end_of("2026-03-07"), Recorder::Tracker),
            DayOutcome::Final
        );
    }
}
