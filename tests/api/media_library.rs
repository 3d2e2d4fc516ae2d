//! The media library's list: its filters (type, uploader, words of the credits and
//! captions, unused), keyset paging that never repeats or skips, `count` and
//! `fields`; and `include=featured_media` on article lists costing one statement
//! whatever the page size.

use std::collections::HashSet;

use dispatch::auth::Role;
use dispatch::media::fixtures;
use serde_json::json;

use crate::helpers::{TestApp, field, ids, spawn_app};
use crate::media::{Part, upload, upload_form};

/// The ids the library lists for `query`, as the admin (asserting a 200 list).
async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let resp = app
        .get_as(&format!("/api/v1/media?limit=100&{query}"), &app.admin)
        .await;
    resp.assert_json(200);
    ids(&resp)
}

/// A small distinct PNG (its width makes it distinct).
fn png(n: u32) -> Vec<u8> {
    fixtures::sample_png(40 + n, 30)
}

#[tokio::test]
async fn the_library_filters_by_type_uploader_words_and_use() {
    let app = spawn_app().await;
    let contributor = app.user(Role::Contributor, None).await;
    let jpeg = upload_form(
        &app,
        &app.admin,
        &[
            Part::file("file", "a.jpg", fixtures::sample_jpeg(200, 100)),
            Part::text("caption", "Firefighters at the harbour"),
            Part::text("credit", "Maren Okafor"),
        ],
    )
    .await
    .id();
    let png_id = upload_form(
        &app,
        &contributor.token,
        &[
            Part::file("file", "b.png", png(1)),
            Part::text("alt_text", "A lighthouse in fog"),
            Part::text("source", "Coastal Wire"),
        ],
    )
    .await
    .id();
    let gif = upload(&app, &app.admin, fixtures::sample_gif(60, 40))
        .await
        .id();
    let webp = upload(&app, &app.admin, fixtures::sample_webp(60, 40))
        .await
        .id();
    // Newest first.
    assert_eq!(
        listed(&app, "").await,
        [&webp, &gif, &png_id, &jpeg].map(String::clone)
    );
    assert_eq!(listed(&app, "type=image/jpeg").await, vec![jpeg.clone()]);
    assert_eq!(listed(&app, "type=image/png").await, vec![png_id.clone()]);
    assert_eq!(listed(&app, "type=image/gif").await, vec![gif.clone()]);
    assert_eq!(listed(&app, "type=image/webp").await, vec![webp.clone()]);
    let by = format!("uploaded_by={}", contributor.id);
    assert_eq!(listed(&app, &by).await, vec![png_id.clone()]);
    // Words that start words, in each searched field, all of them.
    assert_eq!(listed(&app, "q=fire").await, vec![jpeg.clone()]);
    assert_eq!(listed(&app, "q=harb").await, vec![jpeg.clone()]);
    assert_eq!(listed(&app, "q=okaf").await, vec![jpeg.clone()]);
    assert_eq!(listed(&app, "q=lighthou").await, vec![png_id.clone()]);
    assert_eq!(listed(&app, "q=coastal").await, vec![png_id.clone()]);
    assert_eq!(listed(&app, "q=maren%20harbour").await, vec![jpeg.clone()]);
    assert!(listed(&app, "q=maren%20coastal").await.is_empty());
    // A word inside a word does not match.
    assert!(listed(&app, "q=ighthouse").await.is_empty());
    // In use: featured by a story, or an author's portrait.
    let publisher = app.publisher("Ledger").await;
    app.article(&publisher, json!({"featured_media_id": jpeg}))
        .await;
    app.create(
        "/api/v1/authors",
        json!({"name": "Gif Portrait", "image_media_id": gif}),
    )
    .await;
    assert_eq!(
        listed(&app, "unused=true").await,
        vec![webp.clone(), png_id.clone()]
    );
    assert_eq!(
        listed(&app, "unused=false").await,
        [gif.clone(), jpeg.clone()]
    );
    assert_eq!(
        listed(&app, "unused=true&type=image/png").await,
        vec![png_id]
    );
    // A bad filter is a 400 naming it.
    let bad = app.get_as("/api/v1/media?type=image/svg", &app.admin).await;
    bad.assert_problem(400).assert_fields(&["type"]);
}

#[tokio::test]
async fn keyset_pages_of_the_library_never_repeat_or_skip_and_count_and_fields_work() {
    let app = spawn_app().await;
    let mut uploaded = Vec::new();
    for n in 0..25 {
        let resp = upload(&app, &app.admin, png(n)).await;
        resp.assert_json(201);
        uploaded.push(resp.id());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut sizes = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/media?limit=10&count=true&cursor={c}"),
            None => "/api/v1/media?limit=10&count=true".to_string(),
        };
        let page = app.get_as(&path, &app.admin).await;
        page.assert_json(200);
        assert_eq!(page.body["meta"]["total"], 25, "{}", page.text);
        let page_ids = ids(&page);
        sizes.push(page_ids.len());
        seen.extend(page_ids);
        match page.body["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), 25, "no repeats");
    uploaded.reverse();
    assert_eq!(seen, uploaded, "newest first, none skipped");
    // Only the fields asked for (and the id).
    let picked = app
        .get_as("/api/v1/media?limit=3&fields=width,credit", &app.admin)
        .await;
    picked.assert_json(200);
    for item in picked.body["data"].as_array().unwrap() {
        let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["credit", "id", "width"], "{item}");
    }
    assert_eq!(field(&picked, "width")[0], json!(64));
    let bad = app
        .get_as("/api/v1/media?fields=width,gps", &app.admin)
        .await;
    bad.assert_problem(400).assert_fields(&["fields"]);
}

#[tokio::test]
async fn featured_photos_of_1_or_30_articles_cost_the_same_statements() {
    let app = spawn_app().await;
    let publisher = app.publisher("Ledger").await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    for n in 0..30 {
        let photo = upload(&app, &app.admin, png(n)).await.id();
        app.article(
            &publisher,
            json!({"title": format!("Story {n}"), "status": "published",
                   "published_at": published_at, "featured_media_id": photo}),
        )
        .await;
    }
    // A first read does its one-time work (not what is measured).
    app.get("/api/v1/articles?limit=1").await.assert_json(200);
    let mut counts = Vec::new();
    for limit in [1, 30] {
        let before = app.statement_count();
        let resp = app
            .get(&format!(
                "/api/v1/articles?limit={limit}&include=featured_media&fields=title"
            ))
            .await;
        counts.push(app.statement_count() - before);
        resp.assert_json(200);
        let data = resp.body["data"].as_array().unwrap();
        assert_eq!(data.len(), limit);
        for article in data {
            let media = &article["featured_media"];
            assert!(
                media["srcset"]
                    .as_str()
                    .is_some_and(|s| s.contains("/media/")),
                "{article}"
            );
        }
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    // The articles, then the assets: one statement more than without the include.
    let before = app.statement_count();
    app.get("/api/v1/articles?limit=30&fields=title")
        .await
        .assert_json(200);
    assert_eq!(counts[1], app.statement_count() - before + 1);
}
