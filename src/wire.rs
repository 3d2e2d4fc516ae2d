//! How values are written on the wire where serde's default would differ from the
//! spec: serde helpers shared by the API's views and the domain types they embed.

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
