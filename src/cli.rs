//! The command line: `serve` (the default), `migrate`, `openapi`, `user`, `token`, `seed`.

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};

use crate::accounts::users::{self, UserCreate, UserUpdate};
use crate::auth::password::Passwords;
use crate::auth::{Role, TokenKeys};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::startup::{self, Application};
use crate::{api, seed, telemetry};
use sea_orm::DatabaseConnection;

/// Said under every command's help: where its database is.
const DATABASE_HELP: &str = "The database is the one DATABASE_URL names (default: \
sqlite://dispatch.db?mode=rwc, a file in the working directory; a .env file there is read too). \
Only `serve` and `migrate up` create or migrate it; the other commands refuse a missing or \
unmigrated database.";

/// Said under `openapi`'s help.
const NO_DATABASE_HELP: &str = "Reads no database: DATABASE_URL is not used.";

#[derive(Parser, Debug)]
#[command(
    name = "dispatch",
    version,
    about = "Dispatch: a headless CMS for newsrooms",
    after_help = DATABASE_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API and Swagger UI (the default). Creates the database if it is
    /// missing (SQLite) and migrates it first.
    #[command(after_help = DATABASE_HELP)]
    Serve,
    /// Apply, roll back or list schema migrations.
    #[command(after_help = DATABASE_HELP)]
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the OpenAPI document.
    #[command(after_help = NO_DATABASE_HELP)]
    Openapi {
        /// The document's format.
        #[arg(long, value_enum, default_value_t = SpecFormat::Yaml)]
        format: SpecFormat,
    },
    /// Manage user accounts (the first admin, password resets).
    #[command(after_help = DATABASE_HELP)]
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Print an access token for an existing, enabled user, for scripts. It acts with
    /// the user's current role, like a token from `POST /api/v1/auth/login`.
    #[command(after_help = DATABASE_HELP)]
    Token {
        /// The user's email.
        #[arg(long)]
        email: String,
        /// Lifetime in minutes (1 to 1440).
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=1440))]
        ttl_minutes: u64,
    },
    /// Load the demo newsroom into an empty database: three publishers, six authors,
    /// eight tags, twenty articles.
    #[command(after_help = DATABASE_HELP)]
    Seed {
        /// The demo newsroom, the only data set there is (the default; accepted
        /// for scripts written when it was required).
        #[arg(long)]
        demo: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MigrateAction {
    /// Apply every pending migration (creating a missing SQLite file).
    #[command(after_help = DATABASE_HELP)]
    Up,
    /// Roll back the latest migration. Other commands then refuse to run until
    /// `migrate up` (or `serve`) applies it again.
    #[command(after_help = DATABASE_HELP)]
    Down,
    /// List migrations and whether each is applied.
    #[command(after_help = DATABASE_HELP)]
    Status,
}

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Create an account. The password is read from the terminal (asked twice) or,
    /// when stdin is not a terminal, from its first line.
    #[command(after_help = DATABASE_HELP)]
    Create {
        /// The email the user signs in with.
        #[arg(long)]
        email: String,
        /// admin, editor, author or contributor.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The id of the author byline the user writes as.
        #[arg(long)]
        author_id: Option<uuid::Uuid>,
    },
    /// Set a new password (read like `create`'s); the user's sessions end.
    #[command(after_help = DATABASE_HELP)]
    SetPassword {
        /// The email of the user whose password changes.
        #[arg(long)]
        email: String,
    },
    /// List accounts: id, role, active or disabled, email.
    #[command(after_help = DATABASE_HELP)]
    List,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum SpecFormat {
    /// YAML, as committed in `openapi.yaml`.
    Yaml,
    /// JSON, as served at `/openapi.json`.
    Json,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// Runs the command line.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    telemetry::init(&config.log);
    // What a command records (the seed's articles) names this site's addresses.
    crate::api::events::name_site(&config.site);
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Openapi { .. }) {
        eprintln!("dispatch: {}", database_line(&config.database_url));
    }
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate {
            action: MigrateAction::Up,
        } => {
            let db = connect_creating(&config.database_url).await?;
            Migrator::up(&db, None).await?;
            println!("all migrations applied");
            Ok(())
        }
        Command::Migrate {
            action: MigrateAction::Down,
        } => {
            let db = open_existing(&config.database_url).await?;
            Migrator::down(&db, Some(1)).await?;
            println!(
                "rolled back the latest migration; apply it again with `{} migrate up`",
                invocation().short()
            );
            Ok(())
        }
        Command::Migrate {
            action: MigrateAction::Status,
        } => {
            let db = open_existing(&config.database_url).await?;
            for m in Migrator::get_migration_with_status_read_only(&db).await? {
                let state = m.status().to_string().to_lowercase();
                println!("{state:8} {}", m.name());
            }
            Ok(())
        }
        Command::Openapi { format } => {
            match format {
                SpecFormat::Yaml => print!("{}", api::spec::yaml()),
                SpecFormat::Json => println!("{}", api::spec::json()),
            }
            Ok(())
        }
        Command::User { action } => user(&config, action).await,
        Command::Token { email, ttl_minutes } => {
            // A missing database first (the secret is generated beside a SQLite
            // file), then a missing secret (before an unreachable server).
            ensure_exists(&config.database_url)?;
            let secret = config.resolve_jwt_secret()?;
            let db = open_migrated(&config.database_url).await?;
            let account = find_user(&db, &email).await?;
            anyhow::ensure!(!account.disabled, "the user {email} is disabled");
            let role: Role = account.role.parse().map_err(anyhow::Error::msg)?;
            let keys = TokenKeys::new(
                &secret,
                config.auth.jwt_algorithm,
                config.auth.access_token_ttl,
            );
            let token = keys.issue_for(
                account.id,
                role,
                account.credential_version,
                SystemClock.now(),
                Duration::from_secs(ttl_minutes * 60),
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Seed { demo: _ } => {
            let db = open_migrated(&config.database_url).await?;
            let library = startup::media_library(&config)?;
            let n = seed::demo(&db, &library).await?;
            println!("loaded the demo newsroom: {n} articles");
            Ok(())
        }
    }
}

/// The one line saying which database a command uses (never a password).
fn database_line(url: &str) -> String {
    let source = if std::env::var_os("DATABASE_URL").is_some_and(|v| !v.is_empty()) {
        "from DATABASE_URL"
    } else {
        "the default; set DATABASE_URL to use another"
    };
    match crate::config::sqlite_file(url) {
        Some(file) => {
            let file = std::path::absolute(&file).unwrap_or(file);
            format!(
                "database {} (the file {}; {source})",
                redact(url),
                file.display()
            )
        }
        None => format!("database {} ({source})", redact(url)),
    }
}

/// Connects to the database, creating a missing SQLite file (`serve`, `migrate up`).
async fn connect_creating(url: &str) -> anyhow::Result<DatabaseConnection> {
    startup::connect(url)
        .await
        .with_context(|| format!("connecting to the database {} (DATABASE_URL)", redact(url)))
}

/// Connects to a database that exists, creating nothing: a missing SQLite file is
/// an error naming the URL and saying how to create it.
async fn open_existing(url: &str) -> anyhow::Result<DatabaseConnection> {
    ensure_exists(url)?;
    // `mode=rwc` would create the file should it vanish in between.
    startup::connect(&url.replace("mode=rwc", "mode=rw"))
        .await
        .with_context(|| format!("connecting to the database {} (DATABASE_URL)", redact(url)))
}

/// A missing SQLite file is an error naming the URL and saying how to create it.
fn ensure_exists(url: &str) -> anyhow::Result<()> {
    let run = invocation().short();
    if let Some(file) = crate::config::sqlite_file(url) {
        anyhow::ensure!(
            file.exists(),
            "there is no database at {} (DATABASE_URL): the file {} does not exist. \
             Create it with `{run} migrate up` (or start `{run} serve`, which creates and \
             migrates it), or set DATABASE_URL to the database you meant",
            redact(url),
            std::path::absolute(&file).unwrap_or(file.clone()).display()
        );
    }
    Ok(())
}

/// [`open_existing`], refusing a database with pending migrations: only `serve`
/// and `migrate up` migrate, so that a `migrate down` stays down until asked.
async fn open_migrated(url: &str) -> anyhow::Result<DatabaseConnection> {
    let db = open_existing(url).await?;
    let pending: Vec<String> = Migrator::get_pending_migrations_read_only(&db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    if !pending.is_empty() {
        let run = invocation().short();
        anyhow::bail!(
            "the database {} (DATABASE_URL) has {} pending migration(s): {}. \
             Apply them with `{run} migrate up` (or start `{run} serve`, which applies them)",
            redact(url),
            pending.len(),
            pending.join(", ")
        );
    }
    Ok(db)
}

/// How the user ran this binary, for the commands it suggests.
struct Invocation {
    /// `cargo run --release --` when run by cargo.
    cargo: Option<String>,
    /// The binary as it was named (`dispatch` from `PATH`, `./target/release/dispatch`).
    binary: String,
}

impl Invocation {
    /// The form to suggest in a one-line hint.
    fn short(&self) -> String {
        self.cargo.clone().unwrap_or_else(|| self.binary.clone())
    }

    /// `args` run this way: under cargo both the cargo and the binary form.
    fn lines(&self, args: &str) -> Vec<String> {
        match &self.cargo {
            Some(cargo) => vec![
                format!("{cargo} {args}"),
                format!("{} {args}   (the binary itself)", self.binary),
            ],
            None => vec![format!("{} {args}", self.binary)],
        }
    }
}

/// How this process was started: by `cargo run` (which sets `CARGO` for what it
/// runs), and as which file.
fn invocation() -> Invocation {
    let binary = std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "dispatch".to_string());
    let binary = if binary.contains(char::is_whitespace) {
        format!("'{binary}'")
    } else {
        binary
    };
    let cargo = std::env::var_os("CARGO").map(|_| {
        if cfg!(debug_assertions) {
            "cargo run --".to_string()
        } else {
            "cargo run --release --".to_string()
        }
    });
    Invocation { cargo, binary }
}

async fn find_user(
    db: &sea_orm::DatabaseConnection,
    email: &str,
) -> anyhow::Result<entity::user::Model> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(users::normalize_email(email)))
        .one(db)
        .await?
        .with_context(|| format!("no user has the email {email}"))
}

