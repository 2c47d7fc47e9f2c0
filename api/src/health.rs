//! Liveness and readiness.

use std::time::Duration;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::ApiTags;
use crate::problem::ApiError;
use crate::startup::AppState;

#[derive(Debug, Object)]
pub struct Status {
    /// `ok` or `ready`.
    pub status: String,
}

#[derive(ApiResponse)]
pub enum StatusOk {
    #[oai(status = 200)]
    Ok(Json<Status>),
}

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::System")]
impl HealthApi {
    /// Liveness: the process answers.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> StatusOk {
        StatusOk::Ok(Json(Status {
            status: "ok".into(),
        }))
    }

    /// Readiness: the database answers (503 while it does not).
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&AppState>) -> Result<StatusOk, ApiError> {
        match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
            Ok(Ok(())) => Ok(StatusOk::Ok(Json(Status {
                status: "ready".into(),
            }))),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready");
                Err(ApiError::unavailable())
            }
            Err(_) => Err(ApiError::unavailable()),
        }
    }
}
