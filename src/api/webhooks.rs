//! `/api/v1/webhooks`: the endpoints events are sent to, their deliveries, a retry
//! and a test delivery, for admins only. A webhook's signing secret is shown twice
//! at most: when it is created and when it is rotated.

use chrono::{DateTime, Utc};
use entity::{webhook, webhook_attempt, webhook_delivery};
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::body::{JsonBody, OptionalJsonBody};
use super::found::{Found, Saved, json_response};
use super::publishers::Deleted;
use super::{ApiTags, AppState, BearerAuth, ListMeta, page_params, require};
use crate::auth::policy::Action;
use crate::nullable::Nullable;
use crate::webhooks::deliveries::{self, DeliveryState};
use crate::webhooks::endpoints::{
    self, SecretRotation, WebhookCreate, WebhookUpdate, event_types, rotation_ends_at,
};

/// A webhook endpoint. Its signing secret is never part of it: it is shown once, in
/// the answer to the create and to each rotation.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Webhook {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// Where deliveries are POSTed (normalised: a lower-case host, a path).
    pub url: String,
    /// What the endpoint is for.
    pub description: Nullable<String>,
    /// The event types and patterns it receives (`*`, `article.*`, `tag.deleted`, …).
    pub event_types: Vec<String>,
    /// Whether events are sent to it. Dispatch disables an endpoint that answers
    /// `410 Gone` or keeps failing for days, and says why in `disabled_reason`.
    pub enabled: bool,
    /// Why Dispatch disabled it; `null` while it is enabled or when an admin disabled it.
    pub disabled_reason: Nullable<String>,
    /// Since when its deliveries have been failing with no success in between (RFC 3339,
    /// UTC); `null` while they succeed.
    #[serde(serialize_with = "crate::nullable::rfc3339")]
    pub failing_since: Nullable<DateTime<Utc>>,
    /// Until when the secret rotated out last still signs beside the current one (every
    /// delivery carries both signatures until then; RFC 3339, UTC); `null` when only the
    /// current secret signs.
    #[serde(serialize_with = "crate::nullable::rfc3339")]
    pub secret_rotation_ends_at: Nullable<DateTime<Utc>>,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// The view of `m` at `now` (whether a rotation is still on depends on the time).
    pub fn of(m: &webhook::Model, now: DateTime<Utc>) -> Self {
        Self {
            id: m.id,
            url: m.url.clone(),
            description: m.description.clone().into(),
            event_types: event_types(m),
            enabled: m.enabled,
            disabled_reason: m.disabled_reason.clone().into(),
            failing_since: m.failing_since.into(),
            secret_rotation_ends_at: rotation_ends_at(m, now).into(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A webhook endpoint with its signing secret, shown in this answer only (to the
/// create and to each rotation): store it now.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct WebhookWithSecret {
    #[oai(flatten)]
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (Standard Webhooks: `whsec_` and the base64 of a 32-byte key).
    /// Each delivery's `webhook-signature` is `v1,` and the base64 HMAC-SHA256, under the
    /// decoded key, of `<webhook-id>.<webhook-timestamp>.<body>`. Never shown again.
    pub secret: String,
}

impl WebhookWithSecret {
    fn of(m: webhook::Model, now: DateTime<Utc>) -> Self {
        Self {
            webhook: Webhook::of(&m, now),
            secret: m.secret,
        }
    }
}

/// A page of webhooks.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct WebhookList {
    /// The webhooks on this page, newest first.
    pub data: Vec<Webhook>,
    /// Paging information.
    pub meta: ListMeta,
}

/// One attempt at a delivery.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct DeliveryAttempt {
    /// When it was made (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status the endpoint answered; `null` when none answered (refused, timed out).
    pub status_code: Nullable<i32>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
    /// The first 1 KB of the response body; `null` when there was none.
    pub response_body: Nullable<String>,
    /// What went wrong, in words, when no answer came; `null` otherwise.
    pub error: Nullable<String>,
}

impl From<webhook_attempt::Model> for DeliveryAttempt {
    fn from(m: webhook_attempt::Model) -> Self {
        Self {
            attempted_at: m.attempted_at,
            status_code: m.status_code.into(),
            duration_ms: m.duration_ms,
            response_body: m.response_body.into(),
            error: m.error.into(),
        }
    }
}

/// One event (or a `ping`) on its way to one endpoint, with every attempt at it.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct Delivery {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// The endpoint it goes to.
    pub webhook_id: Uuid,
    /// The event's id, sent as the `webhook-id` header: receivers dedupe by it. A `ping`
    /// has an id of its own.
    pub event_id: Uuid,
    /// The event's type, or `ping` for a test delivery.
    pub event_type: String,
    /// `pending` (an attempt is due at `next_attempt_at`), `delivered` or `failed`.
    pub state: DeliveryState,
    /// How many attempts have been made.
    pub attempt_count: i32,
    /// When the next attempt is due (RFC 3339, UTC); `null` once delivered or failed.
    #[serde(serialize_with = "crate::nullable::rfc3339")]
    pub next_attempt_at: Nullable<DateTime<Utc>>,
    /// The HTTP status of the last attempt, if one answered.
    pub last_status: Nullable<i32>,
    /// What went wrong at the last attempt, if it failed.
    pub last_error: Nullable<String>,
    /// When it was queued (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

impl Delivery {
    fn of(m: webhook_delivery::Model, attempts: Vec<webhook_attempt::Model>) -> Self {
        Self {
            id: m.id,
            webhook_id: m.webhook_id,
            event_id: m.event_id,
            event_type: m.event_type,
            state: DeliveryState::of(&m.state),
            attempt_count: m.attempts,
            next_attempt_at: m.next_attempt_at.into(),
            last_status: m.last_status.into(),
            last_error: m.last_error.into(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            attempts: attempts.into_iter().map(DeliveryAttempt::from).collect(),
        }
    }
}

/// A page of deliveries.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct DeliveryList {
    /// The deliveries on this page, newest first.
    pub data: Vec<Delivery>,
    /// Paging information.
    pub meta: ListMeta,
}

/// A created webhook: 201 with `Location`, `ETag` and the secret, shown this once.
pub struct WebhookCreated(WebhookWithSecret);

impl IntoResponse for WebhookCreated {
    fn into_response(self) -> Response {
        let mut resp = json_response(&self.0);
        resp.set_status(poem::http::StatusCode::CREATED);
        if let Ok(value) = format!("/api/v1/webhooks/{}", self.0.webhook.id).parse() {
            resp.headers_mut()
                .insert(poem::http::header::LOCATION, value);
        }
        resp
    }
}

fn header(name: &str, description: &str) -> MetaHeader {
    MetaHeader {
        name: name.to_string(),
        description: Some(description.to_string()),
        required: true,
        deprecated: false,
        schema: String::schema_ref(),
    }
}

impl ApiResponse for WebhookCreated {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Created, with its signing secret (shown this once); `Location` is its address.",
                status: Some(201),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: WebhookWithSecret::schema_ref(),
                }],
                headers: vec![
                    header("Location", "The new webhook's address."),
                    header(
                        "ETag",
                        "A strong entity tag of this exact body (a read of the webhook, which \
                         never holds the secret, answers another).",
                    ),
                ],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        WebhookWithSecret::register(registry);
    }
}

