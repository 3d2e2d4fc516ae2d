//! `/api/v1/authors`: bylines.

use chrono::{DateTime, Utc};
use entity::author;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::body::JsonBody;
use super::found::{Found, Saved};
use super::publishers::{Deleted, NameSort, PublicListError, PublicReadError};
use super::{
    ApiTags, AppState, BearerAuth, CreateError, DeleteError, ListMeta, UpdateError, page_params,
    require,
};
use crate::auth::policy::Action;
use crate::content::taxonomy::{self, AUTHOR_KEYS, AUTHOR_SORT, AuthorCreate, AuthorUpdate};
use crate::error::ApiError;
use crate::nullable::Nullable;

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
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
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

#[derive(ApiResponse)]
pub enum AuthorCreated {
    /// Created; `Location` is its address.
    #[oai(status = 201)]
    Created(Json<Author>, #[oai(header = "Location")] String),
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
    ) -> Result<Found<AuthorList>, PublicListError> {
        let params = page_params(limit.0, cursor.0, count.0);
        let page = taxonomy::list_by_name(
            &state.db,
            taxonomy::authors_query(publisher.0.as_deref()),
            AUTHOR_SORT,
            sort.0 == Some(NameSort::NameDesc),
            &params,
        )
        .await?;
        Ok(Found(AuthorList {
            meta: ListMeta::of(&page, params.limit),
            data: page.items.into_iter().map(Author::from).collect(),
        }))
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
        id_or_slug: Path<String>,
    ) -> Result<Found<Author>, PublicReadError> {
        let found = taxonomy::find::<author::Entity>(&state.db, AUTHOR_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(Found(found.into()))
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
    ) -> Result<AuthorCreated, CreateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let created = taxonomy::create_author(&state.db, body.0).await?;
        let location = format!("/api/v1/authors/{}", created.id);
        Ok(AuthorCreated::Created(Json(created.into()), location))
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
        id_or_slug: Path<String>,
        body: JsonBody<AuthorUpdate>,
    ) -> Result<Saved<Author>, UpdateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let current = taxonomy::find::<author::Entity>(&state.db, AUTHOR_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(Saved(
            taxonomy::update_author(&state.db, current, body.0)
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
        if !taxonomy::delete_author(&state.db, current).await? {
            return Err(not_found().into());
        }
        Ok(Deleted::NoContent)
    }
}
