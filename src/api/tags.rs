//! `/api/v1/tags`: topics.

use chrono::{DateTime, Utc};
use entity::tag;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::body::JsonBody;
use super::fields::{Picked, Selection};
use super::found::{Created, Saved};
use super::publishers::{Deleted, NameSort, PublicListError, PublicReadError};
use super::{
    ApiTags, AppState, BearerAuth, CreateError, DeleteError, ListMeta, UpdateError, page_params,
    require,
};
use crate::auth::policy::Action;
use crate::content::taxonomy::{self, TAG_KEYS, TAG_SORT, TagCreate, TagUpdate};
use crate::error::ApiError;
use crate::nullable::Nullable;

/// A topic.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Tag {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// Unique, URL-safe name; the tag can be fetched by it.
    pub slug: String,
    /// The name as shown to readers.
    pub name: String,
    /// What the topic covers.
    pub description: Nullable<String>,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl Tag {
    /// The fields `fields` may choose: every key, in order.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "slug",
        "name",
        "description",
        "created_at",
        "updated_at",
    ];
}

impl From<tag::Model> for Tag {
    fn from(m: tag::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug,
            name: m.name,
            description: m.description.into(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of tags.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct TagList {
    /// The tags on this page.
    pub data: Vec<Tag>,
    /// Paging information.
    pub meta: ListMeta,
}

pub struct TagsApi;

fn not_found() -> ApiError {
    ApiError::NotFound("No tag has this id or slug.".into())
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Tags")]
impl TagsApi {
    /// List tags
    ///
    /// Sorted by name, a keyset page at a time. Public.
    #[oai(path = "/tags", method = "get", operation_id = "listTags")]
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
    ) -> Result<Picked<TagList>, PublicListError> {
        let fields = Selection::parse(fields.0.as_deref(), Tag::FIELDS)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = taxonomy::list_by_name(
            state.reader(),
            <tag::Entity as sea_orm::EntityTrait>::find(),
            TAG_SORT,
            sort.0 == Some(NameSort::NameDesc),
            &params,
        )
        .await?;
        Ok(Picked(
            TagList {
                meta: ListMeta::of(&page, params.limit),
                data: page.items.into_iter().map(Tag::from).collect(),
            },
            fields,
        ))
    }

    /// Get a tag
    ///
    /// By id or slug. Public.
    #[oai(path = "/tags/:id_or_slug", method = "get", operation_id = "getTag")]
    async fn get(
        &self,
        state: Data<&AppState>,
        /// The tag's id or slug.
        #[oai(example = "crate::api::examples::tag_slug")]
        id_or_slug: Path<String>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<Picked<Tag>, PublicReadError> {
        let fields = Selection::parse(fields.0.as_deref(), Tag::FIELDS)?;
        let found = taxonomy::find::<tag::Entity>(state.reader(), TAG_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(Picked(found.into(), fields))
    }

    /// Create a tag
    ///
    /// Editors and admins.
    #[oai(path = "/tags", method = "post", operation_id = "createTag")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<TagCreate>,
    ) -> Result<Created<Tag>, CreateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let created = taxonomy::create_tag(&state.db, body.0, super::by(&auth.0, &state)).await?;
        let location = format!("/api/v1/tags/{}", created.id);
        Ok(Created(created.into(), location))
    }

    /// Update a tag
    ///
    /// Editors and admins. Only the fields sent change.
    #[oai(
        path = "/tags/:id_or_slug",
        method = "patch",
        operation_id = "updateTag"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The tag's id or slug.
        #[oai(example = "crate::api::examples::tag_slug")]
        id_or_slug: Path<String>,
        body: JsonBody<TagUpdate>,
    ) -> Result<Saved<Tag>, UpdateError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let current = taxonomy::find::<tag::Entity>(&state.db, TAG_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(Saved(
            taxonomy::update_tag(&state.db, current, body.0, super::by(&auth.0, &state))
                .await?
                .ok_or_else(not_found)?
                .into(),
        ))
    }

    /// Delete a tag
    ///
    /// Editors and admins. The tag is removed from the articles that carried it.
    #[oai(
        path = "/tags/:id_or_slug",
        method = "delete",
        operation_id = "deleteTag"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The tag's id or slug.
        id_or_slug: Path<String>,
    ) -> Result<Deleted, DeleteError> {
        require(&auth.0, Action::ManageTaxonomy)?;
        let current = taxonomy::find::<tag::Entity>(&state.db, TAG_KEYS, &id_or_slug.0)
            .await?
            .ok_or_else(not_found)?;
        if !taxonomy::delete_tag(&state.db, current, super::by(&auth.0, &state)).await? {
            return Err(not_found().into());
        }
        Ok(Deleted::NoContent)
    }
}