/// A delivery queued for the worker: 202 with the delivery.
pub struct Queued(Delivery);

impl IntoResponse for Queued {
    fn into_response(self) -> Response {
        let mut resp = json_response(&self.0);
        resp.set_status(poem::http::StatusCode::ACCEPTED);
        resp
    }
}

impl ApiResponse for Queued {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Queued: the delivery is `pending`, due now; the delivery worker \
                              sends it, and its attempts show in the deliveries list.",
                status: Some(202),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: Delivery::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        Delivery::register(registry);
    }
}

crate::problem_responses!(
    /// Errors of listing webhooks.
    WebhookListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
    }
);

crate::problem_responses!(
    /// Errors of reading a webhook.
    WebhookReadError {
        400 BadRequest "The id is not a UUID.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        404 NotFound "No webhook has this id.",
    }
);

crate::problem_responses!(
    /// Errors of creating a webhook.
    WebhookCreateError {
        400 BadRequest "The body is not valid JSON or breaks the schema (wrong type, missing `url`, too long).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "The `url` is not an absolute http(s) URL with a host, carries credentials or a fragment, or its host is (or resolves to) an internal address or does not resolve; or `event_types` is empty, holds more than 32 entries, or one that is not an event type or pattern. The detail says which and why.",
    }
);

crate::problem_responses!(
    /// Errors of changing a webhook.
    WebhookUpdateError {
        400 BadRequest "The id is not a UUID, or the body breaks the schema.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        404 NotFound "No webhook has this id.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
        422 UnprocessableEntity "A refused `url` or `event_types` (as at creation), or `null` for `url`, `event_types` or `enabled`.",
    }
);

