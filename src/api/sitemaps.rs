//! `/sitemap.xml` (the sitemap index), `/sitemaps/{file}` (its children: articles,
//! publishers, authors, tags) and `/sitemap-news.xml` (Google News): public XML
//! documents for search engines, served (and cached) like the API's public reads.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::Path;
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, OpenApi};

use super::{ApiTags, AppState};
use crate::content::ChangesAt;
use crate::content::sitemaps::{self, Document, Kind};
use crate::error::ApiError;

/// A sitemap or the sitemap index: `application/xml`.
pub struct Xml(pub Document);

/// The media type every sitemap is served as.
pub const XML: &str = "application/xml; charset=utf-8";

impl IntoResponse for Xml {
    fn into_response(self) -> Response {
        let mut resp = Response::builder()
            .status(StatusCode::OK)
            .content_type(XML)
            .body(self.0.xml);
        if let Some(at) = self.0.until {
            resp.extensions_mut().insert(ChangesAt(at));
        }
        resp
    }
}

impl ApiResponse for Xml {
    fn meta() -> MetaResponses {
        let headers = || {
            vec![
                MetaHeader {
                    name: "ETag".to_string(),
                    description: Some("A strong entity tag of these bytes.".to_string()),
                    required: true,
                    deprecated: false,
                    schema: String::schema_ref(),
                },
                MetaHeader {
                    name: "Cache-Control".to_string(),
                    description: Some(
                        "Public, for no longer than the document stays as it is (the news \
                         sitemap: until its oldest article leaves the two days)."
                            .to_string(),
                    ),
                    required: true,
                    deprecated: false,
                    schema: String::schema_ref(),
                },
            ]
        };
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The XML document (sitemaps.org 0.9; the news sitemap adds \
                                  Google News' `news:` elements).",
                    status: Some(200),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/xml",
                        schema: MetaSchemaRef::Inline(Box::new(
                            poem_openapi::registry::MetaSchema::new("string"),
                        )),
                    }],
                    headers: headers(),
                },
                MetaResponse {
                    description: "Not modified: `If-None-Match` names this `ETag`.",
                    status: Some(304),
                    status_range: None,
                    content: vec![],
                    headers: headers(),
                },
            ],
        }
    }

    fn register(_: &mut Registry) {}
}

crate::problem_responses!(
    /// Errors of the sitemap index and the news sitemap.
    SitemapError {
        400 BadRequest "The query holds a NUL character (`%00`).",
    }
);

crate::problem_responses!(
    /// Errors of a child sitemap.
    SitemapChildError {
        400 BadRequest "The path or query holds a NUL character (`%00`).",
        404 NotFound "No such sitemap: the name is not one the index lists (`articles-{n}.xml`, `publishers-{n}.xml`, `authors-{n}.xml`, `tags-{n}.xml`, n from 1 without leading zeros), or its page is past the last.",
    }
);

fn no_such_sitemap() -> ApiError {
    ApiError::NotFound(
        "No such sitemap: /sitemap.xml lists them (articles-{n}.xml, publishers-{n}.xml, \
         authors-{n}.xml, tags-{n}.xml), and this one is not, or is past the last page."
            .into(),
    )
}

pub struct SitemapsApi;

#[OpenApi(tag = "ApiTags::Sitemaps")]
impl SitemapsApi {
    /// The sitemap index
    ///
    /// Public. Lists, at `DISPATCH_PUBLIC_API_URL`, every child sitemap that lists
    /// something (`/sitemaps/articles-{n}.xml` of up to 50,000 public, indexable
    /// articles each in publication order, then publishers, authors and tags) and
    /// `/sitemap-news.xml` while it lists something, each with its `lastmod`.
    #[oai(
        path = "/sitemap.xml",
        method = "get",
        operation_id = "getSitemapIndex"
    )]
    async fn index(&self, state: Data<&AppState>) -> Result<Xml, SitemapError> {
        let at = state.clock.now();
        Ok(Xml(sitemaps::index(state.reader(), &state.site, at).await?))
    }

    /// A child sitemap
    ///
    /// Public. `articles-{n}.xml`: public articles that are not `noindex`, oldest
    /// first, 50,000 a page (page 1 exists even when empty); `publishers-{n}.xml`,
    /// `authors-{n}.xml`, `tags-{n}.xml`: their pages. Each URL is the public site's
    /// (`DISPATCH_PUBLIC_SITE_URL` and the URL templates) with its `lastmod`.
    #[oai(path = "/sitemaps/:file", method = "get", operation_id = "getSitemap")]
    async fn child(
        &self,
        state: Data<&AppState>,
        /// The child's file name, as the index gives it.
        #[oai(example = "crate::api::examples::sitemap_file")]
        file: Path<String>,
    ) -> Result<Xml, SitemapChildError> {
        let (kind, page) = Kind::parse(&file.0).ok_or_else(no_such_sitemap)?;
        let at = state.clock.now();
        let db = state.reader();
        let document = match kind {
            Kind::Articles => sitemaps::articles(db, &state.site, page, at).await?,
            _ => sitemaps::taxonomy(db, &state.site, kind, page).await?,
        };
        Ok(Xml(document.ok_or_else(no_such_sitemap)?))
    }

    /// The Google News sitemap
    ///
    /// Public. The public, indexable articles published in the last 48 hours, newest
    /// first, at most 1,000, each with its publisher's name, its language (ISO 639;
    /// `zh-cn` or `zh-tw` for Chinese), its publication time and title.
    #[oai(
        path = "/sitemap-news.xml",
        method = "get",
        operation_id = "getNewsSitemap"
    )]
    async fn news(&self, state: Data<&AppState>) -> Result<Xml, SitemapError> {
        let at = state.clock.now();
        Ok(Xml(sitemaps::news(state.reader(), &state.site, at).await?))
    }
}
