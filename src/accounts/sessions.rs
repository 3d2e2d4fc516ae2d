//! Sign-in sessions: login with rate limits and constant-time answers, refresh
//! tokens that rotate on every use (a reused one ends its whole family), logout.
//! Every token carries the user's credential version and is refused once it is
//! stale; a login stores its session only if the version did not move while the
//! password was being checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{refresh_token, user};
use poem_openapi::Object;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::users::normalize_email;

use crate::auth::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// An access token and the refresh token that renews it.
#[derive(Object, serde::Serialize, Debug, Clone)]
pub struct TokenPair {
    /// A JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Send to `POST /api/v1/auth/refresh` for a new pair; it works once.
    pub refresh_token: String,
    /// Seconds until the refresh token expires if unused.
    pub refresh_expires_in: u64,
}

/// Hex SHA-256: refresh tokens carry 256 random bits, so a fast hash suffices.
fn digest(token: &str) -> String {
    crate::digest::sha256_hex(token.as_bytes())
}

fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| {
        tracing::error!(%err, "no system randomness");
        ApiError::Internal
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

const WRONG_CREDENTIALS: &str = "The email or password is not correct.";
const INVALID_REFRESH: &str = "The refresh token is not valid; sign in again.";
const STALE_REFRESH: &str = "The refresh token was issued before the account's password, role or status changed; sign in again.";

fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized(detail.to_string())
}

/// Issues an access token and a new refresh token in `family`.
async fn issue(
    state: &AppState,
    db: &impl ConnectionTrait,
    user: &user::Model,
    family: Uuid,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let role = user.role.parse::<Role>().map_err(|_| ApiError::Internal)?;
    let version = user.credential_version;
    let access_token = state
        .keys
        .issue(user.id, role, version, now)
        .map_err(|err| {
            tracing::error!(%err, "signing an access token failed");
            ApiError::Internal
        })?;
    let refresh_token = random_token()?;
    let ttl = state.auth.refresh_token_ttl;
    let expires_at = now + chrono::Duration::from_std(ttl).map_err(|_| ApiError::Internal)?;
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        family_id: Set(family),
        token_hash: Set(digest(&refresh_token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        credential_version: Set(version),
    }
    .insert(db)
    .await?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer".to_string(),
        expires_in: state.keys.ttl().as_secs(),
        refresh_token,
        refresh_expires_in: ttl.as_secs(),
    })
}

/// The limiter keys of a sign-in: the client address alone, and the email from
/// that address. Failures for an email count per address, so that someone
/// guessing from one address cannot lock the account's owner out elsewhere.
fn limit_keys(email: &str, client: &str) -> (String, String) {
    (
        format!("address:{client}"),
        format!("email:{client}:{email}"),
    )
}

