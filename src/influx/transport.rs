//! The two ways a batch of line protocol reaches InfluxDB. Each sends one request and reports what the
//! server said; retrying and classifying is the writer's job ([`super::InfluxWriter`]).

use crate::config::{InfluxConfig, InfluxTarget};
use crate::point::LineBatch;
use crate::secret::Secret;
use flate2::{write::GzEncoder, Compression};
use reqwest::Url;
use std::io::Write;
use std::time::Duration;

/// What one request ended in, when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The server answered with a non-success status; `message` is its body.
    Status { status: u16, message: String },
    /// No answer: refused, reset, timed out, DNS.
    Connection(String),
}

pub(super) enum Transport {
    /// InfluxDB 2.x / 3.x through the influxdb2 crate (gzip-compressed streams to `/api/v2/write`).
    V2 {
        client: influxdb2::Client,
        bucket: String,
        org: String,
        /// For `check` on InfluxDB 3, which has no buckets API: its `/api/v3` and the token.
        url: Url,
        token: Secret,
    },
    /// InfluxDB 1.x `/write?db=` (also accepted by 3.x), gzip-compressed by us.
    V1 {
        http: reqwest::Client,
        write_url: Url,
        username: Option<String>,
        password: Option<Secret>,
    },
}

/// A request that gets no answer within this time is treated as a connection failure and retried.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl Transport {
    pub(super) fn new(config: &InfluxConfig) -> Transport {
        match &config.target {
            InfluxTarget::V2 { token, org, bucket } => Transport::V2 {
                client: influxdb2::Client::new(config.url.as_str(), org, token.expose()),
                bucket: bucket.clone(),
                org: org.clone(),
                url: config.url.clone(),
                token: token.clone(),
            },
            InfluxTarget::V1 {
                database,
                username,
                password,
            } => {
                let mut write_url = config.url.clone();
                write_url
                    .path_segments_mut()
                    .map(|mut s| {
                        s.pop_if_empty().push("write");
                    })
                    .expect("http(s) URLs have path segments");
                write_url
                    .query_pairs_mut()
                    .append_pair("db", database)
                    .append_pair("precision", "ns");
                Transport::V1 {
                    http: reqwest::Client::builder()
                        .timeout(REQUEST_TIMEOUT)
                        .build()
                        .expect("static client configuration"),
                    write_url,
                    username: username.clone(),
                    password: password.clone(),
                }
            }
        }
    }

    pub(super) fn describe_target(&self) -> String {
        match self {
            Transport::V2 { bucket, .. } => format!("bucket \"{bucket}\""),
            Transport::V1 { write_url, .. } => {
                let db = write_url
                    .query_pairs()
                    .find(|(k, _)| k == "db")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                format!("database \"{db}\"")
            }
        }
    }

    /// Sends one batch. (InfluxDB 2 refuses an empty batch with 400 "writing requires points"; 1.x
    /// accepts one, which `probe` uses there.)
    pub(super) async fn send(&self, batch: &LineBatch) -> Result<(), SendError> {
        match self {
            Transport::V2 { client, bucket, .. } => {
                let body = futures::stream::iter([batch.clone()]);
                let write = client.write_with_precision(
                    bucket,
                    body,
                    influxdb2::api::write::TimestampPrecision::Nanoseconds,
                );
                v2_request(write).await
            }
            Transport::V1 {
                http,
                write_url,
                username,
                password,
            } => {
                let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
                gz.write_all(&batch.body)
                    .and_then(|_| gz.flush())
                    .expect("writing to memory");
                let body = gz.finish().expect("writing to memory");
                let req = http
                    .post(write_url.clone())
                    .header("Content-Encoding", "gzip")
                    .header("Content-Type", "text/plain; charset=utf-8")
                    .body(body);
                let resp = v1_send(req, username, password).await?;
                let status = resp.status();
                if status.is_success() {
                    return Ok(());
                }
                let message = resp.text().await.unwrap_or_default();
                Err(SendError::Status {
                    status: status.as_u16(),
                    message,
                })
            }
        }
    }
}

