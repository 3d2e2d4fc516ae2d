//! The article response objects ([`Article`], lists, revisions, the trash), how
//! an article's record becomes its view, and what a view with chosen fields needs read.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::api::ListMeta;
use crate::api::authors::Author;
use crate::api::fields::Selection;
use crate::api::media::MediaAsset;
use crate::api::publishers::Publisher;
use crate::api::tags::Tag;
use crate::content::articles::{
    self, Include, Need, Record, Related, Snapshot, Status, effective_status,
};
use crate::nullable::Nullable;
use crate::site::Site;

/// A news story.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Article {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// Unique, URL-safe name; the article can be fetched by it.
    pub slug: String,
    /// The headline.
    pub title: String,
    /// The standfirst under the headline.
    pub subtitle: Nullable<String>,
    /// A short summary for lists and previews.
    pub excerpt: String,
    /// The body as written, in Markdown.
    pub body_markdown: String,
    /// The body rendered to HTML and sanitised: no scripts, no event handlers, no `javascript:` links.
    pub body_html: String,
    /// The status a reader sees: a scheduled article whose `published_at` has passed is `published`.
    pub status: Status,
    /// When the article is, was or will be public (RFC 3339, UTC); `null` for undated drafts.
    #[serde(serialize_with = "crate::nullable::rfc3339")]
    pub published_at: Nullable<DateTime<Utc>>,
    /// Where the story was filed from.
    pub dateline: Nullable<String>,
    /// The original URL of a syndicated story.
    pub canonical_url: Nullable<String>,
    /// The publisher carrying the article.
    pub publisher_id: Uuid,
    /// For a syndicated story: the publisher that first published it.
    pub syndicated_from_id: Nullable<Uuid>,
    /// The byline, in order.
    pub author_ids: Vec<Uuid>,
    /// The topics, in order.
    pub tag_ids: Vec<Uuid>,
    /// The ready-made byline: the authors, then the publisher, or for a syndicated story
    /// the original outlet and the carrier, e.g. "Jane Doe and Sam Roe, The Ledger / Northlight Wire".
    pub byline: String,
    /// How many approved reader comments the article has.
    pub comment_count: u64,
    /// Minutes to read the body, at 200 words a minute; at least 1.
    pub reading_time_minutes: i32,
    /// The photo shown with the story: a media asset's id (`include=featured_media`
    /// embeds it with its renditions).
    pub featured_media_id: Nullable<Uuid>,
    /// The featured photo's caption in this story; `null`: the asset's own `caption`.
    pub featured_caption: Nullable<String>,
    /// The featured photo's alt text in this story; `null`: the asset's own `alt_text`.
    pub featured_alt: Nullable<String>,
    /// The title search engines show; `null`: the headline.
    pub seo_title: Nullable<String>,
    /// The description search engines show; `null`: the excerpt.
    pub seo_description: Nullable<String>,
    /// The title of social cards (`og:title`); `null`: `seo_title`, else the headline.
    pub og_title: Nullable<String>,
    /// The description of social cards (`og:description`); `null`: `seo_description`, else the excerpt.
    pub og_description: Nullable<String>,
    /// The story's language, a BCP 47 tag (the site's default, `DISPATCH_DEFAULT_LANGUAGE`,
    /// unless the story names its own).
    pub language: String,
    /// Kept out of the sitemaps; a frontend should send `noindex` for it.
    pub noindex: bool,
    /// The story's public address on the site, from `DISPATCH_PUBLIC_SITE_URL` and the
    /// article URL template (default `/{publisher}/{yyyy}/{mm}/{slug}`); `null` while the
    /// template wants a publication date the story does not have yet.
    pub url: Nullable<String>,
    /// Incremented on every update.
    pub version: i32,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// The byline's authors, in order (with `include=authors`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<Vec<Author>>,
    /// The publisher (with `include=publisher`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Publisher>,
    /// The original publisher of a syndicated story (with `include=syndicated_from`; absent when not syndicated).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syndicated_from: Option<Publisher>,
    /// The tags, in order (with `include=tags`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// The featured photo with its renditions (with `include=featured_media`; absent
    /// when the story has none).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured_media: Option<MediaAsset>,
}

impl Article {
    /// The fields `fields` may choose: every key but the embedded relations (which
    /// `include` chooses), in order.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "slug",
        "title",
        "subtitle",
        "excerpt",
        "body_markdown",
        "body_html",
        "status",
        "published_at",
        "dateline",
        "canonical_url",
        "publisher_id",
        "syndicated_from_id",
        "author_ids",
        "tag_ids",
        "byline",
        "comment_count",
        "reading_time_minutes",
        "featured_media_id",
        "featured_caption",
        "featured_alt",
        "seo_title",
        "seo_description",
        "og_title",
        "og_description",
        "language",
        "noindex",
        "url",
        "version",
        "created_at",
        "updated_at",
    ];
}

