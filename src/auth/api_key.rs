//! API keys as credentials: their text (`dsp_live_` and 43 URL-safe characters, 32
//! random bytes), what is stored of it (its SHA-256, and a short prefix to tell keys
//! apart), and how a request's key becomes the [`Principal`] it acts for. The key is
//! loaded by its hash with its account in one statement, and refused when it is
//! unknown, revoked or expired (by the injectable clock), when it is sent from an
//! origin it does not allow, or when the account a role-scoped key acts as is
//! disabled or no longer holds the key's role. Its last use is recorded at most once
//! a minute.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{api_key, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::policy::Grant;
use super::{Principal, Role};
use crate::digest::sha256_hex;
use crate::error::ApiError;

/// What every key's text starts with, so that secret scanners can spot it.
pub const PREFIX: &str = "dsp_live_";
/// A bearer starting with this is an API key; anything else an access token.
pub const KEY_MARK: &str = "dsp_";
/// The random bytes of a key.
pub const SECRET_BYTES: usize = 32;
/// How many characters after [`PREFIX`] the stored, shown prefix keeps.
pub const SHOWN_CHARS: usize = 8;
/// How often `last_used_at` is written at most, per key.
pub const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// Whether a bearer token is an API key (rather than an access token).
pub fn is_key(token: &str) -> bool {
    token.starts_with(KEY_MARK)
}

/// A new key: its text (shown once), its hash and its shown prefix (stored).
pub struct NewKey {
    pub text: String,
    pub hash: String,
    pub prefix: String,
}

/// Makes a new key from the system's randomness.
pub fn generate() -> Result<NewKey, ApiError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|err| {
        tracing::error!(%err, "no system randomness for an API key");
        ApiError::Internal
    })?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let text = format!("{PREFIX}{secret}");
    Ok(NewKey {
        hash: hash(&text),
        prefix: format!("{PREFIX}{}", &secret[..SHOWN_CHARS]),
        text,
    })
}

/// What is stored of a key's text: its SHA-256 in hex.
pub fn hash(text: &str) -> String {
    sha256_hex(text.as_bytes())
}

/// An allowed origin as stored and compared: `scheme://host[:port]` in lower case,
/// without the default port (as browsers send `Origin`); the message when it is not one.
pub fn origin(entry: &str) -> Result<String, String> {
    crate::config::origin(entry).map_err(|_| {
        "must be an origin, scheme://host[:port] with no path, e.g. https://news.example"
            .to_string()
    })
}

/// The origins a key allows (`None`: any, or none sent).
pub fn allowed_origins(key: &api_key::Model) -> Option<Vec<String>> {
    let text = key.allowed_origins.as_deref()?;
    Some(serde_json::from_str(text).unwrap_or_else(|err| {
        tracing::error!(key = %key.id, %err, "an API key's origins do not decode");
        Vec::new()
    }))
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized(detail.to_string())
}

/// The key whose text is `text`, checked at `now` for a request from `origin`, as
/// the principal it acts for, with its row (one statement).
pub async fn authenticate(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    text: &str,
    origin: Option<&str>,
) -> Result<(Principal, api_key::Model), ApiError> {
    let found = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash(text)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((key, account)) = found else {
        return Err(unauthorized("The API key is not valid."));
    };
    if key.revoked_at.is_some() {
        return Err(unauthorized("The API key has been revoked."));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(unauthorized("The API key has expired."));
    }
    if let Some(allowed) = allowed_origins(&key) {
        let Some(origin) = origin else {
            return Err(unauthorized(
                "This API key may be used only from its allowed origins, and the request has no \
                 `Origin` header.",
            ));
        };
        let sent = crate::config::origin(origin).ok();
        if !sent.is_some_and(|o| allowed.contains(&o)) {
            return Err(unauthorized(
                "This API key may not be used from the request's origin.",
            ));
        }
    }
    let grant = key.scope.parse::<Grant>().map_err(|err| {
        tracing::error!(key = %key.id, %err, "an API key has a scope this build does not know");
        ApiError::Internal
    })?;
    let Some(role) = grant.role() else {
        let principal = Principal {
            user: None,
            grant,
            key: Some(key.id),
        };
        return Ok((principal, key));
    };
    let account = account
        .ok_or_else(|| unauthorized("The account this API key acts as no longer exists."))?;
    if account.disabled {
        return Err(unauthorized(
            "The account this API key acts as is disabled.",
        ));
    }
    let held = account.role.parse::<Role>().map_err(|err| {
        tracing::error!(user = %account.id, %err, "a user has a role this build does not know");
        ApiError::Internal
    })?;
    if role.rank() > held.rank() {
        return Err(ApiError::Unauthorized(format!(
            "The API key's role `{}` is above the role its account holds now (`{}`); create a \
             new key.",
            role.as_str(),
            held.as_str()
        )));
    }
    let principal = Principal {
        user: Some(account),
        grant,
        key: Some(key.id),
    };
    Ok((principal, key))
}

/// Whether a key last used at `last` is to be marked used at `now`.
pub fn due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| now - last >= TOUCH_EVERY)
}

/// Records that key `id` was used at `now`, unless it was within the last minute
/// (one conditional statement, so that requests at once write it once).
pub async fn touch(db: &DatabaseConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(api_key::Column::LastUsedAt.is_null())
                .add(api_key::Column::LastUsedAt.lte(now - TOUCH_EVERY)),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_prefixed_long_and_url_safe() {
        let key = generate().unwrap();
        assert!(key.text.starts_with(PREFIX));
        let secret = &key.text[PREFIX.len()..];
        assert_eq!(secret.len(), 43);
        assert!(
            secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(key.prefix, &key.text[..PREFIX.len() + SHOWN_CHARS]);
        assert_eq!(key.hash, hash(&key.text));
        assert_eq!(key.hash.len(), 64);
        assert!(is_key(&key.text));
        assert!(!is_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }

    #[test]
    fn origins_are_exact_and_normalised() {
        assert_eq!(
            origin("https://Site.Example:443/").unwrap(),
            "https://site.example"
        );
        assert_eq!(
            origin("http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        for bad in [
            "site.example",
            "https://site.example/path",
            "*",
            "ftp://x.example",
            "",
        ] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn last_use_is_written_once_a_minute() {
        let now = Utc::now();
        assert!(due(None, now));
        assert!(!due(Some(now - chrono::Duration::seconds(59)), now));
        assert!(due(Some(now - chrono::Duration::seconds(60)), now));
    }
}
