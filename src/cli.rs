//! The command line. Each subcommand reads only the configuration it needs, so that a missing variable
//! is reported by the command that needs it, with exit status 2.

use crate::config::{self, ConfigError, Env, InfluxConfig, LogFormat};
use crate::influx::InfluxWriter;
use crate::telemetry;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Keeps Fitbit / Pixel Watch data (Google Health API v4) flowing into InfluxDB.
///
/// Configuration comes from environment variables; see README.md for the full table.
#[derive(Debug, Parser)]
#[command(name = "fitbit-influx", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the ingestion daemon.
    Run {
        /// Do the backfill and one refresh round, then exit: 0 all written, 1 Google refused the
        /// credentials or the grant, 3 some windows failed (retried by the next run), 4 InfluxDB
        /// refused the writes (for cron and tests).
        #[arg(long)]
        once: bool,
    },
    /// Check the configuration and the InfluxDB connection without writing anything.
    Check,
    /// Obtain a refresh token: Google's consent in a browser (loopback or paste), PKCE, granted scopes.
    Auth(crate::consent::AuthArgs),
    /// Exit 0 if the daemon using STATE_FILE is running and healthy, 1 otherwise (for HEALTHCHECK).
    Health,
    /// Compare what InfluxDB holds with what the API says, day by day, and fetch again every day that
    /// disagrees (stop the daemon first: it holds the state file; it checks the recent weeks itself).
    Verify {
        /// First day (YYYY-MM-DD); default: the start of the history.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day; default: today.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Only this user (a name from USERS, or `me`).
        #[arg(long)]
        user: Option<String>,
    },
    /// Per user and data type: final days, open days, failed days with the last error and next try.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Write a person's data types over a date range into CSV or JSON Lines files, read from the
    /// API (stop the daemon first: it holds the state file) or from InfluxDB (`--from-influx`).
    /// Exit 0 everything written, 2 bad arguments, 3 something left out (named), 1 nothing written.
    Export(crate::export::ExportArgs),
    /// Import a fitbit.com account archive or a Google Takeout "Fitbit" / "Google Health" archive
    /// (.zip or unpacked folder) into InfluxDB (stop the daemon first: progress goes to the state
    /// file). Exit 0 all imported, 2 bad arguments, 3 some files failed (named), 1 nothing imported.
    Import(crate::import::ImportArgs),
    /// Serve a simulated Google Health API v4 (OAuth, data, quota, faults) for tests and demos.
    Sim(Box<crate::sim::SimArgs>),
    /// Backfill N simulated days into the INFLUXDB_* target (a scratch one) and print requests
    /// against the API's minimum, CPU per point, peak and idle memory (docs/performance.md).
    Bench(crate::bench::BenchArgs),
}

/// Exit status for a configuration problem.
pub const EXIT_CONFIG: u8 = 2;

fn config_error(e: ConfigError) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(EXIT_CONFIG)
}

/// Runs a parsed command line to completion.
pub fn main(cli: Cli) -> ExitCode {
    let env = Env::from_process();
    let format = match LogFormat::from_env(&env) {
        Ok(f) => f,
        Err(e) => return config_error(e),
    };
    telemetry::init(format);
    let runtime = tokio::runtime::Runtime::new().expect("starting the async runtime");
    let code = match cli.command {
        Command::Run { once } => runtime.block_on(run(&env, once)),
        Command::Check => runtime.block_on(check(&env)),
        Command::Sim(args) => runtime.block_on(sim(*args)),
        Command::Bench(args) => match runtime.block_on(crate::bench::run(args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("bench: {why}");
                ExitCode::FAILURE
            }
        },
        Command::Auth(args) => match runtime.block_on(crate::consent::run(&env, args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(crate::consent::AuthFailure::Config(e)) => config_error(e),
            Err(crate::consent::AuthFailure::Other(why)) => {
                eprintln!("auth: {why}");
                ExitCode::FAILURE
            }
        },
        Command::Export(args) => match runtime.block_on(crate::export::run(&env, args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => e.report("export", config_error),
        },
        Command::Import(args) => match runtime.block_on(crate::import::run(&env, args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => e.report("import", config_error),
        },
        Command::Status { json } => status(&env, json),
        Command::Verify { from, to, user } => runtime.block_on(verify(&env, from, to, user)),
        Command::Health => {
            let sync = match config::SyncConfig::from_env(&env) {
                Ok(c) => c,
                Err(e) => return config_error(e),
            };
            match crate::health::check(&sync.state_file) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(line) => {
                    println!("{line}");
                    ExitCode::FAILURE
                }
            }
        }
    };
    // `auth` may leave a read of stdin pending on a blocking thread; do not wait for it.
    runtime.shutdown_background();
    code
}

fn status(env: &Env, json: bool) -> ExitCode {
    let sync = match config::SyncConfig::from_env(env) {
        Ok(c) => c,
        Err(e) => return config_error(e),
    };
    match crate::state::load(&sync.state_file) {
        Ok(state) if json => {
            println!("{:#}", crate::status::json(&state));
            ExitCode::SUCCESS
        }
        Ok(state) => {
            print!("{}", crate::status::table(&state));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("status: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn sim(args: crate::sim::SimArgs) -> ExitCode {
    match crate::sim::start(args, shutdown_signal()).await {
        Ok((addr, sim, handle)) => {
            print!("{}", sim.banner(addr));
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let _ = handle.await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sim: cannot listen: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn check(env: &Env) -> ExitCode {
    let influx = match InfluxConfig::from_env(env) {
        Ok(c) => c,
        Err(e) => return config_error(e),
    };
    match InfluxWriter::new(&influx).check().await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            println!("{why}");
            ExitCode::FAILURE
        }
    }
}

async fn run(env: &Env, once: bool) -> ExitCode {
    let config = match config::Config::from_env(env) {
        Ok(c) => c,
        Err(e) => return config_error(e),
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    daemon_exit(
        crate::daemon::run(config, once, shutdown).await,
        "run --once",
    )
}

async fn verify(
    env: &Env,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    user: Option<String>,
) -> ExitCode {
    let config = match config::Config::from_env(env) {
        Ok(c) => c,
        Err(e) => return config_error(e),
    };
    daemon_exit(
        crate::daemon::verify(config, from, to, user).await,
        "verify",
    )
}

/// The exit status of a daemon command: 0, 2 for configuration, the documented codes for failures.
fn daemon_exit(result: Result<(), crate::daemon::DaemonError>, what: &str) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::daemon::DaemonError::NoToken(e) | crate::daemon::DaemonError::Config(e)) => {
            config_error(e)
        }
        Err(crate::daemon::DaemonError::Once(f)) => {
            eprintln!("{what}: {f}");
            ExitCode::from(f.exit_code())
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
