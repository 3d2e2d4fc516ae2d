//! The sitemaps' index, covering: `idx_articles_sitemap` of 000011 gave the order
//! `(published_at, id)` of indexable articles not in the trash, but every sitemap
//! also filters on `status` (public: published or scheduled and due) and the index
//! shows each child's `lastmod` (its newest `updated_at`). With both columns in the
//! index (`idx_articles_sitemap_listed`, which replaces it), finding where child `n` starts (`OFFSET (n-1) * 50,000` rows), counting the
//! children with their `lastmod`, and the news sitemap's window are index-only
//! scans: no table row is read for an article a sitemap does not list. SQLite reads
//! an index as covering only when it holds every column the query names, the
//! partial condition's too, so there the index also carries `deleted_at` and
//! `noindex` (always `NULL` and false in it: a few bytes a row).

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The partial condition, which queries repeat word for word (SQLite uses a partial
/// index only for a query whose `WHERE` holds its terms as they are written).
pub const SITEMAP_WHERE: &str = "deleted_at IS NULL AND noindex = FALSE";
/// The index's name (SQLite's queries name it: `INDEXED BY`).
pub const SITEMAP_INDEX: &str = "idx_articles_sitemap_listed";

const UP_PG: &[&str] = &[
    "DROP INDEX idx_articles_sitemap",
    "CREATE INDEX idx_articles_sitemap_listed ON articles (published_at, id, status, updated_at) WHERE deleted_at IS NULL AND noindex = FALSE",
];

const UP_SQLITE: &[&str] = &[
    "DROP INDEX idx_articles_sitemap",
    "CREATE INDEX idx_articles_sitemap_listed ON articles (published_at, id, status, updated_at, deleted_at, noindex) WHERE deleted_at IS NULL AND noindex = FALSE",
];

const DOWN: &[&str] = &[
    "DROP INDEX idx_articles_sitemap_listed",
    "CREATE INDEX idx_articles_sitemap ON articles (published_at, id) WHERE deleted_at IS NULL AND noindex = FALSE",
];

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let up = if db.get_database_backend() == DbBackend::Sqlite {
            UP_SQLITE
        } else {
            UP_PG
        };
        for sql in up {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in DOWN {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
