//! The README's examples, run as written: every ```sh block with a `curl` in it
//! runs under `sh` against a server loaded with the demo newsroom, whose first
//! admin is the one the README's Start section creates; the webhook receivers (the
//! ```python and the ```js block) run under `python3` and `node` as a real server's
//! webhooks, verifying its deliveries and refusing a forged one.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::delivery::expected_signature;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const README: &str = include_str!("../../README.md");
const DEMO: &str = include_str!("../../src/seed/demo.json");
/// The Harbor City Ledger's fixed demo id.
const LEDGER_ID: &str = "5eed0001-0000-4000-8000-000000000001";

/// The bodies of the README's ```sh blocks.
fn sh_blocks(markdown: &str) -> Vec<String> {
    blocks(markdown, "sh")
}

/// The bodies of the README's blocks fenced as ```lang.
fn blocks(markdown: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line.trim_start() == fence => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_start() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

/// The value the README's Start section gives `name` (`NAME=value` or `NAME='value'`).
fn start_setting(name: &str) -> String {
    let rest = README
        .split(&format!("{name}="))
        .nth(1)
        .unwrap_or_else(|| panic!("the README sets no {name}"));
    match rest.strip_prefix('\'') {
        Some(quoted) => quoted.split('\'').next().unwrap_or_default().to_string(),
        None => rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// Whether `program` runs here.
fn available(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

#[tokio::test]
async fn the_readme_curl_examples_run_as_written_against_the_demo() {
    for tool in ["sh", "curl", "python3"] {
        if !available(tool) {
            eprintln!("skipped: the README's examples need `{tool}`, which is not installed");
            return;
        }
    }
    let app = spawn_app().await;
    dispatch::seed::demo(&app.db, &app.library())
        .await
        .expect("seed the demo");
    let (email, password) = (
        start_setting("DISPATCH_ADMIN_EMAIL"),
        start_setting("DISPATCH_ADMIN_PASSWORD"),
    );
    app.post(
        "/api/v1/users",
        json!({"email": email, "password": password, "role": "admin"}),
    )
    .await
    .assert_status(201);
    // Until the seed gives the demo its fixed ids, blocks naming them cannot run.
    let ledger = app.get("/api/v1/publishers/harbor-city-ledger").await;
    ledger.assert_json(200);
    let fixed_ids = ledger.body["id"] == json!(LEDGER_ID);

    let blocks: Vec<String> = sh_blocks(README)
        .into_iter()
        .filter(|b| b.contains("curl"))
        .collect();
    assert!(blocks.len() >= 2, "the README's curl examples: {blocks:?}");
    let mut ran = 0;
    for block in blocks {
        if !fixed_ids && block.contains("5eed000") {
            eprintln!(
                "skipped a README block naming demo ids: the seed does not give them yet \
                 (harbor-city-ledger is {})",
                ledger.body["id"]
            );
            continue;
        }
        // Every curl fails on an HTTP error, and so does the block.
        let script = format!(
            "set -eu\ncurl() {{ command curl --fail-with-body --silent --show-error \"$@\"; }}\n{}",
            block.replace("http://127.0.0.1:8080", &app.base)
        );
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(&script)
                .output()
                .expect("run sh")
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "this README block failed:\n{block}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 1, "no README block ran");
}

/// The README's example tags are new ones, not the demo's under another slug.
#[test]
fn the_readme_example_tags_are_not_demo_tags() {
    let demo: serde_json::Value = serde_json::from_str(DEMO).unwrap();
    for tag in demo["tags"].as_array().unwrap() {
        let name = tag["name"].as_str().unwrap();
        for quote in ["\"name\": \"", "\"name\":\""] {
            let example = format!("{quote}{name}\"").to_lowercase();
            assert!(
                !README.to_lowercase().contains(&example),
                "the README's example tag {name:?} is a demo tag"
            );
        }
    }
}

/// How long a receiver has to start listening, and to print a delivered event.
const RECEIVER_PATIENCE: Duration = Duration::from_secs(20);

/// A receiver program the test started: what it printed so far; killed when dropped.
struct Program {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Program {
    fn start(program: &str, dir: &std::path::Path, file: &str, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(program);
        cmd.arg(file)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let collect = |pipe: Box<dyn std::io::Read + Send>| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let into = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    into.lock().unwrap().push(line);
                }
            });
            lines
        };
        let stdout = collect(Box::new(child.stdout.take().expect("its stdout")));
        let stderr = collect(Box::new(child.stderr.take().expect("its stderr")));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn printed(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// What it said on stderr, and whether it has ended: for a failure's message.
    fn state(&mut self) -> String {
        format!(
            "exit: {:?}; stdout: {:?}; stderr:\n{}",
            self.child.try_wait(),
            self.printed(),
            self.stderr.lock().unwrap().join("\n")
        )
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of the test's, removed when dropped (passed or failed).
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Request headers, by name, as raw bytes.
type Headers = Vec<(&'static str, Vec<u8>)>;

/// A loopback port nothing listens on (just now).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs the README's receiver `block`, saved as `file` and started with `program`,
/// as the receiver of a real server's webhook for `publisher.*`.
async fn receives_as_written(program: &str, file: &str, block: &str) {
    let app: TestApp = spawn_app_with(&[("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let hook = app
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "event_types": ["publisher.*"]}),
        )
        .await;
    hook.assert_json(201);
    let secret = hook.body["secret"].as_str().unwrap().to_string();
    let dir = TempDir(std::env::temp_dir().join(format!(
        "dispatch-readme-{program}-{}",
        uuid::Uuid::now_v7().simple()
    )));
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(dir.0.join(file), block).unwrap();
    let mut receiver = Program::start(
        program,
        &dir.0,
        file,
        &[("WEBHOOK_SECRET", &secret), ("PORT", &port.to_string())],
    );

    let start = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            start.elapsed() < RECEIVER_PATIENCE,
            "the README's {file} never listened on {port}: {}",
            receiver.state()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A real event, signed by the server: verified and printed.
    let publisher = app.publisher("Receiver Gazette").await;
    let expected = format!("publisher.created {publisher}");
    let start = Instant::now();
    while !receiver.printed().contains(&expected) {
        assert!(
            start.elapsed() < RECEIVER_PATIENCE,
            "the README's {file} never printed {expected:?}: {}",
            receiver.state()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deliveries = format!("/api/v1/webhooks/{}/deliveries", hook.id());
    let start = Instant::now();
    loop {
        let listed = app.get_as(&deliveries, &app.admin).await;
        listed.assert_json(200);
        let delivery = &listed.body["data"][0];
        if delivery["state"] == "delivered" {
            assert_eq!(delivery["last_status"], 204, "{}", listed.text);
            break;
        }
        assert!(start.elapsed() < RECEIVER_PATIENCE, "{}", listed.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Forged or stale deliveries are refused: 401, nothing printed.
    let now = chrono::Utc::now().timestamp().to_string();
    let stale = (chrono::Utc::now().timestamp() - 600).to_string();
    let id = uuid::Uuid::now_v7().to_string();
    let body = json!({
        "id": id, "type": "publisher.deleted", "resource_type": "publisher",
        "resource_id": publisher, "sequence": 2, "data": {"id": publisher},
    })
    .to_string();
    let signed = |ts: &str| expected_signature(&secret, &id, ts, body.as_bytes());
    let other_key = format!("v1,{}", STANDARD.encode([7u8; 32]));
    let forgeries: [(&str, Headers); 5] = [
        (
            "a signature made with another key",
            vec![
                ("webhook-id", id.clone().into_bytes()),
                ("webhook-timestamp", now.clone().into_bytes()),
                ("webhook-signature", other_key.clone().into_bytes()),
            ],
        ),
        ("no webhook headers", vec![]),
        (
            "a timestamp that is no number",
            vec![
                ("webhook-id", id.clone().into_bytes()),
                ("webhook-timestamp", b"soon".to_vec()),
                ("webhook-signature", other_key.clone().into_bytes()),
            ],
        ),
        (
            "a signature that is not ASCII",
            vec![
                ("webhook-id", id.clone().into_bytes()),
                ("webhook-timestamp", now.clone().into_bytes()),
                ("webhook-signature", b"v1,\xe9t\xe9".to_vec()),
            ],
        ),
        (
            "the right signature of a timestamp ten minutes old",
            vec![
                ("webhook-id", id.clone().into_bytes()),
                ("webhook-timestamp", stale.clone().into_bytes()),
                ("webhook-signature", signed(&stale).into_bytes()),
            ],
        ),
    ];
    for (what, headers) in forgeries {
        let mut req = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (name, value) in headers {
            req = req.header(
                name,
                reqwest::header::HeaderValue::from_bytes(&value).unwrap(),
            );
        }
        let status = req.send().await.map(|r| r.status().as_u16());
        assert!(
            matches!(status, Ok(401)),
            "the README's {file} answered {what}: {status:?}; {}",
            receiver.state()
        );
    }
    // A repeat of a delivered event (a retry whose answer was lost) is taken, and
    // not handled again.
    let listed = app.get_as(&deliveries, &app.admin).await;
    let event_id = listed.body["data"][0]["event_id"].as_str().unwrap();
    let feed = app
        .get_as("/api/v1/events?after=0&limit=100", &app.admin)
        .await;
    let event = feed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == event_id)
        .unwrap_or_else(|| panic!("{event_id} in {}", feed.text))
        .to_string();
    let again = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .header("webhook-id", event_id)
        .header("webhook-timestamp", &now)
        .header(
            "webhook-signature",
            expected_signature(&secret, event_id, &now, event.as_bytes()),
        )
        .body(event)
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert!(matches!(again, Ok(204)), "{again:?}: {}", receiver.state());
    assert_eq!(
        receiver.printed(),
        [expected],
        "the README's {file} printed the real event, once"
    );
    drop(receiver);
    drop(dir);
}

/// The README block fenced as ```lang that is a webhook receiver.
fn receiver_block(lang: &str) -> String {
    let found: Vec<String> = blocks(README, lang)
        .into_iter()
        .filter(|b| b.contains("webhook-signature") && b.contains("WEBHOOK_SECRET"))
        .collect();
    assert_eq!(found.len(), 1, "one ```{lang} receiver in the README");
    found.into_iter().next().unwrap_or_default()
}

#[tokio::test]
async fn the_readme_webhook_receiver_in_python_runs_as_written() {
    let block = receiver_block("python");
    if !available("python3") {
        eprintln!("skipped: the README's Python receiver needs `python3`, which is not installed");
        return;
    }
    receives_as_written("python3", "receiver.py", &block).await;
}

#[tokio::test]
async fn the_readme_webhook_receiver_in_javascript_runs_as_written() {
    let block = receiver_block("js");
    if !available("node") {
        eprintln!("skipped: the README's JavaScript receiver needs `node`, which is not installed");
        return;
    }
    receives_as_written("node", "receiver.mjs", &block).await;
}
