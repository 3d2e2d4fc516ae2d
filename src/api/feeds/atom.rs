//! A feed page as Atom 1.0 (RFC 4287) with `atom_syndication`: RFC 5005 paging
//! links (`first`, `next`), HTML content, the photo as an `enclosure` link and Media
//! RSS (`media:content`, `media:thumbnail`, `media:credit`), and a syndicated
//! story's original as a `via` link titled with the outlet's name.

use std::collections::BTreeMap;

use atom_syndication::extension::{Extension, ExtensionMap};
use atom_syndication::{Category, Content, Entry, Feed as AtomFeed, Generator, Link, Person, Text};
use chrono::{DateTime, FixedOffset, Utc};

use super::media::{self, extension_map};
use super::model::{Feed, Item};
use crate::error::ApiError;

fn fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

fn link(rel: &str, href: &str, media_type: Option<&str>) -> Link {
    Link {
        rel: rel.to_string(),
        href: href.to_string(),
        mime_type: media_type.map(str::to_string),
        ..Link::default()
    }
}

fn entry(item: &Item) -> Entry {
    let mut links = vec![link("alternate", &item.url, Some("text/html"))];
    if let Some(image) = &item.image {
        links.push(link("enclosure", &image.url, Some(image.media_type)));
    }
    if let Some(original) = &item.original {
        links.push(Link {
            title: Some(original.outlet.clone()),
            ..link("via", &original.url, Some("text/html"))
        });
    }
    let mut extensions = ExtensionMap::new();
    if let Some(image) = &item.image {
        // `atom_syndication` writes extension attributes verbatim: escaped here.
        let map = extension_map!(Extension, media::elements(image), |v: String| {
            quick_xml::escape::escape(&v).into_owned()
        });
        extensions.insert("media".into(), map);
    }
    let mut title = Text::plain(item.title.clone());
    title.lang = Some(item.language.clone());
    Entry {
        title,
        id: item.guid.clone(),
        updated: fixed(item.updated),
        published: Some(fixed(item.published)),
        authors: item
            .authors
            .iter()
            .map(|a| Person {
                name: a.name.clone(),
                uri: Some(a.url.clone()),
                ..Person::default()
            })
            .collect(),
        categories: item
            .categories
            .iter()
            .map(|c| Category {
                term: c.slug.clone(),
                label: Some(c.name.clone()),
                ..Category::default()
            })
            .collect(),
        links,
        summary: item.summary.clone().map(|s| {
            let mut text = Text::plain(s);
            text.lang = Some(item.language.clone());
            text
        }),
        content: Some(Content {
            content_type: Some("html".into()),
            value: Some(item.content_html.clone()),
            lang: Some(item.language.clone()),
            ..Content::default()
        }),
        extensions,
        ..Entry::default()
    }
}

/// The Atom document of `feed`.
pub fn render(feed: &Feed) -> Result<Vec<u8>, ApiError> {
    let mut links = vec![
        link("self", &feed.self_url, Some("application/atom+xml")),
        link("alternate", &feed.home_url, Some("text/html")),
        link("first", &feed.first_url, Some("application/atom+xml")),
    ];
    if let Some(next) = &feed.next_url {
        links.push(link("next", next, Some("application/atom+xml")));
    }
    let atom = AtomFeed {
        title: Text::plain(feed.title.clone()),
        // Permanent: a subject keeps its id when its slug or the API's address moves.
        id: feed
            .subject
            .map_or_else(|| feed.home_url.clone(), |id| format!("urn:uuid:{id}")),
        updated: fixed(feed.updated),
        subtitle: Some(Text::plain(feed.description.clone())),
        generator: Some(Generator {
            value: "Dispatch".into(),
            ..Generator::default()
        }),
        links,
        entries: feed.items.iter().map(entry).collect(),
        namespaces: BTreeMap::from([("media".to_string(), media::NAMESPACE.to_string())]),
        lang: Some(feed.language.clone()),
        ..AtomFeed::default()
    };
    atom.write_to(Vec::new()).map_err(|err| {
        tracing::error!(error = %err, "writing an Atom feed failed");
        ApiError::Internal
    })
}
