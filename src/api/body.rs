//! [`JsonBody`]: the JSON request payload of every write (and [`OptionalJsonBody`]
//! where it may be left out).
//!
//! It documents exactly what poem-openapi's `Json` documents, but before handing
//! the value to the object's parser it checks it against the object's own schema,
//! so that a missing field, a wrong type, a malformed id or time, an unknown enum
//! value or an unknown field is a 400 that names the field, every field at fault
//! at once, instead of the parser's first complaint about a type.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::error::ContentTypeError;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde_json::Value;

use crate::content::text;
use crate::error::{ApiError, FieldError, problem_response};

/// A JSON request body of type `T`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(ct) if ct.type_() == "application"
            && (ct.subtype() == "json" || ct.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

fn refuse(detail: String, errors: Vec<FieldError>) -> poem::Error {
    poem::Error::from_response(problem_response(
        &ApiError::BadRequest(detail, errors).problem(),
    ))
}

impl<T: ParseFromJSON + Type> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        if data.iter().all(u8::is_ascii_whitespace) {
            return Err(refuse(
                "The request body is empty; send a JSON object.".into(),
                vec![],
            ));
        }
        parse(&data).map(Self)
    }
}

/// `data` as a `T`: JSON that meets `T`'s schema, or the 400 naming what does not.
fn parse<T: ParseFromJSON + Type>(data: &[u8]) -> poem::Result<T> {
    let value: Value = serde_json::from_slice(data).map_err(|err| {
        refuse(
            format!("The request body is not valid JSON: {err}."),
            vec![],
        )
    })?;
    let errors = schema_errors::<T>(&value);
    if !errors.is_empty() {
        return Err(poem::Error::from_response(problem_response(
            &ApiError::malformed(errors).problem(),
        )));
    }
    T::parse_from_json(Some(value)).map_err(|err| {
        poem_openapi::error::ParseRequestPayloadError {
            reason: err.into_message(),
        }
        .into()
    })
}

poem_openapi::impl_apirequest_for_payload!(JsonBody<T>, T: ParseFromJSON + Type);

