use dispatch::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ids, spawn_app};

#[tokio::test]
async fn an_article_is_created_read_by_id_and_slug_updated_and_deleted() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let a1 = app.author("Maren Okafor").await;
    let a2 = app.author("Tomas Reyes").await;
    let t = app.tag("Climate").await;
    let resp = app
        .post(
            "/api/v1/articles",
            json!({
                "title": "Council doubles heat-pump rebate",
                "subtitle": "Older homes get up to $6,000",
                "body_markdown": "Owners of older homes will get *more*.\n\n## How to apply\n\nSee the city site.",
                "status": "published",
                "dateline": "HARBOR CITY",
                "publisher_id": p,
                "author_ids": [a2, a1],
                "tag_ids": [t],
            }),
        )
        .await;
    resp.assert_status(201);
    let id = resp.id();
    let a = &resp.body;
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/articles/{id}").as_str())
    );
    assert_eq!(a["slug"], "council-doubles-heat-pump-rebate");
    assert_eq!(a["status"], "published");
    assert!(
        a["published_at"].is_string(),
        "publishing sets published_at"
    );
    assert_eq!(
        a["author_ids"],
        json!([a2, a1]),
        "the byline keeps its order"
    );
    assert_eq!(a["tag_ids"], json!([t]));
    assert_eq!(a["excerpt"], "Owners of older homes will get more.");
    assert_eq!(a["reading_time_minutes"], 1);
    assert_eq!(a["version"], 1);
    assert_eq!(a["dateline"], "HARBOR CITY");
    assert!(
        a["body_html"]
            .as_str()
            .unwrap()
            .contains("<h2>How to apply</h2>")
    );
    assert!(a["body_html"].as_str().unwrap().contains("<em>more</em>"));

    let by_id = app.get(&format!("/api/v1/articles/{id}")).await;
    by_id.assert_status(200);
    let by_slug = app
        .get("/api/v1/articles/council-doubles-heat-pump-rebate")
        .await;
    assert_eq!(by_slug.body, by_id.body);

    let updated = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            json!({"title": "Council doubles rebate", "author_ids": [a1], "subtitle": null}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["title"], "Council doubles rebate");
    assert_eq!(updated.body["subtitle"], json!(null));
    assert_eq!(updated.body["author_ids"], json!([a1]));
    assert_eq!(updated.body["tag_ids"], json!([t]), "tags untouched");
    assert_eq!(updated.body["version"], 2);
    assert_eq!(
        updated.body["slug"], "council-doubles-heat-pump-rebate",
        "a retitle keeps the slug"
    );
    let again = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            json!({"dateline": "LYON"}),
        )
        .await;
    assert_eq!(again.body["version"], 3);

    app.delete(&format!("/api/v1/articles/{id}"))
        .await
        .assert_status(204);
    app.get_as(&format!("/api/v1/articles/{id}"), &app.admin)
        .await
        .assert_problem(404)
        .assert_detail("No article has this id or slug.");
    // It waits in the trash, still holding its byline.
    app.delete(&format!("/api/v1/authors/{a1}"))
        .await
        .assert_problem(409);
    // Deleted for good, its byline rows go with it, so the author can go too.
    app.delete(&format!("/api/v1/trash/articles/{id}"))
        .await
        .assert_status(204);
    app.delete(&format!("/api/v1/authors/{a1}"))
        .await
        .assert_status(204);
}

#[tokio::test]
async fn article_slugs_are_generated_with_suffixes_and_can_be_given() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let first = app
        .article(&p, json!({"title": "Storm hits the coast"}))
        .await;
    let second = app
        .article(&p, json!({"title": "Storm hits the coast!"}))
        .await;
    let third = app
        .article(&p, json!({"title": "Storm: hits the coast"}))
        .await;
    assert_eq!(first["slug"], "storm-hits-the-coast");
    assert_eq!(second["slug"], "storm-hits-the-coast-2");
    assert_eq!(third["slug"], "storm-hits-the-coast-3");
    let given = app
        .article(&p, json!({"title": "x", "slug": "my-own-slug"}))
        .await;
    assert_eq!(given["slug"], "my-own-slug");
    app.post(
        "/api/v1/articles",
        json!({"title": "y", "slug": "my-own-slug", "publisher_id": p}),
    )
    .await
    .assert_problem(409)
    .assert_fields(&["slug"]);
    let long = app.article(&p, json!({"title": "word ".repeat(60)})).await;
    assert!(long["slug"].as_str().unwrap().len() <= 80);
}

