//! What a write takes ([`ArticleCreate`], [`ArticleUpdate`]) and the rules it is
//! checked against as a whole: spanning fields, the allowed status transitions,
//! and that every referenced id exists.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{author, media, publisher, tag};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Status;
use crate::content::figures;
use crate::content::text::Text;
use crate::content::{check_not_blank, check_url};
use crate::error::{ApiError, FieldError};

/// A new article.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct ArticleCreate {
    /// The headline.
    #[oai(validator(min_length = 1, max_length = 300))]
    pub title: Text,
    /// Lower-case ASCII words joined by hyphens; made from the title when absent (for
    /// editors and admins with the first free suffix, `-2`, `-3`…; for authors and
    /// contributors with a random one, `-k3x9q2`). Only editors and admins may send one
    /// (others get a 403); a taken one is a 409.
    #[oai(validator(max_length = 80))]
    pub slug: Option<Text>,
    /// The standfirst under the headline.
    #[oai(validator(max_length = 500))]
    pub subtitle: Option<Text>,
    /// A short summary for lists and previews; derived from the body's first paragraph when absent.
    #[oai(validator(max_length = 1000))]
    pub excerpt: Option<Text>,
    /// The body in Markdown. Raw HTML in it is sanitised when rendered to `body_html`.
    #[oai(default, validator(max_length = 200000))]
    pub body_markdown: Text,
    /// The publishing status; `draft` when absent.
    pub status: Option<Status>,
    /// When the article is (or was, or will be) public. Set to now on publishing when absent;
    /// required, and in the future, for `scheduled`.
    pub published_at: Option<DateTime<Utc>>,
    /// Where the story was filed from, e.g. "LYON".
    #[oai(validator(max_length = 200))]
    pub dateline: Option<Text>,
    /// The original URL of a syndicated story (absolute http or https URL).
    #[oai(validator(max_length = 2048))]
    pub canonical_url: Option<Text>,
    /// The publisher carrying the article.
    pub publisher_id: Uuid,
    /// For a syndicated story: the publisher that first published it.
    pub syndicated_from_id: Option<Uuid>,
    /// The byline, in order.
    #[oai(default, validator(max_items = 20))]
    pub author_ids: Vec<Uuid>,
    /// The topics, in order.
    #[oai(default, validator(max_items = 50))]
    pub tag_ids: Vec<Uuid>,
    /// The photo shown with the story: a media asset's id.
    pub featured_media_id: Option<Uuid>,
    /// The featured photo's caption in this story (absent: the asset's own).
    #[oai(validator(max_length = 5000))]
    pub featured_caption: Option<Text>,
    /// The featured photo's alt text in this story (absent: the asset's own).
    #[oai(validator(max_length = 1000))]
    pub featured_alt: Option<Text>,
    /// The title search engines show (absent: the headline).
    #[oai(validator(max_length = 300))]
    pub seo_title: Option<Text>,
    /// The description search engines show (absent: the excerpt).
    #[oai(validator(max_length = 1000))]
    pub seo_description: Option<Text>,
    /// The title of social cards, Open Graph's `og:title` (absent: the SEO title, else the headline).
    #[oai(validator(max_length = 300))]
    pub og_title: Option<Text>,
    /// The description of social cards, `og:description` (absent: the SEO description, else the excerpt).
    #[oai(validator(max_length = 1000))]
    pub og_description: Option<Text>,
    /// The story's language: a BCP 47 tag such as `en`, `fr-CA` or `zh-Hant-TW`, kept in
    /// canonical case (absent: the site's default, `DISPATCH_DEFAULT_LANGUAGE`).
    pub language: Option<Text>,
    /// Keeps the story out of the sitemaps and asks search engines not to index it (default false).
    pub noindex: Option<bool>,
}

