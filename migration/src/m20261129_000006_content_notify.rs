//! Content-change notifications (PostgreSQL): every row changed in a table readers
//! see `NOTIFY`s [`CHANNEL`] (once per transaction: PostgreSQL folds repeats), which
//! PostgreSQL delivers when (and only if) the transaction commits. Every Dispatch node `LISTEN`s and drops its response
//! cache, so a write through one node is seen through all of them, and so is one
//! made with `psql` or the CLI. SQLite, one node only, needs no trigger.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The notification channel.
pub const CHANNEL: &str = "dispatch_content";

/// The tables whose rows appear in public responses.
pub const TABLES: [&str; 8] = [
    "publishers",
    "authors",
    "tags",
    "articles",
    "article_authors",
    "article_tags",
    "article_slugs",
    "comments",
];

/// The triggers of `table`, one per event: per row, so that a statement changing
/// nothing notifies nobody (an `UPDATE` only when a value changed); comments only
/// when an approved one is involved (a pending comment is not public).
fn triggers(table: &str) -> Vec<String> {
    let (insert, update, delete) = if table == "comments" {
        (
            "NEW.status = 'approved'",
            "(OLD.status = 'approved' OR NEW.status = 'approved') AND OLD.* IS DISTINCT FROM NEW.*",
            "OLD.status = 'approved'",
        )
    } else {
        ("true", "OLD.* IS DISTINCT FROM NEW.*", "true")
    };
    let row = |event: &str, when: &str| {
        format!(
            "CREATE TRIGGER {table}_notify_{} AFTER {event} ON {table} FOR EACH ROW \
             WHEN ({when}) EXECUTE FUNCTION dispatch_content_changed()",
            event.to_lowercase()
        )
    };
    vec![
        row("INSERT", insert),
        row("UPDATE", update),
        row("DELETE", delete),
        format!(
            "CREATE TRIGGER {table}_notify_truncate AFTER TRUNCATE ON {table} \
             FOR EACH STATEMENT EXECUTE FUNCTION dispatch_content_changed()"
        ),
    ]
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        create(db).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        remove(db).await
    }
}

/// Creates the function and the triggers (PostgreSQL only; migration 9 drops them
/// again, and puts them back on its way down).
pub async fn create(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    db.execute_unprepared(&format!(
        "CREATE OR REPLACE FUNCTION dispatch_content_changed() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    ))
    .await?;
    for table in TABLES {
        for sql in triggers(table) {
            db.execute_unprepared(&sql).await?;
        }
    }
    Ok(())
}

/// Drops the triggers and the function.
pub async fn remove(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    for table in TABLES {
        for event in ["insert", "update", "delete", "truncate"] {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_notify_{event} ON {table}"
            ))
            .await?;
        }
    }
    db.execute_unprepared("DROP FUNCTION IF EXISTS dispatch_content_changed()")
        .await?;
    Ok(())
}
