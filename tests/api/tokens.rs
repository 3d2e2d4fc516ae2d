//! Token attacks: every forged, stale or misdirected access token is a 401
//! problem+json with `WWW-Authenticate: Bearer`, on writes and on reads, and
//! changes nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dispatch::auth::Role;
use dispatch::clock::Clock;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, spawn_app};

fn sign(claims: &Value, secret: &str, alg: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims for the first admin, valid for ten minutes by the app's clock.
fn claims(app: &TestApp) -> Value {
    let now = app.clock.now().timestamp();
    json!({"sub": app.admin_id, "role": "admin", "iat": now, "exp": now + 600,
           "iss": "dispatch", "aud": "dispatch-api", "jti": "j", "ver": 0})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// Sends every write (and a read) with `header` and asserts each is a 401 with `detail`.
async fn assert_refused(
    app: &TestApp,
    publisher: &str,
    why: &str,
    header: Option<&str>,
    detail: &str,
) {
    let writes = [
        (
            Method::POST,
            "/api/v1/publishers".to_string(),
            json!({"name": "x"}),
        ),
        (
            Method::POST,
            "/api/v1/articles".to_string(),
            json!({"title": "x", "publisher_id": publisher}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/publishers/{publisher}"),
            json!({"name": "changed"}),
        ),
        (
            Method::DELETE,
            format!("/api/v1/publishers/{publisher}"),
            json!({}),
        ),
        (Method::GET, "/api/v1/users".to_string(), json!({})),
        (Method::GET, "/api/v1/auth/me".to_string(), json!({})),
    ];
    for (method, path, body) in writes {
        let mut req = app
            .client
            .request(method.clone(), format!("{}{path}", app.base));
        if method != Method::GET {
            req = req.json(&body);
        }
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let www = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let request_id = resp
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string());
        let mut body: Value = resp.json().await.unwrap();
        assert_eq!(status, 401, "{why}: {method} {path} -> {body}");
        // The body names the request it answers, as the header does.
        let named = body.as_object_mut().unwrap().remove("request_id");
        assert_eq!(
            named.as_ref().and_then(Value::as_str),
            request_id.as_deref()
        );
        assert_eq!(www.as_deref(), Some("Bearer"), "{why}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{why}");
        assert_eq!(
            body,
            json!({"type": "urn:dispatch:problem:unauthorized", "title": "Unauthorized",
                   "status": 401, "detail": detail}),
            "{why}: {method} {path}"
        );
    }
    // A bad token on a public read is refused too, so the client knows to renew it.
    if let Some(h) = header {
        let resp = app
            .client
            .get(format!("{}/api/v1/articles", app.base))
            .header("authorization", h)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{why} on a read");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["detail"], json!(detail), "{why} on a read");
    }
}

async fn assert_nothing_changed(app: &TestApp) {
    let publishers = app.get("/api/v1/publishers?count=true").await;
    assert_eq!(publishers.body["meta"]["total"], 1);
    assert_eq!(publishers.body["data"][0]["name"], "Ledger");
    let articles = app.get_as("/api/v1/articles?count=true", &app.admin).await;
    assert_eq!(articles.body["meta"]["total"], 0);
}

const REQUIRED: &str = "A bearer access token is required: send `Authorization: Bearer <token>`.";
const INVALID: &str = "The access token is not valid.";

#[tokio::test]
async fn forged_and_misdirected_tokens_are_401_and_change_nothing() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let valid = app.admin.clone();
    let editor = app.token(Role::Editor).await;

    // An editor's token with the role in the payload changed to admin, signature kept.
    let mut parts: Vec<String> = editor.split('.').map(String::from).collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["role"] = json!("admin");
    parts[1] = b64(&serde_json::to_vec(&payload).unwrap());
    let tampered = parts.join(".");
    let base = claims(&app);
    let body = b64(&serde_json::to_vec(&base).unwrap());
    let none = format!("{}.{body}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    let rs256 = format!(
        "{}.{body}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&[7u8; 256])
    );
    let now = app.clock.now().timestamp();
    let hs = |c: &Value| format!("Bearer {}", sign(c, SECRET, Algorithm::HS256));
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no header", None, REQUIRED),
        (
            "wrong scheme",
            Some(format!("Basic {valid}")),
            "The Authorization header must use the Bearer scheme.",
        ),
        ("garbage", Some("Bearer not-a-jwt".into()), INVALID),
        ("alg none", Some(format!("Bearer {none}")), INVALID),
        (
            "RS256 instead of the pinned HS256",
            Some(format!("Bearer {rs256}")),
            "The access token is not signed with the algorithm this API uses.",
        ),
        (
            "HS512 instead of the pinned HS256",
            Some(format!("Bearer {}", sign(&base, SECRET, Algorithm::HS512))),
            "The access token is not signed with the algorithm this API uses.",
        ),
        (
            "signed with another secret",
            Some(format!(
                "Bearer {}",
                sign(
                    &base,
                    "another-secret-another-secret-another",
                    Algorithm::HS256
                )
            )),
            INVALID,
        ),
        (
            "tampered payload",
            Some(format!("Bearer {tampered}")),
            INVALID,
        ),
        (
            "expired",
            Some(hs(&with(
                with(base.clone(), "iat", json!(now - 1000)),
                "exp",
                json!(now - 60),
            ))),
            "The access token has expired.",
        ),
        (
            "not valid before a future time",
            Some(hs(&with(base.clone(), "nbf", json!(now + 300)))),
            "The access token is not valid yet.",
        ),
        (
            "issued in the future",
            Some(hs(&with(base.clone(), "iat", json!(now + 300)))),
            "The access token is not valid yet.",
        ),
        (
            "wrong issuer",
            Some(hs(&with(base.clone(), "iss", json!("someone")))),
            "The access token was not issued for this API.",
        ),
        (
            "wrong audience",
            Some(hs(&with(base.clone(), "aud", json!("another-api")))),
            "The access token was not issued for this API.",
        ),
        (
            "no expiry",
            Some(hs(&{
                let mut c = base.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            })),
            INVALID,
        ),
        (
            "unknown role",
            Some(hs(&with(base.clone(), "role", json!("owner")))),
            INVALID,
        ),
        (
            "a subject that is not a user id",
            Some(hs(&with(base.clone(), "sub", json!("admin")))),
            INVALID,
        ),
        (
            "an older credential version",
            Some(hs(&with(base.clone(), "ver", json!(-1)))),
            "The access token was issued before the account's password, role or status changed; sign in again.",
        ),
        (
            "a newer credential version",
            Some(hs(&with(base.clone(), "ver", json!(1)))),
            "The access token was issued before the account's password, role or status changed; sign in again.",
        ),
        (
            "a credential version that is not a number",
            Some(hs(&with(base.clone(), "ver", json!("0")))),
            INVALID,
        ),
        (
            "a user that never existed",
            Some(hs(&with(
                base.clone(),
                "sub",
                json!(uuid::Uuid::now_v7().to_string()),
            ))),
            "The account this token was issued to no longer exists.",
        ),
    ];
    for (why, header, detail) in &cases {
        assert_refused(&app, &p, why, header.as_deref(), detail).await;
    }
    assert_nothing_changed(&app).await;
    // The genuine token still works, so the refusals were about the tokens.
    app.get_as("/api/v1/users", &valid).await.assert_status(200);
}

