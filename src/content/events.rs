//! The event log (a transactional outbox): every content change records one event
//! in the transaction that makes it, so an event exists exactly when its change
//! committed. Events are numbered by `position` in commit order (on PostgreSQL a
//! transaction-scoped advisory lock, taken just before the insert and held to the
//! commit, makes numbering and committing one step; SQLite has one writer at a
//! time anyway), and each resource counts its own events (`sequence`). What an
//! event carries is the resource as the API shows it, rendered by the
//! [`Present`]er the API layer installs (this layer cannot name the API's views).
//! Also here: the event types, the `*` patterns that choose them, the feed's
//! keyset page and retention.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use entity::{author, comment, event, event_sequence, media, publisher, tag};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::articles::{Record, Related};
use crate::error::ApiError;

/// Every event type, as `resource.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    ArticleCreated,
    ArticleUpdated,
    ArticlePublished,
    ArticleUnpublished,
    ArticleArchived,
    ArticleTrashed,
    ArticleRestored,
    ArticlePurged,
    ArticleSlugChanged,
    PublisherCreated,
    PublisherUpdated,
    PublisherDeleted,
    AuthorCreated,
    AuthorUpdated,
    AuthorDeleted,
    TagCreated,
    TagUpdated,
    TagDeleted,
    CommentCreated,
    CommentApproved,
    CommentRemoved,
    MediaCreated,
    MediaUpdated,
    MediaDeleted,
}

impl EventType {
    pub const ALL: [EventType; 24] = [
        Self::ArticleCreated,
        Self::ArticleUpdated,
        Self::ArticlePublished,
        Self::ArticleUnpublished,
        Self::ArticleArchived,
        Self::ArticleTrashed,
        Self::ArticleRestored,
        Self::ArticlePurged,
        Self::ArticleSlugChanged,
        Self::PublisherCreated,
        Self::PublisherUpdated,
        Self::PublisherDeleted,
        Self::AuthorCreated,
        Self::AuthorUpdated,
        Self::AuthorDeleted,
        Self::TagCreated,
        Self::TagUpdated,
        Self::TagDeleted,
        Self::CommentCreated,
        Self::CommentApproved,
        Self::CommentRemoved,
        Self::MediaCreated,
        Self::MediaUpdated,
        Self::MediaDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ArticleCreated => "article.created",
            Self::ArticleUpdated => "article.updated",
            Self::ArticlePublished => "article.published",
            Self::ArticleUnpublished => "article.unpublished",
            Self::ArticleArchived => "article.archived",
            Self::ArticleTrashed => "article.trashed",
            Self::ArticleRestored => "article.restored",
            Self::ArticlePurged => "article.purged",
            Self::ArticleSlugChanged => "article.slug_changed",
            Self::PublisherCreated => "publisher.created",
            Self::PublisherUpdated => "publisher.updated",
            Self::PublisherDeleted => "publisher.deleted",
            Self::AuthorCreated => "author.created",
            Self::AuthorUpdated => "author.updated",
            Self::AuthorDeleted => "author.deleted",
            Self::TagCreated => "tag.created",
            Self::TagUpdated => "tag.updated",
            Self::TagDeleted => "tag.deleted",
            Self::CommentCreated => "comment.created",
            Self::CommentApproved => "comment.approved",
            Self::CommentRemoved => "comment.removed",
            Self::MediaCreated => "media.created",
            Self::MediaUpdated => "media.updated",
            Self::MediaDeleted => "media.deleted",
        }
    }

    /// The resource the event is about: `article`, `publisher`, `author`, `tag`, `comment`, `media`.
    pub fn resource(self) -> &'static str {
        let name = self.as_str();
        name.split_once('.').map_or(name, |(resource, _)| resource)
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The resources events are about.
pub const RESOURCES: [&str; 6] = ["article", "publisher", "author", "tag", "comment", "media"];

/// The type of the synthetic event `POST /api/v1/webhooks/{id}/test` sends.
pub const PING: &str = "ping";

