//! Rate limits: a token bucket per key (a client address, an email), each with
//! its own rate, refilled continuously, kept in memory (a bounded number of
//! keys) and read through the injectable clock. This process's own limits (comments);
//! the sign-in limits every node must share are kept in the database
//! ([`super::stored_limit`]) with the same arithmetic ([`Rate`]).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
pub use crate::config::Rate;

/// The most keys kept. Past it, buckets that have refilled completely are
/// forgotten first, then the least recently used, down to nine tenths of it.
pub const MAX_KEYS: usize = 100_000;

impl Rate {
    /// The cost of one attempt, in credit units (attempt-microseconds).
    pub fn cost(self) -> i128 {
        i128::from(self.window_secs.max(1)) * 1_000_000
    }
    /// A full bucket.
    pub fn capacity(self) -> i128 {
        self.cost() * i128::from(self.attempts)
    }
    /// In how many whole seconds (at least one) a bucket holding `credit` affords an
    /// attempt again.
    pub fn retry_after(self, credit: i128) -> u64 {
        let attempts = i128::from(self.attempts.max(1));
        let micros = (self.cost() - credit + attempts - 1) / attempts;
        let secs = (micros + 999_999) / 1_000_000;
        u64::try_from(secs).unwrap_or(u64::MAX).max(1)
    }
}

/// The part of a client address a limit counts by: an IPv4 address whole, an
/// IPv6 address by its /64 (one subscriber's network, which it can fill with
/// addresses at will).
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// Credit, in exact integer units: each microsecond adds `attempts` units, and
/// an attempt costs `window` microseconds' worth, so `attempts` per window.
/// The bucket keeps its own rate, so it is always judged by it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    credit: i128,
    at: DateTime<Utc>,
    rate: Rate,
    /// When it was last used, as a sequence number (for evicting the oldest).
    used: u64,
}

impl Bucket {
    /// The credit at `now`.
    fn level(&self, now: DateTime<Utc>) -> i128 {
        let elapsed = i128::from((now - self.at).num_microseconds().unwrap_or(i64::MAX));
        (self.credit + elapsed.max(0) * i128::from(self.rate.attempts)).min(self.rate.capacity())
    }
}

#[derive(Default)]
struct Buckets {
    by_key: HashMap<String, Bucket>,
    /// The keys by when they were last used, oldest first.
    by_use: BTreeMap<u64, String>,
    next_use: u64,
}

impl Buckets {
    fn level(&self, key: &str, rate: Rate, now: DateTime<Utc>) -> i128 {
        match self.by_key.get(key) {
            None => rate.capacity(),
            Some(b) => b.level(now),
        }
    }

    fn store(&mut self, key: &str, credit: i128, rate: Rate, now: DateTime<Utc>) {
        let used = self.next_use;
        self.next_use += 1;
        let bucket = Bucket {
            credit,
            at: now,
            rate,
            used,
        };
        if let Some(old) = self.by_key.insert(key.to_string(), bucket) {
            self.by_use.remove(&old.used);
        }
        self.by_use.insert(used, key.to_string());
    }

    /// Keeps at most `max` keys: full buckets go first, then the least recently used.
    fn prune(&mut self, max: usize, now: DateTime<Utc>) {
        if self.by_key.len() <= max {
            return;
        }
        let by_use = &mut self.by_use;
        self.by_key.retain(|_, b| {
            let keep = b.level(now) < b.rate.capacity();
            if !keep {
                by_use.remove(&b.used);
            }
            keep
        });
        // Down to nine tenths, so that a flood of new keys prunes once per tenth.
        let target = max - max / 10;
        while self.by_key.len() > target {
            let Some((_, key)) = self.by_use.pop_first() else {
                break;
            };
            self.by_key.remove(&key);
        }
    }
}

/// Several keyed limits checked together: an attempt is allowed only if every
/// key has a token left, and then takes one from each.
pub struct Limiter {
    clock: SharedClock,
    max_keys: usize,
    buckets: Mutex<Buckets>,
}

