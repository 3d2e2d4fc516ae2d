//! The event log through the events feed: one event per change, recorded with it
//! (none for a refused or rolled-back write), each carrying the resource as the
//! API shows it, `previous` for updates, the acting user and per-resource
//! sequence numbers; the feed's paging, type filters and permissions; and no
//! commenter's email, ever.

use std::collections::HashMap;

use dispatch::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Every event in the feed after `after`, read a page at a time (as `token`).
async fn events_after(app: &TestApp, after: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = after.to_string();
    loop {
        let page = app
            .get_as(&format!("/api/v1/events?after={cursor}&limit=100"), token)
            .await;
        page.assert_json(200);
        all.extend(page.body["data"].as_array().unwrap().iter().cloned());
        cursor = page.body["meta"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
        if page.body["meta"]["has_more"] != json!(true) {
            return all;
        }
    }
}

async fn all_events(app: &TestApp) -> Vec<Value> {
    events_after(app, "0", &app.admin).await
}

/// The feed's cursor now: events after it are the test's own.
async fn cursor_now(app: &TestApp) -> String {
    let page = app
        .get_as("/api/v1/events?after=0&limit=100", &app.admin)
        .await;
    let mut cursor = page.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    // Skip to the end.
    loop {
        let next = app
            .get_as(
                &format!("/api/v1/events?after={cursor}&limit=100"),
                &app.admin,
            )
            .await;
        let c = next.body["meta"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
        if c == cursor {
            return cursor;
        }
        cursor = c;
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn every_change_records_one_event_carrying_the_resource_as_the_api_shows_it() {
    let app = spawn_app_with(&[("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1000")]).await;
    let start = cursor_now(&app).await;
    let publisher = app.publisher("The Ledger").await;
    let author = app.author("Jane Doe").await;
    let tag = app.tag("Harbour").await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let article = app
        .article(
            &publisher,
            json!({"title": "Tide tables", "author_ids": [author], "tag_ids": [tag]}),
        )
        .await;
    let id = article["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/articles/{id}");
    app.clock.advance(chrono::Duration::seconds(1));
    app.patch(&path, json!({"title": "Tide tables, revised"}))
        .await
        .assert_status(200);
    app.patch(&path, json!({"status": "published", "published_at": past}))
        .await
        .assert_status(200);
    app.patch(&path, json!({"slug": "tides"}))
        .await
        .assert_status(200);
    // A reader comments; a moderator approves, then removes it.
    let comment = app
        .send(
            Method::POST,
            "/api/v1/articles/tides/comments",
            None,
            Some(json!({"author_name": "Cy", "email": "cy.private@mail.example", "body": "Nice."})),
        )
        .await;
    comment.assert_status(201);
    let comment_id = comment.id();
    let moderation = format!("/api/v1/comments/{comment_id}");
    app.patch(&moderation, json!({"status": "approved"}))
        .await
        .assert_status(200);
    app.patch(&moderation, json!({"status": "spam"}))
        .await
        .assert_status(200);
    app.patch(&path, json!({"status": "draft"}))
        .await
        .assert_status(200);
    app.patch(&path, json!({"status": "published"}))
        .await
        .assert_status(200);
    app.patch(&path, json!({"status": "archived"}))
        .await
        .assert_status(200);
    app.delete(&path).await.assert_status(204);
    app.post(&format!("/api/v1/trash/articles/{id}/restore"), json!({}))
        .await
        .assert_status(200);
    app.delete(&path).await.assert_status(204);
    app.delete(&format!("/api/v1/trash/articles/{id}"))
        .await
        .assert_status(204);
    app.patch(
        &format!("/api/v1/tags/{tag}"),
        json!({"description": "Ships"}),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/api/v1/tags/{tag}"))
        .await
        .assert_status(204);

    let events = events_after(&app, &start, &app.admin).await;
    assert_eq!(
        types(&events),
        [
            "publisher.created",
            "author.created",
            "tag.created",
            "article.created",
            "article.updated",
            "article.published",
            "article.slug_changed",
            "comment.created",
            "comment.approved",
            "comment.removed",
            "article.unpublished",
            "article.published",
            "article.archived",
            "article.trashed",
            "article.restored",
            "article.trashed",
            "article.purged",
            "tag.updated",
            "tag.deleted",
        ]
    );
    // Positions rise; each resource counts its own events from 1 with no gap.
    let mut last_position = 0;
    let mut sequences: HashMap<String, i64> = HashMap::new();
    for event in &events {
        let position = event["position"].as_i64().unwrap();
        assert!(position > last_position, "{event}");
        last_position = position;
        let key = format!("{}:{}", event["resource_type"], event["resource_id"]);
        let next = sequences.entry(key).or_insert(0);
        *next += 1;
        assert_eq!(event["sequence"], json!(*next), "{event}");
        let is_comment_create = event["type"] == "comment.created";
        assert_eq!(
            event["actor_id"],
            if is_comment_create {
                Value::Null
            } else {
                json!(app.admin_id)
            },
            "{event}"
        );
    }
    // `data` is the resource as the API returns it; `previous` only what changed.
    let created = &events[3];
    assert_eq!(created["resource_id"], json!(id));
    assert_eq!(created["data"]["title"], "Tide tables");
    assert_eq!(created["data"]["byline"], "Jane Doe, The Ledger");
    assert_eq!(created["data"]["author_ids"], json!([author]));
    assert!(created.get("previous").is_none(), "{created}");
    let updated = &events[4];
    assert_eq!(updated["data"]["title"], "Tide tables, revised");
    assert_eq!(updated["data"]["version"], 2);
    assert_ne!(updated["data"]["updated_at"], created["data"]["updated_at"]);
    assert_eq!(
        updated["previous"],
        json!({
            "title": "Tide tables",
            "version": 1,
            "updated_at": created["data"]["updated_at"],
        })
    );
    assert_eq!(events[5]["data"]["status"], "published");
    assert_eq!(events[5]["previous"]["status"], "draft");
    assert_eq!(events[6]["data"]["slug"], "tides");
    assert_eq!(events[6]["previous"]["slug"], "tide-tables");
    assert_eq!(events[7]["data"]["status"], "pending");
    assert_eq!(events[8]["data"]["status"], "approved");
    assert_eq!(events[16]["data"]["slug"], "tides");
    assert_eq!(events[17]["previous"]["description"], Value::Null);
    assert_eq!(events[17]["data"]["description"], "Ships");
    // The commenter's email is in no event, however it is looked at.
    let feed = app
        .get_as(
            &format!("/api/v1/events?after={start}&limit=100"),
            &app.admin,
        )
        .await;
    feed.assert_json(200);
    assert!(
        !feed.text.contains("cy.private") && !feed.text.contains("email"),
        "{}",
        feed.text
    );
}

#[tokio::test]
async fn a_refused_or_rolled_back_write_records_no_event() {
    let app = spawn_app().await;
    let publisher = app.publisher("The Ledger").await;
    let first = app.article(&publisher, json!({"title": "First"})).await;
    let second = app.article(&publisher, json!({"title": "Second"})).await;
    let start = cursor_now(&app).await;
    let path = format!("/api/v1/articles/{}", second["id"].as_str().unwrap());
    // A slug another article has: 409.
    app.patch(&path, json!({"slug": first["slug"]}))
        .await
        .assert_problem(409);
    // Based on a version that is gone: 412.
    let stale = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header("If-Match", "\"7\"")
        .json(&json!({"title": "Late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    // A transition the workflow refuses: 422; a publisher with articles: 409.
    app.patch(&path, json!({"status": "archived"}))
        .await
        .assert_problem(422);
    app.delete(&format!("/api/v1/publishers/{publisher}"))
        .await
        .assert_problem(409);
    // Then one that lands: its event is the only one.
    app.patch(&path, json!({"title": "On time"}))
        .await
        .assert_status(200);
    let events = events_after(&app, &start, &app.admin).await;
    assert_eq!(types(&events), ["article.updated"], "{events:?}");
    assert_eq!(events[0]["data"]["title"], "On time");
}

#[tokio::test]
async fn the_feed_pages_in_commit_order_and_filters_by_type_with_wildcards() {
    let app = spawn_app().await;
    let start = cursor_now(&app).await;
    let publisher = app.publisher("The Ledger").await;
    for n in 0..5 {
        app.tag(&format!("Topic {n}")).await;
    }
    app.article(&publisher, json!({"title": "One"})).await;
    let page = app
        .get_as(&format!("/api/v1/events?after={start}&limit=3"), &app.admin)
        .await;
    page.assert_json(200);
    assert_eq!(
        types(page.body["data"].as_array().unwrap()),
        ["publisher.created", "tag.created", "tag.created"]
    );
    assert_eq!(page.body["meta"]["has_more"], true);
    assert_eq!(page.body["meta"]["limit"], 3);
    let next = page.body["meta"]["next_cursor"].as_str().unwrap();
    let rest = app
        .get_as(
            &format!("/api/v1/events?after={next}&limit=100"),
            &app.admin,
        )
        .await;
    assert_eq!(
        types(rest.body["data"].as_array().unwrap()),
        [
            "tag.created",
            "tag.created",
            "tag.created",
            "article.created"
        ]
    );
    assert_eq!(rest.body["meta"]["has_more"], false);
    // At the end the cursor stays where it is: polling with it is safe.
    let end = rest.body["meta"]["next_cursor"].as_str().unwrap();
    let empty = app
        .get_as(&format!("/api/v1/events?after={end}"), &app.admin)
        .await;
    assert_eq!(empty.body["data"], json!([]));
    assert_eq!(empty.body["meta"]["next_cursor"], end);
    // Types, exact and by wildcard, comma-separated.
    for (filter, expected) in [
        ("article.*", vec!["article.created"]),
        (
            "publisher.created,article.created",
            vec!["publisher.created", "article.created"],
        ),
        (
            "*",
            vec![
                "publisher.created",
                "tag.created",
                "tag.created",
                "tag.created",
                "tag.created",
                "tag.created",
                "article.created",
            ],
        ),
        ("comment.*", vec![]),
    ] {
        let filtered = app
            .get_as(
                &format!("/api/v1/events?after={start}&types={filter}&limit=100"),
                &app.admin,
            )
            .await;
        filtered.assert_json(200);
        assert_eq!(
            types(filtered.body["data"].as_array().unwrap()),
            expected,
            "{filter}"
        );
    }
}

#[tokio::test]
async fn bad_feed_parameters_are_refused_with_the_field() {
    let app = spawn_app().await;
    for (query, field) in [
        ("after=abc", "after"),
        ("after=-1", "after"),
        ("types=articles.*", "types"),
        ("types=article.publish", "types"),
        ("types=*.created", "types"),
    ] {
        app.get_as(&format!("/api/v1/events?{query}"), &app.admin)
            .await
            .assert_problem(400)
            .assert_fields(&[field]);
    }
    let too_many = vec!["tag.created"; 33].join(",");
    app.get_as(&format!("/api/v1/events?types={too_many}"), &app.admin)
        .await
        .assert_problem(400)
        .assert_fields(&["types"]);
    for limit in ["0", "101"] {
        app.get_as(&format!("/api/v1/events?limit={limit}"), &app.admin)
            .await
            .assert_problem(400);
    }
}

#[tokio::test]
async fn editors_and_admins_read_the_feed_and_nobody_else() {
    let app = spawn_app().await;
    app.get("/api/v1/events").await.assert_problem(401);
    for role in [Role::Author, Role::Contributor] {
        let token = app.token(role).await;
        app.get_as("/api/v1/events", &token)
            .await
            .assert_problem(403);
    }
    let editor = app.token(Role::Editor).await;
    app.publisher("The Ledger").await;
    let events = events_after(&app, "0", &editor).await;
    assert!(types(&events).contains(&"publisher.created"), "{events:?}");
}

#[tokio::test]
async fn concurrent_saves_of_one_article_record_one_event_each_in_sequence() {
    let app = spawn_app().await;
    let publisher = app.publisher("The Ledger").await;
    let article = app.article(&publisher, json!({"title": "Busy"})).await;
    let id = article["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/articles/{id}");
    let mut landed = 0;
    for round in 0..4 {
        let saves = (0..8).map(|n| {
            let app = &app;
            let path = &path;
            async move {
                let resp = if n % 4 == 3 {
                    app.patch(path, json!({"slug": format!("busy-{round}-{n}")}))
                        .await
                } else {
                    app.patch(path, json!({"title": format!("Busy {round}.{n}")}))
                        .await
                };
                assert!(
                    matches!(resp.status.as_u16(), 200 | 409 | 412),
                    "{}: {}",
                    resp.status,
                    resp.text
                );
                resp.status.as_u16() == 200
            }
        });
        landed += futures_util::future::join_all(saves)
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count();
    }
    let events: Vec<Value> = all_events(&app)
        .await
        .into_iter()
        .filter(|e| e["resource_id"] == json!(id))
        .collect();
    // The create, then one event per save that landed, numbered 1, 2, 3, … in
    // commit order, each carrying the version it made.
    assert_eq!(events.len(), landed + 1);
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["sequence"], json!(n + 1), "{event}");
        assert_eq!(event["data"]["version"], json!(n + 1), "{event}");
    }
}

#[tokio::test]
async fn concurrent_taxonomy_writes_record_exactly_the_changes_that_landed() {
    let app = spawn_app().await;
    let start = cursor_now(&app).await;
    // Same name at once: each create lands under its own slug, with its event.
    let creates = (0..8).map(|_| app.post("/api/v1/tags", json!({"name": "Harbour"})));
    let created: Vec<String> = futures_util::future::join_all(creates)
        .await
        .into_iter()
        .map(|r| {
            r.assert_status(201);
            r.id()
        })
        .collect();
    // Update and delete of one tag at once: a 404 records nothing.
    let target = &created[0];
    let path = format!("/api/v1/tags/{target}");
    let mixed = (0..8).map(|n| {
        let app = &app;
        let path = &path;
        async move {
            if n % 2 == 0 {
                app.delete(path).await
            } else {
                app.patch(path, json!({"description": format!("v{n}")}))
                    .await
            }
        }
    });
    let answers = futures_util::future::join_all(mixed).await;
    let mut deleted = 0;
    let mut updated = 0;
    for r in &answers {
        match r.status.as_u16() {
            204 => deleted += 1,
            200 => updated += 1,
            404 => {}
            other => panic!("{other}: {}", r.text),
        }
    }
    assert_eq!(deleted, 1);
    let events = events_after(&app, &start, &app.admin).await;
    let count = |t: &str| types(&events).iter().filter(|x| **x == t).count();
    assert_eq!(count("tag.created"), 8);
    assert_eq!(count("tag.deleted"), 1);
    assert_eq!(count("tag.updated"), updated);
    // Nothing follows the deletion of that tag.
    let of_target: Vec<&str> = events
        .iter()
        .filter(|e| e["resource_id"] == json!(target))
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(of_target.last(), Some(&"tag.deleted"), "{of_target:?}");
}

/// Articles past their time in the trash are purged by whichever request comes
/// first (listing the trash, a restore); requests that come together still record
/// one `article.purged` per article, since each is deleted once (on PostgreSQL they
/// once recorded seven each).
#[tokio::test]
async fn concurrent_trash_listings_record_one_purge_per_expired_article() {
    let mut app = spawn_app_with(&[("DISPATCH_TRASH_DAYS", "1")]).await;
    let publisher = app.publisher("Ledger").await;
    let mut ids = Vec::new();
    for n in 0..60 {
        let article = app
            .article(&publisher, json!({"title": format!("Old {n}")}))
            .await;
        let id = article["id"].as_str().unwrap().to_string();
        app.delete(&format!("/api/v1/articles/{id}"))
            .await
            .assert_status(204);
        ids.push(id);
    }
    app.clock.advance(chrono::Duration::days(2));
    app.sign_in_again().await;
    let listings = (0..8).map(|_| app.get_as("/api/v1/trash/articles", &app.admin));
    for answer in futures_util::future::join_all(listings).await {
        answer.assert_json(200);
    }
    let mut purged: HashMap<String, usize> = HashMap::new();
    for event in all_events(&app).await {
        if event["type"] == "article.purged" {
            *purged
                .entry(event["resource_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert!(purged.values().all(|n| *n == 1), "{purged:?}");
    assert_eq!(purged.len(), ids.len());
}
