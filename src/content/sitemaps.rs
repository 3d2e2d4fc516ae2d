//! Sitemaps: the sitemap index, the child sitemaps of public indexable articles
//! (pages of [`Site::sitemap_page`] URLs in publication order, so that old pages
//! stay as they are) and of publishers, authors and tags, and the Google News
//! sitemap of the last 48 hours, each written as an XML document whose `loc`s are
//! the public site's URLs. Which articles are public is [`articles::public`]'s rule;
//! `noindex` ones are never listed.
//!
//! Statements per document, whatever the number of rows: the index 5; an article
//! child at most 2 + [`BATCHES`] (12), each an index range scan; a
//! publishers', authors' or tags' child 1; the news sitemap 1.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use entity::{article, publisher};
use migration::m20261129_000014_sitemap_index::{SITEMAP_INDEX, SITEMAP_WHERE};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, JoinType,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationDef, Select, Statement,
    TryGetableMany,
};
use uuid::Uuid;

use super::articles;
use crate::error::ApiError;
use crate::site::Site;

/// The sitemaps' namespace.
pub const NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
/// Google News' namespace.
pub const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";
/// How far back the news sitemap reaches (Google News: two days).
pub const NEWS_WINDOW: Duration = Duration::hours(48);
/// The most articles the news sitemap lists (Google News: 1,000).
pub const NEWS_MAX: u64 = 1_000;
/// How many keyset statements read an article child's rows: each reads a tenth of
/// the page (5,000 rows at 50,000), so memory stays bounded by that and the number
/// of statements by this, whatever the page size.
const BATCHES: u64 = 10;

/// Whether a path is one of the sitemaps' (served and cached as public reads).
pub fn is_sitemap(path: &str) -> bool {
    path == "/sitemap.xml" || path == "/sitemap-news.xml" || path.starts_with("/sitemaps/")
}

/// What a child sitemap lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Articles,
    Publishers,
    Authors,
    Tags,
}

impl Kind {
    const ALL: [Self; 4] = [Self::Articles, Self::Publishers, Self::Authors, Self::Tags];

    /// The name in the child's file name, which is also its table's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Articles => "articles",
            Self::Publishers => "publishers",
            Self::Authors => "authors",
            Self::Tags => "tags",
        }
    }

    /// The kind and page (from 1) a child's file name (`articles-3.xml`) names;
    /// `None` for any other name (`articles-03.xml` too: one address per page).
    pub fn parse(file: &str) -> Option<(Self, u64)> {
        let (name, number) = file.strip_suffix(".xml")?.rsplit_once('-')?;
        let kind = Self::ALL.into_iter().find(|k| k.name() == name)?;
        if number.is_empty()
            || number.len() > 9
            || number.starts_with('0')
            || !number.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some((kind, number.parse().ok()?))
    }

    /// The path of its page `page` (from 1).
    pub fn path(self, page: u64) -> String {
        format!("/sitemaps/{}-{page}.xml", self.name())
    }
}

/// A sitemap (or sitemap index) and the moment it changes by the clock alone
/// (an article leaving the news window), if there is one.
pub struct Document {
    pub xml: String,
    pub until: Option<DateTime<Utc>>,
}

/// Text escaped for XML content, without the characters XML 1.0 cannot carry at all.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if crate::wire::xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// A W3C datetime (`2026-11-29T16:00:00Z`).
fn w3c(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `<name>text</name>`, escaped.
fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>");
    escape(out, text);
    let _ = write!(out, "</{name}>");
}

/// A `<url>` (or the index's `<sitemap>`) with its `loc` and `lastmod`.
fn entry(out: &mut String, tag: &str, loc: &str, lastmod: Option<DateTime<Utc>>) {
    let _ = write!(out, "<{tag}>");
    element(out, "loc", loc);
    if let Some(at) = lastmod {
        element(out, "lastmod", &w3c(at));
    }
    let _ = writeln!(out, "</{tag}>");
}

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn urlset() -> String {
    format!("{HEADER}<urlset xmlns=\"{NS}\">\n")
}

/// The language Google News wants: the ISO 639 code (the tag's primary subtag),
/// except Chinese, which is `zh-cn` (simplified) or `zh-tw` (traditional: `Hant`,
/// or Taiwan, Hong Kong, Macao); `None` when the tag has no such code.
pub fn news_language(tag: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut subtags = lower.split('-');
    let primary = subtags.next()?;
    if primary == "zh" {
        let traditional = subtags.any(|s| matches!(s, "hant" | "tw" | "hk" | "mo"));
        return Some(if traditional { "zh-tw" } else { "zh-cn" }.to_string());
    }
    ((2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase()))
        .then(|| primary.to_string())
}

