//! The read path: InfluxQL over `/query`, which InfluxDB 1.x serves natively and 2.x and 3.x serve
//! through their v1 compatibility API (2.x: `db` is the bucket, authorised by the token; it needs the
//! bucket's DBRP mapping, which 2.x creates for the bucket the compose file sets up). `verify` uses it
//! to compare what InfluxDB holds with what the API says.

use crate::config::{InfluxConfig, InfluxTarget};
use crate::secret::Secret;
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("InfluxDB query failed ({status}): {message}")]
    Status { status: u16, message: String },
    #[error("InfluxDB cannot be reached: {0}")]
    Connection(String),
    #[error("InfluxDB answered a query with something unreadable: {0}")]
    Unreadable(String),
    #[error("InfluxDB refused statement {index}: {message}")]
    Statement { index: usize, message: String },
}

/// One series of a statement's result.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Series {
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub values: Vec<Vec<Value>>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    results: Vec<StatementResult>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct StatementResult {
    #[serde(default)]
    series: Vec<Series>,
    #[serde(default)]
    error: Option<String>,
}

pub struct InfluxReader {
    http: reqwest::Client,
    url: Url,
    database: String,
    auth: Auth,
}

enum Auth {
    Token(Secret),
    Basic(String, Option<Secret>),
    None,
}

impl InfluxReader {
    pub fn new(config: &InfluxConfig) -> InfluxReader {
        let mut url = config.url.clone();
        url.path_segments_mut()
            .map(|mut s| {
                s.pop_if_empty().push("query");
            })
            .expect("http(s) URLs have path segments");
        let (database, auth) = match &config.target {
            InfluxTarget::V2 { token, bucket, .. } => (bucket.clone(), Auth::Token(token.clone())),
            InfluxTarget::V1 {
                database,
                username,
                password,
            } => (
                database.clone(),
                match username {
                    Some(u) => Auth::Basic(u.clone(), password.clone()),
                    None => Auth::None,
                },
            ),
        };
        InfluxReader {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("static client configuration"),
            url,
            database,
            auth,
        }
    }

    /// Runs `;`-separated statements in one request; returns each statement's series.
    pub async fn query(&self, statements: &[String]) -> Result<Vec<Vec<Series>>, QueryError> {
        let q = statements.join(";\n");
        let mut req = self
            .http
            .post(self.url.clone())
            .query(&[("db", self.database.as_str()), ("epoch", "ns")])
            .form(&[("q", q.as_str())]);
        req = match &self.auth {
            Auth::Token(t) => req.header("Authorization", format!("Token {}", t.expose())),
            Auth::Basic(u, p) => req.basic_auth(u, p.as_ref().map(|p| p.expose())),
            Auth::None => req,
        };
        let resp = req
            .send()
            .await
            .map_err(|e| QueryError::Connection(e.without_url().to_string()))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| QueryError::Connection(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(QueryError::Status {
                status: status.as_u16(),
                message: text.chars().take(300).collect(),
            });
        }
        let answer: Answer = serde_json::from_str(&text).map_err(|e| {
            QueryError::Unreadable(format!(
                "{e}: {}",
                text.chars().take(200).collect::<String>()
            ))
        })?;
        if let Some(e) = answer.error {
            return Err(QueryError::Status {
                status: 200,
                message: e,
            });
        }
        let mut out = Vec::with_capacity(statements.len());
        for (index, r) in answer.results.into_iter().enumerate() {
            if let Some(message) = r.error {
                return Err(QueryError::Statement { index, message });
            }
            out.push(r.series);
        }
        out.resize_with(statements.len(), Vec::new);
        Ok(out)
    }
}
