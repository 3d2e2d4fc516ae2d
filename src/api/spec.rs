//! The OpenAPI document as served (`/openapi.json`, `/openapi.yaml`, Swagger UI) and
//! written to `openapi.yaml`: poem-openapi's document, finished with what its
//! derives cannot say.
//!
//! - Every operation declares its `security`: `[]` when it is public,
//!   `[{}, {BearerAuth: []}]` when a token is optional (anonymous first), so that
//!   tools and Swagger UI draw public operations without a padlock.
//! - Every operation of the API documents the 401 of a refused API key and the 429
//!   of one over its rate (answered before the operation runs, by `super::security::gate`).
//! - Every request object says `additionalProperties: false`: [`super::body::JsonBody`]
//!   refuses an unknown field with a 400.
//! - Request properties carry the rules the domain checks ([`rules`]): the slug
//!   pattern and length, email and URL formats, the password's length, how many
//!   event types a webhook may choose, taken from
//!   the same constants the checks use; the `include` query parameter its pattern.
//!   The domain still does the checking (the problem bodies stay its own).
//! - Every `fields` query parameter lists the names it takes and carries their
//!   pattern, from the resource's list in [`super::fields`] (the one the parser
//!   uses): `fields` the names of the resource the operation answers (one, or a
//!   page of them), `fields[authors]` and the others those of the relation.

use poem::endpoint::make_sync;
use poem::{Endpoint, Response};
use serde_json::{Map, Value, json};

use super::fields;
use crate::auth::password;
use crate::content::articles::Include;
use crate::content::events;
use crate::content::slug;

/// The finished document.
pub fn document() -> Value {
    let raw = super::service().spec();
    // poem-openapi writes its own document; it always parses.
    let mut doc: Value = serde_json::from_str(&raw).unwrap_or_default();
    finish(&mut doc);
    doc
}

/// The finished document as JSON.
pub fn json() -> String {
    serde_json::to_string_pretty(&document()).unwrap_or_default()
}

/// The finished document as YAML (what `openapi.yaml` holds).
pub fn yaml() -> String {
    serde_yaml::to_string(&document()).unwrap_or_default()
}

/// Swagger UI's page, showing the finished document.
pub fn swagger_ui_html() -> String {
    let service = super::service();
    service
        .swagger_ui_html()
        .replacen(&service.spec(), &json(), 1)
}

/// `/openapi.json`.
pub fn json_endpoint() -> impl Endpoint + 'static {
    let spec = json();
    make_sync(move |_| {
        Response::builder()
            .content_type("application/json")
            .body(spec.clone())
    })
}

/// `/openapi.yaml`.
pub fn yaml_endpoint() -> impl Endpoint + 'static {
    let spec = yaml();
    make_sync(move |_| {
        Response::builder()
            .content_type("application/x-yaml")
            .header("Content-Disposition", "inline; filename=\"spec.yaml\"")
            .body(spec.clone())
    })
}

/// Adds what the derives leave out to `doc`, a document poem-openapi wrote.
pub fn finish(doc: &mut Value) {
    let mut request_schemas = Vec::new();
    for (path, ops) in doc["paths"].as_object_mut().into_iter().flatten() {
        let gated = path.starts_with("/api/");
        for op in ops.as_object_mut().into_iter().flat_map(Map::values_mut) {
            declare_security(op);
            if gated {
                declare_key_refusals(op);
            }
            for media in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flat_map(Map::values)
            {
                if let Some(name) = media["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    request_schemas.push(name.to_string());
                }
            }
        }
    }
    for name in request_schemas {
        if let Some(schema) = doc["components"]["schemas"][&name].as_object_mut() {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    for (schema, property, keywords) in rules() {
        let pointer = format!("/components/schemas/{schema}/properties/{property}");
        if let Some(target) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            target.extend(keywords.as_object().cloned().unwrap_or_default());
        }
    }
    let include = json!({"pattern": Include::pattern()});
    for ops in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(Map::values_mut)
    {
        for op in ops.as_object_mut().into_iter().flat_map(Map::values_mut) {
            for param in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flat_map(|p| p.iter_mut())
            {
                if param["name"] == "include"
                    && param["in"] == "query"
                    && let Some(schema) = param["schema"].as_object_mut()
                {
                    schema.extend(include.as_object().cloned().unwrap_or_default());
                }
            }
            let answers = answered_schema(op);
            for param in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flat_map(|p| p.iter_mut())
            {
                if param["in"] == "query"
                    && let Some(allowed) = fields_taken(param["name"].as_str(), answers.as_deref())
                {
                    describe_fields(param, allowed);
                }
            }
        }
    }
}

/// The schema a GET operation's 200 answers, without `List` for a page of them.
fn answered_schema(op: &Value) -> Option<String> {
    let content = op["responses"]["200"]["content"].as_object()?;
    let name = content
        .values()
        .find_map(|media| media["schema"]["$ref"].as_str())?
        .strip_prefix("#/components/schemas/")?;
    Some(name.strip_suffix("List").unwrap_or(name).to_string())
}

/// The names the query parameter `name` takes, if it chooses fields, on an
/// operation answering `answers`.
fn fields_taken(name: Option<&str>, answers: Option<&str>) -> Option<&'static [&'static str]> {
    match name? {
        "fields" => fields::RESOURCES
            .iter()
            .find(|(schema, _)| Some(*schema) == answers)
            .map(|(_, allowed)| *allowed),
        other => fields::RELATIONS
            .iter()
            .find(|(param, _, _)| *param == other)
            .map(|(_, _, allowed)| *allowed),
    }
}

