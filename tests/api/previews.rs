//! Draft previews: an editor's signed, expiring link shows one article as it stands
//! to anyone holding it, with headers that keep it out of caches and search
//! engines; only editors and admins make or revoke links; every token that does
//! not open an article now (malformed, altered, expired, revoked, another article's,
//! its article deleted) gets the same 404; the response cache never holds a
//! preview; and revocations racing reads and new links answer cleanly.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use dispatch::auth::Role;
use dispatch::auth::preview::{PreviewClaims, PreviewKeys};
use dispatch::clock::Clock;
use dispatch::config::Secret;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Resp, SECRET, TestApp, read, spawn_app, spawn_app_with};

const NOT_FOUND: &str = "No preview has this token: it is malformed, has expired or has been \
                         revoked, or its article is gone.";

fn link_path(article: &str) -> String {
    format!("/api/v1/articles/{article}/preview-link")
}

fn links_path(article: &str) -> String {
    format!("/api/v1/articles/{article}/preview-links")
}

fn preview_path(token: &str) -> String {
    format!("/api/v1/preview/{token}")
}

/// Asks for a link to `article` as `token` with `body`; asserts 201 and returns the token.
async fn link_as(app: &TestApp, token: &str, article: &str, body: Option<Value>) -> String {
    let resp = app
        .send(Method::POST, &link_path(article), Some(token), body)
        .await;
    resp.assert_json(201);
    resp.body["token"].as_str().unwrap().to_string()
}

/// A link to `article` made by the admin, with the default life.
async fn link(app: &TestApp, article: &str) -> String {
    link_as(app, &app.admin, article, None).await
}

