//! The writes: create, update (also a restore) and trash, each in one transaction
//! with the byline and tags and the revision it records; an update lands only on
//! the version it was based on.

use chrono::{DateTime, Utc};
use entity::{article, article_author, article_media, article_slug, article_tag};
use poem_openapi::types::MaybeUndefined;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, TryIntoModel,
};
use uuid::Uuid;

use super::changes::{announced_at, record as record_event, record_updated};
use super::checks::{ArticleCreate, ArticleUpdate, Before, Draft, Seo, check, media_of};
use super::query::visible;
use super::relations::load_ids;
use super::revisions::{Snapshot, record_revision};
use super::{Actor, Record, Status, effective_status, not_found, stale};
use crate::auth::policy::Visibility;
use crate::content::events::{By, EventType};
use crate::content::slug::{self, Key};
use crate::content::text::Text;
use crate::content::{check_slug, insert_error, sort_key, write_error};
use crate::content::{figures, markdown};
use crate::error::{ApiError, FieldError};

async fn replace_byline_and_tags(
    txn: &impl ConnectionTrait,
    article_id: Uuid,
    author_ids: Option<&[Uuid]>,
    tag_ids: Option<&[Uuid]>,
) -> Result<(), sea_orm::DbErr> {
    if let Some(ids) = author_ids {
        article_author::Entity::delete_many()
            .filter(article_author::Column::ArticleId.eq(article_id))
            .exec(txn)
            .await?;
        if !ids.is_empty() {
            article_author::Entity::insert_many(ids.iter().enumerate().map(|(i, id)| {
                article_author::ActiveModel {
                    article_id: Set(article_id),
                    author_id: Set(*id),
                    position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                }
            }))
            .exec(txn)
            .await?;
        }
    }
    if let Some(ids) = tag_ids {
        article_tag::Entity::delete_many()
            .filter(article_tag::Column::ArticleId.eq(article_id))
            .exec(txn)
            .await?;
        if !ids.is_empty() {
            article_tag::Entity::insert_many(ids.iter().enumerate().map(|(i, id)| {
                article_tag::ActiveModel {
                    article_id: Set(article_id),
                    tag_id: Set(*id),
                    position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                }
            }))
            .exec(txn)
            .await?;
        }
    }
    Ok(())
}

/// Records which assets the body shows (so that none of them can be deleted).
async fn replace_media(
    txn: &impl ConnectionTrait,
    article_id: Uuid,
    ids: &[Uuid],
) -> Result<(), sea_orm::DbErr> {
    article_media::Entity::delete_many()
        .filter(article_media::Column::ArticleId.eq(article_id))
        .exec(txn)
        .await?;
    if !ids.is_empty() {
        article_media::Entity::insert_many(ids.iter().map(|id| article_media::ActiveModel {
            article_id: Set(article_id),
            media_id: Set(*id),
        }))
        .exec(txn)
        .await?;
    }
    Ok(())
}

const FK_MEDIA: Option<(u16, &str, &str)> = Some((
    422,
    "body_markdown",
    "a media asset the body or the featured photo names was deleted meanwhile",
));

/// The article's row (created or updated) names a publisher or a featured asset
/// deleted meanwhile: the row itself holds no byline, so `author_ids` is not at fault.
const FK_FEATURED: Option<(u16, &str, &str)> = Some((
    422,
    "featured_media_id",
    "a referenced publisher or media asset no longer exists",
));

const FK_REFS: Option<(u16, &str, &str)> = Some((
    422,
    "author_ids",
    "a referenced publisher, author, tag or media asset no longer exists",
));

/// A slug now taken by a live article no longer redirects anywhere else.
async fn claim_slug(txn: &impl ConnectionTrait, slug: &str) -> Result<(), sea_orm::DbErr> {
    article_slug::Entity::delete_many()
        .filter(article_slug::Column::Slug.eq(slug))
        .exec(txn)
        .await?;
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    input: ArticleCreate,
    actor: &Actor,
) -> Result<Record, ApiError> {
    create_with_id(db, input, actor, None).await
}

