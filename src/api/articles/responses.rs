//! The article responses with their headers (`ETag`, `Location`, 304, the moved
//! slug's redirect) and the errors each article operation can answer with.

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;

use super::views::Article;
use crate::api::fields::Selection;
use crate::api::found::{Described, json_response, not_modified, read_headers};

/// A created article: 201 with `Location` and `ETag`.
pub struct ArticleCreated(pub Box<Article>);

/// A changed article: 200 with its new `ETag`.
pub struct ArticleSaved(pub Box<Article>);

/// The article's JSON (written like a read's, so the `ETag` is the same) with its version tag.
pub(super) fn article_response(article: &Article) -> Response {
    with_etag(json_response(article), article.version)
}

/// `resp` with the tag of `version`.
fn with_etag(mut resp: Response, version: i32) -> Response {
    if let Ok(value) = etag(version).parse() {
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

pub(super) fn etag_header() -> MetaHeader {
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

pub(super) fn article_meta(
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
pub(super) fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A read of one article: the article (with the fields chosen), or a redirect from
/// a slug it used to have.
pub enum ArticleRead {
    Ok(Box<Article>, Selection),
    Moved(String),
}

impl IntoResponse for ArticleRead {
    fn into_response(self) -> Response {
        match self {
            Self::Ok(article, fields) => {
                let mut resp = with_etag(fields.response(&*article, false), article.version);
                crate::api::keys::label(&mut resp, article.as_ref());
                resp
            }
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
                    description: Article::PICKED_DESCRIPTION,
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
