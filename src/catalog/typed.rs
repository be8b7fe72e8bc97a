//! Pages decoded straight from the response bytes into typed structs, for the dense streams, where a
//! `serde_json::Value` tree per page would cost most of the CPU and set the memory peak (a 5,000-point
//! heart-rate page is ≈1.3 MB of JSON; as a tree it is tens of MB of small allocations).
//!
//! Unknown members are skipped without being built; strings are borrowed from the body where they
//! have no escapes. A point whose value cannot be read is reported in [`DecodedPage::unreadable`]
//! with its name and day, exactly as the tree converters report it, never turned into 0.

use super::read::timestamp_of;
use super::Context;
use crate::point::Point;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// A page's points, the points that could not be read, and the next page's token.
#[derive(Debug, Default)]
pub struct DecodedPage {
    pub points: Vec<Point>,
    pub unreadable: Vec<Unreadable>,
    pub next_page_token: Option<String>,
}

/// A data point that was skipped: its name (the API's, or payload and time), its civil day when
/// known, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub day: Option<NaiveDate>,
    pub name: String,
    pub what: String,
}

/// Decodes one page of a catalog entry.
pub type PageDecoder = fn(&[u8], &Context) -> Result<DecodedPage, serde_json::Error>;

#[derive(Deserialize)]
struct HeartRatePage<'a> {
    #[serde(rename = "dataPoints", default, borrow)]
    points: Vec<HeartRateItem<'a>>,
    #[serde(rename = "nextPageToken", default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct HeartRateItem<'a> {
    #[serde(rename = "heartRate", default, borrow)]
    heart_rate: Option<HeartRateValue<'a>>,
}

#[derive(Deserialize)]
struct HeartRateValue<'a> {
    #[serde(rename = "sampleTime", default, borrow)]
    sample_time: Option<SampleTime<'a>>,
    /// int64: a string by the JSON mapping, a number from some clients; anything else is unreadable.
    #[serde(rename = "beatsPerMinute", default)]
    beats_per_minute: Option<Value>,
}

#[derive(Deserialize)]
struct SampleTime<'a> {
    #[serde(rename = "physicalTime", default, borrow)]
    physical_time: Option<Cow<'a, str>>,
}

/// `heart-rate` (reconciled stream): `heart_rate` points, as [`super::types`]' tree converter writes.
pub fn heart_rate(body: &[u8], cx: &Context) -> Result<DecodedPage, serde_json::Error> {
    let page: HeartRatePage = serde_json::from_slice(body)?;
    let mut out = DecodedPage {
        points: Vec::with_capacity(page.points.len()),
        unreadable: Vec::new(),
        next_page_token: page.next_page_token.filter(|t| !t.is_empty()),
    };
    for item in page.points {
        let value = item.heart_rate.as_ref();
        let time_text = value
            .and_then(|v| v.sample_time.as_ref())
            .and_then(|t| t.physical_time.as_deref());
        let time = time_text.and_then(timestamp_of);
        let bpm = value
            .and_then(|v| v.beats_per_minute.as_ref())
            .and_then(|b| match b {
                Value::String(s) => s.parse::<i64>().ok(),
                Value::Number(n) => n.as_i64(),
                _ => None,
            });
        match (time, bpm) {
            (Some(t), Some(bpm)) => out.points.push(
                Point::new(super::types::HEART_RATE.name, t)
                    .tag("user", cx.user)
                    .int("bpm", bpm),
            ),
            (t, bpm) => out.unreadable.push(Unreadable {
                day: t.map(|t| t.with_timezone(&cx.tz).date_naive()),
                name: format!("heartRate at {}", time_text.unwrap_or("an unknown time")),
                what: if t.is_none() {
                    "heartRate/sampleTime/physicalTime missing or unreadable".into()
                } else if bpm.is_none() {
                    "heartRate/beatsPerMinute missing or unreadable".into()
                } else {
                    "unreadable".into()
                },
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> Context<'static> {
        Context {
            user: "me",
            tz: chrono_tz::Europe::Berlin,
            now: chrono::Utc::now(),
            height_m: None,
        }
    }

    #[test]
    fn the_typed_page_gives_the_tree_converters_points_and_names_what_it_skips() {
        let body = br#"{"dataPoints": [
            {"heartRate": {"sampleTime": {"physicalTime": "2026-11-19T22:59:55Z", "utcOffset": "3600s"}, "beatsPerMinute": "71"}, "dataPointName": "x"},
            {"heartRate": {"sampleTime": {"physicalTime": "2026-11-19T22:59:50Z"}, "beatsPerMinute": 70}},
            {"heartRate": {"sampleTime": {"physicalTime": "2026-11-19T22:59:45Z"}, "beatsPerMinute": "abc"}},
            {"heartRate": {"sampleTime": {"physicalTime": "2026-11-19T22:59:40Z"}}}
        ], "nextPageToken": "t1"}"#;
        let page = heart_rate(body, &cx()).unwrap();
        let lines: Vec<String> = page.points.iter().map(Point::to_line).collect();
        let tree: Value = serde_json::from_slice(body).unwrap();
        let expected: Vec<String> = tree["dataPoints"].as_array().unwrap()[..2]
            .iter()
            .flat_map(|item| {
                (super::super::find("heart-rate").unwrap().convert)(item, &cx())
                    .unwrap()
                    .into_iter()
                    .map(|p| p.to_line())
            })
            .collect();
        assert_eq!(lines, expected);
        assert_eq!(page.next_page_token.as_deref(), Some("t1"));
        assert_eq!(page.unreadable.len(), 2);
        assert_eq!(page.unreadable[0].name, "heartRate at 2026-11-19T22:59:45Z");
        assert_eq!(page.unreadable[0].day, Some("2026-11-19".parse().unwrap()));
        assert!(page.unreadable[1].what.contains("beatsPerMinute"));
        // An empty page with a token (reference §11 #2).
        let empty = heart_rate(br#"{"nextPageToken": "t2"}"#, &cx()).unwrap();
        assert!(empty.points.is_empty() && empty.next_page_token.as_deref() == Some("t2"));
    }
}
