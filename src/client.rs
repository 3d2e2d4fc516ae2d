//! Who sent a request: the socket peer, or, behind a reverse proxy the operator
//! names (`DISPATCH_CLIENT_IP_HEADER`), exactly the entry that proxy appended. It
//! is worked out once per request (by the edge middleware) and read from the
//! request by everything else: the rate limits and the request log.

use std::net::{IpAddr, Ipv4Addr};

use poem::Request;
use poem::http::HeaderMap;

/// Where the client address comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientAddrSource {
    /// A header set by a reverse proxy (lower case), or `None` for the socket peer.
    pub header: Option<String>,
    /// How many proxies the operator runs in front: the client is this many
    /// entries from the right of the header.
    pub trusted_hops: usize,
}

/// The client address of a request, as resolved by the edge middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The address stored on `req` by the edge middleware (the unspecified address
    /// if it was never resolved, which only an app without the middleware sees).
    pub fn of(req: &Request) -> IpAddr {
        req.extensions()
            .get::<ClientAddr>()
            .map(|c| c.0)
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// Why a configured proxy header could not name the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHeader {
    pub header: String,
    pub reason: String,
}

/// One address, with an optional port: `192.0.2.10`, `192.0.2.10:51234`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
pub fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Some(rest) = entry.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok());
        return port_ok.then(|| ip.parse::<IpAddr>().ok()).flatten();
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    // `a.b.c.d:port` (a bare IPv6 address with a port must use brackets).
    let (ip, port) = entry.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The client address of a request from `peer` with `headers`. Without a
/// configured header the peer is the client and proxy headers are ignored. With
/// one, a request that does not carry it came straight to us (the peer is the
/// client); one that does is answered by its `trusted_hops`-th entry from the right,
/// and a header without that many entries or with that entry unparseable is refused.
pub fn resolve(
    source: &ClientAddrSource,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<IpAddr, BadHeader> {
    let peer = peer
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        .to_canonical();
    let Some(name) = &source.header else {
        return Ok(peer);
    };
    let values: Vec<&poem::http::HeaderValue> = headers.get_all(name.as_str()).iter().collect();
    if values.is_empty() {
        return Ok(peer);
    }
    let bad = |reason: String| BadHeader {
        header: name.clone(),
        reason,
    };
    let mut entries = Vec::new();
    for value in values {
        let text = value
            .to_str()
            .map_err(|_| bad("is not plain ASCII".to_string()))?;
        entries.extend(text.split(',').map(str::trim));
    }
    let hops = source.trusted_hops.max(1);
    let Some(entry) = entries.len().checked_sub(hops).map(|i| entries[i]) else {
        return Err(bad(format!(
            "has {} entries, fewer than the {hops} trusted proxies that must have added one",
            entries.len()
        )));
    };
    parse_entry(entry)
        .map(|ip| ip.to_canonical())
        .ok_or_else(|| bad("does not end with the client address the proxy added".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn xff(hops: usize) -> ClientAddrSource {
        ClientAddrSource {
            header: Some("x-forwarded-for".into()),
            trusted_hops: hops,
        }
    }

    #[test]
    fn entries_parse_with_or_without_a_port() {
        assert_eq!(parse_entry("192.0.2.10"), Some(ip("192.0.2.10")));
        assert_eq!(parse_entry(" 192.0.2.10:51234 "), Some(ip("192.0.2.10")));
        assert_eq!(parse_entry("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_entry("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(parse_entry("[2001:db8::1]:443"), Some(ip("2001:db8::1")));
        for bad in [
            "",
            "unknown",
            "192.0.2.10:",
            "192.0.2.10:99999",
            "[2001:db8::1]:x",
            "[2001:db8::1",
            "2001:db8::1]:443",
            "example.com:80",
        ] {
            assert_eq!(parse_entry(bad), None, "{bad}");
        }
    }

    #[test]
    fn without_a_header_setting_the_peer_is_the_client() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-real-ip", "203.0.113.8"),
        ]);
        let source = ClientAddrSource::default();
        assert_eq!(
            resolve(&source, &h, Some(ip("127.0.0.1"))),
            Ok(ip("127.0.0.1"))
        );
        assert_eq!(
            resolve(&source, &h, Some(ip("::ffff:192.0.2.1"))),
            Ok(ip("192.0.2.1"))
        );
    }

    #[test]
    fn the_entry_the_trusted_proxy_appended_is_taken() {
        let peer = Some(ip("10.0.0.1"));
        let h = headers(&[("x-forwarded-for", "garbage, 192.0.2.10:51234")]);
        assert_eq!(resolve(&xff(1), &h, peer), Ok(ip("192.0.2.10")));
        let h = headers(&[("x-forwarded-for", "198.51.100.1, 192.0.2.10, 10.0.0.2")]);
        assert_eq!(resolve(&xff(2), &h, peer), Ok(ip("192.0.2.10")));
        // Two header lines are one list, in order.
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "[2001:db8::5]:443"),
        ]);
        assert_eq!(resolve(&xff(1), &h, peer), Ok(ip("2001:db8::5")));
        assert_eq!(resolve(&xff(2), &h, peer), Ok(ip("198.51.100.1")));
        // Absent: the request came straight to us.
        assert_eq!(
            resolve(&xff(1), &HeaderMap::new(), peer),
            Ok(ip("10.0.0.1"))
        );
        let real = ClientAddrSource {
            header: Some("x-real-ip".into()),
            trusted_hops: 1,
        };
        let h = headers(&[("x-real-ip", "192.0.2.77")]);
        assert_eq!(resolve(&real, &h, peer), Ok(ip("192.0.2.77")));
    }

    #[test]
    fn a_header_that_names_no_client_is_refused() {
        let peer = Some(ip("10.0.0.1"));
        for (value, hops) in [
            ("192.0.2.10, garbage", 1),
            ("", 1),
            ("192.0.2.10,", 1),
            ("192.0.2.10", 2),
            ("garbage, 192.0.2.10", 2),
        ] {
            let h = headers(&[("x-forwarded-for", value)]);
            let err = resolve(&xff(hops), &h, peer).unwrap_err();
            assert_eq!(err.header, "x-forwarded-for", "{value}");
        }
    }
}
