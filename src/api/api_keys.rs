//! `/api/v1/api-keys`: API keys for frontends and services, for admins only. A key's
//! text is shown once, in the answer to its create; lists and reads show its prefix,
//! never the text or its hash.

use chrono::{DateTime, Utc};
use entity::api_key;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::body::JsonBody;
use super::found::{Created, Found};
use super::publishers::Deleted;
use super::{ApiTags, AppState, BearerAuth, ListMeta, page_params, require};
use crate::accounts::api_keys::{self, ApiKeyCreate};
use crate::auth::api_key::allowed_origins;
use crate::auth::policy::{Action, Grant};
use crate::nullable::Nullable;

/// An API key, without its text.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct ApiKey {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// What the key is for.
    pub name: String,
    /// What the key may do.
    pub scope: Grant,
    /// The account a role-scoped key acts as; `null` for a read scope.
    pub user_id: Nullable<Uuid>,
    /// The start of the key's text (`dsp_live_` and 8 characters), to tell keys apart.
    /// Not a secret, and not enough to use the key.
    pub prefix: String,
    /// The origins the key may be used from; `null` when any (or none) may.
    pub allowed_origins: Nullable<Vec<String>>,
    /// When it stops working (RFC 3339, UTC); `null` for never.
    #[serde(serialize_with = "crate::nullable::rfc3339")]
    pub expires_at: Nullable<DateTime<Utc>>,
    /// When it was last used, to the minute (RFC 3339, UTC); `null` if never.
    #[serde(serialize_with = "crate::nullable::rfc3339")]
    pub last_used_at: Nullable<DateTime<Utc>>,
    /// The admin who created it; `null` once their account is gone.
    pub created_by: Nullable<Uuid>,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl ApiKey {
    fn of(m: &api_key::Model) -> Self {
        Self {
            id: m.id,
            name: m.name.clone(),
            scope: m.scope.parse().unwrap_or_else(|err| {
                tracing::error!(key = %m.id, %err, "an API key has a scope this build does not know");
                Grant::ReadPublished
            }),
            user_id: m.user_id.into(),
            prefix: m.prefix.clone(),
            allowed_origins: allowed_origins(m).into(),
            expires_at: m.expires_at.into(),
            last_used_at: m.last_used_at.into(),
            created_by: m.created_by.into(),
            created_at: m.created_at,
        }
    }
}

/// A new API key with its text, shown in this answer only: store it now.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct ApiKeyWithSecret {
    #[oai(flatten)]
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key (`dsp_live_` and 43 URL-safe characters), to send as
    /// `Authorization: Bearer dsp_live_…` (never in a URL). Only its SHA-256 is stored:
    /// it is never shown again.
    pub key: String,
}

/// A page of API keys.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct ApiKeyList {
    /// The keys on this page (not revoked), newest first.
    pub data: Vec<ApiKey>,
    /// Paging information.
    pub meta: ListMeta,
}

crate::problem_responses!(
    /// Errors of listing API keys.
    ApiKeyListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
        401 Unauthorized "No token, or a token or API key that is not valid.",
        403 Forbidden "Only admins manage API keys.",
    }
    429 TooManyRequests "An API key sent more requests than its rate allows; `Retry-After` says when to try again."
);

crate::problem_responses!(
    /// Errors of reading an API key.
    ApiKeyReadError {
        400 BadRequest "The id is not a UUID.",
        401 Unauthorized "No token, or a token or API key that is not valid.",
        403 Forbidden "Only admins manage API keys.",
        404 NotFound "No API key has this id (or it was revoked).",
    }
    429 TooManyRequests "An API key sent more requests than its rate allows; `Retry-After` says when to try again."
);

crate::problem_responses!(
    /// Errors of creating an API key.
    ApiKeyCreateError {
        400 BadRequest "The body is not valid JSON or breaks the schema (a missing `name` or `scope`, an unknown scope, a name over 200 characters, more than 32 origins).",
        401 Unauthorized "No token, or a token or API key that is not valid.",
        403 Forbidden "Only admins manage API keys.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "A blank `name`; an `expires_at` not in the future; an entry of `allowed_origins` that is not an origin (`allowed_origins[i]`), or an empty list; `user_id` missing for a role scope, present for a read scope, naming no account or a disabled one, or an account whose role is below the key's. Every field at fault is named.",
    }
    429 TooManyRequests "An API key sent more requests than its rate allows; `Retry-After` says when to try again."
);

crate::problem_responses!(
    /// Errors of revoking an API key.
    ApiKeyRevokeError {
        400 BadRequest "The id is not a UUID.",
        401 Unauthorized "No token, or a token or API key that is not valid.",
        403 Forbidden "Only admins manage API keys.",
        404 NotFound "No API key has this id, or it is revoked already.",
    }
    429 TooManyRequests "An API key sent more requests than its rate allows; `Retry-After` says when to try again."
);

pub struct ApiKeysApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// List API keys
    ///
    /// Admins only. The keys not revoked, newest first, a keyset page at a time; their
    /// prefixes, never their text.
    #[oai(path = "/api-keys", method = "get", operation_id = "listApiKeys")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
    ) -> Result<Found<ApiKeyList>, ApiKeyListError> {
        require(&auth.0, Action::ManageApiKeys)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = api_keys::list(&state.db, &params).await?;
        Ok(Found(ApiKeyList {
            meta: ListMeta::of(&page, params.limit),
            data: page.items.iter().map(ApiKey::of).collect(),
        }))
    }

    /// Create an API key
    ///
    /// Admins only. The answer holds the key's text, which is never shown again (only
    /// its SHA-256 is kept). Send it as `Authorization: Bearer dsp_live_…`; a key in the
    /// query string is ignored. A `read:*` key acts as no account; a role-scoped key
    /// acts as `user_id` with its role (its writes, revisions and events are that
    /// user's). Requests with a key have their own rate limit.
    #[oai(path = "/api-keys", method = "post", operation_id = "createApiKey")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ApiKeyCreate>,
    ) -> Result<Created<ApiKeyWithSecret>, ApiKeyCreateError> {
        require(&auth.0, Action::ManageApiKeys)?;
        let created =
            api_keys::create(&state.db, body.0, auth.0.user_id(), state.clock.now()).await?;
        let view = ApiKey::of(&created.key);
        tracing::info!(api_key = %view.id, scope = view.scope.as_str(), by = %auth.0, "API key created");
        let location = format!("/api/v1/api-keys/{}", view.id);
        Ok(Created(
            ApiKeyWithSecret {
                api_key: view,
                key: created.text,
            },
            location,
        ))
    }

    /// Get an API key
    ///
    /// Admins only. Without its text. A revoked key is a 404.
    #[oai(path = "/api-keys/:id", method = "get", operation_id = "getApiKey")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The key's id.
        id: Path<Uuid>,
    ) -> Result<Found<ApiKey>, ApiKeyReadError> {
        require(&auth.0, Action::ManageApiKeys)?;
        let found = api_keys::get(&state.db, id.0).await?;
        Ok(Found(ApiKey::of(&found)))
    }

    /// Revoke an API key
    ///
    /// Admins only. The key stops working at once (its next request is a 401) and is no
    /// longer listed.
    #[oai(
        path = "/api-keys/:id",
        method = "delete",
        operation_id = "revokeApiKey"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The key's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, ApiKeyRevokeError> {
        require(&auth.0, Action::ManageApiKeys)?;
        api_keys::revoke(&state.db, id.0, state.clock.now()).await?;
        tracing::info!(api_key = %id.0, by = %auth.0, "API key revoked");
        Ok(Deleted::NoContent)
    }
}
