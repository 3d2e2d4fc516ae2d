//! When a failed delivery is tried again: after attempt n, the n-th step of
//! [`SCHEDULE`] (5 s up to 24 h, about three days in all) with up to 10 % jitter, or
//! what a 429's or 503's `Retry-After` asks (capped at a day); after the last
//! attempt, never. Also how long an endpoint may keep failing before it is disabled.

use std::time::Duration;

use chrono::{DateTime, Utc};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// The wait after each failed attempt but the last.
pub const SCHEDULE: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * MINUTE),
    Duration::from_secs(30 * MINUTE),
    Duration::from_secs(2 * HOUR),
    Duration::from_secs(5 * HOUR),
    Duration::from_secs(10 * HOUR),
    Duration::from_secs(14 * HOUR),
    Duration::from_secs(20 * HOUR),
    Duration::from_secs(24 * HOUR),
];

/// Attempts in all: the first, and one after each step of [`SCHEDULE`].
pub const MAX_ATTEMPTS: i32 = SCHEDULE.len() as i32 + 1;

/// The longest wait a `Retry-After` may ask for.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * HOUR);

/// An endpoint failing without a success for this long is disabled.
pub const FAILING_LIMIT: Duration = Duration::from_secs(72 * HOUR);

/// The wait after `attempts` attempts failed, stretched by `jitter` (0.0 to 1.0, a
/// tenth of it at most); `None` when no attempt is left.
pub fn after(attempts: i32, jitter: f64) -> Option<Duration> {
    let step = usize::try_from(attempts).ok()?.checked_sub(1)?;
    let base = *SCHEDULE.get(step)?;
    Some(base.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0)))
}

/// A random number from 0.0 to 1.0 (0.0 when the system has no randomness).
pub fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

/// The wait a `Retry-After` value asks for at `now`: whole seconds, or an HTTP date;
/// at least a second, at most [`RETRY_AFTER_CAP`]. `None` when it is neither.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value)
                .ok()?
                .with_timezone(&Utc);
            (at - now).to_std().unwrap_or_default()
        }
    };
    Some(wait.clamp(Duration::from_secs(1), RETRY_AFTER_CAP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_runs_ten_attempts_over_about_three_days() {
        assert_eq!(MAX_ATTEMPTS, 10);
        assert_eq!(after(1, 0.0), Some(Duration::from_secs(5)));
        assert_eq!(after(2, 0.0), Some(Duration::from_secs(300)));
        assert_eq!(after(9, 0.0), Some(Duration::from_secs(86_400)));
        assert_eq!(after(10, 0.0), None);
        assert_eq!(after(0, 0.0), None);
        assert_eq!(after(1, 1.0), Some(Duration::from_millis(5_500)));
        let total: Duration = SCHEDULE.iter().sum();
        assert!(total > Duration::from_secs(3 * 86_400) && total < FAILING_LIMIT * 2);
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..=1.0).contains(&j));
        }
    }

    #[test]
    fn retry_after_reads_seconds_or_a_date_and_is_capped() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::from_secs(1)));
        assert_eq!(
            retry_after("Thu, 01 Jan 2026 00:02:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(retry_after("9999999", now), Some(RETRY_AFTER_CAP));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }
}
