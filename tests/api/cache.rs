//! The response cache of anonymous reads: a hit touches no database and answers
//! the same bytes and tags; every kind of write is seen by the next anonymous read;
//! a scheduled article appears when its time comes (by the test's clock, no
//! sleeping); authenticated reads never come from or go into it; it stays within
//! its byte budget, least recently used out first; and a database that stops
//! answering leaves the cached pages served.

use chrono::Duration;
use dispatch::auth::Role;
use dispatch::clock::Clock;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Resp, TestApp, ids, read, spawn_app, spawn_app_with};

fn x_cache(resp: &Resp) -> Option<&str> {
    resp.header("x-cache")
}

/// Reads `path` until the cache serves it, and returns the hit. On PostgreSQL the
/// notification of the test's last write reaches the cache a moment after the
/// write's response (and drops the entry once more), hence the few tries.
async fn warm(app: &TestApp, path: &str) -> Resp {
    app.get(path).await.assert_status(200);
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        let again = app.get(path).await;
        again.assert_status(200);
        if x_cache(&again) == Some("hit") {
            return again;
        }
    }
    panic!("{path} never came from the cache");
}

/// The next anonymous read of `path` after a write: made afresh, never the old entry.
async fn after_write(app: &TestApp, path: &str) -> Resp {
    let resp = app.get(path).await;
    assert_eq!(x_cache(&resp), Some("miss"), "{path}: {}", resp.text);
    resp
}

