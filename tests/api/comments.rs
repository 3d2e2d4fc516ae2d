//! Readers comment on public articles; editors and admins moderate what is shown.

use dispatch::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, ids, spawn_app_with};

/// The application, with room for more comments from the test's one address than
/// the default allowance (the rate-limit test sets its own).
async fn spawn_app() -> TestApp {
    spawn_app_with(&[("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1000")]).await
}

/// A published article whose time has come (an explicit past `published_at`, so it
/// is public whatever the application's clock says).
async fn public_article(app: &TestApp, title: &str) -> Value {
    let publisher = app.publisher(&format!("{title} Press")).await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    app.article(
        &publisher,
        json!({"title": title, "status": "published", "published_at": published_at}),
    )
    .await
}

fn comments_of(article: &Value) -> String {
    format!(
        "/api/v1/articles/{}/comments",
        article["id"].as_str().unwrap()
    )
}

fn comment(name: &str, body: &str) -> Value {
    json!({"author_name": name, "email": "reader@mail.example", "body": body})
}

/// An anonymous `POST` of a comment.
async fn post(app: &TestApp, path: &str, body: Value) -> Resp {
    app.send(Method::POST, path, None, Some(body)).await
}

async fn set_status(app: &TestApp, token: &str, id: &str, status: &str) -> Resp {
    app.send(
        Method::PATCH,
        &format!("/api/v1/comments/{id}"),
        Some(token),
        Some(json!({ "status": status })),
    )
    .await
}

#[tokio::test]
async fn a_comment_is_shown_only_once_an_editor_approves_it() {
    let app = spawn_app().await;
    let story = public_article(&app, "Harbor Bridge Reopens").await;
    let other = public_article(&app, "Ferry Strike Ends").await;
    let path = comments_of(&story);
    let editor = app.token(Role::Editor).await;

    let posted = post(
        &app,
        &path,
        json!({"author_name": " Ann Reader ", "email": " Ann@Mail.Example ", "body": " First! \n"}),
    )
    .await;
    posted.assert_status(201);
    let id = posted.id();
    // Its poster cannot read it until it is approved, so there is no `Location`.
    assert_eq!(posted.header("location"), None);
    let mut keys: Vec<&String> = posted.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "article_id",
            "author_name",
            "body",
            "body_html",
            "created_at",
            "id",
            "status"
        ]
    );
    assert_eq!(posted.body["status"], "pending");
    assert_eq!(posted.body["article_id"], story["id"]);
    assert_eq!(posted.body["author_name"], "Ann Reader");
    assert_eq!(posted.body["body"], "First!");
    assert_eq!(posted.body["body_html"], "<p>First!</p>");
    // The 201 body (poem-openapi's serialiser) is the 200 body (serde).
    let read = app.get_as(&format!("/api/v1/comments/{id}"), &editor).await;
    read.assert_status(200);
    assert_eq!(read.body, posted.body);

    let public = app.get(&path).await;
    public.assert_status(200);
    assert_eq!(ids(&public), Vec::<String>::new());
    assert_eq!(public.body["meta"]["next_cursor"], Value::Null);

    let approved = set_status(&app, &editor, &id, "approved").await;
    approved.assert_status(200);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(ids(&app.get(&path).await), [id.as_str()]);
    let by_slug = format!(
        "/api/v1/articles/{}/comments?count=true",
        story["slug"].as_str().unwrap()
    );
    let listed = app.get(&by_slug).await;
    assert_eq!(ids(&listed), [id.as_str()]);
    assert_eq!(listed.body["meta"]["total"], 1);
    assert_eq!(listed.body["data"][0], approved.body);
    assert_eq!(
        ids(&app.get(&comments_of(&other)).await),
        Vec::<String>::new()
    );

    set_status(&app, &editor, &id, "spam")
        .await
        .assert_status(200);
    assert_eq!(ids(&app.get(&path).await), Vec::<String>::new());

    // Moderators see every comment, newest first, filtered by status or article.
    app.clock.advance(chrono::Duration::seconds(1));
    let second = post(&app, &path, comment("Bo", "Second.")).await;
    second.assert_status(201);
    let second = second.id();
    app.clock.advance(chrono::Duration::seconds(1));
    let elsewhere = post(&app, &comments_of(&other), comment("Cy", "Elsewhere."))
        .await
        .id();
    let list = |query: &'static str| {
        let (app, editor) = (&app, &editor);
        async move {
            ids(&app
                .get_as(&format!("/api/v1/comments{query}"), editor)
                .await)
        }
    };
    assert_eq!(
        list("").await,
        [elsewhere.clone(), second.clone(), id.clone()]
    );
    assert_eq!(
        list("?status=pending").await,
        [elsewhere.clone(), second.clone()]
    );
    assert_eq!(list("?status=spam").await, [id.as_str()]);
    assert_eq!(list("?status=approved").await, Vec::<String>::new());
    let on_story = app
        .get_as(
            &format!(
                "/api/v1/comments?article={}&status=pending&count=true",
                story["id"].as_str().unwrap()
            ),
            &editor,
        )
        .await;
    assert_eq!(ids(&on_story), [second.as_str()]);
    assert_eq!(on_story.body["meta"]["total"], 1);

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/comments/{id}"),
            Some(&editor),
            None,
        )
        .await;
    deleted.assert_status(204);
    assert!(deleted.text.is_empty());
    app.get_as(&format!("/api/v1/comments/{id}"), &editor)
        .await
        .assert_problem(404)
        .assert_detail("No comment has this id.");
    assert_eq!(list("").await, [elsewhere, second]);
}

