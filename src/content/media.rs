//! The media library's rows: uploading an asset (stored once per content hash), its
//! news metadata and focal point, the library listed and searched, and deleting an
//! asset, refused while an article, author or publisher uses it. Each write records
//! its `media.*` event in its own transaction; the files are the `media` module's.

use chrono::{DateTime, Utc};
use entity::{article, article_media, author, media, publisher};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use super::events::{self, By, EventType};
use super::figures;
use super::page::{Cursor, MAX_LIMIT};
use super::search;
use super::taxonomy::{Page, PageParams};
use super::text::Text;
use super::{begin_write, now};
use crate::digest::sha256_hex;
use crate::error::{ApiError, FieldError};
use crate::media::Library;
use crate::media::image::Format;
use crate::media::renditions::Source;

/// The longest values of the metadata fields, in characters.
pub const MAX_ALT: usize = 1000;
pub const MAX_CAPTION: usize = 5000;
pub const MAX_NAME: usize = 200;
pub const MAX_COPYRIGHT: usize = 500;

/// Where the interesting part of an image is: 0..=1 from the left (`x`) and from the
/// top (`y`); crops keep it in view. The centre is `{x: 0.5, y: 0.5}`.
#[derive(Object, Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[oai(deny_unknown_fields)]
pub struct FocalPoint {
    /// From the left edge (0) to the right edge (1).
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub x: f64,
    /// From the top edge (0) to the bottom edge (1).
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub y: f64,
}

/// The news metadata an upload may carry; whatever it leaves out is taken from the
/// file's IPTC, XMP and EXIF where present.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub alt_text: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub source: Option<String>,
    pub copyright: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    pub focal_point: Option<FocalPoint>,
}

/// Changes to an asset's metadata; absent fields stay as they are, `null` clears one.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields, skip_serializing_if_is_none)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example)]
pub struct MediaUpdate {
    /// Text for readers who cannot see the image; `null` clears it.
    #[oai(validator(max_length = 1000))]
    pub alt_text: MaybeUndefined<Text>,
    /// What the photo shows; `null` clears it.
    #[oai(validator(max_length = 5000))]
    pub caption: MaybeUndefined<Text>,
    /// The photographer; `null` clears it.
    #[oai(validator(max_length = 200))]
    pub credit: MaybeUndefined<Text>,
    /// The agency or provider; `null` clears it.
    #[oai(validator(max_length = 200))]
    pub source: MaybeUndefined<Text>,
    /// The copyright line; `null` clears it.
    #[oai(validator(max_length = 500))]
    pub copyright: MaybeUndefined<Text>,
    /// When the photo was taken (RFC 3339); `null` clears it.
    pub taken_at: MaybeUndefined<DateTime<Utc>>,
    /// A new focal point (crops follow it and get new URLs).
    pub focal_point: Option<FocalPoint>,
}

/// The library's filters.
#[derive(Debug, Clone, Default)]
pub struct MediaFilter {
    /// `image/jpeg` and the like.
    pub media_type: Option<String>,
    pub uploaded_by: Option<Uuid>,
    /// Words that must start words of the caption, credit, alt text or source.
    pub q: Option<String>,
    /// `true`: only assets nothing uses; `false`: only used ones.
    pub unused: Option<bool>,
}

/// The sort of the library (newest first), as cursors name it.
const SORT: &str = "-id";

/// What renditions of `m` are made from.
pub fn source(m: &media::Model) -> Source {
    Source {
        format: Format::from_mime(&m.media_type).unwrap_or(Format::Jpeg),
        width: u32::try_from(m.width).unwrap_or(1),
        height: u32::try_from(m.height).unwrap_or(1),
        focal: (m.focal_x, m.focal_y),
    }
}

fn data(m: &media::Model) -> Result<serde_json::Value, ApiError> {
    Ok(events::presenter()?.media(m))
}

