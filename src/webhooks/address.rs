//! Which URLs and network addresses a webhook may reach: an absolute http(s) URL
//! with a host and no credentials ([`check_url`]), and not at a loopback, private,
//! link-local (cloud metadata lives there), shared, multicast or otherwise special
//! address ([`forbidden`], [`class`]), unless `DISPATCH_WEBHOOK_ALLOW_PRIVATE` says
//! so. The same rule is applied when an endpoint is registered and again to every
//! address a delivery connects to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use url::{Host, Url};

/// Whether a webhook may not connect to `ip` (unless private addresses are allowed).
pub fn forbidden(ip: IpAddr) -> bool {
    class(ip).is_some()
}

/// The kind of address `ip` is when a webhook may not connect to it (`loopback`,
/// `private`, `link-local`, …), for messages that say why; `None` when it may.
pub fn class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => class_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => class_v4(v4),
            None => class_v6(v6),
        },
    }
}

fn class_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if ip.is_unspecified() || a == 0 {
        "unspecified"
    } else if ip.is_broadcast() {
        "broadcast"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_documentation() {
        "documentation"
    } else if a == 100 && (64..128).contains(&b) {
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        "shared (carrier-grade NAT)"
    } else if (a == 198 && (18..20).contains(&b)) || a >= 240 {
        // Benchmarking, 198.18.0.0/15; reserved, 240.0.0.0/4.
        "reserved"
    } else {
        return None;
    })
}

fn class_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let [first, second, ..] = ip.segments();
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_multicast() {
        "multicast"
    } else if (first & 0xfe00) == 0xfc00 {
        // Unique local, fc00::/7.
        "private (unique local)"
    } else if (first & 0xffc0) == 0xfe80 {
        "link-local"
    } else if first == 0x0064 || first == 0x2002 {
        // NAT64 and 6to4 can reach IPv4 addresses.
        "IPv4-translating (NAT64, 6to4)"
    } else if first == 0x2001 && second == 0x0db8 {
        "documentation"
    } else {
        return None;
    })
}

/// The longest URL an endpoint may have (the column's length).
pub const MAX_URL_LEN: usize = 2048;

/// How long resolving an endpoint's host may take when it is registered.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

const HINT: &str = "webhooks may not reach this machine or its private network \
                    (DISPATCH_WEBHOOK_ALLOW_PRIVATE=true allows it)";

/// Checks the URL of an endpoint and returns it parsed (normalised: a lower-case
/// host, an explicit path). It must be an absolute `http` or `https` URL of at most
/// [`MAX_URL_LEN`] characters with a host, no credentials (they would be logged with
/// it) and no fragment. Unless `allow_private`, its host must not be an address
/// [`forbidden`] refuses, nor `localhost`, and a name must resolve (within 3 s)
/// to addresses none of which is refused. The error says why, for the `url` field.
pub async fn check_url(url: &str, allow_private: bool) -> Result<Url, String> {
    let parsed = parse(url)?;
    if allow_private {
        return Ok(parsed);
    }
    match parsed.host() {
        Some(Host::Ipv4(ip)) => refuse_ip(IpAddr::V4(ip), None)?,
        Some(Host::Ipv6(ip)) => refuse_ip(IpAddr::V6(ip), None)?,
        Some(Host::Domain(name)) => {
            let bare = name.trim_end_matches('.').to_ascii_lowercase();
            if bare == "localhost" || bare.ends_with(".localhost") {
                return Err(format!("names `{name}`, a loopback address; {HINT}"));
            }
            let port = parsed.port_or_known_default().unwrap_or(80);
            let resolved =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(Iterator::collect::<Vec<_>>)
                    .unwrap_or_default();
            if resolved.is_empty() {
                return Err(format!(
                    "`{name}` does not resolve to an address (checked when the webhook is saved)"
                ));
            }
            for addr in resolved {
                refuse_ip(addr.ip(), Some(name))?;
            }
        }
        None => return Err("must name a host".to_string()),
    }
    Ok(parsed)
}

/// The rules that need no network: scheme, host, credentials, fragment, length.
fn parse(url: &str) -> Result<Url, String> {
    let too_long = || format!("must be at most {MAX_URL_LEN} characters");
    if url.chars().count() > MAX_URL_LEN {
        return Err(too_long());
    }
    let parsed = Url::parse(url.trim()).map_err(|err| match err {
        url::ParseError::EmptyHost => "must name a host".to_string(),
        url::ParseError::RelativeUrlWithoutBase => {
            "must be an absolute http:// or https:// URL".to_string()
        }
        other => format!("is not a valid URL ({other})"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http:// or https:// URL, not {}:",
            parsed.scheme()
        ));
    }
    if parsed.host().is_none() {
        return Err("must name a host".to_string());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
            "must not carry credentials (user:password@): the URL is shown to admins and \
             logged in clear; receivers authenticate deliveries by their signature"
                .to_string(),
        );
    }
    if parsed.fragment().is_some() {
        return Err("must not have a fragment (#…): it is never sent".to_string());
    }
    if parsed.as_str().chars().count() > MAX_URL_LEN {
        return Err(too_long());
    }
    Ok(parsed)
}

