//! The request id: taken from the client's `X-Request-Id` when it is a sane token,
//! made up otherwise, and readable anywhere while the request is being served (so
//! that every problem+json body and the log line carry the same id as the header).

use uuid::Uuid;

/// The header that carries the id both ways.
pub const HEADER: &str = "x-request-id";

/// The longest id taken from a client.
pub const MAX_LEN: usize = 64;

tokio::task_local! {
    static CURRENT: String;
}

/// Whether a client-sent id is kept: 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
pub fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The id for a request that sent `offered` (the raw header, if any).
pub fn choose(offered: Option<&[u8]>) -> String {
    offered
        .and_then(|v| std::str::from_utf8(v).ok())
        .filter(|v| is_sane(v))
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::now_v7().to_string())
}

/// Runs `fut` with `id` as the current request id.
pub async fn scope<F: std::future::Future>(id: String, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

/// The id of the request being served, or an empty string outside a request
/// (a problem built by the command line, say).
pub fn current() -> String {
    CURRENT.try_with(String::clone).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        for id in ["abc", "A.b_c-9", &"x".repeat(64)] {
            assert_eq!(choose(Some(id.as_bytes())), id);
        }
        for bad in [&"x".repeat(65), "", "has space", "naïve", "a/b", "a\"b"] {
            let chosen = choose(Some(bad.as_bytes()));
            assert_ne!(chosen, bad);
            assert!(Uuid::parse_str(&chosen).is_ok(), "{chosen}");
        }
        assert!(Uuid::parse_str(&choose(Some(&[0xff, 0xfe]))).is_ok());
        assert!(Uuid::parse_str(&choose(None)).is_ok());
    }

    #[tokio::test]
    async fn the_current_id_is_the_scoped_one() {
        assert_eq!(current(), "");
        let inside = scope("req-1".to_string(), async { current() }).await;
        assert_eq!(inside, "req-1");
    }
}
