//! Webhook delivery, end to end: events reach a real HTTP receiver started by the
//! test, signed per Standard Webhooks (checked by an HMAC written out here, not the
//! server's), retried on the schedule of the application's clock (moved by the test:
//! nothing sleeps for a retry), in order per resource, and an endpoint that answers
//! 410 or fails for days is disabled. The receiver is on loopback, so these apps
//! allow private addresses, except the one that checks they are refused.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dispatch::clock::Clock;
use dispatch::content::events::{self, Change, EventType};
use entity::{event, webhook, webhook_attempt, webhook_delivery};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};
use crate::receiver::{PATIENCE, Receiver, Reply};

/// Polls `$check` (an expression giving an `Option`) until it is `Some`.
macro_rules! eventually {
    ($what:expr, $check:expr) => {{
        let start = Instant::now();
        loop {
            if let Some(found) = $check {
                break found;
            }
            assert!(start.elapsed() < PATIENCE, "waited in vain for {}", $what);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }};
}

/// How long a test watches for a request that must not come.
const QUIET: Duration = Duration::from_millis(1200);

/// An application whose webhooks may reach the receiver on loopback.
async fn webhook_app(extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true")];
    env.extend_from_slice(extra);
    spawn_app_with(&env).await
}

/// An endpoint registered for a test, with its secret.
struct Hook {
    id: Uuid,
    secret: String,
}

fn new_secret() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    format!("whsec_{}", STANDARD.encode(key))
}

/// Registers an endpoint for `url` choosing `patterns`, from the next event on.
/// (Written to the database until the admin API for webhooks lands.)
async fn register(app: &TestApp, url: &str, patterns: &[&str]) -> Hook {
    register_on(&app.db, app.clock.now(), url, patterns).await
}

