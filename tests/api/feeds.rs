//! Feeds: each format parses (Atom with `atom_syndication`, RSS with `rss`, JSON
//! Feed against its schema) and carries what the article list says, newest first;
//! only public articles; a publisher's, author's and tag's feed lists only theirs;
//! pages of 50 linked by `next` to the end; unknown feeds are 404 problems; `ETag`
//! and 304; the response cache never serves a feed older than the last publish; a
//! title with `&`, `<`, an emoji and right-to-left text comes back exactly; and
//! feeds read while articles are published and unpublished never fail.

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use dispatch::clock::Clock;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, ids, spawn_app_with};

const API: &str = "https://api.news.example";
const SITE: &str = "https://news.example";
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";
const TRICKY: &str = "Tides & \"ports\" <rising> \u{1F30A} \u{645}\u{64A}\u{646}\u{627}\u{621} \u{5D4}\u{5E0}\u{5DE}\u{5DC}";

async fn app() -> TestApp {
    spawn_app_with(&[
        ("DISPATCH_PUBLIC_API_URL", API),
        ("DISPATCH_PUBLIC_SITE_URL", SITE),
        ("DISPATCH_SITE_NAME", "Harbour News"),
    ])
    .await
}

async fn demo() -> TestApp {
    let app = app().await;
    dispatch::seed::demo(&app.db, &app.library()).await.unwrap();
    app
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Atom,
    Rss,
    Json,
}

const KINDS: [Kind; 3] = [Kind::Atom, Kind::Rss, Kind::Json];

impl Kind {
    fn ext(self) -> &'static str {
        match self {
            Kind::Atom => "atom",
            Kind::Rss => "rss",
            Kind::Json => "json",
        }
    }
    fn content_type(self) -> &'static str {
        match self {
            Kind::Atom => "application/atom+xml; charset=utf-8",
            Kind::Rss => "application/rss+xml; charset=utf-8",
            Kind::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// What every format says of an item, read back by each format's parser.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: String,
    title: String,
    link: String,
    published: DateTime<Utc>,
    summary: Option<String>,
    content: String,
    authors: Vec<String>,
    tags: Vec<String>,
    image: Option<String>,
    /// The original outlet's name (not in JSON Feed's own fields: its extension) and URL.
    via: Option<(String, String)>,
}

#[derive(Debug)]
struct Page {
    title: String,
    entries: Vec<Entry>,
    next: Option<String>,
    self_url: String,
}

fn json_feed_schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("jsonfeed-1.1.schema.json")).expect("the schema");
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn uuid_of(guid: &str) -> String {
    guid.strip_prefix("urn:uuid:")
        .unwrap_or_else(|| panic!("{guid} is not a urn:uuid"))
        .to_string()
}

