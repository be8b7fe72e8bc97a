//! `fitbit-influx export`: a person's data types over a date range into files — CSV or JSON Lines —
//! read from the API directly (no InfluxDB needed) or from what InfluxDB holds (`--from-influx`).
//!
//! | module | its one job |
//! |---|---|
//! | [`source`] | one window of one type's points: from the API (reconciled, the person's zone) or InfluxDB |
//! | [`files`] | points into files: CSV or JSON Lines, per type or per day, the catalog's or the tutorials' layout |
//! | this module | the command: windows oldest first, points in time order with their civil dates, progress, summary |
//!
//! Memory: one window of one type at a time — a day of heart rate (≈37,000 samples), two weeks of
//! steps, a year of a daily value — put into time order (the API lists newest first) and written
//! through buffered files. A year exports in the memory of a day.

pub mod files;
pub mod source;

use crate::catalog::{self, DataType, Fetch};
use crate::config::{self, ConfigError, Env};
use crate::sync::planner::Window;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use files::{Dated, Files, Format, Layout, Split};
use source::Source;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Data types, comma-separated, as `fitbit-influx status` names them (heart-rate,steps-daily,…);
    /// default: every type.
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// First day (YYYY-MM-DD); default: six days before --to.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day; default: yesterday in the person's time zone.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// The person: a name from USERS, or `me`.
    #[arg(long, default_value = "me")]
    pub user: String,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    #[arg(long, value_enum, default_value_t = Split::Type)]
    pub split: Split,
    #[arg(long, value_enum, default_value_t = Layout::Columns)]
    pub layout: Layout,
    /// Directory to write into; files go to `<out>/<user>/`.
    #[arg(long, default_value = "export")]
    pub out: PathBuf,
    /// Read what InfluxDB holds (INFLUXDB_*) instead of asking the API.
    #[arg(long)]
    pub from_influx: bool,
    /// The person's time zone for --from-influx; default: the zone the daemon stored (`person`).
    #[arg(long)]
    pub tz: Option<Tz>,
}

/// How an export fails: exit 2 a bad option, 1 nothing written, 3 something left out (named).
pub type ExportError = crate::outcome::CommandError;
pub use crate::outcome::EXIT_INCOMPLETE;

pub async fn run(env: &Env, args: ExportArgs) -> Result<(), ExportError> {
    let types = chosen_types(&args.types)?;
    let source = open_source(env, &args).await?;
    let tz = source.tz();
    let to = args
        .to
        .unwrap_or_else(|| Utc::now().with_timezone(&tz).date_naive() - Duration::days(1));
    let from = args.from.unwrap_or(to - Duration::days(6));
    if from > to {
        return Err(ConfigError {
            variable: "--from".into(),
            problem: format!("{from} is after --to {to}"),
        }
        .into());
    }
    let mut files = Files::new(
        &args.out,
        &args.user,
        tz,
        (args.format, args.split, args.layout),
    );
    let progress = Progress::new(std::io::stderr().is_terminal());
    let mut skipped = 0usize;
    let mut failed: Vec<String> = Vec::new();
    for group in sharing_groups(&types) {
        let days = group.iter().map(|dt| window_days(dt)).min().unwrap_or(1);
        for w in windows(days, from, to) {
            let mut points = Vec::new();
            for dt in &group {
                progress.show(dt, w, &files);
                match source.window(dt, w).await {
                    Ok(batch) => {
                        skipped += batch.skipped;
                        points.extend(batch.points);
                    }
                    Err(why) => {
                        tracing::warn!(data_type = dt.name, from = %w.from, to = %w.to, error = %why, "could not read a window; its days are missing from the files");
                        failed.push(format!("{} {}…{}: {why}", dt.name, w.from, w.to));
                    }
                }
            }
            for d in in_order(points, tz) {
                let m = measurement_of(&group, d.point.measurement);
                files.write(m, &d).map_err(|e| {
                    ExportError::Failed(format!("cannot write {}: {e}", args.out.display()))
                })?;
            }
        }
    }
    files
        .finish()
        .map_err(|e| ExportError::Failed(format!("cannot write {}: {e}", args.out.display())))?;
    progress.clear();
    println!(
        "{}: {from} … {to} from {} into {}",
        args.user,
        source.describe(),
        args.out.join(&args.user).display()
    );
    for (name, w) in &files.written {
        println!("  {name:<26} {:>10} rows {:>6} file(s)", w.rows, w.files);
    }
    if skipped == 0 && failed.is_empty() {
        return Ok(());
    }
    for f in &failed {
        println!("  missing: {f}");
    }
    Err(ExportError::Incomplete(format!(
        "{skipped} unreadable point(s) skipped (named in the log) and {} window(s) not read; run again to retry",
        failed.len()
    )))
}

