//! Draft previews: an editor makes a signed, expiring link to one article
//! (`POST /api/v1/articles/{id_or_slug}/preview-link`), anyone holding it reads the
//! article as it stands now, whatever its status (`GET /api/v1/preview/{token}`),
//! and the article's links can all be revoked at once. The token is the credential:
//! its answers are never stored (`Cache-Control: no-store`, and so never by the
//! response cache either) nor indexed, and every token that does not open an
//! article now gets the same 404.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::articles::{Article, need, view};
use super::body::OptionalJsonBody;
use super::fields::Selection;
use super::found::{created_etag, json_response};
use super::publishers::Deleted;
use super::{ApiTags, AppState, BearerAuth, require};
use crate::auth::policy::{Action, Visibility};
use crate::auth::preview;
use crate::content::articles::{self, Include, Lookup};
use crate::content::previews;

/// Where the API serves a preview; a token follows.
pub const PREVIEW_PATH: &str = "/api/v1/preview/";

/// What a new preview link may say.
#[derive(Object, Debug, Clone, Default)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example)]
pub struct PreviewLinkCreate {
    /// How long the link works, in seconds: 60 (a minute) to 86400 (a day); 3600 (an
    /// hour) when absent. Out of that range: 422.
    pub expires_in: Option<i64>,
}

/// A new preview link. The token is shown this once: Dispatch keeps only the link's
/// id, never the token.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct PreviewLink {
    /// The link's id (a UUIDv7), as the server's log names it; the token carries it.
    pub id: Uuid,
    /// The credential: whoever has it reads the article until `expires_at`, unless
    /// the article's links are revoked first. URL-safe, 98 characters.
    pub token: String,
    /// Where to open the preview: the public site's `/preview/{token}`
    /// (`DISPATCH_PUBLIC_SITE_URL`, e.g. `https://news.example/preview/…`); the frontend
    /// renders the page from `GET /api/v1/preview/{token}`.
    pub url: String,
    /// When the link stops working (RFC 3339, UTC, whole seconds).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// The article it opens.
    pub article_id: Uuid,
}

/// `Cache-Control` of every preview answer: never kept, by a browser or a proxy.
const NO_STORE: &str = "no-store";
/// `X-Robots-Tag` of a preview: never indexed.
const NOINDEX: &str = "noindex";

fn header(name: &str, description: &str) -> MetaHeader {
    MetaHeader {
        name: name.to_string(),
        description: Some(description.to_string()),
        required: true,
        deprecated: false,
        schema: String::schema_ref(),
    }
}

fn no_store_header() -> MetaHeader {
    header(
        "Cache-Control",
        "`no-store`: the answer holds a credential or unpublished content, and is never kept.",
    )
}

/// 201 with the new link, `Location` (the API's address of the preview) and
/// `Cache-Control: no-store`.
pub struct PreviewLinkCreated(pub PreviewLink);

impl IntoResponse for PreviewLinkCreated {
    fn into_response(self) -> Response {
        let mut resp = json_response(&self.0);
        resp.set_status(poem::http::StatusCode::CREATED);
        let headers = resp.headers_mut();
        headers.insert(
            poem::http::header::CACHE_CONTROL,
            poem::http::HeaderValue::from_static(NO_STORE),
        );
        if let Ok(value) = format!("{PREVIEW_PATH}{}", self.0.token).parse() {
            headers.insert(poem::http::header::LOCATION, value);
        }
        resp
    }
}

impl ApiResponse for PreviewLinkCreated {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Created: the token, shown this once, and where to open it.",
                status: Some(201),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: PreviewLink::schema_ref(),
                }],
                headers: vec![
                    header(
                        "Location",
                        "The API's address of the preview, `/api/v1/preview/{token}`.",
                    ),
                    no_store_header(),
                    created_etag(),
                ],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        PreviewLink::register(registry);
    }
}

/// 200 with the article as it stands (the fields chosen), never stored or indexed.
pub struct PreviewRead(pub Box<Article>, pub Selection);

