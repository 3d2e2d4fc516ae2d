//! The test harness: `spawn_app()` and request helpers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dispatch::auth::Role;
use dispatch::clock::ManualClock;
use dispatch::config::Config;
use dispatch::startup::{self, Application};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use uuid::Uuid;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const BODY_LIMIT: usize = 64 * 1024;
pub const CORS_ORIGIN: &str = "https://news.example";
/// The first admin, created by the application from `DISPATCH_ADMIN_EMAIL` and
/// `DISPATCH_ADMIN_PASSWORD` at start-up.
pub const ADMIN_EMAIL: &str = "chief@dispatch.test";
pub const ADMIN_PASSWORD: &str = "plum rain over Lyon docks";
/// The password of every user a test creates.
pub const PASSWORD: &str = "a long and unusual passphrase";

/// A running application on its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The first admin's access token, from a real login.
    pub admin: String,
    pub admin_id: String,
    pub statements: Arc<AtomicUsize>,
    /// The application's own database connection (statements on it are counted too).
    pub db: sea_orm::DatabaseConnection,
    /// The database URL, for running the `dispatch` binary against the same data.
    pub database_url: String,
    /// The application's clock: it stands still unless a test moves it.
    pub clock: Arc<ManualClock>,
    /// The folder of the local media storage (unless the test chose another store).
    pub media_dir: std::path::PathBuf,
    _db: TestDb,
    _media: MediaDir,
}

/// A test's media folder, removed with it.
pub struct MediaDir(pub std::path::PathBuf);

impl Drop for MediaDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A user a test created and signed in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh: String,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body's length in bytes (a binary body's `text` is lossy).
    pub len: usize,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and that the body is a problem+json document for it.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of {}",
            self.text
        );
        assert_eq!(self.body["status"], json!(status), "{}", self.text);
        let title = StatusCode::from_u16(status)
            .unwrap()
            .canonical_reason()
            .unwrap();
        assert_eq!(self.body["title"], json!(title), "{}", self.text);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:dispatch:problem:")),
            "{}",
            self.text
        );
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        if status == 401 {
            assert_eq!(self.header("www-authenticate"), Some("Bearer"));
        }
        let id = self.header("x-request-id");
        assert!(id.is_some_and(|id| !id.is_empty()), "no X-Request-Id");
        assert_eq!(self.body["request_id"].as_str(), id, "{}", self.text);
        self
    }

    /// Asserts the problem names exactly these fields, in order.
    #[track_caller]
    pub fn assert_fields(&self, fields: &[&str]) -> &Self {
        let got: Vec<&str> = self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors in {}", self.text))
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(got, fields, "{}", self.text);
        self
    }

    #[track_caller]
    pub fn assert_detail(&self, detail: &str) -> &Self {
        assert_eq!(self.body["detail"], json!(detail), "{}", self.text);
        self
    }

    /// Asserts the status, a JSON content type and a JSON object or array body: the
    /// first step of any check that a field is absent, so that a body that failed
    /// to parse (`Null`) cannot pass it.
    #[track_caller]
    pub fn assert_json(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "content type {:?} of {}",
            self.header("content-type"),
            self.text
        );
        assert!(
            self.body.is_object() || self.body.is_array(),
            "a JSON document: {}",
            self.text
        );
        self
    }

    /// Asserts a JSON body (as [`Resp::assert_json`]) whose object at `pointer`
    /// exists and has no member `key`.
    #[track_caller]
    pub fn assert_absent(&self, status: u16, pointer: &str, key: &str) -> &Self {
        self.assert_json(status);
        let object = self
            .body
            .pointer(pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("no object at {pointer:?} in {}", self.text));
        assert!(
            !object.contains_key(key),
            "{key} present at {pointer:?} in {}",
            self.text
        );
        self
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_string()
    }
}

/// A test's database, removed when the test ends (passed or failed): the SQLite
/// file, or the PostgreSQL database (dropped `WITH (FORCE)`, since the test's
/// server may still hold connections to it).
pub enum TestDb {
    Sqlite(std::path::PathBuf),
    Postgres { server: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { server, name } => {
                // Drop runs inside the test's runtime, which cannot block on another
                // future: the drop runs on a thread with a runtime of its own.
                let (server, name) = (server.clone(), name.clone());
                let dropped = std::thread::spawn(move || drop_database(&server, &name)).join();
                match dropped {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => eprintln!("could not drop a test database: {err}"),
                    Err(_) => {
                        eprintln!("could not drop a test database: the dropping thread panicked")
                    }
                }
            }
        }
    }
}

/// Drops the database `name` on `server`, ending its connections.
fn drop_database(server: &str, name: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(server)
            .await
            .map_err(|e| e.to_string())?;
        let dropped = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .map(drop)
            .map_err(|e| format!("{name}: {e}"));
        admin.close().await.ok();
        dropped
    })
}

