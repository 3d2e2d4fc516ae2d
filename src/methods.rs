//! Which methods each address answers, read once from the API's own spec: the
//! `Allow` header of a 405 (RFC 9110 §15.5.6) and the answer to an `OPTIONS`
//! request that is not a CORS preflight (204 with `Allow`).

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::{ApiError, problem_response};

/// The addresses outside the API's spec, and what they answer.
const OTHER_PATHS: &[&str] = &[
    "/",
    "/docs",
    "/favicon.ico",
    "/openapi.json",
    "/openapi.yaml",
];

/// The methods of each path template of the API (split at `/`, methods in upper
/// case), read from its spec, which `startup::app` hands down (the API sits above).
#[derive(Debug, Default)]
pub struct Methods {
    templates: Vec<(Vec<String>, Vec<String>)>,
}

impl Methods {
    /// Reads the path templates and their methods from the spec's JSON.
    pub fn from_spec(spec: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let templates = spec["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, operations)| {
                let methods = operations
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| m.to_ascii_uppercase())
                    .filter(|m| Method::from_bytes(m.as_bytes()).is_ok())
                    .collect();
                (path.split('/').map(String::from).collect(), methods)
            })
            .collect();
        Self { templates }
    }

    /// The methods `path` answers, in the order `Allow` lists them (`HEAD` beside every
    /// `GET`, and `OPTIONS` always), or `None` for an address that does not exist.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut methods: Vec<String> = if OTHER_PATHS.contains(&path) || path.starts_with("/docs/")
        {
            vec!["GET".to_string()]
        } else {
            let segments: Vec<&str> = path.split('/').collect();
            let matching: Vec<(usize, &Vec<String>)> = self
                .templates
                .iter()
                .filter(|(t, _)| {
                    t.len() == segments.len()
                        && t.iter()
                            .zip(&segments)
                            .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
                })
                .map(|(t, m)| (t.iter().filter(|s| !s.starts_with('{')).count(), m))
                .collect();
            // The router prefers a literal segment to a parameter (`/trash/articles`
            // over `/{x}/articles`): the templates with the most literal segments win.
            let best = matching.iter().map(|(n, _)| *n).max()?;
            let mut all: Vec<String> = matching
                .into_iter()
                .filter(|(n, _)| *n == best)
                .flat_map(|(_, m)| m.iter().cloned())
                .collect();
            all.sort_by_key(|m| order(m));
            all.dedup();
            all
        };
        if methods.iter().any(|m| m == "GET") {
            methods.push("HEAD".to_string());
        }
        methods.push("OPTIONS".to_string());
        methods.sort_by_key(|m| order(m));
        methods.dedup();
        Some(methods)
    }

    /// The `Allow` value for `path`, if it exists.
    pub fn allow_header(&self, path: &str) -> Option<HeaderValue> {
        self.allowed(path)
            .and_then(|m| HeaderValue::from_str(&m.join(", ")).ok())
    }
}

fn order(method: &str) -> usize {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        .iter()
        .position(|m| *m == method)
        .unwrap_or(usize::MAX)
}

/// Middleware: `OPTIONS` (that the CORS layer did not answer as a preflight) gets 204
/// with `Allow`, or the 404 problem for an address that does not exist; and every 405
/// carries `Allow`.
pub async fn options_and_allow<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    methods: Arc<Methods>,
) -> poem::Result<Response> {
    let path = req.uri().path().to_string();
    if req.method() == Method::OPTIONS {
        return Ok(match methods.allow_header(&path) {
            Some(allow) => Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header(header::ALLOW, allow)
                .finish(),
            None => problem_response(
                &ApiError::NotFound("No resource exists at this address.".to_string()).problem(),
            ),
        });
    }
    let mut resp = next.call(req).await?.into_response();
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = methods.allow_header(&path)
    {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_methods_of_the_matching_template() {
        let methods = Methods::from_spec(&crate::api::service().spec());
        let allowed = |path: &str| methods.allowed(path);
        assert_eq!(
            allowed("/api/v1/articles").unwrap(),
            ["GET", "HEAD", "POST", "OPTIONS"]
        );
        assert_eq!(
            allowed("/api/v1/tags/some-slug").unwrap(),
            ["GET", "HEAD", "PATCH", "DELETE", "OPTIONS"]
        );
        assert_eq!(
            allowed("/openapi.json").unwrap(),
            ["GET", "HEAD", "OPTIONS"]
        );
        assert_eq!(allowed("/api/v1/nothing-here"), None);
        assert_eq!(allowed("/api/v1/tags/"), None);
    }
}
