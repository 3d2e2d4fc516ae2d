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
        // `cargo test` sets it; the binary would take itself for `cargo run`.
        .env_remove("CARGO")
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

/// `dispatch migrate up`, which creates a missing SQLite file.
fn migrate_up(dir: &std::path::Path, env: &[(&str, &str)]) {
    let out = dispatch(dir, &["migrate", "up"], env);
    assert!(out.status.success(), "{}", stderr(&out));
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
    migrate_up(&dir, &[]);
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
    migrate_up(&dir, &[]);
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
/// After a `migrate down`, only `migrate up` (or `serve`) applies it again: every
/// other command refuses, with the hint, and leaves it pending.
#[tokio::test]
async fn migrate_reports_status_and_goes_up_and_down_on_the_test_backend() {
    use migration::{Migrator, MigratorTrait};
    let (url, _guard) = fresh_database().await;
    let dir = temp_dir();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("DISPATCH_JWT_SECRET", SECRET),
    ];
    if let Some(file) = dispatch::config::sqlite_file(&url) {
        // No file yet: `status` says so and creates none. An empty file is an
        // empty database.
        let missing = dispatch(&dir, &["migrate", "status"], &env);
        assert!(!missing.status.success());
        assert!(
            stderr(&missing).contains("there is no database at sqlite://"),
            "{}",
            stderr(&missing)
        );
        assert!(!file.exists(), "migrate status created {}", file.display());
        std::fs::File::create(&file).unwrap();
    }
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
    let one_pending = |label: &str| {
        let rolled = status(label);
        assert_eq!(
            rolled.lines().filter(|l| l.starts_with("pending")).count(),
            1,
            "{label}: {rolled}"
        );
        assert_eq!(
            rolled.lines().filter(|l| l.starts_with("applied")).count(),
            all - 1,
            "{label}: {rolled}"
        );
    };
    one_pending("after down");
    let latest = Migrator::migrations()
        .last()
        .map(|m| m.name().to_string())
        .unwrap();
    for args in [
        &["user", "list"][..],
        &["token", "--email", "chief@ledger.example"],
        &["seed"],
        &["user", "set-password", "--email", "chief@ledger.example"],
        &[
            "user",
            "create",
            "--email",
            "chief@ledger.example",
            "--role",
            "admin",
        ],
    ] {
        let refused = dispatch_with_input(&dir, args, &env, "copper kettle at dawn\n");
        assert!(!refused.status.success(), "{args:?}");
        let err = stderr(&refused);
        assert!(
            err.contains("has 1 pending migration(s)")
                && err.contains(&latest)
                && err.contains("migrate up`"),
            "{args:?}: {err}"
        );
        one_pending(&format!("after {args:?}"));
    }
    migrate_up(&dir, &env);
    let list = dispatch(&dir, &["user", "list"], &env);
    assert!(list.status.success(), "{}", stderr(&list));
    std::fs::remove_dir_all(dir).ok();
}

/// Every command but `serve` and `migrate up` needs a database that exists: against
/// a missing SQLite file it is an error naming the URL and how to create it, and
/// nothing is created (neither the file nor a JWT secret beside it).
#[test]
fn commands_other_than_serve_and_migrate_up_create_no_database() {
    let dir = temp_dir();
    for args in [
        &["token", "--email", "chief@ledger.example"][..],
        &["user", "list"],
        &["user", "set-password", "--email", "chief@ledger.example"],
        &[
            "user",
            "create",
            "--email",
            "chief@ledger.example",
            "--role",
            "admin",
        ],
        &["seed"],
        &["migrate", "status"],
        &["migrate", "down"],
    ] {
        let out = dispatch_with_input(&dir, args, &[], "copper kettle at dawn\n");
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("there is no database at sqlite://dispatch.db (DATABASE_URL)")
                && err.contains("dispatch migrate up`"),
            "{args:?}: {err}"
        );
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
    // The same against a named file.
    let url = format!("sqlite://{}/news.db?mode=rwc", dir.display());
    let out = dispatch(&dir, &["user", "list"], &[("DATABASE_URL", &url)]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!(
            "there is no database at sqlite://{}/news.db",
            dir.display()
        )),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("news.db").exists());
    std::fs::remove_dir_all(dir).ok();
}

