//! One error type for the whole API, rendered as RFC 9457 `application/problem+json` with a
//! stable machine `code`. Handlers return `Result<_, ApiError>`; errors raised by poem itself
//! (unknown route, bad path parameter, missing token) are reshaped by [`render_any`].

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};
use serde::Serialize;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// A problem detail (RFC 9457).
#[derive(Debug, Clone, Serialize, Object)]
#[oai(rename = "Problem")]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The problem as a Spanish sentence for people (es-CO, times in Bogotá), chosen from
    /// `code` and `field`: what a client shows instead of `detail`.
    pub detail_es: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `slot_taken`.
    pub code: String,
    /// The request field at fault, as a dotted path (`owner.email`), when there is one.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every fault, when a request had several (a batch's spreadsheet: each bad row and
    /// column), so it can be fixed in one go.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemItem>>,
}

/// One fault of several: where it is and what is wrong, in Spanish.
#[derive(Debug, Clone, Serialize, Object)]
pub struct ProblemItem {
    /// The line of the uploaded file (the header is line 1).
    pub line: u64,
    /// The column at fault, when there is one.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub detail_es: String,
}

/// An error answer. Construct with the helpers below; each maps to one status and code.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub field: Option<String>,
    /// Seconds the client should wait (429, 503).
    pub retry_after: Option<u32>,
    /// A Spanish sentence of the handler's own, more precise than the catalogue's
    /// (`problem_es.rs`), e.g. with the times an entry overlaps.
    /// (Boxed: `ApiError` travels in every `Result` and stays small.)
    pub detail_es: Option<Box<str>>,
    /// Every fault when there are several (boxed for the same reason).
    pub errors: Option<Box<Vec<ProblemItem>>>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            field: None,
            retry_after: None,
            detail_es: None,
            errors: None,
        }
    }

    /// 400: the body is not JSON, or not the shape of JSON expected.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "Malformed request",
            detail,
        )
    }

    /// 422: a field failed validation. `field` is its dotted path in the request.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        let field = field.into();
        let detail = detail.into();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Validation failed",
            if field.is_empty() {
                detail
            } else {
                format!("{field}: {detail}")
            },
        );
        e.field = (!field.is_empty()).then_some(field);
        e
    }

    /// 422 with a code of its own, for a rule with a name (e.g. `below_minimum_wage`).
    pub fn rule(code: &'static str, field: Option<&str>, detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Rule violated",
            detail,
        );
        e.field = field.map(str::to_string);
        e
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Not signed in",
            detail,
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Wrong e-mail or password",
            "The e-mail or the password is wrong.",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }

    /// 403: a request signed in by the session cookie failed the CSRF check (no
    /// `X-Requested-With: vereda`, or another site's `Origin`).
    pub fn csrf_refused() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_refused",
            "Cross-site request refused",
            "A request signed in with the session cookie must send `X-Requested-With: vereda` \
             and come from Vereda's own origin; nothing was changed.",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            format!("No such {what}."),
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    pub fn too_many_attempts(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many attempts",
            format!(
                "Too many failed sign-ins for this e-mail. Try again in {} minutes.",
                retry_after.div_ceil(60)
            ),
        );
        e.retry_after = Some(u32::try_from(retry_after).unwrap_or(u32::MAX));
        e
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Request body too large",
            format!("The request body is larger than {limit} bytes."),
        )
    }

    pub fn unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "Temporarily unavailable",
            "The database cannot be reached right now; nothing was changed. Try again shortly.",
        );
        e.retry_after = Some(5);
        e
    }

    /// 500: logged with its cause; the client sees no internals.
    pub fn internal(cause: impl std::fmt::Display + std::fmt::Debug) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            "Something went wrong on our side; nothing was changed.",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.code),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            detail_es: crate::problem_es::detail_es(self),
            code: self.code.to_string(),
            field: self.field.clone(),
            errors: self.errors.as_deref().cloned(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if vereda_store::db::is_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::unavailable()
        } else if lost_a_race(&e) {
            tracing::warn!(error = %e, "transaction lost a race");
            ApiError::contention()
        } else {
            ApiError::internal(e)
        }
    }
}

impl From<vereda_store::db::WriteError> for ApiError {
    fn from(e: vereda_store::db::WriteError) -> Self {
        match e {
            vereda_store::db::WriteError::Db(e) => e.into(),
            // The row was read or locked in this same transaction: a count other than one is
            // a broken assumption, not the caller's mistake.
            rows @ vereda_store::db::WriteError::Rows(_) => ApiError::internal(rows),
        }
    }
}

/// PostgreSQL gave up on the transaction because of another one (serialization failure
/// 40001, deadlock 40P01): it changed nothing, and running it again is safe.
pub fn lost_a_race(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40001" | "40P01")))
}

