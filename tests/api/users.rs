//! Admins manage accounts: create, change role, link to a byline, disable, delete.

use dispatch::auth::Role;
use dispatch::startup::Application;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, PASSWORD, fresh_database, ids, spawn_app};

#[tokio::test]
async fn an_admin_creates_reads_and_lists_users_without_secrets() {
    let app = spawn_app().await;
    let author = app.author("Jane Doe").await;
    let created = app
        .post(
            "/api/v1/users",
            json!({"email": " Jane.Doe@Ledger.Example ", "password": PASSWORD, "role": "author", "author_id": author}),
        )
        .await;
    created.assert_status(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/users/{id}").as_str())
    );
    let mut keys: Vec<&String> = created.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "author_id",
            "created_at",
            "disabled",
            "email",
            "id",
            "role",
            "updated_at"
        ]
    );
    assert_eq!(created.body["email"], "jane.doe@ledger.example");
    assert_eq!(created.body["author_id"], author.as_str());
    let got = app.get_as(&format!("/api/v1/users/{id}"), &app.admin).await;
    got.assert_absent(200, "", "password_hash")
        .assert_absent(200, "", "password");
    assert_eq!(got.body, created.body);
    assert!(!got.text.contains("argon2"), "no hash in {}", got.text);

    for i in 0..3 {
        app.post(
            "/api/v1/users",
            json!({"email": format!("c{i}@ledger.example"), "password": PASSWORD, "role": "contributor"}),
        )
        .await
        .assert_status(201);
    }
    let page1 = app
        .get_as("/api/v1/users?limit=2&count=true", &app.admin)
        .await;
    page1.assert_status(200);
    assert_eq!(page1.body["meta"]["total"], 5);
    let cursor = page1.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let page2 = app
        .get_as(
            &format!("/api/v1/users?limit=2&cursor={cursor}"),
            &app.admin,
        )
        .await;
    let page3_cursor = page2.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let page3 = app
        .get_as(
            &format!("/api/v1/users?limit=2&cursor={page3_cursor}"),
            &app.admin,
        )
        .await;
    assert_eq!(page3.body["meta"]["next_cursor"], serde_json::Value::Null);
    let emails: Vec<String> = [&page1, &page2, &page3]
        .iter()
        .flat_map(|p| p.body["data"].as_array().unwrap().clone())
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        emails,
        [
            "c0@ledger.example",
            "c1@ledger.example",
            "c2@ledger.example",
            ADMIN_EMAIL,
            "jane.doe@ledger.example"
        ]
    );
    let contributors = app
        .get_as("/api/v1/users?role=contributor", &app.admin)
        .await;
    assert_eq!(ids(&contributors).len(), 3);
    app.get_as("/api/v1/users?role=owner", &app.admin)
        .await
        .assert_problem(400)
        .assert_fields(&["role"]);
    app.get_as("/api/v1/users?cursor=forged", &app.admin)
        .await
        .assert_problem(400)
        .assert_fields(&["cursor"]);
}

