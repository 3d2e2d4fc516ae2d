//! A feed's content whatever its format: a page of public articles, newest first,
//! for the whole site or one publisher, author or tag, read with the article list
//! (a constant number of statements), with the absolute addresses, bylines, tags,
//! featured photo and syndication that Atom, RSS and JSON Feed each carry.

use chrono::{DateTime, Utc};
use entity::{author, publisher, tag};
use uuid::Uuid;

use crate::api::AppState;
use crate::api::articles::public_url;
use crate::auth::policy::Visibility;
use crate::content::articles::{self, Filter, Include, Need, Record, Related};
use crate::content::taxonomy::{self, AUTHOR_KEYS, PUBLISHER_KEYS, PageParams, TAG_KEYS};
use crate::error::ApiError;
use crate::media::image::Format as ImageFormat;
use crate::media::renditions::{Preset, Rendition};
use crate::site::Site;

/// Items per page.
pub const PAGE_SIZE: u64 = 50;

/// The widest width rendition a feed's photo uses (readers show it in a column).
const IMAGE_WIDTH: u32 = 1024;
/// The width of the thumbnail.
const THUMBNAIL_WIDTH: u32 = 320;

/// The three formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    /// The format a file extension names.
    pub fn from_ext(ext: &str) -> Option<Self> {
        match ext {
            "atom" => Some(Self::Atom),
            "rss" => Some(Self::Rss),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Self::Atom => "atom",
            Self::Rss => "rss",
            Self::Json => "json",
        }
    }

    /// The `Content-Type` it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// Whose articles a feed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Site,
    Publisher,
    Author,
    Tag,
}

impl Kind {
    /// The path segment before the slug (`publishers`), for all but the site.
    fn segment(self) -> &'static str {
        match self {
            Self::Site => "",
            Self::Publisher => "publishers",
            Self::Author => "authors",
            Self::Tag => "tags",
        }
    }
}

/// A person in a byline, with the address of their page on the site.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub url: String,
}

/// A tag: `slug` is the term, `name` the label.
#[derive(Debug, Clone)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub url: String,
}

/// The featured photo: a width rendition (at most [`IMAGE_WIDTH`]) in the
/// original's still format, and a thumbnail.
#[derive(Debug, Clone)]
pub struct Image {
    pub url: String,
    pub media_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub thumbnail_url: String,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
}

/// Where a syndicated story first ran: the original outlet's name and the story's
/// canonical URL (else the outlet's website, else its page on the site).
#[derive(Debug, Clone)]
pub struct Original {
    pub outlet: String,
    pub url: String,
}

/// One article in a feed.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: Uuid,
    /// `urn:uuid:<id>`: never changes, whatever happens to the slug or the site.
    pub guid: String,
    pub title: String,
    /// The article's page on the site.
    pub url: String,
    /// The excerpt (plain text), when there is one.
    pub summary: Option<String>,
    /// The sanitised HTML body.
    pub content_html: String,
    pub published: DateTime<Utc>,
    /// The later of the last change and the publication.
    pub updated: DateTime<Utc>,
    pub authors: Vec<Person>,
    pub categories: Vec<Category>,
    pub image: Option<Image>,
    pub original: Option<Original>,
    /// BCP 47: the article's, else the site's default.
    pub language: String,
}

/// A page of a feed.
#[derive(Debug, Clone)]
pub struct Feed {
    pub format: Format,
    pub kind: Kind,
    /// The publisher's, author's or tag's id (none for the site).
    pub subject: Option<Uuid>,
    pub title: String,
    pub description: String,
    /// The address of the feed's first page in this format: also its id.
    pub first_url: String,
    /// This page's address.
    pub self_url: String,
    /// The next (older) page's address; `None` on the last page.
    pub next_url: Option<String>,
    /// The site, or the publisher's, author's or tag's page on it.
    pub home_url: String,
    pub language: String,
    /// The newest `updated` of the items (of the subject, or the Unix epoch, when
    /// there are none): the same bytes while nothing changes.
    pub updated: DateTime<Utc>,
    pub items: Vec<Item>,
}

/// Text as XML 1.0 may carry it (see [`crate::wire::xml_char`]).
pub fn xml_text(text: &str) -> String {
    text.chars().filter(|c| crate::wire::xml_char(*c)).collect()
}

/// The subject of a feed, found by slug (or id).
struct Subject {
    id: Uuid,
    slug: String,
    name: String,
    description: Option<String>,
    updated: DateTime<Utc>,
    home_url: String,
}

