//! Tables of bad inputs per write endpoint, each with the exact status and the
//! fields the problem must name.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{BODY_LIMIT, Resp, TestApp, spawn_app};

/// What to send.
enum Input {
    Json(Value),
    Raw(&'static str, String),
}

struct Case {
    why: &'static str,
    input: Input,
    status: u16,
    fields: &'static [&'static str],
}

fn case(why: &'static str, body: Value, status: u16, fields: &'static [&'static str]) -> Case {
    Case {
        why,
        input: Input::Json(body),
        status,
        fields,
    }
}

fn raw(why: &'static str, content_type: &'static str, body: &str, status: u16) -> Case {
    Case {
        why,
        input: Input::Raw(content_type, body.to_string()),
        status,
        fields: &[],
    }
}

/// Cases every JSON write endpoint shares.
fn common_cases() -> Vec<Case> {
    vec![
        raw("malformed JSON", "application/json", "{\"name\": ", 400),
        raw(
            "a JSON array instead of an object",
            "application/json",
            "[]",
            400,
        ),
        raw("not JSON at all", "text/plain", "name=x", 415),
        raw("an empty body", "application/json", "", 400),
        raw(
            "a body over the limit",
            "application/json",
            &format!("{{\"name\": \"{}\"}}", "x".repeat(BODY_LIMIT)),
            413,
        ),
    ]
}

async fn send_as_admin(app: &TestApp, method: Method, path: &str, input: Input) -> Resp {
    match input {
        Input::Json(body) => app.send(method, path, Some(&app.admin), Some(body)).await,
        Input::Raw(ct, body) => app.send_raw(method, path, Some(&app.admin), ct, body).await,
    }
}

async fn run(app: &TestApp, method: Method, path: &str, cases: Vec<Case>) {
    for c in cases {
        let resp = send_as_admin(app, method.clone(), path, c.input).await;
        assert_eq!(
            resp.status.as_u16(),
            c.status,
            "{method} {path}: {} -> {}",
            c.why,
            resp.text
        );
        resp.assert_problem(c.status);
        if !c.fields.is_empty() {
            resp.assert_fields(c.fields);
        }
    }
}

fn text_field_cases(field: &'static str) -> Vec<Case> {
    let required: &'static [&'static str] = Box::leak(Box::new([field]));
    let mut cases = vec![
        case("missing required field", json!({}), 400, required),
        case("wrong type", json!({ field: 5 }), 400, required),
        case(
            "null for a required field",
            json!({ field: null }),
            400,
            required,
        ),
        case("empty name", json!({ field: "" }), 400, required),
        case(
            "10,000-character name",
            json!({ field: "x".repeat(10_000) }),
            400,
            required,
        ),
        case("blank name", json!({ field: "   " }), 422, required),
        case(
            "slug with capitals",
            json!({ field: "x", "slug": "Not-A-Slug" }),
            422,
            &["slug"],
        ),
        case(
            "slug with spaces",
            json!({ field: "x", "slug": "a b" }),
            422,
            &["slug"],
        ),
        case(
            "slug with a double hyphen",
            json!({ field: "x", "slug": "a--b" }),
            422,
            &["slug"],
        ),
        case(
            "slug that looks like an id",
            json!({ field: "x", "slug": uuid::Uuid::now_v7().to_string() }),
            422,
            &["slug"],
        ),
        case(
            "81-character slug",
            json!({ field: "x", "slug": "a".repeat(81) }),
            400,
            &["slug"],
        ),
        case(
            "unknown field",
            json!({ field: "x", "nmae": "typo" }),
            400,
            &["nmae"],
        ),
    ];
    cases.extend(common_cases());
    cases
}

