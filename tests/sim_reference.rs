//! The simulator's JSON against examples transcribed from the reference
//! (shared/reference/google-health-api.md): field names, nesting and which values are strings must
//! match, so the simulator cannot drift into agreeing only with our own client.

mod common;

use common::sim::{start, TestSim};
use serde_json::{json, Value};

/// Asserts that `actual` has every key of `reference`, recursively, with the same JSON type
/// (string vs number vs object vs array vs bool). Arrays compare their first elements.
fn assert_shape(reference: &Value, actual: &Value, path: &str) {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    assert_eq!(
        kind(reference),
        kind(actual),
        "{path}: reference {reference} vs simulator {actual}"
    );
    match (reference, actual) {
        (Value::Object(r), Value::Object(a)) => {
            for (k, rv) in r {
                // TimeOfDay fields are left out when zero (proto3), so 23:59:00 has no `seconds`.
                if path.ends_with(".time") && a.get(k).is_none() {
                    continue;
                }
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing in simulator output {actual}"));
                assert_shape(rv, av, &format!("{path}.{k}"));
            }
        }
        (Value::Array(r), Value::Array(a)) => {
            if let (Some(r0), Some(a0)) = (r.first(), a.first()) {
                assert_shape(r0, a0, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

async fn sim() -> TestSim {
    start(|a| {
        a.end = Some("2026-11-20".parse().unwrap());
        a.days = 60;
        a.heart_rate_every = 60;
        // Shapes are read from a first page; the occasional empty one (reference §11 #2) is
        // tested in sim_behaviour.rs.
        a.no_empty_pages = true;
    })
    .await
}

const DAY: &str = r#"AND {m} < "2026-11-20T23:00:00Z""#;

fn day_filter(member: &str) -> String {
    format!(
        r#"{member} >= "2026-11-19T23:00:00Z" {}"#,
        DAY.replace("{m}", member)
    )
}

/// §3.1 list example (steps).
const STEPS_LIST: &str = r#"{"dataPoints": [{
  "dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED"},
  "steps": {"count": "100", "interval": {
    "startTime": "2026-01-08T01:54:00Z", "startUtcOffset": "-14400s", "endTime": "2026-01-08T01:55:00Z", "endUtcOffset": "-14400s",
    "civilStartTime": {"date": {"year": 2026, "month": 1, "day": 7}, "time": {"hours": 21, "minutes": 54}},
    "civilEndTime": {"date": {"year": 2026, "month": 1, "day": 7}, "time": {"hours": 21, "minutes": 55}}}}}],
  "nextPageToken": "opaque"}"#;

/// §5 heart-rate (FIX list_heart_rate_nofilter.json).
const HEART_RATE: &str = r#"{"dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED"},
 "heartRate": {"beatsPerMinute": "60", "sampleTime": {"physicalTime": "2026-01-08T02:25:14Z", "utcOffset": "-14400s",
   "civilTime": {"date": {"year": 2026, "month": 1, "day": 7}, "time": {"hours": 22, "minutes": 25, "seconds": 14}}}}}"#;

/// §5 daily-resting-heart-rate (FIX filter_daily-resting-heart-rate__date.json).
const RESTING: &str = r#"{"dailyRestingHeartRate": {"beatsPerMinute": "60", "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"}, "date": {"day": 6, "month": 1, "year": 2026}},
 "dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "DERIVED"}}"#;

/// §5 sleep (FIX list_sleep.json).
const SLEEP: &str = r#"{"name": "users/x/dataTypes/sleep/dataPoints/1",
 "dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "DERIVED"},
 "sleep": {
   "interval": {"startTime": "2026-01-06T07:31:00Z", "startUtcOffset": "-14400s", "endTime": "2026-01-06T14:50:00Z", "endUtcOffset": "-14400s"},
   "type": "STAGES",
   "stages": [{"startTime": "2026-01-06T07:31:00Z", "startUtcOffset": "-14400s", "endTime": "2026-01-06T07:37:00Z", "endUtcOffset": "-14400s", "type": "AWAKE"}],
   "metadata": {"mainSleep": true, "processed": true, "stagesStatus": "SUCCEEDED"},
   "summary": {"minutesAfterWakeUp": "0", "minutesAsleep": "390", "minutesAwake": "10", "minutesInSleepPeriod": "400", "minutesToFallAsleep": "5",
     "stagesSummary": [{"type": "AWAKE", "minutes": "60", "count": "100"}]},
   "createTime": "2026-01-06T08:00:50.661487Z", "updateTime": "2026-01-06T14:57:45.142575Z"}}"#;

