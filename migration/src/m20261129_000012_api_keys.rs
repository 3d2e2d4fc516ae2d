//! API keys for frontends and services: one row per key, stored only as the
//! SHA-256 of its text (unique: a request's key is found by it) beside a short
//! display prefix, with its scope, the account a role-scoped key acts as, its
//! allowed origins, expiry, revocation and last use. The list shows the keys not
//! revoked, newest first: `(revoked_at, id)` serves it.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    /// `read:published`, `read:preview`, `read:events`, or a role.
    Scope,
    /// The account a role-scoped key acts as; `NULL` for a read scope.
    UserId,
    /// Hex SHA-256 of the key's text.
    KeyHash,
    /// `dsp_live_` and the first characters of the secret part, to tell keys apart.
    Prefix,
    /// A JSON array of exact origins; `NULL` when any (or no) origin may use it.
    AllowedOrigins,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn timestamp<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().take()
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ApiKeys::Name).string_len(200).not_null())
                    .col(ColumnDef::new(ApiKeys::Scope).string_len(32).not_null())
                    .col(ColumnDef::new(ApiKeys::UserId).uuid().null())
                    .col(ColumnDef::new(ApiKeys::KeyHash).string_len(64).not_null())
                    .col(ColumnDef::new(ApiKeys::Prefix).string_len(32).not_null())
                    .col(ColumnDef::new(ApiKeys::AllowedOrigins).text().null())
                    .col(timestamp(ApiKeys::ExpiresAt).null())
                    .col(timestamp(ApiKeys::LastUsedAt).null())
                    .col(timestamp(ApiKeys::RevokedAt).null())
                    .col(ColumnDef::new(ApiKeys::CreatedBy).uuid().null())
                    .col(timestamp(ApiKeys::CreatedAt).not_null())
                    // A deleted account's keys go with it (they could act as no one).
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_user")
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_created_by")
                            .from(ApiKeys::Table, ApiKeys::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .take(),
            )
            .await?;
        // Every request with a key finds it by its hash.
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_key_hash")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::KeyHash)
                    .unique()
                    .take(),
            )
            .await?;
        // The list: not revoked, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_revoked_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::RevokedAt)
                    .col(ApiKeys::Id)
                    .take(),
            )
            .await?;
        // The foreign keys' lookups when an account is deleted.
        for (name, col) in [
            ("idx_api_keys_user", ApiKeys::UserId),
            ("idx_api_keys_created_by", ApiKeys::CreatedBy),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ApiKeys::Table)
                        .col(col)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).take())
            .await?;
        Ok(())
    }
}
