//! The body of `POST /api/v1/media`: a `multipart/form-data` form (the file and
//! optional metadata fields, as Swagger UI's upload form sends it) or the raw image
//! with an `image/*` content type. The form is read here rather than by
//! poem-openapi's `Multipart` (whose schema it documents), so that each way a form
//! can be wrong (no file, two files, an unknown or malformed field, a file over the
//! limit) is a problem that says so.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use poem::web::Multipart;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiRequest, Multipart as MultipartSchema};

use crate::content::media::{Details, FocalPoint, check_details};
use crate::error::{ApiError, FieldError, problem_response};

/// How much larger than `DISPATCH_MEDIA_MAX_BYTES` a whole upload request may be:
/// room for the form's boundaries, part headers and metadata fields.
pub const FORM_OVERHEAD: usize = 64 * 1024;

/// The path uploads are posted to (which gets the larger body limit).
pub const UPLOAD_PATH: &str = "/api/v1/media";

/// An upload form, as documented (parsed by [`Form`]).
#[derive(MultipartSchema, Debug)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The image: JPEG, PNG, WebP or GIF (its bytes decide, not its name), at most
    /// `DISPATCH_MEDIA_MAX_BYTES` (25 MiB by default) and 50 megapixels.
    file: Upload,
    /// Text for readers who cannot see the image (at most 1000 characters).
    alt_text: Option<String>,
    /// What the photo shows (at most 5000 characters); else the file's IPTC caption.
    caption: Option<String>,
    /// The photographer (at most 200); else the file's IPTC By-line, XMP creator or EXIF Artist.
    credit: Option<String>,
    /// The agency or provider (at most 200); else the file's IPTC Credit or Source.
    source: Option<String>,
    /// The copyright line (at most 500); else the file's IPTC Copyright Notice.
    copyright: Option<String>,
    /// When it was taken (RFC 3339); else the file's IPTC or EXIF date.
    taken_at: Option<String>,
    /// The focal point as `x,y`, each 0 to 1 from the left and the top (default `0.5,0.5`).
    focal_point: Option<String>,
}

/// A parsed upload form.
pub struct Form {
    pub file: Bytes,
    pub details: Details,
}

/// A raw image body.
pub struct Raw(pub Bytes);

/// What `POST /api/v1/media` takes.
#[derive(ApiRequest)]
pub enum UploadBody {
    /// A form with the file in `file` and optional metadata fields.
    Form(Form),
    /// The image itself as the body (`Content-Type: image/jpeg`, … ; the bytes decide
    /// the type). Metadata comes from the file; change it with `PATCH`.
    Raw(Raw),
}

fn bad(field: &str, message: impl Into<String>) -> poem::Error {
    poem::Error::from_response(problem_response(
        &ApiError::bad_request(field, message).problem(),
    ))
}

fn too_large(limit: usize) -> poem::Error {
    poem::Error::from_response(problem_response(
        &ApiError::PayloadTooLarge(format!(
            "The file is larger than the limit of {limit} bytes (DISPATCH_MEDIA_MAX_BYTES)."
        ))
        .problem(),
    ))
}

/// The upload limit in force (the server's state carries it).
fn max_bytes(request: &Request) -> usize {
    request
        .data::<crate::state::AppState>()
        .map_or(25 * 1024 * 1024, |s| s.media.config.max_bytes)
}

impl Payload for Form {
    const CONTENT_TYPE: &'static str = "multipart/form-data";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(ct) if ct.type_() == mime::MULTIPART
            && ct.subtype() == mime::FORM_DATA)
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = <UploadForm as Payload>::schema_ref();
        // Swagger UI fills each text field of a form with its example, or with the
        // word `string` where there is none, and sends it: `string` is no time for
        // `taken_at` nor a point for `focal_point` (a 400), and would be the credit
        // and caption of whatever was uploaded. An empty example leaves the fields
        // empty, so that only what the person types is sent; the rest comes from the
        // file, as an empty field does.
        if let MetaSchemaRef::Inline(form) = &mut schema {
            for (_, property) in &mut form.properties {
                if let MetaSchemaRef::Inline(field) = property
                    && field.ty == "string"
                    && field.format.is_none()
                {
                    field.example = Some(serde_json::Value::String(String::new()));
                }
            }
        }
        schema
    }

    fn register(registry: &mut Registry) {
        <UploadForm as Payload>::register(registry);
    }
}

/// The text of a form field, or the 400 naming it.
fn text(field: &str, bytes: &[u8]) -> poem::Result<String> {
    let text = std::str::from_utf8(bytes).map_err(|_| bad(field, "must be UTF-8 text"))?;
    Ok(text.trim().to_string())
}

