//! Sign-in: Argon2id passwords, bearer tokens stored only as their SHA-256, login throttling,
//! and the `BearerAuth` extractor that turns a token into a [`Principal`].

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use vereda_contracts::identity::{Email, MemberRole, Role, TOKEN_PREFIX};
use vereda_contracts::{on_db, time};

use crate::ApiTags;
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::startup::AppState;

/// Failed sign-ins allowed per e-mail within [`THROTTLE_WINDOW_SECS`] before a lock.
const MAX_FAILURES: i64 = 5;
const THROTTLE_WINDOW_SECS: i64 = 15 * 60;
const LOCK_SECS: i64 = 15 * 60;

/// Argon2id at OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password (on a blocking thread: it takes tens of milliseconds by design).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut salt_bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes)?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Verify a password against a stored hash; a malformed hash never verifies.
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A real hash of nothing, verified against when the e-mail is unknown so that both answers
/// take the same time.
async fn dummy_hash() -> String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return h.clone();
    }
    let h = hash_password("not a password of anyone".to_string())
        .await
        .unwrap_or_default();
    DUMMY.get_or_init(|| h).clone()
}

/// A new bearer token: the prefix and 256 random bits, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Who is calling, resolved from a valid token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub company_id: Option<String>,
    pub member_role: Option<MemberRole>,
    pub worker_id: Option<String>,
    /// A worker's skills, sorted and comma-joined (read with the token, so the task board can
    /// be looked up by them without another query); `None` for others or a worker without any.
    pub worker_skills: Option<String>,
    token_hash: String,
}

impl Principal {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "A {} account may not do this.",
                self.role.as_str()
            )))
        }
    }

    /// SHA-256 of the token this request came with.
    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Finance)
    }

    /// True for an owner of `company_id`.
    pub fn owns_company(&self, company_id: &str) -> bool {
        self.company_id.as_deref() == Some(company_id)
            && self.member_role == Some(MemberRole::Owner)
    }
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub company_id: Option<String>,
    pub member_role: Option<String>,
    pub worker_id: Option<String>,
}

/// A valid token's user, and a worker's skills.
#[derive(sqlx::FromRow)]
struct TokenRow {
    #[sqlx(flatten)]
    user: UserRow,
    worker_skills: Option<String>,
    expires_at: i64,
}

pub const USER_COLUMNS: &str = "id, email, name, role, company_id, member_role, worker_id";

impl UserRow {
    pub fn into_me(self) -> Me {
        Me {
            id: self.id,
            email: self.email,
            name: self.name,
            role: self.role,
            company_id: self.company_id,
            member_role: self.member_role,
            worker_id: self.worker_id,
        }
    }
}

/// Principals of recently checked tokens, by token hash, so a burst of requests with one token
/// (a page, then a claim, then the task) looks it up once. A sign-out, password change or
/// account change made through this process takes effect at once (it forgets the token or
/// everything); one made through another `vereda-api` process is seen here within
/// [`TOKEN_CACHE_AGE`]. Expiry is checked on every use.
#[derive(Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
    /// Advanced by every forget: a lookup that started before one is not remembered.
    forgets: std::sync::atomic::AtomicU64,
}

#[derive(Clone)]
struct Cached {
    principal: Principal,
    expires_at: i64,
    checked: std::time::Instant,
}

/// How long a checked token is believed without asking the database again.
pub const TOKEN_CACHE_AGE: std::time::Duration = std::time::Duration::from_secs(2);
/// Tokens remembered at most (a few hundred bytes each).
const TOKEN_CACHE_MAX: usize = 20_000;

