//! The simulated people and their days: deterministic synthetic data generated on demand.
//!
//! Nothing is stored. Every value is a pure function of (seed, user, civil day, purpose), so a day can be
//! generated again for any request and a year of heart rate never sits in memory. The timeline of a day
//! (when the person slept, showered, ran) is decided first; every data type derives from it, which keeps
//! raw points, rollups and summaries consistent with each other.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A stable 64-bit mix (SplitMix64 finaliser): the same input gives the same output in every build.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A small deterministic random stream for one purpose.
pub struct Rng(u64);

impl Rng {
    pub fn new(parts: &[u64]) -> Rng {
        Rng(parts.iter().fold(0x5EED, |acc, p| mix(acc ^ mix(*p))))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

fn day_number(d: NaiveDate) -> u64 {
    d.num_days_from_ce() as u64
}

use chrono::Datelike;

/// What a slice of time is for the heart-rate and step generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Asleep,
    Resting,
    Walking,
    Running,
}

/// One minute of a person's day.
#[derive(Debug, Clone, Copy)]
pub struct Minute {
    pub t: DateTime<Utc>,
    pub activity: Activity,
    pub steps: i64,
    /// In the peak heart-rate zone (the end of a run).
    pub peak: bool,
}

/// A sleep session with its stages on a 30-second grid.
#[derive(Debug, Clone)]
pub struct SleepSession {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub nap: bool,
    /// (stage type, start, end), contiguous from `start` to `end`.
    pub stages: Vec<(&'static str, DateTime<Utc>, DateTime<Utc>)>,
    /// Stable per-session number (used for the data point id).
    pub id: u64,
    /// Still going on at "now": the API shows it without `summary` (reference §11 #10).
    pub in_progress: bool,
}

impl SleepSession {
    /// The session as the API shows it at `now`, while the person is still asleep: cut at `now`
    /// (on the 30-second grid), stages up to then, marked in progress.
    pub fn in_progress_at(&self, now: DateTime<Utc>) -> SleepSession {
        let end = now - Duration::seconds((now - self.start).num_seconds().rem_euclid(30));
        let stages = self
            .stages
            .iter()
            .filter(|(_, a, _)| *a < end)
            .map(|(k, a, b)| (*k, *a, (*b).min(end)))
            .collect();
        SleepSession {
            end,
            stages,
            in_progress: true,
            ..self.clone()
        }
    }
}

/// One simulated person.
#[derive(Debug, Clone)]
pub struct Person {
    pub seed: u64,
    pub index: u32,
    pub tz: Tz,
    /// First and last civil day with data.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// A day the watch was not worn at all (no data of any kind).
    pub unworn_day: NaiveDate,
    /// Seconds between heart-rate samples.
    pub heart_rate_every: u32,
    /// From this day to the day before the last, a fever: resting heart rate +15 bpm.
    pub fever_from: Option<NaiveDate>,
}

impl Person {
    pub(crate) fn rng(&self, day: NaiveDate, purpose: u64) -> Rng {
        Rng::new(&[self.seed, self.index as u64, day_number(day), purpose])
    }

    /// The numeric `healthUserId` Google assigns (stable per seed and user).
    pub fn health_user_id(&self) -> String {
        (1_000_000_000_000_000_000
            + mix(self.seed ^ 0x1d ^ ((self.index as u64) << 40)) % 8_000_000_000_000_000_000)
            .to_string()
    }

    /// The 6-character legacy Fitbit user id.
    pub fn legacy_user_id(&self) -> String {
        let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut x = mix(self.seed ^ 0x1e ^ self.index as u64);
        (0..6)
            .map(|_| {
                let c = alphabet[(x % 32) as usize] as char;
                x /= 32;
                c
            })
            .collect()
    }

    pub fn resting_bpm(&self) -> i64 {
        52 + (mix(self.seed ^ self.index as u64) % 12) as i64
    }

    pub fn stride_mm(&self) -> i64 {
        700 + (mix(self.seed ^ 0x57 ^ self.index as u64) % 80) as i64
    }

    pub fn worn(&self, day: NaiveDate) -> bool {
        day != self.unworn_day && day >= self.first_day && day <= self.last_day
    }

    /// Local wall time on `day` as a UTC instant (DST gaps resolve to the later reading).
    pub fn at(&self, day: NaiveDate, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
        let naive =
            day.and_time(NaiveTime::from_hms_opt(hour, minute, second).expect("valid time"));
        match self.tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
            chrono::LocalResult::None => self
                .tz
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .expect("an hour after a DST gap exists")
                .with_timezone(&Utc),
        }
    }

