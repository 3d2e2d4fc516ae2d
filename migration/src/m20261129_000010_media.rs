//! News photos: the `media` table (one row per stored image: its file's facts and
//! its news metadata), `article_media` (which assets an article's body shows), the
//! featured image of an article with its per-story caption and alt text, and the
//! portrait or logo of authors and publishers. Every reference to an asset is a
//! foreign key that refuses to let a used asset go (the API's 409 names the users
//! first; the key settles a delete racing a new use).
//!
//! Search over captions, credits and alt text follows migration 2: a generated
//! `tsvector` with a GIN index on PostgreSQL, an FTS5 table kept by triggers on
//! SQLite.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)] // `media_type` is the column's name.
enum Media {
    Table,
    Id,
    ContentHash,
    MediaType,
    Width,
    Height,
    ByteSize,
    AltText,
    Caption,
    Credit,
    Source,
    Copyright,
    TakenAt,
    FocalX,
    FocalY,
    UploadedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ArticleMedia {
    Table,
    ArticleId,
    MediaId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
}

fn timestamp<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

/// The columns that point at an asset from elsewhere, added to existing tables.
const PG_REFERENCES: &[&str] = &[
    "ALTER TABLE articles ADD COLUMN featured_media_id uuid NULL REFERENCES media (id) ON DELETE RESTRICT",
    "ALTER TABLE articles ADD COLUMN featured_caption text NULL",
    "ALTER TABLE articles ADD COLUMN featured_alt text NULL",
    "ALTER TABLE authors ADD COLUMN image_media_id uuid NULL REFERENCES media (id) ON DELETE RESTRICT",
    "ALTER TABLE publishers ADD COLUMN image_media_id uuid NULL REFERENCES media (id) ON DELETE RESTRICT",
    "ALTER TABLE media ADD COLUMN search_vector tsvector GENERATED ALWAYS AS \
     (to_tsvector('simple', coalesce(caption, '') || ' ' || coalesce(credit, '') || ' ' || \
     coalesce(alt_text, '') || ' ' || coalesce(source, ''))) STORED",
    "CREATE INDEX idx_media_search ON media USING GIN (search_vector) WITH (fastupdate = off)",
];

const SQLITE_REFERENCES: &[&str] = &[
    "ALTER TABLE articles ADD COLUMN featured_media_id uuid_text NULL REFERENCES media (id) ON DELETE RESTRICT",
    "ALTER TABLE articles ADD COLUMN featured_caption text NULL",
    "ALTER TABLE articles ADD COLUMN featured_alt text NULL",
    "ALTER TABLE authors ADD COLUMN image_media_id uuid_text NULL REFERENCES media (id) ON DELETE RESTRICT",
    "ALTER TABLE publishers ADD COLUMN image_media_id uuid_text NULL REFERENCES media (id) ON DELETE RESTRICT",
    "CREATE VIRTUAL TABLE media_fts USING fts5(caption, credit, alt_text, source, \
     content='media', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER media_fts_insert AFTER INSERT ON media BEGIN \
     INSERT INTO media_fts(rowid, caption, credit, alt_text, source) \
     VALUES (new.rowid, new.caption, new.credit, new.alt_text, new.source); END",
    "CREATE TRIGGER media_fts_delete AFTER DELETE ON media BEGIN \
     INSERT INTO media_fts(media_fts, rowid, caption, credit, alt_text, source) \
     VALUES ('delete', old.rowid, old.caption, old.credit, old.alt_text, old.source); END",
    "CREATE TRIGGER media_fts_update AFTER UPDATE ON media BEGIN \
     INSERT INTO media_fts(media_fts, rowid, caption, credit, alt_text, source) \
     VALUES ('delete', old.rowid, old.caption, old.credit, old.alt_text, old.source); \
     INSERT INTO media_fts(rowid, caption, credit, alt_text, source) \
     VALUES (new.rowid, new.caption, new.credit, new.alt_text, new.source); END",
];

/// The indexes behind "is this asset used?" and the `unused` filter.
const USE_INDEXES: &[&str] = &[
    "CREATE INDEX idx_articles_featured_media ON articles (featured_media_id)",
    "CREATE INDEX idx_authors_image_media ON authors (image_media_id)",
    "CREATE INDEX idx_publishers_image_media ON publishers (image_media_id)",
];

const PG_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_media_search",
    "ALTER TABLE media DROP COLUMN IF EXISTS search_vector",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS media_fts_update",
    "DROP TRIGGER IF EXISTS media_fts_delete",
    "DROP TRIGGER IF EXISTS media_fts_insert",
    "DROP TABLE IF EXISTS media_fts",
];

