//! What a story shows search engines and social networks: its own title and
//! description for each (`seo_*`, `og_*`), its language (a BCP 47 tag; `NULL`:
//! the site's default) and `noindex`, which keeps it out of the sitemaps.
//!
//! The sitemaps and the news sitemap list indexable public articles by
//! publication time: `idx_articles_sitemap` serves that scan and its keyset.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE articles ADD COLUMN seo_title text NULL",
    "ALTER TABLE articles ADD COLUMN seo_description text NULL",
    "ALTER TABLE articles ADD COLUMN og_title text NULL",
    "ALTER TABLE articles ADD COLUMN og_description text NULL",
    "ALTER TABLE articles ADD COLUMN language varchar(35) NULL",
    "ALTER TABLE articles ADD COLUMN noindex boolean NOT NULL DEFAULT FALSE",
    "CREATE INDEX idx_articles_sitemap ON articles (published_at, id) WHERE deleted_at IS NULL AND noindex = FALSE",
];

const DOWN: &[&str] = &[
    "DROP INDEX idx_articles_sitemap",
    "ALTER TABLE articles DROP COLUMN noindex",
    "ALTER TABLE articles DROP COLUMN language",
    "ALTER TABLE articles DROP COLUMN og_description",
    "ALTER TABLE articles DROP COLUMN og_title",
    "ALTER TABLE articles DROP COLUMN seo_description",
    "ALTER TABLE articles DROP COLUMN seo_title",
];

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in UP {
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
