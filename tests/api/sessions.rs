//! Credential versions: a new password, a disable or a new role ends every session
//! and access token of the account at once, even within the same second and even
//! for a sign-in that was checking the old password while the change landed.

use dispatch::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, Resp, TestApp, spawn_app};

const STALE_ACCESS: &str = "The access token was issued before the account's password, role or status changed; sign in again.";
const REVOKED: &str = "The refresh token has been revoked; sign in again.";

async fn refresh(app: &TestApp, token: &str) -> Resp {
    app.send(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": token})),
    )
    .await
}

fn pair(resp: &Resp) -> (String, String) {
    resp.assert_status(200);
    (
        resp.body["access_token"].as_str().unwrap().to_string(),
        resp.body["refresh_token"].as_str().unwrap().to_string(),
    )
}

/// Asserts that neither half of a token pair works any more.
async fn assert_dead(app: &TestApp, access: &str, refresh_token: &str, why: &str) {
    let me = app.get_as("/api/v1/auth/me", access).await;
    assert_eq!(me.status.as_u16(), 401, "{why}: access token: {}", me.text);
    me.assert_problem(401);
    let renewed = refresh(app, refresh_token).await;
    assert_eq!(
        renewed.status.as_u16(),
        401,
        "{why}: refresh token: {}",
        renewed.text
    );
    renewed.assert_problem(401);
}

#[tokio::test]
async fn a_sign_in_racing_a_password_change_never_outlives_it() {
    let app = spawn_app().await;
    let user = app.user(Role::Editor, None).await;
    let path = format!("/api/v1/users/{}", user.id);
    let mut old = PASSWORD.to_string();
    let mut signed_in = 0;
    for round in 0..12 {
        let new = format!("a fresh passphrase for round {round}");
        // The sign-in checks the old password (slow on purpose) while the admin's
        // change hashes the new one and ends every session.
        let (login, change) = tokio::join!(
            app.login(&user.email, &old),
            app.patch(&path, json!({"password": new})),
        );
        change.assert_status(200);
        if login.status.as_u16() == 200 {
            signed_in += 1;
            let (access, refresh_token) = pair(&login);
            assert_dead(&app, &access, &refresh_token, &format!("round {round}")).await;
        } else {
            login
                .assert_problem(401)
                .assert_detail("The email or password is not correct.");
        }
        // Once the change is done, the old password cannot sign in.
        app.login(&user.email, &old).await.assert_problem(401);
        old = new;
    }
    // The new password works, and its session survives.
    let (access, refresh_token) = pair(&app.login(&user.email, &old).await);
    app.get_as("/api/v1/auth/me", &access)
        .await
        .assert_status(200);
    pair(&refresh(&app, &refresh_token).await);
    eprintln!("{signed_in} of 12 racing sign-ins got a (dead) pair");
}

#[tokio::test]
async fn an_access_token_from_the_same_second_as_a_password_change_is_refused() {
    // The application's clock stands still: the token, the change and the refusal
    // all happen within one second.
    let app = spawn_app().await;
    let user = app.user(Role::Editor, None).await;
    app.get_as("/api/v1/auth/me", &user.token)
        .await
        .assert_status(200);
    let new_password = "another long passphrase, 2026";
    app.patch(
        &format!("/api/v1/users/{}", user.id),
        json!({"password": new_password}),
    )
    .await
    .assert_status(200);
    app.get_as("/api/v1/auth/me", &user.token)
        .await
        .assert_problem(401)
        .assert_detail(STALE_ACCESS);
    refresh(&app, &user.refresh)
        .await
        .assert_problem(401)
        .assert_detail(REVOKED);
    app.login(&user.email, PASSWORD).await.assert_problem(401);
    // A token from the new password, still in that same second, works.
    let (access, _) = pair(&app.login(&user.email, new_password).await);
    app.get_as("/api/v1/auth/me", &access)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn disabling_then_enabling_a_user_does_not_bring_old_tokens_back() {
    let app = spawn_app().await;
    let user = app.user(Role::Author, None).await;
    let (rotated_access, rotated) = pair(&refresh(&app, &user.refresh).await);
    let path = format!("/api/v1/users/{}", user.id);
    app.patch(&path, json!({"disabled": true}))
        .await
        .assert_status(200);
    app.get_as("/api/v1/auth/me", &rotated_access)
        .await
        .assert_problem(401)
        .assert_detail("The account this token was issued to is disabled.");
    app.patch(&path, json!({"disabled": false}))
        .await
        .assert_status(200);
    for access in [&user.token, &rotated_access] {
        app.get_as("/api/v1/auth/me", access)
            .await
            .assert_problem(401)
            .assert_detail(STALE_ACCESS);
    }
    refresh(&app, &rotated)
        .await
        .assert_problem(401)
        .assert_detail(REVOKED);
    // Signing in again works.
    let (access, _) = pair(&app.login(&user.email, PASSWORD).await);
    app.get_as("/api/v1/auth/me", &access)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_new_role_ends_the_sessions_and_an_unchanged_one_does_not() {
    let app = spawn_app().await;
    let user = app.user(Role::Editor, None).await;
    let path = format!("/api/v1/users/{}", user.id);
    // Sending the role it already has, or another field, changes no credentials.
    app.patch(
        &path,
        json!({"role": "editor", "email": format!("x{}", user.email)}),
    )
    .await
    .assert_status(200);
    app.get_as("/api/v1/auth/me", &user.token)
        .await
        .assert_status(200);
    app.patch(&path, json!({"role": "contributor"}))
        .await
        .assert_status(200);
    assert_dead(&app, &user.token, &user.refresh, "after a new role").await;
    app.get_as("/api/v1/auth/me", &user.token)
        .await
        .assert_detail(STALE_ACCESS);
    let (access, _) = pair(&app.login(&format!("x{}", user.email), PASSWORD).await);
    let me = app.get_as("/api/v1/auth/me", &access).await;
    me.assert_status(200);
    assert_eq!(me.body["role"], "contributor");
    // The new role is what the new session may do.
    app.send(
        Method::POST,
        "/api/v1/tags",
        Some(&access),
        Some(json!({"name": "B"})),
    )
    .await
    .assert_problem(403);
}
