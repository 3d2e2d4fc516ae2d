//! One error type for the whole API, mapped to RFC 9457 problem+json in one place.
//!
//! Handlers return [`ApiError`] (through the per-operation response enums made by
//! [`problem_responses!`]), and [`problem_middleware`] turns every other error
//! poem produces (unknown route, wrong method, unparsable parameters or body,
//! oversized body) into the same problem+json shape, so a client only ever has
//! to understand one error format.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::Object;
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem description.
#[derive(Object, Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    /// A URI reference identifying the kind of problem, e.g. `urn:dispatch:problem:not-found`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem (the HTTP reason phrase).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a human.
    pub detail: String,
    /// The id of this request, as in the `X-Request-Id` response header and the
    /// server's log: quote it when reporting a problem.
    pub request_id: String,
    /// The individual fields that were at fault, when the problem is about input.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// One field of the input and what is wrong with it.
#[derive(Object, Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name, as in the request (`title`, `author_ids`, `limit`, …).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong while serving a request.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400: the request cannot be parsed or breaks the schema.
    BadRequest(String, Vec<FieldError>),
    /// 401: no token, or a token that is not valid.
    Unauthorized(String),
    /// 403: authenticated, but the role does not allow this.
    Forbidden(String),
    /// 404: nothing at this address (or not visible to this reader).
    NotFound(String),
    /// 409: a unique field is already taken, or the resource is still referenced.
    Conflict(String, Vec<FieldError>),
    /// 412: `If-Match` named a version the resource has moved on from.
    PreconditionFailed(String),
    /// 413: the body is larger than the configured limit.
    PayloadTooLarge(String),
    /// 415: the body is of a type this operation does not take (an upload that is not
    /// an accepted image, whatever its name or `Content-Type` said).
    UnsupportedMediaType(String),
    /// 422: well-formed input that breaks a rule.
    Unprocessable(String, Vec<FieldError>),
    /// 429: too many attempts; the second value is the `Retry-After` in seconds.
    TooManyRequests(String, u64),
    /// 503: a resource the request needs (the database, a hashing slot) is not
    /// available now; the second value is the `Retry-After` in seconds.
    ServiceUnavailable(String, u64),
    /// 500: a fault on our side; the cause is logged, never sent.
    Internal,
}

/// The detail naming every field at fault: "`field`: message; …".
fn fields_detail(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("`{}`: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest(
            format!("`{field}`: {message}"),
            vec![FieldError::new(field, message)],
        )
    }

    pub fn unprocessable(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Unprocessable(
            format!("`{field}`: {message}"),
            vec![FieldError::new(field, message)],
        )
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Conflict(
            format!("`{field}`: {message}"),
            vec![FieldError::new(field, message)],
        )
    }

    /// The 422 for several fields at once (all problems of one request are reported together).
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self::Unprocessable(fields_detail(&errors), errors)
    }

    /// The 400 for several fields at once: input that breaks its schema.
    pub fn malformed(errors: Vec<FieldError>) -> Self {
        Self::BadRequest(fields_detail(&errors), errors)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(..) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(..) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, errors) = match self {
            Self::BadRequest(d, e) | Self::Conflict(d, e) | Self::Unprocessable(d, e) => {
                (d.clone(), (!e.is_empty()).then(|| e.clone()))
            }
            Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::PreconditionFailed(d) => (d.clone(), None),
            Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::TooManyRequests(d, _)
            | Self::ServiceUnavailable(d, _) => (d.clone(), None),
            Self::Internal => (
                "An unexpected error occurred; it has been logged.".to_string(),
                None,
            ),
        };
        problem_for(status, detail, errors)
    }
}

