//! How a one-shot command that works through many items (`export`, `import`) can fail: a bad option
//! (exit 2), nothing done (exit 1), or done but with named items left out (exit 3). One type for
//! both, so that the exit statuses mean the same everywhere.

use crate::config::ConfigError;
use std::process::ExitCode;

/// Exit status of a command that left something out (named in its output).
pub const EXIT_INCOMPLETE: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A bad option or variable: exit status 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Nothing could be done (the API or InfluxDB refused, the input or the directory is unusable).
    #[error("{0}")]
    Failed(String),
    /// Exit status 3: some items could not be handled (named); the rest was.
    #[error("{0}")]
    Incomplete(String),
}

impl CommandError {
    /// The exit status, after printing why (`command: reason`; a configuration error as itself).
    pub fn report(self, command: &str, config_error: fn(ConfigError) -> ExitCode) -> ExitCode {
        match self {
            CommandError::Config(e) => config_error(e),
            e @ CommandError::Incomplete(_) => {
                eprintln!("{command}: {e}");
                ExitCode::from(EXIT_INCOMPLETE)
            }
            e => {
                eprintln!("{command}: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
