//! Signing in, renewing and signing out, as a frontend or an editor's tool does.

use dispatch::auth::Role;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, Resp, TestApp, spawn_app, spawn_app_with,
};

async fn refresh(app: &TestApp, token: &str) -> Resp {
    app.send(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": token})),
    )
    .await
}

async fn logout(app: &TestApp, token: &str) -> Resp {
    app.send(
        Method::POST,
        "/api/v1/auth/logout",
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

#[tokio::test]
async fn an_editor_signs_in_writes_and_reads_who_they_are() {
    let app = spawn_app().await;
    let editor = app.user(Role::Editor, None).await;
    // Email case and surrounding spaces do not matter.
    let resp = app
        .login(&format!("  {} ", editor.email.to_uppercase()), PASSWORD)
        .await;
    resp.assert_status(200);
    let keys: Vec<&String> = resp.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        // The declared order of `TokenPair`.
        [
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "refresh_expires_in"
        ]
    );
    assert_eq!(resp.body["token_type"], "Bearer");
    assert_eq!(resp.body["expires_in"], 900);
    assert_eq!(resp.body["refresh_expires_in"], 30 * 86_400);
    let (access, _) = pair(&resp);
    let me = app.get_as("/api/v1/auth/me", &access).await;
    me.assert_absent(200, "", "password_hash")
        .assert_absent(200, "", "password");
    assert_eq!(me.body["email"], editor.email);
    assert_eq!(me.body["role"], "editor");
    assert_eq!(me.body["disabled"], false);
    app.send(
        Method::POST,
        "/api/v1/tags",
        Some(&access),
        Some(json!({"name": "Energy"})),
    )
    .await
    .assert_status(201);
    app.get("/api/v1/auth/me").await.assert_problem(401);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app.login(ADMIN_EMAIL, "not the password at all").await;
    let unknown = app.login("nobody@dispatch.test", ADMIN_PASSWORD).await;
    for resp in [&wrong, &unknown] {
        resp.assert_problem(401)
            .assert_detail("The email or password is not correct.");
    }
    // Alike but for the request id, which is every response's own.
    let without_id = |resp: &crate::helpers::Resp| {
        let mut body = resp.body.clone();
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    assert_eq!(without_id(&wrong), without_id(&unknown));
    assert_ne!(wrong.body["request_id"], unknown.body["request_id"]);
    for name in ["content-type", "www-authenticate", "content-length"] {
        assert_eq!(wrong.header(name), unknown.header(name), "{name}");
    }
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in() {
    let app = spawn_app().await;
    let user = app.user(Role::Author, None).await;
    app.patch(
        &format!("/api/v1/users/{}", user.id),
        json!({"disabled": true}),
    )
    .await
    .assert_status(200);
    app.login(&user.email, PASSWORD)
        .await
        .assert_problem(403)
        .assert_detail("This account is disabled; an admin can enable it.");
    // Without the right password it is the plain 401: nothing is revealed.
    app.login(&user.email, "a wrong password entirely")
        .await
        .assert_problem(401)
        .assert_detail("The email or password is not correct.");
    app.patch(
        &format!("/api/v1/users/{}", user.id),
        json!({"disabled": false}),
    )
    .await
    .assert_status(200);
    app.login(&user.email, PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn bad_login_bodies_are_400_naming_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"email": ADMIN_EMAIL}), "password"),
        (json!({"password": "x"}), "email"),
        (json!({"email": 5, "password": "x"}), "email"),
        (
            json!({"email": ADMIN_EMAIL, "password": "x", "remember": true}),
            "remember",
        ),
        (
            json!({"email": ADMIN_EMAIL, "password": "x".repeat(257)}),
            "password",
        ),
    ] {
        app.send(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await
            .assert_problem(400)
            .assert_fields(&[field]);
    }
    app.send_raw(
        Method::POST,
        "/api/v1/auth/login",
        None,
        "application/json",
        "{",
    )
    .await
    .assert_problem(400);
    app.send_raw(Method::POST, "/api/v1/auth/login", None, "text/plain", "hi")
        .await
        .assert_problem(415);
    for body in [
        json!({}),
        json!({"refresh_token": 5}),
        json!({"refresh_token": "x".repeat(513)}),
    ] {
        app.send(Method::POST, "/api/v1/auth/refresh", None, Some(body))
            .await
            .assert_problem(400)
            .assert_fields(&["refresh_token"]);
    }
}

#[tokio::test]
async fn the_per_email_limit_trips_and_recovers() {
    let app = spawn_app_with(&[
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "3"),
        ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "60"),
    ])
    .await;
    let target = app.user(Role::Editor, None).await;
    // Successful sign-ins do not use up the budget; failed ones do.
    for _ in 0..5 {
        app.login(&target.email, PASSWORD).await.assert_status(200);
    }
    for _ in 0..3 {
        app.login(&target.email, "guessing the password")
            .await
            .assert_problem(401);
    }
    let limited = app.login(&target.email, PASSWORD).await;
    limited
        .assert_problem(429)
        .assert_detail("Too many sign-in attempts; try again in 20 seconds.");
    assert_eq!(limited.header("retry-after"), Some("20"));
    assert_eq!(
        limited.body["type"],
        "urn:dispatch:problem:too-many-requests"
    );
    // The limit is per email: another account signs in from the same address.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_status(200);
    // A different spelling of the same email is the same email.
    app.login(&target.email.to_uppercase(), PASSWORD)
        .await
        .assert_problem(429);
    app.clock.advance(chrono::Duration::seconds(19));
    assert_eq!(
        app.login(&target.email, PASSWORD)
            .await
            .header("retry-after"),
        Some("1")
    );
    app.clock.advance(chrono::Duration::seconds(1));
    app.login(&target.email, "still guessing")
        .await
        .assert_problem(401);
    app.login(&target.email, PASSWORD).await.assert_problem(429);
    app.clock.advance(chrono::Duration::seconds(20));
    app.login(&target.email, PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn the_per_address_limit_trips_and_recovers() {
    let app = spawn_app_with(&[
        ("DISPATCH_LOGIN_LIMIT_PER_ADDRESS", "2"),
        ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "10"),
        ("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For"),
    ])
    .await;
    // The harness's own admin login came from 127.0.0.1; these come through a proxy.
    let from = |ip: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("x-forwarded-for", format!("198.51.100.9, {ip}"))
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let retry = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (status, retry)
        }
    };
    assert_eq!(from("203.0.113.7").await, (200, None));
    assert_eq!(from("203.0.113.7").await, (200, None));
    assert_eq!(from("203.0.113.7").await, (429, Some("5".to_string())));
    // Another client address is not affected.
    assert_eq!(from("203.0.113.8").await.0, 200);
    app.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(from("203.0.113.7").await.0, 200);
    assert_eq!(from("203.0.113.7").await.0, 429);
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out_elsewhere() {
    let app = spawn_app_with(&[
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "5"),
        ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "60"),
        ("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For"),
    ])
    .await;
    let target = app.user(Role::Editor, None).await;
    let from = |ip: &'static str, password: &'static str| {
        let app = &app;
        let email = target.email.clone();
        async move {
            let resp = app
                .client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("x-forwarded-for", format!("198.51.100.9, {ip}"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            (
                status,
                body["detail"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    let attacker = "203.0.113.66";
    for _ in 0..5 {
        assert_eq!(
            from(attacker, "guessing the password").await,
            (401, "The email or password is not correct.".to_string())
        );
    }
    // The attacker's address is locked out of this account, even with the right password...
    assert_eq!(
        from(attacker, PASSWORD).await,
        (
            429,
            "Too many sign-in attempts; try again in 12 seconds.".to_string()
        )
    );
    // ...but the owner, from anywhere else, signs in.
    assert_eq!(from("192.0.2.10", PASSWORD).await.0, 200);
    assert_eq!(from("192.0.2.11", PASSWORD).await.0, 200);
    assert_eq!(from(attacker, PASSWORD).await.0, 429);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let user = app.user(Role::Author, None).await;
    let (access1, refresh1) = pair(&refresh(&app, &user.refresh).await);
    assert_ne!(refresh1, user.refresh);
    app.get_as("/api/v1/auth/me", &access1)
        .await
        .assert_status(200);
    let (_, refresh2) = pair(&refresh(&app, &refresh1).await);
    // Another session of the same user, which the theft must not affect.
    let (_, other) = pair(&app.login(&user.email, PASSWORD).await);

    // refresh1 was used already: presenting it again is a theft signal.
    refresh(&app, &refresh1)
        .await
        .assert_problem(401)
        .assert_detail(
            "The refresh token was already used, so its session has been ended; sign in again.",
        );
    // The whole family is dead, including the latest token the thief may hold.
    refresh(&app, &refresh2)
        .await
        .assert_problem(401)
        .assert_detail("The refresh token has been revoked; sign in again.");
    refresh(&app, &user.refresh).await.assert_problem(401);
    // The other session lives on.
    pair(&refresh(&app, &other).await);
    refresh(&app, "made-up-token")
        .await
        .assert_problem(401)
        .assert_detail("The refresh token is not valid; sign in again.");
}

#[tokio::test]
async fn concurrent_uses_of_one_refresh_token_rotate_exactly_once() {
    let app = spawn_app().await;
    for round in 0..5 {
        let user = app.user(Role::Editor, None).await;
        let attempts = (0..6).map(|_| refresh(&app, &user.refresh));
        let results = futures_util::future::join_all(attempts).await;
        let ok: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), 1, "round {round}: {results:?}");
        // The others are reuses: the first ends the session, later ones find it ended.
        for r in results.iter().filter(|r| r.status != 200) {
            r.assert_problem(401);
            assert!(
                [
                    "The refresh token was already used, so its session has been ended; sign in again.",
                    "The refresh token has been revoked; sign in again.",
                ]
                .contains(&r.body["detail"].as_str().unwrap()),
                "{}",
                r.text
            );
        }
        // Any reuse ended the family, so even the winner's new token is dead.
        let token = ok[0].body["refresh_token"].as_str().unwrap();
        refresh(&app, token)
            .await
            .assert_problem(401)
            .assert_detail("The refresh token has been revoked; sign in again.");
    }
}

#[tokio::test]
async fn logout_ends_the_session_and_ignores_unknown_tokens() {
    let app = spawn_app().await;
    let user = app.user(Role::Contributor, None).await;
    let (_, rotated) = pair(&refresh(&app, &user.refresh).await);
    let (access, newest) = pair(&refresh(&app, &rotated).await);
    // Another session of the same user, which this logout must not end.
    let (_, other) = pair(&app.login(&user.email, PASSWORD).await);
    // Signing out with the first token of the session ends the whole session:
    // the newest token, rotated twice since, no longer renews.
    logout(&app, &user.refresh).await.assert_status(204);
    for token in [&newest, &rotated, &user.refresh] {
        refresh(&app, token)
            .await
            .assert_problem(401)
            .assert_detail("The refresh token has been revoked; sign in again.");
    }
    // Access tokens are not stored, so one already issued lives out its minutes;
    // ending every access token at once is what a new password does.
    app.get_as("/api/v1/auth/me", &access)
        .await
        .assert_status(200);
    pair(&refresh(&app, &other).await);
    logout(&app, &newest).await.assert_status(204);
    logout(&app, "never-issued").await.assert_status(204);
    app.send(Method::POST, "/api/v1/auth/logout", None, Some(json!({})))
        .await
        .assert_problem(400)
        .assert_fields(&["refresh_token"]);
}

#[tokio::test]
async fn refresh_tokens_expire_after_the_configured_days() {
    let app = spawn_app_with(&[("DISPATCH_REFRESH_TOKEN_DAYS", "7")]).await;
    let user = app.user(Role::Editor, None).await;
    app.clock.advance(chrono::Duration::days(7));
    refresh(&app, &user.refresh)
        .await
        .assert_problem(401)
        .assert_detail("The refresh token has expired; sign in again.");
    let again = app.login(&user.email, PASSWORD).await;
    assert_eq!(again.body["refresh_expires_in"], 7 * 86_400);
}

/// A sign-in answered 503 (every hashing slot taken by others) never had its
/// password checked, so it is not a failed attempt: the owner, retrying as told,
/// is not locked out of their account once the crowd is gone.
#[tokio::test]
async fn sign_ins_refused_as_busy_do_not_count_as_failures() {
    let app = spawn_app_with(&[
        ("DISPATCH_HASH_CONCURRENCY", "1"),
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "2"),
        ("DISPATCH_LOGIN_LIMIT_PER_ADDRESS", "1000"),
        ("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For"),
    ])
    .await;
    let owner = app.user(Role::Editor, None).await;
    let login_from = |ip: String, email: String, password: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("x-forwarded-for", ip)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (status, text)
        }
    };
    let mut busy = 0;
    for round in 0..20 {
        if busy >= 4 {
            break;
        }
        // A crowd from elsewhere keeps the only hashing slot busy...
        let crowd = (0..6).map(|i| {
            login_from(
                format!("203.0.113.{}", round * 6 + i + 1),
                format!("nobody{round}-{i}@example.com"),
                "not the password",
            )
        });
        // ...while the owner signs in, a moment later.
        let owner_try = async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            login_from("192.0.2.10".into(), owner.email.clone(), PASSWORD).await
        };
        let (crowd, (status, text)) = tokio::join!(join_all(crowd), owner_try);
        for (s, t) in crowd {
            assert!(s == 401 || s == 503, "{s}: {t}");
        }
        match status {
            503 => busy += 1,
            200 => {}
            other => panic!("the owner's sign-in answered {other}: {text}"),
        }
    }
    assert!(busy >= 4, "the owner was refused as busy only {busy} times");
    // The crowd is gone: the right password works, as often as the limit allows.
    for _ in 0..3 {
        let (status, text) = login_from("192.0.2.10".into(), owner.email.clone(), PASSWORD).await;
        assert_eq!(status, 200, "{text}");
    }
}
