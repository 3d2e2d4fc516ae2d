//! Reading articles: who may see which (status, schedule, trash), the filters and
//! search of `GET /articles`, keyset listing in every sort, and the lookup of one
//! article by id, slug or old slug, fetching the bodies only when they are needed.

use chrono::{DateTime, Utc};
use entity::{article, article_author, article_slug, article_tag, author, publisher, tag};
use migration::m20261128_000002_article_search::PG_SEARCH_COLUMN;
use poem_openapi::Enum;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, NullOrdering, Query};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, IdenStatic, Iterable, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::relations::{Include, Need, load_relations};
use super::{Record, Related, Status, not_found};
use crate::auth::policy::Visibility;
use crate::content::page::{Cursor, MAX_LIMIT};
use crate::content::search;
use crate::content::slug::Key;
use crate::content::taxonomy::{self, AUTHOR_KEYS, PUBLISHER_KEYS, Page, PageParams, TAG_KEYS};
use crate::error::ApiError;

/// The condition for "public at `at`": published or scheduled, with `published_at` passed.
fn public_at(at: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(article::Column::Status.is_in(["published", "scheduled"]))
        .add(article::Column::PublishedAt.lte(at))
}

/// The condition for an effective status.
fn status_is(status: Status, at: DateTime<Utc>) -> Condition {
    match status {
        Status::Published => public_at(at),
        Status::Scheduled => Condition::all()
            .add(article::Column::Status.eq("scheduled"))
            .add(
                Condition::any()
                    .add(article::Column::PublishedAt.gt(at))
                    .add(article::Column::PublishedAt.is_null()),
            ),
        other => Condition::all().add(article::Column::Status.eq(other.as_str())),
    }
}

/// How a list is ordered.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[oai(rename = "published_at")]
    PublishedAt,
    #[default]
    #[oai(rename = "-published_at")]
    PublishedAtDesc,
    #[oai(rename = "title")]
    Title,
    #[oai(rename = "-title")]
    TitleDesc,
    #[oai(rename = "updated_at")]
    UpdatedAt,
    #[oai(rename = "-updated_at")]
    UpdatedAtDesc,
}

impl Sort {
    fn name(self) -> &'static str {
        match self {
            Self::PublishedAt => "published_at",
            Self::PublishedAtDesc => "-published_at",
            Self::Title => "title",
            Self::TitleDesc => "-title",
            Self::UpdatedAt => "updated_at",
            Self::UpdatedAtDesc => "-updated_at",
        }
    }
    fn column(self) -> article::Column {
        match self {
            Self::PublishedAt | Self::PublishedAtDesc => article::Column::PublishedAt,
            Self::Title | Self::TitleDesc => article::Column::TitleKey,
            Self::UpdatedAt | Self::UpdatedAtDesc => article::Column::UpdatedAt,
        }
    }
    fn desc(self) -> bool {
        matches!(
            self,
            Self::PublishedAtDesc | Self::TitleDesc | Self::UpdatedAtDesc
        )
    }
    /// The last row's sort value, as carried in a cursor.
    fn value_of(self, m: &article::Model) -> Option<String> {
        match self {
            Self::PublishedAt | Self::PublishedAtDesc => m.published_at.map(|t| t.to_rfc3339()),
            Self::Title | Self::TitleDesc => Some(m.title_key.clone()),
            Self::UpdatedAt | Self::UpdatedAtDesc => Some(m.updated_at.to_rfc3339()),
        }
    }
}

/// The filters of `GET /articles`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub publisher: Option<String>,
    pub author: Option<String>,
    pub tag: Option<String>,
    /// Search terms (see [`search::terms`]); empty for no search.
    pub q: Vec<String>,
    pub published_after: Option<DateTime<Utc>>,
    pub published_before: Option<DateTime<Utc>>,
    pub sort: Sort,
}