/// A PostgreSQL database that does not exist is named (without its password).
#[test]
fn a_missing_postgres_database_is_named_without_its_password() {
    let Some(server) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    else {
        eprintln!("skipped: TEST_DATABASE_URL names no PostgreSQL server");
        return;
    };
    let dir = temp_dir();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    let name = format!("dispatch_missing_{}", uuid::Uuid::now_v7().simple());
    let with_password = base.replacen("://", "://hunter2user:hunter2@", 1);
    let with_password = match with_password.split_once('@') {
        // `postgres://postgres@host` names a user already: keep it, add the password.
        Some((_, rest)) if rest.contains('@') => base.replacen("@", ":hunter2@", 1),
        _ => with_password,
    };
    let url = format!("{with_password}/{name}?password=hunter2");
    let out = dispatch(
        &dir,
        &["user", "list"],
        &[("DATABASE_URL", &url), ("DISPATCH_JWT_SECRET", SECRET)],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&name) && err.contains("(DATABASE_URL)"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

/// Each command that uses a database says which on one stderr line, with no
/// password, before anything else; stdout stays for the command's output.
#[test]
fn each_command_names_its_database_on_one_stderr_line() {
    let dir = temp_dir();
    migrate_up(&dir, &[]);
    let list = dispatch(&dir, &["user", "list"], &[]);
    assert!(list.status.success(), "{}", stderr(&list));
    let file = std::path::absolute(dir.join("dispatch.db")).unwrap();
    let lines: Vec<String> = stderr(&list)
        .lines()
        .filter(|l| l.starts_with("dispatch: database "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines,
        [format!(
            "dispatch: database sqlite://dispatch.db (the file {}; the default; set DATABASE_URL to use another)",
            file.display()
        )]
    );
    let pg = dispatch(
        &dir,
        &["user", "list"],
        &[(
            "DATABASE_URL",
            "postgres://editor:hunter2@127.0.0.1:1/news?password=hunter2",
        )],
    );
    assert!(!pg.status.success());
    let err = stderr(&pg);
    assert_eq!(
        err.lines().next(),
        Some("dispatch: database postgres://127.0.0.1:1/news (from DATABASE_URL)"),
        "{err}"
    );
    assert!(
        err.contains("connecting to the database postgres://127.0.0.1:1/news (DATABASE_URL)"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    // `openapi` uses none and says nothing of one.
    let spec = dispatch(&dir, &["openapi"], &[]);
    assert!(!stderr(&spec).contains("database"), "{}", stderr(&spec));
    std::fs::remove_dir_all(dir).ok();
}

/// The subcommands a `--help` text lists under `Commands:`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Every command's help, found by walking `Commands:` from the top, says where its
/// database comes from (`DATABASE_URL`), and every option has a description.
#[test]
fn every_command_and_option_has_help_naming_database_url() {
    let dir = temp_dir();
    let mut queue: Vec<Vec<String>> = vec![vec![]];
    let mut seen = Vec::new();
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("-h");
        let out = dispatch(&dir, &args, &[]);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("DATABASE_URL"), "{args:?}:\n{help}");
        let options: Vec<&str> = help
            .lines()
            .skip_while(|l| !l.starts_with("Options:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect();
        assert!(!options.is_empty(), "{args:?}:\n{help}");
        for line in options {
            // `  -e, --email <EMAIL>  The user's email.`: a flag, then its text.
            let described = line
                .trim_start()
                .split("  ")
                .filter(|part| !part.trim().is_empty())
                .count()
                >= 2;
            assert!(described, "{args:?}: an option without help: {line:?}");
        }
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            queue.push(next);
        }
        seen.push(path.join(" "));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "",
            "migrate",
            "migrate down",
            "migrate status",
            "migrate up",
            "openapi",
            "seed",
            "serve",
            "token",
            "user",
            "user create",
            "user list",
            "user set-password",
        ]
    );
    std::fs::remove_dir_all(dir).ok();
}

/// `seed` loads the demo newsroom; `--demo`, once required, is still accepted.
#[test]
fn seed_loads_the_demo_with_or_without_the_demo_flag() {
    for args in [&["seed"][..], &["seed", "--demo"]] {
        let dir = temp_dir();
        migrate_up(&dir, &[]);
        let out = dispatch(&dir, args, &[]);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "loaded the demo newsroom: 20 articles\n"
        );
        std::fs::remove_dir_all(dir).ok();
    }
}

/// Runs `dispatch serve` until its stdout has shown `until` (or it exits), then
/// stops it; gives back stdout and stderr.
fn serve_until(dir: &std::path::Path, env: &[(&str, &str)], until: &str) -> (String, String) {
    use std::io::{BufRead, Read};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dispatch"));
    cmd.current_dir(dir)
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("DISPATCH_JWT_SECRET")
        .env_remove("DISPATCH_ADMIN_EMAIL")
        .env_remove("DISPATCH_ADMIN_PASSWORD")
        .env_remove("CARGO")
        .env("DISPATCH_BIND", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run dispatch serve");
    let stdout = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        err_pipe.read_to_string(&mut text).ok();
        text
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let until = until.to_string();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(&until) {
                break;
            }
        }
        tx.send(seen).ok();
    });
    let seen = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_default();
    child.kill().ok();
    child.wait().ok();
    (seen, errors.join().unwrap_or_default())
}