const DROP_REFERENCES: &[&str] = &[
    "DROP INDEX IF EXISTS idx_articles_featured_media",
    "DROP INDEX IF EXISTS idx_authors_image_media",
    "DROP INDEX IF EXISTS idx_publishers_image_media",
    "ALTER TABLE publishers DROP COLUMN image_media_id",
    "ALTER TABLE authors DROP COLUMN image_media_id",
    "ALTER TABLE articles DROP COLUMN featured_alt",
    "ALTER TABLE articles DROP COLUMN featured_caption",
    "ALTER TABLE articles DROP COLUMN featured_media_id",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

fn postgres(manager: &SchemaManager<'_>) -> bool {
    manager.get_database_backend() == DbBackend::Postgres
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .col(ColumnDef::new(Media::Id).uuid().not_null().primary_key())
                    // SHA-256 of the uploaded bytes, hex: the same file is stored once.
                    .col(
                        ColumnDef::new(Media::ContentHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Media::MediaType).string_len(32).not_null())
                    .col(ColumnDef::new(Media::Width).integer().not_null())
                    .col(ColumnDef::new(Media::Height).integer().not_null())
                    .col(ColumnDef::new(Media::ByteSize).big_integer().not_null())
                    .col(ColumnDef::new(Media::AltText).text().null())
                    .col(ColumnDef::new(Media::Caption).text().null())
                    .col(ColumnDef::new(Media::Credit).text().null())
                    .col(ColumnDef::new(Media::Source).text().null())
                    .col(ColumnDef::new(Media::Copyright).text().null())
                    .col(
                        ColumnDef::new(Media::TakenAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Media::FocalX).double().not_null())
                    .col(ColumnDef::new(Media::FocalY).double().not_null())
                    .col(ColumnDef::new(Media::UploadedBy).uuid().null())
                    .col(ColumnDef::new(Media::Version).integer().not_null())
                    .col(timestamp(Media::CreatedAt))
                    .col(timestamp(Media::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_uploaded_by")
                            .from(Media::Table, Media::UploadedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .take(),
            )
            .await?;
        // The library's filters, each with the id (newest first) as the keyset.
        for (name, col) in [
            ("idx_media_type", Media::MediaType),
            ("idx_media_uploaded_by", Media::UploadedBy),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Media::Table)
                        .col(col)
                        .col(Media::Id)
                        .take(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ArticleMedia::Table)
                    .col(ColumnDef::new(ArticleMedia::ArticleId).uuid().not_null())
                    .col(ColumnDef::new(ArticleMedia::MediaId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(ArticleMedia::ArticleId)
                            .col(ArticleMedia::MediaId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_media_article")
                            .from(ArticleMedia::Table, ArticleMedia::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_media_media")
                            .from(ArticleMedia::Table, ArticleMedia::MediaId)
                            .to(Media::Table, Media::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_media_media")
                    .table(ArticleMedia::Table)
                    .col(ArticleMedia::MediaId)
                    .take(),
            )
            .await?;
        let references = if postgres(manager) {
            PG_REFERENCES
        } else {
            SQLITE_REFERENCES
        };
        run(manager, references).await?;
        run(manager, USE_INDEXES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let search = if postgres(manager) {
            PG_DOWN
        } else {
            SQLITE_DOWN
        };
        run(manager, search).await?;
        run(manager, DROP_REFERENCES).await?;
        manager
            .drop_table(Table::drop().table(ArticleMedia::Table).take())
            .await?;
        manager
            .drop_table(Table::drop().table(Media::Table).take())
            .await
    }
}