impl IntoResponse for PreviewRead {
    fn into_response(self) -> Response {
        let mut resp = self.1.response(&*self.0, false);
        let headers = resp.headers_mut();
        headers.insert(
            poem::http::header::CACHE_CONTROL,
            poem::http::HeaderValue::from_static(NO_STORE),
        );
        headers.insert(
            "x-robots-tag",
            poem::http::HeaderValue::from_static(NOINDEX),
        );
        resp
    }
}

impl ApiResponse for PreviewRead {
    fn meta() -> MetaResponses {
        let headers = || {
            vec![
                header(
                    "ETag",
                    "A strong entity tag of this exact body; `If-None-Match` with it answers \
                     304 while nothing changed.",
                ),
                no_store_header(),
                header(
                    "X-Robots-Tag",
                    "`noindex`: search engines must not index a preview.",
                ),
                header(
                    "Referrer-Policy",
                    "`no-referrer`: the address (and its token) is never sent on as a referrer.",
                ),
            ]
        };
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The article as it stands now, as `GET /api/v1/articles/{id_or_slug}` \
                                  shows it (`status` is its own: `draft`, `scheduled`, …). With \
                                  `fields`, only the chosen fields and `id` are present, whatever \
                                  the schema's `required` says.",
                    status: Some(200),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: Article::schema_ref(),
                    }],
                    headers: headers(),
                },
                MetaResponse {
                    description: "Not modified: `If-None-Match` names the current `ETag`; the body is empty.",
                    status: Some(304),
                    status_range: None,
                    content: vec![],
                    headers: headers(),
                },
            ],
        }
    }

    fn register(registry: &mut Registry) {
        Article::register(registry);
    }
}

crate::problem_responses!(
    /// Errors of making a preview link.
    PreviewLinkError {
        400 BadRequest "The body breaks the schema (`expires_in` not an integer, an unknown field), or the path holds a NUL character.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only editors and admins make preview links.",
        404 NotFound "No live article has this id or slug (one in the trash has none).",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "A body was sent that is not `application/json`.",
        422 UnprocessableEntity "`expires_in` is out of range (60 to 86400 seconds).",
    }
);

crate::problem_responses!(
    /// Errors of revoking an article's preview links.
    PreviewRevokeError {
        400 BadRequest "The path or query holds a NUL character.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only editors and admins revoke preview links.",
        404 NotFound "No live article has this id or slug.",
    }
);

crate::problem_responses!(
    /// Errors of reading a preview.
    PreviewReadError {
        400 BadRequest "`include` or `fields` names something unknown, or the path or query holds a NUL character.",
        404 NotFound "The token opens nothing: malformed, altered, expired, revoked, or its article deleted. Every such token gets this same answer.",
    }
);

