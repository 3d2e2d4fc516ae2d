//! Building and running the application: database connection, migrations, the
//! route tree with its middleware, and the listener.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use migration::{Migrator, MigratorTrait};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::CatchPanic;
use poem::web::Redirect;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server, get};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::accounts::users::{self, UserCreate};
use crate::api::{self, AppState};
use crate::auth::limit::Limiter;
use crate::auth::password::Passwords;
use crate::auth::stored_limit::StoredLimiter;
use crate::auth::{Role, TokenKeys};
use crate::cache::{self, ResponseCache};
use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, ServerConfig};
use crate::connections::{GuardedAcceptor, Timeouts, Tracker};
use crate::cors::{self, CorsPolicy};
use crate::docs;
use crate::edge::{self, Edge, docs_csp};
use crate::error::{ApiError, problem_for, problem_middleware, problem_response};
use crate::etag::none_match;
use crate::methods::{self, Methods};
use crate::metrics;
use crate::webhooks;

/// Connects to `url` (SQLite or PostgreSQL) with the default pool settings.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, &ServerConfig::default()).await
}

/// Connects to `url` (SQLite or PostgreSQL). A new SQLite file is created private
/// (0600) first; SQLite gets WAL, a busy timeout and foreign keys; statement logging
/// stays off so parameters never reach the log. A request waits at most
/// `db_acquire_timeout` for a connection (then gets a 503).
pub async fn connect_with(url: &str, server: &ServerConfig) -> anyhow::Result<DatabaseConnection> {
    // Whatever this process writes records events rendered with the API's views.
    api::events::install();
    create_private_sqlite_file(url)?;
    let mut opts = ConnectOptions::new(url.to_string());
    // sea-orm hands `connect_timeout` to the pool as its acquire timeout too, so
    // both are the same bound.
    opts.sqlx_logging(false)
        .connect_timeout(server.db_acquire_timeout)
        .acquire_timeout(server.db_acquire_timeout);
    if url.starts_with("sqlite:") {
        opts.max_connections(server.db_max_connections.unwrap_or(8))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        opts.max_connections(server.db_max_connections.unwrap_or(16));
    }
    Ok(Database::connect(opts).await?)
}

/// A SQLite database that is to be created (`mode=rwc`) is created here first,
/// readable and writable by its owner only; SQLite gives its `-wal` and `-shm`
/// files the same mode. An existing one others can read is warned about.
fn create_private_sqlite_file(url: &str) -> anyhow::Result<()> {
    let Some(path) = crate::config::sqlite_file(url) else {
        return Ok(());
    };
    if path.exists() {
        if crate::config::is_shared(&path).unwrap_or(false) {
            tracing::warn!(
                file = %path.display(),
                "the database file is readable by group or others; make it private with chmod 600 (and its -wal and -shm files)"
            );
        }
        return Ok(());
    }
    if !url.contains("mode=rwc") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(anyhow::anyhow!("creating {}: {err}", path.display())),
    }
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// `/` sends a browser to Swagger UI. (A route at `/` would be shadowed by the
/// API service nested there, so this is a thin middleware instead.)
async fn root_to_docs<E: Endpoint>(next: Arc<E>, req: Request) -> poem::Result<Response> {
    if req.uri().path() == "/" && req.method() == poem::http::Method::GET {
        return Ok(Redirect::see_other("/docs").into_response());
    }
    Ok(next.call(req).await?.into_response())
}