/// Changes to an article; absent fields stay as they are, `null` clears an optional one.
/// `author_ids` and `tag_ids` replace the whole byline or tag list.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct ArticleUpdate {
    /// A new headline.
    #[oai(validator(min_length = 1, max_length = 300))]
    pub title: MaybeUndefined<Text>,
    /// A new slug (lower-case ASCII words joined by hyphens); the old one keeps working as a
    /// redirect. Only editors and admins may change it (others get a 403); a taken one is a 409.
    #[oai(validator(max_length = 80))]
    pub slug: MaybeUndefined<Text>,
    /// A new standfirst; `null` clears it.
    #[oai(validator(max_length = 500))]
    pub subtitle: MaybeUndefined<Text>,
    /// Set to `null` to derive the excerpt from the body again.
    #[oai(validator(max_length = 1000))]
    pub excerpt: MaybeUndefined<Text>,
    /// A new body in Markdown; `body_html`, the reading time and a derived excerpt follow it.
    #[oai(validator(max_length = 200000))]
    pub body_markdown: MaybeUndefined<Text>,
    /// A new status; `scheduled` needs a future `published_at`, `published` sets it to now when absent.
    pub status: MaybeUndefined<Status>,
    /// A new publication time (RFC 3339); `null` clears it.
    pub published_at: MaybeUndefined<DateTime<Utc>>,
    /// A new dateline; `null` clears it.
    #[oai(validator(max_length = 200))]
    pub dateline: MaybeUndefined<Text>,
    /// A new original URL; `null` clears it.
    #[oai(validator(max_length = 2048))]
    pub canonical_url: MaybeUndefined<Text>,
    /// A new publisher; `null` clears the affiliation.
    pub publisher_id: MaybeUndefined<Uuid>,
    /// A new original publisher; `null` marks the story as not syndicated.
    pub syndicated_from_id: MaybeUndefined<Uuid>,
    /// The whole new byline, in order.
    #[oai(validator(max_items = 20))]
    pub author_ids: MaybeUndefined<Vec<Uuid>>,
    /// The whole new list of topics, in order.
    #[oai(validator(max_items = 50))]
    pub tag_ids: MaybeUndefined<Vec<Uuid>>,
    /// A new featured photo (a media asset's id); `null` removes it.
    pub featured_media_id: MaybeUndefined<Uuid>,
    /// A new caption of the featured photo in this story; `null`: the asset's own.
    #[oai(validator(max_length = 5000))]
    pub featured_caption: MaybeUndefined<Text>,
    /// New alt text of the featured photo in this story; `null`: the asset's own.
    #[oai(validator(max_length = 1000))]
    pub featured_alt: MaybeUndefined<Text>,
    /// A new title for search engines; `null`: the headline.
    #[oai(validator(max_length = 300))]
    pub seo_title: MaybeUndefined<Text>,
    /// A new description for search engines; `null`: the excerpt.
    #[oai(validator(max_length = 1000))]
    pub seo_description: MaybeUndefined<Text>,
    /// A new social card title; `null`: the SEO title, else the headline.
    #[oai(validator(max_length = 300))]
    pub og_title: MaybeUndefined<Text>,
    /// A new social card description; `null`: the SEO description, else the excerpt.
    #[oai(validator(max_length = 1000))]
    pub og_description: MaybeUndefined<Text>,
    /// A new language (BCP 47); `null`: the site's default.
    pub language: MaybeUndefined<Text>,
    /// Whether to keep the story out of the sitemaps and search engines.
    pub noindex: Option<bool>,
}

/// The article's fields after a create or an update, checked as a whole.
pub(super) struct Draft {
    pub(super) title: String,
    pub(super) subtitle: Option<String>,
    pub(super) excerpt: Option<String>,
    pub(super) body_markdown: String,
    pub(super) status: Status,
    pub(super) published_at: Option<DateTime<Utc>>,
    pub(super) dateline: Option<String>,
    pub(super) canonical_url: Option<String>,
    pub(super) publisher_id: Uuid,
    pub(super) syndicated_from_id: Option<Uuid>,
    pub(super) featured_media_id: Option<Uuid>,
    pub(super) featured_caption: Option<String>,
    pub(super) featured_alt: Option<String>,
    pub(super) seo: Seo,
}

