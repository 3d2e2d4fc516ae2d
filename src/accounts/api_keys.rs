//! API keys as admins manage them: creating one (its name, scope, account, expiry
//! and origins checked, its text made and only its hash kept), listing the keys not
//! revoked, reading one, and revoking one. A revocation is one conditional
//! statement, so that of two at once one answers 204 and the other 404.

use chrono::{DateTime, Utc};
use entity::{api_key, user};
use poem_openapi::Object;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::api_key::{self as credential, NewKey};
use crate::auth::policy::Grant;
use crate::content::page::newest_first;
use crate::content::taxonomy::{Page, PageParams};
use crate::content::text::Text;
use crate::error::{ApiError, FieldError};

/// The most characters a name may have.
pub const MAX_NAME: usize = 200;
/// The most origins a key may allow.
pub const MAX_ORIGINS: usize = 32;

/// A new API key.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct ApiKeyCreate {
    /// What the key is for (the frontend or service that holds it), 1 to 200 characters.
    #[oai(validator(max_length = 200))]
    pub name: Text,
    /// What the key may do: `read:published` (what anonymous readers see),
    /// `read:preview` (also drafts, scheduled and archived articles, read-only),
    /// `read:events` (the events feed), or a role (`contributor`, `author`, `editor`,
    /// `admin`): the key then acts as the account `user_id` with that role, as the
    /// permission matrix allows it.
    pub scope: Grant,
    /// The account a role-scoped key acts as: required for a role scope, refused for a
    /// read scope. Its role must be at least the key's; once it is disabled, deleted or
    /// given a lesser role, the key stops working.
    pub user_id: Option<Uuid>,
    /// When the key stops working (RFC 3339); never when absent. Must be in the future.
    pub expires_at: Option<DateTime<Utc>>,
    /// Exact browser origins (`https://news.example`: scheme, host and port, no path)
    /// the key may be used from; when present, every request with the key must send one
    /// of them as `Origin`. Any origin, or none, when absent.
    #[oai(validator(max_items = 32))]
    pub allowed_origins: Option<Vec<Text>>,
}

pub fn not_found() -> ApiError {
    ApiError::NotFound("No API key has this id.".to_string())
}

/// A created key: its row and its text, which is shown this once.
pub struct Created {
    pub key: api_key::Model,
    pub text: String,
}

/// Checks `input` at `now` and stores a new key made by `admin`. Every field at
/// fault is reported together (422).
pub async fn create(
    db: &DatabaseConnection,
    input: ApiKeyCreate,
    admin: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Created, ApiError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    if input.expires_at.is_some_and(|at| at <= now) {
        errors.push(FieldError::new("expires_at", "must be in the future"));
    }
    let origins = input.allowed_origins.map(|entries| {
        let mut origins: Vec<String> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match credential::origin(entry) {
                Ok(origin) if !origins.contains(&origin) => origins.push(origin),
                Ok(_) => {}
                Err(message) => {
                    errors.push(FieldError::new(format!("allowed_origins[{i}]"), message))
                }
            }
        }
        origins
    });
    if origins.as_ref().is_some_and(Vec::is_empty)
        && errors
            .iter()
            .all(|e| !e.field.starts_with("allowed_origins"))
    {
        errors.push(FieldError::new(
            "allowed_origins",
            "must name at least one origin (leave it out to allow any)",
        ));
    }
    match (input.scope.role(), input.user_id) {
        (Some(_), None) => errors.push(FieldError::new(
            "user_id",
            "is required for a role scope: the account the key acts as",
        )),
        (None, Some(_)) => errors.push(FieldError::new(
            "user_id",
            "must be absent for a read scope, which acts as no account",
        )),
        (Some(role), Some(id)) => {
            if let Some(message) = account_refusal(db, id, role).await? {
                errors.push(FieldError::new("user_id", message));
            }
        }
        (None, None) => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let NewKey { text, hash, prefix } = credential::generate()?;
    let key = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        scope: Set(input.scope.as_str().to_string()),
        user_id: Set(input.user_id),
        key_hash: Set(hash),
        prefix: Set(prefix),
        // A list of strings always serialises.
        allowed_origins: Set(origins.map(|o| serde_json::to_string(&o).unwrap_or_default())),
        expires_at: Set(input.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_by: Set(admin),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| {
        // The account was deleted between the check and the insert.
        if matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
        ) {
            ApiError::unprocessable("user_id", "names no account")
        } else {
            err.into()
        }
    })?;
    Ok(Created { key, text })
}

/// Why the account `id` cannot hold a key with `role`, if it cannot.
async fn account_refusal(
    db: &DatabaseConnection,
    id: Uuid,
    role: Role,
) -> Result<Option<String>, ApiError> {
    let Some(account) = user::Entity::find_by_id(id).one(db).await? else {
        return Ok(Some("names no account".to_string()));
    };
    if account.disabled {
        return Ok(Some("names a disabled account".to_string()));
    }
    let held = account.role.parse::<Role>().map_err(|err| {
        tracing::error!(user = %account.id, %err, "a user has a role this build does not know");
        ApiError::Internal
    })?;
    if role.rank() > held.rank() {
        return Ok(Some(format!(
            "names an account whose role `{}` is below the key's `{}`",
            held.as_str(),
            role.as_str()
        )));
    }
    Ok(None)
}

/// The keys not revoked, newest first, a page at a time.
pub async fn list(
    db: &DatabaseConnection,
    params: &PageParams,
) -> Result<Page<api_key::Model>, ApiError> {
    let base = api_key::Entity::find().filter(api_key::Column::RevokedAt.is_null());
    newest_first(db, base, api_key::Column::Id, params, |k| k.id).await
}

/// One key not revoked.
pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<api_key::Model, ApiError> {
    api_key::Entity::find_by_id(id)
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// Revokes a key at `now` in one statement: it stops working at once. A key that
/// is unknown or revoked already is a 404.
pub async fn revoke(db: &DatabaseConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), ApiError> {
    let done = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(not_found());
    }
    Ok(())
}
