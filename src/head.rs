//! A request head as it arrives on the socket, checked and mended before hyper
//! parses it (the connection wrapper in `connections.rs` holds each head back until
//! it is whole and hands it here).
//!
//! Hyper answers what it cannot parse itself, below the application: a bare 400, 414
//! or 431 with no body, no request id, and the connection closed. So the rules hyper
//! applies are applied here first, in the same order, and a head that breaks one gets
//! the API's problem+json instead (written by the wrapper, which then closes):
//!
//! - a request line that is not `METHOD target HTTP/1.x` → 400;
//! - a request target longer than [`MAX_TARGET`] → 414;
//! - more than [`MAX_HEADERS`] header fields, or a head over [`MAX_HEAD`] → 431;
//! - a malformed header field, `Content-Length` or `Transfer-Encoding` → 400.
//!
//! One thing is mended rather than refused: bytes that RFC 3986 never allows in a
//! URL but that people paste (`<`, `>`, `"`, `{`, `}`, `|`, `\`, `^`, `` ` `` and
//! non-ASCII, as in `?cursor=<meta.next_cursor>`) are percent-encoded, as a browser
//! would have sent them, so the request reaches the API and its own checks answer.

use poem::http::StatusCode;

use crate::edge::API_CSP;
use crate::error::problem_for;

/// The longest request target (path and query) served; hyper's own limit is 64 KiB.
pub const MAX_TARGET: usize = 8 * 1024;
/// The most header fields a request may have (hyper's limit).
pub const MAX_HEADERS: usize = 100;
/// The largest request head (request line and header fields).
pub const MAX_HEAD: usize = 64 * 1024;

/// The HTTP/2 connection preface, which reaches us as a head of its own.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\n";

/// What to do with a head.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Hand these bytes to hyper (the head, mended where needed).
    Pass(Vec<u8>),
    /// The connection speaks HTTP/2 from here on: hand the bytes over and stop checking.
    Http2(Vec<u8>),
    /// Answer this instead, and close.
    Refuse(Refusal),
}

/// A head refused before hyper saw it.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub detail: String,
    /// The method and path, as far as they could be read (for the log line).
    pub method: String,
    pub path: String,
    /// The client's `X-Request-Id`, if it sent one.
    pub request_id: Option<Vec<u8>>,
}

impl Refusal {
    fn new(status: StatusCode, detail: impl Into<String>, line: &[u8]) -> Self {
        let mut parts = line.split(|b| *b == b' ');
        let method = String::from_utf8_lossy(parts.next().unwrap_or_default());
        let target = parts.next().unwrap_or_default();
        let path = target.split(|b| *b == b'?').next().unwrap_or_default();
        Self {
            status,
            detail: detail.into(),
            method: method.chars().take(32).collect(),
            path: String::from_utf8_lossy(path).chars().take(256).collect(),
            request_id: None,
        }
    }
}

/// Whether RFC 3986 forbids `b` anywhere in a URL, though people paste it.
fn needs_encoding(b: u8) -> bool {
    matches!(
        b,
        b'<' | b'>' | b'"' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'`'
    ) || b >= 0x80
}