#[tokio::test]
async fn bad_user_input_is_refused_with_the_field() {
    let app = spawn_app().await;
    let author = app.author("Jane Doe").await;
    let linked = app
        .post(
            "/api/v1/users",
            json!({"email": "jane@ledger.example", "password": PASSWORD, "role": "author", "author_id": author}),
        )
        .await;
    linked.assert_status(201);
    let unknown = uuid::Uuid::now_v7().to_string();
    let cases = [
        (
            json!({"email": "x@ledger.example", "password": "short", "role": "editor"}),
            422,
            "password",
            "must be at least 12 characters long",
        ),
        (
            json!({"email": "x@ledger.example", "password": "password1234", "role": "editor"}),
            422,
            "password",
            "is too common; choose a longer phrase of unrelated words",
        ),
        (
            json!({"email": "xavier@ledger.example", "password": "xavier-is-my-name", "role": "editor"}),
            422,
            "password",
            "must not contain the email address",
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD, "role": "editor"}),
            422,
            "email",
            "must be an email address such as jane@example.com",
        ),
        (
            json!({"email": "JANE@ledger.example", "password": PASSWORD, "role": "editor"}),
            409,
            "email",
            "is already taken",
        ),
        (
            json!({"email": "x@ledger.example", "password": PASSWORD, "role": "editor", "author_id": unknown}),
            422,
            "author_id",
            "no author has this id",
        ),
        (
            json!({"email": "x@ledger.example", "password": PASSWORD, "role": "editor", "author_id": author}),
            409,
            "author_id",
            "is already linked to another user",
        ),
        (
            json!({"email": "x@ledger.example", "password": PASSWORD, "role": "owner"}),
            400,
            "role",
            "must be one of admin, editor, author, contributor",
        ),
        (
            json!({"email": "x@ledger.example", "role": "editor"}),
            400,
            "password",
            "is required",
        ),
        (
            json!({"email": "x@ledger.example", "password": PASSWORD, "role": "editor", "is_admin": true}),
            400,
            "is_admin",
            "is not a field of this object",
        ),
        (
            json!({"email": "x@ledger.example", "password": "x".repeat(257), "role": "editor"}),
            400,
            "password",
            "must be at most 256 characters long",
        ),
    ];
    for (body, status, field, message) in cases {
        let resp = app.post("/api/v1/users", body.clone()).await;
        resp.assert_problem(status).assert_fields(&[field]);
        assert_eq!(resp.body["errors"][0]["message"], message, "{body}");
    }
    let total = app.get_as("/api/v1/users?count=true", &app.admin).await;
    assert_eq!(total.body["meta"]["total"], 2, "nothing was created");

    let other = app.user(Role::Editor, None).await;
    app.patch(
        &format!("/api/v1/users/{}", other.id),
        json!({"email": "JANE@ledger.example"}),
    )
    .await
    .assert_problem(409)
    .assert_fields(&["email"]);
    app.patch(
        &format!("/api/v1/users/{}", other.id),
        json!({"author_id": author}),
    )
    .await
    .assert_problem(409)
    .assert_fields(&["author_id"]);
    app.patch(
        &format!("/api/v1/users/{}", other.id),
        json!({"password": "tiny"}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["password"]);
    app.patch(
        &format!("/api/v1/users/{}", other.id),
        json!({"email": null, "role": null, "password": null, "disabled": null}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["email", "password", "role", "disabled"]);
    app.patch(
        &format!("/api/v1/users/{}", other.id),
        json!({"role": "owner"}),
    )
    .await
    .assert_problem(400)
    .assert_fields(&["role"]);
    app.patch(
        &format!("/api/v1/users/{}", other.id),
        json!({"disabled": "yes"}),
    )
    .await
    .assert_problem(400)
    .assert_fields(&["disabled"]);
    app.get_as("/api/v1/users/not-a-uuid", &app.admin)
        .await
        .assert_problem(400)
        .assert_fields(&["id"]);
    for method in [Method::GET, Method::DELETE] {
        app.send(
            method,
            &format!("/api/v1/users/{unknown}"),
            Some(&app.admin),
            None,
        )
        .await
        .assert_problem(404)
        .assert_detail("No user has this id.");
    }
    app.patch(
        &format!("/api/v1/users/{unknown}"),
        json!({"role": "editor"}),
    )
    .await
    .assert_problem(404);
}

#[tokio::test]
async fn the_last_active_admin_stays_one() {
    let app = spawn_app().await;
    let me = format!("/api/v1/users/{}", app.admin_id);
    app.patch(&me, json!({"role": "editor"}))
        .await
        .assert_problem(409)
        .assert_fields(&["role"]);
    app.patch(&me, json!({"disabled": true}))
        .await
        .assert_problem(409)
        .assert_fields(&["disabled"]);
    app.delete(&me)
        .await
        .assert_problem(409)
        .assert_fields(&["id"]);
    let still = app.get_as(&me, &app.admin).await;
    assert_eq!(still.body["role"], "admin");
    assert_eq!(still.body["disabled"], false);

    // A disabled admin does not count.
    let spare = app.user(Role::Admin, None).await;
    app.patch(
        &format!("/api/v1/users/{}", spare.id),
        json!({"disabled": true}),
    )
    .await
    .assert_status(200);
    app.patch(&me, json!({"role": "editor"}))
        .await
        .assert_problem(409);
    // With another active admin, the first can step down.
    app.patch(
        &format!("/api/v1/users/{}", spare.id),
        json!({"disabled": false}),
    )
    .await
    .assert_status(200);
    let spare_token = app.login(&spare.email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(&me, json!({"role": "editor"}))
        .await
        .assert_status(200);
    // Stepping down ended the first admin's session.
    app.get_as("/api/v1/users", &app.admin)
        .await
        .assert_problem(401);
    app.send(Method::DELETE, &me, Some(&spare_token), None)
        .await
        .assert_status(204);
}

#[tokio::test]
async fn deleting_a_linked_author_unlinks_the_user() {
    let app = spawn_app().await;
    let author = app.author("Jane Doe").await;
    let user = app.user(Role::Author, Some(&author)).await;
    app.delete(&format!("/api/v1/authors/{author}"))
        .await
        .assert_status(204);
    let got = app
        .get_as(&format!("/api/v1/users/{}", user.id), &app.admin)
        .await;
    assert_eq!(got.body["author_id"], serde_json::Value::Null);
    app.patch(
        &format!("/api/v1/users/{}", user.id),
        json!({"author_id": null}),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn a_weak_bootstrap_password_stops_the_server_with_the_reason() {
    let (url, _guard) = fresh_database().await;
    let config = dispatch::config::Config::from_lookup(|key| match key {
        "DATABASE_URL" => Some(url.clone()),
        "DISPATCH_BIND" => Some("127.0.0.1:0".into()),
        "DISPATCH_JWT_SECRET" => Some(crate::helpers::SECRET.into()),
        "DISPATCH_ADMIN_EMAIL" => Some("chief@dispatch.test".into()),
        "DISPATCH_ADMIN_PASSWORD" => Some("secret".into()),
        _ => None,
    })
    .unwrap();
    let db = dispatch::startup::connect(&url).await.unwrap();
    dispatch::startup::migrate(&db).await.unwrap();
    let err = Application::build(config, db.clone()).await.err().unwrap();
    assert_eq!(
        err.to_string(),
        "DISPATCH_ADMIN_EMAIL / DISPATCH_ADMIN_PASSWORD: `password`: must be at least 12 characters long"
    );
    db.close().await.ok();
}

#[tokio::test]
async fn with_no_user_the_server_starts_and_nobody_can_sign_in() {
    let (url, _guard) = fresh_database().await;
    let config = dispatch::config::Config::from_lookup(|key| match key {
        "DATABASE_URL" => Some(url.clone()),
        "DISPATCH_BIND" => Some("127.0.0.1:0".into()),
        "DISPATCH_JWT_SECRET" => Some(crate::helpers::SECRET.into()),
        _ => None,
    })
    .unwrap();
    let db = dispatch::startup::connect(&url).await.unwrap();
    dispatch::startup::migrate(&db).await.unwrap();
    let app = Application::build(config, db.clone()).await.unwrap();
    assert!(!app.has_users());
    db.close().await.ok();
}

/// Creates an admin with `token` (an admin's) and signs them in: (id, access token).
async fn new_admin(app: &crate::helpers::TestApp, token: &str) -> (String, String) {
    let email = format!("admin-{}@dispatch.test", uuid::Uuid::now_v7().simple());
    let created = app
        .send(
            Method::POST,
            "/api/v1/users",
            Some(token),
            Some(json!({"email": email, "password": PASSWORD, "role": "admin"})),
        )
        .await;
    created.assert_status(201);
    let login = app.login(&email, PASSWORD).await;
    login.assert_status(200);
    (
        created.id(),
        login.body["access_token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn two_admins_removing_themselves_or_each_other_at_once_leave_one_admin() {
    let app = spawn_app().await;
    // Each round starts with one active admin, the keeper, who makes two more and
    // steps down; the two then race to remove an admin.
    let (mut keeper_id, mut keeper) = (app.admin_id.clone(), app.admin.clone());
    for round in 0..18 {
        let a = new_admin(&app, &keeper).await;
        let b = new_admin(&app, &keeper).await;
        app.send(
            Method::PATCH,
            &format!("/api/v1/users/{keeper_id}"),
            Some(&keeper),
            Some(json!({"role": "editor"})),
        )
        .await
        .assert_status(200);
        let (action, field) = [
            (Method::PATCH, "role"),
            (Method::PATCH, "disabled"),
            (Method::DELETE, "id"),
        ][round % 3]
            .clone();
        let body = match field {
            "role" => Some(json!({"role": "editor"})),
            "disabled" => Some(json!({"disabled": true})),
            _ => None,
        };
        let each_other = (round / 3) % 2 == 1;
        let (a_target, b_target) = if each_other {
            (&b.0, &a.0)
        } else {
            (&a.0, &b.0)
        };
        let (a_path, b_path) = (
            format!("/api/v1/users/{a_target}"),
            format!("/api/v1/users/{b_target}"),
        );
        let (ra, rb) = tokio::join!(
            app.send(action.clone(), &a_path, Some(&a.1), body.clone()),
            app.send(action.clone(), &b_path, Some(&b.1), body.clone()),
        );
        let why = format!("round {round} ({action} {field}, each other: {each_other})");
        let won = |r: &crate::helpers::Resp| r.status.is_success();
        assert!(
            won(&ra) != won(&rb),
            "{why}: exactly one may win: {} / {}",
            ra.text,
            rb.text
        );
        let (winner, loser, loser_is_a) = if won(&ra) {
            (&ra, &rb, false)
        } else {
            (&rb, &ra, true)
        };
        winner.assert_status(if field == "id" { 204 } else { 200 });
        if loser.status.as_u16() == 409 {
            loser.assert_problem(409).assert_fields(&[field]);
        } else {
            // Removing each other, the winner's change may land before the loser's
            // request is authenticated: then the loser's token is already dead.
            assert!(each_other, "{why}: {}", loser.text);
            loser.assert_problem(401);
        }
        // Who is left: the loser when each removed themselves, else the winner.
        let survivor = if each_other == loser_is_a { &b } else { &a };
        let admins = app
            .get_as("/api/v1/users?role=admin&limit=100", &survivor.1)
            .await;
        admins.assert_status(200);
        let active: Vec<&str> = admins.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["disabled"] == json!(false))
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        assert_eq!(active, [survivor.0.as_str()], "{why}");
        (keeper_id, keeper) = survivor.clone();
    }
}

#[tokio::test]
async fn patching_a_user_while_it_is_deleted_is_a_404_never_a_500() {
    let app = spawn_app().await;
    for round in 0..16 {
        let email = format!("gone-{round}@dispatch.test");
        let id = app
            .create(
                "/api/v1/users",
                json!({"email": email, "password": PASSWORD, "role": "editor"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let path = format!("/api/v1/users/{id}");
        // A new password takes a while to hash, so the delete lands inside the update.
        let body = if round % 2 == 0 {
            json!({"password": format!("a new passphrase for round {round}")})
        } else {
            json!({"role": "author", "email": format!("moved-{round}@dispatch.test")})
        };
        let (patch, delete) = tokio::join!(app.patch(&path, body), app.delete(&path));
        delete.assert_status(204);
        match patch.status.as_u16() {
            200 => {}
            404 => {
                patch
                    .assert_problem(404)
                    .assert_detail("No user has this id.");
            }
            _ => panic!("round {round}: {}", patch.text),
        }
        app.get_as(&path, &app.admin).await.assert_problem(404);
    }
}
