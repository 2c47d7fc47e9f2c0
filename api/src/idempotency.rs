//! `Idempotency-Key`: a retried POST with the same key answers the first response again; the
//! same key with a different request is refused (422). The key is stored in the transaction
//! that did the work, so an answer is remembered exactly when its effect committed.

use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use vereda_contracts::time;
use vereda_store::db::Tx;
use vereda_store::{on_db, on_tx};

use crate::problem::ApiError;
use crate::startup::AppState;

/// A key sent by a client, with the fingerprint of its request.
pub struct IdempotencyKey {
    pub key: String,
    pub route: String,
    pub request_hash: String,
}

impl IdempotencyKey {
    /// Parse the header value (if any) for `route` with the request `body` bytes.
    pub fn from_header(
        value: Option<&str>,
        route: &str,
        body: &[u8],
    ) -> Result<Option<Self>, ApiError> {
        let Some(v) = value else { return Ok(None) };
        let v = v.trim();
        if v.is_empty() || v.len() > 200 || !v.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ApiError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            ));
        }
        Ok(Some(IdempotencyKey {
            key: v.to_string(),
            route: route.to_string(),
            request_hash: hex::encode(Sha256::digest(body)),
        }))
    }

    /// The stored answer of an earlier request with this key, if any: `(status, JSON body)`.
    pub async fn replay(
        &self,
        state: &AppState,
        user_id: &str,
    ) -> Result<Option<(u16, String)>, ApiError> {
        let row: Option<(String, String, i64, String)> = on_db!(&state.db, |p| {
            sqlx::query_as(
            "SELECT route, request_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND key = $2"
        )
        .bind(user_id)
        .bind(&self.key)
        .fetch_optional(p)
        .await
        })?;
        match row {
            None => Ok(None),
            Some((route, hash, status, response)) => {
                if route != self.route || hash != self.request_hash {
                    let mut e = ApiError::rule(
                        "idempotency_key_reused",
                        Some("Idempotency-Key"),
                        "This Idempotency-Key was used for a different request.",
                    );
                    e.field = Some("Idempotency-Key".into());
                    return Err(e);
                }
                Ok(Some((status as u16, response)))
            }
        }
    }

    /// Remember the answer, in the transaction that did the work. If another request with the
    /// same key got there first (a concurrent duplicate), 409: the caller's transaction must
    /// roll back, so the work is done once.
    pub async fn store(
        &self,
        tx: &mut Tx,
        user_id: &str,
        status: u16,
        response: &str,
    ) -> Result<(), ApiError> {
        let sql = "INSERT INTO idempotency_keys (user_id, key, route, request_hash, status, response, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, key) DO NOTHING";
        let stored = on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
            .bind(user_id)
            .bind(&self.key)
            .bind(&self.route)
            .bind(&self.request_hash)
            .bind(i64::from(status))
            .bind(response)
            .bind(time::unix(time::now()))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if stored == 0 {
            // A concurrent request with this key committed first; this one rolls back.
            return Err(ApiError::conflict(
                "idempotency_key_in_use",
                "A request with this Idempotency-Key was being processed at the same time; \
                 retry it to get its answer.",
            ));
        }
        Ok(())
    }
}
