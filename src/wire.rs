//! How values are written on the wire where serde's default would differ from the
//! spec: serde helpers shared by the API's views and the domain types they embed,
//! and which characters XML 1.0 can carry (the feeds' and the sitemaps' one rule).

use chrono::{DateTime, Utc};
use serde::Serializer;

/// Timestamps as poem-openapi writes them (`to_rfc3339`), so every response agrees.
pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

pub fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// Whether XML 1.0 can carry `c` at all: not the control characters below U+0020
/// but tab, line feed and carriage return, nor U+FFFE and U+FFFF. Feeds and
/// sitemaps drop the others from the text they write.
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}
