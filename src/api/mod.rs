//! The HTTP API: one module per resource, each an `#[OpenApi]` impl with its own
//! tag, combined in [`service`]. Request and response objects live beside them and
//! are kept apart from the database entities.

pub mod articles;
pub mod authors;
pub mod body;
pub mod found;
pub mod health;
pub mod publishers;
pub mod tags;

use std::sync::Arc;

use poem_openapi::{Object, OpenApiService, Tags};
use sea_orm::DatabaseConnection;

use crate::auth::policy::{self, Action};
use crate::auth::{Claims, TokenKeys, Viewer};
use crate::content::page::DEFAULT_LIMIT;
use crate::content::taxonomy::PageParams;
use crate::error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: Arc<TokenKeys>,
}

#[derive(Tags)]
pub enum ApiTags {
    /// News stories: listed, filtered and fetched by anyone when published; written by editors.
    Articles,
    /// News organisations and syndication services.
    Publishers,
    /// Bylines.
    Authors,
    /// Topics.
    Tags,
    /// Liveness and readiness for orchestrators.
    Health,
}

/// The `meta` of every list.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct ListMeta {
    /// The page size used.
    pub limit: u64,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many rows match the filters in all, when `count=true` was asked.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

pub fn page_params(limit: Option<u64>, cursor: Option<String>, count: Option<bool>) -> PageParams {
    PageParams {
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        cursor,
        count: count.unwrap_or(false),
    }
}

/// The claims of a writer allowed `action`, or the 403.
pub fn require(claims: &Claims, action: Action) -> Result<(), ApiError> {
    policy::require(claims.role, action)
}

/// Whether this reader may see drafts, scheduled and archived articles.
pub fn sees_unpublished(viewer: &Viewer) -> bool {
    viewer
        .role()
        .is_some_and(|role| policy::allows(role, Action::ReadUnpublished))
}

crate::problem_responses!(
    /// Errors of a list.
    ListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
        401 Unauthorized "An `Authorization` header was sent with a token that is not valid.",
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
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The token's role may not do this.",
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
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The token's role may not do this.",
        404 NotFound "Nothing with this id or slug.",
        409 Conflict "The slug is already taken.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "Well-formed input that breaks a rule (unknown referenced id, invalid slug or URL, blank title).",
    }
);

crate::problem_responses!(
    /// Errors of a delete.
    DeleteError {
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The token's role may not do this.",
        404 NotFound "Nothing with this id or slug.",
        409 Conflict "Other resources still point at this one.",
    }
);

/// The OpenAPI service with every resource, as served and as written to `openapi.yaml`.
pub fn service() -> OpenApiService<
    (
        articles::ArticlesApi,
        publishers::PublishersApi,
        authors::AuthorsApi,
        tags::TagsApi,
        health::HealthApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            articles::ArticlesApi,
            publishers::PublishersApi,
            authors::AuthorsApi,
            tags::TagsApi,
            health::HealthApi,
        ),
        "Dispatch",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "A headless CMS for newsrooms. Published content is public; writes need a bearer \
         access token (`Authorization: Bearer <token>`). Every error is `application/problem+json` \
         (RFC 9457). Lists use keyset pagination: pass `meta.next_cursor` back as `cursor`.",
    )
}
