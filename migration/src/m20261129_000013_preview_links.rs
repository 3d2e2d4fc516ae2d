//! Draft previews: the `preview_links` table. A row is one link an editor asked for,
//! bound to one article; the signed token handed out names the row, so revoking is
//! marking rows (`revoked_at`) and a token opens its article only while its row is
//! live. Rows go with their article (cascade, when it is deleted for good); the
//! creator becomes `NULL` when that account is deleted.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PreviewLinks {
    Table,
    Id,
    ArticleId,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn timestamp<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PreviewLinks::Table)
                    .col(
                        ColumnDef::new(PreviewLinks::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PreviewLinks::ArticleId).uuid().not_null())
                    .col(ColumnDef::new(PreviewLinks::CreatedBy).uuid().null())
                    .col(timestamp(PreviewLinks::CreatedAt))
                    .col(timestamp(PreviewLinks::ExpiresAt))
                    .col(
                        ColumnDef::new(PreviewLinks::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_preview_links_article")
                            .from(PreviewLinks::Table, PreviewLinks::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_preview_links_created_by")
                            .from(PreviewLinks::Table, PreviewLinks::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .take(),
            )
            .await?;
        // The revocation (`article_id = ? AND revoked_at IS NULL`), the pruning of an
        // article's links past their time (`article_id = ? AND expires_at <= ?`, at
        // each new link, so an article has few rows) and the article's cascade; a
        // token's lookup goes by the primary key.
        manager
            .create_index(
                Index::create()
                    .name("idx_preview_links_article")
                    .table(PreviewLinks::Table)
                    .col(PreviewLinks::ArticleId)
                    .col(PreviewLinks::ExpiresAt)
                    .take(),
            )
            .await?;
        // A deleted account's links are found by it (`SET NULL`).
        manager
            .create_index(
                Index::create()
                    .name("idx_preview_links_created_by")
                    .table(PreviewLinks::Table)
                    .col(PreviewLinks::CreatedBy)
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PreviewLinks::Table).take())
            .await?;
        Ok(())
    }
}
