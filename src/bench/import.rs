//! `fitbit-influx bench --import`: a synthetic archive of N days — one `heart_rate-YYYY-MM-DD.json`
//! a day at the given sample interval and per-minute steps in 30-day chunks, the classic JSON as the
//! archives print it (reference fitbit-takeout.md §2.0) — written to a deflated zip, then imported by
//! `fitbit-influx import` as a child process into the `INFLUXDB_*` target: its wall time, points per
//! second and peak RSS.

use chrono::{Duration, NaiveDate, Utc};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// What the archive holds.
struct Written {
    files: usize,
    samples: u64,
    steps: u64,
    bytes: u64,
}

/// The archive of `days` days ending yesterday (UTC), in `path`.
fn write_archive(path: &Path, days: u32, every_s: u32) -> Result<Written, String> {
    let err = |e: &dyn std::fmt::Display| format!("writing {}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| err(&e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let last = Utc::now().date_naive() - Duration::days(1);
    let first = last - Duration::days(days as i64 - 1);
    let mut out = Written {
        files: 0,
        samples: 0,
        steps: 0,
        bytes: 0,
    };
    let mut text = String::new();
    let mut add = |zip: &mut zip::ZipWriter<_>, name: String, text: &str| -> Result<(), String> {
        zip.start_file(format!("Takeout/Fitbit/Global Export Data/{name}"), opts)
            .map_err(|e| err(&e))?;
        zip.write_all(text.as_bytes()).map_err(|e| err(&e))?;
        out.files += 1;
        out.bytes += text.len() as u64;
        Ok(())
    };
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    for day in first.iter_days().take_while(|d| *d <= last) {
        text.clear();
        text.push('[');
        let start = midnight(day);
        for i in 0..(86_400 / every_s.max(1)) {
            let t = start + Duration::seconds((i * every_s) as i64);
            if i > 0 {
                text.push(',');
            }
            let bpm = 55 + (t.timestamp() / 7) % 50;
            text.push_str(&format!(
                "{{\n  \"dateTime\" : \"{}\",\n  \"value\" : {{\n    \"bpm\" : {bpm},\n    \"confidence\" : 2\n  }}\n}}",
                t.format("%m/%d/%y %H:%M:%S")
            ));
            out.samples += 1;
        }
        text.push(']');
        add(&mut zip, format!("heart_rate-{day}.json"), &text)?;
    }
    let mut chunk = first;
    while chunk <= last {
        text.clear();
        text.push('[');
        let end = (chunk + Duration::days(30)).min(last + Duration::days(1));
        let mut t = midnight(chunk);
        while t < midnight(end) {
            if t > midnight(chunk) {
                text.push(',');
            }
            let n = 1 + t.timestamp() / 60 % 90;
            text.push_str(&format!(
                "{{\n  \"dateTime\" : \"{}\",\n  \"value\" : \"{n}\"\n}}",
                t.format("%m/%d/%y %H:%M:%S")
            ));
            out.steps += 1;
            t += Duration::minutes(1);
        }
        text.push(']');
        add(&mut zip, format!("steps-{chunk}.json"), &text)?;
        chunk = end;
    }
    zip.finish().map_err(|e| err(&e))?;
    Ok(out)
}

/// Writes the archive, imports it, and returns the lines to print.
pub async fn run(
    state_dir: &Path,
    env: Vec<(String, String)>,
    days: u32,
    every_s: u32,
) -> Result<Vec<String>, String> {
    let archive = state_dir.join("takeout-bench.zip");
    let started = Instant::now();
    let w = tokio::task::block_in_place(|| write_archive(&archive, days, every_s))?;
    let zipped = std::fs::metadata(&archive)
        .map_err(|e| e.to_string())?
        .len();
    let mut lines = vec![format!(
        "archive of {days} days: {} files, {} heart-rate samples (every {every_s} s) and {} step minutes, \
         {:.0} MB of JSON in a {:.0} MB zip (written in {:.1} s)",
        w.files,
        w.samples,
        w.steps,
        w.bytes as f64 / 1e6,
        zipped as f64 / 1e6,
        started.elapsed().as_secs_f64()
    )];
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("import")
        .arg(&archive)
        .args(["--tz", "UTC"])
        .env_clear()
        .envs(env)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("starting import: {e}"))?;
    let (status, peak_kib) = tokio::task::spawn_blocking(move || super::wait_with_peak(child))
        .await
        .map_err(|e| e.to_string())??;
    let wall = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&archive);
    if status != 0 {
        return Err(format!("the import exited with {status}"));
    }
    let points = w.samples + w.steps;
    lines.push(format!(
        "import: {points} points in {wall:.1} s ({:.0} points/s, {:.1} s per person-year at this density), peak RSS {:.1} MiB",
        points as f64 / wall,
        wall * 365.0 / days as f64,
        peak_kib as f64 / 1024.0
    ));
    Ok(lines)
}
