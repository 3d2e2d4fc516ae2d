//! An endpoint's deliveries as admins see and replay them: the list (newest first,
//! each with its attempts, in a fixed number of statements whatever the page size),
//! a retry of one delivery, and a test delivery (`ping`). Sending them is the
//! worker's ([`super::worker`]); this only queues them (`pending`, due now).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{event, webhook, webhook_attempt, webhook_delivery};
use poem_openapi::Enum;
use sea_orm::sea_query::{Condition, Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use super::endpoints;
use crate::content::events::{self, PING};
use crate::content::taxonomy::{Page, PageParams};
use crate::error::ApiError;

/// Where a delivery stands.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its next attempt (or for an earlier event of the same resource).
    Pending,
    /// A 2xx answered.
    Delivered,
    /// Every attempt failed, or the endpoint refused it for good; a retry queues it again.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The state a row holds (an unknown one reads as `failed`, the state that asks
    /// for attention).
    pub fn of(text: &str) -> Self {
        match text {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            _ => Self::Failed,
        }
    }
}

/// A delivery with its attempts, oldest first.
pub type WithAttempts = (webhook_delivery::Model, Vec<webhook_attempt::Model>);

fn delivery_not_found() -> ApiError {
    ApiError::NotFound("This webhook has no delivery with this id.".to_string())
}

fn disabled() -> ApiError {
    ApiError::conflict("enabled", "the webhook is disabled; enable it first")
}

/// Whether the endpoint exists and is enabled: a 404 if it does not exist.
async fn enabled(db: &impl ConnectionTrait, webhook_id: Uuid) -> Result<bool, ApiError> {
    webhook::Entity::find_by_id(webhook_id)
        .select_only()
        .column(webhook::Column::Enabled)
        .into_tuple::<bool>()
        .one(db)
        .await?
        .ok_or_else(endpoints::not_found)
}

/// The attempts at `deliveries`, grouped by delivery in the given order, each
/// oldest first (one statement).
async fn attempts_of(
    db: &impl ConnectionTrait,
    deliveries: Vec<webhook_delivery::Model>,
) -> Result<Vec<WithAttempts>, DbErr> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let attempts = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(deliveries.iter().map(|d| d.id)))
        .order_by(webhook_attempt::Column::AttemptedAt, Order::Asc)
        .order_by(webhook_attempt::Column::Id, Order::Asc)
        .all(db)
        .await?;
    let mut by_delivery: HashMap<Uuid, Vec<webhook_attempt::Model>> = HashMap::new();
    for attempt in attempts {
        by_delivery
            .entry(attempt.delivery_id)
            .or_default()
            .push(attempt);
    }
    Ok(deliveries
        .into_iter()
        .map(|delivery| {
            let attempts = by_delivery.remove(&delivery.id).unwrap_or_default();
            (delivery, attempts)
        })
        .collect())
}

/// An endpoint's deliveries, newest first, optionally in one state only, a keyset
/// page at a time, each with its attempts: three statements (four with the count).
pub async fn list(
    db: &DatabaseConnection,
    webhook_id: Uuid,
    state: Option<DeliveryState>,
    params: &PageParams,
) -> Result<Page<WithAttempts>, ApiError> {
    // A 404 for an unknown endpoint, rather than an empty list.
    enabled(db, webhook_id).await?;
    let mut base =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    if let Some(state) = state {
        base = base.filter(webhook_delivery::Column::State.eq(state.as_str()));
    }
    let page =
        endpoints::newest_first(db, base, webhook_delivery::Column::Id, params, |d| d.id).await?;
    Ok(Page {
        items: attempts_of(db, page.items).await?,
        next_cursor: page.next_cursor,
        total: page.total,
    })
}

/// Queues one delivery of an enabled endpoint again: `pending`, due now, out of any
/// worker's lease, its attempts kept. A delivery whose event is no longer kept
/// (older than the retention) cannot be sent again: a 409.
pub async fn retry(
    db: &DatabaseConnection,
    webhook_id: Uuid,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> Result<WithAttempts, ApiError> {
    if !enabled(db, webhook_id).await? {
        return Err(disabled());
    }
    let no_lease: Option<Uuid> = None;
    let no_time: Option<DateTime<Utc>> = None;
    let kept = Query::select()
        .column(event::Column::Position)
        .from(event::Entity)
        .to_owned();
    let queued = webhook_delivery::Entity::update_many()
        .filter(webhook_delivery::Column::Id.eq(delivery_id))
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .filter(
            Condition::any()
                .add(webhook_delivery::Column::EventPosition.is_null())
                .add(webhook_delivery::Column::EventPosition.in_subquery(kept)),
        )
        // Not while a worker is sending it: its attempt would be lost, and the
        // delivery sent twice.
        .filter(
            Condition::any()
                .add(webhook_delivery::Column::LeaseUntil.is_null())
                .add(webhook_delivery::Column::LeaseUntil.lt(now)),
        )
        .col_expr(
            webhook_delivery::Column::State,
            Expr::value(DeliveryState::Pending.as_str()),
        )
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(Some(now)),
        )
        .col_expr(webhook_delivery::Column::LeaseId, Expr::value(no_lease))
        .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(no_time))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next();
    let Some(delivery) = queued else {
        // Tell "no such delivery here" from "being sent" and "its event is gone"
        // (only on this path).
        let found = webhook_delivery::Entity::find_by_id(delivery_id)
            .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
            .one(db)
            .await?;
        return Err(match found {
            None => delivery_not_found(),
            Some(d) if d.lease_until.is_some_and(|until| until >= now) => ApiError::conflict(
                "delivery_id",
                "it is being sent right now; retry it once this attempt has finished",
            ),
            Some(_) => ApiError::conflict(
                "delivery_id",
                "its event is older than the retention period and no longer kept; it cannot be sent again",
            ),
        });
    };
    events::RECORDED.notify_waiters();
    attempts_of(db, vec![delivery])
        .await?
        .pop()
        .ok_or(ApiError::Internal)
}

/// Queues a test delivery (`ping`, with an id of its own) to an enabled endpoint.
pub async fn ping(
    db: &DatabaseConnection,
    webhook_id: Uuid,
    now: DateTime<Utc>,
) -> Result<webhook_delivery::Model, ApiError> {
    if !enabled(db, webhook_id).await? {
        return Err(disabled());
    }
    let id = Uuid::now_v7();
    let event_id = Uuid::now_v7();
    let delivery = webhook_delivery::ActiveModel {
        id: Set(id),
        webhook_id: Set(webhook_id),
        event_position: Set(None),
        event_id: Set(event_id),
        event_type: Set(PING.to_string()),
        resource_key: Set(format!("{PING}:{id}")),
        payload: Set(Some(events::ping(event_id, webhook_id, now).to_string())),
        state: Set(DeliveryState::Pending.as_str().to_string()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_id: Set(None),
        lease_until: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        // The endpoint was deleted meanwhile.
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => endpoints::not_found(),
        _ => ApiError::from(err),
    })?;
    events::RECORDED.notify_waiters();
    Ok(delivery)
}