/// Parses a feed response (asserting its status and exact content type).
#[track_caller]
fn parse(kind: Kind, resp: &Resp) -> Page {
    resp.assert_status(200);
    assert_eq!(resp.header("content-type"), Some(kind.content_type()));
    match kind {
        Kind::Atom => {
            let feed = atom_syndication::Feed::from_str(&resp.text)
                .unwrap_or_else(|e| panic!("not Atom ({e}): {}", resp.text));
            let link = |links: &[atom_syndication::Link], rel: &str| {
                links.iter().find(|l| l.rel == rel).map(|l| l.href.clone())
            };
            Page {
                title: feed.title.value.clone(),
                next: link(&feed.links, "next"),
                self_url: link(&feed.links, "self").expect("a self link"),
                entries: feed
                    .entries
                    .iter()
                    .map(|e| Entry {
                        id: uuid_of(&e.id),
                        title: e.title.value.clone(),
                        link: link(&e.links, "alternate").expect("an alternate link"),
                        published: e.published.expect("published").with_timezone(&Utc),
                        summary: e.summary.as_ref().map(|s| s.value.clone()),
                        content: e
                            .content
                            .as_ref()
                            .and_then(|c| {
                                assert_eq!(c.content_type.as_deref(), Some("html"));
                                c.value.clone()
                            })
                            .expect("content"),
                        authors: e.authors.iter().map(|a| a.name.clone()).collect(),
                        tags: e.categories.iter().map(|c| c.term.clone()).collect(),
                        image: link(&e.links, "enclosure"),
                        via: e
                            .links
                            .iter()
                            .find(|l| l.rel == "via")
                            .map(|l| (l.title.clone().expect("the outlet's name"), l.href.clone())),
                    })
                    .collect(),
            }
        }
        Kind::Rss => {
            let channel = rss::Channel::from_str(&resp.text)
                .unwrap_or_else(|e| panic!("not RSS ({e}): {}", resp.text));
            let links = channel
                .atom_ext
                .as_ref()
                .map(|a| a.links.clone())
                .unwrap_or_default();
            let link = |rel: &str| links.iter().find(|l| l.rel == rel).map(|l| l.href.clone());
            Page {
                title: channel.title.clone(),
                next: link("next"),
                self_url: link("self").expect("a self link"),
                entries: channel
                    .items
                    .iter()
                    .map(|i| Entry {
                        id: uuid_of(&i.guid.as_ref().expect("a guid").value),
                        title: i.title.clone().expect("a title"),
                        link: i.link.clone().expect("a link"),
                        published: DateTime::parse_from_rfc2822(i.pub_date.as_deref().unwrap())
                            .unwrap()
                            .with_timezone(&Utc),
                        summary: i.description.clone(),
                        content: i.content.clone().expect("content:encoded"),
                        authors: i
                            .dublin_core_ext
                            .as_ref()
                            .map(|dc| dc.creators.clone())
                            .unwrap_or_default(),
                        tags: i
                            .categories
                            .iter()
                            .map(|c| {
                                let domain = c.domain.as_deref().expect("a domain");
                                domain.rsplit('/').next().unwrap().to_string()
                            })
                            .collect(),
                        image: i.enclosure.as_ref().map(|e| {
                            assert_eq!(e.length, "0");
                            e.url.clone()
                        }),
                        via: i
                            .source
                            .as_ref()
                            .map(|s| (s.title.clone().expect("the outlet"), s.url.clone())),
                    })
                    .collect(),
            }
        }
        Kind::Json => {
            let doc: Value = serde_json::from_str(&resp.text).expect("JSON");
            let errors: Vec<String> = json_feed_schema()
                .iter_errors(&doc)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{errors:#?} in {}", resp.text);
            Page {
                title: doc["title"].as_str().unwrap().to_string(),
                next: doc["next_url"].as_str().map(str::to_string),
                self_url: doc["feed_url"].as_str().unwrap().to_string(),
                entries: doc["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| Entry {
                        id: uuid_of(i["id"].as_str().unwrap()),
                        title: i["title"].as_str().unwrap().to_string(),
                        link: i["url"].as_str().unwrap().to_string(),
                        published: DateTime::parse_from_rfc3339(
                            i["date_published"].as_str().unwrap(),
                        )
                        .unwrap()
                        .with_timezone(&Utc),
                        summary: i["summary"].as_str().map(str::to_string),
                        content: i["content_html"].as_str().unwrap().to_string(),
                        authors: i["authors"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|a| a["name"].as_str().unwrap().to_string())
                            .collect(),
                        // JSON Feed's tags are the names; the slugs are the others' terms.
                        tags: i["tags"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|t| t.as_str().unwrap().to_lowercase().replace(' ', "-"))
                            .collect(),
                        image: i["image"].as_str().map(str::to_string),
                        via: i["_dispatch"]["syndicated_from"].as_object().map(|o| {
                            assert_eq!(i["external_url"], o["url"]);
                            (
                                o["name"].as_str().unwrap().to_string(),
                                o["url"].as_str().unwrap().to_string(),
                            )
                        }),
                    })
                    .collect(),
            }
        }
    }
}

/// The path of a URL of the API.
fn path_of(url: &str) -> &str {
    url.strip_prefix(API)
        .unwrap_or_else(|| panic!("{url} is not on {API}"))
}

/// The public articles as the API lists them (at most 100), with everything a feed shows.
async fn listed(app: &TestApp, filter: &str) -> Vec<Value> {
    let resp = app
        .get(&format!(
            "/api/v1/articles?limit=100&include=authors,tags,featured_media,syndicated_from{filter}"
        ))
        .await;
    resp.assert_json(200);
    resp.body["data"].as_array().unwrap().clone()
}

