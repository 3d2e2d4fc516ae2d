//! The database side of sending: which deliveries are due and who holds them, and
//! what an attempt changes. A worker claims due deliveries by giving them its lease
//! (a new id, until a time; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so nodes claim
//! apart; a lease that has run out is taken over), and every write of the attempt's
//! result lands only while the delivery still carries that lease. Per endpoint, one
//! resource's deliveries go one at a time in event order: a delivery is not due
//! while an earlier one of the same resource is pending.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{webhook, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::retry;
use super::send::Outcome;
use crate::content::begin_write;

/// A delivery still to be made (or retried).
pub const PENDING: &str = "pending";
/// A delivery the endpoint took (2xx).
pub const DELIVERED: &str = "delivered";
/// A delivery given up on: attempts exhausted, or the endpoint is gone (410).
pub const FAILED: &str = "failed";

/// Deliveries claimed together, under one lease.
#[derive(Debug)]
pub struct Claim {
    pub lease: Uuid,
    pub deliveries: Vec<webhook_delivery::Model>,
}

/// Claims up to `limit` due deliveries of enabled endpoints until `now + hold`,
/// skipping `busy` (this process's deliveries in flight, whose leases a moved clock
/// may show as run out). One statement when nothing is due.
///
/// # Errors
/// A database error.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
    hold: Duration,
    busy: &[Uuid],
) -> Result<Claim, DbErr> {
    use webhook_delivery::Column as D;
    let lease = Uuid::now_v7();
    let mut claim = Claim {
        lease,
        deliveries: Vec::new(),
    };
    if limit == 0 {
        return Ok(claim);
    }
    let until = now + chrono::Duration::from_std(hold).unwrap_or(chrono::Duration::minutes(1));
    let backend = db.get_database_backend();
    let (d, e, w) = (Alias::new("d"), Alias::new("e"), Alias::new("w"));
    let earlier = Query::select()
        .expr(Expr::val(1))
        .from_as(webhook_delivery::Entity, e.clone())
        .and_where(Expr::col((e.clone(), D::WebhookId)).equals((d.clone(), D::WebhookId)))
        .and_where(Expr::col((e.clone(), D::ResourceKey)).equals((d.clone(), D::ResourceKey)))
        .and_where(Expr::col((e.clone(), D::State)).eq(PENDING))
        .and_where(
            Expr::col((e.clone(), D::EventPosition)).lt(Expr::col((d.clone(), D::EventPosition))),
        )
        .to_owned();
    let mut due = Query::select();
    due.column((d.clone(), D::Id))
        .from_as(webhook_delivery::Entity, d.clone())
        .join_as(
            JoinType::InnerJoin,
            webhook::Entity,
            w.clone(),
            Expr::col((w.clone(), webhook::Column::Id)).equals((d.clone(), D::WebhookId)),
        )
        .and_where(Expr::col((w.clone(), webhook::Column::Enabled)).eq(true))
        .and_where(Expr::col((d.clone(), D::State)).eq(PENDING))
        .and_where(Expr::col((d.clone(), D::NextAttemptAt)).lte(now))
        .and_where(
            Expr::col((d.clone(), D::LeaseUntil))
                .is_null()
                .or(Expr::col((d.clone(), D::LeaseUntil)).lt(now)),
        )
        .and_where(Expr::not_exists(earlier))
        .order_by((d.clone(), D::NextAttemptAt), Order::Asc)
        .limit(limit);
    if !busy.is_empty() {
        due.and_where(Expr::col((d.clone(), D::Id)).is_not_in(busy.iter().copied()));
    }
    let mut update = Query::update();
    update
        .table(webhook_delivery::Entity)
        .values([(D::LeaseId, lease.into()), (D::LeaseUntil, until.into())])
        .returning_all();
    // Look first (an idle round writes nothing), then lease exactly what was seen. On
    // PostgreSQL the look locks its rows and skips those another node is claiming,
    // in the update's transaction. (Not `UPDATE … WHERE id IN (SELECT … LIMIT n FOR
    // UPDATE SKIP LOCKED)`: PostgreSQL may run such a subquery more than once and
    // lease far more than `n`, which then wait for their lease to run out.)
    // SQLite has one process delivering: no transaction (a read that turns into a
    // write inside one could fail with "database is locked").
    if backend == DbBackend::Postgres {
        due.lock_with_tables_behavior(LockType::Update, [d], LockBehavior::SkipLocked);
        let txn = db.begin().await?;
        claim.deliveries = look_and_lease(&txn, &due, update).await?;
        txn.commit().await?;
    } else {
        claim.deliveries = look_and_lease(db, &due, update).await?;
    }
    Ok(claim)
}

