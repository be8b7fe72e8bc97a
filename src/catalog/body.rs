//! Body measurements and paired devices. Units: millimetres → metres.

use super::read::{double, int64, opt_str, timestamp, try_int64, ConvertError};
use super::types::{device, field, sample_point, DEVICE_TAG};
use super::{Context, Measurement, Tag, USER_TAG};
use crate::point::FieldKind::{Float, Int, Str};
use crate::point::Point;
use serde_json::Value;

pub static BODY_FAT: Measurement = Measurement {
    name: "body_fat",
    doc: "body-fat measurements (scale or manual)",
    time: "the measurement's instant",
    tags: &[USER_TAG, DEVICE_TAG],
    fields: &[field("pct", Float, "%", "body fat")],
};

pub static HEIGHT: Measurement = Measurement {
    name: "height",
    doc: "height entries",
    time: "the entry's instant",
    tags: &[USER_TAG],
    fields: &[field("m", Float, "m", "height")],
};

pub static DEVICE: Measurement = Measurement {
    name: "device",
    doc: "paired devices, polled every round (a history of battery levels and syncs)",
    time: "when the daemon polled",
    tags: &[
        USER_TAG,
        Tag {
            name: "device",
            doc: "the device model (Pixel Watch 3, Aria Air, …)",
        },
        Tag {
            name: "kind",
            doc: "tracker or scale",
        },
    ],
    fields: &[
        field("battery_pct", Int, "%", "battery level"),
        field("battery_status", Str, "", "high, medium, low or empty"),
        field(
            "last_sync_epoch_s",
            Int,
            "s",
            "last sync with the phone, Unix seconds",
        ),
    ],
};

pub fn body_fat(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let mut p = sample_point(v, cx, "bodyFat", &BODY_FAT)?
        .float_opt("pct", double(v, "bodyFat/percentage")?);
    if let Some(d) = device(v) {
        p = p.tag("device", d);
    }
    Ok(vec![p])
}

pub fn height(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    Ok(vec![sample_point(v, cx, "height", &HEIGHT)?.float(
        "m",
        int64(v, "height/heightMillimeters")? as f64 / 1000.0,
    )])
}

pub fn device_snapshot(v: &Value, cx: &Context) -> Result<Vec<Point>, ConvertError> {
    let mut p = Point::new(DEVICE.name, cx.now).tag("user", cx.user);
    if let Some(d) = opt_str(v, "deviceVersion") {
        p = p.tag("device", d);
    }
    if let Some(kind) = opt_str(v, "deviceType") {
        p = p.tag("kind", kind.to_ascii_lowercase());
    }
    p = p.int_opt("battery_pct", try_int64(v, "batteryLevel")?);
    p = p.string_opt(
        "battery_status",
        opt_str(v, "batteryStatus").map(|s| s.to_ascii_lowercase()),
    );
    if let Ok(t) = timestamp(v, "lastSyncTime") {
        p = p.int("last_sync_epoch_s", t.timestamp());
    }
    Ok(vec![p])
}
