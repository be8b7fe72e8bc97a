//! `:rollUp` (physical windows) and `:dailyRollUp` (civil days) for the simulator (reference §3.4–3.5):
//! strict request bodies, the 14/90-day caps and window rules, newest window first, empty windows left out.

use super::api::{decode_token, encode_token, query_hash};
use super::errors::ApiError;
use super::json;
use super::sources;
use super::types::{self, Rollup, SimType};
use super::world::Person;
use super::Sim;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Refuses fields a strict proto3 JSON parser does not know, with Google's message per field.
fn check_fields(v: &Value, at: &str, allowed: &[&str], unknown: &mut Vec<(String, String)>) {
    if let Some(o) = v.as_object() {
        for k in o.keys() {
            if !allowed.contains(&k.as_str()) {
                unknown.push((k.clone(), at.to_string()));
            }
        }
    }
}

fn parse_duration_seconds(s: &str) -> Option<f64> {
    s.strip_suffix('s')?.parse::<f64>().ok()
}

fn civil_of(v: &Value) -> Option<NaiveDateTime> {
    let d = &v["date"];
    let date = NaiveDate::from_ymd_opt(
        d["year"].as_i64()? as i32,
        d["month"].as_u64()? as u32,
        d["day"].as_u64()? as u32,
    )?;
    let t = &v["time"];
    let time = NaiveTime::from_hms_opt(
        t["hours"].as_u64().unwrap_or(0) as u32,
        t["minutes"].as_u64().unwrap_or(0) as u32,
        t["seconds"].as_u64().unwrap_or(0) as u32,
    )?;
    Some(date.and_time(time))
}

#[derive(Default, Clone)]
struct Agg {
    sum: f64,
    n: u64,
    min: f64,
    max: f64,
    /// Sums per zone or level, for categorised rollups.
    by_category: BTreeMap<&'static str, f64>,
}

impl Agg {
    fn add(&mut self, v: f64, category: Option<&'static str>) {
        if self.n == 0 {
            self.min = v;
            self.max = v;
        }
        self.sum += v;
        self.n += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if let Some(c) = category {
            *self.by_category.entry(c).or_default() += v;
        }
    }

    fn value(&self, r: Rollup) -> Value {
        match r {
            Rollup::Sum(name) => json!({ name: json::int64(self.sum as i64) }),
            Rollup::Avg(name) => json!({ name: json::double(self.sum / self.n as f64) }),
            Rollup::AvgMaxMin(prefix) => json!({
                format!("{prefix}Avg"): json::double(self.sum / self.n as f64),
                format!("{prefix}Max"): json::double(self.max),
                format!("{prefix}Min"): json::double(self.min),
            }),
            Rollup::SumDouble(name) => {
                json!({ name: json::double((self.sum * 1000.0).round() / 1000.0) })
            }
            Rollup::CategorySums(names) => {
                let mut o = serde_json::Map::new();
                for (category, name) in names {
                    if let Some(v) = self.by_category.get(category) {
                        o.insert(name.to_string(), json::int64(*v as i64));
                    }
                }
                Value::Object(o)
            }
            Rollup::CategoryList {
                list,
                category_key,
                value_key,
                duration,
            } => {
                let entries: Vec<Value> = self
                    .by_category
                    .iter()
                    .map(|(c, v)| {
                        let v = if duration {
                            json::duration(*v as i64)
                        } else {
                            json::int64(*v as i64)
                        };
                        json!({ category_key: c, value_key: v })
                    })
                    .collect();
                json!({ list: entries })
            }
        }
    }
}

