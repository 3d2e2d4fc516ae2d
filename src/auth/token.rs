//! Access tokens: HS256 JWTs with the algorithm pinned, every registered claim
//! validated, and a short lifetime.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;
use crate::config::Secret;
use crate::error::ApiError;

pub const ISSUER: &str = "dispatch";
pub const AUDIENCE: &str = "dispatch-api";
/// How long an access token lives unless told otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// The claims of a Dispatch access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The subject: a user id (or an operator label for CLI-issued tokens).
    pub sub: String,
    pub role: Role,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

/// Signing and verification keys, built once from the configured secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
        }
    }

    /// Signs a token for `sub` with `role`, valid for `ttl` from now.
    pub fn issue(&self, sub: &str, role: Role, ttl: Duration) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_string(),
            role,
            iat: now,
            exp: now + ttl.as_secs(),
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            jti: Uuid::now_v7().to_string(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature, algorithm, issuer, audience and lifetime.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                let detail = match err.kind() {
                    ErrorKind::ExpiredSignature => "The access token has expired.",
                    ErrorKind::ImmatureSignature => "The access token is not valid yet.",
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        "The access token was not issued for this API."
                    }
                    _ => "The access token is not valid.",
                };
                ApiError::Unauthorized(detail.to_string())
            })
    }
}

/// A request authenticated with a valid bearer access token.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(pub Claims);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Claims> {
    let keys = req
        .data::<Arc<TokenKeys>>()
        .ok_or_else(|| poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR))?;
    keys.verify(&bearer.token)
        .map_err(|e| poem::Error::from_string(e.problem().detail, e.status()))
}

/// Reads that anyone may make, and that show more to an authenticated reader.
#[derive(SecurityScheme)]
pub enum MaybeAuth {
    Bearer(BearerAuth),
    #[oai(fallback)]
    Anonymous,
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Viewer {
    Anonymous,
    User(Claims),
}

impl Viewer {
    /// Resolves the reader of a public endpoint. A request that sends an
    /// `Authorization` header with a bad token is refused rather than silently
    /// served as anonymous, so a client learns that its token needs renewing.
    pub fn from_request(req: &Request, auth: MaybeAuth) -> Result<Self, ApiError> {
        match auth {
            MaybeAuth::Bearer(BearerAuth(claims)) => Ok(Self::User(claims)),
            MaybeAuth::Anonymous => {
                let Some(header) = req.headers().get(poem::http::header::AUTHORIZATION) else {
                    return Ok(Self::Anonymous);
                };
                let value = header.to_str().unwrap_or_default();
                let token = value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
                    .ok_or_else(|| {
                        ApiError::Unauthorized(
                            "The Authorization header must use the Bearer scheme.".into(),
                        )
                    })?;
                let keys = req.data::<Arc<TokenKeys>>().ok_or(ApiError::Internal)?;
                keys.verify(token.trim()).map(Self::User)
            }
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Self::Anonymous => None,
            Self::User(claims) => Some(claims.role),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&Secret::new(secret))
    }

    #[test]
    fn a_token_round_trips() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let t = k.issue("ops", Role::Admin, DEFAULT_TTL).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!(c.role, Role::Admin);
        assert_eq!(c.iss, ISSUER);
        assert_eq!(c.aud, AUDIENCE);
    }

    #[test]
    fn a_token_from_another_secret_is_refused() {
        let t = keys("0123456789abcdef0123456789abcdef")
            .issue("ops", Role::Admin, DEFAULT_TTL)
            .unwrap();
        let err = keys("another-secret-another-secret-xx")
            .verify(&t)
            .unwrap_err();
        assert_eq!(err.status(), 401);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: "x".into(),
            role: Role::Admin,
            iat: now - 120,
            exp: now - 60,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            jti: "j".into(),
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        let err = k.verify(&t).unwrap_err();
        assert_eq!(err.problem().detail, "The access token has expired.");
    }
}