#[tokio::test]
async fn comments_come_a_page_at_a_time_oldest_first_for_readers_newest_first_for_editors() {
    let app = spawn_app().await;
    let story = public_article(&app, "Council Votes").await;
    let path = comments_of(&story);
    let mut posted = Vec::new();
    for i in 0..5 {
        // Two comments share each second, so the id breaks the ties.
        if i % 2 == 0 {
            app.clock.advance(chrono::Duration::seconds(1));
        }
        let id = post(&app, &path, comment("Reader", &format!("Comment {i}.")))
            .await
            .id();
        set_status(&app, &app.admin, &id, "approved")
            .await
            .assert_status(200);
        posted.push(id);
    }
    let pages = |first: String, token: Option<String>| {
        let app = &app;
        async move {
            let mut seen = Vec::new();
            let mut next = first;
            loop {
                let page = app.send(Method::GET, &next, token.as_deref(), None).await;
                page.assert_status(200);
                assert_eq!(page.body["meta"]["limit"], 2);
                seen.extend(ids(&page));
                match page.body["meta"]["next_cursor"].as_str() {
                    Some(cursor) => {
                        next = format!("{}&cursor={cursor}", first_page(&next));
                    }
                    None => return seen,
                }
            }
        }
    };
    assert_eq!(pages(format!("{path}?limit=2"), None).await, posted);
    let mut newest_first = posted.clone();
    newest_first.reverse();
    assert_eq!(
        pages(
            "/api/v1/comments?limit=2".to_string(),
            Some(app.admin.clone())
        )
        .await,
        newest_first
    );
    // A cursor is only good for the list it came from.
    let readers = app.get(&format!("{path}?limit=2")).await;
    let cursor = readers.body["meta"]["next_cursor"].as_str().unwrap();
    app.get_as(&format!("/api/v1/comments?cursor={cursor}"), &app.admin)
        .await
        .assert_problem(400)
        .assert_fields(&["cursor"]);
}

/// The first page's address of a paging address (everything before `&cursor=`).
fn first_page(address: &str) -> &str {
    address.split("&cursor=").next().unwrap()
}