/// Reads the whole body up front so that any body over `limit` is refused with 413,
/// whether it announces its length or arrives chunked, and one that has not fully
/// arrived within `timeout` with 408 (and the connection closed).
async fn limit_body<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    limit: usize,
    timeout: Duration,
) -> poem::Result<Response> {
    // The rest of the body is never read: the connection closes after the answer.
    let too_large = || {
        let mut resp = problem_response(
            &ApiError::PayloadTooLarge(format!(
                "The request body is larger than the limit of {limit} bytes."
            ))
            .problem(),
        );
        resp.headers_mut().insert(
            poem::http::header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
        resp
    };
    let announced = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Ok(too_large());
    }
    let body = req.take_body();
    if !body.is_empty() {
        let Ok(read) = tokio::time::timeout(timeout, body.into_bytes_limit(limit)).await else {
            let mut resp = problem_response(&problem_for(
                poem::http::StatusCode::REQUEST_TIMEOUT,
                format!(
                    "The request body did not arrive within {} seconds.",
                    timeout.as_secs()
                ),
                None,
            ));
            resp.headers_mut().insert(
                poem::http::header::CONNECTION,
                poem::http::HeaderValue::from_static("close"),
            );
            return Ok(resp);
        };
        match read {
            Ok(bytes) => req.set_body(bytes),
            Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
            Err(err) => {
                return Ok(problem_response(
                    &ApiError::BadRequest(
                        format!("The request body could not be read: {err}"),
                        vec![],
                    )
                    .problem(),
                ));
            }
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// Conditional reads and caching for the API: every successful GET gets a strong
/// `ETag` over its exact body (an article's starts with its version, which the
/// handler sets), `If-None-Match` on it answers 304, and `Cache-Control` is public
/// for anonymous reads and `private, no-store` for authenticated ones. Every 201, and
/// every other write whose handler sets a tag, gets the same composition, so the tag it
/// returns is the one a read of the same representation would.
///
/// `HEAD` is served here as the `GET` it asks about, so it gets the same status and
/// headers (`ETag`, `Cache-Control`, `Vary`, `Content-Length`, a 304) without the body.
async fn conditional<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    public: Arc<str>,
    cors: bool,
) -> poem::Result<Response> {
    let head = req.method() == Method::HEAD;
    if head {
        req.set_method(Method::GET);
    }
    let resp = caching(next, req, &public, cors).await?;
    if !head {
        return Ok(resp);
    }
    let (mut parts, body) = resp.into_parts();
    let length = body.into_bytes().await?.len();
    if parts.status != StatusCode::NOT_MODIFIED
        && parts.status != StatusCode::NO_CONTENT
        && let Ok(value) = HeaderValue::from_str(&length.to_string())
    {
        parts.headers.insert(header::CONTENT_LENGTH, value);
    }
    Ok(Response::from_parts(parts, poem::Body::empty()))
}

/// [`conditional`] for a request that is not `HEAD`.
async fn caching<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    public: &str,
    cors: bool,
) -> poem::Result<Response> {
    let read = req.method() == Method::GET;
    let api = req.uri().path().starts_with("/api/")
        || crate::content::sitemaps::is_sitemap(req.uri().path());
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let resp = next.call(req).await?.into_response();
    if !api {
        return Ok(resp);
    }
    let status = resp.status();
    let handler_tag = resp
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim_matches('"').to_string());
    let tagged = read || status == StatusCode::CREATED || handler_tag.is_some();
    if !status.is_success() || !tagged {
        return Ok(resp);
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = body.into_bytes().await?;
    let digest = {
        use base64::Engine;
        use sha2::Digest;
        let hash = sha2::Sha256::digest(&bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..12])
    };
    let etag = match handler_tag {
        Some(version) => format!("\"{version}-{digest}\""),
        None => format!("\"{digest}\""),
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, value);
    }
    if read {
        let cache = if authenticated {
            "private, no-store"
        } else {
            public
        };
        if let Ok(value) = HeaderValue::from_str(cache) {
            parts.headers.insert(header::CACHE_CONTROL, value);
        }
        // The body depends on the token, and (with CORS) the headers on the origin.
        let present: Vec<String> = parts
            .headers
            .get_all(header::VARY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .collect();
        let wanted: &[&'static str] = if cors {
            &["Authorization", "Origin"]
        } else {
            &["Authorization"]
        };
        for name in wanted {
            if !present.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                parts
                    .headers
                    .append(header::VARY, HeaderValue::from_static(name));
            }
        }
        if status == StatusCode::OK && if_none_match.is_some_and(|h| none_match(&h, &etag)) {
            parts.status = StatusCode::NOT_MODIFIED;
            parts.headers.remove(header::CONTENT_TYPE);
            parts.headers.remove(header::CONTENT_LENGTH);
            return Ok(Response::from_parts(parts, poem::Body::empty()));
        }
    }
    Ok(Response::from_parts(parts, poem::Body::from(bytes)))
}

