//! [`Found`]: a 200 JSON response whose description in the spec says what it holds.
//!
//! Its body is written straight from the view with serde rather than through
//! poem-openapi's intermediate `serde_json::Value` (a copy of every string in the
//! page, bodies included); the views derive both `Object` (the schema) and
//! `Serialize` (the bytes), and a test checks the bytes against the schema.

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

use super::keys::{Keyed, label};

/// What a 200 response holds, for its description in the spec.
pub trait Described {
    const DESCRIPTION: &'static str;
    /// The description when `fields` may choose what it holds.
    const PICKED_DESCRIPTION: &'static str = Self::DESCRIPTION;
}

/// A 200 response to a read, with a JSON body.
pub struct Found<T>(pub T);

/// A 200 response to a write (an update), with the JSON body of the result.
pub struct Saved<T>(pub T);

impl<T: Serialize + Send + Keyed> IntoResponse for Found<T> {
    fn into_response(self) -> Response {
        let mut resp = json_response(&self.0);
        label(&mut resp, &self.0);
        resp
    }
}

impl<T: Serialize + Send> IntoResponse for Saved<T> {
    fn into_response(self) -> Response {
        json_response(&self.0)
    }
}

pub fn json_response<T: Serialize>(value: &T) -> Response {
    {
        match serde_json::to_vec(value) {
            Ok(body) => Response::builder()
                .content_type("application/json; charset=utf-8")
                .body(body),
            Err(err) => {
                tracing::error!(error = %err, "serialising a response failed");
                crate::error::problem_response(&crate::error::ApiError::Internal.problem())
            }
        }
    }
}

pub use crate::wire::{rfc3339, rfc3339_opt};

/// The caching headers every successful read carries (set by the conditional-GET
/// middleware), for the spec.
pub fn read_headers() -> Vec<MetaHeader> {
    vec![
        MetaHeader {
            name: "ETag".to_string(),
            description: Some(
                "A strong entity tag of this exact body; send it back as `If-None-Match` to get \
                 304 while nothing changed. For an article it starts with the `version`, which \
                 `If-Match` on writes compares."
                    .to_string(),
            ),
            required: true,
            deprecated: false,
            schema: String::schema_ref(),
        },
        MetaHeader {
            name: "Cache-Control".to_string(),
            description: Some(
                "`public, max-age=N, stale-while-revalidate=S, stale-if-error=E` for anonymous \
                 reads (each configurable; when a scheduled article becomes public sooner, \
                 `public, max-age=<seconds until then>, stale-if-error=E`; on a stale answer \
                 `public, max-age=0`), `private, no-store` when the request carries a token."
                    .to_string(),
            ),
            required: true,
            deprecated: false,
            schema: String::schema_ref(),
        },
        MetaHeader {
            name: "Surrogate-Key".to_string(),
            description: Some(
                "What the response holds, space-separated, for purging a CDN: \
                 `article:<id>`, `publisher:<id>`, `author:<id>`, `tag:<id>`, `comment:<id>`, \
                 `comments:<article id>`, `list:articles` and the like. Absent on private \
                 resources."
                    .to_string(),
            ),
            required: false,
            deprecated: false,
            schema: String::schema_ref(),
        },
        MetaHeader {
            name: "Cache-Tag".to_string(),
            description: Some(
                "The same keys as `Surrogate-Key`, comma-separated (Cloudflare's form)."
                    .to_string(),
            ),
            required: false,
            deprecated: false,
            schema: String::schema_ref(),
        },
        MetaHeader {
            name: "X-Cache".to_string(),
            description: Some(
                "On anonymous reads: `hit` (from the server's response cache, no database \
                 read), `miss` (made afresh), or `stale` (the last cached answer, because the \
                 database is not answering or has no free connection). Absent when the request carries a token or the \
                 cache is off."
                    .to_string(),
            ),
            required: false,
            deprecated: false,
            schema: String::schema_ref(),
        },
    ]
}

/// The 304 every read may answer.
pub fn not_modified() -> MetaResponse {
    MetaResponse {
        description: "Not modified: `If-None-Match` names the current `ETag`; the body is empty.",
        status: Some(304),
        status_range: None,
        content: vec![],
        headers: read_headers(),
    }
}

impl<T: Serialize + Send + Type + Described + Keyed> ApiResponse for Found<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: T::DESCRIPTION,
                    status: Some(200),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: T::schema_ref(),
                    }],
                    headers: read_headers(),
                },
                not_modified(),
            ],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send + Type + Described> ApiResponse for Saved<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: T::DESCRIPTION,
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: T::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A 201 response to a create: `Location` (the new resource's address) and the JSON
/// body, written as a read of it is, so that the `ETag` the conditional middleware
/// puts on every 201 (over the exact body) is the one a read of it answers.
pub struct Created<T>(pub T, pub String);

impl<T: Serialize + Send> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut resp = json_response(&self.0);
        resp.set_status(poem::http::StatusCode::CREATED);
        if let Ok(value) = self.1.parse() {
            resp.headers_mut()
                .insert(poem::http::header::LOCATION, value);
        }
        resp
    }
}

/// The `ETag` of a 201, for the spec.
pub fn created_etag() -> MetaHeader {
    MetaHeader {
        name: "ETag".to_string(),
        description: Some(
            "A strong entity tag of this exact body: the one a read of the new resource \
             answers, so it can be sent back as `If-None-Match`."
                .to_string(),
        ),
        required: true,
        deprecated: false,
        schema: String::schema_ref(),
    }
}

impl<T: Serialize + Send + Type> ApiResponse for Created<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Created; `Location` is its address.",
                status: Some(201),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: T::schema_ref(),
                }],
                headers: vec![
                    MetaHeader {
                        name: "Location".to_string(),
                        description: Some("The new resource's address.".to_string()),
                        required: true,
                        deprecated: false,
                        schema: String::schema_ref(),
                    },
                    created_etag(),
                ],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

macro_rules! described {
    ($($ty:ty => $doc:literal, $list:literal),+ $(,)?) => {$(
        impl Described for $ty {
            const DESCRIPTION: &'static str = $doc;
            const PICKED_DESCRIPTION: &'static str = concat!(
                $doc,
                " With `fields`, only the chosen fields and `id` are present, whatever the \
                 schema's `required` says."
            );
        }
        impl super::fields::Paged for $ty {
            const LIST: bool = $list;
        }
    )+};
}

described!(
    super::articles::Article => "The article.", false,
    super::articles::ArticleList => "A page of articles.", true,
    super::publishers::Publisher => "The publisher.", false,
    super::publishers::PublisherList => "A page of publishers.", true,
    super::authors::Author => "The author.", false,
    super::authors::AuthorList => "A page of authors.", true,
    super::tags::Tag => "The tag.", false,
    super::tags::TagList => "A page of tags.", true,
    super::media::MediaAsset => "The asset, with its renditions.", false,
    super::media::MediaList => "A page of the media library.", true,
    super::users::User => "The user.", false,
    super::users::UserList => "A page of users.", true,
    super::comments::Comment => "The comment.", false,
    super::comments::CommentList => "A page of comments.", true,
    super::webhooks::Webhook => "The webhook (never its secret).", false,
    super::webhooks::WebhookList => "A page of webhooks.", true,
    super::webhooks::WebhookWithSecret => "The webhook with its new signing secret, shown this once.", false,
    super::webhooks::DeliveryList => "A page of deliveries, each with its attempts.", true,
    super::api_keys::ApiKey => "The API key (never its text).", false,
    super::api_keys::ApiKeyList => "A page of API keys (never their text).", true,
);
