//! What the daemon writes about itself, so that the bundled Grafana shows whether data is flowing
//! without a Prometheus server: the same figures `/metrics` shows, from the same counters. Written
//! by the sync engine (`sync::pipeline`) after every round.

use super::{Measurement, Tag, USER_TAG};
use crate::point::FieldKind::{Float, Int, Str};

const DATA_TYPE_TAG: Tag = Tag {
    name: "data_type",
    doc: "the catalog entry (`heart-rate`, `steps`, `steps-daily`, …), as in `/metrics`",
};

pub static SYNC_TYPE: Measurement = Measurement {
    name: "sync_type",
    doc: "one data type's coverage after a round: what `fitbit_influx_days` and the backfill gauges of `/metrics` show",
    time: "the end of the round",
    tags: &[USER_TAG, DATA_TYPE_TAG],
    fields: &[
        super::types::field("final_days", Int, "days", "days written that can no longer change"),
        super::types::field("open_days", Int, "days", "days written that may still change (fetched again)"),
        super::types::field("failed_days", Int, "days", "days whose fetch or points failed (retried with backoff)"),
        super::types::field("done_days", Int, "days", "days of the history written (final or open)"),
        super::types::field("total_days", Int, "days", "days from the first day of the history to today"),
        super::types::field("lag_s", Float, "s", "now minus the end of the newest final day (absent before the first)"),
    ],
};

pub static SYNC_ROUND: Measurement = Measurement {
    name: "sync_round",
    doc: "one round of one person: how it ended and what it cost",
    time: "the end of the round",
    tags: &[USER_TAG],
    fields: &[
        super::types::field("state", Str, "", "ok, some_failed (a window failed; retried soon), not_started (settings, identity or profile unreadable), credentials_refused or regrant_needed"),
        super::types::field("requests", Int, "requests", "API requests the round made (every attempt)"),
        super::types::field("rate_limited", Int, "answers", "HTTP 429 answers in the round"),
        super::types::field("quota_wait_s", Float, "s", "time the round waited on the request pace and on 429s"),
        super::types::field("points", Int, "points", "points written"),
        super::types::field("skipped_points", Int, "points", "unreadable points skipped (named in the log)"),
        super::types::field("windows_failed", Int, "windows", "windows that failed (their days are retried)"),
    ],
};
