//! Events: the presenter that renders what an event carries (each resource as this
//! API shows it), the schema of every event type, and the events feed
//! (`GET /api/v1/events`), a keyset page in commit order for consumers that pull.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{author, comment, media, publisher, tag};
use poem_openapi::param::Query;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{Object, OpenApi, Union};
use serde_json::Value;
use uuid::Uuid;

use super::articles::Article;
use super::authors::Author;
use super::comments::Comment;
use super::found::{Described, Found};
use super::keys::{Keyed, Keys};
use super::media::MediaAsset;
use super::publishers::Publisher;
use super::tags::Tag;
use super::{ApiTags, AppState, BearerAuth, require};
use crate::auth::policy::Action;
use crate::content::articles::{Include, Record, Related};
use crate::content::events::{self, Present, check_patterns, expand};
use crate::error::ApiError;
use crate::nullable::Nullable;
use crate::site::Site;

/// Renders resources for events with the views of this API.
struct Views;

/// The site whose addresses events' articles carry in `url`: the first one named
/// (one process serves one site), else the default.
static SITE: std::sync::OnceLock<Site> = std::sync::OnceLock::new();

/// Names the site whose addresses events carry (the first call wins).
pub fn name_site(site: &Site) {
    let _ = SITE.set(site.clone());
}

fn to_value(view: impl serde::Serialize) -> Value {
    serde_json::to_value(view).unwrap_or_else(|err| {
        tracing::error!(%err, "a view does not serialise for an event");
        Value::Null
    })
}

impl Present for Views {
    fn article(&self, record: &Record, related: &Related, at: DateTime<Utc>) -> Value {
        to_value(super::articles::view(
            record.clone(),
            related,
            Include::default(),
            SITE.get_or_init(Site::default),
            at,
        ))
    }
    fn publisher(&self, model: &publisher::Model) -> Value {
        to_value(Publisher::from(model.clone()))
    }
    fn author(&self, model: &author::Model) -> Value {
        to_value(Author::from(model.clone()))
    }
    fn tag(&self, model: &tag::Model) -> Value {
        to_value(Tag::from(model.clone()))
    }
    fn comment(&self, model: &comment::Model) -> Value {
        // The reader-facing view: it has no field for the email.
        to_value(Comment::from(model.clone()))
    }
    fn media(&self, model: &media::Model) -> Value {
        to_value(MediaAsset::from(model))
    }
}

/// Installs this API's views as the renderer of events (see
/// [`crate::content::events::install`]).
pub fn install() {
    events::install(&Views);
}

/// The fields an event's `previous` may hold: those of `data` that changed, with
/// their values before the change.
pub type Previous = HashMap<String, Value>;

