//! An account that signs in: an editor, an author, a contributor or an admin.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Trimmed and lower-cased; unique.
    #[sea_orm(unique)]
    pub email: String,
    /// An argon2id PHC string.
    pub password_hash: String,
    /// `admin`, `editor`, `author` or `contributor`.
    pub role: String,
    /// The byline this user writes as: "own" articles are those with it in the byline.
    #[sea_orm(unique)]
    pub author_id: Option<Uuid>,
    pub disabled: bool,
    /// When the password last changed (kept for the record; sessions follow
    /// `credential_version`).
    pub tokens_valid_from: DateTimeUtc,
    /// Counts the changes that end every session: a new password, disabling, a new
    /// role. Access tokens (claim `ver`) and refresh tokens carry the version they
    /// were issued under and are refused once it differs.
    pub credential_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
