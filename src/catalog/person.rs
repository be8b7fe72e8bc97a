//! What the dashboards need to know about a person: their time zone (from the account's `settings`),
//! so that each person's daily panels default to their own days.

use super::{Measurement, USER_TAG};
use crate::point::FieldKind::Str;
use crate::point::Point;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub static PERSON: Measurement = Measurement {
    name: "person",
    doc: "the person's settings the dashboards read, written once a round (one point a day)",
    time: "local midnight of the day it was written, in the user's time zone",
    tags: &[USER_TAG],
    fields: &[super::types::field(
        "time_zone",
        Str,
        "",
        "IANA time zone of the account (`settings.timeZone`); the dashboards' zone defaults to it",
    )],
};

/// Today's point of a person.
pub fn point(user: &str, tz: Tz, now: DateTime<Utc>) -> Point {
    let today = now.with_timezone(&tz).date_naive();
    Point::new(PERSON.name, super::read::local_midnight(today, tz))
        .tag("user", user)
        .string("time_zone", tz.name())
}
