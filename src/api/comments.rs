//! Readers' comments: `/api/v1/articles/{id_or_slug}/comments` for readers, and
//! `/api/v1/comments` for the editors who moderate them.

use chrono::{DateTime, Utc};
use entity::comment;
use poem::web::Data;
use poem::{IntoResponse, Request, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::body::JsonBody;
use super::fields::{Picked, Selection};
use super::found::{Saved, created_etag, json_response};
use super::publishers::Deleted;
use super::{ApiTags, AppState, BearerAuth, ListMeta, page_params, require};
use crate::auth::limit::address_key;
use crate::auth::policy::Action;
use crate::client::ClientAddr;
use crate::content::comments::{self, CommentCreate, CommentStatus, CommentUpdate};
use crate::content::taxonomy::Page;
use crate::error::ApiError;

/// A reader's comment on an article. The commenter's email is never part of it.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Comment {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// The article it is about.
    pub article_id: Uuid,
    /// The name the commenter gave.
    pub author_name: String,
    /// The comment as the commenter wrote it (plain text, trimmed).
    pub body: String,
    /// `body` as safe HTML: every `&`, `<`, `>`, `"` and `'` escaped, paragraphs
    /// (separated by blank lines) in `<p>`, line breaks as `<br>`.
    pub body_html: String,
    /// Where it stands in moderation; readers only ever see `approved` ones.
    pub status: CommentStatus,
    /// When it was posted (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl Comment {
    /// The fields `fields` may choose: every key, in order.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "article_id",
        "author_name",
        "body",
        "body_html",
        "status",
        "created_at",
    ];
}

impl From<comment::Model> for Comment {
    fn from(m: comment::Model) -> Self {
        Self {
            id: m.id,
            article_id: m.article_id,
            author_name: m.author_name,
            body_html: comments::render_html(&m.body),
            body: m.body,
            status: CommentStatus::from_db(&m.status),
            created_at: m.created_at,
        }
    }
}

/// A page of comments.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct CommentList {
    /// The comments on this page.
    pub data: Vec<Comment>,
    /// Paging information.
    pub meta: ListMeta,
}

impl CommentList {
    fn new(page: Page<comment::Model>, limit: u64) -> Self {
        Self {
            meta: ListMeta::of(&page, limit),
            data: page.items.into_iter().map(Comment::from).collect(),
        }
    }
}

/// A comment received and held for moderation: 201 with its `ETag`, and no
/// `Location`, because nothing its poster may read has the comment until an editor
/// approves it (then it shows in the article's comments).
pub struct CommentReceived(pub Comment);

impl IntoResponse for CommentReceived {
    fn into_response(self) -> Response {
        let mut resp = json_response(&self.0);
        resp.set_status(poem::http::StatusCode::CREATED);
        resp
    }
}

impl ApiResponse for CommentReceived {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Received and held for moderation (`status` is `pending`). There is \
                    no `Location`: the comment cannot be read until an editor approves it, and \
                    then it appears in `GET /api/v1/articles/{id_or_slug}/comments`.",
                status: Some(201),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: Comment::schema_ref(),
                }],
                headers: vec![created_etag()],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        Comment::register(registry);
    }
}

crate::problem_responses!(
    /// Errors of listing an article's comments.
    ArticleCommentsError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
        404 NotFound "No article has this id or slug, or it is not public.",
    }
);

crate::problem_responses!(
    /// Errors of posting a comment: every status it can answer, and `Retry-After` on a 429.
    PostCommentError {
        400 BadRequest "The body is not valid JSON or breaks the schema (missing field, wrong type, unknown field, too long).",
        404 NotFound "No article has this id or slug, or it is not public.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "A blank name or body, or a malformed email.",
    }
    429 TooManyRequests "Too many comments from this address; `Retry-After` says when to try again."
);

crate::problem_responses!(
    /// Errors of listing comments for moderation.
    ModerationListError {
        400 BadRequest "A parameter is malformed or out of range (an unknown `status`, an `article` that is not a UUID, `limit` above 100, a forged `cursor`).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only editors and admins moderate comments.",
        422 UnprocessableEntity "`article` names no article outside the trash.",
    }
);

crate::problem_responses!(
    /// Errors of reading or deleting a comment.
    ModerationReadError {
        400 BadRequest "The id is not a UUID (or, on a read, `fields` names an unknown field).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only editors and admins moderate comments.",
        404 NotFound "No comment has this id.",
    }
);

crate::problem_responses!(
    /// Errors of moderating a comment.
    ModerationUpdateError {
        400 BadRequest "The id is not a UUID, or the body breaks the schema (missing or unknown `status`, an unknown field).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only editors and admins moderate comments.",
        404 NotFound "No comment has this id.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
    }
);

