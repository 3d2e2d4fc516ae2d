//! Rate limits kept in the database, so that every node behind a load balancer
//! takes from the same buckets: the sign-in limits. Each key's token bucket is one
//! row (`login_limits`, keyed by the SHA-256 of the key), taken from by one
//! conditional UPSERT that both backends run atomically, so concurrent attempts on
//! any number of nodes are counted exactly. The arithmetic is [`Rate`]'s, as in the
//! in-memory [`super::limit::Limiter`], and time comes from the injectable clock.
//! Rows of buckets that have refilled are deleted (at most once a minute).

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use entity::login_limit;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, Statement,
    Value,
};

use crate::clock::SharedClock;
pub use crate::config::Rate;

/// How often expired rows are deleted, at most (microseconds).
const PRUNE_EVERY_MICROS: i64 = 60 * 1_000_000;

/// Takes one attempt from `key`'s bucket if it affords one. The bucket's level is
/// its credit plus what it earned since (`attempts` units a microsecond, counted
/// for at most one window, which refills it from empty), capped at capacity.
const TAKE: &str = "INSERT INTO login_limits (key, credit, updated_at, expires_at) \
     VALUES (:key, :first, :now, :expires) \
     ON CONFLICT (key) DO UPDATE SET \
     credit = LEVEL - :cost, updated_at = :now, expires_at = :expires \
     WHERE LEVEL >= :cost \
     RETURNING credit";

const LEVEL: &str = "(CASE WHEN login_limits.credit + ELAPSED * :attempts > :capacity \
     THEN :capacity ELSE login_limits.credit + ELAPSED * :attempts END)";

const ELAPSED: &str = "(CASE WHEN :now - login_limits.updated_at < 0 THEN 0 \
     WHEN :now - login_limits.updated_at > :window THEN :window \
     ELSE :now - login_limits.updated_at END)";

/// Gives one attempt back, up to capacity.
const REFUND: &str = "UPDATE login_limits SET credit = CASE WHEN credit + :cost > :capacity \
     THEN :capacity ELSE credit + :cost END WHERE key = :key";

/// The sign-in limits, shared through the database.
pub struct StoredLimiter {
    clock: SharedClock,
    /// When expired rows were last deleted (microseconds since the epoch).
    pruned_at: AtomicI64,
}

/// A rate's numbers in the database's integers (they fit: at most a day's window of
/// microseconds times a million attempts).
struct Units {
    cost: i64,
    capacity: i64,
    window: i64,
    attempts: i64,
}

impl Units {
    fn of(rate: Rate) -> Self {
        let cost = i64::try_from(rate.cost()).unwrap_or(i64::MAX / 4);
        Self {
            cost,
            capacity: i64::try_from(rate.capacity()).unwrap_or(i64::MAX / 4),
            window: cost,
            attempts: i64::from(rate.attempts.max(1)),
        }
    }
}