/// Runs `due`, then `update` (which leases) on exactly the ids it found.
async fn look_and_lease(
    db: &impl ConnectionTrait,
    due: &sea_orm::sea_query::SelectStatement,
    mut update: sea_orm::sea_query::UpdateStatement,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    let backend = db.get_database_backend();
    let ids: Vec<Uuid> = db
        .query_all_raw(backend.build(due))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    update.and_where(Expr::col(webhook_delivery::Column::Id).is_in(ids));
    db.query_all_raw(backend.build(&update))
        .await?
        .iter()
        .map(|row| webhook_delivery::Model::from_query_result(row, ""))
        .collect()
}

/// What an attempt leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The endpoint took it.
    Delivered,
    /// Tried again at this time.
    Retry(DateTime<Utc>),
    /// Given up: no attempt left, or nothing left to send.
    Failed,
    /// The endpoint answered 410: the delivery fails and the endpoint is disabled.
    Gone,
}

/// The verdict on `outcome`, the attempt after `attempts` earlier ones, ending at `at`.
pub fn verdict(attempts: i32, outcome: &Outcome, at: DateTime<Utc>) -> Verdict {
    if outcome.success() {
        return Verdict::Delivered;
    }
    if outcome.status == Some(410) {
        return Verdict::Gone;
    }
    let made = attempts.saturating_add(1);
    if made >= retry::MAX_ATTEMPTS {
        return Verdict::Failed;
    }
    let asked = match outcome.status {
        Some(429 | 503) => outcome
            .retry_after
            .as_deref()
            .and_then(|v| retry::retry_after(v, at)),
        _ => None,
    };
    // `Retry-After` is a floor, not a shortcut: a receiver asking for a second still
    // gets the schedule's step, so ten attempts still span about three days.
    let scheduled = retry::after(made, retry::jitter());
    let wait = match (scheduled, asked) {
        (Some(step), Some(asked)) => Some(step.max(asked)),
        (step, asked) => step.or(asked),
    };
    match wait {
        Some(wait) => Verdict::Retry(
            at + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::days(1)),
        ),
        None => Verdict::Failed,
    }
}

/// One finished attempt, to be recorded.
#[derive(Debug)]
pub struct Attempt<'a> {
    pub delivery: &'a webhook_delivery::Model,
    pub lease: Uuid,
    /// The endpoint as it was when the delivery was claimed.
    pub hook: Option<&'a webhook::Model>,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub outcome: &'a Outcome,
    pub verdict: &'a Verdict,
}