crate::problem_responses!(
    /// Errors of deleting a webhook.
    WebhookDeleteError {
        400 BadRequest "The id is not a UUID.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        404 NotFound "No webhook has this id.",
    }
);

crate::problem_responses!(
    /// Errors of rotating a webhook's secret.
    SecretRotationError {
        400 BadRequest "The id is not a UUID, or the body breaks the schema (`overlap_seconds` not an integer from 0 to 604800).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        404 NotFound "No webhook has this id.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "A body was sent that is not `application/json`.",
    }
);

crate::problem_responses!(
    /// Errors of listing a webhook's deliveries.
    DeliveryListError {
        400 BadRequest "The id is not a UUID, or a parameter is malformed or out of range (an unknown `state`, `limit` above 100, a forged `cursor`).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        404 NotFound "No webhook has this id.",
    }
);

crate::problem_responses!(
    /// Errors of retrying a delivery.
    DeliveryRetryError {
        400 BadRequest "An id is not a UUID.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        404 NotFound "No webhook has this id, or it has no delivery with this one.",
        409 Conflict "The webhook is disabled (enable it first), or the delivery's event is older than the retention period and no longer kept.",
    }
);

crate::problem_responses!(
    /// Errors of sending a test delivery.
    WebhookTestError {
        400 BadRequest "The id is not a UUID.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "Only admins manage webhooks.",
        404 NotFound "No webhook has this id.",
        409 Conflict "The webhook is disabled; enable it first.",
    }
);

