//! An asset an article's body shows (`![alt](media:<id>)`), kept so that a used
//! asset cannot be deleted and unused ones can be listed.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub article_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub media_id: Uuid,
}

impl ActiveModelBehavior for ActiveModel {}
