//! Hostile input: NUL characters anywhere a client can put text, and Markdown
//! built to make rendering slow.

use std::time::{Duration, Instant};

use dispatch::content::markdown::{MAX_MARKUP, MAX_NESTING};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

/// A request (method, path, token, body) and the field its 400 must name.
type Case<'a> = (
    Method,
    String,
    Option<&'a str>,
    Option<serde_json::Value>,
    &'static str,
);

#[tokio::test]
async fn nul_characters_are_refused_with_the_field_named_at_every_entry_point() {
    let app = spawn_app_with(&[("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1000")]).await;
    let publisher = app.publisher("Harbor Press").await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let story = app
        .article(
            &publisher,
            json!({"title": "Quay Plans", "status": "published", "published_at": published_at}),
        )
        .await;
    let story_id = story["id"].as_str().unwrap().to_string();
    let tag = app.tag("Harbor").await;
    let admin = app.admin.clone();
    let comments = format!("/api/v1/articles/{story_id}/comments");
    let article = format!("/api/v1/articles/{story_id}");
    let cases: Vec<Case> = vec![
        // Anonymous.
        (
            Method::GET,
            "/api/v1/articles/a%00b".into(),
            None,
            None,
            "id_or_slug",
        ),
        (
            Method::GET,
            "/api/v1/articles?q=a%00b".into(),
            None,
            None,
            "q",
        ),
        (
            Method::GET,
            "/api/v1/articles?tag=x%00".into(),
            None,
            None,
            "tag",
        ),
        (
            Method::GET,
            "/api/v1/articles?publisher=%00".into(),
            None,
            None,
            "publisher",
        ),
        (
            Method::GET,
            "/api/v1/tags/harbor%00".into(),
            None,
            None,
            "id_or_slug",
        ),
        (
            Method::GET,
            "/api/v1/authors/%00".into(),
            None,
            None,
            "id_or_slug",
        ),
        (
            Method::GET,
            "/api/v1/publishers/p%00".into(),
            None,
            None,
            "id_or_slug",
        ),
        (
            Method::GET,
            "/api/v1/articles?cursor=%00".into(),
            None,
            None,
            "cursor",
        ),
        (
            Method::POST,
            "/api/v1/auth/login".into(),
            None,
            Some(json!({"email": "chief\u{0}@dispatch.test", "password": "x"})),
            "email",
        ),
        (
            Method::POST,
            "/api/v1/auth/refresh".into(),
            None,
            Some(json!({"refresh_token": "a\u{0}b"})),
            "refresh_token",
        ),
        (
            Method::POST,
            comments.clone(),
            None,
            Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "hi\u{0}"})),
            "body",
        ),
        (
            Method::POST,
            comments.clone(),
            None,
            Some(json!({"author_name": "A\u{0}nn", "email": "ann@mail.example", "body": "hi"})),
            "author_name",
        ),
        // Signed in.
        (
            Method::POST,
            "/api/v1/tags".into(),
            Some(&admin),
            Some(json!({"name": "a\u{0}"})),
            "name",
        ),
        (
            Method::PATCH,
            format!("/api/v1/tags/{tag}"),
            Some(&admin),
            Some(json!({"name": "\u{0}"})),
            "name",
        ),
        (
            Method::PATCH,
            article.clone(),
            Some(&admin),
            Some(json!({"title": "Quay\u{0}"})),
            "title",
        ),
        (
            Method::PATCH,
            article.clone(),
            Some(&admin),
            Some(json!({"body_markdown": "x\u{0}"})),
            "body_markdown",
        ),
        (
            Method::POST,
            "/api/v1/articles".into(),
            Some(&admin),
            Some(
                json!({"title": "T", "publisher_id": publisher, "tag_ids": [tag], "slug": "s\u{0}"}),
            ),
            "slug",
        ),
        (
            Method::POST,
            "/api/v1/publishers".into(),
            Some(&admin),
            Some(json!({"name": "P\u{0}"})),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/authors".into(),
            Some(&admin),
            Some(json!({"name": "Ann", "bio": "\u{0}"})),
            "bio",
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(&admin),
            Some(
                json!({"email": "u\u{0}@dispatch.test", "password": "a long and unusual passphrase", "role": "author"}),
            ),
            "email",
        ),
        (
            Method::GET,
            "/api/v1/comments?status=%00".into(),
            Some(&admin),
            None,
            "status",
        ),
        (
            Method::GET,
            "/api/v1/trash/articles?cursor=a%00".into(),
            Some(&admin),
            None,
            "cursor",
        ),
    ];
    for (method, path, token, body, field) in cases {
        let resp = app.send(method.clone(), &path, token, body).await;
        assert_eq!(resp.status.as_u16(), 400, "{method} {path}: {}", resp.text);
        resp.assert_problem(400).assert_fields(&[field]);
    }
    // Nothing was stored on the way.
    let tags = app.get("/api/v1/tags").await;
    tags.assert_status(200);
    assert_eq!(
        tags.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        tags.text
    );
}