/// What every test database's name starts with; the process id and a UUIDv7 (which
/// carries its creation time) follow.
const TEST_DB_PREFIX: &str = "dispatch_test_";

/// How old a leftover test database must be before [`drop_leftovers`] drops it.
const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Whether the process `pid` is running on this machine (where that cannot be
/// told, it counts as gone, and the age alone decides).
fn alive(pid: u32) -> bool {
    cfg!(target_os = "linux") && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// A database left by a test run that crashed (its drops never ran): named by
/// [`fresh_database`], its process gone, and older than [`LEFTOVER_AGE`], so that
/// runs going on beside this one (other checkouts on the same server) keep theirs.
fn is_leftover(name: &str, now: std::time::SystemTime) -> bool {
    let Some((pid, id)) = name
        .strip_prefix(TEST_DB_PREFIX)
        .and_then(|rest| rest.split_once('_'))
    else {
        return false;
    };
    let (Ok(pid), Ok(id)) = (pid.parse::<u32>(), Uuid::try_parse(id)) else {
        return false;
    };
    let Some((secs, _)) = id.get_timestamp().map(|t| t.to_unix()) else {
        return false;
    };
    let created = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    !alive(pid)
        && now
            .duration_since(created)
            .is_ok_and(|age| age > LEFTOVER_AGE)
}

/// Drops the leftovers of crashed earlier runs, once per test process.
async fn drop_leftovers(server: &str) {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        use sea_orm::{ConnectionTrait, Statement};
        let Ok(admin) = sea_orm::Database::connect(server).await else {
            return;
        };
        let rows = admin
            .query_all_raw(Statement::from_string(
                admin.get_database_backend(),
                format!("SELECT datname FROM pg_database WHERE datname LIKE '{TEST_DB_PREFIX}%'"),
            ))
            .await
            .unwrap_or_default();
        let now = std::time::SystemTime::now();
        for row in rows {
            let Ok(name) = row.try_get::<String>("", "datname") else {
                continue;
            };
            if is_leftover(&name, now) {
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok();
            }
        }
        admin.close().await.ok();
    })
    .await;
}

/// A fresh, migrated database: a new SQLite file, or a new PostgreSQL database on
/// the server `TEST_DATABASE_URL` names. It is removed when the guard drops.
pub async fn fresh_database() -> (String, TestDb) {
    let name = format!(
        "{TEST_DB_PREFIX}{}_{}",
        std::process::id(),
        Uuid::now_v7().simple()
    );
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    {
        Some(server) => {
            use sea_orm::ConnectionTrait;
            drop_leftovers(&server).await;
            let admin = sea_orm::Database::connect(&server)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
            (format!("{base}/{name}"), TestDb::Postgres { server, name })
        }
        None => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                TestDb::Sqlite(path),
            )
        }
    }
}

#[test]
fn only_old_test_databases_of_gone_processes_are_leftovers() {
    let now = std::time::SystemTime::now();
    let old = std::time::SystemTime::now() - LEFTOVER_AGE - std::time::Duration::from_secs(60);
    let id_at = |t: std::time::SystemTime| {
        let since = t.duration_since(std::time::UNIX_EPOCH).unwrap();
        Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            since.as_secs(),
            since.subsec_nanos(),
        ))
        .simple()
        .to_string()
    };
    // A pid no process has (above Linux's pid_max of 2^22).
    let gone = 4_999_999u32;
    let me = std::process::id();
    assert!(is_leftover(
        &format!("{TEST_DB_PREFIX}{gone}_{}", id_at(old)),
        now
    ));
    assert!(!is_leftover(
        &format!("{TEST_DB_PREFIX}{gone}_{}", id_at(now)),
        now
    ));
    assert!(!is_leftover(
        &format!("{TEST_DB_PREFIX}{me}_{}", id_at(old)),
        now
    ));
    // Names of another form (an older harness, someone else's) are never touched.
    assert!(!is_leftover(
        &format!("{TEST_DB_PREFIX}{}", id_at(old)),
        now
    ));
    assert!(!is_leftover("dispatch_test_x_y", now));
    assert!(!is_leftover("news", now));
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the application with extra configuration values.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_until(extra, std::future::pending()).await
}