/// The problem type URI for a status code.
fn problem_kind(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "urn:dispatch:problem:bad-request",
        401 => "urn:dispatch:problem:unauthorized",
        403 => "urn:dispatch:problem:forbidden",
        404 => "urn:dispatch:problem:not-found",
        405 => "urn:dispatch:problem:method-not-allowed",
        408 => "urn:dispatch:problem:request-timeout",
        409 => "urn:dispatch:problem:conflict",
        412 => "urn:dispatch:problem:precondition-failed",
        413 => "urn:dispatch:problem:payload-too-large",
        414 => "urn:dispatch:problem:uri-too-long",
        415 => "urn:dispatch:problem:unsupported-media-type",
        422 => "urn:dispatch:problem:validation",
        429 => "urn:dispatch:problem:too-many-requests",
        431 => "urn:dispatch:problem:header-fields-too-large",
        503 => "urn:dispatch:problem:unavailable",
        _ if status.is_server_error() => "urn:dispatch:problem:internal",
        _ => "about:blank",
    }
}

pub fn problem_for(status: StatusCode, detail: String, errors: Option<Vec<FieldError>>) -> Problem {
    Problem {
        kind: problem_kind(status).to_string(),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        request_id: crate::request_id::current(),
        errors,
    }
}

/// The `Retry-After` of a 503 for a database that cannot be reached.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 1;

impl ApiError {
    /// The 503 for a database that gave no connection in time.
    pub fn database_unavailable() -> Self {
        Self::ServiceUnavailable(
            "The database is not available right now; try again shortly.".to_string(),
            DATABASE_RETRY_AFTER_SECS,
        )
    }
}

/// The counter of 503s for want of a database connection (by `reason`: `timeout`
/// or `unreachable`); `crate::metrics` describes it.
pub const DB_UNAVAILABLE: &str = "dispatch_db_unavailable_total";

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::{ConnAcquireErr, DbErr};
        // The database's own text stays in the log; the client gets a plain 500,
        // or a 503 with Retry-After when no connection could be had in time.
        match err {
            DbErr::ConnectionAcquire(
                ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed,
            )
            | DbErr::Conn(_) => {
                let reason = match &err {
                    DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => "timeout",
                    _ => "unreachable",
                };
                metrics::counter!(DB_UNAVAILABLE, "reason" => reason).increment(1);
                tracing::warn!(error = %err, "database unavailable");
                Self::database_unavailable()
            }
            err => {
                tracing::error!(error = %err, "database error");
                Self::Internal
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status(), self.problem().detail)
    }
}

impl std::error::Error for ApiError {}

