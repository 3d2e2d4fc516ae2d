//! Swagger UI under `/docs` and the site icon at `/favicon.ico`. The page is
//! poem-openapi's, with two changes: the token given to "Authorize" is kept across
//! reloads (`persistAuthorization`), and the page names the icon. Its CSP is made
//! from this page's own inline scripts and styles ([`crate::edge::docs_csp`]).

use poem::endpoint::make_sync;
use poem::http::header;
use poem::web::Html;
use poem::{Endpoint, IntoResponse, Response, Route, handler};

/// A 32×32 icon (a page of a newspaper), as a one-image ICO holding a PNG.
const FAVICON: &[u8] = include_bytes!("docs/favicon.ico");

/// Swagger UI's setting after which ours are added, as poem-openapi writes it.
const ANCHOR_SETTING: &str = "deepLinking: true,";
/// The tag after which the icon's `<link>` goes.
const ANCHOR_HEAD: &str = "</title>";

/// Swagger UI's page (`html`, from `OpenApiService::swagger_ui_html`) with
/// `persistAuthorization` on and a `<link rel="icon">`. A test reads both back
/// from `/docs`, so a poem-openapi whose page no longer has the anchors fails it.
pub fn page(html: &str) -> String {
    html.replacen(
        ANCHOR_SETTING,
        "deepLinking: true,\n        persistAuthorization: true,",
        1,
    )
    .replacen(
        ANCHOR_HEAD,
        "</title>\n    <link rel=\"icon\" type=\"image/x-icon\" href=\"/favicon.ico\">",
        1,
    )
}

/// Serves `page` at the root of where it is nested.
pub fn endpoint(page: String) -> impl Endpoint + 'static {
    Route::new().at("/", make_sync(move |_| Html(page.clone())))
}

/// `GET /favicon.ico`: the icon, cacheable for a day.
#[handler]
pub fn favicon() -> Response {
    FAVICON
        .with_content_type("image/x-icon")
        .with_header(header::CACHE_CONTROL, "public, max-age=86400")
        .into_response()
}