/// A value from the file, cleaned to fit its column.
fn fit(value: Option<String>, max: usize) -> Option<String> {
    let value: String = value?.chars().filter(|c| *c != '\0').take(max).collect();
    let value = value.trim().to_string();
    (!value.is_empty()).then_some(value)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<media::Model>, ApiError> {
    Ok(media::Entity::find_by_id(id).one(db).await?)
}

async fn by_hash(db: &impl ConnectionTrait, hash: &str) -> Result<Option<media::Model>, ApiError> {
    Ok(media::Entity::find()
        .filter(media::Column::ContentHash.eq(hash))
        .one(db)
        .await?)
}

/// Uploads an image: the asset, and whether it is new (`false`: the same bytes were
/// uploaded before, and that asset is returned unchanged).
pub async fn upload(
    db: &DatabaseConnection,
    library: &Library,
    bytes: bytes::Bytes,
    details: Details,
    by: By,
) -> Result<(media::Model, bool), ApiError> {
    upload_with_id(db, library, bytes, details, None, by).await
}

/// As [`upload`], under `preset_id` when one is given: only the demo seed gives one
/// (see [`crate::demo`]); the API never takes an id from a client.
pub async fn upload_with_id(
    db: &DatabaseConnection,
    library: &Library,
    bytes: bytes::Bytes,
    details: Details,
    preset_id: Option<Uuid>,
    by: By,
) -> Result<(media::Model, bool), ApiError> {
    let hashed = bytes.clone();
    let hash = tokio::task::spawn_blocking(move || sha256_hex(&hashed))
        .await
        .map_err(|_| ApiError::Internal)?;
    if let Some(existing) = by_hash(db, &hash).await? {
        return Ok((existing, false));
    }
    let ingested = library.ingest(bytes).await?;
    let id = preset_id.unwrap_or_else(Uuid::now_v7);
    library
        .store_original(id, ingested.format, ingested.served.clone())
        .await?;
    let found = ingested.embedded;
    let focal = details.focal_point.unwrap_or(FocalPoint { x: 0.5, y: 0.5 });
    let at = now();
    let row = media::ActiveModel {
        id: Set(id),
        content_hash: Set(ingested.hash),
        media_type: Set(ingested.format.mime().to_string()),
        width: Set(i32::try_from(ingested.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(ingested.height).unwrap_or(i32::MAX)),
        byte_size: Set(i64::try_from(ingested.byte_size).unwrap_or(i64::MAX)),
        alt_text: Set(fit(details.alt_text, MAX_ALT)),
        caption: Set(fit(details.caption.or(found.caption), MAX_CAPTION)),
        credit: Set(fit(details.credit.or(found.credit), MAX_NAME)),
        source: Set(fit(details.source.or(found.source), MAX_NAME)),
        copyright: Set(fit(details.copyright.or(found.copyright), MAX_COPYRIGHT)),
        taken_at: Set(details.taken_at.or(found.taken_at)),
        focal_x: Set(focal.x),
        focal_y: Set(focal.y),
        uploaded_by: Set(by.actor_id),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    };
    let saved = async {
        let txn = begin_write(db).await?;
        let saved = row.insert(&txn).await?;
        events::record(&txn, by.change(EventType::MediaCreated, id, data(&saved)?)).await?;
        txn.commit().await?;
        Ok::<_, ApiError>(saved)
    }
    .await;
    match saved {
        Ok(saved) => Ok((saved, true)),
        Err(err) => {
            // The same bytes, uploaded at the same moment by another request: theirs.
            // (Found under this id, the commit went through after all: keep the files.)
            let existing = by_hash(db, &hash).await?;
            if existing.as_ref().is_none_or(|m| m.id != id) {
                library.remove(id).await;
            }
            match existing {
                Some(existing) => {
                    let mine = existing.id == id;
                    Ok((existing, mine))
                }
                None => Err(err),
            }
        }
    }
}

/// Checks the metadata fields of an upload's form (the JSON body's are checked by
/// its schema).
pub fn check_details(d: &Details) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (field, value, max) in [
        ("alt_text", &d.alt_text, MAX_ALT),
        ("caption", &d.caption, MAX_CAPTION),
        ("credit", &d.credit, MAX_NAME),
        ("source", &d.source, MAX_NAME),
        ("copyright", &d.copyright, MAX_COPYRIGHT),
    ] {
        if let Some(v) = value {
            if v.chars().count() > max {
                errors.push(FieldError::new(
                    field,
                    format!("must be at most {max} characters"),
                ));
            }
            if let Some(why) = super::text::refuses(v) {
                errors.push(FieldError::new(field, why));
            }
        }
    }
    if let Some(fp) = d.focal_point {
        for (field, v) in [("focal_point.x", fp.x), ("focal_point.y", fp.y)] {
            if !(0.0..=1.0).contains(&v) {
                errors.push(FieldError::new(field, "must be between 0 and 1"));
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::malformed(errors))
}

/// Changes an asset's metadata. With `expected` (the `If-Match` version), a version
/// the asset has moved on from is a 412; `None` when the asset is gone.
pub async fn update(
    db: &DatabaseConnection,
    current: media::Model,
    mut input: MediaUpdate,
    expected: Option<i32>,
    by: By,
) -> Result<Option<media::Model>, ApiError> {
    if let Some(version) = expected
        && version != current.version
    {
        return Err(stale(current.version));
    }
    let before = data(&current)?;
    let before_figure = figures::of(&current);
    let id = current.id;
    let version = current.version;
    let mut model = current.into_active_model();
    // A blank value clears the field, as `null` does.
    let text = |v: MaybeUndefined<Text>| {
        v.take()
            .map(|t| t.into_inner().trim().to_string())
            .filter(|t| !t.is_empty())
    };
    if !input.alt_text.is_undefined() {
        model.alt_text = Set(text(std::mem::take(&mut input.alt_text)));
    }
    if !input.caption.is_undefined() {
        model.caption = Set(text(std::mem::take(&mut input.caption)));
    }
    if !input.credit.is_undefined() {
        model.credit = Set(text(std::mem::take(&mut input.credit)));
    }
    if !input.source.is_undefined() {
        model.source = Set(text(std::mem::take(&mut input.source)));
    }
    if !input.copyright.is_undefined() {
        model.copyright = Set(text(std::mem::take(&mut input.copyright)));
    }
    if !input.taken_at.is_undefined() {
        model.taken_at = Set(input.taken_at.take());
    }
    if let Some(fp) = input.focal_point {
        model.focal_x = Set(fp.x);
        model.focal_y = Set(fp.y);
    }
    model.version = Set(version + 1);
    model.updated_at = Set(now());
    let txn = begin_write(db).await?;
    // Only over the version read: a write that landed meanwhile makes this one a 412
    // (with `If-Match`) or a plain retry by the client (without, the version it read
    // is still what it changed).
    let result = media::Entity::update_many()
        .set(model)
        .filter(media::Column::Id.eq(id))
        .filter(media::Column::Version.eq(version))
        .exec_with_returning(&txn)
        .await?;
    let Some(saved) = result.into_iter().next() else {
        drop(txn);
        return match find(db, id).await? {
            None => Ok(None),
            Some(now) => Err(stale(now.version)),
        };
    };
    if shown_differently(&before_figure, &figures::of(&saved)) {
        refresh_bodies(&txn, id).await?;
    }
    events::record(
        &txn,
        by.update(EventType::MediaUpdated, id, &before, data(&saved)?),
    )
    .await?;
    txn.commit().await?;
    Ok(Some(saved))
}

/// Whether a body's figure of the asset changes: its alt text, caption or credit.
fn shown_differently(before: &figures::Figure, after: &figures::Figure) -> bool {
    before.alt != after.alt || before.caption != after.caption || before.credit != after.credit
}

/// Renders again the bodies of the articles that show asset `id`, so that their
/// figures carry its new alt text, caption and credit: a few statements per
/// [`REFRESH_BATCH`] articles, then one update per article. A body that no longer
/// renders within the limits keeps its HTML (logged): the asset's change stands.
async fn refresh_bodies(txn: &impl ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    let showing: Vec<Uuid> = article_media::Entity::find()
        .select_only()
        .column(article_media::Column::ArticleId)
        .filter(article_media::Column::MediaId.eq(id))
        .into_tuple()
        .all(txn)
        .await?;
    for batch in showing.chunks(REFRESH_BATCH) {
        let bodies: Vec<(Uuid, String)> = article::Entity::find()
            .select_only()
            .columns([article::Column::Id, article::Column::BodyMarkdown])
            .filter(article::Column::Id.is_in(batch.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        let shown: Vec<Uuid> = article_media::Entity::find()
            .select_only()
            .column(article_media::Column::MediaId)
            .filter(article_media::Column::ArticleId.is_in(batch.iter().copied()))
            .distinct()
            .into_tuple()
            .all(txn)
            .await?;
        let all = figures::all(&many(txn, &shown).await?);
        for (article_id, markdown) in bodies {
            let html = match super::markdown::render_checked(&markdown, all.clone()).await {
                Ok(html) => html,
                Err(err) => {
                    tracing::warn!(article = %article_id, asset = %id, problem = %err, "a body showing a changed photo keeps its old figure");
                    continue;
                }
            };
            article::Entity::update_many()
                .col_expr(article::Column::BodyHtml, Expr::value(html))
                .filter(article::Column::Id.eq(article_id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

/// How many articles' bodies are refreshed per round of statements (well inside
/// both databases' limits on bound parameters).
const REFRESH_BATCH: usize = 500;

fn stale(version: i32) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "The asset has changed since it was read (it is at version {version} now); reload it and \
         apply your change again."
    ))
}

/// What uses asset `id`, one line each (at most 20): articles (featured or in the
/// body), authors and publishers.
pub async fn users_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<String>, ApiError> {
    let in_body = Query::select()
        .column(article_media::Column::ArticleId)
        .from(article_media::Entity)
        .and_where(article_media::Column::MediaId.eq(id))
        .to_owned();
    let articles = article::Entity::find()
        .select_only()
        .columns([article::Column::Id, article::Column::Title])
        .filter(
            Condition::any()
                .add(article::Column::FeaturedMediaId.eq(id))
                .add(article::Column::Id.in_subquery(in_body)),
        )
        .limit(20)
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?;
    let authors = author::Entity::find()
        .select_only()
        .columns([author::Column::Id, author::Column::Name])
        .filter(author::Column::ImageMediaId.eq(id))
        .limit(20)
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?;
    let publishers = publisher::Entity::find()
        .select_only()
        .columns([publisher::Column::Id, publisher::Column::Name])
        .filter(publisher::Column::ImageMediaId.eq(id))
        .limit(20)
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?;
    let mut users: Vec<String> = articles
        .into_iter()
        .map(|(id, title)| format!("article {id} ({title})"))
        .chain(
            authors
                .into_iter()
                .map(|(id, name)| format!("author {id} ({name})")),
        )
        .chain(
            publishers
                .into_iter()
                .map(|(id, name)| format!("publisher {id} ({name})")),
        )
        .collect();
    users.truncate(20);
    Ok(users)
}

/// Whether readers see asset `id` somewhere: in a story that is not a draft (its
/// featured photo or a figure of its body, trash aside), or as an author's portrait
/// or a publisher's logo (three statements at most).
pub async fn shown(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, ApiError> {
    let in_body = Query::select()
        .column(article_media::Column::ArticleId)
        .from(article_media::Entity)
        .and_where(article_media::Column::MediaId.eq(id))
        .to_owned();
    let stories = article::Entity::find()
        .filter(article::Column::Status.ne("draft"))
        .filter(article::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(article::Column::FeaturedMediaId.eq(id))
                .add(article::Column::Id.in_subquery(in_body)),
        )
        .count(db)
        .await?;
    if stories > 0 {
        return Ok(true);
    }
    let authors = author::Entity::find()
        .filter(author::Column::ImageMediaId.eq(id))
        .count(db)
        .await?;
    if authors > 0 {
        return Ok(true);
    }
    let publishers = publisher::Entity::find()
        .filter(publisher::Column::ImageMediaId.eq(id))
        .count(db)
        .await?;
    Ok(publishers > 0)
}

fn in_use(users: &[String]) -> ApiError {
    ApiError::conflict(
        "id",
        format!(
            "the asset is in use; remove it from these first: {}",
            users.join("; ")
        ),
    )
}

/// Deletes an asset nothing uses (409 naming what does), then its files. `false`
/// when it was already gone.
pub async fn delete(
    db: &DatabaseConnection,
    library: &Library,
    current: media::Model,
    by: By,
) -> Result<bool, ApiError> {
    let before = data(&current)?;
    let id = current.id;
    let txn = begin_write(db).await?;
    let users = users_of(&txn, id).await?;
    if !users.is_empty() {
        return Err(in_use(&users));
    }
    let done = match media::Entity::delete_by_id(id).exec(&txn).await {
        Ok(done) => done,
        // A use committed between the look and the delete: the foreign key refuses.
        Err(err)
            if matches!(
                err.sql_err(),
                Some(SqlErr::ForeignKeyConstraintViolation(_))
            ) || super::is_restrict_violation(&err) =>
        {
            drop(txn);
            return Err(in_use(&users_of(db, id).await?));
        }
        Err(err) => return Err(err.into()),
    };
    if done.rows_affected == 0 {
        return Ok(false);
    }
    events::record(&txn, by.change(EventType::MediaDeleted, id, before)).await?;
    txn.commit().await?;
    library.remove(id).await;
    Ok(true)
}

/// The "nothing uses it" condition of the `unused` filter.
fn unused_condition() -> Condition {
    let featured = Query::select()
        .expr(Expr::val(1))
        .from(article::Entity)
        .and_where(
            Expr::col((article::Entity, article::Column::FeaturedMediaId))
                .equals((media::Entity, media::Column::Id)),
        )
        .to_owned();
    let in_body = Query::select()
        .expr(Expr::val(1))
        .from(article_media::Entity)
        .and_where(
            Expr::col((article_media::Entity, article_media::Column::MediaId))
                .equals((media::Entity, media::Column::Id)),
        )
        .to_owned();
    let authors = Query::select()
        .expr(Expr::val(1))
        .from(author::Entity)
        .and_where(
            Expr::col((author::Entity, author::Column::ImageMediaId))
                .equals((media::Entity, media::Column::Id)),
        )
        .to_owned();
    let publishers = Query::select()
        .expr(Expr::val(1))
        .from(publisher::Entity)
        .and_where(
            Expr::col((publisher::Entity, publisher::Column::ImageMediaId))
                .equals((media::Entity, media::Column::Id)),
        )
        .to_owned();
    Condition::all()
        .add(Expr::exists(featured).not())
        .add(Expr::exists(in_body).not())
        .add(Expr::exists(authors).not())
        .add(Expr::exists(publishers).not())
}

/// Where assets' caption, credit, alt text and source are indexed (migration 10).
const MEDIA_TEXT: search::Index = search::Index {
    table: "media",
    pg_column: "search_vector",
    fts_table: "media_fts",
};

/// One page of the library, newest first.
pub async fn list(
    db: &DatabaseConnection,
    filter: &MediaFilter,
    params: &PageParams,
) -> Result<Page<media::Model>, ApiError> {
    let mut query = media::Entity::find();
    if let Some(t) = &filter.media_type {
        query = query.filter(media::Column::MediaType.eq(t.as_str()));
    }
    if let Some(user) = filter.uploaded_by {
        query = query.filter(media::Column::UploadedBy.eq(user));
    }
    if let Some(q) = &filter.q {
        let terms = search::terms(q);
        if !terms.is_empty() {
            query = query.filter(search::matching(
                db.get_database_backend(),
                MEDIA_TEXT,
                &terms,
            ));
        }
    }
    match filter.unused {
        Some(true) => query = query.filter(unused_condition()),
        Some(false) => query = query.filter(unused_condition().not()),
        None => {}
    }
    let total = if params.count {
        Some(query.clone().count(db).await?)
    } else {
        None
    };
    if let Some(text) = &params.cursor {
        let cursor = Cursor::decode(text, SORT)?;
        query = query.filter(media::Column::Id.lt(cursor.id));
    }
    let limit = params.limit.clamp(1, MAX_LIMIT);
    let mut items = query
        .order_by_desc(media::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                sort: SORT.to_string(),
                value: None,
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page {
        items,
        next_cursor,
        total,
    })
}

/// Of `ids`, those no asset has (for a 422 naming them).
pub async fn missing(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Uuid>, ApiError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let found: Vec<Uuid> = media::Entity::find()
        .select_only()
        .column(media::Column::Id)
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect())
}

/// The assets with these ids, in one query.
pub async fn many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<media::Model>, ApiError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(media::Entity::find()
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
