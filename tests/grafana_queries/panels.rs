//! What the overview, heart and sleep panels must show.

use super::truth::*;
use crate::common::grafana::{Cell, Range};
use chrono::{Duration, NaiveDate};
use serde_json::Value;
use std::collections::BTreeMap;

impl Truth<'_> {
    /// What the panel `title` of dashboard `file` must show over `r`, from the simulator alone.
    pub(crate) async fn expect(&self, file: &str, title: &str, r: Range) -> Expect {
        let today = self.view.today();
        let f = |k: &'static str| move |p: &Value| num(&p[k]);
        match (file, title) {
            ("overview.json", "Steps today") => {
                Expect::Stat(num(&self.rollup("steps").await[&today]["countSum"]).unwrap())
            }
            ("overview.json", "Resting heart rate") => Expect::Stat(Self::latest(
                &self
                    .daily("daily-resting-heart-rate", "dailyRestingHeartRate")
                    .await,
                today,
                "beatsPerMinute",
            )),
            ("overview.json", "Last night's sleep") => {
                let (_, night) = self
                    .sleeps()
                    .await
                    .into_iter()
                    .filter(|(d, s)| main_sleep(s) && *d <= today)
                    .max_by_key(|(d, _)| *d)
                    .expect("a night");
                Expect::Stat(summary("minutesAsleep")(&night).unwrap())
            }
            ("overview.json", "Weight") => {
                // The list is newest first; the daemon has what was measured by now.
                let newest = self
                    .list("weight", "")
                    .await
                    .into_iter()
                    .find(|p| time(&p["weight"]["sampleTime"]["physicalTime"]) <= self.view.now)
                    .expect("a weigh-in");
                Expect::Stat(num(&newest["weight"]["weightGrams"]).unwrap() / 1000.0)
            }
            ("overview.json", "Devices") => {
                let (_, answer, _) = self.sim.get(&self.tok, "users/me/pairedDevices", &[]).await;
                let devices = answer["pairedDevices"].as_array().unwrap().iter();
                Expect::Devices(
                    devices
                        .map(|d| {
                            let sync = time(&d["lastSyncTime"]).timestamp() as f64 * 1000.0;
                            let model = d["deviceVersion"].as_str().unwrap().to_string();
                            (model, (num(&d["batteryLevel"]).unwrap(), sync))
                        })
                        .collect(),
                )
            }
            ("overview.json" | "activity.json", "Steps per day") => {
                let days = self.rollup("steps").await;
                cols(vec![("steps", self.column(r, &days, f("countSum")))])
            }
            ("heart.json", "Heart rate") => {
                let mut hours: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                for p in self.list("heart-rate", "").await {
                    let t = time(&p["heartRate"]["sampleTime"]["physicalTime"]);
                    if let (true, Some(v)) = (r.contains(t), num(&p["heartRate"]["beatsPerMinute"]))
                    {
                        let hour = t.timestamp_millis() / 3_600_000 * 3_600_000;
                        hours.entry(hour).or_default().push(v);
                    }
                }
                let agg = |g: fn(&[f64]) -> f64| {
                    hours
                        .iter()
                        .map(|(t, v)| (*t, Cell::Num(g(v))))
                        .collect::<BTreeMap<_, _>>()
                };
                cols(vec![
                    ("mean", agg(|v| v.iter().sum::<f64>() / v.len() as f64)),
                    ("min", agg(|v| v.iter().copied().fold(f64::MAX, f64::min))),
                    ("max", agg(|v| v.iter().copied().fold(f64::MIN, f64::max))),
                ])
            }
            ("heart.json", "Resting heart rate") => {
                let days = self
                    .daily("daily-resting-heart-rate", "dailyRestingHeartRate")
                    .await;
                let values: Vec<(NaiveDate, f64)> = days
                    .iter()
                    .filter(|(d, _)| **d <= today)
                    .filter_map(|(d, p)| Some((*d, num(&p["beatsPerMinute"])?)))
                    .collect();
                // The mean of the 30 latest values up to each day, from the 30th value on; the
                // query reaches 30 days before the range so that the range's first days have one.
                let reach = Range {
                    from: r.from - Duration::days(30),
                    to: r.to,
                };
                let baseline = values
                    .windows(30)
                    .map(|w| (w[29].0, w.iter().map(|(_, v)| v).sum::<f64>() / 30.0))
                    .collect();
                cols(vec![
                    ("resting", self.column(r, &days, f("beatsPerMinute"))),
                    ("30-day baseline", self.per_day(reach, baseline)),
                ])
            }
            ("heart.json", "Heart-rate variability") => {
                let days = self
                    .daily("daily-heart-rate-variability", "dailyHeartRateVariability")
                    .await;
                let v = f("averageHeartRateVariabilityMilliseconds");
                cols(vec![("HRV", self.column(r, &days, v))])
            }
            ("heart.json", "Time in heart-rate zones") => {
                let days = self.rollup("time-in-heart-rate-zone").await;
                let zone = |z: &'static str| {
                    let read = in_list("timeInHeartRateZones", "heartRateZone", z, |x| {
                        Some(secs(&x["duration"])? / 60.0)
                    });
                    self.column(r, &days, read)
                };
                cols(vec![
                    ("light", zone("LIGHT")),
                    ("moderate", zone("MODERATE")),
                    ("vigorous", zone("VIGOROUS")),
                    ("peak", zone("PEAK")),
                ])
            }
            ("heart.json", "Blood oxygen (SpO2) per night") => {
                let days = self
                    .daily("daily-oxygen-saturation", "dailyOxygenSaturation")
                    .await;
                cols(vec![
                    ("average", self.column(r, &days, f("averagePercentage"))),
                    ("low", self.column(r, &days, f("lowerBoundPercentage"))),
                    ("high", self.column(r, &days, f("upperBoundPercentage"))),
                ])
            }
            ("heart.json", "Breathing rate per night") => {
                let days = self
                    .daily("daily-respiratory-rate", "dailyRespiratoryRate")
                    .await;
                cols(vec![(
                    "breaths/min",
                    self.column(r, &days, f("breathsPerMinute")),
                )])
            }
            ("heart.json", "VO2 max (cardio fitness)") => {
                let days = self.daily("daily-vo2-max", "dailyVo2Max").await;
                cols(vec![("VO2 max", self.column(r, &days, f("vo2Max")))])
            }
            ("sleep.json", _) => self.expect_sleep(title, r).await,
            ("activity.json", _) => self.expect_activity(title, r).await,
            ("body.json", _) => self.expect_body(title, r).await,
            ("insights.json", _) => self.expect_insights(title, r).await,
            ("pipeline.json", _) => Expect::Pipeline(crate::pipeline::Want {
                // Every day from the first of the history to today, in the person's zone.
                days: (today - self.first_day).num_days() + 1,
            }),
            _ => panic!("{file}: panel {title:?} has no truth in this test: add one"),
        }
    }

    pub(crate) async fn expect_sleep(&self, title: &str, r: Range) -> Expect {
        let sleeps = self.sleeps().await;
        let all = |_: &Value| true;
        match title {
            "Sleep stages per night" => cols(vec![
                (
                    "deep",
                    self.nightly(r, &sleeps, main_sleep, stage_minutes("DEEP")),
                ),
                (
                    "light",
                    self.nightly(r, &sleeps, main_sleep, stage_minutes("LIGHT")),
                ),
                (
                    "rem",
                    self.nightly(r, &sleeps, main_sleep, stage_minutes("REM")),
                ),
                (
                    "total asleep",
                    self.nightly(r, &sleeps, main_sleep, summary("minutesAsleep")),
                ),
            ]),
            "Sleep score" => cols(vec![(
                "score",
                self.nightly(r, &sleeps, main_sleep, archive_score),
            )]),
            "Hypnogram of the night picked above" => {
                // The stages that began in the range, of sessions over by the end of today (what the
                // daemon could fetch).
                let mut rows: Vec<Vec<Option<Cell>>> = Vec::new();
                for (d, s) in &sleeps {
                    if *d > self.view.today() {
                        continue;
                    }
                    for st in s["stages"].as_array().into_iter().flatten() {
                        let (a, b) = (time(&st["startTime"]), time(&st["endTime"]));
                        if r.contains(a) {
                            let stage = st["type"].as_str().unwrap().to_ascii_lowercase();
                            rows.push(vec![
                                Some(Cell::Num(a.timestamp_millis() as f64)),
                                Some(Cell::Text(stage)),
                                Some(Cell::Num((b - a).num_seconds() as f64)),
                            ]);
                        }
                    }
                }
                rows.sort_by_key(|x| match &x[0] {
                    Some(Cell::Num(t)) => *t as i64,
                    _ => 0,
                });
                Expect::Rows(rows)
            }
            "Awake and naps" => cols(vec![
                (
                    "awake in the night",
                    self.nightly(r, &sleeps, main_sleep, summary("minutesAwake")),
                ),
                (
                    "naps",
                    self.nightly(
                        r,
                        &sleeps,
                        |s| s["metadata"]["nap"] == true,
                        summary("minutesAsleep"),
                    ),
                ),
            ]),
            "Total sleep per day (all sessions)" => cols(vec![(
                "asleep",
                self.nightly(r, &sleeps, all, summary("minutesAsleep")),
            )]),
            "Sleep efficiency" => cols(vec![(
                "efficiency",
                self.nightly(r, &sleeps, main_sleep, |s| {
                    Some(summary("minutesAsleep")(s)? * 100.0 / summary("minutesInSleepPeriod")(s)?)
                }),
            )]),
            "Sleep temperature deviation" => {
                let days = self
                    .daily(
                        "daily-sleep-temperature-derivations",
                        "dailySleepTemperatureDerivations",
                    )
                    .await;
                let deviation = |p: &Value| {
                    Some(
                        num(&p["nightlyTemperatureCelsius"])?
                            - num(&p["baselineTemperatureCelsius"])?,
                    )
                };
                cols(vec![("deviation", self.column(r, &days, deviation))])
            }
            "Bed and wake times" => {
                let mut rows: Vec<(i64, Vec<Option<Cell>>)> = sleeps
                    .iter()
                    .filter(|(_, s)| main_sleep(s))
                    .filter_map(|(_, s)| {
                        let (a, b) = (
                            time(&s["interval"]["startTime"]),
                            time(&s["interval"]["endTime"]),
                        );
                        r.contains(b).then(|| {
                            let t = b.timestamp_millis();
                            (
                                t,
                                vec![
                                    Some(Cell::Num(t as f64)),
                                    Some(Cell::Num(a.timestamp() as f64 * 1000.0)),
                                    Some(Cell::Num((b - a).num_seconds() as f64)),
                                    summary("minutesAsleep")(s).map(Cell::Num),
                                ],
                            )
                        })
                    })
                    .collect();
                rows.sort_by_key(|(t, _)| *t);
                Expect::Rows(rows.into_iter().map(|(_, r)| r).collect())
            }
            "Bedtime and wake-up" => cols(vec![
                (
                    "bedtime",
                    self.nightly(r, &sleeps, main_sleep, |s| {
                        Some(self.clock_minutes(s, "startTime") / 60.0)
                    }),
                ),
                (
                    "wake-up",
                    self.nightly(r, &sleeps, main_sleep, |s| {
                        Some(self.clock_minutes(s, "endTime") / 60.0)
                    }),
                ),
            ]),
            "Bedtime spread" | "Wake-up spread" => {
                let end = if title == "Bedtime spread" {
                    "startTime"
                } else {
                    "endTime"
                };
                let minutes: Vec<f64> = sleeps
                    .iter()
                    .filter(|(_, s)| main_sleep(s) && r.contains(time(&s["interval"]["endTime"])))
                    .map(|(_, s)| self.clock_minutes(s, end))
                    .collect();
                Expect::Stat(sample_sd(&minutes))
            }
            _ => panic!("sleep.json: panel {title:?} has no truth in this test: add one"),
        }
    }
}
