use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    fitbit_influx::memory::limit_arenas();
    fitbit_influx::cli::main(fitbit_influx::cli::Cli::parse())
}
