//! A webhook endpoint an admin registered: where events go, which ones, and the
//! secret they are signed with.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    /// A JSON array of event types, `*` wildcards allowed (`article.*`, `*`).
    #[sea_orm(column_type = "Text")]
    pub event_types: String,
    pub enabled: bool,
    /// Why the endpoint was disabled by Dispatch (410, failing for days); `None` otherwise.
    #[sea_orm(column_type = "Text", nullable)]
    pub disabled_reason: Option<String>,
    /// `whsec_` and the base64 key (Standard Webhooks).
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// The last event position fanned out into deliveries for this endpoint.
    pub event_cursor: i64,
    /// When the current run of failures began; `None` after a success.
    pub failing_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
