//! Running the `fitbit-influx` binary as a daemon against an in-process simulator and the real InfluxDB.
#![allow(dead_code)]

use super::sim::TestSim;
use super::Servers;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::{Child, Command};

/// Where the daemon writes: InfluxDB 1.x directly, or the v2 path through the nginx shim.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Api {
    V1,
    V2,
}

pub struct Daemon<'a> {
    pub sim: &'a TestSim,
    pub user: u32,
    pub servers: &'a Servers,
    pub db: String,
    pub api: Api,
    pub state_file: PathBuf,
    pub extra_env: Vec<(String, String)>,
}

impl<'a> Daemon<'a> {
    pub fn new(sim: &'a TestSim, servers: &'a Servers, db: &str, state_dir: &Path) -> Daemon<'a> {
        Daemon {
            sim,
            user: 0,
            servers,
            db: db.to_string(),
            api: Api::V1,
            state_file: state_dir.join("state.json"),
            extra_env: Vec::new(),
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.extra_env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let a = &self.sim.sim.auth;
        let mut c = Command::new(env!("CARGO_BIN_EXE_fitbit-influx"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GOOGLE_CLIENT_ID", &a.client_id)
            .env("GOOGLE_CLIENT_SECRET", a.client_secret.expose())
            .env("GOOGLE_REFRESH_TOKEN", a.refresh_token(self.user).expose())
            .env("HEALTH_API_URL", &self.sim.url)
            .env("GOOGLE_TOKEN_URL", format!("{}/token", self.sim.url))
            .env("STATE_FILE", &self.state_file)
            .env("REQUESTS_PER_MINUTE", "300")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        match self.api {
            Api::V1 => {
                c.env("INFLUXDB_URL", &self.servers.v1)
                    .env("INFLUXDB_API", "v1")
                    .env("INFLUXDB_DATABASE", &self.db);
            }
            Api::V2 => {
                c.env("INFLUXDB_URL", &self.servers.v2)
                    .env("INFLUXDB_TOKEN", "test-token")
                    .env("INFLUXDB_ORG", "home")
                    .env("INFLUXDB_BUCKET", &self.db);
            }
        }
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("starting fitbit-influx")
    }

    /// `run --once` to completion: (exit code, stderr).
    pub async fn run_once(&self) -> (Option<i32>, String) {
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(300),
            self.command(&["run", "--once"]).output(),
        )
        .await
        .expect("run --once finishes within 5 minutes")
        .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Sends SIGTERM (tokio's `kill` is SIGKILL).
pub fn terminate(child: &Child) {
    let pid = child.id().expect("running");
    std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
}