#[tokio::test]
async fn bad_publisher_writes_are_refused_with_the_exact_problem() {
    let app = spawn_app().await;
    let mut cases = text_field_cases("name");
    cases.push(case(
        "website that is not a URL",
        json!({"name": "x", "website_url": "javascript:alert(1)"}),
        422,
        &["website_url"],
    ));
    run(&app, Method::POST, "/api/v1/publishers", cases).await;
    let id = app.publisher("Ledger").await;
    run(
        &app,
        Method::PATCH,
        &format!("/api/v1/publishers/{id}"),
        vec![
            case("null name", json!({"name": null}), 422, &["name"]),
            case("empty name", json!({"name": ""}), 400, &["name"]),
            case("invalid slug", json!({"slug": "UPPER"}), 422, &["slug"]),
            case(
                "wrong type",
                json!({"description": 7}),
                400,
                &["description"],
            ),
            raw("malformed JSON", "application/json", "{", 400),
        ],
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/publishers/{id}")).await.body["name"],
        "Ledger",
        "unchanged"
    );
    assert_eq!(
        app.get("/api/v1/publishers?count=true").await.body["meta"]["total"],
        1,
        "nothing created"
    );
}

#[tokio::test]
async fn bad_author_writes_are_refused_with_the_exact_problem() {
    let app = spawn_app().await;
    let mut cases = text_field_cases("name");
    cases.push(case(
        "unknown publisher",
        json!({"name": "x", "publisher_id": uuid::Uuid::now_v7()}),
        422,
        &["publisher_id"],
    ));
    cases.push(case(
        "publisher id that is not a uuid",
        json!({"name": "x", "publisher_id": "ledger"}),
        400,
        &["publisher_id"],
    ));
    cases.push(case(
        "avatar that is not a URL",
        json!({"name": "x", "avatar_url": "/relative.png"}),
        422,
        &["avatar_url"],
    ));
    run(&app, Method::POST, "/api/v1/authors", cases).await;
    assert_eq!(
        app.get("/api/v1/authors?count=true").await.body["meta"]["total"],
        0
    );
}

#[tokio::test]
async fn bad_tag_writes_are_refused_with_the_exact_problem() {
    let app = spawn_app().await;
    run(&app, Method::POST, "/api/v1/tags", text_field_cases("name")).await;
    let id = app.tag("Climate").await;
    run(
        &app,
        Method::PATCH,
        &format!("/api/v1/tags/{id}"),
        vec![case("null slug", json!({"slug": null}), 422, &["slug"])],
    )
    .await;
    assert_eq!(
        app.get("/api/v1/tags?count=true").await.body["meta"]["total"],
        1
    );
}

