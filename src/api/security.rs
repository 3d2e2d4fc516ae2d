//! The bearer security schemes of the API: [`BearerAuth`] for operations that need a
//! signed-in user, [`MaybeAuth`] for public reads that show more to one, and how a
//! request's reader ([`Viewer`]) is resolved. Tokens are verified by
//! [`crate::auth::token::authenticate`] with the keys, clock and database of the
//! [`AppState`].

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::token::authenticate;
use crate::auth::{Principal, Viewer};
use crate::error::ApiError;
use crate::state::AppState;

/// A request authenticated with a valid bearer access token of an active account.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(pub Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR))?;
    authenticate(&state.db, &state.keys, state.clock.now(), &bearer.token)
        .await
        .map_err(|e| poem::Error::from_string(e.problem().detail, e.status()))
}

/// Reads that anyone may make, and that show more to a signed-in reader.
#[derive(SecurityScheme)]
pub enum MaybeAuth {
    Bearer(BearerAuth),
    #[oai(fallback)]
    Anonymous,
}

impl Viewer {
    /// Resolves the reader of a public endpoint. A request that sends an
    /// `Authorization` header with a bad token is refused rather than silently
    /// served as anonymous, so a client learns that its token needs renewing.
    pub async fn from_request(req: &Request, auth: MaybeAuth) -> Result<Self, ApiError> {
        match auth {
            MaybeAuth::Bearer(BearerAuth(principal)) => Ok(Self::User(principal)),
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
                            "The Authorization header must use the Bearer scheme.".to_string(),
                        )
                    })?;
                let state = req.data::<AppState>().ok_or(ApiError::Internal)?;
                authenticate(&state.db, &state.keys, state.clock.now(), token.trim())
                    .await
                    .map(Self::User)
            }
        }
    }
}