/// How many patterns one filter may hold.
pub const MAX_PATTERNS: usize = 32;

/// Checks an event type pattern: `*`, `resource.*`, or an event type. Says why not.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" || EventType::parse(pattern).is_some() {
        return Ok(());
    }
    if let Some(resource) = pattern.strip_suffix(".*")
        && RESOURCES.contains(&resource)
    {
        return Ok(());
    }
    Err(format!(
        "`{pattern}` is not an event type or pattern: use `*`, `<resource>.*` (resources: {}) \
         or a type such as `article.published`",
        RESOURCES.join(", ")
    ))
}

/// Checks a list of patterns: at most [`MAX_PATTERNS`], each one [`check_pattern`]
/// takes; the list without repeats, in order. Says why not.
pub fn check_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Vec<String>, String> {
    if patterns.len() > MAX_PATTERNS {
        return Err(format!(
            "may hold at most {MAX_PATTERNS} event types or patterns, not {}",
            patterns.len()
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(patterns.len());
    for pattern in patterns.iter().map(AsRef::as_ref) {
        check_pattern(pattern)?;
        if !out.iter().any(|p| p == pattern) {
            out.push(pattern.to_string());
        }
    }
    Ok(out)
}

/// Whether `event_type` is chosen by `pattern` (already checked).
pub fn matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

/// Whether any of `patterns` chooses `event_type`.
pub fn chosen(patterns: &[String], event_type: &str) -> bool {
    patterns.iter().any(|p| matches(p, event_type))
}

/// The event types a list of patterns chooses, in [`EventType::ALL`] order.
pub fn expand(patterns: &[String]) -> Vec<&'static str> {
    EventType::ALL
        .into_iter()
        .map(EventType::as_str)
        .filter(|t| chosen(patterns, t))
        .collect()
}

/// Renders resources as the API returns them. The API layer installs one at start-up
/// ([`install`]); events recorded before that carry `{"id": …}` only.
pub trait Present: Send + Sync + 'static {
    fn article(&self, record: &Record, related: &Related, at: DateTime<Utc>) -> Value;
    fn publisher(&self, model: &publisher::Model) -> Value;
    fn author(&self, model: &author::Model) -> Value;
    fn tag(&self, model: &tag::Model) -> Value;
    /// A comment as moderators see it, less anything private (the email).
    fn comment(&self, model: &comment::Model) -> Value;
    /// A media asset, with its renditions.
    fn media(&self, model: &media::Model) -> Value;
}

static PRESENTER: OnceLock<&'static dyn Present> = OnceLock::new();

/// Installs the presenter (the first call wins; later ones are ignored).
pub fn install(presenter: &'static dyn Present) {
    let _ = PRESENTER.set(presenter);
}

/// The installed presenter.
///
/// # Errors
/// A 500 (logged) if none is installed: an event without its data would be a lie.
pub fn presenter() -> Result<&'static dyn Present, ApiError> {
    PRESENTER.get().copied().ok_or_else(|| {
        tracing::error!("an event was recorded before the API installed its presenter");
        ApiError::Internal
    })
}