#[tokio::test]
async fn bad_article_writes_are_refused_with_the_exact_problem() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let valid = |extra: Value| {
        let mut body = json!({"title": "x", "publisher_id": p});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let mut cases = vec![
        case("missing title", json!({"publisher_id": p}), 400, &["title"]),
        case(
            "missing publisher",
            json!({"title": "x"}),
            400,
            &["publisher_id"],
        ),
        case(
            "title of the wrong type",
            valid(json!({"title": ["x"]})),
            400,
            &["title"],
        ),
        case("empty title", valid(json!({"title": ""})), 400, &["title"]),
        case(
            "10,000-character title",
            valid(json!({"title": "x".repeat(10_000)})),
            400,
            &["title"],
        ),
        case(
            "blank title",
            valid(json!({"title": " \t "})),
            422,
            &["title"],
        ),
        case(
            "invalid slug",
            valid(json!({"slug": "Hello World"})),
            422,
            &["slug"],
        ),
        case(
            "unknown status",
            valid(json!({"status": "live"})),
            400,
            &["status"],
        ),
        case(
            "published_at that is not a time",
            valid(json!({"published_at": "yesterday"})),
            400,
            &["published_at"],
        ),
        case(
            "publisher id that is not a uuid",
            valid(json!({"publisher_id": "ledger"})),
            400,
            &["publisher_id"],
        ),
        case(
            "unknown publisher",
            valid(json!({"publisher_id": unknown})),
            422,
            &["publisher_id"],
        ),
        case(
            "unknown syndication source",
            valid(json!({"syndicated_from_id": unknown})),
            422,
            &["syndicated_from_id"],
        ),
        case(
            "unknown author",
            valid(json!({"author_ids": [unknown]})),
            422,
            &["author_ids"],
        ),
        case(
            "unknown tag",
            valid(json!({"tag_ids": [unknown]})),
            422,
            &["tag_ids"],
        ),
        case(
            "author ids that are not a list",
            valid(json!({"author_ids": "x"})),
            400,
            &["author_ids"],
        ),
        case(
            "21 authors",
            valid(json!({"author_ids": vec![unknown.clone(); 21]})),
            400,
            &["author_ids"],
        ),
        case(
            "body over 200,000 characters",
            valid(json!({"body_markdown": "x".repeat(200_001)})),
            413,
            &[],
        ),
        case(
            "unknown field",
            valid(json!({"headline": "x"})),
            400,
            &["headline"],
        ),
        case(
            "several schema breaks at once",
            json!({"title": 1, "status": "live", "author_ids": ["x"], "headline": "x"}),
            400,
            &["publisher_id", "author_ids", "headline", "status", "title"],
        ),
        case(
            "several rule breaks at once",
            valid(json!({"slug": "Bad", "tag_ids": [unknown], "canonical_url": "nope"})),
            422,
            &["slug", "canonical_url", "tag_ids"],
        ),
    ];
    cases.extend(common_cases());
    run(&app, Method::POST, "/api/v1/articles", cases).await;
    assert_eq!(
        app.get_as("/api/v1/articles?count=true", &app.admin)
            .await
            .body["meta"]["total"],
        0,
        "nothing created"
    );

    let a = app.article(&p, json!({"title": "Original"})).await;
    let id = a["id"].as_str().unwrap();
    run(
        &app,
        Method::PATCH,
        &format!("/api/v1/articles/{id}"),
        vec![
            case("null title", json!({"title": null}), 422, &["title"]),
            case(
                "null byline",
                json!({"author_ids": null}),
                422,
                &["author_ids"],
            ),
            case("empty title", json!({"title": ""}), 400, &["title"]),
            case(
                "unknown author",
                json!({"author_ids": [unknown]}),
                422,
                &["author_ids"],
            ),
            case(
                "unknown publisher",
                json!({"publisher_id": unknown}),
                422,
                &["publisher_id"],
            ),
            raw("malformed JSON", "application/json", "{\"title\"", 400),
        ],
    )
    .await;
    let after = app
        .get_as(&format!("/api/v1/articles/{id}"), &app.admin)
        .await;
    assert_eq!(after.body["title"], "Original");
    assert_eq!(after.body["version"], 1, "refused updates change nothing");
    let missing = uuid::Uuid::now_v7();
    app.patch(
        &format!("/api/v1/articles/{missing}"),
        json!({"title": "x"}),
    )
    .await
    .assert_problem(404);
    app.delete(&format!("/api/v1/articles/{missing}"))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn bad_list_parameters_are_400s_naming_the_parameter() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/articles",
        "/api/v1/publishers",
        "/api/v1/authors",
        "/api/v1/tags",
    ] {
        for (query, field, message) in [
            ("limit=-1", "limit", "must be a whole number of 0 or more"),
            ("limit=0", "limit", "must be at least 1"),
            ("limit=101", "limit", "must be at most 100"),
            (
                "limit=99999999999999999999999",
                "limit",
                "must be a whole number of 0 or more",
            ),
            ("limit=ten", "limit", "must be a whole number of 0 or more"),
            ("count=maybe", "count", "must be true or false"),
            (
                "cursor=!!!",
                "cursor",
                "is not a cursor this API issued for this sort; start again without it",
            ),
        ] {
            let resp = app.get(&format!("{path}?{query}")).await;
            resp.assert_problem(400).assert_fields(&[field]);
            assert_eq!(
                resp.body["errors"][0]["message"],
                json!(message),
                "{path}?{query}"
            );
            assert_eq!(resp.body["detail"], json!(format!("`{field}`: {message}")));
        }
        app.get(&format!("{path}?limit=100"))
            .await
            .assert_status(200);
    }
    for (query, field, message) in [
        (
            "status=live",
            "status",
            "must be one of draft, scheduled, published, archived",
        ),
        (
            "sort=newest",
            "sort",
            "must be one of published_at, -published_at, title, -title, updated_at, -updated_at",
        ),
        (
            "published_after=yesterday",
            "published_after",
            "must be an RFC 3339 date-time such as 2026-11-28T06:00:00Z",
        ),
        (
            "published_before=2025-13-01T00:00:00Z",
            "published_before",
            "must be an RFC 3339 date-time such as 2026-11-28T06:00:00Z",
        ),
        (
            "include=authors,bogus",
            "include",
            "unknown relation `bogus`; use any of authors, publisher, syndicated_from, tags, featured_media",
        ),
        ("q=%25%25", "q", "must contain at least one letter or digit"),
    ] {
        let resp = app.get(&format!("/api/v1/articles?{query}")).await;
        resp.assert_problem(400).assert_fields(&[field]);
        assert_eq!(resp.body["errors"][0]["message"], json!(message), "{query}");
    }
    let long_q = "x".repeat(201);
    let resp = app.get(&format!("/api/v1/articles?q={long_q}")).await;
    resp.assert_problem(400).assert_fields(&["q"]);
    assert_eq!(
        resp.body["errors"][0]["message"],
        "must be at most 200 characters long"
    );
    let resp = app.get("/api/v1/tags?sort=newest").await;
    assert_eq!(
        resp.body["errors"][0]["message"],
        "must be one of name, -name"
    );
}