/// What a request whose handler panicked gets: the plain 500 problem (the panic is
/// logged, never sent), instead of a connection dropped without an answer.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "a request handler panicked");
    problem_response(&ApiError::Internal.problem())
}

/// The whole HTTP application, with the response cache when there is one.
pub fn app(
    state: AppState,
    config: &Config,
    cache: Option<Arc<ResponseCache>>,
) -> impl Endpoint + 'static {
    let service = api::service();
    crate::error::learn_spec(|| service.spec());
    let docs_page = docs::page(&api::spec::swagger_ui_html());
    let spec_json = api::spec::json_endpoint();
    let spec_yaml = api::spec::yaml_endpoint();
    let edge = Arc::new(Edge {
        client: config.client_addr.clone(),
        docs_csp: docs_csp(&docs_page),
    });
    let limit = config.body_limit;
    let upload_limit = config.media.max_bytes + api::upload::FORM_OVERHEAD;
    let (keys, clock) = (state.keys.clone(), state.clock.clone());
    let body_timeout = config.server.body_timeout;
    let public: Arc<str> = config.cache.public(config.workflow.cache_max_age).into();
    let cors = Arc::new(CorsPolicy {
        origins: config.cors_origins.clone(),
        behind_proxy: config.client_addr.header.is_some(),
        trusted_hops: config.client_addr.trusted_hops,
    });
    let has_cors = cors.configured();
    let methods = Arc::new(Methods::from_spec(&service.spec()));
    let requests = Arc::new(metrics::Requests::new(methods.clone()));
    let pools = std::iter::once(("primary", state.db.clone()))
        .chain(state.replica.clone().map(|r| ("replica", r)))
        .collect();
    let scrape = metrics::Scrape::new(config.metrics_token.as_ref(), pools);
    Route::new()
        // Read-only pages: other methods get the 405 (with `Allow`).
        .nest("/docs", get(docs::endpoint(docs_page)))
        .at("/favicon.ico", get(docs::favicon))
        .at("/openapi.json", get(spec_json))
        .at("/openapi.yaml", get(spec_yaml))
        .at("/metrics", get(scrape))
        .nest("/", service)
        .data(state)
        .with(CatchPanic::new().with_handler(panic_response))
        .around(root_to_docs)
        .around(api::params::refuse_nul)
        .around(move |ep, req| {
            // Uploads get the media limit, from a signed-in user only (an anonymous
            // client never makes the server hold more than the general limit); every
            // other body the general one.
            let upload = req.method() == Method::POST
                && req.uri().path() == api::upload::UPLOAD_PATH
                && bearer(&req).is_some_and(|token| keys.verify(token, clock.now()).is_ok());
            let limit = if upload {
                upload_limit.max(limit)
            } else {
                limit
            };
            limit_body(ep, req, limit, body_timeout)
        })
        .around(problem_middleware)
        // `Allow` on 405s, and `OPTIONS` that is not a preflight.
        .around(move |ep, req| methods::options_and_allow(ep, req, methods.clone()))
        // Preflights are answered here, before the method check above.
        .around(move |ep, req| cors::cors(ep, req, cors.clone()))
        // Outside CORS, so that its `Vary: Origin` and ours both reach the client,
        // and so that `HEAD` reaches everything inside as the `GET` it asks about.
        .around(move |ep, req| conditional(ep, req, public.clone(), has_cors))
        // Outside the conditional middleware, whose tags and headers it keeps with
        // each entry; inside the edge, which gives every answer its own request id.
        .around(move |ep, req| cache::serve(ep, req, cache.clone()))
        // Outermost: the request id, the client address, security headers, the log.
        .around(move |ep, req| edge::edge(ep, req, edge.clone()))
        // Around everything: every request counted and timed, whoever answers it.
        .around(move |ep, req| metrics::track(ep, req, requests.clone()))
}

/// The bearer token a request carries, if any.
fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// A bound, ready-to-run server; tests build it on port 0 and read back the port.
pub struct Application {
    acceptor: TcpAcceptor,
    state: AppState,
    config: Config,
    has_users: bool,
    /// The webhook worker's own pool, when this process runs the worker.
    worker_db: Option<DatabaseConnection>,
}

