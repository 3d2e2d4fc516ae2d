//! Webhook endpoints as admins manage them: the secret shown once (at creation and
//! at each rotation, never in a read or a list), the URL and event filter rules with
//! the field and reason of each refusal, internal addresses refused unless
//! `DISPATCH_WEBHOOK_ALLOW_PRIVATE=true`, enabling and disabling, rotation with its
//! overlap on the application's clock, deletion with its deliveries, test pings and
//! retries queued as pending deliveries, deliveries listed newest first with their
//! attempts in a fixed number of statements, and concurrent changes to one webhook
//! that only ever answer 2xx or 404. Who may do each is in `matrix`.
//!
//! Nothing here depends on a delivery being sent: the URLs are loopback ports where
//! nothing listens (private addresses allowed) or a public address literal.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use dispatch::clock::Clock;
use dispatch::content::events;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Resp, TestApp, ids, spawn_app, spawn_app_with};

const HOOKS: &str = "/api/v1/webhooks";

/// Where the tests' webhooks point when private addresses are allowed: a loopback
/// port where nothing listens.
const LOOPBACK: &str = "http://127.0.0.1:9/hook";

/// A public address literal, accepted without resolving anything.
const PUBLIC: &str = "https://93.184.216.34/hooks/dispatch";

/// Private addresses allowed, and no delivery worker: these tests manage endpoints
/// and read the rows they set; delivering (tests/api/delivery.rs) would change them.
async fn spawn_allowing_private() -> TestApp {
    spawn_app_with(&[
        ("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("DISPATCH_WEBHOOK_WORKER", "false"),
    ])
    .await
}

/// Creates a webhook with `body`, asserting 201; the answer's body.
async fn create(app: &TestApp, body: Value) -> Value {
    let resp = app.post(HOOKS, body).await;
    resp.assert_json(201);
    resp.body
}

async fn hook(app: &TestApp) -> String {
    create(app, json!({"url": LOOPBACK})).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("a time: {value}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// Asserts `resp` is a JSON answer holding no `secret` anywhere (no key, no value).
#[track_caller]
fn no_secret(resp: &Resp, status: u16, secret: &str) {
    resp.assert_json(status);
    assert!(!resp.text.contains("\"secret\""), "{}", resp.text);
    assert!(!resp.text.contains(secret), "{}", resp.text);
}

#[tokio::test]
async fn creating_a_webhook_shows_its_secret_once() {
    let app = spawn_allowing_private().await;
    let resp = app
        .post(
            HOOKS,
            json!({"url": "HTTP://127.0.0.1:9", "description": "Rebuilds the site."}),
        )
        .await;
    resp.assert_json(201);
    let id = resp.id();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/webhooks/{id}").as_str())
    );
    assert!(resp.header("etag").is_some());
    let secret = resp.body["secret"].as_str().unwrap().to_string();
    let key = secret.strip_prefix("whsec_").expect("a whsec_ secret");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(key)
            .unwrap()
            .len(),
        32
    );
    let mut expected = json!({
        "id": id, "url": "http://127.0.0.1:9/", "description": "Rebuilds the site.",
        "event_types": ["*"], "enabled": true, "disabled_reason": null, "failing_since": null,
        "secret_rotation_ends_at": null, "secret": secret,
    });
    for stamp in ["created_at", "updated_at"] {
        assert_eq!(time(&resp.body[stamp]), app.clock.now(), "{stamp}");
        expected[stamp] = resp.body[stamp].clone();
    }
    assert_eq!(resp.body, expected);

    let read = app.get_as(&format!("{HOOKS}/{id}"), &app.admin).await;
    no_secret(&read, 200, &secret);
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(read.body, expected);
    let list = app.get_as(HOOKS, &app.admin).await;
    no_secret(&list, 200, &secret);
    assert_eq!(list.body["data"], json!([expected]));
    let changed = app
        .patch(
            &format!("{HOOKS}/{id}"),
            json!({"description": "Still here."}),
        )
        .await;
    no_secret(&changed, 200, &secret);

    // A second one has a secret of its own, and receives the events recorded from
    // its creation on: its cursor starts at the last one there is.
    let first_cursor = cursor_of(&app, &id).await;
    for _ in 0..2 {
        events::record(
            &app.db,
            events::Change {
                event_type: events::EventType::TagCreated,
                resource_id: Uuid::now_v7(),
                actor_id: None,
                at: app.clock.now(),
                data: json!({}),
                previous: None,
            },
        )
        .await
        .unwrap();
    }
    let other = create(&app, json!({"url": LOOPBACK})).await;
    assert_ne!(other["secret"], json!(secret));
    let last = entity::event::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .max()
        .unwrap();
    assert_eq!(cursor_of(&app, other["id"].as_str().unwrap()).await, last);
    assert_eq!(first_cursor, 0, "no event before the first one");
}

/// Where a webhook's delivery worker starts (the last event position it has seen).
async fn cursor_of(app: &TestApp, id: &str) -> i64 {
    entity::webhook::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .event_cursor
}

#[tokio::test]
async fn bad_urls_and_event_filters_are_refused_naming_the_field() {
    let app = spawn_allowing_private().await;
    let many: Vec<String> = (0..33).map(|_| "article.*".to_string()).collect();
    let cases = [
        (
            json!({"url": "ftp://files.example/hook"}),
            "url",
            "`url`: must be an http:// or https:// URL, not ftp:",
        ),
        (json!({"url": "https://"}), "url", "`url`: must name a host"),
        (
            json!({"url": "hooks.example/x"}),
            "url",
            "`url`: must be an absolute http:// or https:// URL",
        ),
        (
            json!({"url": "https://user:hunter2@127.0.0.1/hook"}),
            "url",
            "`url`: must not carry credentials (user:password@)",
        ),
        (
            json!({"url": "https://127.0.0.1/hook#top"}),
            "url",
            "`url`: must not have a fragment",
        ),
        (
            json!({"url": LOOPBACK, "event_types": ["article.exploded"]}),
            "event_types",
            "`event_types`: `article.exploded` is not an event type or pattern",
        ),
        (
            json!({"url": LOOPBACK, "event_types": ["articles.*"]}),
            "event_types",
            "`event_types`: `articles.*` is not an event type or pattern",
        ),
        (
            json!({"url": LOOPBACK, "event_types": []}),
            "event_types",
            "`event_types`: must name at least one event type or pattern",
        ),
        (
            json!({"url": LOOPBACK, "event_types": many}),
            "event_types",
            "`event_types`: may hold at most 32 event types or patterns, not 33",
        ),
    ];
    for (body, field, detail) in &cases {
        let resp = app.post(HOOKS, body.clone()).await;
        resp.assert_problem(422).assert_fields(&[field]);
        let said = resp.body["detail"].as_str().unwrap();
        assert!(said.starts_with(detail), "{body}: {said}");
    }
    // Both at once are both named; a wrong type is the schema's 400.
    app.post(
        HOOKS,
        json!({"url": "ftp://x.example/", "event_types": ["nope"]}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["url", "event_types"]);
    app.post(HOOKS, json!({"url": LOOPBACK, "event_types": "*"}))
        .await
        .assert_problem(400)
        .assert_fields(&["event_types"]);
    app.post(HOOKS, json!({"url": LOOPBACK, "secret": "mine"}))
        .await
        .assert_problem(400)
        .assert_fields(&["secret"]);
    let count = app.get_as(&format!("{HOOKS}?count=true"), &app.admin).await;
    assert_eq!(count.body["meta"]["total"], 0, "nothing refused was kept");

    // An update follows the same rules, and refuses null where a value is needed.
    let id = hook(&app).await;
    let path = format!("{HOOKS}/{id}");
    let before = app.get_as(&path, &app.admin).await.body;
    for (body, field, detail) in &cases {
        let resp = app.patch(&path, body.clone()).await;
        resp.assert_problem(422).assert_fields(&[field]);
        let said = resp.body["detail"].as_str().unwrap();
        assert!(said.starts_with(detail), "{body}: {said}");
    }
    app.patch(
        &path,
        json!({"url": null, "event_types": null, "enabled": null}),
    )
    .await
    .assert_problem(422)
    .assert_fields(&["url", "event_types", "enabled"]);
    assert_eq!(app.get_as(&path, &app.admin).await.body, before);
}

/// A name other than `localhost` that the hosts file maps to a loopback address
/// (`ip6-localhost` on Debian and Ubuntu, the machine's own name in containers).
fn loopback_name() -> String {
    let hosts = std::fs::read_to_string("/etc/hosts").expect("/etc/hosts");
    hosts
        .lines()
        .find_map(|line| {
            let mut words = line.split('#').next()?.split_whitespace();
            let ip: std::net::IpAddr = words.next()?.parse().ok()?;
            if !ip.is_loopback() {
                return None;
            }
            words
                .find(|name| {
                    let name = name.to_ascii_lowercase();
                    name != "localhost" && !name.ends_with(".localhost")
                })
                .map(str::to_string)
        })
        .expect("a name for a loopback address in /etc/hosts besides localhost")
}

#[tokio::test]
async fn internal_addresses_are_refused_unless_private_ones_are_allowed() {
    let name = loopback_name();
    let by_name = format!("http://{name}/hook");
    let resolves = format!(
        "`{}` resolves to a loopback address",
        name.to_ascii_lowercase()
    );
    let cases = [
        ("http://127.0.0.1:9/x", "is a loopback address (127.0.0.1)"),
        ("http://10.0.0.5/", "is a private address (10.0.0.5)"),
        (
            "http://169.254.169.254/latest/meta-data",
            "is a link-local address (169.254.169.254)",
        ),
        ("http://[::1]/", "is a loopback address (::1)"),
        (
            "http://localhost:8080/",
            "names `localhost`, a loopback address",
        ),
        (by_name.as_str(), resolves.as_str()),
    ];
    let app = spawn_app().await;
    for (url, reason) in cases {
        let resp = app.post(HOOKS, json!({"url": url})).await;
        resp.assert_problem(422).assert_fields(&["url"]);
        let detail = resp.body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("`url`: {reason}")),
            "{url}: {detail}"
        );
        assert!(
            detail.contains("DISPATCH_WEBHOOK_ALLOW_PRIVATE=true"),
            "{detail}"
        );
    }
    // A public address is taken; moving it inside is refused like creating it there.
    let public = create(&app, json!({"url": PUBLIC})).await;
    let path = format!("{HOOKS}/{}", public["id"].as_str().unwrap());
    app.patch(&path, json!({"url": "http://10.0.0.5/"}))
        .await
        .assert_problem(422)
        .assert_fields(&["url"]);
    assert_eq!(
        app.get_as(&path, &app.admin).await.body["url"],
        json!(PUBLIC)
    );
    // A name that does not resolve is refused too.
    let resp = app
        .post(HOOKS, json!({"url": "https://hooks.nowhere.invalid/x"}))
        .await;
    resp.assert_problem(422).assert_fields(&["url"]);
    assert!(
        resp.body["detail"]
            .as_str()
            .unwrap()
            .contains("`hooks.nowhere.invalid` does not resolve"),
        "{}",
        resp.text
    );

    let allowing = spawn_allowing_private().await;
    for (url, _) in cases {
        let resp = allowing.post(HOOKS, json!({"url": url})).await;
        resp.assert_json(201);
    }
}

