//! Sign-in limits shared by every node: one token bucket per limit key (a client
//! address, an email from an address), stored as its credit at a moment, so that
//! any node's attempt takes from the same bucket in one statement. Times are
//! microseconds since the Unix epoch, which both databases add and compare alike.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginLimits {
    Table,
    /// Hex SHA-256 of the limit key (no email or address is stored in the clear).
    Key,
    /// The bucket's credit at `updated_at`, in attempt-microseconds.
    Credit,
    UpdatedAt,
    /// When the bucket is full again however it was used: the row may go then.
    ExpiresAt,
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginLimits::Table)
                    .col(
                        ColumnDef::new(LoginLimits::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LoginLimits::Credit).big_integer().not_null())
                    .col(
                        ColumnDef::new(LoginLimits::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LoginLimits::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_limits_expires_at")
                    .table(LoginLimits::Table)
                    .col(LoginLimits::ExpiresAt)
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginLimits::Table).take())
            .await?;
        Ok(())
    }
}
