//! One recorded event (the transactional outbox): written in the same transaction
//! as the change it describes, numbered by `position` in commit order.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Commit order: a reader that has seen position `n` has seen every event before it.
    #[sea_orm(primary_key)]
    pub position: i64,
    /// The event's id (a UUIDv7), sent as `webhook-id`.
    #[sea_orm(unique)]
    pub id: Uuid,
    /// e.g. `article.published`.
    pub event_type: String,
    /// `article`, `publisher`, `author`, `tag` or `comment`.
    pub resource_type: String,
    pub resource_id: Uuid,
    /// The resource's own counter: 1 for its first event, then 2, 3, …
    pub sequence: i64,
    /// The signed-in user who made the change; `None` for readers, the worker and the CLI.
    pub actor_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
    /// The resource as the API returns it, as JSON.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// For updates: the changed fields' values before, as a JSON object.
    #[sea_orm(column_type = "Text", nullable)]
    pub previous: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
