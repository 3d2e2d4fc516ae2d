//! The edge of every request, outside everything else: it gives the request its
//! id, works out the client address once (for the rate limits and the log), puts
//! the security headers on the response (and `Cache-Control: no-store` on every
//! error) and writes the one log line per request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::client::{self, ClientAddr, ClientAddrSource};
use crate::error::{ApiError, problem_response};
use crate::request_id;

/// The Content-Security-Policy of everything but Swagger UI: the API serves data,
/// never a page, so nothing may load, run or frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// What the edge middleware needs, worked out once at start-up.
#[derive(Debug, Clone)]
pub struct Edge {
    pub client: ClientAddrSource,
    /// The Content-Security-Policy of Swagger UI (under `/docs`).
    pub docs_csp: String,
}

/// The CSP of a page whose only scripts and styles are the inline ones in `html`:
/// each is allowed by its hash; images may be `data:` URLs (Swagger UI's icons);
/// requests go to this origin only ("Try it out").
pub fn docs_csp(html: &str) -> String {
    let hashes = |tag: &str| -> String {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        let mut out = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find(&open) {
            let after = &rest[start..];
            let Some(body_start) = after.find('>').map(|i| i + 1) else {
                break;
            };
            let Some(body_len) = after[body_start..].find(&close) else {
                break;
            };
            let body = &after[body_start..body_start + body_len];
            out.push(format!("'sha256-{}'", sha256_base64(body)));
            rest = &after[body_start + body_len..];
        }
        out.join(" ")
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hashes("script"),
        hashes("style")
    )
}

fn sha256_base64(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The paths whose last part is a credential (a draft preview's token): logged as
/// the prefix and `{token}`.
pub const SECRET_PATHS: &[&str] = &["/api/v1/preview/"];

/// `path` as the log may hold it: a credential in it replaced by `{token}`.
pub fn loggable(path: &str) -> String {
    match SECRET_PATHS.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) => format!("{prefix}{{token}}"),
        None => path.to_string(),
    }
}

/// The log line of one request. The path is logged without its query string
/// (which may carry anything) or a credential ([`SECRET_PATHS`]), and the client
/// as the rate limits see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub duration: Duration,
    pub client: IpAddr,
    pub request_id: String,
}

impl RequestLine {
    pub fn emit(&self) {
        tracing::info!(
            method = %self.method,
            path = %self.path,
            status = self.status,
            duration_ms = format_args!("{:.3}", self.duration.as_secs_f64() * 1000.0),
            client = %self.client,
            request_id = %self.request_id,
            "request"
        );
    }
}

/// The middleware. A request whose configured proxy header names no client is
/// refused here with 400 (the header is the field at fault).
pub async fn edge<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    edge: Arc<Edge>,
) -> poem::Result<Response> {
    let started = Instant::now();
    let id = request_id::choose(
        req.headers()
            .get(request_id::HEADER)
            .map(HeaderValue::as_bytes),
    );
    let method = req.method().to_string();
    let path = loggable(req.uri().path());
    let docs = path == "/docs" || path.starts_with("/docs/");
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    let resolved = client::resolve(&edge.client, req.headers(), peer);
    let client = match &resolved {
        Ok(ip) => *ip,
        Err(_) => peer
            .map(|p| p.to_canonical())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    };
    let mut resp = request_id::scope(id.clone(), async move {
        match resolved {
            Ok(ip) => {
                req.extensions_mut().insert(ClientAddr(ip));
                match next.call(req).await {
                    Ok(resp) => resp.into_response(),
                    Err(err) => err.into_response(),
                }
            }
            Err(bad) => problem_response(
                &ApiError::bad_request(&bad.header, format!("the header {}", bad.reason)).problem(),
            ),
        }
    })
    .await;
    let failed = resp.status().is_client_error() || resp.status().is_server_error();
    let headers = resp.headers_mut();
    if failed {
        // No error is ever stored: the next attempt must reach the server.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(request_id::HEADER, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let csp = if docs {
        HeaderValue::from_str(&edge.docs_csp).unwrap_or(HeaderValue::from_static(API_CSP))
    } else {
        HeaderValue::from_static(API_CSP)
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    RequestLine {
        method,
        path,
        status: resp.status().as_u16(),
        duration: started.elapsed(),
        client,
        request_id: id,
    }
    .emit();
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn logged(edge_config: Edge, req: Request) -> (Response, String) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let ep = Arc::new(poem::endpoint::make_sync(|req: Request| {
            format!("client {}", ClientAddr::of(&req))
        }));
        let resp = edge(ep, req, Arc::new(edge_config)).await.unwrap();
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        (resp, text)
    }

    #[tokio::test]
    async fn the_log_line_has_no_query_and_the_limiters_client_address() {
        let config = Edge {
            client: ClientAddrSource {
                header: Some("x-forwarded-for".into()),
                trusted_hops: 1,
            },
            docs_csp: String::new(),
        };
        let req = Request::builder()
            .uri_str("/api/v1/articles?password=hunter2&q=x")
            .header("x-forwarded-for", "203.0.113.66, 192.0.2.10:51234")
            .header("x-request-id", "trace-42")
            .finish();
        let (resp, line) = logged(config, req).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.into_body().into_string().await.unwrap(),
            "client 192.0.2.10"
        );
        assert!(!line.contains("hunter2"), "{line}");
        assert!(!line.contains('?'), "{line}");
        for part in [
            "method=GET",
            "path=/api/v1/articles",
            "status=200",
            "client=192.0.2.10",
            "request_id=trace-42",
            "duration_ms=",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(!line.contains("203.0.113.66"), "{line}");
    }

    #[tokio::test]
    async fn without_a_configured_header_proxy_headers_are_not_logged_as_the_client() {
        let config = Edge {
            client: ClientAddrSource::default(),
            docs_csp: String::new(),
        };
        let req = Request::builder()
            .uri_str("/x")
            .header("x-forwarded-for", "203.0.113.66")
            .header("x-real-ip", "203.0.113.67")
            .finish();
        let (_, line) = logged(config, req).await;
        assert!(!line.contains("203.0.113.6"), "{line}");
        assert!(line.contains("client=0.0.0.0"), "{line}");
    }

    #[tokio::test]
    async fn a_preview_token_in_the_path_is_not_logged() {
        let config = Edge {
            client: ClientAddrSource::default(),
            docs_csp: String::new(),
        };
        let req = Request::builder()
            .uri_str("/api/v1/preview/s3cr3t-payload.s3cr3t-mac")
            .finish();
        let (_, line) = logged(config, req).await;
        assert!(!line.contains("s3cr3t"), "{line}");
        assert!(line.contains("path=/api/v1/preview/{token}"), "{line}");
        assert_eq!(loggable("/api/v1/articles/x"), "/api/v1/articles/x");
    }

    #[test]
    fn the_docs_policy_allows_exactly_the_inline_scripts_and_styles() {
        let html = "<style a>p{}</style><script>one()</script><script x>two()</script>";
        let csp = docs_csp(html);
        assert!(
            csp.contains(&format!(
                "script-src 'sha256-{}' 'sha256-{}';",
                sha256_base64("one()"),
                sha256_base64("two()")
            )),
            "{csp}"
        );
        assert!(
            csp.contains(&format!("style-src 'sha256-{}';", sha256_base64("p{}"))),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