async fn published(app: &TestApp, publisher: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut body = json!({"status": "published"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    app.article(publisher, body).await
}

#[tokio::test]
async fn a_hit_touches_no_database_and_answers_the_same_bytes_and_tags() {
    let app = spawn_app().await;
    let p = app.publisher("Harbour Post").await;
    let a = published(&app, &p, json!({"title": "Tide tables"})).await;
    let path = format!(
        "/api/v1/articles/{}?include=authors,publisher",
        a["slug"].as_str().unwrap()
    );
    let first = app.get(&path).await;
    first.assert_status(200);
    assert_eq!(x_cache(&first), Some("miss"));
    assert_eq!(
        first.header("cache-control"),
        Some("public, max-age=60, stale-while-revalidate=30, stale-if-error=86400")
    );

    warm(&app, &path).await;
    let before = app.statement_count();
    let hit = app.get(&path).await;
    hit.assert_status(200);
    assert_eq!(x_cache(&hit), Some("hit"));
    assert_eq!(app.statement_count(), before, "a hit ran SQL");
    assert_eq!(hit.text, first.text);
    assert_eq!(hit.header("etag"), first.header("etag"));
    assert_eq!(hit.header("cache-control"), first.header("cache-control"));
    assert_eq!(hit.header("vary"), first.header("vary"));
    assert!(hit.header("x-request-id") != first.header("x-request-id"));

    // Revalidation and HEAD come from the entry too.
    let etag = first.header("etag").unwrap().to_string();
    let not_modified = read(
        app.client
            .get(format!("{}{path}", app.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(not_modified.status.as_u16(), 304);
    assert!(not_modified.text.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let head = read(
        app.client
            .head(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(head.status.as_u16(), 200);
    assert!(head.text.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(first.text.len().to_string().as_str())
    );
    assert_eq!(app.statement_count(), before, "304 or HEAD ran SQL");

    // The key is the path and the query, its parameters in any order.
    warm(&app, "/api/v1/articles?limit=5&count=true").await;
    let reordered = app.get("/api/v1/articles?count=true&limit=5").await;
    assert_eq!(x_cache(&reordered), Some("hit"));
    // Spelt another way, the same parameters.
    let encoded = app.get("/api/v1/articles?%63ount=true&limit=%35").await;
    assert_eq!(x_cache(&encoded), Some("hit"));
    // A HEAD the cache has not seen answers the length a GET would.
    let fresh = "/api/v1/articles?limit=7";
    let head = read(
        app.client
            .head(format!("{}{fresh}", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(head.status.as_u16(), 200);
    assert_eq!(x_cache(&head), Some("miss"));
    let get = app.get(fresh).await;
    assert_eq!(
        head.header("content-length"),
        Some(get.text.len().to_string().as_str())
    );
    let other = app.get("/api/v1/articles?count=true&limit=6").await;
    assert_eq!(x_cache(&other), Some("miss"));
}

#[tokio::test]
async fn every_kind_of_write_is_seen_by_the_next_anonymous_read() {
    let app = spawn_app_with(&[("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1000")]).await;
    let p = app.publisher("Harbour Post").await;
    let jane = app.author("Jane Doe").await;
    let sam = app.author("Sam Roe").await;
    let topic = app.tag("Ferries").await;
    let story = published(
        &app,
        &p,
        json!({"title": "Ferry fares fall", "author_ids": [jane], "tag_ids": [topic]}),
    )
    .await;
    let id = story["id"].as_str().unwrap().to_string();
    let at = format!("/api/v1/articles/{id}");
    let full = format!("{at}?include=authors,publisher,tags");
    let list = "/api/v1/articles".to_string();

    // A new article.
    warm(&app, &list).await;
    let other = published(&app, &p, json!({"title": "Harbour lights"})).await;
    assert!(
        ids(&after_write(&app, &list).await).contains(&other["id"].as_str().unwrap().to_string())
    );

    // An update of the article, its byline, its tags.
    warm(&app, &full).await;
    app.patch(&at, json!({"title": "Ferry fares fall again"}))
        .await
        .assert_status(200);
    assert_eq!(
        after_write(&app, &full).await.body["title"],
        "Ferry fares fall again"
    );
    warm(&app, &full).await;
    app.patch(&at, json!({"author_ids": [jane, sam]}))
        .await
        .assert_status(200);
    let read_back = after_write(&app, &full).await;
    assert_eq!(
        read_back.body["byline"],
        "Jane Doe and Sam Roe, Harbour Post"
    );
    warm(&app, &full).await;
    app.patch(&at, json!({"tag_ids": []}))
        .await
        .assert_status(200);
    assert_eq!(after_write(&app, &full).await.body["tags"], json!([]));
    app.patch(&at, json!({"tag_ids": [topic]}))
        .await
        .assert_status(200);

    // Publishers, authors and tags, as embedded and named in the byline.
    warm(&app, &full).await;
    app.patch(
        &format!("/api/v1/publishers/{p}"),
        json!({"name": "Harbour Times"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        after_write(&app, &full).await.body["publisher"]["name"],
        "Harbour Times"
    );
    warm(&app, &full).await;
    app.patch(
        &format!("/api/v1/authors/{sam}"),
        json!({"name": "Samuel Roe"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        after_write(&app, &full).await.body["byline"],
        "Jane Doe and Samuel Roe, Harbour Times"
    );
    warm(&app, &full).await;
    app.patch(
        &format!("/api/v1/tags/{topic}"),
        json!({"name": "Ferry services"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        after_write(&app, &full).await.body["tags"][0]["name"],
        "Ferry services"
    );
    let spare = app.tag("Spare").await;
    warm(&app, "/api/v1/tags").await;
    app.delete(&format!("/api/v1/tags/{spare}"))
        .await
        .assert_status(204);
    assert!(!ids(&after_write(&app, "/api/v1/tags").await).contains(&spare));

    // Comments: approved, then removed.
    let comments = format!("{at}/comments");
    let posted = app
        .send(
            Method::POST,
            &comments,
            None,
            Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "Good."})),
        )
        .await;
    posted.assert_status(201);
    let comment = posted.id();
    // A reader's comment waits for moderation: nothing public changed.
    warm(&app, &at).await;
    let pending = app
        .send(
            Method::POST,
            &comments,
            None,
            Some(json!({"author_name": "Bo", "email": "bo@mail.example", "body": "Hm."})),
        )
        .await;
    pending.assert_status(201);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(x_cache(&app.get(&at).await), Some("hit"));
    warm(&app, &comments).await;
    warm(&app, &at).await;
    app.patch(
        &format!("/api/v1/comments/{comment}"),
        json!({"status": "approved"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        ids(&after_write(&app, &comments).await),
        vec![comment.clone()]
    );
    assert_eq!(after_write(&app, &at).await.body["comment_count"], 1);
    warm(&app, &comments).await;
    app.delete(&format!("/api/v1/comments/{comment}"))
        .await
        .assert_status(204);
    assert!(ids(&after_write(&app, &comments).await).is_empty());

    // Unpublished, published again, trashed, restored, purged.
    warm(&app, &at).await;
    app.patch(&at, json!({"status": "draft"}))
        .await
        .assert_status(200);
    after_write(&app, &at).await.assert_problem(404);
    app.patch(&at, json!({"status": "published"}))
        .await
        .assert_status(200);
    after_write(&app, &at).await.assert_status(200);
    warm(&app, &at).await;
    app.delete(&at).await.assert_status(204);
    after_write(&app, &at).await.assert_problem(404);
    app.post(&format!("/api/v1/trash/articles/{id}/restore"), json!({}))
        .await
        .assert_status(200);
    after_write(&app, &at).await.assert_status(200);
    warm(&app, &list).await;
    app.delete(&at).await.assert_status(204);
    app.delete(&format!("/api/v1/trash/articles/{id}"))
        .await
        .assert_status(204);
    assert!(!ids(&after_write(&app, &list).await).contains(&id));
}

#[tokio::test]
async fn a_scheduled_article_appears_when_its_time_comes_with_no_write() {
    let app = spawn_app().await;
    let p = app.publisher("Harbour Post").await;
    published(&app, &p, json!({"title": "Already out"})).await;
    let when = (app.clock.now() + Duration::hours(1)).to_rfc3339();
    let scheduled = app
        .article(
            &p,
            json!({"title": "Dawn ferry", "status": "scheduled", "published_at": when}),
        )
        .await;
    let id = scheduled["id"].as_str().unwrap().to_string();
    let list = "/api/v1/articles";
    assert!(!ids(&warm(&app, list).await).contains(&id));

    app.clock.advance(Duration::minutes(59));
    let before = app.get(list).await;
    assert_eq!(x_cache(&before), Some("hit"));
    assert!(!ids(&before).contains(&id));
    // Browsers and CDNs are told to keep it no longer than until then.
    assert_eq!(
        before.header("cache-control"),
        Some("public, max-age=60, stale-if-error=86400")
    );
    app.clock.advance(Duration::seconds(45));
    assert_eq!(
        app.get(list).await.header("cache-control"),
        Some("public, max-age=15, stale-if-error=86400")
    );
    app.clock.advance(Duration::seconds(14));

    app.clock.advance(Duration::seconds(1));
    let due = app.get(list).await;
    assert_eq!(
        x_cache(&due),
        Some("miss"),
        "the entry outlived the publication time"
    );
    assert!(ids(&due).contains(&id));
    assert_eq!(due.body["data"][0]["status"], "published");
}

#[tokio::test]
async fn authenticated_reads_neither_come_from_nor_go_into_the_cache() {
    let app = spawn_app().await;
    let p = app.publisher("Harbour Post").await;
    published(&app, &p, json!({"title": "Out"})).await;
    let draft = app.article(&p, json!({"title": "Not yet"})).await;
    let draft_id = draft["id"].as_str().unwrap().to_string();
    let editor = app.token(Role::Editor).await;

    let public = warm(&app, "/api/v1/articles").await;
    assert!(!ids(&public).contains(&draft_id));
    let before = app.statement_count();
    let signed_in = app.get_as("/api/v1/articles", &editor).await;
    signed_in.assert_status(200);
    assert_eq!(x_cache(&signed_in), None);
    assert!(
        app.statement_count() > before,
        "the editor was served from memory"
    );
    assert!(ids(&signed_in).contains(&draft_id));
    assert_eq!(signed_in.header("cache-control"), Some("private, no-store"));

    // What an editor read is not kept for anyone.
    let path = format!("/api/v1/articles/{draft_id}");
    app.get_as(&path, &editor).await.assert_status(200);
    app.get_as(&path, &editor).await.assert_status(200);
    for _ in 0..2 {
        let anonymous = app.get(&path).await;
        anonymous.assert_problem(404);
        // Asked of the cache, found nowhere, and never kept (only 200s are).
        assert_eq!(x_cache(&anonymous), Some("miss"));
    }
    // A token that is not valid is refused, never answered from memory.
    let forged = app.get_as("/api/v1/articles", "not-a-token").await;
    forged.assert_problem(401);
}

#[tokio::test]
async fn a_full_cache_evicts_the_least_recently_used_page() {
    // One page of one article with a 10,000-character body is ~21 KB: two fit.
    let app = spawn_app_with(&[("DISPATCH_CACHE_BYTES", "50000")]).await;
    let p = app.publisher("Harbour Post").await;
    published(&app, &p, json!({"body_markdown": "x".repeat(10_000)})).await;
    let page = |n: u32| format!("/api/v1/articles?limit={n}");
    let a = warm(&app, &page(1)).await;
    assert!(
        a.text.len() > 20_000 && a.text.len() < 24_000,
        "{}",
        a.text.len()
    );
    assert_eq!(x_cache(&app.get(&page(2)).await), Some("miss"));
    // `1` is used again, so `2` is the least recently used when `3` comes in.
    assert_eq!(x_cache(&app.get(&page(1)).await), Some("hit"));
    assert_eq!(x_cache(&app.get(&page(3)).await), Some("miss"));
    assert_eq!(x_cache(&app.get(&page(1)).await), Some("hit"));
    assert_eq!(x_cache(&app.get(&page(2)).await), Some("miss"));
    // Many more pages than fit: the oldest go.
    for n in 4..40 {
        app.get(&page(n)).await.assert_status(200);
    }
    assert_eq!(x_cache(&app.get(&page(3)).await), Some("miss"));
}

#[tokio::test]
async fn with_the_cache_off_nothing_is_kept() {
    let app = spawn_app_with(&[("DISPATCH_CACHE_BYTES", "0")]).await;
    for _ in 0..2 {
        let resp = app.get("/api/v1/articles").await;
        resp.assert_status(200);
        assert_eq!(x_cache(&resp), None);
    }
}

#[tokio::test]
async fn a_database_that_gives_no_connection_leaves_cached_pages_served() {
    use sea_orm::TransactionTrait;
    let app = spawn_app_with(&[
        ("DISPATCH_DB_MAX_CONNECTIONS", "1"),
        ("DISPATCH_DB_ACQUIRE_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    let p = app.publisher("Harbour Post").await;
    published(&app, &p, json!({"title": "Still here"})).await;
    let list = "/api/v1/articles";
    let cached = warm(&app, list).await;
    // A write makes the entry stale; then the database stops giving connections.
    app.tag("Ferries").await;
    let held = app.db.begin().await.unwrap();
    let stale = app.get(list).await;
    stale.assert_status(200);
    assert_eq!(x_cache(&stale), Some("stale"));
    assert_eq!(stale.text, cached.text);
    assert_eq!(stale.header("cache-control"), Some("public, max-age=0"));
    // What was never cached gets the 503, and so does a write.
    app.get("/api/v1/tags").await.assert_problem(503);
    app.post("/api/v1/tags", json!({"name": "Harbours"}))
        .await
        .assert_problem(503);
    // No older than `max-age` + `stale-if-error`.
    app.clock
        .advance(Duration::seconds(60 + 86_400) + Duration::seconds(1));
    app.get(list).await.assert_problem(503);
    held.rollback().await.unwrap();
    let fresh = app.get(list).await;
    assert_eq!(x_cache(&fresh), Some("miss"));
}

#[tokio::test]
async fn public_responses_name_what_they_hold_for_cdn_purges() {
    let app = spawn_app().await;
    let carrier = app.publisher("Northlight Wire").await;
    let outlet = app.publisher("The Ledger").await;
    let jane = app.author("Jane Doe").await;
    let topic = app.tag("Ferries").await;
    let story = published(
        &app,
        &carrier,
        json!({"syndicated_from_id": outlet, "author_ids": [jane], "tag_ids": [topic]}),
    )
    .await;
    let id = story["id"].as_str().unwrap();

    let one = app.get(&format!("/api/v1/articles/{id}")).await;
    one.assert_status(200);
    let keys =
        format!("article:{id} publisher:{carrier} publisher:{outlet} author:{jane} tag:{topic}");
    assert_eq!(one.header("surrogate-key"), Some(keys.as_str()));
    assert_eq!(
        one.header("cache-tag"),
        Some(keys.replace(' ', ",").as_str())
    );
    let list = app.get("/api/v1/articles").await;
    list.assert_status(200);
    assert_eq!(
        list.header("surrogate-key"),
        Some(format!("list:articles article:{id}").as_str())
    );
    for (path, key) in [
        (
            format!("/api/v1/publishers/{outlet}"),
            format!("publisher:{outlet}"),
        ),
        (format!("/api/v1/authors/{jane}"), format!("author:{jane}")),
        (format!("/api/v1/tags/{topic}"), format!("tag:{topic}")),
        ("/api/v1/tags".to_string(), format!("list:tags tag:{topic}")),
    ] {
        let resp = app.get(&path).await;
        resp.assert_status(200);
        assert_eq!(resp.header("surrogate-key"), Some(key.as_str()), "{path}");
    }
    // A private resource names nothing.
    let me = app.get_as("/api/v1/auth/me", &app.admin).await;
    me.assert_status(200);
    assert_eq!(me.header("surrogate-key"), None);
}

#[tokio::test]
async fn reads_racing_writes_never_leave_a_stale_page_behind() {
    use futures_util::future::join_all;
    let app = spawn_app().await;
    let p = app.publisher("Harbour Post").await;
    let story = published(&app, &p, json!({"title": "Edition 0"})).await;
    let path = format!("/api/v1/articles/{}", story["id"].as_str().unwrap());
    for round in 0..5 {
        let writes = (1..=8).map(|n| {
            let (app, path) = (&app, &path);
            async move {
                app.patch(path, json!({"title": format!("Edition {round}-{n}")}))
                    .await
                    .status
                    .as_u16()
            }
        });
        let reads = (0..16).map(|_| {
            let (app, path) = (&app, &path);
            async move { app.get(path).await.status.as_u16() }
        });
        let (written, read) = tokio::join!(join_all(writes), join_all(reads));
        // Concurrent saves without If-Match land or meet a clean 409, never a 5xx.
        assert!(
            written.iter().all(|s| *s == 200 || *s == 409),
            "{written:?}"
        );
        assert!(read.iter().all(|s| *s == 200), "{read:?}");
        // Whatever order they ran in, the next anonymous read is what was committed last.
        let truth = app.get_as(&path, &app.admin).await;
        truth.assert_status(200);
        let public = app.get(&path).await;
        public.assert_status(200);
        assert_eq!(public.body["title"], truth.body["title"], "round {round}");
        assert_eq!(
            public.body["version"], truth.body["version"],
            "round {round}"
        );
    }
}