/// The publisher, author or tag a feed is about (none for the site's), or the 404.
async fn subject(state: &AppState, kind: Kind, key: &str) -> Result<Option<Subject>, ApiError> {
    let db = state.reader();
    let site = &state.site;
    let missing = |what: &str| ApiError::NotFound(format!("No {what} has this slug."));
    Ok(Some(match kind {
        Kind::Site => return Ok(None),
        Kind::Publisher => {
            let p = taxonomy::find::<publisher::Entity>(db, PUBLISHER_KEYS, key)
                .await?
                .ok_or_else(|| missing("publisher"))?;
            Subject {
                home_url: site.page_url(&site.publisher, &p.slug, p.id),
                id: p.id,
                slug: p.slug,
                name: p.name,
                description: p.description,
                updated: p.updated_at,
            }
        }
        Kind::Author => {
            let a = taxonomy::find::<author::Entity>(db, AUTHOR_KEYS, key)
                .await?
                .ok_or_else(|| missing("author"))?;
            Subject {
                home_url: site.page_url(&site.author, &a.slug, a.id),
                id: a.id,
                slug: a.slug,
                name: a.name,
                description: None,
                updated: a.updated_at,
            }
        }
        Kind::Tag => {
            let t = taxonomy::find::<tag::Entity>(db, TAG_KEYS, key)
                .await?
                .ok_or_else(|| missing("tag"))?;
            Subject {
                home_url: site.page_url(&site.tag, &t.slug, t.id),
                id: t.id,
                slug: t.slug,
                name: t.name,
                description: t.description,
                updated: t.updated_at,
            }
        }
    }))
}

/// The address of a feed's page: `/feeds/articles.atom`,
/// `/feeds/publishers/{slug}.rss`, with `?cursor=` after the first.
fn feed_url(site: &Site, kind: Kind, slug: &str, format: Format, cursor: Option<&str>) -> String {
    let path = match kind {
        Kind::Site => format!("/feeds/articles.{}", format.ext()),
        other => format!("/feeds/{}/{slug}.{}", other.segment(), format.ext()),
    };
    let query = cursor
        .map(|c| {
            let encoded: String = url::form_urlencoded::byte_serialize(c.as_bytes()).collect();
            format!("?cursor={encoded}")
        })
        .unwrap_or_default();
    site.api_url(&format!("{path}{query}"))
}

/// The page of the feed of `kind` (`key`: the subject's slug or id) in `format`
/// after `cursor`: a 404 for a subject that does not exist, a 400 for a cursor
/// this API did not issue.
pub async fn collect(
    state: &AppState,
    kind: Kind,
    key: &str,
    format: Format,
    cursor: Option<String>,
) -> Result<Feed, ApiError> {
    let site = &state.site;
    let subject = subject(state, kind, key).await?;
    let id = subject.as_ref().map(|s| s.id.to_string());
    let filter = Filter {
        publisher: id.clone().filter(|_| kind == Kind::Publisher),
        author: id.clone().filter(|_| kind == Kind::Author),
        tag: id.filter(|_| kind == Kind::Tag),
        ..Filter::default()
    };
    let include = Include {
        authors: true,
        publisher: true,
        syndicated_from: true,
        tags: true,
        featured_media: true,
    };
    let params = PageParams {
        limit: PAGE_SIZE,
        cursor: cursor.clone(),
        count: false,
    };
    let at = state.clock.now();
    let (page, related) = articles::list(
        state.reader(),
        &filter,
        &params,
        include,
        Need::ALL,
        Visibility::Public,
        at,
    )
    .await
    .map_err(|err| match (&subject, err) {
        // The subject was deleted after it was found: as if it had not been.
        (Some(_), ApiError::Unprocessable(..)) => {
            ApiError::NotFound("Nothing has this slug any more.".into())
        }
        (_, err) => err,
    })?;
    let items: Vec<Item> = page
        .items
        .into_iter()
        .map(|record| item(site, record, &related))
        .collect();
    let slug = subject.as_ref().map_or("", |s| s.slug.as_str());
    let updated = items.iter().map(|i| i.updated).max().unwrap_or_else(|| {
        subject
            .as_ref()
            .map_or(DateTime::<Utc>::UNIX_EPOCH, |s| s.updated)
    });
    let (title, description, home_url) = match (&subject, kind) {
        (None, _) | (_, Kind::Site) => (
            site.name.clone(),
            format!("The latest articles from {}.", site.name),
            format!("{}/", site.base),
        ),
        (Some(s), kind) => (
            format!("{} \u{2014} {}", site.name, s.name),
            s.description.clone().unwrap_or_else(|| match kind {
                Kind::Author => format!("The latest articles by {}.", s.name),
                Kind::Tag => format!("The latest articles tagged {}.", s.name),
                _ => format!("The latest articles from {}.", s.name),
            }),
            s.home_url.clone(),
        ),
    };
    Ok(Feed {
        format,
        kind,
        subject: subject.as_ref().map(|s| s.id),
        title: xml_text(&title),
        description: xml_text(&description),
        first_url: feed_url(site, kind, slug, format, None),
        self_url: feed_url(site, kind, slug, format, cursor.as_deref()),
        next_url: page
            .next_cursor
            .as_deref()
            .map(|c| feed_url(site, kind, slug, format, Some(c))),
        home_url,
        language: site.default_language.clone(),
        updated,
        items,
    })
}

