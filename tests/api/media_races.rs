//! The media library under concurrent requests, several rounds each: the same bytes
//! uploaded at once are one asset, concurrent changes with one `If-Match` let one
//! through, a delete racing changes or a story that features the asset never leaves
//! a 500 or a dangling reference, and a rendition asked for at once is made once.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use dispatch::media::fixtures;

use crate::helpers::{Resp, TestApp, read, spawn_app};
use crate::media::{fetch, upload};

const ROUNDS: u32 = 5;

/// A PATCH of `path` with `If-Match`.
async fn patch_if(app: &TestApp, path: &str, if_match: &str, body: Value) -> Resp {
    let resp = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap();
    read(resp).await
}

#[tokio::test]
async fn the_same_bytes_uploaded_at_once_are_one_asset_one_event_and_one_folder() {
    for round in 0..ROUNDS {
        let app = spawn_app().await;
        let bytes = fixtures::scene_jpeg(1200, 800, round);
        let answers = join_all((0..8).map(|_| upload(&app, &app.admin, bytes.clone()))).await;
        let created: Vec<&Resp> = answers.iter().filter(|r| r.status == 201).collect();
        assert_eq!(created.len(), 1, "round {round}: {:?}", statuses(&answers));
        let id = created[0].id();
        for resp in &answers {
            if resp.status != 201 {
                resp.assert_json(200);
            }
            assert_eq!(resp.id(), id, "round {round}");
        }
        let list = app.get_as("/api/v1/media?count=true", &app.admin).await;
        assert_eq!(list.body["meta"]["total"], 1, "round {round}");
        let events = app
            .get_as("/api/v1/events?types=media.*&limit=100", &app.admin)
            .await;
        events.assert_json(200);
        let types: Vec<&str> = events.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["media.created"], "round {round}");
        let folders: Vec<String> = std::fs::read_dir(&app.media_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(folders, vec![id.clone()], "round {round}: stray files");
    }
}

fn statuses(answers: &[Resp]) -> Vec<u16> {
    answers.iter().map(|r| r.status.as_u16()).collect()
}

#[tokio::test]
async fn ten_changes_with_one_if_match_at_once_let_exactly_one_through() {
    let app = spawn_app().await;
    for round in 0..ROUNDS {
        let id = upload(&app, &app.admin, fixtures::scene_jpeg(640, 480, round))
            .await
            .id();
        let path = format!("/api/v1/media/{id}");
        let answers = join_all((0..10).map(|n| {
            patch_if(
                &app,
                &path,
                "\"1\"",
                json!({"caption": format!("Caption {n}")}),
            )
        }))
        .await;
        let ok: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), 1, "round {round}: {:?}", statuses(&answers));
        for resp in &answers {
            if resp.status != 200 {
                resp.assert_problem(412);
            }
        }
        let after = app.get(&path).await;
        assert_eq!(after.body["version"], 2, "round {round}");
        assert_eq!(after.body["caption"], ok[0].body["caption"]);
    }
}

#[tokio::test]
async fn a_delete_during_changes_is_never_a_500_and_the_asset_is_gone_after() {
    let app = spawn_app().await;
    for round in 0..ROUNDS {
        let id = upload(&app, &app.admin, fixtures::scene_jpeg(640, 480, round))
            .await
            .id();
        let path = format!("/api/v1/media/{id}");
        let patches = join_all((0..6).map(|n| {
            let if_match = if n % 2 == 0 { "\"1\"" } else { "*" };
            patch_if(
                &app,
                &path,
                if_match,
                json!({"credit": format!("Crew {n}")}),
            )
        }));
        let (patches, deleted) = futures_util::join!(patches, app.delete(&path));
        assert!(
            [204, 404].contains(&deleted.status.as_u16()),
            "round {round}: {}",
            deleted.text
        );
        for resp in &patches {
            match resp.status.as_u16() {
                200 => {}
                412 | 404 => {
                    resp.assert_problem(resp.status.as_u16());
                }
                other => panic!("round {round}: PATCH {other}: {}", resp.text),
            }
        }
        if deleted.status == 404 {
            deleted.assert_problem(404);
        }
        app.get(&path).await.assert_problem(404);
        assert!(!app.media_dir.join(&id).exists(), "round {round}");
    }
}

#[tokio::test]
async fn a_delete_racing_a_story_that_features_the_asset_leaves_no_dangling_reference() {
    let app = spawn_app().await;
    let publisher = app.publisher("Ledger").await;
    for round in 0..ROUNDS * 2 {
        let id = upload(&app, &app.admin, fixtures::scene_jpeg(640, 480, round))
            .await
            .id();
        let path = format!("/api/v1/media/{id}");
        let body = json!({"title": format!("Story {round}"), "publisher_id": publisher, "featured_media_id": id});
        let (created, deleted) = futures_util::join!(
            app.send(
                Method::POST,
                "/api/v1/articles",
                Some(&app.admin),
                Some(body)
            ),
            app.delete(&path)
        );
        match (created.status.as_u16(), deleted.status.as_u16()) {
            (422, 204) => {
                created
                    .assert_problem(422)
                    .assert_fields(&["featured_media_id"]);
                app.get(&path).await.assert_problem(404);
            }
            (201, 409) => {
                deleted.assert_problem(409).assert_fields(&["id"]);
                let article = app
                    .get_as(
                        &format!("/api/v1/articles/{}?include=featured_media", created.id()),
                        &app.admin,
                    )
                    .await;
                article.assert_json(200);
                assert_eq!(article.body["featured_media"]["id"], id.as_str());
            }
            other => panic!(
                "round {round}: {other:?}: {} / {}",
                created.text, deleted.text
            ),
        }
    }
}

#[tokio::test]
async fn a_rendition_asked_for_by_eight_readers_at_once_is_the_same_bytes_for_all() {
    let app = spawn_app().await;
    for round in 0..ROUNDS {
        let id = upload(&app, &app.admin, fixtures::scene_jpeg(1200, 800, round))
            .await
            .id();
        let url = format!("/media/{id}/w640.webp");
        let answers = join_all((0..8).map(|_| async {
            let resp = fetch(&app, &url, &[]).await;
            assert_eq!(resp.status(), 200, "round {round}");
            resp.bytes().await.unwrap()
        }))
        .await;
        assert!(answers.iter().all(|b| b == &answers[0]), "round {round}");
        let decoded = image::load_from_memory(&answers[0]).unwrap();
        assert_eq!(decoded.width(), 640);
        let stored = std::fs::read(app.media_dir.join(&id).join("w640.webp")).unwrap();
        assert_eq!(stored, answers[0].to_vec());
    }
}
