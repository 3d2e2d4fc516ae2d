//! Configuration from environment variables (and an optional `.env` file).
//!
//! | variable | default |
//! |---|---|
//! | `DATABASE_URL` | `sqlite://dispatch.db?mode=rwc` |
//! | `DISPATCH_BIND` | `127.0.0.1:8080` |
//! | `DISPATCH_JWT_SECRET` | generated once into `dispatch.jwt-secret` beside a SQLite database |
//! | `DISPATCH_CORS_ORIGINS` | none (comma-separated origins such as `https://news.example`, or `*`) |
//! | `DISPATCH_BODY_LIMIT` | `1048576` bytes |
//! | `DISPATCH_LOG` | `info` (a `tracing` filter such as `dispatch=debug,info`) |
//! | `DISPATCH_JWT_ALGORITHM` | `HS256` (or `HS384`, `HS512`) |
//! | `DISPATCH_ACCESS_TOKEN_MINUTES` | `15` |
//! | `DISPATCH_REFRESH_TOKEN_DAYS` | `30` |
//! | `DISPATCH_LOGIN_LIMIT_PER_ADDRESS` | `20` attempts per window |
//! | `DISPATCH_LOGIN_LIMIT_PER_EMAIL` | `5` failed attempts per (email, client address) per window |
//! | `DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS` | `60` |
//! | `DISPATCH_API_KEY_LIMIT` | `200` requests per API key per `DISPATCH_API_KEY_LIMIT_WINDOW_SECONDS` (`2`): 100 a second, bursts of 200 |
//! | `DISPATCH_CLIENT_IP_HEADER` | none: the socket peer is the client (e.g. `X-Forwarded-For` behind a proxy you run) |
//! | `DISPATCH_TRUSTED_PROXY_HOPS` | `1`: the client is this many entries from the right of that header |
//! | `DISPATCH_ADMIN_EMAIL`, `DISPATCH_ADMIN_PASSWORD` | none; create the first admin at start-up when no user exists |
//! | `DISPATCH_CACHE_MAX_AGE` | `60` seconds of `Cache-Control: public, max-age` on anonymous reads |
//! | `DISPATCH_TRASH_DAYS` | `30` days a deleted article stays restorable |
//! | `DISPATCH_COMMENT_LIMIT_PER_ADDRESS` | `5` comments per client address per `DISPATCH_COMMENT_LIMIT_WINDOW_SECONDS` (`600`) |
//! | `DISPATCH_HASH_CONCURRENCY` | 2 × the available cores: password hashes computed at once |
//! | `DISPATCH_HEADER_TIMEOUT_SECONDS` | `10`: a request's head must arrive within this |
//! | `DISPATCH_BODY_TIMEOUT_SECONDS` | `30`: a request's body must arrive within this |
//! | `DISPATCH_IDLE_TIMEOUT_SECONDS` | `60`: a kept-alive connection may wait this long for its next request |
//! | `DISPATCH_DB_ACQUIRE_TIMEOUT_SECONDS` | `3`: how long a request waits for a database connection |
//! | `DISPATCH_DB_MAX_CONNECTIONS` | `8` on SQLite, `16` on PostgreSQL |
//! | `DATABASE_READ_URL` | none: a read replica for anonymous reads (same pool size) |
//! | `DISPATCH_METRICS_TOKEN` | none: `/metrics` answers loopback clients only; set, it wants `Authorization: Bearer <token>` |
//! | `DISPATCH_EVENT_RETENTION_DAYS` | `30` days events stay in the feed (at least 4: retries last about 3) |
//! | `DISPATCH_WEBHOOK_ALLOW_PRIVATE` | `false`: webhook URLs may not reach loopback, private or link-local addresses |
//! | `DISPATCH_WEBHOOK_TIMEOUT_SECONDS` | `10` seconds one delivery attempt may take |
//! | `DISPATCH_WEBHOOK_CONCURRENCY` | `16` deliveries in flight at once per process |
//! | `DISPATCH_WEBHOOK_WORKER` | `true`: this process delivers webhooks and announces scheduled articles |
//! | `DISPATCH_MEDIA_STORAGE` | `file://./media` (beside the SQLite file) or `s3://bucket/prefix` (AWS variables) |
//! | `DISPATCH_MEDIA_MAX_BYTES` | `26214400` (25 MiB): the largest image upload |
//! | `DISPATCH_MEDIA_MAX_PIXELS` | `50000000`: the most pixels an image may have (checked from its header) |
//! | `DISPATCH_MEDIA_KEEP_GPS` | `false`: served files carry no EXIF, XMP or IPTC (GPS, serial numbers) |
//! | `DISPATCH_MEDIA_CONCURRENCY` | the number of cores: images decoded or encoded at once |
//! | `DISPATCH_PUBLIC_SITE_URL` | `http://localhost:3000`: the frontend's site, which feeds, sitemaps and `url` link to |
//! | `DISPATCH_ARTICLE_URL_TEMPLATE` | `/{publisher}/{yyyy}/{mm}/{slug}` (also `{dd}`, `{id}`) |
//! | `DISPATCH_PUBLISHER_URL_TEMPLATE`, `…_AUTHOR_…`, `…_TAG_…` | `/publishers/{slug}`, `/authors/{slug}`, `/tags/{slug}` |
//! | `DISPATCH_DEFAULT_LANGUAGE` | `en`: the BCP 47 language of articles that name none |
//! | `DISPATCH_SITE_NAME` | `Dispatch`: the site's name in its feeds |
//! | `DISPATCH_PUBLIC_API_URL` | `http://` and `DISPATCH_BIND` (`localhost` for a loopback or `0.0.0.0` host): this API's public address, which feeds link to (themselves, their pages, photos) |
//! | `DISPATCH_SITEMAP_PAGE_SIZE` | `50000`: URLs per child sitemap (the sitemaps.org maximum; smaller only for tests) |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::time::Duration;

