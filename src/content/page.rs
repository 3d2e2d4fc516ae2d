//! Keyset pagination: opaque cursors carrying the last row's sort value and id.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort the cursor was made for; a cursor is refused under another sort.
    #[serde(rename = "s")]
    pub sort: String,
    /// The last row's sort value (`None` for a null value).
    #[serde(rename = "v")]
    pub value: Option<String>,
    /// The last row's id, the tie-breaker.
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Decodes a cursor made for `sort`, refusing anything else with a 400.
    pub fn decode(text: &str, sort: &str) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "cursor",
                "is not a cursor this API issued for this sort; start again without it",
            )
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.sort != sort {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            sort: "-published_at".into(),
            value: Some("2026-01-01T00:00:00Z".into()),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode(), "-published_at").unwrap(), c);
    }

    #[test]
    fn forged_or_foreign_cursors_are_refused() {
        let c = Cursor {
            sort: "title".into(),
            value: None,
            id: Uuid::now_v7(),
        };
        assert!(Cursor::decode(&c.encode(), "-title").is_err());
        assert!(Cursor::decode("not-a-cursor!", "title").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"{\"x\":1}"), "title").is_err());
    }
}
