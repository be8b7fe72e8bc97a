//! Fetching one window of one data type: request page after page (following `nextPageToken` whatever
//! the page size, reference §11 #1–2), convert each item into points and write each page to InfluxDB
//! before asking for the next, so at most one page is held in memory.
//!
//! A data point that cannot be read costs that point only: it is skipped with a warning that names it,
//! counted, and its day is reported back so the caller keeps that day out of the final set. A point
//! that is not finished (a sleep in progress) is not written and keeps its day open.

use super::planner::Window;
use super::SyncError;
use crate::api::HealthClient;
use crate::catalog::{self, Context, DataType, Fetch, WindowFilter};
use crate::influx::InfluxWriter;
use chrono::{Duration, NaiveDate};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tracing::warn;

/// More pages than this in one window means the API keeps handing out tokens: the window fails (and
/// is retried later) rather than looping for ever. A dense heart-rate day takes about eight.
pub const MAX_PAGES_PER_WINDOW: usize = 500;

/// Which of the API's views the sync reads (reference §11 #4), and how dense heart rate is stored.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// `DATA_SOURCES=all`: raw `list` points of every source, each tagged with its `source`.
    /// Otherwise the reconciled stream (`:reconcile`), the numbers the Fitbit app shows.
    pub all: bool,
    /// The user's `dataSourceFamily` (`google-wearables`, …); `None`: all sources.
    pub family: Option<String>,
    /// `HEART_RATE_RESOLUTION=minute`: heart rate as per-minute summaries instead of every sample.
    pub heart_rate_per_minute: bool,
}

impl FetchOptions {
    /// Whether `dt`'s samples are written as per-minute summaries.
    pub fn per_minute(&self, dt: &DataType) -> bool {
        self.heart_rate_per_minute && dt.name == catalog::minute::SUMMARISED
    }
}

impl FetchOptions {
    fn family_name(&self) -> Option<String> {
        self.family
            .as_ref()
            .map(|f| format!("users/me/dataSourceFamilies/{f}"))
    }
}