#[tokio::test]
async fn problem_bodies_are_exactly_as_documented() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let unknown = uuid::Uuid::now_v7();
    let cases: Vec<(Method, &str, Input, Value)> = vec![
        (
            Method::POST,
            "/api/v1/tags",
            Input::Json(json!({"name": 5, "colour": "red"})),
            json!({
                "type": "urn:dispatch:problem:bad-request", "title": "Bad Request", "status": 400,
                "detail": "`colour`: is not a field of this object; `name`: must be a string",
                "errors": [
                    {"field": "colour", "message": "is not a field of this object"},
                    {"field": "name", "message": "must be a string"},
                ],
            }),
        ),
        (
            Method::POST,
            "/api/v1/tags",
            Input::Raw("application/json", "{\"name\": ".into()),
            json!({
                "type": "urn:dispatch:problem:bad-request", "title": "Bad Request", "status": 400,
                "detail": "The request body is not valid JSON: EOF while parsing a value at line 1 column 9.",
            }),
        ),
        (
            Method::POST,
            "/api/v1/tags",
            Input::Raw("application/json", "".into()),
            json!({
                "type": "urn:dispatch:problem:bad-request", "title": "Bad Request", "status": 400,
                "detail": "The request body is empty; send a JSON object.",
            }),
        ),
        (
            Method::POST,
            "/api/v1/articles",
            Input::Json(json!({"title": "x", "publisher_id": p, "author_ids": [unknown]})),
            json!({
                "type": "urn:dispatch:problem:validation", "title": "Unprocessable Entity", "status": 422,
                "detail": format!("`author_ids`: no author has the id {unknown}"),
                "errors": [{"field": "author_ids", "message": format!("no author has the id {unknown}")}],
            }),
        ),
        (
            Method::POST,
            "/api/v1/publishers",
            Input::Json(json!({"name": "Ledger", "slug": "ledger"})),
            json!({
                "type": "urn:dispatch:problem:conflict", "title": "Conflict", "status": 409,
                "detail": "`slug`: is already taken",
                "errors": [{"field": "slug", "message": "is already taken"}],
            }),
        ),
        (
            Method::POST,
            "/api/v1/tags",
            Input::Raw("text/plain", "name".into()),
            json!({
                "type": "urn:dispatch:problem:unsupported-media-type", "title": "Unsupported Media Type", "status": 415,
                "detail": "the `Content-Type` requested by the client is not supported: text/plain",
            }),
        ),
    ];
    for (method, path, input, expected) in cases {
        let resp = send_as_admin(&app, method.clone(), path, input).await;
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(
            resp.status.as_u16() as u64,
            expected["status"].as_u64().unwrap()
        );
        // Every problem names its request, as the X-Request-Id header does.
        let mut body = resp.body.clone();
        let named = body.as_object_mut().unwrap().remove("request_id");
        assert_eq!(
            named.as_ref().and_then(Value::as_str),
            resp.header("x-request-id")
        );
        assert_eq!(body, expected, "{method} {path}");
    }
}