/// Who makes a change and when: what every event records of its origin.
#[derive(Debug, Clone, Copy)]
pub struct By {
    /// The signed-in user; `None` for a reader (a comment), the worker or the CLI.
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl By {
    /// A change made by `actor_id` at `at`.
    pub fn new(actor_id: Option<Uuid>, at: DateTime<Utc>) -> Self {
        Self { actor_id, at }
    }

    /// The change `event_type` to `resource_id`, carrying `data`.
    pub fn change(self, event_type: EventType, resource_id: Uuid, data: Value) -> Change {
        Change {
            event_type,
            resource_id,
            actor_id: self.actor_id,
            at: self.at,
            data,
            previous: None,
        }
    }

    /// As [`By::change`], for an update from `before`: `previous` is what changed.
    pub fn update(
        self,
        event_type: EventType,
        resource_id: Uuid,
        before: &Value,
        data: Value,
    ) -> Change {
        Change {
            previous: Some(changed(before, &data)),
            ..self.change(event_type, resource_id, data)
        }
    }
}

/// A change about to be recorded.
#[derive(Debug, Clone)]
pub struct Change {
    pub event_type: EventType,
    pub resource_id: Uuid,
    /// The signed-in user; `None` for a reader (a comment), the worker or the CLI.
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// The resource after the change (before it, for a deletion).
    pub data: Value,
    /// For an update: the fields that changed, with their values before.
    pub previous: Option<Value>,
}

/// The top-level fields of `after` whose values differ in `before`, with `before`'s
/// values (a field `before` lacks is `null`).
pub fn changed(before: &Value, after: &Value) -> Value {
    let mut out = Map::new();
    if let (Value::Object(b), Value::Object(a)) = (before, after) {
        for (key, value) in a {
            let old = b.get(key).unwrap_or(&Value::Null);
            if old != value {
                out.insert(key.clone(), old.clone());
            }
        }
    }
    Value::Object(out)
}

/// The advisory lock key that orders event positions by commit on PostgreSQL
/// ("dispatch" in ASCII, as a number).
const ORDER_LOCK: i64 = 0x6469_7370_6174_6368;

/// Wakes this process's delivery worker (other nodes hear the database's `NOTIFY`).
pub static RECORDED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Records `change` inside `txn`, the transaction of the change itself.
///
/// # Errors
/// Any database error, which must roll the change back with it.
pub async fn record(txn: &impl ConnectionTrait, change: Change) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        // Held until this transaction ends: positions are given in commit order.
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [ORDER_LOCK.into()],
        ))
        .await?;
    }
    let resource = change.event_type.resource();
    let bump = Query::insert()
        .into_table(event_sequence::Entity)
        .columns([
            event_sequence::Column::ResourceType,
            event_sequence::Column::ResourceId,
            event_sequence::Column::Sequence,
        ])
        .values_panic([resource.into(), change.resource_id.into(), 1i64.into()])
        .on_conflict(
            OnConflict::columns([
                event_sequence::Column::ResourceType,
                event_sequence::Column::ResourceId,
            ])
            .value(
                event_sequence::Column::Sequence,
                Expr::col((event_sequence::Entity, event_sequence::Column::Sequence)).add(1),
            )
            .to_owned(),
        )
        .returning_col(event_sequence::Column::Sequence)
        .to_owned();
    let sequence: i64 = txn
        .query_one_raw(backend.build(&bump))
        .await?
        .ok_or_else(|| DbErr::Custom("the event sequence returned no row".into()))?
        .try_get_by_index(0)?;
    event::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_type: Set(change.event_type.as_str().to_string()),
        resource_type: Set(resource.to_string()),
        resource_id: Set(change.resource_id),
        sequence: Set(sequence),
        actor_id: Set(change.actor_id),
        occurred_at: Set(change.at),
        data: Set(change.data.to_string()),
        previous: Set(change.previous.map(|p| p.to_string())),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    RECORDED.notify_waiters();
    Ok(())
}

/// An event as the feed lists it and a webhook receives it:
/// `{id, type, occurred_at, position, actor_id, resource_type, resource_id,
/// sequence, data[, previous]}` (`previous` only where the event has one).
pub fn envelope(model: &event::Model) -> Value {
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text).unwrap_or_else(|err| {
            tracing::error!(event = %model.id, %err, "a stored event does not decode");
            Value::Null
        })
    };
    let mut out = Map::new();
    out.insert("id".into(), model.id.to_string().into());
    out.insert("type".into(), model.event_type.clone().into());
    out.insert("occurred_at".into(), model.occurred_at.to_rfc3339().into());
    out.insert("position".into(), model.position.into());
    out.insert(
        "actor_id".into(),
        model.actor_id.map_or(Value::Null, |a| a.to_string().into()),
    );
    out.insert("resource_type".into(), model.resource_type.clone().into());
    out.insert("resource_id".into(), model.resource_id.to_string().into());
    out.insert("sequence".into(), model.sequence.into());
    out.insert("data".into(), parse(&model.data));
    if let Some(previous) = &model.previous {
        out.insert("previous".into(), parse(previous));
    }
    Value::Object(out)
}

