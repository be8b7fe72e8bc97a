//! The simulator's HTTP surface: `/token`, `/revoke` and `/v4/users/{user}/...` (reference §3).

use super::control;
use super::errors::ApiError;
use super::filter::{self, Filter};
use super::json;
use super::sources;
use super::types::{self, Record, SimType};
use super::world::{mix, Person};
use super::Sim;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route("/o/oauth2/v2/auth", axum::routing::get(authorize))
        .route("/sim/stats", axum::routing::get(stats))
        .route("/v4/{*path}", any(v4))
        .with_state(sim)
}

async fn authorize(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    sim.auth.authorize(&q)
}

async fn stats(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(sim.auth.stats())
}

async fn token(State(sim): State<Arc<Sim>>, Form(form): Form<HashMap<String, String>>) -> Response {
    if sim.control.get().token_endpoint_down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html("<html><title>503 Service Unavailable</title></html>"),
        )
            .into_response();
    }
    sim.auth.token_endpoint(&form)
}

async fn revoke(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded_pairs(&body);
    let token = q
        .get("token")
        .or_else(|| form.get("token"))
        .cloned()
        .unwrap_or_default();
    sim.auth.revoke(&token)
}

fn serde_urlencoded_pairs(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn not_found(path: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(format!("<!DOCTYPE html><html lang=en><title>Error 404 (Not Found)</title><p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL /v4/{path} was not found on this server. <ins>That’s all we know.</ins></html>")),
    )
        .into_response()
}

async fn v4(
    State(sim): State<Arc<Sim>>,
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let parts: Vec<&str> = path.split('/').collect();
    let (user_ref, rest) = match parts.as_slice() {
        ["users", user, rest @ ..] if !rest.is_empty() => (*user, rest),
        _ => return not_found(&path),
    };
    let user = match sim.auth.authenticate(&headers) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    if sim.control.get().permission_lost {
        return ApiError::resource_permission_denied().into_response();
    }
    let person = sim.person(user);
    if user_ref != "me" && user_ref != person.health_user_id() {
        return ApiError::permission_denied().into_response();
    }
    let is_data = rest.first() == Some(&"dataTypes");
    if is_data {
        if let Some(fault) = sim.auth.injected_fault() {
            return fault.into_response();
        }
    }
    if let Err(e) = sim.auth.take_quota(user) {
        return e.into_response();
    }
    let needs = match rest {
        ["profile"] => Some("profile"),
        ["settings"] | ["pairedDevices"] => Some("settings"),
        ["dataTypes", data_type, ..] => types::find(data_type).map(|t| t.scope),
        _ => None,
    };
    if needs.is_some_and(|scope| !sim.auth.granted(scope)) {
        return ApiError::scope_insufficient().into_response();
    }
    if is_data && sim.control.empty_answer() {
        // Observed: an answer of `200 {}` where there is data (the daemon cannot tell; `verify` can).
        if let ["dataTypes", data_type, op, ..] = rest {
            let method = op
                .split_once(':')
                .map_or(String::new(), |(_, m)| format!(":{m}"));
            sim.auth.count_request(format!("{data_type}{method}"));
        }
        return Answer::Value(json!({})).into_response();
    }
    let result = match (method.as_str(), rest) {
        ("GET", ["profile"]) => Ok(Answer::Value(profile(&sim, &person))),
        ("GET", ["settings"]) => Ok(Answer::Value(settings(&sim, &person))),
        ("GET", ["identity"]) => Ok(Answer::Value(
            json!({"name": format!("users/{user_ref}/identity"), "legacyUserId": person.legacy_user_id(), "healthUserId": person.health_user_id()}),
        )),
        ("GET", ["pairedDevices"]) => {
            sim.auth.count_request("pairedDevices".into());
            Ok(Answer::Value(paired_devices(&sim, &person)))
        }
        (m, ["dataTypes", data_type, op]) => {
            let method = op
                .split_once(':')
                .map_or(String::new(), |(_, m)| format!(":{m}"));
            sim.auth.count_request(format!("{data_type}{method}"));
            data_points(&sim, &person, m, data_type, op, &query, &body)
        }
        _ => return not_found(&path),
    };
    match result {
        Ok(v) => v.into_response(),
        Err(e) => e.into_response(),
    }
}