#[tokio::test]
async fn drafts_scheduled_archived_and_future_articles_are_invisible_to_anonymous_readers() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let public = app
        .article(&p, json!({"title": "Public", "status": "published"}))
        .await;
    let draft = app.article(&p, json!({"title": "Draft"})).await;
    let scheduled = app
        .article(&p, json!({"title": "Scheduled", "status": "scheduled", "published_at": "2999-01-01T06:00:00Z"}))
        .await;
    let archived = app.article(&p, json!({"title": "Archived", "status": "archived", "published_at": "2020-01-01T00:00:00Z"})).await;
    let embargoed = app
        .article(&p, json!({"title": "Embargoed", "status": "published", "published_at": "2999-01-01T00:00:00Z"}))
        .await;
    assert_eq!(draft["status"], "draft");

    let anonymous = app.get("/api/v1/articles?count=true").await;
    assert_eq!(ids(&anonymous), vec![public["id"].as_str().unwrap()]);
    assert_eq!(anonymous.body["meta"]["total"], 1);
    for hidden in [&draft, &scheduled, &archived, &embargoed] {
        let id = hidden["id"].as_str().unwrap();
        let slug = hidden["slug"].as_str().unwrap();
        app.get(&format!("/api/v1/articles/{id}"))
            .await
            .assert_problem(404);
        app.get(&format!("/api/v1/articles/{slug}"))
            .await
            .assert_problem(404);
        // Asking for the status does not reveal them either.
        for status in ["draft", "scheduled", "archived", "published"] {
            let listed = app.get(&format!("/api/v1/articles?status={status}")).await;
            assert!(
                !ids(&listed).contains(&id.to_string()),
                "{status} leaked {slug}"
            );
        }
        app.get_as(&format!("/api/v1/articles/{id}"), &app.admin)
            .await
            .assert_status(200);
    }
    // Authors and contributors with no linked byline own nothing, so they see what anyone sees.
    for role in [Role::Author, Role::Contributor] {
        let listed = app.get_as("/api/v1/articles", &app.token(role).await).await;
        assert_eq!(
            ids(&listed),
            vec![public["id"].as_str().unwrap()],
            "{role:?}"
        );
    }
    for role in [Role::Editor, Role::Admin] {
        let listed = app
            .get_as("/api/v1/articles?count=true", &app.token(role).await)
            .await;
        assert_eq!(listed.body["meta"]["total"], 5, "{role:?}");
    }
}

#[tokio::test]
async fn a_scheduled_article_whose_time_has_passed_reads_as_published() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let a = app
        .article(
            &p,
            json!({"title": "Soon", "status": "scheduled", "published_at": "2999-01-01T06:00:00Z"}),
        )
        .await;
    assert_eq!(a["status"], "scheduled");
    let id = a["id"].as_str().unwrap();
    // Move the schedule into the past without touching the status, as time passing would.
    let moved = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            json!({"published_at": "2020-01-01T06:00:00Z"}),
        )
        .await;
    moved.assert_problem(422).assert_fields(&["published_at"]);
    // A scheduled article cannot be scheduled in the past; a published one in the past is fine.
    let published = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            json!({"status": "published", "published_at": "2020-01-01T06:00:00Z"}),
        )
        .await;
    published.assert_status(200);
    assert_eq!(
        app.get(&format!("/api/v1/articles/{id}")).await.body["status"],
        "published"
    );
}

#[tokio::test]
async fn includes_embed_the_byline_publishers_and_tags_in_order() {
    let app = spawn_app().await;
    let outlet = app.publisher("The Harbor City Ledger").await;
    let wire = app.publisher("Northlight Wire").await;
    let a1 = app.author("Zed").await;
    let a2 = app.author("Amy").await;
    let t1 = app.tag("Transport").await;
    let t2 = app.tag("Climate").await;
    let a = app
        .article(
            &wire,
            json!({
                "status": "published",
                "syndicated_from_id": outlet,
                "canonical_url": "https://ledger.example/story",
                "author_ids": [a1, a2],
                "tag_ids": [t1, t2],
            }),
        )
        .await;
    let id = a["id"].as_str().unwrap();
    let plain = app.get(&format!("/api/v1/articles/{id}")).await;
    for key in ["authors", "publisher", "syndicated_from", "tags"] {
        plain.assert_absent(200, "", key);
    }
    let full = app
        .get(&format!(
            "/api/v1/articles/{id}?include=authors,publisher,syndicated_from,tags"
        ))
        .await;
    full.assert_status(200);
    let names = |key: &str| -> Vec<String> {
        full.body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("authors"),
        vec!["Zed", "Amy"],
        "byline order, not name order"
    );
    assert_eq!(names("tags"), vec!["Transport", "Climate"]);
    assert_eq!(full.body["publisher"]["name"], "Northlight Wire");
    assert_eq!(
        full.body["syndicated_from"]["name"],
        "The Harbor City Ledger"
    );
    assert_eq!(full.body["canonical_url"], "https://ledger.example/story");

    let listed = app.get("/api/v1/articles?include=publisher").await;
    assert_eq!(listed.body["data"][0]["publisher"]["id"], json!(wire));
    listed.assert_absent(200, "/data/0", "authors");

    app.get("/api/v1/articles?include=comments")
        .await
        .assert_problem(400)
        .assert_fields(&["include"]);
}