async fn register_on(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    url: &str,
    patterns: &[&str],
) -> Hook {
    let cursor: Option<i64> = event::Entity::find()
        .select_only()
        .column_as(event::Column::Position.max(), "max")
        .into_tuple()
        .one(db)
        .await
        .unwrap()
        .flatten();
    let secret = new_secret();
    let id = Uuid::now_v7();
    webhook::ActiveModel {
        id: Set(id),
        url: Set(url.to_string()),
        description: Set(None),
        event_types: Set(json!(patterns).to_string()),
        enabled: Set(true),
        disabled_reason: Set(None),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        event_cursor: Set(cursor.unwrap_or(0)),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    Hook { id, secret }
}

/// Makes a change to the resource `resource` that records one event of `event_type`.
/// (Recorded directly until the writes record their own events.)
async fn change(app: &TestApp, event_type: EventType, resource: Uuid) {
    record_on(&app.db, app.clock.now(), event_type, resource).await;
}

/// Records one event of `event_type` about `resource` at `at`, in a transaction of its own.
async fn record_on(
    db: &sea_orm::DatabaseConnection,
    at: chrono::DateTime<chrono::Utc>,
    event_type: EventType,
    resource: Uuid,
) {
    let txn = dispatch::content::begin_write(db).await.unwrap();
    events::record(
        &txn,
        Change {
            event_type,
            resource_id: resource,
            actor_id: None,
            at,
            data: json!({"id": resource, "name": "The Courier"}),
            previous: None,
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
}

async fn endpoint(app: &TestApp, hook: &Hook) -> webhook::Model {
    webhook::Entity::find_by_id(hook.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

/// An endpoint's deliveries in event order (pings last).
async fn deliveries(app: &TestApp, hook: &Hook) -> Vec<webhook_delivery::Model> {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(hook.id))
        .order_by_asc(webhook_delivery::Column::EventPosition)
        .all(&app.db)
        .await
        .unwrap()
}

/// A delivery's attempts, oldest first.
async fn attempts(app: &TestApp, delivery: Uuid) -> Vec<webhook_attempt::Model> {
    webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(delivery))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

/// Waits until the endpoint's only delivery has `n` attempts recorded; returns it.
async fn after_attempts(app: &TestApp, hook: &Hook, n: i32) -> webhook_delivery::Model {
    eventually!(format!("{n} attempts recorded"), {
        deliveries(app, hook)
            .await
            .into_iter()
            .next()
            .filter(|d| d.attempts >= n && d.lease_id.is_none())
    })
}

/// HMAC-SHA256 as RFC 2104 defines it, on SHA-256 alone.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The Standard Webhooks signature of `body` sent as `id` at `timestamp` with `secret`.
pub fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    format!("v1,{}", STANDARD.encode(hmac_sha256(&key, &content)))
}

/// The signatures a request carries, each with whether it verifies under `secret`.
fn verify(secret: &str, request: &crate::receiver::Received) -> Vec<bool> {
    let id = request.header("webhook-id").expect("webhook-id");
    let timestamp = request
        .header("webhook-timestamp")
        .expect("webhook-timestamp");
    let expected = expected_signature(secret, id, timestamp, &request.body);
    request
        .header("webhook-signature")
        .expect("webhook-signature")
        .split(' ')
        .map(|s| s == expected)
        .collect()
}

#[test]
fn the_test_s_own_hmac_reproduces_the_specification_s_test_vector() {
    assert_eq!(
        expected_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[tokio::test]
async fn an_event_arrives_signed_with_the_standard_webhooks_headers() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let hook = register(&app, &receiver.url, &["publisher.*"]).await;
    let publisher = Uuid::now_v7();
    change(&app, EventType::PublisherCreated, publisher).await;

    let got = receiver.wait_for(1).await;
    let request = &got[0];
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert!(
        request
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("Dispatch-Webhooks/")),
        "{:?}",
        request.headers
    );
    let body = request.json();
    assert_eq!(body["type"], "publisher.created");
    assert_eq!(body["resource_type"], "publisher");
    assert_eq!(body["resource_id"], json!(publisher));
    assert_eq!(body["sequence"], 1);
    assert_eq!(body["data"]["name"], "The Courier");
    assert_eq!(request.header("webhook-id"), body["id"].as_str());
    assert_eq!(
        request.header("webhook-timestamp"),
        Some(app.clock.now().timestamp().to_string().as_str())
    );
    assert_eq!(verify(&hook.secret, request), [true]);
    // Another secret does not verify it.
    assert_eq!(verify(&new_secret(), request), [false]);

    let delivery = after_attempts(&app, &hook, 1).await;
    assert_eq!(delivery.state, "delivered");
    assert_eq!(delivery.event_id.to_string(), body["id"].as_str().unwrap());
    assert_eq!(delivery.event_type, "publisher.created");
    assert_eq!(delivery.resource_key, format!("publisher:{publisher}"));
    assert_eq!(delivery.next_attempt_at, None);
    let tried = attempts(&app, delivery.id).await;
    assert_eq!(tried.len(), 1);
    assert_eq!(tried[0].status_code, Some(200));
    assert_eq!(tried[0].response_body.as_deref(), Some("answered 200"));
    assert_eq!(tried[0].error, None);

    // Counted, and its lag from the event measured (the recorder is the process's).
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let delivered = metrics
        .lines()
        .find(|l| l.starts_with("dispatch_webhook_deliveries_total{outcome=\"delivered\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_default();
    assert!(delivered >= 1.0, "{metrics}");
    assert!(
        metrics.contains("dispatch_webhook_delivery_lag_seconds_bucket{le=\"0.01\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn only_the_event_types_an_endpoint_chose_are_sent_to_it() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let tags = Receiver::start().await;
    let hook = register(&app, &receiver.url, &["publisher.deleted", "author.*"]).await;
    register(&app, &tags.url, &["tag.created"]).await;
    for event_type in [
        EventType::PublisherCreated,
        EventType::AuthorUpdated,
        EventType::TagUpdated,
        EventType::PublisherDeleted,
    ] {
        change(&app, event_type, Uuid::now_v7()).await;
    }
    let got = receiver.wait_for(2).await;
    receiver.stays_at(2, QUIET).await;
    let mut types: Vec<String> = got.iter().map(|r| r.json()["type"].to_string()).collect();
    types.sort();
    assert_eq!(types, ["\"author.updated\"", "\"publisher.deleted\""]);
    assert_eq!(deliveries(&app, &hook).await.len(), 2);
    assert!(tags.received().is_empty());
}

#[tokio::test]
async fn failed_attempts_are_retried_on_the_schedule_of_the_clock() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500), Reply::Status(500)]);
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::TagCreated, Uuid::now_v7()).await;

    receiver.wait_for(1).await;
    let first = after_attempts(&app, &hook, 1).await;
    assert_eq!(first.state, "pending");
    assert_eq!(first.last_status, Some(500));
    let failing = endpoint(&app, &hook).await.failing_since;
    assert!(failing.is_some(), "a failure marks the endpoint failing");
    // The first retry is due 5 s (plus up to 10 % jitter) later.
    let wait = first.next_attempt_at.unwrap() - app.clock.now();
    assert!(
        wait >= chrono::Duration::seconds(5) && wait <= chrono::Duration::milliseconds(5_500),
        "{wait}"
    );
    app.clock.advance(chrono::Duration::seconds(4));
    receiver.stays_at(1, QUIET).await;
    app.clock.advance(chrono::Duration::seconds(2));
    receiver.wait_for(2).await;

    // The second after 5 minutes.
    let second = after_attempts(&app, &hook, 2).await;
    assert_eq!(second.state, "pending");
    app.clock.advance(chrono::Duration::minutes(4));
    receiver.stays_at(2, QUIET).await;
    app.clock.advance(chrono::Duration::minutes(2));
    let got = receiver.wait_for(3).await;

    let done = after_attempts(&app, &hook, 3).await;
    assert_eq!(done.state, "delivered");
    assert_eq!(done.last_status, Some(200));
    assert_eq!(done.last_error, None);
    let statuses: Vec<Option<i32>> = attempts(&app, done.id)
        .await
        .iter()
        .map(|a| a.status_code)
        .collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    // One message, retried: the same id each time, signed afresh.
    let ids: Vec<_> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(got.iter().all(|r| verify(&hook.secret, r) == [true]));
    assert_ne!(
        got[0].header("webhook-timestamp"),
        got[2].header("webhook-timestamp")
    );
    assert_eq!(
        endpoint(&app, &hook).await.failing_since,
        None,
        "a success clears it"
    );
}

#[tokio::test]
async fn an_attempt_that_times_out_fails_with_its_error_and_is_retried() {
    let app = webhook_app(&[("DISPATCH_WEBHOOK_TIMEOUT_SECONDS", "1")]).await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Stall(Duration::from_secs(3))]);
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::AuthorCreated, Uuid::now_v7()).await;

    receiver.wait_for(1).await;
    let first = after_attempts(&app, &hook, 1).await;
    assert_eq!(first.state, "pending");
    assert_eq!(first.last_status, None);
    let tried = attempts(&app, first.id).await;
    assert_eq!(tried.len(), 1);
    assert_eq!(tried[0].status_code, None);
    let error = tried[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("no answer within 1 s"), "{error}");
    assert!(
        (900..3000).contains(&tried[0].duration_ms),
        "{}",
        tried[0].duration_ms
    );
    assert_eq!(first.last_error.as_deref(), Some(error));

    app.clock.advance(chrono::Duration::seconds(6));
    receiver.wait_for(2).await;
    assert_eq!(after_attempts(&app, &hook, 2).await.state, "delivered");
}

