//! Keyset pagination: opaque cursors carrying the last row's sort value and id.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::taxonomy::{Page, PageParams};
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

/// The sort name in the cursors of [`newest_first`] pages.
const NEWEST: &str = "-created";

/// One page of `base`, newest first by its UUIDv7 `id` column, after `params.cursor`
/// (one statement; two with the count): how webhook endpoints, their deliveries and API keys are listed.
pub async fn newest_first<E>(
    db: &DatabaseConnection,
    base: sea_orm::Select<E>,
    id: E::Column,
    params: &PageParams,
    id_of: fn(&E::Model) -> Uuid,
) -> Result<Page<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let total = if params.count {
        Some(base.clone().count(db).await?)
    } else {
        None
    };
    let mut query = base;
    if let Some(text) = params.cursor.as_deref() {
        query = query.filter(id.lt(Cursor::decode(text, NEWEST)?.id));
    }
    let limit = params.limit.clamp(1, MAX_LIMIT);
    let mut items = query
        .order_by(id, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                sort: NEWEST.to_string(),
                value: None,
                id: id_of(last),
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page {
        items,
        next_cursor,
        total,
    })
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
