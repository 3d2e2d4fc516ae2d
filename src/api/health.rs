//! `/health/live` and `/health/ready`.

use std::time::Duration;

use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi};

use super::{ApiTags, AppState};
use crate::error::Problem;

#[derive(ApiResponse)]
pub enum Ready {
    /// The database answers.
    #[oai(status = 200)]
    Ready(PlainText<&'static str>),
    /// The database does not answer.
    #[oai(status = 503)]
    NotReady(PlainText<&'static str>),
    /// The path or query holds a NUL character (`%00`).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
}

#[derive(ApiResponse)]
pub enum Live {
    /// The process is serving requests.
    #[oai(status = 200)]
    Ok(PlainText<&'static str>),
    /// The path or query holds a NUL character (`%00`).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
}

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// 200 while the process serves requests.
    #[oai(path = "/health/live", method = "get", operation_id = "live")]
    async fn live(&self) -> Live {
        Live::Ok(PlainText("ok"))
    }

    /// Readiness
    ///
    /// 200 when the database answers `SELECT 1` within a second, 503 otherwise
    /// (also within about a second).
    #[oai(path = "/health/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&AppState>) -> Ready {
        use sea_orm::ConnectionTrait;
        // The read replica too, if one is configured: requests use both.
        let check = async {
            state.db.execute_unprepared("SELECT 1").await?;
            if let Some(replica) = &state.replica {
                replica.execute_unprepared("SELECT 1").await?;
            }
            Ok::<_, sea_orm::DbErr>(())
        };
        match tokio::time::timeout(READY_TIMEOUT, check).await {
            Ok(Ok(())) => Ready::Ready(PlainText("ready")),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "readiness check failed");
                Ready::NotReady(PlainText("database unavailable"))
            }
            Err(_) => {
                tracing::warn!("readiness check timed out");
                Ready::NotReady(PlainText("database unavailable"))
            }
        }
    }
}
