//! Draft-preview links: how long one lives, making one for an article, revoking an
//! article's links, and whether the link a token names is live. The token itself
//! (what it carries, its signature) is `auth::preview`'s; the article a live link
//! opens is read as any article is (`articles::get`).
//!
//! No event is recorded for a link made or revoked: the feed and the webhooks carry
//! changes to content, and a link changes nothing a reader or a consumer sees.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::preview_link;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    SqlErr,
};
use uuid::Uuid;

use super::articles;
use crate::auth::policy::Visibility;
use crate::auth::preview::{PreviewClaims, not_found};
use crate::error::ApiError;

/// How long a link lives when the request does not say, in seconds (an hour).
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// The shortest life a link may be given, in seconds.
pub const MIN_LIFETIME_SECS: i64 = 60;
/// The longest life a link may be given, in seconds (a day).
pub const MAX_LIFETIME_SECS: i64 = 86_400;

/// The life of a new link, from the request's `expires_in` (seconds; absent: the
/// default); out of bounds is a 422 naming `expires_in`.
pub fn lifetime(expires_in: Option<i64>) -> Result<Duration, ApiError> {
    let seconds = expires_in.unwrap_or(DEFAULT_LIFETIME_SECS);
    if !(MIN_LIFETIME_SECS..=MAX_LIFETIME_SECS).contains(&seconds) {
        return Err(ApiError::unprocessable(
            "expires_in",
            format!(
                "must be from {MIN_LIFETIME_SECS} to {MAX_LIFETIME_SECS} seconds (a minute to a day)"
            ),
        ));
    }
    Ok(Duration::seconds(seconds))
}

/// Makes a link to the live article `key` (its id or slug) for `by`, made at `at`
/// and living `lifetime` (its end kept to the whole second, as the token carries it);
/// the article's links already past their time go meanwhile. What the token will
/// carry. 404 when no live article has this id or slug (or it is deleted for good
/// while the link is made).
pub async fn create(
    db: &DatabaseConnection,
    key: &str,
    by: Option<Uuid>,
    at: DateTime<Utc>,
    lifetime: Duration,
) -> Result<PreviewClaims, ApiError> {
    let article = articles::find_for_write(db, key, Visibility::All, at).await?;
    let article_id = article.model.id;
    preview_link::Entity::delete_many()
        .filter(preview_link::Column::ArticleId.eq(article_id))
        .filter(preview_link::Column::ExpiresAt.lte(at))
        .exec(db)
        .await?;
    let link = preview_link::ActiveModel {
        id: Set(Uuid::now_v7()),
        article_id: Set(article_id),
        created_by: Set(by),
        created_at: Set(at),
        expires_at: Set((at + lifetime).trunc_subsecs(0)),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        // The article was deleted for good meanwhile.
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => articles::not_found(),
        _ => ApiError::from(err),
    })?;
    Ok(PreviewClaims {
        link_id: link.id,
        article_id: link.article_id,
        expires_at: link.expires_at,
    })
}

/// Revokes every live link of the live article `key` (its id or slug) at `at`, in
/// one statement; how many there were. 404 when no live article has this id or slug.
pub async fn revoke(
    db: &DatabaseConnection,
    key: &str,
    at: DateTime<Utc>,
) -> Result<(Uuid, u64), ApiError> {
    let article = articles::find_for_write(db, key, Visibility::All, at).await?;
    let revoked = preview_link::Entity::update_many()
        .col_expr(preview_link::Column::RevokedAt, Expr::value(at))
        .filter(preview_link::Column::ArticleId.eq(article.model.id))
        .filter(preview_link::Column::RevokedAt.is_null())
        .filter(preview_link::Column::ExpiresAt.gt(at))
        .exec(db)
        .await?
        .rows_affected;
    Ok((article.model.id, revoked))
}

/// Nothing, if the link `claims` names is live at `at`: not revoked, not past its
/// time, and for the article the token names; otherwise the preview 404. One
/// statement, by the primary key.
pub async fn check_live(
    db: &DatabaseConnection,
    claims: &PreviewClaims,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let live = preview_link::Entity::find_by_id(claims.link_id)
        .filter(preview_link::Column::ArticleId.eq(claims.article_id))
        .filter(preview_link::Column::RevokedAt.is_null())
        .filter(preview_link::Column::ExpiresAt.gt(at))
        .one(db)
        .await?;
    live.map(|_| ()).ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifetime_is_a_minute_to_a_day_an_hour_by_default() {
        assert_eq!(lifetime(None).unwrap(), Duration::hours(1));
        assert_eq!(lifetime(Some(60)).unwrap(), Duration::minutes(1));
        assert_eq!(lifetime(Some(86_400)).unwrap(), Duration::days(1));
        for bad in [i64::MIN, -1, 0, 59, 86_401, i64::MAX] {
            let err = lifetime(Some(bad)).unwrap_err();
            assert_eq!(err.status(), 422, "{bad}");
            assert_eq!(
                err.problem().detail,
                "`expires_in`: must be from 60 to 86400 seconds (a minute to a day)"
            );
        }
    }
}
