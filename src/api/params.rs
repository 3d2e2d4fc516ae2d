//! Path and query parameters: a NUL character (`%00`) in either is refused with a
//! 400 naming the parameter, before any handler sees it (the rule itself is
//! [`crate::content::text::refuses`], the same one request bodies obey).

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::content::text;
use crate::error::{ApiError, path_param_at, problem_response};

/// Percent-decodes `raw` (bytes that do not decode stay as they are).
fn decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first parameter of the path or query whose value breaks the text rule,
/// with the reason.
fn refused(path: &str, query: Option<&str>) -> Option<(String, &'static str)> {
    for (position, segment) in path.split('/').enumerate() {
        if let Some(reason) = text::refuses(&decode(segment)) {
            let name = path_param_at(path, position).unwrap_or_else(|| "path".to_string());
            return Some((name, reason));
        }
    }
    for pair in query.unwrap_or_default().split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key);
        if let Some(reason) = text::refuses(&key) {
            return Some(("query".to_string(), reason));
        }
        if let Some(reason) = text::refuses(&decode(value)) {
            return Some((key, reason));
        }
    }
    None
}

/// Middleware: refuses a request whose path or query holds a NUL character.
pub async fn refuse_nul<E: Endpoint>(next: Arc<E>, req: Request) -> poem::Result<Response> {
    if let Some((name, reason)) = refused(req.uri().path(), req.uri().query()) {
        return Ok(problem_response(
            &ApiError::bad_request(&name, reason).problem(),
        ));
    }
    Ok(next.call(req).await?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_in_path_and_query() {
        crate::error::learn_spec(|| crate::api::service().spec());
        assert_eq!(refused("/api/v1/articles/a-b", Some("q=x&tag=y")), None);
        assert_eq!(
            refused("/api/v1/articles/a%00b", None).map(|r| r.0),
            Some("id_or_slug".to_string())
        );
        assert_eq!(
            refused("/api/v1/nowhere%00", None).map(|r| r.0),
            Some("path".to_string())
        );
        assert_eq!(
            refused("/api/v1/articles", Some("limit=5&q=a%00")).map(|r| r.0),
            Some("q".to_string())
        );
        assert_eq!(decode("a%41+b%zz"), "aA b%zz");
    }
}