/// Rows whose `column` is in the subquery selecting `key`'s id from `table`.
fn id_or_slug_in<C: ColumnTrait, T: sea_orm::sea_query::Iden + 'static>(
    key: &str,
    table: T,
    id_col: impl sea_orm::sea_query::IntoIden,
    slug_col: impl sea_orm::sea_query::IntoIden,
    column: C,
) -> Condition {
    match Key::parse(key) {
        Key::Id(id) => Condition::all().add(column.eq(id)),
        Key::Slug(slug) => Condition::all().add(
            column.in_subquery(
                Query::select()
                    .column(id_col)
                    .from(table)
                    .and_where(Expr::col(slug_col).eq(slug))
                    .take(),
            ),
        ),
    }
}

/// Articles with a row in the link table `table` (whose `article_col` points at
/// the article) meeting `cond`. A correlated EXISTS lets both databases walk the
/// sort index and stop after a page of matches, however common the author or tag.
fn linked<T, C>(table: T, article_col: C, cond: Condition) -> Condition
where
    T: sea_orm::sea_query::Iden + Copy + 'static,
    C: sea_orm::sea_query::Iden + 'static,
{
    Condition::all().add(Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(table)
            .and_where(
                Expr::col((table, article_col)).equals((article::Entity, article::Column::Id)),
            )
            .cond_where(cond)
            .take(),
    ))
}

/// The articles a reader with `visibility` may see at `at` (never those in the trash).
pub(super) fn visible(
    query: Select<article::Entity>,
    visibility: Visibility,
    at: DateTime<Utc>,
) -> Select<article::Entity> {
    // Articles in the trash are invisible everywhere.
    let query = query.filter(article::Column::DeletedAt.is_null());
    match visibility {
        Visibility::All => query,
        Visibility::Public => query.filter(public_at(at)),
        Visibility::PublicAndOwn(author_id) => {
            query.filter(Condition::any().add(public_at(at)).add(linked(
                article_author::Entity,
                article_author::Column::ArticleId,
                Condition::all().add(article_author::Column::AuthorId.eq(author_id)),
            )))
        }
    }
}

/// `query` narrowed to the articles anonymous readers see at `at` (the rule of
/// [`visible`], for the sitemaps and feeds).
pub fn public(query: Select<article::Entity>, at: DateTime<Utc>) -> Select<article::Entity> {
    visible(query, Visibility::Public, at)
}

fn filtered(
    backend: DbBackend,
    filter: &Filter,
    visibility: Visibility,
    at: DateTime<Utc>,
) -> Select<article::Entity> {
    let mut query = visible(article::Entity::find(), visibility, at);
    if let Some(status) = filter.status {
        query = query.filter(status_is(status, at));
    }
    if let Some(key) = &filter.publisher {
        query = query.filter(id_or_slug_in(
            key,
            publisher::Entity,
            publisher::Column::Id,
            publisher::Column::Slug,
            article::Column::PublisherId,
        ));
    }
    if let Some(key) = &filter.author {
        let authors = id_or_slug_in(
            key,
            author::Entity,
            author::Column::Id,
            author::Column::Slug,
            article_author::Column::AuthorId,
        );
        query = query.filter(linked(
            article_author::Entity,
            article_author::Column::ArticleId,
            authors,
        ));
    }
    if let Some(key) = &filter.tag {
        let tags = id_or_slug_in(
            key,
            tag::Entity,
            tag::Column::Id,
            tag::Column::Slug,
            article_tag::Column::TagId,
        );
        query = query.filter(linked(
            article_tag::Entity,
            article_tag::Column::ArticleId,
            tags,
        ));
    }
    if !filter.q.is_empty() {
        query = query.filter(search::matching(backend, ARTICLE_TEXT, &filter.q));
    }
    if let Some(after) = filter.published_after {
        query = query.filter(article::Column::PublishedAt.gte(after));
    }
    if let Some(before) = filter.published_before {
        query = query.filter(article::Column::PublishedAt.lt(before));
    }
    query
}

/// Where articles' text (title, subtitle, excerpt, body) is indexed.
const ARTICLE_TEXT: search::Index = search::Index {
    table: "articles",
    pg_column: PG_SEARCH_COLUMN,
    fts_table: "articles_fts",
};