/// The names and pattern of a `fields` parameter taking `allowed`.
fn describe_fields(param: &mut Value, allowed: &[&str]) {
    let description = format!(
        "{}{}",
        param["description"].as_str().unwrap_or_default(),
        fields::described(allowed)
    );
    param["description"] = Value::String(description);
    if let Some(schema) = param["schema"].as_object_mut() {
        schema.insert("pattern".into(), Value::String(fields::pattern(allowed)));
    }
}

/// The keywords each request property gets: schema name, property, keywords. Every
/// value comes from the constant the domain's check uses.
pub fn rules() -> Vec<(&'static str, &'static str, Value)> {
    let slug = json!({"pattern": slug::PATTERN, "maxLength": slug::MAX_LEN});
    let email = json!({"format": "email"});
    let url = json!({"format": "uri"});
    let password = json!({"minLength": password::MIN_LENGTH, "maxLength": password::MAX_LENGTH});
    let mut rules = Vec::new();
    for (schema, url_field) in [
        ("PublisherCreate", Some("website_url")),
        ("PublisherUpdate", Some("website_url")),
        ("AuthorCreate", Some("avatar_url")),
        ("AuthorUpdate", Some("avatar_url")),
        ("TagCreate", None),
        ("TagUpdate", None),
        ("ArticleCreate", Some("canonical_url")),
        ("ArticleUpdate", Some("canonical_url")),
    ] {
        rules.push((schema, "slug", slug.clone()));
        if let Some(field) = url_field {
            rules.push((schema, field, url.clone()));
        }
    }
    for schema in ["LoginRequest", "UserCreate", "UserUpdate", "CommentCreate"] {
        rules.push((schema, "email", email.clone()));
    }
    for schema in ["UserCreate", "UserUpdate"] {
        rules.push((schema, "password", password.clone()));
    }
    let patterns = json!({"minItems": 1, "maxItems": events::MAX_PATTERNS});
    for schema in ["WebhookCreate", "WebhookUpdate"] {
        rules.push((schema, "url", url.clone()));
        rules.push((schema, "event_types", patterns.clone()));
    }
    rules
}

/// `security: []` on a public operation; the anonymous alternative first on one
/// where a token is optional.
fn declare_security(op: &mut Value) {
    let Some(op) = op.as_object_mut() else {
        return;
    };
    let mut security = op
        .remove("security")
        .and_then(|s| s.as_array().cloned())
        .unwrap_or_default();
    security.sort_by_key(|requirement| requirement.as_object().is_some_and(|r| !r.is_empty()));
    op.insert("security".into(), Value::Array(security));
}

/// What the key gate answers on every operation of the API before the operation
/// runs (`super::security::gate`): the 401 of an API key that is unknown, revoked,
/// expired or sent from an origin it does not allow, and the 429 of one over its rate
/// (unless the operation documents its own, which then says so), in status order.
fn declare_key_refusals(op: &mut Value) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let refused = json!({
        "description": "An API key was sent that is unknown, revoked or expired, or from an \
                        origin it does not allow.",
        "content": problem,
        "headers": {"WWW-AUTHENTICATE": {
            "description": "`Bearer`.",
            "required": true,
            "deprecated": false,
            "schema": {"type": "string"},
        }},
    });
    let limited = json!({
        "description": "An API key sent more requests than its rate allows; `Retry-After` says \
                        when to try again.",
        "content": problem,
        "headers": {"RETRY-AFTER": {
            "description": "Seconds to wait before trying again.",
            "required": true,
            "deprecated": false,
            "schema": {"type": "integer", "format": "uint64"},
        }},
    });
    let mut all: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    for (status, response) in [("401", refused), ("429", limited)] {
        if !all.iter().any(|(s, _)| s == status) {
            all.push((status.to_string(), response));
        }
    }
    // Statuses in order, the default (if any) last, as poem-openapi writes them.
    all.sort_by(|(a, _), (b, _)| (a == "default", a.as_str()).cmp(&(b == "default", b.as_str())));
    responses.extend(all);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn security_is_declared_and_request_objects_are_closed() {
        let mut doc = json!({
            "paths": {"/a": {
                "get": {"security": [{"BearerAuth": []}, {}]},
                "put": {"security": [{"BearerAuth": []}],
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}}},
                "head": {},
            }},
            "components": {"schemas": {"In": {"type": "object"}, "Out": {"type": "object"}}},
        });
        finish(&mut doc);
        assert_eq!(
            doc["paths"]["/a"]["get"]["security"],
            json!([{}, {"BearerAuth": []}])
        );
        assert_eq!(
            doc["paths"]["/a"]["put"]["security"],
            json!([{"BearerAuth": []}])
        );
        assert_eq!(doc["paths"]["/a"]["head"]["security"], json!([]));
        assert_eq!(
            doc["components"]["schemas"]["In"]["additionalProperties"],
            json!(false)
        );
        assert!(
            doc["components"]["schemas"]["Out"]
                .get("additionalProperties")
                .is_none()
        );
    }
}
