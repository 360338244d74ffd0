//! Time, injected: the client sleeps and reads the clock only through [`Clock`], so that tests
//! can check a `Retry-After: 2` without waiting two seconds.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The clock and the sleeper the client uses.
pub trait Clock: Send + Sync {
    /// A monotonic instant.
    fn now(&self) -> Instant;
    /// Wall-clock time, for `Retry-After` dates and the crawl's timestamps.
    fn system_now(&self) -> SystemTime;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that never waits: `sleep` moves its time forward and records the duration asked.
///
/// Network timeouts are real time and are not affected.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    system_start: SystemTime,
    state: Mutex<ManualState>,
}

#[derive(Debug, Default)]
struct ManualState {
    elapsed: Duration,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock whose wall time starts at `system_start`.
    pub fn new(system_start: SystemTime) -> ManualClock {
        ManualClock {
            start: Instant::now(),
            system_start,
            state: Mutex::new(ManualState::default()),
        }
    }

    /// Every sleep asked for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    /// Time passed on this clock (the sum of the sleeps and of [`ManualClock::advance`]).
    pub fn elapsed(&self) -> Duration {
        self.lock().elapsed
    }

    /// Moves the clock forward without recording a sleep.
    pub fn advance(&self, by: Duration) {
        self.lock().elapsed += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
        // A panic elsewhere cannot leave the state half-written: recover it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.lock().elapsed
    }

    fn system_now(&self) -> SystemTime {
        self.system_start + self.lock().elapsed
    }

    fn sleep(&self, duration: Duration) {
        let mut state = self.lock();
        state.elapsed += duration;
        state.sleeps.push(duration);
    }
}

/// `time` as RFC 3339 in UTC with milliseconds: `2026-03-20T09:15:00.123Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_250, "2000-02-29T00:00:00.250Z"),
            (1_774_000_000_000, "2026-03-20T09:46:40.000Z"),
        ];
        for (millis, text) in cases {
            let time = SystemTime::UNIX_EPOCH + Duration::from_millis(millis);
            assert_eq!(rfc3339(time), text);
        }
    }

    #[test]
    fn manual_clock_records_sleeps() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let t0 = clock.now();
        clock.sleep(Duration::from_secs(2));
        assert_eq!(clock.now() - t0, Duration::from_secs(2));
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(2)]);
        assert_eq!(
            clock.system_now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(2)
        );
    }
}
