//! The HTTP API: one module per resource, each an `#[OpenApi]` impl with its own
//! tag, combined in [`service`]. Request and response objects live beside them and
//! are kept apart from the database entities.

pub mod api_keys;
pub mod articles;
pub mod auth;
pub mod authors;
pub mod body;
pub mod comments;
pub mod events;
pub mod examples;
pub mod feeds;
pub mod fields;
pub mod found;
pub mod health;
pub mod keys;
pub mod media;
pub mod params;
pub mod previews;
pub mod publishers;
pub mod security;
pub mod sitemaps;
pub mod spec;
pub mod tags;
pub mod upload;
pub mod users;
pub mod webhooks;

use poem_openapi::{LicenseObject, ServerObject};
use poem_openapi::{Object, OpenApiService, Tags};

use crate::auth::policy::{self, Action, Visibility};
use crate::auth::{Principal, Viewer};
use crate::content::page::DEFAULT_LIMIT;
use crate::content::taxonomy::{Page, PageParams};
use crate::error::ApiError;
use crate::nullable::Nullable;

pub use crate::state::AppState;
pub use security::{BearerAuth, MaybeAuth};

#[derive(Tags)]
pub enum ApiTags {
    /// Signing in: access tokens, rotating refresh tokens, the current user.
    Auth,
    /// News stories: listed, filtered and fetched by anyone when published; written by editors.
    Articles,
    /// Draft previews: signed, expiring links that show one article as it stands, whatever
    /// its status, to someone without an account (made and revoked by editors).
    Previews,
    /// News organisations and syndication services.
    Publishers,
    /// Bylines.
    Authors,
    /// Topics.
    Tags,
    /// News photos: uploads with credits, captions and focal points, and their renditions.
    Media,
    /// Readers' comments on articles: posted by anyone, shown once an editor approves them.
    Comments,
    /// Accounts and their roles (admins only).
    Users,
    /// Every change, in commit order: the feed for consumers that pull (editors and admins).
    Events,
    /// Endpoints that receive events as signed HTTP POSTs, their deliveries, retries and
    /// test pings (admins only).
    Webhooks,
    /// Keys for frontends and services (`Authorization: Bearer dsp_live_…`), shown once
    /// and stored hashed (admins only).
    ApiKeys,
    /// Feeds of published articles for feed readers and aggregators: Atom 1.0, RSS 2.0
    /// and JSON Feed 1.1, for the whole site and each publisher, author and tag.
    Feeds,
    /// Liveness and readiness for orchestrators.
    Health,
    /// Sitemaps for search engines: the index, its children, and the Google News sitemap.
    Sitemaps,
}

/// The `meta` of every list.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct ListMeta {
    /// The page size used.
    pub limit: u64,
    /// Pass as `cursor` to get the next page; `null` on the last page. Paging is
    /// forward-only: to go back, keep the cursors of the pages already seen (none
    /// for the first page).
    pub next_cursor: Nullable<String>,
    /// How many rows match the filters in all, when `count=true` was asked.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl ListMeta {
    /// The `meta` of `page`, asked for with `limit`.
    pub fn of<T>(page: &Page<T>, limit: u64) -> Self {
        Self {
            limit,
            next_cursor: page.next_cursor.clone().into(),
            total: page.total,
        }
    }
}

pub fn page_params(limit: Option<u64>, cursor: Option<String>, count: Option<bool>) -> PageParams {
    PageParams {
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        cursor,
        count: count.unwrap_or(false),
    }
}

/// Nothing, if `principal` may do `action` (one that is not about an article); or the 403.
pub fn require(principal: &Principal, action: Action) -> Result<(), ApiError> {
    policy::decide(principal, action, None)
}

/// The origin an event records of a change `principal` makes now.
pub fn by(principal: &Principal, state: &crate::state::AppState) -> crate::content::events::By {
    crate::content::events::By::new(principal.user_id(), state.clock.now())
}

/// Which articles this reader may see.
pub fn visibility(viewer: &Viewer) -> Visibility {
    policy::visibility(viewer.principal())
}