/// §3.5 dailyRollUp response (FIX rollup_steps__nested_date.json).
const DAILY_ROLLUP: &str = r#"{"rollupDataPoints": [
  {"civilStartTime": {"date": {"year": 2026, "month": 1, "day": 6}, "time": {}},
   "civilEndTime":   {"date": {"year": 2026, "month": 1, "day": 7}, "time": {}},
   "steps": {"countSum": "9000"}}]}"#;

/// §3.4 rollUp response (heart-rate).
const ROLLUP_HR: &str = r#"{"rollupDataPoints": [{"startTime": "2026-11-20T23:00:00Z", "endTime": "2026-11-21T00:00:00Z",
  "heartRate": {"beatsPerMinuteAvg": 64.2, "beatsPerMinuteMax": 97, "beatsPerMinuteMin": 55}}]}"#;

/// §3.7 profile, settings, identity, pairedDevices.
const PROFILE: &str = r#"{"name": "users/x/profile", "age": 30, "membershipStartDate": {"year": 2026, "month": 1, "day": 2},
 "userConfiguredWalkingStrideLengthMm": 700, "userConfiguredRunningStrideLengthMm": 900}"#;
const SETTINGS: &str = r#"{"name": "users/x/settings", "autoStrideEnabled": true, "distanceUnit": "DISTANCE_UNIT_MILES",
 "timeZone": "America/New_York", "utcOffset": "-14400s", "weightUnit": "WEIGHT_UNIT_POUNDS"}"#;
