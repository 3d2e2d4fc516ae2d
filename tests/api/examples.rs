//! Swagger UI's "Try it out" defaults: every request-body example of the served
//! spec, executed as written against the demo newsroom, succeeds.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// The README's first admin, whom the login example names.
const README_EMAIL: &str = "you@example.com";
const README_PASSWORD: &str = "a long passphrase";

/// One operation with a request body, as the spec documents it.
struct Documented {
    method: Method,
    path: String,
    /// The path parameters that have an example, filled in.
    url: String,
    /// The path parameters without one.
    unfilled: Vec<String>,
    body: Value,
}

/// Every operation of `spec` with a request body, its body example resolved.
fn documented(spec: &Value) -> Vec<Documented> {
    let schemas = &spec["components"]["schemas"];
    let mut found = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(content) = op["requestBody"]["content"].as_object() else {
                continue;
            };
            let (media, body) = content.iter().next().unwrap();
            // An upload takes a file, which Swagger UI asks for with a file picker:
            // there is no example to run (the browser check in `.ci/run` uploads one).
            if media.starts_with("multipart/form-data") {
                continue;
            }
            assert!(media.starts_with("application/json"), "{method} {path}");
            let schema = match body["schema"]["$ref"].as_str() {
                Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
                None => &body["schema"],
            };
            let example = body
                .get("example")
                .or_else(|| schema.get("example"))
                .unwrap_or_else(|| panic!("{method} {path} documents no request-body example"));
            let mut url = path.clone();
            let mut unfilled = Vec::new();
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] != "path" {
                    continue;
                }
                let name = param["name"].as_str().unwrap();
                match param
                    .get("example")
                    .or_else(|| param["schema"].get("example"))
                {
                    Some(v) => url = url.replace(&format!("{{{name}}}"), v.as_str().unwrap()),
                    None => unfilled.push(name.to_string()),
                }
            }
            found.push(Documented {
                method: method.to_uppercase().parse().unwrap(),
                path: path.clone(),
                url,
                unfilled,
                body: example.clone(),
            });
        }
    }
    found
}

/// The order a reader of the docs goes in: sign in, create, then change what was
/// created, and trade the refresh token, then sign out, last.
fn rank(op: &Documented) -> u8 {
    match (op.method.as_str(), op.path.as_str()) {
        ("POST", "/api/v1/auth/login") => 0,
        ("POST", "/api/v1/auth/refresh") => 8,
        ("POST", "/api/v1/auth/logout") => 9,
        // Not a create: it changes the webhook the create example made.
        ("POST", "/api/v1/webhooks/{id}/secret") => 2,
        ("POST", _) => 1,
        _ => 2,
    }
}