/// The connections of the webhook worker's own pool (apart from the requests' pool,
/// so that a burst of deliveries never makes a request wait for a connection).
const WORKER_CONNECTIONS: u32 = 4;
/// How long a delivery waits for one of them.
const WORKER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The webhook worker's pool: its own on the same database, but the requests' pool
/// itself for an in-memory SQLite database (a second pool would open another one).
async fn worker_pool(
    config: &Config,
    db: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    let url = &config.database_url;
    if url.starts_with("sqlite:") && crate::config::sqlite_file(url).is_none() {
        return Ok(db.clone());
    }
    let server = ServerConfig {
        db_max_connections: Some(WORKER_CONNECTIONS),
        db_acquire_timeout: WORKER_ACQUIRE_TIMEOUT,
        ..config.server.clone()
    };
    connect_with(url, &server)
        .await
        .context("connecting the webhook worker to the database")
}

/// Creates the first admin from `DISPATCH_ADMIN_EMAIL` and `DISPATCH_ADMIN_PASSWORD`
/// when no user exists yet. Says whether any user exists afterwards.
async fn bootstrap_admin(state: &AppState, config: &Config) -> anyhow::Result<bool> {
    if users::count(&state.db).await? > 0 {
        if config.bootstrap_admin.is_some() {
            tracing::warn!(
                "DISPATCH_ADMIN_EMAIL and DISPATCH_ADMIN_PASSWORD were ignored: users exist \
                 already, and they only create the first admin; unset them"
            );
        }
        return Ok(true);
    }
    let Some((email, password)) = &config.bootstrap_admin else {
        tracing::warn!(
            "no user exists yet, so nobody can sign in: create the first admin with the `user create` \
             command, or set DISPATCH_ADMIN_EMAIL and DISPATCH_ADMIN_PASSWORD and start again"
        );
        return Ok(false);
    };
    let input = UserCreate {
        email: email.as_str().into(),
        password: password.expose().into(),
        role: Role::Admin,
        author_id: None,
        disabled: false,
    };
    let admin = users::create(&state.db, &state.passwords, input, state.clock.now())
        .await
        .map_err(|err| {
            anyhow::anyhow!(
                "DISPATCH_ADMIN_EMAIL / DISPATCH_ADMIN_PASSWORD: {}",
                err.problem().detail
            )
        })?;
    tracing::info!(user = %admin.id, email = %admin.email, "created the first admin from DISPATCH_ADMIN_EMAIL");
    Ok(true)
}

/// The media library of `config`: its storage opened (a local folder is resolved
/// beside the SQLite file, or in the working directory).
pub fn media_library(config: &Config) -> anyhow::Result<Arc<crate::media::Library>> {
    let base = crate::config::sqlite_file(&config.database_url)
        .and_then(|file| file.parent().map(std::path::Path::to_path_buf))
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or_else(std::env::current_dir, Ok)
        .context("finding the working directory for the media storage")?;
    let storage = crate::media::storage::Storage::open(&config.media.storage, &base)
        .map_err(|why| anyhow::anyhow!("DISPATCH_MEDIA_STORAGE: {why}"))?;
    tracing::info!(storage = %storage.describe(), "media storage");
    Ok(Arc::new(crate::media::Library::new(
        storage,
        config.media.clone(),
    )))
}