/// What a story tells search engines and social networks.
pub(super) struct Seo {
    pub(super) seo_title: Option<String>,
    pub(super) seo_description: Option<String>,
    pub(super) og_title: Option<String>,
    pub(super) og_description: Option<String>,
    pub(super) language: Option<String>,
    pub(super) noindex: bool,
}

impl Seo {
    /// Checks the texts given (none blank) and puts the language in canonical case.
    fn check(&mut self, errors: &mut Vec<FieldError>) {
        for (field, text) in [
            ("seo_title", &self.seo_title),
            ("seo_description", &self.seo_description),
            ("og_title", &self.og_title),
            ("og_description", &self.og_description),
        ] {
            if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
                errors.push(FieldError::new(
                    field,
                    "must not be blank; send null to fall back to the headline or excerpt",
                ));
            }
        }
        if let Some(tag) = &self.language {
            match crate::site::language(tag) {
                Ok(canonical) => self.language = Some(canonical),
                Err(reason) => errors.push(FieldError::new("language", reason)),
            }
        }
    }
}

fn duplicates(field: &str, ids: &[Uuid], errors: &mut Vec<FieldError>) {
    let mut seen = HashSet::new();
    if ids.iter().any(|id| !seen.insert(*id)) {
        errors.push(FieldError::new(field, "must not list the same id twice"));
    }
}

/// Which statuses an article in each (effective) status may move to. A new
/// article may start in any status.
const TRANSITIONS: &[(Status, &[Status])] = &[
    (Status::Draft, &[Status::Scheduled, Status::Published]),
    (Status::Scheduled, &[Status::Draft, Status::Published]),
    (Status::Published, &[Status::Draft, Status::Archived]),
    (Status::Archived, &[Status::Draft, Status::Published]),
];

/// Whether an article whose effective status is `from` may become `to`.
pub fn may_become(from: Status, to: Status) -> bool {
    from == to
        || TRANSITIONS
            .iter()
            .any(|(f, tos)| *f == from && tos.contains(&to))
}

fn transition_error(from: Status, to: Status) -> FieldError {
    let allowed: Vec<&str> = TRANSITIONS
        .iter()
        .find(|(f, _)| *f == from)
        .map(|(_, tos)| tos.iter().map(|s| s.as_str()).collect())
        .unwrap_or_default();
    FieldError::new(
        "status",
        format!(
            "cannot change from {} to {}; a {} article may become {}",
            from.as_str(),
            to.as_str(),
            from.as_str(),
            allowed.join(" or ")
        ),
    )
}

/// What the change starts from: nothing (a create), or the article's effective
/// status and stored `published_at`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Before {
    pub(super) status: Option<Status>,
    pub(super) published_at: Option<DateTime<Utc>>,
}