/// The stored form of a key: no email or address is kept in the clear.
fn stored_key(key: &str) -> String {
    crate::digest::sha256_hex(key.as_bytes())
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// `sql` with `LEVEL` and `ELAPSED` spelled out and each `:name` replaced by the
/// backend's placeholder, bound to `values[name]` (in order of appearance).
fn statement(
    backend: DatabaseBackend,
    sql: &str,
    values: &[(&str, Value)],
) -> Result<Statement, DbErr> {
    let sql = sql.replace("LEVEL", LEVEL).replace("ELAPSED", ELAPSED);
    let mut out = String::with_capacity(sql.len() + 64);
    let mut bound = Vec::new();
    let mut rest = sql.as_str();
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| DbErr::Custom(format!("no value for :{name}")))?;
        bound.push(value);
        match backend {
            DatabaseBackend::Postgres => out.push_str(&format!("${}", bound.len())),
            _ => out.push('?'),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(Statement::from_sql_and_values(backend, out, bound))
}

impl StoredLimiter {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            pruned_at: AtomicI64::new(i64::MIN),
        }
    }

    /// Takes one attempt for each `(key, rate)`, or says in how many whole seconds
    /// the first refused key will allow one again (and gives back what the keys
    /// before it gave, so a refused attempt costs nothing).
    pub async fn attempt(
        &self,
        db: &impl ConnectionTrait,
        keys: &[(String, Rate)],
    ) -> Result<Result<(), u64>, DbErr> {
        let now = micros(self.clock.now());
        for (n, (key, rate)) in keys.iter().enumerate() {
            if let Err(retry_after) = self.take(db, key, *rate, now).await? {
                for (key, rate) in &keys[..n] {
                    self.refund(db, key, *rate).await?;
                }
                return Ok(Err(retry_after));
            }
        }
        self.prune(db, now).await;
        Ok(Ok(()))
    }

    async fn take(
        &self,
        db: &impl ConnectionTrait,
        key: &str,
        rate: Rate,
        now: i64,
    ) -> Result<Result<(), u64>, DbErr> {
        let u = Units::of(rate);
        let key = stored_key(key);
        let stmt = statement(
            db.get_database_backend(),
            TAKE,
            &[
                ("key", key.clone().into()),
                ("first", (u.capacity - u.cost).into()),
                ("now", now.into()),
                ("expires", now.saturating_add(u.window).into()),
                ("cost", u.cost.into()),
                ("capacity", u.capacity.into()),
                ("window", u.window.into()),
                ("attempts", u.attempts.into()),
            ],
        )?;
        if db.query_one_raw(stmt).await?.is_some() {
            return Ok(Ok(()));
        }
        // Refused: say when the bucket affords an attempt, as it stands now.
        let level = login_limit::Entity::find_by_id(key)
            .one(db)
            .await?
            .map_or(u.capacity, |row| {
                let elapsed = (now - row.updated_at).clamp(0, u.window);
                row.credit
                    .saturating_add(elapsed.saturating_mul(u.attempts))
                    .min(u.capacity)
            });
        Ok(Err(rate.retry_after(i128::from(level))))
    }

    /// Gives back the attempt taken from `key` (a success that should not count).
    pub async fn refund(
        &self,
        db: &impl ConnectionTrait,
        key: &str,
        rate: Rate,
    ) -> Result<(), DbErr> {
        let u = Units::of(rate);
        let stmt = statement(
            db.get_database_backend(),
            REFUND,
            &[
                ("key", stored_key(key).into()),
                ("cost", u.cost.into()),
                ("capacity", u.capacity.into()),
            ],
        )?;
        db.execute_raw(stmt).await?;
        Ok(())
    }

    /// Deletes the rows of buckets that are full again, at most once a minute (a
    /// failure is logged: the rows go next time).
    async fn prune(&self, db: &impl ConnectionTrait, now: i64) {
        let last = self.pruned_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) < PRUNE_EVERY_MICROS
            || self
                .pruned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(err) = login_limit::Entity::delete_many()
            .filter(login_limit::Column::ExpiresAt.lte(now))
            .exec(db)
            .await
        {
            tracing::warn!(error = %err, "deleting expired sign-in limits failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_values_become_the_backends_placeholders_in_order() {
        let values = [("a", Value::from(1i64)), ("b", Value::from(2i64))];
        let pg = statement(DatabaseBackend::Postgres, "x = :b + :a - :b", &values).unwrap();
        assert_eq!(pg.sql, "x = $1 + $2 - $3");
        let lite = statement(DatabaseBackend::Sqlite, "x = :b + :a", &values).unwrap();
        assert_eq!(lite.sql, "x = ? + ?");
        assert_eq!(
            lite.values.map(|v| v.0),
            Some(vec![Value::from(2i64), Value::from(1i64)])
        );
        assert!(statement(DatabaseBackend::Sqlite, ":nope", &values).is_err());
    }
}
