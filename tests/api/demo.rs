//! The demo newsroom's fixed ids: what the README and the docs' examples name.

use serde_json::Value;

use crate::helpers::spawn_app;

/// `(collection, id group)` in the order `src/seed/demo.json` lists them.
const KINDS: [(&str, u32); 4] = [
    ("publishers", 1),
    ("authors", 2),
    ("tags", 3),
    ("articles", 4),
];

#[tokio::test]
async fn the_demo_newsroom_has_its_fixed_ids() {
    let app = spawn_app().await;
    dispatch::seed::demo(&app.db, &app.library()).await.unwrap();
    let demo: Value = serde_json::from_str(include_str!("../../src/seed/demo.json")).unwrap();
    let mut seen = 0;
    for (collection, group) in KINDS {
        for (n, row) in (1..).zip(demo[collection].as_array().unwrap()) {
            let slug = row["slug"].as_str().unwrap();
            // Drafts and scheduled articles are read as the admin.
            let got = app
                .get_as(&format!("/api/v1/{collection}/{slug}"), &app.admin)
                .await;
            got.assert_json(200);
            assert_eq!(
                got.body["id"].as_str(),
                Some(format!("5eed000{group}-0000-4000-8000-{n:012}").as_str()),
                "{collection}/{slug}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 3 + 6 + 8 + 20);
    let ledger = app.get("/api/v1/publishers/harbor-city-ledger").await;
    ledger.assert_json(200);
    assert_eq!(ledger.body["id"], "5eed0001-0000-4000-8000-000000000001");
    let last = app
        .get_as(
            "/api/v1/articles/5eed0004-0000-4000-8000-000000000020",
            &app.admin,
        )
        .await;
    last.assert_json(200);
    assert_eq!(last.body["slug"], "lake-orrin-ice-cover-shortest-on-record");
}
