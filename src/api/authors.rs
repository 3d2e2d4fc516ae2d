//! `/api/v1/authors`: bylines.

use chrono::{DateTime, Utc};
use entity::author;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::body::JsonBody;
use super::fields::{Picked, Selection};
use super::found::{Created, Saved};
use super::publishers::{Deleted, NameSort, PublicReadError};
use super::{
    ApiTags, AppState, BearerAuth, CreateError, DeleteError, ListMeta, UpdateError, page_params,
    require,
};
use crate::auth::policy::Action;
use crate::content::taxonomy::{self, AUTHOR_KEYS, AuthorCreate, AuthorUpdate};
use crate::error::ApiError;
use crate::nullable::Nullable;

crate::problem_responses!(
    /// Errors of the author list.
    AuthorListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
        422 UnprocessableEntity "`publisher` names no publisher (no such id or slug).",
    }
);

/// A byline. An author may exist without a user account.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Author {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// Unique, URL-safe name; the author can be fetched by it.
    pub slug: String,
    /// The name as printed in bylines.
    pub name: String,
    /// A short biography.
    pub bio: Nullable<String>,
    /// A portrait (absolute http or https URL).
    pub avatar_url: Nullable<String>,
    /// The publisher the author works for, if any.
    pub publisher_id: Nullable<Uuid>,
    /// The portrait: a media asset's id (`GET /api/v1/media/{id}` has its renditions).
    pub image_media_id: Nullable<Uuid>,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl Author {
    /// The fields `fields` may choose: every key, in order.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "slug",
        "name",
        "bio",
        "avatar_url",
        "publisher_id",
        "image_media_id",
        "created_at",
        "updated_at",
    ];
}

impl From<author::Model> for Author {
    fn from(m: author::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug,
            name: m.name,
            bio: m.bio.into(),
            avatar_url: m.avatar_url.into(),
            publisher_id: m.publisher_id.into(),
            image_media_id: m.image_media_id.into(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of authors.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct AuthorList {
    /// The authors on this page.
    pub data: Vec<Author>,
    /// Paging information.
    pub meta: ListMeta,
}

pub struct AuthorsApi;

fn not_found() -> ApiError {
    ApiError::NotFound("No author has this id or slug.".into())
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Authors")]
impl AuthorsApi {
    /// List authors
    ///
    /// Sorted by name, a keyset page at a time, optionally only one publisher's. Public.
    #[oai(path = "/authors", method = "get", operation_id = "listAuthors")]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as poem-openapi wants
    async fn list(
        &self,
        state: Data<&AppState>,
        /// Only authors affiliated with this publisher (id or slug).
        #[oai(validator(max_length = 80))]
        publisher: Query<Option<String>>,
        /// `name` (default) or `-name`.
        sort: Query<Option<NameSort>>,
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
    ) -> Result<Picked<AuthorList>, AuthorListError> {
        let fields = Selection::parse(fields.0.as_deref(), Author::FIELDS)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = taxonomy::list_authors(
            state.reader(),
            publisher.0.as_deref(),
            sort.0 == Some(NameSort::NameDesc),
            &params,
        )
        .await?;
        Ok(Picked(
            AuthorList {
                meta: ListMeta::of(&page, params.limit),
                data: page.items.into_iter().map(Author::from).collect(),
            },
            fields,
        ))
    }

    /// Get an author
    ///
    /// By id or slug. Public.
    #[oai(
        path = "/authors/:id_or_slug",
        method = "get",
        operation_id = "getAuthor"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        /// The author's id or slug.
        #[oai(example = "crate::api::examples::author_slug")]
        id_or_slug: Path<String>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<Picked<Author>, PublicReadError> {
        let fields = Selection::parse(fields.0.as_deref(), Author::FIELDS)?;
        let found = taxonomy::find::<author::Entity>(state.reader(), AUTHOR_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(Picked(found.into(), fields))
    }

    /// Create an author
    ///
    /// Editors and admins.
    #[oai(path = "/authors", method = "post", operation_id = "createAuthor")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<AuthorCreate>,
    ) -> Result<Created<Author>, CreateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let created =
            taxonomy::create_author(&state.db, body.0, super::by(&auth.0, &state)).await?;
        let location = format!("/api/v1/authors/{}", created.id);
        Ok(Created(created.into(), location))
    }

    /// Update an author
    ///
    /// Editors and admins. Only the fields sent change.
    #[oai(
        path = "/authors/:id_or_slug",
        method = "patch",
        operation_id = "updateAuthor"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The author's id or slug.
        #[oai(example = "crate::api::examples::author_slug")]
        id_or_slug: Path<String>,
        body: JsonBody<AuthorUpdate>,
    ) -> Result<Saved<Author>, UpdateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let current = taxonomy::find::<author::Entity>(&state.db, AUTHOR_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(Saved(
            taxonomy::update_author(&state.db, current, body.0, super::by(&auth.0, &state))
                .await?
                .ok_or_else(not_found)?
                .into(),
        ))
    }

    /// Delete an author
    ///
    /// Editors and admins. Refused with 409 while the author is in any article's byline.
    #[oai(
        path = "/authors/:id_or_slug",
        method = "delete",
        operation_id = "deleteAuthor"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The author's id or slug.
        id_or_slug: Path<String>,
    ) -> Result<Deleted, DeleteError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let current = taxonomy::find::<author::Entity>(&state.db, AUTHOR_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        if !taxonomy::delete_author(&state.db, current, super::by(&auth.0, &state)).await? {
            return Err(not_found().into());
        }
        Ok(Deleted::NoContent)
    }
}
