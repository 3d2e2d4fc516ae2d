//! A news organisation or a syndication service.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "publishers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// `name` folded to lower-case ASCII: the sort key, the same on every backend.
    pub name_key: String,
    pub description: Option<String>,
    pub website_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The logo, a media asset.
    pub image_media_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