#[tokio::test]
async fn bad_comment_input_is_refused_with_the_field() {
    let app = spawn_app().await;
    let story = public_article(&app, "Tide Tables").await;
    let path = comments_of(&story);
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (
            json!({}),
            400,
            vec!["author_name", "email", "body"],
            "missing fields",
        ),
        (
            json!({"author_name": "Ann", "body": "Hi."}),
            400,
            vec!["email"],
            "missing email",
        ),
        (
            json!({"author_name": "Ann", "email": "a@mail.example", "body": null}),
            400,
            vec!["body"],
            "null body",
        ),
        (
            json!({"author_name": 5, "email": true, "body": ["Hi."]}),
            400,
            vec!["author_name", "body", "email"],
            "wrong types",
        ),
        (
            json!({"author_name": long(101), "email": "a@mail.example", "body": "Hi."}),
            400,
            vec!["author_name"],
            "name too long",
        ),
        (
            json!({"author_name": "Ann", "email": format!("{}@mail.example", long(250)), "body": "Hi."}),
            400,
            vec!["email"],
            "email too long",
        ),
        (
            json!({"author_name": "Ann", "email": "a@mail.example", "body": long(5001)}),
            400,
            vec!["body"],
            "body too long",
        ),
        (
            json!({"author_name": "Ann", "email": "a@mail.example", "body": "Hi.", "website": "https://x.example"}),
            400,
            vec!["website"],
            "unknown field",
        ),
        (
            json!({"author_name": " \t ", "email": "a@mail.example", "body": "Hi."}),
            422,
            vec!["author_name"],
            "blank name",
        ),
        (
            json!({"author_name": "Ann", "email": "a@mail.example", "body": "\n  \n"}),
            422,
            vec!["body"],
            "blank body",
        ),
        (
            json!({"author_name": "Ann", "email": "not-an-email", "body": "Hi."}),
            422,
            vec!["email"],
            "bad email",
        ),
        (
            json!({"author_name": "", "email": "a@mail", "body": ""}),
            422,
            vec!["author_name", "email", "body"],
            "every rule at once",
        ),
    ];
    for (body, status, fields, why) in cases {
        let resp = post(&app, &path, body).await;
        assert_eq!(resp.status.as_u16(), status, "{why}: {}", resp.text);
        resp.assert_problem(status).assert_fields(&fields);
    }
    // Exactly at the limits is fine.
    post(
        &app,
        &path,
        json!({"author_name": long(100), "email": format!("{}@mail.example", long(64)), "body": long(5000)}),
    )
    .await
    .assert_status(201);
    post(
        &app,
        &path,
        json!({"author_name": long(100), "email": format!("{}@{}.example", long(64), long(181)), "body": "Hi."}),
    )
    .await
    .assert_status(201);
    let stored = app.get_as("/api/v1/comments?count=true", &app.admin).await;
    assert_eq!(stored.body["meta"]["total"], 2, "only the valid ones");
    let stored_id = ids(&stored)[0].clone();
    app.send_raw(
        Method::POST,
        &path,
        None,
        "text/plain",
        "author_name=Ann&body=Hi",
    )
    .await
    .assert_problem(415);
    app.send_raw(
        Method::POST,
        &path,
        None,
        "application/json",
        format!(
            r#"{{"author_name": "Ann", "email": "a@mail.example", "body": "{}"}}"#,
            long(70_000)
        ),
    )
    .await
    .assert_problem(413);
    app.send_raw(Method::POST, &path, None, "application/json", "{not json")
        .await
        .assert_problem(400);

    // Articles that are not public now, or do not exist, have no comments.
    let publisher = app.publisher("Desk").await;
    let draft = app.article(&publisher, json!({"title": "Draft"})).await;
    let future = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let scheduled = app
        .article(
            &publisher,
            json!({"title": "Later", "status": "scheduled", "published_at": future}),
        )
        .await;
    let trashed = public_article(&app, "Withdrawn").await;
    let gone = app
        .delete(&format!(
            "/api/v1/articles/{}",
            trashed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(gone.status.as_u16(), 204, "{}", gone.text);
    let unknown = uuid::Uuid::now_v7().to_string();
    for key in [
        draft["id"].as_str().unwrap(),
        draft["slug"].as_str().unwrap(),
        scheduled["id"].as_str().unwrap(),
        trashed["id"].as_str().unwrap(),
        trashed["slug"].as_str().unwrap(),
        unknown.as_str(),
        "no-such-story",
    ] {
        let at = format!("/api/v1/articles/{key}/comments");
        app.get(&at)
            .await
            .assert_problem(404)
            .assert_detail("No article has this id or slug.");
        post(&app, &at, comment("Ann", "Hi."))
            .await
            .assert_problem(404)
            .assert_detail("No article has this id or slug.");
    }

    // Lists.
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=many", "limit"),
        ("?count=maybe", "count"),
        ("?cursor=forged", "cursor"),
    ] {
        app.get(&format!("{path}{query}"))
            .await
            .assert_problem(400)
            .assert_fields(&[field]);
    }
    for (query, field) in [
        ("?status=hidden", "status"),
        ("?article=not-a-uuid", "article"),
        ("?limit=101", "limit"),
        ("?cursor=forged", "cursor"),
    ] {
        app.get_as(&format!("/api/v1/comments{query}"), &app.admin)
            .await
            .assert_problem(400)
            .assert_fields(&[field]);
    }
    let unknown_status = app
        .get_as("/api/v1/comments?status=hidden", &app.admin)
        .await;
    assert_eq!(
        unknown_status.body["errors"][0]["message"],
        "must be one of pending, approved, spam"
    );

    // Moderation.
    let at = format!("/api/v1/comments/{stored_id}");
    for (body, field) in [
        (json!({}), "status"),
        (json!({"status": null}), "status"),
        (json!({"status": "deleted"}), "status"),
        (json!({"status": 1}), "status"),
        (
            json!({"status": "approved", "email": "x@mail.example"}),
            "email",
        ),
    ] {
        app.patch(&at, body)
            .await
            .assert_problem(400)
            .assert_fields(&[field]);
    }
    let unknown_value = app.patch(&at, json!({"status": "deleted"})).await;
    assert_eq!(
        unknown_value.body["errors"][0]["message"],
        "must be one of pending, approved, spam"
    );
    assert_eq!(
        app.get_as(&at, &app.admin).await.body["status"],
        "pending",
        "unchanged"
    );
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"status": "approved"}));
        app.send(
            method.clone(),
            "/api/v1/comments/not-a-uuid",
            Some(&app.admin),
            body.clone(),
        )
        .await
        .assert_problem(400)
        .assert_fields(&["id"]);
        app.send(
            method,
            &format!("/api/v1/comments/{unknown}"),
            Some(&app.admin),
            body,
        )
        .await
        .assert_problem(404)
        .assert_detail("No comment has this id.");
    }
}

