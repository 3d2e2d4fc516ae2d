//! A refresh token, stored only as its SHA-256. Every use rotates it: the used one
//! is marked and a new one joins the same family; a reused token revokes the family.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The sign-in session: every token rotated from one login shares it.
    pub family_id: Uuid,
    /// Hex SHA-256 of the token.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The user's credential version when this token was issued; refused once the
    /// user's differs.
    pub credential_version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