impl TokenCache {
    fn get(&self, token_hash: &str, now: i64) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(token_hash)
            .filter(|c| c.expires_at > now && c.checked.elapsed() < TOKEN_CACHE_AGE)
            .map(|c| c.principal.clone())
    }

    fn forgets(&self) -> u64 {
        self.forgets.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Remember a lookup that started at `checked`, when no forget happened since `forgets`.
    fn put(
        &self,
        principal: &Principal,
        expires_at: i64,
        checked: std::time::Instant,
        forgets: u64,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if self.forgets() != forgets {
            return;
        }
        if entries.len() >= TOKEN_CACHE_MAX {
            entries.retain(|_, c| c.checked.elapsed() < TOKEN_CACHE_AGE);
            if entries.len() >= TOKEN_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(
            principal.token_hash.clone(),
            Cached {
                principal: principal.clone(),
                expires_at,
                checked,
            },
        );
    }

    /// Forget one token (signed out).
    pub fn forget(&self, token_hash: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.forgets
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        entries.remove(token_hash);
    }

    /// Forget every token: an account's password, name, role or skills changed.
    pub fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.forgets
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        entries.clear();
    }
}

/// The `Authorization: Bearer <token>` security scheme.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "vrd_…", checker = "check_token")]
pub struct BearerAuth(pub Principal);

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    if !bearer.token.starts_with(TOKEN_PREFIX) || bearer.token.len() > 100 {
        return Err(ApiError::unauthenticated("The token is not a Vereda token.").into());
    }
    let token_hash = sha256_hex(&bearer.token);
    let now = time::unix(time::now());
    if let Some(principal) = state.tokens.get(&token_hash, now) {
        return Ok(principal);
    }
    // Taken before the query: a token forgotten while it runs is not remembered stale.
    let (checked, forgets) = (std::time::Instant::now(), state.tokens.forgets());
    let sql = format!(
        "SELECT u.{}, {} AS worker_skills, t.expires_at FROM auth_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
        USER_COLUMNS.replace(", ", ", u."),
        crate::tasks::skills_column(
            state.db.dialect(),
            "worker_skills",
            "worker_id",
            "u.worker_id"
        )
    );
    let row: Option<TokenRow> = on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(&token_hash)
        .bind(now)
        .fetch_optional(p)
        .await)
    .map_err(ApiError::from)?;
    let TokenRow {
        user: row,
        worker_skills,
        expires_at,
    } = row.ok_or_else(|| {
        ApiError::unauthenticated("The token is invalid, expired or signed out; sign in again.")
    })?;
    let principal = Principal {
        role: Role::parse(&row.role).ok_or_else(|| ApiError::internal("unknown role in users"))?,
        member_role: row.member_role.as_deref().and_then(MemberRole::parse),
        user_id: row.id,
        email: row.email,
        name: row.name,
        company_id: row.company_id,
        worker_id: row.worker_id,
        worker_skills,
        token_hash,
    };
    state.tokens.put(&principal, expires_at, checked, forgets);
    Ok(principal)
}

/// The signed-in user.
#[derive(Debug, Object)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `admin`, `finance`, `company` or `worker`.
    pub role: String,
    #[oai(skip_serializing_if_is_none)]
    pub company_id: Option<String>,
    /// For company users: `owner` or `reviewer`.
    #[oai(skip_serializing_if_is_none)]
    pub member_role: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub worker_id: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Object)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: Me,
}

#[derive(ApiResponse)]
pub enum LoginOk {
    #[oai(status = 200)]
    Ok(Json<LoginResponse>),
}

