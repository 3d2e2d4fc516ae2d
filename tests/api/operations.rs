//! What an operator does outside HTTP: migrations both ways, the demo newsroom.

use dispatch::startup;
use migration::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{fresh_database, ids, spawn_app};

#[tokio::test]
async fn migrations_roll_back_and_apply_again() {
    let (url, _guard) = fresh_database().await;
    let db = startup::connect(&url).await.unwrap();
    startup::migrate(&db).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    let applied = Migrator::get_applied_migrations(&db).await.unwrap().len();
    assert_eq!(applied, Migrator::migrations().len());
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(
        Migrator::get_pending_migrations(&db).await.unwrap().len(),
        applied
    );
    assert!(
        db.execute_unprepared("SELECT 1 FROM articles")
            .await
            .is_err(),
        "tables are gone"
    );
    startup::migrate(&db).await.unwrap();
    db.execute_unprepared("SELECT 1 FROM articles")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_demo_newsroom_loads_into_an_empty_database_only() {
    let app = spawn_app().await;
    let n = dispatch::seed::demo(&app.db, &app.library()).await.unwrap();
    assert_eq!(n, 20);
    let public = app
        .get("/api/v1/articles?count=true&limit=100&include=authors,publisher,syndicated_from,tags")
        .await;
    assert_eq!(
        public.body["meta"]["total"], 14,
        "drafts, scheduled and archived stay hidden"
    );
    let all = app.get_as("/api/v1/articles?count=true", &app.admin).await;
    assert_eq!(all.body["meta"]["total"], 20);
    let syndicated: Vec<_> = public.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["syndicated_from"].is_object())
        .collect();
    assert!(!syndicated.is_empty(), "the wire carries outlets' stories");
    for a in syndicated {
        assert_eq!(a["publisher"]["slug"], "northlight-wire");
        assert!(a["canonical_url"].is_string());
    }
    assert_eq!(ids(&app.get("/api/v1/publishers").await).len(), 3);
    assert_eq!(
        app.get("/api/v1/tags?count=true").await.body["meta"]["total"],
        8
    );
    assert!(
        dispatch::seed::demo(&app.db, &app.library()).await.is_err(),
        "a second load is refused"
    );
    assert_eq!(
        app.get_as("/api/v1/articles?count=true", &app.admin)
            .await
            .body["meta"]["total"],
        json!(20)
    );
}
