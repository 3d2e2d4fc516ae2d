//! API keys for frontends and services: created by admins and shown once (only their
//! SHA-256 is stored, never shown), listed and read without their text, revoked at
//! once; each scope allowed and refused what the permission matrix says; a key that
//! is revoked, expired, or sent from an origin it does not allow is a 401; a key in
//! the query string is ignored; keys have their own rate limit; their last use is
//! recorded at most once a minute; preview answers never reach the anonymous cache;
//! revocations racing uses and each other answer cleanly.

use chrono::Duration;
use dispatch::auth::Role;
use dispatch::clock::Clock;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{CORS_ORIGIN, Resp, TestApp, read, spawn_app, spawn_app_with};

const KEYS: &str = "/api/v1/api-keys";

/// Creates a key as the admin; the 201's body.
async fn key(app: &TestApp, body: Value) -> Value {
    let resp = app.post(KEYS, body).await;
    resp.assert_json(201);
    resp.body
}

/// Creates a key with `scope` (acting as `user` for a role scope); its text.
async fn key_text(app: &TestApp, scope: &str, user: Option<&str>) -> String {
    let body = key(
        app,
        json!({"name": format!("{scope} frontend"), "scope": scope, "user_id": user}),
    )
    .await;
    body["key"].as_str().unwrap().to_string()
}

/// A request with `Authorization: Bearer <bearer>` and, if given, an `Origin`.
async fn with_key(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    origin: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(bearer);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    read(req.send().await.unwrap()).await
}

/// A draft article and a published one; their ids.
async fn draft_and_published(app: &TestApp) -> (String, String) {
    let publisher = app.publisher("Key Press").await;
    let draft = app.article(&publisher, json!({"title": "Embargoed"})).await;
    let published_at = (app.clock.now() - Duration::hours(1)).to_rfc3339();
    let public = app
        .article(
            &publisher,
            json!({"title": "Out now", "status": "published", "published_at": published_at}),
        )
        .await;
    (
        draft["id"].as_str().unwrap().to_string(),
        public["id"].as_str().unwrap().to_string(),
    )
}

#[track_caller]
fn refused_key(resp: &Resp, detail: &str) {
    resp.assert_problem(401).assert_detail(detail);
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn a_key_is_shown_once_listed_and_read_without_its_text_and_revoked() {
    let app = spawn_app().await;
    let created = app
        .post(
            KEYS,
            json!({"name": "  Website SSR ", "scope": "read:published",
                   "allowed_origins": ["https://News.Example/"]}),
        )
        .await;
    created.assert_json(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("{KEYS}/{id}").as_str())
    );
    let text = created.body["key"].as_str().unwrap().to_string();
    assert!(text.starts_with("dsp_live_"), "{text}");
    assert_eq!(text.len(), "dsp_live_".len() + 43);
    assert!(
        text["dsp_live_".len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    let b = &created.body;
    assert_eq!(b["name"], "Website SSR");
    assert_eq!(b["scope"], "read:published");
    assert_eq!(b["prefix"], json!(&text[..17]));
    assert_eq!(b["allowed_origins"], json!(["https://news.example"]));
    assert_eq!(b["user_id"], Value::Null);
    assert_eq!(b["expires_at"], Value::Null);
    assert_eq!(b["last_used_at"], Value::Null);
    assert_eq!(b["created_by"], json!(app.admin_id));
    let hash = dispatch::digest::sha256_hex(text.as_bytes());

    let got = app.get_as(&format!("{KEYS}/{id}"), &app.admin).await;
    got.assert_absent(200, "", "key");
    assert_eq!(got.body["prefix"], b["prefix"]);
    assert_eq!(got.header("cache-control"), Some("private, no-store"));
    let list = app.get_as(&format!("{KEYS}?count=true"), &app.admin).await;
    list.assert_absent(200, "/data/0", "key");
    assert_eq!(list.body["meta"]["total"], 1);
    assert_eq!(list.body["data"][0]["id"], json!(id));
    for resp in [&created, &got, &list] {
        assert!(!resp.text.contains(&hash), "the hash leaked: {}", resp.text);
        assert!(!resp.text.contains("key_hash"), "{}", resp.text);
    }
    assert!(!got.text.contains(&text) && !list.text.contains(&text));
    // The key works (from its origin).
    with_key(
        &app,
        Method::GET,
        "/api/v1/articles",
        &text,
        Some(CORS_ORIGIN),
        None,
    )
    .await
    .assert_status(200);

    app.delete(&format!("{KEYS}/{id}")).await.assert_status(204);
    app.delete(&format!("{KEYS}/{id}"))
        .await
        .assert_problem(404)
        .assert_detail("No API key has this id.");
    app.get_as(&format!("{KEYS}/{id}"), &app.admin)
        .await
        .assert_problem(404)
        .assert_detail("No API key has this id.");
    let list = app.get_as(KEYS, &app.admin).await;
    list.assert_json(200);
    assert_eq!(list.body["data"], json!([]));
    let resp = with_key(
        &app,
        Method::GET,
        "/api/v1/articles",
        &text,
        Some(CORS_ORIGIN),
        None,
    )
    .await;
    refused_key(&resp, "The API key has been revoked.");
    // An unknown key, and one with a letter changed.
    let mut forged = text.clone();
    forged.pop();
    forged.push(if text.ends_with('A') { 'B' } else { 'A' });
    for bad in [forged.as_str(), "dsp_live_nothing", "dsp_"] {
        let resp = with_key(&app, Method::GET, "/api/v1/articles", bad, None, None).await;
        refused_key(&resp, "The API key is not valid.");
    }
}

#[tokio::test]
async fn the_list_pages_newest_first() {
    let app = spawn_app().await;
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(
            key(
                &app,
                json!({"name": format!("key {n}"), "scope": "read:published"}),
            )
            .await["id"]
                .clone(),
        );
    }
    made.reverse();
    let first = app.get_as(&format!("{KEYS}?limit=3"), &app.admin).await;
    first.assert_json(200);
    let cursor = first.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let second = app
        .get_as(&format!("{KEYS}?limit=3&cursor={cursor}"), &app.admin)
        .await;
    second.assert_json(200);
    let seen: Vec<Value> = first.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["data"].as_array().unwrap())
        .map(|k| k["id"].clone())
        .collect();
    assert_eq!(seen, made);
    assert_eq!(second.body["meta"]["next_cursor"], Value::Null);
}

