//! What a round needs to know about the person before it fetches data: their time zone (`settings`),
//! the Google account (`identity`), the first day of their history (`profile` or `BACKFILL_FROM`) and
//! their height (for BMI). Read once per run; a failure is retried at the next round.

use crate::api::{ApiError, HealthClient};
use crate::catalog;
use crate::state::SharedState;
use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use tracing::{info, warn};

/// The person, as read at the start of a run.
#[derive(Debug, Clone, Copy)]
pub struct Account {
    pub tz: Tz,
    /// The first day to backfill.
    pub start: NaiveDate,
    /// The latest height in metres, when known.
    pub height_m: Option<f64>,
}

/// Reads settings, identity, profile and height. A token of another Google account than the one the
/// state's coverage came from starts that coverage over.
pub async fn read(
    client: &HealthClient,
    state: &SharedState,
    user: &str,
    backfill_from: Option<NaiveDate>,
) -> Result<Account, ApiError> {
    let settings = client.get("settings", &[]).await?;
    let tz = zone_of(&settings);
    let identity = client.get("identity", &[]).await?;
    if let Some(id) = identity.get("healthUserId").and_then(Value::as_str) {
        follow_account(state, user, id)?;
    }
    let start = match backfill_from {
        Some(d) => d,
        None => {
            let profile = client.get("profile", &[]).await?;
            catalog::read::date(&profile, "membershipStartDate").unwrap_or_else(|_| {
                warn!(
                    user,
                    "the profile has no membershipStartDate; backfilling one year"
                );
                Utc::now().with_timezone(&tz).date_naive() - Duration::days(365)
            })
        }
    };
    let height_m = latest_height(client).await;
    info!(user, time_zone = %tz.name(), backfill_from = %start, height_m = ?height_m, "user prepared");
    Ok(Account {
        tz,
        start,
        height_m,
    })
}

/// Records the account the data comes from; another account than before resets the coverage.
fn follow_account(state: &SharedState, user: &str, id: &str) -> Result<(), ApiError> {
    let before = state.read(|s| s.users.get(user).and_then(|u| u.account.clone()));
    if before.as_deref() == Some(id) {
        return Ok(());
    }
    state
        .update(|s| {
            let u = s.users.entry(user.to_string()).or_default();
            if u.account.is_some() {
                u.coverage.clear();
                u.last_verify = None;
            }
            u.account = Some(id.to_string());
        })
        .map_err(|e| ApiError::Transient {
            attempts: 1,
            last: e.to_string(),
        })?;
    if let Some(old) = before {
        warn!(user, old_account = %old, new_account = %id,
            "the refresh token belongs to another Google account than the synced data; starting this user's sync over for the new account");
    }
    Ok(())
}

/// The newest height entry (lists are newest first), for BMI. Absent or not granted: no BMI.
async fn latest_height(client: &HealthClient) -> Option<f64> {
    let page = client
        .get("dataTypes/height/dataPoints", &[("pageSize", "1")])
        .await
        .ok()?;
    catalog::read::opt_int64(page.get("dataPoints")?.get(0)?, "height/heightMillimeters")
        .map(|mm| mm as f64 / 1000.0)
}

/// The user's time zone from `settings`: the IANA `timeZone`, else a fixed zone from `utcOffset`,
/// else UTC.
pub fn zone_of(settings: &Value) -> Tz {
    if let Some(tz) = settings
        .get("timeZone")
        .and_then(Value::as_str)
        .and_then(|n| n.parse::<Tz>().ok())
    {
        return tz;
    }
    let offset_hours = settings
        .get("utcOffset")
        .and_then(Value::as_str)
        .and_then(|s| s.trim_end_matches('s').parse::<i64>().ok())
        .filter(|s| s % 3600 == 0)
        .map(|s| s / 3600);
    // Etc/GMT zones have inverted signs: UTC+1 is Etc/GMT-1.
    let fixed = offset_hours.map(|h| match h {
        0 => "Etc/UTC".to_string(),
        h => format!("Etc/GMT{:+}", -h),
    });
    match fixed.and_then(|n| n.parse::<Tz>().ok()) {
        Some(tz) => tz,
        None => {
            warn!("settings have no usable timeZone or utcOffset; using UTC for day boundaries");
            Tz::UTC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zones_from_settings() {
        assert_eq!(
            zone_of(&json!({"timeZone": "America/New_York", "utcOffset": "-14400s"})).name(),
            "America/New_York"
        );
        assert_eq!(
            zone_of(&json!({"timeZone": "Mars/Base", "utcOffset": "3600s"})).name(),
            "Etc/GMT-1"
        );
        assert_eq!(
            zone_of(&json!({"utcOffset": "-18000s"})).name(),
            "Etc/GMT+5"
        );
        assert_eq!(zone_of(&json!({})).name(), "UTC");
    }
}
