//! A feed page as JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>), written
//! with serde (no crate for it is kept up): `next_url` for the older page, the body
//! as `content_html`, the photo as `image`, and a syndicated story's original in
//! the `_dispatch` extension object (`syndicated_from` with the outlet's name and
//! the story's canonical URL, which is also the item's `external_url`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{Feed, Item};
use crate::error::ApiError;

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct Syndicated<'a> {
    /// The original outlet's name.
    name: &'a str,
    /// The story's canonical URL there.
    url: &'a str,
}

/// What JSON Feed has no field for, under its rule for extensions (a key that
/// starts with `_`; readers that do not know it ignore it).
#[derive(Serialize)]
struct Extension<'a> {
    syndicated_from: Syndicated<'a>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_url: Option<&'a str>,
    title: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(serialize_with = "crate::wire::rfc3339")]
    date_published: DateTime<Utc>,
    #[serde(serialize_with = "crate::wire::rfc3339")]
    date_modified: DateTime<Utc>,
    authors: Vec<Author<'a>>,
    tags: Vec<&'a str>,
    language: &'a str,
    #[serde(rename = "_dispatch", skip_serializing_if = "Option::is_none")]
    dispatch: Option<Extension<'a>>,
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<&'a str>,
    language: &'a str,
    items: Vec<JsonItem<'a>>,
}

fn item(item: &Item) -> JsonItem<'_> {
    JsonItem {
        id: &item.guid,
        url: &item.url,
        external_url: item.original.as_ref().map(|o| o.url.as_str()),
        title: &item.title,
        content_html: &item.content_html,
        summary: item.summary.as_deref(),
        image: item.image.as_ref().map(|i| i.url.as_str()),
        date_published: item.published,
        date_modified: item.updated,
        authors: item
            .authors
            .iter()
            .map(|a| Author {
                name: &a.name,
                url: &a.url,
            })
            .collect(),
        tags: item.categories.iter().map(|c| c.name.as_str()).collect(),
        language: &item.language,
        dispatch: item.original.as_ref().map(|o| Extension {
            syndicated_from: Syndicated {
                name: &o.outlet,
                url: &o.url,
            },
        }),
    }
}

/// The JSON Feed document of `feed`.
pub fn render(feed: &Feed) -> Result<Vec<u8>, ApiError> {
    let doc = JsonFeed {
        version: VERSION,
        title: &feed.title,
        home_page_url: &feed.home_url,
        feed_url: &feed.self_url,
        description: &feed.description,
        next_url: feed.next_url.as_deref(),
        language: &feed.language,
        items: feed.items.iter().map(item).collect(),
    };
    serde_json::to_vec(&doc).map_err(|err| {
        tracing::error!(error = %err, "writing a JSON feed failed");
        ApiError::Internal
    })
}
