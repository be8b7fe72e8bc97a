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
        /// Do the backfill and one refresh round, then exit 0 (for cron and tests).
        #[arg(long)]
        once: bool,
    },
    /// Check the configuration and the InfluxDB connection without writing anything.
    Check,
    /// Obtain a refresh token: Google's consent in a browser (loopback or paste), PKCE, granted scopes.
    Auth(crate::consent::AuthArgs),
    /// Exit 0 if the daemon using STATE_FILE is running and healthy, 1 otherwise (for HEALTHCHECK).
    Health,
    /// Serve a simulated Google Health API v4 (OAuth, data, quota, faults) for tests and demos.
    Sim(crate::sim::SimArgs),
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
        Command::Sim(args) => runtime.block_on(sim(args)),
        Command::Auth(args) => match runtime.block_on(crate::consent::run(&env, args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(crate::consent::AuthFailure::Config(e)) => config_error(e),
            Err(crate::consent::AuthFailure::Other(why)) => {
                eprintln!("auth: {why}");
                ExitCode::FAILURE
            }
        },
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
    match crate::daemon::run(config, once, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::daemon::DaemonError::NoToken(e)) => config_error(e),
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