use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;

use crate::client::ClientAddrSource;
use crate::site::Site;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://dispatch.db?mode=rwc";
pub const MIN_SECRET_BYTES: usize = 32;

/// `attempts` per `window_secs`, as a burst that refills evenly over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub attempts: u32,
    pub window_secs: u64,
}

/// A secret string that never shows itself in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    None,
    Any,
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// A read replica that anonymous reads go to.
    pub database_read_url: Option<String>,
    /// The bearer token `/metrics` wants (without one, loopback clients only).
    pub metrics_token: Option<Secret>,
    pub bind: SocketAddr,
    pub jwt_secret: Option<Secret>,
    pub cors_origins: CorsOrigins,
    pub body_limit: usize,
    pub log: String,
    /// Where the client address of a request comes from.
    pub client_addr: ClientAddrSource,
    pub auth: AuthConfig,
    pub workflow: WorkflowConfig,
    pub cache: CacheConfig,
    pub events: EventsConfig,
    pub media: MediaConfig,
    /// The public site: its addresses and default language.
    pub site: Site,
    /// The first admin, created at start-up when no user exists.
    pub bootstrap_admin: Option<(String, Secret)>,
    pub server: ServerConfig,
}

/// Bounds on what one client can hold: connections, hashing, database connections.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Password hashes (and verifications) computed at once; more get a 503.
    pub hash_concurrency: usize,
    /// From a connection's first byte (or its opening) to the end of a request's head.
    pub header_timeout: Duration,
    /// From the end of a request's head to the end of its body.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How long a request waits for a database connection before its 503.
    pub db_acquire_timeout: Duration,
    /// The size of the database pool (`None`: 8 on SQLite, 16 on PostgreSQL).
    pub db_max_connections: Option<u32>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            hash_concurrency: default_hash_concurrency(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            db_acquire_timeout: Duration::from_secs(3),
            db_max_connections: None,
        }
    }
}

/// Twice the cores this process may use.
fn default_hash_concurrency() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from)
}