const IDENTITY: &str = r#"{"name": "users/me/identity", "legacyUserId": "A1B2C3", "healthUserId": "8512524441117254421"}"#;
const DEVICES: &str = r#"{"pairedDevices": [{"name": "users/x/pairedDevices/1", "deviceType": "TRACKER", "deviceVersion": "Fitbit Air",
  "batteryLevel": 80, "batteryStatus": "High", "lastSyncTime": "2026-01-08T02:26:07Z", "macAddress": "x", "features": ["SLEEP"]}]}"#;

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[tokio::test]
async fn data_points_have_the_reference_shapes() {
    let s = sim().await;
    let t = s.access_token(0).await;
    let filter = day_filter("steps.interval.start_time");
    let (_, steps, _) = s
        .get(
            &t,
            "users/me/dataTypes/steps/dataPoints",
            &[("filter", &filter), ("pageSize", "5")],
        )
        .await;
    assert_shape(&parse(STEPS_LIST), &steps, "steps");

    let filter = day_filter("heart_rate.sample_time.physical_time");
    let (_, hr, _) = s
        .get(
            &t,
            "users/me/dataTypes/heart-rate/dataPoints",
            &[("filter", &filter)],
        )
        .await;
    assert_shape(&parse(HEART_RATE), &hr["dataPoints"][0], "heart-rate");

    let (_, rhr, _) = s
        .get(
            &t,
            "users/me/dataTypes/daily-resting-heart-rate/dataPoints",
            &[("filter", r#"daily_resting_heart_rate.date >= "2026-11-10""#)],
        )
        .await;
    assert_shape(
        &parse(RESTING),
        &rhr["dataPoints"][0],
        "daily-resting-heart-rate",
    );

    let (_, sleep, _) = s.get(&t, "users/me/dataTypes/sleep/dataPoints", &[]).await;
    let main = sleep["dataPoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sleep"]["type"] == "STAGES")
        .unwrap();
    assert_shape(&parse(SLEEP), main, "sleep");
    assert!(
        main["sleep"]["interval"].get("civilStartTime").is_none(),
        "sleep intervals carry no civil fields (§2)"
    );
}

#[tokio::test]
async fn rollups_and_user_resources_have_the_reference_shapes() {
    let s = sim().await;
    let t = s.access_token(0).await;
    let (status, daily) = s
        .post(&t, "users/me/dataTypes/steps/dataPoints:dailyRollUp", &json!({"range": {"start": {"date": {"year": 2026, "month": 11, "day": 10}}, "end": {"date": {"year": 2026, "month": 11, "day": 17}}}, "windowSizeDays": 1}))
        .await;
    assert_eq!(status, 200, "{daily}");
    assert_shape(&parse(DAILY_ROLLUP), &daily, "dailyRollUp");
    assert_eq!(
        daily["rollupDataPoints"][0]["civilStartTime"]["date"],
        json!({"year": 2026, "month": 11, "day": 16}),
        "newest first"
    );

    let (status, hr) = s
        .post(&t, "users/me/dataTypes/heart-rate/dataPoints:rollUp", &json!({"range": {"startTime": "2026-11-19T00:00:00Z", "endTime": "2026-11-20T00:00:00Z"}, "windowSize": "3600s"}))
        .await;
    assert_eq!(status, 200, "{hr}");
    assert_shape(&parse(ROLLUP_HR), &hr, "rollUp");

    for (path, reference) in [
        ("users/me/profile", PROFILE),
        ("users/me/settings", SETTINGS),
        ("users/me/identity", IDENTITY),
        ("users/me/pairedDevices", DEVICES),
    ] {
        let (status, body, _) = s.get(&t, path, &[]).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_shape(&parse(reference), &body, path);
    }
}

#[tokio::test]
async fn token_answers_match_the_reference() {
    let s = sim().await;
    let a = &s.sim.auth;
    let refresh = a.refresh_token(0).expose().to_string();
    let good = [
        ("grant_type", "refresh_token"),
        ("client_id", a.client_id.as_str()),
        ("client_secret", a.client_secret.expose()),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = s.token(&good).await;
    assert_eq!(status, 200);
    // §1.4: a refresh answer has no refresh_token; expires_in is a number (3599 for an hour).
    assert_shape(
        &json!({"access_token": "ya29.x", "expires_in": 3599, "scope": "a b", "token_type": "Bearer"}),
        &body,
        "token",
    );
    assert_eq!(body["expires_in"], 3599);
    assert!(body.get("refresh_token").is_none());

    let mut wrong_secret = good;
    wrong_secret[2].1 = "nope";
    assert_eq!(
        s.token(&wrong_secret).await,
        (
            reqwest::StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Unauthorized"})
        )
    );

    let mut unknown = good;
    unknown[3].1 = "1//0unknown";
    let expired = json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."});
    assert_eq!(
        s.token(&unknown).await,
        (reqwest::StatusCode::BAD_REQUEST, expired.clone())
    );

    // Revocation (Google's /revoke) makes the refresh token fail the same way.
    let r = s
        .http
        .post(format!("{}/revoke", s.url))
        .query(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.token(&good).await,
        (reqwest::StatusCode::BAD_REQUEST, expired)
    );
}

#[tokio::test]
async fn error_bodies_match_the_reference() {
    let s = sim().await;
    let t = s.access_token(0).await;
    // §6.2 unsupported filter member: the real body, verbatim.
    let filter = r#"daily_resting_heart_rate.interval.civil_start_time >= "2026-01-01" AND daily_resting_heart_rate.interval.civil_start_time < "2026-01-05""#;
    let (status, body, _) = s
        .get(
            &t,
            "users/me/dataTypes/daily-resting-heart-rate/dataPoints",
            &[("filter", filter)],
        )
        .await;
    assert_eq!(status, 400);
    let reference = json!({"error": {"code": 400,
      "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": "health.googleapis.com",
         "metadata": {"detailedReasons": "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER,INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"},
         "reason": "INVALID_DATA_POINT_FILTER"},
        {"@type": "type.googleapis.com/google.rpc.BadRequest",
         "fieldViolations": [
           {"description": "Member 'daily_resting_heart_rate.interval.civil_start_time' is not supported for filtering. (at line 1, column 1)", "field": "filter"},
           {"description": "Member 'daily_resting_heart_rate.interval.civil_start_time' is not supported for filtering. (at line 1, column 72)", "field": "filter"}]}],
      "message": "Invalid data point filter: INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER, INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER.",
      "status": "INVALID_ARGUMENT"}});
    assert_eq!(body, reference);

    // §3.5 bare {year, month, day} in a dailyRollUp range: the real body, verbatim.
    let (status, body) = s
        .post(&t, "users/me/dataTypes/steps/dataPoints:dailyRollUp", &json!({"range": {"start": {"year": 2026}, "end": {"date": {"year": 2026, "month": 1, "day": 7}}}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"code": 400,
      "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
         {"description": "Invalid JSON payload received. Unknown name \"year\" at 'range.start': Cannot find field.", "field": "range.start"}]}],
      "message": "Invalid JSON payload received. Unknown name \"year\" at 'range.start': Cannot find field.",
      "status": "INVALID_ARGUMENT"}})
    );

    // §6.2 401 without and with a bad token.
    let r = s
        .http
        .get(format!("{}/v4/users/me/profile", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Request is missing required authentication credential."));
    let (status, body, headers) = s.get("ya29.forged", "users/me/profile", &[]).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Request had invalid authentication credentials."));
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));

    // Unknown data type (§6.2 INVALID_PARENT_DATA_TYPE_COLLECTION) and list on a rollup-only type.
    let (status, body, _) = s.get(&t, "users/me/dataTypes/stepz/dataPoints", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Invalid data type ID referenced in the parent data type collection: stepz."
    );
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "INVALID_PARENT_DATA_TYPE_COLLECTION"
    );
    for rollup_only in ["floors", "total-calories"] {
        let (status, body, _) = s
            .get(
                &t,
                &format!("users/me/dataTypes/{rollup_only}/dataPoints"),
                &[],
            )
            .await;
        assert_eq!(
            (status.as_u16(), body["error"]["status"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{rollup_only}"
        );
    }
}

#[tokio::test]
async fn a_missing_scope_gets_the_reference_403() {
    let s = start(|a| {
        a.end = Some("2026-11-20".parse().unwrap());
        a.days = 5;
        a.withheld_scopes = vec!["sleep".into(), "settings".into()];
    })
    .await;
    let t = s.access_token(0).await;
    // [AP] access_token_scope_insufficient.json, §6.2.
    let reference = json!({"error": {"code": 403, "message": "Request had insufficient authentication scopes.", "status": "PERMISSION_DENIED",
      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com"}]}});
    for path in [
        "users/me/dataTypes/sleep/dataPoints",
        "users/me/settings",
        "users/me/pairedDevices",
    ] {
        let (status, body, headers) = s.get(&t, path, &[]).await;
        assert_eq!(status, 403, "{path}");
        assert_shape(&reference, &body, path);
        assert_eq!(body["error"]["message"], reference["error"]["message"]);
        assert_eq!(
            body["error"]["details"][0]["reason"],
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
        );
        assert!(headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope"));
    }
    assert_eq!(
        s.get(&t, "users/me/dataTypes/steps/dataPoints", &[])
            .await
            .0,
        200,
        "granted scopes still work"
    );
    assert_eq!(
        s.get(&t, "users/me/identity", &[]).await.0,
        200,
        "identity needs any read scope"
    );
}

#[tokio::test]
async fn the_authorization_code_grant_with_pkce_matches_the_reference() {
    use base64::Engine;
    use sha2::Digest;
    let s = start(|a| {
        a.end = Some("2026-11-20".parse().unwrap());
        a.days = 5;
        a.users = 2;
        a.withheld_scopes = vec!["sleep".into()];
    })
    .await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let a = &s.sim.auth;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let scope = "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly https://www.googleapis.com/auth/googlehealth.sleep.readonly";
    let redirect_uri = "http://127.0.0.1:8765/callback";
    let authorize = |login_hint: &'static str| {
        no_redirects
            .get(format!("{}/o/oauth2/v2/auth", s.url))
            .query(&[
                ("client_id", a.client_id.as_str()),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", scope),
                ("access_type", "offline"),
                ("prompt", "consent"),
                ("state", "csrf-123"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("login_hint", login_hint),
            ])
            .send()
    };
    // §1.2: redirect to redirect_uri?state=…&code=…&scope=<granted scopes>.
    let code_for = |resp: reqwest::Response| {
        assert_eq!(resp.status(), 302);
        let loc = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        assert!(loc.as_str().starts_with(redirect_uri));
        let q: std::collections::HashMap<String, String> = loc.query_pairs().into_owned().collect();
        assert_eq!(q["state"], "csrf-123");
        assert_eq!(
            q["scope"],
            "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
            "the withheld scope is not granted"
        );
        q["code"].clone()
    };
    let code = code_for(authorize("2").await.unwrap());
    let exchange = |code: String, verifier: &'static str, redirect: &'static str| {
        let form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code),
            ("client_id", a.client_id.clone()),
            ("client_secret", a.client_secret.expose().to_string()),
            ("redirect_uri", redirect.to_string()),
            ("code_verifier", verifier.to_string()),
        ];
        let http = s.http.clone();
        let url = format!("{}/token", s.url);
        async move {
            let r = http.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // §1.4: the code grant answers with a refresh token.
    let (status, body) = exchange(code.clone(), verifier, redirect_uri).await;
    assert_eq!(status, 200, "{body}");
    assert_shape(
        &json!({"access_token": "ya29.x", "expires_in": 3599, "refresh_token": "1//0g", "scope": "a", "token_type": "Bearer"}),
        &body,
        "code grant",
    );
    assert_eq!(
        body["refresh_token"],
        a.refresh_token(1).expose(),
        "login_hint chose the second user"
    );
    // §1.5: a code is single-use; a wrong PKCE verifier or redirect_uri is invalid_grant "Bad Request".
    let bad = json!({"error": "invalid_grant", "error_description": "Bad Request"});
    assert_eq!(
        exchange(code, verifier, redirect_uri).await,
        (400, bad.clone()),
        "reused code"
    );
    let code = code_for(authorize("1").await.unwrap());
    assert_eq!(
        exchange(
            code,
            "the-wrong-verifier-of-sufficient-length-0123456789",
            redirect_uri
        )
        .await,
        (400, bad.clone())
    );
    let code = code_for(authorize("1").await.unwrap());
    assert_eq!(
        exchange(code, verifier, "http://127.0.0.1:9999/elsewhere").await,
        (400, bad)
    );
}

/// §5 examples of the further types, transcribed.
const DISTANCE: &str = r#"{"distance": {"interval": {"startTime": "2026-11-20T14:03:00Z", "startUtcOffset": "3600s", "endTime": "2026-11-20T14:04:00Z", "endUtcOffset": "3600s",
  "civilStartTime": {"date": {"year": 2026, "month": 11, "day": 20}, "time": {"hours": 15, "minutes": 3}},
  "civilEndTime": {"date": {"year": 2026, "month": 11, "day": 20}, "time": {"hours": 15, "minutes": 4}}},
  "millimeters": "86420"},
 "dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED"}}"#;
const AZM: &str = r#"{"activeZoneMinutes": {"activeZoneMinutes": "1", "heartRateZone": "FAT_BURN",
  "interval": {"startTime": "2026-01-07T05:27:00Z", "startUtcOffset": "-14400s", "endTime": "2026-01-07T05:28:00Z", "endUtcOffset": "-14400s",
    "civilStartTime": {"date": {"year": 2026, "month": 1, "day": 7}, "time": {"hours": 1, "minutes": 27}},
    "civilEndTime": {"date": {"year": 2026, "month": 1, "day": 7}, "time": {"hours": 1, "minutes": 28}}}},
 "dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "PASSIVELY_MEASURED"}}"#;