crate::problem_responses!(
    /// Errors of a list.
    ListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
        401 Unauthorized "An `Authorization` header was sent with a token that is not valid.",
        422 UnprocessableEntity "A `publisher`, `author` or `tag` filter names nothing (no such id or slug); the problem's `errors` name each.",
    }
);

crate::problem_responses!(
    /// Errors of a single read.
    ReadError {
        400 BadRequest "A parameter is malformed.",
        401 Unauthorized "An `Authorization` header was sent with a token that is not valid.",
        404 NotFound "Nothing with this id or slug, or not visible to this reader.",
    }
);

crate::problem_responses!(
    /// Errors of a create.
    CreateError {
        400 BadRequest "The body is not valid JSON or breaks the schema (wrong type, missing field, too long).",
        401 Unauthorized "No token, or a token that is not valid (expired, or its account disabled or deleted).",
        403 Forbidden "The user's role may not do this (to this article); the detail says what is missing.",
        409 Conflict "The slug is already taken.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "Well-formed input that breaks a rule (unknown referenced id, invalid slug or URL, blank title).",
    }
);

crate::problem_responses!(
    /// Errors of an update.
    UpdateError {
        400 BadRequest "The body is not valid JSON or breaks the schema (wrong type, too long).",
        401 Unauthorized "No token, or a token that is not valid (expired, or its account disabled or deleted).",
        403 Forbidden "The user's role may not do this (to this article); the detail says what is missing.",
        404 NotFound "Nothing with this id or slug (or an article this user may not read).",
        409 Conflict "The slug is already taken.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "Well-formed input that breaks a rule (unknown referenced id, invalid slug or URL, blank title).",
    }
);

crate::problem_responses!(
    /// Errors of a delete.
    DeleteError {
        400 BadRequest "The path or query holds a NUL character (`%00`).",
        401 Unauthorized "No token, or a token that is not valid (expired, or its account disabled or deleted).",
        403 Forbidden "The user's role may not do this (to this article); the detail says what is missing.",
        404 NotFound "Nothing with this id or slug (or an article this user may not read).",
        409 Conflict "Other resources still point at this one.",
    }
);

/// Every resource's operations.
pub type Apis = (
    auth::AuthApi,
    articles::ArticlesApi,
    previews::PreviewsApi,
    comments::CommentsApi,
    publishers::PublishersApi,
    authors::AuthorsApi,
    tags::TagsApi,
    media::MediaApi,
    users::UsersApi,
    events::EventsApi,
    webhooks::WebhooksApi,
    api_keys::ApiKeysApi,
    feeds::FeedsApi,
    health::HealthApi,
    sitemaps::SitemapsApi,
);

/// The OpenAPI service with every resource, as served and as written to `openapi.yaml`.
pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            auth::AuthApi,
            articles::ArticlesApi,
            previews::PreviewsApi,
            comments::CommentsApi,
            publishers::PublishersApi,
            authors::AuthorsApi,
            tags::TagsApi,
            media::MediaApi,
            users::UsersApi,
            events::EventsApi,
            webhooks::WebhooksApi,
            api_keys::ApiKeysApi,
            feeds::FeedsApi,
            health::HealthApi,
            sitemaps::SitemapsApi,
        ),
        "Dispatch",
        env!("CARGO_PKG_VERSION"),
    )
    .license(LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
    .server(ServerObject::new("/").description(
        "The server this document was fetched from (the paths are absolute on its origin).",
    ))
    .description(
        "A headless CMS for newsrooms. Published content is public; writes need a bearer \
         access token (`Authorization: Bearer <token>`) from `POST /api/v1/auth/login`: paste \
         its `access_token` into Authorize. Frontends and services may send an API key \
         (`Authorization: Bearer dsp_live_…`, made by an admin at `/api/v1/api-keys`) instead. Every error is `application/problem+json` \
         (RFC 9457). Lists use forward-only keyset pagination: pass `meta.next_cursor` back as \
         `cursor`; a `publisher`, `author` or `tag` filter naming nothing is a 422.",
    )
}