impl Application {
    /// Binds the listener. The database must already be connected and migrated.
    pub async fn build(config: Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        Self::build_with_clock(config, db, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], reading the time from `clock`.
    pub async fn build_with_clock(
        config: Config,
        db: DatabaseConnection,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        let secret = config.resolve_jwt_secret()?;
        let auth = config.auth.clone();
        let replica = match &config.database_read_url {
            Some(url) => Some(
                connect_with(url, &config.server)
                    .await
                    .context("connecting to DATABASE_READ_URL")?,
            ),
            None => None,
        };
        let media = media_library(&config)?;
        api::events::name_site(&config.site);
        let state = AppState {
            media,
            db,
            replica,
            keys: Arc::new(TokenKeys::new(
                &secret,
                auth.jwt_algorithm,
                auth.access_token_ttl,
            )),
            limiter: Arc::new(Limiter::new(clock.clone())),
            logins: Arc::new(StoredLimiter::new(clock.clone())),
            clock,
            passwords: Passwords::with_concurrency(config.server.hash_concurrency)?,
            auth: Arc::new(auth),
            workflow: Arc::new(config.workflow.clone()),
            events: Arc::new(config.events.clone()),
            site: Arc::new(config.site.clone()),
        };
        let has_users = bootstrap_admin(&state, &config).await?;
        let worker_db = if config.events.worker {
            Some(worker_pool(&config, &state.db).await?)
        } else {
            None
        };

        let acceptor = TcpListener::bind(config.bind)
            .into_acceptor()
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (DISPATCH_BIND; is another server using it? set \
                     DISPATCH_BIND to another address, e.g. 127.0.0.1:8081)",
                    config.bind
                )
            })?;
        Ok(Self {
            acceptor,
            state,
            config,
            has_users,
            worker_db,
        })
    }

    /// Whether any user account exists (without one, nobody can sign in).
    pub fn has_users(&self) -> bool {
        self.has_users
    }

    pub fn port(&self) -> u16 {
        self.acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().map(|s| s.port()))
            .unwrap_or_default()
    }

    /// Serves until SIGTERM or Ctrl-C, then stops as [`Application::run_until`] does.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` resolves; then refuses new connections, lets every
    /// accepted connection finish the request it is making (one opened just before
    /// gets [`FRESH_GRACE`] to begin its request), and returns, waiting at most
    /// [`SHUTDOWN_TIMEOUT`] in all.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_accepting, stopping) = tokio::sync::watch::channel(false);
        let cache = (self.config.cache.bytes > 0).then(|| {
            let settings = cache::Settings {
                max_age: self.config.workflow.cache_max_age,
                config: self.config.cache.clone(),
                by_origin: self.config.cors_origins != crate::config::CorsOrigins::None,
                replica: self.state.replica.is_some(),
            };
            let cache = Arc::new(ResponseCache::new(
                settings,
                self.state.clock.clone(),
                self.state.reader().clone(),
            ));
            cache::watch(
                cache.clone(),
                self.config.database_url.clone(),
                stopping.clone(),
            );
            cache
        });
        if let Some(db) = self.worker_db {
            let mut state = self.state.clone();
            state.db = db;
            webhooks::worker::spawn(state, self.config.database_url.clone(), stopping.clone());
        }
        let app = app(self.state, &self.config, cache);
        let timeouts = Timeouts {
            header: self.config.server.header_timeout,
            idle: self.config.server.idle_timeout,
        };
        let tracker = Arc::new(Tracker::default());
        let acceptor = GuardedAcceptor::new(self.acceptor, timeouts, tracker.clone(), stopping);
        let drained = async move {
            stop.await;
            tracing::info!("shutting down: refusing new connections, finishing requests in flight");
            let _ = stop_accepting.send(true);
            tracker.drained(FRESH_GRACE, SHUTDOWN_TIMEOUT).await;
        };
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, drained, Some(SHUTDOWN_TIMEOUT))
            .await
    }
}

/// How long shutdown waits for a connection opened just before it to send its request.
pub const FRESH_GRACE: Duration = Duration::from_secs(1);
/// How long shutdown waits for requests in flight, at most.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves on Ctrl-C, or on SIGTERM (what container runtimes and systemd send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_the_plain_500_problem() {
        let ep = Route::new()
            .at(
                "/boom",
                poem::endpoint::make(|_| async {
                    if std::hint::black_box(true) {
                        panic!("secret internals");
                    }
                    "never"
                }),
            )
            .with(CatchPanic::new().with_handler(panic_response));
        let resp = ep
            .get_response(Request::builder().uri_str("/boom").finish())
            .await;
        assert_eq!(resp.status(), 500);
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some(crate::error::PROBLEM_JSON)
        );
        let body = resp.into_body().into_string().await.unwrap();
        assert!(body.contains("urn:dispatch:problem:internal"), "{body}");
        assert!(!body.contains("secret internals"), "{body}");
    }
}