#[tokio::test]
async fn a_410_fails_the_delivery_and_disables_the_endpoint_for_later_events() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(410)]);
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::TagCreated, Uuid::now_v7()).await;

    receiver.wait_for(1).await;
    let gone = after_attempts(&app, &hook, 1).await;
    assert_eq!(gone.state, "failed");
    assert_eq!(gone.next_attempt_at, None);
    let disabled = endpoint(&app, &hook).await;
    assert!(!disabled.enabled);
    let reason = disabled.disabled_reason.unwrap_or_default();
    assert!(reason.contains("410 Gone"), "{reason}");

    change(&app, EventType::TagUpdated, Uuid::now_v7()).await;
    let last: i64 = event::Entity::find()
        .select_only()
        .column_as(event::Column::Position.max(), "max")
        .into_tuple()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    // The disabled endpoint's cursor moves past the event with no delivery.
    eventually!("the cursor past the event", {
        (endpoint(&app, &hook).await.event_cursor == last).then_some(())
    });
    receiver.stays_at(1, QUIET).await;
    assert_eq!(deliveries(&app, &hook).await.len(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_when_it_asks() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::With(429, "retry-after", "120".into())]);
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::CommentCreated, Uuid::now_v7()).await;

    receiver.wait_for(1).await;
    let limited = after_attempts(&app, &hook, 1).await;
    assert_eq!(limited.last_status, Some(429));
    assert_eq!(
        limited.next_attempt_at,
        Some(app.clock.now() + chrono::Duration::seconds(120))
    );
    // Past the 5 s of the schedule, short of the 120 s asked for.
    app.clock.advance(chrono::Duration::seconds(60));
    receiver.stays_at(1, QUIET).await;
    app.clock.advance(chrono::Duration::seconds(61));
    receiver.wait_for(2).await;
    assert_eq!(after_attempts(&app, &hook, 2).await.state, "delivered");
}

#[tokio::test]
async fn a_503_with_an_http_date_in_retry_after_is_retried_then() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let at = app.clock.now() + chrono::Duration::seconds(90);
    receiver.script([Reply::With(
        503,
        "retry-after",
        at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    )]);
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::CommentCreated, Uuid::now_v7()).await;

    receiver.wait_for(1).await;
    let limited = after_attempts(&app, &hook, 1).await;
    let wait = limited.next_attempt_at.unwrap() - app.clock.now();
    assert!(
        wait > chrono::Duration::seconds(85) && wait <= chrono::Duration::seconds(90),
        "{wait}"
    );
    app.clock.advance(chrono::Duration::seconds(30));
    receiver.stays_at(1, QUIET).await;
    app.clock.advance(chrono::Duration::seconds(61));
    receiver.wait_for(2).await;
}

