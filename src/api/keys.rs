//! What a response holds, named for CDNs: the `Surrogate-Key` (Fastly, Varnish)
//! and `Cache-Tag` (Cloudflare, Akamai) headers of every successful read, so that
//! after a write a CDN can purge exactly the pages that show what changed.
//!
//! A single resource names itself and what it shows of others (an article: its
//! publishers, authors and tags, whose names are in its byline or embedded); a list
//! names itself (`list:articles`) and its items, never their relations, which keeps
//! the header small (at most 100 items). The README says what to purge after which
//! write.

use poem::Response;
use poem::http::HeaderValue;
use uuid::Uuid;

use super::api_keys::{ApiKey, ApiKeyList};
use super::articles::{Article, ArticleList, RevisionList, TrashList};
use super::authors::{Author, AuthorList};
use super::comments::{Comment, CommentList};
use super::media::{MediaAsset, MediaList};
use super::publishers::{Publisher, PublisherList};
use super::tags::{Tag, TagList};
use super::users::{User, UserList};
use super::webhooks::{DeliveryList, Webhook, WebhookList};

/// The keys of one response, in order, without repeats.
#[derive(Default)]
pub struct Keys(Vec<String>);

impl Keys {
    fn add(&mut self, kind: &str, id: impl std::fmt::Display) {
        let key = format!("{kind}:{id}");
        if !self.0.contains(&key) {
            self.0.push(key);
        }
    }
}

/// A response body that can say what it holds.
pub trait Keyed {
    fn keys(&self, out: &mut Keys);
}

/// Puts `body`'s keys on `resp` as `Surrogate-Key` (space-separated) and
/// `Cache-Tag` (comma-separated); nothing when it names nothing.
pub fn label(resp: &mut Response, body: &impl Keyed) {
    let mut keys = Keys::default();
    body.keys(&mut keys);
    if keys.0.is_empty() {
        return;
    }
    if let Ok(value) = HeaderValue::from_str(&keys.0.join(" ")) {
        resp.headers_mut().insert("surrogate-key", value);
    }
    if let Ok(value) = HeaderValue::from_str(&keys.0.join(",")) {
        resp.headers_mut().insert("cache-tag", value);
    }
}

fn ids<'a>(out: &mut Keys, kind: &str, ids: impl IntoIterator<Item = &'a Uuid>) {
    for id in ids {
        out.add(kind, id);
    }
}

impl Keyed for Article {
    fn keys(&self, out: &mut Keys) {
        out.add("article", self.id);
        out.add("publisher", self.publisher_id);
        ids(out, "publisher", self.syndicated_from_id.as_ref());
        ids(out, "author", &self.author_ids);
        ids(out, "tag", &self.tag_ids);
        ids(out, "media", self.featured_media_id.0.as_ref());
    }
}

impl Keyed for ArticleList {
    fn keys(&self, out: &mut Keys) {
        out.add("list", "articles");
        ids(out, "article", self.data.iter().map(|a| &a.id));
    }
}

impl Keyed for Publisher {
    fn keys(&self, out: &mut Keys) {
        out.add("publisher", self.id);
    }
}

impl Keyed for PublisherList {
    fn keys(&self, out: &mut Keys) {
        out.add("list", "publishers");
        ids(out, "publisher", self.data.iter().map(|p| &p.id));
    }
}

impl Keyed for Author {
    fn keys(&self, out: &mut Keys) {
        out.add("author", self.id);
        ids(out, "publisher", self.publisher_id.as_ref());
    }
}

impl Keyed for AuthorList {
    fn keys(&self, out: &mut Keys) {
        out.add("list", "authors");
        ids(out, "author", self.data.iter().map(|a| &a.id));
    }
}

impl Keyed for MediaAsset {
    fn keys(&self, out: &mut Keys) {
        out.add("media", self.id);
    }
}

impl Keyed for MediaList {
    fn keys(&self, out: &mut Keys) {
        out.add("list", "media");
        ids(out, "media", self.data.iter().map(|m| &m.id));
    }
}

impl Keyed for Tag {
    fn keys(&self, out: &mut Keys) {
        out.add("tag", self.id);
    }
}

impl Keyed for TagList {
    fn keys(&self, out: &mut Keys) {
        out.add("list", "tags");
        ids(out, "tag", self.data.iter().map(|t| &t.id));
    }
}

impl Keyed for Comment {
    fn keys(&self, out: &mut Keys) {
        out.add("comment", self.id);
        out.add("comments", self.article_id);
    }
}

impl Keyed for CommentList {
    fn keys(&self, out: &mut Keys) {
        out.add("list", "comments");
        for c in &self.data {
            out.add("comments", c.article_id);
        }
    }
}

impl Keyed for super::feeds::model::Feed {
    /// A feed is a list of articles (`list:articles`, purged after any article
    /// write) with its items and, for a publisher's, author's or tag's, that row.
    fn keys(&self, out: &mut Keys) {
        use super::feeds::model::Kind;
        out.add("list", "articles");
        if let Some(id) = self.subject {
            let kind = match self.kind {
                Kind::Publisher => "publisher",
                Kind::Author => "author",
                Kind::Site | Kind::Tag => "tag",
            };
            out.add(kind, id);
        }
        ids(out, "article", self.items.iter().map(|i| &i.id));
    }
}

/// Private resources: never public, so nothing to purge.
macro_rules! unkeyed {
    ($($ty:ty),+) => {$(
        impl Keyed for $ty {
            fn keys(&self, _out: &mut Keys) {}
        }
    )+};
}

unkeyed!(
    User,
    UserList,
    RevisionList,
    TrashList,
    Webhook,
    WebhookList,
    DeliveryList,
    ApiKey,
    ApiKeyList
);
