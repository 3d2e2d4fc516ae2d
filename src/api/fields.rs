//! Choosing fields: `fields=id,slug,title` on the reads of articles, publishers,
//! authors, tags and comments (and `fields[authors]`, `fields[publishers]`,
//! `fields[tags]` for what an article's `include` embeds) — the parsing and its 400s,
//! the spec's pattern for it, and the response that keeps only the chosen keys.
//!
//! Each resource's choosable names are one constant beside its view (e.g.
//! [`super::articles::Article::FIELDS`]), which a test holds equal to the view's
//! schema; [`RESOURCES`] and [`RELATIONS`] say which constant each parameter uses.
//! Without `fields` a response is written exactly as before, straight from the view
//! ([`super::found::json_response`]); with it, the view is serialised to a
//! `serde_json` map (in declared order) and the other keys dropped.

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::types::Type;
use serde::Serialize;
use serde_json::{Map, Value};

use super::found::{Described, Found, json_response};
use super::keys::{Keyed, label};
use crate::error::ApiError;

/// The longest `fields` value the API reads (the validators of the parameters say
/// the same: `max_length = 512`); every resource's full list fits with blanks.
pub const MAX_LEN: usize = 512;

/// The schema whose fields `fields` chooses on an operation answering it (or a page
/// of it), with that schema's choosable names.
pub const RESOURCES: [(&str, &[&str]); 6] = [
    ("Article", super::articles::Article::FIELDS),
    ("Publisher", super::publishers::Publisher::FIELDS),
    ("Author", super::authors::Author::FIELDS),
    ("Tag", super::tags::Tag::FIELDS),
    ("Comment", super::comments::Comment::FIELDS),
    ("MediaAsset", super::media::MediaAsset::FIELDS),
];

/// The parameters choosing the fields of what an article embeds: the parameter, the
/// article keys it applies to, and the names it takes.
pub const RELATIONS: [(&str, &[&str], &[&str]); 3] = [
    (
        "fields[authors]",
        &["authors"],
        super::authors::Author::FIELDS,
    ),
    (
        "fields[publishers]",
        &["publisher", "syndicated_from"],
        super::publishers::Publisher::FIELDS,
    ),
    ("fields[tags]", &["tags"], super::tags::Tag::FIELDS),
];

/// The names one `fields` parameter chose among `allowed` (`None`: every field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    names: Option<Vec<&'static str>>,
    allowed: &'static [&'static str],
}

impl Chosen {
    /// Every field of `allowed`.
    pub fn all(allowed: &'static [&'static str]) -> Self {
        Self {
            names: None,
            allowed,
        }
    }

    /// Parses the parameter `param`: names from `allowed`, comma-separated, blanks
    /// and empty parts allowed; absent or empty is every field. Too many names,
    /// unknown ones or one named twice are a 400 naming them and the allowed ones.
    pub fn parse(
        param: &str,
        text: Option<&str>,
        allowed: &'static [&'static str],
    ) -> Result<Self, ApiError> {
        let parts: Vec<&str> = text
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            // `str::`: poem-openapi's `Type` (in scope) has an `is_empty` too.
            .filter(|p| !str::is_empty(p))
            .collect();
        if parts.is_empty() {
            return Ok(Self::all(allowed));
        }
        let choices = allowed.join(", ");
        let refuse = |message: String| Err(ApiError::bad_request(param, message));
        if parts.len() > allowed.len() {
            return refuse(format!(
                "names {} fields, more than the {} there are: {choices}",
                parts.len(),
                allowed.len()
            ));
        }
        let mut unknown: Vec<&str> = Vec::new();
        let mut twice: Vec<&str> = Vec::new();
        let mut names: Vec<&'static str> = Vec::new();
        for part in parts {
            match allowed.iter().find(|a| **a == part) {
                None if !unknown.contains(&part) => unknown.push(part),
                None => {}
                Some(name) if !names.contains(name) => names.push(name),
                Some(name) if !twice.contains(name) => twice.push(name),
                Some(_) => {}
            }
        }
        let quoted = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !unknown.is_empty() {
            let noun = if unknown.len() == 1 {
                "field"
            } else {
                "fields"
            };
            return refuse(format!(
                "unknown {noun} {}; use any of {choices}",
                quoted(&unknown)
            ));
        }
        if !twice.is_empty() {
            return refuse(format!(
                "names {} more than once; name each of {choices} at most once",
                quoted(&twice)
            ));
        }
        Ok(Self {
            names: Some(names),
            allowed,
        })
    }

    /// Whether every field is chosen (no `fields`).
    pub fn is_all(&self) -> bool {
        self.names.is_none()
    }

    /// Whether the response carries `name` (always `id`).
    pub fn wants(&self, name: &str) -> bool {
        name == "id"
            || self
                .names
                .as_ref()
                .is_none_or(|names| names.contains(&name))
    }

    /// Drops the keys of `object` that are choosable and not chosen (keys that are
    /// not fields to choose, such as an article's embedded relations, stay).
    fn keep(&self, object: &mut Map<String, Value>) {
        if self.is_all() {
            return;
        }
        object.retain(|key, _| self.wants(key) || !self.allowed.contains(&key.as_str()));
    }
}

