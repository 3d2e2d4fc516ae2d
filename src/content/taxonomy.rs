//! Publishers, authors and tags: the resources articles point at.
//!
//! All three are listed by name with keyset pagination and fetched by id or slug
//! through the same generic helpers; their writes differ only in their fields.

use entity::{author, publisher, tag};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, ModelTrait,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use super::events::{self, By, EventType};
use super::page::{Cursor, MAX_LIMIT};
use super::slug::{self, Key, Made};
use super::text::Text;
use super::{
    begin_write, check_not_blank, check_slug, check_url, insert_error, now, sort_key, write_error,
};
use crate::error::{ApiError, FieldError};

/// What a list request asked for.
#[derive(Debug, Clone, Default)]
pub struct PageParams {
    pub limit: u64,
    pub cursor: Option<String>,
    pub count: bool,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: Option<u64>,
}

/// A row listed by name.
pub trait Named {
    fn id(&self) -> Uuid;
    fn name_key(&self) -> &str;
}

macro_rules! named {
    ($($m:path),+) => {$(
        impl Named for $m {
            fn id(&self) -> Uuid { self.id }
            fn name_key(&self) -> &str { &self.name_key }
        }
    )+};
}
named!(publisher::Model, author::Model, tag::Model);

/// What the events of a publisher, author or tag are called and carry.
trait Evented {
    const CREATED: EventType;
    const UPDATED: EventType;
    const DELETED: EventType;
    fn event_id(&self) -> Uuid;
    /// The row as the API shows it.
    fn data(&self) -> Result<serde_json::Value, ApiError>;
}

macro_rules! evented {
    ($($m:path => $present:ident, $created:ident, $updated:ident, $deleted:ident);+ $(;)?) => {$(
        impl Evented for $m {
            const CREATED: EventType = EventType::$created;
            const UPDATED: EventType = EventType::$updated;
            const DELETED: EventType = EventType::$deleted;
            fn event_id(&self) -> Uuid { self.id }
            fn data(&self) -> Result<serde_json::Value, ApiError> {
                Ok(events::presenter()?.$present(self))
            }
        }
    )+};
}
evented!(
    publisher::Model => publisher, PublisherCreated, PublisherUpdated, PublisherDeleted;
    author::Model => author, AuthorCreated, AuthorUpdated, AuthorDeleted;
    tag::Model => tag, TagCreated, TagUpdated, TagDeleted;
);

/// Records the `*.updated` event of `saved` (changed from `before`, as the API
/// showed it) and commits; a row deleted meanwhile (`None`) records nothing.
async fn finish_update<M: Evented>(
    txn: DatabaseTransaction,
    by: By,
    before: &serde_json::Value,
    saved: Option<M>,
) -> Result<Option<M>, ApiError> {
    let Some(saved) = saved else {
        return Ok(None);
    };
    let change = by.update(M::UPDATED, saved.event_id(), before, saved.data()?);
    events::record(&txn, change).await?;
    txn.commit().await?;
    Ok(Some(saved))
}

/// Records the `*.deleted` event of `gone` (carrying `data`, the row as the API
/// showed it) and commits; a delete that found nothing (`removed` false: a
/// concurrent request deleted it first) records nothing.
async fn finish_delete<M: Evented>(
    txn: DatabaseTransaction,
    by: By,
    gone: &M,
    data: serde_json::Value,
    removed: bool,
) -> Result<bool, ApiError> {
    if removed {
        events::record(&txn, by.change(M::DELETED, gone.event_id(), data)).await?;
        txn.commit().await?;
    }
    Ok(removed)
}

