//! `fitbit-influx import PATH`: a fitbit.com account archive or a Google Takeout "Fitbit" / "Google
//! Health" archive (a `.zip`, read in place, or the folder it unpacks to) into the same measurements,
//! tags, field types and timestamps as the API sync, so imported and synced points of the same instant
//! are the same point; what the API does not offer (sleep, stress and readiness scores) gets its own
//! measurements. The days a file covered are recorded in the coverage, so the backfill skips them.
//!
//! | module | its one job |
//! |---|---|
//! | [`archive`] | the archive's entries, one at a time, with a fingerprint (size and CRC-32) |
//! | [`formats`] | file kinds by name, and each kind's records into points (time zones per kind) |
//! | [`scores`] | the measurements only archives have (sleep, stress, readiness scores) |
//! | this module | the command: whose archive, which files, one canonical source per metric, the days covered, progress, the summary |
//!
//! Resumable and idempotent: a file is recorded in the state file (per user, with its fingerprint)
//! only after InfluxDB acknowledged all its points; a rerun skips recorded files and writes the rest,
//! and writing a point again overwrites it. One bad file is reported and the others go on.

pub mod archive;
pub mod formats;
pub mod scores;

use crate::config::{self, ConfigError, Env};
use crate::influx::InfluxWriter;
use crate::state::{SharedState, StateStore};
use archive::{Archive, Entry};
use chrono::NaiveDate;
use chrono_tz::Tz;
use formats::Kind;
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

pub use scores::MEASUREMENTS;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The archive: a `.zip` (MyFitbitData.zip, takeout-….zip) or the folder it unpacks to.
    pub path: PathBuf,
    /// Whose data it is: a name from USERS (default: the only configured user).
    #[arg(long)]
    pub user: Option<String>,
    /// The person's time zone for the archive's local times (sleep, daily values); default: the
    /// `timezone` of the archive's Profile.csv.
    #[arg(long)]
    pub tz: Option<Tz>,
}

/// How an import fails: exit 2 a bad option, 1 nothing imported, 3 some files not (named).
pub type ImportError = crate::outcome::CommandError;

/// What one kind of file gave.
#[derive(Debug, Default)]
struct Tally {
    files: usize,
    records: usize,
    written: usize,
    already: usize,
    /// Why → how many, and where the first was (file and line or record).
    skipped: BTreeMap<String, (usize, String)>,
    /// Files with unreadable records, whose days are left to the API.
    uncovering: usize,
    failed: Vec<String>,
}

