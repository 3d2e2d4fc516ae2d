//! Everything around the resources: unknown routes, methods, body limits, CORS,
//! the OpenAPI document and Swagger UI, health.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{BODY_LIMIT, CORS_ORIGIN, spawn_app};

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problem_json() {
    let app = spawn_app().await;
    app.get("/api/v1/nothing-here")
        .await
        .assert_problem(404)
        .assert_detail("No resource exists at this address.");
    app.get("/api/v2/articles").await.assert_problem(404);
    app.send(
        Method::PUT,
        "/api/v1/articles",
        Some(&app.admin),
        Some(json!({})),
    )
    .await
    .assert_problem(405)
    .assert_detail("This method is not allowed on this resource.");
    app.send(
        Method::POST,
        "/api/v1/articles/some-slug",
        Some(&app.admin),
        Some(json!({})),
    )
    .await
    .assert_problem(405);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_whether_announced_or_chunked() {
    let app = spawn_app().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(BODY_LIMIT));
    app.send_raw(
        Method::POST,
        "/api/v1/tags",
        Some(&app.admin),
        "application/json",
        big.clone(),
    )
    .await
    .assert_problem(413)
    .assert_detail(&format!(
        "The request body is larger than the limit of {BODY_LIMIT} bytes."
    ));
    // A chunked body has no Content-Length to check up front.
    let response = send_chunked(&app.base, &app.admin, &big).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response
            .to_lowercase()
            .contains("content-type: application/problem+json"),
        "{response}"
    );
    assert_eq!(
        app.get("/api/v1/tags?count=true").await.body["meta"]["total"],
        0
    );
}

/// Posts `body` to /api/v1/tags with chunked transfer encoding over a raw connection.
async fn send_chunked(base: &str, token: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/tags HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.as_bytes().chunks(8192) {
        // The server may answer and close before reading everything; that is the point.
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).to_string()
}

