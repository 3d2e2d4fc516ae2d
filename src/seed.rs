//! `dispatch seed --demo`: a small newsroom written for this project (two outlets
//! and one syndication service, six authors, eight tags, four photos with credits,
//! twenty articles with drafts, scheduled and archived ones among them), loaded through the same
//! domain functions the API uses, under the fixed ids of [`crate::demo`].

use std::collections::HashMap;

use anyhow::{Context, bail};
use chrono::Duration;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde::Deserialize;
use uuid::Uuid;

use crate::content::articles::{self, ArticleCreate, Status};
use crate::content::events::By;
use crate::content::{media, now, taxonomy};
use crate::demo::{self, Kind};
use crate::media::{Library, fixtures};

const DEMO: &str = include_str!("seed/demo.json");

#[derive(Deserialize)]
struct Demo {
    publishers: Vec<DemoPublisher>,
    authors: Vec<DemoAuthor>,
    tags: Vec<DemoTag>,
    media: Vec<DemoMedia>,
    articles: Vec<DemoArticle>,
}

/// A demo photo: a generated picture (see [`fixtures::scene_jpeg`]) with its news
/// metadata.
#[derive(Deserialize)]
struct DemoMedia {
    caption: String,
    alt_text: String,
    credit: String,
    source: String,
    copyright: String,
    taken_offset_hours: i64,
    width: u32,
    height: u32,
    variant: u32,
    focal_point: [f64; 2],
}

#[derive(Deserialize)]
struct DemoPublisher {
    slug: String,
    name: String,
    description: Option<String>,
    website_url: Option<String>,
}

#[derive(Deserialize)]
struct DemoAuthor {
    slug: String,
    name: String,
    bio: Option<String>,
    avatar_url: Option<String>,
    publisher: Option<String>,
}

#[derive(Deserialize)]
struct DemoTag {
    slug: String,
    name: String,
    description: Option<String>,
}

#[derive(Deserialize)]
struct DemoArticle {
    slug: String,
    title: String,
    subtitle: Option<String>,
    excerpt: Option<String>,
    body_markdown: String,
    status: String,
    published_offset_hours: Option<i64>,
    dateline: Option<String>,
    canonical_url: Option<String>,
    publisher: String,
    syndicated_from: Option<String>,
    authors: Vec<String>,
    tags: Vec<String>,
    /// The featured photo: its place (from 1) in `media`.
    featured_media: Option<u64>,
    featured_caption: Option<String>,
    #[serde(default)]
    seo_title: Option<String>,
    #[serde(default)]
    seo_description: Option<String>,
    #[serde(default)]
    og_title: Option<String>,
    #[serde(default)]
    og_description: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    noindex: bool,
}

fn lookup(map: &HashMap<String, Uuid>, slug: &str, what: &str) -> anyhow::Result<Uuid> {
    map.get(slug)
        .copied()
        .with_context(|| format!("demo data names an unknown {what} `{slug}`"))
}

