//! Webhook endpoints as admins manage them: registering one (its URL checked by
//! [`super::address`], its event filter by [`crate::content::events`], a new
//! signing secret made), listing, changing and deleting them, and rotating the
//! secret with an overlap during which the old one still signs. Every change is one
//! conditional statement on the endpoint's row, so that concurrent changes to one
//! endpoint each answer with the row as they left it, or a 404 once it is gone.

use chrono::{DateTime, Utc};
use entity::{event, webhook};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::address;
use crate::content::events;
pub use crate::content::page::newest_first;
use crate::content::taxonomy::{Page, PageParams};
use crate::content::text::Text;
use crate::error::{ApiError, FieldError};

/// The most a description may hold, in characters.
pub const MAX_DESCRIPTION: usize = 500;

/// How long a rotated-out secret keeps signing when the rotation does not say (a day).
pub const DEFAULT_OVERLAP_SECS: u64 = 86_400;

/// The longest overlap a rotation may ask for (a week).
pub const MAX_OVERLAP_SECS: u64 = 604_800;

/// A new endpoint.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct WebhookCreate {
    /// Where deliveries are POSTed: an absolute `http` or `https` URL with a host, without
    /// credentials (`user:pass@`, which would be logged) or a fragment. Its host may not be,
    /// or resolve to, a loopback, private, link-local or otherwise internal address unless
    /// the server runs with `DISPATCH_WEBHOOK_ALLOW_PRIVATE=true`.
    #[oai(validator(max_length = 2048))]
    pub url: Text,
    /// What the endpoint is for, for admins.
    #[oai(validator(max_length = 500))]
    pub description: Option<Text>,
    /// The events it receives: event types (`article.published`), `<resource>.*`
    /// (`article.*`; resources: article, publisher, author, tag, comment) or `*` (every
    /// event). One to 32; repeats are dropped. Every event when absent.
    #[oai(default = "every_event")]
    pub event_types: Vec<Text>,
    /// Whether events are sent to it; `true` when absent.
    #[oai(default = "enabled_by_default")]
    pub enabled: bool,
}

fn every_event() -> Vec<Text> {
    vec![Text::from("*")]
}

fn enabled_by_default() -> bool {
    true
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct WebhookUpdate {
    /// A new URL, under the same rules as at creation.
    #[oai(validator(max_length = 2048))]
    pub url: MaybeUndefined<Text>,
    /// A new description; `null` clears it.
    #[oai(validator(max_length = 500))]
    pub description: MaybeUndefined<Text>,
    /// A new choice of events (replacing the old one), under the same rules as at creation.
    pub event_types: MaybeUndefined<Vec<Text>>,
    /// `false` stops deliveries to it; `true` starts them again and forgets why Dispatch
    /// disabled it and since when it was failing.
    pub enabled: MaybeUndefined<bool>,
}

/// A rotation of the signing secret.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example)]
pub struct SecretRotation {
    /// For how many seconds the old secret keeps signing beside the new one (every delivery
    /// then carries both signatures), so receivers can switch without missing one: 0 (the
    /// old secret stops at once) to 604800 (a week); 86400 (a day) when absent.
    #[oai(
        default = "default_overlap",
        validator(minimum(value = "0"), maximum(value = "604800"))
    )]
    pub overlap_seconds: u64,
}

fn default_overlap() -> u64 {
    DEFAULT_OVERLAP_SECS
}

impl Default for SecretRotation {
    fn default() -> Self {
        Self {
            overlap_seconds: DEFAULT_OVERLAP_SECS,
        }
    }
}

pub fn not_found() -> ApiError {
    ApiError::NotFound("No webhook has this id.".to_string())
}

/// The event types and patterns an endpoint's row holds (a JSON array).
pub fn event_types(model: &webhook::Model) -> Vec<String> {
    serde_json::from_str(&model.event_types).unwrap_or_else(|err| {
        tracing::error!(webhook = %model.id, %err, "a webhook's event types do not decode");
        Vec::new()
    })
}

/// The end of the overlap while the rotated-out secret still signs, if it has not
/// passed at `now`.
pub fn rotation_ends_at(model: &webhook::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    model
        .previous_secret_until
        .filter(|until| model.previous_secret.is_some() && *until > now)
}

