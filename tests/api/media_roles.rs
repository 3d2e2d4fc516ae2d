//! The media library's permission matrix, table-driven: every operation × anonymous
//! and each role (× own/someone else's asset for changes) → the exact status, every
//! refusal a problem that leaves the asset exactly as it was. (A file of its own:
//! `matrix.rs` is at its size limit.)

use std::collections::HashMap;

use dispatch::auth::Role;
use dispatch::media::fixtures;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::media::{Part, fetch, form, upload};

/// Anonymous, then each role.
const WHO: [Option<Role>; 5] = [
    None,
    Some(Role::Contributor),
    Some(Role::Author),
    Some(Role::Editor),
    Some(Role::Admin),
];

struct World {
    app: TestApp,
    tokens: HashMap<Role, String>,
    /// Distinct photos for the uploads (the same bytes would be one asset).
    variant: u32,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let mut tokens = HashMap::new();
        for role in [Role::Contributor, Role::Author, Role::Editor, Role::Admin] {
            tokens.insert(role, app.user(role, None).await.token);
        }
        Self {
            app,
            tokens,
            variant: 0,
        }
    }

    fn token(&self, who: Option<Role>) -> Option<&str> {
        who.map(|r| self.tokens[&r].as_str())
    }

    /// A new asset uploaded by `role` (the first admin when `None`); its id.
    async fn asset(&mut self, by: Option<Role>) -> String {
        self.variant += 1;
        let token = by.map_or(self.app.admin.clone(), |r| self.tokens[&r].clone());
        let resp = upload(
            &self.app,
            &token,
            fixtures::scene_jpeg(480, 320, self.variant),
        )
        .await;
        resp.assert_json(201);
        resp.id()
    }

    /// Sends the request as `who` and asserts `expected`; a refusal must be a problem
    /// (a 403 naming the role) and leave the asset at `path` as it was.
    async fn check(
        &self,
        why: &str,
        who: Option<Role>,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) {
        let before = self.app.get(path).await.body;
        let resp = self
            .app
            .send(method.clone(), path, self.token(who), body)
            .await;
        assert_eq!(
            resp.status.as_u16(),
            expected,
            "{why} as {who:?}: {method} {path} -> {}",
            resp.text
        );
        if expected >= 400 {
            resp.assert_problem(expected);
            if expected == 403 {
                let role = who.map(Role::as_str).unwrap_or_default();
                assert!(
                    resp.body["detail"].as_str().unwrap().contains(role),
                    "the 403 names the role: {}",
                    resp.text
                );
            }
            assert_eq!(self.app.get(path).await.body, before, "{why} as {who:?}");
        }
    }
}

#[tokio::test]
async fn media_writes_follow_the_matrix() {
    let mut w = World::new().await;
    // Upload: anyone signed in.
    for (who, expected) in WHO.iter().zip([401, 201, 201, 201, 201]) {
        w.variant += 1;
        let (content_type, body) = form(&[Part::file(
            "file",
            "a.jpg",
            fixtures::scene_jpeg(480, 320, w.variant),
        )]);
        let resp = w
            .app
            .send_raw(
                Method::POST,
                "/api/v1/media",
                w.token(*who),
                &content_type,
                body,
            )
            .await;
        assert_eq!(
            resp.status.as_u16(),
            expected,
            "upload as {who:?}: {}",
            resp.text
        );
        if expected == 401 {
            resp.assert_problem(401);
        }
    }
    // Change: own and someone else's, for each role.
    let rows: [[u16; 2]; 5] = [[401, 401], [200, 403], [200, 403], [200, 200], [200, 200]];
    for (who, [own, others]) in WHO.iter().zip(rows) {
        for (whose, expected) in [(*who, own), (None, others)] {
            let id = w.asset(whose).await;
            let path = format!("/api/v1/media/{id}");
            let why = format!(
                "change of {}",
                if whose == *who { "own" } else { "other's" }
            );
            w.check(
                &why,
                *who,
                Method::PATCH,
                &path,
                Some(json!({"caption": "New"})),
                expected,
            )
            .await;
        }
    }
    // Delete: editors and admins, whoever uploaded it.
    for (who, expected) in WHO.iter().zip([401, 403, 403, 204, 204]) {
        let id = w.asset(*who).await;
        let path = format!("/api/v1/media/{id}");
        w.check("delete of own", *who, Method::DELETE, &path, None, expected)
            .await;
        let after = w.app.get(&path).await;
        if expected == 204 {
            after.assert_problem(404);
        } else {
            after.assert_json(200);
        }
    }
}

#[tokio::test]
async fn the_library_is_for_signed_in_users_and_each_asset_and_file_is_public() {
    let mut w = World::new().await;
    let id = w.asset(Some(Role::Contributor)).await;
    for (who, expected) in WHO.iter().zip([401, 200, 200, 200, 200]) {
        let list = w
            .app
            .send(Method::GET, "/api/v1/media", w.token(*who), None)
            .await;
        if expected == 401 {
            list.assert_problem(401);
        } else {
            list.assert_json(200);
            assert_eq!(crate::helpers::ids(&list), vec![id.clone()], "{who:?}");
        }
    }
    let one = w.app.get(&format!("/api/v1/media/{id}")).await;
    one.assert_json(200);
    for r in one.body["renditions"].as_array().unwrap() {
        let url = r["url"].as_str().unwrap();
        let resp = fetch(&w.app, url, &[]).await;
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(
            resp.headers()["content-type"],
            r["media_type"].as_str().unwrap()
        );
    }
}
