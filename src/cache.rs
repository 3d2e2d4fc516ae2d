//! The response cache of anonymous reads: the exact status-200 bytes and headers
//! (`ETag` included) of anonymous `GET`s of the API, the feeds and the sitemaps, kept in memory by `moka`
//! (bounded in bytes, least recently used out first) and served without touching
//! the database while they are current.
//!
//! An entry is current while
//! - no write has been committed since it was made: every entry carries the
//!   content generation it was made in, and the generation moves on after every
//!   write through this process by a signed-in user that was not refused (before
//!   its response leaves, or when it ends any other way), and on PostgreSQL also
//!   on every event committed anywhere (the event log is the one record of what
//!   changed: its trigger `NOTIFY`s with the event type, every node `LISTEN`s and
//!   lets go of everything, except for a new comment still pending, which no
//!   reader sees; while not listening, nothing is served from memory);
//! - the clock has not reached the next moment a scheduled article becomes public
//!   (as known when the entry was made), nor the moment the response itself says
//!   it changes ([`ChangesAt`]: the news sitemap's oldest article leaving its
//!   window), which also bounds the `max-age` it answers with;
//! - it was made for the same request: path, decoded query, and (when CORS is
//!   configured) what decides the CORS headers.
//!
//! Bodies over [`MAX_ENTRY`] (a large sitemap) are answered but not kept.
//!
//! A read the database cannot serve (503) gets the last entry for its request if it
//! is within `max-age` + `stale-if-error`. Requests with `Authorization` never come
//! from or go into the cache, and nor does an answer whose `Cache-Control` says
//! `no-store` or `private` (a draft preview's).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use poem::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use sea_orm::{DatabaseConnection, DbBackend};

use crate::clock::SharedClock;
use crate::config::CacheConfig;
use crate::content::ChangesAt;
use crate::content::articles::next_public_change;
use crate::content::sitemaps::is_sitemap;
use crate::etag::none_match;

/// The PostgreSQL channel every recorded event notifies at commit, with its type
/// (see the migration that installs the trigger).
pub const CHANNEL: &str = migration::m20261129_000009_events::CHANNEL;

/// Whether an event of `event_type` (a notification's payload) changes what
/// readers see: a new comment is pending moderation, so it does not.
fn changes_public(event_type: &str) -> bool {
    event_type != crate::content::events::EventType::CommentCreated.as_str()
}

/// Whether a read of `path` is one whose anonymous answers are public: tagged,
/// `Cache-Control: public` and kept here. The API's (`/api/`) and the feeds'
/// (`/feeds/`) and the sitemaps'.
pub fn public_read(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/feeds/") || is_sitemap(path)
}

/// How a response was served, in `X-Cache`.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// One cached response.
struct Entry {
    generation: u64,
    /// When it was made (for how long it may answer when the database cannot).
    made: DateTime<Utc>,
    /// When it stops being current by the clock (a scheduled article's time).
    until: Option<DateTime<Utc>>,
    headers: HeaderMap,
    body: Bytes,
}

/// The next moment a scheduled article becomes public, as known in a generation.
#[derive(Clone, Copy)]
struct Horizon {
    generation: u64,
    /// When it was worked out: it holds from then until `until`.
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

/// The cache, shared by every request of a process.
pub struct ResponseCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    generation: AtomicU64,
    /// Whether every commit elsewhere reaches [`Self::bump`] (PostgreSQL: while
    /// `LISTEN`ing).
    listening: AtomicBool,
    horizon: Mutex<Option<Horizon>>,
    clock: SharedClock,
    db: DatabaseConnection,
    /// Whether responses differ by `Origin` (CORS configured).
    by_origin: bool,
    /// With a read replica, how long an entry may live at most: what it holds was
    /// read from a copy that may lag the commits that invalidate it.
    max_life: Option<chrono::Duration>,
    /// What downstream caches are told (`max-age` and the stale allowances).
    max_age: u64,
    config: CacheConfig,
}

/// What a cache is made with, besides the clock and the database.
pub struct Settings {
    /// The `max-age` of public reads.
    pub max_age: u64,
    /// The budget and the stale allowances.
    pub config: CacheConfig,
    /// Whether responses differ by `Origin` (CORS configured).
    pub by_origin: bool,
    /// Whether anonymous reads go to a replica.
    pub replica: bool,
}

