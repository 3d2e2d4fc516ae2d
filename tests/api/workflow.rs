//! The newsroom workflow: scheduling by the clock, status transitions, revisions
//! and restores, safe concurrent edits (`If-Match`), slug redirects, the trash,
//! bylines, and conditional reads with caching headers.

use chrono::{Duration, SecondsFormat};
use dispatch::auth::Role;
use dispatch::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, ids, spawn_app, spawn_app_with};

fn at(app: &TestApp, from_now: Duration) -> String {
    (app.clock.now() + from_now).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn patch_with(app: &TestApp, path: &str, if_match: Option<&str>, body: Value) -> Resp {
    let mut req = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .json(&body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    read(req).await
}

async fn read(req: reqwest::RequestBuilder) -> Resp {
    crate::helpers::read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn a_scheduled_article_goes_public_when_its_time_comes_with_no_request() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let author = app.author("Jane Doe").await;
    let writer = app.user(Role::Author, Some(&author)).await;
    let when = at(&app, Duration::hours(6));
    let created = app
        .send(
            Method::POST,
            "/api/v1/articles",
            Some(&writer.token),
            Some(json!({"title": "Dawn ferry", "publisher_id": p, "status": "scheduled", "published_at": when})),
        )
        .await;
    created.assert_status(201);
    let slug = created.body["slug"].as_str().unwrap().to_string();
    let id = created.id();
    app.get(&format!("/api/v1/articles/{slug}"))
        .await
        .assert_problem(404);
    assert!(!ids(&app.get("/api/v1/articles").await).contains(&id));
    // The author sees it, as scheduled.
    let own = app
        .get_as(&format!("/api/v1/articles/{id}"), &writer.token)
        .await;
    assert_eq!(own.body["status"], "scheduled");

    app.clock.advance(Duration::hours(6) - Duration::seconds(1));
    app.get(&format!("/api/v1/articles/{slug}"))
        .await
        .assert_problem(404);
    app.clock.advance(Duration::seconds(1));
    let public = app.get(&format!("/api/v1/articles/{slug}")).await;
    public.assert_status(200);
    assert_eq!(public.body["status"], "published");
    assert_eq!(
        public.body["version"], 1,
        "nothing was written to publish it"
    );
    assert_eq!(ids(&app.get("/api/v1/articles").await), vec![id.clone()]);
    let published = app.get("/api/v1/articles?status=published").await;
    assert_eq!(ids(&published), vec![id]);
}

#[tokio::test]
async fn status_changes_follow_the_transition_table() {
    let mut app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let future = at(&app, Duration::days(1));
    let later = at(&app, Duration::days(2));
    // (from, to, expected status, the field at fault)
    let table: [(&str, &str, u16); 16] = [
        ("draft", "draft", 200),
        ("draft", "scheduled", 200),
        ("draft", "published", 200),
        ("draft", "archived", 422),
        ("scheduled", "draft", 200),
        ("scheduled", "scheduled", 200),
        ("scheduled", "published", 200),
        ("scheduled", "archived", 422),
        ("published", "draft", 200),
        ("published", "scheduled", 422),
        ("published", "published", 200),
        ("published", "archived", 200),
        ("archived", "draft", 200),
        ("archived", "scheduled", 422),
        ("archived", "published", 200),
        ("archived", "archived", 200),
    ];
    for (from, to, expected) in table {
        let mut extra = json!({"status": from});
        if from == "scheduled" {
            extra["published_at"] = json!(future);
        }
        let a = app.article(&p, extra).await;
        let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
        let mut body = json!({"status": to});
        if to == "scheduled" {
            body["published_at"] = json!(later);
        }
        let resp = app.patch(&path, body).await;
        assert_eq!(
            resp.status.as_u16(),
            expected,
            "{from} -> {to}: {}",
            resp.text
        );
        if expected == 422 {
            resp.assert_problem(422).assert_fields(&["status"]);
            assert!(
                resp.body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!(
                        "cannot change from {from} to {to}; a {from} article may become "
                    )),
                "{}",
                resp.text
            );
            let after = app.get_as(&path, &app.admin).await;
            assert_eq!(after.body["status"], from, "unchanged after the refusal");
            assert_eq!(after.body["version"], 1);
        } else {
            assert_eq!(resp.body["status"], to, "{from} -> {to}");
        }
    }
    // Scheduling needs a future time.
    let a = app.article(&p, json!({})).await;
    let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
    for (body, message) in [
        (
            json!({"status": "scheduled"}),
            "is required to schedule an article",
        ),
        (
            json!({"status": "scheduled", "published_at": at(&app, -Duration::minutes(1))}),
            "must be in the future to schedule an article",
        ),
    ] {
        let resp = app.patch(&path, body).await;
        resp.assert_problem(422).assert_fields(&["published_at"]);
        assert_eq!(resp.body["errors"][0]["message"], message);
    }
    // Publishing sets the time when none is given.
    let published = app.patch(&path, json!({"status": "published"})).await;
    assert_eq!(
        published.body["published_at"].as_str().unwrap()[..16],
        app.clock.now().to_rfc3339()[..16]
    );
    // A scheduled article whose time has passed is published: it cannot be scheduled again.
    let s = app
        .article(&p, json!({"status": "scheduled", "published_at": future}))
        .await;
    app.clock.advance(Duration::days(1) + Duration::seconds(1));
    app.sign_in_again().await;
    let spath = format!("/api/v1/articles/{}", s["id"].as_str().unwrap());
    app.patch(
        &spath,
        json!({"status": "scheduled", "published_at": at(&app, Duration::days(1))}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["status"]);
    // Other edits leave it as it is.
    let edited = app.patch(&spath, json!({"title": "Still out"})).await;
    edited.assert_status(200);
    assert_eq!(edited.body["status"], "published");
}

#[tokio::test]
async fn concurrent_saves_with_one_if_match_let_exactly_one_through() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let a = app.article(&p, json!({"title": "Original"})).await;
    let id = a["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/articles/{id}");
    let loaded = app.get_as(&path, &app.admin).await;
    let tag = loaded.header("etag").unwrap().to_string();
    assert!(tag.starts_with("\"1-"), "{tag}");
    let saves = (0..12).map(|i| {
        patch_with(
            &app,
            &path,
            Some(&tag),
            json!({"title": format!("Edit {i}")}),
        )
    });
    let results = futures_util::future::join_all(saves).await;
    let ok: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "exactly one save lands");
    for r in results.iter().filter(|r| r.status != 200) {
        r.assert_problem(412);
    }
    let after = app.get_as(&path, &app.admin).await;
    assert_eq!(after.body["version"], 2);
    assert_eq!(
        after.body["title"], ok[0].body["title"],
        "the one that landed is what is stored"
    );
    let revisions = app
        .get_as(&format!("{path}/revisions?count=true"), &app.admin)
        .await;
    assert_eq!(
        revisions.body["meta"]["total"], 2,
        "one revision per landed change"
    );

    // Without If-Match, concurrent saves all land, one version each.
    let saves = (0..6).map(|i| patch_with(&app, &path, None, json!({"subtitle": format!("S{i}")})));
    for r in futures_util::future::join_all(saves).await {
        r.assert_status(200);
    }
    let after = app.get_as(&path, &app.admin).await;
    assert_eq!(after.body["version"], 8);
    let revisions = app
        .get_as(&format!("{path}/revisions?count=true"), &app.admin)
        .await;
    assert_eq!(revisions.body["meta"]["total"], 8);
}

