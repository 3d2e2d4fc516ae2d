//! User accounts: normalised unique emails, argon2id passwords, roles, the link
//! to an author byline, and the rule that the last active admin stays one.

use chrono::{DateTime, Utc};
use entity::{author, refresh_token, user};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::password::{self, Passwords};
use crate::content::page::{Cursor, MAX_LIMIT};
use crate::content::taxonomy::{Page, PageParams};
use crate::content::text::Text;
use crate::error::{ApiError, FieldError};

/// A new account.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct UserCreate {
    /// The sign-in email; stored trimmed and lower-cased, unique.
    #[oai(validator(max_length = 254))]
    pub email: Text,
    /// At least 12 characters, not a common password, not containing the email's name.
    #[oai(validator(max_length = 256))]
    pub password: Text,
    /// What the account may do.
    pub role: Role,
    /// The author byline this user writes as; their "own" articles are those with it in the byline.
    pub author_id: Option<Uuid>,
    /// Create the account disabled (it cannot sign in); `false` when absent.
    #[oai(default)]
    pub disabled: bool,
}

/// Changes to an account; absent fields stay as they are.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct UserUpdate {
    /// A new sign-in email.
    #[oai(validator(max_length = 254))]
    pub email: MaybeUndefined<Text>,
    /// A new password; the account's sessions and access tokens end.
    #[oai(validator(max_length = 256))]
    pub password: MaybeUndefined<Text>,
    /// A new role; a different one ends the account's sessions and access tokens, so it
    /// signs in again with the new role.
    pub role: MaybeUndefined<Role>,
    /// A new author byline; `null` unlinks it.
    pub author_id: MaybeUndefined<Uuid>,
    /// `true` disables the account at once: its sessions and access tokens stop working.
    pub disabled: MaybeUndefined<bool>,
}

/// Trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible address: one `@`, a local part, and a dotted domain, no spaces.
pub fn check_email(email: &str, errors: &mut Vec<FieldError>) {
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.chars().count() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if !ok {
        errors.push(FieldError::new(
            "email",
            "must be an email address such as jane@example.com",
        ));
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("No user has this id.".to_string())
}

/// One account by id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// Accounts by email, a keyset page at a time, optionally one role only.
pub async fn list(
    db: &DatabaseConnection,
    role: Option<Role>,
    params: &PageParams,
) -> Result<Page<user::Model>, ApiError> {
    let mut base = user::Entity::find();
    if let Some(role) = role {
        base = base.filter(user::Column::Role.eq(role.as_str()));
    }
    let total = if params.count {
        Some(base.clone().count(db).await?)
    } else {
        None
    };
    let mut query = base;
    if let Some(text) = &params.cursor {
        let cursor = Cursor::decode(text, "email")?;
        query = query.filter(user::Column::Email.gt(cursor.value.unwrap_or_default()));
    }
    let limit = params.limit.clamp(1, MAX_LIMIT);
    let mut items = query
        .order_by(user::Column::Email, Order::Asc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                sort: "email".to_string(),
                value: Some(last.email.clone()),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page {
        items,
        next_cursor,
        total,
    })
}

/// Checks that `author_id` names an author.
async fn check_author(
    db: &impl ConnectionTrait,
    author_id: Uuid,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if author::Entity::find_by_id(author_id)
        .select_only()
        .column(author::Column::Id)
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .is_none()
    {
        errors.push(FieldError::new("author_id", "no author has this id"));
    }
    Ok(())
}

/// A unique violation names the email or the author link.
fn write_error(err: DbErr) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) if msg.contains("author_id") => {
            ApiError::conflict("author_id", "is already linked to another user")
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("email", "is already taken")
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
            ApiError::unprocessable("author_id", "no author has this id")
        }
        _ => ApiError::from(err),
    }
}

/// Creates an account. `now` is the application's clock.
pub async fn create(
    db: &DatabaseConnection,
    passwords: &Passwords,
    input: UserCreate,
    now: DateTime<Utc>,
) -> Result<user::Model, ApiError> {
    let email = normalize_email(&input.email);
    let mut errors = Vec::new();
    check_email(&email, &mut errors);
    password::check(&input.password, &email, &mut errors);
    if let Some(author_id) = input.author_id {
        check_author(db, author_id, &mut errors).await?;
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let hash = passwords.hash(&input.password).await?;
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        password_hash: Set(hash),
        role: Set(input.role.as_str().to_string()),
        author_id: Set(input.author_id),
        disabled: Set(input.disabled),
        tokens_valid_from: Set(now),
        credential_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(write_error)
}

/// The ids of the enabled admins, their rows locked until the transaction ends
/// (PostgreSQL; SQLite's write transaction serialises writers anyway). Every change
/// that could remove an admin takes this lock, in id order and before touching its
/// own row, so two of them run one after the other and the second sees the first.
async fn lock_active_admins(txn: &DatabaseTransaction) -> Result<Vec<Uuid>, ApiError> {
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Disabled.eq(false))
        .order_by(user::Column::Id, Order::Asc)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .all(txn)
        .await?)
}

