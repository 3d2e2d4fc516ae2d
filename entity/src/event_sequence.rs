//! The last `sequence` given to an event of one resource (kept apart from the events
//! so that retention never resets it).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_sequences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_id: Uuid,
    pub sequence: i64,
}

impl ActiveModelBehavior for ActiveModel {}