/// What each scope may do, as the matrix says: (request, expected status per scope,
/// in the order of `SCOPES`).
const SCOPES: [&str; 5] = [
    "read:published",
    "read:preview",
    "read:events",
    "contributor",
    "editor",
];

#[tokio::test]
async fn each_scope_is_allowed_and_refused_what_the_matrix_says() {
    let app = spawn_app().await;
    let (draft, public) = draft_and_published(&app).await;
    let contributor = app.user(Role::Contributor, None).await;
    let editor = app.user(Role::Editor, None).await;
    let mut keys = Vec::new();
    for scope in SCOPES {
        let user = match scope {
            "contributor" => Some(contributor.id.as_str()),
            "editor" => Some(editor.id.as_str()),
            _ => None,
        };
        keys.push(key_text(&app, scope, user).await);
    }
    let table: Vec<(Method, String, Option<Value>, [u16; 5])> = vec![
        (
            Method::GET,
            format!("/api/v1/articles/{public}"),
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/api/v1/articles/{draft}"),
            None,
            [404, 200, 404, 404, 200],
        ),
        (
            Method::GET,
            "/api/v1/events".into(),
            None,
            [403, 403, 200, 403, 200],
        ),
        (
            Method::GET,
            "/api/v1/auth/me".into(),
            None,
            [403, 403, 403, 200, 200],
        ),
        (
            Method::POST,
            "/api/v1/tags".into(),
            Some(json!({"name": "Keyed"})),
            [403, 403, 403, 403, 201],
        ),
        // A draft is not there for whoever may not read it (404), and read-only for
        // a preview key (403).
        (
            Method::PATCH,
            format!("/api/v1/articles/{draft}"),
            Some(json!({"title": "Changed by a key"})),
            [404, 403, 404, 404, 200],
        ),
        (
            Method::PATCH,
            format!("/api/v1/articles/{public}"),
            Some(json!({"title": "Out now, changed"})),
            [403, 403, 403, 403, 200],
        ),
        (
            Method::GET,
            "/api/v1/users".into(),
            None,
            [403, 403, 403, 403, 403],
        ),
        (Method::GET, KEYS.into(), None, [403, 403, 403, 403, 403]),
        (
            Method::DELETE,
            format!("/api/v1/articles/{public}"),
            None,
            [403, 403, 403, 403, 204],
        ),
    ];
    for (method, path, body, expected) in &table {
        for (i, scope) in SCOPES.iter().enumerate() {
            let resp = with_key(&app, method.clone(), path, &keys[i], None, body.clone()).await;
            let want = expected[i];
            if want >= 400 {
                resp.assert_problem(want);
            } else {
                resp.assert_status(want);
            }
            assert!(
                resp.status.as_u16() == want,
                "{scope} {method} {path}: {} {}",
                resp.status,
                resp.text
            );
        }
    }
    // The refusals name the scope and the scopes that may.
    let resp = with_key(&app, Method::GET, "/api/v1/events", &keys[0], None, None).await;
    resp.assert_problem(403).assert_detail(
        "An API key with the scope `read:published` may not read the events feed; the scopes \
         that may: admin, editor, read:events.",
    );
    let resp = with_key(
        &app,
        Method::POST,
        "/api/v1/tags",
        &keys[1],
        None,
        Some(json!({"name": "Preview writes"})),
    )
    .await;
    resp.assert_problem(403).assert_detail(
        "An API key with the scope `read:preview` may not create, edit or delete publishers, \
         authors and tags; the scopes that may: admin, editor.",
    );
    // A role key acts as its account: `me` is that user, and its edit is their revision.
    let me = with_key(&app, Method::GET, "/api/v1/auth/me", &keys[4], None, None).await;
    assert_eq!(me.body["id"], json!(editor.id));
    let revisions = app
        .get_as(&format!("/api/v1/articles/{draft}/revisions"), &app.admin)
        .await;
    revisions.assert_json(200);
    assert!(
        revisions.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["user_id"] == json!(editor.id)),
        "{}",
        revisions.text
    );
    // A preview key lists drafts too; a published one does not.
    let list = with_key(
        &app,
        Method::GET,
        "/api/v1/articles?status=draft",
        &keys[1],
        None,
        None,
    )
    .await;
    list.assert_json(200);
    assert!(list.text.contains(&draft), "{}", list.text);
    let list = with_key(&app, Method::GET, "/api/v1/articles", &keys[0], None, None).await;
    list.assert_json(200);
    assert!(!list.text.contains(&draft), "{}", list.text);
}