#[tokio::test]
async fn if_match_is_honoured_on_update_and_delete() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let a = app.article(&p, json!({"title": "Original"})).await;
    let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
    let first = patch_with(&app, &path, Some("\"1\""), json!({"title": "Second"})).await;
    first.assert_status(200);
    let tag = first.header("etag").unwrap().to_string();
    assert!(
        tag.starts_with("\"2-"),
        "the response carries the new ETag: {tag}"
    );
    // The ETag of the write is the ETag a read of the same article gives.
    let read_back = app.get_as(&path, &app.admin).await;
    assert_eq!(read_back.header("etag"), Some(tag.as_str()));
    let stale = patch_with(&app, &path, Some("\"1\""), json!({"title": "Lost"})).await;
    stale.assert_problem(412);
    assert_eq!(
        stale.body["detail"],
        "`If-Match` does not name the article's current version (2); reload it and apply your change again."
    );
    patch_with(&app, &path, Some("W/\"2\""), json!({"title": "Weak"}))
        .await
        .assert_problem(412);
    patch_with(&app, &path, Some("2"), json!({"title": "Bare"}))
        .await
        .assert_problem(400)
        .assert_fields(&["If-Match"]);
    patch_with(
        &app,
        &path,
        Some(&format!("\"9\", {tag}")),
        json!({"title": "Third"}),
    )
    .await
    .assert_status(200);
    patch_with(&app, &path, Some("*"), json!({"title": "Fourth"}))
        .await
        .assert_status(200);
    let now = app.get_as(&path, &app.admin).await;
    assert_eq!(now.body["title"], "Fourth");
    assert_eq!(now.body["version"], 4);

    let delete = |tag: &'static str| {
        let app = &app;
        let path = path.clone();
        async move {
            read(
                app.client
                    .delete(format!("{}{path}", app.base))
                    .bearer_auth(&app.admin)
                    .header("if-match", tag),
            )
            .await
        }
    };
    delete("\"3\"").await.assert_problem(412);
    app.get_as(&path, &app.admin).await.assert_status(200);
    delete("\"4\"").await.assert_status(204);
    app.get_as(&path, &app.admin).await.assert_problem(404);
}

