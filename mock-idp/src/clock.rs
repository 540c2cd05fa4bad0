//! The injectable clock. Protocol code takes `now` as a parameter; only the
//! server asks a [`Clock`] for it, so tests and snapshots can fix the time.

use std::sync::Mutex;

use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that reads a set time until it is moved.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<OffsetDateTime>,
}

impl FixedClock {
    pub fn new(now: OffsetDateTime) -> Self {
        FixedClock { now: Mutex::new(now) }
    }

    /// The instant used by deterministic mode: 2024-03-29T07:42:22.136Z, the
    /// IssueInstant of a captured Okta response.
    pub fn deterministic() -> Self {
        FixedClock::new(time::macros::datetime!(2024-03-29 07:42:22.136 UTC))
    }

    pub fn advance(&self, by: time::Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        match self.now.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}
