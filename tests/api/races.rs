//! Conflicting requests fired together, many times: a row deleted under an update
//! is a 404 (never a 500), concurrent moderations leave the right comment count,
//! and concurrent creates of one name all get a slug of their own.

use std::collections::HashSet;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, spawn_app_with};

async fn spawn_app() -> TestApp {
    spawn_app_with(&[("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "100000")]).await
}

/// A published article whose time has come.
async fn public_article(app: &TestApp, title: &str) -> String {
    let publisher = app.publisher(&format!("{title} Press")).await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    app.article(
        &publisher,
        json!({"title": title, "status": "published", "published_at": published_at}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A pending comment on `article`; its id.
async fn comment(app: &TestApp, article: &str, n: usize) -> String {
    let resp = app
        .send(
            Method::POST,
            &format!("/api/v1/articles/{article}/comments"),
            None,
            Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": format!("Comment {n}")})),
        )
        .await;
    resp.assert_status(201);
    resp.id()
}

/// Fires a PATCH and a DELETE of `path` together; the answers must be clean.
async fn patch_and_delete(app: &TestApp, path: &str, patch: Value) -> (Resp, Resp) {
    let (patched, deleted) = futures_util::join!(app.patch(path, patch), app.delete(path));
    assert!(
        [200, 404].contains(&patched.status.as_u16()),
        "PATCH {path}: {} {}",
        patched.status,
        patched.text
    );
    if patched.status == 404 {
        patched.assert_problem(404);
    }
    deleted.assert_status(204);
    app.get_as(path, &app.admin).await.assert_problem(404);
    (patched, deleted)
}

const ROUNDS: usize = 20;

#[tokio::test]
async fn a_comment_deleted_under_its_moderation_is_a_404_never_a_500() {
    let app = spawn_app().await;
    let article = public_article(&app, "Raced").await;
    for n in 0..ROUNDS {
        let id = comment(&app, &article, n).await;
        patch_and_delete(
            &app,
            &format!("/api/v1/comments/{id}"),
            json!({"status": "approved"}),
        )
        .await;
    }
    // Nothing approved is left, whichever request won each round.
    let read = app.get(&format!("/api/v1/articles/{article}")).await;
    read.assert_status(200);
    assert_eq!(read.body["comment_count"], 0);
}

#[tokio::test]
async fn tags_publishers_and_authors_deleted_under_an_update_are_a_404_never_a_500() {
    let app = spawn_app().await;
    for n in 0..ROUNDS {
        let tag = app.tag(&format!("Tag {n}")).await;
        patch_and_delete(
            &app,
            &format!("/api/v1/tags/{tag}"),
            json!({"name": "Renamed", "description": "x"}),
        )
        .await;
        let publisher = app.publisher(&format!("Publisher {n}")).await;
        patch_and_delete(
            &app,
            &format!("/api/v1/publishers/{publisher}"),
            json!({"name": "Renamed", "website_url": "https://example.com"}),
        )
        .await;
        let author = app.author(&format!("Author {n}")).await;
        patch_and_delete(
            &app,
            &format!("/api/v1/authors/{author}"),
            json!({"name": "Renamed", "bio": "x"}),
        )
        .await;
    }
}

#[tokio::test]
async fn thirty_parallel_approvals_count_thirty_comments() {
    let app = spawn_app().await;
    for round in 0..10 {
        let article = public_article(&app, &format!("Counted {round}")).await;
        let mut ids = Vec::new();
        for n in 0..30 {
            ids.push(comment(&app, &article, n).await);
        }
        let paths: Vec<String> = ids
            .iter()
            .map(|id| format!("/api/v1/comments/{id}"))
            .collect();
        let answers = join_all(
            paths
                .iter()
                .map(|path| app.patch(path, json!({"status": "approved"}))),
        )
        .await;
        for answer in &answers {
            answer.assert_status(200);
        }
        let read = app.get(&format!("/api/v1/articles/{article}")).await;
        read.assert_status(200);
        assert_eq!(read.body["comment_count"], 30, "round {round}");
        let listed = app
            .get(&format!(
                "/api/v1/articles/{article}/comments?count=true&limit=1"
            ))
            .await;
        listed.assert_status(200);
        assert_eq!(listed.body["meta"]["total"], 30, "round {round}");
    }
}

/// Fires 50 creates of one name with no slug at `path`; all must be 201 with 50
/// distinct slugs made from the name.
async fn fifty_creates(app: &TestApp, path: &str, body: Value, base: &str) {
    let answers = join_all((0..50).map(|_| app.post(path, body.clone()))).await;
    let mut slugs = HashSet::new();
    for answer in &answers {
        assert_eq!(answer.status, 201, "POST {path}: {}", answer.text);
        let slug = answer.body["slug"].as_str().unwrap().to_string();
        assert!(
            slug == base || slug.starts_with(&format!("{base}-")),
            "{slug}"
        );
        slugs.insert(slug);
    }
    assert_eq!(slugs.len(), 50, "{path}: {slugs:?}");
    assert!(
        slugs.contains(base),
        "{path}: the first one takes the name itself"
    );
}

#[tokio::test]
async fn fifty_concurrent_tags_of_one_name_all_get_a_slug_of_their_own() {
    let app = spawn_app().await;
    fifty_creates(&app, "/api/v1/tags", json!({"name": "Harbor"}), "harbor").await;
    // Only a slug the client sent can be refused as taken.
    app.post("/api/v1/tags", json!({"name": "Other", "slug": "harbor"}))
        .await
        .assert_problem(409)
        .assert_fields(&["slug"]);
}

#[tokio::test]
async fn fifty_concurrent_publishers_of_one_name_all_get_a_slug_of_their_own() {
    let app = spawn_app().await;
    let body = json!({"name": "Harbor Press"});
    fifty_creates(&app, "/api/v1/publishers", body, "harbor-press").await;
}

#[tokio::test]
async fn fifty_concurrent_authors_of_one_name_all_get_a_slug_of_their_own() {
    let app = spawn_app().await;
    fifty_creates(
        &app,
        "/api/v1/authors",
        json!({"name": "Ann Lee"}),
        "ann-lee",
    )
    .await;
}

#[tokio::test]
async fn fifty_concurrent_articles_of_one_title_all_get_a_slug_of_their_own() {
    let app = spawn_app().await;
    let publisher = app.publisher("Ledger").await;
    let body =
        json!({"title": "Council votes", "body_markdown": "Text.", "publisher_id": publisher});
    fifty_creates(&app, "/api/v1/articles", body, "council-votes").await;
}