/// The response cache of anonymous reads, and what public responses tell caches
/// downstream (browsers, CDNs).
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// The most bytes of responses kept in memory; 0 turns the cache off.
    pub bytes: u64,
    /// `stale-while-revalidate` of public responses, in seconds.
    pub stale_while_revalidate: u64,
    /// `stale-if-error` of public responses, in seconds.
    pub stale_if_error: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            bytes: 64 * 1024 * 1024,
            stale_while_revalidate: 30,
            stale_if_error: 86_400,
        }
    }
}

impl CacheConfig {
    /// The `Cache-Control` of anonymous reads: fresh for `max_age` seconds, then
    /// usable while revalidating and when the server fails, as configured.
    pub fn public(&self, max_age: u64) -> String {
        format!(
            "public, max-age={max_age}, stale-while-revalidate={}, stale-if-error={}",
            self.stale_while_revalidate, self.stale_if_error
        )
    }

    /// The `Cache-Control` of an anonymous read that stops being current in `left`
    /// seconds (a scheduled article becomes public then): kept downstream no longer,
    /// and never served stale while revalidating past it. `None` when [`Self::public`]
    /// already ends before then.
    pub fn public_until(&self, max_age: u64, left: u64) -> Option<String> {
        (left < max_age.saturating_add(self.stale_while_revalidate)).then(|| {
            format!(
                "public, max-age={}, stale-if-error={}",
                left.min(max_age),
                self.stale_if_error
            )
        })
    }
}

/// The event log and webhook delivery.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// How long events stay in the feed (`DISPATCH_EVENT_RETENTION_DAYS`, default 30).
    pub retention: Duration,
    /// Whether webhook URLs may reach loopback, private and link-local addresses
    /// (`DISPATCH_WEBHOOK_ALLOW_PRIVATE`, default false).
    pub allow_private: bool,
    /// How long one delivery attempt may take (`DISPATCH_WEBHOOK_TIMEOUT_SECONDS`, default 10).
    pub timeout: Duration,
    /// Deliveries in flight at once per process (`DISPATCH_WEBHOOK_CONCURRENCY`, default 16).
    pub concurrency: usize,
    /// Whether this process delivers webhooks and runs the event jobs at all
    /// (`DISPATCH_WEBHOOK_WORKER`, default true).
    pub worker: bool,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(30 * 86_400),
            allow_private: false,
            timeout: Duration::from_secs(10),
            concurrency: 16,
            worker: true,
        }
    }
}

/// News photos: where they are stored, how large they may be, what is served.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// `file://<dir>` or `s3://bucket/prefix` (`DISPATCH_MEDIA_STORAGE`, default
    /// `file://./media`, relative to the SQLite file's folder or the working directory).
    pub storage: String,
    /// The largest upload in bytes (`DISPATCH_MEDIA_MAX_BYTES`, default 25 MiB).
    pub max_bytes: usize,
    /// The most pixels an image may have (`DISPATCH_MEDIA_MAX_PIXELS`, default 50 million).
    pub max_pixels: u64,
    /// Whether served files keep their EXIF, XMP and IPTC, GPS included
    /// (`DISPATCH_MEDIA_KEEP_GPS`, default false: stripped, a privacy rule for sources).
    pub keep_gps: bool,
    /// Images decoded or encoded at once (`DISPATCH_MEDIA_CONCURRENCY`, default the
    /// number of cores).
    pub concurrency: usize,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            storage: "file://./media".into(),
            max_bytes: 25 * 1024 * 1024,
            max_pixels: 50_000_000,
            keep_gps: false,
            concurrency: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// Sign-in settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_algorithm: Algorithm,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub login_rate_per_address: Rate,
    pub login_rate_per_email: Rate,
    /// Requests per API key (this process's own bucket per key).
    pub api_key_rate: Rate,
}

