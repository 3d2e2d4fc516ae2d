//! Choosing fields: `fields=` on every list and read of articles, publishers,
//! authors, tags and comments answers only the chosen keys (and `id`), with the
//! values of the full answer; `fields[authors]`, `fields[publishers]` and
//! `fields[tags]` do the same for what an article embeds; bad names are a 400 that
//! names them; without `fields` the body is the same bytes as ever; and a list that
//! chooses no relation field runs fewer statements, as many whatever the page size.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, read, spawn_app_with};

/// Room for the test's comments from one address.
async fn spawn_app() -> TestApp {
    spawn_app_with(&[("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1000")]).await
}

/// A public article with two authors, two tags, a carrier and an original outlet,
/// and an approved comment; its id and the comment's.
async fn newsroom(app: &TestApp) -> (String, String) {
    let carrier = app
        .create(
            "/api/v1/publishers",
            json!({"name": "Wire", "description": "A wire.", "website_url": "https://wire.example"}),
        )
        .await;
    let outlet = app.publisher("Outlet").await;
    let jane = app
        .create(
            "/api/v1/authors",
            json!({"name": "Jane Doe", "bio": "Writes."}),
        )
        .await;
    let sam = app.author("Sam Roe").await;
    let climate = app.tag("Climate").await;
    let energy = app.tag("Energy").await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let article = app
        .article(
            carrier["id"].as_str().unwrap(),
            json!({
                "title": "Heat pumps", "status": "published", "published_at": published_at,
                "subtitle": "A rebate doubles", "dateline": "HARBOR CITY",
                "syndicated_from_id": outlet, "canonical_url": "https://outlet.example/heat",
                "author_ids": [jane["id"], sam], "tag_ids": [climate, energy],
            }),
        )
        .await;
    let id = article["id"].as_str().unwrap().to_string();
    let comment = app
        .send(
            Method::POST,
            &format!("/api/v1/articles/{id}/comments"),
            None,
            Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "Good."})),
        )
        .await;
    comment.assert_status(201);
    let comment_id = comment.id();
    app.patch(
        &format!("/api/v1/comments/{comment_id}"),
        json!({"status": "approved"}),
    )
    .await
    .assert_status(200);
    (id, comment_id)
}

/// `GET path` as the admin when `signed_in`, else anonymously.
async fn get(app: &TestApp, path: &str, signed_in: bool) -> Resp {
    let resp = if signed_in {
        app.get_as(path, &app.admin).await
    } else {
        app.get(path).await
    };
    resp.assert_json(200);
    resp
}

/// The objects of a list's `data`, or the one object of a read.
fn items(resp: &Resp) -> Vec<&serde_json::Map<String, Value>> {
    match resp.body["data"].as_array() {
        Some(data) => data.iter().map(|i| i.as_object().unwrap()).collect(),
        None => vec![resp.body.as_object().unwrap()],
    }
}

/// Asserts `picked` (an answer with `fields`) holds exactly `keys` in each item, in
/// that order, with the values of `full` (the same request without `fields`).
#[track_caller]
fn assert_picked(picked: &Resp, full: &Resp, keys: &[&str]) {
    let (picked_items, full_items) = (items(picked), items(full));
    assert_eq!(picked_items.len(), full_items.len(), "{}", picked.text);
    assert!(!picked_items.is_empty());
    for (p, f) in picked_items.iter().zip(&full_items) {
        assert_eq!(p.keys().collect::<Vec<_>>(), keys, "{}", picked.text);
        for key in keys {
            assert_eq!(p[*key], f[*key], "{key}");
        }
    }
    assert_eq!(picked.body.get("meta"), full.body.get("meta"));
}

