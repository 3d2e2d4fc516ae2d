//! Article bodies over the API: the derived excerpt shows only what `body_html`
//! shows, and footnote links lead to ids that exist in `body_html`.

use dispatch::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

/// The `#…` targets of the links in `html`, and the ids it holds.
fn anchors(html: &str) -> (Vec<String>, Vec<String>) {
    let values = |attr: &str| -> Vec<String> {
        html.split(attr)
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_string)
            .collect()
    };
    (values("href=\"#"), values(" id=\""))
}

#[tokio::test]
async fn the_derived_excerpt_keeps_no_script_style_or_comment_text() {
    let app = spawn_app().await;
    let editor = app.token(Role::Editor).await;
    let publisher = app.publisher("The Ledger").await;
    let create = |body: &str| {
        app.send(
            Method::POST,
            "/api/v1/articles",
            Some(&editor),
            Some(json!({"title": "Residue", "body_markdown": body, "publisher_id": publisher})),
        )
    };
    let cases = [
        ("Hello <script>alert(1)</script>", "Hello"),
        (
            "Fares <style>body { display: none }</style>frozen <!-- note to desk --> again.",
            "Fares frozen again.",
        ),
        (
            "<div><script>\nalert(1)\n\nresidue</script></div>\n\nThe council met.",
            "The council met.",
        ),
    ];
    for (body, excerpt) in cases {
        let created = create(body).await;
        created.assert_json(201);
        assert_eq!(created.body["excerpt"], json!(excerpt), "{body:?}");
        let html = created.body["body_html"].as_str().unwrap();
        assert!(
            !html.contains("alert(1)") && !html.contains("residue"),
            "{html}"
        );
        // A new body re-derives the excerpt the same way.
        let id = created.id();
        let changed = app
            .send(
                Method::PATCH,
                &format!("/api/v1/articles/{id}"),
                Some(&editor),
                Some(json!({"body_markdown": format!("Lead <script>steal()</script>\n\n{body}")})),
            )
            .await;
        changed.assert_json(200);
        assert_eq!(changed.body["excerpt"], json!("Lead"), "{body:?}");
    }
}

#[tokio::test]
async fn footnote_links_lead_to_ids_in_the_body_html() {
    let app = spawn_app().await;
    let editor = app.token(Role::Editor).await;
    let publisher = app.publisher("The Ledger").await;
    let created = app
        .send(
            Method::POST,
            "/api/v1/articles",
            Some(&editor),
            Some(json!({
                "title": "Footnoted",
                "publisher_id": publisher,
                "body_markdown": "Rents rose[^rents] and fares fell[^Fares].\n\n\
                    [^rents]: City housing office.\n\n[^fares]: The harbour board.\n\n\
                    <div id=\"login\">A hand-written id is not kept.</div>",
            })),
        )
        .await;
    created.assert_json(201);
    assert_eq!(created.body["excerpt"], "Rents rose and fares fell.");
    let html = created.body["body_html"].as_str().unwrap();
    let (links, ids) = anchors(html);
    assert_eq!(links, ["fn-1", "fn-2"], "{html}");
    assert_eq!(ids, ["fn-1", "fn-2"], "{html}");
    // What a reader fetches is what was stored.
    let read = app
        .get_as(&format!("/api/v1/articles/{}", created.id()), &editor)
        .await;
    read.assert_json(200);
    assert_eq!(read.body["body_html"].as_str(), Some(html));
}
