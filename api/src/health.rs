//! Liveness, readiness, and the operator's numbers (`GET /metrics`).

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

/// `GET /metrics`: the Prometheus text exposition (`vereda_store::metrics`), for the bearer
/// token `VEREDA_METRICS_TOKEN`. Without that setting there is no such route (404); a wrong or
/// missing token is a 401. Outside the OpenAPI document: it is for Prometheus, not for people.
#[poem::handler]
pub async fn metrics(
    req: &poem::Request,
    state: Data<&AppState>,
) -> Result<poem::Response, ApiError> {
    let Some(expected) = &state.settings.metrics_token else {
        return Err(ApiError::not_found("route"));
    };
    let given = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compared as hashes, so the time taken says nothing about how much of the token matched.
    if crate::auth::sha256_hex(given.trim()) != crate::auth::sha256_hex(expected.expose()) {
        return Err(ApiError::unauthenticated(
            "Send the metrics token (VEREDA_METRICS_TOKEN) as Authorization: Bearer.",
        ));
    }
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let body = vereda_store::metrics::scrape(&state.db, now).await;
    Ok(poem::Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
