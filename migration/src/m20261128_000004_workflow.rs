//! The newsroom workflow: the trash (`articles.deleted_at`), the approved comment
//! count kept on each article (`articles.comment_count`), article revisions,
//! the slug history behind redirects, and reader comments.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    DeletedAt,
    CommentCount,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ArticleRevisions {
    Table,
    Id,
    ArticleId,
    Number,
    Action,
    Snapshot,
    Changed,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ArticleSlugs {
    Table,
    Slug,
    ArticleId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    ArticleId,
    AuthorName,
    Email,
    Body,
    Status,
    CreatedAt,
    UpdatedAt,
}

/// The list indexes of migration 1 (and PostgreSQL's descending one of migration 2)
/// become partial, over live articles only: every list asks `deleted_at IS NULL`,
/// and a partial index answers it (counts included) without reading a single row.
const LIVE_INDEXES: &[(&str, &str, &str)] = &[
    (
        "idx_articles_published_at",
        "idx_live_articles_published_at",
        "published_at, id",
    ),
    (
        "idx_articles_title",
        "idx_live_articles_title",
        "title_key, id",
    ),
    (
        "idx_articles_updated_at",
        "idx_live_articles_updated_at",
        "updated_at, id",
    ),
    (
        "idx_articles_status_published_at",
        "idx_live_articles_status_published_at",
        "status, published_at, id",
    ),
    (
        "idx_articles_publisher",
        "idx_live_articles_publisher",
        "publisher_id, published_at, id",
    ),
];
const PG_DESC: (&str, &str, &str) = (
    "idx_articles_published_at_desc",
    "idx_live_articles_published_at_desc",
    "published_at DESC NULLS LAST, id DESC",
);

/// Swaps each `(full, partial, columns)` index one way or the other.
async fn swap_indexes(manager: &SchemaManager<'_>, to_partial: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let mut indexes = LIVE_INDEXES.to_vec();
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
        indexes.push(PG_DESC);
    }
    for (full, partial, columns) in indexes {
        let (drop, create, filter) = if to_partial {
            (full, partial, " WHERE deleted_at IS NULL")
        } else {
            (partial, full, "")
        };
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {drop}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {create} ON articles ({columns}){filter}"
        ))
        .await?;
    }
    Ok(())
}

fn timestamp<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn index<T: IntoIden>(name: &str, table: T, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    stmt.take()
}

fn article_fk(name: &str, from: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, col)
        .to(Articles::Table, Articles::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .add_column(
                        ColumnDef::new(Articles::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .add_column(
                        ColumnDef::new(Articles::CommentCount)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .take(),
            )
            .await?;
        swap_indexes(manager, true).await?;
        // Partial, so that it serves the trash (`deleted_at IS NOT NULL`) and nothing
        // else: a full index would tempt the planners to answer every live list's
        // `deleted_at IS NULL` with it instead of walking the sort indexes.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_articles_trash ON articles (deleted_at, id) \
                 WHERE deleted_at IS NOT NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ArticleRevisions::Table)
                    .col(
                        ColumnDef::new(ArticleRevisions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ArticleRevisions::ArticleId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ArticleRevisions::Number)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ArticleRevisions::Action)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ArticleRevisions::Snapshot).text().not_null())
                    .col(ColumnDef::new(ArticleRevisions::Changed).text().not_null())
                    .col(ColumnDef::new(ArticleRevisions::UserId).uuid().null())
                    .col(timestamp(ArticleRevisions::CreatedAt))
                    .foreign_key(&mut article_fk(
                        "fk_article_revisions_article",
                        ArticleRevisions::Table,
                        ArticleRevisions::ArticleId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_revisions_user")
                            .from(ArticleRevisions::Table, ArticleRevisions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_article_revisions_number",
                    ArticleRevisions::Table,
                    &["article_id", "number"],
                )
                .unique()
                .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ArticleSlugs::Table)
                    .col(
                        ColumnDef::new(ArticleSlugs::Slug)
                            .string_len(80)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ArticleSlugs::ArticleId).uuid().not_null())
                    .col(timestamp(ArticleSlugs::CreatedAt))
                    .foreign_key(&mut article_fk(
                        "fk_article_slugs_article",
                        ArticleSlugs::Table,
                        ArticleSlugs::ArticleId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_article_slugs_article",
                ArticleSlugs::Table,
                &["article_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(ColumnDef::new(Comments::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Comments::ArticleId).uuid().not_null())
                    .col(
                        ColumnDef::new(Comments::AuthorName)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Comments::Email).string_len(254).not_null())
                    .col(ColumnDef::new(Comments::Body).text().not_null())
                    .col(ColumnDef::new(Comments::Status).string_len(16).not_null())
                    .col(timestamp(Comments::CreatedAt))
                    .col(timestamp(Comments::UpdatedAt))
                    .foreign_key(&mut article_fk(
                        "fk_comments_article",
                        Comments::Table,
                        Comments::ArticleId,
                    ))
                    .take(),
            )
            .await?;
        // Readers list an article's approved comments oldest first; moderators list
        // by status newest first.
        manager
            .create_index(index(
                "idx_comments_article_status",
                Comments::Table,
                &["article_id", "status", "created_at", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_comments_status",
                Comments::Table,
                &["status", "created_at", "id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Comments::Table.into_iden(),
            ArticleSlugs::Table.into_iden(),
            ArticleRevisions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_articles_trash")
                    .table(Articles::Table)
                    .to_owned(),
            )
            .await?;
        swap_indexes(manager, false).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .drop_column(Articles::DeletedAt)
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .drop_column(Articles::CommentCount)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
