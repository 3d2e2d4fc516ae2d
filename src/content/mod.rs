//! The newsroom domain: slugs, statuses, Markdown, and the queries and mutations
//! behind every endpoint. Handlers stay thin; SQL and transactions live here.

pub mod articles;
pub mod comments;
pub mod events;
pub mod figures;
pub mod markdown;
pub mod media;
pub mod page;
pub mod previews;
pub mod search;
pub mod sitemaps;
pub mod slug;
pub mod taxonomy;
pub mod text;
pub mod workflow;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{DbErr, SqlErr};

use crate::error::ApiError;

/// A response extension: what the response shows changes by the clock alone at
/// this moment (an article leaving the news sitemap's window), so the response
/// cache keeps it no longer and tells downstream caches so.
#[derive(Debug, Clone, Copy)]
pub struct ChangesAt(pub DateTime<Utc>);

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`, which
/// takes the write lock up front (waiting through the busy timeout) instead of
/// failing with "database is locked" when a read inside it later turns into a write
/// while another writer is active; on PostgreSQL it is a plain `BEGIN`.
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Now, at the microsecond precision both databases store.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The sort key of a name or title: transliterated to ASCII and lower-cased, so that
/// lists order alike on SQLite and PostgreSQL whatever their collations.
pub fn sort_key(text: &str, max_len: usize) -> String {
    let mut key = deunicode::deunicode(text.trim()).to_ascii_lowercase();
    key.truncate(max_len);
    key
}

/// Maps a write's database error: a unique violation becomes a 409 naming `field`,
/// a foreign-key violation a 409/422 with `fk_message`; anything else is a 500.
pub fn write_error(err: DbErr, field: &str, fk: Option<(u16, &str, &str)>) -> ApiError {
    if is_restrict_violation(&err)
        && let Some((_, fk_field, message)) = fk
    {
        return ApiError::conflict(fk_field, message);
    }
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(field, "is already taken"),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => match fk {
            Some((409, fk_field, message)) => ApiError::conflict(fk_field, message),
            Some((_, fk_field, message)) => ApiError::unprocessable(fk_field, message),
            None => ApiError::from(err),
        },
        _ => ApiError::from(err),
    }
}

/// Maps an insert's database error where a made slug may be retried: a unique
/// violation is [`slug::InsertError::Taken`], anything else as [`write_error`].
pub fn insert_error(err: DbErr, fk: Option<(u16, &str, &str)>) -> slug::InsertError {
    if slug::is_taken(&err) {
        slug::InsertError::Taken
    } else {
        slug::InsertError::Other(write_error(err, "slug", fk))
    }
}

/// SQLite reports an `ON DELETE RESTRICT` refusal as code 1811
/// (SQLITE_CONSTRAINT_TRIGGER), which SeaORM does not classify; PostgreSQL's 23503
/// is classified as a foreign-key violation.
pub fn is_restrict_violation(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "1811"),
        _ => false,
    }
}

/// Checks an optional absolute http(s) URL given by a client.
pub fn check_url(field: &str, url: Option<&str>, errors: &mut Vec<crate::error::FieldError>) {
    let Some(url) = url else { return };
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        errors.push(crate::error::FieldError::new(
            field,
            "must be an absolute http:// or https:// URL",
        ));
    }
}

/// Checks that a required text is not blank.
pub fn check_not_blank(field: &str, text: &str, errors: &mut Vec<crate::error::FieldError>) {
    if text.trim().is_empty() {
        errors.push(crate::error::FieldError::new(field, "must not be blank"));
    }
}

/// Checks a client slug if one was given.
pub fn check_slug(slug: Option<&str>, errors: &mut Vec<crate::error::FieldError>) {
    if let Some(s) = slug
        && let Err(reason) = slug::check(s)
    {
        errors.push(crate::error::FieldError::new("slug", reason));
    }
}