pub async fn run(env: &Env, args: ImportArgs) -> Result<(), ImportError> {
    let user = whose(env, args.user.as_deref())?;
    let influx = config::InfluxConfig::from_env(env)?;
    let sync = config::SyncConfig::from_env(env)?;
    let (store, state) = StateStore::open(&sync.state_file).map_err(|e| {
        ImportError::Failed(format!(
            "{e} (stop the daemon first: an import records its progress in the state file)"
        ))
    })?;
    let state = SharedState::new(store, state);
    let writer = InfluxWriter::new(&influx);
    let mut archive = Archive::open(&args.path).map_err(|e| ImportError::Failed(e.to_string()))?;
    let entries = archive
        .entries()
        .map_err(|e| ImportError::Failed(e.to_string()))?;
    // One canonical source per metric: a kind that yields to another (the heart-rate CSV to the
    // JSON, which has integer bpm and the older history) is read only when the archive lacks that one.
    let present: BTreeSet<Kind> = entries
        .iter()
        .filter_map(|e| formats::classify(e.base_name()))
        .collect();
    // A Takeout export in parts (`…-1-001.zip`, `…-1-002.zip`) may hold a metric's JSON in one part
    // and its CSV twin in another: what earlier imports for this person read counts as present too.
    let earlier: BTreeSet<Kind> = state.read(|s| {
        s.users.get(&user).map_or_else(BTreeSet::new, |u| {
            u.imported
                .keys()
                .filter_map(|name| formats::classify(name.rsplit('/').next().unwrap_or(name)))
                .collect()
        })
    });
    if present.is_empty() {
        return Err(ImportError::Failed(format!(
            "{}: none of its {} files is one this importer reads; is it a Fitbit archive? \
             (docs/import.md lists the files)",
            args.path.display(),
            entries.len()
        )));
    }
    let remembered = state.read(|s| {
        s.users
            .get(&user)
            .and_then(|u| u.archive_zone.as_deref()?.parse::<Tz>().ok())
    });
    let tz = match (args.tz, profile_zone(&mut archive, &entries)) {
        (Some(tz), _) => tz,
        (None, Ok(tz)) => tz,
        (None, Err(e)) => remembered.ok_or(e)?,
    };
    state
        .update(|s| s.users.entry(user.clone()).or_default().archive_zone = Some(tz.name().into()))
        .map_err(|e| ImportError::Failed(format!("cannot record the progress: {e}")))?;
    let cx = formats::Context { user: &user, tz };
    let todo: Vec<(&Entry, Kind)> = entries
        .iter()
        .filter_map(|e| Some((e, formats::classify(e.base_name())?)))
        .filter(|(_, k)| {
            k.spec()
                .unless
                .is_none_or(|u| !present.contains(&u) && !earlier.contains(&u))
        })
        .collect();
    let not_read = entries.len() - todo.len();
    let progress = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    // The time left by bytes read: files range from a day of heart rate to a year of daily values.
    let total_bytes: u64 = todo.iter().map(|(e, _)| e.size).sum::<u64>().max(1);
    let (mut bytes_done, mut records_done) = (0u64, 0usize);
    for (i, (entry, kind)) in todo.iter().enumerate() {
        if progress {
            let elapsed = started.elapsed().as_secs_f64();
            let left = match bytes_done {
                0 => "…".to_string(),
                b => format!(
                    "{:.0} s",
                    elapsed / b as f64 * total_bytes.saturating_sub(b) as f64
                ),
            };
            eprint!(
                "\r\x1b[K[{}/{} files, {records_done} records] {} (about {left} left)",
                i + 1,
                todo.len(),
                entry.base_name(),
            );
        }
        bytes_done += entry.size;
        let tally = tallies.entry(*kind).or_default();
        tally.files += 1;
        let done = state.read(|s| {
            s.users
                .get(&user)
                .and_then(|u| u.imported.get(&entry.name))
                .is_some_and(|f| *f == entry.fingerprint)
        });
        if done {
            tally.already += 1;
            continue;
        }
        match import_file(&mut archive, entry, *kind, &cx, &writer).await {
            Ok(parsed) => {
                tally.records += parsed.records;
                records_done += parsed.records;
                tally.written += parsed.points.len();
                for (at, why) in &parsed.skipped {
                    tracing::debug!(file = %entry.name, at = %at, problem = %why, "record skipped");
                    tally
                        .skipped
                        .entry(why.clone())
                        .or_insert_with(|| (0, format!("{} {at}", entry.base_name())))
                        .0 += 1;
                }
                // The file and the days it covers in one write: a killed import never records
                // one without the other.
                let days = if parsed.unreadable == 0 {
                    covered_days(*kind, &parsed.points, tz)
                } else {
                    tally.uncovering += 1;
                    tracing::warn!(file = %entry.name, unreadable = parsed.unreadable,
                        first = %parsed.first_unreadable.as_deref().unwrap_or_default(),
                        "records that cannot be read were skipped; the daemon fetches this file's days from the API");
                    BTreeSet::new()
                };
                state
                    .update(|s| {
                        let u = s.users.entry(user.clone()).or_default();
                        u.imported
                            .insert(entry.name.clone(), entry.fingerprint.clone());
                        if let Some((data_type, _)) = kind.spec().covers {
                            let c = u.coverage.entry(data_type.to_string()).or_default();
                            for d in &days {
                                c.imported_days.insert(*d);
                            }
                        }
                    })
                    .map_err(|e| ImportError::Failed(format!("cannot record the progress: {e}")))?;
            }
            Err(why) => {
                tracing::warn!(file = %entry.name, problem = %why, "file not imported; the others go on, a rerun tries it again");
                tally.failed.push(format!("{}: {why}", entry.name));
            }
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    println!(
        "{}: {} from {} (time zone {})",
        user,
        args.path.display(),
        if present.contains(&Kind::HeartRateJson) {
            "heart rate from JSON"
        } else {
            "heart rate from CSV"
        },
        tz.name()
    );
    for (kind, t) in &tallies {
        println!(
            "  {:<26} {:>5} file(s) {:>9} records {:>9} points written {:>5} already imported",
            kind.name(),
            t.files,
            t.records,
            t.written,
            t.already
        );
        for (why, (n, first)) in &t.skipped {
            println!("      skipped {n}: {why} (the first: {first})");
        }
        if t.uncovering > 0 {
            println!(
                "      {} file(s) with unreadable records: the daemon fetches their days from the API",
                t.uncovering
            );
        }
        for f in &t.failed {
            println!("      failed: {f}");
        }
    }
    println!("  {not_read} other file(s) not read (kinds this importer does not read, or the twin of a canonical source, such as the heart-rate CSV next to its JSON)");
    let failed: usize = tallies.values().map(|t| t.failed.len()).sum();
    if failed > 0 {
        return Err(ImportError::Incomplete(format!(
            "{failed} file(s) could not be imported (named above); run again after fixing them"
        )));
    }
    Ok(())
}

/// The configured user the archive is imported for: `--user`, or the only one there is.
fn whose(env: &Env, asked: Option<&str>) -> Result<String, ImportError> {
    let names: Vec<String> = config::UserConfig::list_from_env(env)?
        .into_iter()
        .map(|u| u.name)
        .collect();
    let problem = match asked {
        Some(name) if names.iter().any(|n| n == name) => return Ok(name.to_string()),
        None if names.len() == 1 => return Ok(names[0].clone()),
        Some(name) => format!("\"{name}\" is not a configured user"),
        None => "whose archive is it?".to_string(),
    };
    Err(ImportError::Config(ConfigError {
        variable: "--user".into(),
        problem: format!("{problem} (USERS: {})", names.join(", ")),
    }))
}

/// The civil days (in the person's zone) a file's points of its kind's measurement fall on.
fn covered_days(kind: Kind, points: &[crate::point::Point], tz: Tz) -> BTreeSet<NaiveDate> {
    let Some((_, m)) = kind.spec().covers else {
        return BTreeSet::new();
    };
    points
        .iter()
        .filter(|p| p.measurement == m.name)
        .map(|p| {
            chrono::DateTime::from_timestamp_nanos(p.time_ns)
                .with_timezone(&tz)
                .date_naive()
        })
        .collect()
}

/// One file: read, parsed, written in batches; `Err` leaves it unrecorded.
async fn import_file(
    archive: &mut Archive,
    entry: &Entry,
    kind: Kind,
    cx: &formats::Context<'_>,
    writer: &InfluxWriter,
) -> Result<formats::Parsed, String> {
    let bytes = archive.read(entry).map_err(|e| e.to_string())?;
    let parsed = formats::parse(kind, &bytes, cx)?;
    drop(bytes);
    // Two batches in flight: InfluxDB parses one while the next is encoded and sent.
    use futures::{StreamExt, TryStreamExt};
    futures::stream::iter(parsed.points.chunks(5000))
        .map(|batch| writer.write(batch))
        .buffer_unordered(2)
        .try_collect::<Vec<()>>()
        .await
        .map_err(|e| e.to_string())?;
    Ok(parsed)
}

/// The `timezone` column of the archive's `Profile.csv` (Google Takeout, "Your Profile"); `Err`
/// says to give `--tz` (used when no earlier import of this person left a zone).
fn profile_zone(archive: &mut Archive, entries: &[Entry]) -> Result<Tz, ImportError> {
    let missing = |why: String| {
        ImportError::Config(ConfigError {
            variable: "--tz".into(),
            problem: format!("{why}; give the person's zone, e.g. --tz Europe/Berlin"),
        })
    };
    let Some(profile) = entries
        .iter()
        .find(|e| e.base_name().eq_ignore_ascii_case("Profile.csv"))
    else {
        return Err(missing(
            "the archive has no Profile.csv to read the time zone from".into(),
        ));
    };
    let bytes = archive
        .read(profile)
        .map_err(|e| ImportError::Failed(e.to_string()))?;
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let col = r.headers().ok().and_then(|h| {
        h.iter()
            .position(|c| c.trim().eq_ignore_ascii_case("timezone"))
    });
    let zone = col.and_then(|c| r.records().next()?.ok()?.get(c).map(str::to_string));
    zone.as_deref()
        .and_then(|z| z.trim().parse::<Tz>().ok())
        .ok_or_else(|| missing(format!("{} holds no IANA time zone", profile.name)))
}