#[tokio::test]
async fn markdown_is_sanitised_against_scripts_javascript_links_and_event_handlers() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let body = "Hello <script>alert('x')</script>\n\n[click](javascript:alert(1)) \
                <a href=\"JAVASCRIPT:alert(2)\">two</a>\n\n<img src=\"https://img.example/a.png\" onerror=\"alert(3)\">\n\n\
                <p onclick=\"steal()\" style=\"color:red\">para</p>";
    let a = app.article(&p, json!({"body_markdown": body})).await;
    let html = a["body_html"].as_str().unwrap();
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    assert!(!lower.contains("javascript:"), "{html}");
    assert!(!lower.contains("onerror"), "{html}");
    assert!(!lower.contains("onclick"), "{html}");
    assert!(!lower.contains("alert("), "{html}");
    assert!(
        html.contains("https://img.example/a.png"),
        "safe images stay: {html}"
    );
    assert_eq!(a["body_markdown"], body, "the source is kept as written");

    let id = a["id"].as_str().unwrap();
    let patched = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            json!({"body_markdown": "<svg onload=alert(1)>x</svg> ok"}),
        )
        .await;
    let html = patched.body["body_html"].as_str().unwrap();
    assert!(!html.contains("onload") && !html.contains("<svg"), "{html}");
}

#[tokio::test]
async fn the_excerpt_is_derived_unless_given_and_follows_the_body() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let given = app
        .article(
            &p,
            json!({"excerpt": "Hand-written.", "body_markdown": "Body text."}),
        )
        .await;
    assert_eq!(given["excerpt"], "Hand-written.");
    let derived = app
        .article(
            &p,
            json!({"body_markdown": "# Head\n\nFirst para.\n\nSecond."}),
        )
        .await;
    assert_eq!(derived["excerpt"], "First para.");
    let id = derived["id"].as_str().unwrap();
    let changed = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            json!({"body_markdown": "New lead.\n\nMore."}),
        )
        .await;
    assert_eq!(changed.body["excerpt"], "New lead.");
    let gid = given["id"].as_str().unwrap();
    let kept = app
        .patch(
            &format!("/api/v1/articles/{gid}"),
            json!({"body_markdown": "Other."}),
        )
        .await;
    assert_eq!(
        kept.body["excerpt"], "Hand-written.",
        "a hand-written excerpt is kept"
    );
    let long = app
        .article(&p, json!({"body_markdown": "word ".repeat(450)}))
        .await;
    assert_eq!(long["reading_time_minutes"], 3);
}

#[tokio::test]
async fn write_rules_spanning_fields_are_422s() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let a = app.author("A").await;
    let cases = [
        (
            json!({"title": "x", "publisher_id": p, "status": "scheduled"}),
            vec!["published_at"],
        ),
        (
            json!({"title": "x", "publisher_id": p, "status": "scheduled", "published_at": "2001-01-01T00:00:00Z"}),
            vec!["published_at"],
        ),
        (
            json!({"title": "x", "publisher_id": p, "syndicated_from_id": p}),
            vec!["syndicated_from_id"],
        ),
        (
            json!({"title": "x", "publisher_id": p, "author_ids": [a, a]}),
            vec!["author_ids"],
        ),
        (json!({"title": "   ", "publisher_id": p}), vec!["title"]),
        (
            json!({"title": "x", "publisher_id": p, "canonical_url": "ftp://x"}),
            vec!["canonical_url"],
        ),
    ];
    for (body, fields) in cases {
        app.post("/api/v1/articles", body.clone())
            .await
            .assert_problem(422)
            .assert_fields(&fields);
    }
    let count = app.get_as("/api/v1/articles?count=true", &app.admin).await;
    assert_eq!(count.body["meta"]["total"], 0, "nothing was written");
}