/// The largest body kept: an article sitemap of 50,000 URLs (about 6 MB) would push
/// hundreds of API pages out of the budget for a crawler's one visit; it is made
/// again (in well under a second) when asked again, and carries its `ETag` and
/// `Cache-Control` for downstream caches all the same.
pub const MAX_ENTRY: usize = 1024 * 1024;

/// An entry's longest life when reads come from a replica.
pub const REPLICA_MAX_LIFE: chrono::Duration = chrono::Duration::seconds(1);

/// An entry's weight in bytes: its key, headers and body, and a fixed overhead.
fn weight(key: &str, entry: &Entry) -> u32 {
    let headers: usize = entry
        .headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 32)
        .sum();
    u32::try_from(key.len() + headers + entry.body.len() + 256).unwrap_or(u32::MAX)
}

impl ResponseCache {
    /// A cache of at most `settings.config.bytes` bytes (which must be above 0),
    /// reading the time from `clock` and the next publication time from `db`, where
    /// anonymous reads go (a replica's entries live at most [`REPLICA_MAX_LIFE`]).
    pub fn new(settings: Settings, clock: SharedClock, db: DatabaseConnection) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(settings.config.bytes)
            .weigher(|key: &String, entry: &Arc<Entry>| weight(key, entry))
            .eviction_policy(EvictionPolicy::lru())
            .eviction_listener(|_key, _entry, cause| {
                if cause == RemovalCause::Size {
                    metrics::counter!(crate::metrics::CACHE_EVICTIONS).increment(1);
                }
            })
            .build();
        let listening = db.get_database_backend() != DbBackend::Postgres;
        Self {
            entries,
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(listening),
            horizon: Mutex::new(None),
            clock,
            db,
            by_origin: settings.by_origin,
            max_life: settings.replica.then_some(REPLICA_MAX_LIFE),
            max_age: settings.max_age,
            config: settings.config,
        }
    }

    /// Makes every entry stale: something readers see may have changed.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::SeqCst);
    }

    /// The entry for `key`, if it is current at `now`.
    fn current(&self, key: &str, now: DateTime<Utc>) -> Option<Arc<Entry>> {
        if !self.listening.load(Ordering::SeqCst) {
            return None;
        }
        let entry = self.entries.get(key)?;
        let fresh =
            entry.generation == self.generation() && entry.until.is_none_or(|until| now < until);
        fresh.then_some(entry)
    }

    /// The last entry for `key`, however stale, if it is young enough to answer when
    /// the database cannot (`max-age` + `stale-if-error`, as public reads promise).
    fn stale(&self, key: &str, now: DateTime<Utc>) -> Option<Arc<Entry>> {
        let entry = self.entries.get(key)?;
        let limit = self.max_age.saturating_add(self.config.stale_if_error);
        let age = u64::try_from((now - entry.made).num_seconds()).unwrap_or(0);
        (age <= limit).then_some(entry)
    }

    /// The next moment after `now` a scheduled article becomes public, for an entry
    /// made in `generation` (worked out once per generation, and again when the
    /// moment has passed); `Err` when the database cannot say.
    async fn until(
        &self,
        generation: u64,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, ()> {
        let known = self.horizon.lock().ok().and_then(|h| *h);
        if let Some(h) = known
            && h.generation == generation
            && h.from <= now
            && h.until.is_none_or(|until| now < until)
        {
            return Ok(h.until);
        }
        let until = next_public_change(&self.db, now).await.map_err(|_| ())?;
        if self.generation() == generation
            && let Ok(mut h) = self.horizon.lock()
        {
            *h = Some(Horizon {
                generation,
                from: now,
                until,
            });
        }
        Ok(until)
    }

    fn store(&self, key: String, entry: Arc<Entry>) {
        self.entries.insert(key, entry);
        // Evictions happen now rather than on some later call, so the budget holds.
        self.entries.run_pending_tasks();
        metrics::gauge!(crate::metrics::CACHE_BYTES).set(self.entries.weighted_size() as f64);
        metrics::gauge!(crate::metrics::CACHE_ENTRIES).set(self.entries.entry_count() as f64);
    }

    /// The key of a request: what decides whether its origin is allowed (when CORS
    /// is configured), its path, and its query decoded, the parameters ordered by
    /// name (repeated names keep their order, which decides which one counts).
    fn key(&self, req: &Request) -> String {
        let mut key = String::new();
        if self.by_origin {
            for name in ["origin", "host", "x-forwarded-host", "x-forwarded-proto"] {
                if let Some(value) = req.headers().get(name) {
                    key.push_str(&String::from_utf8_lossy(value.as_bytes()));
                }
                key.push(' ');
            }
        }
        key.push(' ');
        key.push_str(req.uri().path());
        if let Some(query) = req.uri().query() {
            let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (name, value) = p.split_once('=').unwrap_or((p, ""));
                    (decode(name), decode(value))
                })
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            for (i, (name, value)) in pairs.iter().enumerate() {
                key.push(if i == 0 { '?' } else { '&' });
                // Lengths first, so that no name or value can pass for another split.
                let _ = write!(key, "{}:{name}={}:{value}", name.len(), value.len());
            }
        }
        key
    }

    /// The `Cache-Control` for an entry answered at `now`: downstream caches may keep
    /// it no longer than it is current here (up to the next publication).
    fn cache_control(&self, entry: &Entry, now: DateTime<Utc>) -> Option<HeaderValue> {
        let left = entry
            .until
            .map(|until| (until - now).num_seconds().max(0))?;
        let control = self
            .config
            .public_until(self.max_age, u64::try_from(left).unwrap_or(0))?;
        HeaderValue::from_str(&control).ok()
    }
}

