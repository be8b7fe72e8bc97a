//! Starting the simulator in-process on a free port and talking to it over real HTTP.
#![allow(dead_code)]

use fitbit_influx::sim::{self, Sim, SimArgs};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::sync::Arc;

pub struct TestSim {
    pub url: String,
    pub sim: Arc<Sim>,
    pub http: Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn start(configure: impl FnOnce(&mut SimArgs)) -> TestSim {
    let mut args = SimArgs::for_tests();
    configure(&mut args);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr, sim, _handle) = sim::start(args, async {
        let _ = rx.await;
    })
    .await
    .unwrap();
    TestSim {
        url: format!("http://{addr}"),
        sim,
        http: Client::new(),
        _stop: tx,
    }
}

impl TestSim {
    /// The simulator's request counters (`/sim/stats`).
    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/sim/stats", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POSTs the token endpoint with a form; returns status and JSON.
    pub async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/token", self.url))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// A fresh access token for user `i` (0-based).
    pub async fn access_token(&self, i: u32) -> String {
        let a = &self.sim.auth;
        let (status, body) = self
            .token(&[
                ("grant_type", "refresh_token"),
                ("client_id", &a.client_id),
                ("client_secret", a.client_secret.expose()),
                ("refresh_token", a.refresh_token(i).expose()),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn get(
        &self,
        token: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let r = self
            .http
            .get(format!("{}/v4/{path}", self.url))
            .bearer_auth(token)
            .query(query)
            .send()
            .await
            .unwrap();
        let (s, h) = (r.status(), r.headers().clone());
        (s, r.json().await.unwrap_or(Value::Null), h)
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/v4/{path}", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// Every data point of a list, following nextPageToken to the end; also returns the page count.
    /// `data_type` may name a method: `"steps:reconcile"` reads the reconciled stream.
    pub async fn list_all(
        &self,
        token: &str,
        data_type: &str,
        filter: &str,
        page_size: Option<usize>,
    ) -> (Vec<Value>, usize) {
        let mut all = Vec::new();
        let mut page_token = String::new();
        let mut pages = 0;
        let size = page_size.map(|s| s.to_string());
        let path = match data_type.split_once(':') {
            Some((name, method)) => format!("users/me/dataTypes/{name}/dataPoints:{method}"),
            None => format!("users/me/dataTypes/{data_type}/dataPoints"),
        };
        loop {
            let mut q = vec![("filter", filter)];
            if let Some(s) = &size {
                q.push(("pageSize", s));
            }
            if !page_token.is_empty() {
                q.push(("pageToken", &page_token));
            }
            let (status, body, _) = self.get(token, &path, &q).await;
            assert_eq!(status, 200, "{body}");
            pages += 1;
            all.extend(body["dataPoints"].as_array().cloned().unwrap_or_default());
            match body["nextPageToken"].as_str() {
                Some(t) => page_token = t.to_string(),
                None => return (all, pages),
            }
        }
    }
}
