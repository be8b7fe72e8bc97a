//! The InfluxDB writer: one interface over the 2.x/3.x and 1.x transports.
//!
//! Points go out in batches of at most [`MAX_BATCH_POINTS`]. What happens when a batch fails depends on
//! whether trying again can help:
//! - **transient** (no answer, 408, 429, 5xx, nginx's 502 while InfluxDB restarts): retried with
//!   backoff, for ever by default. A write is never dropped; the caller's future simply does not finish
//!   until InfluxDB is back (and the caller can cancel it on shutdown, leaving its cursor where it was).
//! - **rejected** (400: unparseable line, field type conflict): logged with the server's message and the
//!   first offending line, and returned as [`WriteError::Rejected`]. Repeating the batch cannot help.
//! - **target** (401/403: credentials; 404: unknown bucket or database; other 4xx): returned as
//!   [`WriteError::Target`] with a hint what to fix.

pub mod query;
mod transport;

pub use query::{InfluxReader, QueryError};
pub use transport::SendError;

use crate::config::InfluxConfig;
use crate::point::{LineBatch, Point};
use crate::retry::Backoff;
use std::time::Duration;
use tracing::{debug, error, warn};
use transport::Transport;

/// The most points sent in one request (InfluxDB's recommended batch size).
pub const MAX_BATCH_POINTS: usize = 5_000;

/// The default retry schedule for writes: 1 s doubling to 2 min, never giving up.
pub const WRITE_BACKOFF: Backoff =
    Backoff::new(Duration::from_secs(1), Duration::from_secs(120), None);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    #[error(
        "InfluxDB rejected the batch ({status}): {message}; first offending line: {first_line}"
    )]
    Rejected {
        status: u16,
        message: String,
        first_line: String,
    },
    #[error("InfluxDB refused the write ({status}): {message}. {hint}")]
    Target {
        status: u16,
        message: String,
        hint: String,
    },
    #[error("InfluxDB did not accept the write after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
}

pub struct InfluxWriter {
    transport: Transport,
    backoff: Backoff,
    /// Since when writes fail, and the latest reason; cleared by the next acknowledged write. The
    /// daemon's health reads it (a write that retries for ever would otherwise look like progress).
    failing: std::sync::Mutex<Option<(chrono::DateTime<chrono::Utc>, String)>>,
}

/// How a failed request is handled.
enum Verdict {
    Retry(String),
    Fail(WriteError),
}

impl InfluxWriter {
    pub fn new(config: &InfluxConfig) -> InfluxWriter {
        InfluxWriter {
            transport: Transport::new(config),
            backoff: WRITE_BACKOFF,
            failing: std::sync::Mutex::new(None),
        }
    }

    /// Replaces the retry schedule (tests use short delays; `check` gives up quickly).
    pub fn with_backoff(mut self, backoff: Backoff) -> InfluxWriter {
        self.backoff = backoff;
        self
    }

    /// Since when writes have been failing, and why; `None` while they succeed.
    pub fn failing_since(&self) -> Option<(chrono::DateTime<chrono::Utc>, String)> {
        self.failing.lock().expect("writer lock").clone()
    }

    fn note_failure(&self, reason: &str) {
        let mut f = self.failing.lock().expect("writer lock");
        let since = f.as_ref().map_or_else(chrono::Utc::now, |(t, _)| *t);
        *f = Some((since, reason.to_string()));
    }

    /// Writes all points, batch by batch, returning once InfluxDB has acknowledged every one.
    pub async fn write(&self, points: &[Point]) -> Result<(), WriteError> {
        for chunk in points.chunks(MAX_BATCH_POINTS) {
            let batch = LineBatch::new(chunk);
            if batch.points == 0 {
                continue;
            }
            self.write_batch(&batch).await?;
            count_by_measurement(chunk);
        }
        Ok(())
    }

    /// Deletes the points of `measurement` carrying `tags` at the instant `at`; `Err` is the
    /// server's answer (InfluxDB 3 has no point deletes).
    pub async fn delete(
        &self,
        measurement: &str,
        tags: &[(&str, &str)],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        self.transport
            .delete(measurement, tags, at)
            .await
            .map_err(|e| match e {
                transport::SendError::Status { status, message } => format!("{status}: {message}"),
                transport::SendError::Connection(why) => why,
            })
    }

