//! The edge of every request: request ids, the client address behind a proxy and
//! the limits keyed by it, security headers, and the files the server keeps.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{BODY_LIMIT, Resp, TestApp, read, spawn_app, spawn_app_with};

/// A published article readers may comment on.
async fn public_article(app: &TestApp) -> Value {
    let publisher = app.publisher("Edge Press").await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    app.article(
        &publisher,
        json!({"title": "On the edge", "status": "published", "published_at": published_at}),
    )
    .await
}

fn comments_of(article: &Value) -> String {
    format!(
        "/api/v1/articles/{}/comments",
        article["id"].as_str().unwrap()
    )
}

/// An anonymous request with extra headers.
async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &[u8])],
    body: Option<Value>,
) -> Resp {
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    for (name, value) in headers {
        req = req.header(
            *name,
            reqwest::header::HeaderValue::from_bytes(value).unwrap(),
        );
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().await.unwrap()).await
}

/// Posts a comment through a proxy that sent `header: value`.
async fn comment_via(app: &TestApp, path: &str, header: &str, value: &str) -> Resp {
    send_with(
        app,
        Method::POST,
        path,
        &[(header, value.as_bytes())],
        Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "Hello."})),
    )
    .await
}

/// One comment per client address per minute, the client named by `header`.
async fn behind_a_proxy(extra: &[(&str, &str)]) -> (TestApp, String) {
    let mut config = vec![
        ("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1"),
        ("DISPATCH_COMMENT_LIMIT_WINDOW_SECONDS", "60"),
    ];
    config.extend_from_slice(extra);
    let app = spawn_app_with(&config).await;
    let path = comments_of(&public_article(&app).await);
    (app, path)
}

#[tokio::test]
async fn a_sane_request_id_is_echoed_and_any_other_replaced() {
    let app = spawn_app().await;
    for sane in ["abc", "trace.ID_42-x", &"7".repeat(64)] {
        let resp = send_with(
            &app,
            Method::GET,
            "/api/v1/articles",
            &[("x-request-id", sane.as_bytes())],
            None,
        )
        .await;
        resp.assert_status(200);
        assert_eq!(resp.header("x-request-id"), Some(sane));
    }
    let insane: [&[u8]; 5] = [&[b'x'; 65], b"has spaces", "naïve".as_bytes(), b"a/b", b""];
    let mut seen = Vec::new();
    for bad in insane {
        let resp = send_with(
            &app,
            Method::GET,
            "/api/v1/articles",
            &[("x-request-id", bad)],
            None,
        )
        .await;
        resp.assert_status(200);
        let id = resp.header("x-request-id").unwrap().to_string();
        assert_ne!(id.as_bytes(), bad);
        assert_eq!(Uuid::parse_str(&id).unwrap().get_version_num(), 7, "{id}");
        seen.push(id);
    }
    let plain = app.get("/health/live").await;
    seen.push(plain.header("x-request-id").unwrap().to_string());
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "every made-up id is new: {seen:?}");
}

#[tokio::test]
async fn every_problem_carries_the_request_id_of_its_response() {
    let app = spawn_app_with(&[("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1000")]).await;
    let comments = comments_of(&public_article(&app).await);
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(BODY_LIMIT));
    for sent in [Some("client-chosen.1"), None] {
        let headers: Vec<(&str, &[u8])> = sent
            .map(|id| vec![("x-request-id", id.as_bytes())])
            .unwrap_or_default();
        let cases: Vec<(u16, Resp)> = vec![
            (
                400,
                send_with(
                    &app,
                    Method::GET,
                    "/api/v1/articles?limit=x",
                    &headers,
                    None,
                )
                .await,
            ),
            (
                401,
                send_with(&app, Method::GET, "/api/v1/auth/me", &headers, None).await,
            ),
            (
                404,
                send_with(&app, Method::GET, "/api/v1/nothing-here", &headers, None).await,
            ),
            (
                405,
                send_with(&app, Method::PUT, "/api/v1/articles", &headers, None).await,
            ),
            (413, {
                let mut req = app
                    .client
                    .post(format!("{}/api/v1/tags", app.base))
                    .bearer_auth(&app.admin)
                    .header("content-type", "application/json")
                    .body(big.clone());
                if let Some(id) = sent {
                    req = req.header("x-request-id", id);
                }
                read(req.send().await.unwrap()).await
            }),
            (
                422,
                send_with(
                    &app,
                    Method::POST,
                    &comments,
                    &headers,
                    Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": " "})),
                )
                .await,
            ),
        ];
        for (status, resp) in cases {
            // `assert_problem` checks that the body's `request_id` is the header's.
            resp.assert_problem(status);
            if let Some(id) = sent {
                assert_eq!(resp.body["request_id"], id, "{status}: {}", resp.text);
            }
        }
    }
}