impl Limiter {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_max_keys(clock, MAX_KEYS)
    }

    /// A limiter that keeps at most `max_keys` keys.
    pub fn with_max_keys(clock: SharedClock, max_keys: usize) -> Self {
        Self {
            clock,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(Buckets::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Takes one attempt for each `(key, rate)`, or says in how many whole seconds
    /// the first refused key will allow one again.
    pub fn attempt(&self, keys: &[(String, Rate)]) -> Result<(), u64> {
        let now = self.clock.now();
        let mut buckets = self.lock();
        for (key, rate) in keys {
            let credit = buckets.level(key, *rate, now);
            if credit < rate.cost() {
                return Err(rate.retry_after(credit));
            }
        }
        for (key, rate) in keys {
            let credit = buckets.level(key, *rate, now) - rate.cost();
            buckets.store(key, credit, *rate, now);
        }
        buckets.prune(self.max_keys, now);
        Ok(())
    }

    /// Gives back the attempt taken from `key` (a success that should not count).
    pub fn refund(&self, key: &str, rate: Rate) {
        let mut buckets = self.lock();
        if let Some(b) = buckets.by_key.get_mut(key) {
            b.credit = (b.credit + rate.cost()).min(b.rate.capacity());
        }
    }

    /// How many keys are kept now.
    pub fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    #[test]
    fn a_bucket_is_pruned_by_its_own_rate_not_the_callers() {
        let clock = ManualClock::starting_now();
        let limiter = Limiter::with_max_keys(clock.clone(), 4);
        let comment = Rate {
            attempts: 5,
            window_secs: 600,
        };
        let login = Rate {
            attempts: 20,
            window_secs: 60,
        };
        let commenter = vec![("comment:192.0.2.1".to_string(), comment)];
        for _ in 0..5 {
            assert_eq!(limiter.attempt(&commenter), Ok(()));
        }
        assert!(limiter.attempt(&commenter).is_err());
        for n in 0..3 {
            assert_eq!(limiter.attempt(&[(format!("address:{n}"), login)]), Ok(()));
        }
        // Two minutes on, the sign-in buckets are full again; the commenter has
        // earned back one comment of five.
        clock.advance(chrono::Duration::seconds(120));
        assert_eq!(limiter.attempt(&[("address:9".to_string(), login)]), Ok(()));
        assert_eq!(limiter.len(), 2, "the full sign-in buckets are forgotten");
        assert_eq!(limiter.attempt(&commenter), Ok(()));
        assert!(limiter.attempt(&commenter).is_err());
    }

    #[test]
    fn a_flood_of_new_keys_stays_capped_and_evicts_the_oldest() {
        let clock = ManualClock::starting_now();
        let limiter = Limiter::with_max_keys(clock, 100);
        let rate = Rate {
            attempts: 1,
            window_secs: 3600,
        };
        let first = vec![("first".to_string(), rate)];
        assert_eq!(limiter.attempt(&first), Ok(()));
        assert!(limiter.attempt(&first).is_err());
        for n in 0..10_000 {
            assert_eq!(limiter.attempt(&[(format!("flood:{n}"), rate)]), Ok(()));
            assert!(limiter.len() <= 100);
        }
        // The newest are remembered, the oldest forgotten.
        assert!(
            limiter
                .attempt(&[("flood:9999".to_string(), rate)])
                .is_err()
        );
        assert_eq!(limiter.attempt(&first), Ok(()));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_ipv4_by_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_eq!(address_key(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_key(ip("192.0.2.1")), "192.0.2.1");
        assert_ne!(address_key(ip("192.0.2.1")), address_key(ip("192.0.2.2")));
        assert_eq!(address_key(ip("::ffff:192.0.2.1")), "192.0.2.1");

        let limiter = Limiter::new(ManualClock::starting_now());
        let rate = Rate {
            attempts: 1,
            window_secs: 60,
        };
        let key = |s: &str| vec![(format!("comment:{}", address_key(ip(s))), rate)];
        assert_eq!(limiter.attempt(&key("2001:db8::1")), Ok(()));
        assert!(limiter.attempt(&key("2001:db8::2")).is_err());
        assert_eq!(limiter.attempt(&key("2001:db8:0:1::1")), Ok(()));
    }
}