/// The articles a sitemap lists at `at`: public and indexable (the partial
/// condition written as the index's is, so that SQLite uses it).
fn listed(at: DateTime<Utc>) -> Select<article::Entity> {
    articles::public(article::Entity::find(), at).filter(Expr::cust(SITEMAP_WHERE))
}

/// `select` (of [`listed`] articles) as SQL on the sitemaps' index. PostgreSQL picks
/// it by its statistics; SQLite, which has none, would take the `(status,
/// published_at)` index and sort every row, so there the statement names it.
fn on_index(backend: DbBackend, select: Select<article::Entity>) -> Statement {
    let mut statement = select.build(backend);
    if backend == DbBackend::Sqlite {
        statement.sql = statement.sql.replacen(
            "FROM \"articles\"",
            &format!("FROM \"articles\" INDEXED BY {SITEMAP_INDEX}"),
            1,
        );
    }
    statement
}

/// The rows of `statement`, each as the tuple `T`.
async fn rows<T: TryGetableMany>(
    db: &DatabaseConnection,
    statement: Statement,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    for row in db.query_all_raw(statement).await? {
        out.push(row.try_get_many_by_index::<T>()?);
    }
    Ok(out)
}

/// The article → publisher join.
fn carrier() -> RelationDef {
    article::Entity::belongs_to(publisher::Entity)
        .from(article::Column::PublisherId)
        .to(publisher::Column::Id)
        .into()
}

/// The article children and each one's newest `updated_at`, in order (one
/// statement: an index-only scan numbering the listed articles).
async fn article_pages(
    db: &DatabaseConnection,
    size: u64,
    at: DateTime<Utc>,
) -> Result<Vec<Option<DateTime<Utc>>>, ApiError> {
    let inner = on_index(
        db.get_database_backend(),
        listed(at)
            .select_only()
            .column(article::Column::UpdatedAt)
            .expr_as(
                Expr::cust(
                    "ROW_NUMBER() OVER (ORDER BY \"articles\".\"published_at\", \"articles\".\"id\")",
                ),
                "rn",
            ),
    );
    pages(db, inner, size).await
}

/// The pages of `size` rows of what `inner` numbers (`rn`, with its `updated_at`),
/// each with its newest `updated_at`.
async fn pages(
    db: &DatabaseConnection,
    inner: Statement,
    size: u64,
) -> Result<Vec<Option<DateTime<Utc>>>, ApiError> {
    let sql = format!(
        "SELECT (rn - 1) / {size} AS page, MAX(updated_at) AS lastmod FROM ({}) AS numbered \
         GROUP BY (rn - 1) / {size} ORDER BY (rn - 1) / {size}",
        inner.sql
    );
    let statement = Statement { sql, ..inner };
    let rows = db.query_all_raw(statement).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(row.try_get::<Option<DateTime<Utc>>>("", "lastmod")?);
    }
    Ok(out)
}

/// The pages of a publishers', authors' or tags' sitemap, in id order.
async fn taxonomy_pages(
    db: &DatabaseConnection,
    kind: Kind,
    size: u64,
) -> Result<Vec<Option<DateTime<Utc>>>, ApiError> {
    let inner = Statement::from_string(
        db.get_database_backend(),
        format!(
            "SELECT updated_at, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM {}",
            kind.name()
        ),
    );
    pages(db, inner, size).await
}

/// The news sitemap's newest `updated_at` and oldest `published_at`.
type Summary = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The news sitemap's [`Summary`] at `at`.
async fn news_summary(db: &DatabaseConnection, at: DateTime<Utc>) -> Result<Summary, ApiError> {
    let found: Vec<Summary> = rows(
        db,
        on_index(
            db.get_database_backend(),
            in_window(listed(at), at)
                .select_only()
                .column_as(article::Column::UpdatedAt.max(), "lastmod")
                .column_as(article::Column::PublishedAt.min(), "oldest"),
        ),
    )
    .await?;
    Ok(found.into_iter().next().unwrap_or((None, None)))
}

fn in_window(query: Select<article::Entity>, at: DateTime<Utc>) -> Select<article::Entity> {
    query.filter(article::Column::PublishedAt.gt(at - NEWS_WINDOW))
}

