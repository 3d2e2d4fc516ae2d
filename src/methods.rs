//! Which methods each address answers, read once from the API's own spec: the
//! `Allow` header of a 405 (RFC 9110 §15.5.6) and the answer to an `OPTIONS`
//! request that is not a CORS preflight (204 with `Allow`).

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::{ApiError, problem_response};

/// The addresses outside the API's spec, and what they answer.
pub const OTHER_PATHS: &[&str] = &[
    "/",
    "/docs",
    "/favicon.ico",
    "/metrics",
    "/openapi.json",
    "/openapi.yaml",
];

/// The address outside the API's spec that `path` is (`/docs/…` is `/docs`), if any.
pub fn other_path(path: &str) -> Option<&'static str> {
    if path.starts_with("/docs/") {
        return Some("/docs");
    }
    OTHER_PATHS.iter().find(|p| **p == path).copied()
}

/// One path template of the API: as the spec writes it, split at `/`, and its
/// methods (in upper case).
#[derive(Debug)]
struct Template {
    path: String,
    segments: Vec<String>,
    methods: Vec<String>,
}

impl Template {
    /// How many literal segments this template has, if it matches `path`.
    fn literals_matching(&self, path: &str) -> Option<usize> {
        let mut segments = path.split('/');
        let mut literals = 0;
        for t in &self.segments {
            let s = segments.next()?;
            if t.starts_with('{') {
                if s.is_empty() {
                    return None;
                }
            } else if t == s {
                literals += 1;
            } else {
                return None;
            }
        }
        segments.next().is_none().then_some(literals)
    }
}

/// The methods of each path template of the API, read from its spec, which
/// `startup::app` hands down (the API sits above).
#[derive(Debug, Default)]
pub struct Methods {
    templates: Vec<Template>,
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
                Template {
                    path: path.clone(),
                    segments: path.split('/').map(String::from).collect(),
                    methods,
                }
            })
            .collect();
        Self { templates }
    }

    /// The path templates, as the spec writes them (`/api/v1/tags/{id_or_slug}`), in
    /// the order [`Methods::template_of`] numbers them.
    pub fn templates(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(|t| t.path.as_str())
    }

    /// The templates `path` matches that the router prefers: a literal segment wins
    /// over a parameter (`/trash/articles` over `/{x}/articles`), so those with the
    /// most literal segments.
    fn best(&self, path: &str) -> impl Iterator<Item = (usize, &Template)> {
        let best = self
            .templates
            .iter()
            .filter_map(|t| t.literals_matching(path))
            .max();
        self.templates
            .iter()
            .enumerate()
            .filter(move |(_, t)| best.is_some() && t.literals_matching(path) == best)
    }

    /// The number of the template `path` is served by, if it is an API address.
    pub fn template_of(&self, path: &str) -> Option<usize> {
        self.best(path).next().map(|(n, _)| n)
    }

    /// The methods `path` answers, in the order `Allow` lists them (`HEAD` beside every
    /// `GET`, and `OPTIONS` always), or `None` for an address that does not exist.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut methods: Vec<String> = if other_path(path).is_some() {
            vec!["GET".to_string()]
        } else {
            let mut all: Vec<String> = self
                .best(path)
                .flat_map(|(_, t)| t.methods.iter().cloned())
                .collect();
            if all.is_empty() {
                return None;
            }
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
        assert_eq!(allowed("/metrics").unwrap(), ["GET", "HEAD", "OPTIONS"]);
        assert_eq!(allowed("/api/v1/nothing-here"), None);
        assert_eq!(allowed("/api/v1/tags/"), None);
    }

    #[test]
    fn a_path_is_served_by_the_template_the_router_prefers() {
        let methods = Methods::from_spec(&crate::api::service().spec());
        let template = |path: &str| {
            methods
                .template_of(path)
                .and_then(|n| methods.templates().nth(n))
        };
        assert_eq!(
            template("/api/v1/articles/some-slug"),
            Some("/api/v1/articles/{id_or_slug}")
        );
        assert_eq!(
            template("/api/v1/trash/articles"),
            Some("/api/v1/trash/articles")
        );
        assert_eq!(template("/api/v1/articles/a/b/c/d"), None);
        assert_eq!(template("/api/v1/tags/"), None);
        assert_eq!(other_path("/docs/index.css"), Some("/docs"));
        assert_eq!(other_path("/metrics"), Some("/metrics"));
        assert_eq!(other_path("/metricsx"), None);
    }
}
