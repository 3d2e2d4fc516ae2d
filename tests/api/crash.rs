//! A crash loses no event: the real `dispatch serve` is killed (SIGKILL: no
//! shutdown) after its writes answered 2xx, so after their events committed, and
//! before any of them was delivered; the next process on the same database (a
//! SQLite file, or the test's PostgreSQL database) delivers every one, each once
//! and in sequence order per resource.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use entity::{event, webhook_delivery};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Resp, SECRET, fresh_database};
use crate::nodes::{self, login, send};
use crate::receiver::{Received, Receiver, Reply};

/// How long the restarted process has to deliver everything: the first retry of
/// what was attempted before the crash is due 5 s (and up to 10 %) after it, by
/// the real clock of a real process.
const PATIENCE: Duration = Duration::from_secs(30);

/// How many times each resource is changed after its creation.
const UPDATES: usize = 3;

/// The settings of every process on the database at `url`.
fn settings(url: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", url),
        ("DISPATCH_JWT_SECRET", SECRET),
        ("DISPATCH_ADMIN_EMAIL", ADMIN_EMAIL),
        ("DISPATCH_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("DISPATCH_LOGIN_LIMIT_PER_ADDRESS", "100000"),
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "100000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The first admin's access token on the process at `base`.
async fn sign_in(client: &reqwest::Client, base: &str) -> String {
    let login = login(client, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    login.assert_status(200);
    login.body["access_token"].as_str().unwrap().to_string()
}

/// Sends a write as `token` and asserts it answered `status`.
async fn write(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    (method, path, body): (Method, String, Value),
    status: u16,
) -> Resp {
    let resp = send(client, base, method, &path, Some(token), Some(body)).await;
    resp.assert_status(status);
    resp
}

/// The webhook's deliveries (newest first), as the admin API shows them.
async fn deliveries(client: &reqwest::Client, base: &str, token: &str, hook: &str) -> Vec<Value> {
    let path = format!("/api/v1/webhooks/{hook}/deliveries?limit=100");
    let resp = send(client, base, Method::GET, &path, Some(token), None).await;
    resp.assert_json(200);
    resp.body["data"].as_array().unwrap().clone()
}

fn id_of(request: &Received) -> String {
    request.header("webhook-id").unwrap().to_string()
}

#[tokio::test]
async fn no_event_is_lost_when_the_server_is_killed_between_commit_and_delivery() {
    let (url, _db) = fresh_database().await;
    let env = settings(&url);
    let client = reqwest::Client::new();
    // Until it is up, the receiver answers every request 500: nothing is delivered.
    let receiver = Receiver::start().await;
    let up = Arc::new(AtomicBool::new(false));
    let answers = up.clone();
    receiver.rule(move |_| {
        Some(Reply::Status(if answers.load(Ordering::SeqCst) {
            204
        } else {
            500
        }))
    });

    let node = nodes::start(&env).await;
    let admin = sign_in(&client, &node.base).await;
    let hook = write(
        &client,
        &node.base,
        &admin,
        (
            Method::POST,
            "/api/v1/webhooks".into(),
            json!({"url": receiver.url, "event_types": ["*"]}),
        ),
        201,
    )
    .await
    .id();
    // Two resources; the first event of each is attempted (and refused) at once.
    let mut resources = Vec::new();
    for (path, name) in [
        ("/api/v1/publishers", "Crash Ledger"),
        ("/api/v1/tags", "Night shift"),
    ] {
        let created = write(
            &client,
            &node.base,
            &admin,
            (Method::POST, path.into(), json!({ "name": name })),
            201,
        )
        .await;
        resources.push((path, name, created.id()));
    }
    let start = Instant::now();
    loop {
        let found = deliveries(&client, &node.base, &admin, &hook).await;
        let tried = found
            .iter()
            .filter(|d| d["attempt_count"] == 1 && d["state"] == "pending")
            .count();
        if tried == resources.len() {
            assert!(found.iter().all(|d| d["last_status"] == 500), "{found:?}");
            break;
        }
        assert!(start.elapsed() < PATIENCE, "no first attempts: {found:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Later changes of both: their deliveries wait behind the first ones, which
    // are not due again for 5 s. The process is killed right after the last 2xx.
    for n in 1..=UPDATES {
        for (path, name, id) in &resources {
            let change = json!({ "name": format!("{name} {n}") });
            write(
                &client,
                &node.base,
                &admin,
                (Method::PATCH, format!("{path}/{id}"), change),
                200,
            )
            .await;
        }
    }
    node.kill();
    let total = resources.len() * (1 + UPDATES);

    // What the dead process left: every event, none delivered.
    {
        let db = dispatch::startup::connect(&url).await.unwrap();
        let events = event::Entity::find().count(&db).await.unwrap();
        assert_eq!(events, total as u64, "each 2xx write committed its event");
        let left = webhook_delivery::Entity::find().all(&db).await.unwrap();
        assert!(left.iter().all(|d| d.state == "pending"), "{left:?}");
        let attempted = left.iter().filter(|d| d.attempts > 0).count();
        assert_eq!(attempted, resources.len(), "{left:?}");
        let leased = left.iter().filter(|d| d.lease_id.is_some()).count();
        eprintln!(
            "at the kill: {total} events, {} fanned out into deliveries, {attempted} attempted \
             (500), {leased} leased, none delivered",
            left.len()
        );
        db.close().await.ok();
    }

    // The receiver comes up, and a new process starts on the same database.
    up.store(true, Ordering::SeqCst);
    let restarted = Instant::now();
    let node = nodes::start(&env).await;
    let after = |got: Vec<Received>| -> Vec<Received> {
        got.into_iter().filter(|r| r.arrived >= restarted).collect()
    };
    loop {
        let got = after(receiver.received());
        let distinct: HashSet<String> = got.iter().map(id_of).collect();
        if distinct.len() >= total {
            break;
        }
        assert!(
            restarted.elapsed() < PATIENCE,
            "{} of {total} events arrived after the restart",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Nothing more comes (no second copy of any).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let got = after(receiver.received());
    let received: Vec<String> = got.iter().map(id_of).collect();
    let distinct: HashSet<&String> = received.iter().collect();
    let duplicates = received.len() - distinct.len();
    eprintln!(
        "after the restart: {} requests, {} events, {duplicates} duplicates",
        received.len(),
        distinct.len()
    );
    assert_eq!(duplicates, 0, "each event once: {received:?}");

    // Exactly the events of the log, as the feed of the new process shows them.
    let admin = sign_in(&client, &node.base).await;
    let feed = send(
        &client,
        &node.base,
        Method::GET,
        "/api/v1/events?after=0&limit=100",
        Some(&admin),
        None,
    )
    .await;
    feed.assert_json(200);
    let logged: HashSet<String> = feed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged.len(), total, "{}", feed.text);
    assert_eq!(
        distinct,
        logged.iter().collect::<HashSet<_>>(),
        "every logged event arrived"
    );

    // In sequence order per resource, each sent once the one before was answered.
    let mut of: HashMap<String, Vec<&Received>> = HashMap::new();
    for request in &got {
        let body = request.json();
        of.entry(body["resource_id"].as_str().unwrap().to_string())
            .or_default()
            .push(request);
    }
    for (_, _, id) in &resources {
        let mine = &of[id];
        let sequences: Vec<i64> = mine
            .iter()
            .map(|r| r.json()["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(sequences, (1..=(1 + UPDATES) as i64).collect::<Vec<_>>());
        for pair in mine.windows(2) {
            assert!(pair[1].arrived >= pair[0].answered, "{sequences:?}");
        }
    }

    // Every delivery delivered: the first ones at their second attempt.
    let found = deliveries(&client, &node.base, &admin, &hook).await;
    assert_eq!(found.len(), total);
    for delivery in &found {
        assert_eq!(delivery["state"], "delivered", "{delivery}");
        assert_eq!(delivery["last_status"], 204, "{delivery}");
    }
    let retried = found.iter().filter(|d| d["attempt_count"] == 2).count();
    assert_eq!(retried, resources.len(), "{found:?}");
    drop(node);
}
