//! What the activity and body panels must show.

use super::truth::*;
use crate::common::grafana::{Cell, Range};
use chrono::Duration;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

impl Truth<'_> {
    pub(crate) async fn expect_activity(&self, title: &str, r: Range) -> Expect {
        let f = |k: &'static str| move |p: &Value| num(&p[k]);
        match title {
            "Days by activity level" => {
                // Whole days of the range from the account's first day on; no rollup window: 0 steps.
                let steps = self.rollup("steps").await;
                let (a, b) = self.view.days(r);
                let mut d = a.max(self.first_day);
                let mut per_day = Vec::new();
                while d <= b {
                    per_day.push(
                        steps
                            .get(&d)
                            .and_then(|p| num(&p["countSum"]))
                            .unwrap_or(0.0),
                    );
                    d += Duration::days(1);
                }
                let class =
                    |pred: fn(f64) -> bool| per_day.iter().filter(|s| pred(**s)).count() as f64;
                Expect::Pie(BTreeMap::from([
                    ("not worn (0 steps)".into(), class(|s| s == 0.0)),
                    ("low (< 500)".into(), class(|s| s > 0.0 && s < 500.0)),
                    (
                        "normal (500-10,000)".into(),
                        class(|s| (500.0..=10_000.0).contains(&s)),
                    ),
                    ("high (> 10,000)".into(), class(|s| s > 10_000.0)),
                ]))
            }
            "Time by intensity" => {
                let mut minutes: BTreeMap<String, f64> = [
                    ("SEDENTARY", "sedentary"),
                    ("LIGHTLY_ACTIVE", "lightly active"),
                    ("MODERATELY_ACTIVE", "fairly active"),
                    ("VERY_ACTIVE", "very active"),
                ]
                .iter()
                .map(|(_, label)| (label.to_string(), 0.0))
                .collect();
                for p in self.list("activity-level", "").await {
                    let l = &p["activityLevel"];
                    let (a, b) = (
                        time(&l["interval"]["startTime"]),
                        time(&l["interval"]["endTime"]),
                    );
                    let label = match l["activityLevelType"].as_str().unwrap() {
                        "SEDENTARY" => "sedentary",
                        "LIGHTLY_ACTIVE" => "lightly active",
                        "MODERATELY_ACTIVE" => "fairly active",
                        "VERY_ACTIVE" => "very active",
                        other => panic!("an activity level {other}"),
                    };
                    if r.contains(a) {
                        *minutes.get_mut(label).unwrap() += (b - a).num_seconds() as f64 / 60.0;
                    }
                }
                Expect::Pie(minutes)
            }
            "Active minutes per day" => {
                let days = self.rollup("active-minutes").await;
                let level = |l: &'static str| {
                    let read = in_list(
                        "activeMinutesRollupByActivityLevel",
                        "activityLevel",
                        l,
                        |x| num(&x["activeMinutesSum"]),
                    );
                    self.column(r, &days, move |p: &Value| read(p))
                };
                cols(vec![
                    ("lightly active", level("LIGHT")),
                    ("fairly active", level("MODERATE")),
                    ("very active", level("VIGOROUS")),
                ])
            }
            "Active Zone Minutes per day" => {
                let mut per_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
                for p in self.list("active-zone-minutes", "").await {
                    let z = &p["activeZoneMinutes"];
                    let d = self.view.date_of(time(&z["interval"]["startTime"]));
                    *per_day.entry(d).or_default() += num(&z["activeZoneMinutes"]).unwrap();
                }
                cols(vec![("AZM", self.per_day(r, per_day))])
            }
            "Calories per day" => {
                let total = self.rollup("total-calories").await;
                let active = self.rollup("active-energy-burned").await;
                cols(vec![
                    ("total", self.column(r, &total, f("kcalSum"))),
                    ("active", self.column(r, &active, f("kcalSum"))),
                ])
            }
            "Distance per day" => {
                let days = self.rollup("distance").await;
                let km = |p: &Value| Some(num(&p["millimetersSum"])? / 1e6);
                cols(vec![("km", self.column(r, &days, km))])
            }
            "Floors per day" => {
                let days = self.rollup("floors").await;
                cols(vec![("floors", self.column(r, &days, f("countSum")))])
            }
            "Exercises" => Expect::Rows(self.exercises(r).await),
            _ => panic!("activity.json: panel {title:?} has no truth in this test: add one"),
        }
    }

    /// The exercise table's rows, fetched four weeks at a time: a wider query returns generic
    /// workouts without distance (reference §11 #12), which the daemon must not be left with.
    pub(crate) async fn exercises(&self, r: Range) -> Vec<Vec<Option<Cell>>> {
        let mut rows: Vec<(i64, Vec<Option<Cell>>)> = Vec::new();
        // Exercise offers only its civil start to filter on (reference §5), in local date-times.
        let (first, last) = self.view.days(r);
        let mut from = first;
        while from <= last {
            let to = (from + Duration::days(27)).min(last);
            let filter = format!(
                r#"exercise.interval.civil_start_time >= "{from}T00:00:00" AND exercise.interval.civil_start_time < "{}T00:00:00""#,
                to + Duration::days(1)
            );
            for p in self.list("exercise", &filter).await {
                let e = &p["exercise"];
                let (a, b) = (
                    time(&e["interval"]["startTime"]),
                    time(&e["interval"]["endTime"]),
                );
                let m = |k: &str| num(&e["metricsSummary"][k]);
                let km = m("distanceMillimeters").map(|mm| mm / 1e6);
                let pace = km.and_then(|km| Some(secs(&e["activeDuration"])? / 60.0 / km));
                if !r.contains(a) {
                    continue;
                }
                let t = a.timestamp_millis();
                let cells = [
                    Some((b - a).num_seconds() as f64),
                    km,
                    pace,
                    m("caloriesKcal"),
                    m("averageHeartRateBeatsPerMinute"),
                    m("activeZoneMinutes"),
                    m("steps"),
                ];
                let mut row = vec![Some(Cell::Num(t as f64))];
                row.extend(cells.into_iter().map(|c| c.map(Cell::Num)));
                rows.push((t, row));
            }
            from = to + Duration::days(1);
        }
        rows.sort_by_key(|(t, _)| *t);
        rows.into_iter().map(|(_, r)| r).collect()
    }

    pub(crate) async fn expect_body(&self, title: &str, r: Range) -> Expect {
        // Each weigh-in's day, in the person's zone; several on a day are averaged.
        let mean_per_day = |points: Vec<(DateTime<Utc>, f64)>| {
            let mut days: BTreeMap<NaiveDate, (f64, f64)> = BTreeMap::new();
            for (t, v) in points {
                let e = days.entry(self.view.date_of(t)).or_default();
                *e = (e.0 + v, e.1 + 1.0);
            }
            days.into_iter().map(|(d, (s, n))| (d, s / n)).collect()
        };
        let sample = |p: &Value, key: &str, value: &str| {
            let v = &p[key];
            Some((time(&v["sampleTime"]["physicalTime"]), num(&v[value])?))
        };
        match title {
            "Weight" | "BMI" => {
                let weights: Vec<(DateTime<Utc>, f64)> = self
                    .list("weight", "")
                    .await
                    .iter()
                    .filter_map(|p| sample(p, "weight", "weightGrams"))
                    .map(|(t, g)| (t, g / 1000.0))
                    .collect();
                if title == "Weight" {
                    return cols(vec![("kg", self.per_day(r, mean_per_day(weights)))]);
                }
                // BMI from the latest height (the list is newest first).
                let heights = self.list("height", "").await;
                let (_, mm) = sample(&heights[0], "height", "heightMillimeters").unwrap();
                let m = mm / 1000.0;
                let bmi = weights
                    .into_iter()
                    .map(|(t, kg)| (t, kg / (m * m)))
                    .collect();
                cols(vec![("BMI", self.per_day(r, mean_per_day(bmi)))])
            }
            "Body fat" => {
                let fat = self
                    .list("body-fat", "")
                    .await
                    .iter()
                    .filter_map(|p| sample(p, "bodyFat", "percentage"))
                    .collect();
                cols(vec![("body fat", self.per_day(r, mean_per_day(fat)))])
            }
            _ => panic!("body.json: panel {title:?} has no truth in this test: add one"),
        }
    }
}