/// Lists `base` by name (descending when `desc`), one keyset page at a time.
pub async fn list_by_name<E>(
    db: &DatabaseConnection,
    base: Select<E>,
    (id_col, key_col): (E::Column, E::Column),
    desc: bool,
    params: &PageParams,
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: Named + Sync,
{
    let sort = if desc { "-name" } else { "name" };
    let total = if params.count {
        Some(base.clone().count(db).await?)
    } else {
        None
    };
    // Names sort by their indexed sort key; the id breaks ties so keyset pages are exact.
    let key = || Expr::col(key_col);
    let mut query = base;
    if let Some(text) = &params.cursor {
        let cursor = Cursor::decode(text, sort)?;
        let value = cursor.value.unwrap_or_default();
        let (after_name, after_id) = if desc {
            (key().lt(value.clone()), id_col.lt(cursor.id))
        } else {
            (key().gt(value.clone()), id_col.gt(cursor.id))
        };
        query = query.filter(
            Condition::any()
                .add(after_name)
                .add(Condition::all().add(key().eq(value)).add(after_id)),
        );
    }
    let order = if desc { Order::Desc } else { Order::Asc };
    let limit = params.limit.clamp(1, MAX_LIMIT);
    let mut items = query
        .order_by(key(), order.clone())
        .order_by(id_col, order)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                sort: sort.to_string(),
                value: Some(last.name_key().to_string()),
                id: last.id(),
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

/// Finds one row of `E` by id or slug.
pub async fn find<E: EntityTrait>(
    db: &impl ConnectionTrait,
    (id_col, slug_col): (E::Column, E::Column),
    key: &str,
) -> Result<Option<E::Model>, ApiError> {
    Ok(E::find()
        .filter(Key::parse(key).condition(id_col, slug_col))
        .one(db)
        .await?)
}

fn not_null<T>(field: &str, value: &MaybeUndefined<T>, errors: &mut Vec<FieldError>) {
    if value.is_null() {
        errors.push(FieldError::new(field, "must not be null"));
    }
}

/// An update of a row deleted meanwhile (by a concurrent request) is `None`, which
/// the caller answers with its 404; never a 500.
fn unless_gone<M>(result: Result<M, DbErr>) -> Result<Option<M>, DbErr> {
    match result {
        Ok(model) => Ok(Some(model)),
        Err(DbErr::RecordNotUpdated) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Whether a delete removed the row (`false`: a concurrent request did first).
fn removed(result: sea_orm::DeleteResult) -> bool {
    result.rows_affected > 0
}

fn finish(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// A list filter (`publisher`, `author`, `tag`) names a row by id or slug. When a
/// filtered page comes back empty, this tells a typo from "nothing matches": a key
/// naming no row is the field error of the 422 naming the parameter (`field`, also
/// the noun of what it names) and the key, not a silent empty list. It runs only
/// for empty pages, so a page with rows costs no extra statement.
pub async fn unknown_key<E>(
    db: &DatabaseConnection,
    (id_col, slug_col): (E::Column, E::Column),
    field: &str,
    key: Option<&str>,
) -> Result<Option<FieldError>, ApiError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let Some(key) = key else {
        return Ok(None);
    };
    let found = E::find()
        .filter(Key::parse(key).condition(id_col, slug_col))
        .count(db)
        .await?;
    Ok((found == 0)
        .then(|| FieldError::new(field, format!("no {field} has the id or slug `{key}`"))))
}

// ---------------------------------------------------------------- publishers

/// The columns a publisher is listed by: its id and its name's sort key.
pub const PUBLISHER_SORT: (publisher::Column, publisher::Column) =
    (publisher::Column::Id, publisher::Column::NameKey);

pub const PUBLISHER_KEYS: (publisher::Column, publisher::Column) =
    (publisher::Column::Id, publisher::Column::Slug);

/// A new publisher.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct PublisherCreate {
    /// The organisation's name, e.g. "The Harbor City Ledger".
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: Text,
    /// Lower-case ASCII words joined by hyphens; made from the name when absent.
    #[oai(validator(max_length = 80))]
    pub slug: Option<Text>,
    /// A short description of the publisher, shown beside its stories.
    #[oai(validator(max_length = 5000))]
    pub description: Option<Text>,
    /// The publisher's website (absolute http or https URL).
    #[oai(validator(max_length = 2048))]
    pub website_url: Option<Text>,
    /// The logo: a media asset's id.
    pub image_media_id: Option<Uuid>,
}

/// Changes to a publisher; absent fields stay as they are, `null` clears an optional one.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct PublisherUpdate {
    /// A new name.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: MaybeUndefined<Text>,
    /// A new slug (lower-case ASCII words joined by hyphens); the old one stops working.
    #[oai(validator(max_length = 80))]
    pub slug: MaybeUndefined<Text>,
    /// A new description; `null` clears it.
    #[oai(validator(max_length = 5000))]
    pub description: MaybeUndefined<Text>,
    /// A new website (absolute http or https URL); `null` clears it.
    #[oai(validator(max_length = 2048))]
    pub website_url: MaybeUndefined<Text>,
    /// A new logo (a media asset's id); `null` clears it.
    pub image_media_id: MaybeUndefined<Uuid>,
}

/// Inserts `row` (a publisher, author or tag) under the slug sent, or under one made
/// from `name` with the first free suffix, tried again when a concurrent create
/// takes it first. `fk` maps a foreign-key violation as [`insert_error`] does.
async fn insert_named<E, A>(
    db: &DatabaseConnection,
    (id_col, slug_col): (E::Column, E::Column),
    row: A,
    sent: Option<&str>,
    name: &str,
    fk: Option<(u16, &'static str, &'static str)>,
    by: By,
) -> Result<E::Model, ApiError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<A> + Evented + Send,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Clone + Send + 'static,
{
    slug::insert_with::<E, _>(
        db,
        (id_col, slug_col),
        sent,
        name,
        Made::FirstFree,
        |slug| {
            let mut row = row.clone();
            // The slug column is text on every table here, so this does not fail.
            let set = row.try_set(slug_col, slug.into());
            Box::pin(async move {
                set.map_err(|e| insert_error(e, fk))?;
                // Each attempt is its own transaction: on PostgreSQL the unique
                // violation of a slug taken meanwhile aborts the transaction.
                let txn = begin_write(db).await?;
                let model = row.insert(&txn).await.map_err(|e| insert_error(e, fk))?;
                let data = model.data()?;
                events::record(&txn, by.change(E::Model::CREATED, model.event_id(), data)).await?;
                txn.commit().await?;
                Ok(model)
            })
        },
    )
    .await
}

pub async fn create_publisher(
    db: &DatabaseConnection,
    input: PublisherCreate,
    by: By,
) -> Result<publisher::Model, ApiError> {
    create_publisher_with_id(db, input, None, by).await
}

/// As [`create_publisher`], under `preset_id` when one is given: only the demo seed
/// gives one (see [`crate::demo`]); the API never takes an id from a client.
pub async fn create_publisher_with_id(
    db: &DatabaseConnection,
    input: PublisherCreate,
    preset_id: Option<Uuid>,
    by: By,
) -> Result<publisher::Model, ApiError> {
    let mut errors = Vec::new();
    check_not_blank("name", &input.name, &mut errors);
    check_slug(input.slug.as_deref(), &mut errors);
    check_url("website_url", input.website_url.as_deref(), &mut errors);
    check_media_exists(db, input.image_media_id, &mut errors).await?;
    finish(errors)?;
    let at = now();
    let row = publisher::ActiveModel {
        image_media_id: Set(input.image_media_id),
        id: Set(preset_id.unwrap_or_else(Uuid::now_v7)),
        slug: Set(String::new()),
        name_key: Set(sort_key(&input.name, 200)),
        name: Set(input.name.trim().to_string()),
        description: Set(input.description.map(Text::into_inner)),
        website_url: Set(input.website_url.map(Text::into_inner)),
        created_at: Set(at),
        updated_at: Set(at),
    };
    insert_named(
        db,
        PUBLISHER_KEYS,
        row,
        input.slug.as_deref(),
        &input.name,
        Some(NO_MEDIA),
        by,
    )
    .await
}

pub async fn update_publisher(
    db: &DatabaseConnection,
    current: publisher::Model,
    input: PublisherUpdate,
    by: By,
) -> Result<Option<publisher::Model>, ApiError> {
    let mut errors = Vec::new();
    not_null("name", &input.name, &mut errors);
    not_null("slug", &input.slug, &mut errors);
    if let Some(name) = input.name.value() {
        check_not_blank("name", name, &mut errors);
    }
    check_slug(input.slug.value().map(Text::as_str), &mut errors);
    check_url(
        "website_url",
        input.website_url.value().map(Text::as_str),
        &mut errors,
    );
    check_media_exists(db, input.image_media_id.value().copied(), &mut errors).await?;
    finish(errors)?;
    let before = current.data()?;
    let id = current.id;
    let mut model = current.into_active_model();
    if let Some(slug) = input.slug.value() {
        slug::check_free::<publisher::Entity>(db, PUBLISHER_KEYS, slug, id).await?;
        model.slug = Set(slug.to_string());
    }
    if let Some(name) = input.name.value() {
        model.name_key = Set(sort_key(name, 200));
        model.name = Set(name.trim().to_string());
    }
    if !input.description.is_undefined() {
        model.description = Set(input.description.take().map(Text::into_inner));
    }
    if !input.website_url.is_undefined() {
        model.website_url = Set(input.website_url.take().map(Text::into_inner));
    }
    if !input.image_media_id.is_undefined() {
        model.image_media_id = Set(input.image_media_id.take());
    }
    model.updated_at = Set(now());
    let txn = begin_write(db).await?;
    let saved = unless_gone(model.update(&txn).await)
        .map_err(|e| write_error(e, "slug", Some(NO_MEDIA)))?;
    finish_update(txn, by, &before, saved).await
}

pub async fn delete_publisher(
    db: &DatabaseConnection,
    current: publisher::Model,
    by: By,
) -> Result<bool, ApiError> {
    let data = current.data()?;
    let txn = begin_write(db).await?;
    let done = current.clone().delete(&txn).await.map_err(|e| {
        write_error(
            e,
            "id",
            Some((
                409,
                "id",
                "the publisher still has articles; move or delete them first",
            )),
        )
    })?;
    finish_delete(txn, by, &current, data, removed(done)).await
}

// ---------------------------------------------------------------- authors

/// The columns a author is listed by: its id and its name's sort key.
pub const AUTHOR_SORT: (author::Column, author::Column) =
    (author::Column::Id, author::Column::NameKey);

pub const AUTHOR_KEYS: (author::Column, author::Column) =
    (author::Column::Id, author::Column::Slug);

/// A new author (a byline; it may exist without a user account).
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct AuthorCreate {
    /// The name as printed in bylines.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: Text,
    /// Lower-case ASCII words joined by hyphens; made from the name when absent.
    #[oai(validator(max_length = 80))]
    pub slug: Option<Text>,
    /// A short biography.
    #[oai(validator(max_length = 5000))]
    pub bio: Option<Text>,
    /// A portrait (absolute http or https URL).
    #[oai(validator(max_length = 2048))]
    pub avatar_url: Option<Text>,
    /// The publisher the author works for, if any.
    pub publisher_id: Option<Uuid>,
    /// The portrait: a media asset's id.
    pub image_media_id: Option<Uuid>,
}

/// Changes to an author; absent fields stay as they are, `null` clears an optional one.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct AuthorUpdate {
    /// A new name.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: MaybeUndefined<Text>,
    /// A new slug (lower-case ASCII words joined by hyphens); the old one stops working.
    #[oai(validator(max_length = 80))]
    pub slug: MaybeUndefined<Text>,
    /// A new biography; `null` clears it.
    #[oai(validator(max_length = 5000))]
    pub bio: MaybeUndefined<Text>,
    /// A new portrait URL; `null` clears it.
    #[oai(validator(max_length = 2048))]
    pub avatar_url: MaybeUndefined<Text>,
    /// A new publisher; `null` clears the affiliation.
    pub publisher_id: MaybeUndefined<Uuid>,
    /// A new portrait (a media asset's id); `null` clears it.
    pub image_media_id: MaybeUndefined<Uuid>,
}

/// The 422 of a media asset deleted between the check and the write.
const NO_MEDIA: (u16, &str, &str) = (422, "image_media_id", "no media asset has this id");

/// The 422 of an author's write whose reference went meanwhile: the asset's when
/// one was set, else the publisher's.
fn author_fk(sets_image: bool) -> (u16, &'static str, &'static str) {
    if sets_image {
        NO_MEDIA
    } else {
        (422, "publisher_id", "no publisher has this id")
    }
}

/// Checks that a portrait or logo names an asset.
async fn check_media_exists(
    db: &impl ConnectionTrait,
    id: Option<Uuid>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if let Some(id) = id
        && entity::media::Entity::find_by_id(id).count(db).await? == 0
    {
        errors.push(FieldError::new(
            "image_media_id",
            "no media asset has this id",
        ));
    }
    Ok(())
}

async fn check_publisher_exists(
    db: &impl ConnectionTrait,
    field: &str,
    id: Option<Uuid>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if let Some(id) = id
        && publisher::Entity::find_by_id(id).count(db).await? == 0
    {
        errors.push(FieldError::new(field, "no publisher has this id"));
    }
    Ok(())
}

pub async fn create_author(
    db: &DatabaseConnection,
    input: AuthorCreate,
    by: By,
) -> Result<author::Model, ApiError> {
    create_author_with_id(db, input, None, by).await
}

/// As [`create_author`], under `preset_id` when one is given: only the demo seed
/// gives one (see [`crate::demo`]); the API never takes an id from a client.
pub async fn create_author_with_id(
    db: &DatabaseConnection,
    input: AuthorCreate,
    preset_id: Option<Uuid>,
    by: By,
) -> Result<author::Model, ApiError> {
    let mut errors = Vec::new();
    check_not_blank("name", &input.name, &mut errors);
    check_slug(input.slug.as_deref(), &mut errors);
    check_url("avatar_url", input.avatar_url.as_deref(), &mut errors);
    check_publisher_exists(db, "publisher_id", input.publisher_id, &mut errors).await?;
    check_media_exists(db, input.image_media_id, &mut errors).await?;
    finish(errors)?;
    let at = now();
    let row = author::ActiveModel {
        image_media_id: Set(input.image_media_id),
        id: Set(preset_id.unwrap_or_else(Uuid::now_v7)),
        slug: Set(String::new()),
        name_key: Set(sort_key(&input.name, 200)),
        name: Set(input.name.trim().to_string()),
        bio: Set(input.bio.map(Text::into_inner)),
        avatar_url: Set(input.avatar_url.map(Text::into_inner)),
        publisher_id: Set(input.publisher_id),
        created_at: Set(at),
        updated_at: Set(at),
    };
    let fk = Some(author_fk(input.image_media_id.is_some()));
    insert_named(
        db,
        AUTHOR_KEYS,
        row,
        input.slug.as_deref(),
        &input.name,
        fk,
        by,
    )
    .await
}

pub async fn update_author(
    db: &DatabaseConnection,
    current: author::Model,
    input: AuthorUpdate,
    by: By,
) -> Result<Option<author::Model>, ApiError> {
    let mut errors = Vec::new();
    not_null("name", &input.name, &mut errors);
    not_null("slug", &input.slug, &mut errors);
    if let Some(name) = input.name.value() {
        check_not_blank("name", name, &mut errors);
    }
    check_slug(input.slug.value().map(Text::as_str), &mut errors);
    check_url(
        "avatar_url",
        input.avatar_url.value().map(Text::as_str),
        &mut errors,
    );
    check_publisher_exists(
        db,
        "publisher_id",
        input.publisher_id.value().copied(),
        &mut errors,
    )
    .await?;
    check_media_exists(db, input.image_media_id.value().copied(), &mut errors).await?;
    finish(errors)?;
    let fk = author_fk(input.image_media_id.value().is_some());
    let before = current.data()?;
    let id = current.id;
    let mut model = current.into_active_model();
    if let Some(slug) = input.slug.value() {
        slug::check_free::<author::Entity>(db, AUTHOR_KEYS, slug, id).await?;
        model.slug = Set(slug.to_string());
    }
    if let Some(name) = input.name.value() {
        model.name_key = Set(sort_key(name, 200));
        model.name = Set(name.trim().to_string());
    }
    if !input.bio.is_undefined() {
        model.bio = Set(input.bio.take().map(Text::into_inner));
    }
    if !input.avatar_url.is_undefined() {
        model.avatar_url = Set(input.avatar_url.take().map(Text::into_inner));
    }
    if !input.publisher_id.is_undefined() {
        model.publisher_id = Set(input.publisher_id.take());
    }
    if !input.image_media_id.is_undefined() {
        model.image_media_id = Set(input.image_media_id.take());
    }
    model.updated_at = Set(now());
    let txn = begin_write(db).await?;
    let saved =
        unless_gone(model.update(&txn).await).map_err(|e| write_error(e, "slug", Some(fk)))?;
    finish_update(txn, by, &before, saved).await
}

pub async fn delete_author(
    db: &DatabaseConnection,
    current: author::Model,
    by: By,
) -> Result<bool, ApiError> {
    let data = current.data()?;
    let txn = begin_write(db).await?;
    let done = current.clone().delete(&txn).await.map_err(|e| {
        write_error(
            e,
            "id",
            Some((
                409,
                "id",
                "the author is still in the byline of articles; remove them first",
            )),
        )
    })?;
    finish_delete(txn, by, &current, data, removed(done)).await
}

/// Authors, optionally only those of one publisher (by id or slug).
/// One page of authors by name, optionally only `publisher_key`'s (id or slug); a
/// key naming no publisher is a 422 (see [`unknown_key`]).
pub async fn list_authors(
    db: &DatabaseConnection,
    publisher_key: Option<&str>,
    desc: bool,
    params: &PageParams,
) -> Result<Page<author::Model>, ApiError> {
    let page = list_by_name(db, authors_query(publisher_key), AUTHOR_SORT, desc, params).await?;
    if page.items.is_empty()
        && let Some(error) =
            unknown_key::<publisher::Entity>(db, PUBLISHER_KEYS, "publisher", publisher_key).await?
    {
        return Err(ApiError::invalid(vec![error]));
    }
    Ok(page)
}

fn authors_query(publisher_key: Option<&str>) -> Select<author::Entity> {
    let mut query = author::Entity::find();
    if let Some(key) = publisher_key {
        query = match Key::parse(key) {
            Key::Id(id) => query.filter(author::Column::PublisherId.eq(id)),
            Key::Slug(slug) => query.filter(
                author::Column::PublisherId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(publisher::Column::Id)
                        .from(publisher::Entity)
                        .and_where(Expr::col(publisher::Column::Slug).eq(slug))
                        .take(),
                ),
            ),
        };
    }
    query
}

