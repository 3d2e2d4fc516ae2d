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

#[derive(Parser, Debug)]
#[command(
    name = "dispatch",
    version,
    about = "Dispatch: a headless CMS for newsrooms"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API and Swagger UI (the default). Migrates the database first.
    Serve,
    /// Apply, roll back or list schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the OpenAPI document.
    Openapi {
        #[arg(long, value_enum, default_value_t = SpecFormat::Yaml)]
        format: SpecFormat,
    },
    /// Manage user accounts (the first admin, password resets).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Print an access token for an existing, enabled user, for scripts. It acts with
    /// the user's current role, like a token from `POST /api/v1/auth/login`.
    Token {
        /// The user's email.
        #[arg(long)]
        email: String,
        /// Lifetime in minutes.
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=1440))]
        ttl_minutes: u64,
    },
    /// Load data into an empty database.
    Seed {
        /// The demo newsroom: three publishers, six authors, eight tags, twenty articles.
        #[arg(long, required = true)]
        demo: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the latest migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Create an account. The password is read from the terminal (asked twice) or,
    /// when stdin is not a terminal, from its first line.
    Create {
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
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// List accounts.
    List,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum SpecFormat {
    Yaml,
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
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate { action } => {
            let db = startup::connect(&config.database_url).await?;
            match action {
                MigrateAction::Up => {
                    Migrator::up(&db, None).await?;
                    println!("all migrations applied");
                }
                MigrateAction::Down => {
                    Migrator::down(&db, Some(1)).await?;
                    println!("rolled back the latest migration");
                }
                MigrateAction::Status => {
                    let applied: Vec<String> = Migrator::get_applied_migrations(&db)
                        .await?
                        .iter()
                        .map(|m| m.name().to_string())
                        .collect();
                    for m in Migrator::migrations() {
                        let name = m.name().to_string();
                        let state = if applied.contains(&name) {
                            "applied"
                        } else {
                            "pending"
                        };
                        println!("{state:8} {name}");
                    }
                }
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
            let secret = config.resolve_jwt_secret()?;
            let db = startup::connect(&config.database_url).await?;
            startup::migrate(&db).await?;
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
        Command::Seed { .. } => {
            let db = startup::connect(&config.database_url).await?;
            startup::migrate(&db).await?;
            let n = seed::demo(&db).await?;
            println!("loaded the demo newsroom: {n} articles");
            Ok(())
        }
    }
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
    let db = startup::connect(&config.database_url).await?;
    startup::migrate(&db).await?;
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
    let db = startup::connect(&config.database_url)
        .await
        .context("connecting to the database (DATABASE_URL)")?;
    startup::migrate(&db)
        .await
        .context("migrating the database")?;
    let app = Application::build(config.clone(), db).await?;
    let base = format!("http://{}:{}", config.bind.ip(), app.port());
    tracing::info!(database = %redact(&config.database_url), "database ready");
    println!("Dispatch is serving the API at {base}/api/v1");
    println!("Swagger UI: {base}/docs  (spec: {base}/openapi.yaml)");
    if !app.has_users() {
        println!(
            "No user exists yet, so nobody can sign in. Create the first admin:\n  \
             dispatch user create --email you@example.com --role admin\n\
             or set DISPATCH_ADMIN_EMAIL and DISPATCH_ADMIN_PASSWORD and start again."
        );
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
