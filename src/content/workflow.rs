//! The newsroom workflow around articles: revisions (listing, and the snapshot a
//! restore puts back) and the trash (listing, restoring, purging).

use chrono::{DateTime, Utc};
use entity::{article, article_revision};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::articles::Snapshot;
use super::page::{Cursor, MAX_LIMIT};
use super::taxonomy::{Page, PageParams};
use crate::error::ApiError;

/// One revision, with its snapshot decoded.
#[derive(Debug, Clone)]
pub struct Revision {
    pub model: article_revision::Model,
    pub snapshot: Snapshot,
    pub changed: Vec<String>,
}

fn decode(model: article_revision::Model) -> Result<Revision, ApiError> {
    let snapshot = serde_json::from_str(&model.snapshot).map_err(|err| {
        tracing::error!(revision = %model.id, %err, "a stored revision does not decode");
        ApiError::Internal
    })?;
    let changed = serde_json::from_str(&model.changed).unwrap_or_default();
    Ok(Revision {
        model,
        snapshot,
        changed,
    })
}

/// An article's revisions, newest first, a keyset page at a time.
pub async fn revisions(
    db: &DatabaseConnection,
    article_id: Uuid,
    params: &PageParams,
) -> Result<Page<Revision>, ApiError> {
    let base =
        article_revision::Entity::find().filter(article_revision::Column::ArticleId.eq(article_id));
    let total = if params.count {
        Some(base.clone().count(db).await?)
    } else {
        None
    };
    let mut query = base;
    if let Some(text) = &params.cursor {
        let cursor = Cursor::decode(text, "-number")?;
        let number: i32 = cursor
            .value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::bad_request("cursor", "is not a cursor this API issued"))?;
        query = query.filter(article_revision::Column::Number.lt(number));
    }
    let limit = params.limit.clamp(1, MAX_LIMIT);
    let mut rows = query
        .order_by(article_revision::Column::Number, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|last| {
            Cursor {
                sort: "-number".to_string(),
                value: Some(last.number.to_string()),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(decode).collect::<Result<_, _>>()?,
        next_cursor,
        total,
    })
}

/// Revision `number` of an article.
pub async fn revision(
    db: &DatabaseConnection,
    article_id: Uuid,
    number: i32,
) -> Result<Revision, ApiError> {
    let model = article_revision::Entity::find()
        .filter(article_revision::Column::ArticleId.eq(article_id))
        .filter(article_revision::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("This article has no revision {number}.")))?;
    decode(model)
}

/// The instant before which trashed articles are gone for good.
fn cutoff(at: DateTime<Utc>, retention: std::time::Duration) -> DateTime<Utc> {
    at - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30))
}

/// Deletes for good the articles that have been in the trash longer than `retention`.
pub async fn purge_expired(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    retention: std::time::Duration,
) -> Result<u64, ApiError> {
    let done = article::Entity::delete_many()
        .filter(article::Column::DeletedAt.lt(cutoff(at, retention)))
        .exec(db)
        .await?;
    if done.rows_affected > 0 {
        tracing::info!(
            articles = done.rows_affected,
            "purged articles past their time in the trash"
        );
    }
    Ok(done.rows_affected)
}

/// The trash, most recently deleted first, a keyset page at a time.
pub async fn trashed(
    db: &DatabaseConnection,
    at: DateTime<Utc>,
    retention: std::time::Duration,
    params: &PageParams,
) -> Result<Page<article::Model>, ApiError> {
    purge_expired(db, at, retention).await?;
    let base = article::Entity::find().filter(article::Column::DeletedAt.is_not_null());
    let total = if params.count {
        Some(base.clone().count(db).await?)
    } else {
        None
    };
    let mut query = base;
    if let Some(text) = &params.cursor {
        let cursor = Cursor::decode(text, "-deleted_at")?;
        let value = cursor
            .value
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ApiError::bad_request("cursor", "is not a cursor this API issued"))?;
        query = query.filter(
            sea_orm::Condition::any()
                .add(article::Column::DeletedAt.lt(value))
                .add(
                    sea_orm::Condition::all()
                        .add(article::Column::DeletedAt.eq(value))
                        .add(article::Column::Id.lt(cursor.id)),
                ),
        );
    }
    let limit = params.limit.clamp(1, MAX_LIMIT);
    let mut rows = query
        .order_by(article::Column::DeletedAt, Order::Desc)
        .order_by(article::Column::Id, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|last| {
            Cursor {
                sort: "-deleted_at".to_string(),
                value: last.deleted_at.map(|t| t.to_rfc3339()),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
        total,
    })
}

fn not_in_trash() -> ApiError {
    ApiError::NotFound("No article in the trash has this id.".to_string())
}

/// Takes an article out of the trash.
pub async fn restore(
    db: &DatabaseConnection,
    id: Uuid,
    at: DateTime<Utc>,
    retention: std::time::Duration,
) -> Result<(), ApiError> {
    purge_expired(db, at, retention).await?;
    let done = article::Entity::update_many()
        .col_expr(
            article::Column::DeletedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::DeletedAt.is_not_null())
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(not_in_trash());
    }
    Ok(())
}

/// Deletes an article in the trash for good, with its revisions, byline, tags,
/// old slugs and comments.
pub async fn purge(db: &DatabaseConnection, id: Uuid) -> Result<(), ApiError> {
    let done = article::Entity::delete_many()
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::DeletedAt.is_not_null())
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(not_in_trash());
    }
    Ok(())
}