/// As [`create`], under `preset_id` when one is given: only the demo seed gives
/// one (see [`crate::demo`]); the API never takes an id from a client.
pub async fn create_with_id(
    db: &DatabaseConnection,
    input: ArticleCreate,
    actor: &Actor,
    preset_id: Option<Uuid>,
) -> Result<Record, ApiError> {
    let at = actor.at;
    let mut errors = Vec::new();
    check_slug(input.slug.as_deref(), &mut errors);
    let mut draft = Draft {
        title: input.title.trim().to_string(),
        subtitle: input.subtitle.map(Text::into_inner),
        excerpt: input.excerpt.map(Text::into_inner),
        body_markdown: input.body_markdown.into_inner(),
        status: input.status.unwrap_or(Status::Draft),
        published_at: input.published_at,
        dateline: input.dateline.map(Text::into_inner),
        canonical_url: input.canonical_url.map(Text::into_inner),
        publisher_id: input.publisher_id,
        syndicated_from_id: input.syndicated_from_id,
        featured_media_id: input.featured_media_id,
        featured_caption: input.featured_caption.map(Text::into_inner),
        featured_alt: input.featured_alt.map(Text::into_inner),
        seo: Seo {
            seo_title: input.seo_title.map(Text::into_inner),
            seo_description: input.seo_description.map(Text::into_inner),
            og_title: input.og_title.map(Text::into_inner),
            og_description: input.og_description.map(Text::into_inner),
            language: input.language.map(Text::into_inner),
            noindex: input.noindex.unwrap_or(false),
        },
    };
    let before = Before {
        status: None,
        published_at: None,
    };
    check(
        db,
        &mut draft,
        before,
        Some(&input.author_ids),
        Some(&input.tag_ids),
        at,
        &mut errors,
    )
    .await?;
    let (assets, in_body) = media_of(db, &draft, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let body_html = markdown::render_checked(&draft.body_markdown, figures::all(&assets)).await?;
    let id = preset_id.unwrap_or_else(Uuid::now_v7);
    let row = article::ActiveModel {
        id: Set(id),
        slug: Set(String::new()),
        body_html: Set(body_html),
        excerpt: Set(match draft.excerpt.clone() {
            Some(excerpt) => excerpt,
            None => markdown::excerpt_off_thread(&draft.body_markdown).await?,
        }),
        reading_time_minutes: Set(markdown::reading_time_minutes(&draft.body_markdown)),
        title_key: Set(sort_key(&draft.title, 300)),
        title: Set(draft.title.clone()),
        subtitle: Set(draft.subtitle),
        body_markdown: Set(draft.body_markdown),
        status: Set(draft.status.as_str().to_string()),
        published_at: Set(draft.published_at),
        dateline: Set(draft.dateline),
        canonical_url: Set(draft.canonical_url),
        publisher_id: Set(draft.publisher_id),
        syndicated_from_id: Set(draft.syndicated_from_id),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        deleted_at: Set(None),
        comment_count: Set(0),
        // An article created public is announced by its `article.created`.
        announced_at: Set(announced_at(draft.status, draft.published_at, at)),
        featured_media_id: Set(draft.featured_media_id),
        featured_caption: Set(draft.featured_caption),
        featured_alt: Set(draft.featured_alt),
        seo_title: Set(draft.seo.seo_title),
        seo_description: Set(draft.seo.seo_description),
        og_title: Set(draft.seo.og_title),
        og_description: Set(draft.seo.og_description),
        language: Set(draft.seo.language),
        noindex: Set(draft.seo.noindex),
    };
    // Each attempt is its own transaction: on PostgreSQL the unique violation of a
    // slug taken meanwhile aborts the transaction it happens in.
    slug::insert_with::<article::Entity, _>(
        db,
        (article::Column::Id, article::Column::Slug),
        input.slug.as_deref(),
        &draft.title,
        actor.slugs,
        |slug| {
            let mut row = row.clone();
            row.slug = Set(slug);
            let (author_ids, tag_ids, in_body) = (&input.author_ids, &input.tag_ids, &in_body);
            Box::pin(async move {
                let txn = crate::content::begin_write(db).await?;
                let model = row
                    .insert(&txn)
                    .await
                    .map_err(|e| insert_error(e, FK_FEATURED))?;
                claim_slug(&txn, &model.slug).await?;
                replace_byline_and_tags(&txn, id, Some(author_ids), Some(tag_ids))
                    .await
                    .map_err(|e| write_error(e, "author_ids", FK_REFS))?;
                replace_media(&txn, id, in_body)
                    .await
                    .map_err(|e| write_error(e, "body_markdown", FK_MEDIA))?;
                let record = Record {
                    model,
                    author_ids: author_ids.clone(),
                    tag_ids: tag_ids.clone(),
                };
                record_revision(&txn, &record, None, "create", actor).await?;
                let by = By::new(actor.user_id, actor.at);
                record_event(&txn, &record, EventType::ArticleCreated, by).await?;
                txn.commit().await?;
                Ok(record)
            })
        },
    )
    .await
}

/// Finds a live article for a write, by id or slug, with its byline and tags; one
/// the writer may not even read is not found.
pub async fn find_for_write(
    db: &DatabaseConnection,
    key: &str,
    visibility: Visibility,
    at: DateTime<Utc>,
) -> Result<Record, ApiError> {
    let query = article::Entity::find()
        .filter(Key::parse(key).condition(article::Column::Id, article::Column::Slug));
    let model = visible(query, visibility, at)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let mut records = load_ids(db, vec![model]).await?;
    records.pop().ok_or_else(not_found)
}

/// Applies `input` to `current` as one new version, with its revision (`action`:
/// `update` or `restore`), in one transaction. The write only lands if the article
/// is still at `current`'s version and not in the trash; otherwise it is a 412.
pub async fn update(
    db: &DatabaseConnection,
    current: Record,
    input: ArticleUpdate,
    actor: &Actor,
    action: &str,
) -> Result<Record, ApiError> {
    let at = actor.at;
    let mut errors = Vec::new();
    for (field, is_null) in [
        ("title", input.title.is_null()),
        ("slug", input.slug.is_null()),
        ("body_markdown", input.body_markdown.is_null()),
        ("status", input.status.is_null()),
        ("publisher_id", input.publisher_id.is_null()),
        ("author_ids", input.author_ids.is_null()),
        ("tag_ids", input.tag_ids.is_null()),
    ] {
        if is_null {
            errors.push(FieldError::new(field, "must not be null"));
        }
    }
    check_slug(input.slug.value().map(Text::as_str), &mut errors);
    let before_snapshot = Snapshot::of(&current);
    let before_record = current.clone();
    let Record {
        model: current,
        author_ids: old_authors,
        tag_ids: old_tags,
    } = current;
    let pick = |new: &MaybeUndefined<Text>, old: &Option<String>| match new {
        MaybeUndefined::Undefined => old.clone(),
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(v) => Some(v.to_string()),
    };
    let stored = Status::from_db(&current.status);
    let status = input.status.value().copied().unwrap_or(stored);
    let mut draft = Draft {
        title: input
            .title
            .value()
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| current.title.clone()),
        subtitle: pick(&input.subtitle, &current.subtitle),
        excerpt: match &input.excerpt {
            MaybeUndefined::Undefined => Some(current.excerpt.clone()),
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(v) => Some(v.to_string()),
        },
        body_markdown: input
            .body_markdown
            .value()
            .map(|t| t.0.clone())
            .unwrap_or_else(|| current.body_markdown.clone()),
        status,
        published_at: match &input.published_at {
            MaybeUndefined::Undefined => current.published_at,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(v) => Some(*v),
        },
        dateline: pick(&input.dateline, &current.dateline),
        canonical_url: pick(&input.canonical_url, &current.canonical_url),
        publisher_id: input
            .publisher_id
            .value()
            .copied()
            .unwrap_or(current.publisher_id),
        syndicated_from_id: match &input.syndicated_from_id {
            MaybeUndefined::Undefined => current.syndicated_from_id,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(v) => Some(*v),
        },
        featured_media_id: match &input.featured_media_id {
            MaybeUndefined::Undefined => current.featured_media_id,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(v) => Some(*v),
        },
        featured_caption: pick(&input.featured_caption, &current.featured_caption),
        featured_alt: pick(&input.featured_alt, &current.featured_alt),
        seo: Seo {
            seo_title: pick(&input.seo_title, &current.seo_title),
            seo_description: pick(&input.seo_description, &current.seo_description),
            og_title: pick(&input.og_title, &current.og_title),
            og_description: pick(&input.og_description, &current.og_description),
            language: pick(&input.language, &current.language),
            noindex: input.noindex.unwrap_or(current.noindex),
        },
    };
    // A body change without a new excerpt re-derives an excerpt that was derived before.
    if input.excerpt.is_undefined()
        && input.body_markdown.value().is_some()
        && current.excerpt == markdown::excerpt_off_thread(&current.body_markdown).await?
    {
        draft.excerpt = None;
    }
    // A change that leaves the status out is no transition (a scheduled article
    // whose time has passed stays scheduled, and public); one that names a status
    // moves from the status readers see.
    let before = Before {
        status: Some(if input.status.is_undefined() {
            stored
        } else {
            effective_status(&current, at)
        }),
        published_at: current.published_at,
    };
    let author_ids = input.author_ids.value().map(Vec::as_slice);
    let tag_ids = input.tag_ids.value().map(Vec::as_slice);
    check(db, &mut draft, before, author_ids, tag_ids, at, &mut errors).await?;
    let (assets, in_body) = media_of(db, &draft, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let body_changed = input.body_markdown.value().is_some();
    let body_html = if body_changed {
        Some(markdown::render_checked(&draft.body_markdown, figures::all(&assets)).await?)
    } else {
        None
    };
    let id = current.id;
    let version = current.version;
    let old_slug = current.slug.clone();
    let mut model = current.into_active_model();
    if let Some(slug) = input.slug.value() {
        slug::check_free::<article::Entity>(
            db,
            (article::Column::Id, article::Column::Slug),
            slug,
            id,
        )
        .await?;
        model.slug = Set(slug.to_string());
    }
    if let Some(body_html) = body_html {
        model.body_html = Set(body_html);
        model.reading_time_minutes = Set(markdown::reading_time_minutes(&draft.body_markdown));
    }
    model.excerpt = Set(match draft.excerpt.clone() {
        Some(excerpt) => excerpt,
        None => markdown::excerpt_off_thread(&draft.body_markdown).await?,
    });
    model.title_key = Set(sort_key(&draft.title, 300));
    model.title = Set(draft.title);
    model.subtitle = Set(draft.subtitle);
    model.body_markdown = Set(draft.body_markdown);
    model.status = Set(draft.status.as_str().to_string());
    model.published_at = Set(draft.published_at);
    model.dateline = Set(draft.dateline);
    model.canonical_url = Set(draft.canonical_url);
    model.publisher_id = Set(draft.publisher_id);
    model.syndicated_from_id = Set(draft.syndicated_from_id);
    model.featured_media_id = Set(draft.featured_media_id);
    model.featured_caption = Set(draft.featured_caption);
    model.featured_alt = Set(draft.featured_alt);
    model.seo_title = Set(draft.seo.seo_title);
    model.seo_description = Set(draft.seo.seo_description);
    model.og_title = Set(draft.seo.og_title);
    model.og_description = Set(draft.seo.og_description);
    model.language = Set(draft.seo.language);
    model.noindex = Set(draft.seo.noindex);
    model.version = Set(version.saturating_add(1));
    model.updated_at = Set(at);
    model.announced_at = Set(announced_at(draft.status, draft.published_at, at));

    let txn = crate::content::begin_write(db).await?;
    // Optimistic concurrency: the row changes only if nobody else changed it first.
    let written = article::Entity::update_many()
        .set(model.clone())
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Version.eq(version))
        .filter(article::Column::DeletedAt.is_null())
        .exec(&txn)
        .await
        .map_err(|e| write_error(e, "slug", FK_FEATURED))?;
    if written.rows_affected != 1 {
        txn.rollback().await?;
        return Err(stale(version));
    }
    let model = model.try_into_model().map_err(|_| ApiError::Internal)?;
    if model.slug != old_slug {
        claim_slug(&txn, &model.slug).await?;
        article_slug::ActiveModel {
            slug: Set(old_slug),
            article_id: Set(id),
            created_at: Set(at),
        }
        .insert(&txn)
        .await?;
    }
    replace_byline_and_tags(&txn, id, author_ids, tag_ids)
        .await
        .map_err(|e| write_error(e, "author_ids", FK_REFS))?;
    if body_changed {
        replace_media(&txn, id, &in_body)
            .await
            .map_err(|e| write_error(e, "body_markdown", FK_MEDIA))?;
    }
    let record = Record {
        author_ids: author_ids.map_or(old_authors, <[Uuid]>::to_vec),
        tag_ids: tag_ids.map_or(old_tags, <[Uuid]>::to_vec),
        model,
    };
    record_revision(&txn, &record, Some(&before_snapshot), action, actor).await?;
    record_updated(&txn, &before_record, &record, actor).await?;
    txn.commit().await?;
    Ok(record)
}

/// Moves an article to the trash, with its `article.trashed` event; with
/// `version`, only if it is still at it.
pub async fn trash(
    db: &DatabaseConnection,
    current: &Record,
    version: Option<i32>,
    by: By,
) -> Result<(), ApiError> {
    let txn = crate::content::begin_write(db).await?;
    let mut query = article::Entity::update_many()
        .col_expr(article::Column::DeletedAt, Expr::value(by.at))
        .filter(article::Column::Id.eq(current.model.id))
        .filter(article::Column::DeletedAt.is_null());
    if let Some(v) = version {
        query = query.filter(article::Column::Version.eq(v));
    }
    if query.exec(&txn).await?.rows_affected != 1 {
        txn.rollback().await?;
        return Err(stale(current.model.version));
    }
    record_event(&txn, current, EventType::ArticleTrashed, by).await?;
    txn.commit().await?;
    Ok(())
}