/// A query part decoded as a form is (`+` a space, `%XX` a byte); borrowed when
/// there is nothing to decode (the common case, on every anonymous read).
fn decode(part: &str) -> Cow<'_, str> {
    if !part.contains(['%', '+']) {
        return Cow::Borrowed(part);
    }
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |at: usize| bytes.get(at).and_then(|&b| char::from(b).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(high), Some(low)) => {
                        out.push(u8::try_from(high * 16 + low).unwrap_or(b'%'));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// A request that may change what readers see: an unsafe request to the API by a
/// signed-in user, but signing in and out (which changes only sessions). Anonymous
/// writes (a reader's comment, which waits for moderation; signing in) never do.
fn may_change_content(req: &Request) -> bool {
    let path = req.uri().path();
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.headers().contains_key(header::AUTHORIZATION)
        && path.starts_with("/api/")
        && !path.starts_with("/api/v1/auth/")
}

/// Moves the generation on when dropped, unless told the request was refused: so
/// a write is followed by the bump however its request ends (a response, an error
/// after the commit, a panic, or a client gone before the answer).
struct BumpOnDrop {
    cache: Arc<ResponseCache>,
    refused: bool,
}

impl Drop for BumpOnDrop {
    fn drop(&mut self) {
        if !self.refused {
            self.cache.bump();
        }
    }
}

/// The response for `entry`: a 304 when `If-None-Match` names its tag, the
/// headers alone for `HEAD`.
fn answer(
    entry: &Entry,
    cache_control: Option<HeaderValue>,
    head: bool,
    if_none_match: Option<&str>,
    how: &'static str,
) -> Response {
    let mut resp = Response::builder().status(StatusCode::OK).finish();
    *resp.headers_mut() = entry.headers.clone();
    resp.headers_mut()
        .insert(X_CACHE, HeaderValue::from_static(how));
    if let Some(value) = cache_control {
        resp.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    let etag = entry
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if if_none_match.is_some_and(|h| none_match(h, etag)) {
        resp.set_status(StatusCode::NOT_MODIFIED);
        resp.headers_mut().remove(header::CONTENT_TYPE);
        resp.headers_mut().remove(header::CONTENT_LENGTH);
        return resp;
    }
    if head {
        if let Ok(value) = HeaderValue::from_str(&entry.body.len().to_string()) {
            resp.headers_mut().insert(header::CONTENT_LENGTH, value);
        }
        return resp;
    }
    resp.set_body(entry.body.clone());
    resp
}

/// The middleware: serves current entries, stores anonymous 200s, moves the
/// generation on after writes, and answers a read the database cannot serve with
/// the last entry for it. What is inside runs boxed: its future is large (every
/// middleware and handler within), and kept inline it overflowed the stack of
/// unoptimised builds.
pub async fn serve<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    cache: Option<Arc<ResponseCache>>,
) -> poem::Result<Response> {
    let Some(cache) = cache else {
        return Ok(Box::pin(next.call(req)).await?.into_response());
    };
    let cacheable = matches!(*req.method(), Method::GET | Method::HEAD)
        && public_read(req.uri().path())
        && !req.headers().contains_key(header::AUTHORIZATION);
    if !cacheable {
        let mut bump = may_change_content(&req).then(|| BumpOnDrop {
            cache: cache.clone(),
            refused: false,
        });
        let resp = Box::pin(next.call(req)).await?.into_response();
        if let Some(bump) = bump.as_mut() {
            // A 4xx changed nothing; anything else may have committed.
            bump.refused = resp.status().is_client_error();
        }
        return Ok(resp);
    }
    let head = req.method() == Method::HEAD;
    let key = cache.key(&req);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let now = cache.clock.now();
    if let Some(entry) = cache.current(&key, now) {
        metrics::counter!(crate::metrics::CACHE_HITS).increment(1);
        let control = cache.cache_control(&entry, now);
        return Ok(answer(
            &entry,
            control,
            head,
            if_none_match.as_deref(),
            "hit",
        ));
    }
    // Read before the handler reads: a write committed meanwhile moves the
    // generation on past this one, so the entry is never served.
    let generation = cache.generation();
    if head {
        // A `HEAD` has no body to keep: answered by the handler as it is.
        let mut resp = Box::pin(next.call(req)).await?.into_response();
        if !keepable(resp.headers()) {
            return Ok(resp);
        }
        metrics::counter!(crate::metrics::CACHE_MISSES).increment(1);
        if resp.status() == StatusCode::SERVICE_UNAVAILABLE
            && let Some(entry) = cache.stale(&key, now)
        {
            return Ok(answer(
                &entry,
                stale_control(),
                true,
                if_none_match.as_deref(),
                "stale",
            ));
        }
        resp.headers_mut()
            .insert(X_CACHE, HeaderValue::from_static("miss"));
        return Ok(resp);
    }
    // The full body is needed to store it: ask without the condition, apply it here.
    req.headers_mut().remove(header::IF_NONE_MATCH);
    let resp = Box::pin(next.call(req)).await?.into_response();
    if !keepable(resp.headers()) {
        // Its own condition, answered as the conditional middleware would have.
        return Ok(unkept(resp, if_none_match.as_deref()));
    }
    metrics::counter!(crate::metrics::CACHE_MISSES).increment(1);
    match resp.status() {
        StatusCode::OK => {
            // The first publication after `now` (before the handler's own time), as
            // of the data the handler read unless the generation moved on: the
            // entry expires no later than the first change of what it shows.
            // And no later than the response says it changes by the clock alone.
            let changes = resp.extensions().get::<ChangesAt>().map(|c| c.0);
            let until = cache.until(generation, now).await.map(|until| {
                [until, cache.max_life.map(|life| now + life), changes]
                    .into_iter()
                    .flatten()
                    .min()
            });
            let (parts, body) = resp.into_parts();
            let body = body.into_bytes().await?;
            let mut headers = parts.headers;
            headers.remove(X_CACHE);
            let entry = Arc::new(Entry {
                generation,
                made: now,
                until: until.unwrap_or(Some(now)),
                headers,
                body,
            });
            // Not kept when made from a database that could not say when it expires,
            // nor when it is too large to keep.
            if until.is_ok() && entry.body.len() <= MAX_ENTRY {
                cache.store(key, entry.clone());
            }
            let control = cache.cache_control(&entry, now);
            Ok(answer(
                &entry,
                control,
                false,
                if_none_match.as_deref(),
                "miss",
            ))
        }
        StatusCode::SERVICE_UNAVAILABLE if let Some(entry) = cache.stale(&key, now) => Ok(answer(
            &entry,
            stale_control(),
            false,
            if_none_match.as_deref(),
            "stale",
        )),
        _ => {
            let mut resp = resp;
            resp.headers_mut()
                .insert(X_CACHE, HeaderValue::from_static("miss"));
            Ok(resp)
        }
    }
}

/// Whether a response may be kept: not when its `Cache-Control` says `no-store` or
/// `private` (a draft preview, whose token is its credential). Such an answer is
/// neither stored nor counted, and carries no `X-Cache`.
fn keepable(headers: &HeaderMap) -> bool {
    !headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| {
            let d = d.trim();
            d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("private")
        })
}