/// Records `attempt`: the attempt row, the delivery's new state, and what it says of
/// the endpoint (a success clears `failing_since`; a failure sets it, and disables
/// the endpoint once it has failed for [`retry::FAILING_LIMIT`]; a 410 disables it).
/// Says whether it was recorded: `false` when the lease was lost (another worker
/// took the delivery over, and its attempt counts instead).
///
/// # Errors
/// A database error: nothing is recorded, and the lease runs out.
pub async fn record(db: &DatabaseConnection, attempt: Attempt<'_>) -> Result<bool, DbErr> {
    use webhook_delivery::Column as D;
    let Attempt {
        delivery,
        lease,
        hook,
        started,
        finished,
        outcome,
        verdict,
    } = attempt;
    let (state, next) = match verdict {
        Verdict::Delivered => (DELIVERED, None),
        Verdict::Retry(at) => (PENDING, Some(*at)),
        Verdict::Failed | Verdict::Gone => (FAILED, None),
    };
    let failure = outcome.failure();
    let txn = begin_write(db).await?;
    let moved = webhook_delivery::Entity::update_many()
        .col_expr(D::State, Expr::value(state))
        .col_expr(
            D::Attempts,
            Expr::value(delivery.attempts.saturating_add(1)),
        )
        .col_expr(D::NextAttemptAt, Expr::value(next))
        .col_expr(D::LeaseId, Expr::value(Option::<Uuid>::None))
        .col_expr(D::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(D::LastStatus, Expr::value(outcome.status.map(i32::from)))
        .col_expr(D::LastError, Expr::value(failure.clone()))
        .col_expr(D::UpdatedAt, Expr::value(finished))
        .filter(D::Id.eq(delivery.id))
        .filter(D::LeaseId.eq(lease))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Ok(false);
    }
    webhook_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery.id),
        attempted_at: Set(started),
        status_code: Set(outcome.status.map(i32::from)),
        duration_ms: Set(i32::try_from(outcome.duration.as_millis()).unwrap_or(i32::MAX)),
        response_body: Set(outcome.body.clone()),
        error: Set(outcome.error.clone()),
    }
    .insert(&txn)
    .await?;
    let endpoint =
        || webhook::Entity::update_many().filter(webhook::Column::Id.eq(delivery.webhook_id));
    match verdict {
        // An endpoint that was not failing when the delivery was claimed has nothing
        // to clear (one that began failing since is cleared by its next success).
        Verdict::Delivered if hook.is_some_and(|h| h.failing_since.is_none()) => {}
        Verdict::Delivered => {
            endpoint()
                .col_expr(
                    webhook::Column::FailingSince,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(webhook::Column::FailingSince.is_not_null())
                .exec(&txn)
                .await?;
        }
        Verdict::Gone => {
            let reason = format!(
                "the endpoint answered 410 Gone on {}",
                finished.to_rfc3339_opts(SecondsFormat::Secs, true)
            );
            disable(endpoint(), &reason, finished).exec(&txn).await?;
        }
        Verdict::Retry(_) | Verdict::Failed => {
            endpoint()
                .col_expr(webhook::Column::FailingSince, Expr::value(finished))
                .filter(webhook::Column::FailingSince.is_null())
                .exec(&txn)
                .await?;
            let limit = chrono::Duration::from_std(retry::FAILING_LIMIT)
                .unwrap_or(chrono::Duration::days(3));
            let since = hook.and_then(|h| h.failing_since);
            if let Some(since) = since
                && finished - since >= limit
            {
                let reason = format!(
                    "the endpoint has failed since {} (the last error: {})",
                    since.to_rfc3339_opts(SecondsFormat::Secs, true),
                    failure.as_deref().unwrap_or("unknown")
                );
                disable(endpoint(), &reason, finished)
                    .filter(webhook::Column::FailingSince.lte(finished - limit))
                    .exec(&txn)
                    .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(true)
}

/// Disables an endpoint (still enabled) with `reason`.
fn disable(
    endpoint: sea_orm::UpdateMany<webhook::Entity>,
    reason: &str,
    at: DateTime<Utc>,
) -> sea_orm::UpdateMany<webhook::Entity> {
    endpoint
        .col_expr(webhook::Column::Enabled, Expr::value(false))
        .col_expr(webhook::Column::DisabledReason, Expr::value(reason))
        .col_expr(webhook::Column::UpdatedAt, Expr::value(at))
        .filter(webhook::Column::Enabled.eq(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, retry_after: Option<&str>) -> Outcome {
        Outcome {
            status: Some(status),
            retry_after: retry_after.map(str::to_string),
            ..Outcome::default()
        }
    }

    #[test]
    fn verdicts_follow_the_status_the_schedule_and_retry_after() {
        let at = Utc::now();
        assert_eq!(verdict(0, &answered(204, None), at), Verdict::Delivered);
        assert_eq!(verdict(3, &answered(410, None), at), Verdict::Gone);
        let Verdict::Retry(next) = verdict(0, &answered(500, None), at) else {
            panic!("a first failure is retried");
        };
        assert!(next - at >= chrono::Duration::seconds(5));
        assert!(next - at <= chrono::Duration::milliseconds(5_500));
        assert_eq!(verdict(9, &answered(500, None), at), Verdict::Failed);
        assert_eq!(
            verdict(0, &answered(429, Some("120")), at),
            Verdict::Retry(at + chrono::Duration::seconds(120))
        );
        assert_eq!(
            verdict(0, &answered(503, Some("120")), at),
            Verdict::Retry(at + chrono::Duration::seconds(120))
        );
        // Only 429 and 503 are listened to.
        let Verdict::Retry(next) = verdict(0, &answered(500, Some("120")), at) else {
            panic!("retried");
        };
        assert!(next - at < chrono::Duration::seconds(10));
        let timed_out = Outcome {
            error: Some("no answer".into()),
            ..Outcome::default()
        };
        assert!(matches!(verdict(1, &timed_out, at), Verdict::Retry(_)));
    }
}
