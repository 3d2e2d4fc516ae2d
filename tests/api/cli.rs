//! The `dispatch` binary itself: the subcommands an operator types.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, SECRET, fresh_database, spawn_app};

fn dispatch(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    dispatch_with_input(dir, args, env, "")
}

/// Runs the binary with `stdin` piped in (how scripts give `user create` a password).
fn dispatch_with_input(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dispatch"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DISPATCH_JWT_SECRET")
        .env_remove("DISPATCH_ADMIN_EMAIL")
        .env_remove("DISPATCH_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run dispatch");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).ok();
    }
    child.wait_with_output().expect("run dispatch")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dispatch-cli-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn token_prints_a_token_for_an_existing_user_that_the_server_accepts() {
    let app = spawn_app().await;
    let dir = temp_dir();
    let env = [
        ("DISPATCH_JWT_SECRET", SECRET),
        ("DATABASE_URL", app.database_url.as_str()),
    ];
    let out = dispatch(&dir, &["token", "--email", ADMIN_EMAIL], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // The binary signs with the real time; the app's clock stands at its start.
    app.clock.advance(chrono::Duration::seconds(60));
    app.send(
        reqwest::Method::POST,
        "/api/v1/tags",
        Some(&token),
        Some(json!({"name": "From the CLI"})),
    )
    .await
    .assert_status(201);

    let unknown = dispatch(&dir, &["token", "--email", "nobody@dispatch.test"], &env);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no user has the email nobody@dispatch.test"));
    // Tokens are for users now; a bare role is refused.
    let role = dispatch(&dir, &["token", "--role", "admin"], &env);
    assert!(!role.status.success());
    let short = dispatch(
        &dir,
        &["token", "--email", ADMIN_EMAIL],
        &[
            ("DISPATCH_JWT_SECRET", "short"),
            ("DATABASE_URL", app.database_url.as_str()),
        ],
    );
    assert!(!short.status.success());
    assert!(stderr(&short).contains("at least 32 bytes"));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn user_create_and_set_password_read_the_password_from_stdin() {
    let app = spawn_app().await;
    let dir = temp_dir();
    let env = [("DATABASE_URL", app.database_url.as_str())];
    let created = dispatch_with_input(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "Desk@Ledger.example",
            "--role",
            "editor",
        ],
        &env,
        "copper kettle at dawn\n",
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let stdout = String::from_utf8(created.stdout).unwrap();
    assert!(
        stdout.starts_with("created desk@ledger.example (editor) with id "),
        "{stdout}"
    );
    assert!(
        !stdout.contains("copper kettle"),
        "the password is never echoed"
    );
    app.login("desk@ledger.example", "copper kettle at dawn")
        .await
        .assert_status(200);

    let weak = dispatch_with_input(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "weak@ledger.example",
            "--role",
            "admin",
        ],
        &env,
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(
        stderr(&weak).contains("`password`: must be at least 12 characters long"),
        "{}",
        stderr(&weak)
    );
    let taken = dispatch_with_input(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "desk@ledger.example",
            "--role",
            "admin",
        ],
        &env,
        "copper kettle at dawn\n",
    );
    assert!(
        stderr(&taken).contains("`email`: is already taken"),
        "{}",
        stderr(&taken)
    );

    // A session from before the reset, renewed once.
    let session = app
        .login("desk@ledger.example", "copper kettle at dawn")
        .await;
    session.assert_status(200);
    let renew = |token: String| {
        app.send(
            reqwest::Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(serde_json::json!({ "refresh_token": token })),
        )
    };
    let renewed = renew(session.body["refresh_token"].as_str().unwrap().to_string()).await;
    renewed.assert_status(200);
    let access = renewed.body["access_token"].as_str().unwrap().to_string();
    app.get_as("/api/v1/auth/me", &access)
        .await
        .assert_status(200);

    let reset = dispatch_with_input(
        &dir,
        &["user", "set-password", "--email", "desk@ledger.example"],
        &env,
        "a brand new passphrase\n",
    );
    assert!(reset.status.success(), "{}", stderr(&reset));
    // The reset ended that session and its access token, within the same second.
    app.get_as("/api/v1/auth/me", &access)
        .await
        .assert_problem(401)
        .assert_detail(
            "The access token was issued before the account's password, role or status changed; sign in again.",
        );
    renew(renewed.body["refresh_token"].as_str().unwrap().to_string())
        .await
        .assert_problem(401)
        .assert_detail("The refresh token has been revoked; sign in again.");
    app.login("desk@ledger.example", "copper kettle at dawn")
        .await
        .assert_problem(401);
    app.login("desk@ledger.example", "a brand new passphrase")
        .await
        .assert_status(200);

    let list = dispatch(&dir, &["user", "list"], &env);
    assert!(list.status.success(), "{}", stderr(&list));
    let text = String::from_utf8(list.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("desk@ledger.example") && text.contains(ADMIN_EMAIL));
    assert!(!text.contains("argon2"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn on_sqlite_without_a_secret_one_is_generated_once_into_a_private_file() {
    let dir = temp_dir();
    let created = dispatch_with_input(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "chief@ledger.example",
            "--role",
            "admin",
        ],
        &[],
        "copper kettle at dawn\n",
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let first = dispatch(&dir, &["token", "--email", "chief@ledger.example"], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
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
    let second = dispatch(&dir, &["token", "--email", "chief@ledger.example"], &[]);
    assert!(second.status.success());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        secret,
        "kept, not regenerated"
    );
    let log = String::from_utf8_lossy(&first.stdout).to_string() + &stderr(&first);
    assert!(!log.contains(secret.trim()), "the secret is never printed");
    assert!(stderr(&first).contains("generated a JWT signing secret"));
    std::fs::remove_dir_all(dir).ok();
}

#[cfg(unix)]
#[test]
fn a_jwt_secret_file_others_can_read_is_refused_on_sqlite() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let created = dispatch_with_input(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "chief@ledger.example",
            "--role",
            "admin",
        ],
        &[],
        "copper kettle at dawn\n",
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let db = dir.join("dispatch.db");
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600,
        "a new database is private"
    );
    let token =
        |dir: &std::path::Path| dispatch(dir, &["token", "--email", "chief@ledger.example"], &[]);
    assert!(token(&dir).status.success());
    let file = dir.join("dispatch.jwt-secret");
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let refused = token(&dir);
        assert!(!refused.status.success(), "mode {mode:o}");
        assert!(refused.stdout.is_empty());
        let err = stderr(&refused);
        assert!(err.contains("readable by group or others"), "{err}");
        assert!(
            err.contains("chmod 600 ") && err.contains("dispatch.jwt-secret"),
            "{err}"
        );
    }
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(token(&dir).status.success());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn postgres_without_a_secret_is_refused_with_advice() {
    let dir = temp_dir();
    let out = dispatch(
        &dir,
        &["token", "--email", "chief@ledger.example"],
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("openssl rand"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn openapi_prints_the_committed_spec() {
    let dir = temp_dir();
    let out = dispatch(&dir, &["openapi"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "`dispatch openapi` is openapi.yaml"
    );
    let json = dispatch(&dir, &["openapi", "--format", "json"], &[]);
    assert!(json.status.success(), "{}", stderr(&json));
    let spec: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(spec["info"]["title"], "Dispatch");
    std::fs::remove_dir_all(dir).ok();
}

/// `migrate status` lists every migration, one line each, on the test backend
/// (a fresh SQLite file, or a fresh PostgreSQL database under `TEST_DATABASE_URL`).
#[tokio::test]
async fn migrate_reports_status_and_goes_up_and_down_on_the_test_backend() {
    use migration::{Migrator, MigratorTrait};
    let (url, _guard) = fresh_database().await;
    let dir = temp_dir();
    let env = [("DATABASE_URL", url.as_str())];
    let all = Migrator::migrations().len();
    let status = |label: &str| {
        let out = dispatch(&dir, &["migrate", "status"], &env);
        assert!(out.status.success(), "{label}: {}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text.lines().count(),
            all,
            "{label}: one line per migration: {text}"
        );
        text
    };
    let before = status("before");
    assert!(before.lines().all(|l| l.starts_with("pending")), "{before}");
    let up = dispatch(&dir, &["migrate", "up"], &env);
    assert!(up.status.success(), "{}", stderr(&up));
    let after = status("after up");
    assert!(after.lines().all(|l| l.starts_with("applied")), "{after}");
    let down = dispatch(&dir, &["migrate", "down"], &env);
    assert!(down.status.success(), "{}", stderr(&down));
    let rolled = status("after down");
    assert_eq!(
        rolled.lines().filter(|l| l.starts_with("pending")).count(),
        1,
        "{rolled}"
    );
    assert_eq!(
        rolled.lines().filter(|l| l.starts_with("applied")).count(),
        all - 1,
        "{rolled}"
    );
    std::fs::remove_dir_all(dir).ok();
}
