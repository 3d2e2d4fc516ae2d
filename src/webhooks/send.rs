//! The HTTP side of one delivery attempt: a `POST` with the Standard Webhooks
//! headers, through a client that follows no redirect, uses no proxy, gives up after
//! the configured timeout, and connects only to addresses [`forbidden`] allows (its
//! resolver drops the others, so a name that resolves somewhere internal at delivery
//! time, DNS rebinding, reaches nothing). What comes back is kept as an
//! [`Outcome`]: the status, the first 1 KB of the body, or the failure in words.

use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, USER_AGENT};

use super::address::forbidden;
use crate::config::EventsConfig;

/// The most of a response body that is read and kept.
pub const BODY_LIMIT: usize = 1024;

/// `User-Agent` of every delivery.
pub const AGENT: &str = concat!("Dispatch-Webhooks/", env!("CARGO_PKG_VERSION"));

/// One request to make.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub url: &'a str,
    /// `webhook-id`.
    pub msg_id: String,
    /// `webhook-timestamp`, in Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    pub body: Vec<u8>,
}

/// What one attempt came to.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The status, when the endpoint answered.
    pub status: Option<u16>,
    /// The first [`BODY_LIMIT`] bytes of its body (cut on a character boundary).
    pub body: Option<String>,
    /// `Retry-After`, as sent.
    pub retry_after: Option<String>,
    /// Why nothing (usable) came back: refused, timed out, an address not allowed.
    pub error: Option<String>,
    pub duration: Duration,
}

impl Outcome {
    /// Whether the endpoint took the delivery (2xx).
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The failure in words: the error, or the status the endpoint answered.
    pub fn failure(&self) -> Option<String> {
        if self.success() {
            return None;
        }
        match (&self.error, self.status) {
            (Some(error), _) => Some(error.clone()),
            (None, Some(status)) => Some(format!("the endpoint answered {status}")),
            (None, None) => Some("no answer".to_string()),
        }
    }
}

/// The HTTP client deliveries go through.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

impl Sender {
    /// The client for `config` (its timeout, whether private addresses are allowed).
    ///
    /// # Errors
    /// When the TLS backend cannot be set up.
    pub fn new(config: &EventsConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(Guarded {
                allow_private: config.allow_private,
            }))
            .build()?;
        Ok(Self {
            client,
            allow_private: config.allow_private,
            timeout: config.timeout,
        })
    }

    /// Makes the attempt; never fails, the failure is in the [`Outcome`].
    pub async fn post(&self, delivery: Delivery<'_>) -> Outcome {
        let started = Instant::now();
        let mut outcome = match tokio::time::timeout(self.timeout, self.exchange(delivery)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome {
                error: Some(self.timed_out()),
                ..Outcome::default()
            },
        };
        outcome.duration = started.elapsed();
        outcome
    }

    fn timed_out(&self) -> String {
        format!(
            "no answer within {} s (DISPATCH_WEBHOOK_TIMEOUT_SECONDS)",
            self.timeout.as_secs_f64()
        )
    }

    async fn exchange(&self, delivery: Delivery<'_>) -> Outcome {
        let failed = |error: String| Outcome {
            error: Some(error),
            ..Outcome::default()
        };
        let url = match reqwest::Url::parse(delivery.url) {
            Ok(url) => url,
            Err(err) => return failed(format!("the URL is not valid: {err}")),
        };
        // An address in the URL itself is never resolved: check it here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && !self.allow_private
            && forbidden(ip)
        {
            return failed(not_allowed(&ip.to_string(), &[ip]));
        }
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        for (name, value) in [
            ("webhook-id", delivery.msg_id),
            ("webhook-timestamp", delivery.timestamp.to_string()),
            ("webhook-signature", delivery.signature),
        ] {
            match HeaderValue::from_str(&value) {
                Ok(value) => {
                    headers.insert(name, value);
                }
                Err(_) => return failed(format!("the {name} header could not be made")),
            }
        }
        let sent = self
            .client
            .post(url)
            .headers(headers)
            .body(delivery.body)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(err) => return failed(self.describe(&err)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // Only the first kilobyte is read: a huge answer is never buffered.
        let mut body = Vec::new();
        while body.len() < BODY_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                // The status stands even if the body breaks off.
                Ok(None) | Err(_) => break,
            }
        }
        Outcome {
            status: Some(status),
            body: (!body.is_empty()).then(|| cut(&body)),
            retry_after,
            error: None,
            duration: Duration::ZERO,
        }
    }

    /// A request error in words.
    fn describe(&self, err: &reqwest::Error) -> String {
        if err.is_timeout() {
            return self.timed_out();
        }
        let mut source = err.source();
        while let Some(cause) = source {
            if let Some(refusal) = cause.downcast_ref::<Refusal>() {
                return refusal.to_string();
            }
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return "the connection was refused".to_string();
                    }
                    std::io::ErrorKind::ConnectionReset => {
                        return "the connection was reset".to_string();
                    }
                    std::io::ErrorKind::TimedOut => return self.timed_out(),
                    _ => {}
                }
            }
            source = cause.source();
        }
        let mut words = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            words.push_str(": ");
            words.push_str(&cause.to_string());
            source = cause.source();
        }
        clean(&words)
    }
}