#[tokio::test]
async fn a_role_key_needs_an_account_that_holds_its_role() {
    let app = spawn_app().await;
    let author = app.user(Role::Author, None).await;
    let cases = [
        (
            json!({"name": "Desk bot", "scope": "editor"}),
            "`user_id`: is required for a role scope: the account the key acts as",
        ),
        (
            json!({"name": "Site", "scope": "read:preview", "user_id": author.id}),
            "`user_id`: must be absent for a read scope, which acts as no account",
        ),
        (
            json!({"name": "Desk bot", "scope": "author", "user_id": uuid::Uuid::now_v7()}),
            "`user_id`: names no account",
        ),
        (
            json!({"name": "Desk bot", "scope": "editor", "user_id": author.id}),
            "`user_id`: names an account whose role `author` is below the key's `editor`",
        ),
    ];
    for (body, detail) in cases {
        app.post(KEYS, body)
            .await
            .assert_problem(422)
            .assert_fields(&["user_id"])
            .assert_detail(detail);
    }
    let text = key_text(&app, "author", Some(&author.id)).await;
    with_key(&app, Method::GET, "/api/v1/auth/me", &text, None, None)
        .await
        .assert_status(200);
    // A lesser role stops the key; so does disabling the account.
    app.patch(
        &format!("/api/v1/users/{}", author.id),
        json!({"role": "contributor"}),
    )
    .await
    .assert_status(200);
    let resp = with_key(&app, Method::GET, "/api/v1/auth/me", &text, None, None).await;
    refused_key(
        &resp,
        "The API key's role `author` is above the role its account holds now (`contributor`); \
         create a new key.",
    );
    let contributor = key_text(&app, "contributor", Some(&author.id)).await;
    app.patch(
        &format!("/api/v1/users/{}", author.id),
        json!({"disabled": true}),
    )
    .await
    .assert_status(200);
    let resp = with_key(
        &app,
        Method::GET,
        "/api/v1/auth/me",
        &contributor,
        None,
        None,
    )
    .await;
    refused_key(&resp, "The account this API key acts as is disabled.");
    app.post(
        KEYS,
        json!({"name": "Desk bot", "scope": "contributor", "user_id": author.id}),
    )
    .await
    .assert_problem(422)
    .assert_detail("`user_id`: names a disabled account");
    // A deleted account takes its keys with it.
    app.delete(&format!("/api/v1/users/{}", author.id))
        .await
        .assert_status(204);
    let resp = with_key(
        &app,
        Method::GET,
        "/api/v1/auth/me",
        &contributor,
        None,
        None,
    )
    .await;
    refused_key(&resp, "The API key is not valid.");
}