#[tokio::test]
async fn one_resource_s_events_go_in_sequence_order_and_each_exactly_once() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    // Slow answers, so that several deliveries are in flight at once.
    receiver.rule(|_| Some(Reply::Slow(Duration::from_millis(40), 200)));
    register(&app, &receiver.url, &["*"]).await;
    let resources: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let rounds = 6;
    for round in 0..rounds {
        for resource in &resources {
            let event_type = if round == 0 {
                EventType::ArticleCreated
            } else {
                EventType::ArticleUpdated
            };
            change(&app, event_type, *resource).await;
        }
    }
    let total = resources.len() * rounds;
    let got = receiver.wait_for(total).await;
    receiver.stays_at(total, QUIET).await;

    let mut ids: Vec<String> = got.iter().map(|r| r.json()["id"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "every event exactly once");
    for resource in &resources {
        let mine: Vec<_> = got
            .iter()
            .filter(|r| r.json()["resource_id"] == json!(resource))
            .collect();
        let sequences: Vec<i64> = mine
            .iter()
            .map(|r| r.json()["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(sequences, (1..=rounds as i64).collect::<Vec<_>>());
        // Each one sent only once the one before it was answered.
        for pair in mine.windows(2) {
            assert!(pair[1].arrived >= pair[0].answered, "{sequences:?}");
        }
    }
    // Different resources went in parallel.
    let overlapping = got
        .windows(2)
        .any(|pair| pair[1].arrived < pair[0].answered);
    assert!(overlapping, "deliveries of different resources overlap");
}

#[tokio::test]
async fn a_delivery_waits_while_an_earlier_one_of_its_resource_keeps_failing() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let stuck = Uuid::now_v7();
    let other = Uuid::now_v7();
    let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let fails = failing.clone();
    receiver.rule(move |body| {
        let first_of_stuck = body["resource_id"] == json!(stuck) && body["sequence"] == 1;
        (first_of_stuck && fails.load(std::sync::atomic::Ordering::SeqCst))
            .then_some(Reply::Status(500))
    });
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::ArticleCreated, stuck).await;
    change(&app, EventType::ArticleUpdated, stuck).await;
    change(&app, EventType::ArticleCreated, other).await;

    // The other resource goes; the stuck one's second event waits.
    let got = receiver.wait_for(2).await;
    receiver.stays_at(2, QUIET).await;
    let of = |r: &crate::receiver::Received| {
        let body = r.json();
        (
            body["resource_id"].as_str().unwrap().to_string(),
            body["sequence"].as_i64().unwrap(),
        )
    };
    let mut seen: Vec<_> = got.iter().map(of).collect();
    seen.sort();
    let mut expected = vec![(stuck.to_string(), 1), (other.to_string(), 1)];
    expected.sort();
    assert_eq!(seen, expected);
    // Its retry fails too; the second still waits.
    app.clock.advance(chrono::Duration::seconds(6));
    receiver.wait_for(3).await;
    receiver.stays_at(3, QUIET).await;

    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    app.clock.advance(chrono::Duration::minutes(6));
    let got = receiver.wait_for(5).await;
    assert_eq!(of(&got[3]), (stuck.to_string(), 1));
    assert_eq!(of(&got[4]), (stuck.to_string(), 2));
    eventually!("all delivered", {
        deliveries(&app, &hook)
            .await
            .iter()
            .all(|d| d.state == "delivered")
            .then_some(())
    });
}

#[tokio::test]
async fn after_ten_attempts_a_delivery_fails_and_its_resource_s_next_event_goes() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let stuck = Uuid::now_v7();
    receiver.rule(move |body| {
        (body["resource_id"] == json!(stuck) && body["sequence"] == 1).then_some(Reply::Status(500))
    });
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::TagCreated, stuck).await;
    change(&app, EventType::TagUpdated, stuck).await;
    let start = app.clock.now();
    receiver.wait_for(1).await;
    for made in 1..10 {
        let delivery = eventually!(format!("attempt {made}"), {
            deliveries(&app, &hook)
                .await
                .into_iter()
                .find(|d| d.attempts == made && d.lease_id.is_none())
        });
        assert_eq!(delivery.state, "pending");
        let due = delivery.next_attempt_at.expect("a retry is due");
        app.clock
            .advance(due - app.clock.now() + chrono::Duration::seconds(1));
        // Another resource's event goes through: the endpoint itself works.
        change(&app, EventType::AuthorUpdated, Uuid::now_v7()).await;
        receiver.wait_for(2 * made as usize + 1).await;
    }
    let elapsed = app.clock.now() - start;
    assert!(
        elapsed > chrono::Duration::days(3) && elapsed < chrono::Duration::days(4),
        "ten attempts over about three days: {elapsed}"
    );
    // The tenth attempt was the last: the next event of the resource goes.
    let got = receiver.wait_for(20).await;
    receiver.stays_at(20, QUIET).await;
    let of_stuck: Vec<i64> = got
        .iter()
        .filter(|r| r.json()["resource_id"] == json!(stuck))
        .map(|r| r.json()["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(of_stuck, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
    let all = deliveries(&app, &hook).await;
    let failed: Vec<_> = all.iter().filter(|d| d.state == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 10);
    assert_eq!(failed[0].next_attempt_at, None);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("the endpoint answered 500")
    );
    eventually!("every other delivery delivered", {
        deliveries(&app, &hook)
            .await
            .iter()
            .all(|d| d.state != "pending")
            .then_some(())
    });
    let endpoint = endpoint(&app, &hook).await;
    assert!(endpoint.enabled, "{:?}", endpoint.disabled_reason);
}