/// Signs in. Rate limited per client address (every attempt counts) and per
/// (email, client address) (failed attempts count: a success, or an attempt whose
/// password could not be checked (a 503), gives its attempt back); an unknown email
/// and a wrong password take the same time and get the same answer.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client: &str,
) -> Result<TokenPair, ApiError> {
    let email = normalize_email(email);
    let (address_key, email_key) = limit_keys(&email, client);
    let limits = [
        (address_key, state.auth.login_rate_per_address),
        (email_key.clone(), state.auth.login_rate_per_email),
    ];
    if let Err(retry_after) = state.logins.attempt(&state.db, &limits).await? {
        tracing::warn!(client, "sign-in attempts rate limited");
        crate::metrics::rate_limited(crate::metrics::Limit::Login);
        return Err(ApiError::TooManyRequests(
            format!("Too many sign-in attempts; try again in {retry_after} seconds."),
            retry_after,
        ));
    }
    let email_rate = state.auth.login_rate_per_email;
    let checked = async {
        let user = user::Entity::find()
            .filter(user::Column::Email.eq(&email))
            .one(&state.db)
            .await?;
        let verified = state
            .passwords
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        Ok::<_, ApiError>((user, verified))
    }
    .await;
    // A password that could not be checked (no hashing slot, no database) is not a
    // failed attempt: the (email, address) limit gets it back.
    let (user, verified) = match checked {
        Ok(checked) => checked,
        Err(err) => {
            if let Err(refund) = state.logins.refund(&state.db, &email_key, email_rate).await {
                tracing::warn!(error = %refund, "giving back a sign-in attempt failed");
            }
            return Err(err);
        }
    };
    let user = match user {
        Some(user) if verified => user,
        _ => {
            crate::metrics::login_failed();
            return Err(unauthorized(WRONG_CREDENTIALS));
        }
    };
    state
        .logins
        .refund(&state.db, &email_key, email_rate)
        .await?;
    if user.disabled {
        return Err(ApiError::Forbidden(
            "This account is disabled; an admin can enable it.".to_string(),
        ));
    }
    let now = state.clock.now();
    let txn = crate::content::begin_write(&state.db).await?;
    // The password was checked against the account as it was before hashing; a
    // new password, a disable or a new role since then moved the version, and
    // this login must not outlive that change. The row stays locked (PostgreSQL;
    // SQLite's write transaction serialises) until the session is stored.
    let unchanged = user::Entity::find_by_id(user.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .is_some_and(|current| {
            current.credential_version == user.credential_version && !current.disabled
        });
    if !unchanged {
        txn.rollback().await?;
        tracing::warn!(user = %user.id, "a sign-in raced a credential change and was refused");
        return Err(unauthorized(WRONG_CREDENTIALS));
    }
    // Expired tokens of this user are of no use any more.
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::UserId.eq(user.id))
        .filter(refresh_token::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    let pair = issue(state, &txn, &user, Uuid::now_v7(), now).await?;
    txn.commit().await?;
    tracing::info!(user = %user.id, "signed in");
    Ok(pair)
}

/// Revokes every token of `family` still alive.
async fn revoke_family(
    db: &impl ConnectionTrait,
    family: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(
            Condition::all()
                .add(refresh_token::Column::FamilyId.eq(family))
                .add(refresh_token::Column::RevokedAt.is_null()),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Trades a refresh token for a new pair. The old token stops working; presenting
/// it again ends the whole session (all tokens rotated from the same login).
pub async fn refresh(state: &AppState, token: &str) -> Result<TokenPair, ApiError> {
    let now = state.clock.now();
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(token)))
        .one(&state.db)
        .await?
    else {
        return Err(unauthorized(INVALID_REFRESH));
    };
    if row.revoked_at.is_some() {
        return Err(unauthorized(
            "The refresh token has been revoked; sign in again.",
        ));
    }
    if row.used_at.is_some() {
        revoke_family(&state.db, row.family_id, now).await?;
        tracing::warn!(user = %row.user_id, family = %row.family_id, "a used refresh token was presented again; its session is revoked");
        return Err(unauthorized(
            "The refresh token was already used, so its session has been ended; sign in again.",
        ));
    }
    if row.expires_at <= now {
        return Err(unauthorized(
            "The refresh token has expired; sign in again.",
        ));
    }
    let txn = crate::content::begin_write(&state.db).await?;
    // The account is locked first, as every change to it does, so a rotation and
    // a credential change run one after the other.
    let user = user::Entity::find_by_id(row.user_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| unauthorized("The account is disabled or no longer exists."))?;
    if row.credential_version != user.credential_version {
        return Err(unauthorized(STALE_REFRESH));
    }
    // Marks the token used only if nobody else did first: of two concurrent uses,
    // one rotates and the other is treated as a reuse.
    let marked = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(
            Condition::all()
                .add(refresh_token::Column::Id.eq(row.id))
                .add(refresh_token::Column::UsedAt.is_null())
                .add(refresh_token::Column::RevokedAt.is_null()),
        )
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        txn.rollback().await?;
        revoke_family(&state.db, row.family_id, now).await?;
        return Err(unauthorized(
            "The refresh token was already used, so its session has been ended; sign in again.",
        ));
    }
    let pair = issue(state, &txn, &user, row.family_id, now).await?;
    txn.commit().await?;
    Ok(pair)
}

/// Ends the session the refresh token belongs to. Unknown tokens are ignored.
pub async fn logout(state: &AppState, token: &str) -> Result<(), ApiError> {
    if let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(token)))
        .one(&state.db)
        .await?
    {
        revoke_family(&state.db, row.family_id, state.clock.now()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