impl Transport {
    /// Deletes the points of `measurement` carrying every tag in `tags` at the instant `at` (whole
    /// seconds). InfluxDB 1.x: `DELETE … WHERE … AND time = …` on `/query`; 2.x: `/api/v2/delete`
    /// with a predicate. InfluxDB 3 has no point deletes and answers with an error.
    pub(super) async fn delete(
        &self,
        measurement: &str,
        tags: &[(&str, &str)],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SendError> {
        match self {
            Transport::V2 { client, bucket, .. } => {
                let predicate = std::iter::once(format!("_measurement=\"{measurement}\""))
                    .chain(tags.iter().map(|(k, v)| format!("{k}=\"{v}\"")))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let t = at.naive_utc();
                v2_request(client.delete(bucket, t, t, Some(predicate))).await
            }
            Transport::V1 {
                http,
                write_url,
                username,
                password,
            } => {
                let quote = |s: &str| s.replace('\\', "\\\\").replace('\'', "\\'");
                let mut statement = format!("DELETE FROM \"{measurement}\" WHERE");
                for (k, v) in tags {
                    statement += &format!(" \"{k}\" = '{}' AND", quote(v));
                }
                let t = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                statement += &format!(" time >= '{t}' AND time <= '{t}'");
                let mut url = write_url.clone();
                let db: Vec<(String, String)> = write_url
                    .query_pairs()
                    .filter(|(k, _)| k == "db")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.path_segments_mut()
                    .map(|mut s| {
                        s.pop().push("query");
                    })
                    .expect("http(s) URLs have path segments");
                url.query_pairs_mut().clear().extend_pairs(db);
                let req = http.post(url).form(&[("q", statement)]);
                let resp = v1_send(req, username, password).await?;
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                // 1.x answers 200 with {"results":[{"error": …}]} when the statement fails.
                if status.is_success() && !text.contains("\"error\"") {
                    return Ok(());
                }
                Err(SendError::Status {
                    status: status.as_u16(),
                    message: text,
                })
            }
        }
    }
}

/// A request to InfluxDB 1.x, with basic auth when configured.
async fn v1_send(
    mut req: reqwest::RequestBuilder,
    username: &Option<String>,
    password: &Option<Secret>,
) -> Result<reqwest::Response, SendError> {
    if let Some(user) = username {
        req = req.basic_auth(user, password.as_ref().map(|p| p.expose()));
    }
    req.send()
        .await
        .map_err(|e| SendError::Connection(without_url(e).to_string()))
}

/// An influxdb2-crate request within [`REQUEST_TIMEOUT`], its error as a [`SendError`].
async fn v2_request(
    request: impl std::future::Future<Output = Result<(), influxdb2::RequestError>>,
) -> Result<(), SendError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Err(_) => Err(SendError::Connection(format!(
            "no answer within {}s",
            REQUEST_TIMEOUT.as_secs()
        ))),
        Ok(Ok(())) => Ok(()),
        Ok(Err(influxdb2::RequestError::Http { status, text })) => Err(SendError::Status {
            status: status.as_u16(),
            message: text,
        }),
        Ok(Err(other)) => Err(SendError::Connection(other.to_string())),
    }
}

/// What `probe` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Probe {
    /// The credentials are accepted and the bucket/database exists; how that was checked.
    Found(&'static str),
    /// The credentials are accepted but the bucket/database is not there (or the token cannot see it);
    /// what to do about it.
    Missing(&'static str),
}

impl Transport {
    /// Checks credentials and target without writing anything, the way each backend answers:
    /// InfluxDB 2 through `GET /api/v2/buckets?name=…&org=…` (token, organisation and bucket in one
    /// request); InfluxDB 3, which has no buckets API (404 there), through its database list; 1.x
    /// through an empty write, which 1.x accepts and checks database and credentials with.
    pub(super) async fn probe(&self) -> Result<Probe, SendError> {
        match self {
            Transport::V2 {
                client,
                bucket,
                org,
                ..
            } => {
                let request = influxdb2::api::buckets::ListBucketsRequest {
                    name: Some(bucket.clone()),
                    org: Some(org.clone()),
                    ..Default::default()
                };
                match tokio::time::timeout(REQUEST_TIMEOUT, client.list_buckets(Some(request)))
                    .await
                {
                    Err(_) => Err(SendError::Connection(format!(
                        "no answer within {}s",
                        REQUEST_TIMEOUT.as_secs()
                    ))),
                    Ok(Ok(found)) if found.buckets.iter().any(|b| b.name == *bucket) => {
                        Ok(Probe::Found("InfluxDB 2 buckets API"))
                    }
                    Ok(Ok(_)) => Ok(Probe::Missing("create it or fix the name")),
                    Ok(Err(influxdb2::RequestError::Http { status, text }))
                        if status.as_u16() == 404 && !text.contains("organization") =>
                    {
                        self.probe_v3().await
                    }
                    Ok(Err(influxdb2::RequestError::Http { status, text })) => {
                        Err(SendError::Status {
                            status: status.as_u16(),
                            message: text,
                        })
                    }
                    Ok(Err(other)) => Err(SendError::Connection(other.to_string())),
                }
            }
            Transport::V1 { .. } => {
                let empty = LineBatch::new(&[]);
                self.send(&empty)
                    .await
                    .map(|()| Probe::Found("an empty write"))
            }
        }
    }

    /// InfluxDB 3: `GET /api/v3/configure/database?format=json` lists `{"iox::database": name}`.
    async fn probe_v3(&self) -> Result<Probe, SendError> {
        let Transport::V2 {
            url, token, bucket, ..
        } = self
        else {
            unreachable!("only the v2 transport talks to InfluxDB 3");
        };
        let mut endpoint = url.clone();
        endpoint
            .path_segments_mut()
            .map(|mut s| {
                s.pop_if_empty()
                    .extend(["api", "v3", "configure", "database"]);
            })
            .expect("http(s) URLs have path segments");
        endpoint.query_pairs_mut().append_pair("format", "json");
        let resp = reqwest::Client::new()
            .get(endpoint)
            .bearer_auth(token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| SendError::Connection(without_url(e).to_string()))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(SendError::Status {
                status: status.as_u16(),
                message: if status.as_u16() == 404 {
                    format!("neither GET /api/v2/buckets nor GET /api/v3/configure/database is offered here ({text})")
                } else {
                    text
                },
            });
        }
        let list: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
        let found = list
            .iter()
            .any(|d| d["iox::database"].as_str() == Some(bucket.as_str()));
        Ok(if found {
            Probe::Found("InfluxDB 3 database list")
        } else {
            // InfluxDB 3 creates a database with the first write to it, so on a new server this is
            // expected until the daemon has run once.
            Probe::Missing(
                "InfluxDB 3 creates it with the first write: start the daemon (or fix the name if it should already hold data)",
            )
        })
    }
}

/// reqwest errors print the URL, which for 1.x may hold `u=`/`p=` query credentials of a user's own
/// making; the message is enough.
fn without_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}