#[tokio::test]
async fn an_endpoint_failing_for_three_days_is_disabled_and_says_why() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    receiver.rule(|_| Some(Reply::Status(500)));
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::TagCreated, Uuid::now_v7()).await;
    receiver.wait_for(1).await;
    let since = eventually!("failing", endpoint(&app, &hook).await.failing_since);
    for made in 1..10 {
        let delivery = after_attempts(&app, &hook, made).await;
        assert!(
            endpoint(&app, &hook).await.enabled,
            "still enabled after {made}"
        );
        let due = delivery.next_attempt_at.expect("a retry is due");
        app.clock
            .advance(due - app.clock.now() + chrono::Duration::seconds(1));
        receiver.wait_for(made as usize + 1).await;
    }
    let last = after_attempts(&app, &hook, 10).await;
    assert_eq!(last.state, "failed");
    let disabled = endpoint(&app, &hook).await;
    assert!(!disabled.enabled);
    let reason = disabled.disabled_reason.unwrap_or_default();
    let when = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(
        reason.contains(&format!("has failed since {when}")) && reason.contains("answered 500"),
        "{reason}"
    );
    // Disabled: a later event is not sent.
    change(&app, EventType::TagUpdated, Uuid::now_v7()).await;
    receiver.stays_at(10, QUIET).await;
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_and_afterwards_only_the_new() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let hook = register(&app, &receiver.url, &["*"]).await;
    let previous = new_secret();
    webhook::ActiveModel {
        id: Set(hook.id),
        previous_secret: Set(Some(previous.clone())),
        previous_secret_until: Set(Some(app.clock.now() + chrono::Duration::hours(1))),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    change(&app, EventType::PublisherUpdated, Uuid::now_v7()).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(verify(&hook.secret, &got[0]), [true, false]);
    assert_eq!(verify(&previous, &got[0]), [false, true]);

    app.clock.advance(chrono::Duration::minutes(61));
    change(&app, EventType::PublisherUpdated, Uuid::now_v7()).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(verify(&hook.secret, &got[1]), [true]);
    assert_eq!(verify(&previous, &got[1]), [false]);
}

#[tokio::test]
async fn a_ping_is_sent_with_its_own_body_and_id() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let hook = register(&app, &receiver.url, &["article.published"]).await;
    let id = Uuid::now_v7();
    let now = app.clock.now();
    let body = events::ping(id, hook.id, now).to_string();
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(hook.id),
        event_position: Set(None),
        event_id: Set(id),
        event_type: Set("ping".into()),
        resource_key: Set(format!("ping:{id}")),
        payload: Set(Some(body.clone())),
        state: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_id: Set(None),
        lease_until: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].body, body.as_bytes());
    assert_eq!(got[0].header("webhook-id"), Some(id.to_string().as_str()));
    assert_eq!(got[0].json()["type"], "ping");
    assert_eq!(verify(&hook.secret, &got[0]), [true]);
    assert_eq!(after_attempts(&app, &hook, 1).await.state, "delivered");
}