/// The catalog entries named by `--types` (every windowed one when none are named).
fn chosen_types(names: &[String]) -> Result<Vec<&'static DataType>, ConfigError> {
    let windowed = |dt: &&DataType| !matches!(dt.fetch, Fetch::Snapshot { .. });
    if names.is_empty() {
        return Ok(catalog::CATALOG.iter().filter(windowed).collect());
    }
    names
        .iter()
        .map(|n| {
            catalog::find(n)
                .filter(windowed)
                .ok_or_else(|| ConfigError {
                    variable: "--types".into(),
                    problem: format!(
                        "\"{n}\" is not a data type; choose from {}",
                        catalog::CATALOG
                            .iter()
                            .filter(windowed)
                            .map(|t| t.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
        })
        .collect()
}

async fn open_source(env: &Env, args: &ExportArgs) -> Result<Source, ExportError> {
    if args.from_influx {
        let influx = config::InfluxConfig::from_env(env)?;
        let reader = crate::influx::InfluxReader::new(&influx);
        let tz = match args.tz {
            Some(tz) => tz,
            None => stored_zone(&reader, &args.user).await?,
        };
        return Ok(Source::Influx {
            reader,
            user: args.user.clone(),
            tz,
        });
    }
    let google = config::GoogleConfig::from_env(env)?;
    let sync = config::SyncConfig::from_env(env)?;
    let user = google
        .users
        .iter()
        .find(|u| u.name == args.user)
        .ok_or_else(|| ConfigError {
            variable: "--user".into(),
            problem: format!("\"{}\" is not a configured user (USERS)", args.user),
        })?;
    let state = crate::daemon::open_state(&google, &sync.state_file).map_err(|e| match e {
        crate::daemon::DaemonError::NoToken(c) | crate::daemon::DaemonError::Config(c) => {
            ExportError::Config(c)
        }
        other => ExportError::Failed(other.to_string()),
    })?;
    let client = crate::daemon::client_for(&google, &sync, user, state.clone());
    let account = crate::sync::account::read(&client, &state, &user.name, Some(NaiveDate::MIN))
        .await
        .map_err(|e| ExportError::Failed(format!("{}: {e}", user.name)))?;
    Ok(Source::Api {
        client,
        account,
        options: crate::sync::fetcher::FetchOptions {
            all: sync.all_sources,
            family: user.data_source_family.clone(),
            heart_rate_per_minute: false,
        },
    })
}

/// The zone the daemon last stored for `user` (the `person` measurement).
async fn stored_zone(reader: &crate::influx::InfluxReader, user: &str) -> Result<Tz, ExportError> {
    let q = format!(
        "SELECT LAST(\"time_zone\") FROM \"{}\" WHERE \"user\" = '{}'",
        catalog::person::PERSON.name,
        user.replace('\'', "\\'")
    );
    let answer = reader
        .query(&[q])
        .await
        .map_err(|e| ExportError::Failed(e.to_string()))?;
    let zone = answer
        .first()
        .and_then(|s| s.first())
        .and_then(|s| s.values.first())
        .and_then(|row| row.get(1))
        .and_then(|v| v.as_str())
        .and_then(|z| z.parse::<Tz>().ok());
    zone.ok_or_else(|| {
        ExportError::Config(ConfigError {
            variable: "--tz".into(),
            problem: format!(
                "InfluxDB holds no time zone for user \"{user}\" (the daemon writes one every round); give the person's zone, e.g. --tz Europe/Berlin"
            ),
        })
    })
}

/// The chosen types, grouped where they write the same measurement (`calories_daily` holds the
/// fields of two entries): a group is exported window by window together and its points merged, as
/// InfluxDB merges them, so a day is one row whichever way it is read.
fn sharing_groups(types: &[&'static DataType]) -> Vec<Vec<&'static DataType>> {
    let mut groups: Vec<Vec<&'static DataType>> = Vec::new();
    for dt in types {
        let shares = |g: &Vec<&'static DataType>| {
            g.iter().any(|o| {
                o.measurements
                    .iter()
                    .any(|m| dt.measurements.iter().any(|n| n.name == m.name))
            })
        };
        match groups.iter_mut().find(|g| shares(g)) {
            Some(g) => g.push(dt),
            None => groups.push(vec![dt]),
        }
    }
    groups
}

/// Dense types one day at a time, so a window is one day's samples; others the catalog's window
/// (a year of a daily value is 365 points).
fn window_days(dt: &DataType) -> u32 {
    if dt.window_days <= 3 {
        1
    } else {
        dt.window_days
    }
}

/// Export windows of `days`, oldest first.
fn windows(days: u32, from: NaiveDate, to: NaiveDate) -> Vec<Window> {
    let days = days.max(1) as i64;
    let mut out = Vec::new();
    let mut a = from;
    while a <= to {
        let b = (a + Duration::days(days - 1)).min(to);
        out.push(Window { from: a, to: b });
        a = b + Duration::days(1);
    }
    out
}

/// The window's points in time order, each with its civil date: a night's stages take the wake
/// date of the session they lie in, like the session itself. Points of one series and instant
/// (from two entries, or read twice) become one, their fields joined, as in InfluxDB.
fn in_order(mut points: Vec<crate::point::Point>, tz: Tz) -> Vec<Dated> {
    points.sort_by(|a, b| {
        (a.time_ns, a.measurement, &a.tags).cmp(&(b.time_ns, b.measurement, &b.tags))
    });
    points.dedup_by(|later, kept| {
        let same = later.time_ns == kept.time_ns
            && later.measurement == kept.measurement
            && later.tags == kept.tags;
        if same {
            for (k, v) in later.fields.drain(..) {
                if !kept.fields.iter().any(|(n, _)| *n == k) {
                    kept.fields.push((k, v));
                }
            }
        }
        same
    });
    let date = |ns: i64| Utc.timestamp_nanos(ns).with_timezone(&tz).date_naive();
    let sessions: Vec<(i64, i64)> = points
        .iter()
        .filter(|p| p.measurement == catalog::SLEEP.name)
        .filter_map(|p| {
            p.fields.iter().find_map(|(k, v)| match (k, v) {
                (&"start_epoch_s", crate::point::FieldValue::Int(s)) => {
                    Some((s * 1_000_000_000, p.time_ns))
                }
                _ => None,
            })
        })
        .collect();
    points
        .into_iter()
        .map(|point| {
            let t = point.time_ns;
            let day = if point.measurement == catalog::SLEEP_STAGE.name {
                sessions
                    .iter()
                    .find(|(a, b)| *a <= t && t < *b)
                    .map_or(date(t), |(_, end)| date(*end))
            } else {
                date(t)
            };
            Dated { date: day, point }
        })
        .collect()
}

fn measurement_of(group: &[&'static DataType], name: &str) -> &'static catalog::Measurement {
    group
        .iter()
        .flat_map(|dt| dt.measurements.iter().copied())
        .find(|m| m.name == name)
        .unwrap_or(&catalog::minute::HEART_RATE_MINUTE)
}

/// A progress line on a terminal; nothing otherwise (logs say what happened).
struct Progress {
    on: bool,
}

impl Progress {
    fn new(on: bool) -> Progress {
        Progress { on }
    }

    fn show(&self, dt: &DataType, w: Window, files: &Files) {
        if self.on {
            let rows: u64 = files.written.values().map(|w| w.rows).sum();
            eprint!(
                "\r\x1b[K{} {} … {}  ({rows} rows so far)",
                dt.name, w.from, w.to
            );
        }
    }

    fn clear(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}