/// Publishing, caching and reader settings.
#[derive(Debug, Clone)]
pub struct WorkflowConfig {
    /// `max-age` of anonymous reads, in seconds.
    pub cache_max_age: u64,
    /// How long a deleted article stays restorable.
    pub trash_retention: Duration,
    /// Comments per client address.
    pub comment_rate: Rate,
}

/// One entry of `DISPATCH_CORS_ORIGINS`: a browser origin, `scheme://host[:port]`
/// (a trailing `/` is dropped), in lower case with the scheme's default port left out
/// (as browsers send it in `Origin`). Anything else (no scheme, a path) is an error
/// naming the entry, so that a typo cannot silently lock the browser out.
pub fn origin(entry: &str) -> anyhow::Result<String> {
    let trimmed = entry.trim().trim_end_matches('/');
    let parsed = trimmed
        .split_once("://")
        .filter(|(scheme, _)| matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https"))
        .and_then(|_| trimmed.parse::<poem::http::Uri>().ok())
        .filter(|uri| uri.path_and_query().is_none_or(|p| p.as_str() == "/"))
        .and_then(|uri| Some((uri.scheme_str()?.to_string(), uri.authority()?.clone())));
    let Some((scheme, authority)) = parsed else {
        bail!(
            "DISPATCH_CORS_ORIGINS: `{entry}` is not an origin; write each as scheme://host[:port] \
             with no path, e.g. https://news.example or http://localhost:3000"
        );
    };
    Ok(normal_origin(&scheme, authority.as_str()))
}

/// `scheme://host[:port]` in lower case, without the scheme's default port.
pub fn normal_origin(scheme: &str, authority: &str) -> String {
    let scheme = scheme.to_ascii_lowercase();
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = authority.strip_suffix(default_port).unwrap_or(&authority);
    format!("{scheme}://{host}")
}

/// A whole number in `range` from `key`, or `default`.
fn number(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> anyhow::Result<u64> {
    match get(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .with_context(|| {
                format!(
                    "{key} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                )
            }),
    }
}

impl Config {
    /// Reads the configuration from the process environment (after loading `.env`
    /// if one exists in the working directory).
    pub fn from_env() -> anyhow::Result<Self> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup`, so tests can supply their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let bind = get("DISPATCH_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".to_string())
            .parse()
            .context("DISPATCH_BIND must be an address such as 127.0.0.1:8080")?;
        let jwt_secret = get("DISPATCH_JWT_SECRET").map(Secret::new);
        let cors_origins = match get("DISPATCH_CORS_ORIGINS") {
            None => CorsOrigins::None,
            Some(v) if v.trim() == "*" => CorsOrigins::Any,
            Some(v) => CorsOrigins::List(
                v.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(origin)
                    .collect::<anyhow::Result<_>>()?,
            ),
        };
        let body_limit = match get("DISPATCH_BODY_LIMIT") {
            None => 1024 * 1024,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .context("DISPATCH_BODY_LIMIT must be a positive number of bytes")?,
        };
        let log = get("DISPATCH_LOG").unwrap_or_else(|| "info".to_string());
        let jwt_algorithm = match get("DISPATCH_JWT_ALGORITHM").as_deref().map(str::trim) {
            None | Some("HS256") => Algorithm::HS256,
            Some("HS384") => Algorithm::HS384,
            Some("HS512") => Algorithm::HS512,
            Some(other) => {
                bail!("DISPATCH_JWT_ALGORITHM must be HS256, HS384 or HS512, not {other}")
            }
        };
        let window_secs = number(&get, "DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", 60, 1..=86_400)?;
        let rate = |key: &str, default: u64| -> anyhow::Result<Rate> {
            let attempts = number(&get, key, default, 1..=1_000_000)?;
            Ok(Rate {
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                window_secs,
            })
        };
        let auth = AuthConfig {
            jwt_algorithm,
            access_token_ttl: Duration::from_secs(
                60 * number(&get, "DISPATCH_ACCESS_TOKEN_MINUTES", 15, 1..=1440)?,
            ),
            refresh_token_ttl: Duration::from_secs(
                86_400 * number(&get, "DISPATCH_REFRESH_TOKEN_DAYS", 30, 1..=365)?,
            ),
            login_rate_per_address: rate("DISPATCH_LOGIN_LIMIT_PER_ADDRESS", 20)?,
            login_rate_per_email: rate("DISPATCH_LOGIN_LIMIT_PER_EMAIL", 5)?,
            api_key_rate: Rate {
                attempts: u32::try_from(number(
                    &get,
                    "DISPATCH_API_KEY_LIMIT",
                    200,
                    1..=1_000_000,
                )?)
                .unwrap_or(u32::MAX),
                window_secs: number(&get, "DISPATCH_API_KEY_LIMIT_WINDOW_SECONDS", 2, 1..=3600)?,
            },
        };
        let client_addr = ClientAddrSource {
            header: match get("DISPATCH_CLIENT_IP_HEADER") {
                None => None,
                Some(h) => Some(
                    poem::http::HeaderName::from_bytes(h.trim().as_bytes())
                        .context("DISPATCH_CLIENT_IP_HEADER must be a header name such as X-Forwarded-For")?
                        .as_str()
                        .to_string(),
                ),
            },
            trusted_hops: usize::try_from(number(&get, "DISPATCH_TRUSTED_PROXY_HOPS", 1, 1..=16)?)
                .unwrap_or(1),
        };
        let workflow = WorkflowConfig {
            cache_max_age: number(&get, "DISPATCH_CACHE_MAX_AGE", 60, 0..=31_536_000)?,
            trash_retention: Duration::from_secs(
                86_400 * number(&get, "DISPATCH_TRASH_DAYS", 30, 1..=3650)?,
            ),
            comment_rate: Rate {
                attempts: u32::try_from(number(
                    &get,
                    "DISPATCH_COMMENT_LIMIT_PER_ADDRESS",
                    5,
                    1..=1_000_000,
                )?)
                .unwrap_or(u32::MAX),
                window_secs: number(
                    &get,
                    "DISPATCH_COMMENT_LIMIT_WINDOW_SECONDS",
                    600,
                    1..=86_400,
                )?,
            },
        };
        let cache_defaults = CacheConfig::default();
        let cache = CacheConfig {
            bytes: number(
                &get,
                "DISPATCH_CACHE_BYTES",
                cache_defaults.bytes,
                0..=(1 << 40),
            )?,
            stale_while_revalidate: number(
                &get,
                "DISPATCH_CACHE_STALE_WHILE_REVALIDATE",
                cache_defaults.stale_while_revalidate,
                0..=31_536_000,
            )?,
            stale_if_error: number(
                &get,
                "DISPATCH_CACHE_STALE_IF_ERROR",
                cache_defaults.stale_if_error,
                0..=31_536_000,
            )?,
        };
        let flag = |key: &str, default: bool| -> anyhow::Result<bool> {
            match get(key).map(|v| v.trim().to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => Ok(true),
                Some(v) if matches!(v.as_str(), "false" | "0" | "no") => Ok(false),
                Some(_) => bail!("{key} must be true or false"),
            }
        };
        let events_defaults = EventsConfig::default();
        let events = EventsConfig {
            retention: Duration::from_secs(
                86_400 * number(&get, "DISPATCH_EVENT_RETENTION_DAYS", 30, 4..=3650)?,
            ),
            allow_private: flag("DISPATCH_WEBHOOK_ALLOW_PRIVATE", false)?,
            timeout: Duration::from_secs(number(
                &get,
                "DISPATCH_WEBHOOK_TIMEOUT_SECONDS",
                events_defaults.timeout.as_secs(),
                1..=60,
            )?),
            concurrency: usize::try_from(number(
                &get,
                "DISPATCH_WEBHOOK_CONCURRENCY",
                events_defaults.concurrency as u64,
                1..=256,
            )?)
            .unwrap_or(events_defaults.concurrency),
            worker: flag("DISPATCH_WEBHOOK_WORKER", true)?,
        };
        let media_defaults = MediaConfig::default();
        let media = MediaConfig {
            storage: get("DISPATCH_MEDIA_STORAGE")
                .map(|v| v.trim().to_string())
                .unwrap_or(media_defaults.storage),
            max_bytes: usize::try_from(number(
                &get,
                "DISPATCH_MEDIA_MAX_BYTES",
                media_defaults.max_bytes as u64,
                1024..=1024 * 1024 * 1024,
            )?)
            .unwrap_or(media_defaults.max_bytes),
            max_pixels: number(
                &get,
                "DISPATCH_MEDIA_MAX_PIXELS",
                media_defaults.max_pixels,
                1..=1_000_000_000,
            )?,
            keep_gps: flag("DISPATCH_MEDIA_KEEP_GPS", false)?,
            concurrency: usize::try_from(number(
                &get,
                "DISPATCH_MEDIA_CONCURRENCY",
                media_defaults.concurrency as u64,
                1..=256,
            )?)
            .unwrap_or(media_defaults.concurrency),
        };
        let site = Site::new(
            get("DISPATCH_PUBLIC_SITE_URL")
                .as_deref()
                .unwrap_or(crate::site::DEFAULT_BASE),
            get("DISPATCH_ARTICLE_URL_TEMPLATE")
                .as_deref()
                .map(str::trim),
            get("DISPATCH_PUBLISHER_URL_TEMPLATE")
                .as_deref()
                .map(str::trim),
            get("DISPATCH_AUTHOR_URL_TEMPLATE")
                .as_deref()
                .map(str::trim),
            get("DISPATCH_TAG_URL_TEMPLATE").as_deref().map(str::trim),
            get("DISPATCH_DEFAULT_LANGUAGE")
                .as_deref()
                .map_or("en", str::trim),
            get("DISPATCH_SITE_NAME").as_deref().unwrap_or("Dispatch"),
        )?
        .with_api(
            &get("DISPATCH_PUBLIC_API_URL").unwrap_or_else(|| crate::site::api_base_for(bind)),
        )?;
        let site = Site {
            sitemap_page: number(
                &get,
                "DISPATCH_SITEMAP_PAGE_SIZE",
                crate::site::SITEMAP_PAGE,
                1..=crate::site::SITEMAP_PAGE,
            )?,
            ..site
        };
        let bootstrap_admin = match (get("DISPATCH_ADMIN_EMAIL"), get("DISPATCH_ADMIN_PASSWORD")) {
            (Some(email), Some(password)) => Some((email, Secret::new(password))),
            (None, None) => None,
            _ => bail!("set both DISPATCH_ADMIN_EMAIL and DISPATCH_ADMIN_PASSWORD, or neither"),
        };
        let defaults = ServerConfig::default();
        let seconds = |key: &str, default: Duration| -> anyhow::Result<Duration> {
            Ok(Duration::from_secs(number(
                &get,
                key,
                default.as_secs(),
                1..=86_400,
            )?))
        };
        let server = ServerConfig {
            hash_concurrency: usize::try_from(number(
                &get,
                "DISPATCH_HASH_CONCURRENCY",
                defaults.hash_concurrency as u64,
                1..=1024,
            )?)
            .unwrap_or(defaults.hash_concurrency),
            header_timeout: seconds("DISPATCH_HEADER_TIMEOUT_SECONDS", defaults.header_timeout)?,
            body_timeout: seconds("DISPATCH_BODY_TIMEOUT_SECONDS", defaults.body_timeout)?,
            idle_timeout: seconds("DISPATCH_IDLE_TIMEOUT_SECONDS", defaults.idle_timeout)?,
            db_acquire_timeout: seconds(
                "DISPATCH_DB_ACQUIRE_TIMEOUT_SECONDS",
                defaults.db_acquire_timeout,
            )?,
            db_max_connections: match get("DISPATCH_DB_MAX_CONNECTIONS") {
                None => None,
                Some(_) => Some(
                    u32::try_from(number(&get, "DISPATCH_DB_MAX_CONNECTIONS", 1, 1..=1000)?)
                        .unwrap_or(1),
                ),
            },
        };
        Ok(Self {
            database_url,
            database_read_url: get("DATABASE_READ_URL").map(|u| u.trim().to_string()),
            metrics_token: get("DISPATCH_METRICS_TOKEN").map(|t| Secret::new(t.trim())),
            bind,
            jwt_secret,
            cors_origins,
            body_limit,
            log,
            client_addr,
            auth,
            workflow,
            cache,
            events,
            media,
            site,
            bootstrap_admin,
            server,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// The file of a SQLite database URL (`None` for PostgreSQL or in-memory SQLite).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        sqlite_file(&self.database_url)
    }

    /// The JWT signing secret: the configured one, or on a SQLite file database one
    /// generated once and kept in a 0600 file beside it. Refuses short secrets.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<Secret> {
        if let Some(secret) = &self.jwt_secret {
            check_secret(secret)?;
            return Ok(secret.clone());
        }
        let Some(db_path) = self.sqlite_path() else {
            bail!(
                "DISPATCH_JWT_SECRET is not set. Set it to at least {MIN_SECRET_BYTES} random bytes, \
                 e.g. DISPATCH_JWT_SECRET=$(openssl rand -base64 48)"
            );
        };
        let file = secret_file_beside(&db_path);
        if file.exists() {
            refuse_if_shared(&file)?;
            let secret = Secret::new(
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?
                    .trim()
                    .to_string(),
            );
            check_secret(&secret)
                .with_context(|| format!("the secret in {} is not usable", file.display()))?;
            return Ok(secret);
        }
        let secret = Secret::new(random_secret()?);
        write_private_file(&file, secret.expose())?;
        tracing::info!(file = %file.display(), "generated a JWT signing secret (kept in a 0600 file beside the database)");
        Ok(secret)
    }
}

/// The file of a SQLite database URL (`None` for PostgreSQL or in-memory SQLite).
/// The file is the one sqlx opens: its own parser reads the URL (escapes decoded,
/// `sqlite:////srv/x.db` absolute), so the file made private is the file used.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = params.split('&').any(|param| param == "mode=memory");
    if path.is_empty() || path == ":memory:" || in_memory {
        return None;
    }
    let options = url
        .parse::<sea_orm::sqlx::sqlite::SqliteConnectOptions>()
        .ok()?;
    Some(options.get_filename().to_path_buf())
}

/// Whether a file's permissions let its group or others read or write it.
pub fn is_shared(path: &Path) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(false)
    }
}

/// A secret file anyone but its owner can read is no longer a secret: refuse it.
fn refuse_if_shared(file: &Path) -> anyhow::Result<()> {
    if is_shared(file).with_context(|| format!("reading {}", file.display()))? {
        bail!(
            "{file} is readable by group or others, so the JWT signing secret in it may be \
             known to others. Make it private with `chmod 600 {file}` (and if others may have \
             read it, delete it to have a new one generated, which signs everyone out)",
            file = file.display()
        );
    }
    Ok(())
}

fn check_secret(secret: &Secret) -> anyhow::Result<()> {
    if secret.expose().len() < MIN_SECRET_BYTES {
        bail!(
            "the JWT secret must be at least {MIN_SECRET_BYTES} bytes long; \
             make one with: openssl rand -base64 48"
        );
    }
    Ok(())
}

fn secret_file_beside(db_path: &Path) -> PathBuf {
    let dir = db_path.parent().unwrap_or_else(|| Path::new(""));
    dir.join("dispatch.jwt-secret")
}

fn random_secret() -> anyhow::Result<String> {
    use base64::Engine;
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_are_sqlite_on_localhost() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.sqlite_path().unwrap(), PathBuf::from("dispatch.db"));
        assert_eq!(c.cors_origins, CorsOrigins::None);
        assert_eq!(c.body_limit, 1024 * 1024);
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("dispatch-secret-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("x.db");
        let c = config(&[(
            "DATABASE_URL",
            &format!("sqlite://{}?mode=rwc", db.display()),
        )])
        .unwrap();
        let first = c.resolve_jwt_secret().unwrap();
        let file = dir.join("dispatch.jwt-secret");
        assert!(!is_shared(&file).unwrap());
        assert_eq!(c.resolve_jwt_secret().unwrap().expose(), first.expose());
        for mode in [0o640, 0o604, 0o620] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = format!("{:#}", c.resolve_jwt_secret().unwrap_err());
            assert!(
                err.contains(&format!("chmod 600 {}", file.display())),
                "{err}"
            );
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(c.resolve_jwt_secret().unwrap().expose(), first.expose());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn short_secrets_are_refused() {
        let c = config(&[("DISPATCH_JWT_SECRET", "too-short")]).unwrap();
        assert!(c.resolve_jwt_secret().is_err());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = config(&[("DISPATCH_JWT_SECRET", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t")]).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let c = config(&[("DISPATCH_METRICS_TOKEN", "m3tr1cs-m3tr1cs")]).unwrap();
        assert!(!format!("{c:?}").contains("m3tr1cs"));
    }

    #[test]
    fn postgres_without_secret_is_refused_with_advice() {
        let c = config(&[("DATABASE_URL", "postgres://localhost/x")]).unwrap();
        let err = c.resolve_jwt_secret().unwrap_err().to_string();
        assert!(err.contains("openssl rand"), "{err}");
    }

    #[test]
    fn cors_origins_and_body_limit_parse() {
        let c = config(&[
            (
                "DISPATCH_CORS_ORIGINS",
                "https://a.example, https://b.example/",
            ),
            ("DISPATCH_BODY_LIMIT", "2048"),
        ])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            CorsOrigins::List(vec!["https://a.example".into(), "https://b.example".into()])
        );
        assert_eq!(c.body_limit, 2048);
        assert!(config(&[("DISPATCH_BODY_LIMIT", "-1")]).is_err());
        let c = config(&[(
            "DISPATCH_CORS_ORIGINS",
            "HTTPS://News.Example:443,http://localhost:3000,http://x.example:80",
        )])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            CorsOrigins::List(vec![
                "https://news.example".into(),
                "http://localhost:3000".into(),
                "http://x.example".into()
            ])
        );
        for bad in [
            "news.example",
            "https://a.example, localhost:3000",
            "https://a.example/app",
            "ftp://a.example",
            "https://",
        ] {
            let err = config(&[("DISPATCH_CORS_ORIGINS", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.contains("DISPATCH_CORS_ORIGINS"), "{err}");
        }
    }

    #[test]
    fn sign_in_settings_parse_and_are_bounded() {
        let c = config(&[]).unwrap();
        assert_eq!(c.auth.jwt_algorithm, Algorithm::HS256);
        assert_eq!(c.auth.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.auth.login_rate_per_email.attempts, 5);
        let c = config(&[
            ("DISPATCH_JWT_ALGORITHM", "HS512"),
            ("DISPATCH_LOGIN_LIMIT_PER_ADDRESS", "3"),
            ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "10"),
        ])
        .unwrap();
        assert_eq!(c.auth.jwt_algorithm, Algorithm::HS512);
        assert_eq!(
            c.auth.login_rate_per_address,
            Rate {
                attempts: 3,
                window_secs: 10
            }
        );
        assert!(config(&[("DISPATCH_JWT_ALGORITHM", "none")]).is_err());
        assert!(config(&[("DISPATCH_JWT_ALGORITHM", "RS256")]).is_err());
        assert!(config(&[("DISPATCH_ACCESS_TOKEN_MINUTES", "0")]).is_err());
        assert!(config(&[("DISPATCH_ADMIN_EMAIL", "a@b.example")]).is_err());
    }
}