#[tokio::test]
async fn only_editors_and_admins_moderate_comments() {
    let app = spawn_app().await;
    let story = public_article(&app, "Night Market").await;
    let path = comments_of(&story);
    let mut posted = Vec::new();
    for i in 0..3 {
        posted.push(
            post(&app, &path, comment("Ann", &format!("Comment {i}.")))
                .await
                .id(),
        );
    }
    let target = &posted[0];
    let original = app
        .get_as(&format!("/api/v1/comments/{target}"), &app.admin)
        .await;
    original.assert_status(200);
    let byline = app.author("Writer").await;
    let contributor = app.token(Role::Contributor).await;
    let author = app.user(Role::Author, Some(&byline)).await.token;
    let editor = app.token(Role::Editor).await;

    let requests = |id: &str| {
        let one = format!("/api/v1/comments/{id}");
        vec![
            (Method::GET, "/api/v1/comments".to_string(), None),
            (
                Method::GET,
                "/api/v1/comments?status=pending".to_string(),
                None,
            ),
            (Method::GET, one.clone(), None),
            (
                Method::PATCH,
                one.clone(),
                Some(json!({"status": "approved"})),
            ),
            (Method::DELETE, one, None),
        ]
    };
    let refusals = [
        (None, 401, None),
        (Some("not-a-token"), 401, None),
        (Some(contributor.as_str()), 403, Some("contributor")),
        (Some(author.as_str()), 403, Some("author")),
    ];
    for (token, status, role) in refusals {
        for (method, at, body) in requests(target) {
            let resp = app.send(method.clone(), &at, token, body).await;
            resp.assert_problem(status);
            if let Some(role) = role {
                resp.assert_detail(&format!(
                    "The role `{role}` may not moderate comments; the roles that may: admin, editor."
                ));
            }
            let now = app
                .get_as(&format!("/api/v1/comments/{target}"), &app.admin)
                .await;
            assert_eq!(now.body, original.body, "{method} {at} changed it");
        }
    }
    assert_eq!(ids(&app.get(&path).await), Vec::<String>::new());

    for (token, own) in [
        (editor.as_str(), &posted[1]),
        (app.admin.as_str(), &posted[2]),
    ] {
        for (method, at, body) in requests(own) {
            let resp = app.send(method.clone(), &at, Some(token), body).await;
            let expected = if method == Method::DELETE { 204 } else { 200 };
            assert_eq!(
                resp.status.as_u16(),
                expected,
                "{method} {at}: {}",
                resp.text
            );
        }
        app.get_as(&format!("/api/v1/comments/{own}"), token)
            .await
            .assert_problem(404);
    }
    assert_eq!(
        ids(&app.get_as("/api/v1/comments", &editor).await),
        [target.as_str()]
    );
}

