//! `/api/v1/users`: accounts, for admins only.

use chrono::{DateTime, Utc};
use entity::user;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::body::JsonBody;
use super::found::{Created, Found, Saved};
use super::publishers::Deleted;
use super::{ApiTags, AppState, BearerAuth, ListMeta, page_params, require};
use crate::accounts::users::{self, UserCreate, UserUpdate};
use crate::auth::Role;
use crate::auth::policy::Action;
use crate::nullable::Nullable;

/// An account. The password is never returned, not even as a hash.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct User {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// The sign-in email, lower-cased.
    pub email: String,
    /// What the account may do.
    pub role: Role,
    /// The author byline the user writes as, if linked.
    pub author_id: Nullable<Uuid>,
    /// A disabled account cannot sign in, and its tokens stop working.
    pub disabled: bool,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            // Roles are written only from `Role`; an unknown one reads as the least privileged.
            role: m.role.parse().unwrap_or(Role::Contributor),
            author_id: m.author_id.into(),
            disabled: m.disabled,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of users.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct UserList {
    /// The users on this page, by email.
    pub data: Vec<User>,
    /// Paging information.
    pub meta: ListMeta,
}

crate::problem_responses!(
    /// Errors of listing users.
    UserListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage users.",
    }
);

crate::problem_responses!(
    /// Errors of reading a user.
    UserReadError {
        400 BadRequest "The id is not a UUID.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage users.",
        404 NotFound "No user has this id.",
    }
);

crate::problem_responses!(
    /// Errors of creating a user.
    UserCreateError {
        400 BadRequest "The body is not valid JSON or breaks the schema (wrong type, missing field, unknown role).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage users.",
        409 Conflict "The email is taken, or the author is already linked to another user.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "A malformed email, a weak password, or an unknown `author_id`.",
    }
);

crate::problem_responses!(
    /// Errors of changing a user.
    UserUpdateError {
        400 BadRequest "The id is not a UUID, or the body breaks the schema.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage users.",
        404 NotFound "No user has this id.",
        409 Conflict "The email is taken, the author is linked to another user, or the change would leave no active admin.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "A malformed email, a weak password, or an unknown `author_id`.",
    }
);

crate::problem_responses!(
    /// Errors of deleting a user.
    UserDeleteError {
        400 BadRequest "The id is not a UUID.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage users.",
        404 NotFound "No user has this id.",
        409 Conflict "It is the last active admin.",
    }
);

pub struct UsersApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UsersApi {
    /// List users
    ///
    /// Admins only. Sorted by email, a keyset page at a time.
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only users with this role.
        role: Query<Option<Role>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
    ) -> Result<Found<UserList>, UserListError> {
        require(&auth.0, Action::ManageUsers)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = users::list(&state.db, role.0, &params).await?;
        Ok(Found(UserList {
            meta: ListMeta::of(&page, params.limit),
            data: page.items.into_iter().map(User::from).collect(),
        }))
    }

    /// Create a user
    ///
    /// Admins only. The password must be at least 12 characters, not a common one, and
    /// not contain the email's name.
    #[oai(path = "/users", method = "post", operation_id = "createUser")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<UserCreate>,
    ) -> Result<Created<User>, UserCreateError> {
        require(&auth.0, Action::ManageUsers)?;
        let created = users::create(&state.db, &state.passwords, body.0, state.clock.now()).await?;
        tracing::info!(user = %created.id, role = %created.role, by = %auth.0, "user created");
        let location = format!("/api/v1/users/{}", created.id);
        Ok(Created(created.into(), location))
    }

    /// Get a user
    ///
    /// Admins only.
    #[oai(path = "/users/:id", method = "get", operation_id = "getUser")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id.
        id: Path<Uuid>,
    ) -> Result<Found<User>, UserReadError> {
        require(&auth.0, Action::ManageUsers)?;
        Ok(Found(users::get(&state.db, id.0).await?.into()))
    }

    /// Update a user
    ///
    /// Admins only. Change the email, password, role, author link or whether the account
    /// is disabled. Disabling it, changing its password or giving it another role ends its
    /// sessions, and its access tokens stop working at once. The last active admin cannot be
    /// demoted or disabled.
    #[oai(path = "/users/:id", method = "patch", operation_id = "updateUser")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id.
        id: Path<Uuid>,
        body: JsonBody<UserUpdate>,
    ) -> Result<Saved<User>, UserUpdateError> {
        require(&auth.0, Action::ManageUsers)?;
        let updated =
            users::update(&state.db, &state.passwords, id.0, body.0, state.clock.now()).await?;
        tracing::info!(user = %updated.id, by = %auth.0, "user updated");
        Ok(Saved(updated.into()))
    }

    /// Delete a user
    ///
    /// Admins only. Their sessions end and their access tokens stop working at once; the
    /// author byline they were linked to stays. The last active admin cannot be deleted.
    #[oai(path = "/users/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, UserDeleteError> {
        require(&auth.0, Action::ManageUsers)?;
        users::delete(&state.db, id.0).await?;
        tracing::info!(user = %id.0, by = %auth.0, "user deleted");
        Ok(Deleted::NoContent)
    }
}
