//! The `dispatch` binary itself: the subcommands an operator types.

use std::process::Command;

use serde_json::json;

use crate::helpers::{SECRET, spawn_app};

fn dispatch(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dispatch"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DISPATCH_JWT_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run dispatch")
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dispatch-cli-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn token_prints_a_token_the_server_accepts_and_refuses_unknown_roles() {
    let app = spawn_app().await;
    let dir = temp_dir();
    let out = dispatch(
        &dir,
        &["token", "--role", "editor"],
        &[("DISPATCH_JWT_SECRET", SECRET)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let resp = app
        .send(
            reqwest::Method::POST,
            "/api/v1/tags",
            Some(&token),
            Some(json!({"name": "From the CLI"})),
        )
        .await;
    resp.assert_status(201);

    let bad = dispatch(
        &dir,
        &["token", "--role", "owner"],
        &[("DISPATCH_JWT_SECRET", SECRET)],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role `owner`"));
    let short = dispatch(
        &dir,
        &["token", "--role", "admin"],
        &[("DISPATCH_JWT_SECRET", "short")],
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 32 bytes"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn on_sqlite_without_a_secret_one_is_generated_once_into_a_private_file() {
    let dir = temp_dir();
    let first = dispatch(&dir, &["token", "--role", "admin"], &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8(first.stdout.clone()).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "only the token on stdout: {stdout}"
    );
    assert_eq!(stdout.trim().matches('.').count(), 2, "a JWT: {stdout}");
    let file = dir.join("dispatch.jwt-secret");
    let secret = std::fs::read_to_string(&file).unwrap();
    assert!(secret.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let second = dispatch(&dir, &["token", "--role", "admin"], &[]);
    assert!(second.status.success());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        secret,
        "kept, not regenerated"
    );
    let log = String::from_utf8_lossy(&first.stdout).to_string()
        + &String::from_utf8_lossy(&first.stderr);
    assert!(!log.contains(secret.trim()), "the secret is never printed");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn postgres_without_a_secret_is_refused_with_advice() {
    let dir = temp_dir();
    let out = dispatch(
        &dir,
        &["token", "--role", "admin"],
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("openssl rand"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn openapi_prints_the_committed_spec_and_migrate_reports_status() {
    let dir = temp_dir();
    let out = dispatch(&dir, &["openapi"], &[]);
    assert!(out.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "`dispatch openapi` is openapi.yaml"
    );
    let json = dispatch(&dir, &["openapi", "--format", "json"], &[]);
    let spec: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(spec["info"]["title"], "Dispatch");

    let before = dispatch(&dir, &["migrate", "status"], &[]);
    let text = String::from_utf8(before.stdout).unwrap();
    assert!(text.lines().all(|l| l.starts_with("pending")), "{text}");
    assert!(dispatch(&dir, &["migrate", "up"], &[]).status.success());
    let after = String::from_utf8(dispatch(&dir, &["migrate", "status"], &[]).stdout).unwrap();
    assert!(
        after.lines().count() >= 2 && after.lines().all(|l| l.starts_with("applied")),
        "{after}"
    );
    assert!(dispatch(&dir, &["migrate", "down"], &[]).status.success());
    let down = String::from_utf8(dispatch(&dir, &["migrate", "status"], &[]).stdout).unwrap();
    assert_eq!(
        down.lines().filter(|l| l.starts_with("pending")).count(),
        1,
        "{down}"
    );
    std::fs::remove_dir_all(dir).ok();
}