/// The body of a test delivery (`ping`) to one endpoint.
pub fn ping(id: Uuid, webhook_id: Uuid, at: DateTime<Utc>) -> Value {
    serde_json::json!({
        "id": id,
        "type": PING,
        "occurred_at": at.to_rfc3339(),
        "data": { "webhook_id": webhook_id },
    })
}

/// Which events a feed page holds.
#[derive(Debug, Clone, Default)]
pub struct FeedQuery {
    /// Only events after this position.
    pub after: i64,
    /// Only events of these types (empty: every type).
    pub types: Vec<&'static str>,
    pub limit: u64,
}

/// A page of the feed, in position order, with the position to ask after next.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub items: Vec<event::Model>,
    /// The last position this page covered: the next page starts after it.
    pub last: i64,
    /// Whether more events exist after `last` right now.
    pub more: bool,
}

/// One page of the events feed (one statement).
pub async fn feed(db: &impl ConnectionTrait, query: &FeedQuery) -> Result<FeedPage, ApiError> {
    let mut select = event::Entity::find().filter(event::Column::Position.gt(query.after));
    if !query.types.is_empty() && query.types.len() < EventType::ALL.len() {
        select = select.filter(event::Column::EventType.is_in(query.types.iter().copied()));
    }
    let limit = std::cmp::max(query.limit, 1);
    let mut items = select
        .order_by_asc(event::Column::Position)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let last = items.last().map_or(query.after, |e| e.position);
    Ok(FeedPage { items, last, more })
}

/// Deletes events older than `retention` (deliveries keep what they still need:
/// a pending delivery's event is kept).
pub async fn purge_expired(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    retention: std::time::Duration,
) -> Result<u64, DbErr> {
    let cutoff = at - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
    let pending = Query::select()
        .column(entity::webhook_delivery::Column::EventPosition)
        .from(entity::webhook_delivery::Entity)
        .and_where(entity::webhook_delivery::Column::State.eq("pending"))
        .and_where(entity::webhook_delivery::Column::EventPosition.is_not_null())
        .to_owned();
    let done = event::Entity::delete_many()
        .filter(event::Column::OccurredAt.lt(cutoff))
        .filter(event::Column::Position.not_in_subquery(pending))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_names_a_known_resource_and_parses_back() {
        for t in EventType::ALL {
            assert!(RESOURCES.contains(&t.resource()), "{}", t.as_str());
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn patterns_choose_by_exact_type_by_resource_or_all() {
        assert!(matches("*", "comment.created"));
        assert!(matches("article.*", "article.slug_changed"));
        assert!(!matches("article.*", "author.created"));
        assert!(matches("tag.deleted", "tag.deleted"));
        assert!(!matches("tag.deleted", "tag.created"));
        assert!(check_pattern("article.*").is_ok());
        assert!(check_pattern("articles.*").is_err());
        assert!(check_pattern("article.publish").is_err());
        assert!(check_pattern("*.created").is_err());
        assert_eq!(
            expand(&["tag.*".into()]),
            ["tag.created", "tag.updated", "tag.deleted"]
        );
    }

    #[test]
    fn previous_holds_only_what_changed_with_its_old_value() {
        let before = serde_json::json!({"title": "Old", "slug": "s", "version": 1});
        let after = serde_json::json!({"title": "New", "slug": "s", "version": 2, "extra": 1});
        assert_eq!(
            changed(&before, &after),
            serde_json::json!({"title": "Old", "version": 1, "extra": null})
        );
    }
}
