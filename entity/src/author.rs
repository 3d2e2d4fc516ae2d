//! A byline. May exist without a user account.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// `name` folded to lower-case ASCII: the sort key, the same on every backend.
    pub name_key: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub publisher_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The portrait, a media asset.
    pub image_media_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