/// The sitemap index at `at`: every child that lists something, and the news
/// sitemap while it does, each with its newest change (`lastmod`). It changes by
/// the clock when the news window empties.
pub async fn index(
    db: &DatabaseConnection,
    site: &Site,
    at: DateTime<Utc>,
) -> Result<Document, ApiError> {
    let size = site.sitemap_page;
    let mut xml = format!("{HEADER}<sitemapindex xmlns=\"{NS}\">\n");
    for kind in Kind::ALL {
        let pages = match kind {
            Kind::Articles => article_pages(db, size, at).await?,
            _ => taxonomy_pages(db, kind, size).await?,
        };
        for (n, lastmod) in (1u64..).zip(pages) {
            entry(&mut xml, "sitemap", &site.api_url(&kind.path(n)), lastmod);
        }
    }
    let (lastmod, oldest) = news_summary(db, at).await?;
    if oldest.is_some() {
        entry(
            &mut xml,
            "sitemap",
            &site.api_url("/sitemap-news.xml"),
            lastmod,
        );
    }
    xml.push_str("</sitemapindex>\n");
    Ok(Document {
        xml,
        until: oldest.map(|t| t + NEWS_WINDOW),
    })
}

/// Rows at or after (`inclusive`) or after the key `(published_at, id)`: a row-value
/// comparison, which both databases read as a range of the `(published_at, id)`
/// index (PostgreSQL estimates the OR form badly and sorts instead).
fn from_key(published_at: DateTime<Utc>, id: Uuid, inclusive: bool) -> Condition {
    use sea_orm::sea_query::ExprTrait as _;
    let col = |c: article::Column| Expr::col((article::Entity, c));
    let row = Expr::tuple([col(article::Column::PublishedAt), col(article::Column::Id)]);
    let key = Expr::tuple([Expr::val(published_at), Expr::val(id)]);
    Condition::all().add(if inclusive { row.gte(key) } else { row.gt(key) })
}

/// One listed article of a child sitemap.
type ArticleRow = (Uuid, String, DateTime<Utc>, DateTime<Utc>, String);

/// Article child `page` (from 1) at `at`; `None` past the last (page 1 always
/// exists, empty on an empty site). Its first key is found by skipping the pages
/// before it in the index (index-only), then its rows are read from there in
/// keyset batches of a tenth of the page ([`BATCHES`]).
pub async fn articles(
    db: &DatabaseConnection,
    site: &Site,
    page: u64,
    at: DateTime<Utc>,
) -> Result<Option<Document>, ApiError> {
    let size = site.sitemap_page;
    let Some(skip) = (page - 1).checked_mul(size) else {
        return Ok(None);
    };
    let backend = db.get_database_backend();
    let mut key: Option<(DateTime<Utc>, Uuid)> = None;
    if skip > 0 {
        let start = listed(at)
            .select_only()
            .columns([article::Column::PublishedAt, article::Column::Id])
            .order_by_asc(article::Column::PublishedAt)
            .order_by_asc(article::Column::Id)
            .offset(skip)
            .limit(1);
        key = rows(db, on_index(backend, start)).await?.into_iter().next();
        if key.is_none() {
            return Ok(None);
        }
    }
    let batch = size.div_ceil(BATCHES).max(1);
    let mut xml = urlset();
    let mut left = size;
    let mut inclusive = true;
    while left > 0 {
        let take = left.min(batch);
        let mut query = listed(at)
            .select_only()
            .columns([
                article::Column::Id,
                article::Column::Slug,
                article::Column::PublishedAt,
                article::Column::UpdatedAt,
            ])
            .column_as(publisher::Column::Slug, "publisher_slug")
            .join(JoinType::InnerJoin, carrier());
        if let Some((published_at, id)) = key {
            query = query.filter(from_key(published_at, id, inclusive));
        }
        let query = query
            .order_by_asc(article::Column::PublishedAt)
            .order_by_asc(article::Column::Id)
            .limit(take);
        let rows: Vec<ArticleRow> = rows(db, on_index(backend, query)).await?;
        for (id, slug, published_at, updated_at, publisher_slug) in &rows {
            if let Some(url) = site.article_url(publisher_slug, Some(*published_at), slug, *id) {
                entry(&mut xml, "url", &url, Some(*updated_at));
            }
        }
        let Some((id, _, published_at, _, _)) = rows.last() else {
            break;
        };
        if (rows.len() as u64) < take {
            break;
        }
        key = Some((*published_at, *id));
        inclusive = false;
        left -= take;
    }
    xml.push_str("</urlset>\n");
    Ok(Some(Document { xml, until: None }))
}

