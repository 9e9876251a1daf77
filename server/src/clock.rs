//! Time as a dependency, so expiry rules can be tested without waiting.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::sync::Mutex;

/// How long to wait after the `attempts`th failure: `base`, doubling with
/// each further attempt, at most `max`. The outbox and the notice workers
/// both back off this way.
pub fn retry_delay(base: Duration, max: Duration, attempts: u32) -> Duration {
    let factor = 2_i32.saturating_pow(attempts.saturating_sub(1).min(20));
    (base * factor).min(max)
}

/// The date in Norway at `at`: the day national ids' birth dates are
/// compared with.
pub fn norwegian_date(at: DateTime<Utc>) -> chrono::NaiveDate {
    at.with_timezone(&chrono_tz::Europe::Oslo).date_naive()
}

pub trait Clock: Send + Sync + 'static {
    /// Now, to the microsecond (what PostgreSQL keeps).
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that moves only when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start.trunc_subsecs(6)))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}