/// The account, its row locked until the transaction ends; a 404 once deleted.
async fn get_locked(txn: &DatabaseTransaction, id: Uuid) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(not_found)
}

fn is_active_admin(model: &user::Model) -> bool {
    model.role == Role::Admin.as_str() && !model.disabled
}

const LAST_ADMIN: &str = "would leave no active admin; make another user an admin first";

/// Ends every session of `user_id` (its refresh tokens stop working).
pub async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(
            Condition::all()
                .add(refresh_token::Column::UserId.eq(user_id))
                .add(refresh_token::Column::RevokedAt.is_null()),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Changes an account. A new password, disabling it or a new role moves its
/// credential version: its sessions end and its access tokens are refused. The
/// last active admin stays an active admin, however many admins change at once;
/// an account deleted meanwhile is a 404.
pub async fn update(
    db: &DatabaseConnection,
    passwords: &Passwords,
    id: Uuid,
    input: UserUpdate,
    now: DateTime<Utc>,
) -> Result<user::Model, ApiError> {
    let mut errors = Vec::new();
    for (field, is_null) in [
        ("email", input.email.is_null()),
        ("password", input.password.is_null()),
        ("role", input.role.is_null()),
        ("disabled", input.disabled.is_null()),
    ] {
        if is_null {
            errors.push(FieldError::new(field, "must not be null"));
        }
    }
    let current = get(db, id).await?;
    let email = input
        .email
        .value()
        .map(|e| normalize_email(e))
        .unwrap_or_else(|| current.email.clone());
    if input.email.value().is_some() {
        check_email(&email, &mut errors);
    }
    if let Some(password) = input.password.value() {
        password::check(password, &email, &mut errors);
    }
    if let MaybeUndefined::Value(author_id) = input.author_id {
        check_author(db, author_id, &mut errors).await?;
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let hash = match input.password.value() {
        Some(p) => Some(passwords.hash(p).await?),
        None => None,
    };
    let role = input.role.value().copied();
    let disabled_now = input.disabled.value().copied();
    let demoted = role.is_some_and(|r| r != Role::Admin);
    let disabled = disabled_now == Some(true);
    let txn = crate::content::begin_write(db).await?;
    let admins = if demoted || disabled {
        lock_active_admins(&txn).await?
    } else {
        Vec::new()
    };
    // Read again under the lock: the account may have changed or gone meanwhile.
    let current = get_locked(&txn, id).await?;
    if is_active_admin(&current)
        && (demoted || disabled)
        && !admins.iter().any(|admin| *admin != id)
    {
        let field = if demoted { "role" } else { "disabled" };
        return Err(ApiError::conflict(field, LAST_ADMIN));
    }
    let role_changed = role.is_some_and(|r| r.as_str() != current.role);
    let ends_sessions = hash.is_some() || (disabled && !current.disabled) || role_changed;
    let version = current.credential_version;
    let mut model = current.into_active_model();
    model.email = Set(email);
    if let Some(hash) = hash {
        model.password_hash = Set(hash);
        model.tokens_valid_from = Set(now);
    }
    if let Some(role) = role {
        model.role = Set(role.as_str().to_string());
    }
    match input.author_id {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => model.author_id = Set(None),
        MaybeUndefined::Value(a) => model.author_id = Set(Some(a)),
    }
    if let Some(d) = disabled_now {
        model.disabled = Set(d);
    }
    if ends_sessions {
        // Every access and refresh token issued so far carries an older version.
        model.credential_version = Set(version.wrapping_add(1));
    }
    model.updated_at = Set(now);
    let model = model.update(&txn).await.map_err(|err| match err {
        DbErr::RecordNotUpdated => not_found(),
        err => write_error(err),
    })?;
    if ends_sessions {
        revoke_sessions(&txn, id, now).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// Deletes an account and its sessions (its access tokens stop working at once).
pub async fn delete(db: &DatabaseConnection, id: Uuid) -> Result<(), ApiError> {
    let txn = crate::content::begin_write(db).await?;
    let admins = lock_active_admins(&txn).await?;
    let current = get_locked(&txn, id).await?;
    if is_active_admin(&current) && !admins.iter().any(|admin| *admin != id) {
        return Err(ApiError::conflict("id", LAST_ADMIN));
    }
    // Refresh tokens go with it (ON DELETE CASCADE).
    let deleted = user::Entity::delete_by_id(id).exec(&txn).await?;
    if deleted.rows_affected == 0 {
        return Err(not_found());
    }
    txn.commit().await?;
    Ok(())
}

/// How many accounts exist.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    user::Entity::find().count(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Jane.Doe@Ledger.Example "),
            "jane.doe@ledger.example"
        );
        for bad in [
            "jane",
            "jane@",
            "@ledger.example",
            "jane@ledger",
            "ja ne@x.example",
            "a@b@c.example",
            "j@.example",
            "j@x..example",
        ] {
            let mut errors = Vec::new();
            check_email(bad, &mut errors);
            assert_eq!(errors.len(), 1, "{bad}");
        }
        let mut errors = Vec::new();
        check_email("jane@ledger.example", &mut errors);
        assert!(errors.is_empty());
    }
}