#[tokio::test]
async fn comments_are_rate_limited_per_client_address() {
    let app = spawn_app_with(&[
        ("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "2"),
        ("DISPATCH_COMMENT_LIMIT_WINDOW_SECONDS", "60"),
    ])
    .await;
    let story = public_article(&app, "Storm Warning").await;
    let path = comments_of(&story);
    for i in 0..2 {
        post(&app, &path, comment("Ann", &format!("Comment {i}.")))
            .await
            .assert_status(201);
    }
    let limited = post(&app, &path, comment("Ann", "One too many.")).await;
    limited
        .assert_problem(429)
        .assert_detail("Too many comments from this address; try again in 30 seconds.");
    assert_eq!(limited.header("retry-after"), Some("30"));
    assert_eq!(
        limited.body["type"],
        "urn:dispatch:problem:too-many-requests"
    );
    // Input that is refused anyway is refused as such, and costs nothing.
    post(&app, &path, comment("Ann", " "))
        .await
        .assert_problem(422);
    app.clock.advance(chrono::Duration::seconds(29));
    assert_eq!(
        post(&app, &path, comment("Ann", "Now?"))
            .await
            .assert_problem(429)
            .header("retry-after"),
        Some("1")
    );
    app.clock.advance(chrono::Duration::seconds(1));
    post(&app, &path, comment("Ann", "Patience."))
        .await
        .assert_status(201);
    post(&app, &path, comment("Ann", "And again."))
        .await
        .assert_problem(429);
    let stored = app.get_as("/api/v1/comments?count=true", &app.admin).await;
    assert_eq!(stored.body["meta"]["total"], 3);
}

#[tokio::test]
async fn the_limit_follows_the_client_address_behind_a_proxy() {
    let app = spawn_app_with(&[
        ("DISPATCH_COMMENT_LIMIT_PER_ADDRESS", "1"),
        ("DISPATCH_COMMENT_LIMIT_WINDOW_SECONDS", "60"),
        ("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For"),
    ])
    .await;
    let story = public_article(&app, "Road Works").await;
    let path = comments_of(&story);
    let from = |ip: &'static str| {
        let (app, path) = (&app, &path);
        async move {
            let resp = app
                .client
                .post(format!("{}{path}", app.base))
                .header("x-forwarded-for", format!("198.51.100.9, {ip}"))
                .json(&comment("Ann", "Hello."))
                .send()
                .await
                .unwrap();
            let retry = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (resp.status().as_u16(), retry)
        }
    };
    assert_eq!(from("203.0.113.7").await, (201, None));
    assert_eq!(from("203.0.113.7").await, (429, Some("60".to_string())));
    assert_eq!(from("203.0.113.8").await, (201, None));
}

#[tokio::test]
async fn a_comment_is_plain_text_returned_as_written_and_escaped_as_html() {
    let app = spawn_app().await;
    let story = public_article(&app, "Opinion").await;
    let path = comments_of(&story);
    let written = "Nice <script>alert(1)</script> & \"quotes\" 'too'\r\nsecond line\n\n \nSecond <b>paragraph</b>.";
    let posted = post(
        &app,
        &path,
        json!({"author_name": "<i>Ann</i>", "email": "ann@mail.example", "body": format!("\n  {written}  \n\n")}),
    )
    .await;
    posted.assert_status(201);
    let html = "<p>Nice &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &#39;too&#39;<br>second line</p>\n<p>Second &lt;b&gt;paragraph&lt;/b&gt;.</p>";
    assert_eq!(posted.body["body"], written);
    assert_eq!(posted.body["body_html"], html);
    assert_eq!(posted.body["author_name"], "<i>Ann</i>");
    let approved = set_status(&app, &app.admin, &posted.id(), "approved").await;
    assert_eq!(approved.body["body"], written);
    assert_eq!(approved.body["body_html"], html);
    let listed = app.get(&path).await;
    assert_eq!(listed.body["data"][0]["body"], written);
    assert_eq!(listed.body["data"][0]["body_html"], html);
    assert!(
        !listed.body["data"][0]["body_html"]
            .as_str()
            .unwrap()
            .contains("<script"),
        "{}",
        listed.text
    );
}