/// `query` selecting the bodies only when `need` says so; otherwise every other
/// column, and the bodies as empty strings (the model stays whole).
fn columns(query: Select<article::Entity>, need: Need) -> Select<article::Entity> {
    if need.bodies {
        return query;
    }
    let is_body = |c: &article::Column| {
        matches!(c, article::Column::BodyMarkdown | article::Column::BodyHtml)
    };
    let query = query
        .select_only()
        .columns(article::Column::iter().filter(|c| !is_body(c)));
    article::Column::iter()
        .filter(is_body)
        .fold(query, |query, body| {
            query.expr_as(Expr::cust("''"), body.as_str())
        })
}

/// Rows after the cursor's position, in the sort's order (nulls last either way).
fn after_cursor(sort: Sort, cursor: &Cursor) -> Result<Condition, ApiError> {
    let col = sort.column();
    let id = article::Column::Id;
    let bad = || {
        ApiError::bad_request(
            "cursor",
            "is not a cursor this API issued for this sort; start again without it",
        )
    };
    let on_published_at = matches!(sort, Sort::PublishedAt | Sort::PublishedAtDesc);
    let beyond = |v: sea_orm::Value| if sort.desc() { col.lt(v) } else { col.gt(v) };
    let beyond_id = if sort.desc() {
        id.lt(cursor.id)
    } else {
        id.gt(cursor.id)
    };
    let value: Option<sea_orm::Value> = match (&cursor.value, sort) {
        (None, _) => None,
        (Some(v), Sort::Title | Sort::TitleDesc) => Some(v.clone().into()),
        (Some(v), _) => Some(
            DateTime::parse_from_rfc3339(v)
                .map_err(|_| bad())?
                .with_timezone(&Utc)
                .into(),
        ),
    };
    Ok(match value {
        Some(v) => {
            let mut cond = Condition::any()
                .add(beyond(v.clone()))
                .add(Condition::all().add(col.eq(v)).add(beyond_id));
            if on_published_at {
                cond = cond.add(col.is_null());
            }
            cond
        }
        None if on_published_at => Condition::all().add(col.is_null()).add(beyond_id),
        None => return Err(bad()),
    })
}