fn profile(sim: &Sim, p: &Person) -> Value {
    json!({
        "name": format!("users/{}/profile", p.health_user_id()),
        "age": 30 + p.index,
        "membershipStartDate": json::date(sim.first_day),
        "userConfiguredWalkingStrideLengthMm": p.stride_mm(),
        "userConfiguredRunningStrideLengthMm": p.stride_mm() + 250,
        "autoWalkingStrideLengthMm": p.stride_mm() + 12,
        "autoRunningStrideLengthMm": p.stride_mm() + 310,
    })
}

fn settings(sim: &Sim, p: &Person) -> Value {
    json!({
        "name": format!("users/{}/settings", p.health_user_id()),
        "autoStrideEnabled": true,
        "distanceUnit": "DISTANCE_UNIT_KILOMETERS", "foodLanguageCode": "de-DE", "glucoseUnit": "GLUCOSE_UNIT_MG_DL",
        "heightUnit": "HEIGHT_UNIT_CENTIMETERS", "languageLocale": "de-DE",
        "strideLengthRunningType": "STRIDE_LENGTH_TYPE_DEFAULT", "strideLengthWalkingType": "STRIDE_LENGTH_TYPE_DEFAULT",
        "swimUnit": "SWIM_UNIT_METERS", "temperatureUnit": "TEMPERATURE_UNIT_CELSIUS",
        "timeZone": p.tz.name(), "utcOffset": json::duration(p.offset_seconds(sim.now()) as i64),
        "waterUnit": "WATER_UNIT_ML", "weightUnit": "WEIGHT_UNIT_KILOGRAMS",
    })
}

fn paired_devices(sim: &Sim, p: &Person) -> Value {
    let now = sim.now();
    let hours_since_charge = (now.timestamp() / 3600 + p.index as i64 * 7).rem_euclid(72);
    let battery = (100 - hours_since_charge * 4 / 3).clamp(5, 100);
    let status = match battery {
        60.. => "High",
        25..=59 => "Medium",
        10..=24 => "Low",
        _ => "Empty",
    };
    let id = p.health_user_id();
    json!({"pairedDevices": [
        {"name": format!("users/{id}/pairedDevices/{}", mix(p.seed ^ 0xd1 ^ p.index as u64) % 1_000_000_000),
         "deviceType": "TRACKER", "deviceVersion": "Pixel Watch 3", "batteryLevel": battery, "batteryStatus": status,
         "lastSyncTime": json::timestamp(sim.control.watch_synced(now)),
         "macAddress": "3A:91:5C:00:00:0", "features": ["SLEEP", "STEPS", "HEART_RATE", "SPO2", "GPS", "ACTIVE_ZONE_MINUTES"]},
        {"name": format!("users/{id}/pairedDevices/{}", mix(p.seed ^ 0xd2 ^ p.index as u64) % 1_000_000_000),
         "deviceType": "SCALE", "deviceVersion": "Aria Air", "batteryLevel": 80, "batteryStatus": "High",
         "lastSyncTime": json::timestamp(last_weigh_in(p, now)),
         "macAddress": "3A:91:5C:00:00:1", "features": ["WEIGHT"]},
    ]})
}

/// The scale uploads right after each weigh-in: its last sync is the latest weigh-in (or the first
/// day, for a scale never stepped on).
fn last_weigh_in(p: &Person, now: DateTime<Utc>) -> DateTime<Utc> {
    let mut day = p.civil_day(now);
    for _ in 0..60 {
        if let Some((t, _)) = p.weight(day).filter(|(t, _)| *t <= now) {
            return t + Duration::seconds(20);
        }
        day -= Duration::days(1);
    }
    p.day_start(p.first_day)
}