#[tokio::test]
async fn tokens_of_disabled_or_deleted_users_stop_working_at_once() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let disabled = app.user(Role::Editor, None).await;
    let deleted = app.user(Role::Editor, None).await;
    for u in [&disabled, &deleted] {
        app.send(
            Method::POST,
            "/api/v1/tags",
            Some(&u.token),
            Some(json!({"name": format!("t{}", u.id)})),
        )
        .await
        .assert_status(201);
    }
    app.patch(
        &format!("/api/v1/users/{}", disabled.id),
        json!({"disabled": true}),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/api/v1/users/{}", deleted.id))
        .await
        .assert_status(204);
    assert_refused(
        &app,
        &p,
        "disabled user",
        Some(&format!("Bearer {}", disabled.token)),
        "The account this token was issued to is disabled.",
    )
    .await;
    assert_refused(
        &app,
        &p,
        "deleted user",
        Some(&format!("Bearer {}", deleted.token)),
        "The account this token was issued to no longer exists.",
    )
    .await;
    // Their refresh tokens are dead too.
    for u in [&disabled, &deleted] {
        app.send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": u.refresh})),
        )
        .await
        .assert_problem(401);
    }
    assert_nothing_changed(&app).await;
}

#[tokio::test]
async fn access_tokens_expire_by_the_clock() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let editor = app.user(Role::Editor, None).await;
    app.clock.advance(chrono::Duration::seconds(899));
    app.get_as("/api/v1/auth/me", &editor.token)
        .await
        .assert_status(200);
    app.clock.advance(chrono::Duration::seconds(1));
    assert_refused(
        &app,
        &p,
        "fifteen minutes later",
        Some(&format!("Bearer {}", editor.token)),
        "The access token has expired.",
    )
    .await;
}

