//! [`Text`]: a JSON string that is only ever a string.
//!
//! poem-openapi's `String` also accepts numbers and booleans (`5` becomes `"5"`);
//! input fields use `Text` instead so a wrong type is a 400, as the schema says.
//!
//! It also holds the one rule every string a client sends obeys, in a body, a
//! path or a query: no NUL character ([`refuses`]), which PostgreSQL cannot store.

use std::borrow::Cow;
use std::ops::Deref;

use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// What is said about a string holding a NUL character.
pub const NUL_MESSAGE: &str = "must not contain NUL characters (U+0000)";

/// Why `s` may not be taken from a client, if it may not.
pub fn refuses(s: &str) -> Option<&'static str> {
    s.contains('\0').then_some(NUL_MESSAGE)
}

/// A string in a request body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl Text {
    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl Type for Text {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => match refuses(&s) {
                Some(message) => Err(ParseError::custom(message)),
                None => Ok(Self(s)),
            },
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strings_parse() {
        assert_eq!(
            Text::parse_from_json(Some(Value::from("x"))).unwrap(),
            Text::from("x")
        );
        assert!(Text::parse_from_json(Some(Value::from(5))).is_err());
        assert!(Text::parse_from_json(Some(Value::from(true))).is_err());
        assert!(Text::parse_from_json(None).is_err());
        assert!(Text::parse_from_json(Some(Value::from("a\0b"))).is_err());
    }
}
