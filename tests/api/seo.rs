//! What a story tells search engines and social networks: `seo_*`, `og_*`,
//! `language` (BCP 47, canonical case, the site's default when absent), `noindex`,
//! and the public `url` built from `DISPATCH_PUBLIC_SITE_URL` and the template.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn seo_fields_are_stored_shown_and_cleared() {
    let app = spawn_app().await;
    let publisher = app.publisher("The Ledger").await;
    let created = app
        .article(
            &publisher,
            json!({
                "seo_title": "Sea wall study approved",
                "seo_description": "Council funds a two-year study.",
                "og_title": "A late-night vote",
                "og_description": "What the study will weigh.",
                "language": "en-gb",
                "noindex": true,
            }),
        )
        .await;
    assert_eq!(created["seo_title"], "Sea wall study approved");
    assert_eq!(
        created["seo_description"],
        "Council funds a two-year study."
    );
    assert_eq!(created["og_title"], "A late-night vote");
    assert_eq!(created["og_description"], "What the study will weigh.");
    assert_eq!(created["language"], "en-GB", "kept in canonical case");
    assert_eq!(created["noindex"], true);

    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/articles/{id}");
    let patched = app
        .patch(
            &path,
            json!({"seo_title": null, "og_title": null, "language": null, "noindex": false}),
        )
        .await;
    patched.assert_json(200);
    assert_eq!(patched.body["seo_title"], json!(null));
    assert_eq!(patched.body["og_title"], json!(null));
    assert_eq!(
        patched.body["seo_description"],
        "Council funds a two-year study."
    );
    assert_eq!(patched.body["language"], "en", "back to the site's default");
    assert_eq!(patched.body["noindex"], false);

    let read = app
        .get_as(&format!("{path}?fields=language,noindex,url"), &app.admin)
        .await;
    read.assert_json(200);
    assert_eq!(
        read.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "language", "noindex", "url"]
    );
}

#[tokio::test]
async fn the_default_language_comes_from_the_configuration() {
    let app = spawn_app_with(&[("DISPATCH_DEFAULT_LANGUAGE", "fr-ca")]).await;
    let publisher = app.publisher("Le Devoir").await;
    let created = app.article(&publisher, json!({})).await;
    assert_eq!(created["language"], "fr-CA");
    let own = app.article(&publisher, json!({"language": "EN"})).await;
    assert_eq!(own["language"], "en");
}

#[tokio::test]
async fn a_language_that_is_not_bcp_47_is_a_422_naming_it() {
    let app = spawn_app().await;
    let publisher = app.publisher("The Ledger").await;
    for bad in ["english", "en_US", "xx", "en-", "", "und", "e\u{0}n"] {
        let resp = app
            .post(
                "/api/v1/articles",
                json!({"title": "T", "publisher_id": publisher, "language": bad}),
            )
            .await;
        if bad.contains('\u{0}') {
            // NUL never reaches the rules: the text type refuses it first.
            resp.assert_problem(400);
            continue;
        }
        resp.assert_problem(422)
            .assert_fields(&["language"])
            .assert_detail(
                "`language`: must be a BCP 47 language tag such as en, fr-CA or zh-Hant-TW",
            );
    }
    let article = app.article(&publisher, json!({})).await;
    let path = format!("/api/v1/articles/{}", article["id"].as_str().unwrap());
    app.patch(&path, json!({"language": "klingon"}))
        .await
        .assert_problem(422)
        .assert_fields(&["language"]);
    // Nothing changed.
    assert_eq!(app.get_as(&path, &app.admin).await.body["language"], "en");
}

#[tokio::test]
async fn blank_seo_texts_are_422s_naming_each() {
    let app = spawn_app().await;
    let publisher = app.publisher("The Ledger").await;
    app.post(
        "/api/v1/articles",
        json!({
            "title": "T",
            "publisher_id": publisher,
            "seo_title": " ",
            "seo_description": "",
            "og_title": "\n",
            "og_description": "\t",
        }),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["seo_title", "seo_description", "og_title", "og_description"]);
    app.post(
        "/api/v1/articles",
        json!({"title": "T", "publisher_id": publisher, "seo_title": "x".repeat(301)}),
    )
    .await
    .assert_problem(400);
    app.post(
        "/api/v1/articles",
        json!({"title": "T", "publisher_id": publisher, "noindex": "yes"}),
    )
    .await
    .assert_problem(400);
}

