//! `/api/v1/media`: the media library (upload, list and search, read, change the
//! news metadata, delete), and `/media/{id}/{file}`: the stored renditions, public
//! and immutable, made on first request.

use chrono::{DateTime, Utc};
use entity::media;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::articles::IfMatch;
use super::body::JsonBody;
use super::fields::{Picked, Selection};
use super::found::{Created, Saved};
use super::upload::UploadBody;
use super::{ApiTags, AppState, BearerAuth, ListMeta, page_params, require};
use crate::auth::policy::{self, Action, Target};
use crate::content::media::{self as library, FocalPoint, MediaFilter, MediaUpdate, source};
use crate::error::ApiError;
use crate::etag::none_match;
use crate::media::image::Format;
use crate::media::renditions::{Preset, Rendition, Source};
use crate::nullable::Nullable;

/// One rendition of an asset.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct RenditionView {
    /// The preset: `original`, `w320`, `w640`, `w1024`, `w1600`, `w2400` (the widths
    /// narrower than the original), `square` (1:1) or `wide` (16:9), both around the
    /// focal point.
    pub name: String,
    /// Its address on this server (root-relative; immutable, cached for a year).
    pub url: String,
    /// In pixels.
    pub width: u32,
    /// In pixels.
    pub height: u32,
    /// `image/webp`, or the original's type (a GIF's renditions are PNG).
    pub media_type: String,
}

/// An image in the media library.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct MediaAsset {
    /// The id (a UUIDv7).
    pub id: Uuid,
    /// The original file, less its private metadata (GPS and all EXIF, XMP, IPTC).
    pub url: String,
    /// `image/jpeg`, `image/png`, `image/webp` or `image/gif`, as the file's bytes said.
    pub media_type: String,
    /// As displayed (after the EXIF orientation), in pixels.
    pub width: u32,
    /// As displayed, in pixels.
    pub height: u32,
    /// The size of the upload in bytes.
    pub byte_size: u64,
    /// Text for readers who cannot see the image.
    pub alt_text: Nullable<String>,
    /// What the photo shows.
    pub caption: Nullable<String>,
    /// The photographer.
    pub credit: Nullable<String>,
    /// The agency or provider.
    pub source: Nullable<String>,
    /// The copyright line.
    pub copyright: Nullable<String>,
    /// When the photo was taken (RFC 3339, UTC).
    #[serde(serialize_with = "crate::nullable::rfc3339")]
    pub taken_at: Nullable<DateTime<Utc>>,
    /// Where the interesting part is; crops keep it in view.
    pub focal_point: FocalPoint,
    /// The user who uploaded it (`null` once that account is deleted).
    pub uploaded_by: Nullable<Uuid>,
    /// Goes up by one with every change; send it as `If-Match`.
    pub version: i32,
    /// Every rendition: each preset in WebP and in the original's format.
    pub renditions: Vec<RenditionView>,
    /// A ready `srcset` of the WebP width renditions (the original alone when it is
    /// narrower than 320 pixels).
    pub srcset: String,
    /// The same in the original's format (PNG for a GIF), for `<picture>` fallbacks.
    pub fallback_srcset: String,
    /// When it was uploaded (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::api::found::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl MediaAsset {
    /// The fields `fields` may choose: every key, in order.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "url",
        "media_type",
        "width",
        "height",
        "byte_size",
        "alt_text",
        "caption",
        "credit",
        "source",
        "copyright",
        "taken_at",
        "focal_point",
        "uploaded_by",
        "version",
        "renditions",
        "srcset",
        "fallback_srcset",
        "created_at",
        "updated_at",
    ];
}

