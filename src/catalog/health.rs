//! Heart and sleep physiology: heart-rate zones, HRV, SpO2, respiratory rate, sleep temperature, VO2 max.
//! A `"NaN"` from the API is left out of the point (absent, never a number).

use super::read::{double, opt_bool, opt_double, opt_str, try_int64, ConvertError};
use super::types::{daily_point, field, sample_point};
use super::{Context, Measurement, USER_TAG};
use crate::point::FieldKind::{Bool, Float, Int, Str};
use crate::point::Point;
use serde_json::Value;

const DAILY: &str = super::DAILY_TIME;

pub static HEART_RATE_ZONES: Measurement = Measurement {
    name: "heart_rate_zones",
    doc: "the day's heart-rate zone bounds",
    time: DAILY,
    tags: &[USER_TAG],
    fields: &[
        field("light_min_bpm", Int, "bpm", "light zone from"),
        field("light_max_bpm", Int, "bpm", "light zone to"),
        field("moderate_min_bpm", Int, "bpm", "moderate zone from"),
        field("moderate_max_bpm", Int, "bpm", "moderate zone to"),
        field("vigorous_min_bpm", Int, "bpm", "vigorous zone from"),
        field("vigorous_max_bpm", Int, "bpm", "vigorous zone to"),
        field("peak_min_bpm", Int, "bpm", "peak zone from"),
        field("peak_max_bpm", Int, "bpm", "peak zone to"),
    ],
};

pub static HRV: Measurement = Measurement {
    name: "hrv",
    doc: "heart-rate variability samples (during sleep)",
    time: "the sample's instant",
    tags: &[USER_TAG],
    fields: &[
        field(
            "rmssd_ms",
            Float,
            "ms",
            "root mean square of successive differences",
        ),
        field(
            "sdnn_ms",
            Float,
            "ms",
            "standard deviation of beat intervals",
        ),
    ],
};

pub static HRV_DAILY: Measurement = Measurement {
    name: "hrv_daily",
    doc: "the night's heart-rate variability, on the day the sleep ends",
    time: DAILY,
    tags: &[USER_TAG],
    fields: &[
        field("avg_ms", Float, "ms", "average HRV (RMSSD)"),
        field("deep_sleep_rmssd_ms", Float, "ms", "RMSSD in deep sleep"),
        field("non_rem_bpm", Int, "bpm", "non-REM heart rate"),
        field("entropy", Float, "", "entropy of beat intervals"),
    ],
};

pub static SPO2: Measurement = Measurement {
    name: "spo2",
    doc: "blood oxygen saturation samples (during sleep)",
    time: "the sample's instant",
    tags: &[USER_TAG],
    fields: &[field("pct", Float, "%", "oxygen saturation")],
};

pub static SPO2_DAILY: Measurement = Measurement {
    name: "spo2_daily",
    doc: "the night's oxygen saturation",
    time: DAILY,
    tags: &[USER_TAG],
    fields: &[
        field("avg_pct", Float, "%", "average"),
        field("min_pct", Float, "%", "lower bound"),
        field("max_pct", Float, "%", "upper bound"),
        field("stddev_pct", Float, "%", "standard deviation"),
    ],
};

pub static RESPIRATORY_RATE_DAILY: Measurement = Measurement {
    name: "respiratory_rate_daily",
    doc: "the night's breathing rate",
    time: DAILY,
    tags: &[USER_TAG],
    fields: &[field("brpm", Float, "breaths/min", "breaths per minute")],
};

pub static RESPIRATORY_RATE_SLEEP: Measurement = Measurement {
    name: "respiratory_rate_sleep",
    doc: "breathing rate per sleep stage, one point per sleep",
    time: "the summary's instant (end of the sleep)",
    tags: &[USER_TAG],
    fields: &[
        field("full_brpm", Float, "breaths/min", "whole sleep"),
        field("deep_brpm", Float, "breaths/min", "deep sleep"),
        field("light_brpm", Float, "breaths/min", "light sleep"),
        field("rem_brpm", Float, "breaths/min", "REM sleep"),
    ],
};

pub static SLEEP_TEMPERATURE: Measurement = Measurement {
    name: "sleep_temperature",
    doc: "skin temperature during sleep; the baseline needs a few nights and is absent until then",
    time: DAILY,
    tags: &[USER_TAG],
    fields: &[
        field("nightly_c", Float, "°C", "the night's temperature"),
        field("baseline_c", Float, "°C", "personal baseline"),
        field(
            "deviation_c",
            Float,
            "°C",
            "nightly minus baseline (absent without a baseline)",
        ),
        field(
            "stddev_30d_c",
            Float,
            "°C",
            "30-day standard deviation of the nightly value",
        ),
    ],
};

pub static VO2MAX_DAILY: Measurement = Measurement {
    name: "vo2max_daily",
    doc: "cardio fitness score",
    time: DAILY,
    tags: &[USER_TAG],
    fields: &[
        field("vo2max", Float, "ml/kg/min", "VO2 max"),
        field("estimated", Bool, "", "estimated (not from a measured run)"),
        field(
            "fitness_level",
            Str,
            "",
            "poor, fair, average, good, very_good or excellent",
        ),
    ],
};

pub static RUN_VO2MAX: Measurement = Measurement {
    name: "run_vo2max",
    doc: "VO2 max estimated from a run",
    time: "the sample's instant",
    tags: &[USER_TAG],
    fields: &[field("vo2max", Float, "ml/kg/min", "VO2 max")],
};

