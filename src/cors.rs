//! Browsers on other origins (CORS): which origins may call the API, the answer to
//! a preflight, the headers on an allowed cross-origin response, and the refusals.
//!
//! - The API's own origin (the scheme and `Host` the request came with; behind a
//!   proxy named by `DISPATCH_CLIENT_IP_HEADER`, its `X-Forwarded-Proto` and
//!   `X-Forwarded-Host`) is always allowed, so Swagger UI served by the API works
//!   whatever `DISPATCH_CORS_ORIGINS` says. (A page can only claim that origin if the
//!   browser already treats it as same-origin, so this opens nothing.)
//! - A preflight from an allowed origin gets 204 with the CORS headers; from any other
//!   origin, 403 problem+json. Without `DISPATCH_CORS_ORIGINS` a preflight gets 204
//!   without CORS headers (the browser then refuses the request itself).
//! - A `GET` or `HEAD` from another origin is answered as without `Origin`, only
//!   without CORS headers (the browser does not let the page read it); any other
//!   method from another origin is refused with 403 before it runs.

use std::sync::Arc;

use poem::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::config::{CorsOrigins, normal_origin};
use crate::error::{ApiError, problem_response};

/// The methods a browser may use from an allowed origin.
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"];
/// The request headers a browser may send from an allowed origin (beyond the
/// CORS-safelisted ones).
pub const HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "x-request-id",
];
/// The response headers a page on an allowed origin may read.
pub const EXPOSED: &str =
    "location, etag, www-authenticate, retry-after, cache-control, x-request-id";
/// How long a browser may keep a preflight's answer, in seconds.
pub const MAX_AGE: &str = "600";

/// Who may call the API from a browser.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    pub origins: CorsOrigins,
    /// Whether a proxy the operator runs (`DISPATCH_CLIENT_IP_HEADER`) is in front,
    /// so that its `X-Forwarded-Proto` and `X-Forwarded-Host` say the API's origin.
    pub behind_proxy: bool,
    /// How many proxies: the entry of those headers to read, from the right.
    pub trusted_hops: usize,
}

impl CorsPolicy {
    /// Whether CORS is configured at all.
    pub fn configured(&self) -> bool {
        self.origins != CorsOrigins::None
    }

    /// Whether a page on `origin` may call the API with this request.
    fn allows(&self, origin: &str, req: &Request) -> bool {
        let Some(origin) = parse_origin(origin) else {
            return false;
        };
        match &self.origins {
            CorsOrigins::Any => true,
            CorsOrigins::List(list) if list.contains(&origin) => true,
            _ => self.own_origin(req).is_some_and(|own| own == origin),
        }
    }

    /// The origin this request was sent to, as a browser on it would name it.
    fn own_origin(&self, req: &Request) -> Option<String> {
        let forwarded = |name: &str| {
            self.behind_proxy
                .then(|| entry_from_right(req.headers(), name, self.trusted_hops))
                .flatten()
        };
        let scheme =
            forwarded("x-forwarded-proto").unwrap_or_else(|| req.scheme().as_str().to_string());
        let host = forwarded("x-forwarded-host")
            .or_else(|| {
                req.headers()
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .or_else(|| req.uri().authority().map(|a| a.to_string()))?;
        Some(normal_origin(&scheme, &host))
    }
}

/// The `hops`-th entry from the right of a comma-separated header, as the proxy
/// setting reads `X-Forwarded-For`.
fn entry_from_right(headers: &HeaderMap, name: &str, hops: usize) -> Option<String> {
    let entries: Vec<String> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|e| e.trim().to_string())
        .collect();
    let index = entries.len().checked_sub(hops.max(1))?;
    entries.into_iter().nth(index).filter(|e| !e.is_empty())
}

/// A sent `Origin` as `scheme://host[:port]` in lower case, or `None` for `null` and
/// anything else that is not an origin.
fn parse_origin(origin: &str) -> Option<String> {
    let uri = origin.parse::<poem::http::Uri>().ok()?;
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?;
    (uri.path_and_query().is_none_or(|p| p.as_str() == "/"))
        .then(|| normal_origin(scheme, authority.as_str()))
}

/// The 403 of a refused cross-origin request.
fn refused(detail: &str) -> Response {
    problem_response(&ApiError::Forbidden(detail.to_string()).problem())
}

fn is_preflight(req: &Request) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight from an origin already found allowed.
fn preflight(req: &Request, origin: &HeaderValue) -> Response {
    let method_ok = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| METHODS.contains(&m.trim()));
    if !method_ok {
        return refused("This method may not be used from a browser.");
    }
    let headers_ok = req
        .headers()
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .all(|h| HEADERS.contains(&h.as_str()));
    if !headers_ok {
        return refused("A requested header may not be sent from a browser.");
    }
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone())
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, METHODS.join(", "))
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, HEADERS.join(", "))
        .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE)
        .header(
            header::VARY,
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        )
        .finish()
}

/// The middleware.
pub async fn cors<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    policy: Arc<CorsPolicy>,
) -> poem::Result<Response> {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return Ok(next.call(req).await?.into_response());
    };
    if !policy.configured() {
        if is_preflight(&req) {
            // Nobody is allowed: the browser reads the missing CORS headers as a no.
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        return Ok(next.call(req).await?.into_response());
    }
    let allowed = origin.to_str().ok().is_some_and(|o| policy.allows(o, &req));
    if is_preflight(&req) {
        return Ok(if allowed {
            preflight(&req, &origin)
        } else {
            refused("This origin may not call the API from a browser.")
        });
    }
    if !allowed {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            return Ok(next.call(req).await?.into_response());
        }
        return Ok(refused("This origin may not call the API from a browser."));
    }
    let mut resp = next.call(req).await?.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_as_browsers_send_them() {
        assert_eq!(
            parse_origin("HTTPS://News.Example:443").as_deref(),
            Some("https://news.example")
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(parse_origin("null"), None);
        assert_eq!(parse_origin("https://a.example/path"), None);
    }

    #[test]
    fn the_forwarded_entry_is_counted_from_the_right() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-proto", HeaderValue::from_static("http, https"));
        assert_eq!(
            entry_from_right(&h, "x-forwarded-proto", 1).as_deref(),
            Some("https")
        );
        assert_eq!(
            entry_from_right(&h, "x-forwarded-proto", 2).as_deref(),
            Some("http")
        );
        assert_eq!(entry_from_right(&h, "x-forwarded-proto", 3), None);
    }
}
