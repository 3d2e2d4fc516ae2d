//! A full snapshot of an article after one change, numbered like its `version`.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub article_id: Uuid,
    /// The article's `version` after the change.
    pub number: i32,
    /// `create`, `update` or `restore`.
    pub action: String,
    /// The article's fields as JSON.
    #[sea_orm(column_type = "Text")]
    pub snapshot: String,
    /// The names of the fields this change touched, as a JSON array.
    #[sea_orm(column_type = "Text")]
    pub changed: String,
    /// Who made the change (null once that user is deleted).
    pub user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