    /// Writes one prepared batch with retries.
    pub async fn write_batch(&self, batch: &LineBatch) -> Result<(), WriteError> {
        let mut retry = 0;
        loop {
            let outcome = self.transport.send(batch).await;
            let verdict = match outcome {
                Ok(()) => {
                    debug!(points = batch.points, "batch written");
                    *self.failing.lock().expect("writer lock") = None;
                    return Ok(());
                }
                Err(e) => self.classify(e, batch),
            };
            match &verdict {
                Verdict::Retry(reason) => self.note_failure(reason),
                Verdict::Fail(e) => self.note_failure(&e.to_string()),
            }
            match verdict {
                Verdict::Fail(e) => {
                    crate::metrics::METRICS.write_failure(match e {
                        WriteError::Rejected { .. } => "rejected",
                        _ => "target",
                    });
                    error!(error = %e, "InfluxDB write failed");
                    return Err(e);
                }
                Verdict::Retry(reason) => match self.backoff.delay(retry) {
                    Some(delay) => {
                        warn!(
                            %reason,
                            retry_in_ms = delay.as_millis() as u64,
                            points = batch.points,
                            "InfluxDB write failed, retrying"
                        );
                        tokio::time::sleep(delay).await;
                        retry += 1;
                    }
                    None => {
                        crate::metrics::METRICS.write_failure("gave_up");
                        return Err(WriteError::GaveUp {
                            attempts: retry + 1,
                            last: reason,
                        });
                    }
                },
            }
        }
    }

    fn classify(&self, e: SendError, batch: &LineBatch) -> Verdict {
        match e {
            SendError::Connection(reason) => Verdict::Retry(reason),
            SendError::Status { status, message } => {
                let message = server_message(&message);
                match status {
                    408 | 429 | 500..=599 => Verdict::Retry(format!("{status}: {message}")),
                    // 1.x says 400, InfluxDB 2 says 422 for points that conflict with the schema.
                    400 | 422 => Verdict::Fail(WriteError::Rejected {
                        status,
                        first_line: first_offending_line(&message, batch),
                        message,
                    }),
                    401 | 403 => Verdict::Fail(WriteError::Target {
                        status,
                        message,
                        hint: "Check INFLUXDB_TOKEN (v2) or INFLUXDB_USERNAME/INFLUXDB_PASSWORD (v1)."
                            .to_string(),
                    }),
                    404 if message.contains("organization") => Verdict::Fail(WriteError::Target {
                        status,
                        message,
                        hint: "Check INFLUXDB_ORG: it must name the organisation the bucket belongs to."
                            .to_string(),
                    }),
                    404 => Verdict::Fail(WriteError::Target {
                        status,
                        message,
                        hint: format!(
                            "The {} does not exist (or INFLUXDB_URL points elsewhere); create it or fix the name.",
                            self.transport.describe_target()
                        ),
                    }),
                    _ => Verdict::Fail(WriteError::Target {
                        status,
                        message,
                        hint: "Unexpected answer from InfluxDB.".to_string(),
                    }),
                }
            }
        }
    }

    /// Tests the connection without writing anything (see [`transport::Transport::probe`]): the
    /// credentials, the organisation and that the bucket/database exists. Gives up after a few quick
    /// attempts. Returns a one-line description of what was checked, or of what is wrong and what to do.
    pub async fn check(&self) -> Result<String, String> {
        let target = self.transport.describe_target();
        let mut last = String::new();
        for attempt in 0..3u32 {
            match self.transport.probe().await {
                Ok(transport::Probe::Found(how)) => {
                    return Ok(format!(
                        "InfluxDB works: {target} exists and the credentials are accepted (checked by {how}; nothing written)"
                    ))
                }
                Ok(transport::Probe::Missing(what_to_do)) => {
                    return Err(format!(
                        "InfluxDB: {target} does not exist (or the token may not read it); {what_to_do}"
                    ))
                }
                Err(e) => match self.classify(e, &LineBatch::new(&[])) {
                    Verdict::Fail(e) => return Err(e.to_string()),
                    Verdict::Retry(reason) => last = reason,
                },
            }
            tokio::time::sleep(Duration::from_millis(300 * (attempt as u64 + 1))).await;
        }
        Err(format!("InfluxDB is unreachable: {last}"))
    }
}

