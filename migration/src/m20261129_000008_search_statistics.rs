//! PostgreSQL's planner statistics for the search column: a finer sample of its
//! words, so that a search for a rare word is estimated as rare.
//!
//! With the default statistics target, a word (or prefix) missing from the sampled
//! most-common words is estimated at 0.5% of the articles. At a million articles
//! that sends a narrow search (`q=` a word one article holds) down the newest-first
//! index, testing every article's `search_vector` until a page is full: 23 s,
//! measured by `bench/run` (issue 10). With the target at 1000 the same search is
//! estimated at ~0.1%, read through the GIN index and sorted: a few milliseconds.
//! Common words stay estimated as common, so their searches keep walking the index.
//! SQLite has no such statistics (its FTS5 table is always used); nothing to do.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261128_000002_article_search::PG_SEARCH_COLUMN;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The statistics target of the search column (PostgreSQL's default is 100).
const TARGET: i32 = 1000;

async fn set_target(manager: &SchemaManager<'_>, target: i32) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_unprepared(&format!(
        "ALTER TABLE articles ALTER COLUMN {PG_SEARCH_COLUMN} SET STATISTICS {target}"
    ))
    .await?;
    // The new target only counts once the column is analysed again.
    db.execute_unprepared("ANALYZE articles").await?;
    Ok(())
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_target(manager, TARGET).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_target(manager, -1).await
    }
}