pub struct WebhooksApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// List webhooks
    ///
    /// Admins only. Newest first, a keyset page at a time. The secrets are never listed.
    #[oai(path = "/webhooks", method = "get", operation_id = "listWebhooks")]
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
    ) -> Result<Found<WebhookList>, WebhookListError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = endpoints::list(&state.db, &params).await?;
        let now = state.clock.now();
        Ok(Found(WebhookList {
            meta: ListMeta::of(&page, params.limit),
            data: page.items.iter().map(|m| Webhook::of(m, now)).collect(),
        }))
    }

    /// Create a webhook
    ///
    /// Admins only. The endpoint receives the events recorded from now on that its
    /// `event_types` choose, each POSTed as JSON and signed the Standard Webhooks way
    /// (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The answer holds the
    /// signing secret, which is never shown again (rotate it to get a new one). The URL's
    /// host is resolved now, and again at every delivery: an internal address is refused
    /// unless the server allows private addresses.
    #[oai(path = "/webhooks", method = "post", operation_id = "createWebhook")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<WebhookCreate>,
    ) -> Result<WebhookCreated, WebhookCreateError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let now = state.clock.now();
        let created = endpoints::create(&state.db, state.events.allow_private, body.0, now).await?;
        tracing::info!(webhook = %created.id, by = %auth.0, "webhook created");
        Ok(WebhookCreated(WebhookWithSecret::of(created, now)))
    }

    /// Get a webhook
    ///
    /// Admins only. Without its secret.
    #[oai(path = "/webhooks/:id", method = "get", operation_id = "getWebhook")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
    ) -> Result<Found<Webhook>, WebhookReadError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let found = endpoints::get(&state.db, id.0).await?;
        Ok(Found(Webhook::of(&found, state.clock.now())))
    }

    /// Update a webhook
    ///
    /// Admins only. Change the URL, the description, the events it receives, or whether it
    /// is enabled. Enabling it again clears `disabled_reason` and, if it was disabled,
    /// `failing_since`; its deliveries resume.
    #[oai(
        path = "/webhooks/:id",
        method = "patch",
        operation_id = "updateWebhook"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
        body: JsonBody<WebhookUpdate>,
    ) -> Result<Saved<Webhook>, WebhookUpdateError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let now = state.clock.now();
        let updated =
            endpoints::update(&state.db, state.events.allow_private, id.0, body.0, now).await?;
        tracing::info!(webhook = %updated.id, enabled = updated.enabled, by = %auth.0, "webhook updated");
        Ok(Saved(Webhook::of(&updated, now)))
    }

    /// Delete a webhook
    ///
    /// Admins only. Its deliveries and their attempts go with it; nothing more is sent to it.
    #[oai(
        path = "/webhooks/:id",
        method = "delete",
        operation_id = "deleteWebhook"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, WebhookDeleteError> {
        require(&auth.0, Action::ManageWebhooks)?;
        endpoints::delete(&state.db, id.0).await?;
        tracing::info!(webhook = %id.0, by = %auth.0, "webhook deleted");
        Ok(Deleted::NoContent)
    }

    /// Rotate a webhook's secret
    ///
    /// Admins only. Makes a new signing secret and answers it, this once. The old one keeps
    /// signing beside it for `overlap_seconds` (a day when there is no body): every delivery
    /// then carries both signatures, so the receiver can switch to the new secret without
    /// refusing one. A secret rotated out earlier stops signing now.
    #[oai(
        path = "/webhooks/:id/secret",
        method = "post",
        operation_id = "rotateWebhookSecret"
    )]
    async fn rotate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
        body: OptionalJsonBody<SecretRotation>,
    ) -> Result<Saved<WebhookWithSecret>, SecretRotationError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let overlap = body.0.unwrap_or_default().overlap_seconds;
        let now = state.clock.now();
        let rotated = endpoints::rotate(&state.db, id.0, overlap, now).await?;
        tracing::info!(webhook = %rotated.id, overlap, by = %auth.0, "webhook secret rotated");
        Ok(Saved(WebhookWithSecret::of(rotated, now)))
    }

    /// List a webhook's deliveries
    ///
    /// Admins only. Newest first, a keyset page at a time, each with its attempts (when,
    /// the status that came back, how long it took, the first 1 KB of the response, what
    /// went wrong) and when the next one is due.
    #[oai(
        path = "/webhooks/:id/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as poem-openapi wants
    async fn deliveries(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
        /// Only deliveries in this state.
        #[oai(name = "state")]
        delivery_state: Query<Option<DeliveryState>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
    ) -> Result<Found<DeliveryList>, DeliveryListError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = deliveries::list(&state.db, id.0, delivery_state.0, &params).await?;
        Ok(Found(DeliveryList {
            meta: ListMeta::of(&page, params.limit),
            data: page
                .items
                .into_iter()
                .map(|(delivery, attempts)| Delivery::of(delivery, attempts))
                .collect(),
        }))
    }

    /// Retry a delivery
    ///
    /// Admins only. Queues the delivery again, due now, whatever its state (a delivered
    /// one is sent again); its earlier attempts stay listed. The webhook must be enabled.
    #[oai(
        path = "/webhooks/:id/deliveries/:delivery_id/retry",
        method = "post",
        operation_id = "retryWebhookDelivery"
    )]
    async fn retry(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
        /// The delivery's id.
        delivery_id: Path<Uuid>,
    ) -> Result<Queued, DeliveryRetryError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let (delivery, attempts) =
            deliveries::retry(&state.db, id.0, delivery_id.0, state.clock.now()).await?;
        tracing::info!(webhook = %id.0, delivery = %delivery.id, by = %auth.0, "webhook delivery retried");
        Ok(Queued(Delivery::of(delivery, attempts)))
    }

    /// Send a test delivery
    ///
    /// Admins only. Queues a `ping` to the webhook: `{"id", "type": "ping", "occurred_at",
    /// "data": {"webhook_id"}}`, signed like every delivery, with an id of its own. The
    /// webhook must be enabled.
    #[oai(
        path = "/webhooks/:id/test",
        method = "post",
        operation_id = "testWebhook"
    )]
    async fn test(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
    ) -> Result<Queued, WebhookTestError> {
        require(&auth.0, Action::ManageWebhooks)?;
        let delivery = deliveries::ping(&state.db, id.0, state.clock.now()).await?;
        tracing::info!(webhook = %id.0, delivery = %delivery.id, by = %auth.0, "webhook ping queued");
        Ok(Queued(Delivery::of(delivery, Vec::new())))
    }
}
