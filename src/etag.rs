//! Entity tags: whether a request's `If-None-Match` names the tag of what it asks
//! for (the one comparison the conditional reads, the response cache and the photo
//! files all make).

/// Whether an `If-None-Match` value names `etag` (weak comparison, as RFC 9110 asks).
pub fn none_match(header: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header.trim() == "*" || header.split(',').any(|t| bare(t) == bare(etag))
}

#[cfg(test)]
mod tests {
    use super::none_match;

    #[test]
    fn a_listed_tag_weak_or_strong_or_a_star_matches() {
        assert!(none_match("\"a\", W/\"b\"", "\"b\""));
        assert!(none_match(" * ", "\"x\""));
        assert!(!none_match("\"a\"", "\"b\""));
    }
}