#[tokio::test]
async fn a_lease_that_ran_out_is_taken_over() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    let hook = register(&app, &receiver.url, &["*"]).await;
    // Another worker claimed it, then died: its lease runs out a minute from now.
    let now = app.clock.now();
    webhook::ActiveModel {
        id: Set(hook.id),
        enabled: Set(false),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let before = endpoint(&app, &hook).await.event_cursor;
    change(&app, EventType::TagCreated, Uuid::now_v7()).await;
    // (Fanned out while disabled: no delivery; make the one a dead worker held.)
    let last: i64 = eventually!("the cursor moved", {
        let cursor = endpoint(&app, &hook).await.event_cursor;
        (cursor > before).then_some(cursor)
    });
    let event = event::Entity::find()
        .filter(event::Column::Position.eq(last))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(hook.id),
        event_position: Set(Some(event.position)),
        event_id: Set(event.id),
        event_type: Set(event.event_type.clone()),
        resource_key: Set(format!("tag:{}", event.resource_id)),
        payload: Set(None),
        state: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_id: Set(Some(Uuid::now_v7())),
        lease_until: Set(Some(now + chrono::Duration::minutes(1))),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    webhook::ActiveModel {
        id: Set(hook.id),
        enabled: Set(true),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    receiver.stays_at(0, QUIET).await;
    app.clock.advance(chrono::Duration::seconds(61));
    let got = receiver.wait_for(1).await;
    assert_eq!(
        got[0].header("webhook-id"),
        Some(event.id.to_string().as_str())
    );
    assert_eq!(after_attempts(&app, &hook, 1).await.state, "delivered");
}

#[tokio::test]
async fn internal_addresses_are_refused_when_a_delivery_connects() {
    // Private addresses not allowed: the registration check is bypassed here, so
    // what is tested is the check made when connecting (against DNS rebinding).
    let app = spawn_app_with(&[]).await;
    let receiver = Receiver::start().await;
    let by_name = register(
        &app,
        &format!("http://localhost:{}/hook", receiver.port),
        &["*"],
    )
    .await;
    let by_address = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::TagCreated, Uuid::now_v7()).await;

    for (hook, words) in [
        (&by_name, "`localhost` resolved only to"),
        (&by_address, "127.0.0.1 is not an address"),
    ] {
        let delivery = after_attempts(&app, hook, 1).await;
        assert_eq!(delivery.state, "pending");
        let tried = attempts(&app, delivery.id).await;
        let error = tried[0].error.as_deref().unwrap_or_default();
        assert!(error.contains(words), "{error}");
        assert!(error.contains("DISPATCH_WEBHOOK_ALLOW_PRIVATE"), "{error}");
        assert_eq!(tried[0].status_code, None);
    }
    receiver.stays_at(0, QUIET).await;
}

#[tokio::test]
async fn only_the_first_kilobyte_of_an_endless_answer_is_read_and_kept() {
    let app = webhook_app(&[("DISPATCH_WEBHOOK_TIMEOUT_SECONDS", "3")]).await;
    // A receiver of its own: 200 announcing 10 GB, sent until the client hangs up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-length: 10000000000\r\n\
                            content-type: text/plain\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let chunk = vec![b'x'; 64 * 1024];
                while socket.write_all(&chunk).await.is_ok() {}
            });
        }
    });
    let hook = register(&app, &format!("http://127.0.0.1:{port}/"), &["*"]).await;
    change(&app, EventType::TagCreated, Uuid::now_v7()).await;
    let delivery = after_attempts(&app, &hook, 1).await;
    assert_eq!(delivery.state, "delivered", "{:?}", delivery.last_error);
    let tried = attempts(&app, delivery.id).await;
    assert_eq!(
        tried[0].response_body.as_deref(),
        Some("x".repeat(1024).as_str())
    );
    assert!(tried[0].duration_ms < 3000, "{}", tried[0].duration_ms);
}