/// The time of an anonymous read of the article list, and its status.
async fn timed_read(app: &crate::helpers::TestApp) -> (u16, Duration) {
    let start = Instant::now();
    let resp = app.get("/api/v1/articles").await;
    (resp.status.as_u16(), start.elapsed())
}

#[tokio::test]
async fn deeply_nested_markdown_is_refused_quickly_while_reads_stay_fast() {
    let app = spawn_app().await;
    let publisher = app.publisher("Harbor Press").await;
    let create = |body: String| {
        let publisher = publisher.clone();
        let app = &app;
        async move {
            app.post(
                "/api/v1/articles",
                json!({"title": "Deep", "publisher_id": publisher, "body_markdown": body}),
            )
            .await
        }
    };
    // At the limit is fine, one deeper is not, whatever nests.
    create(">".repeat(MAX_NESTING)).await.assert_status(201);
    create("&".repeat(MAX_MARKUP - 10)).await.assert_status(201);
    for bomb in [
        ">".repeat(MAX_NESTING + 1),
        format!("{}x", "- ".repeat(MAX_NESTING / 2 + 1)),
        format!("{0}x{0}", "*".repeat(2 * MAX_NESTING + 2)),
        "<div>".repeat(MAX_NESTING + 1),
        "*a* ".repeat(MAX_MARKUP / 2 + 1),
        "&".repeat(MAX_MARKUP + 1),
    ] {
        create(bomb)
            .await
            .assert_problem(422)
            .assert_fields(&["body_markdown"]);
    }
    // The bomb of the report, beside a reader: both answer quickly.
    let bomb = ">".repeat(50_000);
    let start = Instant::now();
    let (posted, reads) = tokio::join!(create(bomb.clone()), async {
        let mut reads = Vec::new();
        for _ in 0..5 {
            reads.push(timed_read(&app).await);
        }
        reads
    });
    let bomb_time = start.elapsed();
    posted.assert_problem(422).assert_fields(&["body_markdown"]);
    assert!(
        posted.body["detail"]
            .as_str()
            .unwrap()
            .contains(&MAX_NESTING.to_string()),
        "{}",
        posted.text
    );
    assert!(
        bomb_time < Duration::from_secs(2),
        "the bomb took {bomb_time:?}"
    );
    for (status, took) in reads {
        assert_eq!(status, 200);
        assert!(took < Duration::from_secs(1), "a read took {took:?}");
    }
}

#[tokio::test]
async fn markdown_with_thousands_of_attributes_on_one_tag_is_refused_quickly() {
    let app = spawn_app_with(&[("DISPATCH_BODY_LIMIT", "1048576")]).await;
    let publisher = app.publisher("Harbor Press").await;
    let attributes =
        |separator: &str| -> String { (0..20_000).map(|i| format!("a{i}{separator}")).collect() };
    // Raw HTML a sanitiser takes seconds over (its cost grows with the square of
    // one tag's attributes), written every way an attribute can be separated, and
    // behind a quoted `>` that ends no tag. And start tags without a `>`, which the
    // nesting check once scanned to the end for each.
    for bomb in [
        format!("<div\n<p {}>", attributes(" ")),
        format!("<div\n<p {}>", attributes("/")),
        format!("<div\n<p {}>", attributes("=\"\"")),
        format!("<div\n<p x=\">\" {}>", attributes(" ")),
        format!("<div\n{}", "<a</a".repeat(39_000)),
    ] {
        let start = Instant::now();
        app.post(
            "/api/v1/articles",
            json!({"title": "Attributes", "publisher_id": publisher, "body_markdown": bomb}),
        )
        .await
        .assert_problem(422)
        .assert_fields(&["body_markdown"]);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(1), "refusing took {took:?}");
    }
    // Hand-written HTML with a few attributes is still fine.
    app.post(
        "/api/v1/articles",
        json!({"title": "Embed", "publisher_id": publisher,
               "body_markdown": "<div class=\"embed\" title='x'>\n<p id=a>Hi</p>\n</div>\n\nText."}),
    )
    .await
    .assert_status(201);
}