/// Publishers', authors' or tags' child `page` (from 1), in id order; `None` past
/// the last (page 1 always exists). One statement.
pub async fn taxonomy(
    db: &DatabaseConnection,
    site: &Site,
    kind: Kind,
    page: u64,
) -> Result<Option<Document>, ApiError> {
    let size = site.sitemap_page;
    let Some(skip) = (page - 1).checked_mul(size) else {
        return Ok(None);
    };
    let template = match kind {
        Kind::Publishers => &site.publisher,
        Kind::Authors => &site.author,
        Kind::Tags => &site.tag,
        Kind::Articles => return Ok(None),
    };
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT id, slug, updated_at FROM {} ORDER BY id LIMIT {size} OFFSET {skip}",
                kind.name()
            ),
        ))
        .await?;
    if rows.is_empty() && page > 1 {
        return Ok(None);
    }
    let mut xml = urlset();
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let slug: String = row.try_get("", "slug")?;
        let updated_at: DateTime<Utc> = row.try_get("", "updated_at")?;
        entry(
            &mut xml,
            "url",
            &site.page_url(template, &slug, id),
            Some(updated_at),
        );
    }
    xml.push_str("</urlset>\n");
    Ok(Some(Document { xml, until: None }))
}

/// One article of the news sitemap.
type NewsRow = (
    Uuid,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    String,
);

/// The Google News sitemap at `at`: listed articles published in the last
/// [`NEWS_WINDOW`], newest first, at most [`NEWS_MAX`], each with its publisher's
/// name and its language. It changes by the clock when its oldest leaves the window.
pub async fn news(
    db: &DatabaseConnection,
    site: &Site,
    at: DateTime<Utc>,
) -> Result<Document, ApiError> {
    let query = in_window(listed(at), at)
        .select_only()
        .columns([
            article::Column::Id,
            article::Column::Slug,
            article::Column::PublishedAt,
            article::Column::UpdatedAt,
            article::Column::Title,
            article::Column::Language,
        ])
        .column_as(publisher::Column::Slug, "publisher_slug")
        .column_as(publisher::Column::Name, "publisher_name")
        .join(JoinType::InnerJoin, carrier())
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .limit(NEWS_MAX);
    let rows: Vec<NewsRow> = rows(db, on_index(db.get_database_backend(), query)).await?;
    let fallback = news_language(&site.default_language).unwrap_or_else(|| "en".to_string());
    let mut xml = format!("{HEADER}<urlset xmlns=\"{NS}\" xmlns:news=\"{NEWS_NS}\">\n");
    for (id, slug, published_at, updated_at, title, language, publisher_slug, name) in &rows {
        let Some(url) = site.article_url(publisher_slug, Some(*published_at), slug, *id) else {
            continue;
        };
        let language = language
            .as_deref()
            .and_then(news_language)
            .unwrap_or_else(|| fallback.clone());
        let name = if name.trim().is_empty() {
            &site.name
        } else {
            name
        };
        xml.push_str("<url>");
        element(&mut xml, "loc", &url);
        element(&mut xml, "lastmod", &w3c(*updated_at));
        xml.push_str("<news:news><news:publication>");
        element(&mut xml, "news:name", name);
        element(&mut xml, "news:language", &language);
        xml.push_str("</news:publication>");
        element(&mut xml, "news:publication_date", &w3c(*published_at));
        element(&mut xml, "news:title", title);
        xml.push_str("</news:news></url>\n");
    }
    xml.push_str("</urlset>\n");
    Ok(Document {
        xml,
        until: rows.last().map(|row| row.2 + NEWS_WINDOW),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_names_parse_to_one_address_per_page() {
        assert_eq!(Kind::parse("articles-1.xml"), Some((Kind::Articles, 1)));
        assert_eq!(Kind::parse("tags-20.xml"), Some((Kind::Tags, 20)));
        for bad in [
            "articles-0.xml",
            "articles-01.xml",
            "articles-.xml",
            "articles-1",
            "articles-1.xml.gz",
            "comments-1.xml",
            "articles-+1.xml",
            "articles-1234567890.xml",
            "articles--1.xml",
        ] {
            assert_eq!(Kind::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn news_languages_follow_google() {
        for (tag, want) in [
            ("en", Some("en")),
            ("en-GB", Some("en")),
            ("fr-CA", Some("fr")),
            ("yue", Some("yue")),
            ("zh", Some("zh-cn")),
            ("zh-CN", Some("zh-cn")),
            ("zh-Hans-SG", Some("zh-cn")),
            ("zh-TW", Some("zh-tw")),
            ("zh-Hant", Some("zh-tw")),
            ("zh-HK", Some("zh-tw")),
            ("x-klingon", None),
        ] {
            assert_eq!(news_language(tag).as_deref(), want, "{tag}");
        }
    }

    #[test]
    fn text_is_escaped_and_what_xml_cannot_carry_is_dropped() {
        let mut out = String::new();
        escape(&mut out, "a&b<c>\"d'\u{1}e\u{FFFF}\tf");
        assert_eq!(out, "a&amp;b&lt;c&gt;&quot;d&apos;e\tf");
    }
}
