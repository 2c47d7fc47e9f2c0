//! Links that set a password (issue 15 §5 and §6): a reset asked for by e-mail (valid 1 hour)
//! and the invitation of an account created without a password (valid 7 days). Both carry a
//! one-time token, kept only as its SHA-256 in `password_links`, and both end at
//! `POST /v1/auth/password-reset/confirm`.

use base64::Engine;
use poem::Request;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi};
use rand::RngCore;
use serde::Deserialize;
use vereda_contracts::identity::{Email, Role, check_password};
use vereda_contracts::time;
use vereda_store::db::Tx;
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::auth::{
    Limit, clear_account_locks, client_address, count_attempt, hash_password, revoke_all_tokens,
    sha256_hex,
};
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::startup::AppState;

/// How long a reset link works.
pub const RESET_SECS: i64 = 60 * 60;
/// How long an invitation link works.
pub const INVITATION_SECS: i64 = 7 * 24 * 60 * 60;
/// Reset e-mails sent to one address per throttle window (more are quietly not sent).
const RESETS_PER_EMAIL: i64 = 3;
/// Reset requests accepted from one client address per throttle window (then 429).
const RESETS_PER_ADDRESS: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Reset,
    Invitation,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invitation => "invitation",
        }
    }
}

/// A link token: a prefix that names it and 256 random bits, base64url (safe in a URL).
fn new_link_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "vrl_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The app's screen that takes the token: `<public>/#/contrasena?token=<t>` (and
/// `&invitacion=1` for an invitation).
fn link_for(public_url: &str, token: &str, purpose: Purpose) -> String {
    match purpose {
        Purpose::Reset => format!("{public_url}/#/contrasena?token={token}"),
        Purpose::Invitation => format!("{public_url}/#/contrasena?token={token}&invitacion=1"),
    }
}

/// Store a new link for `user_id` and queue its e-mail, in the caller's transaction.
async fn store_link(
    tx: &mut Tx,
    user_id: &str,
    purpose: Purpose,
    now: i64,
) -> Result<(String, i64), ApiError> {
    let token = new_link_token();
    let expires_at = now
        + match purpose {
            Purpose::Reset => RESET_SECS,
            Purpose::Invitation => INVITATION_SECS,
        };
    vereda_store::exec_one!(
        tx,
        sqlx::query(
            "INSERT INTO password_links (token_hash, user_id, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(sha256_hex(&token))
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(now)
        .bind(expires_at)
    )?;
    Ok((token, expires_at))
}

async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    token: &str,
    email: &str,
    user_id: &str,
    content: vereda_documents::mail::Content,
    now: i64,
) -> Result<(), ApiError> {
    let message = vereda_store::outbox::NewMessage {
        dedupe_key: format!("password_link:{}", sha256_hex(token)),
        kind,
        recipient: email,
        user_id: Some(user_id),
        content,
        attachment: None,
    };
    vereda_store::outbox::enqueue(tx, message, now)
        .await
        .map_err(ApiError::from_anyhow)?;
    Ok(())
}

/// An account created without a password: store its invitation link and queue the e-mail
/// (Spanish, naming the platform and who invited), in the transaction that creates it.
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    state: &AppState,
    tx: &mut Tx,
    user_id: &str,
    email: &str,
    name: &str,
    role: Role,
    inviter: &str,
    now: i64,
) -> Result<(), ApiError> {
    let (token, expires_at) = store_link(tx, user_id, Purpose::Invitation, now).await?;
    let role_es = match role {
        Role::Admin => "como administradora o administrador",
        Role::Finance => "en el equipo de finanzas",
        Role::Company => "para su empresa",
        Role::Worker => "para que tome tareas pagadas y trabaje desde donde vive",
        Role::Funder => "para que consulte el reporte de impacto del programa",
    };
    let content = vereda_documents::mail::invitation(
        &state.settings.issuer(),
        name,
        inviter,
        role_es,
        &link_for(&state.settings.public_url, &token, Purpose::Invitation),
        expires_at,
    );
    enqueue(tx, "invitation", &token, email, user_id, content, now).await?;
    tracing::info!(user_id, "invitation queued");
    Ok(())
}

/// A password no one can sign in with (a malformed hash never verifies), for an account
/// invited to choose its own.
pub const NO_PASSWORD: &str = "!invited";

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The token from the link in the e-mail.
    pub token: String,
    /// The new password: at least 12 characters.
    pub password: String,
}

#[derive(ApiResponse)]
pub enum ResetAccepted {
    /// Taken: if the e-mail belongs to an active account, a link is on its way. The answer is
    /// the same whether or not it does.
    #[oai(status = 202)]
    Accepted,
}

#[derive(ApiResponse)]
pub enum PasswordSet {
    /// The password is set; every session of the account has ended.
    #[oai(status = 204)]
    Done,
}