/// Counts acknowledged points per measurement for `/metrics`.
fn count_by_measurement(points: &[Point]) {
    let mut i = 0;
    while i < points.len() {
        let m = points[i].measurement;
        let n = points[i..]
            .iter()
            .take_while(|p| p.measurement == m)
            .count();
        crate::metrics::METRICS.points_written(m, n as u64);
        i += n;
    }
}

/// Whether a line-protocol field value is of the type InfluxDB names (`integer`, `float`, `string`,
/// `boolean`, `unsigned`).
fn value_has_type(value: &str, ty: &str) -> bool {
    match ty {
        "integer" => value.ends_with('i'),
        "unsigned" => value.ends_with('u'),
        "string" => value.starts_with('"'),
        "boolean" => matches!(
            value,
            "t" | "T" | "true" | "True" | "TRUE" | "f" | "F" | "false" | "False" | "FALSE"
        ),
        "float" => value.parse::<f64>().is_ok(),
        _ => true,
    }
}

/// The human part of an InfluxDB error body: 1.x sends `{"error": "…"}`, 2.x `{"code": …, "message": "…"}`.
fn server_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    parsed
        .as_ref()
        .and_then(|v| v.get("error").or_else(|| v.get("message")))
        .and_then(|v| v.as_str())
        .unwrap_or(body)
        .trim()
        .to_string()
}

/// Finds the line InfluxDB complained about: the quoted line of a parse error, or the first line that
/// writes the conflicting field of a field type conflict; otherwise the batch's first line.
fn first_offending_line(message: &str, batch: &LineBatch) -> String {
    // `unable to parse 'LINE': reason`
    if let Some(rest) = message.split("unable to parse '").nth(1) {
        if let Some(end) = rest.find("': ") {
            return rest[..end].to_string();
        }
    }
    // `field type conflict: input field "F" on measurement "M" is type integer, already exists as …`
    let quoted_after = |marker: &str| -> Option<String> {
        let rest = message.split(marker).nth(1)?;
        let rest = rest.strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_string())
    };
    let incoming_type = message
        .split(" is type ")
        .nth(1)
        .and_then(|rest| rest.split([',', ' ']).next());
    if let (Some(field), Some(measurement), Some(ty)) = (
        quoted_after("input field "),
        quoted_after("on measurement "),
        incoming_type,
    ) {
        let prefix = format!("{field}=");
        let has_conflicting_value = |line: &str| {
            line.split(' ').nth(1).is_some_and(|fields| {
                fields.split(',').any(|kv| {
                    kv.strip_prefix(&prefix)
                        .is_some_and(|value| value_has_type(value, ty))
                })
            })
        };
        if let Some(line) = batch
            .lines()
            .find(|l| l.starts_with(&measurement) && has_conflicting_value(l))
        {
            return line.to_string();
        }
    }
    batch.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn batch() -> LineBatch {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        LineBatch::new(&[
            Point::new("a", t).int("v", 1),
            Point::new("m", t).float("w", 1.0),
            Point::new("m", t).int("v", 2).int("w", 3),
        ])
    }

    #[test]
    fn finds_the_conflicting_line() {
        let msg = r#"partial write: field type conflict: input field "w" on measurement "m" is type integer, already exists as type float dropped=1"#;
        assert_eq!(
            first_offending_line(msg, &batch()),
            "m v=2i,w=3i 1767225600000000000"
        );
    }

    #[test]
    fn finds_the_unparseable_line() {
        let msg = r#"unable to parse 'm v=': missing field value"#;
        assert_eq!(first_offending_line(msg, &batch()), "m v=");
    }

    #[test]
    fn unwraps_json_error_bodies_of_both_versions() {
        assert_eq!(
            server_message(r#"{"error":"database not found: \"x\""}"#),
            r#"database not found: "x""#
        );
        assert_eq!(
            server_message(r#"{"code":"not found","message":"bucket \"b\" not found"}"#),
            r#"bucket "b" not found"#
        );
        assert_eq!(
            server_message("<html>bad gateway</html>\n"),
            "<html>bad gateway</html>"
        );
    }

    #[test]
    fn falls_back_to_the_first_line() {
        assert_eq!(
            first_offending_line("something else", &batch()),
            "a v=1i 1767225600000000000"
        );
    }
}
