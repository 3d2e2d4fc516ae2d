//! `/api/v1/articles`: news stories.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem::{IntoResponse, Request, Response};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{MaybeUndefined, Type};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::authors::Author;
use super::body::JsonBody;
use super::found::{Found, json_response, not_modified, read_headers};
use super::publishers::{Deleted, Publisher};
use super::tags::Tag;
use super::{
    ApiTags, AppState, BearerAuth, CreateError, ListError, ListMeta, MaybeAuth, page_params,
    require, visibility,
};
use crate::auth::policy::{self, Action, Scope, Target, scope};
use crate::auth::{Principal, Viewer};
use crate::content::articles::search_terms;
use crate::content::articles::{
    self, Actor, ArticleCreate, ArticleUpdate, Filter, Include, Lookup, Record, Related, Snapshot,
    Sort, Status, effective_status,
};
use crate::content::slug::Made;
use crate::content::workflow;
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
    /// The ready-made byline: the authors, then the publisher, or for a syndicated story
    /// the original outlet and the carrier, e.g. "Jane Doe and Sam Roe, The Ledger / Northlight Wire".
    pub byline: String,
    /// How many approved reader comments the article has.
    pub comment_count: u64,
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
    let byline = articles::byline(&record, related);
    let comment_count = u64::try_from(record.model.comment_count).unwrap_or(0);
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

/// A created article: 201 with `Location` and `ETag`.
pub struct ArticleCreated(pub Box<Article>);

/// A changed article: 200 with its new `ETag`.
pub struct ArticleSaved(pub Box<Article>);

/// The article's JSON (written like a read's, so the `ETag` is the same) with its version tag.
fn article_response(article: &Article) -> Response {
    let mut resp = json_response(article);
    if let Ok(value) = etag(article.version).parse() {
        resp.headers_mut().insert(poem::http::header::ETAG, value);
    }
    resp
}

impl IntoResponse for ArticleCreated {
    fn into_response(self) -> Response {
        let mut resp = article_response(&self.0);
        resp.set_status(poem::http::StatusCode::CREATED);
        if let Ok(value) = format!("/api/v1/articles/{}", self.0.id).parse() {
            resp.headers_mut()
                .insert(poem::http::header::LOCATION, value);
        }
        resp
    }
}

impl IntoResponse for ArticleSaved {
    fn into_response(self) -> Response {
        article_response(&self.0)
    }
}

fn etag_header() -> MetaHeader {
    MetaHeader {
        name: "ETag".to_string(),
        description: Some(
            "The new version as a strong entity tag (it starts with the `version`); send it as \
             `If-Match` with the next write."
                .to_string(),
        ),
        required: true,
        deprecated: false,
        schema: String::schema_ref(),
    }
}

fn article_meta(
    status: u16,
    description: &'static str,
    mut headers: Vec<MetaHeader>,
) -> MetaResponses {
    headers.push(etag_header());
    MetaResponses {
        responses: vec![MetaResponse {
            description,
            status: Some(status),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: "application/json; charset=utf-8",
                schema: Article::schema_ref(),
            }],
            headers,
        }],
    }
}

impl ApiResponse for ArticleCreated {
    fn meta() -> MetaResponses {
        article_meta(
            201,
            "Created; `Location` is its address.",
            vec![MetaHeader {
                name: "Location".to_string(),
                description: Some("The new article's address.".to_string()),
                required: true,
                deprecated: false,
                schema: String::schema_ref(),
            }],
        )
    }

    fn register(registry: &mut Registry) {
        Article::register(registry);
    }
}

impl ApiResponse for ArticleSaved {
    fn meta() -> MetaResponses {
        article_meta(200, "The article as saved, one version on.", vec![])
    }

    fn register(registry: &mut Registry) {
        Article::register(registry);
    }
}

/// The entity tag of an article version (the conditional-GET middleware appends a
/// digest of the exact body; `If-Match` compares the version).
fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A read of one article: the article, or a redirect from a slug it used to have.
pub enum ArticleRead {
    Ok(Box<Article>),
    Moved(String),
}

impl IntoResponse for ArticleRead {
    fn into_response(self) -> Response {
        match self {
            Self::Ok(article) => article_response(&article),
            Self::Moved(location) => Response::builder()
                .status(poem::http::StatusCode::MOVED_PERMANENTLY)
                .header(poem::http::header::LOCATION, location)
                .finish(),
        }
    }
}

