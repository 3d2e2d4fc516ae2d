//! Fan-out: each endpoint's events become its deliveries. An endpoint remembers the
//! last event position it has seen (`event_cursor`); events after it, in position
//! order, become one pending delivery each when the endpoint is enabled and its
//! patterns choose the type, and the cursor moves past them in the same transaction.
//! Positions are given in commit order, so no event can appear later below a cursor.
//! On PostgreSQL the endpoint's row is locked `FOR UPDATE SKIP LOCKED`, so that the
//! nodes share the endpoints and never fan one event out twice.

use chrono::{DateTime, Utc};
use entity::{event, webhook, webhook_delivery};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::content::begin_write;
use crate::content::events::chosen;

/// The most events one endpoint's transaction fans out.
pub const BATCH: u64 = 500;

/// The last position recorded, as SQL (0 when no event exists).
const LAST_POSITION: &str = "(SELECT COALESCE(MAX(position), 0) FROM events)";

/// Fans out every endpoint that is behind (one statement when none is). Says how
/// many deliveries were made.
///
/// # Errors
/// A database error (what was committed before it stays).
pub async fn fan_out(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let behind: Vec<Uuid> = webhook::Entity::find()
        .select_only()
        .column(webhook::Column::Id)
        .filter(Expr::col(webhook::Column::EventCursor).lt(Expr::cust(LAST_POSITION)))
        .into_tuple()
        .all(db)
        .await?;
    let mut made = 0;
    for id in behind {
        loop {
            let (deliveries, more) = fan_out_one(db, id, now).await?;
            made += deliveries;
            if !more {
                break;
            }
        }
    }
    Ok(made)
}

/// One batch of one endpoint: the deliveries made, and whether more events wait.
async fn fan_out_one(
    db: &DatabaseConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(usize, bool), DbErr> {
    let txn = begin_write(db).await?;
    let mut find = webhook::Entity::find_by_id(id);
    if db.get_database_backend() == DbBackend::Postgres {
        // Another node fanning this endpoint out has it: it is skipped here.
        find = find.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let Some(hook) = find.one(&txn).await? else {
        return Ok((0, false));
    };
    let events: Vec<(i64, Uuid, String, String, Uuid)> = event::Entity::find()
        .select_only()
        .columns([
            event::Column::Position,
            event::Column::Id,
            event::Column::EventType,
            event::Column::ResourceType,
            event::Column::ResourceId,
        ])
        .filter(event::Column::Position.gt(hook.event_cursor))
        .order_by_asc(event::Column::Position)
        .limit(BATCH)
        .into_tuple()
        .all(&txn)
        .await?;
    let Some(&(last, ..)) = events.last() else {
        return Ok((0, false));
    };
    let patterns = patterns(&hook);
    let deliveries: Vec<webhook_delivery::ActiveModel> = events
        .iter()
        .filter(|(_, _, event_type, ..)| hook.enabled && chosen(&patterns, event_type))
        .map(
            |(position, event_id, event_type, resource_type, resource_id)| {
                webhook_delivery::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    webhook_id: Set(hook.id),
                    event_position: Set(Some(*position)),
                    event_id: Set(*event_id),
                    event_type: Set(event_type.clone()),
                    resource_key: Set(format!("{resource_type}:{resource_id}")),
                    payload: Set(None),
                    state: Set(super::lease::PENDING.to_string()),
                    attempts: Set(0),
                    next_attempt_at: Set(Some(now)),
                    lease_id: Set(None),
                    lease_until: Set(None),
                    last_status: Set(None),
                    last_error: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            },
        )
        .collect();
    let made = deliveries.len();
    if made > 0 {
        webhook_delivery::Entity::insert_many(deliveries)
            .exec_without_returning(&txn)
            .await?;
    }
    webhook::Entity::update_many()
        .col_expr(webhook::Column::EventCursor, Expr::value(last))
        .filter(webhook::Column::Id.eq(hook.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok((made, events.len() as u64 == BATCH))
}

/// An endpoint's event type patterns (none, logged, if the stored list is unreadable).
fn patterns(hook: &webhook::Model) -> Vec<String> {
    serde_json::from_str(&hook.event_types).unwrap_or_else(|err| {
        tracing::error!(webhook = %hook.id, %err, "a webhook's event types do not decode; it gets no events");
        Vec::new()
    })
}
