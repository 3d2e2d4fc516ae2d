use serde_json::json;

use crate::helpers::{ids, spawn_app};

#[tokio::test]
async fn a_publisher_is_created_read_by_id_and_slug_updated_and_deleted() {
    let app = spawn_app().await;
    let resp = app
        .post(
            "/api/v1/publishers",
            json!({"name": "The Harbor City Ledger", "description": "A daily.", "website_url": "https://ledger.example"}),
        )
        .await;
    resp.assert_status(201);
    let id = resp.id();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/publishers/{id}").as_str())
    );
    assert_eq!(resp.body["slug"], "the-harbor-city-ledger");
    assert_eq!(resp.body["description"], "A daily.");
    assert_eq!(resp.body["website_url"], "https://ledger.example");

    let by_id = app.get(&format!("/api/v1/publishers/{id}")).await;
    by_id.assert_status(200);
    let by_slug = app.get("/api/v1/publishers/the-harbor-city-ledger").await;
    assert_eq!(by_slug.body, by_id.body);

    let updated = app
        .patch(
            &format!("/api/v1/publishers/{id}"),
            json!({"name": "The Ledger", "description": null}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["name"], "The Ledger");
    assert_eq!(updated.body["description"], json!(null));
    assert_eq!(
        updated.body["website_url"], "https://ledger.example",
        "untouched fields stay"
    );
    assert_eq!(
        updated.body["slug"], "the-harbor-city-ledger",
        "a rename keeps the slug"
    );

    let renamed = app
        .patch(
            &format!("/api/v1/publishers/{id}"),
            json!({"slug": "ledger"}),
        )
        .await;
    assert_eq!(renamed.body["slug"], "ledger");
    app.get("/api/v1/publishers/ledger")
        .await
        .assert_status(200);

    app.delete("/api/v1/publishers/ledger")
        .await
        .assert_status(204);
    app.get(&format!("/api/v1/publishers/{id}"))
        .await
        .assert_problem(404)
        .assert_detail("No publisher has this id or slug.");
}

#[tokio::test]
async fn generated_slugs_get_suffixes_on_collision() {
    let app = spawn_app().await;
    let mut slugs = Vec::new();
    for _ in 0..3 {
        slugs.push(
            app.create("/api/v1/publishers", json!({"name": "Northlight Wire"}))
                .await["slug"]
                .clone(),
        );
    }
    assert_eq!(
        slugs,
        vec![
            json!("northlight-wire"),
            json!("northlight-wire-2"),
            json!("northlight-wire-3")
        ]
    );
    let unicode = app
        .create(
            "/api/v1/publishers",
            json!({"name": "Le Télégramme d'Évreux"}),
        )
        .await;
    assert_eq!(unicode["slug"], "le-telegramme-d-evreux");
    let symbols = app
        .create("/api/v1/publishers", json!({"name": "!!!"}))
        .await;
    assert_eq!(symbols["slug"], "untitled");
}

#[tokio::test]
async fn an_explicit_slug_that_is_taken_is_a_409_naming_the_field() {
    let app = spawn_app().await;
    app.create("/api/v1/publishers", json!({"name": "A", "slug": "wire"}))
        .await;
    app.post("/api/v1/publishers", json!({"name": "B", "slug": "wire"}))
        .await
        .assert_problem(409)
        .assert_fields(&["slug"]);
    let b = app.create("/api/v1/publishers", json!({"name": "B"})).await;
    app.patch(
        &format!("/api/v1/publishers/{}", b["id"].as_str().unwrap()),
        json!({"slug": "wire"}),
    )
    .await
    .assert_problem(409)
    .assert_fields(&["slug"]);
}

#[tokio::test]
async fn a_publisher_with_articles_cannot_be_deleted() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    app.article(&p, json!({})).await;
    app.delete(&format!("/api/v1/publishers/{p}"))
        .await
        .assert_problem(409)
        .assert_fields(&["id"]);
    app.get(&format!("/api/v1/publishers/{p}"))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn publishers_are_listed_by_name_both_ways_with_a_total() {
    let app = spawn_app().await;
    for name in ["Charlie", "alpha", "Bravo"] {
        app.publisher(name).await;
    }
    let resp = app.get("/api/v1/publishers?count=true").await;
    resp.assert_status(200);
    let names: Vec<_> = resp.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    // Byte order: upper case sorts before lower case on both backends' default collations
    // is not guaranteed, so only check that the two directions are exact reverses.
    let desc = app.get("/api/v1/publishers?sort=-name").await;
    let mut reversed: Vec<_> = desc.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    reversed.reverse();
    assert_eq!(names, reversed);
    assert_eq!(resp.body["meta"]["total"], 3);
    assert_eq!(resp.body["meta"]["limit"], 20);
    assert_eq!(resp.body["meta"]["next_cursor"], json!(null));

    let first = app.get("/api/v1/publishers?limit=2").await;
    assert_eq!(ids(&first).len(), 2);
    // `total` comes only on request.
    first.assert_absent(200, "/meta", "total");
    let cursor = first.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let second = app
        .get(&format!("/api/v1/publishers?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&second).len(), 1);
    assert_eq!(second.body["meta"]["next_cursor"], json!(null));
    let mut all = ids(&first);
    all.extend(ids(&second));
    assert_eq!(all, ids(&resp));
}
