use serde_json::json;

use crate::helpers::{ids, spawn_app};

#[tokio::test]
async fn an_author_is_created_with_an_affiliation_read_updated_and_deleted() {
    let app = spawn_app().await;
    let p = app.publisher("The Valley Signal").await;
    let resp = app
        .post(
            "/api/v1/authors",
            json!({"name": "Maren Okafor", "bio": "Covers city hall.", "avatar_url": "https://cdn.example/m.jpg", "publisher_id": p}),
        )
        .await;
    resp.assert_status(201);
    let id = resp.id();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/authors/{id}").as_str())
    );
    assert_eq!(resp.body["slug"], "maren-okafor");
    assert_eq!(resp.body["publisher_id"], json!(p));

    let by_slug = app.get("/api/v1/authors/maren-okafor").await;
    assert_eq!(
        by_slug.body,
        app.get(&format!("/api/v1/authors/{id}")).await.body
    );

    let freelance = app
        .patch(
            &format!("/api/v1/authors/{id}"),
            json!({"publisher_id": null, "bio": "Freelance."}),
        )
        .await;
    freelance.assert_status(200);
    assert_eq!(freelance.body["publisher_id"], json!(null));
    assert_eq!(freelance.body["bio"], "Freelance.");
    assert_eq!(freelance.body["avatar_url"], "https://cdn.example/m.jpg");

    app.delete(&format!("/api/v1/authors/{id}"))
        .await
        .assert_status(204);
    app.get("/api/v1/authors/maren-okafor")
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn an_unknown_publisher_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::now_v7();
    app.post(
        "/api/v1/authors",
        json!({"name": "X", "publisher_id": missing}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["publisher_id"]);
    let a = app.author("Y").await;
    app.patch(
        &format!("/api/v1/authors/{a}"),
        json!({"publisher_id": missing}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["publisher_id"]);
}

#[tokio::test]
async fn authors_are_filtered_by_publisher_id_or_slug() {
    let app = spawn_app().await;
    let ledger = app
        .create("/api/v1/publishers", json!({"name": "Ledger"}))
        .await;
    let lid = ledger["id"].as_str().unwrap();
    let a = app
        .create("/api/v1/authors", json!({"name": "A", "publisher_id": lid}))
        .await;
    app.author("B").await;
    let by_id = app.get(&format!("/api/v1/authors?publisher={lid}")).await;
    assert_eq!(ids(&by_id), vec![a["id"].as_str().unwrap()]);
    let by_slug = app.get("/api/v1/authors?publisher=ledger").await;
    assert_eq!(ids(&by_slug), ids(&by_id));
    // A publisher that does not exist is named in a 422 (see listing.rs).
    app.get("/api/v1/authors?publisher=nobody")
        .await
        .assert_problem(422)
        .assert_fields(&["publisher"]);
}

#[tokio::test]
async fn an_author_in_a_byline_cannot_be_deleted_and_deleting_a_publisher_keeps_its_authors() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let other = app.publisher("Other").await;
    let a = app
        .create(
            "/api/v1/authors",
            json!({"name": "A", "publisher_id": other}),
        )
        .await;
    let aid = a["id"].as_str().unwrap();
    app.article(&p, json!({"author_ids": [aid]})).await;
    app.delete(&format!("/api/v1/authors/{aid}"))
        .await
        .assert_problem(409)
        .assert_fields(&["id"]);

    app.delete(&format!("/api/v1/publishers/{other}"))
        .await
        .assert_status(204);
    let after = app.get(&format!("/api/v1/authors/{aid}")).await;
    after.assert_status(200);
    assert_eq!(after.body["publisher_id"], json!(null));
}
