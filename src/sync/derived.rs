//! What a round derives from the data it stored: the insights ([`crate::insights`]), recomputed from
//! the earliest day the round wrote to today (over the whole history in a run's first round, so an
//! upgrade or a changed rule reaches every day). A failure leaves them due for the next round.

use super::account::Account;
use super::{RoundReport, UserSync};
use crate::insights;
use chrono::Utc;
use tracing::{info, warn};

impl UserSync {
    pub(super) async fn update_insights(&mut self, a: &Account, report: &RoundReport) {
        let due = match (self.insights_due, report.written_from) {
            (Some(x), Some(y)) => x.min(y),
            (x, y) => match x.or(y) {
                Some(d) => d,
                None => return,
            },
        };
        let who = insights::Subject {
            user: &self.user,
            tz: a.tz,
            start: a.start,
            heart_rate_per_minute: self.sources.heart_rate_per_minute,
        };
        let today = Utc::now().with_timezone(&a.tz).date_naive();
        match insights::refresh(&self.reader, &self.writer, &who, due, today).await {
            Ok(points) => {
                info!(user = %self.user, from = %due.max(a.start), points, "insights recomputed");
                self.insights_due = None;
            }
            Err(e) => {
                warn!(user = %self.user, error = %e, "could not recompute the insights; trying again after the next round");
                self.insights_due = Some(due);
            }
        }
    }
}