impl From<&media::Model> for MediaAsset {
    fn from(m: &media::Model) -> Self {
        let s: Source = source(m);
        let url = |name: &str| crate::media::renditions::url(m.id, name);
        let renditions = s
            .renditions()
            .into_iter()
            .map(|r: Rendition| {
                let (width, height) = s.size(r.preset);
                RenditionView {
                    name: r.preset.name(),
                    url: url(&s.file_name(r)),
                    width,
                    height,
                    media_type: r.format.mime().to_string(),
                }
            })
            .collect();
        let original = Rendition {
            preset: Preset::Original,
            format: s.format,
        };
        Self {
            id: m.id,
            url: url(&s.file_name(original)),
            media_type: m.media_type.clone(),
            width: s.width,
            height: s.height,
            byte_size: u64::try_from(m.byte_size).unwrap_or(0),
            alt_text: m.alt_text.clone().into(),
            caption: m.caption.clone().into(),
            credit: m.credit.clone().into(),
            source: m.source.clone().into(),
            copyright: m.copyright.clone().into(),
            taken_at: m.taken_at.into(),
            focal_point: FocalPoint {
                x: m.focal_x,
                y: m.focal_y,
            },
            uploaded_by: m.uploaded_by.into(),
            version: m.version,
            renditions,
            srcset: s.srcset(Format::Webp, url),
            fallback_srcset: s.srcset(s.format.still(), url),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of the media library.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct MediaList {
    /// The assets on this page, newest first.
    pub data: Vec<MediaAsset>,
    /// Paging information.
    pub meta: ListMeta,
}

/// The type filter of the library.
#[derive(poem_openapi::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    #[oai(rename = "image/jpeg")]
    Jpeg,
    #[oai(rename = "image/png")]
    Png,
    #[oai(rename = "image/webp")]
    Webp,
    #[oai(rename = "image/gif")]
    Gif,
}

impl MediaType {
    /// The format whose `mime` this is.
    fn format(self) -> Format {
        match self {
            Self::Jpeg => Format::Jpeg,
            Self::Png => Format::Png,
            Self::Webp => Format::Webp,
            Self::Gif => Format::Gif,
        }
    }
}

/// What an upload answers: 201 for a new asset, 200 with the asset that already
/// holds the same bytes.
pub enum Uploaded {
    New(Created<MediaAsset>),
    Existing(Saved<MediaAsset>),
}

impl IntoResponse for Uploaded {
    fn into_response(self) -> Response {
        let (mut resp, version) = match self {
            Self::New(c) => {
                let v = c.0.version;
                (c.into_response(), v)
            }
            Self::Existing(s) => {
                let v = s.0.version;
                (s.into_response(), v)
            }
        };
        tag(&mut resp, version);
        resp
    }
}

/// Puts the version's entity tag on `resp` (the middleware appends a digest).
fn tag(resp: &mut Response, version: i32) {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        resp.headers_mut().insert(header::ETAG, value);
    }
}

fn json_meta(status: u16, description: &'static str, headers: Vec<MetaHeader>) -> MetaResponse {
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: "application/json; charset=utf-8",
            schema: MediaAsset::schema_ref(),
        }],
        headers,
    }
}

fn version_etag() -> MetaHeader {
    MetaHeader {
        name: "ETag".to_string(),
        description: Some(
            "A strong entity tag starting with the asset's `version`; send it as `If-Match`."
                .to_string(),
        ),
        required: true,
        deprecated: false,
        schema: String::schema_ref(),
    }
}

impl ApiResponse for Uploaded {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![
                json_meta(
                    201,
                    "Uploaded; `Location` is the asset's address.",
                    vec![
                        MetaHeader {
                            name: "Location".to_string(),
                            description: Some("The new asset's address.".to_string()),
                            required: true,
                            deprecated: false,
                            schema: String::schema_ref(),
                        },
                        version_etag(),
                    ],
                ),
                json_meta(
                    200,
                    "The same bytes were uploaded before: that asset, unchanged (the metadata \
                     sent with this upload is not applied; use `PATCH`).",
                    vec![version_etag()],
                ),
            ],
        }
    }

    fn register(registry: &mut Registry) {
        MediaAsset::register(registry);
    }
}

/// A read of one asset (with the fields chosen), its `ETag` starting with its
/// `version`, so that it can go back as `If-Match`.
pub struct MediaRead(Picked<MediaAsset>);

impl IntoResponse for MediaRead {
    fn into_response(self) -> Response {
        let version = self.0.0.version;
        let mut resp = self.0.into_response();
        tag(&mut resp, version);
        resp
    }
}

impl ApiResponse for MediaRead {
    fn meta() -> MetaResponses {
        let mut meta = Picked::<MediaAsset>::meta();
        for response in &mut meta.responses {
            if response.status == Some(200) {
                response.headers.retain(|h| h.name != "ETag");
                response.headers.push(version_etag());
            }
        }
        meta
    }

    fn register(registry: &mut Registry) {
        MediaAsset::register(registry);
    }
}

/// A changed asset: 200 with its new `ETag`.
pub struct MediaSaved(MediaAsset);

impl IntoResponse for MediaSaved {
    fn into_response(self) -> Response {
        let version = self.0.version;
        let mut resp = Saved(self.0).into_response();
        tag(&mut resp, version);
        resp
    }
}