/// The start banner shows the commands to run as the user ran this one: the
/// binary as it was named, and under `cargo run` the cargo form too.
#[test]
fn the_start_banner_shows_the_command_as_it_was_run() {
    let dir = temp_dir();
    let binary = env!("CARGO_BIN_EXE_dispatch");
    let (out, err) = serve_until(&dir, &[], "DISPATCH_ADMIN_EMAIL");
    assert!(
        out.contains("Dispatch is serving the API at http://127.0.0.1:"),
        "{out}{err}"
    );
    assert!(
        out.contains(&format!(
            "\n  {binary} user create --email you@example.com --role admin\n"
        )),
        "{out}"
    );
    assert!(!out.contains("cargo"), "{out}");
    assert!(!err.contains("`dispatch user create"), "{err}");
    let (out, err) = serve_until(&dir, &[("CARGO", "/usr/bin/cargo")], "DISPATCH_ADMIN_EMAIL");
    let cargo = if cfg!(debug_assertions) {
        "cargo run --"
    } else {
        "cargo run --release --"
    };
    assert!(
        out.contains(&format!(
            "\n  {cargo} user create --email you@example.com --role admin\n"
        )) && out.contains(&format!(
            "\n  {binary} user create --email you@example.com --role admin   (the binary itself)\n"
        )),
        "{out}{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// `DISPATCH_ADMIN_*` only create the first admin; set while users exist, the log
/// says they were ignored.
#[test]
fn admin_variables_set_while_users_exist_are_reported_as_ignored() {
    let dir = temp_dir();
    let admin = [
        ("DISPATCH_ADMIN_EMAIL", "chief@ledger.example"),
        ("DISPATCH_ADMIN_PASSWORD", "copper kettle at dawn"),
    ];
    let (out, err) = serve_until(&dir, &admin, "Swagger UI");
    assert!(out.contains("Swagger UI"), "{out}{err}");
    assert!(err.contains("created the first admin"), "{err}");
    assert!(!err.contains("ignored"), "{err}");
    let (out, err) = serve_until(
        &dir,
        &[
            ("DISPATCH_ADMIN_EMAIL", "someone@ledger.example"),
            ("DISPATCH_ADMIN_PASSWORD", "another long passphrase"),
        ],
        "Swagger UI",
    );
    assert!(out.contains("Swagger UI"), "{out}{err}");
    assert!(
        err.contains("WARN")
            && err.contains(
                "DISPATCH_ADMIN_EMAIL and DISPATCH_ADMIN_PASSWORD were ignored: users exist already"
            ),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// A port in use is an error naming the address and `DISPATCH_BIND`.
#[test]
fn a_port_in_use_names_the_address_and_dispatch_bind() {
    let dir = temp_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = dispatch(&dir, &["serve"], &[("DISPATCH_BIND", &addr)]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "dispatch: cannot listen on {addr} (DISPATCH_BIND;"
        )),
        "{err}"
    );
    drop(taken);
    std::fs::remove_dir_all(dir).ok();
}
