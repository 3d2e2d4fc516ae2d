//! The permission matrix of `shared/API.md`, table-driven: every write endpoint ×
//! every role × own/not-own (and draft/published) → the exact status, and after
//! every refusal the resource is exactly as it was. Webhooks and users are for admins
//! only, every one of their operations, reads included.

use std::collections::HashMap;

use dispatch::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, spawn_app_with};

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
    publisher: String,
    /// Each role's linked author ("own" means this author is in the byline).
    own: HashMap<Role, String>,
    /// An author no user is linked to.
    other: String,
    tokens: HashMap<Role, String>,
    cases: usize,
}

impl World {
    async fn new() -> Self {
        Self::with(&[]).await
    }

    /// A world whose application has these extra settings.
    async fn with(extra: &[(&str, &str)]) -> Self {
        let app = spawn_app_with(extra).await;
        let publisher = app.publisher("Ledger").await;
        let other = app.author("Nobody's Byline").await;
        let mut own = HashMap::new();
        let mut tokens = HashMap::new();
        for role in [Role::Contributor, Role::Author, Role::Editor, Role::Admin] {
            let author = app.author(&format!("{} Byline", role.as_str())).await;
            let user = app.user(role, Some(&author)).await;
            own.insert(role, author);
            tokens.insert(role, user.token);
        }
        Self {
            app,
            publisher,
            own,
            other,
            tokens,
            cases: 0,
        }
    }

    fn token(&self, who: Option<Role>) -> Option<&str> {
        who.map(|r| self.tokens[&r].as_str())
    }

