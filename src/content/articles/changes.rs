//! What article writes record in the event log: the type of an update's event (a
//! change readers see in the status outranks a new slug, which outranks a plain
//! update), the article views events carry, and the announcement of scheduled
//! articles whose time has come (the worker asks for it; no write is needed).

use chrono::{DateTime, Utc};
use entity::article;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::relations::{load_ids, names_of};
use super::{Actor, Record, Status, effective_status};
use crate::content::begin_write;
use crate::content::events::{self, By, EventType};
use crate::error::ApiError;

/// The status readers had been told of before a change: as [`effective_status`],
/// except that a scheduled article whose time has passed but which was not
/// announced yet still counts as scheduled (the change announces it).
fn announced_status(model: &article::Model, at: DateTime<Utc>) -> Status {
    match effective_status(model, at) {
        Status::Published
            if Status::from_db(&model.status) == Status::Scheduled
                && model.announced_at != model.published_at =>
        {
            Status::Scheduled
        }
        other => other,
    }
}

/// The event type of an update from `before` to `after` at `at`.
pub(super) fn update_type(before: &Record, after: &Record, at: DateTime<Utc>) -> EventType {
    let was = announced_status(&before.model, at);
    let is = effective_status(&after.model, at);
    match (was, is) {
        (w, Status::Published) if w != Status::Published => EventType::ArticlePublished,
        (w, Status::Archived) if w != Status::Archived => EventType::ArticleArchived,
        (Status::Published, Status::Draft | Status::Scheduled) => EventType::ArticleUnpublished,
        _ if before.model.slug != after.model.slug => EventType::ArticleSlugChanged,
        _ => EventType::ArticleUpdated,
    }
}

/// The `announced_at` of an article with this status and time, written at `at`:
/// its `published_at` once readers see it, else none (a scheduled one is announced
/// by the worker when its time comes).
pub(super) fn announced_at(
    status: Status,
    published_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let public = match status {
        Status::Published => true,
        Status::Scheduled => published_at.is_some_and(|p| p <= at),
        Status::Draft | Status::Archived => false,
    };
    published_at.filter(|_| public)
}

/// The views of `records` as the API shows them at `at` (two statements).
async fn views(
    db: &impl ConnectionTrait,
    records: &[&Record],
    at: DateTime<Utc>,
) -> Result<Vec<Value>, ApiError> {
    let related = names_of(db, records).await?;
    let presenter = events::presenter()?;
    Ok(records
        .iter()
        .map(|r| presenter.article(r, &related, at))
        .collect())
}

fn by(actor: &Actor) -> By {
    By::new(actor.user_id, actor.at)
}

/// Records the event of an update (or a restore of a revision).
pub(super) async fn record_updated(
    txn: &impl ConnectionTrait,
    before: &Record,
    after: &Record,
    actor: &Actor,
) -> Result<(), ApiError> {
    let event_type = update_type(before, after, actor.at);
    let mut views = views(txn, &[before, after], actor.at).await?.into_iter();
    let (old, new) = (
        views.next().unwrap_or_default(),
        views.next().unwrap_or_default(),
    );
    events::record(txn, by(actor).update(event_type, after.model.id, &old, new)).await?;
    Ok(())
}

/// Records `event_type` (created, trashed, restored, purged, or published by the
/// scheduler) carrying `record`'s view.
pub async fn record(
    txn: &impl ConnectionTrait,
    record: &Record,
    event_type: EventType,
    by: By,
) -> Result<(), ApiError> {
    let mut data = views(txn, &[record], by.at).await?;
    let data = data.pop().unwrap_or_default();
    events::record(txn, by.change(event_type, record.model.id, data)).await?;
    Ok(())
}

/// How many due articles one round announces at most.
const ANNOUNCE_BATCH: u64 = 100;

/// Records `article.published` for every scheduled article whose time has come by
/// `at` and that was not announced for its current `published_at`: once each,
/// however many workers ask at once (the row's update decides who records it).
/// Returns how many it announced.
pub async fn announce_due(db: &DatabaseConnection, at: DateTime<Utc>) -> Result<u64, ApiError> {
    let unannounced = Condition::any()
        .add(article::Column::AnnouncedAt.is_null())
        .add(Expr::col(article::Column::AnnouncedAt).ne(Expr::col(article::Column::PublishedAt)));
    let due = || {
        Condition::all()
            .add(article::Column::Status.eq(Status::Scheduled.as_str()))
            .add(article::Column::PublishedAt.lte(at))
            .add(article::Column::DeletedAt.is_null())
            .add(unannounced.clone())
    };
    let candidates: Vec<uuid::Uuid> = article::Entity::find()
        .select_only()
        .column(article::Column::Id)
        .filter(due())
        .order_by_asc(article::Column::PublishedAt)
        .limit(ANNOUNCE_BATCH)
        .into_tuple()
        .all(db)
        .await?;
    let mut announced = 0;
    for id in candidates {
        let txn = begin_write(db).await?;
        let claimed = article::Entity::update_many()
            .col_expr(
                article::Column::AnnouncedAt,
                Expr::col(article::Column::PublishedAt),
            )
            .filter(article::Column::Id.eq(id))
            .filter(due())
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let Some(model) = article::Entity::find_by_id(id).one(&txn).await? else {
            txn.rollback().await?;
            continue;
        };
        let mut records = load_ids(&txn, vec![model]).await?;
        let Some(record_now) = records.pop() else {
            txn.rollback().await?;
            continue;
        };
        record(
            &txn,
            &record_now,
            EventType::ArticlePublished,
            By::new(None, at),
        )
        .await?;
        txn.commit().await?;
        announced += 1;
    }
    Ok(announced)
}
