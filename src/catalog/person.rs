//! What the dashboards need to know about a person: their time zone (from the account's `settings`),
//! so that each person's daily panels default to their own days, and the first day of their history,
//! so that per-day statistics do not count the days before it as days without steps.

use super::{Measurement, USER_TAG};
use crate::point::FieldKind::{Int, Str};
use crate::point::Point;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

pub static PERSON: Measurement = Measurement {
    name: "person",
    doc: "the person's settings the dashboards read, written once a round (one point a day)",
    time: "local midnight of the day it was written, in the user's time zone",
    tags: &[USER_TAG],
    fields: &[
        super::types::field(
            "time_zone",
            Str,
            "",
            "IANA time zone of the account (`settings.timeZone`); the dashboards' zone defaults to it",
        ),
        super::types::field(
            "history_start_epoch_s",
            Int,
            "s",
            "local midnight of the first day of the history (`membershipStartDate` or `BACKFILL_FROM`), Unix seconds",
        ),
    ],
};

/// Today's point of a person whose history starts on `start`.
pub fn point(user: &str, tz: Tz, start: NaiveDate, now: DateTime<Utc>) -> Point {
    let today = now.with_timezone(&tz).date_naive();
    Point::new(PERSON.name, super::read::local_midnight(today, tz))
        .tag("user", user)
        .string("time_zone", tz.name())
        .int(
            "history_start_epoch_s",
            super::read::local_midnight(start, tz).timestamp(),
        )
}
