//! Resources run out and things go away: password hashing at its cap, a database
//! that gives no connection, clients that hold connections open, and shutdown with
//! requests in flight.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Resp, spawn_app_routed, spawn_app_until, spawn_app_with,
};

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// Asserts a 503 problem with `Retry-After`.
#[track_caller]
fn assert_unavailable(resp: &Resp) {
    resp.assert_problem(503);
    assert_eq!(
        resp.body["type"], "urn:dispatch:problem:unavailable",
        "{}",
        resp.text
    );
    let retry: u64 = resp
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After on {}", resp.text))
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
}

#[tokio::test]
async fn logins_beyond_the_hashing_cap_get_503_with_retry_after() {
    let app = spawn_app_with(&[("DISPATCH_HASH_CONCURRENCY", "1")]).await;
    for _ in 0..3 {
        let answers = join_all((0..12).map(|_| app.login(ADMIN_EMAIL, ADMIN_PASSWORD))).await;
        let mut ok = 0;
        let mut busy = 0;
        for resp in &answers {
            match resp.status.as_u16() {
                200 => ok += 1,
                503 => {
                    assert_unavailable(resp);
                    busy += 1;
                }
                other => panic!("login answered {other}: {}", resp.text),
            }
        }
        assert!(ok >= 1, "no login got through");
        assert!(busy >= 1, "the cap of 1 let {ok} hashes run together");
    }
    // Once the crowd is gone, a login works again.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn without_a_free_database_connection_ready_and_requests_answer_503_quickly() {
    use sea_orm::TransactionTrait;
    let app = spawn_app_with(&[
        ("DISPATCH_DB_MAX_CONNECTIONS", "1"),
        ("DISPATCH_DB_ACQUIRE_TIMEOUT_SECONDS", "2"),
    ])
    .await;
    app.get("/health/ready").await.assert_status(200);
    // The test holds the pool's only connection. Readiness answers within its own
    // second, before the pool's acquire timeout of 2 s.
    let held = app.db.begin().await.unwrap();

    let start = Instant::now();
    let ready = app.get("/health/ready").await;
    let ready_took = start.elapsed();
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.text);
    assert!(ready_took < Duration::from_millis(1500), "{ready_took:?}");

    for path in ["/api/v1/articles", "/api/v1/tags/harbor"] {
        let start = Instant::now();
        let resp = app.get(path).await;
        let took = start.elapsed();
        assert_unavailable(&resp);
        // Bounded by the configured acquire timeout.
        assert!(took < Duration::from_millis(3000), "{path}: {took:?}");
        println!("{path}: 503 after {took:?}; /health/ready after {ready_took:?}");
    }
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_unavailable(&login);

    held.rollback().await.unwrap();
    app.get("/health/ready").await.assert_status(200);
    app.get("/api/v1/articles").await.assert_status(200);
}

/// A TCP proxy to `target` that the test can cut: then every connection through it
/// is dropped and new ones are refused, as when the database server goes away.
async fn cuttable_proxy(target: String) -> (u16, tokio::sync::watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (cut, cut_rx) = tokio::sync::watch::channel(false);
    let mut accepting = cut_rx.clone();
    tokio::spawn(async move {
        loop {
            let (mut client, _) = tokio::select! {
                _ = accepting.wait_for(|c| *c) => return,
                accepted = listener.accept() => accepted.unwrap(),
            };
            let target = target.clone();
            let mut cut = cut_rx.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&target).await else {
                    return;
                };
                tokio::select! {
                    _ = cut.wait_for(|c| *c) => {}
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                }
            });
        }
    });
    (port, cut)
}