/// What must be read for the fields `fields` chose (what `include` embeds is read
/// regardless): the bodies, the byline rows for `author_ids` and the `byline`
/// string, the tag rows for `tag_ids`, the publishers for the `byline` string and
/// the `url` (which names the publisher's slug).
pub(super) fn need(fields: &Selection) -> Need {
    let byline = fields.wants("byline");
    Need {
        bodies: fields.wants("body_markdown") || fields.wants("body_html"),
        bylines: byline || fields.wants("author_ids"),
        tags: fields.wants("tag_ids"),
        publishers: byline || fields.wants("url"),
    }
}

/// The public URL of an article on `site`, if its publisher is among `related`'s.
pub(crate) fn public_url(
    site: &Site,
    m: &entity::article::Model,
    related: &Related,
) -> Option<String> {
    let publisher = related.publishers.get(&m.publisher_id)?;
    site.article_url(&publisher.slug, m.published_at, &m.slug, m.id)
}

pub(crate) fn view(
    record: Record,
    related: &Related,
    include: Include,
    site: &Site,
    at: DateTime<Utc>,
) -> Article {
    let byline = articles::byline(&record, related);
    let comment_count = u64::try_from(record.model.comment_count).unwrap_or(0);
    let url = public_url(site, &record.model, related);
    let m = record.model;
    let status = effective_status(&m, at);
    let authors = include.authors.then(|| {
        record
            .author_ids
            .iter()
            .filter_map(|id| related.authors.get(id).cloned().map(Author::from))
            .collect()
    });
    let tags = include.tags.then(|| {
        record
            .tag_ids
            .iter()
            .filter_map(|id| related.tags.get(id).cloned().map(Tag::from))
            .collect()
    });
    let publisher = include
        .publisher
        .then(|| {
            related
                .publishers
                .get(&m.publisher_id)
                .cloned()
                .map(Publisher::from)
        })
        .flatten();
    let syndicated_from = include
        .syndicated_from
        .then(|| {
            m.syndicated_from_id
                .and_then(|id| related.publishers.get(&id).cloned().map(Publisher::from))
        })
        .flatten();
    let featured_media = include
        .featured_media
        .then(|| {
            m.featured_media_id
                .and_then(|id| related.media.get(&id).map(MediaAsset::from))
        })
        .flatten();
    Article {
        featured_media_id: m.featured_media_id.into(),
        featured_caption: m.featured_caption.into(),
        featured_alt: m.featured_alt.into(),
        featured_media,
        seo_title: m.seo_title.into(),
        seo_description: m.seo_description.into(),
        og_title: m.og_title.into(),
        og_description: m.og_description.into(),
        language: m.language.unwrap_or_else(|| site.default_language.clone()),
        noindex: m.noindex,
        url: url.into(),
        id: m.id,
        slug: m.slug,
        title: m.title,
        subtitle: m.subtitle.into(),
        excerpt: m.excerpt,
        body_markdown: m.body_markdown,
        body_html: m.body_html,
        status,
        published_at: m.published_at.into(),
        dateline: m.dateline.into(),
        canonical_url: m.canonical_url.into(),
        publisher_id: m.publisher_id,
        syndicated_from_id: m.syndicated_from_id.into(),
        author_ids: record.author_ids,
        tag_ids: record.tag_ids,
        byline,
        comment_count,
        reading_time_minutes: m.reading_time_minutes,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        authors,
        publisher,
        syndicated_from,
        tags,
    }
}

/// A page of articles.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct ArticleList {
    /// The articles on this page.
    pub data: Vec<Article>,
    /// Paging information.
    pub meta: ListMeta,
}

/// One change in an article's history.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Revision {
    /// The article's `version` after this change (1 is the creation).
    pub number: i32,
    /// `create`, `update` or `restore`.
    pub action: String,
    /// The fields this change touched.
    pub changed: Vec<String>,
    /// Who made it (`null` once that user is deleted).
    pub user_id: Nullable<Uuid>,
    /// When (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// The article's fields after this change.
    pub article: Snapshot,
}

/// A page of revisions, newest first.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct RevisionList {
    /// The revisions on this page.
    pub data: Vec<Revision>,
    /// Paging information.
    pub meta: ListMeta,
}

/// An article in the trash.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct TrashedArticle {
    /// The id.
    pub id: Uuid,
    /// The slug (still reserved while the article is in the trash).
    pub slug: String,
    /// The headline.
    pub title: String,
    /// The stored status it will have again when restored.
    pub status: Status,
    /// The version.
    pub version: i32,
    /// When it was deleted (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub deleted_at: DateTime<Utc>,
    /// When it will be deleted for good unless restored.
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub purge_at: DateTime<Utc>,
}

/// A page of the trash, most recently deleted first.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct TrashList {
    /// The articles on this page.
    pub data: Vec<TrashedArticle>,
    /// Paging information.
    pub meta: ListMeta,
}

impl crate::api::found::Described for RevisionList {
    const DESCRIPTION: &'static str = "A page of the article's revisions, newest first.";
}

impl crate::api::found::Described for TrashList {
    const DESCRIPTION: &'static str = "A page of the trash, most recently deleted first.";
}