impl ApiResponse for ArticleRead {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The article.",
                    status: Some(200),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: Article::schema_ref(),
                    }],
                    headers: read_headers(),
                },
                MetaResponse {
                    description: "The slug is one the article used to have: `Location` is its current address (with the same query).",
                    status: Some(301),
                    status_range: None,
                    content: vec![],
                    headers: vec![MetaHeader {
                        name: "Location".to_string(),
                        description: Some("The article's current address.".to_string()),
                        required: true,
                        deprecated: false,
                        schema: String::schema_ref(),
                    }],
                },
                not_modified(),
            ],
        }
    }

    fn register(registry: &mut Registry) {
        Article::register(registry);
    }
}

crate::problem_responses!(
    /// Errors of reading one article.
    ArticleReadError {
        400 BadRequest "A parameter is malformed.",
        401 Unauthorized "An `Authorization` header was sent with a token that is not valid.",
        404 NotFound "Nothing with this id or slug, or not visible to this reader.",
    }
);

crate::problem_responses!(
    /// Errors of changing an article (an update or a restore).
    ArticleWriteError {
        400 BadRequest "The body breaks the schema, or `If-Match` is not an entity tag.",
        401 Unauthorized "No token, or a token that is not valid (expired, or its account disabled or deleted).",
        403 Forbidden "The user's role may not do this to this article; the detail says what is missing.",
        404 NotFound "No live article with this id or slug that this user may read (or no such revision).",
        409 Conflict "The slug is taken, or the article kept changing while this change was saved without `If-Match`.",
        412 PreconditionFailed "`If-Match` names a version the article has moved on from; nothing was changed.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "Well-formed input that breaks a rule: an illegal status change, scheduling without a future `published_at`, an unknown referenced id, a blank title.",
    }
);

crate::problem_responses!(
    /// Errors of moving an article to the trash.
    ArticleDeleteError {
        400 BadRequest "`If-Match` is not an entity tag.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The user's role may not delete this article.",
        404 NotFound "No live article with this id or slug that this user may read.",
        412 PreconditionFailed "`If-Match` names a version the article has moved on from; nothing was changed.",
    }
);

crate::problem_responses!(
    /// Errors of listing revisions.
    RevisionListError {
        400 BadRequest "A parameter is malformed or out of range.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The user may not edit this article, so may not see its history.",
        404 NotFound "No live article with this id or slug that this user may read.",
    }
);

crate::problem_responses!(
    /// Errors of the trash.
    TrashError {
        400 BadRequest "A parameter is malformed or out of range.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Editors and admins see and restore the trash; only admins purge it.",
        404 NotFound "No article in the trash has this id (or its time there has run out).",
    }
);

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
    pub user_id: Option<Uuid>,
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

impl super::found::Described for RevisionList {
    const DESCRIPTION: &'static str = "A page of the article's revisions, newest first.";
}

impl super::found::Described for TrashList {
    const DESCRIPTION: &'static str = "A page of the trash, most recently deleted first.";
}

/// An `If-Match` precondition: `*`, or entity tags whose leading number is a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i32>),
}

impl IfMatch {
    /// Parses the header; a value that is not a list of strong entity tags is a 400.
    /// Weak tags (`W/"…"`) never match, as RFC 9110 requires of `If-Match`.
    pub fn parse(header: Option<&str>) -> Result<Option<Self>, ApiError> {
        let Some(text) = header.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text == "*" {
            return Ok(Some(Self::Any));
        }
        let mut versions = Vec::new();
        for tag in text.split(',').map(str::trim) {
            if tag.starts_with("W/\"") && tag.ends_with('"') && tag.len() >= 4 {
                continue;
            }
            let inner = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "If-Match",
                        "must be an entity tag such as \"3\" (the article's version, quoted)",
                    )
                })?;
            let number = inner.split('-').next().unwrap_or_default();
            if let Ok(v) = number.parse::<i32>() {
                versions.push(v);
            }
        }
        Ok(Some(Self::Versions(versions)))
    }

    pub fn matches(&self, version: i32) -> bool {
        match self {
            Self::Any => true,
            Self::Versions(v) => v.contains(&version),
        }
    }
}