#[tokio::test]
async fn while_postgresql_is_down_ready_and_requests_answer_503_quickly_postgres_only() {
    let Some(server) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    else {
        return;
    };
    let host = server
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_string();
    let (port, cut) = cuttable_proxy(host.clone()).await;
    let app = spawn_app_routed(
        &[("DISPATCH_DB_ACQUIRE_TIMEOUT_SECONDS", "2")],
        std::future::pending(),
        move |url| url.replacen(&host, &format!("127.0.0.1:{port}"), 1),
    )
    .await;
    app.get("/health/ready").await.assert_status(200);
    app.get("/api/v1/articles").await.assert_status(200);

    cut.send(true).unwrap();
    let start = Instant::now();
    let ready = app.get("/health/ready").await;
    let ready_took = start.elapsed();
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.text);
    assert!(ready_took < Duration::from_millis(1500), "{ready_took:?}");
    for path in ["/api/v1/tags", "/api/v1/publishers"] {
        let start = Instant::now();
        let resp = app.get(path).await;
        let took = start.elapsed();
        assert_unavailable(&resp);
        assert!(took < Duration::from_millis(3000), "{path}: {took:?}");
        println!("database down: {path} 503 after {took:?}; /health/ready after {ready_took:?}");
    }
    // A public page read before the outage is still served (`stale-if-error`),
    // from memory; writes are refused.
    let cached = app.get("/api/v1/articles").await;
    cached.assert_status(200);
    assert!(
        matches!(cached.header("x-cache"), Some("hit" | "stale")),
        "{:?}",
        cached.headers
    );
    app.post("/api/v1/tags", serde_json::json!({"name": "Down"}))
        .await
        .assert_problem(503);
}

/// Reads from `stream` until the server closes it (or `limit` passes); returns what
/// was read and when the close came, if it did.
async fn read_until_closed(
    mut stream: tokio::net::tcp::OwnedReadHalf,
    limit: Duration,
) -> (String, Option<Duration>) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(start + limit),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return (String::from_utf8_lossy(&got).into(), None),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (String::from_utf8_lossy(&got).into(), Some(start.elapsed()));
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes `bytes` one at a time, `every` apart, until done or the server hangs up.
async fn dribble(mut writer: tokio::net::tcp::OwnedWriteHalf, bytes: Vec<u8>, every: Duration) {
    for b in bytes {
        if writer.write_all(&[b]).await.is_err() {
            return;
        }
        tokio::time::sleep(every).await;
    }
    // Then hold the connection without a word.
    tokio::time::sleep(Duration::from_secs(30)).await;
}

