//! Passwords: argon2id with its parameters in one place, a rule for weak
//! passwords, a dummy verification so that an unknown email costs the same
//! time as a wrong password, and a cap on how many hashes run at once (each holds
//! 19 MiB), beyond which a request gets a 503 with `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, FieldError};

/// argon2id, 19 MiB of memory, 2 passes, 1 lane: the OWASP recommendation.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

/// The shortest and longest password accepted, in characters.
pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// Passwords too common to allow whatever their length.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "password1234",
    "passwordpassword",
    "qwertyuiopas",
    "qwerty123456",
    "iloveyou1234",
    "letmein12345",
    "administrator",
    "changemechangeme",
    "correcthorsebatterystaple",
];

fn argon2() -> Argon2<'static> {
    // The constants are within argon2's limits, so `Params::new` cannot fail; the
    // fallback is argon2's own default, which is the same OWASP set.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How long a hash waits for a free slot before the request gets its 503.
const SLOT_WAIT: Duration = Duration::from_millis(50);
/// The `Retry-After` of that 503, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Hashing and verification, run off the async threads, at most `slots` at once.
#[derive(Clone)]
pub struct Passwords {
    /// The hash of a random password: verified against when an email is unknown.
    dummy: Arc<String>,
    /// One permit per hash allowed to run at once.
    slots: Arc<Semaphore>,
}

impl Passwords {
    /// With the default cap (twice the available cores).
    pub fn new() -> anyhow::Result<Self> {
        Self::with_concurrency(crate::config::ServerConfig::default().hash_concurrency)
    }

    /// With at most `concurrency` (at least 1) hashes running at once.
    pub fn with_concurrency(concurrency: usize) -> anyhow::Result<Self> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        let dummy = hash_blocking(&random)?;
        Ok(Self {
            dummy: Arc::new(dummy),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
        })
    }

    /// A hashing slot, or the 503 when none frees up within [`SLOT_WAIT`].
    async fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let busy = || {
            tracing::warn!("password hashing is at its concurrency cap");
            ApiError::ServiceUnavailable(
                "The server is busy checking other passwords; try again shortly.".to_string(),
                BUSY_RETRY_AFTER_SECS,
            )
        };
        match tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// The argon2id PHC string of `password`, with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let permit = self.slot().await?;
        let password = password.as_bytes().to_vec();
        tokio::task::spawn_blocking(move || {
            let hashed = hash_blocking(&password);
            drop(permit);
            hashed
        })
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(|err| {
            tracing::error!(error = %err, "password hashing failed");
            ApiError::Internal
        })
    }

    /// Whether `password` matches `hash`; with no hash (unknown email), verifies
    /// against the dummy so that the answer takes the same time, and is `false`.
    /// A 503 when every hashing slot is taken.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
        let permit = self.slot().await?;
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy.as_str().to_string(), str::to_string);
        let password = password.as_bytes().to_vec();
        let ok = tokio::task::spawn_blocking(move || {
            let ok = PasswordHash::new(&hash)
                .map(|parsed| argon2().verify_password(&password, &parsed).is_ok())
                .unwrap_or(false);
            drop(permit);
            ok
        })
        .await
        .unwrap_or(false);
        Ok(ok && known)
    }
}

fn hash_blocking(password: &[u8]) -> anyhow::Result<String> {
    argon2()
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// The rule for a new password; `email` is the account's, which the password may
/// not contain.
pub fn check(password: &str, email: &str, errors: &mut Vec<FieldError>) {
    let length = password.chars().count();
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    let message = if length < MIN_LENGTH {
        format!("must be at least {MIN_LENGTH} characters long")
    } else if length > MAX_LENGTH {
        format!("must be at most {MAX_LENGTH} characters long")
    } else if lower.chars().all(|c| lower.starts_with(c)) {
        "must not be one character repeated".to_string()
    } else if COMMON.contains(&lower.as_str()) {
        "is too common; choose a longer phrase of unrelated words".to_string()
    } else if local.chars().count() >= 3 && lower.contains(&local.to_lowercase()) {
        "must not contain the email address".to_string()
    } else {
        return;
    };
    errors.push(FieldError::new("password", message));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(password: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check(password, "jane.doe@ledger.example", &mut errors);
        errors
    }

    #[test]
    fn weak_passwords_are_refused() {
        for weak in [
            "short",
            "aaaaaaaaaaaaaaa",
            "Password1234",
            "jane.doe-rocks-2026",
            &"x".repeat(300),
        ] {
            assert_eq!(problems(weak).len(), 1, "{weak}");
        }
        assert!(problems("plum rain over Lyon docks").is_empty());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let p = Passwords::new().unwrap();
        let h = p.hash("plum rain over Lyon docks").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(
            p.verify("plum rain over Lyon docks", Some(&h))
                .await
                .unwrap()
        );
        assert!(
            !p.verify("plum rain over Lyon dock", Some(&h))
                .await
                .unwrap()
        );
        assert!(!p.verify("anything", None).await.unwrap());
        assert!(!p.verify("anything", Some("not a hash")).await.unwrap());
    }
}
