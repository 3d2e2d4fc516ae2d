//! Sitemaps: the index lists each child and the news sitemap at Dispatch's public
//! address; the article children hold exactly the public, indexable articles at the
//! site's URLs, paged without repeats or gaps; a page past the last is a 404
//! problem; the news sitemap keeps to Google's rules (two days, 1,000 articles, the
//! publisher's name, the language code); the response cache serves them, sees each
//! write, and drops a news item when the clock takes it out of the window; reads
//! stay clean while articles are published and deleted.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dispatch::clock::Clock;
use futures_util::StreamExt;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, spawn_app_with};

const SITE: &str = "https://news.example";
const API: &str = "https://api.news.example";

async fn app_with(extra: &[(&str, &str)]) -> TestApp {
    let mut all = vec![
        ("DISPATCH_PUBLIC_SITE_URL", SITE),
        ("DISPATCH_PUBLIC_API_URL", API),
    ];
    all.extend_from_slice(extra);
    spawn_app_with(&all).await
}

/// One `<url>` or `<sitemap>` of a document: its text children by local name
/// (`loc`, `lastmod`, `name`, `language`, `publication_date`, `title`).
type Item = std::collections::BTreeMap<String, String>;

/// The document's root element's name and its items, parsed (so it is well-formed XML).
fn parse(resp: &Resp) -> (String, Vec<Item>) {
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.text);
    assert_eq!(
        resp.header("content-type"),
        Some("application/xml; charset=utf-8")
    );
    let mut reader = Reader::from_str(&resp.text);
    let mut root = String::new();
    let mut items = Vec::new();
    let mut current: Option<Item> = None;
    let mut open = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if root.is_empty() {
                    root = name;
                } else if name == "url" || name == "sitemap" {
                    current = Some(Item::new());
                } else {
                    open = name.rsplit(':').next().unwrap().to_string();
                }
            }
            Event::Text(t) => {
                if let Some(item) = current.as_mut() {
                    let text = t.decode().unwrap().into_owned();
                    let text = quick_xml::escape::unescape(&text).unwrap().into_owned();
                    item.entry(open.clone()).or_default().push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(item) = current.as_mut() {
                    let name = r.decode().unwrap().into_owned();
                    let text = quick_xml::escape::unescape(&format!("&{name};"))
                        .unwrap()
                        .into_owned();
                    item.entry(open.clone()).or_default().push_str(&text);
                }
            }
            Event::End(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if (name == "url" || name == "sitemap")
                    && let Some(item) = current.take()
                {
                    items.push(item);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (root, items)
}

fn locs(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i["loc"].clone()).collect()
}

fn w3c(text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn story(app: &TestApp, publisher: &str, extra: Value) -> Value {
    let mut body = json!({"status": "published"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.article(publisher, body).await
}

fn ago(app: &TestApp, by: Duration) -> String {
    (app.clock.now() - by).to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[tokio::test]
async fn the_index_lists_each_child_and_the_news_sitemap_with_lastmod() {
    let app = app_with(&[]).await;
    let p = app.publisher("Harbour Post").await;
    app.author("Ada Reporter").await;
    app.tag("Climate").await;
    let a = story(&app, &p, json!({"title": "Sea wall"})).await;
    let (root, items) = parse(&app.get("/sitemap.xml").await);
    assert_eq!(root, "sitemapindex");
    assert_eq!(
        locs(&items),
        [
            format!("{API}/sitemaps/articles-1.xml"),
            format!("{API}/sitemaps/publishers-1.xml"),
            format!("{API}/sitemaps/authors-1.xml"),
            format!("{API}/sitemaps/tags-1.xml"),
            format!("{API}/sitemap-news.xml"),
        ]
    );
    assert_eq!(items[0]["lastmod"], w3c(a["updated_at"].as_str().unwrap()));
    assert_eq!(items[4]["lastmod"], w3c(a["updated_at"].as_str().unwrap()));
    for item in &items {
        assert!(item.contains_key("lastmod"), "{item:?}");
    }

    // Empty children and an empty news sitemap are left out (a urlset needs a url).
    let empty = app_with(&[]).await;
    let (_, items) = parse(&empty.get("/sitemap.xml").await);
    assert!(items.is_empty(), "{items:?}");
    let (root, items) = parse(&empty.get("/sitemaps/articles-1.xml").await);
    assert_eq!((root.as_str(), items.len()), ("urlset", 0));
}

#[tokio::test]
async fn article_children_hold_only_public_indexable_articles_at_their_urls() {
    let app = app_with(&[]).await;
    let p = app.publisher("Harbour Post").await;
    let old = story(
        &app,
        &p,
        json!({"title": "Old", "published_at": "2020-01-01T06:00:00Z"}),
    )
    .await;
    let new = story(&app, &p, json!({"title": "New & <noted>"})).await;
    let hidden = [
        app.article(&p, json!({"title": "Draft"})).await,
        app.article(
            &p,
            json!({"title": "Soon", "status": "scheduled", "published_at": "2999-01-01T06:00:00Z"}),
        )
        .await,
        app.article(
            &p,
            json!({"title": "Embargoed", "status": "published", "published_at": "2999-01-01T00:00:00Z"}),
        )
        .await,
        app.article(
            &p,
            json!({"title": "Archived", "status": "archived", "published_at": "2020-01-01T00:00:00Z"}),
        )
        .await,
        story(&app, &p, json!({"title": "Unlisted", "noindex": true})).await,
        story(&app, &p, json!({"title": "Trashed"})).await,
    ];
    app.delete(&format!(
        "/api/v1/articles/{}",
        hidden[5]["id"].as_str().unwrap()
    ))
    .await
    .assert_status(204);
    let (root, items) = parse(&app.get("/sitemaps/articles-1.xml").await);
    assert_eq!(root, "urlset");
    let want: Vec<String> = [&old, &new]
        .iter()
        .map(|a| a["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(locs(&items), want);
    assert!(want[0].starts_with(&format!("{SITE}/harbour-post/2020/01/")));
    assert_eq!(
        items[0]["lastmod"],
        w3c(old["updated_at"].as_str().unwrap())
    );
    assert_eq!(
        items[1]["lastmod"],
        w3c(new["updated_at"].as_str().unwrap())
    );
    for gone in &hidden {
        let slug = gone["slug"].as_str().unwrap();
        assert!(
            !app.get("/sitemaps/articles-1.xml")
                .await
                .text
                .contains(slug)
        );
        assert!(!app.get("/sitemap-news.xml").await.text.contains(slug));
    }

    // The publishers', authors' and tags' pages, at the site's templates.
    let author = app.author("Ada Reporter").await;
    let tag = app.tag("Climate").await;
    let (_, items) = parse(&app.get("/sitemaps/publishers-1.xml").await);
    assert_eq!(locs(&items), [format!("{SITE}/publishers/harbour-post")]);
    let (_, items) = parse(&app.get("/sitemaps/authors-1.xml").await);
    assert_eq!(locs(&items), [format!("{SITE}/authors/ada-reporter")]);
    let (_, items) = parse(&app.get("/sitemaps/tags-1.xml").await);
    assert_eq!(locs(&items), [format!("{SITE}/tags/climate")]);
    let t = app.get(&format!("/api/v1/tags/{tag}")).await;
    assert_eq!(
        items[0]["lastmod"],
        w3c(t.body["updated_at"].as_str().unwrap())
    );
    assert!(!author.is_empty());
}

#[tokio::test]
async fn a_sitemap_past_the_last_page_or_of_no_kind_is_a_404_problem() {
    let app = app_with(&[("DISPATCH_SITEMAP_PAGE_SIZE", "2")]).await;
    let p = app.publisher("Harbour Post").await;
    for i in 0..3 {
        story(&app, &p, json!({"title": format!("Story {i}")})).await;
    }
    app.get("/sitemaps/articles-2.xml").await.assert_status(200);
    for path in [
        "/sitemaps/articles-3.xml",
        "/sitemaps/articles-999999999.xml",
        "/sitemaps/publishers-2.xml",
        "/sitemaps/authors-2.xml",
        "/sitemaps/articles-0.xml",
        "/sitemaps/articles-01.xml",
        "/sitemaps/articles-1",
        "/sitemaps/comments-1.xml",
        "/sitemaps/articles-x.xml",
    ] {
        let resp = app.get(path).await;
        resp.assert_problem(404);
        assert_eq!(
            resp.body["type"], "urn:dispatch:problem:not-found",
            "{path}"
        );
        resp.assert_detail(
            "No such sitemap: /sitemap.xml lists them (articles-{n}.xml, publishers-{n}.xml, \
             authors-{n}.xml, tags-{n}.xml), and this one is not, or is past the last page.",
        );
        let mut keys: Vec<&String> = resp.body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["detail", "request_id", "status", "title", "type"],
            "{path}"
        );
    }
}

#[tokio::test]
async fn children_page_in_publication_order_without_repeats_or_gaps() {
    let app = app_with(&[("DISPATCH_SITEMAP_PAGE_SIZE", "2")]).await;
    let p = app.publisher("Harbour Post").await;
    // Two share a publication time: the id breaks the tie, across a page boundary.
    let times = [
        "2024-03-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
        "2024-02-01T00:00:00Z",
        "2024-02-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
    ];
    let mut made = Vec::new();
    for (i, at) in times.iter().enumerate() {
        made.push(
            story(
                &app,
                &p,
                json!({"title": format!("Story {i}"), "published_at": at}),
            )
            .await,
        );
    }
    made.sort_by(|a, b| {
        (a["published_at"].as_str(), a["id"].as_str())
            .cmp(&(b["published_at"].as_str(), b["id"].as_str()))
    });
    let want: Vec<String> = made
        .iter()
        .map(|a| a["url"].as_str().unwrap().to_string())
        .collect();
    let mut got = Vec::new();
    for (n, size) in [(1, 2), (2, 2), (3, 1)] {
        let (_, items) = parse(&app.get(&format!("/sitemaps/articles-{n}.xml")).await);
        assert_eq!(items.len(), size, "page {n}");
        got.extend(locs(&items));
    }
    assert_eq!(got, want);
    app.get("/sitemaps/articles-4.xml")
        .await
        .assert_problem(404);
    let (_, index) = parse(&app.get("/sitemap.xml").await);
    let children: Vec<String> = locs(&index)
        .into_iter()
        .filter(|l| l.contains("/articles-"))
        .collect();
    assert_eq!(
        children,
        (1..=3)
            .map(|n| format!("{API}/sitemaps/articles-{n}.xml"))
            .collect::<Vec<_>>()
    );
    // Each child's lastmod is its newest change.
    let newest = |page: &[Value]| {
        page.iter()
            .map(|a| w3c(a["updated_at"].as_str().unwrap()))
            .max()
            .unwrap()
    };
    assert_eq!(index[0]["lastmod"], newest(&made[0..2]));
    assert_eq!(index[2]["lastmod"], newest(&made[4..5]));
    // The same statements whatever the page's number.
    let before = app.statement_count();
    app.get("/sitemaps/articles-3.xml?x=1")
        .await
        .assert_status(200);
    let last = app.statement_count() - before;
    assert!(last <= 3, "{last} statements");
}

#[tokio::test]
async fn the_news_sitemap_lists_two_days_with_names_and_languages() {
    let app = app_with(&[("DISPATCH_DEFAULT_LANGUAGE", "en-GB")]).await;
    let p = app.publisher("Harbour & Post").await;
    let q = app.publisher("Le Quotidien").await;
    let fresh = story(
        &app,
        &p,
        json!({"title": "Fresh <news>", "published_at": ago(&app, Duration::hours(1))}),
    )
    .await;
    let french = story(&app, &q, json!({"title": "Ici", "language": "fr-CA", "published_at": ago(&app, Duration::hours(30))})).await;
    let chinese = story(&app, &p, json!({"title": "新闻", "language": "zh-Hant-TW", "published_at": ago(&app, Duration::hours(47))})).await;
    let stale = story(
        &app,
        &p,
        json!({"title": "Stale", "published_at": ago(&app, Duration::hours(49))}),
    )
    .await;
    story(&app, &p, json!({"title": "Hidden", "noindex": true})).await;
    let resp = app.get("/sitemap-news.xml").await;
    assert!(
        resp.text
            .contains("xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\"")
    );
    let (root, items) = parse(&resp);
    assert_eq!(root, "urlset");
    let want: Vec<&str> = [&fresh, &french, &chinese]
        .iter()
        .map(|a| a["url"].as_str().unwrap())
        .collect();
    assert_eq!(locs(&items), want);
    assert!(!resp.text.contains(stale["slug"].as_str().unwrap()));
    let field = |i: usize, f: &str| items[i][f].clone();
    assert_eq!(field(0, "name"), "Harbour & Post");
    assert_eq!(field(0, "language"), "en");
    assert_eq!(field(0, "title"), "Fresh <news>");
    assert_eq!(
        field(0, "publication_date"),
        w3c(fresh["published_at"].as_str().unwrap())
    );
    assert_eq!(field(1, "name"), "Le Quotidien");
    assert_eq!(field(1, "language"), "fr");
    assert_eq!(field(2, "language"), "zh-tw");

    // Two hours on, the 47-hour-old story has left the window.
    app.clock.advance(Duration::hours(2));
    let (_, items) = parse(&app.get("/sitemap-news.xml").await);
    assert_eq!(locs(&items), want[..2]);
}

#[tokio::test]
async fn the_news_sitemap_holds_at_most_a_thousand_newest_first() {
    let app = app_with(&[]).await;
    let p = app.publisher("Harbour Post").await;
    let made: Vec<Value> = futures_util::stream::iter(0..1_001)
        .map(|i| {
            let (app, p) = (&app, &p);
            async move {
                let at = ago(app, Duration::minutes(i));
                story(
                    app,
                    p,
                    json!({"title": format!("Story {i}"), "published_at": at}),
                )
                .await
            }
        })
        .buffered(4)
        .collect()
        .await;
    let (_, items) = parse(&app.get("/sitemap-news.xml").await);
    assert_eq!(items.len(), 1_000);
    assert_eq!(items[0]["loc"], made[0]["url"].as_str().unwrap());
    assert_eq!(items[999]["loc"], made[999]["url"].as_str().unwrap());
}

fn x_cache(resp: &Resp) -> Option<&str> {
    resp.header("x-cache")
}

/// Reads `path` until the cache serves it (on PostgreSQL the last write's
/// notification may drop the entry once more just after it is made).
async fn warm(app: &TestApp, path: &str) -> Resp {
    app.get(path).await.assert_status(200);
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        let again = app.get(path).await;
        if x_cache(&again) == Some("hit") {
            return again;
        }
    }
    panic!("{path} never came from the cache");
}

#[tokio::test]
async fn the_cache_serves_sitemaps_sees_each_publish_and_answers_304() {
    let app = app_with(&[]).await;
    let p = app.publisher("Harbour Post").await;
    story(&app, &p, json!({"title": "First"})).await;
    for path in [
        "/sitemap.xml",
        "/sitemaps/articles-1.xml",
        "/sitemap-news.xml",
    ] {
        let hit = warm(&app, path).await;
        let before = app.statement_count();
        let again = app.get(path).await;
        assert_eq!(x_cache(&again), Some("hit"));
        assert_eq!(app.statement_count(), before, "a hit ran SQL");
        assert_eq!(again.text, hit.text);
        let etag = hit.header("etag").unwrap().to_string();
        let resp = app
            .client
            .get(format!("{}{path}", app.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 304, "{path}");
        assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    }
    let second = story(&app, &p, json!({"title": "Second"})).await;
    let url = second["url"].as_str().unwrap();
    for path in ["/sitemaps/articles-1.xml", "/sitemap-news.xml"] {
        let resp = app.get(path).await;
        assert_eq!(x_cache(&resp), Some("miss"), "{path}");
        assert!(resp.text.contains(url), "{path}: {}", resp.text);
    }
}

#[tokio::test]
async fn a_cached_news_sitemap_drops_an_item_when_the_clock_passes_its_two_days() {
    let app = app_with(&[]).await;
    let p = app.publisher("Harbour Post").await;
    let old = story(&app, &p, json!({"title": "Old", "published_at": ago(&app, Duration::hours(48) - Duration::seconds(30))})).await;
    let new = story(
        &app,
        &p,
        json!({"title": "New", "published_at": ago(&app, Duration::hours(1))}),
    )
    .await;
    let hit = warm(&app, "/sitemap-news.xml").await;
    assert!(hit.text.contains(old["slug"].as_str().unwrap()));
    // Downstream caches may keep it no longer than the old story stays.
    let control = hit.header("cache-control").unwrap();
    let max_age: i64 = control
        .split(", ")
        .find_map(|d| d.strip_prefix("max-age="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(max_age <= 30, "{control}");
    assert!(!control.contains("stale-while-revalidate"), "{control}");
    let warm_index = warm(&app, "/sitemap.xml").await;
    assert!(warm_index.text.contains("sitemap-news.xml"));

    app.clock.advance(Duration::seconds(31));
    let resp = app.get("/sitemap-news.xml").await;
    assert_eq!(x_cache(&resp), Some("miss"));
    assert!(
        !resp.text.contains(old["slug"].as_str().unwrap()),
        "{}",
        resp.text
    );
    assert!(resp.text.contains(new["slug"].as_str().unwrap()));

    // When the last one leaves, the index stops listing the news sitemap.
    app.clock.advance(Duration::hours(48));
    let index = app.get("/sitemap.xml").await;
    assert_eq!(x_cache(&index), Some("miss"));
    assert!(!index.text.contains("sitemap-news.xml"), "{}", index.text);
}

#[tokio::test]
async fn sitemaps_read_while_articles_are_published_and_deleted_answer_cleanly() {
    let app = app_with(&[("DISPATCH_SITEMAP_PAGE_SIZE", "3")]).await;
    let p = app.publisher("Harbour Post").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            story(&app, &p, json!({"title": format!("Seed {i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for round in 0..5 {
        let writes = async {
            let mut out = Vec::new();
            for (i, id) in ids.iter().enumerate().skip(round).take(1) {
                out.push(
                    app.delete(&format!("/api/v1/articles/{id}"))
                        .await
                        .status
                        .as_u16(),
                );
                let made = app
                    .send(
                        Method::POST,
                        "/api/v1/articles",
                        Some(&app.admin),
                        Some(json!({"title": format!("Round {round} {i}"), "body_markdown": "x", "publisher_id": p, "status": "published"})),
                    )
                    .await;
                out.push(made.status.as_u16());
            }
            out
        };
        let reads = futures_util::future::join_all(
            [
                "/sitemap.xml",
                "/sitemaps/articles-1.xml",
                "/sitemaps/articles-2.xml",
                "/sitemap-news.xml",
                "/sitemaps/articles-3.xml",
            ]
            .into_iter()
            .cycle()
            .take(20)
            .map(|path| {
                let app = &app;
                async move { (path, app.get(path).await) }
            }),
        );
        let (written, read) = tokio::join!(writes, reads);
        assert!(
            written.iter().all(|s| [201, 204].contains(s)),
            "{written:?}"
        );
        for (path, resp) in read {
            match resp.status.as_u16() {
                200 => {
                    parse(&resp);
                }
                404 if path.contains("articles-") => {
                    resp.assert_problem(404);
                }
                other => panic!("{path}: {other} {}", resp.text),
            }
        }
    }
}
