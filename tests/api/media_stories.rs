//! Photos where stories and people use them: figures in bodies (their srcset, alt,
//! caption and credit line, rendered again when the asset's credits change), the
//! sanitiser's rule for `srcset` in raw HTML, a story's own featured caption and alt
//! text, and authors' and publishers' images.

use serde_json::{Value, json};
use uuid::Uuid;

use dispatch::media::fixtures;

use crate::helpers::{TestApp, spawn_app};
use crate::media::{Part, upload_form};

/// An asset with these credits; its id.
async fn credited(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let mut parts = vec![Part::file(
        "file",
        "a.jpg",
        fixtures::sample_jpeg(1600, 1200),
    )];
    parts.extend(fields.iter().map(|(k, v)| Part::text(k, v)));
    let resp = upload_form(app, &app.admin, &parts).await;
    resp.assert_json(201);
    resp.id()
}

async fn body_html(app: &TestApp, article: &str) -> String {
    let resp = app
        .get_as(&format!("/api/v1/articles/{article}"), &app.admin)
        .await;
    resp.assert_json(200);
    resp.body["body_html"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_media_image_in_a_body_is_a_figure_whose_credit_follows_the_asset() {
    let app = spawn_app().await;
    let id = credited(
        &app,
        &[
            ("credit", "Maren Okafor"),
            ("source", "The Harbor City Ledger"),
            ("alt_text", "Asset alt"),
            ("caption", "Asset caption"),
        ],
    )
    .await;
    let publisher = app.publisher("Ledger").await;
    let own = app
        .article(
            &publisher,
            json!({"body_markdown": format!("Before.\n\n![Waves on the wall](media:{id} \"The wall at dawn\")")}),
        )
        .await;
    let plain = app
        .article(
            &publisher,
            json!({"body_markdown": format!("![](media:{id})")}),
        )
        .await;
    let html = own["body_html"].as_str().unwrap();
    let srcset = format!(
        "/media/{id}/w320.webp 320w, /media/{id}/w640.webp 640w, /media/{id}/w1024.webp 1024w"
    );
    assert!(
        html.contains(&format!(
            "<figure class=\"media\"><img src=\"/media/{id}/w1024.webp\" srcset=\"{srcset}\""
        )),
        "{html}"
    );
    assert!(html.contains("alt=\"Waves on the wall\""), "{html}");
    assert!(
        html.contains(
            "<figcaption>The wall at dawn <span class=\"credit\">Photo: Maren Okafor / The Harbor \
             City Ledger</span></figcaption></figure>"
        ),
        "{html}"
    );
    let html = plain["body_html"].as_str().unwrap();
    assert!(html.contains("alt=\"Asset alt\""), "{html}");
    assert!(html.contains("<figcaption>Asset caption <span"), "{html}");
    // New credits and caption on the asset: both bodies show them; the Markdown's
    // own caption stays.
    app.patch(
        &format!("/api/v1/media/{id}"),
        json!({"credit": "Sam Roe", "caption": "New asset caption"}),
    )
    .await
    .assert_json(200);
    let html = body_html(&app, own["id"].as_str().unwrap()).await;
    assert!(
        html.contains(
            "<figcaption>The wall at dawn <span class=\"credit\">Photo: Sam Roe / The Harbor City \
             Ledger</span>"
        ),
        "{html}"
    );
    let html = body_html(&app, plain["id"].as_str().unwrap()).await;
    assert!(
        html.contains("<figcaption>New asset caption <span class=\"credit\">Photo: Sam Roe /"),
        "{html}"
    );
    assert!(!html.contains("Maren"), "{html}");
}

#[tokio::test]
async fn raw_html_keeps_a_srcset_only_when_it_names_this_servers_media() {
    let app = spawn_app().await;
    let publisher = app.publisher("Ledger").await;
    let hostile = app
        .article(
            &publisher,
            json!({"body_markdown": "<img src=\"/a.png\" srcset=\"javascript:alert(1)\" alt=\"x\">"}),
        )
        .await;
    let html = hostile["body_html"].as_str().unwrap();
    assert!(html.contains("<img"), "{html}");
    assert!(!html.contains("srcset"), "{html}");
    assert!(!html.contains("javascript"), "{html}");
    let mixed = app
        .article(
            &publisher,
            json!({"body_markdown": "<img src=\"/a.png\" srcset=\"/media/x 1w, https://evil.example/y 2w\">"}),
        )
        .await;
    assert!(!mixed["body_html"].as_str().unwrap().contains("srcset"));
    let own = app
        .article(
            &publisher,
            json!({"body_markdown": "<img src=\"/a.png\" srcset=\"/media/x 1w\">"}),
        )
        .await;
    let html = own["body_html"].as_str().unwrap();
    assert!(html.contains("srcset=\"/media/x 1w\""), "{html}");
}

#[tokio::test]
async fn a_story_has_its_own_featured_caption_and_alt_and_null_clears_them() {
    let app = spawn_app().await;
    let id = credited(&app, &[("caption", "Asset caption")]).await;
    let publisher = app.publisher("Ledger").await;
    let article = app
        .article(
            &publisher,
            json!({"featured_media_id": id, "featured_caption": "Our caption", "featured_alt": "Our alt"}),
        )
        .await;
    assert_eq!(article["featured_caption"], "Our caption");
    assert_eq!(article["featured_alt"], "Our alt");
    let path = format!("/api/v1/articles/{}", article["id"].as_str().unwrap());
    let read = app
        .get_as(&format!("{path}?include=featured_media"), &app.admin)
        .await;
    read.assert_json(200);
    assert_eq!(read.body["featured_media_id"], id.as_str());
    assert_eq!(read.body["featured_media"]["caption"], "Asset caption");
    assert_eq!(read.body["featured_caption"], "Our caption");
    let cleared = app
        .patch(
            &path,
            json!({"featured_caption": null, "featured_alt": null}),
        )
        .await;
    cleared.assert_json(200);
    assert_eq!(cleared.body["featured_caption"], Value::Null);
    assert_eq!(cleared.body["featured_alt"], Value::Null);
    assert_eq!(cleared.body["featured_media_id"], id.as_str());
    let unfeatured = app.patch(&path, json!({"featured_media_id": null})).await;
    unfeatured.assert_json(200);
    assert_eq!(unfeatured.body["featured_media_id"], Value::Null);
}

#[tokio::test]
async fn authors_and_publishers_take_an_image_and_null_clears_it() {
    let app = spawn_app().await;
    let id = credited(&app, &[]).await;
    let unknown = Uuid::now_v7();
    for resource in ["authors", "publishers"] {
        let list = format!("/api/v1/{resource}");
        let created = app
            .post(
                &list,
                json!({"name": format!("With image {resource}"), "image_media_id": id}),
            )
            .await;
        created.assert_json(201);
        assert_eq!(created.body["image_media_id"], id.as_str());
        let refused = app
            .post(
                &list,
                json!({"name": format!("Unknown {resource}"), "image_media_id": unknown}),
            )
            .await;
        refused
            .assert_problem(422)
            .assert_fields(&["image_media_id"])
            .assert_detail("`image_media_id`: no media asset has this id");
        let path = format!("{list}/{}", created.id());
        let unknown_patch = app.patch(&path, json!({"image_media_id": unknown})).await;
        unknown_patch
            .assert_problem(422)
            .assert_fields(&["image_media_id"]);
        let cleared = app.patch(&path, json!({"image_media_id": null})).await;
        cleared.assert_json(200);
        assert_eq!(cleared.body["image_media_id"], Value::Null);
    }
    // Nothing uses it now.
    app.delete(&format!("/api/v1/media/{id}"))
        .await
        .assert_status(204);
}
