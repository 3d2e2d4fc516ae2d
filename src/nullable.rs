//! [`Nullable`]: a response field that is always sent, as `null` when empty.
//!
//! poem-openapi documents an `Option` field as optional and not nullable, while the
//! views always send it (`null` when there is nothing). A `Nullable` field is listed
//! in `required` and says `nullable: true`; a reference to another schema is wrapped
//! in `allOf`, since OpenAPI 3.0 ignores the siblings of a `$ref`. Fields that are
//! left out rather than sent as `null` (such as `meta.total`) stay `Option`.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A value or `null`, always present in the body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Nullable<T>(pub Option<T>);

impl<T> From<Option<T>> for Nullable<T> {
    fn from(value: Option<T>) -> Self {
        Self(value)
    }
}

impl<T> Nullable<T> {
    pub fn as_ref(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

/// `schema`, allowing `null` too.
pub fn nullable(schema: MetaSchemaRef) -> MetaSchemaRef {
    match schema {
        MetaSchemaRef::Inline(schema) => MetaSchemaRef::Inline(Box::new(MetaSchema {
            nullable: true,
            ..*schema
        })),
        reference @ MetaSchemaRef::Reference(_) => MetaSchemaRef::Inline(Box::new(MetaSchema {
            all_of: vec![reference],
            nullable: true,
            ..MetaSchema::ANY
        })),
    }
}

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        nullable(T::schema_ref())
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Self(None)),
            value => T::parse_from_json(value)
                .map(|v| Self(Some(v)))
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<Value> {
        match &self.0 {
            Some(value) => value.to_json(),
            None => Some(Value::Null),
        }
    }
}

/// Timestamps that may be `null`, written as poem-openapi writes them.
pub fn rfc3339<S: Serializer>(
    t: &Nullable<chrono::DateTime<chrono::Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    crate::wire::rfc3339_opt(&t.0, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nullable_field_is_required_and_says_null() {
        let MetaSchemaRef::Inline(inline) = Nullable::<String>::schema_ref() else {
            panic!("a string is inline");
        };
        assert!(inline.nullable);
        assert_eq!(inline.ty, "string");
        const { assert!(Nullable::<String>::IS_REQUIRED) };
        let MetaSchemaRef::Inline(wrapped) = nullable(MetaSchemaRef::Reference("X".into())) else {
            panic!("a reference is wrapped");
        };
        assert_eq!(wrapped.all_of, vec![MetaSchemaRef::Reference("X".into())]);
        assert!(wrapped.nullable);
        assert_eq!(Nullable::<String>(None).to_json(), Some(Value::Null));
        assert_eq!(
            serde_json::to_value(Nullable(Some("a"))).unwrap(),
            Value::from("a")
        );
    }
}