#[tokio::test]
async fn a_configured_stronger_algorithm_is_the_only_one_accepted() {
    let app = crate::helpers::spawn_app_with(&[("DISPATCH_JWT_ALGORITHM", "HS512")]).await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(app.admin.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS512");
    app.get_as("/api/v1/users", &app.admin)
        .await
        .assert_status(200);
    let hs256 = sign(&claims(&app), SECRET, Algorithm::HS256);
    app.get_as("/api/v1/users", &hs256)
        .await
        .assert_problem(401)
        .assert_detail("The access token is not signed with the algorithm this API uses.");
}

#[tokio::test]
async fn a_token_missing_any_required_claim_is_refused() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let base = claims(&app);
    // The claims as they are work, so each refusal is about the missing one.
    let whole = sign(&base, SECRET, Algorithm::HS256);
    app.get_as("/api/v1/auth/me", &whole)
        .await
        .assert_status(200);
    for claim in ["jti", "iss", "aud", "iat", "sub", "exp", "role", "ver"] {
        let mut c = base.clone();
        c.as_object_mut().unwrap().remove(claim);
        let header = format!("Bearer {}", sign(&c, SECRET, Algorithm::HS256));
        assert_refused(&app, &p, &format!("no {claim}"), Some(&header), INVALID).await;
    }
    assert_nothing_changed(&app).await;
}

#[tokio::test]
async fn iat_and_nbf_may_be_thirty_seconds_ahead_and_no_more() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let now = app.clock.now().timestamp();
    let base = claims(&app);
    for claim in ["iat", "nbf"] {
        for ahead in [1, 29, 30] {
            let token = sign(
                &with(base.clone(), claim, json!(now + ahead)),
                SECRET,
                Algorithm::HS256,
            );
            app.get_as("/api/v1/auth/me", &token)
                .await
                .assert_status(200);
        }
        for ahead in [31, 3600] {
            let token = sign(
                &with(base.clone(), claim, json!(now + ahead)),
                SECRET,
                Algorithm::HS256,
            );
            assert_refused(
                &app,
                &p,
                &format!("{claim} {ahead} s ahead"),
                Some(&format!("Bearer {token}")),
                "The access token is not valid yet.",
            )
            .await;
        }
    }
    // Skew tolerance is for clocks a little apart, not for a token that has expired.
    let expired = with(
        with(base.clone(), "iat", json!(now - 600)),
        "exp",
        json!(now),
    );
    assert_refused(
        &app,
        &p,
        "expiring this second",
        Some(&format!(
            "Bearer {}",
            sign(&expired, SECRET, Algorithm::HS256)
        )),
        "The access token has expired.",
    )
    .await;
    assert_nothing_changed(&app).await;
}
