//! Events and webhooks: the transactional outbox (`events`, numbered in commit
//! order, with a per-resource `sequence` kept in `event_sequences`), the webhook
//! endpoints admins register, one delivery per event and endpoint, and each
//! attempt at it. `articles.announced_at` remembers the `published_at` for which an
//! article's `article.published` event was recorded, so that a scheduled article
//! whose time passes is announced exactly once.
//!
//! On PostgreSQL a recorded event `NOTIFY`s [`CHANNEL`] at commit, with its type as
//! the payload: every node's delivery worker wakes, and its response cache drops
//! what it holds (unless the event is a new comment, still pending, which no reader
//! sees). That replaces the row triggers of
//! migration 6, so "what changed" has one source, the event log.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261129_000006_content_notify as row_triggers;

/// The notification channel (the one migration 6 used, so listeners stay the same).
pub const CHANNEL: &str = row_triggers::CHANNEL;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Position,
    Id,
    EventType,
    ResourceType,
    ResourceId,
    Sequence,
    ActorId,
    OccurredAt,
    Data,
    Previous,
}

#[derive(DeriveIden)]
enum EventSequences {
    Table,
    ResourceType,
    ResourceId,
    Sequence,
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    Url,
    Description,
    EventTypes,
    Enabled,
    DisabledReason,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    EventCursor,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    EventPosition,
    EventId,
    EventType,
    ResourceKey,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    LeaseId,
    LeaseUntil,
    LastStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    StatusCode,
    DurationMs,
    ResponseBody,
    Error,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    AnnouncedAt,
    PublishedAt,
    Status,
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
                    .table(Events::Table)
                    .col(
                        ColumnDef::new(Events::Position)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Events::Id).uuid().not_null().unique_key())
                    .col(ColumnDef::new(Events::EventType).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Events::ResourceType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Events::ResourceId).uuid().not_null())
                    .col(ColumnDef::new(Events::Sequence).big_integer().not_null())
                    .col(ColumnDef::new(Events::ActorId).uuid().null())
                    .col(timestamp(Events::OccurredAt))
                    .col(ColumnDef::new(Events::Data).text().not_null())
                    .col(ColumnDef::new(Events::Previous).text().null())
                    .take(),
            )
            .await?;
        // The feed filtered by type walks this in position order; retention deletes by time.
        manager
            .create_index(index(
                "idx_events_type_position",
                Events::Table,
                &["event_type", "position"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_events_occurred_at",
                Events::Table,
                &["occurred_at"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EventSequences::Table)
                    .col(
                        ColumnDef::new(EventSequences::ResourceType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(EventSequences::ResourceId).uuid().not_null())
                    .col(
                        ColumnDef::new(EventSequences::Sequence)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(EventSequences::ResourceType)
                            .col(EventSequences::ResourceId),
                    )
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(ColumnDef::new(Webhooks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Webhooks::Url).string_len(2048).not_null())
                    .col(ColumnDef::new(Webhooks::Description).text().null())
                    .col(ColumnDef::new(Webhooks::EventTypes).text().not_null())
                    .col(ColumnDef::new(Webhooks::Enabled).boolean().not_null())
                    .col(ColumnDef::new(Webhooks::DisabledReason).text().null())
                    .col(ColumnDef::new(Webhooks::Secret).string_len(128).not_null())
                    .col(
                        ColumnDef::new(Webhooks::PreviousSecret)
                            .string_len(128)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Webhooks::PreviousSecretUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Webhooks::EventCursor)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Webhooks::FailingSince)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(Webhooks::CreatedAt))
                    .col(timestamp(Webhooks::UpdatedAt))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(
                        ColumnDef::new(WebhookDeliveries::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::WebhookId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::EventPosition)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::EventId).uuid().not_null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::EventType)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::ResourceKey)
                            .string_len(80)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::Payload).text().null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempts)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::LeaseId).uuid().null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::LeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::LastStatus)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::LastError).text().null())
                    .col(timestamp(WebhookDeliveries::CreatedAt))
                    .col(timestamp(WebhookDeliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_webhook")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        // An endpoint's deliveries, newest first (ids are UUIDv7); one resource's
        // pending deliveries in order; the due ones.
        manager
            .create_index(index(
                "idx_webhook_deliveries_webhook",
                WebhookDeliveries::Table,
                &["webhook_id", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_resource",
                WebhookDeliveries::Table,
                &["webhook_id", "resource_key", "state", "event_position"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_due",
                WebhookDeliveries::Table,
                &["state", "next_attempt_at"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(
                        ColumnDef::new(WebhookAttempts::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WebhookAttempts::DeliveryId)
                            .uuid()
                            .not_null(),
                    )
                    .col(timestamp(WebhookAttempts::AttemptedAt))
                    .col(ColumnDef::new(WebhookAttempts::StatusCode).integer().null())
                    .col(
                        ColumnDef::new(WebhookAttempts::DurationMs)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookAttempts::ResponseBody).text().null())
                    .col(ColumnDef::new(WebhookAttempts::Error).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_attempts_delivery",
                WebhookAttempts::Table,
                &["delivery_id", "id"],
            ))
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .add_column(
                        ColumnDef::new(Articles::AnnouncedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .take(),
            )
            .await?;
        // The worker's question every round: which scheduled articles are due?
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_articles_scheduled ON articles (published_at) \
                 WHERE status = 'scheduled' AND deleted_at IS NULL",
            )
            .await?;
        // Scheduled articles already public when this runs were announced (by nobody);
        // those still to come will be, when their time comes.
        manager
            .exec_stmt(
                Query::update()
                    .table(Articles::Table)
                    .value(Articles::AnnouncedAt, Expr::col(Articles::PublishedAt))
                    .and_where(Expr::col(Articles::Status).eq("scheduled"))
                    .and_where(
                        Expr::col(Articles::PublishedAt)
                            .lte(sea_orm_migration::sea_orm::prelude::ChronoUtc::now()),
                    )
                    .take(),
            )
            .await?;

        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            // The row triggers go: every content write now records an event.
            row_triggers::remove(db).await?;
            db.execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION dispatch_event_recorded() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{CHANNEL}', NEW.event_type); RETURN NULL; END $$"
            ))
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW \
                 EXECUTE FUNCTION dispatch_event_recorded()",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP TRIGGER IF EXISTS events_notify ON events")
                .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS dispatch_event_recorded()")
                .await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS idx_articles_scheduled")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .drop_column(Articles::AnnouncedAt)
                    .take(),
            )
            .await?;
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            Webhooks::Table.into_iden(),
            EventSequences::Table.into_iden(),
            Events::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        if db.get_database_backend() == DbBackend::Postgres {
            row_triggers::create(db).await?;
        }
        Ok(())
    }
}