fn focal(text: &str) -> poem::Result<FocalPoint> {
    let message = "must be `x,y`, two numbers from 0 to 1 (e.g. `0.5,0.3`)";
    let (x, y) = text
        .split_once(',')
        .ok_or_else(|| bad("focal_point", message))?;
    let number = |v: &str| {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| bad("focal_point", message))
    };
    Ok(FocalPoint {
        x: number(x)?,
        y: number(y)?,
    })
}

impl ParsePayload for Form {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = max_bytes(request);
        let mut form = Multipart::from_request(request, body)
            .await
            .map_err(|err| bad("body", format!("is not a multipart form: {err}")))?;
        let mut file: Option<Bytes> = None;
        let mut details = Details::default();
        let mut seen: Vec<String> = Vec::new();
        loop {
            let field = match form.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(err) => {
                    return Err(bad(
                        "body",
                        format!("is not a well-formed multipart form: {err}"),
                    ));
                }
            };
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field.file_name().is_some() || name == "file";
            if is_file && (file.is_some() || name != "file") {
                return Err(bad(
                    "file",
                    "send exactly one file per upload, in the part named `file`",
                ));
            }
            if !is_file && seen.contains(&name) {
                return Err(bad(&name, "is sent twice"));
            }
            seen.push(name.clone());
            let bytes = field
                .bytes()
                .await
                .map_err(|err| bad(&name, format!("could not be read: {err}")))?;
            if is_file {
                if bytes.len() > limit {
                    return Err(too_large(limit));
                }
                file = Some(Bytes::from(bytes));
                continue;
            }
            let value = text(&name, &bytes)?;
            let value = (!value.is_empty()).then_some(value);
            match name.as_str() {
                "alt_text" => details.alt_text = value,
                "caption" => details.caption = value,
                "credit" => details.credit = value,
                "source" => details.source = value,
                "copyright" => details.copyright = value,
                "taken_at" => {
                    details.taken_at = value
                        .map(|v| {
                            DateTime::parse_from_rfc3339(&v)
                                .map(|t| t.with_timezone(&Utc))
                                .map_err(|_| {
                                    bad(
                                        "taken_at",
                                        "must be an RFC 3339 time such as 2026-03-14T06:30:00Z",
                                    )
                                })
                        })
                        .transpose()?;
                }
                "focal_point" => details.focal_point = value.as_deref().map(focal).transpose()?,
                other => {
                    return Err(bad(
                        other,
                        "is not a field of the upload form (file, alt_text, caption, credit, source, \
                         copyright, taken_at, focal_point)",
                    ));
                }
            }
        }
        let Some(file) = file else {
            return Err(poem::Error::from_response(problem_response(
                &ApiError::BadRequest(
                    "The form has no `file` part; send the image in a part named `file`.".into(),
                    vec![FieldError::new("file", "is required")],
                )
                .problem(),
            )));
        };
        check_details(&details)
            .map_err(|err| poem::Error::from_response(problem_response(&err.problem())))?;
        Ok(Self { file, details })
    }
}

impl Payload for Raw {
    const CONTENT_TYPE: &'static str = "image/*";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(ct) if ct.type_() == mime::IMAGE)
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")))
    }
}

impl ParsePayload for Raw {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = max_bytes(request);
        let bytes = Bytes::from_request(request, body).await?;
        if bytes.len() > limit {
            return Err(too_large(limit));
        }
        Ok(Self(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented form: `file` a required binary, and every metadata field a text
    /// whose example is empty (what Swagger UI puts in the field).
    #[test]
    fn the_form_documents_a_file_and_empty_text_fields() {
        let MetaSchemaRef::Inline(form) = <Form as Payload>::schema_ref() else {
            panic!("the form's schema is inline");
        };
        assert_eq!(form.required, vec!["file"]);
        let mut texts = Vec::new();
        for (name, property) in &form.properties {
            let MetaSchemaRef::Inline(field) = property else {
                panic!("{name} is inline");
            };
            if *name == "file" {
                assert_eq!((field.ty, field.format), ("string", Some("binary")));
                assert_eq!(field.example, None);
            } else {
                assert_eq!(field.ty, "string", "{name}");
                assert_eq!(field.example, Some(serde_json::json!("")), "{name}");
                texts.push(*name);
            }
        }
        assert_eq!(
            texts,
            [
                "alt_text",
                "caption",
                "credit",
                "source",
                "copyright",
                "taken_at",
                "focal_point"
            ]
        );
    }
}
