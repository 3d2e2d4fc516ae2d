//! Browsers on other origins: the API's own origin (Swagger UI) is always allowed,
//! configured origins get preflights and CORS headers, other origins are refused in
//! problem+json except for simple reads, and a preflight is never a 405.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{CORS_ORIGIN, Resp, TestApp, read, spawn_app, spawn_app_with};

const STRANGER: &str = "https://evil.example";

/// A request from a browser page on `origin`, signed in as the admin when `token`.
async fn from(
    app: &TestApp,
    origin: &str,
    method: Method,
    path: &str,
    token: bool,
    body: Option<serde_json::Value>,
    extra: &[(&str, &str)],
) -> Resp {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("origin", origin);
    if token {
        req = req.bearer_auth(&app.admin);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().await.unwrap()).await
}

/// A real preflight, as a browser sends it before a non-simple request.
async fn preflight(app: &TestApp, origin: &str, path: &str, method: &str, headers: &str) -> Resp {
    let mut req = app
        .client
        .request(Method::OPTIONS, format!("{}{path}", app.base))
        .header("origin", origin)
        .header("access-control-request-method", method);
    if !headers.is_empty() {
        req = req.header("access-control-request-headers", headers);
    }
    read(req.send().await.unwrap()).await
}

fn refused(resp: &Resp) {
    resp.assert_problem(403)
        .assert_detail("This origin may not call the API from a browser.");
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn swagger_ui_on_the_apis_own_origin_signs_in_and_writes_whatever_origins_are_configured() {
    // The test app allows only https://news.example.
    let app = spawn_app().await;
    let own = app.base.clone();
    // What a browser on the API's own page sends before a JSON POST with a token.
    let pre = preflight(
        &app,
        &own,
        "/api/v1/tags",
        "POST",
        "authorization,content-type",
    )
    .await;
    pre.assert_status(204);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some(own.as_str())
    );
    let login = from(
        &app,
        &own,
        Method::POST,
        "/api/v1/auth/login",
        false,
        Some(json!({"email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::ADMIN_PASSWORD})),
        &[],
    )
    .await;
    login.assert_status(200);
    let created = from(
        &app,
        &own,
        Method::POST,
        "/api/v1/tags",
        true,
        Some(json!({"name": "Own origin"})),
        &[],
    )
    .await;
    created.assert_status(201);
    assert_eq!(
        created.header("access-control-allow-origin"),
        Some(own.as_str())
    );
    // Another port of the same host is another origin.
    let other_port = own.replace(&format!(":{}", own.rsplit(':').next().unwrap()), ":1");
    refused(
        &from(
            &app,
            &other_port,
            Method::POST,
            "/api/v1/tags",
            true,
            Some(json!({"name": "Other port"})),
            &[],
        )
        .await,
    );
}

#[tokio::test]
async fn behind_a_configured_proxy_the_forwarded_scheme_and_host_are_the_own_origin() {
    let proxied = spawn_app_with(&[("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For")]).await;
    let forwarded = [
        ("host", "api.example"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-for", "192.0.2.10"),
    ];
    let body = || Some(json!({"name": format!("Tag {}", uuid::Uuid::now_v7())}));
    from(
        &proxied,
        "https://api.example",
        Method::POST,
        "/api/v1/tags",
        true,
        body(),
        &forwarded,
    )
    .await
    .assert_status(201);
    // The page's scheme must be the one the proxy received.
    refused(
        &from(
            &proxied,
            "http://api.example",
            Method::POST,
            "/api/v1/tags",
            true,
            body(),
            &forwarded,
        )
        .await,
    );
    // Without a proxy setting, a client's X-Forwarded-Proto is not believed.
    let direct = spawn_app().await;
    refused(
        &from(
            &direct,
            "https://api.example",
            Method::POST,
            "/api/v1/tags",
            true,
            body(),
            &forwarded,
        )
        .await,
    );
}

#[tokio::test]
async fn a_configured_origin_gets_preflights_and_cors_headers() {
    let app = spawn_app().await;
    let pre = preflight(
        &app,
        CORS_ORIGIN,
        "/api/v1/articles",
        "PATCH",
        "Authorization, Content-Type, If-Match",
    )
    .await;
    pre.assert_status(204);
    assert_eq!(pre.header("access-control-allow-origin"), Some(CORS_ORIGIN));
    let methods = pre.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("PATCH") && methods.contains("POST"),
        "{methods}"
    );
    let headers = pre.header("access-control-allow-headers").unwrap();
    assert!(
        headers.contains("authorization") && headers.contains("if-match"),
        "{headers}"
    );
    assert!(pre.header("vary").unwrap().contains("Origin"));
    // A method or header the API does not take from browsers.
    preflight(&app, CORS_ORIGIN, "/api/v1/articles", "PUT", "")
        .await
        .assert_problem(403)
        .assert_detail("This method may not be used from a browser.");
    preflight(&app, CORS_ORIGIN, "/api/v1/articles", "POST", "x-evil")
        .await
        .assert_problem(403)
        .assert_detail("A requested header may not be sent from a browser.");
    let created = from(
        &app,
        CORS_ORIGIN,
        Method::POST,
        "/api/v1/tags",
        true,
        Some(json!({"name": "From the newsroom"})),
        &[],
    )
    .await;
    created.assert_status(201);
    assert_eq!(
        created.header("access-control-allow-origin"),
        Some(CORS_ORIGIN)
    );
    let exposed = created.header("access-control-expose-headers").unwrap();
    for name in ["location", "etag", "x-request-id", "retry-after"] {
        assert!(exposed.contains(name), "{exposed}");
    }
}

#[tokio::test]
async fn another_origin_is_refused_in_problem_json_except_for_simple_reads() {
    let app = spawn_app().await;
    refused(&preflight(&app, STRANGER, "/api/v1/tags", "POST", "content-type").await);
    let kept = [app.tag("Kept one").await, app.tag("Kept two").await];
    let before = app.get("/api/v1/tags").await;
    for (method, path) in [
        (Method::POST, "/api/v1/tags".to_string()),
        (Method::PATCH, format!("/api/v1/tags/{}", kept[0])),
        (Method::DELETE, format!("/api/v1/tags/{}", kept[1])),
    ] {
        refused(
            &from(
                &app,
                STRANGER,
                method,
                &path,
                true,
                Some(json!({"name": "Refused"})),
                &[],
            )
            .await,
        );
    }
    // The refused writes never ran.
    before.assert_status(200);
    assert_eq!(app.get("/api/v1/tags").await.body, before.body);
    // A plain read of public content is answered, without CORS headers (the browser
    // keeps it from the page).
    let plain = app.get("/api/v1/tags").await;
    for method in [Method::GET, Method::HEAD] {
        let read = from(
            &app,
            STRANGER,
            method.clone(),
            "/api/v1/tags",
            false,
            None,
            &[],
        )
        .await;
        read.assert_status(200);
        assert_eq!(read.header("access-control-allow-origin"), None, "{method}");
        assert_eq!(read.header("etag"), plain.header("etag"), "{method}");
        if method == Method::GET {
            assert_eq!(read.body, plain.body);
        }
    }
}

#[tokio::test]
async fn without_cors_configured_a_preflight_is_204_without_cors_headers() {
    let app = spawn_app_with(&[("DISPATCH_CORS_ORIGINS", "")]).await;
    for origin in [CORS_ORIGIN, STRANGER] {
        let pre = preflight(&app, origin, "/api/v1/tags", "POST", "content-type").await;
        pre.assert_status(204);
        assert!(pre.text.is_empty());
        assert_eq!(pre.header("access-control-allow-origin"), None);
        assert_eq!(pre.header("access-control-allow-methods"), None);
    }
    // Same-origin pages need no CORS, so nothing else changes.
    from(
        &app,
        &app.base,
        Method::POST,
        "/api/v1/tags",
        true,
        Some(json!({"name": "Same origin"})),
        &[],
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn an_origin_without_a_scheme_is_a_start_up_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("dispatch-cors-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .arg("serve")
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/x.db?mode=rwc", dir.display()),
        )
        .env("DISPATCH_BIND", "127.0.0.1:0")
        .env("DISPATCH_JWT_SECRET", crate::helpers::SECRET)
        .env(
            "DISPATCH_CORS_ORIGINS",
            "https://news.example, localhost:3000",
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().ok();
            panic!("the server started instead of refusing the setting");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DISPATCH_CORS_ORIGINS") && stderr.contains("`localhost:3000`"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}
