//! `/api/v1/publishers`: news organisations and syndication services.

use chrono::{DateTime, Utc};
use entity::publisher;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::body::JsonBody;
use super::fields::{Picked, Selection};
use super::found::{Created, Saved};
use super::{
    ApiTags, AppState, BearerAuth, CreateError, DeleteError, ListMeta, UpdateError, page_params,
    require,
};
use crate::auth::policy::Action;
use crate::content::taxonomy::{
    self, PUBLISHER_KEYS, PUBLISHER_SORT, PublisherCreate, PublisherUpdate,
};
use crate::error::ApiError;
use crate::nullable::Nullable;

/// A news organisation or a syndication service.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Publisher {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// Unique, URL-safe name; the publisher can be fetched by it.
    pub slug: String,
    /// The name as shown to readers.
    pub name: String,
    /// A short description, shown beside the publisher's stories.
    pub description: Nullable<String>,
    /// The website (absolute http or https URL).
    pub website_url: Nullable<String>,
    /// The logo: a media asset's id (`GET /api/v1/media/{id}` has its renditions).
    pub image_media_id: Nullable<Uuid>,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl Publisher {
    /// The fields `fields` may choose: every key, in order.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "slug",
        "name",
        "description",
        "website_url",
        "image_media_id",
        "created_at",
        "updated_at",
    ];
}

impl From<publisher::Model> for Publisher {
    fn from(m: publisher::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug,
            name: m.name,
            description: m.description.into(),
            website_url: m.website_url.into(),
            image_media_id: m.image_media_id.into(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of publishers.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct PublisherList {
    /// The publishers on this page.
    pub data: Vec<Publisher>,
    /// Paging information.
    pub meta: ListMeta,
}

/// Orders of name-sorted lists.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSort {
    #[oai(rename = "name")]
    Name,
    #[oai(rename = "-name")]
    NameDesc,
}

#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}

crate::problem_responses!(
    /// Errors of a public list.
    PublicListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
    }
);

crate::problem_responses!(
    /// Errors of a public read.
    PublicReadError {
        400 BadRequest "A parameter is malformed (an unknown name in `fields`, a NUL character).",
        404 NotFound "Nothing has this id or slug.",
    }
);

pub struct PublishersApi;

fn not_found() -> ApiError {
    ApiError::NotFound("No publisher has this id or slug.".into())
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Publishers")]
impl PublishersApi {
    /// List publishers
    ///
    /// Sorted by name, a keyset page at a time. Public.
    #[oai(path = "/publishers", method = "get", operation_id = "listPublishers")]
    async fn list(
        &self,
        state: Data<&AppState>,
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
    ) -> Result<Picked<PublisherList>, PublicListError> {
        let fields = Selection::parse(fields.0.as_deref(), Publisher::FIELDS)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = taxonomy::list_by_name(
            state.reader(),
            <publisher::Entity as sea_orm::EntityTrait>::find(),
            PUBLISHER_SORT,
            sort.0 == Some(NameSort::NameDesc),
            &params,
        )
        .await?;
        Ok(Picked(
            PublisherList {
                meta: ListMeta::of(&page, params.limit),
                data: page.items.into_iter().map(Publisher::from).collect(),
            },
            fields,
        ))
    }

    /// Get a publisher
    ///
    /// By id or slug. Public.
    #[oai(
        path = "/publishers/:id_or_slug",
        method = "get",
        operation_id = "getPublisher"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        /// The publisher's id or slug.
        #[oai(example = "crate::api::examples::publisher_slug")]
        id_or_slug: Path<String>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<Picked<Publisher>, PublicReadError> {
        let fields = Selection::parse(fields.0.as_deref(), Publisher::FIELDS)?;
        let found =
            taxonomy::find::<publisher::Entity>(state.reader(), PUBLISHER_KEYS, &id_or_slug.0)
                .await?
                .ok_or_else(not_found)?;
        Ok(Picked(found.into(), fields))
    }

    /// Create a publisher
    ///
    /// Editors and admins.
    #[oai(
        path = "/publishers",
        method = "post",
        operation_id = "createPublisher"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<PublisherCreate>,
    ) -> Result<Created<Publisher>, CreateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let created =
            taxonomy::create_publisher(&state.db, body.0, super::by(&auth.0, &state)).await?;
        let location = format!("/api/v1/publishers/{}", created.id);
        Ok(Created(created.into(), location))
    }

    /// Update a publisher
    ///
    /// Editors and admins. Only the fields sent change.
    #[oai(
        path = "/publishers/:id_or_slug",
        method = "patch",
        operation_id = "updatePublisher"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The publisher's id or slug.
        #[oai(example = "crate::api::examples::publisher_slug")]
        id_or_slug: Path<String>,
        body: JsonBody<PublisherUpdate>,
    ) -> Result<Saved<Publisher>, UpdateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let current = taxonomy::find::<publisher::Entity>(&state.db, PUBLISHER_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(Saved(
            taxonomy::update_publisher(&state.db, current, body.0, super::by(&auth.0, &state))
                .await?
                .ok_or_else(not_found)?
                .into(),
        ))
    }

    /// Delete a publisher
    ///
    /// Editors and admins. Refused with 409 while articles are carried by or syndicated
    /// from it; its authors lose their affiliation.
    #[oai(
        path = "/publishers/:id_or_slug",
        method = "delete",
        operation_id = "deletePublisher"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The publisher's id or slug.
        id_or_slug: Path<String>,
    ) -> Result<Deleted, DeleteError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let current = taxonomy::find::<publisher::Entity>(&state.db, PUBLISHER_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        if !taxonomy::delete_publisher(&state.db, current, super::by(&auth.0, &state)).await? {
            return Err(not_found().into());
        }
        Ok(Deleted::NoContent)
    }
}
