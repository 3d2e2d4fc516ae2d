//! Draft-preview tokens: what one carries (the link's id, its article's id, when
//! it stops working), how it is signed and how it is checked.
//!
//! A token is `<payload>.<mac>`, both URL-safe base64 without padding: the payload
//! is the link id (16 bytes), the article id (16 bytes) and the expiry (Unix
//! seconds, 8 bytes big-endian); the MAC is HMAC-SHA256 over the payload's text
//! under a key of its own, derived from the JWT secret (`HMAC(secret, "dispatch
//! preview links v1")`), so that a preview token is never an access token's
//! signature and the JWT key itself signs nothing here. The MAC is compared in
//! constant time before anything else is looked at; a token that fails any check
//! (malformed, tampered, expired, and later revoked or for a gone article) gets the
//! one answer, [`not_found`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::config::Secret;
use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// What the key is derived with: a new token format gets a new label (and so a new
/// key, under which every older token fails).
const LABEL: &[u8] = b"dispatch preview links v1";

/// The payload's length in bytes: two UUIDs and a 64-bit time.
const PAYLOAD_BYTES: usize = 16 + 16 + 8;
/// The payload's length in base64 characters (no padding).
const PAYLOAD_CHARS: usize = (PAYLOAD_BYTES * 4).div_ceil(3);
/// The MAC's length in base64 characters (32 bytes, no padding).
const MAC_CHARS: usize = (32 * 4usize).div_ceil(3);
/// A token's length: payload, dot, MAC.
pub const TOKEN_CHARS: usize = PAYLOAD_CHARS + 1 + MAC_CHARS;

/// What a preview token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewClaims {
    /// The link (a row of `preview_links`).
    pub link_id: Uuid,
    /// The article it opens.
    pub article_id: Uuid,
    /// When it stops working (whole seconds).
    pub expires_at: DateTime<Utc>,
}

/// The key preview tokens are signed with, derived once from the JWT secret.
pub struct PreviewKeys {
    key: [u8; 32],
}

impl PreviewKeys {
    /// The preview key of `secret`.
    pub fn new(secret: &Secret) -> Self {
        Self {
            key: mac_of(secret.expose().as_bytes(), &[LABEL]),
        }
    }

    /// The token of `claims` (its expiry is kept to the second).
    pub fn sign(&self, claims: &PreviewClaims) -> String {
        let mut payload = [0u8; PAYLOAD_BYTES];
        payload[..16].copy_from_slice(claims.link_id.as_bytes());
        payload[16..32].copy_from_slice(claims.article_id.as_bytes());
        payload[32..].copy_from_slice(&claims.expires_at.timestamp().to_be_bytes());
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let mac = URL_SAFE_NO_PAD.encode(mac_of(&self.key, &[payload.as_bytes()]));
        format!("{payload}.{mac}")
    }

    /// What `token` says, if this key signed it and it has not expired at `now`;
    /// otherwise [`not_found`], whatever was wrong.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<PreviewClaims, ApiError> {
        let (payload, mac) = token.split_once('.').ok_or_else(not_found)?;
        if payload.len() != PAYLOAD_CHARS || mac.len() != MAC_CHARS {
            return Err(not_found());
        }
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| not_found())?;
        let mut check = <HmacSha256 as Mac>::new_from_slice(&self.key)
            // HMAC takes a key of any length.
            .map_err(|_| not_found())?;
        check.update(payload.as_bytes());
        // Constant time: how much of a forged MAC is right cannot be timed.
        check.verify_slice(&mac).map_err(|_| not_found())?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| not_found())?;
        let bytes: [u8; PAYLOAD_BYTES] = bytes.try_into().map_err(|_| not_found())?;
        let id = |range: std::ops::Range<usize>| {
            Uuid::from_slice(&bytes[range]).map_err(|_| not_found())
        };
        let mut seconds = [0u8; 8];
        seconds.copy_from_slice(&bytes[32..]);
        let expires_at =
            DateTime::from_timestamp(i64::from_be_bytes(seconds), 0).ok_or_else(not_found)?;
        if now >= expires_at {
            return Err(not_found());
        }
        Ok(PreviewClaims {
            link_id: id(0..16)?,
            article_id: id(16..32)?,
            expires_at,
        })
    }
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
fn mac_of(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(key) else {
        // HMAC takes a key of any length; this cannot happen.
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The one answer to every preview token that does not open an article now.
pub fn not_found() -> ApiError {
    ApiError::NotFound(
        "No preview has this token: it is malformed, has expired or has been revoked, or its \
         article is gone."
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn keys(secret: &str) -> PreviewKeys {
        PreviewKeys::new(&Secret::new(secret))
    }

    fn claims(now: DateTime<Utc>) -> PreviewClaims {
        PreviewClaims {
            link_id: Uuid::now_v7(),
            article_id: Uuid::now_v7(),
            expires_at: DateTime::from_timestamp(now.timestamp() + 3600, 0).unwrap(),
        }
    }

    #[test]
    fn a_token_round_trips_until_it_expires() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let c = claims(now);
        let token = k.sign(&c);
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{token}"
        );
        assert_eq!(k.verify(&token, now).unwrap(), c);
        let at_expiry = c.expires_at;
        assert_eq!(k.verify(&token, at_expiry).unwrap_err(), not_found());
        let just_before = c.expires_at - Duration::microseconds(1);
        assert_eq!(k.verify(&token, just_before).unwrap(), c);
    }

    #[test]
    fn the_key_is_derived_not_the_jwt_secret_itself() {
        let secret = "0123456789abcdef0123456789abcdef";
        let k = keys(secret);
        assert_ne!(&k.key[..], secret.as_bytes());
        assert_ne!(k.key, mac_of(secret.as_bytes(), &[]));
        let now = Utc::now();
        let token = keys("another-secret-another-secret-xx").sign(&claims(now));
        assert_eq!(k.verify(&token, now).unwrap_err(), not_found());
    }

    #[test]
    fn every_changed_character_is_refused() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let token = k.sign(&claims(now));
        for at in 0..token.len() {
            if token.as_bytes()[at] == b'.' {
                continue;
            }
            for replacement in ['A', 'B', '-', '_', 'z'] {
                let mut forged = token.clone().into_bytes();
                if forged[at] == replacement as u8 {
                    continue;
                }
                forged[at] = replacement as u8;
                let forged = String::from_utf8(forged).unwrap();
                assert_eq!(k.verify(&forged, now).unwrap_err(), not_found(), "{forged}");
            }
        }
        for bad in [
            "",
            ".",
            "abc",
            &token[1..],
            &format!("{token}A"),
            &token.replace('.', ""),
        ] {
            assert_eq!(k.verify(bad, now).unwrap_err(), not_found(), "{bad}");
        }
    }
}
