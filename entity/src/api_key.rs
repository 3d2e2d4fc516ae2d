//! An API key for a frontend or a service, stored only as the SHA-256 of its text.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// `read:published`, `read:preview`, `read:events`, or a role (`contributor`,
    /// `author`, `editor`, `admin`).
    pub scope: String,
    /// The account a role-scoped key acts as; `None` for a read scope.
    pub user_id: Option<Uuid>,
    /// Hex SHA-256 of the key's text.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// `dsp_live_` and the first characters of the secret part (not secret).
    pub prefix: String,
    /// A JSON array of exact origins; `None` when the key is not tied to origins.
    #[sea_orm(column_type = "Text", nullable)]
    pub allowed_origins: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The admin who created it.
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// A role-scoped key's account, loaded with the key in one statement.
impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Entity::belongs_to(super::user::Entity)
            .from(Column::UserId)
            .to(super::user::Column::Id)
            .into()
    }
}