const DAILY_HRV: &str = r#"{"dailyHeartRateVariability": {"averageHeartRateVariabilityMilliseconds": 45.0, "date": {"day": 6, "month": 1, "year": 2026},
  "deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds": 40.0, "entropy": 1.5, "nonRemHeartRateBeatsPerMinute": "59"},
 "dataSource": {"device": {}, "platform": "FITBIT", "recordingMethod": "DERIVED"}}"#;
const TEMPERATURE_FIRST_NIGHTS: &str = r#"{"dailySleepTemperatureDerivations": {"date": {"year": 2026, "month": 1, "day": 6},
  "nightlyTemperatureCelsius": 34.5, "baselineTemperatureCelsius": "NaN", "relativeNightlyStddev30dCelsius": "NaN"}}"#;
const EXERCISE: &str = r#"{"name": "users/x/dataTypes/exercise/dataPoints/2026443605080188808",
 "dataSource": {"platform": "FITBIT", "recordingMethod": "ACTIVELY_MEASURED", "device": {"displayName": "Pixel Watch 3"}},
 "exercise": {
   "interval": {"startTime": "2026-11-20T07:15:04Z", "startUtcOffset": "3600s", "endTime": "2026-11-20T08:08:14Z", "endUtcOffset": "3600s",
     "civilStartTime": {"date": {"year": 2026, "month": 11, "day": 20}, "time": {"hours": 8, "minutes": 15, "seconds": 4}},
     "civilEndTime": {"date": {"year": 2026, "month": 11, "day": 20}, "time": {"hours": 9, "minutes": 8, "seconds": 14}}},
   "exerciseType": "RUNNING", "displayName": "Run", "activeDuration": "3065s",
   "metricsSummary": {"caloriesKcal": 712.4, "distanceMillimeters": 10234560, "steps": "8612", "averageHeartRateBeatsPerMinute": "151",
     "elevationGainMillimeters": 87000, "activeZoneMinutes": "38", "runVo2Max": 47.1},
   "exerciseEvents": [{"eventTime": "2026-11-20T07:15:04Z", "eventUtcOffset": "3600s", "exerciseEventType": "START"}],
   "createTime": "2026-11-20T08:09:01Z", "updateTime": "2026-11-20T08:09:01Z"}}"#;

