use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, field, ids, spawn_app, spawn_app_with};

/// A timestamp `minutes` after a fixed point in the past.
fn at(minutes: i64) -> String {
    (chrono::DateTime::parse_from_rfc3339("2025-03-01T08:00:00Z").unwrap()
        + chrono::Duration::minutes(minutes))
    .with_timezone(&chrono::Utc)
    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn check(app: &TestApp, path: &str, expected: &[&Value]) {
    let resp = app.get_as(path, &app.admin).await;
    resp.assert_status(200);
    let mut got = ids(&resp);
    let mut want = as_ids(expected);
    got.sort();
    want.sort();
    assert_eq!(got, want, "{path}");
}

fn as_ids(v: &[&Value]) -> Vec<String> {
    v.iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_filter_narrows_the_list() {
    let app = spawn_app().await;
    let ledger = app
        .create("/api/v1/publishers", json!({"name": "Ledger"}))
        .await;
    let signal = app
        .create("/api/v1/publishers", json!({"name": "Signal"}))
        .await;
    let (lid, sid) = (
        ledger["id"].as_str().unwrap(),
        signal["id"].as_str().unwrap(),
    );
    let maren = app
        .create("/api/v1/authors", json!({"name": "Maren"}))
        .await;
    let tomas = app
        .create("/api/v1/authors", json!({"name": "Tomas"}))
        .await;
    let (mid, tid) = (maren["id"].as_str().unwrap(), tomas["id"].as_str().unwrap());
    let climate = app.create("/api/v1/tags", json!({"name": "Climate"})).await;
    let cid = climate["id"].as_str().unwrap();

    let a = app
        .article(lid, json!({"title": "Heat pumps for old homes", "status": "published", "published_at": at(0), "author_ids": [mid], "tag_ids": [cid]}))
        .await;
    let b = app
        .article(sid, json!({"title": "Ferry timetable", "body_markdown": "The HARBOUR ferry runs at 100% capacity.", "status": "published", "published_at": at(10), "author_ids": [tid, mid]}))
        .await;
    let c = app
        .article(
            sid,
            json!({"title": "Draft on heat", "author_ids": [tid], "tag_ids": [cid]}),
        )
        .await;

    check(&app, "/api/v1/articles?status=published", &[&a, &b]).await;
    check(&app, "/api/v1/articles?status=draft", &[&c]).await;
    check(&app, "/api/v1/articles?status=archived", &[]).await;
    let by_id = format!("/api/v1/articles?publisher={sid}");
    let resp = app.get_as(&by_id, &app.admin).await;
    assert_eq!(ids(&resp).len(), 2);
    check(&app, "/api/v1/articles?publisher=signal", &[&b, &c]).await;
    check(&app, "/api/v1/articles?author=maren", &[&a, &b]).await;
    let resp = app
        .get_as(&format!("/api/v1/articles?author={tid}"), &app.admin)
        .await;
    assert_eq!(ids(&resp).len(), 2);
    check(&app, "/api/v1/articles?tag=climate", &[&a, &c]).await;
    let resp = app
        .get_as(
            &format!("/api/v1/articles?tag={cid}&status=published"),
            &app.admin,
        )
        .await;
    assert_eq!(ids(&resp), as_ids(&[&a]));
    check(&app, "/api/v1/articles?q=heat", &[&a, &c]).await;
    check(&app, "/api/v1/articles?q=HEAT%20old", &[&a]).await;
    check(&app, "/api/v1/articles?q=he%20hom", &[&a]).await;
    check(&app, "/api/v1/articles?q=harbour", &[&b]).await;
    check(&app, "/api/v1/articles?q=capacity", &[&b]).await;
    check(&app, "/api/v1/articles?q=100%25", &[&b]).await;
    check(&app, "/api/v1/articles?q=timetable%20OR", &[]).await;
    check(&app, "/api/v1/articles?q=%22ferry%22%20-x%20NEAR(y)", &[]).await;
    check(&app, "/api/v1/articles?q=eat", &[]).await;
    check(&app, "/api/v1/articles?q=nothing-matches", &[]).await;
    check(&app, "/api/v1/articles?q=%20", &[&a, &b, &c]).await;
    for q in ["%25", "_", "%22%22", "*"] {
        app.get(&format!("/api/v1/articles?q={q}"))
            .await
            .assert_problem(400)
            .assert_fields(&["q"]);
    }
    check(
        &app,
        "/api/v1/articles?published_after=2025-03-01T08:05:00Z",
        &[&b],
    )
    .await;
    check(
        &app,
        "/api/v1/articles?published_after=2025-03-01T08:10:00Z",
        &[&b],
    )
    .await;
    check(
        &app,
        "/api/v1/articles?published_before=2025-03-01T08:10:00Z",
        &[&a],
    )
    .await;
    check(&app, "/api/v1/articles?published_after=2025-03-01T07:00:00Z&published_before=2025-03-01T09:00:00Z&author=tomas", &[&b]).await;
    // Anonymous readers get the same filters over public articles only.
    assert_eq!(
        ids(&app.get("/api/v1/articles?tag=climate").await),
        as_ids(&[&a])
    );
}

/// Creates published articles with the given titles and minute offsets.
async fn articles(app: &TestApp, p: &str, items: &[(&str, i64)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (title, minutes) in items {
        out.push(
            app.article(
                p,
                json!({"title": title, "status": "published", "published_at": at(*minutes)}),
            )
            .await,
        );
    }
    out
}

#[tokio::test]
async fn every_sort_orders_the_list_with_nulls_last() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    articles(&app, &p, &[("Bravo", 30), ("alpha", 10), ("Charlie", 20)]).await;
    app.article(&p, json!({"title": "Delta draft"})).await;

    let titles = |path: String| {
        let app = &app;
        async move {
            let resp = app.get_as(&path, &app.admin).await;
            resp.assert_status(200);
            field(&resp, "title")
                .into_iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        titles("/api/v1/articles".into()).await,
        vec!["Bravo", "Charlie", "alpha", "Delta draft"],
        "default: newest first"
    );
    assert_eq!(
        titles("/api/v1/articles?sort=-published_at".into()).await,
        vec!["Bravo", "Charlie", "alpha", "Delta draft"]
    );
    assert_eq!(
        titles("/api/v1/articles?sort=published_at".into()).await,
        vec!["alpha", "Charlie", "Bravo", "Delta draft"]
    );
    let asc = titles("/api/v1/articles?sort=title".into()).await;
    let mut desc = titles("/api/v1/articles?sort=-title".into()).await;
    desc.reverse();
    assert_eq!(asc, desc);
    let mut sorted = asc.clone();
    sorted.sort_by_key(|t| t.to_lowercase());
    assert_eq!(
        asc.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>(),
        sorted.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>(),
        "title order is alphabetical"
    );
    let updated = titles("/api/v1/articles?sort=updated_at".into()).await;
    assert_eq!(
        updated,
        vec!["Bravo", "alpha", "Charlie", "Delta draft"],
        "creation order"
    );
    assert_eq!(
        titles("/api/v1/articles?sort=-updated_at".into()).await,
        vec!["Delta draft", "Charlie", "alpha", "Bravo"]
    );
    app.get("/api/v1/articles?sort=popularity")
        .await
        .assert_problem(400)
        .assert_fields(&["sort"]);
}

/// Walks every page of `path` with `limit`, creating an article before each next page.
async fn walk_while_writing(app: &TestApp, p: &str, path: &str, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut step = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let resp = app.get_as(&url, &app.admin).await;
        resp.assert_status(200);
        assert_eq!(resp.body["meta"]["limit"], limit);
        seen.extend(ids(&resp));
        // Someone publishes between page loads: one very new, one very old, one tying an existing time.
        step += 1;
        let minutes = [10_000, -10_000, 5][step % 3];
        app.article(p, json!({"title": format!("Inserted {step}"), "status": "published", "published_at": at(minutes)}))
            .await;
        match resp.body["meta"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(step < 100, "pagination does not end");
    }
    seen
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_while_articles_are_inserted() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    // 23 articles, several sharing a publication time and a title, so the id tie-break matters.
    let mut items = Vec::new();
    for i in 0..23i64 {
        items.push((if i % 4 == 0 { "Same title" } else { "Story" }, (i / 3) * 5));
    }
    let original: Vec<String> = articles(&app, &p, &items)
        .await
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let draft = app.article(&p, json!({"title": "Undated draft"})).await;
    for sort in [
        "-published_at",
        "published_at",
        "title",
        "-title",
        "updated_at",
        "-updated_at",
    ] {
        let seen = walk_while_writing(&app, &p, &format!("/api/v1/articles?sort={sort}"), 5).await;
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a row was repeated");
        for id in original
            .iter()
            .chain([&draft["id"].as_str().unwrap().to_string()])
        {
            assert!(unique.contains(id), "{sort}: a row was skipped");
        }
    }
}

#[tokio::test]
async fn a_cursor_is_refused_under_another_sort_and_when_forged() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    articles(&app, &p, &[("a", 1), ("b", 2), ("c", 3)]).await;
    let first = app.get("/api/v1/articles?limit=1&sort=title").await;
    let cursor = first.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!(
        "/api/v1/articles?limit=1&sort=title&cursor={cursor}"
    ))
    .await
    .assert_status(200);
    for bad in [
        format!("/api/v1/articles?sort=-title&cursor={cursor}"),
        "/api/v1/articles?cursor=forged".to_string(),
        "/api/v1/articles?cursor=eyJzIjoiLXB1Ymxpc2hlZF9hdCIsInYiOiJub3QgYSBkYXRlIiwiaSI6IjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMCJ9".to_string(),
        "/api/v1/publishers?cursor=%7B%7D".to_string(),
    ] {
        app.get(&bad).await.assert_problem(400).assert_fields(&["cursor"]);
    }
}

#[tokio::test]
async fn a_list_with_every_include_runs_the_same_number_of_statements_for_1_and_100_rows() {
    // The response cache off: this counts what the handler itself runs.
    let app = spawn_app_with(&[("DISPATCH_CACHE_BYTES", "0")]).await;
    let outlet = app.publisher("Outlet").await;
    let wire = app.publisher("Wire").await;
    let authors = [
        app.author("A").await,
        app.author("B").await,
        app.author("C").await,
    ];
    let tags = [
        app.tag("T1").await,
        app.tag("T2").await,
        app.tag("T3").await,
    ];
    for i in 0..100 {
        app.article(
            &wire,
            json!({
                "title": format!("Story {i}"),
                "status": "published",
                "published_at": at(i),
                "syndicated_from_id": outlet,
                "author_ids": [authors[i as usize % 3], authors[(i as usize + 1) % 3]],
                "tag_ids": [tags[i as usize % 3], tags[(i as usize + 2) % 3]],
            }),
        )
        .await;
    }
    let mut counts = Vec::new();
    for limit in [1, 100] {
        let before = app.statement_count();
        let resp = app
            .get(&format!("/api/v1/articles?limit={limit}&count=true&include=authors,publisher,syndicated_from,tags"))
            .await;
        let used = app.statement_count() - before;
        resp.assert_status(200);
        let data = resp.body["data"].as_array().unwrap();
        assert_eq!(data.len(), limit);
        assert!(
            data.iter()
                .all(|a| a["authors"].as_array().unwrap().len() == 2
                    && a["tags"].as_array().unwrap().len() == 2)
        );
        assert!(
            data.iter()
                .all(|a| a["publisher"]["name"] == "Wire"
                    && a["syndicated_from"]["name"] == "Outlet")
        );
        counts.push(used);
    }
    assert_eq!(counts[0], counts[1], "statements for 1 row vs 100 rows");
    // count + page + bylines with their authors + tag rows + tags + publishers
    assert_eq!(
        counts[0], 6,
        "statements per list request with every include"
    );
    println!(
        "SQL statements per list request with every include: {}",
        counts[0]
    );
}

/// The titles of a list, in order.
fn titles_of(resp: &crate::helpers::Resp) -> Vec<String> {
    resp.assert_status(200);
    field(resp, "title")
        .into_iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// Every page of `path` (which has a `?`), `limit` rows at a time, as ids.
async fn walk(app: &TestApp, path: &str, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let resp = app.get_as(&url, &app.admin).await;
        resp.assert_status(200);
        seen.extend(ids(&resp));
        match resp.body["meta"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return seen,
        }
    }
    panic!("pagination does not end");
}

#[tokio::test]
async fn sort_by_updated_at_orders_by_the_last_change_both_ways() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let mut made = Vec::new();
    for title in ["First", "Second", "Third"] {
        app.clock.advance(chrono::Duration::seconds(10));
        made.push(app.article(&p, json!({"title": title})).await);
    }
    // Changing the oldest makes it the most recently updated.
    app.clock.advance(chrono::Duration::seconds(10));
    let first = made[0]["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/articles/{first}"),
        json!({"subtitle": "Changed"}),
    )
    .await
    .assert_status(200);

    let asc = app
        .get_as("/api/v1/articles?sort=updated_at", &app.admin)
        .await;
    assert_eq!(titles_of(&asc), ["Second", "Third", "First"]);
    let desc = app
        .get_as("/api/v1/articles?sort=-updated_at", &app.admin)
        .await;
    assert_eq!(titles_of(&desc), ["First", "Third", "Second"]);
    // One row a page: the cursors carry the time and keep the order.
    let by_id = |title: &str| {
        made.iter()
            .find(|a| a["title"] == title)
            .map(|a| a["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        walk(&app, "/api/v1/articles?sort=updated_at", 1).await,
        [by_id("Second"), by_id("Third"), by_id("First")]
    );
    assert_eq!(
        walk(&app, "/api/v1/articles?sort=-updated_at", 1).await,
        [by_id("First"), by_id("Third"), by_id("Second")]
    );
}

#[tokio::test]
async fn paging_by_updated_at_returns_every_unchanged_row_once_while_others_write() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    for sort in ["updated_at", "-updated_at"] {
        // Three rows share one time and three another, so pages end inside a tie.
        let mut rows = Vec::new();
        for n in 0..6 {
            if n % 3 == 0 {
                app.clock.advance(chrono::Duration::seconds(10));
            }
            rows.push(
                app.article(&p, json!({"title": format!("{sort} {n}")}))
                    .await["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        let path = format!("/api/v1/articles?sort={sort}");
        // Only this round's rows count; earlier rounds' rows sort before or after them.
        let mine = |ids: Vec<String>| -> Vec<String> {
            ids.into_iter().filter(|id| rows.contains(id)).collect()
        };
        let first = app.get_as(&format!("{path}&limit=2"), &app.admin).await;
        first.assert_status(200);
        let mut seen = ids(&first);
        let mut cursor = first.body["meta"]["next_cursor"]
            .as_str()
            .map(str::to_string);
        let changed = seen[0].clone();
        let unseen_gone = if sort == "updated_at" {
            rows[4].clone()
        } else {
            rows[1].clone()
        };
        // Meanwhile: a row already seen is edited, an unseen one goes to the trash,
        // a new one is written.
        app.clock.advance(chrono::Duration::seconds(10));
        app.patch(
            &format!("/api/v1/articles/{changed}"),
            json!({"subtitle": "Edited"}),
        )
        .await
        .assert_status(200);
        app.delete(&format!("/api/v1/articles/{unseen_gone}"))
            .await
            .assert_status(204);
        app.article(&p, json!({"title": "Latecomer"})).await;
        while let Some(c) = cursor {
            let page = app
                .get_as(&format!("{path}&limit=2&cursor={c}"), &app.admin)
                .await;
            page.assert_status(200);
            seen.extend(ids(&page));
            cursor = page.body["meta"]["next_cursor"]
                .as_str()
                .map(str::to_string);
        }
        // Every row nobody changed comes exactly once, in the sort's order; the
        // deleted one is gone; the edited one may come again at its new place.
        let mut unchanged: Vec<String> = rows
            .iter()
            .filter(|id| **id != changed && **id != unseen_gone)
            .cloned()
            .collect();
        if sort == "-updated_at" {
            unchanged.reverse();
        }
        let got: Vec<String> = mine(seen).into_iter().filter(|id| *id != changed).collect();
        assert_eq!(got, unchanged, "{sort}");
    }
}

/// Creates `names` at `path` (publishers, authors or tags) and checks both orders
/// and one-row pages: case and accents do not count.
async fn check_name_order(app: &TestApp, path: &str) {
    for name in ["Fay", "Émile", "dan", "Bea", "emile"] {
        app.create(path, json!({ "name": name })).await;
    }
    let names = |resp: &crate::helpers::Resp| -> Vec<String> {
        resp.assert_status(200);
        field(resp, "name")
            .into_iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    let asc = app.get(path).await;
    // "Émile" and "emile" tie on their sort key; the older one comes first.
    assert_eq!(
        names(&asc),
        ["Bea", "dan", "Émile", "emile", "Fay"],
        "{path}"
    );
    let desc = app.get(&format!("{path}?sort=-name")).await;
    assert_eq!(
        names(&desc),
        ["Fay", "emile", "Émile", "dan", "Bea"],
        "{path}"
    );
    let walked = walk(app, &format!("{path}?sort=name"), 1).await;
    assert_eq!(walked, ids(&asc), "{path}: one-row pages");
    let walked = walk(app, &format!("{path}?sort=-name"), 2).await;
    assert_eq!(walked, ids(&desc), "{path}: two-row pages");
}

#[tokio::test]
async fn publishers_authors_and_tags_sort_by_name_ignoring_case_and_accents() {
    let app = spawn_app().await;
    for path in ["/api/v1/publishers", "/api/v1/authors", "/api/v1/tags"] {
        check_name_order(&app, path).await;
    }
}

#[tokio::test]
async fn article_titles_sort_ignoring_case_and_accents() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    for title in ["Fay", "Émile", "dan", "Bea"] {
        app.article(&p, json!({ "title": title })).await;
    }
    let asc = app.get_as("/api/v1/articles?sort=title", &app.admin).await;
    assert_eq!(titles_of(&asc), ["Bea", "dan", "Émile", "Fay"]);
    let desc = app.get_as("/api/v1/articles?sort=-title", &app.admin).await;
    assert_eq!(titles_of(&desc), ["Fay", "Émile", "dan", "Bea"]);
}

#[tokio::test]
async fn a_filter_naming_nothing_is_a_422_naming_it_not_an_empty_list() {
    let app = spawn_app().await;
    let p = app.publisher("Ledger").await;
    let quiet = app.create("/api/v1/tags", json!({"name": "Quiet"})).await;
    app.article(&p, json!({"title": "Tide tables", "status": "published"}))
        .await;
    let stranger = uuid::Uuid::now_v7();

    for (path, fields, detail) in [
        (
            "/api/v1/articles?tag=climat".to_string(),
            vec!["tag"],
            "`tag`: no tag has the id or slug `climat`".to_string(),
        ),
        (
            "/api/v1/articles?publisher=nobody&author=no-one".to_string(),
            vec!["publisher", "author"],
            "`publisher`: no publisher has the id or slug `nobody`; `author`: no author has the id or slug `no-one`".to_string(),
        ),
        (
            format!("/api/v1/articles?author={stranger}"),
            vec!["author"],
            format!("`author`: no author has the id or slug `{stranger}`"),
        ),
        (
            "/api/v1/authors?publisher=nobody".to_string(),
            vec!["publisher"],
            "`publisher`: no publisher has the id or slug `nobody`".to_string(),
        ),
    ] {
        // Anonymous readers and editors alike: publishers, authors and tags are public.
        app.get(&path)
            .await
            .assert_problem(422)
            .assert_fields(&fields)
            .assert_detail(&detail);
        app.get_as(&path, &app.admin)
            .await
            .assert_problem(422)
            .assert_fields(&fields);
    }
    // A filter naming a real row that nothing matches is an empty list, not an error.
    for path in [
        "/api/v1/articles?tag=quiet".to_string(),
        format!("/api/v1/articles?tag={}", quiet["id"].as_str().unwrap()),
        "/api/v1/articles?publisher=ledger&q=nothing-matches".to_string(),
        "/api/v1/authors?publisher=ledger".to_string(),
    ] {
        let resp = app.get(&path).await;
        resp.assert_status(200);
        assert_eq!(resp.body["data"], json!([]), "{path}");
    }
    // Moderators filtering comments by an article id that names no live article.
    app.get_as(&format!("/api/v1/comments?article={stranger}"), &app.admin)
        .await
        .assert_problem(422)
        .assert_fields(&["article"])
        .assert_detail(&format!(
            "`article`: no article outside the trash has the id `{stranger}`"
        ));
}