/// A new password: asked twice on a terminal, else the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (12 characters or more): ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn problem(err: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!(err.problem().detail)
}

async fn user(config: &Config, action: UserAction) -> anyhow::Result<()> {
    let db = open_migrated(&config.database_url).await?;
    let now = SystemClock.now();
    match action {
        UserAction::Create {
            email,
            role,
            author_id,
        } => {
            let password = read_password()?;
            let input = UserCreate {
                email: email.into(),
                password: password.into(),
                role,
                author_id,
                disabled: false,
            };
            let created = users::create(&db, &Passwords::new()?, input, now)
                .await
                .map_err(problem)?;
            println!(
                "created {} ({}) with id {}",
                created.email, created.role, created.id
            );
        }
        UserAction::SetPassword { email } => {
            let account = find_user(&db, &email).await?;
            let password = read_password()?;
            use poem_openapi::types::MaybeUndefined::{Undefined, Value};
            let input = UserUpdate {
                email: Undefined,
                password: Value(password.into()),
                role: Undefined,
                author_id: Undefined,
                disabled: Undefined,
            };
            users::update(&db, &Passwords::new()?, account.id, input, now)
                .await
                .map_err(problem)?;
            println!(
                "set a new password for {}; their sessions have ended",
                account.email
            );
        }
        UserAction::List => {
            use sea_orm::{EntityTrait, QueryOrder};
            let all = entity::user::Entity::find()
                .order_by_asc(entity::user::Column::Email)
                .all(&db)
                .await?;
            for u in all {
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{}  {:11} {:8} {}", u.id, u.role, state, u.email);
            }
        }
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let db = connect_creating(&config.database_url).await?;
    startup::migrate(&db)
        .await
        .context("migrating the database")?;
    let app = Application::build(config.clone(), db).await?;
    let base = format!("http://{}:{}", config.bind.ip(), app.port());
    println!("Dispatch is serving the API at {base}/api/v1");
    println!("Swagger UI: {base}/docs  (spec: {base}/openapi.yaml)");
    if !app.has_users() {
        println!("No user exists yet, so nobody can sign in. Create the first admin:");
        for line in invocation().lines("user create --email you@example.com --role admin") {
            println!("  {line}");
        }
        println!("or set DISPATCH_ADMIN_EMAIL and DISPATCH_ADMIN_PASSWORD and start again.");
    }
    app.run_until_stopped().await?;
    Ok(())
}

/// What the log may say of a database URL: its scheme, host, port and database,
/// never a user name, a password (in the authority or in `?password=`) or any
/// other query parameter.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once(':') else {
        return "(unparsable database URL)".to_string();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let Some(rest) = rest.strip_prefix("//") else {
        // `sqlite:dispatch.db`: the path is the database.
        return format!("{scheme}:{rest}");
    };
    if scheme.starts_with("sqlite") {
        return format!("{scheme}://{rest}");
    }
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host_port}/{database}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn only_scheme_host_port_and_database_of_a_url_are_logged() {
        let cases = [
            ("postgres://u:hunter2@db/x", "postgres://db/x"),
            (
                "postgres://db.example:5433/news?password=hunter2&sslmode=require",
                "postgres://db.example:5433/news",
            ),
            (
                "postgresql://user@[2001:db8::1]:5432/news?user=u&password=hunter2",
                "postgresql://[2001:db8::1]:5432/news",
            ),
            (
                "postgres://u:p@ss@db:5432/x#hunter2",
                "postgres://db:5432/x",
            ),
            ("sqlite://dispatch.db?mode=rwc", "sqlite://dispatch.db"),
            (
                "sqlite:data/dispatch.db?mode=rwc",
                "sqlite:data/dispatch.db",
            ),
            ("garbage-hunter2", "(unparsable database URL)"),
        ];
        for (url, logged) in cases {
            assert_eq!(redact(url), logged, "{url}");
            assert!(!redact(url).contains("hunter2"));
        }
    }
}