#[tokio::test]
async fn api_responses_and_swagger_ui_carry_security_headers() {
    let app = spawn_app().await;
    let api_csp = "default-src 'none'; frame-ancestors 'none'";
    let ok = app.get("/api/v1/articles").await;
    ok.assert_status(200);
    let problem = app.get("/api/v1/nothing-here").await;
    problem.assert_problem(404);
    let spec = app.get("/openapi.json").await;
    spec.assert_status(200);
    for resp in [&ok, &problem, &spec] {
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(resp.header("content-security-policy"), Some(api_csp));
    }
    let docs = app.get("/docs").await;
    docs.assert_status(200);
    assert!(docs.text.contains("SwaggerUIBundle"));
    assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(docs.header("referrer-policy"), Some("no-referrer"));
    let csp = docs.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    // A browser on an allowed origin may read the id.
    let preflight = app
        .client
        .get(format!("{}/api/v1/articles", app.base))
        .header("origin", crate::helpers::CORS_ORIGIN)
        .send()
        .await
        .unwrap();
    let exposed = preflight
        .headers()
        .get("access-control-expose-headers")
        .unwrap()
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

#[tokio::test]
async fn without_a_client_ip_header_setting_proxy_headers_are_ignored() {
    let (app, path) = behind_a_proxy(&[]).await;
    comment_via(&app, &path, "x-forwarded-for", "192.0.2.1")
        .await
        .assert_status(201);
    // Another claimed address is still the same socket peer.
    comment_via(&app, &path, "x-forwarded-for", "192.0.2.2")
        .await
        .assert_problem(429);
    comment_via(&app, &path, "x-real-ip", "192.0.2.3")
        .await
        .assert_problem(429);
    // Nor is an unparseable one refused: it is not read at all.
    comment_via(&app, &path, "x-forwarded-for", "not an address")
        .await
        .assert_problem(429);
}

#[tokio::test]
async fn a_spoofed_leftmost_entry_is_ignored_and_a_port_stripped() {
    let (app, path) = behind_a_proxy(&[("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For")]).await;
    let xff = "x-forwarded-for";
    comment_via(&app, &path, xff, "192.0.2.99, 192.0.2.10:51234")
        .await
        .assert_status(201);
    // The client (what our proxy appended) is the same, whatever it claims before.
    comment_via(&app, &path, xff, "192.0.2.98, 192.0.2.10:40000")
        .await
        .assert_problem(429);
    comment_via(&app, &path, xff, "rubbish, 192.0.2.10")
        .await
        .assert_problem(429);
    comment_via(&app, &path, xff, "[2001:db8::7]:443")
        .await
        .assert_status(201);
    comment_via(&app, &path, xff, "2001:db8::7")
        .await
        .assert_problem(429);
    // A request that came straight to us is the socket peer's.
    send_with(
        &app,
        Method::POST,
        &path,
        &[],
        Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "Hi."})),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn a_proxy_header_that_names_no_client_is_400_naming_the_header() {
    let (app, path) = behind_a_proxy(&[("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For")]).await;
    for value in ["192.0.2.10, garbage", "192.0.2.10:", "", "192.0.2.10,"] {
        comment_via(&app, &path, "x-forwarded-for", value)
            .await
            .assert_problem(400)
            .assert_fields(&["x-forwarded-for"]);
    }
    // Any request, not only those that are rate limited.
    send_with(
        &app,
        Method::GET,
        "/api/v1/articles",
        &[("x-forwarded-for", b"garbage")],
        None,
    )
    .await
    .assert_problem(400)
    .assert_fields(&["x-forwarded-for"]);
}

