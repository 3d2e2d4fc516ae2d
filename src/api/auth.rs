//! `/api/v1/auth`: sign in, renew, sign out, and who am I.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::body::JsonBody;
use super::found::Found;
use super::users::User;
use super::{ApiTags, AppState, BearerAuth, require};
use crate::accounts::sessions::{self, TokenPair};
use crate::auth::limit::address_key;
use crate::auth::policy::Action;
use crate::client::ClientAddr;
use crate::content::text::Text;
use crate::error::ApiError;

/// Credentials.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct LoginRequest {
    /// The account's email (case and surrounding spaces do not matter).
    #[oai(validator(max_length = 254))]
    pub email: Text,
    /// The account's password.
    #[oai(validator(max_length = 256))]
    pub password: Text,
}

/// A refresh token from a login or an earlier refresh.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct RefreshRequest {
    /// The `refresh_token` of the latest pair.
    #[oai(validator(max_length = 512))]
    pub refresh_token: Text,
}

#[derive(ApiResponse)]
pub enum SignedIn {
    /// An access token (`expires_in` seconds) and a refresh token that works once.
    #[oai(status = 200)]
    Ok(Json<TokenPair>),
}

#[derive(ApiResponse)]
pub enum SignedOut {
    /// The session has ended (or the token was unknown, which ends nothing).
    #[oai(status = 204)]
    NoContent,
}

crate::problem_responses!(
    /// Errors of a login: every status it can answer, and `Retry-After` on a 429.
    LoginError {
        400 BadRequest "The body is not valid JSON or breaks the schema.",
        401 Unauthorized "The email or password is not correct (one answer for both, in the same time).",
        403 Forbidden "The credentials are right but the account is disabled.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
    }
    429 TooManyRequests "Too many attempts from this address, or failed ones for this email from this address; `Retry-After` says when to try again."
);

crate::problem_responses!(
    /// Errors of a refresh.
    RefreshError {
        400 BadRequest "The body is not valid JSON or breaks the schema.",
        401 Unauthorized "The refresh token is unknown, expired, revoked, already used (a reuse ends its whole session) or older than the account's last password, role or status change.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
    }
);

crate::problem_responses!(
    /// Errors of a logout.
    LogoutError {
        400 BadRequest "The body is not valid JSON or breaks the schema.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
    }
);

crate::problem_responses!(
    /// Errors of reading the current user.
    MeError {
        400 BadRequest "The query holds a NUL character (`%00`).",
        401 Unauthorized "No token, or a token that is not valid (expired, its account disabled or deleted, or older than the account's last password, role or status change); or an API key that is unknown, revoked, expired or sent from an origin it does not allow.",
        403 Forbidden "A read-scoped API key, which acts as no account.",
    }
    429 TooManyRequests "An API key sent more requests than its rate allows; `Retry-After` says when to try again."
);

pub struct AuthApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in
    ///
    /// Trades an email and password for an access token (15 minutes by default) and a
    /// refresh token. Paste the `access_token` into Swagger UI's Authorize dialog.
    /// Attempts are rate limited per client address, and failed ones per email from that
    /// address (429 with `Retry-After`), so guesses from elsewhere never lock the owner out.
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<LoginRequest>,
    ) -> Result<SignedIn, LoginError> {
        let client = address_key(ClientAddr::of(req));
        let pair = sessions::login(&state, &body.0.email, &body.0.password, &client).await?;
        Ok(SignedIn::Ok(Json(pair)))
    }

    /// Renew a session
    ///
    /// Trades a refresh token for a new access token and a new refresh token. The old
    /// refresh token stops working; presenting it again ends the whole session.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        body: JsonBody<RefreshRequest>,
    ) -> Result<SignedIn, RefreshError> {
        let pair = sessions::refresh(&state, &body.0.refresh_token).await?;
        Ok(SignedIn::Ok(Json(pair)))
    }

    /// Sign out
    ///
    /// Ends the session the refresh token belongs to: it and every token rotated from
    /// the same login stop working. Access tokens already issued live until they expire.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        body: JsonBody<RefreshRequest>,
    ) -> Result<SignedOut, LogoutError> {
        sessions::logout(&state, &body.0.refresh_token).await?;
        Ok(SignedOut::NoContent)
    }

    /// The current user
    ///
    /// The account the access token belongs to, as it is now; with an API key scoped
    /// to a role, the account the key acts as.
    #[oai(path = "/auth/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAuth) -> Result<Found<User>, MeError> {
        require(&auth.0, Action::ReadAccount)?;
        let user = auth.0.user.ok_or(ApiError::Internal)?;
        Ok(Found(User::from(user)))
    }
}