    /// Start of the civil day (local midnight) as a UTC instant.
    pub fn day_start(&self, day: NaiveDate) -> DateTime<Utc> {
        self.at(day, 0, 0, 0)
    }

    /// The civil day an instant falls on.
    pub fn civil_day(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// UTC offset at an instant, in seconds.
    pub fn offset_seconds(&self, t: DateTime<Utc>) -> i32 {
        use chrono::Offset;
        t.with_timezone(&self.tz).offset().fix().local_minus_utc()
    }

    /// Sleep sessions that **end** on `day`: the night before it (main sleep) and maybe an afternoon nap.
    pub fn sleep_ending_on(&self, day: NaiveDate) -> Vec<SleepSession> {
        let mut out = Vec::new();
        if !self.worn(day) {
            return out;
        }
        let mut r = self.rng(day, 1);
        let prev = day.pred_opt().expect("not the first representable day");
        // Bedtime between 22:30 and 00:50; after the unworn day the person went to bed after midnight.
        let mut bed_minutes = r.range(22 * 60 + 30, 24 * 60 + 50);
        if !self.worn(prev) && bed_minutes < 24 * 60 + 5 {
            bed_minutes = 24 * 60 + 5;
        }
        let start = self.at(prev, 0, 0, 0) + Duration::minutes(bed_minutes);
        // Aligned to the 30-second grid like the real stages.
        let start = start - Duration::seconds(start.timestamp().rem_euclid(30));
        let length = Duration::seconds(30 * r.range(6 * 120, 8 * 120 + 60));
        out.push(self.session(start, start + length, false, &mut r));
        if r.chance(30) {
            let nap_start = self.at(day, 14, r.range(0, 59) as u32, 0);
            let nap_len = Duration::seconds(30 * r.range(40, 100));
            out.push(self.session(nap_start, nap_start + nap_len, true, &mut r));
        }
        out
    }

    fn session(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        nap: bool,
        r: &mut Rng,
    ) -> SleepSession {
        let mut stages = Vec::new();
        let mut t = start;
        let mut push = |kind: &'static str, halves: i64, t: &mut DateTime<Utc>| {
            let until = (*t + Duration::seconds(30 * halves)).min(end);
            if until > *t {
                stages.push((kind, *t, until));
                *t = until;
            }
        };
        if nap {
            while t < end {
                push("ASLEEP", r.range(10, 40), &mut t);
                if r.chance(40) {
                    push("RESTLESS", r.range(1, 4), &mut t);
                }
            }
        } else {
            push("AWAKE", r.range(4, 20), &mut t);
            while t < end {
                push("LIGHT", r.range(30, 70), &mut t);
                push("DEEP", r.range(15, 50), &mut t);
                push("LIGHT", r.range(15, 40), &mut t);
                push("REM", r.range(15, 55), &mut t);
                if r.chance(35) {
                    push("AWAKE", r.range(1, 8), &mut t);
                }
            }
        }
        SleepSession {
            start,
            end,
            nap,
            stages,
            id: mix(self.seed ^ (self.index as u64) << 32 ^ start.timestamp() as u64)
                % 9_000_000_000_000_000_000
                + 1_000_000_000_000_000_000,
            in_progress: false,
        }
    }

    /// All sleep overlapping `day` (sessions ending on it or on the next day).
    pub(crate) fn sleep_near(&self, day: NaiveDate) -> Vec<SleepSession> {
        let mut s = self.sleep_ending_on(day);
        if let Some(next) = day.succ_opt() {
            s.extend(self.sleep_ending_on(next));
        }
        s
    }

    /// Off-wrist minutes of `day` (a morning shower), as a UTC interval.
    fn off_wrist(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let mut r = self.rng(day, 2);
        let start = self.at(day, 7, r.range(30, 59) as u32, 0);
        (start, start + Duration::minutes(r.range(10, 25)))
    }

    /// The run of the day, if any (two or three a week).
    pub fn run_on(&self, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let mut r = self.rng(day, 3);
        if !self.worn(day) || !r.chance(35) {
            return None;
        }
        let start = self.at(day, 18, r.range(0, 45) as u32, 0);
        Some((start, start + Duration::minutes(r.range(25, 55))))
    }