/// What a feed should say of `article` (an API list item with its relations).
fn expected(article: &Value) -> Entry {
    let names = |key: &str, field: &str| -> Vec<String> {
        article[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[field].as_str().unwrap().to_string())
            .collect()
    };
    let excerpt = article["excerpt"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string();
    Entry {
        id: article["id"].as_str().unwrap().to_string(),
        title: article["title"].as_str().unwrap().to_string(),
        link: article["url"].as_str().unwrap().to_string(),
        published: DateTime::parse_from_rfc3339(article["published_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc),
        summary: Some(excerpt).filter(|e| !e.is_empty()),
        content: article["body_html"].as_str().unwrap().to_string(),
        authors: names("authors", "name"),
        tags: names("tags", "slug"),
        image: article["featured_media"].as_object().map(|m| {
            let w1024 = m["renditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == "w1024" && r["media_type"] == "image/jpeg")
                .expect("a w1024 JPEG");
            format!("{API}{}", w1024["url"].as_str().unwrap())
        }),
        via: article["syndicated_from"].as_object().map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                article["canonical_url"].as_str().unwrap().to_string(),
            )
        }),
    }
}

/// RFC 2822 has whole seconds: compare there.
fn seconds(entries: &[Entry]) -> Vec<Entry> {
    entries
        .iter()
        .cloned()
        .map(|mut e| {
            e.published = DateTime::from_timestamp(e.published.timestamp(), 0).unwrap();
            e
        })
        .collect()
}

#[tokio::test]
async fn every_format_carries_the_public_demo_articles_newest_first() {
    let app = demo().await;
    let want: Vec<Entry> = listed(&app, "").await.iter().map(expected).collect();
    assert_eq!(want.len(), 14);
    assert!(
        want.iter().any(|e| e.image.is_some()),
        "the demo has photos"
    );
    assert!(
        want.iter().any(|e| e.via.is_some()),
        "the demo has syndicated stories"
    );
    for kind in KINDS {
        let page = parse(
            kind,
            &app.get(&format!("/feeds/articles.{}", kind.ext())).await,
        );
        assert_eq!(page.title, "Harbour News");
        assert_eq!(
            page.self_url,
            format!("{API}/feeds/articles.{}", kind.ext())
        );
        assert_eq!(page.next, None);
        assert_eq!(page.entries.len(), want.len(), "{kind:?}");
        for (got, want) in seconds(&page.entries).iter().zip(seconds(&want)) {
            assert_eq!(got.title, want.title, "{kind:?}");
            assert_eq!(
                got.content.trim_end(),
                want.content.trim_end(),
                "{kind:?}: {}",
                want.title
            );
            let (mut got, mut want) = (got.clone(), want);
            (got.content, want.content) = (String::new(), String::new());
            assert_eq!(got, want, "{kind:?}");
        }
        assert!(
            page.entries
                .windows(2)
                .all(|w| w[0].published >= w[1].published),
            "{kind:?}: newest first"
        );
    }
    // The photo's URL is served by this API.
    let photo = want.iter().find_map(|e| e.image.clone()).unwrap();
    let served = app.get(path_of(&photo)).await;
    served.assert_status(200);
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
}

#[tokio::test]
async fn atom_and_rss_carry_media_rss_with_the_credit_and_the_feed_level_fields() {
    let app = demo().await;
    let article = listed(&app, "")
        .await
        .into_iter()
        .find(|a| a["featured_media"].is_object())
        .unwrap();
    let media = &article["featured_media"];
    let id = article["id"].as_str().unwrap();
    let atom = app.get("/feeds/articles.atom").await;
    let feed = atom_syndication::Feed::from_str(&atom.text).unwrap();
    assert_eq!(
        feed.namespaces.get("media").map(String::as_str),
        Some(MEDIA_NS)
    );
    assert_eq!(feed.lang.as_deref(), Some("en"));
    // The site feed's id is the site; a subject's is its own id (slugs and addresses move).
    assert_eq!(feed.id, format!("{SITE}/"));
    let alternate = feed.links.iter().find(|l| l.rel == "alternate").unwrap();
    assert_eq!(alternate.href, format!("{SITE}/"));
    let newest = feed.entries.iter().map(|e| e.updated).max().unwrap();
    assert_eq!(feed.updated, newest);
    let entry = feed
        .entries
        .iter()
        .find(|e| e.id == format!("urn:uuid:{id}"))
        .unwrap();
    let content = &entry.extensions["media"]["content"][0];
    assert!(content.attrs["url"].ends_with("/w1024.jpg"), "{content:?}");
    assert_eq!(content.attrs["type"], "image/jpeg");
    assert_eq!(content.attrs["medium"], "image");
    assert_eq!(
        content.children["credit"][0].value.as_deref(),
        media["credit"].as_str()
    );
    let thumb = &entry.extensions["media"]["thumbnail"][0];
    assert!(thumb.attrs["url"].ends_with("/w320.jpg"), "{thumb:?}");
    let author = &entry.authors[0];
    assert_eq!(
        author.uri.as_deref(),
        Some(
            format!(
                "{SITE}/authors/{}",
                article["authors"][0]["slug"].as_str().unwrap()
            )
            .as_str()
        )
    );
    let category = &entry.categories[0];
    assert_eq!(category.term, article["tags"][0]["slug"].as_str().unwrap());
    assert_eq!(
        category.label.as_deref(),
        article["tags"][0]["name"].as_str()
    );

    let rss = app.get("/feeds/articles.rss").await;
    let channel = rss::Channel::from_str(&rss.text).unwrap();
    assert_eq!(channel.link, format!("{SITE}/"));
    assert_eq!(channel.language.as_deref(), Some("en"));
    let item = channel
        .items
        .iter()
        .find(|i| i.guid.as_ref().unwrap().value == format!("urn:uuid:{id}"))
        .unwrap();
    assert!(!item.guid.as_ref().unwrap().permalink);
    let content = &item.extensions["media"]["content"][0];
    assert!(content.attrs["url"].ends_with("/w1024.jpg"));
    assert_eq!(
        content.children["credit"][0].value.as_deref(),
        media["credit"].as_str()
    );
    let enclosure = item.enclosure.as_ref().unwrap();
    assert_eq!(enclosure.mime_type, "image/jpeg");
    assert_eq!(
        item.dublin_core_ext.as_ref().unwrap().languages,
        vec!["en".to_string()]
    );
}

#[tokio::test]
async fn drafts_scheduled_archived_and_trashed_articles_never_appear() {
    let app = app().await;
    let p = app.publisher("Harbour Post").await;
    let out = app
        .article(&p, json!({"title": "Out", "status": "published"}))
        .await;
    app.article(&p, json!({"title": "Draft"})).await;
    let when = (app.clock.now() + Duration::hours(1)).to_rfc3339();
    let scheduled = app
        .article(
            &p,
            json!({"title": "Later", "status": "scheduled", "published_at": when}),
        )
        .await;
    let archived = app
        .article(&p, json!({"title": "Old", "status": "published"}))
        .await;
    app.patch(
        &format!("/api/v1/articles/{}", archived["id"].as_str().unwrap()),
        json!({"status": "archived"}),
    )
    .await
    .assert_json(200);
    let trashed = app
        .article(&p, json!({"title": "Binned", "status": "published"}))
        .await;
    app.delete(&format!(
        "/api/v1/articles/{}",
        trashed["id"].as_str().unwrap()
    ))
    .await
    .assert_status(204);
    for kind in KINDS {
        let page = parse(
            kind,
            &app.get(&format!("/feeds/articles.{}", kind.ext())).await,
        );
        let titles: Vec<&str> = page.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Out"], "{kind:?}");
        assert_eq!(page.entries[0].id, out["id"].as_str().unwrap());
    }
    // The scheduled one once its time has come (no write in between).
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    for kind in KINDS {
        let page = parse(
            kind,
            &app.get(&format!("/feeds/articles.{}", kind.ext())).await,
        );
        let ids: Vec<&str> = page.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                scheduled["id"].as_str().unwrap(),
                out["id"].as_str().unwrap()
            ],
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_publishers_an_authors_and_a_tags_feed_list_only_theirs() {
    let app = demo().await;
    for (segment, filter, slug, name) in [
        (
            "publishers",
            "publisher",
            "valley-signal",
            "The Valley Signal",
        ),
        ("authors", "author", "maren-okafor", "Maren Okafor"),
        ("tags", "tag", "climate", "Climate"),
    ] {
        let want: Vec<String> = ids(&app
            .get(&format!("/api/v1/articles?limit=100&{filter}={slug}"))
            .await);
        assert!(
            !want.is_empty() && want.len() < 14,
            "{filter}={slug}: {want:?}"
        );
        for kind in KINDS {
            let path = format!("/feeds/{segment}/{slug}.{}", kind.ext());
            let page = parse(kind, &app.get(&path).await);
            let got: Vec<String> = page.entries.iter().map(|e| e.id.clone()).collect();
            assert_eq!(got, want, "{path}");
            assert_eq!(
                page.title,
                format!("Harbour News \u{2014} {name}"),
                "{path}"
            );
            assert_eq!(page.self_url, format!("{API}{path}"));
        }
    }
    // The home of a publisher's feed is its page on the site.
    let atom = app.get("/feeds/publishers/valley-signal.atom").await;
    let feed = atom_syndication::Feed::from_str(&atom.text).unwrap();
    let alternate = feed.links.iter().find(|l| l.rel == "alternate").unwrap();
    assert_eq!(alternate.href, format!("{SITE}/publishers/valley-signal"));
    let surrogate = atom.header("surrogate-key").unwrap();
    assert!(
        surrogate.starts_with("list:articles publisher:"),
        "{surrogate}"
    );
}

#[tokio::test]
async fn unknown_feeds_are_404_problems_and_a_forged_cursor_a_400() {
    let app = demo().await;
    for (path, detail) in [
        (
            "/feeds/publishers/nowhere.atom",
            "No publisher has this slug.",
        ),
        ("/feeds/authors/nobody.rss", "No author has this slug."),
        ("/feeds/tags/nothing.json", "No tag has this slug."),
        (
            "/feeds/articles.xml",
            "No such feed: feeds end in `.atom`, `.rss` or `.json`.",
        ),
        (
            "/feeds/publishers/valley-signal",
            "No such feed: feeds end in `.atom`, `.rss` or `.json`.",
        ),
        (
            "/feeds/tags/.atom",
            "No such feed: feeds end in `.atom`, `.rss` or `.json`.",
        ),
        (
            "/feeds/everything.atom",
            "No such feed: the site's are `articles.atom`, `articles.rss` and `articles.json`.",
        ),
    ] {
        let resp = app.get(path).await;
        resp.assert_problem(404).assert_detail(detail);
        assert_eq!(
            resp.body["type"], "urn:dispatch:problem:not-found",
            "{path}"
        );
        assert_eq!(
            resp.body.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["type", "title", "status", "detail", "request_id"],
            "{path}"
        );
    }
    let resp = app.get("/feeds/articles.atom?cursor=forged").await;
    resp.assert_problem(400).assert_fields(&["cursor"]);
    // A list cursor of another sort is not this feed's either.
    let by_title = app.get("/api/v1/articles?sort=title&limit=1").await;
    let cursor = by_title.body["meta"]["next_cursor"].as_str().unwrap();
    app.get(&format!("/feeds/articles.rss?cursor={cursor}"))
        .await
        .assert_problem(400)
        .assert_fields(&["cursor"]);
}

#[tokio::test]
async fn pages_of_fifty_link_to_the_next_until_the_end_without_repeats() {
    let app = app().await;
    let p = app.publisher("Harbour Post").await;
    let start = app.clock.now() - Duration::days(1);
    let mut made = Vec::new();
    for n in 0..120 {
        // Two articles share each publication time: the id breaks the tie.
        let at = (start + Duration::minutes(n / 2)).to_rfc3339();
        let a = app
            .article(
                &p,
                json!({"title": format!("Story {n}"), "status": "published", "published_at": at}),
            )
            .await;
        made.push(a["id"].as_str().unwrap().to_string());
    }
    let want = ids(&app.get("/api/v1/articles?limit=100").await);
    assert_eq!(
        &want[..],
        &ids(&app.get("/api/v1/articles?limit=100").await)[..]
    );
    for kind in KINDS {
        let mut path = format!("/feeds/articles.{}", kind.ext());
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut statements = Vec::new();
        loop {
            let before = app.statement_count();
            let page = parse(kind, &app.get(&path).await);
            statements.push(app.statement_count() - before);
            assert_eq!(page.self_url, format!("{API}{path}"));
            sizes.push(page.entries.len());
            seen.extend(page.entries.into_iter().map(|e| e.id));
            match page.next {
                Some(next) => path = path_of(&next).to_string(),
                None => break,
            }
        }
        assert_eq!(sizes, [50, 50, 20], "{kind:?}");
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), 120, "{kind:?}: no repeats");
        assert_eq!(&seen[..100], &want[..], "{kind:?}: newest first");
        let all: HashSet<&String> = made.iter().collect();
        assert_eq!(unique, all);
        // As many statements for a page of 50 as for one of 20.
        assert!(
            statements.iter().all(|s| *s == statements[0]),
            "{kind:?}: {statements:?}"
        );
    }
}

