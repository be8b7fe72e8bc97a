//! What only an archive has (the API does not offer it, reference §11 #19): the nightly sleep
//! score and the daily stress and readiness scores, each its own measurement.

use crate::catalog::{field, Measurement, DAILY_TIME, USER_TAG};
use crate::point::FieldKind::{Float, Int, Str};

pub static SLEEP_SCORE: Measurement = Measurement {
    name: "sleep_score",
    doc: "the night's sleep score from an archive (`sleep_score.csv`; the API does not offer it)",
    time: "the wake-up (the score's timestamp)",
    tags: &[USER_TAG],
    fields: &[
        field("overall", Int, "", "overall sleep score, 0–100"),
        field(
            "composition",
            Int,
            "",
            "composition subscore (absent in many rows)",
        ),
        field("revitalization", Int, "", "revitalization subscore"),
        field(
            "duration",
            Int,
            "",
            "duration subscore (absent in many rows)",
        ),
        field("deep_sleep_min", Int, "min", "minutes of deep sleep"),
        field("resting_hr", Int, "bpm", "resting heart rate that night"),
        field("restlessness", Float, "", "fraction of the night restless"),
    ],
};

pub static STRESS_SCORE: Measurement = Measurement {
    name: "stress_score",
    doc: "the day's stress management score from an archive (`Stress Score.csv`); days without a \
          score (NO_DATA, calculation failed) are left out",
    time: DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[
        field(
            "score",
            Int,
            "",
            "stress management score, 0–100 (higher: less stress)",
        ),
        field("sleep_points", Int, "", "sleep part of the score"),
        field("max_sleep_points", Int, "", "its maximum"),
        field("responsiveness_points", Int, "", "responsiveness part"),
        field("max_responsiveness_points", Int, "", "its maximum"),
        field("exertion_points", Int, "", "exertion balance part"),
        field("max_exertion_points", Int, "", "its maximum"),
        field(
            "status",
            Str,
            "",
            "ready or ready_not_premium (the archive's STATUS in lower case)",
        ),
    ],
};

pub static READINESS: Measurement = Measurement {
    name: "readiness",
    doc: "the day's readiness score from an archive (`Daily Readiness Score - YYYY-MM-01.csv`)",
    time: DAILY_TIME,
    tags: &[USER_TAG],
    fields: &[
        field("score", Int, "", "readiness score, 0–100"),
        field(
            "state",
            Str,
            "",
            "the readiness state, in lower case (low, medium, high …)",
        ),
        field("activity_subcomponent", Int, "", "activity part"),
        field("sleep_subcomponent", Int, "", "sleep part"),
        field("hrv_subcomponent", Int, "", "heart-rate-variability part"),
    ],
};

/// Everything only an import writes, for docs/schema.md.
pub static MEASUREMENTS: &[&Measurement] = &[&SLEEP_SCORE, &STRESS_SCORE, &READINESS];