#[tokio::test]
async fn with_two_trusted_hops_the_second_entry_from_the_right_is_the_client() {
    let (app, path) = behind_a_proxy(&[
        ("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For"),
        ("DISPATCH_TRUSTED_PROXY_HOPS", "2"),
    ])
    .await;
    let xff = "x-forwarded-for";
    comment_via(&app, &path, xff, "spoof, 192.0.2.10, 10.0.0.2")
        .await
        .assert_status(201);
    comment_via(&app, &path, xff, "192.0.2.10, 10.0.0.3")
        .await
        .assert_problem(429);
    comment_via(&app, &path, xff, "192.0.2.10, 192.0.2.11, 10.0.0.2")
        .await
        .assert_status(201);
    comment_via(&app, &path, xff, "192.0.2.12")
        .await
        .assert_problem(400)
        .assert_fields(&["x-forwarded-for"]);
}

#[tokio::test]
async fn a_single_value_header_names_the_client() {
    let (app, path) = behind_a_proxy(&[("DISPATCH_CLIENT_IP_HEADER", "X-Real-IP")]).await;
    comment_via(&app, &path, "x-real-ip", "192.0.2.10")
        .await
        .assert_status(201);
    comment_via(&app, &path, "x-real-ip", "192.0.2.10:1234")
        .await
        .assert_problem(429);
    // The other header is not read.
    comment_via(&app, &path, "x-forwarded-for", "192.0.2.20")
        .await
        .assert_status(201);
    comment_via(&app, &path, "x-real-ip", "192.0.2.11")
        .await
        .assert_status(201);
}

#[tokio::test]
async fn ipv6_clients_in_one_64_share_a_limit() {
    let (app, path) = behind_a_proxy(&[("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For")]).await;
    let xff = "x-forwarded-for";
    comment_via(&app, &path, xff, "2001:db8:1:2::1")
        .await
        .assert_status(201);
    comment_via(&app, &path, xff, "2001:db8:1:2:ffff:ffff:ffff:fffe")
        .await
        .assert_problem(429);
    comment_via(&app, &path, xff, "2001:db8:1:3::1")
        .await
        .assert_status(201);
    // IPv4 clients are counted by their whole address.
    comment_via(&app, &path, xff, "192.0.2.1")
        .await
        .assert_status(201);
    comment_via(&app, &path, xff, "192.0.2.2")
        .await
        .assert_status(201);
}

#[tokio::test]
async fn the_sqlite_database_and_its_wal_and_shm_are_private_on_sqlite() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("dispatch-modes-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("news.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let db = dispatch::startup::connect(&url).await.unwrap();
        // Migrating writes (through the WAL, with its shared-memory index).
        dispatch::startup::migrate(&db).await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", file.display());
            let mode = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{path}");
        }
        db.close().await.ok();
        std::fs::remove_dir_all(dir).ok();
    }
}

/// The database file the server makes private is the one SQLite opens: the URL is
/// read as sqlx reads it (percent-escapes decoded, `sqlite:////abs` absolute).
#[tokio::test]
async fn a_sqlite_url_with_escapes_or_four_slashes_is_created_private_on_sqlite() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("dispatch-modes-{}", Uuid::now_v7().simple()));
        let room = dir.join("news room");
        std::fs::create_dir_all(&room).unwrap();
        let escaped = room.join("a.db");
        let four = dir.join("b.db");
        let cases = [
            (
                format!("sqlite://{}/news%20room/a.db?mode=rwc", dir.display()),
                escaped,
            ),
            (
                format!("sqlite://{}?mode=rwc", four.display()).replacen(
                    "sqlite://",
                    "sqlite:///",
                    1,
                ),
                four,
            ),
        ];
        for (url, file) in cases {
            let db = dispatch::startup::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e:#}"));
            dispatch::startup::migrate(&db).await.unwrap();
            for suffix in ["", "-wal", "-shm"] {
                let path = format!("{}{suffix}", file.display());
                let mode = std::fs::metadata(&path)
                    .unwrap_or_else(|e| panic!("{url}: {path}: {e}"))
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{url}: {path}");
            }
            db.close().await.ok();
        }
        std::fs::remove_dir_all(dir).ok();
    }
}
