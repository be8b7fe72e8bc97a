//! Exponential backoff with full jitter, the one retry schedule every loop in the program uses.
//!
//! Full jitter (a random delay between zero and the exponential cap) keeps several users' clients, or a
//! client and a restarted InfluxDB, from retrying in lock-step.

use rand::Rng;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Cap of the first delay.
    pub initial: Duration,
    /// The cap never grows past this.
    pub max: Duration,
    /// `None`: retry for ever (InfluxDB writes, which must never be dropped).
    pub max_attempts: Option<u32>,
}

impl Backoff {
    pub const fn new(initial: Duration, max: Duration, max_attempts: Option<u32>) -> Backoff {
        Backoff {
            initial,
            max,
            max_attempts,
        }
    }

    /// The cap for the given 0-based retry: `initial * 2^retry`, at most `max`.
    pub fn cap(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay before the given 0-based retry, or `None` when the attempts are used up.
    pub fn delay(&self, retry: u32) -> Option<Duration> {
        if let Some(max) = self.max_attempts {
            if retry + 1 >= max {
                return None;
            }
        }
        let cap = self.cap(retry);
        let nanos = rand::rng().random_range(0..=cap.as_nanos().min(u64::MAX as u128) as u64);
        Some(Duration::from_nanos(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_until_the_maximum() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), None);
        let caps: Vec<u64> = (0..8).map(|r| b.cap(r).as_secs()).collect();
        assert_eq!(caps, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.cap(1000), Duration::from_secs(60));
    }

    #[test]
    fn delays_stay_within_the_cap_and_vary() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), None);
        let delays: Vec<Duration> = (0..50).map(|_| b.delay(3).unwrap()).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "jitter varies the delay"
        );
    }

    #[test]
    fn attempts_run_out() {
        let b = Backoff::new(Duration::from_millis(1), Duration::from_millis(1), Some(3));
        assert!(b.delay(0).is_some());
        assert!(b.delay(1).is_some());
        assert!(b.delay(2).is_none(), "three attempts means two retries");
    }
}