/// A demo-seeded server with the README's first admin (created as the bootstrap
/// would, by the test's own admin). It allows private webhook addresses: the webhook
/// example's `.example` host never resolves, and only that setting skips the check
/// (`crate::api::examples` says so).
async fn demo_server() -> TestApp {
    // No delivery worker: a retry of a delivery must not meet it in flight.
    let app = spawn_app_with(&[
        ("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("DISPATCH_WEBHOOK_WORKER", "false"),
    ])
    .await;
    dispatch::seed::demo(&app.db, &app.library()).await.unwrap();
    app.post(
        "/api/v1/users",
        json!({"email": README_EMAIL, "password": README_PASSWORD, "role": "admin"}),
    )
    .await
    .assert_status(201);
    app
}

#[tokio::test]
async fn every_request_body_example_succeeds_against_the_demo_newsroom() {
    let app = demo_server().await;
    let spec = app.get("/openapi.json").await;
    spec.assert_json(200);
    let mut ops = documented(&spec.body);
    ops.sort_by_key(rank);
    assert!(ops.len() >= 15, "{} operations with a body", ops.len());
    let mut token = String::new();
    let mut refresh = String::new();
    // Ids the docs cannot know, taken from the answers to the create examples.
    let mut made: HashMap<&str, String> = HashMap::new();
    for op in &ops {
        let mut url = op.url.clone();
        let mut body = op.body.clone();
        for name in &op.unfilled {
            // Only a user's, a comment's and a webhook's id have no demo value.
            let id = match (op.path.as_str(), name.as_str()) {
                ("/api/v1/users/{id}", "id") => &made["user"],
                ("/api/v1/comments/{id}", "id") => &made["comment"],
                ("/api/v1/webhooks/{id}" | "/api/v1/webhooks/{id}/secret", "id") => {
                    &made["webhook"]
                }
                _ => panic!("{} {}: no example for `{name}`", op.method, op.path),
            };
            url = url.replace(&format!("{{{name}}}"), id);
        }
        if op.path == "/api/v1/auth/refresh" || op.path == "/api/v1/auth/logout" {
            // A refresh token cannot be documented: it is the login's.
            assert!(body["refresh_token"].is_string(), "{}", op.path);
            body["refresh_token"] = json!(refresh);
        }
        let bearer = (!token.is_empty()).then_some(token.as_str());
        let resp = app.send(op.method.clone(), &url, bearer, Some(body)).await;
        assert!(
            resp.status.is_success(),
            "{} {url} with its documented example: {} {}",
            op.method,
            resp.status,
            resp.text
        );
        match (op.method.as_str(), op.path.as_str()) {
            ("POST", "/api/v1/auth/login") | ("POST", "/api/v1/auth/refresh") => {
                token = resp.body["access_token"].as_str().unwrap().to_string();
                refresh = resp.body["refresh_token"].as_str().unwrap().to_string();
            }
            ("POST", "/api/v1/users") => {
                made.insert("user", resp.id());
            }
            ("POST", "/api/v1/articles/{id_or_slug}/comments") => {
                made.insert("comment", resp.id());
            }
            ("POST", "/api/v1/webhooks") => {
                made.insert("webhook", resp.id());
            }
            _ => {}
        }
    }
    assert!(made.contains_key("user") && made.contains_key("comment"));
    assert!(made.contains_key("webhook"));
}

/// Execute twice: a create's example makes a second row (its slug is made, with a
/// suffix), except the user's, whose email is then taken.
#[tokio::test]
async fn create_examples_run_twice() {
    let app = demo_server().await;
    let spec = app.get("/openapi.json").await;
    spec.assert_json(200);
    let creates: Vec<Documented> = documented(&spec.body)
        .into_iter()
        // A POST on something the docs cannot name (a webhook's secret) is no create.
        .filter(|op| {
            op.method == Method::POST
                && !op.path.starts_with("/api/v1/auth/")
                && op.unfilled.is_empty()
        })
        .collect();
    assert!(creates.len() >= 6);
    for op in &creates {
        let first = app
            .send(
                Method::POST,
                &op.url,
                Some(&app.admin),
                Some(op.body.clone()),
            )
            .await;
        first.assert_status(201);
        let second = app
            .send(
                Method::POST,
                &op.url,
                Some(&app.admin),
                Some(op.body.clone()),
            )
            .await;
        if op.path == "/api/v1/users" {
            second.assert_problem(409);
            continue;
        }
        second.assert_status(201);
        assert_ne!(second.id(), first.id(), "{}", op.path);
        if let Some(slug) = first.body["slug"].as_str() {
            assert_eq!(second.body["slug"], format!("{slug}-2"), "{}", op.path);
        }
    }
}

/// Swagger UI keeps the token given to "Authorize" across reloads, and the page
/// names an icon that is served.
#[tokio::test]
async fn swagger_ui_persists_authorization_and_has_an_icon() {
    let app = spawn_app().await;
    let docs = app.get("/docs").await;
    docs.assert_status(200);
    assert!(
        docs.text.contains("persistAuthorization: true,"),
        "persistAuthorization is on"
    );
    assert!(
        docs.text
            .contains(r#"<link rel="icon" type="image/x-icon" href="/favicon.ico">"#),
        "the page names its icon"
    );
    let icon = app
        .client
        .get(format!("{}/favicon.ico", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(
        icon.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/x-icon")
    );
    let bytes = icon.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO header");
    assert_eq!(&bytes[22..26], b"\x89PNG", "holding a PNG");
}
