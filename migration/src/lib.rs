//! Schema migrations for Dispatch. The same migrations run on SQLite and PostgreSQL,
//! at server start-up and from `dispatch migrate`.

use sea_orm_migration::async_trait::async_trait;
pub use sea_orm_migration::prelude::*;

mod m20261128_000001_content;
pub mod m20261128_000002_article_search;
mod m20261128_000003_users;
mod m20261128_000004_workflow;
mod m20261129_000005_credential_version;
pub mod m20261129_000006_content_notify;
mod m20261129_000007_login_limits;
mod m20261129_000008_search_statistics;
pub mod m20261129_000009_events;
mod m20261129_000010_media;
mod m20261129_000011_seo;
mod m20261129_000012_api_keys;
mod m20261129_000013_preview_links;
pub mod m20261129_000014_sitemap_index;

pub struct Migrator;

#[async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_content::Migration),
            Box::new(m20261128_000002_article_search::Migration),
            Box::new(m20261128_000003_users::Migration),
            Box::new(m20261128_000004_workflow::Migration),
            Box::new(m20261129_000005_credential_version::Migration),
            Box::new(m20261129_000006_content_notify::Migration),
            Box::new(m20261129_000007_login_limits::Migration),
            Box::new(m20261129_000008_search_statistics::Migration),
            Box::new(m20261129_000009_events::Migration),
            Box::new(m20261129_000010_media::Migration),
            Box::new(m20261129_000011_seo::Migration),
            Box::new(m20261129_000012_api_keys::Migration),
            Box::new(m20261129_000013_preview_links::Migration),
            Box::new(m20261129_000014_sitemap_index::Migration),
        ]
    }
}
