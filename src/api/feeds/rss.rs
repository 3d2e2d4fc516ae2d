//! A feed page as RSS 2.0 with the `rss` crate: `atom:link` for `self`, `first` and
//! `next` (RFC 5005 paging), the body as `content:encoded`, the byline as
//! `dc:creator` (RSS's `author` is an e-mail address), the photo as an `enclosure`
//! and Media RSS, and a syndicated story's original as `<source url>` naming the
//! outlet.

use std::collections::BTreeMap;

use rss::extension::Extension;
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Enclosure, Guid, Item as RssItem, Source};

use super::media::{self, extension_map};
use super::model::{Feed, Item};
use crate::error::ApiError;

fn link(rel: &str, href: &str) -> Link {
    Link {
        rel: rel.to_string(),
        href: href.to_string(),
        mime_type: Some("application/rss+xml".to_string()),
        ..Link::default()
    }
}

fn item(item: &Item) -> RssItem {
    let mut extensions = BTreeMap::new();
    if let Some(image) = &item.image {
        // The `rss` crate escapes extension attributes itself.
        let map = extension_map!(Extension, media::elements(image), |v: String| v);
        extensions.insert("media".to_string(), map);
    }
    RssItem {
        title: Some(item.title.clone()),
        link: Some(item.url.clone()),
        description: item.summary.clone(),
        categories: item
            .categories
            .iter()
            .map(|c| Category {
                name: c.name.clone(),
                domain: Some(c.url.clone()),
            })
            .collect(),
        // The size of a rendition is known once it is made: 0, as the RSS Advisory
        // Board's best practices ask when it is not known.
        enclosure: item.image.as_ref().map(|image| Enclosure {
            url: image.url.clone(),
            length: "0".into(),
            mime_type: image.media_type.into(),
        }),
        guid: Some(Guid {
            value: item.guid.clone(),
            permalink: false,
        }),
        pub_date: Some(item.published.to_rfc2822()),
        source: item.original.as_ref().map(|o| Source {
            url: o.url.clone(),
            title: Some(o.outlet.clone()),
        }),
        content: Some(item.content_html.clone()),
        extensions,
        dublin_core_ext: Some(DublinCoreExtension {
            creators: item.authors.iter().map(|a| a.name.clone()).collect(),
            languages: vec![item.language.clone()],
            ..DublinCoreExtension::default()
        }),
        ..RssItem::default()
    }
}

/// The RSS document of `feed`.
pub fn render(feed: &Feed) -> Result<Vec<u8>, ApiError> {
    let mut links = vec![link("self", &feed.self_url), link("first", &feed.first_url)];
    if let Some(next) = &feed.next_url {
        links.push(link("next", next));
    }
    let channel = Channel {
        title: feed.title.clone(),
        link: feed.home_url.clone(),
        description: feed.description.clone(),
        language: Some(feed.language.clone()),
        last_build_date: Some(feed.updated.to_rfc2822()),
        generator: Some("Dispatch".into()),
        items: feed.items.iter().map(item).collect(),
        atom_ext: Some(AtomExtension { links }),
        namespaces: BTreeMap::from([("media".to_string(), media::NAMESPACE.to_string())]),
        ..Channel::default()
    };
    channel.write_to(Vec::new()).map_err(|err| {
        tracing::error!(error = %err, "writing an RSS feed failed");
        ApiError::Internal
    })
}