impl ApiError {
    /// 503: the transaction lost a race with another and was undone (see [`retrying`]).
    pub fn contention() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "contention",
            "Busy",
            "Otra operación usaba los mismos datos al mismo tiempo y no se cambió nada; \
             intente de nuevo en un momento.",
        );
        e.retry_after = Some(1);
        e
    }

    /// Whether [`ApiError::contention`] made this.
    pub fn is_contention(&self) -> bool {
        self.code == "contention"
    }
}

/// Tries of a transaction in [`retrying`].
const TRIES: u32 = 5;

/// Run a whole transaction again while it fails only because it lost a race with another
/// ([`lost_a_race`]): up to [`TRIES`] times, after a short pause that grows and is jittered so
/// the racers do not collide again in step. `attempt` must begin and commit its own
/// transaction, so a lost try leaves nothing behind.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut tried = 1;
    loop {
        match attempt().await {
            Err(e) if e.is_contention() && tried < TRIES => {
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 20;
                let pause = 10 * 2u64.pow(tried) + jitter;
                tracing::info!(
                    tried,
                    pause_ms = pause,
                    "transaction lost a race; trying again"
                );
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                tried += 1;
            }
            other => return other,
        }
    }
}

impl ApiError {
    /// From a helper's `anyhow` error: database trouble keeps its meaning (503 when the
    /// database is unreachable), anything else is internal.
    pub fn from_anyhow(e: anyhow::Error) -> Self {
        match e.downcast::<sqlx::Error>() {
            Ok(db) => db.into(),
            Err(other) => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = Response::builder()
            .status(self.status)
            .content_type(PROBLEM_CONTENT_TYPE)
            .body(body);
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(
                poem::http::header::RETRY_AFTER,
                poem::http::HeaderValue::from(secs),
            );
        }
        resp
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }
    fn as_response(&self) -> Response {
        self.clone().into_response()
    }
}

/// The error statuses any operation may answer, all with a [`Problem`] body.
const DOCUMENTED: &[(u16, &str)] = &[
    (
        400,
        "Malformed request (not JSON, wrong shape, bad parameter)",
    ),
    (
        401,
        "Missing, invalid, expired or revoked token; wrong credentials",
    ),
    (403, "Signed in, but the role may not do this"),
    (404, "No such resource, or not yours"),
    (409, "Conflicts with the current state"),
    (413, "Request body too large"),
    (415, "The body is not of the documented content type"),
    (422, "A field failed validation; `field` names it"),
    (429, "Too many attempts"),
    (503, "Database unavailable; nothing was changed"),
];

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_CONTENT_TYPE,
                        schema: Problem::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// Schema reference for documentation helpers.
pub fn problem_schema() -> MetaSchemaRef {
    Problem::schema_ref()
}

/// Turn any error poem produced into a problem response: our own errors render themselves;
/// poem's (routing, parameters, auth, content type, body size) get the matching code.
pub fn render_any(err: poem::Error) -> Response {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return api.clone().into_response();
    }
    let status = err.status();
    let message = err.to_string();
    let api = match status {
        StatusCode::NOT_FOUND => ApiError::new(
            status,
            "not_found",
            "Not found",
            "No such route or resource.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "Method not allowed",
            "This route does not accept that method.",
        ),
        StatusCode::UNAUTHORIZED => {
            ApiError::unauthenticated("Send a valid token in the Authorization: Bearer header.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            "Request body too large",
            "The request body is too large.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "Unsupported media type",
            "Send the body as application/json.",
        ),
        s if s.is_client_error() => {
            let mut e = ApiError::malformed(message);
            e.status = s;
            if err.is::<poem_openapi::error::ParseParamError>() {
                e.code = "invalid_parameter";
                e.status = StatusCode::BAD_REQUEST;
                if let Some(p) = err.downcast_ref::<poem_openapi::error::ParseParamError>() {
                    e.field = Some(p.name.to_string());
                }
            } else if err.is::<poem_openapi::error::ContentTypeError>() {
                e.code = "unsupported_media_type";
                e.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            }
            e
        }
        _ => ApiError::internal(message),
    };
    api.into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_transaction_that_lost_a_race_is_tried_again_and_nothing_else_is() {
        let tries = AtomicU32::new(0);
        let answer = retrying(|| async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(ApiError::contention()),
                _ => Ok("stored"),
            }
        })
        .await;
        assert_eq!(answer.unwrap(), "stored");
        assert_eq!(tries.load(Ordering::SeqCst), 3);

        // Losing every time ends with the 503 and its Retry-After, after a bounded number of
        // tries; any other error is answered at once.
        let tries = AtomicU32::new(0);
        let e = retrying(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ApiError::contention())
        })
        .await
        .unwrap_err();
        assert_eq!(tries.load(Ordering::SeqCst), TRIES);
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(1));
        let tries = AtomicU32::new(0);
        let e = retrying(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ApiError::conflict("entry_overlaps", "x"))
        })
        .await
        .unwrap_err();
        assert_eq!(tries.load(Ordering::SeqCst), 1);
        assert_eq!(e.code, "entry_overlaps");
    }
}