#[derive(ApiResponse)]
pub enum NoContent {
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum MeOk {
    #[oai(status = 200)]
    Ok(Json<Me>),
}

pub struct AuthApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in
    ///
    /// Exchanges an e-mail and password for a bearer token. Wrong credentials answer 401 the
    /// same way whether or not the e-mail exists; after repeated failures the e-mail is locked
    /// for a while (429).
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        body: JsonBody<LoginRequest>,
    ) -> Result<LoginOk, ApiError> {
        let JsonBody(req) = body;
        let email = Email::parse(&req.email).map_err(|e| ApiError::invalid("email", e))?;
        if req.password.len() > 1024 {
            return Err(ApiError::invalid("password", "is too long"));
        }
        let db = &state.db;
        let now = time::unix(time::now());
        let throttle_key = sha256_hex(&format!("login:{}", email.as_str()));

        let locked_until: Option<Option<i64>> = on_db!(db, |p| sqlx::query_scalar(
            "SELECT locked_until FROM login_throttle WHERE email_hash = $1"
        )
        .bind(&throttle_key)
        .fetch_optional(p)
        .await)?;
        if let Some(Some(until)) = locked_until
            && until > now
        {
            return Err(ApiError::too_many_attempts((until - now) as u64));
        }

        #[derive(sqlx::FromRow)]
        struct Cred {
            password_hash: String,
        }
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let found: Option<(UserRow, Cred)> = on_db!(db, |p| {
            use sqlx::Row;
            sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(email.as_str())
                .fetch_optional(p)
                .await?
                .map(|r| -> Result<_, sqlx::Error> {
                    Ok((
                        <UserRow as sqlx::FromRow<_>>::from_row(&r)?,
                        Cred {
                            password_hash: r.try_get("password_hash")?,
                        },
                    ))
                })
                .transpose()
        })?;

        let hash = match &found {
            Some((_, c)) => c.password_hash.clone(),
            None => dummy_hash().await,
        };
        let ok = verify_password(hash, req.password).await && found.is_some();
        let Some((user, _)) = found.filter(|_| ok) else {
            on_db!(db, |p| {
                sqlx::query(
                "INSERT INTO login_throttle (email_hash, failures, window_start, locked_until) \
                 VALUES ($1, 1, $2, NULL) \
                 ON CONFLICT (email_hash) DO UPDATE SET \
                   failures = CASE WHEN login_throttle.window_start < $3 THEN 1 \
                                   ELSE login_throttle.failures + 1 END, \
                   locked_until = CASE WHEN login_throttle.window_start >= $3 \
                                        AND login_throttle.failures + 1 >= $4 THEN $5 ELSE NULL END, \
                   window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 \
                                       ELSE login_throttle.window_start END"
            )
            .bind(&throttle_key)
            .bind(now)
            .bind(now - THROTTLE_WINDOW_SECS)
            .bind(MAX_FAILURES)
            .bind(now + LOCK_SECS)
            .execute(p)
            .await.map(|r| r.rows_affected())
            })?;
            tracing::info!("sign-in refused");
            return Err(ApiError::invalid_credentials());
        };

        let token = new_token();
        let expires_at = now + state.settings.token_ttl.as_secs() as i64;
        on_db!(db, |p| {
            sqlx::query("DELETE FROM login_throttle WHERE email_hash = $1")
                .bind(&throttle_key)
                .execute(p)
                .await
                .map(|r| r.rows_affected())?;
            sqlx::query(
                "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(sha256_hex(&token))
            .bind(&user.id)
            .bind(now)
            .bind(expires_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        tracing::info!(user_id = %user.id, "signed in");
        Ok(LoginOk::Ok(Json(LoginResponse {
            token,
            expires_at: time::from_unix(expires_at),
            user: user.into_me(),
        })))
    }

    /// Sign out
    ///
    /// Revokes the token used for this request.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<NoContent, ApiError> {
        let now = time::unix(time::now());
        on_db!(&state.db, |p| sqlx::query(
            "UPDATE auth_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL"
        )
        .bind(now)
        .bind(&auth.0.token_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        state.tokens.forget(&auth.0.token_hash);
        Ok(NoContent::Done)
    }

    /// Who am I
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: BearerAuth) -> Result<MeOk, ApiError> {
        let p = auth.0;
        Ok(MeOk::Ok(Json(Me {
            id: p.user_id,
            email: p.email,
            name: p.name,
            role: p.role.as_str().to_string(),
            company_id: p.company_id,
            member_role: p.member_role.map(|m| m.as_str().to_string()),
            worker_id: p.worker_id,
        })))
    }
}
