//! The media library over HTTP: uploads (a form or a raw body), the news metadata
//! taken from the file's IPTC, deduplication, the renditions served immutable, the
//! privacy rule on served files, featured photos and photos in bodies, and every
//! bad upload refused with its exact problem.

use dispatch::media::fixtures;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, read, spawn_app};

/// One part of a hand-made `multipart/form-data` body.
pub struct Part<'a> {
    pub name: &'a str,
    pub file_name: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub bytes: Vec<u8>,
}

impl<'a> Part<'a> {
    pub fn file(name: &'a str, file_name: &'a str, bytes: Vec<u8>) -> Self {
        Self {
            name,
            file_name: Some(file_name),
            content_type: Some("application/octet-stream"),
            bytes,
        }
    }

    pub fn text(name: &'a str, value: &str) -> Self {
        Self {
            name,
            file_name: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }
}

const BOUNDARY: &str = "dispatch-test-boundary-7f3a";

/// A multipart body of `parts`, and its content type.
pub fn form(parts: &[Part]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = p.file_name {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = p.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Uploads `parts` as a form with `token`.
pub async fn upload_form(app: &TestApp, token: &str, parts: &[Part<'_>]) -> Resp {
    let (content_type, body) = form(parts);
    app.send_raw(
        Method::POST,
        "/api/v1/media",
        Some(token),
        &content_type,
        body,
    )
    .await
}

/// Uploads `bytes` as the form's only part.
pub async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>) -> Resp {
    upload_form(app, token, &[Part::file("file", "photo.jpg", bytes)]).await
}

/// A file served by the app, its bytes whole.
pub async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

fn rendition<'a>(asset: &'a Value, name: &str, media_type: &str) -> &'a Value {
    asset["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name && r["media_type"] == media_type)
        .unwrap_or_else(|| panic!("no {name} {media_type} in {asset}"))
}

#[tokio::test]
async fn an_upload_keeps_the_news_metadata_of_its_iptc_and_lists_its_renditions() {
    let app = spawn_app().await;
    let resp = upload(&app, &app.admin, fixtures::iptc_sample_jpeg(2000, 1500)).await;
    resp.assert_json(201);
    let asset = &resp.body;
    let id = asset["id"].as_str().unwrap();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/media/{id}").as_str())
    );
    assert_eq!(asset["media_type"], "image/jpeg");
    assert_eq!(asset["width"], 2000);
    assert_eq!(asset["height"], 1500);
    assert_eq!(asset["credit"], "Jane Doe");
    assert_eq!(asset["source"], "Wire Agency");
    assert_eq!(asset["copyright"], "© 2026 Wire Agency");
    assert_eq!(asset["caption"], "Firefighters at dawn");
    assert_eq!(asset["taken_at"], "2026-03-14T05:30:00+00:00");
    assert_eq!(asset["focal_point"], json!({"x": 0.5, "y": 0.5}));
    assert_eq!(asset["uploaded_by"], app.admin_id.as_str());
    assert_eq!(asset["version"], 1);
    assert_eq!(asset["url"], format!("/media/{id}/original.jpg"));
    // Widths narrower than the original only: 320, 640, 1024, 1600 (not 2400).
    let names: Vec<&str> = asset["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["media_type"] == "image/webp")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["w320", "w640", "w1024", "w1600", "square", "wide"]);
    let w1024 = rendition(asset, "w1024", "image/webp");
    assert_eq!(w1024["url"], format!("/media/{id}/w1024.webp"));
    assert_eq!(
        (w1024["width"].as_u64(), w1024["height"].as_u64()),
        (Some(1024), Some(768))
    );
    let square = rendition(asset, "square", "image/jpeg");
    assert_eq!(square["url"], format!("/media/{id}/square-500-500.jpg"));
    assert_eq!(
        (square["width"].as_u64(), square["height"].as_u64()),
        (Some(1200), Some(1200))
    );
    assert_eq!(
        asset["srcset"],
        format!(
            "/media/{id}/w320.webp 320w, /media/{id}/w640.webp 640w, /media/{id}/w1024.webp 1024w, /media/{id}/w1600.webp 1600w"
        )
    );
    assert!(
        asset["fallback_srcset"]
            .as_str()
            .unwrap()
            .contains("w320.jpg 320w")
    );
    // Anyone can read it; it is in the library.
    let read = app.get(&format!("/api/v1/media/{id}")).await;
    read.assert_json(200);
    assert_eq!(read.body["credit"], "Jane Doe");
    let list = app.get_as("/api/v1/media", &app.admin).await;
    list.assert_json(200);
    assert_eq!(crate::helpers::ids(&list), vec![id.to_string()]);
}

#[tokio::test]
async fn renditions_are_made_on_first_request_and_served_immutable_with_their_type_and_length() {
    let app = spawn_app().await;
    let asset = upload(&app, &app.admin, fixtures::iptc_sample_jpeg(1600, 1200)).await;
    asset.assert_json(201);
    for (name, media_type, width, height) in [
        ("w1024", "image/webp", 1024, 768),
        ("w640", "image/jpeg", 640, 480),
        ("square", "image/webp", 1200, 1200),
        ("wide", "image/jpeg", 1600, 900),
        ("original", "image/jpeg", 1600, 1200),
    ] {
        let url = rendition(&asset.body, name, media_type)["url"]
            .as_str()
            .unwrap()
            .to_string();
        let resp = fetch(&app, &url, &[]).await;
        assert_eq!(resp.status(), 200, "{url}");
        let headers = resp.headers().clone();
        assert_eq!(headers["content-type"], media_type, "{url}");
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{url}"
        );
        let etag = headers["etag"].to_str().unwrap().to_string();
        let bytes = resp.bytes().await.unwrap();
        assert_eq!(
            headers["content-length"],
            bytes.len().to_string().as_str(),
            "{url}"
        );
        let decoded = image::load_from_memory(&bytes).expect("a rendition decodes");
        assert_eq!(
            (decoded.width(), decoded.height()),
            (width, height),
            "{url}"
        );
        // Asked again with its tag: 304, nothing sent.
        let again = fetch(&app, &url, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{url}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        // HEAD says the length without the body.
        let head = app
            .client
            .head(format!("{}{url}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(
            head.headers()["content-length"],
            bytes.len().to_string().as_str()
        );
    }
}

#[tokio::test]
async fn the_same_bytes_uploaded_twice_are_one_asset() {
    let app = spawn_app().await;
    let bytes = fixtures::sample_png(400, 300);
    let first = upload(&app, &app.admin, bytes.clone()).await;
    first.assert_json(201);
    let second = upload(&app, &app.admin, bytes).await;
    second.assert_json(200);
    assert_eq!(first.body["id"], second.body["id"]);
    let list = app.get_as("/api/v1/media?count=true", &app.admin).await;
    assert_eq!(list.body["meta"]["total"], 1);
}

#[tokio::test]
async fn a_raw_image_body_is_an_upload_too_and_its_bytes_decide_its_type() {
    let app = spawn_app().await;
    // Sent as a PNG, but the bytes are a WebP.
    let resp = app
        .send_raw(
            Method::POST,
            "/api/v1/media",
            Some(&app.admin),
            "image/png",
            fixtures::sample_webp(800, 600),
        )
        .await;
    resp.assert_json(201);
    assert_eq!(resp.body["media_type"], "image/webp");
    assert_eq!(
        resp.body["url"],
        format!("/media/{}/original.webp", resp.body["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn served_files_carry_no_gps_unless_the_newsroom_opts_out() {
    let app = spawn_app().await;
    let gps = fixtures::gps_jpeg(800, 600);
    let asset = upload(&app, &app.admin, gps.clone()).await;
    asset.assert_json(201);
    let served = fetch(&app, asset.body["url"].as_str().unwrap(), &[])
        .await
        .bytes()
        .await
        .unwrap();
    assert!(exif_gps(&gps), "the upload has GPS");
    assert!(!exif_gps(&served), "the served original has no GPS");
    let kept = crate::helpers::spawn_app_with(&[("DISPATCH_MEDIA_KEEP_GPS", "true")]).await;
    let asset = upload(&kept, &kept.admin, gps.clone()).await;
    asset.assert_json(201);
    let served = fetch(&kept, asset.body["url"].as_str().unwrap(), &[])
        .await
        .bytes()
        .await
        .unwrap();
    assert!(exif_gps(&served), "kept on request");
}

/// Whether a JPEG's EXIF has a GPS directory.
fn exif_gps(jpeg: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(jpeg))
        .is_ok_and(|e| e.fields().any(|f| f.tag.context() == exif::Context::Gps))
}

#[tokio::test]
async fn metadata_is_edited_with_if_match_and_a_new_focal_point_moves_the_crops() {
    let app = spawn_app().await;
    let asset = upload(&app, &app.admin, fixtures::sample_jpeg(1600, 900)).await;
    asset.assert_json(201);
    let id = asset.body["id"].as_str().unwrap();
    let path = format!("/api/v1/media/{id}");
    let old_square = rendition(&asset.body, "square", "image/webp")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header("if-match", "\"1\"")
        .json(&json!({"alt_text": "Boats at dawn", "credit": "Sam Roe", "focal_point": {"x": 0.1, "y": 0.9}}))
        .send()
        .await
        .unwrap();
    let changed = read(changed).await;
    changed.assert_json(200);
    assert_eq!(changed.body["version"], 2);
    assert_eq!(changed.body["alt_text"], "Boats at dawn");
    assert_eq!(changed.body["credit"], "Sam Roe");
    let new_square = rendition(&changed.body, "square", "image/webp")["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(new_square, format!("/media/{id}/square-100-900.webp"));
    assert_ne!(old_square, new_square);
    let resp = fetch(&app, &new_square, &[]).await;
    assert_eq!(resp.status(), 200);
    // A stale If-Match changes nothing.
    let stale = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header("if-match", "\"1\"")
        .json(&json!({"caption": "too late"}))
        .send()
        .await
        .unwrap();
    let stale = read(stale).await;
    stale.assert_problem(412);
    assert_eq!(app.get(&path).await.body["caption"], Value::Null);
}

#[tokio::test]
async fn the_etag_of_a_read_goes_back_as_if_match() {
    let app = spawn_app().await;
    let asset = upload(&app, &app.admin, fixtures::sample_jpeg(640, 480)).await;
    asset.assert_json(201);
    let path = format!("/api/v1/media/{}", asset.id());
    let read_tag = app.get(&path).await.header("etag").unwrap().to_string();
    assert!(read_tag.starts_with("\"1-"), "{read_tag}");
    let send = |tag: String| {
        app.client
            .patch(format!("{}{path}", app.base))
            .bearer_auth(&app.admin)
            .header("if-match", tag)
            .json(&json!({"caption": "Harbour at dusk"}))
            .send()
    };
    let saved = read(send(read_tag.clone()).await.unwrap()).await;
    saved.assert_json(200);
    assert_eq!(saved.body["version"], 2);
    // The same tag again is stale now.
    read(send(read_tag).await.unwrap())
        .await
        .assert_problem(412);
}

#[tokio::test]
async fn a_deleted_assets_renditions_are_gone_even_where_a_file_was_left() {
    let app = spawn_app().await;
    let asset = upload(&app, &app.admin, fixtures::sample_jpeg(800, 600)).await;
    asset.assert_json(201);
    let id = asset.id();
    let url = format!("/media/{id}/w320.webp");
    assert_eq!(fetch(&app, &url, &[]).await.status(), 200);
    let kept = std::fs::read(app.media_dir.join(&id).join("w320.webp")).unwrap();
    app.delete(&format!("/api/v1/media/{id}"))
        .await
        .assert_status(204);
    // As if the delete could not remove a file (or a rendition finished after it).
    std::fs::create_dir_all(app.media_dir.join(&id)).unwrap();
    std::fs::write(app.media_dir.join(&id).join("w320.webp"), kept).unwrap();
    let resp = read(fetch(&app, &url, &[]).await).await;
    resp.assert_problem(404);
}

#[tokio::test]
async fn contributors_change_their_photo_only_while_readers_see_it_nowhere() {
    use dispatch::auth::Role;
    let app = spawn_app().await;
    let contributor = app.user(Role::Contributor, None).await;
    let asset = upload(&app, &contributor.token, fixtures::sample_jpeg(640, 480)).await;
    asset.assert_json(201);
    let path = format!("/api/v1/media/{}", asset.id());
    let change = |caption: &str| {
        app.client
            .patch(format!("{}{path}", app.base))
            .bearer_auth(&contributor.token)
            .json(&json!({ "caption": caption }))
            .send()
    };
    read(change("Mine, unseen").await.unwrap())
        .await
        .assert_json(200);
    let publisher = app.publisher("Photo Desk").await;
    let story = app
        .article(
            &publisher,
            json!({"title": "Seen", "featured_media_id": asset.id()}),
        )
        .await;
    // A draft featuring it: still nobody sees it.
    read(change("Still mine").await.unwrap())
        .await
        .assert_json(200);
    app.patch(
        &format!("/api/v1/articles/{}", story["id"].as_str().unwrap()),
        json!({"status": "published"}),
    )
    .await
    .assert_status(200);
    let refused = read(change("Anything I like").await.unwrap()).await;
    refused.assert_problem(403);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("an editor may change it"),
        "{}",
        refused.text
    );
    assert_eq!(app.get(&path).await.body["caption"], "Still mine");
    // An editor may.
    app.patch(&path, json!({"caption": "Edited by the desk"}))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn only_a_signed_in_upload_may_be_larger_than_the_general_body_limit() {
    let app = spawn_app().await;
    let big = fixtures::sample_png(1500, 1200);
    assert!(big.len() > 1024 * 1024, "{} bytes", big.len());
    let anonymous = app
        .send_raw(
            Method::POST,
            "/api/v1/media",
            None,
            "image/png",
            big.clone(),
        )
        .await;
    anonymous.assert_problem(413);
    let forged = app
        .send_raw(
            Method::POST,
            "/api/v1/media",
            Some("not-a-token"),
            "image/png",
            big.clone(),
        )
        .await;
    forged.assert_problem(413);
    let signed_in = app
        .send_raw(
            Method::POST,
            "/api/v1/media",
            Some(&app.admin),
            "image/png",
            big,
        )
        .await;
    signed_in.assert_json(201);
}
