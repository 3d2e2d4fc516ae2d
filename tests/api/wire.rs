//! HTTP details on the wire: `Allow` on a 405 and on `OPTIONS`, `HEAD` exactly like
//! `GET` without the body, `Cache-Control: no-store` on every error, what hyper would
//! refuse below the application answered in problem+json (checked with a raw TCP
//! client, since an HTTP client would encode or refuse the bytes), and an `ETag` on
//! every 201.

use dispatch::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{BODY_LIMIT, Resp, TestApp, read, spawn_app, spawn_app_with};

async fn send(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> Resp {
    app.send(method, path, token, None).await
}

/// Asserts a problem+json error that no cache may store.
#[track_caller]
fn no_store(resp: &Resp, status: u16) {
    resp.assert_problem(status);
    assert_eq!(
        resp.header("cache-control"),
        Some("no-store"),
        "{status}: {}",
        resp.text
    );
}

#[tokio::test]
async fn a_405_and_options_say_which_methods_the_address_answers() {
    let app = spawn_app().await;
    let tag = app.tag("Allowed").await;
    let cases = [
        (
            Method::PUT,
            "/api/v1/articles".to_string(),
            "GET, HEAD, POST, OPTIONS",
        ),
        (
            Method::DELETE,
            "/api/v1/articles".to_string(),
            "GET, HEAD, POST, OPTIONS",
        ),
        (
            Method::POST,
            format!("/api/v1/tags/{tag}"),
            "GET, HEAD, PATCH, DELETE, OPTIONS",
        ),
        (
            Method::PUT,
            "/api/v1/auth/login".to_string(),
            "POST, OPTIONS",
        ),
        (
            Method::GET,
            "/api/v1/trash/articles/0190c0de-0000-7000-8000-000000000000/restore".to_string(),
            "POST, OPTIONS",
        ),
        (
            Method::DELETE,
            "/openapi.json".to_string(),
            "GET, HEAD, OPTIONS",
        ),
    ];
    for (method, path, allow) in cases {
        let resp = send(&app, method.clone(), &path, Some(&app.admin)).await;
        no_store(&resp, 405);
        resp.assert_detail("This method is not allowed on this resource.");
        assert_eq!(resp.header("allow"), Some(allow), "{method} {path}");
        // OPTIONS asks the same question and gets the same answer.
        let options = send(&app, Method::OPTIONS, &path, None).await;
        options.assert_status(204);
        assert_eq!(options.header("allow"), Some(allow), "OPTIONS {path}");
    }
    no_store(
        &send(&app, Method::OPTIONS, "/api/v1/nothing-here", None).await,
        404,
    );
}

/// Every read route of the spec with a real address, and the token it needs.
async fn read_routes(app: &TestApp) -> Vec<(String, Option<String>)> {
    let publisher = app.publisher("Head Press").await;
    let author = app.author("Hedda Head").await;
    let tag = app.tag("Heads").await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let article = app
        .article(
            &publisher,
            json!({"title": "Heads up", "status": "published", "published_at": published_at,
                   "author_ids": [author], "tag_ids": [tag]}),
        )
        .await;
    let id = article["id"].as_str().unwrap().to_string();
    let slug = article["slug"].as_str().unwrap().to_string();
    app.patch(
        &format!("/api/v1/articles/{id}"),
        json!({"subtitle": "Revised"}),
    )
    .await
    .assert_status(200);
    let trashed = app.article(&publisher, json!({"title": "Binned"})).await;
    app.delete(&format!(
        "/api/v1/articles/{}",
        trashed["id"].as_str().unwrap()
    ))
    .await
    .assert_status(204);
    let comment = app
        .send(
            Method::POST,
            &format!("/api/v1/articles/{id}/comments"),
            None,
            Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "Hello."})),
        )
        .await;
    comment.assert_status(201);
    let comment = comment.id();
    app.patch(
        &format!("/api/v1/comments/{comment}"),
        json!({"status": "approved"}),
    )
    .await
    .assert_status(200);
    let user = app.user(Role::Editor, None).await.id;
    let preview = app
        .create(&format!("/api/v1/articles/{id}/preview-link"), json!({}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let photo = crate::media::upload(
        app,
        &app.admin,
        dispatch::media::fixtures::sample_png(400, 300),
    )
    .await;
    photo.assert_status(201);
    let photo = photo.id();
    // Last, so that no event is recorded for it to receive (a public address literal,
    // which needs no resolving).
    let webhook = app
        .create(
            "/api/v1/webhooks",
            json!({"url": "https://93.184.216.34/hooks"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let api_key = app
        .create(
            "/api/v1/api-keys",
            json!({"name": "Site", "scope": "read:preview"}),
        )
        .await;
    let key_id = api_key["id"].as_str().unwrap().to_string();
    let key = Some(api_key["key"].as_str().unwrap().to_string());
    // Its first use is recorded a moment after the answer; wait for it, so that the
    // key reads the same to the GET and the HEAD below (the test's clock stands still,
    // and a use is recorded once a minute at most).
    app.get_as("/api/v1/tags", key.as_deref().unwrap())
        .await
        .assert_status(200);
    for _ in 0..100 {
        let read = app
            .get_as(&format!("/api/v1/api-keys/{key_id}"), &app.admin)
            .await;
        if !read.body["last_used_at"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let admin = Some(app.admin.clone());
    vec![
        ("/api/v1/articles".into(), None),
        ("/api/v1/articles".into(), key),
        ("/api/v1/api-keys".into(), admin.clone()),
        (format!("/api/v1/api-keys/{key_id}"), admin.clone()),
        (
            "/api/v1/articles?include=authors,publisher,tags".into(),
            None,
        ),
        ("/api/v1/articles".into(), admin.clone()),
        (format!("/api/v1/articles/{slug}"), None),
        (format!("/api/v1/articles/{id}"), admin.clone()),
        (format!("/api/v1/articles/{id}/revisions"), admin.clone()),
        ("/api/v1/trash/articles".into(), admin.clone()),
        (format!("/api/v1/articles/{slug}/comments"), None),
        ("/api/v1/comments".into(), admin.clone()),
        (format!("/api/v1/comments/{comment}"), admin.clone()),
        ("/api/v1/publishers".into(), None),
        (format!("/api/v1/publishers/{publisher}"), None),
        ("/api/v1/authors".into(), None),
        (format!("/api/v1/authors/{author}"), None),
        ("/api/v1/tags".into(), None),
        (format!("/api/v1/tags/{tag}"), None),
        ("/api/v1/users".into(), admin.clone()),
        (format!("/api/v1/users/{user}"), admin.clone()),
        ("/api/v1/webhooks".into(), admin.clone()),
        (format!("/api/v1/webhooks/{webhook}"), admin.clone()),
        (
            format!("/api/v1/webhooks/{webhook}/deliveries"),
            admin.clone(),
        ),
        ("/api/v1/media?count=true".into(), admin.clone()),
        (format!("/api/v1/media/{photo}"), None),
        (format!("/media/{photo}/original.png"), None),
        (format!("/media/{photo}/w320.webp"), None),
        ("/api/v1/auth/me".into(), admin.clone()),
        ("/api/v1/events?limit=5".into(), admin.clone()),
        (format!("/api/v1/preview/{preview}?include=tags"), None),
        ("/api/v1/preview/not-a-token".into(), None),
        ("/health/live".into(), None),
        ("/health/ready".into(), None),
        ("/openapi.json".into(), None),
        ("/feeds/articles.atom".into(), None),
        ("/feeds/publishers/head-press.rss".into(), None),
        ("/feeds/authors/hedda-head.json".into(), None),
        ("/feeds/tags/heads.atom".into(), None),
        ("/sitemap.xml".into(), None),
        ("/sitemaps/articles-1.xml".into(), None),
        ("/sitemap-news.xml".into(), None),
        // Errors too.
        ("/api/v1/articles/no-such-story".into(), None),
        ("/api/v1/articles?limit=x".into(), None),
        ("/api/v1/users".into(), None),
    ]
}

/// Whether `path` (without its query) fits the spec's path template.
fn fits(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap();
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}

fn all(resp: &Resp, name: &str) -> Vec<String> {
    resp.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn head_answers_exactly_like_get_without_the_body_on_every_read_route() {
    let app = spawn_app().await;
    let routes = read_routes(&app).await;
    let spec = app.get("/openapi.json").await;
    for (template, operations) in spec.body["paths"].as_object().unwrap() {
        if operations.get("get").is_some() {
            assert!(
                routes.iter().any(|(path, _)| fits(template, path)),
                "no HEAD check of GET {template}"
            );
        }
    }
    for (path, token) in &routes {
        let request = |method: Method, etag: Option<&str>| {
            let mut req = app.client.request(method, format!("{}{path}", app.base));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(e) = etag {
                req = req.header("if-none-match", e);
            }
            req
        };
        let get = read(request(Method::GET, None).send().await.unwrap()).await;
        let head = read(request(Method::HEAD, None).send().await.unwrap()).await;
        assert_eq!(head.status, get.status, "{path}");
        assert!(head.text.is_empty(), "{path}");
        assert_eq!(
            get.header("content-length"),
            Some(get.len.to_string().as_str()),
            "{path}"
        );
        for name in [
            "etag",
            "cache-control",
            "vary",
            "content-type",
            "content-length",
            "www-authenticate",
            "allow",
        ] {
            assert_eq!(all(&head, name), all(&get, name), "{name} of HEAD {path}");
        }
        if path.starts_with("/api/") && get.status == 200 {
            let etag = get.header("etag").unwrap_or_else(|| panic!("{path}"));
            for method in [Method::HEAD, Method::GET] {
                let again = read(request(method.clone(), Some(etag)).send().await.unwrap()).await;
                again.assert_status(304);
                assert_eq!(again.header("etag"), Some(etag), "{method} {path}");
                assert_eq!(
                    again.header("cache-control"),
                    get.header("cache-control"),
                    "{method} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_error_on_every_method_is_no_store() {
    let app = spawn_app().await;
    let writer = app.token(Role::Contributor).await;
    let tag = app.tag("Taken").await;
    let publisher = app.publisher("Errors Press").await;
    let article = app.article(&publisher, json!({"title": "Versioned"})).await;
    let article = format!("/api/v1/articles/{}", article["id"].as_str().unwrap());
    let missing = "/api/v1/tags/0190c0de-0000-7000-8000-000000000000";
    let admin = Some(app.admin.as_str());
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(BODY_LIMIT));
    let cases: Vec<(u16, Resp)> = vec![
        (
            400,
            send(&app, Method::GET, "/api/v1/articles?limit=x", None).await,
        ),
        (401, send(&app, Method::GET, "/api/v1/auth/me", None).await),
        (
            403,
            send(&app, Method::GET, "/api/v1/users", Some(&writer)).await,
        ),
        (
            404,
            send(&app, Method::GET, "/api/v1/nothing-here", None).await,
        ),
        (
            405,
            send(&app, Method::PUT, "/api/v1/articles", admin).await,
        ),
        (401, send(&app, Method::POST, "/api/v1/tags", None).await),
        (
            400,
            app.send_raw(Method::POST, "/api/v1/tags", admin, "application/json", "{")
                .await,
        ),
        (
            415,
            app.send_raw(Method::POST, "/api/v1/tags", admin, "text/plain", "name")
                .await,
        ),
        (
            413,
            app.send_raw(Method::POST, "/api/v1/tags", admin, "application/json", big)
                .await,
        ),
        (
            409,
            app.post("/api/v1/tags", json!({"name": "Again", "slug": "taken"}))
                .await,
        ),
        (
            422,
            app.send(
                Method::POST,
                "/api/v1/articles",
                admin,
                Some(json!({"title": " ", "body_markdown": "x", "publisher_id": publisher})),
            )
            .await,
        ),
        (404, app.patch(missing, json!({"name": "Gone"})).await),
        (
            403,
            app.send(
                Method::PATCH,
                &format!("/api/v1/tags/{tag}"),
                Some(&writer),
                Some(json!({"name": "Mine"})),
            )
            .await,
        ),
        (
            412,
            read(
                app.client
                    .patch(format!("{}{article}", app.base))
                    .bearer_auth(&app.admin)
                    .header("if-match", "\"99\"")
                    .json(&json!({"subtitle": "Late"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        ),
        (404, app.delete(missing).await),
        (
            401,
            app.login(crate::helpers::ADMIN_EMAIL, "not the password")
                .await,
        ),
    ];
    for (status, resp) in &cases {
        no_store(resp, *status);
    }
    // HEAD has no body to read: the headers say the rest.
    let head = send(&app, Method::HEAD, "/api/v1/nothing-here", None).await;
    head.assert_status(404);
    assert_eq!(
        head.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(head.header("cache-control"), Some("no-store"));
    // Sign-in's 429.
    let limited = spawn_app_with(&[
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "1"),
        ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "60"),
    ])
    .await;
    let first = limited.login("nobody@dispatch.test", "wrong").await;
    no_store(&first, 401);
    let second = limited.login("nobody@dispatch.test", "wrong").await;
    no_store(&second, 429);
    assert!(second.header("retry-after").is_some());
}

/// A parsed raw response.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A problem+json with the request id of its header, that no cache may store.
    #[track_caller]
    fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:dispatch:problem:")),
            "{:?}",
            self.body
        );
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        let id = self.header("x-request-id").expect("x-request-id");
        assert_eq!(self.body["request_id"], id);
        self
    }
}

/// Reads one response (head, then `Content-Length` bytes of body) from `stream`.
async fn read_response(stream: &mut TcpStream) -> Raw {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer in time")
            .expect("no connection reset");
        assert!(
            n > 0,
            "closed without an answer: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = bytes[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    Raw {
        status,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Sends raw bytes on a new connection and reads the answer.
async fn raw(app: &TestApp, bytes: &[u8]) -> Raw {
    let mut stream = connect(app).await;
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(bytes).await;
    read_response(&mut stream).await
}

#[tokio::test]
async fn a_pasted_cursor_placeholder_gets_the_cursor_problem_on_a_connection_kept_open() {
    let app = spawn_app().await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /api/v1/articles?cursor=<meta.next_cursor> HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_response(&mut stream).await;
    answer.assert_problem(400);
    assert_eq!(
        answer.body["errors"][0]["field"], "cursor",
        "{:?}",
        answer.body
    );
    assert_ne!(answer.header("connection"), Some("close"));
    // The same connection goes on: bytes no URL may hold, in a path, are encoded too.
    stream
        .write_all("GET /api/v1/tags/caf\u{e9}-{x}|\"y\" HTTP/1.1\r\nHost: x\r\n\r\n".as_bytes())
        .await
        .unwrap();
    read_response(&mut stream).await.assert_problem(404);
    stream
        .write_all(b"GET /api/v1/tags HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await.status, 200);
}

#[tokio::test]
async fn what_hyper_would_refuse_is_answered_in_problem_json_before_closing() {
    let app = spawn_app().await;
    let long_target = format!(
        "GET /api/v1/articles?q={} HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-414\r\n\r\n",
        "a".repeat(9000)
    );
    let many_fields = format!(
        "GET /api/v1/articles HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..100)
            .map(|i| format!("X-Field-{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_field = format!(
        "GET /api/v1/articles HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(70 * 1024)
    );
    let cases: Vec<(&[u8], u16)> = vec![
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /api/v1/articles HTTP/7.0\r\nHost: x\r\n\r\n", 400),
        (b"G@T /api/v1/articles HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (
            b"POST /api/v1/tags HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
            400,
        ),
        (
            b"POST /api/v1/tags HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            400,
        ),
        (b"GET /api/v1/articles HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (long_target.as_bytes(), 414),
        (many_fields.as_bytes(), 431),
        (huge_field.as_bytes(), 431),
    ];
    for (bytes, status) in cases {
        let answer = raw(&app, bytes).await;
        answer.assert_problem(status);
        assert_eq!(answer.header("connection"), Some("close"));
    }
    // The client's request id is kept, as on any other answer.
    let answer = raw(&app, long_target.as_bytes()).await;
    assert_eq!(answer.header("x-request-id"), Some("trace-414"));
    // Just under the limits is served.
    let fine = format!(
        "GET /health/live?pad={} HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "a".repeat(4000),
        (0..98)
            .map(|i| format!("X-Field-{i}: v\r\n"))
            .collect::<String>()
    );
    let served = raw(&app, fine.as_bytes()).await;
    assert_eq!(served.status, 200, "{:?}", served.body);
}

#[tokio::test]
async fn every_201_carries_the_etag_a_read_of_it_answers() {
    let app = spawn_app().await;
    let publisher = app
        .post("/api/v1/publishers", json!({"name": "Tagged Press"}))
        .await;
    let publisher_id = publisher.id();
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let article = app
        .post(
            "/api/v1/articles",
            json!({"title": "Tagged", "body_markdown": "Text.", "publisher_id": publisher_id,
                   "status": "published", "published_at": published_at}),
        )
        .await;
    let created = vec![
        ("publisher", publisher),
        (
            "author",
            app.post("/api/v1/authors", json!({"name": "Tess Tagger"}))
                .await,
        ),
        (
            "tag",
            app.post("/api/v1/tags", json!({"name": "Tagging"})).await,
        ),
        (
            "user",
            app.post(
                "/api/v1/users",
                json!({"email": "tagged@dispatch.test", "password": crate::helpers::PASSWORD,
                       "role": "editor"}),
            )
            .await,
        ),
        ("article", article),
    ];
    for (what, resp) in &created {
        resp.assert_status(201);
        let etag = resp
            .header("etag")
            .unwrap_or_else(|| panic!("no ETag on the {what}'s 201"));
        let location = resp.header("location").unwrap();
        let read = app.get_as(location, &app.admin).await;
        read.assert_status(200);
        assert_eq!(read.header("etag"), Some(etag), "{what}");
    }
    // A comment's 201: its ETag is the moderators' read of it; there is no Location,
    // because its poster cannot read it until it is approved.
    let article_id = created[4].1.id();
    let comment = app
        .send(
            Method::POST,
            &format!("/api/v1/articles/{article_id}/comments"),
            None,
            Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "Hello."})),
        )
        .await;
    comment.assert_json(201);
    assert_eq!(comment.body["status"], "pending");
    assert_eq!(comment.header("location"), None);
    let etag = comment
        .header("etag")
        .expect("an ETag on the comment's 201");
    let id = comment.id();
    let moderated = app
        .get_as(&format!("/api/v1/comments/{id}"), &app.admin)
        .await;
    assert_eq!(moderated.header("etag"), Some(etag));
    app.get(&format!("/api/v1/comments/{id}"))
        .await
        .assert_problem(401);
}
