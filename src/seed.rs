//! `dispatch seed --demo`: a small newsroom written for this project (two outlets
//! and one syndication service, six authors, eight tags, twenty articles with
//! drafts, scheduled and archived ones among them), loaded through the same
//! domain functions the API uses, under the fixed ids of [`crate::demo`].

use std::collections::HashMap;

use anyhow::{Context, bail};
use chrono::Duration;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde::Deserialize;
use uuid::Uuid;

use crate::content::articles::{self, ArticleCreate, Status};
use crate::content::events::By;
use crate::content::{now, taxonomy};
use crate::demo::{self, Kind};

const DEMO: &str = include_str!("seed/demo.json");

#[derive(Deserialize)]
struct Demo {
    publishers: Vec<DemoPublisher>,
    authors: Vec<DemoAuthor>,
    tags: Vec<DemoTag>,
    articles: Vec<DemoArticle>,
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
}

fn lookup(map: &HashMap<String, Uuid>, slug: &str, what: &str) -> anyhow::Result<Uuid> {
    map.get(slug)
        .copied()
        .with_context(|| format!("demo data names an unknown {what} `{slug}`"))
}

/// Loads the demo newsroom into an empty database. Returns the number of articles.
pub async fn demo(db: &DatabaseConnection) -> anyhow::Result<usize> {
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
