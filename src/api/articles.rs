//! `/api/v1/articles`: news stories.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::authors::Author;
use super::body::JsonBody;
use super::found::Found;
use super::publishers::{Deleted, Publisher};
use super::tags::Tag;
use super::{
    ApiTags, AppState, CreateError, DeleteError, ListError, ListMeta, ReadError, UpdateError,
    page_params, visibility,
};
use crate::auth::policy::{self, Action, Scope, Target, scope};
use crate::auth::{BearerAuth, MaybeAuth, Viewer};
use crate::content::articles::search_terms;
use crate::content::articles::{
    self, ArticleCreate, ArticleUpdate, Filter, Include, Record, Related, Sort, Status,
    effective_status,
};
use crate::content::now;
use crate::error::ApiError;

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
    pub subtitle: Option<String>,
    /// A short summary for lists and previews.
    pub excerpt: String,
    /// The body as written, in Markdown.
    pub body_markdown: String,
    /// The body rendered to HTML and sanitised: no scripts, no event handlers, no `javascript:` links.
    pub body_html: String,
    /// The status a reader sees: a scheduled article whose `published_at` has passed is `published`.
    pub status: Status,
    /// When the article is, was or will be public (RFC 3339, UTC); `null` for undated drafts.
    #[serde(serialize_with = "crate::api::found::rfc3339_opt")]
    pub published_at: Option<DateTime<Utc>>,
    /// Where the story was filed from.
    pub dateline: Option<String>,
    /// The original URL of a syndicated story.
    pub canonical_url: Option<String>,
    /// The publisher carrying the article.
    pub publisher_id: Uuid,
    /// For a syndicated story: the publisher that first published it.
    pub syndicated_from_id: Option<Uuid>,
    /// The byline, in order.
    pub author_ids: Vec<Uuid>,
    /// The topics, in order.
    pub tag_ids: Vec<Uuid>,
    /// Minutes to read the body, at 200 words a minute; at least 1.
    pub reading_time_minutes: i32,
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
}