    /// What the person does at instant `t` of `day`, given the day's sleep.
    fn activity_at(
        &self,
        t: DateTime<Utc>,
        sleep: &[SleepSession],
        run: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Activity {
        if sleep.iter().any(|s| s.start <= t && t < s.end) {
            return Activity::Asleep;
        }
        if run.is_some_and(|(a, b)| a <= t && t < b) {
            return Activity::Running;
        }
        let local_minute = {
            let l = t.with_timezone(&self.tz);
            use chrono::Timelike;
            l.hour() * 60 + l.minute()
        };
        // Walks: the commute and lunch.
        let walking = (8 * 60..8 * 60 + 25).contains(&local_minute)
            || (12 * 60 + 30..13 * 60).contains(&local_minute)
            || (17 * 60 + 30..17 * 60 + 55).contains(&local_minute);
        if walking {
            Activity::Walking
        } else {
            Activity::Resting
        }
    }

    /// Heart-rate samples of `day` in ascending time: (instant, bpm).
    pub fn heart_rate(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, i64)> {
        if !self.worn(day) {
            return Vec::new();
        }
        let sleep = self.sleep_near(day);
        let run = self.run_on(day);
        let (off_a, off_b) = self.off_wrist(day);
        let (start, end) = (
            self.day_start(day),
            self.day_start(day.succ_opt().expect("next day")),
        );
        let rest = self.resting_bpm();
        let mut r = self.rng(day, 4);
        let step = Duration::seconds(self.heart_rate_every as i64);
        let mut out =
            Vec::with_capacity(((end - start).num_seconds() / step.num_seconds()) as usize);
        let mut t = start;
        while t < end {
            if !(off_a <= t && t < off_b) {
                let base = match self.activity_at(t, &sleep, run) {
                    Activity::Asleep => rest - 2,
                    Activity::Resting => rest + 14,
                    Activity::Walking => rest + 40,
                    Activity::Running => rest + 95,
                };
                out.push((t, (base + r.range(-4, 4)).clamp(35, 210)));
            }
            t += step;
        }
        out
    }

    /// Every minute of a worn `day` with what the person did and how many steps it took. The other
    /// activity series (distance, floors, calories, zones, activity levels) derive from it.
    pub fn minutes(&self, day: NaiveDate) -> Vec<Minute> {
        if !self.worn(day) {
            return Vec::new();
        }
        let sleep = self.sleep_near(day);
        let run = self.run_on(day);
        let (start, end) = (
            self.day_start(day),
            self.day_start(day.succ_opt().expect("next day")),
        );
        let mut r = self.rng(day, 5);
        let mut out = Vec::with_capacity(1500);
        let mut t = start;
        while t < end {
            let activity = self.activity_at(t, &sleep, run);
            let steps = match activity {
                Activity::Asleep => 0,
                Activity::Resting => {
                    let l = t.with_timezone(&self.tz);
                    use chrono::Timelike;
                    if (7..22).contains(&l.hour()) && r.chance(18) {
                        r.range(1, 40)
                    } else {
                        0
                    }
                }
                Activity::Walking => r.range(85, 120),
                Activity::Running => r.range(150, 175),
            };
            // The last five minutes of a run are the hardest.
            let peak = activity == Activity::Running
                && run.is_some_and(|(_, end)| end - t <= Duration::minutes(5));
            out.push(Minute {
                t,
                activity,
                steps,
                peak,
            });
            t += Duration::minutes(1);
        }
        out
    }

    /// Steps per minute of `day` for minutes with at least one step: (minute start, count).
    pub fn steps(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, i64)> {
        self.minutes(day)
            .into_iter()
            .filter(|m| m.steps > 0)
            .map(|m| (m.t, m.steps))
            .collect()
    }

    /// Resting heart rate of `day`, when the watch was worn that day.
    pub fn resting_heart_rate(&self, day: NaiveDate) -> Option<i64> {
        let fever = self
            .fever_from
            .is_some_and(|f| day >= f && day < self.last_day);
        self.worn(day).then(|| {
            self.resting_bpm() + self.rng(day, 6).range(-3, 3) + if fever { 15 } else { 0 }
        })
    }

    /// Weight measurements of `day` (a scale, three or four mornings a week): (instant, grams).
    pub fn weight(&self, day: NaiveDate) -> Option<(DateTime<Utc>, f64)> {
        let mut r = self.rng(day, 7);
        if day < self.first_day || day > self.last_day || !r.chance(50) {
            return None;
        }
        let t = self.at(day, 7, r.range(0, 20) as u32, r.range(0, 59) as u32);
        let base = 68_000 + (mix(self.seed ^ 0x3e16 ^ self.index as u64) % 20_000) as i64;
        let drift = (day_number(day) % 60) as i64 * 10;
        // Scales report in 50 g steps.
        let grams = ((base + drift + r.range(-600, 600)) / 50 * 50) as f64;
        Some((t, grams))
    }
}