/// A draft's id.
async fn draft(app: &TestApp, title: &str) -> String {
    let publisher = app.publisher(&format!("{title} Press")).await;
    app.article(&publisher, json!({"title": title})).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asserts the preview 404 and returns its body without the request id (the one
/// part that differs between two refusals).
#[track_caller]
fn refused(resp: &Resp) -> Value {
    resp.assert_problem(404);
    resp.assert_detail(NOT_FOUND);
    assert_eq!(resp.body["type"], "urn:dispatch:problem:not-found");
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let mut body = resp.body.clone();
    body.as_object_mut().unwrap().remove("request_id");
    body
}

/// `token` with the character at `at` changed to another one of the alphabet.
fn flipped(token: &str, at: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// The parts of a token: payload and MAC.
fn parts(token: &str) -> (&str, &str) {
    token.split_once('.').unwrap()
}

#[tokio::test]
async fn an_editor_links_a_draft_and_anyone_with_the_token_reads_it_as_it_stands() {
    let app = spawn_app().await;
    let editor = app.user(Role::Editor, None).await;
    let id = draft(&app, "Budget leak").await;
    let made = app
        .send(Method::POST, &link_path(&id), Some(&editor.token), None)
        .await;
    made.assert_json(201);
    let token = made.body["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 98, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "URL-safe: {token}"
    );
    let expires_at = (app.clock.now() + Duration::hours(1)).timestamp();
    let link_id = made.id();
    assert_eq!(
        made.body,
        json!({
            "id": link_id,
            "token": token,
            // The site's default address (the tests set none).
            "url": format!("http://localhost:3000/preview/{token}"),
            "expires_at": DateTime::<Utc>::from_timestamp(expires_at, 0).unwrap().to_rfc3339(),
            "article_id": id,
        }),
        "{}",
        made.text
    );
    assert_eq!(made.header("cache-control"), Some("no-store"));
    assert_eq!(made.header("location"), Some(&*preview_path(&token)));

    // Anonymous: the draft, exactly as an editor reads it.
    let seen = app.get(&preview_path(&token)).await;
    seen.assert_json(200);
    assert_eq!(seen.body["status"], "draft");
    assert_eq!(seen.body["title"], "Budget leak");
    let as_editor = app
        .get_as(&format!("/api/v1/articles/{id}"), &editor.token)
        .await;
    assert_eq!(seen.body, as_editor.body);
    assert_eq!(seen.header("cache-control"), Some("no-store"));
    assert_eq!(seen.header("x-robots-tag"), Some("noindex"));
    assert_eq!(seen.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(seen.header("x-cache"), None);
    assert_eq!(seen.header("surrogate-key"), None);
    // The public API still does not show it.
    app.get(&format!("/api/v1/articles/{id}"))
        .await
        .assert_problem(404);

    // `include` and `fields` as on the article's own address.
    let author = app.author("Ann Lee").await;
    app.patch(
        &format!("/api/v1/articles/{id}"),
        json!({"author_ids": [author], "title": "Budget leak, updated"}),
    )
    .await
    .assert_status(200);
    let query = "?include=authors&fields=title,status&fields[authors]=name";
    let picked = app.get(&format!("{}{query}", preview_path(&token))).await;
    picked.assert_json(200);
    let expected = app
        .get_as(&format!("/api/v1/articles/{id}{query}"), &app.admin)
        .await;
    assert_eq!(picked.body, expected.body);
    assert_eq!(picked.body["title"], "Budget leak, updated");
    assert_eq!(picked.body["authors"][0]["name"], "Ann Lee");
    assert!(picked.body.get("body_html").is_none(), "{}", picked.text);
    app.get(&format!("{}?include=nothing", preview_path(&token)))
        .await
        .assert_problem(400)
        .assert_fields(&["include"]);

    // A conditional read: 304 on the current tag, still not to be stored.
    let again = app.get(&preview_path(&token)).await;
    let etag = again.header("etag").unwrap().to_string();
    let conditional = read(
        app.client
            .get(format!("{}{}", app.base, preview_path(&token)))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap(),
    )
    .await;
    conditional.assert_status(304);
    assert_eq!(conditional.header("cache-control"), Some("no-store"));
    assert_eq!(conditional.header("etag"), Some(&*etag));
    assert!(conditional.text.is_empty());
}

#[tokio::test]
async fn the_url_opens_on_the_configured_public_site() {
    let app = spawn_app_with(&[("DISPATCH_PUBLIC_SITE_URL", "https://news.example/base/")]).await;
    let id = draft(&app, "Ferry strike").await;
    let made = app
        .send(Method::POST, &link_path(&id), Some(&app.admin), None)
        .await;
    made.assert_json(201);
    let token = made.body["token"].as_str().unwrap();
    assert_eq!(
        made.body["url"],
        json!(format!("https://news.example/base/preview/{token}"))
    );
    // The API still serves it.
    app.get(&preview_path(token)).await.assert_json(200);
}

#[tokio::test]
async fn only_editors_and_admins_make_or_revoke_links() {
    let app = spawn_app().await;
    let publisher = app.publisher("Ledger").await;
    for role in [Role::Contributor, Role::Author] {
        // Even with their own draft in hand.
        let author = app.author(&format!("{} Byline", role.as_str())).await;
        let user = app.user(role, Some(&author)).await;
        let own = app
            .article(&publisher, json!({"author_ids": [author]}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let detail = format!(
            "The role `{}` may not make or revoke preview links; the roles that may: admin, editor.",
            role.as_str()
        );
        for (method, path) in [
            (Method::POST, link_path(&own)),
            (Method::DELETE, links_path(&own)),
        ] {
            app.send(method, &path, Some(&user.token), None)
                .await
                .assert_problem(403)
                .assert_detail(&detail);
        }
    }
    let id = draft(&app, "Harbour").await;
    for (method, path) in [
        (Method::POST, link_path(&id)),
        (Method::DELETE, links_path(&id)),
    ] {
        app.send(method.clone(), &path, None, None)
            .await
            .assert_problem(401);
        app.send(method, &path, Some("not-a-token"), None)
            .await
            .assert_problem(401);
    }
    // Nothing was made by the refusals: the admin's revocation finds no link to end,
    // and the admin and an editor may.
    let editor = app.user(Role::Editor, None).await;
    link_as(&app, &editor.token, &id, None).await;
    app.send(Method::DELETE, &links_path(&id), Some(&editor.token), None)
        .await
        .assert_status(204);
    link(&app, &id).await;
    app.delete(&links_path(&id)).await.assert_status(204);
}

#[tokio::test]
async fn expires_in_must_be_a_minute_to_a_day() {
    let app = spawn_app().await;
    let id = draft(&app, "Bounds").await;
    let detail = "`expires_in`: must be from 60 to 86400 seconds (a minute to a day)";
    for bad in [-1i64, 0, 59, 86_401, 1_000_000_000_000] {
        let resp = app.post(&link_path(&id), json!({"expires_in": bad})).await;
        resp.assert_problem(422)
            .assert_fields(&["expires_in"])
            .assert_detail(detail);
        assert_eq!(resp.body["type"], "urn:dispatch:problem:validation");
        assert_eq!(
            resp.body["errors"],
            json!([{"field": "expires_in", "message": "must be from 60 to 86400 seconds (a minute to a day)"}])
        );
    }
    // Not an integer, or an unknown field: the schema's 400.
    for bad in [
        json!({"expires_in": "3600"}),
        json!({"expires_in": 60.5}),
        json!({"expires_in": 60, "token": "mine"}),
    ] {
        app.post(&link_path(&id), bad.clone())
            .await
            .assert_problem(400);
    }
    let now = app.clock.now().timestamp();
    for (body, secs) in [
        (Some(json!({"expires_in": 60})), 60),
        (Some(json!({"expires_in": 86_400})), 86_400),
        (Some(json!({})), 3600),
        (None, 3600),
    ] {
        let resp = app
            .send(Method::POST, &link_path(&id), Some(&app.admin), body)
            .await;
        resp.assert_json(201);
        let at: DateTime<Utc> = resp.body["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(at.timestamp(), now + secs, "{}", resp.text);
    }
    // Nothing to link to.
    let nowhere = app.post(&link_path("no-such-story"), json!({})).await;
    nowhere.assert_problem(404);
    nowhere.assert_detail("No article has this id or slug.");
    app.delete(&links_path(&Uuid::now_v7().to_string()))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn a_link_works_until_its_time_by_the_clock() {
    let app = spawn_app().await;
    let id = draft(&app, "Short-lived").await;
    let minute = link_as(&app, &app.admin, &id, Some(json!({"expires_in": 60}))).await;
    let hour = link(&app, &id).await;
    app.clock.advance(Duration::seconds(59));
    app.get(&preview_path(&minute)).await.assert_json(200);
    app.clock.advance(Duration::seconds(1));
    refused(&app.get(&preview_path(&minute)).await);
    app.get(&preview_path(&hour)).await.assert_json(200);
    app.clock.advance(Duration::seconds(3600 - 60));
    refused(&app.get(&preview_path(&hour)).await);
}

#[tokio::test]
async fn an_altered_token_opens_nothing() {
    let app = spawn_app().await;
    let id = draft(&app, "Tamper").await;
    let token = link(&app, &id).await;
    app.get(&preview_path(&token)).await.assert_json(200);
    let dot = token.find('.').unwrap();
    // A character of each part: the first, one in the middle, the last.
    for at in [0, 20, dot - 1, dot + 1, dot + 20, token.len() - 1] {
        refused(&app.get(&preview_path(&flipped(&token, at))).await);
    }
    let (payload, mac) = parts(&token);
    for bad in [
        format!("{payload}."),
        format!(".{mac}"),
        format!("{payload}{mac}"),
        format!("{token}A"),
        token[1..].to_string(),
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
        "x".to_string(),
        "..".repeat(49),
        "a".repeat(4000),
    ] {
        refused(&app.get(&preview_path(&bad)).await);
    }
    app.get(&preview_path(&token)).await.assert_json(200);
}

#[tokio::test]
async fn a_token_opens_its_own_article_only() {
    let app = spawn_app().await;
    let a = draft(&app, "Story A").await;
    let b = draft(&app, "Story B").await;
    let token_a = link(&app, &a).await;
    let token_b = link(&app, &b).await;
    assert_eq!(app.get(&preview_path(&token_a)).await.body["id"], json!(a));
    assert_eq!(app.get(&preview_path(&token_b)).await.body["id"], json!(b));

    // A's payload with B's article in it, under A's MAC.
    let (payload, mac) = parts(&token_a);
    let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
    bytes[16..32].copy_from_slice(Uuid::parse_str(&b).unwrap().as_bytes());
    let swapped = format!("{}.{mac}", URL_SAFE_NO_PAD.encode(&bytes));
    refused(&app.get(&preview_path(&swapped)).await);
    // One token's payload with the other's MAC.
    let (payload_b, mac_b) = parts(&token_b);
    refused(&app.get(&preview_path(&format!("{payload}.{mac_b}"))).await);
    refused(&app.get(&preview_path(&format!("{payload_b}.{mac}"))).await);

    // Even validly signed (the test knows the secret), A's link never opens B: the
    // link row names its article.
    let keys = PreviewKeys::new(&Secret::new(SECRET));
    let expires_at = DateTime::from_timestamp(bytes_time(&bytes), 0).unwrap();
    let forged = keys.sign(&PreviewClaims {
        link_id: Uuid::from_slice(&bytes[..16]).unwrap(),
        article_id: Uuid::parse_str(&b).unwrap(),
        expires_at,
    });
    refused(&app.get(&preview_path(&forged)).await);
    // …and a link id nobody made opens nothing.
    let made_up = keys.sign(&PreviewClaims {
        link_id: Uuid::now_v7(),
        article_id: Uuid::parse_str(&a).unwrap(),
        expires_at,
    });
    refused(&app.get(&preview_path(&made_up)).await);
    // The signing the test copied is the server's: signed the same way, A's own
    // claims open A.
    let same = keys.sign(&PreviewClaims {
        link_id: Uuid::from_slice(&bytes[..16]).unwrap(),
        article_id: Uuid::parse_str(&a).unwrap(),
        expires_at,
    });
    assert_eq!(same, token_a);

    // Revoking B's links leaves A's working.
    app.delete(&links_path(&b)).await.assert_status(204);
    refused(&app.get(&preview_path(&token_b)).await);
    app.get(&preview_path(&token_a)).await.assert_json(200);
}

/// The expiry a token's payload carries.
fn bytes_time(payload: &[u8]) -> i64 {
    i64::from_be_bytes(payload[32..40].try_into().unwrap())
}

#[tokio::test]
async fn revoking_ends_every_link_of_the_article_and_a_new_one_works() {
    let app = spawn_app().await;
    let id = draft(&app, "Revoked").await;
    let first = link(&app, &id).await;
    let second = link(&app, &id).await;
    let slug = app
        .get_as(&format!("/api/v1/articles/{id}"), &app.admin)
        .await
        .body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    // By slug as well as by id.
    app.delete(&links_path(&slug)).await.assert_status(204);
    refused(&app.get(&preview_path(&first)).await);
    refused(&app.get(&preview_path(&second)).await);
    let third = link(&app, &slug).await;
    app.get(&preview_path(&third)).await.assert_json(200);
    refused(&app.get(&preview_path(&first)).await);
    // Again: the new one goes too; with nothing live, still 204.
    app.delete(&links_path(&id)).await.assert_status(204);
    refused(&app.get(&preview_path(&third)).await);
    app.delete(&links_path(&id)).await.assert_status(204);
}

#[tokio::test]
async fn a_deleted_article_opens_no_preview() {
    let app = spawn_app().await;
    let id = draft(&app, "Going").await;
    let token = link(&app, &id).await;
    app.delete(&format!("/api/v1/articles/{id}"))
        .await
        .assert_status(204);
    refused(&app.get(&preview_path(&token)).await);
    // No new link to an article in the trash, nor a revocation.
    app.post(&link_path(&id), json!({}))
        .await
        .assert_problem(404);
    app.delete(&links_path(&id)).await.assert_problem(404);
    // Restored, it is as it was, its unrevoked links with it.
    app.post(&format!("/api/v1/trash/articles/{id}/restore"), json!({}))
        .await
        .assert_status(200);
    app.get(&preview_path(&token)).await.assert_json(200);
    // Deleted for good: its links go with it.
    app.delete(&format!("/api/v1/articles/{id}"))
        .await
        .assert_status(204);
    app.delete(&format!("/api/v1/trash/articles/{id}"))
        .await
        .assert_status(204);
    refused(&app.get(&preview_path(&token)).await);
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::preview_link::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn every_refused_token_gets_the_same_answer() {
    let app = spawn_app().await;
    let a = draft(&app, "Same A").await;
    let b = draft(&app, "Same B").await;
    let live = link(&app, &a).await;
    let revoked = link(&app, &b).await;
    app.delete(&links_path(&b)).await.assert_status(204);
    let trashed = {
        let c = draft(&app, "Same C").await;
        let t = link(&app, &c).await;
        app.delete(&format!("/api/v1/articles/{c}"))
            .await
            .assert_status(204);
        t
    };
    let short = link_as(&app, &app.admin, &a, Some(json!({"expires_in": 60}))).await;
    let (payload, mac) = parts(&live);
    let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
    bytes[16..32].copy_from_slice(Uuid::parse_str(&b).unwrap().as_bytes());
    let other_article = format!("{}.{mac}", URL_SAFE_NO_PAD.encode(&bytes));
    app.clock.advance(Duration::seconds(61));
    let cases = [
        ("malformed", "not-a-token".to_string()),
        ("tampered", flipped(&live, 3)),
        ("expired", short),
        ("revoked", revoked),
        ("article in the trash", trashed),
        ("another article's", other_article),
    ];
    let mut bodies = Vec::new();
    for (why, token) in &cases {
        let resp = app.get(&preview_path(token)).await;
        assert_eq!(resp.status, 404, "{why}: {}", resp.text);
        bodies.push((why, refused(&resp), resp.headers.clone()));
    }
    let (_, first, first_headers) = &bodies[0];
    for (why, body, headers) in &bodies {
        assert_eq!(body, first, "{why}");
        for name in ["content-type", "cache-control", "content-length"] {
            assert_eq!(headers.get(name), first_headers.get(name), "{why}: {name}");
        }
    }
    app.get(&preview_path(&live)).await.assert_json(200);
}

#[tokio::test]
async fn the_response_cache_never_holds_a_preview() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let publisher = app.publisher("Cache Press").await;
    let published_at = (app.clock.now() - Duration::hours(1)).to_rfc3339();
    let id = app
        .article(
            &publisher,
            json!({"title": "Before", "status": "published", "published_at": published_at}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = link(&app, &id).await;
    let public = format!("/api/v1/articles/{id}");
    // The public address comes from the cache once warm; the preview never does.
    let mut hit = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        hit = app.get(&public).await.header("x-cache") == Some("hit");
        if hit {
            break;
        }
    }
    assert!(hit, "the public read was never cached");
    for _ in 0..3 {
        let seen = app.get(&preview_path(&token)).await;
        seen.assert_json(200);
        assert_eq!(seen.header("x-cache"), None);
        assert_eq!(seen.body["title"], "Before");
    }
    // A change the cache is not told of (straight into the database, as no write
    // through the API would be): the preview shows it at once, twice.
    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match app.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => "UPDATE articles SET title = $1 WHERE id = $2",
                _ => "UPDATE articles SET title = ? WHERE id = ?",
            },
            [
                "After".into(),
                sea_orm::Value::from(Uuid::parse_str(&id).unwrap()),
            ],
        ))
        .await
        .unwrap();
    for _ in 0..2 {
        let seen = app.get(&preview_path(&token)).await;
        seen.assert_json(200);
        assert_eq!(seen.body["title"], "After", "{}", seen.text);
        assert_eq!(seen.header("x-cache"), None);
    }
    // Where the cache was not told, the public address still answers the old entry
    // (on SQLite; PostgreSQL's trigger tells it).
    let cached = app.get(&public).await;
    if cached.header("x-cache") == Some("hit") {
        assert_eq!(cached.body["title"], "Before");
    }
}

/// What may answer while links are read, made and revoked together.
const CLEAN: [u16; 4] = [200, 201, 204, 404];

#[tokio::test]
async fn revoking_while_links_are_read_and_made_answers_cleanly() {
    let app = spawn_app().await;
    let editor = app.user(Role::Editor, None).await;
    let id = draft(&app, "Contested").await;
    for round in 0..10 {
        let old = link(&app, &id).await;
        let (read, make, revoke) = (preview_path(&old), link_path(&id), links_path(&id));
        let reads = (0..12).map(|_| app.get(&read));
        let creates = (0..4).map(|_| {
            app.send(
                Method::POST,
                &make,
                Some(&editor.token),
                Some(json!({"expires_in": 600})),
            )
        });
        let (read_answers, create_answers, revoked) = futures_util::join!(
            join_all(reads),
            join_all(creates),
            app.send(Method::DELETE, &revoke, Some(&editor.token), None),
        );
        revoked.assert_status(204);
        for resp in read_answers.iter().chain(&create_answers) {
            assert!(
                CLEAN.contains(&resp.status.as_u16()),
                "round {round}: {} {}",
                resp.status,
                resp.text
            );
            if resp.status == 404 {
                refused(resp);
            }
        }
        // A link made before the revocation began is gone after it.
        refused(&app.get(&preview_path(&old)).await);
        for made in &create_answers {
            made.assert_json(201);
            let token = made.body["token"].as_str().unwrap();
            let answer = app.get(&preview_path(token)).await;
            assert!(
                [200, 404].contains(&answer.status.as_u16()),
                "{}",
                answer.text
            );
        }
    }
}

#[tokio::test]
async fn links_made_while_their_article_is_deleted_for_good_answer_cleanly() {
    let app = spawn_app().await;
    for round in 0..6 {
        let id = draft(&app, &format!("Doomed {round}")).await;
        let token = link(&app, &id).await;
        let gone = async {
            let trashed = app.delete(&format!("/api/v1/articles/{id}")).await;
            let purged = app.delete(&format!("/api/v1/trash/articles/{id}")).await;
            (trashed, purged)
        };
        let (make, read) = (link_path(&id), preview_path(&token));
        let creates = (0..6).map(|_| app.post(&make, json!({})));
        let reads = (0..6).map(|_| app.get(&read));
        let ((trashed, purged), made, read_answers) =
            futures_util::join!(gone, join_all(creates), join_all(reads));
        trashed.assert_status(204);
        purged.assert_status(204);
        for resp in made.iter().chain(&read_answers) {
            assert!(
                CLEAN.contains(&resp.status.as_u16()),
                "round {round}: {} {}",
                resp.status,
                resp.text
            );
            if resp.status == 404 {
                resp.assert_problem(404);
            }
        }
        refused(&app.get(&preview_path(&token)).await);
    }
}