/// A JSON request body of type `T` that may be left out: no body at all (or only
/// whitespace) is `None`; anything else is read as [`JsonBody`] reads it, and must
/// say it is JSON.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<'a, T: ParseFromJSON + Type> ApiExtractor<'a> for OptionalJsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <JsonBody<T> as Payload>::CONTENT_TYPE,
                schema: T::schema_ref(),
            }],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let data = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        if data.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        match request.content_type() {
            Some(content_type) if JsonBody::<T>::check_content_type(content_type) => {
                parse(&data).map(|value| Self(Some(value)))
            }
            Some(content_type) => Err(ContentTypeError::NotSupported {
                content_type: content_type.to_string(),
            }
            .into()),
            None => Err(ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// What is wrong with `value` as a `T`, field by field (empty when nothing is).
pub fn schema_errors<T: Type>(value: &Value) -> Vec<FieldError> {
    let mut registry = Registry::new();
    T::register(&mut registry);
    let root = T::schema_ref();
    let Some(schema) = resolve(&registry, &root) else {
        return Vec::new();
    };
    let Value::Object(object) = value else {
        return vec![FieldError::new("body", "must be a JSON object")];
    };
    let mut errors = Vec::new();
    object_errors(&registry, schema, object, "", &mut errors);
    errors
}

/// What is wrong with `object` as an object of `schema`; fields are named after
/// `prefix` (`focal_point.x`), so that a nested object's fault names its path and
/// not just its last segment (poem-openapi's own message drops the parent).
fn object_errors(
    registry: &Registry,
    schema: &MetaSchema,
    object: &serde_json::Map<String, Value>,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) {
    for name in &schema.required {
        if object.get(*name).is_none_or(Value::is_null) {
            errors.push(FieldError::new(format!("{prefix}{name}"), "is required"));
        }
    }
    // By name, whatever order the body (or serde_json's map) keeps.
    let mut fields: Vec<(&String, &Value)> = object.iter().collect();
    fields.sort_by_key(|(name, _)| *name);
    for (name, value) in fields {
        let path = format!("{prefix}{name}");
        match schema.properties.iter().find(|(prop, _)| prop == name) {
            None => errors.push(FieldError::new(path, "is not a field of this object")),
            Some((_, prop)) if !value.is_null() => check(registry, &path, prop, value, errors),
            Some(_) => {}
        }
    }
}

/// A number outside its schema's `minimum` or `maximum`.
fn out_of_bounds(schema: &MetaSchema, value: &Value) -> Option<String> {
    let n = value.as_f64()?;
    if let Some(max) = schema.maximum
        && n > max
    {
        return Some(format!("must be at most {max}"));
    }
    if let Some(min) = schema.minimum
        && n < min
    {
        return Some(format!("must be at least {min}"));
    }
    None
}

/// The schema `schema` stands for, following references and the `allOf` that
/// poem-openapi wraps around a described reference (the reference and a description).
fn resolve<'r>(registry: &'r Registry, schema: &'r MetaSchemaRef) -> Option<&'r MetaSchema> {
    let found = match schema {
        MetaSchemaRef::Inline(schema) => schema,
        MetaSchemaRef::Reference(name) => registry.schemas.get(name)?,
    };
    match found
        .all_of
        .iter()
        .find(|part| matches!(part, MetaSchemaRef::Reference(_)))
    {
        Some(reference) => resolve(registry, reference),
        None => Some(found),
    }
}

fn check(
    registry: &Registry,
    field: &str,
    schema: &MetaSchemaRef,
    value: &Value,
    errors: &mut Vec<FieldError>,
) {
    let Some(schema) = resolve(registry, schema) else {
        return;
    };
    let problem = match schema.ty {
        "string" => match value.as_str() {
            None => Some("must be a string".to_string()),
            Some(s) if text::refuses(s).is_some() => text::refuses(s).map(str::to_string),
            Some(s) => match schema.format {
                Some("uuid") if uuid::Uuid::parse_str(s).is_err() => {
                    Some("must be a UUID".to_string())
                }
                Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
                    Some("must be an RFC 3339 date-time such as 2026-11-28T06:00:00Z".to_string())
                }
                _ if !schema.enum_items.is_empty() && !schema.enum_items.contains(value) => {
                    Some(format!(
                        "must be one of {}",
                        schema
                            .enum_items
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
                _ => None,
            },
        },
        "integer" => (!value.is_i64() && !value.is_u64()).then(|| "must be an integer".to_string()),
        "number" if !value.is_number() => Some("must be a number".to_string()),
        "number" => out_of_bounds(schema, value),
        // A nested object of named fields (not a map of any keys): checked field by
        // field, each named by its path.
        "object" if !schema.properties.is_empty() && schema.additional_properties.is_none() => {
            match value.as_object() {
                None => Some("must be an object".to_string()),
                Some(object) => {
                    object_errors(registry, schema, object, &format!("{field}."), errors);
                    None
                }
            }
        }
        "boolean" => (!value.is_boolean()).then(|| "must be true or false".to_string()),
        "array" => match value.as_array() {
            None => Some("must be a list".to_string()),
            Some(items) => {
                if let Some(item_schema) = &schema.items {
                    let before = errors.len();
                    for item in items {
                        check(registry, field, item_schema, item, errors);
                        if errors.len() > before {
                            break;
                        }
                    }
                    if errors.len() > before {
                        let inner = errors.split_off(before);
                        Some(format!("every item {}", inner[0].message))
                    } else {
                        None
                    }
                } else {
                    None
                }
            }
        },
        _ => None,
    };
    if let Some(message) = problem {
        errors.push(FieldError::new(field, message));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::content::articles::ArticleCreate;

    fn fields(value: Value) -> Vec<(String, String)> {
        schema_errors::<ArticleCreate>(&value)
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn each_field_at_fault_is_named() {
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(fields(json!({"title": "x", "publisher_id": id})), vec![]);
        assert_eq!(
            fields(
                json!({"title": 5, "publisher_id": "ledger", "status": "live", "author_ids": ["x"], "extra": 1})
            ),
            vec![
                ("author_ids".into(), "every item must be a UUID".into()),
                ("extra".into(), "is not a field of this object".into()),
                ("publisher_id".into(), "must be a UUID".into()),
                (
                    "status".into(),
                    "must be one of draft, scheduled, published, archived".into()
                ),
                ("title".into(), "must be a string".into()),
            ]
        );
        assert_eq!(
            fields(json!({})),
            vec![
                ("title".into(), "is required".into()),
                ("publisher_id".into(), "is required".into())
            ]
        );
        assert_eq!(
            fields(json!([])),
            vec![("body".into(), "must be a JSON object".into())]
        );
    }

    #[test]
    fn a_nested_objects_faults_are_named_by_their_path() {
        use crate::content::media::MediaUpdate;
        let fields = |value: Value| -> Vec<(String, String)> {
            schema_errors::<MediaUpdate>(&value)
                .into_iter()
                .map(|e| (e.field, e.message))
                .collect()
        };
        assert_eq!(fields(json!({"focal_point": {"x": 0, "y": 1}})), vec![]);
        assert_eq!(
            fields(json!({"focal_point": {"x": 1.5, "z": 1}})),
            vec![
                ("focal_point.y".into(), "is required".into()),
                ("focal_point.x".into(), "must be at most 1".into()),
                (
                    "focal_point.z".into(),
                    "is not a field of this object".into()
                ),
            ]
        );
        assert_eq!(
            fields(json!({"focal_point": {"x": -0.1, "y": "top"}})),
            vec![
                ("focal_point.x".into(), "must be at least 0".into()),
                ("focal_point.y".into(), "must be a number".into()),
            ]
        );
        assert_eq!(
            fields(json!({"focal_point": [0.5, 0.5]})),
            vec![("focal_point".into(), "must be an object".into())]
        );
    }
}
