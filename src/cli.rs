//! The command line: `serve` (the default), `migrate`, `openapi`, `token`, `seed`.

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};

use crate::auth::{Role, TokenKeys};
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
    /// Print a signed access token, for local use and scripts.
    Token {
        /// The role the token carries.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The token's subject.
        #[arg(long, default_value = "cli")]
        sub: String,
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
            let service = api::service();
            match format {
                SpecFormat::Yaml => print!("{}", service.spec_yaml()),
                SpecFormat::Json => println!("{}", service.spec()),
            }
            Ok(())
        }
        Command::Token {
            role,
            sub,
            ttl_minutes,
        } => {
            let secret = config.resolve_jwt_secret()?;
            let token =
                TokenKeys::new(&secret).issue(&sub, role, Duration::from_secs(ttl_minutes * 60))?;
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
    app.run_until_stopped().await?;
    Ok(())
}

/// A database URL without its password, for the log.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(redact("postgres://u:hunter2@db/x"), "postgres://u:***@db/x");
        assert_eq!(
            redact("sqlite://dispatch.db?mode=rwc"),
            "sqlite://dispatch.db?mode=rwc"
        );
    }
}