#[tokio::test]
async fn each_resource_answers_only_the_chosen_fields_and_id() {
    let app = spawn_app().await;
    let (article, comment) = newsroom(&app).await;
    let cases: [(String, &str, &[&str], bool); 11] = [
        (
            "/api/v1/articles".into(),
            " slug , title,,byline ,published_at",
            &["id", "slug", "title", "published_at", "byline"],
            false,
        ),
        (
            format!("/api/v1/articles/{article}"),
            "excerpt,author_ids,tag_ids,comment_count,body_html",
            &[
                "id",
                "excerpt",
                "body_html",
                "author_ids",
                "tag_ids",
                "comment_count",
            ],
            false,
        ),
        (
            "/api/v1/publishers".into(),
            "website_url,name",
            &["id", "name", "website_url"],
            false,
        ),
        (
            "/api/v1/publishers/wire".into(),
            "id,description",
            &["id", "description"],
            false,
        ),
        ("/api/v1/authors".into(), "bio", &["id", "bio"], false),
        (
            "/api/v1/authors/jane-doe".into(),
            "slug,name",
            &["id", "slug", "name"],
            false,
        ),
        ("/api/v1/tags".into(), "name", &["id", "name"], false),
        ("/api/v1/tags/energy".into(), "id", &["id"], false),
        (
            format!("/api/v1/articles/{article}/comments"),
            "author_name,body_html",
            &["id", "author_name", "body_html"],
            false,
        ),
        (
            "/api/v1/comments".into(),
            "status,article_id",
            &["id", "article_id", "status"],
            true,
        ),
        (
            format!("/api/v1/comments/{comment}"),
            "body",
            &["id", "body"],
            true,
        ),
    ];
    for (path, fields, keys, signed_in) in cases {
        let full = get(&app, &path, signed_in).await;
        let picked = get(&app, &format!("{path}?fields={fields}"), signed_in).await;
        assert_picked(&picked, &full, keys);
    }
    // Every field named is every field: the same body as without `fields`.
    let all = dispatch::api::articles::Article::FIELDS.join(",");
    let full = get(&app, "/api/v1/articles", false).await;
    let named = get(&app, &format!("/api/v1/articles?fields={all}"), false).await;
    assert_eq!(named.body, full.body);
}

#[tokio::test]
async fn an_articles_embedded_relations_get_their_own_fields() {
    let app = spawn_app().await;
    let (article, _) = newsroom(&app).await;
    let include = "include=authors,publisher,syndicated_from,tags";
    for path in [
        "/api/v1/articles".to_string(),
        format!("/api/v1/articles/{article}"),
    ] {
        let full = get(&app, &format!("{path}?{include}"), false).await;
        let picked = get(
            &app,
            &format!(
                "{path}?{include}&fields=title&fields[authors]=name,slug\
                 &fields%5Bpublishers%5D=website_url&fields[tags]=slug"
            ),
            false,
        )
        .await;
        // What `include` names comes whatever `fields` says.
        let (item, whole) = (items(&picked)[0].clone(), items(&full)[0].clone());
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&Value::Object(item.clone())),
            [
                "id",
                "title",
                "authors",
                "publisher",
                "syndicated_from",
                "tags"
            ]
        );
        assert_eq!(
            (&item["id"], &item["title"]),
            (&whole["id"], &whole["title"])
        );
        // Each embedded object: the chosen keys, with the full answer's values.
        let relations = [
            ("authors", &["id", "slug", "name"][..]),
            ("publisher", &["id", "website_url"]),
            ("syndicated_from", &["id", "website_url"]),
            ("tags", &["id", "slug"]),
        ];
        for (relation, chosen) in relations {
            let (some, all) = (&item[relation], &whole[relation]);
            let (some, all) = match (some.as_array(), all.as_array()) {
                (Some(some), Some(all)) => (some.clone(), all.clone()),
                _ => (vec![some.clone()], vec![all.clone()]),
            };
            assert_eq!(some.len(), all.len(), "{relation}");
            assert!(!some.is_empty() && some[0].is_object(), "{relation}");
            for (one, full_one) in some.iter().zip(&all) {
                assert_eq!(keys(one), chosen, "{relation}");
                for key in chosen {
                    assert_eq!(one[*key], full_one[*key], "{relation}.{key}");
                }
            }
        }
        assert_eq!(item["publisher"]["website_url"], "https://wire.example");
        // Relation fields alone: the article keeps every field.
        let relations_only = get(&app, &format!("{path}?{include}&fields[tags]=name"), false).await;
        let item = items(&relations_only)[0].clone();
        assert_eq!(item.len(), items(&full)[0].len());
        assert_eq!(item["title"], items(&full)[0]["title"]);
        assert_eq!(keys(&item["tags"][0]), ["id", "name"]);
        // Naming a relation's fields without `include`: ignored.
        let plain = get(&app, &path, false).await;
        let ignored = get(&app, &format!("{path}?fields[authors]=name"), false).await;
        assert_eq!(ignored.text, plain.text);
    }
}