/// The `source` tag of a raw point: platform, form factor and app, e.g.
/// `HEALTH_CONNECT/PHONE/com.google.android.apps.fitness` (a few values per person).
fn source_of(item: &Value) -> String {
    let ds = item.get("dataSource");
    let part = |p: &str| {
        ds.and_then(|d| catalog::read::opt_str(d, p))
            .map(str::to_string)
    };
    let parts: Vec<String> = [
        part("platform"),
        part("device/formFactor"),
        part("application/packageName"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "unknown".into()
    } else {
        parts.join("/")
    }
}

/// What a fetched and written window found.
#[derive(Debug, Default)]
pub struct WindowReport {
    pub points: usize,
    pub pages: usize,
    /// Days with unreadable points: how many, and the first one's description.
    pub unreadable: BTreeMap<NaiveDate, (usize, String)>,
    /// Unreadable points whose day could not be told: the whole window counts as affected.
    pub unreadable_undated: Option<(usize, String)>,
    /// Days with data that is not finished yet.
    pub incomplete: BTreeSet<NaiveDate>,
}

impl WindowReport {
    /// Skips an unreadable point: a warning that names it, and its day is counted as failed.
    fn skip(&mut self, dt: &DataType, u: catalog::typed::Unreadable) {
        warn!(data_type = dt.name, point = %u.name, day = ?u.day, problem = %u.what,
            "skipping an unreadable data point; the rest of its page is written, its day is retried later");
        let slot = match u.day {
            Some(d) => self.unreadable.entry(d).or_insert((0, String::new())),
            None => self.unreadable_undated.get_or_insert((0, String::new())),
        };
        if slot.0 == 0 {
            slot.1 = format!("{}: {}", u.name, u.what);
        }
        slot.0 += 1;
    }

    pub fn skipped(&self) -> usize {
        self.unreadable.values().map(|(n, _)| n).sum::<usize>()
            + self.unreadable_undated.as_ref().map_or(0, |(n, _)| *n)
    }

    /// The problem to record for `day`, if it had unreadable points.
    pub fn problem_on(&self, day: NaiveDate) -> Option<String> {
        let (n, first) = self
            .unreadable
            .get(&day)
            .or(self.unreadable_undated.as_ref())?;
        Some(format!("{n} unreadable data point(s), first: {first}"))
    }
}

/// One page as it was read: a JSON tree and the key of its item array, or, for an entry with a
/// typed decoder, its points already decoded.
pub enum PageBody {
    Tree(Value, &'static str),
    Decoded(catalog::typed::DecodedPage),
    Items(RawItems),
}

/// A list page whose items are kept as their JSON text until each is converted: a page as one
/// `Value` tree costs about twenty times its size in small allocations (28 MiB for a 5,000-point
/// page, the daemon's memory peak, measured with heaptrack); one item's tree at a time does not.
#[derive(serde::Deserialize)]
pub struct RawItems {
    #[serde(rename = "dataPoints", default)]
    items: Vec<Box<serde_json::value::RawValue>>,
    #[serde(rename = "nextPageToken", default)]
    next_page_token: Option<String>,
}

impl PageBody {
    fn next_page_token(&self) -> Option<&str> {
        match self {
            PageBody::Tree(v, _) => v.get("nextPageToken").and_then(Value::as_str),
            PageBody::Decoded(d) => d.next_page_token.as_deref(),
            PageBody::Items(r) => r.next_page_token.as_deref(),
        }
        .filter(|t| !t.is_empty())
    }
}

/// The pages of one window, requested one at a time: follows `nextPageToken` until it is absent,
/// whatever the pages hold, and gives up after [`MAX_PAGES_PER_WINDOW`].
pub struct Pages<'s> {
    dt: &'static DataType,
    window: Window,
    sources: &'s FetchOptions,
    path: String,
    token: Option<String>,
    pub count: usize,
    done: bool,
    /// Decode with the entry's typed decoder, or item by item, instead of building a page's tree.
    lean: bool,
}

impl<'s> Pages<'s> {
    /// Pages as JSON trees.
    pub fn new(dt: &'static DataType, window: Window, sources: &'s FetchOptions) -> Pages<'s> {
        Pages {
            dt,
            window,
            sources,
            path: format!("dataTypes/{}/dataPoints", dt.api_type),
            token: None,
            count: 0,
            done: false,
            lean: false,
        }
    }

    /// Pages decoded by the entry's typed decoder where it has one (and each point's source is not
    /// needed), else item by item.
    pub fn decoded(dt: &'static DataType, window: Window, sources: &'s FetchOptions) -> Pages<'s> {
        Pages {
            lean: true,
            ..Pages::new(dt, window, sources)
        }
    }

    /// The next page as a tree and the key of its item array, or `None` after the last one.
    pub async fn next(
        &mut self,
        client: &HealthClient,
        cx: &Context<'_>,
    ) -> Result<Option<(Value, &'static str)>, SyncError> {
        Ok(match self.next_page(client, cx).await? {
            Some(PageBody::Tree(v, key)) => Some((v, key)),
            Some(PageBody::Decoded(_) | PageBody::Items(_)) => {
                unreachable!("Pages::new reads trees")
            }
            None => None,
        })
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page(
        &mut self,
        client: &HealthClient,
        cx: &Context<'_>,
    ) -> Result<Option<PageBody>, SyncError> {
        if self.done {
            return Ok(None);
        }
        if self.count >= MAX_PAGES_PER_WINDOW {
            warn!(
                data_type = self.dt.name,
                from = %self.window.from,
                to = %self.window.to,
                pages = self.count,
                "the API kept sending page tokens; giving this window up for now"
            );
            return Err(SyncError::TooManyPages(self.count));
        }
        let page = request_page(
            client,
            self.dt,
            (&self.path, self.lean),
            cx,
            (self.window, self.sources),
            self.token.as_deref(),
        )
        .await?;
        self.count += 1;
        match page.next_page_token() {
            Some(t) => self.token = Some(t.to_string()),
            None => self.done = true,
        }
        Ok(Some(page))
    }
}