#[tokio::test]
async fn bad_bodies_are_refused_with_exact_problems() {
    let app = spawn_app().await;
    let resp = app
        .post(KEYS, json!({"name": "Site", "scope": "write:everything"}))
        .await;
    resp.assert_problem(400).assert_fields(&["scope"]);
    assert!(
        resp.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("read:published"),
        "{}",
        resp.text
    );
    app.post(KEYS, json!({"name": "   ", "scope": "read:published"}))
        .await
        .assert_problem(422)
        .assert_fields(&["name"])
        .assert_detail("`name`: must not be empty");
    let past = (app.clock.now() - Duration::seconds(1)).to_rfc3339();
    app.post(
        KEYS,
        json!({"name": "Site", "scope": "read:published", "expires_at": past}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["expires_at"])
    .assert_detail("`expires_at`: must be in the future");
    let message = "must be an origin, scheme://host[:port] with no path, e.g. https://news.example";
    app.post(
        KEYS,
        json!({"name": "Site", "scope": "read:published",
               "allowed_origins": ["https://ok.example", "https://news.example/path", "*"]}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["allowed_origins[1]", "allowed_origins[2]"])
    .assert_detail(&format!(
        "`allowed_origins[1]`: {message}; `allowed_origins[2]`: {message}"
    ));
    app.post(
        KEYS,
        json!({"name": "Site", "scope": "read:published", "allowed_origins": []}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["allowed_origins"]);
    // Every field at fault at once.
    app.post(
        KEYS,
        json!({"name": "", "scope": "editor", "expires_at": past}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["name", "expires_at", "user_id"]);
    // Missing scope, unknown field.
    app.post(KEYS, json!({"name": "Site"}))
        .await
        .assert_problem(400)
        .assert_fields(&["scope"]);
    app.post(
        KEYS,
        json!({"name": "Site", "scope": "read:published", "key": "dsp_live_mine"}),
    )
    .await
    .assert_problem(400)
    .assert_fields(&["key"]);
    app.get_as(&format!("{KEYS}/not-a-uuid"), &app.admin)
        .await
        .assert_problem(400)
        .assert_fields(&["id"]);
}

#[tokio::test]
async fn only_admins_manage_keys() {
    let app = spawn_app().await;
    let id = key(&app, json!({"name": "Site", "scope": "read:published"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let editor = app.token(Role::Editor).await;
    let detail = "The role `editor` may not manage API keys; the roles that may: admin.";
    let one = format!("{KEYS}/{id}");
    for (method, path, body) in [
        (Method::GET, KEYS, None),
        (
            Method::POST,
            KEYS,
            Some(json!({"name": "Mine", "scope": "read:published"})),
        ),
        (Method::GET, one.as_str(), None),
        (Method::DELETE, one.as_str(), None),
    ] {
        app.send(method.clone(), path, Some(&editor), body.clone())
            .await
            .assert_problem(403)
            .assert_detail(detail);
        app.send(method, path, None, body).await.assert_problem(401);
    }
    // An admin-scoped key may manage keys: it acts as the admin.
    let admin_key = key_text(&app, "admin", Some(&app.admin_id)).await;
    with_key(&app, Method::GET, &one, &admin_key, None, None)
        .await
        .assert_status(200);
    app.get_as(&one, &app.admin).await.assert_status(200);
}

#[tokio::test]
async fn an_expired_key_is_refused_by_the_clock() {
    let app = spawn_app().await;
    let expires = (app.clock.now() + Duration::hours(1)).to_rfc3339();
    let text = key(
        &app,
        json!({"name": "Campaign", "scope": "read:preview", "expires_at": expires}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_string();
    with_key(&app, Method::GET, "/api/v1/articles", &text, None, None)
        .await
        .assert_status(200);
    app.clock.advance(Duration::minutes(59));
    with_key(&app, Method::GET, "/api/v1/articles", &text, None, None)
        .await
        .assert_status(200);
    app.clock.advance(Duration::minutes(1));
    let resp = with_key(&app, Method::GET, "/api/v1/articles", &text, None, None).await;
    refused_key(&resp, "The API key has expired.");
}

#[tokio::test]
async fn allowed_origins_are_required_and_exact() {
    let other = "https://other.example";
    let app = spawn_app_with(&[(
        "DISPATCH_CORS_ORIGINS",
        "https://news.example,https://other.example",
    )])
    .await;
    let text = key(
        &app,
        json!({"name": "Browser app", "scope": "read:published", "allowed_origins": [CORS_ORIGIN]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = with_key(
        &app,
        Method::GET,
        "/api/v1/articles",
        &text,
        Some(CORS_ORIGIN),
        None,
    )
    .await;
    ok.assert_status(200);
    assert_eq!(ok.header("access-control-allow-origin"), Some(CORS_ORIGIN));
    let resp = with_key(
        &app,
        Method::GET,
        "/api/v1/articles",
        &text,
        Some(other),
        None,
    )
    .await;
    refused_key(
        &resp,
        "This API key may not be used from the request's origin.",
    );
    // The browser can read the refusal.
    assert_eq!(resp.header("access-control-allow-origin"), Some(other));
    let resp = with_key(&app, Method::GET, "/api/v1/articles", &text, None, None).await;
    refused_key(
        &resp,
        "This API key may be used only from its allowed origins, and the request has no \
         `Origin` header.",
    );
    // A preflight carries no key: the CORS layer answers it.
    let pre = read(
        app.client
            .request(Method::OPTIONS, format!("{}/api/v1/articles", app.base))
            .header("origin", CORS_ORIGIN)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap(),
    )
    .await;
    pre.assert_status(204);
    assert!(
        pre.header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
    // A key without origins is taken from anywhere, and from no browser at all.
    let anywhere = key_text(&app, "read:published", None).await;
    for origin in [Some(CORS_ORIGIN), Some(other), None] {
        with_key(
            &app,
            Method::GET,
            "/api/v1/articles",
            &anywhere,
            origin,
            None,
        )
        .await
        .assert_status(200);
    }
}

#[tokio::test]
async fn a_key_in_the_query_string_is_ignored() {
    let app = spawn_app().await;
    let (draft, _) = draft_and_published(&app).await;
    let preview = key_text(&app, "read:preview", None).await;
    let editor = app.user(Role::Editor, None).await;
    let role_key = key_text(&app, "editor", Some(&editor.id)).await;
    for text in [&preview, &role_key] {
        for name in ["api_key", "access_token", "key", "token"] {
            let resp = app
                .get(&format!("/api/v1/articles/{draft}?{name}={text}"))
                .await;
            resp.assert_problem(404);
            assert!(!resp.text.contains("Embargoed"), "{}", resp.text);
            let list = app.get(&format!("/api/v1/articles?{name}={text}")).await;
            list.assert_json(200);
            assert!(!list.text.contains(&draft), "{}", list.text);
            app.send(
                Method::POST,
                &format!("/api/v1/tags?{name}={text}"),
                None,
                Some(json!({"name": "Sneaky"})),
            )
            .await
            .assert_problem(401);
        }
    }
    // In the header the same key reads the draft.
    with_key(
        &app,
        Method::GET,
        &format!("/api/v1/articles/{draft}"),
        &preview,
        None,
        None,
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn a_key_has_its_own_rate_limit() {
    let app = spawn_app_with(&[
        ("DISPATCH_API_KEY_LIMIT", "3"),
        ("DISPATCH_API_KEY_LIMIT_WINDOW_SECONDS", "60"),
    ])
    .await;
    let first = key_text(&app, "read:published", None).await;
    let second = key_text(&app, "read:published", None).await;
    for _ in 0..3 {
        with_key(&app, Method::GET, "/api/v1/tags", &first, None, None)
            .await
            .assert_status(200);
    }
    let resp = with_key(&app, Method::GET, "/api/v1/tags", &first, None, None).await;
    resp.assert_problem(429)
        .assert_detail("Too many requests with this API key; try again in 20 seconds.");
    assert_eq!(resp.header("retry-after"), Some("20"));
    // Writes and unknown paths count too; another key and access tokens do not.
    with_key(
        &app,
        Method::POST,
        "/api/v1/tags",
        &first,
        None,
        Some(json!({"name": "x"})),
    )
    .await
    .assert_problem(429);
    with_key(&app, Method::GET, "/api/v1/tags", &second, None, None)
        .await
        .assert_status(200);
    for _ in 0..5 {
        app.get_as("/api/v1/tags", &app.admin)
            .await
            .assert_status(200);
    }
    // The bucket refills with the (test's) clock.
    app.clock.advance(Duration::seconds(20));
    with_key(&app, Method::GET, "/api/v1/tags", &first, None, None)
        .await
        .assert_status(200);
}

/// The key's `last_used_at`, read until it is `want` (its write does not hold up the
/// answer, so it may land a moment later).
async fn last_used(app: &TestApp, id: &str, want: &Value) -> Value {
    let mut seen = Value::Null;
    for _ in 0..100 {
        let resp = app.get_as(&format!("{KEYS}/{id}"), &app.admin).await;
        resp.assert_json(200);
        seen = resp.body["last_used_at"].clone();
        if &seen == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    seen
}

#[tokio::test]
async fn the_last_use_is_recorded_at_most_once_a_minute() {
    let app = spawn_app().await;
    let created = key(&app, json!({"name": "SSR", "scope": "read:published"})).await;
    let (id, text) = (
        created["id"].as_str().unwrap().to_string(),
        created["key"].as_str().unwrap().to_string(),
    );
    let stamp = |app: &TestApp| json!(app.clock.now().to_rfc3339());
    assert_eq!(last_used(&app, &id, &Value::Null).await, Value::Null);
    with_key(&app, Method::GET, "/api/v1/tags", &text, None, None)
        .await
        .assert_status(200);
    let first = stamp(&app);
    assert_eq!(last_used(&app, &id, &first).await, first);
    // Within the minute: not written again.
    app.clock.advance(Duration::seconds(30));
    let before = app.statement_count();
    with_key(&app, Method::GET, "/api/v1/tags", &text, None, None)
        .await
        .assert_status(200);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let statements = app.statement_count() - before;
    assert_eq!(last_used(&app, &id, &first).await, first);
    // The key's lookup and the list of tags; no write.
    assert!(statements <= 3, "{statements} statements");
    app.clock.advance(Duration::seconds(31));
    with_key(&app, Method::GET, "/api/v1/tags", &text, None, None)
        .await
        .assert_status(200);
    let second = stamp(&app);
    assert_ne!(first, second);
    assert_eq!(last_used(&app, &id, &second).await, second);
}

#[tokio::test]
async fn preview_answers_never_reach_the_anonymous_cache() {
    let app = spawn_app().await;
    let (draft, public) = draft_and_published(&app).await;
    let preview = key_text(&app, "read:preview", None).await;
    let path = "/api/v1/articles?status=draft";
    // The preview read first: it must not be kept for anonymous readers.
    let keyed = with_key(&app, Method::GET, path, &preview, None, None).await;
    keyed.assert_json(200);
    assert!(keyed.text.contains(&draft));
    assert_eq!(keyed.header("x-cache"), None);
    assert_eq!(keyed.header("cache-control"), Some("private, no-store"));
    for _ in 0..3 {
        let anonymous = app.get(path).await;
        anonymous.assert_json(200);
        assert!(!anonymous.text.contains(&draft), "{}", anonymous.text);
    }
    // And an anonymous entry is never what a preview key is served.
    let article = format!("/api/v1/articles/{public}");
    app.get(&article).await.assert_status(200);
    app.get(&article).await.assert_status(200);
    let keyed = with_key(&app, Method::GET, path, &preview, None, None).await;
    assert!(keyed.text.contains(&draft));
    assert_eq!(keyed.header("x-cache"), None);
}

#[tokio::test]
async fn revocations_racing_uses_and_each_other_answer_cleanly() {
    let app = spawn_app().await;
    for round in 0..15 {
        let created = key(
            &app,
            json!({"name": format!("race {round}"), "scope": "read:preview"}),
        )
        .await;
        let id = created["id"].as_str().unwrap().to_string();
        let text = created["key"].as_str().unwrap().to_string();
        let path = format!("{KEYS}/{id}");
        let uses = join_all(
            (0..4).map(|_| with_key(&app, Method::GET, "/api/v1/articles", &text, None, None)),
        );
        let revokes = join_all((0..3).map(|_| app.delete(&path)));
        let (uses, revokes) = futures_util::join!(uses, revokes);
        for resp in &uses {
            match resp.status.as_u16() {
                200 => {}
                401 => refused_key(resp, "The API key has been revoked."),
                other => panic!("a use during a revocation: {other} {}", resp.text),
            }
        }
        let mut statuses: Vec<u16> = revokes.iter().map(|r| r.status.as_u16()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [204, 404, 404], "round {round}");
        for resp in revokes.iter().filter(|r| r.status == 404) {
            resp.assert_problem(404);
        }
        let after = with_key(&app, Method::GET, "/api/v1/articles", &text, None, None).await;
        refused_key(&after, "The API key has been revoked.");
    }
}