/// The problem body of a request, without its `request_id` (checked against the header).
async fn problem(app: &TestApp, path: &str) -> Value {
    let resp = app.get(path).await;
    resp.assert_problem(400);
    let mut body = resp.body.clone();
    let named = body.as_object_mut().unwrap().remove("request_id");
    assert_eq!(
        named.as_ref().and_then(Value::as_str),
        resp.header("x-request-id")
    );
    body
}

fn bad_request(field: &str, message: &str) -> Value {
    json!({
        "type": "urn:dispatch:problem:bad-request", "title": "Bad Request", "status": 400,
        "detail": format!("`{field}`: {message}"),
        "errors": [{"field": field, "message": message}],
    })
}

#[tokio::test]
async fn unknown_repeated_or_too_many_names_are_a_400_naming_them() {
    let app = spawn_app().await;
    let (article, _) = newsroom(&app).await;
    let articles = "id, slug, title, subtitle, excerpt, body_markdown, body_html, status, \
                    published_at, dateline, canonical_url, publisher_id, syndicated_from_id, \
                    author_ids, tag_ids, byline, comment_count, reading_time_minutes, \
                    featured_media_id, featured_caption, featured_alt, seo_title, seo_description, \
                    og_title, og_description, language, noindex, url, version, created_at, \
                    updated_at";
    assert_eq!(
        problem(&app, "/api/v1/articles?fields=title,headline,body,headline").await,
        bad_request(
            "fields",
            &format!("unknown fields `headline`, `body`; use any of {articles}")
        )
    );
    assert_eq!(
        problem(
            &app,
            &format!("/api/v1/articles/{article}?fields=title,%20title,id,id")
        )
        .await,
        bad_request(
            "fields",
            &format!("names `title`, `id` more than once; name each of {articles} at most once")
        )
    );
    let tags = "id, slug, name, description, created_at, updated_at";
    assert_eq!(
        problem(
            &app,
            "/api/v1/tags?fields=name,name,name,name,name,name,name"
        )
        .await,
        bad_request(
            "fields",
            &format!("names 7 fields, more than the 6 there are: {tags}")
        )
    );
    assert_eq!(
        problem(
            &app,
            "/api/v1/articles?include=authors&fields[authors]=name,email"
        )
        .await,
        bad_request(
            "fields[authors]",
            "unknown field `email`; use any of id, slug, name, bio, avatar_url, publisher_id, \
             image_media_id, created_at, updated_at"
        )
    );
    // 1,000 names are longer than the parameter may be.
    let thousand = vec!["title"; 1000].join(",");
    for path in [
        "/api/v1/articles".to_string(),
        format!("/api/v1/articles/{article}"),
        "/api/v1/publishers".into(),
        "/api/v1/publishers/wire".into(),
        "/api/v1/authors".into(),
        "/api/v1/authors/jane-doe".into(),
        "/api/v1/tags".into(),
        "/api/v1/tags/energy".into(),
        format!("/api/v1/articles/{article}/comments"),
    ] {
        assert_eq!(
            problem(&app, &format!("{path}?fields={thousand}")).await,
            bad_request("fields", "must be at most 512 characters long"),
            "{path}"
        );
        let resp = app.get(&format!("{path}?fields=nope")).await;
        resp.assert_problem(400).assert_fields(&["fields"]);
    }
    assert_eq!(
        problem(
            &app,
            &format!("/api/v1/articles?fields%5Btags%5D={thousand}")
        )
        .await,
        bad_request("fields[tags]", "must be at most 512 characters long")
    );
    for path in [
        "/api/v1/comments",
        "/api/v1/comments/0190a0b0-0000-7000-8000-000000000001",
    ] {
        let resp = app
            .get_as(&format!("{path}?fields=email"), &app.admin)
            .await;
        resp.assert_problem(400).assert_fields(&["fields"]);
    }
}