impl ApiResponse for MediaSaved {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![json_meta(
                200,
                "The asset as saved, one version on.",
                vec![version_etag()],
            )],
        }
    }

    fn register(registry: &mut Registry) {
        MediaAsset::register(registry);
    }
}

crate::problem_responses!(
    /// Errors of an upload.
    UploadError {
        400 BadRequest "The form is malformed: no `file` part, two files, an unknown field, a malformed `taken_at` or `focal_point`, a field too long or holding NUL.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The role may not upload.",
        413 PayloadTooLarge "The file (or the request) is larger than `DISPATCH_MEDIA_MAX_BYTES`; refused before it is all read when `Content-Length` says so.",
        415 UnsupportedMediaType "Not a JPEG, PNG, WebP or GIF by its bytes (whatever its name or `Content-Type` said); SVG is refused because it can carry scripts.",
        422 UnprocessableEntity "An image that breaks a rule: more pixels than `DISPATCH_MEDIA_MAX_PIXELS` (checked from its header, before decoding), or truncated or corrupt.",
    }
);

crate::problem_responses!(
    /// Errors of the library's list.
    MediaListError {
        400 BadRequest "A parameter is malformed or out of range (e.g. `limit` above 100, a forged `cursor`, an unknown `type`).",
        401 Unauthorized "No token, or a token that is not valid: the library is for signed-in users.",
    }
);

crate::problem_responses!(
    /// Errors of a read of one asset.
    MediaReadError {
        400 BadRequest "A parameter is malformed (an unknown name in `fields`).",
        401 Unauthorized "An `Authorization` header was sent with a token that is not valid.",
        404 NotFound "No asset has this id.",
    }
);

crate::problem_responses!(
    /// Errors of a change to an asset.
    MediaUpdateError {
        400 BadRequest "The body is not valid JSON or breaks the schema (wrong type, too long, a focal point outside 0..1).",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The role may not edit this asset (authors and contributors edit only what they uploaded, and only while no published story, author or publisher shows it).",
        404 NotFound "No asset has this id.",
        412 PreconditionFailed "`If-Match` names a version the asset has moved on from.",
        413 PayloadTooLarge "The body is larger than the configured limit.",
        415 UnsupportedMediaType "The body is not `application/json`.",
    }
);

crate::problem_responses!(
    /// Errors of a delete of an asset.
    MediaDeleteError {
        400 BadRequest "The path holds a NUL character.",
        401 Unauthorized "No token, or a token that is not valid.",
        403 Forbidden "The role may not delete media (editors and admins may).",
        404 NotFound "No asset has this id.",
        409 Conflict "Articles, authors or publishers use the asset; the detail names them.",
    }
);

crate::problem_responses!(
    /// Errors of a rendition.
    FileError {
        400 BadRequest "The path holds a NUL character.",
        404 NotFound "No asset has this id, or it has no rendition of this name (preset names only; a crop's name carries the current focal point).",
    }
);

#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted, with its files.
    #[oai(status = 204)]
    NoContent,
}

/// A stored rendition: the image bytes, immutable.
pub enum FileResponse {
    Image {
        bytes: bytes::Bytes,
        media_type: &'static str,
        etag: String,
    },
    NotModified {
        etag: String,
    },
}

/// How long renditions may be cached: a year, never revalidated (each URL's bytes
/// never change; new metadata or a new focal point gives new crop URLs).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl IntoResponse for FileResponse {
    fn into_response(self) -> Response {
        let (status, etag, body) = match self {
            Self::Image {
                bytes,
                media_type,
                etag,
            } => {
                let resp = Response::builder()
                    .status(StatusCode::OK)
                    .content_type(media_type)
                    .header(header::CONTENT_LENGTH, bytes.len())
                    .header("x-content-type-options", "nosniff")
                    .body(bytes);
                (StatusCode::OK, etag, Some(resp))
            }
            Self::NotModified { etag } => (StatusCode::NOT_MODIFIED, etag, None),
        };
        let mut resp = body.unwrap_or_else(|| Response::builder().status(status).finish());
        if let Ok(value) = HeaderValue::from_str(&etag) {
            resp.headers_mut().insert(header::ETAG, value);
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        resp
    }
}

impl ApiResponse for FileResponse {
    fn meta() -> MetaResponses {
        let binary =
            || MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")));
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
                    description: Some(format!("`{IMMUTABLE}`")),
                    required: true,
                    deprecated: false,
                    schema: String::schema_ref(),
                },
            ]
        };
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The image, with its `Content-Type` and `Content-Length`.",
                    status: Some(200),
                    status_range: None,
                    content: ["image/webp", "image/jpeg", "image/png", "image/gif"]
                        .into_iter()
                        .map(|content_type| MetaMediaType {
                            content_type,
                            schema: binary(),
                        })
                        .collect(),
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