/// Checks `If-Match` against the article's current version.
fn check_if_match(expected: Option<&IfMatch>, current: &Record) -> Result<(), ApiError> {
    match expected {
        Some(m) if !m.matches(current.model.version) => Err(ApiError::PreconditionFailed(format!(
            "`If-Match` does not name the article's current version ({}); reload it and apply your change again.",
            current.model.version
        ))),
        _ => Ok(()),
    }
}

/// Whether `principal` may apply `input` to `current`: edit it, change its status
/// if the change does, and still own it afterwards if limited to their own.
fn authorize_edit(
    principal: &Principal,
    current: &Record,
    input: &ArticleUpdate,
) -> Result<(), ApiError> {
    let old_status = Status::from_db(&current.model.status);
    let before = Target::article(principal, &current.author_ids, old_status == Status::Draft);
    policy::decide(principal, Action::EditArticle, Some(before))?;
    if input
        .slug
        .value()
        .is_some_and(|slug| slug.as_str() != current.model.slug)
    {
        policy::decide(principal, Action::ChooseSlug, None)?;
    }
    let new_status = input.status.value().copied().unwrap_or(old_status);
    if new_status != old_status {
        policy::decide(principal, Action::PublishArticle, Some(before))?;
    }
    if let Some(new_byline) = input.author_ids.value() {
        // Nobody limited to their own articles may give one away.
        let after = Target::article(principal, new_byline, new_status == Status::Draft);
        policy::decide(principal, Action::EditArticle, Some(after))?;
    }
    Ok(())
}

/// How slugs are made for `principal` when none is sent (see [`Action::ChooseSlug`]).
fn made_slugs(principal: &Principal) -> Made {
    if policy::scope(principal.role, Action::ChooseSlug) == Scope::All {
        Made::FirstFree
    } else {
        Made::Random
    }
}

/// The article as the API shows it after a write (byline names need the related rows).
async fn saved(
    state: &AppState,
    record: Record,
    at: DateTime<Utc>,
) -> Result<ArticleSaved, ApiError> {
    let (record, related) = articles::with_relations(&state.db, record).await?;
    Ok(ArticleSaved(Box::new(view(
        record,
        &related,
        Include::default(),
        at,
    ))))
}

/// How many times a write without `If-Match` is retried when another lands first.
const ATTEMPTS: usize = 10;

