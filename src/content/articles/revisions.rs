//! Revisions: the snapshot of an article's fields a revision keeps (and a restore
//! puts back), which fields a change touched, and the revision row written with it.

use chrono::{DateTime, Utc};
use entity::article_revision;
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

use super::checks::ArticleUpdate;
use super::{Actor, Record, Status};
use crate::content::markdown;
use crate::content::text::Text;
use crate::error::ApiError;
use crate::nullable::Nullable;

/// An article's fields as a revision keeps them (and as a restore puts them back).
#[derive(Object, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The headline.
    pub title: String,
    /// The slug.
    pub slug: String,
    /// The standfirst.
    #[serde(default)]
    pub subtitle: Nullable<String>,
    /// The summary.
    pub excerpt: String,
    /// The body in Markdown.
    pub body_markdown: String,
    /// The stored status.
    pub status: Status,
    /// When the article is, was or will be public.
    #[serde(default, serialize_with = "crate::nullable::rfc3339")]
    pub published_at: Nullable<DateTime<Utc>>,
    /// Where the story was filed from.
    #[serde(default)]
    pub dateline: Nullable<String>,
    /// The original URL of a syndicated story.
    #[serde(default)]
    pub canonical_url: Nullable<String>,
    /// The publisher carrying the article.
    pub publisher_id: Uuid,
    /// The original publisher of a syndicated story.
    #[serde(default)]
    pub syndicated_from_id: Nullable<Uuid>,
    /// The byline, in order.
    pub author_ids: Vec<Uuid>,
    /// The topics, in order.
    pub tag_ids: Vec<Uuid>,
}

impl Snapshot {
    pub fn of(record: &Record) -> Self {
        let m = &record.model;
        Self {
            title: m.title.clone(),
            slug: m.slug.clone(),
            subtitle: m.subtitle.clone().into(),
            excerpt: m.excerpt.clone(),
            body_markdown: m.body_markdown.clone(),
            status: Status::from_db(&m.status),
            published_at: m.published_at.into(),
            dateline: m.dateline.clone().into(),
            canonical_url: m.canonical_url.clone().into(),
            publisher_id: m.publisher_id,
            syndicated_from_id: m.syndicated_from_id.into(),
            author_ids: record.author_ids.clone(),
            tag_ids: record.tag_ids.clone(),
        }
    }

    /// The update that puts these fields back. A scheduled time that has passed
    /// since is restored as published (which is what the article then was).
    pub fn into_update(self, at: DateTime<Utc>) -> ArticleUpdate {
        use MaybeUndefined::{Null, Value};
        let opt_text = |v: Option<String>| v.map_or(Null, |t| Value(Text(t)));
        let status = match self.status {
            Status::Scheduled if self.published_at.0.is_some_and(|p| p <= at) => Status::Published,
            other => other,
        };
        let derived = self.excerpt == markdown::excerpt(&self.body_markdown);
        ArticleUpdate {
            featured_media_id: MaybeUndefined::Undefined,
            featured_caption: MaybeUndefined::Undefined,
            featured_alt: MaybeUndefined::Undefined,
            seo_title: MaybeUndefined::Undefined,
            seo_description: MaybeUndefined::Undefined,
            og_title: MaybeUndefined::Undefined,
            og_description: MaybeUndefined::Undefined,
            language: MaybeUndefined::Undefined,
            noindex: None,
            title: Value(Text(self.title)),
            slug: Value(Text(self.slug)),
            subtitle: opt_text(self.subtitle.0),
            excerpt: if derived {
                Null
            } else {
                Value(Text(self.excerpt))
            },
            body_markdown: Value(Text(self.body_markdown)),
            status: Value(status),
            published_at: self.published_at.0.map_or(Null, Value),
            dateline: opt_text(self.dateline.0),
            canonical_url: opt_text(self.canonical_url.0),
            publisher_id: Value(self.publisher_id),
            syndicated_from_id: self.syndicated_from_id.0.map_or(Null, Value),
            author_ids: Value(self.author_ids),
            tag_ids: Value(self.tag_ids),
        }
    }
}

/// The names of the fields that differ between two snapshots (all set fields for a
/// create), by name.
fn changed_fields(before: Option<&Snapshot>, after: &Snapshot) -> Vec<String> {
    let after = serde_json::to_value(after).unwrap_or_default();
    let before = before
        .and_then(|b| serde_json::to_value(b).ok())
        .unwrap_or_default();
    after
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| {
            let old = before.get(k.as_str()).unwrap_or(&serde_json::Value::Null);
            old != *v && !(old.is_null() && v.as_array().is_some_and(Vec::is_empty))
        })
        .map(|(k, _)| k.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Writes revision `number` of `record`, in the transaction of the change.
pub(super) async fn record_revision(
    txn: &impl ConnectionTrait,
    record: &Record,
    before: Option<&Snapshot>,
    action: &str,
    actor: &Actor,
) -> Result<(), ApiError> {
    let snapshot = Snapshot::of(record);
    let changed = changed_fields(before, &snapshot);
    article_revision::ActiveModel {
        id: Set(Uuid::now_v7()),
        article_id: Set(record.model.id),
        number: Set(record.model.version),
        action: Set(action.to_string()),
        snapshot: Set(serde_json::to_string(&snapshot).map_err(|_| ApiError::Internal)?),
        changed: Set(serde_json::to_string(&changed).map_err(|_| ApiError::Internal)?),
        user_id: Set(actor.user_id),
        created_at: Set(actor.at),
    }
    .insert(txn)
    .await?;
    Ok(())
}