#[tokio::test]
async fn slow_and_idle_connections_are_closed_while_others_are_served() {
    let app = spawn_app_with(&[
        ("DISPATCH_HEADER_TIMEOUT_SECONDS", "1"),
        ("DISPATCH_BODY_TIMEOUT_SECONDS", "1"),
        ("DISPATCH_IDLE_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    let address = addr(&app.base);
    let head = format!("GET /api/v1/articles HTTP/1.1\r\nHost: {address}\r\nX-Slow: ");
    let post = format!(
        "POST /api/v1/tags HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": \"",
        app.admin
    );
    let limit = Duration::from_secs(6);
    let mut held = Vec::new();
    for i in 0..50 {
        let stream = TcpStream::connect(&address).await.unwrap();
        let (reader, mut writer) = stream.into_split();
        let kind = i % 4;
        match kind {
            // A head, a byte at a time, that never ends.
            0 => {
                tokio::spawn(dribble(
                    writer,
                    head.clone().into_bytes().repeat(10),
                    Duration::from_millis(100),
                ));
            }
            // Nothing at all.
            1 => {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    drop(writer);
                });
            }
            // One whole request, then an idle keep-alive.
            2 => {
                writer
                    .write_all(
                        format!("GET /health/live HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes(),
                    )
                    .await
                    .unwrap();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    drop(writer);
                });
            }
            // A whole head, then a body a byte at a time that never ends.
            _ => {
                let (head, body) = post.split_at(post.find("\r\n\r\n").unwrap() + 4);
                writer.write_all(head.as_bytes()).await.unwrap();
                tokio::spawn(dribble(
                    writer,
                    body.as_bytes().repeat(10),
                    Duration::from_millis(100),
                ));
            }
        }
        held.push((kind, tokio::spawn(read_until_closed(reader, limit))));
    }
    // Everyone else is served meanwhile.
    for _ in 0..5 {
        let start = Instant::now();
        app.get("/api/v1/articles").await.assert_status(200);
        assert!(start.elapsed() < Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (kind, handle) in held {
        let (got, closed) = handle.await.unwrap();
        let closed =
            closed.unwrap_or_else(|| panic!("connection of kind {kind} still open: {got:?}"));
        assert!(
            closed < Duration::from_secs(4),
            "kind {kind} closed after {closed:?}"
        );
        match kind {
            2 => assert!(got.starts_with("HTTP/1.1 200"), "{got}"),
            3 => {
                assert!(got.starts_with("HTTP/1.1 408"), "{got}");
                assert!(got.contains("application/problem+json"), "{got}");
                assert!(
                    got.contains("urn:dispatch:problem:request-timeout"),
                    "{got}"
                );
            }
            _ => assert!(got.is_empty() || got.starts_with("HTTP/1.1 4"), "{got}"),
        }
    }
    // Nothing half-sent was stored.
    let tags = app.get("/api/v1/tags").await;
    tags.assert_status(200);
    assert_eq!(tags.body["data"], serde_json::json!([]));
}

#[tokio::test]
async fn shutdown_finishes_accepted_requests_and_refuses_new_connections() {
    let (trigger, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = spawn_app_until(&[], async move {
        let _ = stopped.await;
    })
    .await;
    let address = addr(&app.base);

    // A connection that is open, but has not sent its request when the signal comes.
    let mut quiet = TcpStream::connect(&address).await.unwrap();
    // A slow request in flight: a login, hashing its password.
    let login = tokio::spawn({
        let client = app.client.clone();
        let url = format!("{}/api/v1/auth/login", app.base);
        async move {
            client
                .post(url)
                .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
                .send()
                .await
        }
    });
    // A request whose body is still arriving.
    let mut half = TcpStream::connect(&address).await.unwrap();
    let body = format!(r#"{{"email": "{ADMIN_EMAIL}", "password": "{ADMIN_PASSWORD}"}}"#);
    half.write_all(
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{}",
            body.len(),
            &body[..10]
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    trigger.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    // New connections are refused.
    let start = Instant::now();
    loop {
        match TcpStream::connect(&address).await {
            Err(_) => break,
            Ok(_) if start.elapsed() > Duration::from_secs(1) => {
                panic!("still accepting connections after the signal")
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }

    // What was accepted is answered in full.
    quiet
        .write_all(format!("GET /health/live HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    half.write_all(&body.as_bytes()[10..]).await.unwrap();
    let login = login
        .await
        .unwrap()
        .expect("the login in flight was answered");
    assert_eq!(login.status().as_u16(), 200);
    let tokens: serde_json::Value = login.json().await.unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
    for (name, stream) in [("quiet", &mut quiet), ("half", &mut half)] {
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await;
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with("HTTP/1.1 200"), "{name}: {got:?}");
        let (_, body) = got.split_once("\r\n\r\n").unwrap();
        assert!(!body.is_empty(), "{name}: {got:?}");
    }
}

/// CPU time (user + system, in clock ticks) the process `pid` has used so far.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Out of file descriptors, accepting fails at once, again and again: the server must
/// not spin a core on it (poem's accept loop retries immediately), and it must go on
/// answering on the connections it has. Runs the real binary under a low descriptor
/// limit (`prlimit`), so it needs Linux.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn out_of_file_descriptors_the_server_does_not_spin() {
    use crate::helpers::{SECRET, fresh_database};
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    let (url, _guard) = fresh_database().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = std::env::temp_dir().join(format!("dispatch-fd-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = std::process::Command::new("prlimit")
        .args(["--nofile=64:64", env!("CARGO_BIN_EXE_dispatch"), "serve"])
        .current_dir(&dir)
        .env("DATABASE_URL", &url)
        .env("DISPATCH_BIND", format!("127.0.0.1:{port}"))
        .env("DISPATCH_JWT_SECRET", SECRET)
        .env("DISPATCH_DB_MAX_CONNECTIONS", "2")
        .env_remove("DISPATCH_ADMIN_EMAIL")
        .env_remove("DISPATCH_ADMIN_PASSWORD")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = server.id();
    let addr = format!("127.0.0.1:{port}");
    // One kept-alive connection, opened before the descriptors run out.
    let mut kept = None;
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(&addr).await {
            kept = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut kept = kept.expect("the server starts");
    let ask = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    kept.write_all(ask).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // Far more connections than descriptors: the rest wait in the backlog, unaccepted.
    let mut flood = Vec::new();
    for _ in 0..120 {
        if let Ok(s) = TcpStream::connect(&addr).await {
            flood.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let spent = cpu_ticks(pid) - before;
    // The kept connection is still served meanwhile.
    kept.write_all(ask).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(2), kept.read(&mut buf))
        .await
        .expect("the kept connection is answered")
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    drop(flood);
    server.kill().ok();
    server.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    // A spinning accept loop burns the whole second (about 100 ticks).
    assert!(
        spent < 30,
        "the server used {spent} ticks of CPU in one idle second"
    );
}