/// Percent-encodes the bytes of a request target that no URL may hold.
pub fn mend_target(target: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(target.len());
    for &b in target {
        if needs_encoding(b) {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// The empty lines a client may send before a request (RFC 9112 §2.2).
fn leading_blank(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count()
}

/// A head still arriving, over a limit already: the refusal, without waiting for more.
pub fn check_partial(buf: &[u8]) -> Option<Refusal> {
    let start = leading_blank(buf);
    let rest = &buf[start..];
    let refusal = match rest.iter().position(|b| *b == b'\n') {
        None if rest.len() > MAX_TARGET + 64 => Some(Refusal::new(
            StatusCode::URI_TOO_LONG,
            too_long_detail(),
            rest,
        )),
        _ if buf.len() > MAX_HEAD => {
            let line = rest.split(|b| *b == b'\n').next().unwrap_or_default();
            Some(Refusal::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!(
                    "The request head (request line and header fields) is larger than {} KiB.",
                    MAX_HEAD / 1024
                ),
                line,
            ))
        }
        _ => None,
    };
    refusal.map(|r| with_id(r, buf))
}

fn too_long_detail() -> String {
    format!(
        "The request target (path and query) is longer than {MAX_TARGET} bytes; send \
         large inputs in a request body."
    )
}

/// A whole head (up to and including its blank line): pass it on (mended), or refuse it.
pub fn check(head: &[u8]) -> Checked {
    let start = leading_blank(head);
    if &head[start..] == HTTP2_PREFACE {
        return Checked::Http2(head.to_vec());
    }
    if let Some(refusal) = check_partial(head) {
        return Checked::Refuse(refusal);
    }
    let rest = &head[start..];
    let line_end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let line = rest[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&rest[..line_end]);
    let mut parts = line.splitn(3, |b| *b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Checked::Refuse(with_id(
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "The request line must be `METHOD /path HTTP/1.1`.",
                line,
            ),
            head,
        ));
    };
    if target.len() > MAX_TARGET {
        return Checked::Refuse(with_id(
            Refusal::new(StatusCode::URI_TOO_LONG, too_long_detail(), line),
            head,
        ));
    }
    let mended_target = mend_target(target);
    let mut mended = Vec::with_capacity(head.len() + mended_target.len() - target.len());
    mended.extend_from_slice(&head[..start]);
    mended.extend_from_slice(method);
    mended.push(b' ');
    mended.extend_from_slice(&mended_target);
    mended.push(b' ');
    mended.extend_from_slice(&rest[method.len() + target.len() + 2..]);
    let mended_line = {
        let r = &mended[start..];
        let end = r.iter().position(|b| *b == b'\n').unwrap_or(r.len());
        r[..end].strip_suffix(b"\r").unwrap_or(&r[..end]).to_vec()
    };
    let _ = version;
    match hyper_would_refuse(&mended) {
        Some((status, detail)) => {
            Checked::Refuse(with_id(Refusal::new(status, detail, &mended_line), head))
        }
        None => Checked::Pass(mended),
    }
}

/// The refusal with the client's `X-Request-Id`, if the head has one.
fn with_id(mut refusal: Refusal, head: &[u8]) -> Refusal {
    refusal.request_id = head
        .split(|b| *b == b'\n')
        .skip(1)
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|b| *b == b':')?;
            line[..colon]
                .eq_ignore_ascii_case(crate::request_id::HEADER.as_bytes())
                .then(|| line[colon + 1..].trim_ascii().to_vec())
        })
        .next();
    refusal
}

/// What hyper would answer a whole head with, if not the application: its parser
/// (httparse, with hyper's header limit), then its URI, `Content-Length` and
/// `Transfer-Encoding` checks (hyper's `role.rs`).
fn hyper_would_refuse(head: &[u8]) -> Option<(StatusCode, String)> {
    let bad = |detail: &str| Some((StatusCode::BAD_REQUEST, detail.to_string()));
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        // Not whole after all: hyper will wait for the rest, as it would have.
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => {
            return Some((
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!("The request has more than {MAX_HEADERS} header fields."),
            ));
        }
        Err(httparse::Error::Token) if req.method.is_none() => {
            return bad("The request line's method is not a valid token.");
        }
        Err(httparse::Error::Token) => {
            return bad("The request target holds a byte no URL may hold.");
        }
        Err(httparse::Error::Version) => {
            return bad("The request line must end with HTTP/1.1 (or HTTP/1.0).");
        }
        Err(err) => return bad(&format!("The request head is malformed: {err}.")),
    }
    let target = req.path.unwrap_or_default();
    if poem::http::Method::from_bytes(req.method.unwrap_or_default().as_bytes()).is_err() {
        return bad("The request line's method is not a valid token.");
    }
    if poem::http::Uri::try_from(target).is_err() {
        return bad("The request target is not a valid URL path and query.");
    }
    let http_11 = req.version == Some(1);
    let mut te = false;
    let mut chunked = false;
    let mut length: Option<u64> = None;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if !http_11 {
                return bad("HTTP/1.0 requests cannot use Transfer-Encoding.");
            }
            te = true;
            chunked = std::str::from_utf8(h.value).ok().is_some_and(|v| {
                v.rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            });
        } else if h.name.eq_ignore_ascii_case("content-length") && !te {
            let parsed = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match (parsed, length) {
                (None, _) => return bad("Content-Length must be a whole number of bytes."),
                (Some(n), Some(previous)) if n != previous => {
                    return bad("Content-Length is given twice with different values.");
                }
                (Some(n), _) => length = Some(n),
            }
        }
    }
    if te && !chunked {
        return bad("Transfer-Encoding must end with chunked.");
    }
    None
}