#[tokio::test]
async fn further_types_have_the_reference_shapes_and_reconcile_drops_data_source() {
    let s = sim().await;
    let t = s.access_token(0).await;
    let first = |body: Value| body["dataPoints"][0].clone();
    let filter = day_filter("distance.interval.start_time");
    let (_, d, _) = s
        .get(
            &t,
            "users/me/dataTypes/distance/dataPoints",
            &[("filter", &filter)],
        )
        .await;
    assert_shape(&parse(DISTANCE), &first(d), "distance");
    let (_, azm, _) = s
        .get(&t, "users/me/dataTypes/active-zone-minutes/dataPoints", &[])
        .await;
    assert_shape(&parse(AZM), &first(azm), "active-zone-minutes");
    let (_, hrv, _) = s
        .get(
            &t,
            "users/me/dataTypes/daily-heart-rate-variability/dataPoints",
            &[],
        )
        .await;
    assert_shape(
        &parse(DAILY_HRV),
        &first(hrv),
        "daily-heart-rate-variability",
    );
    // Exercise in a window of ≤ 31 days (a wider one returns poorer sessions, §11 #12).
    let narrow = r#"exercise.interval.civil_start_time >= "2026-10-25T00:00:00" AND exercise.interval.civil_start_time < "2026-11-21T00:00:00""#;
    let (_, ex, _) = s
        .get(
            &t,
            "users/me/dataTypes/exercise/dataPoints",
            &[("filter", narrow)],
        )
        .await;
    assert_shape(&parse(EXERCISE), &first(ex.clone()), "exercise");
    let (_, wide, _) = s
        .get(&t, "users/me/dataTypes/exercise/dataPoints", &[])
        .await;
    let (ex, wide) = (first(ex), first(wide));
    assert_eq!(ex["name"], wide["name"], "the same session");
    assert_eq!(wide["exercise"]["exerciseType"], "WORKOUT");
    assert_ne!(ex["exercise"]["exerciseType"], "WORKOUT");
    assert!(wide["exercise"]["metricsSummary"]["distanceMillimeters"].is_null());
    // The first nights of sleep temperature carry "NaN" strings where a baseline will come.
    let (_, temp, _) = s
        .get(
            &t,
            "users/me/dataTypes/daily-sleep-temperature-derivations/dataPoints",
            &[(
                "filter",
                r#"daily_sleep_temperature_derivations.date < "2026-09-25""#,
            )],
        )
        .await;
    let oldest = temp["dataPoints"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_shape(
        &parse(TEMPERATURE_FIRST_NIGHTS),
        &oldest,
        "daily-sleep-temperature-derivations",
    );
    // §3.3: reconcile has no dataSource and says dataPointName instead of name.
    let (status, rec, _) = s
        .get(
            &t,
            "users/me/dataTypes/sleep/dataPoints:reconcile",
            &[("pageSize", "2")],
        )
        .await;
    assert_eq!(status, 200);
    let p = &rec["dataPoints"][0];
    assert!(
        p.get("dataSource").is_none() && p.get("name").is_none(),
        "{p}"
    );
    assert!(p["dataPointName"]
        .as_str()
        .unwrap()
        .contains("/dataTypes/sleep/dataPoints/"));
    let filter = day_filter("heart_rate.sample_time.physical_time");
    let (_, rec, _) = s
        .get(
            &t,
            "users/me/dataTypes/heart-rate/dataPoints:reconcile",
            &[("filter", &filter), ("pageSize", "3")],
        )
        .await;
    assert!(rec["dataPoints"][0].get("dataSource").is_none());
    assert_shape(
        &parse(HEART_RATE)["heartRate"],
        &rec["dataPoints"][0]["heartRate"],
        "reconciled heart-rate",
    );
}
