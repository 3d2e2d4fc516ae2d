//! The newsroom workflow around articles: revisions (listing, and the snapshot a
//! restore puts back) and the trash (listing, restoring, purging).

use chrono::{DateTime, Utc};
use entity::{article, article_revision};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::articles::{self, Snapshot};
use super::begin_write;
use super::events::{By, EventType};
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

/// How many expired articles one purge round deletes at most.
const PURGE_BATCH: u64 = 200;

/// Deletes for good the articles that have been in the trash longer than `retention`,
/// each with its `article.purged` event (recorded by nobody: the retention did it).
pub async fn purge_expired(
    db: &DatabaseConnection,
    at: DateTime<Utc>,
    retention: std::time::Duration,
) -> Result<u64, ApiError> {
    let expired = || article::Column::DeletedAt.lt(cutoff(at, retention));
    let mut purged = 0;
    loop {
        let txn = begin_write(db).await?;
        let mut find = article::Entity::find().filter(expired()).limit(PURGE_BATCH);
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            // Rows another purge is deleting are its to record; SQLite's writers
            // take turns anyway.
            find = find.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let models = find.all(&txn).await?;
        if models.is_empty() {
            txn.rollback().await?;
            break;
        }
        let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
        let records = articles::load_ids(&txn, models).await?;
        let done = article::Entity::delete_many()
            .filter(article::Column::Id.is_in(ids))
            .filter(expired())
            .exec(&txn)
            .await?;
        for record in &records {
            articles::record_event(&txn, record, EventType::ArticlePurged, By::new(None, at))
                .await?;
        }
        txn.commit().await?;
        purged += done.rows_affected;
        if (records.len() as u64) < PURGE_BATCH {
            break;
        }
    }
    if purged > 0 {
        tracing::info!(
            articles = purged,
            "purged articles past their time in the trash"
        );
    }
    Ok(purged)
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

/// Takes an article out of the trash, with its `article.restored` event; returns it
/// as restored.
pub async fn restore(
    db: &DatabaseConnection,
    id: Uuid,
    by: By,
    retention: std::time::Duration,
) -> Result<articles::Record, ApiError> {
    purge_expired(db, by.at, retention).await?;
    let txn = begin_write(db).await?;
    let done = article::Entity::update_many()
        .col_expr(
            article::Column::DeletedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::DeletedAt.is_not_null())
        .exec(&txn)
        .await?;
    let restored = match done.rows_affected {
        1 => article::Entity::find_by_id(id).one(&txn).await?,
        _ => None,
    };
    let Some(model) = restored else {
        txn.rollback().await?;
        return Err(not_in_trash());
    };
    let mut records = articles::load_ids(&txn, vec![model]).await?;
    let record = records.pop().ok_or_else(not_in_trash)?;
    articles::record_event(&txn, &record, EventType::ArticleRestored, by).await?;
    txn.commit().await?;
    Ok(record)
}

/// Deletes an article in the trash for good, with its revisions, byline, tags,
/// old slugs and comments, and records `article.purged` (carrying the article as
/// it was).
pub async fn purge(db: &DatabaseConnection, id: Uuid, by: By) -> Result<(), ApiError> {
    let txn = begin_write(db).await?;
    let in_trash = || {
        sea_orm::Condition::all()
            .add(article::Column::Id.eq(id))
            .add(article::Column::DeletedAt.is_not_null())
    };
    let Some(model) = article::Entity::find().filter(in_trash()).one(&txn).await? else {
        txn.rollback().await?;
        return Err(not_in_trash());
    };
    let mut records = articles::load_ids(&txn, vec![model]).await?;
    let record = records.pop().ok_or_else(not_in_trash)?;
    let done = article::Entity::delete_many()
        .filter(in_trash())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(not_in_trash());
    }
    articles::record_event(&txn, &record, EventType::ArticlePurged, by).await?;
    txn.commit().await?;
    Ok(())
}