pub fn heart_rate_zones(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let mut p = daily_point(v, cx, "dailyHeartRateZones", &HEART_RATE_ZONES)?;
    for z in v
        .pointer("/dailyHeartRateZones/heartRateZones")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (lo, hi) = match z.get("heartRateZoneType").and_then(Value::as_str) {
            Some("LIGHT") => ("light_min_bpm", "light_max_bpm"),
            Some("MODERATE") => ("moderate_min_bpm", "moderate_max_bpm"),
            Some("VIGOROUS") => ("vigorous_min_bpm", "vigorous_max_bpm"),
            Some("PEAK") => ("peak_min_bpm", "peak_max_bpm"),
            _ => continue,
        };
        p = p.int_opt(lo, try_int64(z, "minBeatsPerMinute")?);
        p = p.int_opt(hi, try_int64(z, "maxBeatsPerMinute")?);
    }
    Ok(vec![p])
}

pub fn hrv(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let k = "heartRateVariability";
    let mut p = sample_point(v, cx, k, &HRV)?.float_opt(
        "rmssd_ms",
        double(
            v,
            &format!("{k}/rootMeanSquareOfSuccessiveDifferencesMilliseconds"),
        )?,
    );
    p = p.float_opt(
        "sdnn_ms",
        // Pixel Watches send exactly 0 for "not measured" (reference §11 #14): absent, not 0.
        opt_double(v, &format!("{k}/standardDeviationMilliseconds"))?.filter(|sd| *sd != 0.0),
    );
    Ok(vec![p])
}

pub fn hrv_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let k = "dailyHeartRateVariability";
    let mut p = daily_point(v, cx, k, &HRV_DAILY)?.float_opt(
        "avg_ms",
        double(v, &format!("{k}/averageHeartRateVariabilityMilliseconds"))?,
    );
    p = p.float_opt(
        "deep_sleep_rmssd_ms",
        opt_double(
            v,
            &format!("{k}/deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds"),
        )?,
    );
    p = p.int_opt(
        "non_rem_bpm",
        try_int64(v, &format!("{k}/nonRemHeartRateBeatsPerMinute"))?,
    );
    p = p.float_opt("entropy", opt_double(v, &format!("{k}/entropy"))?);
    Ok(vec![p])
}

pub fn spo2(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    Ok(vec![sample_point(v, cx, "oxygenSaturation", &SPO2)?
        .float_opt(
            "pct",
            double(v, "oxygenSaturation/percentage")?,
        )])
}

pub fn spo2_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let k = "dailyOxygenSaturation";
    let mut p = daily_point(v, cx, k, &SPO2_DAILY)?;
    for (api, name) in [
        ("averagePercentage", "avg_pct"),
        ("lowerBoundPercentage", "min_pct"),
        ("upperBoundPercentage", "max_pct"),
        ("standardDeviationPercentage", "stddev_pct"),
    ] {
        p = p.float_opt(name, opt_double(v, &format!("{k}/{api}"))?);
    }
    Ok(vec![p])
}

pub fn respiratory_rate_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let k = "dailyRespiratoryRate";
    Ok(vec![daily_point(v, cx, k, &RESPIRATORY_RATE_DAILY)?
        .float_opt(
            "brpm",
            double(v, &format!("{k}/breathsPerMinute"))?,
        )])
}

pub fn respiratory_rate_sleep(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let k = "respiratoryRateSleepSummary";
    let mut p = sample_point(v, cx, k, &RESPIRATORY_RATE_SLEEP)?;
    for (api, name) in [
        ("fullSleepStats", "full_brpm"),
        ("deepSleepStats", "deep_brpm"),
        ("lightSleepStats", "light_brpm"),
        ("remSleepStats", "rem_brpm"),
    ] {
        p = p.float_opt(name, opt_double(v, &format!("{k}/{api}/breathsPerMinute"))?);
    }
    Ok(vec![p])
}

pub fn sleep_temperature(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let k = "dailySleepTemperatureDerivations";
    let nightly = opt_double(v, &format!("{k}/nightlyTemperatureCelsius"))?;
    let baseline = opt_double(v, &format!("{k}/baselineTemperatureCelsius"))?;
    let stddev = opt_double(v, &format!("{k}/relativeNightlyStddev30dCelsius"))?;
    // The deviation exists only when both temperatures do; a point without fields is not written.
    let deviation = nightly
        .zip(baseline)
        .map(|(n, b)| ((n - b) * 1000.0).round() / 1000.0);
    Ok(vec![daily_point(v, cx, k, &SLEEP_TEMPERATURE)?
        .float_opt("nightly_c", nightly)
        .float_opt("baseline_c", baseline)
        .float_opt("deviation_c", deviation)
        .float_opt("stddev_30d_c", stddev)])
}

pub fn vo2max_daily(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let k = "dailyVo2Max";
    let mut p = daily_point(v, cx, k, &VO2MAX_DAILY)?
        .float_opt("vo2max", double(v, &format!("{k}/vo2Max"))?);
    p = p.bool_opt("estimated", opt_bool(v, &format!("{k}/estimated")));
    p = p.string_opt(
        "fitness_level",
        opt_str(v, &format!("{k}/cardioFitnessLevel")).map(|level| level.to_ascii_lowercase()),
    );
    Ok(vec![p])
}

pub fn run_vo2max(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    Ok(vec![sample_point(v, cx, "runVo2Max", &RUN_VO2MAX)?
        .float_opt("vo2max", double(v, "runVo2Max/runVo2Max")?)])
}
