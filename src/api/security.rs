//! The bearer security schemes of the API: [`BearerAuth`] for operations that need an
//! authenticated caller, [`MaybeAuth`] for public reads that show more to one, and how
//! a request's reader ([`Viewer`]) is resolved. A bearer is an access token (a JWT,
//! verified by [`crate::auth::token::authenticate`]) or, when it starts with `dsp_`,
//! an API key: [`gate`] resolves a key once per request, before anything else of the
//! API runs (refusing an unknown, revoked or expired key, a disallowed origin, or a
//! key over its rate), records its use, and hands the principal it acts for to the
//! schemes through the request's extensions.

use std::sync::Arc;

use poem::http::{HeaderValue, Method, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::api_key::{self, is_key};
use crate::auth::token::authenticate;
use crate::auth::{Principal, Viewer};
use crate::error::{ApiError, problem_response};
use crate::state::AppState;

/// A request authenticated with a valid bearer access token of an active account, or
/// with a valid API key (`dsp_live_…`, made by an admin at `/api/v1/api-keys`); a
/// bearer starting with `dsp_` is taken as a key.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    bearer_format = "JWT or API key",
    checker = "check_bearer"
)]
pub struct BearerAuth(pub Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    resolve(req, &bearer.token)
        .await
        .map_err(|e| poem::Error::from_string(e.problem().detail, e.status()))
}

/// The principal `token` stands for: a key's as [`gate`] resolved it, or an access
/// token's account.
async fn resolve(req: &Request, token: &str) -> Result<Principal, ApiError> {
    if is_key(token) {
        // The gate refuses every key it cannot resolve before the API runs.
        return req
            .extensions()
            .get::<KeyPrincipal>()
            .map(|k| k.0.clone())
            .ok_or_else(|| ApiError::Unauthorized("The API key is not valid.".to_string()));
    }
    let state = req.data::<AppState>().ok_or(ApiError::Internal)?;
    authenticate(&state.db, &state.keys, state.clock.now(), token).await
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
                let Some(header) = req.headers().get(header::AUTHORIZATION) else {
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
                resolve(req, token.trim()).await.map(Self::User)
            }
        }
    }
}

/// The principal of a request's API key, as [`gate`] resolved it.
#[derive(Clone)]
pub struct KeyPrincipal(pub Principal);

/// The API key a request carries in `Authorization: Bearer dsp_…` (never the query
/// string), if any.
fn key_of(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("bearer "))
        .map(|_| value[7..].trim())?;
    is_key(token).then_some(token)
}

/// Middleware: resolves the API key of a request to the API (one statement), refuses
/// it with a 401 (unknown, revoked, expired, a disallowed or missing origin, its account
/// disabled or lessened) or a 429 (over [`crate::config::AuthConfig::api_key_rate`],
/// with `Retry-After`), marks it used (at most once a minute, without waiting), and
/// passes its principal on. Preflights and requests without a key pass untouched.
pub async fn gate<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    state: AppState,
) -> poem::Result<Response> {
    if req.method() == Method::OPTIONS || !req.uri().path().starts_with("/api/") {
        return Ok(next.call(req).await?.into_response());
    }
    let Some(text) = key_of(&req) else {
        return Ok(next.call(req).await?.into_response());
    };
    let now = state.clock.now();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let (principal, key) = match api_key::authenticate(&state.db, now, text, origin).await {
        Ok(found) => found,
        Err(err) => return Ok(refusal(&err)),
    };
    let bucket = format!("api-key:{}", key.id);
    if let Err(secs) = state.limiter.attempt(&[(bucket, state.auth.api_key_rate)]) {
        crate::metrics::rate_limited(crate::metrics::Limit::ApiKey);
        let err = ApiError::TooManyRequests(
            format!("Too many requests with this API key; try again in {secs} seconds."),
            secs,
        );
        return Ok(refusal(&err));
    }
    if api_key::due(key.last_used_at, now) {
        let db = state.db.clone();
        tokio::spawn(async move {
            if let Err(err) = api_key::touch(&db, key.id, now).await {
                tracing::warn!(key = %key.id, error = %err, "recording an API key's use failed");
            }
        });
    }
    req.extensions_mut().insert(KeyPrincipal(principal));
    Ok(next.call(req).await?.into_response())
}

/// The problem response for a refused key (a 429's with its `Retry-After`).
fn refusal(err: &ApiError) -> Response {
    let mut resp = problem_response(&err.problem());
    if let ApiError::TooManyRequests(_, secs) | ApiError::ServiceUnavailable(_, secs) = err
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, value);
    }
    resp
}