/// A refusal naming the class of `ip` (which `name` resolved to, if a name).
fn refuse_ip(ip: IpAddr, name: Option<&str>) -> Result<(), String> {
    match (class(ip), name) {
        (None, _) => Ok(()),
        (Some(class), Some(name)) => Err(format!(
            "`{name}` resolves to a {class} address ({ip}); {HINT}"
        )),
        (Some(class), None) => Err(format!("is a {class} address ({ip}); {HINT}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_forbidden_and_public_ones_are_not() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(forbidden(bad.parse().unwrap()), "{bad}");
        }
        for good in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!forbidden(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn refusals_name_the_class_of_address() {
        for (ip, expected) in [
            ("127.0.0.1", "loopback"),
            ("10.0.0.5", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("240.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("fd00::1", "private (unique local)"),
            ("fe80::1", "link-local"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::7f00:1", "IPv4-translating (NAT64, 6to4)"),
        ] {
            assert_eq!(class(ip.parse().unwrap()), Some(expected), "{ip}");
        }
        assert_eq!(class("1.1.1.1".parse().unwrap()), None);
    }

    /// The message for `url`, which must be refused.
    async fn refusal(url: &str) -> String {
        match check_url(url, false).await {
            Ok(parsed) => panic!("{url} was accepted as {parsed}"),
            Err(message) => message,
        }
    }

    #[tokio::test]
    async fn a_url_must_be_absolute_http_with_a_host_and_nothing_secret() {
        for (url, says) in [
            (
                "ftp://files.example/x",
                "must be an http:// or https:// URL, not ftp:",
            ),
            ("https://", "must name a host"),
            ("/hooks", "must be an absolute http:// or https:// URL"),
            (
                "https://user:pw@93.184.216.34/x",
                "must not carry credentials",
            ),
            ("https://user@93.184.216.34/x", "must not carry credentials"),
            ("https://93.184.216.34/x#frag", "must not have a fragment"),
            ("https://[::1", "is not a valid URL"),
        ] {
            let message = refusal(url).await;
            assert!(message.starts_with(says), "{url}: {message}");
        }
        let long = format!("https://93.184.216.34/{}", "a".repeat(MAX_URL_LEN));
        assert!(refusal(&long).await.contains("at most 2048"));
        // Those rules hold even where private addresses are allowed.
        assert!(check_url("ftp://127.0.0.1/", true).await.is_err());
        assert!(check_url("http://u:p@127.0.0.1/", true).await.is_err());
    }

    #[tokio::test]
    async fn internal_hosts_are_refused_naming_why_unless_allowed() {
        for (url, says) in [
            ("http://127.0.0.1:9/x", "is a loopback address (127.0.0.1)"),
            ("http://2130706433/", "is a loopback address (127.0.0.1)"),
            ("http://10.0.0.5/", "is a private address (10.0.0.5)"),
            (
                "http://169.254.169.254/latest/meta-data",
                "is a link-local address (169.254.169.254)",
            ),
            ("http://[::1]/", "is a loopback address (::1)"),
            ("http://[::ffff:192.168.0.1]/", "is a private address"),
            (
                "http://localhost:8080/",
                "names `localhost`, a loopback address",
            ),
            (
                "http://LOCALHOST./",
                "names `localhost.`, a loopback address",
            ),
            (
                "http://api.localhost/",
                "names `api.localhost`, a loopback address",
            ),
            (
                "http://nothing.invalid/",
                "`nothing.invalid` does not resolve",
            ),
        ] {
            let message = refusal(url).await;
            assert!(message.starts_with(says), "{url}: {message}");
            if !says.contains("resolve") {
                assert!(
                    message.contains("DISPATCH_WEBHOOK_ALLOW_PRIVATE"),
                    "{message}"
                );
            }
            assert!(check_url(url, true).await.is_ok(), "{url} when allowed");
        }
        let ok = check_url("https://93.184.216.34/hook?a=1", false)
            .await
            .unwrap();
        assert_eq!(ok.as_str(), "https://93.184.216.34/hook?a=1");
    }

    /// A name other than `localhost` that the hosts file maps to a loopback address
    /// (`ip6-localhost` on Debian and Ubuntu, the machine's name in containers).
    fn loopback_name() -> Option<String> {
        let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
        hosts.lines().find_map(|line| {
            let mut words = line.split('#').next()?.split_whitespace();
            let ip: IpAddr = words.next()?.parse().ok()?;
            if !ip.is_loopback() {
                return None;
            }
            words
                .find(|name| {
                    let name = name.to_ascii_lowercase();
                    name != "localhost" && !name.ends_with(".localhost")
                })
                .map(str::to_string)
        })
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let name = loopback_name().expect("a loopback name in /etc/hosts");
        let message = refusal(&format!("http://{name}/hook")).await;
        assert!(
            message.starts_with(&format!(
                "`{}` resolves to a loopback address",
                name.to_ascii_lowercase()
            )),
            "{message}"
        );
    }
}
