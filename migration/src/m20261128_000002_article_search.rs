//! Full-text search over articles, indexed on both backends with the same
//! semantics: words split on anything that is not a letter or digit, compared
//! case-insensitively, accents kept, no stemming.
//!
//! PostgreSQL: a stored, generated `search_vector` column (`to_tsvector('simple', …)`
//! of the searchable text) with a GIN index, so matching rows never re-parse their
//! text. SQLite: an FTS5 table over the same columns, kept in step by triggers.
//!
//! Also PostgreSQL's index for editors' newest-first lists, which put undated drafts
//! last (`DESC NULLS LAST` is not a backward scan of the ascending index).

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The column holding an article's searchable text on PostgreSQL.
pub const PG_SEARCH_COLUMN: &str = "search_vector";

const PG_UP: &[&str] = &[
    "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS \
     (to_tsvector('simple', title || ' ' || coalesce(subtitle, '') || ' ' || excerpt || ' ' || body_markdown)) STORED",
    // fastupdate off: newsrooms write rarely and read constantly, so each write
    // updates the index at once instead of queueing entries in a pending list that
    // every search must scan until autovacuum flushes it.
    "CREATE INDEX idx_articles_search ON articles USING GIN (search_vector) WITH (fastupdate = off)",
    "CREATE INDEX idx_articles_published_at_desc ON articles (published_at DESC NULLS LAST, id DESC)",
];

const PG_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_articles_published_at_desc",
    "DROP INDEX IF EXISTS idx_articles_search",
    "ALTER TABLE articles DROP COLUMN IF EXISTS search_vector",
];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, subtitle, excerpt, body_markdown, \
     content='articles', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN \
     INSERT INTO articles_fts(rowid, title, subtitle, excerpt, body_markdown) \
     VALUES (new.rowid, new.title, new.subtitle, new.excerpt, new.body_markdown); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN \
     INSERT INTO articles_fts(articles_fts, rowid, title, subtitle, excerpt, body_markdown) \
     VALUES ('delete', old.rowid, old.title, old.subtitle, old.excerpt, old.body_markdown); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE ON articles BEGIN \
     INSERT INTO articles_fts(articles_fts, rowid, title, subtitle, excerpt, body_markdown) \
     VALUES ('delete', old.rowid, old.title, old.subtitle, old.excerpt, old.body_markdown); \
     INSERT INTO articles_fts(rowid, title, subtitle, excerpt, body_markdown) \
     VALUES (new.rowid, new.title, new.subtitle, new.excerpt, new.body_markdown); END",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS articles_fts_update",
    "DROP TRIGGER IF EXISTS articles_fts_delete",
    "DROP TRIGGER IF EXISTS articles_fts_insert",
    "DROP TABLE IF EXISTS articles_fts",
];

/// Runs the statements for the connection's backend, in order.
async fn run(manager: &SchemaManager<'_>, postgres: &[&str], sqlite: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let statements = match db.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, PG_UP, SQLITE_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, PG_DOWN, SQLITE_DOWN).await
    }
}