pub struct CommentsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Comments")]
impl CommentsApi {
    /// List an article's comments
    ///
    /// The approved comments of a public article, oldest first, a keyset page at a
    /// time. Public.
    #[oai(
        path = "/articles/:id_or_slug/comments",
        method = "get",
        operation_id = "listArticleComments"
    )]
    async fn list_for_article(
        &self,
        state: Data<&AppState>,
        /// The article's id or slug.
        #[oai(example = "crate::api::examples::article_slug")]
        id_or_slug: Path<String>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<Picked<CommentList>, ArticleCommentsError> {
        let fields = Selection::parse(fields.0.as_deref(), Comment::FIELDS)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page =
            comments::list_approved(state.reader(), &id_or_slug.0, &params, state.clock.now())
                .await?;
        Ok(Picked(CommentList::new(page, params.limit), fields))
    }

    /// Comment on an article
    ///
    /// Anyone may comment on a public article. The comment is held as `pending` until
    /// an editor approves it; the email is kept for the moderators and never shown or
    /// returned. Comments are rate limited per client address (429 with `Retry-After`).
    #[oai(
        path = "/articles/:id_or_slug/comments",
        method = "post",
        operation_id = "createComment"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        req: &Request,
        /// The article's id or slug.
        #[oai(example = "crate::api::examples::article_slug")]
        id_or_slug: Path<String>,
        body: JsonBody<CommentCreate>,
    ) -> Result<CommentReceived, PostCommentError> {
        // Checked first, so a typo costs the reader none of their allowance.
        let input = comments::check(body.0)?;
        let client = address_key(ClientAddr::of(req));
        state
            .limiter
            .attempt(&[(format!("comment:{client}"), state.workflow.comment_rate)])
            .map_err(|secs| {
                crate::metrics::rate_limited(crate::metrics::Limit::Comment);
                ApiError::TooManyRequests(
                    format!("Too many comments from this address; try again in {secs} seconds."),
                    secs,
                )
            })?;
        let created = comments::create(&state.db, &id_or_slug.0, input, state.clock.now()).await?;
        tracing::info!(comment = %created.id, article = %created.article_id, "comment received");
        Ok(CommentReceived(created.into()))
    }

    /// List comments for moderation
    ///
    /// Editors and admins. Every comment, newest first, optionally only those with one
    /// status or on one article.
    #[oai(path = "/comments", method = "get", operation_id = "listComments")]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as poem-openapi wants
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only comments with this status.
        status: Query<Option<CommentStatus>>,
        /// Only comments on the article with this id.
        article: Query<Option<Uuid>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<Picked<CommentList>, ModerationListError> {
        require(&auth.0, Action::ModerateComments)?;
        let fields = Selection::parse(fields.0.as_deref(), Comment::FIELDS)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = comments::list_all(&state.db, status.0, article.0, &params).await?;
        Ok(Picked(CommentList::new(page, params.limit), fields))
    }

    /// Get a comment
    ///
    /// Editors and admins, whatever its status.
    #[oai(path = "/comments/:id", method = "get", operation_id = "getComment")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The comment's id.
        id: Path<Uuid>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<Picked<Comment>, ModerationReadError> {
        require(&auth.0, Action::ModerateComments)?;
        let fields = Selection::parse(fields.0.as_deref(), Comment::FIELDS)?;
        Ok(Picked(comments::get(&state.db, id.0).await?.into(), fields))
    }

    /// Moderate a comment
    ///
    /// Editors and admins. `approved` shows it under the article; `spam` or `pending`
    /// hides it again.
    #[oai(
        path = "/comments/:id",
        method = "patch",
        operation_id = "updateComment"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The comment's id.
        id: Path<Uuid>,
        body: JsonBody<CommentUpdate>,
    ) -> Result<Saved<Comment>, ModerationUpdateError> {
        require(&auth.0, Action::ModerateComments)?;
        let updated =
            comments::set_status(&state.db, id.0, body.0, super::by(&auth.0, &state)).await?;
        tracing::info!(comment = %updated.id, status = %updated.status, by = %auth.0, "comment moderated");
        Ok(Saved(updated.into()))
    }

    /// Delete a comment
    ///
    /// Editors and admins. It is gone for good.
    #[oai(
        path = "/comments/:id",
        method = "delete",
        operation_id = "deleteComment"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The comment's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, ModerationReadError> {
        require(&auth.0, Action::ModerateComments)?;
        comments::delete(&state.db, id.0, super::by(&auth.0, &state)).await?;
        tracing::info!(comment = %id.0, by = %auth.0, "comment deleted");
        Ok(Deleted::NoContent)
    }
}
