//! Publishers, authors, tags, articles, the ordered byline and article tags,
//! with an index for every filter and sort the API offers.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Publishers {
    Table,
    Id,
    Slug,
    Name,
    NameKey,
    Description,
    WebsiteUrl,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Authors {
    Table,
    Id,
    Slug,
    Name,
    NameKey,
    Bio,
    AvatarUrl,
    PublisherId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    Slug,
    Name,
    NameKey,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    Slug,
    Title,
    TitleKey,
    Subtitle,
    Excerpt,
    BodyMarkdown,
    BodyHtml,
    Status,
    PublishedAt,
    Dateline,
    CanonicalUrl,
    PublisherId,
    SyndicatedFromId,
    ReadingTimeMinutes,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ArticleAuthors {
    Table,
    ArticleId,
    AuthorId,
    Position,
}

#[derive(DeriveIden)]
enum ArticleTags {
    Table,
    ArticleId,
    TagId,
    Position,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().primary_key().take()
}

fn slug<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .string_len(80)
        .not_null()
        .unique_key()
        .take()
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

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Publishers::Table)
                    .col(id(Publishers::Id))
                    .col(slug(Publishers::Slug))
                    .col(ColumnDef::new(Publishers::Name).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Publishers::NameKey)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Publishers::Description).text().null())
                    .col(
                        ColumnDef::new(Publishers::WebsiteUrl)
                            .string_len(2048)
                            .null(),
                    )
                    .col(timestamp(Publishers::CreatedAt))
                    .col(timestamp(Publishers::UpdatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_publishers_name",
                Publishers::Table,
                &["name_key", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Authors::Table)
                    .col(id(Authors::Id))
                    .col(slug(Authors::Slug))
                    .col(ColumnDef::new(Authors::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Authors::NameKey).string_len(200).not_null())
                    .col(ColumnDef::new(Authors::Bio).text().null())
                    .col(ColumnDef::new(Authors::AvatarUrl).string_len(2048).null())
                    .col(ColumnDef::new(Authors::PublisherId).uuid().null())
                    .col(timestamp(Authors::CreatedAt))
                    .col(timestamp(Authors::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_authors_publisher")
                            .from(Authors::Table, Authors::PublisherId)
                            .to(Publishers::Table, Publishers::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_authors_name",
                Authors::Table,
                &["name_key", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_authors_publisher",
                Authors::Table,
                &["publisher_id", "name_key", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(id(Tags::Id))
                    .col(slug(Tags::Slug))
                    .col(ColumnDef::new(Tags::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Tags::NameKey).string_len(200).not_null())
                    .col(ColumnDef::new(Tags::Description).text().null())
                    .col(timestamp(Tags::CreatedAt))
                    .col(timestamp(Tags::UpdatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("idx_tags_name", Tags::Table, &["name_key", "id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .col(id(Articles::Id))
                    .col(slug(Articles::Slug))
                    .col(ColumnDef::new(Articles::Title).string_len(300).not_null())
                    .col(
                        ColumnDef::new(Articles::TitleKey)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Articles::Subtitle).string_len(500).null())
                    .col(ColumnDef::new(Articles::Excerpt).text().not_null())
                    .col(ColumnDef::new(Articles::BodyMarkdown).text().not_null())
                    .col(ColumnDef::new(Articles::BodyHtml).text().not_null())
                    .col(ColumnDef::new(Articles::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Articles::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Articles::Dateline).string_len(200).null())
                    .col(
                        ColumnDef::new(Articles::CanonicalUrl)
                            .string_len(2048)
                            .null(),
                    )
                    .col(ColumnDef::new(Articles::PublisherId).uuid().not_null())
                    .col(ColumnDef::new(Articles::SyndicatedFromId).uuid().null())
                    .col(
                        ColumnDef::new(Articles::ReadingTimeMinutes)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Articles::Version).integer().not_null())
                    .col(timestamp(Articles::CreatedAt))
                    .col(timestamp(Articles::UpdatedAt))
                    .check(Expr::col(Articles::Status).is_in([
                        "draft",
                        "scheduled",
                        "published",
                        "archived",
                    ]))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_articles_publisher")
                            .from(Articles::Table, Articles::PublisherId)
                            .to(Publishers::Table, Publishers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_articles_syndicated_from")
                            .from(Articles::Table, Articles::SyndicatedFromId)
                            .to(Publishers::Table, Publishers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        for (name, cols) in [
            ("idx_articles_published_at", &["published_at", "id"][..]),
            ("idx_articles_title", &["title_key", "id"]),
            ("idx_articles_updated_at", &["updated_at", "id"]),
            (
                "idx_articles_status_published_at",
                &["status", "published_at", "id"],
            ),
            (
                "idx_articles_publisher",
                &["publisher_id", "published_at", "id"],
            ),
            ("idx_articles_syndicated_from", &["syndicated_from_id"]),
        ] {
            manager
                .create_index(index(name, Articles::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ArticleAuthors::Table)
                    .col(ColumnDef::new(ArticleAuthors::ArticleId).uuid().not_null())
                    .col(ColumnDef::new(ArticleAuthors::AuthorId).uuid().not_null())
                    .col(
                        ColumnDef::new(ArticleAuthors::Position)
                            .integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ArticleAuthors::ArticleId)
                            .col(ArticleAuthors::AuthorId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_authors_article")
                            .from(ArticleAuthors::Table, ArticleAuthors::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_authors_author")
                            .from(ArticleAuthors::Table, ArticleAuthors::AuthorId)
                            .to(Authors::Table, Authors::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_article_authors_author",
                ArticleAuthors::Table,
                &["author_id", "article_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ArticleTags::Table)
                    .col(ColumnDef::new(ArticleTags::ArticleId).uuid().not_null())
                    .col(ColumnDef::new(ArticleTags::TagId).uuid().not_null())
                    .col(ColumnDef::new(ArticleTags::Position).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(ArticleTags::ArticleId)
                            .col(ArticleTags::TagId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_tags_article")
                            .from(ArticleTags::Table, ArticleTags::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_tags_tag")
                            .from(ArticleTags::Table, ArticleTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_article_tags_tag",
                ArticleTags::Table,
                &["tag_id", "article_id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ArticleTags::Table.into_iden(),
            ArticleAuthors::Table.into_iden(),
            Articles::Table.into_iden(),
            Tags::Table.into_iden(),
            Authors::Table.into_iden(),
            Publishers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
