//! `fitbit-influx bench`: a complete backfill of N simulated days, measured (`import.rs`: an archive
//! import instead).
//!
//! The simulator runs as a child process (its CPU is not ours); the daemon runs here, once, against
//! the InfluxDB the `INFLUXDB_*` variables name (use a scratch database or bucket), with pacing off
//! so that CPU and memory are what the data costs. It prints requests per endpoint next to the API's
//! minimum, points written, CPU per point, peak and idle RSS, wall time and how long the same requests
//! take at the default pace. Linux only (it reads `/proc/self`). See docs/performance.md.

mod import;

use crate::config::{Config, Env};
use crate::metrics::METRICS;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Options of `fitbit-influx bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Days of history to backfill.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Seconds between heart-rate samples (2: the density real accounts show, reference §11 #3).
    #[arg(long, default_value_t = 2)]
    pub heart_rate_every: u32,
    /// Seconds to stay idle after the backfill before reading the idle RSS.
    #[arg(long, default_value_t = 5)]
    pub idle_secs: u64,
    /// Then export the heart rate as `export` does — a week, then every day — from the API and from
    /// InfluxDB, printing each run's peak RSS (memory must not grow with the range).
    #[arg(long)]
    pub export: bool,
    /// Instead of the backfill: write a synthetic archive of `--days` days (heart rate every
    /// `--heart-rate-every` seconds, steps per minute) and time `fitbit-influx import` of it.
    #[arg(long)]
    pub import: bool,
}

/// Runs the benchmark; `Err` is a one-line reason.
pub async fn run(args: BenchArgs) -> Result<(), String> {
    if args.import {
        let state_dir = tempfile_dir()?;
        let mut env = sim_env("http://127.0.0.1:9", &state_dir);
        env.extend(std::env::vars().filter(|(k, _)| k.starts_with("INFLUXDB_")));
        let lines = import::run(&state_dir, env, args.days, args.heart_rate_every).await;
        let _ = std::fs::remove_dir_all(&state_dir);
        for line in lines? {
            println!("{line}");
        }
        return Ok(());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut sim = tokio::process::Command::new(exe)
        .args(["sim", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--days", &args.days.to_string()])
        .args(["--heart-rate-every", &args.heart_rate_every.to_string()])
        .args(["--quota-per-minute", "1000000"])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the simulator: {e}"))?;
    let url = format!("http://127.0.0.1:{port}");
    wait_for(&url).await?;
    let state_dir = tempfile_dir()?;
    let config = config_for(&url, &state_dir)?;

    let (cpu0, wall0) = (cpu_seconds()?, Instant::now());
    let result = crate::daemon::run(config, true, tokio_util::sync::CancellationToken::new()).await;
    let (cpu, wall) = (cpu_seconds()? - cpu0, wall0.elapsed());
    let peak = status_kib("VmHWM")?;
    if let Err(e) = result {
        return Err(format!("the backfill did not complete: {e}"));
    }
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let idle = status_kib("VmRSS")?;
    // Idle memory split: the binary's and libraries' pages (RssFile) are not the daemon's data.
    let (idle_anon, idle_file) = (status_kib("RssAnon")?, status_kib("RssFile")?);
    let stats: serde_json::Value = reqwest::get(format!("{url}/sim/stats"))
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let exports = if args.export {
        Some(export_runs(&url, &state_dir, args.days).await?)
    } else {
        None
    };
    let _ = sim.kill().await;
    let _ = std::fs::remove_dir_all(&state_dir);

    let requests: BTreeMap<String, u64> = stats["by_type"]
        .as_object()
        .map(|o| {
            o.iter()
                // The simulator's request counters are integers; anything else counts nothing.
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let points = written_points();
    let minimum = minimum_requests(&points, args.days);
    let total_points: u64 = points.values().sum();
    let total_requests: u64 = requests.values().sum();
    let total_minimum: u64 = minimum.values().sum();

    println!(
        "backfill of {} days, a heart-rate sample every {} s",
        args.days, args.heart_rate_every
    );
    println!("{:<45} {:>9} {:>9}", "endpoint", "requests", "minimum");
    for (endpoint, n) in &requests {
        let min = minimum.get(endpoint).map_or("".into(), |m| m.to_string());
        println!("{endpoint:<45} {n:>9} {min:>9}");
    }
    println!(
        "{:<45} {total_requests:>9} {total_minimum:>9}  ({:.2} × the minimum)",
        "total",
        total_requests as f64 / total_minimum.max(1) as f64
    );
    println!("points written: {total_points}");
    println!(
        "CPU: {:.2} s, {:.2} µs per point",
        cpu,
        cpu * 1e6 / total_points.max(1) as f64
    );
    println!(
        "RSS: peak {:.1} MiB, idle {:.1} MiB after {} s ({:.1} MiB anonymous, {:.1} MiB of the binary and libraries)",
        peak as f64 / 1024.0,
        idle as f64 / 1024.0,
        args.idle_secs,
        idle_anon as f64 / 1024.0,
        idle_file as f64 / 1024.0
    );
    let paced = Duration::from_secs_f64(
        total_requests as f64 * 60.0 / crate::config::DEFAULT_REQUESTS_PER_MINUTE as f64,
    );
    println!(
        "wall: {:.1} s unpaced; at the default {} requests a minute the requests alone take {:.1} min",
        wall.as_secs_f64(),
        crate::config::DEFAULT_REQUESTS_PER_MINUTE,
        paced.as_secs_f64() / 60.0
    );
    for line in exports.into_iter().flatten() {
        println!("{line}");
    }
    Ok(())
}

/// `export` of the heart rate as a child process, over a week and over every day, from the API and
/// from InfluxDB: one line per run with its rows, wall time and peak RSS.
async fn export_runs(
    url: &str,
    state_dir: &std::path::Path,
    days: u32,
) -> Result<Vec<String>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut env = sim_env(url, state_dir);
    env.extend(std::env::vars().filter(|(k, _)| k.starts_with("INFLUXDB_")));
    let tz = crate::sim::SimArgs::for_tests().tz_of(0);
    let last = chrono::Utc::now().with_timezone(&tz).date_naive() - chrono::Duration::days(1);
    let mut lines = Vec::new();
    // The API at its quota (300 a minute) takes twelve minutes for a year of dense heart rate: a
    // week and a month show whether memory grows with the range; InfluxDB exports every day.
    env.push(("REQUESTS_PER_MINUTE".into(), "300".into()));
    let api = ("the API", &[][..]);
    let stored = ("InfluxDB", &["--from-influx", "--tz", tz.name()][..]);
    let week = 7.min(days.saturating_sub(1));
    let runs = [
        (week, api),
        (30.min(days.saturating_sub(1)), api),
        (week, stored),
        (days.saturating_sub(1), stored),
    ];
    for (span, (source, extra)) in runs {
        let from = last - chrono::Duration::days(span as i64 - 1);
        {
            let out = state_dir.join("export");
            let _ = std::fs::remove_dir_all(&out);
            let mut cmd = std::process::Command::new(&exe);
            cmd.args(["export", "--types", "heart-rate", "--out"])
                .arg(&out)
                .args(["--from", &from.to_string(), "--to", &last.to_string()])
                .args(extra)
                .env_clear()
                .envs(env.iter().cloned())
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let started = Instant::now();
            let child = cmd.spawn().map_err(|e| format!("starting export: {e}"))?;
            let (status, peak_kib) = tokio::task::spawn_blocking(move || wait_with_peak(child))
                .await
                .map_err(|e| e.to_string())??;
            if status != 0 {
                return Err(format!(
                    "export from {source} over {span} days exited with {status}"
                ));
            }
            let rows = count_lines(&out.join("me").join("heart_rate.csv"))?.saturating_sub(1);
            lines.push(format!(
                "export of {span} days of heart rate from {source}: {rows} rows in {:.1} s, peak RSS {:.1} MiB",
                started.elapsed().as_secs_f64(),
                peak_kib as f64 / 1024.0
            ));
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    Ok(lines)
}

/// Waits for `child`; returns its exit status and peak RSS in KiB: its `VmHWM`, read every 20 ms
/// until it exits. (`wait4`'s `ru_maxrss` would not do: after `fork` it starts from the parent's
/// peak, here the backfill's.)
fn wait_with_peak(mut child: std::process::Child) -> Result<(i32, u64), String> {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok((status.code().unwrap_or(-1), peak));
        }
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|t| kib_of(&t, "VmHWM"))
        {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count_lines(path: &std::path::Path) -> Result<u64, String> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(std::io::BufReader::new(file).lines().count() as u64)
}

async fn wait_for(url: &str) -> Result<(), String> {
    for _ in 0..100 {
        if reqwest::get(format!("{url}/sim/stats")).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the simulator did not start".into())
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("fitbit-influx-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// The configuration: InfluxDB from the environment, Google from the simulator (seed 1), no pacing.
fn config_for(url: &str, state_dir: &std::path::Path) -> Result<Config, String> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("INFLUXDB_"))
        .collect();
    vars.extend(sim_env(url, state_dir));
    let env = Env::from_pairs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut config = Config::from_env(&env).map_err(|e| e.to_string())?;
    // CPU and memory, not the quota: pacing off (the simulator's quota is off too).
    config.sync.requests_per_minute = 1_000_000;
    Ok(config)
}

/// The simulator's (seed 1) credentials and addresses, the state file in `state_dir`, no pacing.
fn sim_env(url: &str, state_dir: &std::path::Path) -> Vec<(String, String)> {
    let mut sim_args = crate::sim::SimArgs::for_tests();
    sim_args.seed = 1;
    let auth = crate::sim::auth::Auth::new(&sim_args);
    vec![
        ("GOOGLE_CLIENT_ID".into(), auth.client_id.clone()),
        (
            "GOOGLE_CLIENT_SECRET".into(),
            auth.client_secret.expose().to_string(),
        ),
        (
            "GOOGLE_REFRESH_TOKEN".into(),
            auth.refresh_token(0).expose().to_string(),
        ),
        ("HEALTH_API_URL".into(), url.to_string()),
        ("GOOGLE_TOKEN_URL".into(), format!("{url}/token")),
        (
            "STATE_FILE".into(),
            state_dir.join("state.json").display().to_string(),
        ),
    ]
}

/// Points written per measurement, from this process's metrics.
fn written_points() -> BTreeMap<String, u64> {
    let text = METRICS.render();
    text.lines()
        .filter_map(|l| l.strip_prefix("fitbit_influx_points_written_total{measurement=\""))
        .filter_map(|l| {
            let (m, rest) = l.split_once('"')?;
            let n = rest.rsplit(' ').next()?.parse::<f64>().ok()?;
            Some((m.to_string(), n as u64))
        })
        .collect()
}

/// The fewest requests the API allows for what was written: per list type its points in pages of
/// at most 5,000 (25 for sleep and exercise), per rollup type its days in windows of its cap.
fn minimum_requests(points: &BTreeMap<String, u64>, days: u32) -> BTreeMap<String, u64> {
    use crate::catalog::{Fetch, CATALOG};
    let mut out = BTreeMap::new();
    for e in CATALOG {
        let (key, n) = match e.fetch {
            Fetch::Snapshot { path, .. } => (path.to_string(), 1),
            Fetch::DailyRollUp => (
                format!("{}:dailyRollUp", e.api_type),
                (days as u64).div_ceil(e.window_days as u64),
            ),
            Fetch::List { page_size, .. } => {
                let page = (page_size as u64).min(5000);
                // A type that wrote nothing still costs one (empty) page.
                let n = points.get(e.measurements[0].name).copied().unwrap_or(0);
                (format!("{}:reconcile", e.api_type), n.div_ceil(page).max(1))
            }
        };
        *out.entry(key).or_default() += n;
    }
    // The newest height, for BMI: one request per run.
    *out.entry("height".into()).or_default() += 1;
    out
}

/// User plus system CPU seconds of this process; `Err` where `/proc/self/stat` cannot be read
/// (the figures would be made up otherwise).
fn cpu_seconds() -> Result<f64, String> {
    let stat = std::fs::read_to_string("/proc/self/stat")
        .map_err(|e| format!("bench needs Linux's /proc/self/stat: {e}"))?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| "unreadable /proc/self/stat".to_string())
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// A `/proc/self/status` figure in KiB; `Err` where it cannot be read.
fn status_kib(key: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("bench needs Linux's /proc/self/status: {e}"))?;
    kib_of(&text, key).ok_or_else(|| format!("no {key} in /proc/self/status"))
}

/// A figure of a `/proc/*/status` text, in KiB.
fn kib_of(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        l.strip_prefix(key)?
            .trim_start_matches(':')
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}