/// Fetches `window` of `dt` and writes its points.
pub async fn fetch_window(
    client: &HealthClient,
    writer: &InfluxWriter,
    dt: &'static DataType,
    cx: &Context<'_>,
    (window, sources): (Window, &FetchOptions),
) -> Result<WindowReport, SyncError> {
    let mut report = WindowReport::default();
    let mut pages = Pages::decoded(dt, window, sources);
    // Per-minute heart rate: the window's minutes, written once the window is complete.
    let mut minutes = sources
        .per_minute(dt)
        .then(catalog::minute::MinuteSummary::default);
    while let Some(page) = pages.next_page(client, cx).await? {
        let points = page_points(dt, cx, page, (window, sources), &mut report);
        match &mut minutes {
            Some(summary) => points.iter().for_each(|p| summary.add(p)),
            None => {
                writer.write(&points).await?;
                report.points += points.len();
                if dt
                    .measurements
                    .iter()
                    .any(|m| m.name == catalog::EXERCISE.name)
                {
                    replace_downgraded(writer, &points, cx.user).await;
                }
            }
        }
    }
    if let Some(summary) = minutes.filter(|s| !s.is_empty()) {
        let points = summary.into_points();
        writer.write(&points).await?;
        report.points += points.len();
    }
    report.pages = pages.count;
    Ok(report)
}

/// An exercise session written with its real type replaces the generic `workout` point a wide
/// query stored at the same start (earlier versions fetched 90-day windows; reference §11 #12): as
/// `type` is a tag, that point is in another series, so it is deleted. Where the server cannot
/// delete (InfluxDB 3), one warning says what to remove by hand; the richer point is written anyway.
/// Called for the exercise entry only, so the dense streams' pages are not scanned for it.
async fn replace_downgraded(writer: &InfluxWriter, points: &[crate::point::Point], user: &str) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let tags = [("user", user), ("type", catalog::DOWNGRADED_EXERCISE_TYPE)];
    for p in points.iter().filter(|p| {
        p.measurement == catalog::EXERCISE.name
            && p.tags
                .iter()
                .any(|(k, v)| *k == "type" && v != catalog::DOWNGRADED_EXERCISE_TYPE)
    }) {
        let at = chrono::DateTime::from_timestamp_nanos(p.time_ns);
        if let Err(e) = writer.delete(catalog::EXERCISE.name, &tags, at).await {
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                warn!(user, at = %at, error = %e,
                    "could not remove the generic 'workout' copy of an exercise session stored by an earlier version; \
                     if your exercise panels count sessions twice, delete the points of measurement exercise with type=workout that share a start with another type");
            }
            return;
        }
    }
}

/// The points of a page, however it was read; unreadable items skipped and reported.
pub fn page_points(
    dt: &'static DataType,
    cx: &Context<'_>,
    page: PageBody,
    (window, sources): (Window, &FetchOptions),
    report: &mut WindowReport,
) -> Vec<crate::point::Point> {
    match page {
        PageBody::Decoded(d) => {
            for u in d.unreadable {
                report.skip(dt, u);
            }
            d.points
        }
        PageBody::Tree(page, key) => {
            let items = page
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            tree_points(dt, cx, items.map(Ok), (window, sources), report)
        }
        PageBody::Items(raw) => {
            let items = raw
                .items
                .into_iter()
                .map(|r| serde_json::from_str::<Value>(r.get()).map(std::borrow::Cow::Owned));
            tree_points(dt, cx, items, (window, sources), report)
        }
    }
}

