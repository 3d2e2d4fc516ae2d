//! The files of assets: the formats each upload's renditions come in (GIF and WebP),
//! the EXIF orientation honoured, an S3-compatible store end to end, and image work
//! that never holds up the rest of the API (a slow upload body times out alone;
//! big uploads at once leave reads fast).

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use dispatch::media::fixtures;

use crate::helpers::{Resp, TestApp, read, spawn_app, spawn_app_with};
use crate::media::{fetch, upload};

/// The (name, media type) of each rendition in an asset's JSON.
fn renditions(asset: &Resp) -> Vec<(String, String)> {
    asset.body["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["media_type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Fetches `path`, asserting 200 and `media_type`; its decoded size.
async fn decoded(app: &TestApp, path: &str, media_type: &str) -> (u32, u32) {
    let resp = fetch(app, path, &[]).await;
    assert_eq!(resp.status(), 200, "{path}");
    assert_eq!(resp.headers()["content-type"], media_type, "{path}");
    let bytes = resp.bytes().await.unwrap();
    let image = image::load_from_memory(&bytes).expect(path);
    (image.width(), image.height())
}

#[tokio::test]
async fn a_gif_is_served_as_a_gif_and_its_renditions_are_webp_and_png() {
    let app = spawn_app().await;
    let asset = upload(&app, &app.admin, fixtures::sample_gif(800, 600)).await;
    asset.assert_json(201);
    assert_eq!(asset.body["media_type"], "image/gif");
    let id = asset.id();
    let types: Vec<(String, String)> = renditions(&asset)
        .into_iter()
        .filter(|(name, _)| name == "w320" || name == "original")
        .collect();
    let pair = |n: &str, t: &str| (n.to_string(), t.to_string());
    assert_eq!(
        types,
        [
            pair("original", "image/gif"),
            pair("w320", "image/webp"),
            pair("w320", "image/png")
        ]
    );
    assert_eq!(
        decoded(&app, &format!("/media/{id}/original.gif"), "image/gif").await,
        (800, 600)
    );
    assert_eq!(
        decoded(&app, &format!("/media/{id}/w320.png"), "image/png").await,
        (320, 240)
    );
    assert_eq!(
        decoded(&app, &format!("/media/{id}/w320.webp"), "image/webp").await,
        (320, 240)
    );
    let gif = read(fetch(&app, &format!("/media/{id}/w320.gif"), &[]).await).await;
    gif.assert_problem(404);
}

#[tokio::test]
async fn a_webp_has_only_webp_renditions() {
    let app = spawn_app().await;
    let asset = upload(&app, &app.admin, fixtures::sample_webp(800, 600)).await;
    asset.assert_json(201);
    let webp = |n: &str| (n.to_string(), "image/webp".to_string());
    assert_eq!(
        renditions(&asset),
        ["original", "w320", "w640", "square", "wide"].map(webp)
    );
    let id = asset.id();
    assert_eq!(
        decoded(&app, &format!("/media/{id}/w640.webp"), "image/webp").await,
        (640, 480)
    );
    let png = read(fetch(&app, &format!("/media/{id}/w640.png"), &[]).await).await;
    png.assert_problem(404);
}

#[tokio::test]
async fn an_exif_orientation_of_6_makes_a_landscape_file_a_portrait_asset() {
    let app = spawn_app().await;
    let asset = upload(&app, &app.admin, fixtures::gps_jpeg(800, 600)).await;
    asset.assert_json(201);
    assert_eq!(
        (asset.body["width"].as_u64(), asset.body["height"].as_u64()),
        (Some(600), Some(800))
    );
    let id = asset.id();
    let (w, h) = decoded(&app, &format!("/media/{id}/w320.webp"), "image/webp").await;
    assert_eq!(w, 320);
    assert!(h > w, "portrait: {w}x{h}");
    let (w, h) = decoded(&app, &format!("/media/{id}/w320.jpg"), "image/jpeg").await;
    assert!(w == 320 && h > w, "portrait: {w}x{h}");
}

#[tokio::test]
async fn an_s3_store_keeps_and_drops_an_assets_files() {
    let Ok(base) = std::env::var("DISPATCH_TEST_S3_URL") else {
        println!("skipped: DISPATCH_TEST_S3_URL is not set (.ci/run starts moto)");
        return;
    };
    let store = format!(
        "{}/api-{}",
        base.trim_end_matches('/'),
        uuid::Uuid::now_v7().simple()
    );
    let app = spawn_app_with(&[("DISPATCH_MEDIA_STORAGE", &store)]).await;
    let asset = upload(&app, &app.admin, fixtures::sample_jpeg(800, 600)).await;
    asset.assert_json(201);
    let id = asset.id();
    let path = format!("/media/{id}/w320.webp");
    assert_eq!(decoded(&app, &path, "image/webp").await, (320, 240));
    // Served again from the store (and not from the local folder).
    assert_eq!(decoded(&app, &path, "image/webp").await, (320, 240));
    assert!(!app.media_dir.exists(), "nothing went to the local folder");
    app.delete(&format!("/api/v1/media/{id}"))
        .await
        .assert_status(204);
    let gone = read(fetch(&app, &path, &[]).await).await;
    gone.assert_problem(404);
    let original = read(fetch(&app, &format!("/media/{id}/original.jpg"), &[]).await).await;
    original.assert_problem(404);
}

#[tokio::test]
async fn an_upload_trickling_in_times_out_with_408_while_the_api_answers_at_once() {
    let app = spawn_app_with(&[("DISPATCH_BODY_TIMEOUT_SECONDS", "2")]).await;
    let address = app.base.trim_start_matches("http://").to_string();
    let mut slow = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n",
        app.admin
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = slow.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..40 {
            if writer.write_all(&[0xFF]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // Meanwhile, another connection is served at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    app.get("/api/v1/articles").await.assert_json(200);
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "{:?}",
        asked.elapsed()
    );
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&response).contains("\"request_id\"") {
        let n = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&response));
        response.extend_from_slice(&buf[..n]);
    }
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(
        text.contains("The request body did not arrive within 2 seconds."),
        "{text}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "{took:?}"
    );
    trickle.abort();
}

#[tokio::test]
async fn reads_stay_fast_while_four_big_uploads_are_processed() {
    let app = spawn_app().await;
    let id = upload(&app, &app.admin, fixtures::sample_jpeg(320, 240))
        .await
        .id();
    let photos: Vec<Vec<u8>> = (0..4)
        .map(|n| fixtures::scene_jpeg(2000, 1500, n))
        .collect();
    let started = Instant::now();
    let uploads = async {
        let done = join_all(photos.into_iter().map(|p| upload(&app, &app.admin, p))).await;
        (done, started.elapsed())
    };
    // 20 reads spread over the uploads, one every 50 ms, each timed from when it
    // was due: the test shares the server's runtime, so image work blocking an
    // async thread would delay the reads' start as well as their answer.
    let reads = async {
        let mut times = Vec::new();
        for n in 1..=20 {
            let due = started + Duration::from_millis(50 * n);
            tokio::time::sleep_until(due.into()).await;
            app.get(&format!("/api/v1/media/{id}"))
                .await
                .assert_json(200);
            times.push(due.elapsed());
        }
        times
    };
    let ((uploaded, took), times) = futures_util::join!(uploads, reads);
    for resp in &uploaded {
        resp.assert_json(201);
    }
    let slowest = times.iter().max().unwrap();
    assert!(
        *slowest < Duration::from_millis(300),
        "uploads took {took:?}; reads: {times:?}"
    );
}
