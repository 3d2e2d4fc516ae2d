//! The feeds of published articles, newest first, 50 a page: the whole site's
//! (`/feeds/articles.{atom,rss,json}`) and each publisher's, author's and tag's
//! (`/feeds/{publishers,authors,tags}/{slug}.{ext}`), in Atom 1.0, RSS 2.0 and JSON
//! Feed 1.1. The operations and their response; what a page holds is in
//! [`model`], each format in its own file. Being anonymous reads outside `/api/`,
//! feeds get the `ETag`/304, `Cache-Control: public` and the response cache by
//! their path (see `crate::cache::public_read`).

pub mod atom;
pub mod json;
pub mod media;
pub mod model;
pub mod rss;

use poem::http::{HeaderValue, StatusCode};
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::{ApiResponse, OpenApi};

use self::model::{Feed, Format, Kind};
use super::found::{not_modified, read_headers};
use super::keys::label;
use super::{ApiTags, AppState};
use crate::error::ApiError;

/// A feed page, rendered.
pub struct FeedResponse {
    body: Vec<u8>,
    format: Format,
    feed: Feed,
}

impl IntoResponse for FeedResponse {
    fn into_response(self) -> Response {
        let mut resp = Response::builder()
            .status(StatusCode::OK)
            .content_type(self.format.content_type())
            .body(self.body);
        resp.headers_mut().insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        label(&mut resp, &self.feed);
        resp
    }
}

impl ApiResponse for FeedResponse {
    fn meta() -> MetaResponses {
        let schema = |format: Format| {
            let mut schema = match format {
                Format::Json => MetaSchema::new("object"),
                Format::Atom | Format::Rss => MetaSchema::new("string"),
            };
            schema.description = Some(match format {
                Format::Atom => "An Atom 1.0 document (RFC 4287) with Media RSS.",
                Format::Rss => {
                    "An RSS 2.0 document with `content:encoded`, `dc:creator`, `atom:link` and Media RSS."
                }
                Format::Json => {
                    "A JSON Feed 1.1 document (https://www.jsonfeed.org/version/1.1/); a syndicated item names its original in `_dispatch.syndicated_from`."
                }
            });
            MetaSchemaRef::Inline(Box::new(schema))
        };
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The feed page, in the format its extension names: Atom 1.0 \
                        (`.atom`), RSS 2.0 (`.rss`) or JSON Feed 1.1 (`.json`).",
                    status: Some(200),
                    status_range: None,
                    content: [Format::Atom, Format::Rss, Format::Json]
                        .into_iter()
                        .map(|f| MetaMediaType {
                            content_type: f.content_type(),
                            schema: schema(f),
                        })
                        .collect(),
                    headers: read_headers(),
                },
                not_modified(),
            ],
        }
    }

    fn register(_: &mut Registry) {}
}

crate::problem_responses!(
    /// Errors of a feed.
    FeedError {
        400 BadRequest "`cursor` is not one this feed issued (or the path holds a NUL character).",
        404 NotFound "No such feed: an extension other than `.atom`, `.rss` or `.json`, another name than `articles` for the site's feed, or no publisher, author or tag with this slug.",
    }
);

/// `name.ext` split, or the 404.
fn split(file: &str) -> Result<(&str, Format), ApiError> {
    file.rsplit_once('.')
        .and_then(|(name, ext)| Some((name, Format::from_ext(ext)?)))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| {
            ApiError::NotFound("No such feed: feeds end in `.atom`, `.rss` or `.json`.".to_string())
        })
}