fn data_points(
    sim: &Sim,
    p: &Person,
    method: &str,
    data_type: &str,
    op: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<Answer, ApiError> {
    if !types::API_TYPES.contains(&data_type) {
        return Err(ApiError::unknown_data_type(data_type));
    }
    let t = types::find(data_type);
    let action = op.split_once(':').map_or("list", |(_, a)| a);
    if sim
        .args
        .refused_actions
        .iter()
        .any(|r| *r == format!("{data_type}:{action}"))
    {
        let offered: &[&str] = if types::ROLLUP_ONLY.contains(&data_type) {
            &["rollUp", "dailyRollUp"]
        } else if t.is_some_and(|t| t.rollup.is_some()) {
            &["list", "reconcile", "rollUp", "dailyRollUp"]
        } else {
            &["list", "reconcile"]
        };
        let allowed: Vec<&str> = offered.iter().copied().filter(|a| *a != action).collect();
        return Err(super::rollup::unsupported_action(
            data_type,
            action,
            &allowed.join(","),
        ));
    }
    match (method, op) {
        ("GET", "dataPoints") | ("GET", "dataPoints:reconcile") => {
            if types::ROLLUP_ONLY.contains(&data_type) {
                return Err(super::rollup::unsupported_action(
                    data_type,
                    if op.ends_with(":reconcile") {
                        "reconcile"
                    } else {
                        "list"
                    },
                    "rollUp,dailyRollUp",
                ));
            }
            match t {
                Some(t) => list(sim, p, t, query, op.ends_with(":reconcile")),
                None => Ok(Answer::Value(json!({}))),
            }
        }
        ("POST", "dataPoints:rollUp") => {
            super::rollup::rollup(sim, p, t, data_type, body, false).map(Answer::Value)
        }
        ("POST", "dataPoints:dailyRollUp") => {
            super::rollup::rollup(sim, p, t, data_type, body, true).map(Answer::Value)
        }
        _ => Err(ApiError::new(
            404,
            "NOT_FOUND",
            format!("Method not found: {method} {data_type}/{op}"),
        )),
    }
}

fn page_size(
    query: &HashMap<String, String>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match query.get("pageSize").or_else(|| query.get("page_size")) {
        None => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(0) => Ok(default),
            Ok(n) if n > 0 => Ok((n as usize).min(max)),
            _ => Err(ApiError::invalid_argument(format!(
                "Invalid value for pageSize: {s}"
            ))),
        },
    }
}

pub(super) fn query_hash(parts: &[&str]) -> u64 {
    parts.iter().fold(0, |acc, p| {
        p.bytes().fold(mix(acc ^ 0x9a), |a, b| mix(a ^ b as u64))
    })
}

/// Opaque page tokens: hex of `hash:position`, tied to the request they continue.
pub(super) fn encode_token(hash: u64, position: i64) -> String {
    encode_token_text(hash, &position.to_string())
}

