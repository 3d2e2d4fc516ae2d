//! One attempt at a delivery: when, what came back, how long it took.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTimeUtc,
    /// The HTTP status; `None` when nothing answered (refused, timed out).
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// The first 1 KB of the response body.
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    /// What went wrong, in words, when nothing answered.
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