/// A new signing secret ([`super::signing::generate`]).
fn new_secret() -> Result<String, ApiError> {
    super::signing::generate().map_err(|err| {
        tracing::error!(%err, "no system randomness for a webhook secret");
        ApiError::Internal
    })
}

/// Checks an endpoint's event types and patterns: at least one, and what
/// [`events::check_patterns`] takes; the list without repeats, in order.
pub fn check_patterns(patterns: &[Text]) -> Result<Vec<String>, String> {
    if patterns.is_empty() {
        return Err("must name at least one event type or pattern (`*` for every event)".into());
    }
    let patterns: Vec<&str> = patterns.iter().map(Text::as_str).collect();
    events::check_patterns(&patterns)
}

/// The URL, checked (`None` with an error pushed when it is refused).
async fn checked_url(
    url: &str,
    allow_private: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match address::check_url(url, allow_private).await {
        Ok(parsed) => Some(parsed.to_string()),
        Err(message) => {
            errors.push(FieldError::new("url", message));
            None
        }
    }
}

fn checked_patterns(patterns: &[Text], errors: &mut Vec<FieldError>) -> Option<String> {
    match check_patterns(patterns) {
        // A list of strings always serialises.
        Ok(list) => Some(serde_json::to_string(&list).unwrap_or_default()),
        Err(message) => {
            errors.push(FieldError::new("event_types", message));
            None
        }
    }
}

