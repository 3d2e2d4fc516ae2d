//! Uploads the media library refuses, each with its exact status and problem: files
//! that are not accepted images (by their bytes), damaged files and decompression
//! bombs, bodies over the size limit (refused before they are all read), and every
//! way an upload form can be malformed.

use std::time::{Duration, Instant};

use dispatch::media::fixtures;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Resp, TestApp, spawn_app};
use crate::media::{Part, form, upload, upload_form};

const ACCEPTED: &str = "upload a JPEG, PNG, WebP or GIF image.";

/// Sends `bytes` as the raw body of an upload with `content_type`.
async fn upload_raw(app: &TestApp, content_type: &str, bytes: Vec<u8>) -> Resp {
    app.send_raw(
        Method::POST,
        "/api/v1/media",
        Some(&app.admin),
        content_type,
        bytes,
    )
    .await
}

/// Asserts the library is still empty after a refusal.
async fn assert_empty(app: &TestApp) {
    let list = app.get_as("/api/v1/media?count=true", &app.admin).await;
    list.assert_json(200);
    assert_eq!(list.body["meta"]["total"], 0, "{}", list.text);
}

#[tokio::test]
async fn text_is_refused_with_415_whatever_its_name_or_content_type_says() {
    let app = spawn_app().await;
    let text = b"Dear editor, here is my photo.\n".to_vec();
    let detail = format!("The file is text, which is not accepted; {ACCEPTED}");
    let named = upload_form(
        &app,
        &app.admin,
        &[Part::file("file", "photo.jpg", text.clone())],
    )
    .await;
    named.assert_problem(415).assert_detail(&detail);
    let raw = upload_raw(&app, "image/jpeg", text).await;
    raw.assert_problem(415).assert_detail(&detail);
    assert_empty(&app).await;
}

#[tokio::test]
async fn svg_is_refused_with_415_because_it_can_carry_scripts() {
    let app = spawn_app().await;
    let detail = format!("SVG images are refused because they can carry scripts; {ACCEPTED}");
    for svg in [
        "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>",
    ] {
        let form = upload(&app, &app.admin, svg.as_bytes().to_vec()).await;
        form.assert_problem(415).assert_detail(&detail);
        let raw = upload_raw(&app, "image/svg+xml", svg.as_bytes().to_vec()).await;
        raw.assert_problem(415).assert_detail(&detail);
    }
    assert_empty(&app).await;
}

#[tokio::test]
async fn a_truncated_jpeg_is_a_422_on_file() {
    let app = spawn_app().await;
    let mut jpeg = fixtures::sample_jpeg(1200, 800);
    jpeg.truncate(jpeg.len() * 6 / 10);
    let resp = upload(&app, &app.admin, jpeg).await;
    resp.assert_problem(422).assert_fields(&["file"]);
    assert!(
        resp.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("`file`: The image file is damaged or incomplete"),
        "{}",
        resp.text
    );
    assert_empty(&app).await;
}

/// A PNG's signature and an IHDR chunk (with its correct CRC) declaring this size,
/// and no image data: 33 bytes.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in &ihdr {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&(!crc).to_be_bytes());
    png
}

#[tokio::test]
async fn a_png_declaring_ten_billion_pixels_is_a_422_answered_at_once() {
    let app = spawn_app().await;
    let bomb = png_header(100_000, 100_000);
    assert_eq!(bomb.len(), 33);
    let started = Instant::now();
    let resp = upload(&app, &app.admin, bomb).await;
    let took = started.elapsed();
    resp.assert_problem(422)
        .assert_fields(&["file"])
        .assert_detail(
            "`file`: The image is 100000x100000 pixels (10000.0 megapixels); at most 50.0 \
         megapixels are accepted.",
        );
    assert!(took < Duration::from_millis(500), "took {took:?}");
    assert_empty(&app).await;
}

/// The address of `app`, for raw connections.
fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads an HTTP/1.1 response's head and (Content-Length) body from `stream`.
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return (status, text);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a response within 10 s")
            .expect("read");
        assert!(n > 0, "the connection closed before a response: {text}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

const THIRTY_MIB: usize = 30 * 1024 * 1024;

#[tokio::test]
async fn thirty_mib_announced_by_content_length_is_a_413_before_the_body_is_sent() {
    let app = spawn_app().await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: {THIRTY_MIB}\r\n\r\n",
        app.admin
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut jpeg = fixtures::sample_jpeg(64, 64);
    jpeg.resize(64 * 1024, 0);
    stream.write_all(&jpeg).await.unwrap();
    // The rest is never sent: the answer must come anyway.
    let (status, text) = read_response(&mut stream).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains("application/problem+json")
            && text.contains(&format!(
                "larger than the limit of {} bytes",
                25 * 1024 * 1024 + 64 * 1024
            )),
        "{text}"
    );
    assert_empty(&app).await;
}