fn view(record: Record, related: &Related, include: Include, at: DateTime<Utc>) -> Article {
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
    Article {
        id: m.id,
        slug: m.slug,
        title: m.title,
        subtitle: m.subtitle,
        excerpt: m.excerpt,
        body_markdown: m.body_markdown,
        body_html: m.body_html,
        status,
        published_at: m.published_at,
        dateline: m.dateline,
        canonical_url: m.canonical_url,
        publisher_id: m.publisher_id,
        syndicated_from_id: m.syndicated_from_id,
        author_ids: record.author_ids,
        tag_ids: record.tag_ids,
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

#[derive(ApiResponse)]
pub enum ArticleCreated {
    /// Created; `Location` is its address.
    #[oai(status = 201)]
    Created(Json<Article>, #[oai(header = "Location")] String),
}

pub struct ArticlesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Articles")]
impl ArticlesApi {
    /// List articles
    ///
    /// Anonymous readers get published articles whose `published_at` has passed;
    /// authors and contributors also get their own (their author in the byline) in every
    /// status; editors and admins get every status. Filters combine with AND.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/articles", method = "get", operation_id = "listArticles")]
    async fn list(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: MaybeAuth,
        /// Only this status (as readers see it: a scheduled article whose time has passed is `published`).
        status: Query<Option<Status>>,
        /// Only articles carried by this publisher (id or slug).
        #[oai(validator(max_length = 80))]
        publisher: Query<Option<String>>,
        /// Only articles with this author in the byline (id or slug).
        #[oai(validator(max_length = 80))]
        author: Query<Option<String>>,
        /// Only articles with this tag (id or slug).
        #[oai(validator(max_length = 80))]
        tag: Query<Option<String>>,
        /// Full-text search: every word must start a word of the title, subtitle, excerpt or body
        /// (case-insensitive; `heat pump` finds "Heat pumps"). Punctuation separates words.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        /// Only articles published at or after this time (RFC 3339).
        published_after: Query<Option<DateTime<Utc>>>,
        /// Only articles published before this time (RFC 3339).
        published_before: Query<Option<DateTime<Utc>>>,
        /// The order: `published_at`, `-published_at` (default, newest first), `title`, `-title`,
        /// `updated_at`, `-updated_at`. Articles without `published_at` come last.
        sort: Query<Option<Sort>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
        /// Related objects to embed, comma-separated: `authors`, `publisher`, `syndicated_from`, `tags`.
        #[oai(validator(max_length = 100))]
        include: Query<Option<String>>,
    ) -> Result<Found<ArticleList>, ListError> {
        let viewer = Viewer::from_request(req, auth).await?;
        let include = Include::parse(include.0.as_deref())?;
        let q = q.0.unwrap_or_default();
        let terms = search_terms(&q);
        if terms.is_empty() && !q.trim().is_empty() {
            return Err(
                ApiError::bad_request("q", "must contain at least one letter or digit").into(),
            );
        }
        let filter = Filter {
            status: status.0,
            publisher: publisher.0,
            author: author.0,
            tag: tag.0,
            q: terms,
            published_after: published_after.0,
            published_before: published_before.0,
            sort: sort.0.unwrap_or_default(),
        };
        let params = page_params(limit.0, cursor.0, count.0);
        let (page, related) =
            articles::list(&state.db, &filter, &params, include, visibility(&viewer)).await?;
        let at = now();
        Ok(Found(ArticleList {
            data: page
                .items
                .into_iter()
                .map(|r| view(r, &related, include, at))
                .collect(),
            meta: ListMeta {
                limit: params.limit,
                next_cursor: page.next_cursor,
                total: page.total,
            },
        }))
    }

    /// Get an article
    ///
    /// By id or slug. Anonymous readers get it only once it is public, authors and
    /// contributors also their own in every status, editors and admins every article;
    /// otherwise 404.
    #[oai(
        path = "/articles/:id_or_slug",
        method = "get",
        operation_id = "getArticle"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: MaybeAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
        /// Related objects to embed, comma-separated: `authors`, `publisher`, `syndicated_from`, `tags`.
        #[oai(validator(max_length = 100))]
        include: Query<Option<String>>,
    ) -> Result<Found<Article>, ReadError> {
        let viewer = Viewer::from_request(req, auth).await?;
        let include = Include::parse(include.0.as_deref())?;
        let (record, related) =
            articles::get(&state.db, &id_or_slug.0, include, visibility(&viewer)).await?;
        Ok(Found(view(record, &related, include, now())))
    }

    /// Create an article
    ///
    /// Contributors create drafts, authors any status, both only with their own author in
    /// the byline (an empty `author_ids` means just theirs); editors and admins anything.
    /// The body is rendered from Markdown and sanitised; the slug is made from the title
    /// when absent; the excerpt is derived from the body when absent.
    #[oai(path = "/articles", method = "post", operation_id = "createArticle")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ArticleCreate>,
    ) -> Result<ArticleCreated, CreateError> {
        let principal = &auth.0;
        let mut input = body.0;
        if input.author_ids.is_empty()
            && matches!(
                scope(principal.role, Action::CreateArticle),
                Scope::Own | Scope::OwnDrafts
            )
            && let Some(mine) = principal.author_id()
        {
            input.author_ids = vec![mine];
        }
        let status = input.status.unwrap_or(Status::Draft);
        let target = Target::article(principal, &input.author_ids, status == Status::Draft);
        policy::decide(principal, Action::CreateArticle, Some(target))?;
        if status != Status::Draft {
            policy::decide(principal, Action::PublishArticle, Some(target))?;
        }
        let record = articles::create(&state.db, input).await?;
        let location = format!("/api/v1/articles/{}", record.model.id);
        Ok(ArticleCreated::Created(
            Json(view(record, &Related::default(), Include::default(), now())),
            location,
        ))
    }

    /// Update an article
    ///
    /// Contributors edit their own drafts, authors their own articles, editors and admins
    /// every article; changing `status` needs the right to publish (authors: their own).
    /// Only the fields sent change; `author_ids` and `tag_ids` replace the whole list.
    /// `version` goes up by one.
    #[oai(
        path = "/articles/:id_or_slug",
        method = "patch",
        operation_id = "updateArticle"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
        body: JsonBody<ArticleUpdate>,
    ) -> Result<Found<Article>, UpdateError> {
        let principal = &auth.0;
        let viewer = Viewer::User(principal.clone());
        let (current, byline) =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer)).await?;
        let old_status = Status::from_db(&current.status);
        let before = Target::article(principal, &byline, old_status == Status::Draft);
        policy::decide(principal, Action::EditArticle, Some(before))?;
        let input = body.0;
        let new_status = input.status.value().copied().unwrap_or(old_status);
        if new_status != old_status {
            policy::decide(principal, Action::PublishArticle, Some(before))?;
        }
        if let Some(new_byline) = input.author_ids.value() {
            // Nobody limited to their own articles may give one away.
            let after = Target::article(principal, new_byline, new_status == Status::Draft);
            policy::decide(principal, Action::EditArticle, Some(after))?;
        }
        let record = articles::update(&state.db, current, input).await?;
        Ok(Found(view(
            record,
            &Related::default(),
            Include::default(),
            now(),
        )))
    }

    /// Delete an article
    ///
    /// Authors their own, editors and admins every article. Its byline and tags go with it.
    #[oai(
        path = "/articles/:id_or_slug",
        method = "delete",
        operation_id = "deleteArticle"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
    ) -> Result<Deleted, DeleteError> {
        let principal = &auth.0;
        let viewer = Viewer::User(principal.clone());
        let (current, byline) =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer)).await?;
        let draft = Status::from_db(&current.status) == Status::Draft;
        policy::decide(
            principal,
            Action::DeleteArticle,
            Some(Target::article(principal, &byline, draft)),
        )?;
        articles::delete(&state.db, current).await?;
        Ok(Deleted::NoContent)
    }
}