/// One page of articles visible to the reader, with what `need` says and the
/// related rows `include` asks for. At most 7 statements, whatever the page size.
pub async fn list(
    db: &DatabaseConnection,
    filter: &Filter,
    params: &PageParams,
    include: Include,
    need: Need,
    visibility: Visibility,
    at: DateTime<Utc>,
) -> Result<(Page<Record>, Related), ApiError> {
    let base = filtered(db.get_database_backend(), filter, visibility, at);
    let total = if params.count {
        Some(base.clone().count(db).await?)
    } else {
        None
    };
    let sort = filter.sort;
    let mut query = base;
    if let Some(text) = &params.cursor {
        let cursor = Cursor::decode(text, sort.name())?;
        query = query.filter(after_cursor(sort, &cursor)?);
    }
    let order = if sort.desc() { Order::Desc } else { Order::Asc };
    let limit = params.limit.clamp(1, MAX_LIMIT);
    // Undated drafts go last, which needs an explicit NULLS LAST only where they can
    // appear; public lists order plainly, so a backward index scan serves them.
    let query = if visibility != Visibility::Public
        && matches!(sort, Sort::PublishedAt | Sort::PublishedAtDesc)
    {
        query.order_by_with_nulls(sort.column(), order.clone(), NullOrdering::Last)
    } else {
        query.order_by(sort.column(), order.clone())
    };
    let mut models = columns(query, need)
        .order_by(article::Column::Id, order)
        .limit(limit + 1)
        .all(db)
        .await?;
    if models.is_empty() {
        unknown_filters(db, filter).await?;
    }
    let next_cursor = if models.len() as u64 > limit {
        models.truncate(limit as usize);
        models.last().map(|last| {
            Cursor {
                sort: sort.name().to_string(),
                value: sort.value_of(last),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    let (items, related) = load_relations(db, models, include, need).await?;
    Ok((
        Page {
            items,
            next_cursor,
            total,
        },
        related,
    ))
}

/// The 422 for publisher, author or tag filters naming nothing (see
/// [`taxonomy::unknown_key`]); nothing when each names a row.
async fn unknown_filters(db: &DatabaseConnection, filter: &Filter) -> Result<(), ApiError> {
    let unknown = [
        taxonomy::unknown_key::<publisher::Entity>(
            db,
            PUBLISHER_KEYS,
            "publisher",
            filter.publisher.as_deref(),
        )
        .await?,
        taxonomy::unknown_key::<author::Entity>(
            db,
            AUTHOR_KEYS,
            "author",
            filter.author.as_deref(),
        )
        .await?,
        taxonomy::unknown_key::<tag::Entity>(db, TAG_KEYS, "tag", filter.tag.as_deref()).await?,
    ];
    let errors: Vec<_> = unknown.into_iter().flatten().collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// What a lookup by id or slug found.
pub enum Lookup {
    Found(Box<(Record, Related)>),
    /// The key is a slug the article used to have; this is its current slug.
    Moved(String),
}

/// One article by id or slug, if the reader may see it (with what `need` says and
/// the related rows `include` asks for); an old slug of an article the reader may
/// see answers with its current slug.
pub async fn get(
    db: &DatabaseConnection,
    key: &str,
    include: Include,
    need: Need,
    visibility: Visibility,
    at: DateTime<Utc>,
) -> Result<Lookup, ApiError> {
    let parsed = Key::parse(key);
    let query = article::Entity::find()
        .filter(parsed.condition(article::Column::Id, article::Column::Slug));
    if let Some(model) = columns(visible(query, visibility, at), need)
        .one(db)
        .await?
    {
        let (mut items, related) = load_relations(db, vec![model], include, need).await?;
        let record = items.pop().ok_or_else(not_found)?;
        return Ok(Lookup::Found(Box::new((record, related))));
    }
    let Key::Slug(slug) = parsed else {
        return Err(not_found());
    };
    let renamed = article::Entity::find().filter(
        article::Column::Id.in_subquery(
            Query::select()
                .column(article_slug::Column::ArticleId)
                .from(article_slug::Entity)
                .and_where(article_slug::Column::Slug.eq(slug))
                .take(),
        ),
    );
    match visible(renamed, visibility, at).one(db).await? {
        Some(model) => Ok(Lookup::Moved(model.slug)),
        None => Err(not_found()),
    }
}

/// The next moment after `at` when what anonymous readers see changes with no
/// write: the earliest `published_at` still to come of an article that will then be
/// public (published or scheduled, not in the trash). `None` when nothing is due.
/// One statement, on the `(status, published_at, id)` index.
pub async fn next_public_change(
    db: &impl sea_orm::ConnectionTrait,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let next: Option<Option<DateTime<Utc>>> = article::Entity::find()
        .select_only()
        .column_as(article::Column::PublishedAt.min(), "next")
        .filter(article::Column::Status.is_in(["published", "scheduled"]))
        .filter(article::Column::PublishedAt.gt(at))
        .filter(article::Column::DeletedAt.is_null())
        .into_tuple()
        .one(db)
        .await?;
    Ok(next.flatten())
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, EntityTrait, QueryTrait};

    use super::*;

    #[test]
    fn without_bodies_the_sql_reads_no_body_column() {
        let lean = Need {
            bodies: false,
            ..Need::ALL
        };
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let sql = |need| {
                columns(article::Entity::find(), need)
                    .build(backend)
                    .to_string()
            };
            let (lean, full) = (sql(lean), sql(Need::ALL));
            for body in ["body_markdown", "body_html"] {
                let column = format!("\"articles\".\"{body}\"");
                assert!(!lean.contains(&column), "{backend:?}: {lean}");
                assert!(lean.contains(&format!("'' AS \"{body}\"")), "{lean}");
                assert!(full.contains(&column), "{backend:?}: {full}");
            }
            for kept in ["id", "title", "excerpt", "version", "comment_count"] {
                assert!(lean.contains(&format!("\"articles\".\"{kept}\"")), "{lean}");
            }
        }
    }
}