/// `:rollUp` (physical windows) and `:dailyRollUp` (civil days), newest window first, empty windows
/// left out (as observed for AZM, §3.5).
pub(super) fn rollup(
    sim: &Sim,
    p: &Person,
    t: Option<&SimType>,
    data_type: &str,
    body: &[u8],
    daily: bool,
) -> Result<Value, ApiError> {
    let req: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_argument(format!("Invalid JSON payload received. {e}")))?;
    let mut unknown = Vec::new();
    if daily {
        check_fields(
            &req,
            "",
            &[
                "range",
                "windowSizeDays",
                "pageSize",
                "pageToken",
                "dataSourceFamily",
            ],
            &mut unknown,
        );
        check_fields(&req["range"], "range", &["start", "end"], &mut unknown);
        check_fields(
            &req["range"]["start"],
            "range.start",
            &["date", "time"],
            &mut unknown,
        );
        check_fields(
            &req["range"]["end"],
            "range.end",
            &["date", "time"],
            &mut unknown,
        );
    } else {
        check_fields(
            &req,
            "",
            &[
                "range",
                "windowSize",
                "pageSize",
                "pageToken",
                "dataSourceFamily",
            ],
            &mut unknown,
        );
        check_fields(
            &req["range"],
            "range",
            &["startTime", "endTime"],
            &mut unknown,
        );
    }
    if !unknown.is_empty() {
        return Err(ApiError::unknown_fields(&unknown));
    }
    let rollup_kind = t.and_then(|t| t.rollup);
    let cap_days = t
        .map_or(90, |t| t.rollup_cap_days)
        .min(sim.args.rollup_cap_days.unwrap_or(i64::MAX));
    let (start, end, window) = if daily {
        let (Some(s), Some(e)) = (
            civil_of(&req["range"]["start"]),
            civil_of(&req["range"]["end"]),
        ) else {
            return Err(ApiError::invalid_argument(
                "range.start and range.end must be civil date-times with a date.",
            ));
        };
        let days = req["windowSizeDays"].as_i64().unwrap_or(1);
        if days < 1 {
            return Err(rollup_window_error("windowSizeDays must be at least 1."));
        }
        (s.and_utc(), e.and_utc(), Duration::days(days))
    } else {
        let parse = |k: &str| {
            req["range"][k]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let (Some(s), Some(e)) = (parse("startTime"), parse("endTime")) else {
            return Err(ApiError::invalid_argument(
                "range.startTime and range.endTime must be RFC 3339 timestamps.",
            ));
        };
        let secs = req["windowSize"]
            .as_str()
            .and_then(parse_duration_seconds)
            .unwrap_or(0.0);
        if secs < 1.0 {
            return Err(rollup_window_error(
                "The rollup window size must be at least 1 second.",
            ));
        }
        (s, e, Duration::milliseconds((secs * 1000.0) as i64))
    };
    if end <= start {
        return Err(ApiError::invalid_argument(
            "The range end must be after its start.",
        ));
    }
    if end - start > Duration::days(cap_days) {
        // Machine-readable, as observed (reference §11 #6).
        return Err(ApiError::bad_request(
            "INVALID_ROLLUP_QUERY_DURATION",
            format!("The range of a {data_type} rollup must not exceed {cap_days} days."),
            &[(
                "range",
                format!("The range must not exceed {cap_days} days."),
            )],
            Some(json!({"maxDurationDays": cap_days.to_string()})),
        ));
    }
    let Some(kind) = rollup_kind else {
        return match t {
            None if types::API_TYPES.contains(&data_type) => Ok(json!({})),
            _ => Err(unsupported_action(
                data_type,
                if daily { "dailyRollUp" } else { "rollUp" },
                "list,reconcile",
            )),
        };
    };
    let t = t.expect("types with a rollup are simulated");
    if daily {
        // A page size below the number of windows is refused (reference §11 #5).
        let windows =
            ((end - start).num_seconds() + window.num_seconds() - 1) / window.num_seconds();
        if let Some(n) = req["pageSize"].as_i64().filter(|n| *n > 0 && *n < windows) {
            return Err(ApiError::invalid_argument(format!(
                "page_size ({n}) is too small. Must be at least {windows} to cover the requested range with a window_size_days of {}.",
                window.num_days()
            )));
        }
    }
    let family = sources::Family::parse(req["dataSourceFamily"].as_str(), data_type)?;
    let size = match req["pageSize"].as_i64() {
        None | Some(0) => 1440,
        Some(n) if n > 0 => (n as usize).min(10_000),
        Some(n) => {
            return Err(ApiError::invalid_argument(format!(
                "Invalid value for pageSize: {n}"
            )))
        }
    };
    // A device's data is in the API only up to its last sync (reference §11 #20).
    let now = sim.visible_until(t.name).min(sim.now());
    let mut windows: BTreeMap<i64, Agg> = BTreeMap::new();
    // Civil ranges are compared in local wall time (`civil_start` read as UTC), physical ones in UTC.
    let (first_day, last_day) = if daily {
        (start.date_naive() - Duration::days(1), end.date_naive())
    } else {
        (
            p.civil_day(start) - Duration::days(1),
            p.civil_day(end) + Duration::days(1),
        )
    };
    let mut day = first_day.max(p.first_day);
    while day <= last_day.min(p.last_day) {
        for r in sources::records(p, t, day, family, true, !sim.args.no_phone) {
            if r.end > now {
                continue;
            }
            let at = if daily {
                r.date
                    .map_or(r.civil_start, |d| d.and_hms_opt(0, 0, 0).expect("midnight"))
                    .and_utc()
            } else {
                r.start
            };
            if at >= start && at < end {
                let idx = (at - start).num_milliseconds() / window.num_milliseconds();
                windows.entry(idx).or_default().add(r.value, r.category);
            }
        }
        day += Duration::days(1);
    }
    let hash = query_hash(&[
        data_type,
        &String::from_utf8_lossy(body).replace(req["pageToken"].as_str().unwrap_or("\u{0}"), ""),
    ]);
    let offset = match req["pageToken"].as_str().filter(|s| !s.is_empty()) {
        Some(tok) => decode_token(tok, hash)? as usize,
        None => 0,
    };
    let payload_key = t.payload_key;
    let all: Vec<Value> = windows
        .iter()
        .rev()
        .map(|(idx, agg)| {
            let ws = start + window * (*idx as i32);
            let we = (ws + window).min(end);
            let mut v = if daily {
                json!({"civilStartTime": json::civil(ws.naive_utc()), "civilEndTime": json::civil(we.naive_utc())})
            } else {
                json!({"startTime": json::timestamp(ws), "endTime": json::timestamp(we)})
            };
            v[payload_key] = agg.value(kind);
            v
        })
        .collect();
    let mut out = Map::new();
    let page: Vec<Value> = all.iter().skip(offset).take(size).cloned().collect();
    if !page.is_empty() {
        out.insert("rollupDataPoints".into(), Value::Array(page));
    }
    if offset + size < all.len() {
        out.insert(
            "nextPageToken".into(),
            json!(encode_token(hash, (offset + size) as i64)),
        );
    }
    Ok(Value::Object(out))
}

/// 400 `UNSUPPORTED_DATA_TYPE_ACTION` with the actions the type does offer (reference §11 #7).
pub(super) fn unsupported_action(data_type: &str, action: &str, allowed: &str) -> ApiError {
    ApiError::bad_request(
        "UNSUPPORTED_DATA_TYPE_ACTION",
        format!("Data type {data_type} does not support the {action} action."),
        &[],
        Some(json!({"allowed_actions": allowed})),
    )
}

fn rollup_window_error(message: &str) -> ApiError {
    ApiError::bad_request(
        "INVALID_ROLLUP_WINDOW",
        message,
        &[("windowSize", message.to_string())],
        None,
    )
}