#[tokio::test]
async fn revisions_record_who_changed_what_and_restore_makes_a_new_one() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let author = app.author("Jane Doe").await;
    let editor = app.user(Role::Editor, None).await;
    let created = app
        .send(
            Method::POST,
            "/api/v1/articles",
            Some(&editor.token),
            Some(
                json!({"title": "First title", "body_markdown": "First body.", "publisher_id": p}),
            ),
        )
        .await;
    created.assert_status(201);
    let path = format!("/api/v1/articles/{}", created.id());
    app.patch(&path, json!({"title": "Second title"}))
        .await
        .assert_status(200);
    app.patch(
        &path,
        json!({"body_markdown": "Second body.", "author_ids": [author]}),
    )
    .await
    .assert_status(200);

    let list = app
        .get_as(&format!("{path}/revisions"), &editor.token)
        .await;
    list.assert_status(200);
    let numbers: Vec<i64> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1], "newest first");
    let r = &list.body["data"];
    assert_eq!(r[2]["action"], "create");
    assert_eq!(r[2]["user_id"], editor.id.as_str());
    assert_eq!(r[1]["action"], "update");
    assert_eq!(
        r[1]["changed"],
        json!(["slug", "title"])
            .as_array()
            .map(|_| json!(["title"]))
            .unwrap()
    );
    assert_eq!(r[1]["user_id"], app.admin_id.as_str());
    assert_eq!(
        r[0]["changed"],
        json!(["author_ids", "body_markdown", "excerpt"])
    );
    assert_eq!(r[1]["article"]["title"], "Second title");
    assert_eq!(r[2]["article"]["body_markdown"], "First body.");

    let page = app
        .get_as(&format!("{path}/revisions?limit=2"), &app.admin)
        .await;
    let cursor = page.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = app
        .get_as(
            &format!("{path}/revisions?limit=2&cursor={cursor}"),
            &app.admin,
        )
        .await;
    assert_eq!(rest.body["data"][0]["number"], 1);
    assert_eq!(rest.body["meta"]["next_cursor"], Value::Null);

    let restored = app
        .send(
            Method::POST,
            &format!("{path}/revisions/1/restore"),
            Some(&editor.token),
            None,
        )
        .await;
    restored.assert_status(200);
    assert_eq!(restored.body["title"], "First title");
    assert_eq!(restored.body["body_markdown"], "First body.");
    assert_eq!(restored.body["author_ids"], json!([]));
    assert_eq!(restored.body["version"], 4);
    let list = app.get_as(&format!("{path}/revisions"), &app.admin).await;
    assert_eq!(list.body["data"][0]["number"], 4);
    assert_eq!(list.body["data"][0]["action"], "restore");
    assert_eq!(list.body["data"][0]["user_id"], editor.id.as_str());
    assert_eq!(
        list.body["data"][0]["changed"],
        json!(["author_ids", "body_markdown", "excerpt", "title"])
    );

    app.send(
        Method::POST,
        &format!("{path}/revisions/99/restore"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_problem(404)
    .assert_detail("This article has no revision 99.");
    app.send(
        Method::POST,
        &format!("{path}/revisions/0/restore"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_problem(400)
    .assert_fields(&["number"]);
    // A stale If-Match refuses the restore too.
    let stale = read(
        app.client
            .post(format!("{}{path}/revisions/2/restore", app.base))
            .bearer_auth(&app.admin)
            .header("if-match", "\"3\""),
    )
    .await;
    stale.assert_problem(412);
    // Someone who may not edit it may not read its history either.
    let outsider = app
        .user(Role::Author, Some(&app.author("Someone Else").await))
        .await;
    app.get_as(&format!("{path}/revisions"), &outsider.token)
        .await
        .assert_problem(404);
    app.get(&format!("{path}/revisions"))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn a_renamed_slug_redirects_to_the_current_one() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let a = app
        .article(
            &p,
            json!({"title": "Old", "slug": "old-name", "status": "published"}),
        )
        .await;
    let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
    app.patch(&path, json!({"slug": "new-name"}))
        .await
        .assert_status(200);
    let moved = app.get("/api/v1/articles/old-name?include=authors").await;
    moved.assert_status(301);
    assert_eq!(
        moved.header("location"),
        Some("/api/v1/articles/new-name?include=authors")
    );
    app.get("/api/v1/articles/new-name")
        .await
        .assert_status(200);
    app.patch(&path, json!({"slug": "newest-name"}))
        .await
        .assert_status(200);
    for old in ["old-name", "new-name"] {
        let moved = app.get(&format!("/api/v1/articles/{old}")).await;
        assert_eq!(moved.status.as_u16(), 301, "{old}");
        assert_eq!(
            moved.header("location"),
            Some("/api/v1/articles/newest-name")
        );
    }
    // A new article may take an old slug over; then it is that article's.
    let b = app
        .article(
            &p,
            json!({"title": "New", "slug": "old-name", "status": "published"}),
        )
        .await;
    let got = app.get("/api/v1/articles/old-name").await;
    got.assert_status(200);
    assert_eq!(got.body["id"], b["id"]);
    // A redirect never reveals an article the reader may not see.
    app.patch(&path, json!({"status": "draft"}))
        .await
        .assert_status(200);
    app.get("/api/v1/articles/new-name")
        .await
        .assert_problem(404);
    let as_admin = app.get_as("/api/v1/articles/new-name", &app.admin).await;
    assert_eq!(as_admin.status.as_u16(), 301);
}

#[tokio::test]
async fn deleted_articles_wait_in_the_trash_then_go_for_good() {
    let mut app = spawn_app_with(&[("DISPATCH_TRASH_DAYS", "2")]).await;
    let p = app.publisher("Ledger").await;
    let mine = app.author("Jane Doe").await;
    let author = app.user(Role::Author, Some(&mine)).await;
    let editor = app.user(Role::Editor, None).await;
    let a = app
        .article(
            &p,
            json!({"title": "Gone soon", "status": "published", "author_ids": [mine]}),
        )
        .await;
    let id = a["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/articles/{id}");
    app.send(
        Method::POST,
        &format!("{path}/comments"),
        None,
        Some(json!({"author_name": "Ann", "email": "ann@mail.example", "body": "Hi."})),
    )
    .await
    .assert_status(201);
    let moderation = "/api/v1/comments?count=true";
    assert_eq!(
        app.get_as(moderation, &editor.token).await.body["meta"]["total"],
        1
    );
    app.send(Method::DELETE, &path, Some(&author.token), None)
        .await
        .assert_status(204);
    // Its comments wait in the trash with it.
    assert_eq!(
        app.get_as(moderation, &editor.token).await.body["meta"]["total"],
        0
    );
    app.get(&format!("{path}/comments"))
        .await
        .assert_problem(404);
    // Invisible everywhere, even to admins, and not writable.
    app.get(&path).await.assert_problem(404);
    app.get_as(&path, &app.admin).await.assert_problem(404);
    assert!(ids(&app.get_as("/api/v1/articles", &app.admin).await).is_empty());
    app.patch(&path, json!({"title": "x"}))
        .await
        .assert_problem(404);
    app.get_as(&format!("{path}/revisions"), &app.admin)
        .await
        .assert_problem(404);
    // The trash is for editors and admins.
    app.get_as("/api/v1/trash/articles", &author.token)
        .await
        .assert_problem(403);
    let trash = app
        .get_as("/api/v1/trash/articles?count=true", &editor.token)
        .await;
    trash.assert_status(200);
    assert_eq!(trash.body["meta"]["total"], 1);
    let entry = &trash.body["data"][0];
    assert_eq!(entry["id"], id.as_str());
    let deleted_at =
        chrono::DateTime::parse_from_rfc3339(entry["deleted_at"].as_str().unwrap()).unwrap();
    let purge_at =
        chrono::DateTime::parse_from_rfc3339(entry["purge_at"].as_str().unwrap()).unwrap();
    assert_eq!(purge_at - deleted_at, Duration::days(2));
    // An author may not restore, an editor may.
    let restore = format!("/api/v1/trash/articles/{id}/restore");
    app.send(Method::POST, &restore, Some(&author.token), None)
        .await
        .assert_problem(403);
    let back = app
        .send(Method::POST, &restore, Some(&editor.token), None)
        .await;
    back.assert_status(200);
    assert_eq!(back.body["title"], "Gone soon");
    app.get(&path).await.assert_status(200);
    assert_eq!(
        app.get_as(moderation, &editor.token).await.body["meta"]["total"],
        1
    );
    app.send(Method::POST, &restore, Some(&editor.token), None)
        .await
        .assert_problem(404);
    // Only admins delete for good.
    app.delete(&path).await.assert_status(204);
    let purge = format!("/api/v1/trash/articles/{id}");
    app.send(Method::DELETE, &purge, Some(&editor.token), None)
        .await
        .assert_problem(403);
    app.delete(&purge).await.assert_status(204);
    app.send(Method::POST, &restore, Some(&app.admin), None)
        .await
        .assert_problem(404);
    // After the configured days, the trash empties itself.
    let b = app.article(&p, json!({"title": "Forgotten"})).await;
    let bid = b["id"].as_str().unwrap().to_string();
    app.delete(&format!("/api/v1/articles/{bid}"))
        .await
        .assert_status(204);
    app.clock.advance(Duration::days(2) - Duration::seconds(1));
    app.sign_in_again().await;
    assert_eq!(
        app.get_as("/api/v1/trash/articles?count=true", &app.admin)
            .await
            .body["meta"]["total"],
        1
    );
    app.clock.advance(Duration::seconds(2));
    app.sign_in_again().await;
    assert_eq!(
        app.get_as("/api/v1/trash/articles?count=true", &app.admin)
            .await
            .body["meta"]["total"],
        0
    );
    app.send(
        Method::POST,
        &format!("/api/v1/trash/articles/{bid}/restore"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_problem(404);
}

#[tokio::test]
async fn the_byline_names_the_authors_and_both_outlets_of_a_syndicated_story() {
    let app = spawn_app().await;
    let wire = app.publisher("Northlight Wire").await;
    let outlet = app.publisher("The Ledger").await;
    let jane = app.author("Jane Doe").await;
    let sam = app.author("Sam Roe").await;
    let kim = app.author("Kim Lee").await;
    for (extra, byline) in [
        (json!({"author_ids": [jane]}), "Jane Doe, Northlight Wire"),
        (
            json!({"author_ids": [jane], "syndicated_from_id": outlet}),
            "Jane Doe, The Ledger / Northlight Wire",
        ),
        (
            json!({"author_ids": [jane, sam], "syndicated_from_id": outlet}),
            "Jane Doe and Sam Roe, The Ledger / Northlight Wire",
        ),
        (
            json!({"author_ids": [kim, jane, sam]}),
            "Kim Lee, Jane Doe and Sam Roe, Northlight Wire",
        ),
        (json!({}), "Northlight Wire"),
    ] {
        let mut body = extra.clone();
        body["status"] = json!("published");
        let a = app.article(&wire, body).await;
        assert_eq!(a["byline"], byline, "on create");
        let got = app
            .get(&format!("/api/v1/articles/{}", a["id"].as_str().unwrap()))
            .await;
        assert_eq!(got.body["byline"], byline, "on read");
    }
    let list = app.get("/api/v1/articles?limit=100").await;
    assert!(
        list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["byline"].is_string())
    );
}

#[tokio::test]
async fn reads_carry_etags_that_revalidate_and_cache_headers_by_audience() {
    let app = spawn_app_with(&[("DISPATCH_CACHE_MAX_AGE", "120")]).await;
    let p = app.publisher("Ledger").await;
    let a = app
        .article(&p, json!({"title": "Cached", "status": "published"}))
        .await;
    let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
    for resource in [
        path.as_str(),
        "/api/v1/articles",
        "/api/v1/publishers",
        &format!("/api/v1/publishers/{p}"),
    ] {
        let first = app.get(resource).await;
        first.assert_status(200);
        let tag = first
            .header("etag")
            .unwrap_or_else(|| panic!("no ETag on {resource}"))
            .to_string();
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && !tag.starts_with("W/"),
            "{tag}"
        );
        assert_eq!(
            first.header("cache-control"),
            Some("public, max-age=120, stale-while-revalidate=30, stale-if-error=86400"),
            "{resource}"
        );
        assert_eq!(first.header("vary"), Some("Authorization"));
        let again = read(
            app.client
                .get(format!("{}{resource}", app.base))
                .header("if-none-match", &tag),
        )
        .await;
        assert_eq!(again.status.as_u16(), 304, "{resource}");
        assert!(again.text.is_empty());
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        assert_eq!(
            again.header("cache-control"),
            Some("public, max-age=120, stale-while-revalidate=30, stale-if-error=86400")
        );
        let other = read(
            app.client
                .get(format!("{}{resource}", app.base))
                .header("if-none-match", "\"something-else\""),
        )
        .await;
        other.assert_status(200);
        // Signed in: the same ETag rules, but never stored by a shared cache.
        let private = app.get_as(resource, &app.admin).await;
        assert_eq!(
            private.header("cache-control"),
            Some("private, no-store"),
            "{resource}"
        );
        assert!(private.header("etag").is_some());
    }
    // A browser on an allowed origin gets CORS's `Vary: Origin` as well as ours.
    let cross = read(
        app.client
            .get(format!("{}{path}", app.base))
            .header("origin", crate::helpers::CORS_ORIGIN),
    )
    .await;
    let vary: Vec<&str> = cross
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        vary.contains(&"Origin") && vary.contains(&"Authorization"),
        "{vary:?}"
    );
    assert_eq!(
        cross.header("access-control-allow-origin"),
        Some(crate::helpers::CORS_ORIGIN)
    );
    // A change changes the ETag, so the old one no longer answers 304.
    let before = app.get(&path).await.header("etag").unwrap().to_string();
    app.patch(&path, json!({"subtitle": "Now with a standfirst"}))
        .await
        .assert_status(200);
    let after = read(
        app.client
            .get(format!("{}{path}", app.base))
            .header("if-none-match", &before),
    )
    .await;
    after.assert_status(200);
    assert_ne!(after.header("etag"), Some(before.as_str()));
    assert!(after.header("etag").unwrap().starts_with("\"2-"));
    // Embedding related objects gives another representation, with its own tag.
    let embedded = app.get(&format!("{path}?include=authors,publisher")).await;
    assert_ne!(embedded.header("etag"), after.header("etag"));
    // Errors are not cached.
    let missing = app.get("/api/v1/articles/no-such-article").await;
    missing.assert_problem(404);
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    assert!(missing.header("etag").is_none());
}

#[tokio::test]
async fn a_live_article_is_never_purged() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let live = app
        .article(&p, json!({"title": "Still here", "status": "published"}))
        .await;
    let id = live["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/trash/articles/{id}"))
        .await
        .assert_problem(404)
        .assert_detail("No article in the trash has this id.");
    let read = app.get(&format!("/api/v1/articles/{id}")).await;
    read.assert_status(200);
    assert_eq!(read.body["title"], "Still here");
    let history = app
        .get_as(&format!("/api/v1/articles/{id}/revisions"), &app.admin)
        .await;
    history.assert_status(200);
    assert_eq!(history.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn history_and_restore_are_403_for_readers_who_may_not_edit() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let mine = app.author("Contributing Writer").await;
    let someone = app.author("Staff Writer").await;
    // A contributor whose own article is published can read it but no longer edit it;
    // an author can read anyone's published article but edit only their own.
    let contributor = app.user(Role::Contributor, Some(&mine)).await;
    let author = app
        .user(Role::Author, Some(&app.author("Other").await))
        .await;
    let published = app
        .article(
            &p,
            json!({"title": "On the record", "status": "published", "author_ids": [mine, someone]}),
        )
        .await;
    let id = published["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/articles/{id}"),
        json!({"title": "On the record, again"}),
    )
    .await
    .assert_status(200);
    for reader in [&contributor, &author] {
        app.get_as(&format!("/api/v1/articles/{id}"), &reader.token)
            .await
            .assert_status(200);
        app.get_as(&format!("/api/v1/articles/{id}/revisions"), &reader.token)
            .await
            .assert_problem(403);
        app.send(
            Method::POST,
            &format!("/api/v1/articles/{id}/revisions/1/restore"),
            Some(&reader.token),
            None,
        )
        .await
        .assert_problem(403);
    }
    let read = app.get(&format!("/api/v1/articles/{id}")).await;
    assert_eq!(read.body["title"], "On the record, again");
    assert_eq!(read.body["version"], 2);
}