/// Checks the rules that span fields (the status transition among them), and that
/// every referenced id exists (three statements at most, whatever the number of ids).
pub(super) async fn check(
    db: &impl ConnectionTrait,
    draft: &mut Draft,
    before: Before,
    author_ids: Option<&[Uuid]>,
    tag_ids: Option<&[Uuid]>,
    at: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    check_not_blank("title", &draft.title, errors);
    draft.seo.check(errors);
    check_url("canonical_url", draft.canonical_url.as_deref(), errors);
    if draft.syndicated_from_id == Some(draft.publisher_id) {
        errors.push(FieldError::new(
            "syndicated_from_id",
            "must name the original publisher, not the one carrying the story",
        ));
    }
    let status_changed = before.status != Some(draft.status);
    if let Some(from) = before.status
        && !may_become(from, draft.status)
    {
        errors.push(transition_error(from, draft.status));
    }
    let timing_changed = status_changed || before.published_at != draft.published_at;
    match draft.status {
        Status::Scheduled if timing_changed => match draft.published_at {
            None => errors.push(FieldError::new(
                "published_at",
                "is required to schedule an article",
            )),
            Some(t) if t <= at => errors.push(FieldError::new(
                "published_at",
                "must be in the future to schedule an article",
            )),
            Some(_) => {}
        },
        Status::Published if draft.published_at.is_none() => draft.published_at = Some(at),
        _ => {}
    }
    if let Some(ids) = author_ids {
        duplicates("author_ids", ids, errors);
    }
    if let Some(ids) = tag_ids {
        duplicates("tag_ids", ids, errors);
    }

    let mut publishers = vec![draft.publisher_id];
    publishers.extend(draft.syndicated_from_id);
    let found: HashSet<Uuid> = publisher::Entity::find()
        .select_only()
        .column(publisher::Column::Id)
        .filter(publisher::Column::Id.is_in(publishers))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    if !found.contains(&draft.publisher_id) {
        errors.push(FieldError::new("publisher_id", "no publisher has this id"));
    }
    if let Some(id) = draft.syndicated_from_id
        && !found.contains(&id)
    {
        errors.push(FieldError::new(
            "syndicated_from_id",
            "no publisher has this id",
        ));
    }
    if let Some(ids) = author_ids.filter(|ids| !ids.is_empty()) {
        let found: HashSet<Uuid> = author::Entity::find()
            .select_only()
            .column(author::Column::Id)
            .filter(author::Column::Id.is_in(ids.to_vec()))
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        missing("author_ids", "author", ids, &found, errors);
    }
    if let Some(ids) = tag_ids.filter(|ids| !ids.is_empty()) {
        let found: HashSet<Uuid> = tag::Entity::find()
            .select_only()
            .column(tag::Column::Id)
            .filter(tag::Column::Id.is_in(ids.to_vec()))
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        missing("tag_ids", "tag", ids, &found, errors);
    }
    Ok(())
}

/// The media assets the article shows, featured and in the body, in one statement;
/// each unknown or malformed reference is an error on its field.
pub(super) async fn media_of(
    db: &impl ConnectionTrait,
    draft: &Draft,
    errors: &mut Vec<FieldError>,
) -> Result<(Vec<media::Model>, Vec<Uuid>), ApiError> {
    let (in_body, malformed) = figures::references(&draft.body_markdown);
    if !malformed.is_empty() {
        errors.push(FieldError::new(
            "body_markdown",
            format!(
                "names media by malformed ids (`media:` takes an asset's id): {}",
                malformed.join(", ")
            ),
        ));
    }
    if in_body.len() > figures::MAX_PER_BODY {
        errors.push(FieldError::new(
            "body_markdown",
            format!("shows more than {} media assets", figures::MAX_PER_BODY),
        ));
        return Ok((vec![], vec![]));
    }
    let mut ids = in_body.clone();
    ids.extend(draft.featured_media_id.filter(|id| !in_body.contains(id)));
    let assets = crate::content::media::many(db, &ids).await?;
    let found: HashSet<Uuid> = assets.iter().map(|m| m.id).collect();
    if let Some(id) = draft.featured_media_id
        && !found.contains(&id)
    {
        errors.push(FieldError::new(
            "featured_media_id",
            "no media asset has this id",
        ));
    }
    missing("body_markdown", "media asset", &in_body, &found, errors);
    Ok((assets, in_body))
}

fn missing(
    field: &str,
    what: &str,
    ids: &[Uuid],
    found: &HashSet<Uuid>,
    errors: &mut Vec<FieldError>,
) {
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !found.contains(id))
        .map(Uuid::to_string)
        .collect();
    if !unknown.is_empty() {
        errors.push(FieldError::new(
            field,
            format!("no {what} has the id {}", unknown.join(", ")),
        ));
    }
}