/// The first [`BODY_LIMIT`] bytes of `bytes` as text: a character cut in two at the
/// end is dropped, other invalid bytes become U+FFFD, NUL too (PostgreSQL text holds none).
pub fn cut(bytes: &[u8]) -> String {
    let mut bytes = &bytes[..bytes.len().min(BODY_LIMIT)];
    if let Err(err) = std::str::from_utf8(bytes)
        && err.error_len().is_none()
    {
        bytes = &bytes[..err.valid_up_to()];
    }
    let mut text = clean(&String::from_utf8_lossy(bytes));
    let mut end = text.len().min(BODY_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn clean(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

fn not_allowed(host: &str, found: &[IpAddr]) -> String {
    const WHY: &str = "webhooks may not reach loopback, private, link-local or otherwise special \
         addresses (DISPATCH_WEBHOOK_ALLOW_PRIVATE allows them)";
    let list: Vec<String> = found.iter().map(IpAddr::to_string).collect();
    if list.len() == 1 && list[0] == host {
        format!("{host} is not an address webhooks may reach: {WHY}")
    } else {
        format!("`{host}` resolved only to {}: {WHY}", list.join(", "))
    }
}

/// Why a name led to no address a delivery may connect to.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// Resolves names as the system does, then keeps only the addresses allowed.
struct Guarded {
    allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|err| Refusal(format!("`{host}` could not be resolved: {err}")))?
                .collect();
            if found.is_empty() {
                return Err(Refusal(format!("`{host}` has no address")).into());
            }
            let allowed: Vec<SocketAddr> = found
                .iter()
                .filter(|a| allow_private || !forbidden(a.ip()))
                .copied()
                .collect();
            if allowed.is_empty() {
                let ips: Vec<IpAddr> = found.iter().map(SocketAddr::ip).collect();
                return Err(Refusal(not_allowed(&host, &ips)).into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_cut_to_a_kilobyte_on_a_character_boundary() {
        assert_eq!(cut(b"ok"), "ok");
        let long = "é".repeat(600);
        let kept = cut(long.as_bytes());
        assert_eq!(kept.len(), 1024);
        assert!(kept.chars().all(|c| c == 'é'));
        let odd = format!("a{long}");
        let kept = cut(odd.as_bytes());
        assert_eq!(kept.len(), 1023);
        assert_eq!(cut(b"a\0b\xff"), "a\u{FFFD}b\u{FFFD}");
        assert!(cut(&[0xff; 2000]).len() <= BODY_LIMIT);
    }

    #[tokio::test]
    async fn names_that_resolve_only_to_forbidden_addresses_are_refused() {
        let guarded = Guarded {
            allow_private: false,
        };
        let err = match guarded.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("may not reach"), "{err}");
        let open = Guarded {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().any(|a| a.ip().is_loopback()));
    }
}