fn finish(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// Registers an endpoint. It receives the events recorded from now on: its cursor
/// starts at the last event position there is.
pub async fn create(
    db: &DatabaseConnection,
    allow_private: bool,
    input: WebhookCreate,
    now: DateTime<Utc>,
) -> Result<webhook::Model, ApiError> {
    let mut errors = Vec::new();
    let url = checked_url(&input.url, allow_private, &mut errors).await;
    let patterns = checked_patterns(&input.event_types, &mut errors);
    finish(errors)?;
    let (Some(url), Some(patterns)) = (url, patterns) else {
        return Err(ApiError::Internal);
    };
    let last: Option<i64> = event::Entity::find()
        .select_only()
        .column_as(event::Column::Position.max(), "last")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(webhook::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(url),
        description: Set(input.description.map(Text::into_inner)),
        event_types: Set(patterns),
        enabled: Set(input.enabled),
        disabled_reason: Set(None),
        secret: Set(new_secret()?),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        event_cursor: Set(last.unwrap_or(0)),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Endpoints, newest first, a keyset page at a time.
pub async fn list(
    db: &DatabaseConnection,
    params: &PageParams,
) -> Result<Page<webhook::Model>, ApiError> {
    newest_first(
        db,
        webhook::Entity::find(),
        webhook::Column::Id,
        params,
        |m| m.id,
    )
    .await
}

/// One endpoint.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<webhook::Model, ApiError> {
    webhook::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// Changes an endpoint in one statement (a 404 if it is gone). Enabling it forgets
/// why Dispatch disabled it and, if it was disabled, since when it was failing;
/// disabling it by hand leaves no reason.
pub async fn update(
    db: &DatabaseConnection,
    allow_private: bool,
    id: Uuid,
    input: WebhookUpdate,
    now: DateTime<Utc>,
) -> Result<webhook::Model, ApiError> {
    let mut errors = Vec::new();
    for (field, is_null) in [
        ("url", input.url.is_null()),
        ("event_types", input.event_types.is_null()),
        ("enabled", input.enabled.is_null()),
    ] {
        if is_null {
            errors.push(FieldError::new(field, "must not be null"));
        }
    }
    let url = match input.url.value() {
        Some(url) => checked_url(url, allow_private, &mut errors).await,
        None => None,
    };
    let patterns = input
        .event_types
        .value()
        .and_then(|p| checked_patterns(p, &mut errors));
    finish(errors)?;
    let mut change = webhook::Entity::update_many()
        .filter(webhook::Column::Id.eq(id))
        .col_expr(webhook::Column::UpdatedAt, Expr::value(now));
    if let Some(url) = url {
        change = change.col_expr(webhook::Column::Url, Expr::value(url));
    }
    if !input.description.is_undefined() {
        let description = input.description.take().map(Text::into_inner);
        change = change.col_expr(webhook::Column::Description, Expr::value(description));
    }
    if let Some(patterns) = patterns {
        change = change.col_expr(webhook::Column::EventTypes, Expr::value(patterns));
    }
    if let Some(enabled) = input.enabled.value().copied() {
        let no_reason: Option<String> = None;
        change = change
            .col_expr(webhook::Column::Enabled, Expr::value(enabled))
            .col_expr(webhook::Column::DisabledReason, Expr::value(no_reason));
        if enabled {
            // Only a disabled endpoint starts a new run: the right-hand sides read
            // the row as it was before this statement.
            let cleared: Option<DateTime<Utc>> = None;
            let failing_since: SimpleExpr = Expr::case(
                Expr::col(webhook::Column::Enabled).eq(true),
                Expr::col(webhook::Column::FailingSince),
            )
            .finally(Expr::value(cleared))
            .into();
            change = change.col_expr(webhook::Column::FailingSince, failing_since);
        }
    }
    change
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_found)
}

/// Deletes an endpoint with its deliveries and their attempts.
pub async fn delete(db: &DatabaseConnection, id: Uuid) -> Result<(), ApiError> {
    let done = webhook::Entity::delete_by_id(id).exec(db).await?;
    if done.rows_affected == 0 {
        return Err(not_found());
    }
    Ok(())
}

/// Gives an endpoint a new secret in one statement (a 404 if it is gone). The old
/// one keeps signing for `overlap_secs` (none: it stops at once); a secret rotated
/// out earlier stops now. The row returned holds the new secret.
pub async fn rotate(
    db: &DatabaseConnection,
    id: Uuid,
    overlap_secs: u64,
    now: DateTime<Utc>,
) -> Result<webhook::Model, ApiError> {
    let overlap = chrono::Duration::seconds(
        i64::try_from(std::cmp::min(overlap_secs, MAX_OVERLAP_SECS)).unwrap_or(0),
    );
    let secret = new_secret()?;
    let mut change = webhook::Entity::update_many()
        .filter(webhook::Column::Id.eq(id))
        .col_expr(webhook::Column::Secret, Expr::value(secret))
        .col_expr(webhook::Column::UpdatedAt, Expr::value(now));
    change = if overlap_secs > 0 {
        // The right-hand side reads the secret before this statement.
        change
            .col_expr(
                webhook::Column::PreviousSecret,
                Expr::col(webhook::Column::Secret),
            )
            .col_expr(
                webhook::Column::PreviousSecretUntil,
                Expr::value(Some(now + overlap)),
            )
    } else {
        let none: Option<String> = None;
        let never: Option<DateTime<Utc>> = None;
        change
            .col_expr(webhook::Column::PreviousSecret, Expr::value(none))
            .col_expr(webhook::Column::PreviousSecretUntil, Expr::value(never))
    };
    change
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::events::MAX_PATTERNS;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    fn texts(items: &[&str]) -> Vec<Text> {
        items.iter().map(|s| Text::from(*s)).collect()
    }

    #[test]
    fn patterns_are_checked_counted_and_deduplicated() {
        assert_eq!(
            check_patterns(&texts(&["article.*", "tag.deleted", "article.*"])).unwrap(),
            ["article.*", "tag.deleted"]
        );
        assert!(check_patterns(&[]).unwrap_err().contains("at least one"));
        assert!(
            check_patterns(&texts(&["*", "articles.*"]))
                .unwrap_err()
                .contains("`articles.*` is not an event type")
        );
        let many = vec![Text::from("*"); MAX_PATTERNS + 1];
        assert!(check_patterns(&many).unwrap_err().contains("at most 32"));
        assert_eq!(check_patterns(&many[..MAX_PATTERNS]).unwrap(), ["*"]);
    }

    #[test]
    fn secrets_are_standard_webhooks_keys_and_never_repeat() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        let key = a.strip_prefix("whsec_").unwrap();
        assert_eq!(
            STANDARD.decode(key).unwrap().len(),
            super::super::signing::KEY_BYTES
        );
    }
}
