//! Where `export` reads a window of one data type: the API (the reconciled stream the daemon stores,
//! converted by the catalog in the person's zone) or InfluxDB (what the daemon stored).

use crate::api::HealthClient;
use crate::catalog::{self, Context, DataType, Measurement};
use crate::influx::InfluxReader;
use crate::point::{FieldValue, Point};
use crate::sync::account::Account;
use crate::sync::fetcher::{self, FetchOptions, Pages, WindowReport};
use crate::sync::planner::Window;
use chrono::{Duration, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use tracing::warn;

/// A window's points, and how many could not be read (each named in a warning).
#[derive(Default)]
pub struct Batch {
    pub points: Vec<Point>,
    pub skipped: usize,
}

pub enum Source {
    Api {
        client: HealthClient,
        account: Account,
        options: FetchOptions,
    },
    Influx {
        reader: InfluxReader,
        user: String,
        tz: Tz,
    },
}

impl Source {
    pub fn tz(&self) -> Tz {
        match self {
            Source::Api { account, .. } => account.tz,
            Source::Influx { tz, .. } => *tz,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Source::Api { .. } => "the API",
            Source::Influx { .. } => "InfluxDB",
        }
    }

    /// The points of `dt` over `w`.
    pub async fn window(&self, dt: &'static DataType, w: Window) -> Result<Batch, String> {
        match self {
            Source::Api {
                client,
                account,
                options,
            } => {
                let cx = Context {
                    user: client.user(),
                    tz: account.tz,
                    now: Utc::now(),
                    height_m: account.height_m,
                };
                let mut pages = Pages::decoded(dt, w, options);
                let mut report = WindowReport::default();
                let mut points = Vec::new();
                while let Some(page) = pages
                    .next_page(client, &cx)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    points.extend(fetcher::page_points(
                        dt,
                        &cx,
                        page,
                        (w, options),
                        &mut report,
                    ));
                }
                Ok(Batch {
                    points,
                    skipped: report.skipped(),
                })
            }
            Source::Influx { reader, user, tz } => stored_window(reader, user, *tz, dt, w).await,
        }
    }
}

/// What InfluxDB holds of `dt` over `w` (by the instants of the window's local midnights); a
/// night's stages are read over the session's span, so they come with the night's wake date.
async fn stored_window(
    reader: &InfluxReader,
    user: &str,
    tz: Tz,
    dt: &'static DataType,
    w: Window,
) -> Result<Batch, String> {
    let (a, b) = (
        catalog::read::local_midnight(w.from, tz),
        catalog::read::local_midnight(w.to + Duration::days(1), tz),
    );
    let mut batch = Batch::default();
    let mut measurements: Vec<&'static Measurement> = dt.measurements.to_vec();
    if dt.name == catalog::minute::SUMMARISED {
        measurements.push(&catalog::minute::HEART_RATE_MINUTE);
    }
    for m in measurements {
        if m.name == catalog::SLEEP_STAGE.name {
            continue; // read with the sessions below
        }
        let q = select(m, user, &format!("time >= {} AND time < {}", ns(a), ns(b)));
        read_into(reader, m, &[q], &mut batch).await?;
    }
    if dt
        .measurements
        .iter()
        .any(|m| m.name == catalog::SLEEP.name)
    {
        let stages: Vec<String> = batch
            .points
            .iter()
            .filter(|p| p.measurement == catalog::SLEEP.name)
            .filter_map(|p| {
                let start = p.fields.iter().find(|(k, _)| *k == "start_epoch_s")?;
                let FieldValue::Int(s) = start.1 else {
                    return None;
                };
                Some(select(
                    &catalog::SLEEP_STAGE,
                    user,
                    &format!("time >= {} AND time < {}", s * 1_000_000_000, p.time_ns),
                ))
            })
            .collect();
        if !stages.is_empty() {
            read_into(reader, &catalog::SLEEP_STAGE, &stages, &mut batch).await?;
        }
    }
    Ok(batch)
}

fn ns(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

fn select(m: &Measurement, user: &str, range: &str) -> String {
    format!(
        "SELECT * FROM \"{}\" WHERE \"user\" = '{}' AND {range}",
        m.name,
        user.replace('\\', "\\\\").replace('\'', "\\'")
    )
}

/// Runs `statements` (all of measurement `m`) and appends their rows as points of the catalog's
/// field types; a value of another type is skipped with a warning, never coerced.
async fn read_into(
    reader: &InfluxReader,
    m: &'static Measurement,
    statements: &[String],
    batch: &mut Batch,
) -> Result<(), String> {
    let results = reader.query(statements).await.map_err(|e| e.to_string())?;
    for series in results.into_iter().flatten() {
        for row in &series.values {
            match row_point(m, &series.columns, row) {
                Ok(p) => batch.points.push(p),
                Err(why) => {
                    warn!(measurement = m.name, row = ?row, problem = %why, "skipping a stored row that does not match the catalog");
                    batch.skipped += 1;
                }
            }
        }
    }
    Ok(())
}

fn row_point(m: &'static Measurement, columns: &[String], row: &[Value]) -> Result<Point, String> {
    let mut p = Point::new(m.name, Utc::now());
    for (c, v) in columns.iter().zip(row) {
        if v.is_null() {
            continue;
        }
        if c == "time" {
            p.time_ns = v.as_i64().ok_or("time is not in nanoseconds")?;
        } else if let Some(f) = m.fields.iter().find(|f| f.name == c) {
            let value = super::files::field_value(f.kind, v)
                .ok_or_else(|| format!("{c} = {v} is not of type {:?}", f.kind))?;
            p.fields.push((f.name, value));
        } else if let Some(t) = m.tags.iter().find(|t| t.name == c) {
            p.tags
                .push((t.name, v.as_str().unwrap_or_default().to_string()));
        } else if c == "source" {
            p.tags
                .push(("source", v.as_str().unwrap_or_default().to_string()));
        }
    }
    if p.fields.is_empty() {
        return Err("no field of the catalog".into());
    }
    Ok(p)
}