/// The points of a page read as a tree: each item converted (and tagged with its source when
/// every source is stored); unreadable items skipped and reported, unfinished ones keep their day open.
fn tree_points<'v, I, V>(
    dt: &'static DataType,
    cx: &Context<'_>,
    items: I,
    (window, sources): (Window, &FetchOptions),
    report: &mut WindowReport,
) -> Vec<crate::point::Point>
where
    I: Iterator<Item = Result<V, serde_json::Error>>,
    V: std::ops::Deref<Target = Value> + 'v,
{
    let by_end = matches!(
        dt.fetch,
        Fetch::List {
            filter: WindowFilter::SessionEnd,
            ..
        }
    );
    let tag_sources = sources.all && matches!(dt.fetch, Fetch::List { .. });
    let mut points = Vec::new();
    for item in items {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                // Cannot happen for text the page's parser accepted; reported, not hidden.
                let what = format!("an item that is not JSON: {e}");
                let name = "an item of the page".to_string();
                report.skip(
                    dt,
                    catalog::typed::Unreadable {
                        day: None,
                        name,
                        what,
                    },
                );
                continue;
            }
        };
        let item: &Value = &item;
        match (dt.convert)(item, cx) {
            Ok(p) if tag_sources => {
                let source = source_of(item);
                points.extend(p.into_iter().map(|p| p.tag("source", source.clone())));
            }
            Ok(p) => points.extend(p),
            Err(e) => {
                let day = catalog::read::item_day(item, by_end, cx.tz);
                if e.incomplete {
                    tracing::info!(data_type = dt.name, point = %catalog::read::item_name(item), "{}; its day stays open", e.what);
                    report.incomplete.insert(day.unwrap_or(window.to));
                    continue;
                }
                let name = catalog::read::item_name(item);
                let what = e.what.to_string();
                report.skip(dt, catalog::typed::Unreadable { day, name, what });
            }
        }
    }
    points
}

async fn request_page(
    client: &HealthClient,
    dt: &'static DataType,
    (path, lean): (&str, bool),
    cx: &Context<'_>,
    (window, sources): (Window, &FetchOptions),
    page_token: Option<&str>,
) -> Result<PageBody, SyncError> {
    let family = sources.family_name();
    match dt.fetch {
        Fetch::List { page_size, .. } => {
            let (start, end) = (
                catalog::read::local_midnight(window.from, cx.tz),
                catalog::read::local_midnight(window.to + Duration::days(1), cx.tz),
            );
            let filter = dt
                .filter(window.from, window.to, start, end)
                .expect("list entries have a filter");
            let size = page_size.to_string();
            let mut q: Vec<(&str, &str)> = vec![("filter", &filter), ("pageSize", &size)];
            if let Some(t) = page_token {
                q.push(("pageToken", t));
            }
            // Sleep takes no family (reference §3.1).
            if let Some(f) = family.as_deref().filter(|_| dt.api_type != "sleep") {
                q.push(("dataSourceFamily", f));
            }
            // The reconciled stream unless every source is asked for (reference §11 #4).
            let path = if sources.all {
                path.to_string()
            } else {
                format!("{path}:reconcile")
            };
            match (lean, dt.decode_page.filter(|_| !sources.all)) {
                (true, Some(decode)) => Ok(PageBody::Decoded(
                    client.get_decoded(&path, &q, &|b| decode(b, cx)).await?,
                )),
                (true, None) => Ok(PageBody::Items(
                    client
                        .get_decoded(&path, &q, &|b| serde_json::from_slice::<RawItems>(b))
                        .await?,
                )),
                (false, _) => Ok(PageBody::Tree(client.get(&path, &q).await?, "dataPoints")),
            }
        }
        Fetch::DailyRollUp => {
            let mut body = dt.daily_rollup_body(window.from, window.to, page_token);
            if let Some(f) = family {
                body["dataSourceFamily"] = Value::String(f);
            }
            let page = client.post(&format!("{path}:dailyRollUp"), &body).await?;
            Ok(PageBody::Tree(page, "rollupDataPoints"))
        }
        Fetch::Snapshot { .. } => unreachable!("snapshots are not windowed"),
    }
}