/// What one request chose: the resource's fields, and those of each embedded
/// relation (the article keys each applies to).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    own: Chosen,
    relations: Vec<(&'static [&'static str], Chosen)>,
}

impl Selection {
    /// The `fields` parameter of the resource whose names are `allowed`.
    pub fn parse(text: Option<&str>, allowed: &'static [&'static str]) -> Result<Self, ApiError> {
        Ok(Self {
            own: Chosen::parse("fields", text, allowed)?,
            relations: Vec::new(),
        })
    }

    /// Adds the relation parameters (in [`RELATIONS`]' order, one text each).
    pub fn with_relations(mut self, texts: [Option<&str>; 3]) -> Result<Self, ApiError> {
        for ((param, keys, allowed), text) in RELATIONS.into_iter().zip(texts) {
            let chosen = Chosen::parse(param, text, allowed)?;
            if !chosen.is_all() {
                self.relations.push((keys, chosen));
            }
        }
        Ok(self)
    }

    /// Whether nothing was chosen: every field, written as without `fields`.
    pub fn is_all(&self) -> bool {
        self.own.is_all() && self.relations.is_empty()
    }

    /// Whether the resource's own field `name` is chosen.
    pub fn wants(&self, name: &str) -> bool {
        self.own.wants(name)
    }

    /// `object` (one resource) with only the chosen keys, also in its relations.
    fn keep(&self, object: &mut Map<String, Value>) {
        self.own.keep(object);
        for (keys, chosen) in &self.relations {
            for key in *keys {
                match object.get_mut(*key) {
                    Some(Value::Object(one)) => chosen.keep(one),
                    Some(Value::Array(many)) => {
                        for one in many.iter_mut().filter_map(Value::as_object_mut) {
                            chosen.keep(one);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The JSON response of `view` (one resource, or a page of them in `data` when
    /// `list`) with only the chosen keys; exactly [`json_response`] when all are.
    pub fn response<T: Serialize>(&self, view: &T, list: bool) -> Response {
        if self.is_all() {
            return json_response(view);
        }
        let mut value = match serde_json::to_value(view) {
            Ok(value) => value,
            Err(err) => {
                tracing::error!(error = %err, "serialising a response failed");
                return crate::error::problem_response(&ApiError::Internal.problem());
            }
        };
        let items: Vec<&mut Value> = if list {
            value["data"]
                .as_array_mut()
                .map(|items| items.iter_mut().collect())
                .unwrap_or_default()
        } else {
            vec![&mut value]
        };
        for item in items {
            if let Some(object) = item.as_object_mut() {
                self.keep(object);
            }
        }
        json_response(&value)
    }
}

/// A 200 read answering only the chosen fields: documented as [`Found`] is, with a
/// description that says so.
pub struct Picked<T>(pub T, pub Selection);

/// Whether a response object is a page (`data` and `meta`) rather than one resource.
pub trait Paged {
    const LIST: bool;
}

impl<T: Serialize + Send + Paged + Keyed> IntoResponse for Picked<T> {
    fn into_response(self) -> Response {
        let mut resp = self.1.response(&self.0, T::LIST);
        label(&mut resp, &self.0);
        resp
    }
}

impl<T: Serialize + Send + Type + Described + Paged + Keyed> ApiResponse for Picked<T> {
    fn meta() -> MetaResponses {
        let mut meta = Found::<T>::meta();
        for response in &mut meta.responses {
            if response.status == Some(200) {
                response.description = T::PICKED_DESCRIPTION;
            }
        }
        meta
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// `fields`'s rule for `allowed` as a regular expression (for the OpenAPI
/// document): names separated by commas, blanks and empty parts allowed.
pub fn pattern(allowed: &[&str]) -> String {
    format!(r"^[\s,]*(?:(?:{})\s*(?:,[\s,]*|$))*$", allowed.join("|"))
}

/// What the spec adds to the description of a `fields` parameter taking `allowed`.
pub fn described(allowed: &[&str]) -> String {
    let names = allowed
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(" The names: {names}.")
}

#[cfg(test)]
mod tests {
    use poem_openapi::registry::Registry;
    use poem_openapi::types::Type;

    use super::*;
    use crate::content::articles::Include;

    #[test]
    fn every_fields_parameter_is_bounded_by_max_len() {
        // The validators need a literal; this holds each one to the constant.
        let doc = crate::api::spec::document();
        let mut seen = 0;
        for op in doc["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(Value::as_object)
            .flat_map(|item| item.values())
        {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap_or_default();
                if name == "fields" || name.starts_with("fields[") {
                    seen += 1;
                    assert_eq!(
                        param["schema"]["maxLength"].as_u64(),
                        Some(MAX_LEN as u64),
                        "{name}"
                    );
                }
            }
        }
        assert!(seen >= 12, "{seen} fields parameters");
    }

    /// The property names of the schema `T` registers.
    fn properties<T: Type>() -> Vec<&'static str> {
        let mut registry = Registry::new();
        T::register(&mut registry);
        registry.schemas[&T::name().to_string()]
            .properties
            .iter()
            .map(|(name, _)| *name)
            .collect()
    }

    #[test]
    fn each_list_is_its_views_fields_in_order() {
        use crate::api::{articles, authors, comments, publishers, tags};
        let article: Vec<&str> = properties::<articles::Article>()
            .into_iter()
            .filter(|p| !Include::RELATIONS.contains(p))
            .collect();
        assert_eq!(article, articles::Article::FIELDS);
        assert_eq!(
            properties::<publishers::Publisher>(),
            publishers::Publisher::FIELDS
        );
        assert_eq!(properties::<authors::Author>(), authors::Author::FIELDS);
        assert_eq!(properties::<tags::Tag>(), tags::Tag::FIELDS);
        assert_eq!(properties::<comments::Comment>(), comments::Comment::FIELDS);
        for (_, keys, _) in RELATIONS {
            for key in keys {
                assert!(Include::RELATIONS.contains(key), "{key}");
            }
        }
    }

    const ALLOWED: &[&str] = &["id", "slug", "name"];

    #[test]
    fn parse_reads_names_and_refuses_the_rest() {
        let chosen = Chosen::parse("fields", Some(" slug , ,name"), ALLOWED).unwrap();
        assert!(chosen.wants("id") && chosen.wants("slug") && chosen.wants("name"));
        let chosen = Chosen::parse("fields", Some("slug"), ALLOWED).unwrap();
        assert!(chosen.wants("id") && !chosen.wants("name"));
        for empty in [None, Some(""), Some(" , ")] {
            assert!(Chosen::parse("fields", empty, ALLOWED).unwrap().is_all());
        }
        let message = |text: &str| match Chosen::parse("fields", Some(text), ALLOWED) {
            Err(ApiError::BadRequest(_, errors)) => errors[0].message.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            message("bogus,nope,bogus"),
            "unknown fields `bogus`, `nope`; use any of id, slug, name"
        );
        assert_eq!(
            message("name,slug,name"),
            "names `name` more than once; name each of id, slug, name at most once"
        );
        assert_eq!(
            message("a,b,c,d"),
            "names 4 fields, more than the 3 there are: id, slug, name"
        );
    }

    #[test]
    fn the_pattern_accepts_what_parse_reads() {
        let re = pattern(ALLOWED);
        assert_eq!(re, r"^[\s,]*(?:(?:id|slug|name)\s*(?:,[\s,]*|$))*$");
    }

    #[test]
    fn keep_drops_only_choosable_keys_not_chosen() {
        let selection = Selection::parse(Some("name"), ALLOWED).unwrap();
        let mut object = serde_json::json!({"id": 1, "slug": "s", "name": "n", "extra": []});
        selection.keep(object.as_object_mut().unwrap());
        assert_eq!(
            object,
            serde_json::json!({"id": 1, "name": "n", "extra": []})
        );
    }
}