/// The whole HTTP/1.1 response of a refusal: problem+json, with the headers every
/// response carries (request id, security headers, `Cache-Control: no-store`), and
/// `Connection: close`.
pub fn response_bytes(refusal: &Refusal, request_id: &str) -> Vec<u8> {
    let mut problem = problem_for(refusal.status, refusal.detail.clone(), None);
    problem.request_id = request_id.to_string();
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\ncache-control: no-store\r\n\
         connection: close\r\n{}: {request_id}\r\nx-content-type-options: nosniff\r\n\
         referrer-policy: no-referrer\r\ncontent-security-policy: {API_CSP}\r\n\r\n",
        refusal.status.as_u16(),
        refusal.status.canonical_reason().unwrap_or("Error"),
        crate::error::PROBLEM_JSON,
        body.len(),
        crate::request_id::HEADER,
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passed(head: &str) -> String {
        match check(head.as_bytes()) {
            Checked::Pass(bytes) => String::from_utf8(bytes).unwrap(),
            other => panic!("{head:?}: {other:?}"),
        }
    }

    fn refused(head: &[u8]) -> Refusal {
        match check(head) {
            Checked::Refuse(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn forbidden_url_bytes_are_percent_encoded() {
        assert_eq!(
            passed("GET /api/v1/articles?cursor=<meta.next_cursor> HTTP/1.1\r\nHost: x\r\n\r\n"),
            "GET /api/v1/articles?cursor=%3Cmeta.next_cursor%3E HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        assert_eq!(
            passed("\r\nGET /a/caf\u{e9}?q=\"{x|y}\"^`\\ HTTP/1.1\r\n\r\n"),
            "\r\nGET /a/caf%C3%A9?q=%22%7Bx%7Cy%7D%22%5E%60%5C HTTP/1.1\r\n\r\n"
        );
        let plain = "POST /api/v1/tags?a=1&b=%20 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(passed(plain), plain);
    }

    #[test]
    fn what_hyper_refuses_is_refused_with_the_status_hyper_would_give() {
        assert_eq!(refused(b"GARBAGE\r\n\r\n").status, 400);
        assert_eq!(refused(b"GET / HTTP/9.9\r\n\r\n").status, 400);
        assert_eq!(refused(b"G(T / HTTP/1.1\r\n\r\n").status, 400);
        assert_eq!(refused(b"GET /\x01 HTTP/1.1\r\n\r\n").status, 400);
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").status,
            400
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").status,
            400
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").status,
            400
        );
        assert_eq!(
            refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").status,
            400
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n").status,
            400
        );
        let long = format!(
            "GET /{} HTTP/1.1\r\nX-Request-Id: abc\r\n\r\n",
            "a".repeat(MAX_TARGET)
        );
        let r = refused(long.as_bytes());
        assert_eq!(r.status, 414);
        assert_eq!(r.request_id.as_deref(), Some(&b"abc"[..]));
        let many: String = (0..=MAX_HEADERS)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect();
        assert_eq!(
            refused(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).status,
            431
        );
        let fine: String = (1..MAX_HEADERS).map(|i| format!("X-H{i}: v\r\n")).collect();
        passed(&format!("GET / HTTP/1.1\r\nHost: x\r\n{fine}\r\n"));
    }

    #[test]
    fn an_overlong_head_is_refused_before_it_ends() {
        let line = format!("GET /{}", "a".repeat(MAX_TARGET + 100));
        assert_eq!(check_partial(line.as_bytes()).unwrap().status, 414);
        let head = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD));
        assert_eq!(check_partial(head.as_bytes()).unwrap().status, 431);
        assert_eq!(check_partial(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }

    #[test]
    fn the_http2_preface_passes_untouched() {
        assert_eq!(check(HTTP2_PREFACE), Checked::Http2(HTTP2_PREFACE.to_vec()));
    }
}
