//! Login rate limits: a token bucket per key (client address, email), refilled
//! continuously, kept in memory and read through the injectable clock.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;

/// Past this many keys, buckets that have refilled completely are forgotten.
const PRUNE_ABOVE: usize = 10_000;

/// `attempts` per `window_secs`, as a burst that refills evenly over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub attempts: u32,
    pub window_secs: u64,
}

impl Rate {
    /// The cost of one attempt, in credit units (attempt-microseconds).
    fn cost(self) -> i128 {
        i128::from(self.window_secs.max(1)) * 1_000_000
    }
    /// A full bucket.
    fn capacity(self) -> i128 {
        self.cost() * i128::from(self.attempts)
    }
}

/// Credit, in exact integer units: each microsecond adds `attempts` units, and
/// an attempt costs `window` microseconds' worth, so `attempts` per window.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    credit: i128,
    at: DateTime<Utc>,
}

/// Several keyed limits checked together: an attempt is allowed only if every
/// key has a token left, and then takes one from each.
pub struct Limiter {
    clock: SharedClock,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for each `(key, rate)`, or says in how many whole seconds
    /// the first refused key will allow one again.
    pub fn attempt(&self, keys: &[(String, Rate)]) -> Result<(), u64> {
        let now = self.clock.now();
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let level = |bucket: Option<&Bucket>, rate: Rate| -> i128 {
            match bucket {
                None => rate.capacity(),
                Some(b) => {
                    let elapsed = i128::from((now - b.at).num_microseconds().unwrap_or(i64::MAX));
                    (b.credit + elapsed.max(0) * i128::from(rate.attempts)).min(rate.capacity())
                }
            }
        };
        for (key, rate) in keys {
            let credit = level(buckets.get(key), *rate);
            if credit < rate.cost() {
                let attempts = i128::from(rate.attempts.max(1));
                let micros = (rate.cost() - credit + attempts - 1) / attempts;
                let secs = (micros + 999_999) / 1_000_000;
                return Err(u64::try_from(secs).unwrap_or(u64::MAX).max(1));
            }
        }
        for (key, rate) in keys {
            let credit = level(buckets.get(key), *rate) - rate.cost();
            buckets.insert(key.clone(), Bucket { credit, at: now });
        }
        if buckets.len() > PRUNE_ABOVE {
            let rates: HashMap<&str, Rate> = keys.iter().map(|(k, r)| (k.as_str(), *r)).collect();
            // A key not in this call is judged by the slowest rate of this call.
            if let Some(slowest) = keys.iter().map(|(_, r)| *r).max_by_key(|r| r.window_secs) {
                buckets.retain(|key, b| {
                    let rate = rates.get(key.as_str()).copied().unwrap_or(slowest);
                    level(Some(b), rate) < rate.capacity()
                });
            }
        }
        Ok(())
    }

    /// Gives back the attempt taken from `key` (a success that should not count).
    pub fn refund(&self, key: &str, rate: Rate) {
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(b) = buckets.get_mut(key) {
            b.credit = (b.credit + rate.cost()).min(rate.capacity());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_bucket_empties_and_refills_with_time() {
        let clock = ManualClock::starting_now();
        let limiter = Limiter::new(clock.clone());
        let rate = Rate {
            attempts: 3,
            window_secs: 60,
        };
        let key = vec![("email:a".to_string(), rate)];
        for _ in 0..3 {
            assert_eq!(limiter.attempt(&key), Ok(()));
        }
        assert_eq!(limiter.attempt(&key), Err(20));
        clock.advance(chrono::Duration::seconds(19));
        assert_eq!(limiter.attempt(&key), Err(1));
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(limiter.attempt(&key), Ok(()));
        assert!(limiter.attempt(&key).is_err());
    }

    #[test]
    fn a_refund_gives_the_attempt_back() {
        let limiter = Limiter::new(ManualClock::starting_now());
        let rate = Rate {
            attempts: 1,
            window_secs: 60,
        };
        let key = vec![("email:a".to_string(), rate)];
        for _ in 0..5 {
            assert_eq!(limiter.attempt(&key), Ok(()));
            limiter.refund("email:a", rate);
        }
        assert_eq!(limiter.attempt(&key), Ok(()));
        assert!(limiter.attempt(&key).is_err());
    }

    #[test]
    fn a_refused_attempt_takes_nothing_from_the_other_keys() {
        let clock = ManualClock::starting_now();
        let limiter = Limiter::new(clock);
        let one = Rate {
            attempts: 1,
            window_secs: 60,
        };
        let many = Rate {
            attempts: 10,
            window_secs: 60,
        };
        let ip = ("ip:1".to_string(), one);
        assert!(limiter.attempt(std::slice::from_ref(&ip)).is_ok());
        for _ in 0..5 {
            assert!(
                limiter
                    .attempt(&[ip.clone(), ("email:b".to_string(), many)])
                    .is_err()
            );
        }
        for _ in 0..10 {
            assert!(limiter.attempt(&[("email:b".to_string(), many)]).is_ok());
        }
    }
}
