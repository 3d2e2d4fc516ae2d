//! A reader's comment on an article. The email is kept for moderation and never returned.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub article_id: Uuid,
    pub author_name: String,
    pub email: String,
    /// Plain text, as written.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `pending`, `approved` or `spam`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