fn encode_token_text(hash: u64, position: &str) -> String {
    format!("{hash:x}:{position}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A list token: the position to continue before (`-1`: the start) and whether the empty page at
/// that position was already served.
fn decode_list_token(token: &str, hash: u64) -> Result<(Option<i64>, bool), ApiError> {
    let (text, emptied) = match token_text(token, hash)? {
        t if t.ends_with(":e") => (t.trim_end_matches(":e").to_string(), true),
        t => (t, false),
    };
    let pos: i64 = text
        .parse()
        .map_err(|_| ApiError::invalid_argument("Invalid page token."))?;
    Ok(((pos >= 0).then_some(pos), emptied))
}

fn token_text(token: &str, hash: u64) -> Result<String, ApiError> {
    let bad = || ApiError::invalid_argument("Invalid page token.");
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let text = String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())?;
    let (h, pos) = text.split_once(':').ok_or_else(bad)?;
    if u64::from_str_radix(h, 16).ok() != Some(hash) {
        return Err(ApiError::invalid_argument(
            "The page token does not belong to this request: all other parameters must stay the same while paging.",
        ));
    }
    Ok(pos.to_string())
}

pub(super) fn decode_token(token: &str, hash: u64) -> Result<i64, ApiError> {
    token_text(token, hash)?
        .parse()
        .map_err(|_| ApiError::invalid_argument("Invalid page token."))
}

fn list(
    sim: &Sim,
    p: &Person,
    t: &SimType,
    query: &HashMap<String, String>,
    reconcile: bool,
) -> Result<Answer, ApiError> {
    let mut size = page_size(query, t.default_page, t.max_page)?;
    if sim.args.page_cap > 0 {
        size = size.min(sim.args.page_cap);
    }
    let filter_text = query.get("filter").map(String::as_str).unwrap_or("");
    let filter = if filter_text.trim().is_empty() {
        Filter::default()
    } else {
        filter::parse(filter_text, t).map_err(|e| {
            let reasons = e.detailed.join(",");
            ApiError::bad_request(
                "INVALID_DATA_POINT_FILTER",
                format!("Invalid data point filter: {}.", e.detailed.join(", ")),
                &e.violations
                    .iter()
                    .map(|v| ("filter", v.clone()))
                    .collect::<Vec<_>>(),
                Some(json!({"detailedReasons": reasons})),
            )
        })?
    };
    let family_text = query.get("dataSourceFamily").map(String::as_str);
    let family = sources::Family::parse(family_text, t.name)?;
    let hash = query_hash(&[
        t.name,
        filter_text,
        &size.to_string(),
        if reconcile { "r" } else { "l" },
        family_text.unwrap_or(""),
    ]);
    let (cursor, emptied) = match query.get("pageToken").filter(|s| !s.is_empty()) {
        Some(tok) => {
            let (pos, emptied) = decode_list_token(tok, hash)?;
            (pos.map(DateTime::<Utc>::from_timestamp_nanos), emptied)
        }
        None => (None, false),
    };
    let position = cursor.map_or(-1, |c| c.timestamp_nanos_opt().unwrap_or(0));
    if !emptied && !sim.args.no_empty_pages && mix(hash ^ position as u64).is_multiple_of(25) {
        // Now and then an empty page that still carries a token to the same place (§11 #2).
        return Ok(Answer::Text(format!(
            r#"{{"nextPageToken":"{}"}}"#,
            encode_token_text(hash, &format!("{position}:e"))
        )));
    }
    let now = sim.now();
    let (lo, hi) = filter.instant_range();
    let mut last = p.last_day.min(p.civil_day(now));
    if let Some(h) = hi {
        last = last.min(p.civil_day(h) + Duration::days(1));
    }
    if let Some(c) = cursor {
        last = last.min(p.civil_day(c) + Duration::days(1));
    }
    let mut first = p.first_day;
    if let Some(l) = lo {
        first = first.max(p.civil_day(l) - Duration::days(1));
    }
    // A device's data is in the API only up to its last sync (reference §11 #20).
    let visible = sim.visible_until(t.name).min(now);
    let mut page: Vec<Record> = Vec::with_capacity(size + 1);
    let mut day = last;
    while day >= first && page.len() <= size {
        let mut recs: Vec<Record> =
            sources::records(p, t, day, family, reconcile, !sim.args.no_phone)
                .into_iter()
                .filter_map(|mut r| {
                    if r.end <= visible {
                        return Some(r);
                    }
                    // The newest sleep, still going on: shown cut at the last sync, without summary.
                    let session = r.sleep.as_deref().filter(|s| s.start < visible)?;
                    let cut = session.in_progress_at(visible);
                    r.end = cut.end;
                    r.sleep = Some(Box::new(cut));
                    Some(r)
                })
                .filter(|r| cursor.is_none_or(|c| r.start < c) && filter.matches(r, t))
                .collect();
        recs.sort_by_key(|r| std::cmp::Reverse(r.start));
        page.extend(recs);
        day -= Duration::days(1);
    }
    // A wide exercise query classifies sessions as generic workouts with fewer metrics (§11 #12).
    let wide_exercise_query = t.name == "exercise"
        && match filter.instant_range() {
            (Some(a), Some(b)) => b - a > Duration::days(31 + 4),
            _ => true,
        };
    let more = page.len() > size;
    page.truncate(size);
    let more = more && !sim.control.drop_token();
    let next_token = more.then(|| {
        let last_start = page.last().expect("a full page").start;
        encode_token(hash, last_start.timestamp_nanos_opt().unwrap_or(0))
    });
    if let Some(render_text) = t.render_text {
        let mut body = String::with_capacity(page.len() * 320 + 200);
        body.push('{');
        if !page.is_empty() {
            body.push_str(r#""dataPoints":["#);
            for (i, r) in page.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                match sim.control.corruption(t.name, r) {
                    None => render_text(p, r, !reconcile, &mut body),
                    Some(how) => {
                        let mut one = String::new();
                        render_text(p, r, !reconcile, &mut one);
                        let mut v: Value = serde_json::from_str(&one).expect("rendered JSON");
                        control::corrupt(&mut v, how);
                        body.push_str(&v.to_string());
                    }
                }
            }
            body.push(']');
        }
        if let Some(tok) = &next_token {
            if !page.is_empty() {
                body.push(',');
            }
            body.push_str(&format!(r#""nextPageToken":"{tok}""#));
        }
        body.push('}');
        return Ok(Answer::Text(body));
    }
    let mut out = Map::new();
    if !page.is_empty() {
        let points: Vec<Value> = page
            .iter()
            .map(|r| {
                let mut v = (t.render)(p, r);
                if r.phone {
                    v["dataSource"] = sources::phone_source();
                }
                if wide_exercise_query {
                    downgrade_exercise(&mut v);
                }
                if let Some(how) = sim.control.corruption(t.name, r) {
                    control::corrupt(&mut v, how);
                }
                if reconcile {
                    // ReconciledDataPoint: no dataSource, `dataPointName` instead of `name` (§3.3).
                    let o = v.as_object_mut().expect("data points are objects");
                    o.remove("dataSource");
                    if let Some(name) = o.remove("name") {
                        o.insert("dataPointName".into(), name);
                    }
                }
                v
            })
            .collect();
        out.insert("dataPoints".into(), Value::Array(points));
    }
    if let Some(tok) = next_token {
        out.insert("nextPageToken".into(), json!(tok));
    }
    Ok(Answer::Value(Value::Object(out)))
}

/// The poorer form of an exercise a wide query returns: `WORKOUT`, without distance, pace, elevation
/// or VO2 max; same `name`, so a narrow fetch later tells it is the same session.
fn downgrade_exercise(v: &mut Value) {
    let Some(e) = v.get_mut("exercise").and_then(Value::as_object_mut) else {
        return;
    };
    e.insert("exerciseType".into(), json!("WORKOUT"));
    e.insert("displayName".into(), json!("Workout"));
    if let Some(m) = e.get_mut("metricsSummary").and_then(Value::as_object_mut) {
        for k in [
            "distanceMillimeters",
            "averageSpeedMillimetersPerSecond",
            "elevationGainMillimeters",
            "runVo2Max",
        ] {
            m.remove(k);
        }
    }
}

/// A successful answer: JSON built as a `Value`, or already written as text.
pub enum Answer {
    Value(Value),
    Text(String),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Value(v) => Json(v).into_response(),
            Answer::Text(t) => {
                ([(axum::http::header::CONTENT_TYPE, "application/json")], t).into_response()
            }
        }
    }
}