#[tokio::test]
async fn without_fields_the_body_is_unchanged_and_a_choice_has_its_own_etag() {
    let app = spawn_app().await;
    let (article, _) = newsroom(&app).await;
    for path in [
        "/api/v1/articles?include=authors,tags".to_string(),
        format!("/api/v1/articles/{article}"),
        "/api/v1/tags".into(),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let full = get(&app, &path, false).await;
        for empty in ["fields=", "fields=%20,%20", "fields[tags]="] {
            let same = get(&app, &format!("{path}{sep}{empty}"), false).await;
            assert_eq!(same.text, full.text, "{path} {empty}");
            assert_eq!(same.header("etag"), full.header("etag"));
        }
        let picked_path = format!("{path}{sep}fields=slug");
        let picked = get(&app, &picked_path, false).await;
        let tag = picked.header("etag").expect("an ETag").to_string();
        assert_ne!(Some(tag.as_str()), full.header("etag"));
        let again = read(
            app.client
                .get(format!("{}{picked_path}", app.base))
                .header("if-none-match", &tag)
                .send()
                .await
                .unwrap(),
        )
        .await;
        again.assert_status(304);
        let full_tag = full.header("etag").unwrap();
        let not_this = read(
            app.client
                .get(format!("{}{picked_path}", app.base))
                .header("if-none-match", full_tag)
                .send()
                .await
                .unwrap(),
        )
        .await;
        not_this.assert_status(200);
    }
}

#[tokio::test]
async fn a_list_reads_only_the_relations_its_fields_need_whatever_the_page_size() {
    // The response cache off: this counts what the handler itself runs.
    let app = spawn_app_with(&[
        ("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1000"),
        ("DISPATCH_CACHE_BYTES", "0"),
    ])
    .await;
    newsroom(&app).await;
    let publisher = app.publisher("Daily").await;
    for i in 0..5 {
        app.article(
            &publisher,
            json!({"title": format!("Story {i}"), "status": "published",
                   "published_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    }
    let statements = |fields: &'static str| {
        let app = &app;
        async move {
            let mut counts = vec![];
            for limit in [1, 6] {
                let before = app.statement_count();
                let resp = app
                    .get(&format!("/api/v1/articles?limit={limit}{fields}"))
                    .await;
                resp.assert_json(200);
                assert_eq!(resp.body["data"].as_array().unwrap().len(), limit);
                counts.push(app.statement_count() - before);
            }
            assert_eq!(counts[0], counts[1], "{fields}: {counts:?}");
            counts[0]
        }
    };
    // The articles, then the byline rows, the tag rows, the publishers.
    assert_eq!(statements("").await, 4);
    assert_eq!(statements("&fields=title,excerpt,published_at").await, 1);
    assert_eq!(statements("&fields=author_ids").await, 2);
    assert_eq!(statements("&fields=tag_ids").await, 2);
    assert_eq!(statements("&fields=byline").await, 3);
    // What `include` embeds is read whatever `fields` says.
    assert_eq!(statements("&fields=title&include=tags").await, 3);
}