pub struct PasswordLinksApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Auth")]
impl PasswordLinksApi {
    /// Forgot my password
    ///
    /// Always 202, whether or not the e-mail has an account (nothing tells them apart). For an
    /// active account, e-mails a link to `<public>/#/contrasena?token=<t>` that sets a new
    /// password once, within an hour. At most a few e-mails per address per 15 minutes (more
    /// requests are answered 202 and not sent); too many requests from one client address are
    /// 429 with `Retry-After`.
    #[oai(path = "/auth/password-reset", method = "post")]
    async fn request_reset(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<PasswordResetRequest>,
    ) -> Result<ResetAccepted, ApiError> {
        let email = Email::parse(&body.0.email).map_err(|e| ApiError::invalid("email", e))?;
        let now = time::unix(time::now());
        let address = client_address(req, state.settings.trusted_proxy);
        let limits = [
            Limit {
                key: sha256_hex(&format!("reset-address:{address}")),
                max: RESETS_PER_ADDRESS,
                locks: false,
                account: None,
            },
            Limit {
                key: sha256_hex(&format!("reset:{}", email.as_str())),
                max: RESETS_PER_EMAIL,
                locks: false,
                account: None,
            },
        ];
        match count_attempt(&state.db, &limits, now).await? {
            Some((0, secs)) => return Err(ApiError::too_many_attempts(secs)),
            // Enough links went to that address for now: said the same way, not sent.
            Some(_) => return Ok(ResetAccepted::Accepted),
            None => {}
        }
        let user: Option<(String, String)> = on_db!(&state.db, |p| sqlx::query_as(
            "SELECT id, name FROM users WHERE email = $1 AND deactivated_at IS NULL"
        )
        .bind(email.as_str())
        .fetch_optional(p)
        .await)?;
        if let Some((user_id, name)) = user {
            let mut tx = state.db.begin().await?;
            let (token, expires_at) = store_link(&mut tx, &user_id, Purpose::Reset, now).await?;
            let content = vereda_documents::mail::password_reset(
                &state.settings.issuer(),
                &name,
                &link_for(&state.settings.public_url, &token, Purpose::Reset),
                expires_at,
            );
            enqueue(
                &mut tx,
                "password_reset",
                &token,
                email.as_str(),
                &user_id,
                content,
                now,
            )
            .await?;
            tx.commit().await?;
            tracing::info!(user_id = %user_id, "password reset link queued");
        } else {
            tracing::info!("password reset asked for an unknown or inactive e-mail");
        }
        Ok(ResetAccepted::Accepted)
    }

    /// Set a password from a link
    ///
    /// Takes the token of a reset or invitation link and a new password (at least 12
    /// characters). The link works once and until it expires; a wrong, used or expired one is
    /// 422 `reset_token_invalid` on `token`. Setting the password uses every open link of the
    /// account, signs it out everywhere and lifts any sign-in lock.
    #[oai(path = "/auth/password-reset/confirm", method = "post")]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        body: JsonBody<PasswordResetConfirm>,
    ) -> Result<PasswordSet, ApiError> {
        let req = body.0;
        let invalid = || {
            ApiError::rule(
                "reset_token_invalid",
                Some("token"),
                "The link is wrong, already used or expired; ask for a new one.",
            )
        };
        if req.token.len() > 200 || !req.token.starts_with("vrl_") {
            return Err(invalid());
        }
        check_password(&req.password).map_err(|e| ApiError::invalid("password", e))?;
        let token_hash = sha256_hex(&req.token);
        let now = time::unix(time::now());
        let found: Option<(String, String)> = on_db!(&state.db, |p| sqlx::query_as(
            "SELECT u.id, u.email FROM password_links l JOIN users u ON u.id = l.user_id \
             WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 \
             AND u.deactivated_at IS NULL"
        )
        .bind(&token_hash)
        .bind(now)
        .fetch_optional(p)
        .await)?;
        let (user_id, email) = found.ok_or_else(invalid)?;
        let hash = hash_password(req.password).await?;

        let mut tx = state.db.begin().await?;
        // Used here, once: a second confirm racing this one finds it used.
        let taken = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE password_links SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1"
        )
        .bind(now)
        .bind(&token_hash)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        if taken != 1 {
            return Err(invalid());
        }
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE password_links SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
            )
            .bind(now)
            .bind(&user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(&hash)
                .bind(now)
                .bind(&user_id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        let revoked = revoke_all_tokens(&mut tx, &user_id, now).await?;
        clear_account_locks(&mut tx, &email, &user_id).await?;
        tx.commit().await?;
        state.tokens.forget_many(&revoked);
        tracing::info!(user_id = %user_id, "password set from a link");
        Ok(PasswordSet::Done)
    }
}