    /// A fresh article, as the admin, with `status` and this byline.
    async fn article(&self, status: &str, byline: &str) -> String {
        self.app
            .article(
                &self.publisher,
                json!({"title": "Fixture", "status": status, "author_ids": [byline]}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn snapshot(&self, path: &str) -> Value {
        self.app.get_as(path, &self.app.admin).await.body
    }

    async fn count(&self, list: &str) -> Value {
        self.app
            .get_as(&format!("{list}?count=true"), &self.app.admin)
            .await
            .body["meta"]["total"]
            .clone()
    }

    /// Sends the request as `who` and asserts `expected`; a refusal must be
    /// problem+json and leave `snapshot_path` exactly as it was.
    #[allow(clippy::too_many_arguments)]
    async fn check(
        &mut self,
        why: &str,
        who: Option<Role>,
        method: Method,
        path: &str,
        body: Option<Value>,
        snapshot_path: &str,
        expected: u16,
    ) -> Resp {
        self.cases += 1;
        let before = self.snapshot(snapshot_path).await;
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
            assert_eq!(
                self.snapshot(snapshot_path).await,
                before,
                "{why} as {who:?} changed {snapshot_path}"
            );
        }
        resp
    }
}

/// Statuses for [own draft, own published, other's draft, other's published].
type Row = [u16; 4];

#[tokio::test]
async fn article_writes_follow_the_matrix() {
    let mut w = World::new().await;
    // (what, body for a draft / for a published article, rows for WHO)
    type Body = fn(&World, bool) -> Option<Value>;
    let ops: Vec<(&str, Method, Body, [Row; 5])> = vec![
        (
            "edit the title",
            Method::PATCH,
            |_, _| Some(json!({"title": "Changed"})),
            [
                [401, 401, 401, 401],
                [200, 403, 404, 403],
                [200, 200, 404, 403],
                [200, 200, 200, 200],
                [200, 200, 200, 200],
            ],
        ),
        (
            "change the status",
            Method::PATCH,
            |_, draft| Some(json!({"status": if draft { "published" } else { "archived" }})),
            [
                [401, 401, 401, 401],
                [403, 403, 404, 403],
                [200, 200, 404, 403],
                [200, 200, 200, 200],
                [200, 200, 200, 200],
            ],
        ),
        (
            "give the byline away",
            Method::PATCH,
            |w, _| Some(json!({"author_ids": [w.other]})),
            [
                [401, 401, 401, 401],
                [403, 403, 404, 403],
                [403, 403, 404, 403],
                [200, 200, 200, 200],
                [200, 200, 200, 200],
            ],
        ),
        (
            "delete",
            Method::DELETE,
            |_, _| None,
            [
                [401, 401, 401, 401],
                [403, 403, 404, 403],
                [204, 204, 404, 403],
                [204, 204, 204, 204],
                [204, 204, 204, 204],
            ],
        ),
    ];
    for (what, method, body, rows) in &ops {
        for (who, row) in WHO.iter().zip(rows) {
            let own = who
                .map(|r| w.own[&r].clone())
                .unwrap_or_else(|| w.other.clone());
            let columns = [
                ("own draft", "draft", own.clone()),
                ("own published", "published", own.clone()),
                ("other's draft", "draft", w.other.clone()),
                ("other's published", "published", w.other.clone()),
            ];
            for ((label, status, byline), expected) in columns.iter().zip(row) {
                let id = w.article(status, byline).await;
                let path = format!("/api/v1/articles/{id}");
                let why = format!("{what} of {label}");
                w.check(
                    &why,
                    *who,
                    method.clone(),
                    &path,
                    body(&w, *status == "draft"),
                    &path,
                    *expected,
                )
                .await;
            }
        }
    }
    assert_eq!(w.cases, 4 * 5 * 4);
}

#[tokio::test]
async fn article_reads_follow_the_matrix() {
    let mut w = World::new().await;
    let rows: [Row; 5] = [
        [404, 200, 404, 200],
        [200, 200, 404, 200],
        [200, 200, 404, 200],
        [200, 200, 200, 200],
        [200, 200, 200, 200],
    ];
    for (who, row) in WHO.iter().zip(rows) {
        let own = who
            .map(|r| w.own[&r].clone())
            .unwrap_or_else(|| w.other.clone());
        let mut visible_drafts = Vec::new();
        for ((status, byline), expected) in [
            ("draft", &own),
            ("published", &own),
            ("draft", &w.other.clone()),
            ("published", &w.other.clone()),
        ]
        .iter()
        .zip(row)
        {
            let id = w.article(status, byline).await;
            let path = format!("/api/v1/articles/{id}");
            w.check("read", *who, Method::GET, &path, None, &path, expected)
                .await;
            if *status == "draft" && expected == 200 {
                visible_drafts.push(id);
            }
        }
        // The list shows exactly the drafts the reader may read.
        let listed = w
            .app
            .send(
                Method::GET,
                "/api/v1/articles?status=draft&limit=100",
                w.token(*who),
                None,
            )
            .await;
        let listed_ids = crate::helpers::ids(&listed);
        for id in &visible_drafts {
            assert!(listed_ids.contains(id), "{who:?} should list {id}");
        }
        if matches!(who, None | Some(Role::Contributor | Role::Author)) {
            assert_eq!(
                listed_ids.len(),
                visible_drafts.len(),
                "{who:?} lists only its own drafts"
            );
        }
    }
    assert_eq!(w.cases, 5 * 4);
}

#[tokio::test]
async fn article_creation_follows_the_matrix() {
    let mut w = World::new().await;
    // (what, body, statuses for WHO); `author_ids` absent means "just mine" for the
    // roles limited to their own articles.
    type Body = fn(&World) -> Value;
    let cases: Vec<(&str, Body, [u16; 5])> = vec![
        (
            "a draft",
            |w| json!({"title": "New", "publisher_id": w.publisher}),
            [401, 201, 201, 201, 201],
        ),
        (
            "a published article",
            |w| json!({"title": "New", "publisher_id": w.publisher, "status": "published"}),
            [401, 403, 201, 201, 201],
        ),
        (
            "a scheduled article",
            |w| json!({"title": "New", "publisher_id": w.publisher, "status": "scheduled", "published_at": "2999-01-01T06:00:00Z"}),
            [401, 403, 201, 201, 201],
        ),
        (
            "a draft in someone else's byline",
            |w| json!({"title": "New", "publisher_id": w.publisher, "author_ids": [w.other]}),
            [401, 403, 403, 201, 201],
        ),
    ];
    for (what, body, row) in &cases {
        for (who, expected) in WHO.iter().zip(row) {
            let before = w.count("/api/v1/articles").await;
            let resp = w
                .check(
                    what,
                    *who,
                    Method::POST,
                    "/api/v1/articles",
                    Some(body(&w)),
                    "/api/v1/articles?count=true",
                    *expected,
                )
                .await;
            if *expected == 201 {
                let byline = &resp.body["author_ids"];
                match who {
                    Some(r @ (Role::Contributor | Role::Author)) => {
                        assert_eq!(
                            byline[0],
                            w.own[r].as_str(),
                            "{what}: the byline is the creator's"
                        );
                    }
                    _ if body(&w).get("author_ids").is_none() => {
                        assert_eq!(
                            byline,
                            &json!([]),
                            "{what}: editors' bylines are not filled in"
                        );
                    }
                    _ => {}
                }
            } else {
                assert_eq!(w.count("/api/v1/articles").await, before);
            }
        }
    }
    assert_eq!(w.cases, 4 * 5);

    // An author or contributor with no linked byline owns nothing, so creates nothing.
    for role in [Role::Author, Role::Contributor] {
        let unlinked = w.app.user(role, None).await;
        let resp = w
            .app
            .send(
                Method::POST,
                "/api/v1/articles",
                Some(&unlinked.token),
                Some(json!({"title": "New", "publisher_id": w.publisher})),
            )
            .await;
        resp.assert_problem(403);
        assert!(
            resp.body["detail"]
                .as_str()
                .unwrap()
                .contains("not linked to an author"),
            "{}",
            resp.text
        );
    }
}

#[tokio::test]
async fn taxonomy_and_user_writes_follow_the_matrix() {
    let mut w = World::new().await;
    let taxonomy_row = [401, 403, 403, 0, 0];
    for resource in ["publishers", "authors", "tags"] {
        let list = format!("/api/v1/{resource}");
        for (who, refusal) in WHO.iter().zip(taxonomy_row) {
            let name = format!("{resource} by {who:?}");
            let create = if refusal == 0 { 201 } else { refusal };
            w.check(
                "create",
                *who,
                Method::POST,
                &list,
                Some(json!({"name": name})),
                &format!("{list}?count=true"),
                create,
            )
            .await;
            let target = w
                .app
                .create(&list, json!({"name": format!("target {name}")}))
                .await;
            let path = format!("{list}/{}", target["id"].as_str().unwrap());
            let update = if refusal == 0 { 200 } else { refusal };
            let field = if resource == "authors" {
                "bio"
            } else {
                "description"
            };
            w.check(
                "update",
                *who,
                Method::PATCH,
                &path,
                Some(json!({field: "changed"})),
                &path,
                update,
            )
            .await;
            let delete = if refusal == 0 { 204 } else { refusal };
            w.check("delete", *who, Method::DELETE, &path, None, &path, delete)
                .await;
        }
    }
    let users_row = [401, 403, 403, 403, 0];
    for (who, refusal) in WHO.iter().zip(users_row) {
        let ok = |status: u16| if refusal == 0 { status } else { refusal };
        w.check(
            "list users",
            *who,
            Method::GET,
            "/api/v1/users",
            None,
            "/api/v1/users?count=true",
            ok(200),
        )
        .await;
        let email = format!("new-{}@dispatch.test", uuid::Uuid::now_v7().simple());
        w.check(
            "create a user",
            *who,
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": email, "password": crate::helpers::PASSWORD, "role": "admin"})),
            "/api/v1/users?count=true",
            ok(201),
        )
        .await;
        let target = w.app.user(Role::Contributor, None).await;
        let path = format!("/api/v1/users/{}", target.id);
        w.check(
            "read a user",
            *who,
            Method::GET,
            &path,
            None,
            &path,
            ok(200),
        )
        .await;
        w.check(
            "promote a user",
            *who,
            Method::PATCH,
            &path,
            Some(json!({"role": "admin"})),
            &path,
            ok(200),
        )
        .await;
        w.check(
            "delete a user",
            *who,
            Method::DELETE,
            &path,
            None,
            &path,
            ok(204),
        )
        .await;
    }
    assert_eq!(w.cases, 3 * 5 * 3 + 5 * 5);
}

#[tokio::test]
async fn every_webhook_operation_is_for_admins_only() {
    // Private addresses allowed: the webhooks point at a loopback port where nothing
    // listens; no worker, so that nothing tries to deliver the pings queued here and
    // the rows the reads compare stay as they are.
    let mut w = World::with(&[
        ("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("DISPATCH_WEBHOOK_WORKER", "false"),
    ])
    .await;
    let hooks = "/api/v1/webhooks";
    let body = json!({"url": "http://127.0.0.1:9/hook"});
    let row = [401, 403, 403, 403, 0];
    for (who, refusal) in WHO.iter().zip(row) {
        let ok = |status: u16| if refusal == 0 { status } else { refusal };
        let made = w.app.create(hooks, body.clone()).await;
        let path = format!("{hooks}/{}", made["id"].as_str().unwrap());
        let deliveries = format!("{path}/deliveries");
        let ping = w
            .app
            .send(
                Method::POST,
                &format!("{path}/test"),
                Some(&w.app.admin),
                None,
            )
            .await;
        ping.assert_status(202);
        let retry = format!("{deliveries}/{}/retry", ping.id());
        let count = format!("{hooks}?count=true");
        // (what, method, path, body, what to snapshot, the admin's status)
        type Op<'a> = (&'a str, Method, String, Option<Value>, String, u16);
        let ops: [Op; 9] = [
            (
                "list webhooks",
                Method::GET,
                hooks.into(),
                None,
                count.clone(),
                200,
            ),
            (
                "create a webhook",
                Method::POST,
                hooks.into(),
                Some(body.clone()),
                count,
                201,
            ),
            (
                "read a webhook",
                Method::GET,
                path.clone(),
                None,
                path.clone(),
                200,
            ),
            (
                "change a webhook",
                Method::PATCH,
                path.clone(),
                Some(json!({"description": "changed"})),
                path.clone(),
                200,
            ),
            (
                "rotate its secret",
                Method::POST,
                format!("{path}/secret"),
                None,
                path.clone(),
                200,
            ),
            (
                "list its deliveries",
                Method::GET,
                deliveries.clone(),
                None,
                deliveries.clone(),
                200,
            ),
            (
                "retry a delivery",
                Method::POST,
                retry,
                None,
                deliveries.clone(),
                202,
            ),
            (
                "send a test ping",
                Method::POST,
                format!("{path}/test"),
                None,
                deliveries,
                202,
            ),
            (
                "delete a webhook",
                Method::DELETE,
                path.clone(),
                None,
                path.clone(),
                204,
            ),
        ];
        for (why, method, target, body, snapshot, admin) in ops {
            w.check(why, *who, method, &target, body, &snapshot, ok(admin))
                .await;
        }
    }
    assert_eq!(w.cases, 5 * 9);
}
