//! Access tokens: JWTs signed with the configured HMAC algorithm (HS256 by
//! default) and verified with that algorithm only, every registered claim checked
//! against the injectable clock, and the account behind the token read afresh on
//! every request, so a disabled or deleted user loses access at once and a token
//! issued under an older credential version (before a new password, a disable or a
//! new role) is refused.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::user;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;
use super::policy::Grant;
use crate::config::Secret;
use crate::error::ApiError;

pub const ISSUER: &str = "dispatch";
pub const AUDIENCE: &str = "dispatch-api";
/// How far in the future `iat` and `nbf` may be, for clocks a little apart.
pub const CLOCK_SKEW_SECS: u64 = 30;
/// How long an access token lives unless configured otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// The claims of a Dispatch access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The user's role when the token was issued (the current role is read from
    /// the database on every request).
    pub role: Role,
    pub iat: u64,
    pub exp: u64,
    /// Not before: optional; honoured when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The user's credential version when the token was issued; required, and
    /// refused once the account's differs.
    pub ver: i32,
}

/// Signing and verification keys, built once from the configured secret.
pub struct TokenKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl TokenKeys {
    /// Keys for `algorithm` (one of HS256, HS384, HS512) issuing tokens that live `ttl`.
    pub fn new(secret: &Secret, algorithm: Algorithm, ttl: Duration) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Lifetimes are checked below against the application's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Self {
            algorithm,
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            ttl,
        }
    }

    /// How long the tokens this issues live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for the user `sub` with `role` and credential version `ver`,
    /// valid for the configured lifetime.
    pub fn issue(
        &self,
        sub: Uuid,
        role: Role,
        ver: i32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        self.issue_for(sub, role, ver, now, self.ttl)
    }

    /// Signs a token valid for `ttl` from `now`.
    pub fn issue_for(
        &self,
        sub: Uuid,
        role: Role,
        ver: i32,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let iat = u64::try_from(now.timestamp()).unwrap_or_default();
        let claims = Claims {
            sub: sub.to_string(),
            role,
            iat,
            exp: iat + ttl.as_secs(),
            nbf: None,
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            jti: Uuid::now_v7().to_string(),
            ver,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(self.algorithm),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature, algorithm, issuer, audience and lifetime at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                let detail = match err.kind() {
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        "The access token was not issued for this API."
                    }
                    ErrorKind::InvalidAlgorithm => {
                        "The access token is not signed with the algorithm this API uses."
                    }
                    _ => "The access token is not valid.",
                };
                unauthorized(detail)
            })?;
        let now = u64::try_from(now.timestamp()).unwrap_or_default();
        if now >= claims.exp {
            return Err(unauthorized("The access token has expired."));
        }
        // A little tolerance for clock skew between servers behind one balancer;
        // none for expiry.
        let skewed = now + CLOCK_SKEW_SECS;
        if claims.iat > skewed || claims.nbf.is_some_and(|nbf| nbf > skewed) {
            return Err(unauthorized("The access token is not valid yet."));
        }
        Ok(claims)
    }
}

/// The answer to a token issued before the account's credentials changed.
pub const STALE: &str = "The access token was issued before the account's password, role or status changed; sign in again.";

fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized(detail.to_string())
}

/// Who an authenticated request acts for, as the database has them now: a user
/// signed in with an access token, or an API key (`super::api_key`). A key scoped
/// to a role acts as its account with that role; a read-scoped key acts as no
/// account, and the matrix gives its scope no write.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account acted as; `None` for a read-scoped API key.
    pub user: Option<user::Model>,
    /// The matrix column it is judged by: the user's role, or the key's scope.
    pub grant: Grant,
    /// The API key the request came with, if it came with one.
    pub key: Option<Uuid>,
}

impl Principal {
    /// A user signed in with an access token.
    pub fn user(user: user::Model, role: Role) -> Self {
        Self {
            user: Some(user),
            grant: role.into(),
            key: None,
        }
    }

    /// The account acted as, if any: events, revisions and uploads are theirs.
    pub fn user_id(&self) -> Option<Uuid> {
        self.user.as_ref().map(|u| u.id)
    }

    /// The byline this user writes as.
    pub fn author_id(&self) -> Option<Uuid> {
        self.user.as_ref().and_then(|u| u.author_id)
    }
}

/// For the log: `user <id>`, `key <id> as user <id>` or `key <id>`.
impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.key, self.user_id()) {
            (None, Some(user)) => write!(f, "user {user}"),
            (Some(key), Some(user)) => write!(f, "key {key} as user {user}"),
            (Some(key), None) => write!(f, "key {key}"),
            (None, None) => write!(f, "nobody"),
        }
    }
}

/// Verifies `token` and loads the account behind it (one statement): refused when
/// the account is gone or disabled, or when its credential version has moved on
/// since the token was issued (a new password, a disable, a new role).
pub async fn authenticate(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    now: DateTime<Utc>,
    token: &str,
) -> Result<Principal, ApiError> {
    let claims = keys.verify(token, now)?;
    let id =
        Uuid::parse_str(&claims.sub).map_err(|_| unauthorized("The access token is not valid."))?;
    let user = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| unauthorized("The account this token was issued to no longer exists."))?;
    if user.disabled {
        return Err(unauthorized(
            "The account this token was issued to is disabled.",
        ));
    }
    if claims.ver != user.credential_version {
        return Err(unauthorized(STALE));
    }
    let role = user.role.parse::<Role>().map_err(|err| {
        tracing::error!(user = %user.id, %err, "a user has a role this build does not know");
        ApiError::Internal
    })?;
    Ok(Principal::user(user, role))
}

/// Who is asking. `api::security` resolves it from a request (`Viewer::from_request`).
#[derive(Debug, Clone)]
pub enum Viewer {
    Anonymous,
    User(Principal),
}

impl Viewer {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Self::Anonymous => None,
            Self::User(p) => Some(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SystemClock};

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&Secret::new(secret), Algorithm::HS256, DEFAULT_TTL)
    }

    #[test]
    fn a_token_round_trips() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let id = Uuid::now_v7();
        let now = SystemClock.now();
        let t = k.issue(id, Role::Admin, 0, now).unwrap();
        let c = k.verify(&t, now).unwrap();
        assert_eq!(c.role, Role::Admin);
        assert_eq!(c.sub, id.to_string());
        assert_eq!(c.iss, ISSUER);
        assert_eq!(c.aud, AUDIENCE);
        assert_eq!(c.exp - c.iat, 900);
    }

    #[test]
    fn a_token_from_another_secret_is_refused() {
        let now = SystemClock.now();
        let t = keys("0123456789abcdef0123456789abcdef")
            .issue(Uuid::now_v7(), Role::Admin, 0, now)
            .unwrap();
        let err = keys("another-secret-another-secret-xx")
            .verify(&t, now)
            .unwrap_err();
        assert_eq!(err.status(), 401);
    }

    #[test]
    fn lifetimes_follow_the_clock() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = SystemClock.now();
        let t = k.issue(Uuid::now_v7(), Role::Admin, 0, now).unwrap();
        let later = now + chrono::Duration::seconds(900);
        let err = k.verify(&t, later).unwrap_err();
        assert_eq!(err.problem().detail, "The access token has expired.");
        let earlier = now - chrono::Duration::seconds(31);
        let err = k.verify(&t, earlier).unwrap_err();
        assert_eq!(err.problem().detail, "The access token is not valid yet.");
    }
}