#[tokio::test]
async fn the_commenters_email_is_never_returned() {
    let app = spawn_app().await;
    let publisher = app.publisher("Gazette").await;
    let writer = app.author("Writer").await;
    let topic = app.tag("Harbour").await;
    let published_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let story = app
        .article(
            &publisher,
            json!({"title": "Quay Plans", "status": "published", "published_at": published_at,
                   "author_ids": [writer], "tag_ids": [topic]}),
        )
        .await;
    let story_id = story["id"].as_str().unwrap().to_string();
    let path = comments_of(&story);
    let marker = "reader-7f3a";
    let email = "Reader-7F3A@Mail.Example";
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut posted = Vec::new();
    for body in ["Approve me.", "Spam me.", "Leave me."] {
        let resp = post(
            &app,
            &path,
            json!({"author_name": "Reader", "email": email, "body": body}),
        )
        .await;
        resp.assert_json(201);
        posted.push(resp.id());
        texts.push(("201".into(), resp.text));
    }
    let refused = post(
        &app,
        &path,
        json!({"author_name": "Reader", "email": "reader-7f3a@", "body": "Hi."}),
    )
    .await;
    refused.assert_problem(422);
    texts.push(("422".into(), refused.text));
    for (id, status) in [(&posted[0], "approved"), (&posted[1], "spam")] {
        let resp = set_status(&app, &app.admin, id, status).await;
        resp.assert_json(200);
        texts.push((format!("PATCH {id}"), resp.text));
    }
    let mut reads: Vec<(String, Option<&str>)> = vec![
        (path.clone(), None),
        (
            format!(
                "/api/v1/articles/{}/comments?count=true",
                story["slug"].as_str().unwrap()
            ),
            None,
        ),
        ("/api/v1/comments".into(), Some(&app.admin)),
        ("/api/v1/comments?status=pending".into(), Some(&app.admin)),
        ("/api/v1/comments?status=approved".into(), Some(&app.admin)),
        ("/api/v1/comments?status=spam".into(), Some(&app.admin)),
        (
            format!("/api/v1/comments?article={story_id}"),
            Some(&app.admin),
        ),
        (
            format!("/api/v1/articles/{story_id}?include=authors,publisher,tags"),
            None,
        ),
        (
            format!("/api/v1/articles/{story_id}?include=authors,publisher,tags"),
            Some(&app.admin),
        ),
        (
            "/api/v1/articles?include=authors,publisher,tags".into(),
            None,
        ),
        (
            "/api/v1/articles?include=authors,publisher,tags&count=true".into(),
            Some(&app.admin),
        ),
        ("/api/v1/users".into(), Some(&app.admin)),
    ];
    for id in &posted {
        reads.push((format!("/api/v1/comments/{id}"), Some(&app.admin)));
    }
    for (at, token) in reads {
        let resp = app.send(Method::GET, &at, token, None).await;
        resp.assert_json(200);
        texts.push((at, resp.text));
    }
    assert_eq!(texts.len(), 3 + 1 + 2 + 12 + 3);
    for (what, text) in &texts {
        assert!(
            !text.to_lowercase().contains(marker),
            "{what} shows the email: {text}"
        );
    }
}

#[tokio::test]
async fn approved_comments_are_counted_on_their_articles() {
    let app = spawn_app().await;
    let first = public_article(&app, "First Story").await;
    let second = public_article(&app, "Second Story").await;
    let quiet = public_article(&app, "Quiet Story").await;
    let mut ids: Vec<(String, &str)> = Vec::new();
    for (story, statuses) in [
        (&first, vec!["approved", "approved", "spam", "pending"]),
        (&second, vec!["approved", "pending"]),
        (&quiet, vec!["spam"]),
    ] {
        for status in statuses {
            let id = post(&app, &comments_of(story), comment("Ann", "Hi."))
                .await
                .id();
            if status != "pending" {
                set_status(&app, &app.admin, &id, status)
                    .await
                    .assert_status(200);
            }
            ids.push((id, status));
        }
    }
    let count_of = |a: &Value| {
        let path = format!("/api/v1/articles/{}", a["id"].as_str().unwrap());
        let app = &app;
        async move { app.get(&path).await.body["comment_count"].clone() }
    };
    assert_eq!(count_of(&first).await, 2);
    assert_eq!(count_of(&second).await, 1);
    assert_eq!(count_of(&quiet).await, 0);
    let listed = app.get("/api/v1/articles?limit=100").await;
    let mut counts: Vec<i64> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["comment_count"].as_i64().unwrap())
        .collect();
    counts.sort();
    assert_eq!(counts, [0, 1, 2], "lists carry the same counts");
    // Every moderation keeps the count: an approved one marked spam, a pending one
    // approved, an approved one deleted.
    set_status(&app, &app.admin, &ids[0].0, "spam")
        .await
        .assert_status(200);
    assert_eq!(count_of(&first).await, 1);
    set_status(&app, &app.admin, &ids[5].0, "approved")
        .await
        .assert_status(200);
    assert_eq!(count_of(&second).await, 2);
    app.delete(&format!("/api/v1/comments/{}", ids[1].0))
        .await
        .assert_status(204);
    assert_eq!(count_of(&first).await, 0);
}
