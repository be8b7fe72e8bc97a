//! Logging set-up: human-readable text by default, JSON lines with `LOG_FORMAT=json`, levels from
//! `RUST_LOG` (default `info`). Nothing logged anywhere may contain a token: secrets are [`Secret`]s,
//! which print as `[redacted]`.
//!
//! [`Secret`]: crate::secret::Secret

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Logs go to stderr so that stdout stays for command output.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: `docker logs` and files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
