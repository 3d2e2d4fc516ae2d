//! More than one node: two real `dispatch serve` processes on one PostgreSQL
//! database share what security depends on (a sign-in limit reached through one
//! holds on the other; a refresh token reused on one ends the session on both),
//! and `DATABASE_READ_URL` sends anonymous reads to the replica. [`spawn_nodes`]
//! starts the processes for any test that needs two.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, Resp, SECRET, TestDb, fresh_database, read,
    spawn_app_with,
};

/// One `dispatch serve` process, killed when dropped.
pub struct Node {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Node {
    /// Kills the process at once (SIGKILL: no shutdown, nothing flushed) and reaps it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two nodes on one fresh PostgreSQL database, and the first admin's access token.
pub struct Nodes {
    pub a: Node,
    pub b: Node,
    pub admin: String,
    pub client: reqwest::Client,
    /// The database both use.
    pub database_url: String,
    // Dropped last: the nodes stop before their database is dropped.
    _db: TestDb,
}

/// Starts `dispatch serve` on a random port with `env` and waits until it is ready.
pub async fn start(env: &[(String, String)]) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dispatch"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DISPATCH_BIND", "127.0.0.1:0")
        .env(
            "DISPATCH_LOG",
            std::env::var("TEST_LOG").unwrap_or("warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(if std::env::var("TEST_LOG").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start dispatch serve");
    let stdout = child.stdout.take().expect("its stdout");
    // The first line names the address it listens on; the rest is read (and
    // dropped) until the process ends, so its prints never meet a closed pipe.
    let (first, said) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = first.send(lines.next().and_then(Result::ok).unwrap_or_default());
        for _ in lines {}
    });
    let line = said.await.unwrap_or_default();
    let node = |base: String| Node { child, base };
    let Some(base) = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(|url| url.trim_end_matches("/api/v1").to_string())
    else {
        drop(node(String::new()));
        panic!("dispatch serve did not say where it listens: {line:?}");
    };
    let node = node(base);
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let ready = client
            .get(format!("{}/health/ready", node.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ready {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the node at {} never became ready", node.base);
}

/// Two nodes on one fresh PostgreSQL database (`None` on SQLite, which one process
/// owns), each with `extra` settings; A creates the first admin, then B starts.
pub async fn spawn_nodes(extra: &[(&str, &str)]) -> Option<Nodes> {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        eprintln!("skipped: two nodes share a PostgreSQL database; set TEST_DATABASE_URL");
        return None;
    }
    let (url, db) = fresh_database().await;
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), url.clone()),
        ("DISPATCH_JWT_SECRET".into(), SECRET.into()),
        ("DISPATCH_LOGIN_LIMIT_PER_ADDRESS".into(), "100000".into()),
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL".into(), "100000".into()),
    ];
    for (k, v) in extra {
        env.retain(|(key, _)| key != k);
        env.push((k.to_string(), v.to_string()));
    }
    let mut first = env.clone();
    first.push(("DISPATCH_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()));
    first.push(("DISPATCH_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()));
    let a = start(&first).await;
    let b = start(&env).await;
    let client = reqwest::Client::new();
    let login = login(&client, &a.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    login.assert_status(200);
    let admin = login.body["access_token"].as_str().unwrap().to_string();
    Some(Nodes {
        a,
        b,
        admin,
        client,
        database_url: url,
        _db: db,
    })
}

pub async fn send(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = client.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    read(req.send().await.expect("request")).await
}

pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> Resp {
    let body = json!({"email": email, "password": password});
    send(
        client,
        base,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(body),
    )
    .await
}

async fn refresh(client: &reqwest::Client, base: &str, token: &str) -> Resp {
    let body = json!({"refresh_token": token});
    send(
        client,
        base,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(body),
    )
    .await
}

/// Creates a user with the test password on node A; their email.
async fn user(nodes: &Nodes) -> String {
    let email = format!("node-{}@dispatch.test", uuid::Uuid::now_v7().simple());
    let body = json!({"email": email, "password": PASSWORD, "role": "editor"});
    send(
        &nodes.client,
        &nodes.a.base,
        Method::POST,
        "/api/v1/users",
        Some(&nodes.admin),
        Some(body),
    )
    .await
    .assert_status(201);
    email
}

#[tokio::test]
async fn a_sign_in_limit_reached_on_one_node_holds_on_the_other() {
    let Some(nodes) = spawn_nodes(&[
        ("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "3"),
        ("DISPATCH_LOGIN_LIMIT_WINDOW_SECONDS", "3600"),
    ])
    .await
    else {
        return;
    };
    let email = user(&nodes).await;
    for _ in 0..3 {
        login(&nodes.client, &nodes.a.base, &email, "wrong")
            .await
            .assert_problem(401);
    }
    // Node B has seen none of these attempts, and refuses the next, even the right one.
    let refused = login(&nodes.client, &nodes.b.base, &email, PASSWORD).await;
    refused.assert_problem(429);
    assert!(refused.header("retry-after").is_some());
    login(&nodes.client, &nodes.a.base, &email, PASSWORD)
        .await
        .assert_problem(429);
}

#[tokio::test]
async fn a_refresh_token_reused_on_one_node_ends_the_session_on_both() {
    let Some(nodes) = spawn_nodes(&[]).await else {
        return;
    };
    let email = user(&nodes).await;
    let signed_in = login(&nodes.client, &nodes.a.base, &email, PASSWORD).await;
    signed_in.assert_status(200);
    let first = signed_in.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let rotated = refresh(&nodes.client, &nodes.a.base, &first).await;
    rotated.assert_status(200);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_string();
    // The rotated-away token, presented to the other node: a reuse.
    refresh(&nodes.client, &nodes.b.base, &first)
        .await
        .assert_problem(401)
        .assert_detail(
            "The refresh token was already used, so its session has been ended; sign in again.",
        );
    // The session is over on both nodes: the latest token no longer works anywhere.
    for base in [&nodes.a.base, &nodes.b.base] {
        refresh(&nodes.client, base, &second)
            .await
            .assert_problem(401)
            .assert_detail("The refresh token has been revoked; sign in again.");
    }
}

#[tokio::test]
async fn anonymous_reads_go_to_the_read_replica_and_signed_in_ones_to_the_primary() {
    // The "replica" is a second, empty database: what reads find there shows where
    // they went.
    let (replica, _replica_db) = fresh_database().await;
    {
        let db = dispatch::startup::connect(&replica).await.unwrap();
        dispatch::startup::migrate(&db).await.unwrap();
        db.close().await.ok();
    }
    let app = spawn_app_with(&[("DATABASE_READ_URL", &replica)]).await;
    let publisher = app.publisher("Replica Ledger").await;
    let article = app
        .article(
            &publisher,
            json!({"status": "published", "slug": "on-the-primary"}),
        )
        .await;
    let path = format!("/api/v1/articles/{}", article["id"].as_str().unwrap());
    app.get(&path).await.assert_problem(404);
    app.get_as(&path, &app.admin).await.assert_json(200);
    let list = app.get("/api/v1/articles").await;
    list.assert_json(200);
    assert_eq!(list.body["data"], json!([]), "{}", list.text);
    let listed = app.get_as("/api/v1/articles", &app.admin).await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    for public in ["/api/v1/publishers", "/api/v1/authors", "/api/v1/tags"] {
        let resp = app.get(public).await;
        resp.assert_json(200);
        assert_eq!(resp.body["data"], json!([]), "{public}: {}", resp.text);
    }
    app.get(&format!("/api/v1/publishers/{publisher}"))
        .await
        .assert_problem(404);
    app.get("/health/ready").await.assert_status(200);
}

/// Reads `path` on `base` anonymously until its cache serves it.
async fn cached(nodes: &Nodes, base: &str, path: &str) -> Resp {
    for _ in 0..50 {
        let resp = send(&nodes.client, base, Method::GET, path, None, None).await;
        resp.assert_status(200);
        if resp.header("x-cache") == Some("hit") {
            return resp;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{base}{path} never came from the cache");
}

#[tokio::test]
async fn a_write_on_one_node_is_seen_through_the_others_cache_within_a_second() {
    let Some(nodes) = spawn_nodes(&[]).await else {
        return;
    };
    let on_a = |method: Method, path: &'static str, body: Value| {
        let nodes = &nodes;
        async move {
            send(
                &nodes.client,
                &nodes.a.base,
                method,
                path,
                Some(&nodes.admin),
                Some(body),
            )
            .await
        }
    };
    let publisher = on_a(
        Method::POST,
        "/api/v1/publishers",
        json!({"name": "Ledger"}),
    )
    .await;
    publisher.assert_status(201);
    let article = on_a(
        Method::POST,
        "/api/v1/articles",
        json!({"title": "First edition", "body_markdown": "Text.", "status": "published",
               "publisher_id": publisher.body["id"]}),
    )
    .await;
    article.assert_status(201);
    let path = format!("/api/v1/articles/{}", article.id());
    let list = "/api/v1/articles";
    // Node B holds both pages in its cache.
    assert_eq!(
        cached(&nodes, &nodes.b.base, &path).await.body["title"],
        "First edition"
    );
    cached(&nodes, &nodes.b.base, list).await;

    // A write through A (with no request to B in between)...
    let changed = send(
        &nodes.client,
        &nodes.a.base,
        Method::PATCH,
        &path,
        Some(&nodes.admin),
        Some(json!({"title": "Second edition"})),
    )
    .await;
    changed.assert_status(200);
    let written = std::time::Instant::now();
    // ...is what B answers within a second.
    loop {
        let one = send(&nodes.client, &nodes.b.base, Method::GET, &path, None, None).await;
        let many = send(&nodes.client, &nodes.b.base, Method::GET, list, None, None).await;
        if one.body["title"] == "Second edition"
            && many.body["data"][0]["title"] == "Second edition"
        {
            println!("seen on B {:?} after the write on A", written.elapsed());
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(1),
            "B still answers the old title from its cache"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
