use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_tag_is_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let resp = app
        .post(
            "/api/v1/tags",
            json!({"name": "Local politics", "description": "City hall."}),
        )
        .await;
    resp.assert_status(201);
    let id = resp.id();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/tags/{id}").as_str())
    );
    assert_eq!(resp.body["slug"], "local-politics");
    assert_eq!(
        app.get("/api/v1/tags/local-politics").await.body,
        app.get(&format!("/api/v1/tags/{id}")).await.body
    );

    let updated = app
        .patch(
            "/api/v1/tags/local-politics",
            json!({"name": "Politics", "slug": "politics"}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["name"], "Politics");
    assert_eq!(updated.body["description"], "City hall.");
    app.get("/api/v1/tags/local-politics")
        .await
        .assert_problem(404);

    app.delete("/api/v1/tags/politics").await.assert_status(204);
    app.get(&format!("/api/v1/tags/{id}"))
        .await
        .assert_problem(404);
    app.delete(&format!("/api/v1/tags/{id}"))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn deleting_a_tag_removes_it_from_its_articles() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let t1 = app.tag("Climate").await;
    let t2 = app.tag("Transport").await;
    let a = app.article(&p, json!({"tag_ids": [t1, t2]})).await;
    app.delete(&format!("/api/v1/tags/{t1}"))
        .await
        .assert_status(204);
    let after = app
        .get_as(
            &format!("/api/v1/articles/{}", a["id"].as_str().unwrap()),
            &app.admin,
        )
        .await;
    assert_eq!(after.body["tag_ids"], json!([t2]));
}