/// Declares an `ApiResponse` enum documenting exactly the error statuses an
/// operation can return, each with a problem+json body, plus the conversion
/// from [`ApiError`]. 500 is always included, and so is 503 with `Retry-After`
/// (the database can go away under any operation). An operation that rate limits adds
/// `429 TooManyRequests "…"` after the braces, and its 429 carries the
/// `Retry-After` header.
#[macro_export]
macro_rules! problem_responses {
    ($(#[$meta:meta])* $name:ident { $($status:literal $variant:ident $doc:literal),+ $(,)? }) => {
        $crate::problem_responses!(@enum err $(#[$meta])* $name { $($status $variant $doc),+ } {} {});
    };
    ($(#[$meta:meta])* $name:ident { $($status:literal $variant:ident $doc:literal),+ $(,)? }
        429 TooManyRequests $limited:literal) => {
        $crate::problem_responses!(@enum err $(#[$meta])* $name { $($status $variant $doc),+ }
            {
                #[doc = $limited]
                #[oai(status = 429, content_type = "application/problem+json")]
                TooManyRequests(
                    poem_openapi::payload::Json<$crate::error::Problem>,
                    /// Seconds to wait before trying again.
                    #[oai(header = "Retry-After")]
                    u64,
                ),
            }
            {
                if let $crate::error::ApiError::TooManyRequests(_, secs) = &err {
                    return Self::TooManyRequests(poem_openapi::payload::Json(err.problem()), *secs);
                }
            });
    };
    (@enum $err:ident $(#[$meta:meta])* $name:ident { $($status:literal $variant:ident $doc:literal),+ }
        { $($limited_variant:tt)* } { $($limited_arm:tt)* }) => {
        $(#[$meta])*
        #[derive(poem_openapi::ApiResponse, Debug)]
        pub enum $name {
            $(
                #[doc = $doc]
                #[oai(status = $status, content_type = "application/problem+json")]
                $variant(poem_openapi::payload::Json<$crate::error::Problem>),
            )+
            $($limited_variant)*
            /// A resource the request needs (the database, a password-hashing slot) is
            /// not available now; `Retry-After` says when to try again.
            #[oai(status = 503, content_type = "application/problem+json")]
            ServiceUnavailable(
                poem_openapi::payload::Json<$crate::error::Problem>,
                /// Seconds to wait before trying again.
                #[oai(header = "Retry-After")]
                u64,
            ),
            /// An unexpected error on the server; the cause is logged, never returned.
            #[oai(status = 500, content_type = "application/problem+json")]
            Internal(poem_openapi::payload::Json<$crate::error::Problem>),
        }

        impl From<$crate::error::ApiError> for $name {
            fn from($err: $crate::error::ApiError) -> Self {
                $($limited_arm)*
                if let $crate::error::ApiError::ServiceUnavailable(_, secs) = &$err {
                    return Self::ServiceUnavailable(poem_openapi::payload::Json($err.problem()), *secs);
                }
                let problem = $err.problem();
                match problem.status {
                    $($status => Self::$variant(poem_openapi::payload::Json(problem)),)+
                    500 => Self::Internal(poem_openapi::payload::Json(problem)),
                    other => {
                        tracing::error!(status = other, detail = %problem.detail, "undocumented error status");
                        Self::Internal(poem_openapi::payload::Json($crate::error::ApiError::Internal.problem()))
                    }
                }
            }
        }

        impl From<sea_orm::DbErr> for $name {
            fn from(err: sea_orm::DbErr) -> Self {
                $crate::error::ApiError::from(err).into()
            }
        }
    };
}

/// Renders a problem as a response.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    with_www_authenticate(
        Response::builder()
            .status(status)
            .content_type(PROBLEM_JSON)
            .body(body),
    )
}

/// What the middleware knows of the request whose error it describes.
#[derive(Debug, Default)]
struct Asked {
    /// The path, to name path parameters (poem-openapi calls them `param0`, …).
    path: String,
    /// An `Authorization` header was sent, with a scheme other than Bearer.
    other_scheme: bool,
}

/// What the middleware reads from the API's spec: the documented path templates
/// (split at `/`) and the values of each enum schema, by schema name.
struct Spec {
    paths: Vec<Vec<String>>,
    enums: std::collections::HashMap<String, Vec<String>>,
}

static SPEC: std::sync::OnceLock<Spec> = std::sync::OnceLock::new();

/// Tells the error descriptions the API's spec (its JSON, made by `spec` on the first
/// call only), from which they name path parameters and enum values. The API sits
/// above this module, so `startup::app` hands the spec down; before that, path
/// parameters go unnamed and enum values unlisted.
pub fn learn_spec(spec: impl FnOnce() -> String) {
    SPEC.get_or_init(|| {
        let spec: serde_json::Value = serde_json::from_str(&spec()).unwrap_or_default();
        let paths = spec["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(p, _)| p.split('/').map(String::from).collect())
            .collect();
        let enums = spec["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, schema)| {
                let values = schema["enum"].as_array()?;
                Some((
                    name.clone(),
                    values
                        .iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect(),
                ))
            })
            .collect();
        Spec { paths, enums }
    });
}

/// The documented path template (split at `/`) that `path` matches.
fn template_of(path: &str) -> Option<&'static Vec<String>> {
    let templates = &SPEC.get()?.paths;
    let segments: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter(|t| t.len() == segments.len())
        .find(|t| {
            t.iter()
                .zip(&segments)
                .all(|(t, s)| t.starts_with('{') || t == s)
        })
}

/// The name of the `n`th templated segment of the documented path that `path` matches.
fn path_param_name(path: &str, n: usize) -> Option<String> {
    template_of(path)
        .and_then(|t| t.iter().filter(|s| s.starts_with('{')).nth(n))
        .map(|s| s.trim_matches(['{', '}']).to_string())
}

/// The name of the path parameter at segment `position` (counting from 0 at the
/// empty segment before the first `/`) of the documented path `path` matches.
pub fn path_param_at(path: &str, position: usize) -> Option<String> {
    template_of(path)
        .and_then(|t| t.get(position))
        .filter(|s| s.starts_with('{'))
        .map(|s| s.trim_matches(['{', '}']).to_string())
}

/// Turns poem-openapi's parse messages into a detail and, where the message names
/// one, the field at fault.
fn describe_poem_error(
    status: StatusCode,
    message: &str,
    asked: &Asked,
) -> (String, Option<Vec<FieldError>>) {
    if status == StatusCode::NOT_FOUND {
        return ("No resource exists at this address.".to_string(), None);
    }
    if status == StatusCode::UNAUTHORIZED && message == "authorization error" {
        let detail = if asked.other_scheme {
            "The Authorization header must use the Bearer scheme."
        } else {
            "A bearer access token is required: send `Authorization: Bearer <token>`."
        };
        return (detail.to_string(), None);
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        return (
            "This method is not allowed on this resource.".to_string(),
            None,
        );
    }
    // The CORS layer's refusals (it answers before any endpoint runs).
    let cors = match message {
        "request-origin not allowed" => Some("This origin may not call the API from a browser."),
        "request-method not allowed" => Some("This method may not be used from a browser."),
        "request-headers not allowed" => Some("A requested header may not be sent from a browser."),
        _ => None,
    };
    if let Some(detail) = cors {
        return (detail.to_string(), None);
    }
    let field = backticked_after(message, "field `")
        .or_else(|| backticked_after(message, "parameter `"))
        .or_else(|| {
            let name = backticked_after(message, "path `")?;
            let n = name.strip_prefix("param").and_then(|n| n.parse().ok());
            Some(
                n.and_then(|n| path_param_name(&asked.path, n))
                    .unwrap_or(name),
            )
        });
    match field {
        Some(field) if status == StatusCode::BAD_REQUEST => {
            let reason = plain_reason(message);
            let detail = format!("`{field}`: {reason}");
            (detail, Some(vec![FieldError::new(field, reason)]))
        }
        _ => (message.to_string(), None),
    }
}

/// poem-openapi's parse and validator messages, said plainly.
fn plain_reason(message: &str) -> String {
    if let Some(rule) = message.split("verification failed. ").nth(1) {
        let number = |r: &str| {
            r.split(['(', ',', ')'])
                .nth(1)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        return match rule.split('(').next().unwrap_or_default() {
            "maximum" => format!("must be at most {}", number(rule)),
            "minimum" => format!("must be at least {}", number(rule)),
            "maxLength" => format!("must be at most {} characters long", number(rule)),
            "minLength" if number(rule) == "1" => "must not be empty".to_string(),
            "minLength" => format!("must be at least {} characters long", number(rule)),
            "maxItems" => format!("must have at most {} items", number(rule)),
            _ => format!("breaks the rule {rule}"),
        };
    }
    if message.contains("unknown field `") {
        return "is not a field of this object".to_string();
    }
    let ty = message
        .split("failed to parse \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    match ty {
        t if t.starts_with("integer(uint") => "must be a whole number of 0 or more".to_string(),
        t if t.starts_with("integer") => "must be a whole number".to_string(),
        "boolean" => "must be true or false".to_string(),
        "string_date-time" => {
            "must be an RFC 3339 date-time such as 2026-11-28T06:00:00Z".to_string()
        }
        "string_uuid" => "must be a UUID".to_string(),
        "" => message.to_string(),
        name => match enum_values(name) {
            Some(values) => format!("must be one of {}", values.join(", ")),
            None => format!("is not a valid {name}"),
        },
    }
}

/// The values of an enum schema of the API, by schema name.
fn enum_values(name: &str) -> Option<&'static Vec<String>> {
    SPEC.get()?.enums.get(name)
}

fn backticked_after(message: &str, marker: &str) -> Option<String> {
    let start = message.find(marker)? + marker.len();
    let rest = &message[start..];
    let end = rest.find('`')?;
    Some(rest[..end].to_string())
}

/// Middleware: every error leaving the app is problem+json, and every 401 carries
/// `WWW-Authenticate: Bearer`.
pub async fn problem_middleware<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let asked = Asked {
        path: req.uri().path().to_string(),
        other_scheme: req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                !v.get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("bearer "))
            }),
    };
    // An `Err` from poem-openapi may wrap one of our own problem responses, so both
    // arms are reduced to a response first and then inspected the same way.
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    let status = resp.status();
    if !status.is_client_error() && !status.is_server_error() {
        return Ok(resp);
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(with_www_authenticate(resp));
    }
    let text = resp.into_body().into_string().await.unwrap_or_default();
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(%status, error = %text, "request failed");
        return Ok(problem_response(&ApiError::Internal.problem()));
    }
    if status.is_server_error() {
        let detail = status
            .canonical_reason()
            .unwrap_or("Server error")
            .to_string();
        return Ok(problem_response(&problem_for(status, detail, None)));
    }
    let (detail, errors) = describe_poem_error(status, &text, &asked);
    Ok(problem_response(&problem_for(status, detail, errors)))
}