pub struct PreviewsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Previews")]
impl PreviewsApi {
    /// Make a preview link
    ///
    /// Editors and admins. A signed link to the article as it stands (a draft, scheduled,
    /// archived or published), for someone without an account: it shows the current
    /// fields until it expires (an hour unless `expires_in` says otherwise, a day at most)
    /// or the article's links are revoked. The link opens this article only. The body may
    /// be left out.
    #[oai(
        path = "/articles/:id_or_slug/preview-link",
        method = "post",
        operation_id = "createPreviewLink"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        #[oai(example = "crate::api::examples::article_slug")]
        id_or_slug: Path<String>,
        body: OptionalJsonBody<PreviewLinkCreate>,
    ) -> Result<PreviewLinkCreated, PreviewLinkError> {
        require(&auth.0, Action::PreviewLink)?;
        let lifetime = previews::lifetime(body.0.unwrap_or_default().expires_in)?;
        let at = state.clock.now();
        let claims =
            previews::create(&state.db, &id_or_slug.0, auth.0.user_id(), at, lifetime).await?;
        let token = state.previews.sign(&claims);
        tracing::info!(
            article = %claims.article_id,
            link = %claims.link_id,
            by = %auth.0,
            "preview link made"
        );
        Ok(PreviewLinkCreated(PreviewLink {
            id: claims.link_id,
            url: state.site.absolute(&format!("/preview/{token}")),
            token,
            expires_at: claims.expires_at,
            article_id: claims.article_id,
        }))
    }

    /// Revoke an article's preview links
    ///
    /// Editors and admins. Every link made for the article stops working at once; a link
    /// made afterwards works as usual.
    #[oai(
        path = "/articles/:id_or_slug/preview-links",
        method = "delete",
        operation_id = "revokePreviewLinks"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
    ) -> Result<Deleted, PreviewRevokeError> {
        require(&auth.0, Action::PreviewLink)?;
        let (article, revoked) =
            previews::revoke(&state.db, &id_or_slug.0, state.clock.now()).await?;
        tracing::info!(%article, revoked, by = %auth.0, "preview links revoked");
        Ok(Deleted::NoContent)
    }

    /// Read a preview
    ///
    /// No account needed: the token is the credential. The article as it stands now, in
    /// any status, exactly as `GET /api/v1/articles/{id_or_slug}` shows it (with the same
    /// `include` and `fields`). Never stored by caches (`Cache-Control: no-store`) or
    /// indexed (`X-Robots-Tag: noindex`).
    #[oai(path = "/preview/:token", method = "get", operation_id = "getPreview")]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as poem-openapi wants
    async fn get(
        &self,
        state: Data<&AppState>,
        /// The `token` of a preview link (`POST /api/v1/articles/{id_or_slug}/preview-link`):
        /// 98 URL-safe characters. Any other value, and a token that has expired or been
        /// revoked, or whose article is gone, is a 404.
        token: Path<String>,
        /// Related objects to embed, comma-separated: `authors`, `publisher`, `syndicated_from`, `tags`.
        #[oai(validator(max_length = 100))]
        include: Query<Option<String>>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        /// Relations `include` names come whatever `fields` says.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
        /// Only these fields of the embedded `authors`, comma-separated (`id` always comes);
        /// ignored unless `include` names `authors`.
        #[oai(name = "fields[authors]", validator(max_length = 512))]
        fields_authors: Query<Option<String>>,
        /// Only these fields of the embedded `publisher` and `syndicated_from`, comma-separated
        /// (`id` always comes); ignored unless `include` names either.
        #[oai(name = "fields[publishers]", validator(max_length = 512))]
        fields_publishers: Query<Option<String>>,
        /// Only these fields of the embedded `tags`, comma-separated (`id` always comes);
        /// ignored unless `include` names `tags`.
        #[oai(name = "fields[tags]", validator(max_length = 512))]
        fields_tags: Query<Option<String>>,
    ) -> Result<PreviewRead, PreviewReadError> {
        let include = Include::parse(include.0.as_deref())?;
        let fields = Selection::parse(fields.0.as_deref(), Article::FIELDS)?.with_relations([
            fields_authors.0.as_deref(),
            fields_publishers.0.as_deref(),
            fields_tags.0.as_deref(),
        ])?;
        let at = state.clock.now();
        let claims = state.previews.verify(&token.0, at)?;
        // The primary: a revocation holds at once, whatever a replica has seen.
        previews::check_live(&state.db, &claims, at).await?;
        let found = articles::get(
            &state.db,
            &claims.article_id.to_string(),
            include,
            need(&fields),
            Visibility::All,
            at,
        )
        .await
        .map_err(|err| match err.status().as_u16() {
            // In the trash, or deleted for good since the link was checked.
            404 => preview::not_found(),
            _ => err,
        })?;
        match found {
            Lookup::Found(found) => {
                let (record, related) = *found;
                Ok(PreviewRead(
                    Box::new(view(record, &related, include, &state.site, at)),
                    fields,
                ))
            }
            // An id is never an old slug.
            Lookup::Moved(_) => Err(preview::not_found().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_keeps_preview_tokens_out_of_the_log() {
        assert!(crate::edge::SECRET_PATHS.contains(&PREVIEW_PATH));
    }
}