// ---------------------------------------------------------------- tags

/// The columns a tag is listed by: its id and its name's sort key.
pub const TAG_SORT: (tag::Column, tag::Column) = (tag::Column::Id, tag::Column::NameKey);

pub const TAG_KEYS: (tag::Column, tag::Column) = (tag::Column::Id, tag::Column::Slug);

/// A new tag (a topic).
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct TagCreate {
    /// The topic's name, e.g. "Local politics".
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: Text,
    /// Lower-case ASCII words joined by hyphens; made from the name when absent.
    #[oai(validator(max_length = 80))]
    pub slug: Option<Text>,
    /// What the topic covers.
    #[oai(validator(max_length = 5000))]
    pub description: Option<Text>,
}

/// Changes to a tag; absent fields stay as they are, `null` clears an optional one.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct TagUpdate {
    /// A new name.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: MaybeUndefined<Text>,
    /// A new slug (lower-case ASCII words joined by hyphens); the old one stops working.
    #[oai(validator(max_length = 80))]
    pub slug: MaybeUndefined<Text>,
    /// A new description; `null` clears it.
    #[oai(validator(max_length = 5000))]
    pub description: MaybeUndefined<Text>,
}

pub async fn create_tag(
    db: &DatabaseConnection,
    input: TagCreate,
    by: By,
) -> Result<tag::Model, ApiError> {
    create_tag_with_id(db, input, None, by).await
}