/// `resp`, an answer that is not kept, to a request whose `If-None-Match` (taken off
/// to make a storable answer) was `if_none_match`: a 304 when that names its tag.
fn unkept(resp: Response, if_none_match: Option<&str>) -> Response {
    let etag = resp
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if resp.status() == StatusCode::OK && if_none_match.is_some_and(|h| none_match(h, etag)) {
        let (mut parts, _) = resp.into_parts();
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, poem::Body::empty());
    }
    resp
}

/// The `Cache-Control` of a stale answer: not to be kept downstream as fresh.
fn stale_control() -> Option<HeaderValue> {
    Some(HeaderValue::from_static("public, max-age=0"))
}

/// Keeps the cache told of commits made by other processes until `stop` says the
/// server is stopping: on PostgreSQL by `LISTEN`ing to [`CHANNEL`]. A connection
/// quiet for [`PING_EVERY`] is asked to answer within [`PING_TIMEOUT`] (a peer
/// gone without a word would otherwise leave the node listening to nothing); a
/// lost one is replaced after a second, and meanwhile nothing is served from
/// memory. SQLite serves one process: its writes go through the API.
pub fn watch(
    cache: Arc<ResponseCache>,
    database_url: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    if cache.db.get_database_backend() == DbBackend::Postgres {
        tokio::spawn(async move {
            tokio::select! {
                () = listen(cache, database_url) => {}
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
        });
    }
}

/// How long a quiet `LISTEN` connection goes before it is asked to answer.
pub const PING_EVERY: Duration = Duration::from_secs(5);
/// How long it has to answer.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

async fn listen(cache: Arc<ResponseCache>, database_url: String) {
    use sea_orm::sqlx::Executor;
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let listener = async {
            let mut listener = PgListener::connect(&database_url).await?;
            // A lost connection is reported, not silently replaced.
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match tokio::time::timeout(PING_EVERY, listener).await {
            Ok(Ok(mut listener)) => {
                // Commits made while not listening are unknown: start afresh.
                cache.bump();
                cache.set_listening(true);
                tracing::debug!("listening for content changes");
                loop {
                    match tokio::time::timeout(PING_EVERY, listener.try_recv()).await {
                        Ok(Ok(Some(note))) => {
                            if changes_public(note.payload()) {
                                cache.bump();
                            }
                        }
                        Err(_quiet) => {
                            let ping = tokio::time::timeout(
                                PING_TIMEOUT,
                                (&mut listener).execute("SELECT 1"),
                            )
                            .await;
                            if matches!(ping, Ok(Ok(_))) {
                                continue;
                            }
                            tracing::warn!(
                                "the content-change connection stopped answering; reading through to the database until it is back"
                            );
                            break;
                        }
                        Ok(Ok(None)) => {
                            tracing::warn!(
                                "lost the content-change connection; reading through to the database until it is back"
                            );
                            break;
                        }
                        Ok(Err(err)) => {
                            tracing::warn!(error = %err, "lost the content-change notifications; reading through to the database until they are back");
                            break;
                        }
                    }
                }
                cache.set_listening(false);
            }
            Ok(Err(err)) => {
                cache.set_listening(false);
                tracing::warn!(error = %err, "cannot listen for content changes; reading through to the database until it can");
            }
            Err(_) => {
                cache.set_listening(false);
                tracing::warn!(
                    "cannot listen for content changes (no answer); reading through to the database until it can"
                );
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
