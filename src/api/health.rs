//! `/health/live` and `/health/ready`.

use poem::web::Data;
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi};

use super::{ApiTags, AppState};

#[derive(ApiResponse)]
pub enum Ready {
    /// The database answers.
    #[oai(status = 200)]
    Ready(PlainText<&'static str>),
    /// The database does not answer.
    #[oai(status = 503)]
    NotReady(PlainText<&'static str>),
}

#[derive(ApiResponse)]
pub enum Live {
    /// The process is serving requests.
    #[oai(status = 200)]
    Ok(PlainText<&'static str>),
}

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
    /// 200 when the database answers, 503 otherwise.
    #[oai(path = "/health/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&AppState>) -> Ready {
        match state.db.ping().await {
            Ok(()) => Ready::Ready(PlainText("ready")),
            Err(err) => {
                tracing::warn!(error = %err, "readiness check failed");
                Ready::NotReady(PlainText("database unavailable"))
            }
        }
    }
}