/// Applies `input` (from a PATCH or a restore) to the article at `key`, honouring
/// `If-Match`; without it, a write that loses a race is retried on the new version.
async fn apply(
    state: &AppState,
    principal: &Principal,
    key: &str,
    if_match: Option<&str>,
    change: impl Fn(&Record, DateTime<Utc>) -> Result<ArticleUpdate, ApiError>,
    action: &str,
) -> Result<ArticleSaved, ApiError> {
    let expected = IfMatch::parse(if_match)?;
    let viewer = Viewer::User(principal.clone());
    for _ in 0..ATTEMPTS {
        let at = state.clock.now();
        let current = articles::find_for_write(&state.db, key, visibility(&viewer), at).await?;
        check_if_match(expected.as_ref(), &current)?;
        let input = change(&current, at)?;
        authorize_edit(principal, &current, &input)?;
        let actor = Actor {
            user_id: Some(principal.id()),
            at,
            slugs: made_slugs(principal),
        };
        match articles::update(&state.db, current, input, &actor, action).await {
            Ok(record) => return saved(state, record, at).await,
            Err(ApiError::PreconditionFailed(_)) if expected.is_none() => continue,
            Err(err) => return Err(err),
        }
    }
    Err(ApiError::conflict(
        "version",
        "the article kept changing while this change was being saved; send it again",
    ))
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
        let at = state.clock.now();
        let (page, related) = articles::list(
            &state.db,
            &filter,
            &params,
            include,
            visibility(&viewer),
            at,
        )
        .await?;
        Ok(Found(ArticleList {
            meta: ListMeta::of(&page, params.limit),
            data: page
                .items
                .into_iter()
                .map(|r| view(r, &related, include, at))
                .collect(),
        }))
    }

    /// Get an article
    ///
    /// By id or slug. Anonymous readers get it only once it is public, authors and
    /// contributors also their own in every status, editors and admins every article;
    /// otherwise 404. A slug the article used to have answers 301 to its current address.
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
    ) -> Result<ArticleRead, ArticleReadError> {
        let viewer = Viewer::from_request(req, auth).await?;
        let include = Include::parse(include.0.as_deref())?;
        let at = state.clock.now();
        match articles::get(&state.db, &id_or_slug.0, include, visibility(&viewer), at).await? {
            Lookup::Found(found) => {
                let (record, related) = *found;
                Ok(ArticleRead::Ok(Box::new(view(
                    record, &related, include, at,
                ))))
            }
            Lookup::Moved(slug) => {
                let query = req
                    .uri()
                    .query()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                Ok(ArticleRead::Moved(format!(
                    "/api/v1/articles/{slug}{query}"
                )))
            }
        }
    }

    /// Create an article
    ///
    /// Contributors create drafts, authors any status, both only with their own author in
    /// the byline (an empty `author_ids` means just theirs); editors and admins anything.
    /// The body is rendered from Markdown and sanitised; the slug is made from the title
    /// when absent; the excerpt is derived from the body when absent. Revision 1 records it.
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
        if input.slug.is_some() {
            policy::decide(principal, Action::ChooseSlug, None)?;
        }
        let actor = Actor {
            user_id: Some(principal.id()),
            at: state.clock.now(),
            slugs: made_slugs(principal),
        };
        let record = articles::create(&state.db, input, &actor).await?;
        let ArticleSaved(article) = saved(&state, record, actor.at).await?;
        Ok(ArticleCreated(article))
    }

    /// Update an article
    ///
    /// Contributors edit their own drafts, authors their own articles, editors and admins
    /// every article; changing `status` needs the right to publish (authors: their own),
    /// and must be a legal change (e.g. a draft cannot be archived). Only the fields sent
    /// change; `author_ids` and `tag_ids` replace the whole list. `version` goes up by one,
    /// and the change is kept as a revision. Send `If-Match` with the `ETag` (or `version`)
    /// you read to be refused with 412 rather than overwrite someone else's change. A new
    /// slug keeps the old one working as a redirect.
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
        /// The `ETag` (or the quoted `version`) the change is based on; `*` for any.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ArticleUpdate>,
    ) -> Result<ArticleSaved, ArticleWriteError> {
        let input = body.0;
        Ok(apply(
            &state,
            &auth.0,
            &id_or_slug.0,
            if_match.0.as_deref(),
            |_, _| Ok(input.clone()),
            "update",
        )
        .await?)
    }

    /// Delete an article
    ///
    /// Moves it to the trash: it disappears everywhere, and an editor can restore it for
    /// the configured number of days (30 by default) before it is deleted for good.
    /// Authors may delete their own, editors and admins every article. Honours `If-Match`.
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
        /// The `ETag` (or the quoted `version`) the deletion is based on; `*` for any.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<Deleted, ArticleDeleteError> {
        let principal = &auth.0;
        let expected = IfMatch::parse(if_match.0.as_deref())?;
        let viewer = Viewer::User(principal.clone());
        let at = state.clock.now();
        let current =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer), at).await?;
        check_if_match(expected.as_ref(), &current)?;
        let draft = Status::from_db(&current.model.status) == Status::Draft;
        policy::decide(
            principal,
            Action::DeleteArticle,
            Some(Target::article(principal, &current.author_ids, draft)),
        )?;
        let version = expected.is_some().then_some(current.model.version);
        articles::trash(&state.db, &current.model, version, at).await?;
        tracing::info!(article = %current.model.id, by = %principal.id(), "article moved to the trash");
        Ok(Deleted::NoContent)
    }

    /// List an article's revisions
    ///
    /// Newest first: who changed what, and when, with the article's fields after each
    /// change. For those who may edit the article.
    #[oai(
        path = "/articles/:id_or_slug/revisions",
        method = "get",
        operation_id = "listArticleRevisions"
    )]
    async fn revisions(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
    ) -> Result<Found<RevisionList>, RevisionListError> {
        let principal = &auth.0;
        let viewer = Viewer::User(principal.clone());
        let at = state.clock.now();
        let current =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer), at).await?;
        let draft = Status::from_db(&current.model.status) == Status::Draft;
        policy::decide(
            principal,
            Action::EditArticle,
            Some(Target::article(principal, &current.author_ids, draft)),
        )?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = workflow::revisions(&state.db, current.model.id, &params).await?;
        Ok(Found(RevisionList {
            meta: ListMeta::of(&page, params.limit),
            data: page
                .items
                .into_iter()
                .map(|r| Revision {
                    number: r.model.number,
                    action: r.model.action,
                    changed: r.changed,
                    user_id: r.model.user_id,
                    created_at: r.model.created_at,
                    article: r.snapshot,
                })
                .collect(),
        }))
    }

    /// Restore a revision
    ///
    /// Puts the article's fields back as they were after revision `number`, as a new
    /// version with its own revision (`restore`). The same rules as an update apply
    /// (permissions, legal status changes, `If-Match`). A scheduled time that has passed
    /// since is restored as published.
    #[oai(
        path = "/articles/:id_or_slug/revisions/:number/restore",
        method = "post",
        operation_id = "restoreArticleRevision"
    )]
    async fn restore_revision(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
        /// The revision's number.
        #[oai(validator(minimum(value = "1")))]
        number: Path<i32>,
        /// The `ETag` (or the quoted `version`) the restore is based on; `*` for any.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<ArticleSaved, ArticleWriteError> {
        let at = state.clock.now();
        let viewer = Viewer::User(auth.0.clone());
        let current =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer), at).await?;
        let revision = workflow::revision(&state.db, current.model.id, number.0).await?;
        let snapshot = revision.snapshot;
        Ok(apply(
            &state,
            &auth.0,
            &current.model.id.to_string(),
            if_match.0.as_deref(),
            |_, at| {
                let mut update = snapshot.clone().into_update(at);
                // Whoever may not choose slugs keeps the current one.
                if made_slugs(&auth.0) == Made::Random {
                    update.slug = MaybeUndefined::Undefined;
                }
                Ok(update)
            },
            "restore",
        )
        .await?)
    }

    /// List the trash
    ///
    /// Editors and admins. Deleted articles, most recently deleted first, with the time each
    /// will be deleted for good unless restored.
    #[oai(path = "/trash/articles", method = "get", operation_id = "listTrash")]
    async fn trash(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
    ) -> Result<Found<TrashList>, TrashError> {
        require(&auth.0, Action::RestoreArticle)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let retention = state.workflow.trash_retention;
        let page = workflow::trashed(&state.db, state.clock.now(), retention, &params).await?;
        let keep = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
        Ok(Found(TrashList {
            meta: ListMeta::of(&page, params.limit),
            data: page
                .items
                .into_iter()
                .filter_map(|m| {
                    let deleted_at = m.deleted_at?;
                    Some(TrashedArticle {
                        id: m.id,
                        slug: m.slug,
                        title: m.title,
                        status: Status::from_db(&m.status),
                        version: m.version,
                        deleted_at,
                        purge_at: deleted_at + keep,
                    })
                })
                .collect(),
        }))
    }

    /// Restore an article from the trash
    ///
    /// Editors and admins. The article comes back as it was, visible as before.
    #[oai(
        path = "/trash/articles/:id/restore",
        method = "post",
        operation_id = "restoreFromTrash"
    )]
    async fn untrash(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id.
        id: Path<Uuid>,
    ) -> Result<ArticleSaved, TrashError> {
        require(&auth.0, Action::RestoreArticle)?;
        let at = state.clock.now();
        workflow::restore(&state.db, id.0, at, state.workflow.trash_retention).await?;
        tracing::info!(article = %id.0, by = %auth.0.id(), "article restored from the trash");
        let current =
            articles::find_for_write(&state.db, &id.0.to_string(), policy::Visibility::All, at)
                .await?;
        Ok(saved(&state, current, at).await?)
    }

    /// Delete an article for good
    ///
    /// Admins only, for an article in the trash: it goes with its revisions, old slugs
    /// and comments. This cannot be undone.
    #[oai(
        path = "/trash/articles/:id",
        method = "delete",
        operation_id = "purgeArticle"
    )]
    async fn purge(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, TrashError> {
        require(&auth.0, Action::PurgeArticle)?;
        workflow::purge(&state.db, id.0).await?;
        tracing::info!(article = %id.0, by = %auth.0.id(), "article deleted for good");
        Ok(Deleted::NoContent)
    }
}
