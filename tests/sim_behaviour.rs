//! The simulator's behaviour against the reference: paging, filters, limits, rollups, tokens, quota,
//! faults, and the properties of its synthetic data.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::date_of;
use common::sim::{start, TestSim};
use serde_json::{json, Value};
use std::collections::BTreeMap;

async fn sim(days: u32, hr_every: u32) -> TestSim {
    start(|a| {
        a.end = Some("2026-11-20".parse().unwrap());
        a.days = days;
        a.heart_rate_every = hr_every;
    })
    .await
}

/// The documented behaviour (reference §5): pages of up to 10,000, never empty with a token, the
/// watch the only source.
async fn docs_sim(days: u32, hr_every: u32) -> TestSim {
    start(|a| {
        a.end = Some("2026-11-20".parse().unwrap());
        a.days = days;
        a.heart_rate_every = hr_every;
        a.page_cap = 0;
        a.no_empty_pages = true;
        a.no_phone = true;
    })
    .await
}

fn range_filter(member: &str, from: &str, to: &str) -> String {
    format!(r#"{member} >= "{from}" AND {member} < "{to}""#)
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_day_of_heart_rate_pages_past_10000_to_the_end_newest_first() {
    let s = docs_sim(10, 5).await;
    let t = s.access_token(0).await;
    // 2026-11-19 in Europe/Berlin (UTC+1).
    let f = range_filter(
        "heart_rate.sample_time.physical_time",
        "2026-11-18T23:00:00Z",
        "2026-11-19T23:00:00Z",
    );
    let (points, pages) = s.list_all(&t, "heart-rate", &f, Some(10_000)).await;
    assert_eq!(
        pages, 2,
        "17,280 slots minus an off-wrist gap need two 10,000-point pages"
    );
    let times: Vec<DateTime<Utc>> = points
        .iter()
        .map(|p| instant(&p["heartRate"]["sampleTime"]["physicalTime"]))
        .collect();
    assert!(
        times.len() > 10_000 && times.len() >= 17_280 - 25 * 12,
        "{} samples",
        times.len()
    );
    assert!(
        times.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first, no duplicates across pages"
    );
    assert!(times.iter().all(|t| t.timestamp() % 5 == 0));
    assert_eq!(
        times.first().unwrap().to_rfc3339(),
        "2026-11-19T22:59:55+00:00"
    );
    assert_eq!(
        times.last().unwrap().to_rfc3339(),
        "2026-11-18T23:00:00+00:00"
    );
    // The only gap is one off-wrist stretch of 10-25 minutes.
    let gaps: Vec<i64> = times
        .windows(2)
        .map(|w| (w[0] - w[1]).num_seconds())
        .filter(|g| *g > 5)
        .collect();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!((600..=1505).contains(&gaps[0]), "{gaps:?}");
}

#[tokio::test]
async fn page_sizes_have_the_documented_defaults_and_maxima() {
    let s = docs_sim(40, 5).await;
    let t = s.access_token(0).await;
    let f = range_filter(
        "heart_rate.sample_time.physical_time",
        "2026-11-18T23:00:00Z",
        "2026-11-19T23:00:00Z",
    );
    for (size, expected) in [(None, 1440), (Some("20000"), 10_000), (Some("7"), 7)] {
        let mut q = vec![("filter", f.as_str())];
        if let Some(sz) = size {
            q.push(("pageSize", sz));
        }
        let (_, body, _) = s
            .get(&t, "users/me/dataTypes/heart-rate/dataPoints", &q)
            .await;
        assert_eq!(
            body["dataPoints"].as_array().unwrap().len(),
            expected,
            "pageSize {size:?}"
        );
        assert!(body["nextPageToken"].is_string());
    }
    let (_, body, _) = s
        .get(
            &t,
            "users/me/dataTypes/sleep/dataPoints",
            &[("pageSize", "100")],
        )
        .await;
    assert_eq!(
        body["dataPoints"].as_array().unwrap().len(),
        25,
        "sleep pages hold at most 25"
    );
    // A token used with another filter is refused.
    let tok = body["nextPageToken"].as_str().unwrap();
    let (status, _, _) = s
        .get(
            &t,
            "users/me/dataTypes/sleep/dataPoints",
            &[("pageSize", "10"), ("pageToken", tok)],
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn filters_bound_ranges_exactly_and_sleep_accepts_or() {
    let s = sim(30, 60).await;
    let t = s.access_token(0).await;
    let m = "steps.interval.start_time";
    let (whole, _) = s
        .list_all(
            &t,
            "steps",
            &range_filter(m, "2026-11-15T00:00:00Z", "2026-11-17T00:00:00Z"),
            None,
        )
        .await;
    let (a, _) = s
        .list_all(
            &t,
            "steps",
            &range_filter(m, "2026-11-15T00:00:00Z", "2026-11-16T07:31:00Z"),
            None,
        )
        .await;
    let (b, _) = s
        .list_all(
            &t,
            "steps",
            &range_filter(m, "2026-11-16T07:31:00Z", "2026-11-17T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(
        whole.len(),
        a.len() + b.len(),
        ">= and < split a range without overlap or loss"
    );
    assert!(whole.iter().all(|p| {
        let st = instant(&p["steps"]["interval"]["startTime"]);
        st >= "2026-11-15T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
            && st < "2026-11-17T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    }));
    // Civil-time filters on steps return nothing, as observed on the real API (§4 caveats).
    let (civil, _) = s
        .list_all(
            &t,
            "steps",
            &range_filter(
                "steps.interval.civil_start_time",
                "2026-11-15",
                "2026-11-17",
            ),
            None,
        )
        .await;
    assert!(civil.is_empty());
    // Sleep: sessions ending in either of two disjoint ranges.
    let e = "sleep.interval.end_time";
    let or = format!(
        r#"{e} >= "2026-11-10T00:00:00Z" AND {e} < "2026-11-11T00:00:00Z" OR {e} >= "2026-11-14T00:00:00Z" AND {e} < "2026-11-15T00:00:00Z""#
    );
    // AIP-160: OR binds tighter, so this is `>= 10th AND (< 11th OR >= 14th) AND < 15th`.
    let (sleep, _) = s.list_all(&t, "sleep", &or, None).await;
    let days: std::collections::BTreeSet<String> = sleep
        .iter()
        .map(|p| p["sleep"]["interval"]["endTime"].as_str().unwrap()[..10].to_string())
        .collect();
    assert_eq!(
        days.into_iter().collect::<Vec<_>>(),
        ["2026-11-10", "2026-11-14"]
    );
}

#[tokio::test]
async fn rollups_enforce_their_caps_and_window_rules() {
    let s = sim(120, 60).await;
    let t = s.access_token(0).await;
    let phys = |ty: &str, days: i64, window: &str| {
        let (start, end) = (
            "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::days(days),
        );
        (
            format!("users/me/dataTypes/{ty}/dataPoints:rollUp"),
            json!({"range": {"startTime": start.to_rfc3339(), "endTime": end.to_rfc3339()}, "windowSize": window}),
        )
    };
    for (ty, days, window, ok) in [
        ("heart-rate", 14, "86400s", true),
        ("heart-rate", 15, "86400s", false),
        ("steps", 19, "86400s", true),
        ("steps", 1, "0.5s", false),
        ("steps", 1, "0s", false),
    ] {
        let (path, body) = phys(ty, days, window);
        let (status, resp) = s.post(&t, &path, &body).await;
        assert_eq!(
            status.is_success(),
            ok,
            "{ty} {days} days window {window}: {resp}"
        );
        if window.starts_with('0') {
            assert_eq!(
                resp["error"]["details"][0]["reason"],
                "INVALID_ROLLUP_WINDOW"
            );
        }
    }
    let civil = |y, m, d| json!({"date": {"year": y, "month": m, "day": d}});
    for (start, ok) in [(civil(2026, 8, 22), true), (civil(2026, 8, 21), false)] {
        // 2026-08-22 .. 2026-11-20 is 90 days; one more is over the cap.
        let (status, resp) = s
            .post(
                &t,
                "users/me/dataTypes/steps/dataPoints:dailyRollUp",
                &json!({"range": {"start": start, "end": civil(2026, 11, 20)}}),
            )
            .await;
        assert_eq!(status.is_success(), ok, "{resp}");
    }
}

#[tokio::test]
async fn rollups_equal_the_sums_of_the_raw_points_also_on_a_dst_day() {
    let s = sim(60, 60).await;
    let t = s.access_token(0).await;
    // Daily: the reconciled points' civil start dates, summed independently (rollups are
    // reconciled, reference §11 #4).
    let (raw, _) = s
        .list_all(
            &t,
            "steps:reconcile",
            &range_filter(
                "steps.interval.start_time",
                "2026-10-19T00:00:00Z",
                "2026-11-02T00:00:00Z",
            ),
            Some(10_000),
        )
        .await;
    let mut by_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for p in &raw {
        let d = &p["steps"]["interval"]["civilStartTime"]["date"];
        let date = date_of(d);
        *by_day.entry(date).or_default() += p["steps"]["count"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap();
    }
    let (_, daily) = s
        .post(&t, "users/me/dataTypes/steps/dataPoints:dailyRollUp", &json!({"range": {"start": {"date": {"year": 2026, "month": 10, "day": 20}}, "end": {"date": {"year": 2026, "month": 11, "day": 1}}}}))
        .await;
    let windows = daily["rollupDataPoints"].as_array().unwrap();
    assert_eq!(windows.len(), 12);
    for w in windows {
        let d = &w["civilStartTime"]["date"];
        let date = date_of(d);
        assert_eq!(
            w["steps"]["countSum"],
            json!(by_day[&date].to_string()),
            "{date}"
        );
    }
    // Hourly over 2026-10-25, the day Berlin leaves summer time: 25 hours from midnight to midnight.
    let (raw, _) = s
        .list_all(
            &t,
            "steps:reconcile",
            &range_filter(
                "steps.interval.start_time",
                "2026-10-24T22:00:00Z",
                "2026-10-25T23:00:00Z",
            ),
            None,
        )
        .await;
    let (hr, _) = s
        .list_all(
            &t,
            "heart-rate",
            &range_filter(
                "heart_rate.sample_time.physical_time",
                "2026-10-24T22:00:00Z",
                "2026-10-25T23:00:00Z",
            ),
            None,
        )
        .await;
    let offsets: std::collections::BTreeSet<&str> = hr
        .iter()
        .map(|p| p["heartRate"]["sampleTime"]["utcOffset"].as_str().unwrap())
        .collect();
    assert_eq!(
        offsets.into_iter().collect::<Vec<_>>(),
        ["3600s", "7200s"],
        "the day has both offsets"
    );
    let (newest, oldest) = (
        instant(&hr[0]["heartRate"]["sampleTime"]["physicalTime"]),
        instant(&hr[hr.len() - 1]["heartRate"]["sampleTime"]["physicalTime"]),
    );
    assert_eq!(
        (newest - oldest).num_minutes(),
        25 * 60 - 1,
        "minute samples span the 25-hour day"
    );
    let (_, hourly) = s
        .post(&t, "users/me/dataTypes/steps/dataPoints:rollUp", &json!({"range": {"startTime": "2026-10-24T22:00:00Z", "endTime": "2026-10-25T23:00:00Z"}, "windowSize": "3600s"}))
        .await;
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for p in &raw {
        let st = instant(&p["steps"]["interval"]["startTime"]);
        let hour = st.format("%Y-%m-%dT%H:00:00Z").to_string();
        *expected.entry(hour).or_default() += p["steps"]["count"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap();
    }
    let got: BTreeMap<String, i64> = hourly["rollupDataPoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["startTime"].as_str().unwrap().to_string(),
                w["steps"]["countSum"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn access_tokens_expire() {
    let s = start(|a| {
        a.end = Some("2026-11-20".parse().unwrap());
        a.days = 5;
        a.access_token_ttl = std::time::Duration::from_secs(1);
    })
    .await;
    let t = s.access_token(0).await;
    assert_eq!(s.get(&t, "users/me/profile", &[]).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body, _) = s.get(&t, "users/me/profile", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_per_user_quota_answers_429_with_retry_after() {
    for send_retry_after in [true, false] {
        let s = start(|a| {
            a.end = Some("2026-11-20".parse().unwrap());
            a.days = 5;
            a.users = 2;
            a.quota_per_minute = 5;
            a.no_retry_after = !send_retry_after;
        })
        .await;
        let (t0, t1) = (s.access_token(0).await, s.access_token(1).await);
        for _ in 0..5 {
            assert_eq!(s.get(&t0, "users/me/identity", &[]).await.0, 200);
        }
        let (status, body, headers) = s.get(&t0, "users/me/identity", &[]).await;
        assert_eq!(status, 429);
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(body["error"]["details"][0]["reason"], "RATE_LIMIT_EXCEEDED");
        match headers.get("retry-after") {
            Some(v) => {
                assert!(send_retry_after);
                assert_eq!(v.to_str().unwrap(), "12", "one request per 12 s at 5/min");
            }
            None => assert!(!send_retry_after),
        }
        assert_eq!(
            s.get(&t1, "users/me/identity", &[]).await.0,
            200,
            "the quota is per user"
        );
    }
}

#[tokio::test]
async fn faults_are_injected_into_every_nth_data_request() {
    for (code, status) in [
        (500u16, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (429, "RESOURCE_EXHAUSTED"),
    ] {
        let s = start(|a| {
            a.end = Some("2026-11-20".parse().unwrap());
            a.days = 5;
            a.fail_every = Some(3);
            a.fail_with = code;
        })
        .await;
        let t = s.access_token(0).await;
        let mut got = Vec::new();
        for _ in 0..6 {
            let (st, body, _) = s.get(&t, "users/me/dataTypes/weight/dataPoints", &[]).await;
            got.push(st.as_u16());
            if st.as_u16() == code {
                assert_eq!(body["error"]["status"], status);
            }
        }
        assert_eq!(got, [200, 200, code, 200, 200, code]);
    }
}

#[tokio::test]
async fn the_data_has_dst_an_unworn_day_late_bedtimes_naps_and_consistent_sleep() {
    let s = sim(60, 60).await;
    let t = s.access_token(0).await;
    let first = s.sim.first_day;
    let unworn = s.sim.person(0).unworn_day;
    assert_eq!(unworn, first + Duration::days(10));
    let day = |d: NaiveDate| {
        let start = s.sim.person(0).day_start(d);
        range_filter(
            "heart_rate.sample_time.physical_time",
            &start.to_rfc3339(),
            &(start + Duration::hours(24)).to_rfc3339(),
        )
    };
    assert!(
        s.list_all(&t, "heart-rate", &day(unworn), None)
            .await
            .0
            .is_empty(),
        "no data on the unworn day"
    );
    assert!(!s
        .list_all(&t, "heart-rate", &day(unworn + Duration::days(1)), None)
        .await
        .0
        .is_empty());

    let (sleep, _) = s.list_all(&t, "sleep", "", None).await;
    let mut after_midnight = 0;
    let mut naps = 0;
    for p in &sleep {
        let sl = &p["sleep"];
        let start = instant(&sl["interval"]["startTime"]);
        let offset: i64 = sl["interval"]["startUtcOffset"]
            .as_str()
            .unwrap()
            .trim_end_matches('s')
            .parse()
            .unwrap();
        let local_hour = (start + Duration::seconds(offset))
            .format("%H")
            .to_string()
            .parse::<u32>()
            .unwrap();
        if sl["metadata"]["nap"] == true {
            naps += 1;
            assert_eq!(sl["metadata"]["mainSleep"], false);
        } else if local_hour < 12 {
            after_midnight += 1;
        }
        // Summary minutes agree with the stages, computed here from the stage intervals.
        let mut secs: BTreeMap<String, i64> = BTreeMap::new();
        for st in sl["stages"].as_array().unwrap() {
            let (a, b) = (instant(&st["startTime"]), instant(&st["endTime"]));
            assert_eq!(a.timestamp() % 30, 0, "stages on the 30-s grid");
            *secs
                .entry(st["type"].as_str().unwrap().to_string())
                .or_default() += (b - a).num_seconds();
        }
        let mins = |k: &str| (secs.get(k).copied().unwrap_or(0) + 30) / 60;
        let asleep = if sl["type"] == "STAGES" {
            mins("LIGHT") + mins("DEEP") + mins("REM")
        } else {
            mins("ASLEEP") + mins("RESTLESS")
        };
        assert_eq!(sl["summary"]["minutesAsleep"], json!(asleep.to_string()));
        assert_eq!(
            sl["summary"]["minutesAwake"],
            json!(mins("AWAKE").to_string())
        );
    }
    assert!(after_midnight > 0, "some nights start after midnight");
    assert!(naps > 0, "some naps");
}

#[tokio::test]
async fn without_end_the_latest_day_grows_with_the_wall_clock() {
    let s = start(|a| {
        a.days = 2;
        a.heart_rate_every = 1;
    })
    .await;
    let t = s.access_token(0).await;
    let newest =
        |body: &Value| instant(&body["dataPoints"][0]["heartRate"]["sampleTime"]["physicalTime"]);
    // By default the watch synced a few minutes ago, and nothing after its last sync is in the API
    // (reference §11 #20).
    let (_, devices, _) = s.get(&t, "users/me/pairedDevices", &[]).await;
    let synced = instant(&devices["pairedDevices"][0]["lastSyncTime"]);
    let (_, page, _) = s
        .get(
            &t,
            "users/me/dataTypes/heart-rate/dataPoints",
            &[("pageSize", "1")],
        )
        .await;
    if !page["dataPoints"].is_null() {
        assert!(
            newest(&page) <= synced,
            "no data after the watch's last sync"
        );
        assert!(Utc::now() - synced < Duration::minutes(21));
    }
    // A watch that syncs all the time: the latest day grows with the clock.
    s.sim
        .control
        .set(|c| c.watch_synced = Some(Utc::now() + Duration::days(1)));
    let (_, first, _) = s
        .get(
            &t,
            "users/me/dataTypes/heart-rate/dataPoints",
            &[("pageSize", "1")],
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (_, second, _) = s
        .get(
            &t,
            "users/me/dataTypes/heart-rate/dataPoints",
            &[("pageSize", "1")],
        )
        .await;
    if first["dataPoints"].is_null() {
        return; // the person is off-wrist right now (the morning shower); nothing to compare
    }
    let (a, b) = (newest(&first), newest(&second));
    if a == b && Utc::now() - a > Duration::seconds(10) {
        return; // off-wrist since then (the morning shower): no newer sample to see
    }
    assert!(b > a, "new samples arrived: {a} then {b}");
    assert!(
        Utc::now() - b < Duration::seconds(3),
        "nothing from the future, nothing stale"
    );
}

/// Reference §11 #1–#4 (the simulator's default): pages of at most 5,000 whatever `pageSize` asks,
/// now and then an empty page that still carries a token, dense heart rate, and a phone that also
/// counts steps.
#[tokio::test]
async fn as_observed_pages_hold_5000_some_are_empty_and_the_phone_counts_steps_too() {
    let s = sim(6, 2).await;
    let t = s.access_token(0).await;
    let f = range_filter(
        "heart_rate.sample_time.physical_time",
        "2026-11-14T23:00:00Z",
        "2026-11-19T23:00:00Z",
    );
    let path = "users/me/dataTypes/heart-rate/dataPoints";
    let (mut token, mut times, mut sizes) = (String::new(), Vec::new(), Vec::new());
    loop {
        let mut q = vec![("filter", f.as_str()), ("pageSize", "10000")];
        if !token.is_empty() {
            q.push(("pageToken", &token));
        }
        let (status, body, _) = s.get(&t, path, &q).await;
        assert_eq!(status, 200, "{body}");
        let page = body["dataPoints"].as_array().cloned().unwrap_or_default();
        sizes.push(page.len());
        times.extend(
            page.iter()
                .map(|p| instant(&p["heartRate"]["sampleTime"]["physicalTime"])),
        );
        match body["nextPageToken"].as_str() {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    assert!(sizes.iter().all(|n| *n <= 5000), "{sizes:?}");
    assert!(
        sizes[..sizes.len() - 1].contains(&0),
        "an empty page with a token: {sizes:?}"
    );
    // Dense: a median gap of 2 s, ≈43,000 a worn day, and the empty pages lose nothing.
    assert!(
        times.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
    let mut gaps: Vec<i64> = times
        .windows(2)
        .map(|w| (w[0] - w[1]).num_seconds())
        .collect();
    gaps.sort();
    assert_eq!(gaps[gaps.len() / 2], 2);
    let docs = docs_sim(6, 2).await;
    let dt = docs.access_token(0).await;
    let (all, _) = docs.list_all(&dt, "heart-rate", &f, Some(10_000)).await;
    assert_eq!(
        times.len(),
        all.len(),
        "the same samples as with 10,000-point pages"
    );

    // The phone: on a day's commute both sources report steps; the raw list holds both, the
    // reconciled stream one value per minute (the larger), and dailyRollUp its sum.
    let day = range_filter(
        "steps.interval.start_time",
        "2026-11-18T23:00:00Z",
        "2026-11-19T23:00:00Z",
    );
    let count = |p: &Value| {
        p["steps"]["count"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let start = |p: &Value| instant(&p["steps"]["interval"]["startTime"]);
    let (raw, _) = s.list_all(&t, "steps", &day, None).await;
    let (phone, watch): (Vec<&Value>, Vec<&Value>) = raw
        .iter()
        .partition(|p| p["dataSource"]["device"]["formFactor"] == "PHONE");
    assert!(phone.len() > 20, "{} phone minutes", phone.len());
    let (merged, _) = s.list_all(&t, "steps:reconcile", &day, None).await;
    let mut expected: BTreeMap<DateTime<Utc>, i64> =
        watch.iter().map(|p| (start(p), count(p))).collect();
    for p in &phone {
        let m = expected.entry(start(p)).or_default();
        *m = (*m).max(count(p));
    }
    let got: BTreeMap<DateTime<Utc>, i64> = merged.iter().map(|p| (start(p), count(p))).collect();
    assert_eq!(got, expected, "reconciled = per minute the larger count");
    assert!(merged.iter().all(|p| p.get("dataSource").is_none()));
    let raw_sum: i64 = raw.iter().map(count).sum();
    let merged_sum: i64 = got.values().sum();
    assert!(raw_sum > merged_sum, "{raw_sum} vs {merged_sum}");
    let (_, daily) = s
        .post(&t, "users/me/dataTypes/steps/dataPoints:dailyRollUp", &json!({"range": {"start": {"date": {"year": 2026, "month": 11, "day": 19}}, "end": {"date": {"year": 2026, "month": 11, "day": 20}}}}))
        .await;
    assert_eq!(
        daily["rollupDataPoints"][0]["steps"]["countSum"],
        json!(merged_sum.to_string())
    );
    // The watch-only view.
    let (mut wearables, mut token) = (0, String::new());
    loop {
        let mut q = vec![
            ("filter", day.as_str()),
            (
                "dataSourceFamily",
                "users/me/dataSourceFamilies/google-wearables",
            ),
        ];
        if !token.is_empty() {
            q.push(("pageToken", &token));
        }
        let (_, body, _) = s.get(&t, "users/me/dataTypes/steps/dataPoints", &q).await;
        for p in body["dataPoints"].as_array().into_iter().flatten() {
            assert!(p["dataSource"]["device"]["formFactor"] != "PHONE");
            wearables += count(p);
        }
        match body["nextPageToken"].as_str() {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    assert_eq!(wearables, watch.iter().map(|p| count(p)).sum::<i64>());
}