async fn serve(
    state: &AppState,
    kind: Kind,
    file: &str,
    cursor: Option<String>,
) -> Result<FeedResponse, FeedError> {
    let (name, format) = split(file)?;
    if kind == Kind::Site && name != "articles" {
        return Err(ApiError::NotFound(
            "No such feed: the site's are `articles.atom`, `articles.rss` and `articles.json`."
                .to_string(),
        )
        .into());
    }
    let feed = model::collect(state, kind, name, format, cursor).await?;
    // Fifty bodies make a document of up to a few megabytes: written off the
    // runtime's threads.
    let (feed, body) = tokio::task::spawn_blocking(move || {
        let body = match format {
            Format::Atom => atom::render(&feed),
            Format::Rss => rss::render(&feed),
            Format::Json => json::render(&feed),
        };
        (feed, body)
    })
    .await
    .map_err(|err| {
        tracing::error!(error = %err, "rendering a feed failed");
        ApiError::Internal
    })?;
    Ok(FeedResponse {
        body: body?,
        format,
        feed,
    })
}

pub struct FeedsApi;

#[OpenApi(tag = "ApiTags::Feeds")]
impl FeedsApi {
    /// The site's feed
    ///
    /// Every published article, newest first, 50 a page: `articles.atom` (Atom 1.0),
    /// `articles.rss` (RSS 2.0) or `articles.json` (JSON Feed 1.1). Older pages are
    /// linked as `next` (Atom `link rel="next"`, RSS `atom:link rel="next"`, JSON
    /// Feed `next_url`; RFC 5005).
    #[oai(path = "/feeds/:file", method = "get", operation_id = "getSiteFeed")]
    async fn site(
        &self,
        state: Data<&AppState>,
        /// `articles.atom`, `articles.rss` or `articles.json`.
        #[oai(example = "example_site_file")]
        file: Path<String>,
        /// Where an older page starts: as the `next` link carries it.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
    ) -> Result<FeedResponse, FeedError> {
        serve(&state, Kind::Site, &file.0, cursor.0).await
    }

    /// A publisher's feed
    ///
    /// The articles a publisher carries, as the site's feed: `{slug}.atom`,
    /// `{slug}.rss` or `{slug}.json`.
    #[oai(
        path = "/feeds/publishers/:file",
        method = "get",
        operation_id = "getPublisherFeed"
    )]
    async fn publisher(
        &self,
        state: Data<&AppState>,
        /// The publisher's slug and the format's extension (`harbor-city-ledger.atom`).
        #[oai(example = "example_publisher_file")]
        file: Path<String>,
        /// Where an older page starts: as the `next` link carries it.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
    ) -> Result<FeedResponse, FeedError> {
        serve(&state, Kind::Publisher, &file.0, cursor.0).await
    }

    /// An author's feed
    ///
    /// The articles with this author in the byline, as the site's feed.
    #[oai(
        path = "/feeds/authors/:file",
        method = "get",
        operation_id = "getAuthorFeed"
    )]
    async fn author(
        &self,
        state: Data<&AppState>,
        /// The author's slug and the format's extension (`maren-okafor.rss`).
        #[oai(example = "example_author_file")]
        file: Path<String>,
        /// Where an older page starts: as the `next` link carries it.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
    ) -> Result<FeedResponse, FeedError> {
        serve(&state, Kind::Author, &file.0, cursor.0).await
    }

    /// A tag's feed
    ///
    /// The articles with this tag, as the site's feed.
    #[oai(
        path = "/feeds/tags/:file",
        method = "get",
        operation_id = "getTagFeed"
    )]
    async fn tag(
        &self,
        state: Data<&AppState>,
        /// The tag's slug and the format's extension (`climate.json`).
        #[oai(example = "example_tag_file")]
        file: Path<String>,
        /// Where an older page starts: as the `next` link carries it.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
    ) -> Result<FeedResponse, FeedError> {
        serve(&state, Kind::Tag, &file.0, cursor.0).await
    }
}

fn example_site_file() -> String {
    "articles.atom".into()
}

fn example_publisher_file() -> String {
    "harbor-city-ledger.atom".into()
}

fn example_author_file() -> String {
    "maren-okafor.rss".into()
}

fn example_tag_file() -> String {
    "climate.json".into()
}