fn not_found() -> ApiError {
    ApiError::NotFound("No asset has this id.".into())
}

fn no_rendition() -> ApiError {
    ApiError::NotFound(
        "No asset has this id, or it has no rendition of this name: the names are in the \
         asset's `renditions`."
            .into(),
    )
}

pub struct MediaApi;

#[OpenApi(tag = "ApiTags::Media")]
impl MediaApi {
    /// Upload an image
    ///
    /// Any signed-in user. A `multipart/form-data` form with the image in `file` and
    /// optional metadata fields (what is left out is taken from the file's IPTC, XMP
    /// or EXIF), or the image itself as the body with an `image/*` content type. The
    /// bytes decide the type: JPEG, PNG, WebP or GIF. The same bytes uploaded again
    /// answer 200 with the existing asset.
    #[oai(path = "/api/v1/media", method = "post", operation_id = "uploadMedia")]
    async fn upload(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: UploadBody,
    ) -> Result<Uploaded, UploadError> {
        require(&auth.0, Action::UploadMedia)?;
        let (bytes, details) = match body {
            UploadBody::Form(form) => (form.file, form.details),
            UploadBody::Raw(raw) => (raw.0, Default::default()),
        };
        let (asset, new) = library::upload(
            &state.db,
            &state.media,
            bytes,
            details,
            super::by(&auth.0, &state),
        )
        .await?;
        let view = MediaAsset::from(&asset);
        Ok(if new {
            let location = format!("/api/v1/media/{}", asset.id);
            Uploaded::New(Created(view, location))
        } else {
            Uploaded::Existing(Saved(view))
        })
    }

    /// List the media library
    ///
    /// Signed-in users, newest first, a keyset page at a time; filtered by type,
    /// uploader, words of the caption, credit, alt text or source (`q`), and whether
    /// anything uses the asset (`unused`).
    #[oai(path = "/api/v1/media", method = "get", operation_id = "listMedia")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only this type.
        #[oai(name = "type")]
        media_type: Query<Option<MediaType>>,
        /// Only what this user uploaded (a user id).
        uploaded_by: Query<Option<Uuid>>,
        /// Words that must each start a word of the caption, credit, alt text or source.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        /// `true`: only assets no article, author or publisher uses; `false`: only used ones.
        unused: Query<Option<bool>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<Picked<MediaList>, MediaListError> {
        require(&auth.0, Action::UploadMedia)?;
        let fields = Selection::parse(fields.0.as_deref(), MediaAsset::FIELDS)?;
        if q.0
            .as_deref()
            .is_some_and(|q| crate::content::search::terms(q).is_empty() && !q.trim().is_empty())
        {
            return Err(
                ApiError::bad_request("q", "must contain at least one letter or digit").into(),
            );
        }
        let params = page_params(limit.0, cursor.0, count.0);
        let filter = MediaFilter {
            media_type: media_type.0.map(|t| t.format().mime().to_string()),
            uploaded_by: uploaded_by.0,
            q: q.0,
            unused: unused.0,
        };
        let page = library::list(&state.db, &filter, &params).await?;
        Ok(Picked(
            MediaList {
                meta: ListMeta::of(&page, params.limit),
                data: page.items.iter().map(MediaAsset::from).collect(),
            },
            fields,
        ))
    }

    /// Get an asset
    ///
    /// Public, like the renditions it lists (an asset's id is in every page that
    /// shows it).
    #[oai(path = "/api/v1/media/:id", method = "get", operation_id = "getMedia")]
    async fn get(
        &self,
        state: Data<&AppState>,
        /// The asset's id.
        #[oai(example = "crate::api::examples::media_id")]
        id: Path<Uuid>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
    ) -> Result<MediaRead, MediaReadError> {
        let fields = Selection::parse(fields.0.as_deref(), MediaAsset::FIELDS)?;
        let found = library::find(state.reader(), id.0)
            .await?
            .ok_or_else(not_found)?;
        Ok(MediaRead(Picked(MediaAsset::from(&found), fields)))
    }