#[tokio::test]
async fn two_nodes_on_postgresql_share_the_deliveries_each_sent_once_in_order() {
    use dispatch::config::Config;
    use dispatch::startup::{self, Application};
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        eprintln!("skipped: two nodes share a PostgreSQL database; set TEST_DATABASE_URL");
        return;
    }
    let (url, _guard) = crate::helpers::fresh_database().await;
    let db = startup::connect(&url).await.unwrap();
    startup::migrate(&db).await.unwrap();
    let receiver = Receiver::start().await;
    receiver.rule(|_| Some(Reply::Slow(Duration::from_millis(2), 200)));
    let hook = register_on(&db, chrono::Utc::now(), &receiver.url, &["*"]).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for _ in 0..2 {
        let env = [
            ("DATABASE_URL", url.as_str()),
            ("DISPATCH_BIND", "127.0.0.1:0"),
            ("DISPATCH_JWT_SECRET", crate::helpers::SECRET),
            ("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("DISPATCH_CACHE_BYTES", "0"),
        ];
        let config = Config::from_lookup(|key| {
            env.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        let node_db = startup::connect(&url).await.unwrap();
        let node = Application::build(config, node_db).await.unwrap();
        let mut stopped = stopped.clone();
        tokio::spawn(node.run_until(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
    }
    let resources: Vec<Uuid> = (0..40).map(|_| Uuid::now_v7()).collect();
    let total = 1000;
    for n in 0..total {
        let event_type = if n < resources.len() {
            EventType::ArticleCreated
        } else {
            EventType::ArticleUpdated
        };
        record_on(
            &db,
            chrono::Utc::now(),
            event_type,
            resources[n % resources.len()],
        )
        .await;
    }
    let got = receiver.wait_for(total).await;
    receiver.stays_at(total, QUIET).await;
    let _ = stop.send(true);

    let mut ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "every event arrived, none twice");
    for resource in &resources {
        let mine: Vec<_> = got
            .iter()
            .filter(|r| r.json()["resource_id"] == json!(resource))
            .collect();
        let sequences: Vec<i64> = mine
            .iter()
            .map(|r| r.json()["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());
        for pair in mine.windows(2) {
            assert!(pair[1].arrived >= pair[0].answered, "{sequences:?}");
        }
    }
    let delivered = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(hook.id))
        .filter(webhook_delivery::Column::State.eq("delivered"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(delivered, total as u64);
    let attempts = webhook_attempt::Entity::find().count(&db).await.unwrap();
    assert_eq!(attempts, total as u64, "one attempt each");
}

/// A process's count of delivered attempts, from its `/metrics`.
async fn delivered_by(client: &reqwest::Client, base: &str) -> f64 {
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find(|l| l.starts_with("dispatch_webhook_deliveries_total{outcome=\"delivered\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn two_processes_on_postgresql_deliver_1000_events_written_through_both_each_once_in_order() {
    use crate::nodes::{send, spawn_nodes};
    use reqwest::Method;
    // (Skipped, saying so, on SQLite: one process owns its file.)
    let Some(nodes) = spawn_nodes(&[("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true")]).await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.rule(|_| Some(Reply::Slow(Duration::from_millis(2), 200)));
    let hook = send(
        &nodes.client,
        &nodes.a.base,
        Method::POST,
        "/api/v1/webhooks",
        Some(&nodes.admin),
        Some(json!({"url": receiver.url, "event_types": ["publisher.*"]})),
    )
    .await;
    hook.assert_status(201);
    // 40 publishers, each created and changed 24 times, in 40 concurrent streams of
    // writes that alternate between the two processes.
    let (resources, per_resource) = (40, 25);
    let total = resources * per_resource;
    let bases = [nodes.a.base.clone(), nodes.b.base.clone()];
    let mut writers = tokio::task::JoinSet::new();
    for r in 0..resources {
        let (client, bases, admin) = (nodes.client.clone(), bases.clone(), nodes.admin.clone());
        writers.spawn(async move {
            let created = send(
                &client,
                &bases[r % 2],
                Method::POST,
                "/api/v1/publishers",
                Some(&admin),
                Some(json!({ "name": format!("Relay {r}") })),
            )
            .await;
            created.assert_status(201);
            let id = created.id();
            for n in 1..per_resource {
                send(
                    &client,
                    &bases[(r + n) % 2],
                    Method::PATCH,
                    &format!("/api/v1/publishers/{id}"),
                    Some(&admin),
                    Some(json!({ "description": format!("Edition {n}") })),
                )
                .await
                .assert_status(200);
            }
            id
        });
    }
    let ids: Vec<String> = writers.join_all().await;

    let start = Instant::now();
    while receiver.received().len() < total {
        assert!(
            start.elapsed() < 3 * PATIENCE,
            "{} of {total} events arrived",
            receiver.received().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    receiver.stays_at(total, QUIET).await;
    let got = receiver.received();

    // Every event of the log arrived, none twice.
    let mut logged = Vec::new();
    let mut after = "0".to_string();
    loop {
        let page = send(
            &nodes.client,
            &nodes.b.base,
            Method::GET,
            &format!("/api/v1/events?after={after}&limit=100"),
            Some(&nodes.admin),
            None,
        )
        .await;
        page.assert_json(200);
        let data = page.body["data"].as_array().unwrap();
        logged.extend(data.iter().map(|e| e["id"].as_str().unwrap().to_string()));
        if page.body["meta"]["has_more"] != json!(true) {
            break;
        }
        after = page.body["meta"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
    }
    assert_eq!(logged.len(), total);
    logged.sort_unstable();
    let mut sent: Vec<String> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_string())
        .collect();
    sent.sort_unstable();
    assert_eq!(sent, logged, "every event arrived, each once");
    // In sequence order per resource, each sent once the one before was answered.
    for id in &ids {
        let mine: Vec<_> = got
            .iter()
            .filter(|r| r.json()["resource_id"] == json!(id))
            .collect();
        let sequences: Vec<i64> = mine
            .iter()
            .map(|r| r.json()["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(sequences, (1..=per_resource as i64).collect::<Vec<_>>());
        for pair in mine.windows(2) {
            assert!(pair[1].arrived >= pair[0].answered, "{sequences:?}");
        }
    }
    // Both processes delivered, and between them each event once.
    let by_a = delivered_by(&nodes.client, &nodes.a.base).await;
    let by_b = delivered_by(&nodes.client, &nodes.b.base).await;
    println!("delivered by A: {by_a}, by B: {by_b}");
    assert!(by_a > 0.0 && by_b > 0.0, "A {by_a}, B {by_b}");
    assert_eq!(by_a + by_b, total as f64);
    let db = dispatch::startup::connect(&nodes.database_url)
        .await
        .unwrap();
    let attempts = webhook_attempt::Entity::find().count(&db).await.unwrap();
    assert_eq!(attempts, total as u64, "one attempt each");
    db.close().await.ok();
}

/// Registers a webhook for `article.published` through the API.
async fn hook_for_publications(app: &TestApp, receiver: &Receiver) {
    app.post(
        "/api/v1/webhooks",
        json!({"url": receiver.url, "event_types": ["article.published"]}),
    )
    .await
    .assert_status(201);
}

/// The `article.published` events in the feed.
async fn publications(app: &TestApp) -> Vec<serde_json::Value> {
    let feed = app
        .get_as(
            "/api/v1/events?after=0&types=article.published&limit=100",
            &app.admin,
        )
        .await;
    feed.assert_json(200);
    feed.body["data"].as_array().unwrap().clone()
}

/// `published_at` `seconds` from the application's clock, as the API takes it.
fn in_seconds(app: &TestApp, seconds: i64) -> String {
    (app.clock.now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn a_scheduled_article_is_announced_once_when_its_time_comes_by_nobody() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    hook_for_publications(&app, &receiver).await;
    let publisher = app.publisher("Dawn Courier").await;
    let article = app
        .article(
            &publisher,
            json!({"status": "scheduled", "published_at": in_seconds(&app, 60)}),
        )
        .await;
    let id = article["id"].as_str().unwrap();

    app.clock.advance(chrono::Duration::seconds(59));
    receiver.stays_at(0, QUIET).await;
    assert_eq!(publications(&app).await, Vec::<serde_json::Value>::new());

    app.clock.advance(chrono::Duration::seconds(2));
    let got = receiver.wait_for(1).await;
    let sent = got[0].json();
    assert_eq!(sent["type"], "article.published");
    assert_eq!(sent["resource_id"], json!(id));
    assert_eq!(sent["actor_id"], json!(null), "the scheduler, not a user");
    assert_eq!(sent["data"]["status"], "published");
    assert_eq!(sent["sequence"], 2, "after article.created");
    let feed = publications(&app).await;
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0]["id"], sent["id"]);
    assert_eq!(feed[0]["actor_id"], json!(null));
    assert_eq!(feed[0]["data"]["status"], "published");

    // Once: more time, more rounds of the worker, no second announcement.
    app.clock.advance(chrono::Duration::seconds(61));
    receiver.stays_at(1, QUIET).await;
    app.clock.advance(chrono::Duration::seconds(61));
    receiver.stays_at(1, QUIET).await;
    assert_eq!(publications(&app).await.len(), 1);
}

#[tokio::test]
async fn a_scheduled_article_rescheduled_before_its_time_is_announced_at_the_new_time() {
    let app = webhook_app(&[]).await;
    let receiver = Receiver::start().await;
    hook_for_publications(&app, &receiver).await;
    let publisher = app.publisher("Dusk Courier").await;
    let article = app
        .article(
            &publisher,
            json!({"status": "scheduled", "published_at": in_seconds(&app, 60)}),
        )
        .await;
    let id = article["id"].as_str().unwrap();

    // Half-way there, it is put off by another minute (to 120 s from the start).
    app.clock.advance(chrono::Duration::seconds(30));
    app.patch(
        &format!("/api/v1/articles/{id}"),
        json!({"published_at": in_seconds(&app, 90)}),
    )
    .await
    .assert_status(200);
    // Its first time passes with no announcement...
    app.clock.advance(chrono::Duration::seconds(31));
    receiver.stays_at(0, QUIET).await;
    assert_eq!(publications(&app).await, Vec::<serde_json::Value>::new());
    app.clock.advance(chrono::Duration::seconds(57));
    receiver.stays_at(0, QUIET).await;
    // ...and it is announced at the new one, once.
    app.clock.advance(chrono::Duration::seconds(3));
    let got = receiver.wait_for(1).await;
    let sent = got[0].json();
    assert_eq!(sent["resource_id"], json!(id));
    assert_eq!(sent["actor_id"], json!(null));
    assert_eq!(sent["data"]["status"], "published");
    app.clock.advance(chrono::Duration::seconds(61));
    receiver.stays_at(1, QUIET).await;
    let feed = publications(&app).await;
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0]["id"], sent["id"]);
}

#[tokio::test]
async fn a_process_without_the_worker_delivers_nothing() {
    let app = webhook_app(&[("DISPATCH_WEBHOOK_WORKER", "false")]).await;
    let receiver = Receiver::start().await;
    let hook = register(&app, &receiver.url, &["*"]).await;
    change(&app, EventType::TagCreated, Uuid::now_v7()).await;
    receiver.stays_at(0, QUIET).await;
    assert!(deliveries(&app, &hook).await.is_empty());
}
