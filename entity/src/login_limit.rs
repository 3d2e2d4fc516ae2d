//! A sign-in limit's token bucket, shared by every node: its credit at a moment.
//! Times are microseconds since the Unix epoch.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_limits")]
pub struct Model {
    /// Hex SHA-256 of the limit key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The credit at `updated_at`, in attempt-microseconds.
    pub credit: i64,
    pub updated_at: i64,
    /// When the bucket is full again however it was used; the row may be deleted then.
    pub expires_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