#[tokio::test]
async fn restoring_a_revision_whose_slug_is_now_taken_is_a_409() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let a = app
        .article(&p, json!({"title": "Story", "slug": "first-name"}))
        .await;
    let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
    app.patch(&path, json!({"slug": "second-name"}))
        .await
        .assert_status(200);
    // Another article takes the old slug.
    app.article(&p, json!({"title": "Other", "slug": "first-name"}))
        .await;
    app.send(
        Method::POST,
        &format!("{path}/revisions/1/restore"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_problem(409)
    .assert_fields(&["slug"]);
    let read = app.get_as(&path, &app.admin).await;
    assert_eq!(read.body["slug"], "second-name");
    assert_eq!(read.body["version"], 2);
}

#[tokio::test]
async fn restoring_a_revision_that_breaks_a_rule_is_a_422() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let topic = app.tag("Harbor").await;
    let a = app
        .article(&p, json!({"title": "Tagged", "tag_ids": [topic]}))
        .await;
    let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
    app.patch(&path, json!({"tag_ids": []}))
        .await
        .assert_status(200);
    // The tag revision 1 names is gone.
    app.delete(&format!("/api/v1/tags/{topic}"))
        .await
        .assert_status(204);
    app.send(
        Method::POST,
        &format!("{path}/revisions/1/restore"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_problem(422)
    .assert_fields(&["tag_ids"]);
    let read = app.get_as(&path, &app.admin).await;
    assert_eq!(read.body["version"], 2, "nothing was written");
    assert_eq!(read.body["tag_ids"], json!([]));
}
