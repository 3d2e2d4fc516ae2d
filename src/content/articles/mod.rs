//! Articles: the domain types shared by every part ([`Status`], [`Record`],
//! [`Related`], [`Actor`]) and the errors they all answer with. The work lives in
//! the submodules: [`query`] (visibility, filters, search, keyset listing, lookup),
//! [`relations`] (embedded rows and the byline), [`checks`] (write input and the
//! rules it must meet, status transitions among them), [`write`] (create, update,
//! trash, each in one transaction with the byline and tags) and [`revisions`]
//! (the snapshots a revision keeps).

mod changes;
mod checks;
mod query;
mod relations;
mod revisions;
mod write;

pub use changes::{announce_due, record as record_event};
pub use checks::{ArticleCreate, ArticleUpdate, may_become};
pub use query::{Filter, Lookup, Sort, get, list, next_public_change, public};
pub use relations::{Include, Need, byline, load_ids, with_relations};
pub use revisions::Snapshot;
pub use write::{create, create_with_id, find_for_write, trash, update};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{article, author, publisher, tag};
use poem_openapi::Enum;
use uuid::Uuid;

use super::slug;
use crate::error::ApiError;

/// An article's publishing status.
#[derive(Enum, serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being written; visible to editors only.
    Draft,
    /// Waiting for `published_at`; becomes public by itself when that time passes.
    Scheduled,
    /// Public once `published_at` has passed.
    Published,
    /// Withdrawn from public lists; visible to editors only.
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "scheduled" => Self::Scheduled,
            "published" => Self::Published,
            "archived" => Self::Archived,
            _ => Self::Draft,
        }
    }
}

/// The status a reader sees: a scheduled article whose time has come is published,
/// with no job or request needed to flip it.
pub fn effective_status(model: &article::Model, at: DateTime<Utc>) -> Status {
    match Status::from_db(&model.status) {
        Status::Scheduled if model.published_at.is_some_and(|p| p <= at) => Status::Published,
        other => other,
    }
}

/// An article with its ordered byline and tags.
#[derive(Debug, Clone)]
pub struct Record {
    pub model: article::Model,
    pub author_ids: Vec<Uuid>,
    pub tag_ids: Vec<Uuid>,
}

/// Related rows embedded on request, by id.
#[derive(Debug, Clone, Default)]
pub struct Related {
    pub authors: HashMap<Uuid, author::Model>,
    pub publishers: HashMap<Uuid, publisher::Model>,
    pub tags: HashMap<Uuid, tag::Model>,
    /// The featured photos, when `include` asks for them.
    pub media: HashMap<Uuid, entity::media::Model>,
}

pub fn not_found() -> ApiError {
    ApiError::NotFound("No article has this id or slug.".to_string())
}

/// Who makes a change, and when.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    /// The signed-in user; `None` for the operator's command line (the demo seed).
    pub user_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// How a slug is made when none is sent: only a writer who can read every
    /// article (the trash included) gets the first free suffix, since it tells which
    /// slugs are taken.
    pub slugs: slug::Made,
}

/// The 412 for a change based on `version` when the article has moved on.
pub fn stale(version: i32) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "The article has changed since version {version}; reload it and apply your change again."
    ))
}
