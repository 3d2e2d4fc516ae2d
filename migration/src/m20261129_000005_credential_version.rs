//! Credential versions: `users.credential_version` counts the changes that end an
//! account's sessions (a new password, disabling, a new role), and every refresh
//! token records the version it was issued under, so that stale ones are refused.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    CredentialVersion,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    CredentialVersion,
}

fn version<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().default(0).take()
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(version(Users::CredentialVersion))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(version(RefreshTokens::CredentialVersion))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::CredentialVersion)
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::CredentialVersion)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