#[tokio::test]
async fn the_url_follows_the_site_and_its_template() {
    let app = spawn_app_with(&[
        ("DISPATCH_PUBLIC_SITE_URL", "https://news.example/"),
        (
            "DISPATCH_ARTICLE_URL_TEMPLATE",
            "/{publisher}/{yyyy}/{mm}/{dd}/{slug}",
        ),
    ])
    .await;
    let publisher = app.publisher("The Ledger").await;
    let published = app
        .article(
            &publisher,
            json!({
                "title": "Sea wall",
                "status": "published",
                "published_at": "2026-03-09T23:30:00Z",
            }),
        )
        .await;
    assert_eq!(
        published["url"],
        "https://news.example/the-ledger/2026/03/09/sea-wall"
    );
    // An undated draft has no address yet under a dated template.
    let draft = app.article(&publisher, json!({"title": "Undated"})).await;
    assert_eq!(draft["url"], json!(null));
    // The list computes it too, with the publisher's slug (one statement for all).
    let list = app.get("/api/v1/articles?fields=url").await;
    list.assert_json(200);
    assert_eq!(list.body["data"][0]["url"], published["url"]);
}

#[tokio::test]
async fn the_default_url_template_is_publisher_year_month_slug() {
    let app = spawn_app().await;
    let publisher = app.publisher("Valley Signal").await;
    let published = app
        .article(
            &publisher,
            json!({"title": "Pool levy", "status": "published", "published_at": "2025-11-02T08:00:00Z"}),
        )
        .await;
    assert_eq!(
        published["url"],
        "http://localhost:3000/valley-signal/2025/11/pool-levy"
    );
}

#[tokio::test]
async fn a_bad_site_url_or_template_is_a_start_up_error_naming_it() {
    for (key, value, named) in [
        (
            "DISPATCH_PUBLIC_SITE_URL",
            "news.example",
            "DISPATCH_PUBLIC_SITE_URL",
        ),
        (
            "DISPATCH_ARTICLE_URL_TEMPLATE",
            "/{title}",
            "DISPATCH_ARTICLE_URL_TEMPLATE",
        ),
        (
            "DISPATCH_TAG_URL_TEMPLATE",
            "/tags/{yyyy}",
            "DISPATCH_TAG_URL_TEMPLATE",
        ),
        (
            "DISPATCH_DEFAULT_LANGUAGE",
            "english",
            "DISPATCH_DEFAULT_LANGUAGE",
        ),
    ] {
        let err = dispatch::config::Config::from_lookup(|k| (k == key).then(|| value.to_string()))
            .err()
            .unwrap_or_else(|| panic!("{key}={value} was taken"));
        assert!(format!("{err:#}").contains(named), "{err:#}");
    }
}

#[tokio::test]
async fn concurrent_language_and_noindex_changes_land_whole() {
    let app = spawn_app().await;
    let publisher = app.publisher("The Ledger").await;
    let article = app.article(&publisher, json!({})).await;
    let path = format!("/api/v1/articles/{}", article["id"].as_str().unwrap());
    for round in 0..5 {
        let bodies = [
            json!({"language": "de", "noindex": true}),
            json!({"language": "fr", "noindex": false}),
            json!({"language": "es", "noindex": true, "seo_title": format!("round {round}")}),
            json!({"language": "it"}),
        ];
        let results =
            futures_util::future::join_all(bodies.iter().map(|b| app.patch(&path, b.clone())))
                .await;
        for resp in &results {
            assert!(
                [200, 409, 412].contains(&resp.status.as_u16()),
                "{} {}",
                resp.status,
                resp.text
            );
        }
        let read = app.get_as(&path, &app.admin).await;
        read.assert_json(200);
        let lang = read.body["language"].as_str().unwrap().to_string();
        assert!(["de", "fr", "es", "it"].contains(&lang.as_str()), "{lang}");
    }
}