/// Loads the demo newsroom into an empty database, its photos into `library`.
/// Returns the number of articles.
pub async fn demo(db: &DatabaseConnection, library: &Library) -> anyhow::Result<usize> {
    if entity::publisher::Entity::find().count(db).await? > 0 {
        bail!(
            "the database already has publishers; the demo newsroom is only loaded into an empty database"
        );
    }
    let demo: Demo = serde_json::from_str(DEMO).context("demo data is not valid")?;
    let fail = |e: crate::error::ApiError| anyhow::anyhow!("{e}");

    let mut publishers = HashMap::new();
    for (n, p) in (1..).zip(demo.publishers) {
        let created = taxonomy::create_publisher_with_id(
            db,
            taxonomy::PublisherCreate {
                image_media_id: None,
                name: p.name.into(),
                slug: Some(p.slug.clone().into()),
                description: p.description.map(Into::into),
                website_url: p.website_url.map(Into::into),
            },
            Some(demo::id(Kind::Publisher, n)),
            By::new(None, now()),
        )
        .await
        .map_err(fail)?;
        publishers.insert(p.slug, created.id);
    }
    let mut authors = HashMap::new();
    for (n, a) in (1..).zip(demo.authors) {
        let publisher_id = a
            .publisher
            .as_deref()
            .map(|s| lookup(&publishers, s, "publisher"))
            .transpose()?;
        let created = taxonomy::create_author_with_id(
            db,
            taxonomy::AuthorCreate {
                image_media_id: None,
                name: a.name.into(),
                slug: Some(a.slug.clone().into()),
                bio: a.bio.map(Into::into),
                avatar_url: a.avatar_url.map(Into::into),
                publisher_id,
            },
            Some(demo::id(Kind::Author, n)),
            By::new(None, now()),
        )
        .await
        .map_err(fail)?;
        authors.insert(a.slug, created.id);
    }
    let mut tags = HashMap::new();
    for (n, t) in (1..).zip(demo.tags) {
        let created = taxonomy::create_tag_with_id(
            db,
            taxonomy::TagCreate {
                name: t.name.into(),
                slug: Some(t.slug.clone().into()),
                description: t.description.map(Into::into),
            },
            Some(demo::id(Kind::Tag, n)),
            By::new(None, now()),
        )
        .await
        .map_err(fail)?;
        tags.insert(t.slug, created.id);
    }
    let at = now();
    for (n, m) in (1..).zip(demo.media) {
        let bytes = fixtures::scene_jpeg(m.width, m.height, m.variant);
        let details = media::Details {
            alt_text: Some(m.alt_text),
            caption: Some(m.caption),
            credit: Some(m.credit),
            source: Some(m.source),
            copyright: Some(m.copyright),
            taken_at: Some(at + Duration::hours(m.taken_offset_hours)),
            focal_point: Some(media::FocalPoint {
                x: m.focal_point[0],
                y: m.focal_point[1],
            }),
        };
        media::upload_with_id(
            db,
            library,
            bytes.into(),
            details,
            Some(demo::id(Kind::Media, n)),
            By::new(None, now()),
        )
        .await
        .map_err(fail)?;
    }
    let count = demo.articles.len();
    for (n, a) in (1..).zip(demo.articles) {
        let status = match a.status.as_str() {
            "draft" => Status::Draft,
            "scheduled" => Status::Scheduled,
            "published" => Status::Published,
            "archived" => Status::Archived,
            other => bail!("demo article `{}` has an unknown status `{other}`", a.slug),
        };
        let input = ArticleCreate {
            featured_media_id: a.featured_media.map(|n| demo::id(Kind::Media, n)),
            featured_caption: a.featured_caption.map(Into::into),
            featured_alt: None,
            seo_title: a.seo_title.map(Into::into),
            seo_description: a.seo_description.map(Into::into),
            og_title: a.og_title.map(Into::into),
            og_description: a.og_description.map(Into::into),
            language: a.language.map(Into::into),
            noindex: Some(a.noindex),
            title: a.title.into(),
            slug: Some(a.slug.into()),
            subtitle: a.subtitle.map(Into::into),
            excerpt: a.excerpt.map(Into::into),
            body_markdown: a.body_markdown.into(),
            status: Some(status),
            published_at: a.published_offset_hours.map(|h| at + Duration::hours(h)),
            dateline: a.dateline.map(Into::into),
            canonical_url: a.canonical_url.map(Into::into),
            publisher_id: lookup(&publishers, &a.publisher, "publisher")?,
            syndicated_from_id: a
                .syndicated_from
                .as_deref()
                .map(|s| lookup(&publishers, s, "publisher"))
                .transpose()?,
            author_ids: a
                .authors
                .iter()
                .map(|s| lookup(&authors, s, "author"))
                .collect::<anyhow::Result<_>>()?,
            tag_ids: a
                .tags
                .iter()
                .map(|s| lookup(&tags, s, "tag"))
                .collect::<anyhow::Result<_>>()?,
        };
        let actor = articles::Actor {
            user_id: None,
            at: now(),
            slugs: crate::content::slug::Made::FirstFree,
        };
        articles::create_with_id(db, input, &actor, Some(demo::id(Kind::Article, n)))
            .await
            .map_err(fail)?;
    }
    Ok(count)
}
