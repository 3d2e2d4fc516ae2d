//! How a delivery is signed, per Standard Webhooks (<https://www.standardwebhooks.com>):
//! a secret is `whsec_` and a base64 key; a signature is
//! `v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`; during a
//! rotation's overlap the `webhook-signature` header carries the current secret's
//! signature, then the previous one's, separated by a space.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What every secret starts with.
pub const PREFIX: &str = "whsec_";

/// How many random bytes a new secret's key has.
pub const KEY_BYTES: usize = 32;

/// A new secret, `whsec_` and the base64 of [`KEY_BYTES`] random bytes.
///
/// # Errors
/// When the operating system gives no randomness.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key)?;
    Ok(format!("{PREFIX}{}", STANDARD.encode(key)))
}

/// The key of a secret (`whsec_` is optional, as receivers' libraries accept it).
/// `None` when the rest is not base64.
pub fn key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).ok().filter(|k| !k.is_empty())
}

/// One signature, `v1,<base64>`, of `body` sent as `msg_id` at `timestamp`.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The secrets of an endpoint that sign at `now`: the current one, and the previous
/// one while its overlap lasts (`previous_until` later than `now`).
pub fn signing_secrets<'a>(
    secret: &'a str,
    previous: Option<&'a str>,
    previous_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<&'a str> {
    let mut out = vec![secret];
    if let (Some(previous), Some(until)) = (previous, previous_until)
        && until > now
    {
        out.push(previous);
    }
    out
}

/// The `webhook-signature` header value: one signature per secret, space-separated,
/// in the order given. `None` when a secret has no usable key.
pub fn header(secrets: &[&str], msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let signatures = secrets
        .iter()
        .map(|s| key(s).map(|k| sign(&k, msg_id, timestamp, body)))
        .collect::<Option<Vec<_>>>()?;
    Some(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector the specification's reference libraries publish.
    #[test]
    fn the_published_test_vector_reproduces_exactly() {
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a key");
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn the_previous_secret_signs_second_and_only_until_its_overlap_ends() {
        let now = Utc::now();
        let later = now + chrono::Duration::hours(1);
        let earlier = now - chrono::Duration::seconds(1);
        assert_eq!(
            signing_secrets("new", Some("old"), Some(later), now),
            ["new", "old"]
        );
        assert_eq!(
            signing_secrets("new", Some("old"), Some(earlier), now),
            ["new"]
        );
        assert_eq!(signing_secrets("new", None, Some(later), now), ["new"]);
        let a = generate().unwrap();
        let b = generate().unwrap();
        let both = header(&[&a, &b], "id", 1, b"{}").unwrap();
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&key(&a).unwrap(), "id", 1, b"{}"));
        assert_eq!(parts[1], sign(&key(&b).unwrap(), "id", 1, b"{}"));
        assert!(header(&["whsec_not base64!"], "id", 1, b"{}").is_none());
    }

    #[test]
    fn a_new_secret_has_the_prefix_and_a_full_key() {
        let secret = generate().unwrap();
        assert!(secret.starts_with(PREFIX));
        assert_eq!(key(&secret).map(|k| k.len()), Some(KEY_BYTES));
    }
}