#[tokio::test]
async fn a_chunked_upload_far_over_the_limit_is_a_413_before_it_is_all_sent() {
    let app = spawn_app().await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.admin
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // Sends 1 MiB chunks until the server answers (or refuses more).
    let sender = tokio::spawn(async move {
        let chunk = vec![0xFFu8; 1024 * 1024];
        let mut sent = 0;
        // Far more than socket buffers hold, so that a server reading on would be seen.
        while sent < 4 * THIRTY_MIB {
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk.clone(),
                b"\r\n".to_vec(),
            ]
            .concat();
            if writer.write_all(&framed).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        if sent >= 4 * THIRTY_MIB {
            writer.write_all(b"0\r\n\r\n").await.ok();
        }
        sent
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&response).contains("\"request_id\"") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response).to_string();
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    drop(reader);
    // The server stopped reading at the limit: the rest could not be sent.
    let sent = sender.await.unwrap();
    assert!(sent < 4 * THIRTY_MIB, "sent all {sent} bytes");
    assert_empty(&app).await;
}

#[tokio::test]
async fn a_form_without_a_file_is_a_400_naming_file() {
    let app = spawn_app().await;
    let resp = upload_form(&app, &app.admin, &[Part::text("caption", "No photo")]).await;
    resp.assert_problem(400)
        .assert_fields(&["file"])
        .assert_detail("The form has no `file` part; send the image in a part named `file`.");
    assert_empty(&app).await;
}

#[tokio::test]
async fn a_form_with_two_files_is_a_400_naming_file() {
    let app = spawn_app().await;
    let jpeg = || fixtures::sample_jpeg(64, 48);
    let detail = "`file`: send exactly one file per upload, in the part named `file`";
    let twice = upload_form(
        &app,
        &app.admin,
        &[
            Part::file("file", "a.jpg", jpeg()),
            Part::file("file", "b.jpg", jpeg()),
        ],
    )
    .await;
    twice
        .assert_problem(400)
        .assert_fields(&["file"])
        .assert_detail(detail);
    let other = upload_form(
        &app,
        &app.admin,
        &[
            Part::file("file", "a.jpg", jpeg()),
            Part::file("other", "b.jpg", jpeg()),
        ],
    )
    .await;
    other
        .assert_problem(400)
        .assert_fields(&["file"])
        .assert_detail(detail);
    assert_empty(&app).await;
}

#[tokio::test]
async fn unknown_repeated_and_malformed_fields_are_400s_naming_them() {
    let app = spawn_app().await;
    let file = || Part::file("file", "a.jpg", fixtures::sample_jpeg(64, 48));
    let focal = "`focal_point`: must be `x,y`, two numbers from 0 to 1 (e.g. `0.5,0.3`)";
    let long = "a".repeat(5001);
    let cases: Vec<(Vec<Part>, &str, &str)> = vec![
        (
            vec![file(), Part::text("photographer", "Sam")],
            "photographer",
            "`photographer`: is not a field of the upload form (file, alt_text, caption, \
             credit, source, copyright, taken_at, focal_point)",
        ),
        (
            vec![
                file(),
                Part::text("credit", "Sam"),
                Part::text("credit", "Ann"),
            ],
            "credit",
            "`credit`: is sent twice",
        ),
        (
            vec![file(), Part::text("taken_at", "yesterday")],
            "taken_at",
            "`taken_at`: must be an RFC 3339 time such as 2026-03-14T06:30:00Z",
        ),
        (
            vec![file(), Part::text("focal_point", "x")],
            "focal_point",
            focal,
        ),
        (
            vec![file(), Part::text("caption", "a\0b")],
            "caption",
            "`caption`: must not contain NUL characters (U+0000)",
        ),
        (
            vec![file(), Part::text("caption", &long)],
            "caption",
            "`caption`: must be at most 5000 characters",
        ),
    ];
    for (parts, field, detail) in &cases {
        let resp = upload_form(&app, &app.admin, parts).await;
        resp.assert_problem(400)
            .assert_fields(&[field])
            .assert_detail(detail);
    }
    // A focal point outside 0..1 names its coordinate.
    let resp = upload_form(
        &app,
        &app.admin,
        &[file(), Part::text("focal_point", "2,0.5")],
    )
    .await;
    resp.assert_problem(400)
        .assert_fields(&["focal_point.x"])
        .assert_detail("`focal_point.x`: must be between 0 and 1");
    assert_empty(&app).await;
}

#[tokio::test]
async fn a_multipart_body_without_a_boundary_is_a_400() {
    let app = spawn_app().await;
    let (_, body) = form(&[Part::file("file", "a.jpg", fixtures::sample_jpeg(64, 48))]);
    let resp = upload_raw(&app, "multipart/form-data", body).await;
    resp.assert_problem(400).assert_fields(&["body"]);
    assert!(
        resp.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("`body`: is not a multipart form"),
        "{}",
        resp.text
    );
    assert_empty(&app).await;
}
