//! One event (or a `ping`) on its way to one endpoint, with its retry state.
//! `state` is `pending`, `delivered` or `failed`.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The event's position; `None` for a ping.
    pub event_position: Option<i64>,
    /// The event's id, sent as `webhook-id` (a ping has its own).
    pub event_id: Uuid,
    pub event_type: String,
    /// `type:id` of the resource: one resource's deliveries go in order.
    pub resource_key: String,
    /// The body to send when there is no event row behind it (a ping).
    #[sea_orm(column_type = "Text", nullable)]
    pub payload: Option<String>,
    pub state: String,
    pub attempts: i32,
    /// When the next attempt is due; `None` once delivered or failed for good.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// The lease of the worker holding the delivery: its writes land only while it holds it.
    pub lease_id: Option<Uuid>,
    /// A worker holds the delivery until then; after it, another may take it over.
    pub lease_until: Option<DateTimeUtc>,
    /// The HTTP status of the last attempt, if one answered.
    pub last_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
