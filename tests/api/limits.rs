//! Sign-in limits kept in the database: counted exactly when many attempts arrive
//! at once (one conditional UPSERT per key, on both backends), a refused attempt
//! costs the other keys nothing, and the rows of refilled buckets are deleted.

use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};

/// A wrong-password sign-in from `ip` (through the proxy header) as `email`: its status.
async fn attempt(app: &TestApp, ip: &str, email: impl Into<String>) -> u16 {
    let email: String = email.into();
    app.client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": "not the password"}))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// How many of `statuses` are `status`.
fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn rows(app: &TestApp) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM login_limits",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn concurrent_attempts_are_counted_exactly_and_refusals_cost_nothing() {
    let app = spawn_app_with(&[
        ("DISPATCH_LOGIN_LIMIT_PER_ADDRESS", "7"),
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "5"),
        ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "600"),
        ("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For"),
        ("DISPATCH_HASH_CONCURRENCY", "64"),
    ])
    .await;
    // Forty at once from one address, each for another email: the address allows 7.
    let statuses =
        join_all((0..40).map(|n| attempt(&app, "203.0.113.1", format!("nobody{n}@dispatch.test"))))
            .await;
    assert_eq!(count(&statuses, 401), 7, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 33, "{statuses:?}");

    // Forty at once from another address for one email: the email allows 5 failures
    // from it; the attempts the email refused gave the address back what they took.
    let statuses = join_all((0..40).map(|_| attempt(&app, "203.0.113.2", "x@dispatch.test"))).await;
    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 35, "{statuses:?}");
    assert_eq!(attempt(&app, "203.0.113.2", "y@dispatch.test").await, 401);
    assert_eq!(attempt(&app, "203.0.113.2", "z@dispatch.test").await, 401);
    assert_eq!(attempt(&app, "203.0.113.2", "w@dispatch.test").await, 429);
}

#[tokio::test]
async fn the_rows_of_refilled_buckets_are_deleted() {
    let app = spawn_app_with(&[
        ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "60"),
        ("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For"),
    ])
    .await;
    for n in 0..5 {
        attempt(&app, &format!("203.0.113.{n}"), "x@dispatch.test").await;
    }
    // The harness's admin login (address and email keys) and five addresses' two each.
    assert_eq!(rows(&app).await, 12);
    // A window and the pruning interval later, every bucket is full again: the next
    // attempt deletes them and leaves its own two.
    app.clock.advance(chrono::Duration::seconds(121));
    assert_eq!(attempt(&app, "203.0.113.9", "x@dispatch.test").await, 401);
    assert_eq!(rows(&app).await, 2);
}