/// Whether `slug` is `base` followed by a six-character random suffix.
fn random_suffixed(slug: &serde_json::Value, base: &str) -> bool {
    slug.as_str()
        .and_then(|s| s.strip_prefix(&format!("{base}-")))
        .is_some_and(|rest| {
            rest.len() == 6
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[tokio::test]
async fn slugs_reveal_nothing_about_articles_the_writer_cannot_read() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    // A draft of someone else's and an article in the trash: neither readable by
    // an author or a contributor.
    let staff = app.author("Staff").await;
    app.article(&p, json!({"title": "Secret merger", "author_ids": [staff]}))
        .await;
    let trashed = app.article(&p, json!({"title": "Old story"})).await;
    app.delete(&format!(
        "/api/v1/articles/{}",
        trashed["id"].as_str().unwrap()
    ))
    .await
    .assert_status(204);

    let contributor = app
        .user(Role::Contributor, Some(&app.author("Cora").await))
        .await;
    let author = app.user(Role::Author, Some(&app.author("Abe").await)).await;
    for writer in [&contributor, &author] {
        app.get_as("/api/v1/articles/secret-merger", &writer.token)
            .await
            .assert_problem(404);
        app.get_as("/api/v1/articles/old-story", &writer.token)
            .await
            .assert_problem(404);
        // A made slug has the same shape whether the title's slug is taken or not.
        let mut made = Vec::new();
        for title in ["Secret merger", "Old story", "Nobody wrote this"] {
            let created = app
                .send(
                    Method::POST,
                    "/api/v1/articles",
                    Some(&writer.token),
                    Some(json!({"title": title, "body_markdown": "x", "publisher_id": p})),
                )
                .await;
            created.assert_status(201);
            made.push(created);
        }
        assert!(
            random_suffixed(&made[0].body["slug"], "secret-merger"),
            "{}",
            made[0].text
        );
        assert!(
            random_suffixed(&made[1].body["slug"], "old-story"),
            "{}",
            made[1].text
        );
        assert!(
            random_suffixed(&made[2].body["slug"], "nobody-wrote-this"),
            "{}",
            made[2].text
        );
        // A slug they send is refused alike, taken or not: only editors and admins
        // choose slugs.
        let mut refusals = Vec::new();
        for slug in ["secret-merger", "old-story", "never-used-anywhere"] {
            let refused = app
                .send(
                    Method::POST,
                    "/api/v1/articles",
                    Some(&writer.token),
                    Some(json!({"title": "Try", "body_markdown": "x", "publisher_id": p, "slug": slug})),
                )
                .await;
            refused.assert_problem(403);
            refusals.push(refused.body["detail"].clone());
        }
        assert_eq!(refusals[0], refusals[2]);
        assert_eq!(refusals[1], refusals[2]);
        // The same for a rename of their own draft; keeping the slug is no rename.
        let own = made[2].id();
        let own_slug = made[2].body["slug"].clone();
        for slug in ["secret-merger", "never-used-anywhere"] {
            app.send(
                Method::PATCH,
                &format!("/api/v1/articles/{own}"),
                Some(&writer.token),
                Some(json!({ "slug": slug })),
            )
            .await
            .assert_problem(403)
            .assert_detail(refusals[2].as_str().unwrap());
        }
        app.send(
            Method::PATCH,
            &format!("/api/v1/articles/{own}"),
            Some(&writer.token),
            Some(json!({"slug": own_slug, "title": "Renamed"})),
        )
        .await
        .assert_status(200);
    }
    // Editors and admins read everything, the trash included: they get the first
    // free suffix and choose slugs, and a taken one is a 409.
    let editor = app.user(Role::Editor, None).await;
    let created = app
        .send(
            Method::POST,
            "/api/v1/articles",
            Some(&editor.token),
            Some(json!({"title": "Old story", "body_markdown": "x", "publisher_id": p})),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["slug"], "old-story-2");
    app.send(
        Method::POST,
        "/api/v1/articles",
        Some(&editor.token),
        Some(json!({"title": "Again", "body_markdown": "x", "publisher_id": p, "slug": "secret-merger"})),
    )
    .await
    .assert_problem(409)
    .assert_fields(&["slug"]);
}
