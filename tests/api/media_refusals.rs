//! What the media library refuses besides uploads: malformed metadata changes, file
//! names that are no rendition of the asset, deleting an asset while stories,
//! authors or publishers use it, and stories naming assets that do not exist.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use dispatch::media::fixtures;

use crate::helpers::{TestApp, spawn_app};
use crate::media::{fetch, upload};

/// Uploads a distinct photo (1200 x 800 unless `variant` makes another) and returns its id.
pub async fn photo(app: &TestApp, variant: u32) -> String {
    let resp = upload(app, &app.admin, fixtures::scene_jpeg(1200, 800, variant)).await;
    resp.assert_json(201);
    resp.id()
}

#[tokio::test]
async fn a_patch_with_a_focal_point_outside_0_to_1_or_an_unknown_field_is_a_400() {
    let app = spawn_app().await;
    let id = photo(&app, 1).await;
    let path = format!("/api/v1/media/{id}");
    for (body, field) in [
        (
            json!({"focal_point": {"x": 1.5, "y": 0.5}}),
            "focal_point.x",
        ),
        (
            json!({"focal_point": {"x": -0.1, "y": 0.5}}),
            "focal_point.x",
        ),
        (json!({"focal_point": {"x": 0.5, "y": 2}}), "focal_point.y"),
        (json!({"photographer": "Sam"}), "photographer"),
    ] {
        let resp = app.patch(&path, body.clone()).await;
        resp.assert_problem(400).assert_fields(&[field]);
    }
    let after = app.get(&path).await;
    after.assert_json(200);
    assert_eq!(after.body["version"], 1);
    assert_eq!(after.body["focal_point"], json!({"x": 0.5, "y": 0.5}));
}

#[tokio::test]
async fn file_names_that_are_no_rendition_of_the_asset_are_404_problems() {
    let app = spawn_app().await;
    let id = photo(&app, 2).await;
    let random = Uuid::now_v7();
    for path in [
        format!("/media/{id}/w1000.webp"),
        format!("/media/{id}/w1024.gif"),
        format!("/media/{id}/square.webp"),
        format!("/media/{random}/w320.webp"),
        format!("/media/{id}/..%2F..%2Fetc%2Fpasswd"),
        format!("/media/{id}/original.webp"),
        // Wider than the original (1200): never upscaled.
        format!("/media/{id}/w1600.webp"),
        // A crop at a focal point the asset does not have.
        format!("/media/{id}/square-100-100.webp"),
    ] {
        let resp = crate::helpers::read(fetch(&app, &path, &[]).await).await;
        resp.assert_problem(404).assert_detail(
            "No asset has this id, or it has no rendition of this name: the names are in the \
             asset's `renditions`.",
        );
    }
    // A path whose id is not a UUID at all is a 400 naming the parameter.
    let resp = crate::helpers::read(fetch(&app, "/media/not-a-uuid/x.webp", &[]).await).await;
    resp.assert_problem(400).assert_fields(&["id"]);
    // None of them left a file behind.
    let files: Vec<_> = std::fs::read_dir(app.media_dir.join(&id))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, ["original.jpg"]);
}

#[tokio::test]
async fn an_asset_in_use_is_kept_with_a_409_naming_its_users_until_all_let_go() {
    let app = spawn_app().await;
    let id = photo(&app, 3).await;
    let publisher = app.publisher("Ledger").await;
    let featuring = app
        .article(
            &publisher,
            json!({"title": "Featuring", "featured_media_id": id}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let showing = app
        .article(
            &publisher,
            json!({"title": "Showing", "body_markdown": format!("Look.\n\n![a](media:{id})")}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let author = app
        .create(
            "/api/v1/authors",
            json!({"name": "Ann Portrait", "image_media_id": id}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Its files exist: the original and a rendition.
    assert_eq!(
        fetch(&app, &format!("/media/{id}/w320.webp"), &[])
            .await
            .status(),
        200
    );
    assert!(app.media_dir.join(&id).join("w320.webp").exists());
    let path = format!("/api/v1/media/{id}");
    let refused = app.delete(&path).await;
    refused.assert_problem(409).assert_fields(&["id"]);
    let detail = refused.body["detail"].as_str().unwrap();
    for named in [
        format!("article {featuring} (Featuring)"),
        format!("article {showing} (Showing)"),
        format!("author {author} (Ann Portrait)"),
    ] {
        assert!(detail.contains(&named), "{named} in {detail}");
    }
    // Let go one at a time: in use until the last.
    app.patch(
        &format!("/api/v1/articles/{featuring}"),
        json!({"featured_media_id": null}),
    )
    .await
    .assert_json(200);
    app.patch(
        &format!("/api/v1/articles/{showing}"),
        json!({"body_markdown": "No photo now."}),
    )
    .await
    .assert_json(200);
    let still = app.delete(&path).await;
    still
        .assert_problem(409)
        .assert_fields(&["id"])
        .assert_detail(&format!(
            "`id`: the asset is in use; remove it from these first: author {author} (Ann Portrait)"
        ));
    app.patch(
        &format!("/api/v1/authors/{author}"),
        json!({"image_media_id": null}),
    )
    .await
    .assert_json(200);
    app.delete(&path).await.assert_status(204);
    app.get(&path).await.assert_problem(404);
    assert!(
        !app.media_dir.join(&id).exists(),
        "the asset's files are gone"
    );
    let gone = fetch(&app, &format!("/media/{id}/w320.webp"), &[]).await;
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn a_story_naming_an_asset_that_does_not_exist_is_a_422_on_that_field() {
    let app = spawn_app().await;
    let publisher = app.publisher("Ledger").await;
    let unknown = Uuid::now_v7();
    let cases = [
        (
            json!({"featured_media_id": unknown}),
            "featured_media_id",
            "`featured_media_id`: no media asset has this id".to_string(),
        ),
        (
            json!({"body_markdown": format!("![a](media:{unknown})")}),
            "body_markdown",
            format!("`body_markdown`: no media asset has the id {unknown}"),
        ),
        (
            json!({"body_markdown": "![a](media:nope)"}),
            "body_markdown",
            "`body_markdown`: names media by malformed ids (`media:` takes an asset's id): \
             media:nope"
                .to_string(),
        ),
    ];
    for (extra, field, detail) in &cases {
        let mut body = json!({"title": "Broken", "publisher_id": publisher});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let resp = app
            .send(
                Method::POST,
                "/api/v1/articles",
                Some(&app.admin),
                Some(body),
            )
            .await;
        resp.assert_problem(422)
            .assert_fields(&[field])
            .assert_detail(detail);
    }
    let list = app
        .get_as("/api/v1/articles?count=true&status=draft", &app.admin)
        .await;
    assert_eq!(list.body["meta"]["total"], 0, "{}", list.text);
}