#[tokio::test]
async fn webhooks_are_enabled_disabled_and_changed() {
    let app = spawn_allowing_private().await;
    let made = create(
        &app,
        json!({"url": LOOPBACK, "description": "Site builds", "event_types": ["article.*", "tag.deleted", "article.*"], "enabled": false}),
    )
    .await;
    assert_eq!(made["event_types"], json!(["article.*", "tag.deleted"]));
    assert_eq!(made["enabled"], json!(false));
    let id = made["id"].as_str().unwrap();
    let path = format!("{HOOKS}/{id}");

    // A disabled webhook takes no test ping.
    let refused = app
        .send(
            Method::POST,
            &format!("{path}/test"),
            Some(&app.admin),
            None,
        )
        .await;
    refused
        .assert_problem(409)
        .assert_fields(&["enabled"])
        .assert_detail("`enabled`: the webhook is disabled; enable it first");

    app.clock.advance(Duration::seconds(5));
    let enabled = app.patch(&path, json!({"enabled": true})).await;
    enabled.assert_json(200);
    assert_eq!(enabled.body["enabled"], json!(true));
    assert_eq!(time(&enabled.body["updated_at"]), app.clock.now());
    assert_eq!(enabled.body["created_at"], made["created_at"]);

    let changed = app
        .patch(
            &path,
            json!({"description": null, "event_types": ["comment.created"], "url": "https://127.0.0.1:8443/new"}),
        )
        .await;
    changed.assert_json(200);
    assert_eq!(changed.body["description"], Value::Null);
    assert_eq!(changed.body["event_types"], json!(["comment.created"]));
    assert_eq!(changed.body["url"], json!("https://127.0.0.1:8443/new"));
    assert_eq!(changed.body["enabled"], json!(true));
    assert_eq!(app.get_as(&path, &app.admin).await.body, changed.body);

    // Dispatch disables an endpoint that fails for days (as the worker would) and
    // says why; enabling it again forgets both.
    let since = app.clock.now() - Duration::days(3);
    let uuid: Uuid = id.parse().unwrap();
    entity::webhook::ActiveModel {
        id: Set(uuid),
        enabled: Set(false),
        disabled_reason: Set(Some("failing for 3 days".into())),
        failing_since: Set(Some(since)),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let shown = app.get_as(&path, &app.admin).await;
    assert_eq!(shown.body["disabled_reason"], json!("failing for 3 days"));
    assert_eq!(time(&shown.body["failing_since"]), since);
    let back = app.patch(&path, json!({"enabled": true})).await;
    back.assert_json(200);
    assert_eq!(back.body["enabled"], json!(true));
    assert_eq!(back.body["disabled_reason"], Value::Null);
    assert_eq!(back.body["failing_since"], Value::Null);

    // An enabled endpoint that is failing keeps its failing_since when `enabled: true`
    // is sent again; disabling it by hand leaves no reason.
    entity::webhook::ActiveModel {
        id: Set(uuid),
        failing_since: Set(Some(since)),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let again = app.patch(&path, json!({"enabled": true})).await;
    assert_eq!(time(&again.body["failing_since"]), since);
    entity::webhook::ActiveModel {
        id: Set(uuid),
        disabled_reason: Set(Some("stale".into())),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let off = app.patch(&path, json!({"enabled": false})).await;
    off.assert_json(200);
    assert_eq!(off.body["enabled"], json!(false));
    assert_eq!(off.body["disabled_reason"], Value::Null);

    let nowhere = format!("{HOOKS}/{}", Uuid::now_v7());
    app.patch(&nowhere, json!({"enabled": true}))
        .await
        .assert_problem(404);
    app.get_as(&nowhere, &app.admin).await.assert_problem(404);
}

/// `POST {path}/secret` as the admin, with `body` if any.
async fn rotate(app: &TestApp, path: &str, body: Option<Value>) -> Resp {
    app.send(
        Method::POST,
        &format!("{path}/secret"),
        Some(&app.admin),
        body,
    )
    .await
}

#[tokio::test]
async fn rotating_the_secret_answers_a_new_one_and_the_overlap() {
    let mut app = spawn_allowing_private().await;
    let made = create(&app, json!({"url": LOOPBACK})).await;
    let first = made["secret"].as_str().unwrap().to_string();
    let path = format!("{HOOKS}/{}", made["id"].as_str().unwrap());

    let rotated = rotate(&app, &path, Some(json!({"overlap_seconds": 3600}))).await;
    rotated.assert_json(200);
    let second = rotated.body["secret"].as_str().unwrap().to_string();
    assert!(second.starts_with("whsec_"));
    assert_ne!(second, first);
    let ends = app.clock.now() + Duration::seconds(3600);
    assert_eq!(time(&rotated.body["secret_rotation_ends_at"]), ends);
    assert_eq!(time(&rotated.body["updated_at"]), app.clock.now());
    let read = app.get_as(&path, &app.admin).await;
    no_secret(&read, 200, &second);
    assert!(!read.text.contains(&first));
    assert_eq!(time(&read.body["secret_rotation_ends_at"]), ends);

    // Without a body, the overlap is a day.
    let third = rotate(&app, &path, None).await;
    third.assert_json(200);
    assert_ne!(third.body["secret"], json!(second));
    assert_eq!(
        time(&third.body["secret_rotation_ends_at"]),
        app.clock.now() + Duration::days(1)
    );
    // Once the overlap has passed, only the current secret signs.
    app.clock.advance(Duration::days(1) + Duration::seconds(1));
    app.sign_in_again().await;
    let later = app.get_as(&path, &app.admin).await;
    later.assert_json(200);
    assert_eq!(later.body["secret_rotation_ends_at"], Value::Null);

    // No overlap: the old secret stops at once.
    let now = rotate(&app, &path, Some(json!({"overlap_seconds": 0}))).await;
    now.assert_json(200);
    assert_eq!(now.body["secret_rotation_ends_at"], Value::Null);
    for bad in [
        json!({"overlap_seconds": 604_801}),
        json!({"overlap_seconds": -1}),
        json!({"overlap": 5}),
    ] {
        rotate(&app, &path, Some(bad.clone()))
            .await
            .assert_problem(400);
    }
    let nowhere = format!("{HOOKS}/{}/secret", Uuid::now_v7());
    app.send(Method::POST, &nowhere, Some(&app.admin), None)
        .await
        .assert_problem(404);
    // A body that is not JSON is refused; whitespace counts as none.
    let raw = app
        .send_raw(
            Method::POST,
            &format!("{path}/secret"),
            Some(&app.admin),
            "text/plain",
            "overlap_seconds=5",
        )
        .await;
    raw.assert_problem(415);
    let blank = app
        .send_raw(
            Method::POST,
            &format!("{path}/secret"),
            Some(&app.admin),
            "application/json",
            "  ",
        )
        .await;
    blank.assert_json(200);
    assert_eq!(
        time(&blank.body["secret_rotation_ends_at"]),
        app.clock.now() + Duration::days(1)
    );
}

/// The deliveries list of `path` (a webhook) with `query`.
async fn deliveries(app: &TestApp, path: &str, query: &str) -> Resp {
    let resp = app
        .get_as(&format!("{path}/deliveries{query}"), &app.admin)
        .await;
    resp.assert_json(200);
    resp
}

async fn ping(app: &TestApp, path: &str) -> Resp {
    app.send(
        Method::POST,
        &format!("{path}/test"),
        Some(&app.admin),
        None,
    )
    .await
}

#[tokio::test]
async fn a_test_ping_is_queued_as_a_pending_delivery_and_can_be_retried() {
    let app = spawn_allowing_private().await;
    let id = hook(&app).await;
    let path = format!("{HOOKS}/{id}");
    assert_eq!(deliveries(&app, &path, "").await.body["data"], json!([]));

    let queued = ping(&app, &path).await;
    queued.assert_json(202);
    let delivery = queued.id();
    let body = &queued.body;
    assert_eq!(body["webhook_id"], json!(id));
    assert_eq!(body["event_type"], json!("ping"));
    assert_eq!(body["state"], json!("pending"));
    assert_eq!(body["attempt_count"], json!(0));
    assert_eq!(time(&body["next_attempt_at"]), app.clock.now());
    assert_eq!(body["attempts"], json!([]));
    assert_ne!(body["event_id"], body["id"]);
    assert!(body["event_id"].as_str().unwrap().parse::<Uuid>().is_ok());

    let pending = deliveries(&app, &path, "?state=pending").await;
    assert_eq!(ids(&pending), std::slice::from_ref(&delivery));
    assert_eq!(pending.body["data"][0]["event_type"], json!("ping"));
    assert_eq!(
        pending.body["data"][0]["event_id"], body["event_id"],
        "the list shows the queued delivery"
    );
    assert_eq!(
        deliveries(&app, &path, "?state=delivered").await.body["data"],
        json!([])
    );

    // A retry queues it again, due now, keeping its history.
    let failed_at = app.clock.now();
    entity::webhook_delivery::ActiveModel {
        id: Set(delivery.parse().unwrap()),
        state: Set("failed".into()),
        attempts: Set(1),
        next_attempt_at: Set(None),
        lease_id: Set(Some(Uuid::now_v7())),
        lease_until: Set(Some(failed_at)),
        last_status: Set(Some(500)),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    entity::webhook_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery.parse().unwrap()),
        attempted_at: Set(failed_at),
        status_code: Set(Some(500)),
        duration_ms: Set(12),
        response_body: Set(Some("oops".into())),
        error: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    app.clock.advance(Duration::minutes(10));
    let retried = app
        .send(
            Method::POST,
            &format!("{path}/deliveries/{delivery}/retry"),
            Some(&app.admin),
            None,
        )
        .await;
    retried.assert_json(202);
    assert_eq!(retried.body["state"], json!("pending"));
    assert_eq!(time(&retried.body["next_attempt_at"]), app.clock.now());
    assert_eq!(retried.body["attempt_count"], json!(1));
    assert_eq!(retried.body["last_status"], json!(500));
    assert_eq!(
        retried.body["attempts"],
        json!([{
            "attempted_at": failed_at.to_rfc3339(), "status_code": 500, "duration_ms": 12,
            "response_body": "oops", "error": null,
        }])
    );
    let row = entity::webhook_delivery::Entity::find_by_id(delivery.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.lease_id, row.lease_until),
        (None, None),
        "out of any lease"
    );

    // Unknown deliveries, and another webhook's, are not this webhook's.
    let other = format!("{HOOKS}/{}", hook(&app).await);
    for (webhook, delivery) in [
        (&path, Uuid::now_v7().to_string()),
        (&other, delivery.clone()),
    ] {
        app.send(
            Method::POST,
            &format!("{webhook}/deliveries/{delivery}/retry"),
            Some(&app.admin),
            None,
        )
        .await
        .assert_problem(404);
    }
    let nowhere = format!("{HOOKS}/{}", Uuid::now_v7());
    ping(&app, &nowhere).await.assert_problem(404);
    app.get_as(&format!("{nowhere}/deliveries"), &app.admin)
        .await
        .assert_problem(404);
    app.get_as(&format!("{path}/deliveries?state=stuck"), &app.admin)
        .await
        .assert_problem(400);

    // A delivery whose event is no longer kept (past the retention) cannot be sent again.
    let expired = Uuid::now_v7();
    entity::webhook_delivery::ActiveModel {
        id: Set(expired),
        webhook_id: Set(id.parse().unwrap()),
        event_position: Set(Some(999_999)),
        event_id: Set(Uuid::now_v7()),
        event_type: Set("tag.created".into()),
        resource_key: Set(format!("tag:{}", Uuid::now_v7())),
        payload: Set(None),
        state: Set("failed".into()),
        attempts: Set(9),
        next_attempt_at: Set(None),
        lease_id: Set(None),
        lease_until: Set(None),
        last_status: Set(Some(500)),
        last_error: Set(None),
        created_at: Set(failed_at),
        updated_at: Set(failed_at),
    }
    .insert(&app.db)
    .await
    .unwrap();
    app.send(
        Method::POST,
        &format!("{path}/deliveries/{expired}/retry"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_problem(409)
    .assert_fields(&["delivery_id"]);
    let failed = deliveries(&app, &path, "?state=failed").await;
    assert_eq!(ids(&failed), [expired.to_string()], "left as it was");

    // A disabled webhook's deliveries are not retried.
    app.patch(&path, json!({"enabled": false}))
        .await
        .assert_status(200);
    app.send(
        Method::POST,
        &format!("{path}/deliveries/{delivery}/retry"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_problem(409)
    .assert_fields(&["enabled"]);
}

#[tokio::test]
async fn deliveries_come_newest_first_with_their_attempts_in_constant_statements() {
    let app = spawn_allowing_private().await;
    let path = format!("{HOOKS}/{}", hook(&app).await);
    let mut queued = Vec::new();
    for _ in 0..5 {
        let resp = ping(&app, &path).await;
        resp.assert_json(202);
        queued.push(resp.id());
    }
    // Two attempts at the oldest and one at the newest, stored out of order.
    let t0 = app.clock.now();
    for (delivery, minutes, status) in [
        (&queued[0], 2, 503),
        (&queued[4], 1, 500),
        (&queued[0], 1, 502),
    ] {
        entity::webhook_attempt::ActiveModel {
            id: Set(Uuid::now_v7()),
            delivery_id: Set(delivery.parse().unwrap()),
            attempted_at: Set(t0 + Duration::minutes(minutes)),
            status_code: Set(Some(status)),
            duration_ms: Set(3),
            response_body: Set(None),
            error: Set(None),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut statuses = Vec::new();
    let mut query = "?limit=2&count=true".to_string();
    loop {
        let page = deliveries(&app, &path, &query).await;
        assert_eq!(page.body["meta"]["total"], 5);
        for d in page.body["data"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_string());
            statuses.push(
                d["attempts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["status_code"].as_i64().unwrap())
                    .collect::<Vec<_>>(),
            );
        }
        match page.body["meta"]["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&count=true&cursor={cursor}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = queued.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    assert_eq!(
        statuses,
        [vec![500], vec![], vec![], vec![], vec![502, 503]],
        "each delivery's own attempts, oldest first"
    );

    let mut used = Vec::new();
    for limit in [1, 5] {
        let before = app.statement_count();
        let page = deliveries(&app, &path, &format!("?limit={limit}")).await;
        used.push(app.statement_count() - before);
        assert_eq!(page.body["data"].as_array().unwrap().len(), limit);
    }
    assert_eq!(used[0], used[1], "statements for 1 delivery vs 5");

    app.get_as(&format!("{path}/deliveries?cursor=forged"), &app.admin)
        .await
        .assert_problem(400)
        .assert_fields(&["cursor"]);
}

#[tokio::test]
async fn webhooks_are_listed_newest_first_a_page_at_a_time() {
    let app = spawn_allowing_private().await;
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(hook(&app).await);
    }
    let first = app.get_as(&format!("{HOOKS}?limit=2"), &app.admin).await;
    first.assert_json(200);
    assert_eq!(ids(&first), [made[2].clone(), made[1].clone()]);
    let cursor = first.body["meta"]["next_cursor"].as_str().unwrap();
    let second = app
        .get_as(&format!("{HOOKS}?limit=2&cursor={cursor}"), &app.admin)
        .await;
    assert_eq!(ids(&second), [made[0].clone()]);
    assert_eq!(second.body["meta"]["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_deleted_webhook_is_gone_with_its_deliveries() {
    let app = spawn_allowing_private().await;
    let id = hook(&app).await;
    let path = format!("{HOOKS}/{id}");
    let delivery = ping(&app, &path).await.id();
    entity::webhook_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery.parse().unwrap()),
        attempted_at: Set(app.clock.now()),
        status_code: Set(None),
        duration_ms: Set(10_000),
        response_body: Set(None),
        error: Set(Some("timed out".into())),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let kept = hook(&app).await;

    let deleted = app.delete(&path).await;
    deleted.assert_status(204);
    assert!(deleted.text.is_empty());
    app.get_as(&path, &app.admin).await.assert_problem(404);
    app.get_as(&format!("{path}/deliveries"), &app.admin)
        .await
        .assert_problem(404);
    app.delete(&path).await.assert_problem(404);
    let list = app.get_as(HOOKS, &app.admin).await;
    assert_eq!(ids(&list), [kept]);
    let webhook_id: Uuid = id.parse().unwrap();
    let left = entity::webhook_delivery::Entity::find()
        .filter(entity::webhook_delivery::Column::WebhookId.eq(webhook_id))
        .all(&app.db)
        .await
        .unwrap();
    assert!(left.is_empty(), "deliveries cascade");
    let attempts = entity::webhook_attempt::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(attempts.is_empty(), "attempts cascade");
}

/// Changes, rotations and deletions of one webhook at once, many times: each answers
/// 2xx or 404, never a 500 or a conflict, and the webhook ends up deleted.
#[tokio::test]
async fn concurrent_changes_to_one_webhook_answer_only_2xx_or_404() {
    let app = spawn_allowing_private().await;
    for round in 0..8 {
        let path = format!("{HOOKS}/{}", hook(&app).await);
        let requests = (0..12).map(|n| {
            let (method, target, body) = match n % 6 {
                0 => (
                    Method::PATCH,
                    path.clone(),
                    Some(json!({"enabled": n % 4 == 0, "description": format!("round {round}")})),
                ),
                1 => (
                    Method::PATCH,
                    path.clone(),
                    Some(json!({"event_types": ["article.*"], "url": "http://127.0.0.1:9/moved"})),
                ),
                2 | 4 => (
                    Method::POST,
                    format!("{path}/secret"),
                    Some(json!({"overlap_seconds": 60})),
                ),
                3 => (Method::DELETE, path.clone(), None),
                _ => (Method::GET, path.clone(), None),
            };
            let app = &app;
            async move {
                let resp = app
                    .send(method.clone(), &target, Some(&app.admin), body)
                    .await;
                (method, target, resp)
            }
        });
        for (method, target, resp) in futures_util::future::join_all(requests).await {
            let status = resp.status.as_u16();
            assert!(
                resp.status.is_success() || status == 404,
                "round {round}: {method} {target} -> {status} {}",
                resp.text
            );
            if status == 404 {
                resp.assert_problem(404);
            }
        }
        app.get_as(&path, &app.admin).await.assert_problem(404);
    }
}

#[tokio::test]
async fn a_claim_leases_no_more_deliveries_than_it_asked_for() {
    use dispatch::webhooks::{fanout, lease};
    let app = spawn_allowing_private().await;
    hook(&app).await;
    for n in 0..60 {
        app.tag(&format!("Topic {n}")).await;
    }
    let now = app.clock.now();
    assert_eq!(fanout::fan_out(&app.db, now).await.unwrap(), 60);
    let hold = std::time::Duration::from_secs(40);
    let claim = lease::claim(&app.db, now, 4, hold, &[]).await.unwrap();
    assert_eq!(claim.deliveries.len(), 4);
    // Exactly those are leased: on PostgreSQL an `UPDATE … IN (SELECT … LIMIT 4 FOR
    // UPDATE SKIP LOCKED)` leased dozens, which then waited 40 s for their lease.
    let leased = entity::webhook_delivery::Entity::find()
        .filter(entity::webhook_delivery::Column::LeaseId.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(leased.len(), 4);
    let again = lease::claim(&app.db, now, 100, hold, &[]).await.unwrap();
    assert_eq!(again.deliveries.len(), 56);
}