fn with_www_authenticate(mut resp: Response) -> Response {
    if resp.status() == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_spec() {
        learn_spec(|| crate::api::service().spec());
    }

    #[test]
    fn parse_failures_are_said_plainly() {
        with_spec();
        let cases = [
            (
                "failed to parse parameter `limit`: verification failed. maximum(100, exclusive: false)",
                "limit",
                "must be at most 100",
            ),
            (
                "failed to parse parameter `limit`: verification failed. minimum(1, exclusive: false)",
                "limit",
                "must be at least 1",
            ),
            (
                "failed to parse parameter `limit`: failed to parse \"integer(uint64)\": invalid digit found in string (occurred while parsing \"optional_integer(uint64)\")",
                "limit",
                "must be a whole number of 0 or more",
            ),
            (
                "failed to parse parameter `count`: failed to parse \"boolean\": provided string was not `true` or `false` (occurred while parsing \"optional_boolean\")",
                "count",
                "must be true or false",
            ),
            (
                "failed to parse parameter `status`: failed to parse \"Status\": Expect a valid enumeration value. (occurred while parsing \"optional_Status\")",
                "status",
                "must be one of draft, scheduled, published, archived",
            ),
            (
                "parse request payload error: failed to parse \"TagCreate\": field `name` verification failed. maxLength(200)",
                "name",
                "must be at most 200 characters long",
            ),
            (
                "parse request payload error: failed to parse \"TagCreate\": field `name` verification failed. minLength(1)",
                "name",
                "must not be empty",
            ),
        ];
        for (message, field, reason) in cases {
            let (detail, errors) =
                describe_poem_error(StatusCode::BAD_REQUEST, message, &Asked::default());
            assert_eq!(
                errors.unwrap(),
                vec![FieldError::new(field, reason)],
                "{message}"
            );
            assert_eq!(detail, format!("`{field}`: {reason}"));
        }
    }

    #[test]
    fn field_is_extracted_from_poem_openapi_messages() {
        with_spec();
        let (_, errors) = describe_poem_error(
            StatusCode::BAD_REQUEST,
            "parse request payload error: failed to parse \"ArticleCreate\": field `title` verification failed. minLength(1)",
            &Asked::default(),
        );
        assert_eq!(errors.unwrap()[0].field, "title");
        let (_, errors) = describe_poem_error(
            StatusCode::BAD_REQUEST,
            "failed to parse parameter `limit`: verification failed. maximum(100, exclusive: false)",
            &Asked::default(),
        );
        assert_eq!(errors.unwrap()[0].field, "limit");
    }

    #[test]
    fn path_parameters_are_named_as_documented() {
        with_spec();
        assert_eq!(
            path_param_name("/api/v1/users/not-a-uuid", 0).as_deref(),
            Some("id")
        );
        assert_eq!(path_param_name("/api/v1/nowhere/x", 0), None);
    }

    #[test]
    fn internal_errors_never_carry_their_cause() {
        let p = ApiError::Internal.problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("database"));
    }
}