/// As [`create_tag`], under `preset_id` when one is given: only the demo seed
/// gives one (see [`crate::demo`]); the API never takes an id from a client.
pub async fn create_tag_with_id(
    db: &DatabaseConnection,
    input: TagCreate,
    preset_id: Option<Uuid>,
    by: By,
) -> Result<tag::Model, ApiError> {
    let mut errors = Vec::new();
    check_not_blank("name", &input.name, &mut errors);
    check_slug(input.slug.as_deref(), &mut errors);
    finish(errors)?;
    let at = now();
    let row = tag::ActiveModel {
        id: Set(preset_id.unwrap_or_else(Uuid::now_v7)),
        slug: Set(String::new()),
        name_key: Set(sort_key(&input.name, 200)),
        name: Set(input.name.trim().to_string()),
        description: Set(input.description.map(Text::into_inner)),
        created_at: Set(at),
        updated_at: Set(at),
    };
    insert_named(
        db,
        TAG_KEYS,
        row,
        input.slug.as_deref(),
        &input.name,
        None,
        by,
    )
    .await
}

pub async fn update_tag(
    db: &DatabaseConnection,
    current: tag::Model,
    input: TagUpdate,
    by: By,
) -> Result<Option<tag::Model>, ApiError> {
    let mut errors = Vec::new();
    not_null("name", &input.name, &mut errors);
    not_null("slug", &input.slug, &mut errors);
    if let Some(name) = input.name.value() {
        check_not_blank("name", name, &mut errors);
    }
    check_slug(input.slug.value().map(Text::as_str), &mut errors);
    finish(errors)?;
    let before = current.data()?;
    let id = current.id;
    let mut model = current.into_active_model();
    if let Some(slug) = input.slug.value() {
        slug::check_free::<tag::Entity>(db, TAG_KEYS, slug, id).await?;
        model.slug = Set(slug.to_string());
    }
    if let Some(name) = input.name.value() {
        model.name_key = Set(sort_key(name, 200));
        model.name = Set(name.trim().to_string());
    }
    if !input.description.is_undefined() {
        model.description = Set(input.description.take().map(Text::into_inner));
    }
    model.updated_at = Set(now());
    let txn = begin_write(db).await?;
    let saved = unless_gone(model.update(&txn).await).map_err(|e| write_error(e, "slug", None))?;
    finish_update(txn, by, &before, saved).await
}

pub async fn delete_tag(
    db: &DatabaseConnection,
    current: tag::Model,
    by: By,
) -> Result<bool, ApiError> {
    // Tags cascade: deleting a topic removes it from the articles that carried it.
    let data = current.data()?;
    let txn = begin_write(db).await?;
    let done = current.clone().delete(&txn).await?;
    finish_delete(txn, by, &current, data, removed(done)).await
}