macro_rules! event_schemas {
    ($($(#[$doc:meta])* $name:ident = $mapping:literal, $data:ty;)+) => {
        $(
            $(#[$doc])*
            #[derive(Object, Debug, Clone)]
            pub struct $name {
                /// The event's id (a UUIDv7), also sent as `webhook-id`: receivers
                /// drop an id they have seen (delivery is at least once).
                pub id: Uuid,
                /// The event type (this schema's: `resource.action`).
                #[oai(rename = "type")]
                pub event_type: String,
                /// When the change committed (RFC 3339, UTC).
                pub occurred_at: DateTime<Utc>,
                /// Its place in the log: every event before it has a smaller one.
                pub position: i64,
                /// The user who made the change; `null` for a reader (a comment), the
                /// scheduler (an article whose time came) or the command line.
                pub actor_id: Nullable<Uuid>,
                /// What the event is about.
                pub resource_type: String,
                /// The id of what it is about.
                pub resource_id: Uuid,
                /// The resource's own counter, 1 for its first event: a receiver that
                /// has seen a higher one for this resource drops this event as stale.
                pub sequence: i64,
                /// The resource as this API returns it, after the change (before it,
                /// for a deletion).
                pub data: $data,
                /// On a change of fields (`*.updated`, an article's status or slug
                /// changed by a user): the fields of `data` that changed, with their
                /// values before. Absent on other events.
                #[oai(skip_serializing_if_is_none)]
                pub previous: Option<Previous>,
            }
        )+

        /// An event, by its `type`.
        #[derive(Union, Debug, Clone)]
        #[oai(discriminator_name = "type", one_of)]
        pub enum Event {
            $(
                #[oai(mapping = $mapping)]
                $name($name),
            )+
        }

        #[cfg(test)]
        const MAPPINGS: &[&str] = &[$($mapping),+];
    };
}

event_schemas! {
    /// `article.created`: a new article (any status).
    ArticleCreatedEvent = "article.created", Article;
    /// `article.updated`: fields changed; readers see the same status as before.
    ArticleUpdatedEvent = "article.updated", Article;
    /// `article.published`: readers can see it now: published by an editor, or a
    /// scheduled article whose time came.
    ArticlePublishedEvent = "article.published", Article;
    /// `article.unpublished`: back to a draft or scheduled for later; readers no
    /// longer see it.
    ArticleUnpublishedEvent = "article.unpublished", Article;
    /// `article.archived`: withdrawn from public lists.
    ArticleArchivedEvent = "article.archived", Article;
    /// `article.trashed`: moved to the trash (`data` as it was).
    ArticleTrashedEvent = "article.trashed", Article;
    /// `article.restored`: taken out of the trash.
    ArticleRestoredEvent = "article.restored", Article;
    /// `article.purged`: deleted for good (`data` as it was).
    ArticlePurgedEvent = "article.purged", Article;
    /// `article.slug_changed`: a new slug; the old one (in `previous.slug`) redirects.
    ArticleSlugChangedEvent = "article.slug_changed", Article;
    /// `publisher.created`.
    PublisherCreatedEvent = "publisher.created", Publisher;
    /// `publisher.updated`.
    PublisherUpdatedEvent = "publisher.updated", Publisher;
    /// `publisher.deleted` (`data` as it was).
    PublisherDeletedEvent = "publisher.deleted", Publisher;
    /// `author.created`.
    AuthorCreatedEvent = "author.created", Author;
    /// `author.updated`.
    AuthorUpdatedEvent = "author.updated", Author;
    /// `author.deleted` (`data` as it was).
    AuthorDeletedEvent = "author.deleted", Author;
    /// `tag.created`.
    TagCreatedEvent = "tag.created", Tag;
    /// `tag.updated`.
    TagUpdatedEvent = "tag.updated", Tag;
    /// `tag.deleted` (`data` as it was; articles no longer carry it).
    TagDeletedEvent = "tag.deleted", Tag;
    /// `comment.created`: a reader posted a comment, pending moderation. The
    /// commenter's email is never part of an event.
    CommentCreatedEvent = "comment.created", Comment;
    /// `comment.approved`: readers see the comment now.
    CommentApprovedEvent = "comment.approved", Comment;
    /// `comment.removed`: marked spam, taken back from readers, or deleted.
    CommentRemovedEvent = "comment.removed", Comment;
    /// `media.created`: a new image in the library.
    MediaCreatedEvent = "media.created", MediaAsset;
    /// `media.updated`: its metadata or focal point changed (crops get new URLs).
    MediaUpdatedEvent = "media.updated", MediaAsset;
    /// `media.deleted` (`data` as it was; its files are gone).
    MediaDeletedEvent = "media.deleted", MediaAsset;
}

/// The `data` of a `ping`.
#[derive(Object, Debug, Clone)]
pub struct PingData {
    /// The webhook the test was sent to.
    pub webhook_id: Uuid,
}

/// `ping`: what `POST /api/v1/webhooks/{id}/test` sends (webhooks only; never in
/// the feed).
#[derive(Object, Debug, Clone)]
pub struct PingEvent {
    /// The id, sent as `webhook-id`.
    pub id: Uuid,
    /// Always `ping`.
    #[oai(rename = "type")]
    pub event_type: String,
    /// When the test was asked for (RFC 3339, UTC).
    pub occurred_at: DateTime<Utc>,
    /// What the test was sent to.
    pub data: PingData,
}

/// The `meta` of a feed page.
#[derive(Object, Debug, Clone)]
pub struct EventFeedMeta {
    /// The page size used.
    pub limit: u64,
    /// Pass as `after` for the next page, also when this one is empty or the last:
    /// events committed later come after it. Keep it to resume after a restart.
    pub next_cursor: String,
    /// Whether more events exist after `next_cursor` right now (ask again at once);
    /// `false`: poll later.
    pub has_more: bool,
}

/// A page of the events feed.
#[derive(Object, Debug, Clone)]
pub struct EventFeedPage {
    /// The events on this page, oldest first.
    pub data: Vec<Event>,
    /// Where the page ends, and whether more follow.
    pub meta: EventFeedMeta,
}

/// A feed page as it goes out: the stored events' JSON as it is (the schema is
/// [`EventFeedPage`]'s).
pub struct EventFeed(Value);

impl serde::Serialize for EventFeed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Type for EventFeed {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        EventFeedPage::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        EventFeedPage::schema_ref()
    }

    fn register(registry: &mut Registry) {
        EventFeedPage::register(registry);
        PingEvent::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl Described for EventFeed {
    const DESCRIPTION: &'static str = "A page of events, in commit order.";
}

impl Keyed for EventFeed {
    // Signed-in only: nothing a CDN caches.
    fn keys(&self, _out: &mut Keys) {}
}

crate::problem_responses!(
    /// Errors of reading the events feed.
    EventFeedError {
        400 BadRequest "`after` is not a cursor this API issued, or `types` names an unknown type.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only editors and admins read the events feed.",
    }
);

/// Parses `after`: a position this API issued (a whole number, 0 for the start).
fn parse_after(after: Option<&str>) -> Result<i64, ApiError> {
    match after.map(str::trim) {
        None | Some("") => Ok(0),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::bad_request("after", "is not a cursor this API issued")),
    }
}

/// Parses `types`: comma-separated types and patterns (`article.*`, `*`).
fn parse_types(types: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let patterns: Vec<String> = types
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        // `str::is_empty`, not poem-openapi's `Type::is_empty` (in scope here).
        .filter(|p| !str::is_empty(p))
        .map(str::to_string)
        .collect();
    let patterns = check_patterns(&patterns).map_err(|why| ApiError::bad_request("types", why))?;
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    Ok(expand(&patterns))
}

pub struct EventsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Events")]
impl EventsApi {
    /// Read the events feed
    ///
    /// Editors and admins. Every recorded change, oldest first, in commit order: a
    /// consumer that keeps `meta.next_cursor` and asks again with it as `after`
    /// sees every event once, in order, and none it has seen. Events are kept for
    /// `DISPATCH_EVENT_RETENTION_DAYS` (30 by default). `data` is the resource as
    /// this API returns it (drafts included); a commenter's email is never in it.
    #[oai(path = "/events", method = "get", operation_id = "listEvents")]
    async fn list(
        &self,
        state: poem::web::Data<&AppState>,
        auth: BearerAuth,
        /// Only events after this cursor (the `meta.next_cursor` of the previous
        /// page); absent or `0` for the oldest kept.
        #[oai(validator(max_length = 20))]
        after: Query<Option<String>>,
        /// Only these types, comma-separated; `*` wildcards as in `article.*`.
        #[oai(validator(max_length = 1024))]
        types: Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<Found<EventFeed>, EventFeedError> {
        require(&auth.0, Action::ReadEvents)?;
        let query = events::FeedQuery {
            after: parse_after(after.0.as_deref())?,
            types: parse_types(types.0.as_deref())?,
            limit: limit.0.unwrap_or(crate::content::page::DEFAULT_LIMIT),
        };
        let page = events::feed(&state.db, &query).await?;
        let data: Vec<Value> = page.items.iter().map(events::envelope).collect();
        Ok(Found(EventFeed(serde_json::json!({
            "data": data,
            "meta": {
                "limit": query.limit,
                "next_cursor": page.last.to_string(),
                "has_more": page.more,
            },
        }))))
    }
}

/// Every event type has its schema, and nothing else does.
#[cfg(test)]
#[test]
fn every_event_type_has_a_schema() {
    use crate::content::events::EventType;
    let types: Vec<&str> = EventType::ALL.into_iter().map(EventType::as_str).collect();
    assert_eq!(MAPPINGS, types.as_slice());
}

#[cfg(test)]
#[test]
fn types_are_comma_separated_patterns_and_none_means_every_type() {
    assert_eq!(parse_types(None).unwrap(), Vec::<&str>::new());
    assert_eq!(parse_types(Some(" , ")).unwrap(), Vec::<&str>::new());
    assert_eq!(
        parse_types(Some("tag.*, article.created")).unwrap(),
        [
            "article.created",
            "tag.created",
            "tag.updated",
            "tag.deleted"
        ]
    );
    assert!(parse_types(Some("tag.*,nope")).is_err());
}
