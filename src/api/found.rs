//! [`Found`]: a 200 JSON response whose description in the spec says what it holds.

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ToJSON, Type};

/// What a 200 response holds, for its description in the spec.
pub trait Described {
    const DESCRIPTION: &'static str;
}

/// A 200 response with a JSON body.
pub struct Found<T>(pub T);

impl<T: ToJSON> IntoResponse for Found<T> {
    fn into_response(self) -> Response {
        poem_openapi::payload::Json(self.0).into_response()
    }
}

impl<T: ToJSON + Type + Described> ApiResponse for Found<T> {
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

macro_rules! described {
    ($($ty:ty => $doc:literal),+ $(,)?) => {$(
        impl Described for $ty {
            const DESCRIPTION: &'static str = $doc;
        }
    )+};
}

described!(
    super::articles::Article => "The article.",
    super::articles::ArticleList => "A page of articles.",
    super::publishers::Publisher => "The publisher.",
    super::publishers::PublisherList => "A page of publishers.",
    super::authors::Author => "The author.",
    super::authors::AuthorList => "A page of authors.",
    super::tags::Tag => "The tag.",
    super::tags::TagList => "A page of tags.",
);