/// Starts the application with extra configuration values; it shuts down (as on
/// SIGTERM) when `stop` resolves.
pub async fn spawn_app_until(
    extra: &[(&str, &str)],
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> TestApp {
    spawn_app_routed(extra, stop, str::to_string).await
}

/// As [`spawn_app_until`], the application reaching its database at the URL that
/// `route` makes of the real one (e.g. through a proxy the test can cut).
pub async fn spawn_app_routed(
    extra: &[(&str, &str)],
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    route: impl Fn(&str) -> String,
) -> TestApp {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        dispatch::telemetry::init(&filter);
    }
    let (url, guard) = fresh_database().await;
    let url = route(&url);
    let media_dir =
        std::env::temp_dir().join(format!("dispatch-test-media-{}", Uuid::now_v7().simple()));
    let mut pairs: Vec<(String, String)> = vec![
        (
            "DISPATCH_MEDIA_STORAGE".into(),
            format!("file://{}", media_dir.display()),
        ),
        ("DATABASE_URL".into(), url.clone()),
        ("DISPATCH_BIND".into(), "127.0.0.1:0".into()),
        ("DISPATCH_JWT_SECRET".into(), SECRET.into()),
        ("DISPATCH_BODY_LIMIT".into(), BODY_LIMIT.to_string()),
        ("DISPATCH_CORS_ORIGINS".into(), CORS_ORIGIN.into()),
        ("DISPATCH_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
        ("DISPATCH_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        // Tests sign in often from one address; the rate-limit tests set their own.
        ("DISPATCH_LOGIN_LIMIT_PER_ADDRESS".into(), "100000".into()),
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL".into(), "100000".into()),
    ];
    for (k, v) in extra {
        pairs.retain(|(key, _)| key != k);
        pairs.push((k.to_string(), v.to_string()));
    }
    let config =
        Config::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
            .expect("test configuration");
    let mut db = startup::connect_with(&url, &config.server)
        .await
        .expect("connect");
    startup::migrate(&db).await.expect("migrate");
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let clock = ManualClock::starting_now();
    let app = Application::build_with_clock(config, db.clone(), clock.clone())
        .await
        .expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(stop));
    let mut app = TestApp {
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        admin: String::new(),
        admin_id: String::new(),
        statements,
        db,
        database_url: url,
        clock,
        media_dir: media_dir.clone(),
        _db: guard,
        _media: MediaDir(media_dir),
    };
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    login.assert_status(200);
    app.admin = login.body["access_token"].as_str().unwrap().to_string();
    let me = app.get_as("/api/v1/auth/me", &app.admin).await;
    app.admin_id = me.id();
    app
}

impl TestApp {
    /// Signs the first admin in again (after the clock has moved past their token).
    pub async fn sign_in_again(&mut self) {
        let login = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        login.assert_status(200);
        self.admin = login.body["access_token"].as_str().unwrap().to_string();
    }

    /// `POST /api/v1/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Creates a user with `role` (linked to `author_id` if given) and signs them in.
    pub async fn user(&self, role: Role, author_id: Option<&str>) -> TestUser {
        let email = format!(
            "{}-{}@dispatch.test",
            role.as_str(),
            Uuid::now_v7().simple()
        );
        let created = self
            .post(
                "/api/v1/users",
                json!({"email": email, "password": PASSWORD, "role": role.as_str(), "author_id": author_id}),
            )
            .await;
        created.assert_status(201);
        let login = self.login(&email, PASSWORD).await;
        login.assert_status(200);
        TestUser {
            id: created.id(),
            email,
            token: login.body["access_token"].as_str().unwrap().to_string(),
            refresh: login.body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// An access token of a new user with `role` and no linked author.
    pub async fn token(&self, role: Role) -> String {
        self.user(role, None).await.token
    }

    /// Sends a request; `token` becomes a bearer header, `body` JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("request")).await
    }

    /// Sends a raw body with a content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(&self.admin), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(&self.admin), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, Some(&self.admin), None)
            .await
    }

    /// Creates and returns a resource, asserting 201.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let resp = self.post(path, body).await;
        resp.assert_status(201);
        resp.body
    }

    pub async fn publisher(&self, name: &str) -> String {
        self.create("/api/v1/publishers", json!({ "name": name }))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn author(&self, name: &str) -> String {
        self.create("/api/v1/authors", json!({ "name": name }))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn tag(&self, name: &str) -> String {
        self.create("/api/v1/tags", json!({ "name": name })).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates an article with `extra` fields over a minimal valid body.
    pub async fn article(&self, publisher_id: &str, extra: Value) -> Value {
        let mut body = json!({
            "title": "A story",
            "body_markdown": "Some *text*.",
            "publisher_id": publisher_id,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        self.create("/api/v1/articles", body).await
    }

    /// How many SQL statements the server has run so far on its database.
    /// A media library on this app's media folder (what the demo seed stores into).
    pub fn library(&self) -> dispatch::media::Library {
        let storage = dispatch::media::storage::Storage::open(
            &format!("file://{}", self.media_dir.display()),
            std::path::Path::new("."),
        )
        .expect("the test's media folder");
        dispatch::media::Library::new(storage, dispatch::config::MediaConfig::default())
    }

    pub fn statement_count(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }
}

pub async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
        len: bytes.len(),
    }
}

/// The ids in a list response's `data`, in order.
pub fn ids(resp: &Resp) -> Vec<String> {
    resp.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {}", resp.text))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

/// A field of each item in a list response's `data`.
pub fn field(resp: &Resp, name: &str) -> Vec<Value> {
    resp.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a[name].clone())
        .collect()
}