#[tokio::test]
async fn an_etag_answers_304_and_the_cache_never_hides_a_publish() {
    let app = app().await;
    let p = app.publisher("Harbour Post").await;
    app.article(&p, json!({"title": "First", "status": "published"}))
        .await;
    for kind in KINDS {
        let path = format!("/feeds/articles.{}", kind.ext());
        let first = app.get(&path).await;
        parse(kind, &first);
        assert_eq!(
            first.header("cache-control"),
            Some("public, max-age=60, stale-while-revalidate=30, stale-if-error=86400")
        );
        let etag = first.header("etag").unwrap().to_string();
        let again = app
            .client
            .get(format!("{}{path}", app.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
        // Served from memory until something changes.
        let mut hit = false;
        for _ in 0..40 {
            let resp = app.get(&path).await;
            if resp.header("x-cache") == Some("hit") {
                assert_eq!(resp.text, first.text);
                hit = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(hit, "{path} never came from the cache");
    }
    app.article(&p, json!({"title": "Second", "status": "published"}))
        .await;
    for kind in KINDS {
        let path = format!("/feeds/articles.{}", kind.ext());
        let resp = app.get(&path).await;
        assert_eq!(resp.header("x-cache"), Some("miss"), "{path}");
        let page = parse(kind, &resp);
        let titles: Vec<&str> = page.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Second", "First"], "{path}");
    }
}

#[tokio::test]
async fn a_title_with_markup_characters_emoji_and_rtl_text_round_trips_exactly() {
    let app = app().await;
    let p = app.publisher("Ports & <Harbours>").await;
    let slug = app.get(&format!("/api/v1/publishers/{p}")).await.body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    app.article(
        &p,
        json!({
            "title": TRICKY,
            "excerpt": "Fish & chips <3 \u{1F41F}",
            "body_markdown": "Water & *wind* \u{5E9}\u{5DC}\u{5D5}\u{5DD}",
            "status": "published",
        }),
    )
    .await;
    for kind in KINDS {
        for path in [
            format!("/feeds/articles.{}", kind.ext()),
            format!("/feeds/publishers/{slug}.{}", kind.ext()),
        ] {
            let page = parse(kind, &app.get(&path).await);
            assert_eq!(page.entries[0].title, TRICKY, "{path}");
            assert_eq!(
                page.entries[0].summary.as_deref(),
                Some("Fish & chips <3 \u{1F41F}"),
                "{path}"
            );
            assert!(
                page.entries[0]
                    .content
                    .contains("Water &amp; <em>wind</em>"),
                "{path}"
            );
        }
        let page = parse(
            kind,
            &app.get(&format!("/feeds/publishers/{slug}.{}", kind.ext()))
                .await,
        );
        assert_eq!(page.title, "Harbour News \u{2014} Ports & <Harbours>");
    }
}

#[tokio::test]
async fn feeds_read_while_articles_are_published_and_unpublished_never_fail() {
    let app = app().await;
    let p = app.publisher("Harbour Post").await;
    let t = app.tag("Weather").await;
    let mut articles = Vec::new();
    for n in 0..4 {
        let a = app
            .article(
                &p,
                json!({"title": format!("Storm {n}"), "status": "published", "tag_ids": [t]}),
            )
            .await;
        articles.push(a["id"].as_str().unwrap().to_string());
    }
    let tag_slug = app.get(&format!("/api/v1/tags/{t}")).await.body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    for round in 0..6 {
        let status = if round % 2 == 0 { "draft" } else { "published" };
        let app = &app;
        let writes = articles.iter().map(|id| async move {
            app.patch(&format!("/api/v1/articles/{id}"), json!({"status": status}))
                .await
        });
        let reads = KINDS.iter().flat_map(|kind| {
            [
                format!("/feeds/articles.{}", kind.ext()),
                format!("/feeds/tags/{tag_slug}.{}", kind.ext()),
            ]
        });
        let reads = reads.map(|path| async move { (app.get(&path).await, path) });
        let (written, read) = tokio::join!(join_all(writes), join_all(reads));
        for w in written {
            assert_eq!(w.status, 200, "{}", w.text);
        }
        for (resp, path) in read {
            let kind = KINDS.into_iter().find(|k| path.ends_with(k.ext())).unwrap();
            let page = parse(kind, &resp);
            assert!(page.entries.len() <= 4, "{path}");
        }
        // Once the writes are in, every feed shows their outcome.
        let page = parse(Kind::Atom, &app.get("/feeds/articles.atom").await);
        let want = if status == "draft" { 0 } else { 4 };
        assert_eq!(page.entries.len(), want, "round {round}");
    }
}