#[tokio::test]
async fn configured_origins_may_call_the_api_from_a_browser() {
    let app = spawn_app().await;
    let preflight = app
        .client
        .request(Method::OPTIONS, format!("{}/api/v1/articles", app.base))
        .header("origin", CORS_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        CORS_ORIGIN
    );
    let read = app
        .client
        .get(format!("{}/api/v1/articles", app.base))
        .header("origin", CORS_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(read.headers()["access-control-allow-origin"], CORS_ORIGIN);
    let stranger = app
        .client
        .post(format!("{}/api/v1/tags", app.base))
        .bearer_auth(&app.admin)
        .header("origin", "https://evil.example")
        .json(&json!({"name": "From elsewhere"}))
        .send()
        .await
        .unwrap();
    // A browser page of another origin may not write, in the one error format (its
    // plain reads are answered without CORS headers: see `cors.rs`).
    assert_eq!(stranger.status(), 403);
    assert!(
        stranger
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(
        stranger.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = stranger.json().await.unwrap();
    assert_eq!(
        body["detail"],
        "This origin may not call the API from a browser."
    );
}

#[tokio::test]
async fn the_committed_openapi_yaml_is_what_the_code_generates() {
    let generated = dispatch::api::spec::yaml();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .unwrap_or_default();
    assert!(
        generated == committed,
        "openapi.yaml is out of date: run `cargo run -- openapi > openapi.yaml`"
    );
}

#[tokio::test]
async fn the_spec_and_swagger_ui_are_served() {
    let app = spawn_app().await;
    let json_spec = app.get("/openapi.json").await;
    json_spec.assert_status(200);
    assert_eq!(json_spec.body["info"]["title"], "Dispatch");
    let paths = json_spec.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/articles",
        "/api/v1/articles/{id_or_slug}",
        "/api/v1/publishers",
        "/api/v1/authors/{id_or_slug}",
        "/api/v1/tags",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    // Every operation documents its errors as problem+json.
    let create = &json_spec.body["paths"]["/api/v1/articles"]["post"]["responses"];
    for status in ["201", "400", "401", "403", "409", "413", "422"] {
        assert!(
            create.get(status).is_some(),
            "POST /articles documents {status}"
        );
    }
    assert!(
        create["422"]["content"]
            .get("application/problem+json")
            .is_some()
    );
    let yaml = app.get("/openapi.yaml").await;
    yaml.assert_status(200);
    assert!(
        yaml.text.starts_with("openapi: 3"),
        "{}",
        &yaml.text[..40.min(yaml.text.len())]
    );
    let docs = app.get("/docs").await;
    docs.assert_status(200);
    assert!(docs.text.contains("swagger"), "Swagger UI page");
    let root = app.get("/").await;
    assert_eq!(root.status.as_u16(), 303);
    assert_eq!(root.header("location"), Some("/docs"));
}

#[tokio::test]
async fn health_endpoints_answer() {
    let app = spawn_app().await;
    let live = app.get("/health/live").await;
    live.assert_status(200);
    assert_eq!(live.text, "ok");
    app.get("/health/ready").await.assert_status(200);
}

#[tokio::test]
async fn every_operation_parameter_response_and_field_in_the_spec_is_described() {
    let spec: serde_json::Value = serde_json::from_str(&dispatch::api::service().spec()).unwrap();
    let mut missing = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for key in ["summary", "description", "operationId"] {
                if op[key].as_str().is_none_or(str::is_empty) {
                    missing.push(format!("{method} {path}: {key}"));
                }
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["description"].as_str().is_none_or(str::is_empty) {
                    missing.push(format!("{method} {path}: parameter {}", param["name"]));
                }
            }
            for (status, resp) in op["responses"].as_object().unwrap() {
                if resp["description"].as_str().is_none_or(str::is_empty) {
                    missing.push(format!("{method} {path}: response {status}"));
                }
            }
        }
    }
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        if schema["description"].as_str().is_none_or(str::is_empty) {
            missing.push(format!("schema {name}"));
        }
        for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
            if prop["description"].as_str().is_none_or(str::is_empty) {
                missing.push(format!("schema {name}: {field}"));
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}

#[tokio::test]
/// (Bodies against the spec: `conformance.rs`.)
async fn both_serialisers_agree() {
    let app = spawn_app().await;
    let outlet = app.publisher("Outlet").await;
    let wire = app.create("/api/v1/publishers", json!({"name": "Wire", "description": "A wire.", "website_url": "https://wire.example"})).await;
    let author = app
        .create(
            "/api/v1/authors",
            json!({"name": "A", "publisher_id": outlet, "bio": "Bio."}),
        )
        .await;
    let tag = app
        .create(
            "/api/v1/tags",
            json!({"name": "T", "description": "Topic."}),
        )
        .await;
    let created = app
        .create(
            "/api/v1/articles",
            json!({
                "title": "Story", "subtitle": "Sub", "body_markdown": "Body *text*.", "status": "published",
                "dateline": "LYON", "canonical_url": "https://outlet.example/story",
                "publisher_id": wire["id"], "syndicated_from_id": outlet,
                "author_ids": [author["id"]], "tag_ids": [tag["id"]],
            }),
        )
        .await;
    let draft = app.article(&outlet, json!({"title": "Undated"})).await;
    // 201 bodies (poem-openapi's serialiser) equal the 200 bodies (serde, straight to bytes).
    for (path, created) in [
        (
            format!("/api/v1/articles/{}", created["id"].as_str().unwrap()),
            &created,
        ),
        (
            format!("/api/v1/articles/{}", draft["id"].as_str().unwrap()),
            &draft,
        ),
        (
            format!("/api/v1/publishers/{}", wire["id"].as_str().unwrap()),
            &wire,
        ),
        (
            format!("/api/v1/authors/{}", author["id"].as_str().unwrap()),
            &author,
        ),
        (
            format!("/api/v1/tags/{}", tag["id"].as_str().unwrap()),
            &tag,
        ),
    ] {
        let read = app.get_as(&path, &app.admin).await;
        assert_eq!(&read.body, created, "{path}");
        // The same keys in the same order (both follow the declared order).
        assert_eq!(read.body.to_string(), created.to_string(), "{path}");
        assert_eq!(
            read.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
}