/// One article as a feed item.
fn item(site: &Site, record: Record, related: &Related) -> Item {
    let m = &record.model;
    let published = m.published_at.unwrap_or(m.created_at);
    let url = public_url(site, m, related).unwrap_or_else(|| format!("{}/", site.base));
    let authors = record
        .author_ids
        .iter()
        .filter_map(|id| related.authors.get(id))
        .map(|a| Person {
            name: xml_text(&a.name),
            url: site.page_url(&site.author, &a.slug, a.id),
        })
        .collect();
    let categories = record
        .tag_ids
        .iter()
        .filter_map(|id| related.tags.get(id))
        .map(|t| Category {
            slug: t.slug.clone(),
            name: xml_text(&t.name),
            url: site.page_url(&site.tag, &t.slug, t.id),
        })
        .collect();
    let image = m
        .featured_media_id
        .and_then(|id| related.media.get(&id))
        .map(|media| {
            image(
                site,
                media,
                m.featured_alt.as_deref(),
                m.featured_caption.as_deref(),
            )
        });
    let original = m
        .syndicated_from_id
        .and_then(|id| related.publishers.get(&id))
        .map(|outlet| Original {
            outlet: xml_text(&outlet.name),
            url: m
                .canonical_url
                .clone()
                .or_else(|| outlet.website_url.clone())
                .unwrap_or_else(|| site.page_url(&site.publisher, &outlet.slug, outlet.id)),
        });
    let summary = Some(xml_text(m.excerpt.trim())).filter(|s| !s.is_empty());
    Item {
        id: m.id,
        guid: format!("urn:uuid:{}", m.id),
        title: xml_text(&m.title),
        url,
        summary,
        content_html: xml_text(&m.body_html),
        published,
        updated: m.updated_at.max(published),
        authors,
        categories,
        image,
        original,
        language: m
            .language
            .clone()
            .unwrap_or_else(|| site.default_language.clone()),
    }
}

/// The featured photo's renditions for feeds, with the article's own alt text and
/// caption before the photo's.
fn image(
    site: &Site,
    media: &entity::media::Model,
    alt: Option<&str>,
    caption: Option<&str>,
) -> Image {
    let source = crate::content::media::source(media);
    let presets = source.presets();
    // The widest width rendition up to `max`, else the original (a small photo).
    let pick = |max: u32| {
        presets
            .iter()
            .copied()
            .filter(|p| matches!(p, Preset::Width(w) if *w <= max))
            .max_by_key(|p| match p {
                Preset::Width(w) => *w,
                _ => 0,
            })
            .unwrap_or(Preset::Original)
    };
    let rendition = |preset: Preset| {
        let format: ImageFormat = if preset == Preset::Original {
            source.format
        } else {
            source.format.still()
        };
        let (width, height) = source.size(preset);
        let name = source.file_name(Rendition { preset, format });
        (
            site.api_url(&crate::media::renditions::url(media.id, &name)),
            format.mime(),
            width,
            height,
        )
    };
    let (url, media_type, width, height) = rendition(pick(IMAGE_WIDTH));
    let (thumbnail_url, _, thumbnail_width, thumbnail_height) = rendition(pick(THUMBNAIL_WIDTH));
    let text = |own: Option<&str>, theirs: &Option<String>| {
        own.or(theirs.as_deref())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(xml_text)
    };
    Image {
        url,
        media_type,
        width,
        height,
        thumbnail_url,
        thumbnail_width,
        thumbnail_height,
        alt: text(alt, &media.alt_text),
        caption: text(caption, &media.caption),
        credit: text(None, &media.credit),
    }
}

#[cfg(test)]
mod tests {
    use super::xml_text;

    #[test]
    fn text_loses_only_what_xml_cannot_carry() {
        assert_eq!(
            xml_text("a\u{0}b\u{1}c\td\ne\rf\u{FFFE}g\u{FFFF}h \u{1F4F0} \u{5E9}"),
            "abc\td\ne\rfgh \u{1F4F0} \u{5E9}"
        );
    }
}