    /// Change an asset's metadata
    ///
    /// Contributors and authors change what they uploaded while readers see it
    /// nowhere (no published story shows it), editors and admins any.
    /// Only the fields sent change. Send `If-Match` with the `ETag` (or `version`) to
    /// refuse the change (412) if someone else changed it first.
    #[oai(
        path = "/api/v1/media/:id",
        method = "patch",
        operation_id = "updateMedia"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The asset's id.
        #[oai(example = "crate::api::examples::media_id")]
        id: Path<Uuid>,
        /// The `ETag` (or the quoted `version`) the change was made to.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<MediaUpdate>,
    ) -> Result<MediaSaved, MediaUpdateError> {
        require(&auth.0, Action::UploadMedia)?;
        let expected = IfMatch::parse(if_match.0.as_deref())?;
        let current = library::find(&state.db, id.0)
            .await?
            .ok_or_else(not_found)?;
        // Only roles limited to their own uploads need to know where it is shown.
        let shown = policy::scope(auth.0.grant, Action::EditMedia) != policy::Scope::All
            && library::shown(&state.db, current.id).await?;
        policy::decide(
            &auth.0,
            Action::EditMedia,
            Some(Target::media(&auth.0, current.uploaded_by, shown)),
        )?;
        let expected = match expected {
            None | Some(IfMatch::Any) => None,
            Some(m) if m.matches(current.version) => Some(current.version),
            Some(_) => Some(-1),
        };
        let saved = library::update(
            &state.db,
            current,
            body.0,
            expected,
            super::by(&auth.0, &state),
        )
        .await?
        .ok_or_else(not_found)?;
        Ok(MediaSaved(MediaAsset::from(&saved)))
    }

    /// Delete an asset
    ///
    /// Editors and admins. Refused with 409, naming them, while articles (featured
    /// or in the body), authors or publishers use it. Its files go with it.
    #[oai(
        path = "/api/v1/media/:id",
        method = "delete",
        operation_id = "deleteMedia"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The asset's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, MediaDeleteError> {
        require(&auth.0, Action::DeleteMedia)?;
        let current = library::find(&state.db, id.0)
            .await?
            .ok_or_else(not_found)?;
        if !library::delete(&state.db, &state.media, current, super::by(&auth.0, &state)).await? {
            return Err(not_found().into());
        }
        Ok(Deleted::NoContent)
    }

    /// Get a rendition
    ///
    /// Public. The names are in the asset's `renditions` (e.g. `w1024.webp`,
    /// `square-500-300.jpg`, `original.png`); made on first request and stored, then
    /// served from storage with `Cache-Control: public, max-age=31536000, immutable`.
    #[oai(
        path = "/media/:id/:file",
        method = "get",
        operation_id = "getMediaFile"
    )]
    async fn file(
        &self,
        state: Data<&AppState>,
        /// The asset's id.
        #[oai(example = "crate::api::examples::media_id")]
        id: Path<Uuid>,
        /// The rendition's file name: a `renditions[].url`'s last segment.
        #[oai(example = "crate::api::examples::media_file")]
        file: Path<String>,
        /// The `ETag` of a copy already held: 304 when it is this file's.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> Result<FileResponse, FileError> {
        let id = id.0;
        let name = file.0;
        let Some(format) = name
            .rsplit_once('.')
            .and_then(|(_, ext)| Format::from_ext(ext))
            .filter(|_| crate::media::renditions::well_formed(&name))
        else {
            return Err(no_rendition().into());
        };
        // Only while the asset exists: files a delete could not remove, or a
        // rendition finished just after it, are never served.
        let asset = library::find(&state.db, id)
            .await?
            .ok_or_else(no_rendition)?;
        // The bytes behind a name never change, so its name is its tag.
        let etag = format!("\"{id}/{name}\"");
        if if_none_match
            .0
            .as_deref()
            .is_some_and(|h| none_match(h, &etag))
        {
            // Only for a file that exists: a 304 for a made-up name would lie.
            if state.media.stored(id, &name).await?.is_some() {
                return Ok(FileResponse::NotModified { etag });
            }
        }
        if let Some(bytes) = state.media.stored(id, &name).await? {
            return Ok(FileResponse::Image {
                bytes,
                media_type: format.mime(),
                etag,
            });
        }
        let s = source(&asset);
        let rendition = s.parse(&name).ok_or_else(no_rendition)?;
        let bytes = state
            .media
            .rendition(id, s, rendition)
            .await?
            .ok_or_else(no_rendition)?;
        // Deleted while it was being made: its files go after it.
        if library::find(&state.db, id).await?.is_none() {
            state.media.remove(id).await;
            return Err(no_rendition().into());
        }
        Ok(FileResponse::Image {
            bytes,
            media_type: format.mime(),
            etag,
        })
    }
}
