//! Sign-in: Argon2id passwords (hashed on a bounded number of threads with reused memory),
//! bearer tokens stored only as their SHA-256, sign-in throttling per client address, and the
//! `BearerAuth` extractor that turns a token into a [`Principal`].

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
use vereda_contracts::identity::{self, Email, MemberRole, Role, TOKEN_PREFIX};
use vereda_contracts::throttle::{
    self, Counter, MAX_PASSWORD_CHECKS, MAX_PER_ADDRESS, MAX_PER_EMAIL_AND_ADDRESS, Policy,
};
use vereda_contracts::time;
use vereda_store::db::{Db, Tx};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::startup::AppState;

/// Argon2id at OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Password hashing is the one thing an anonymous caller can make expensive (19 MiB and tens of
/// milliseconds each), so it runs through this gate: at most one hash per core at a time, each
/// in a 19 MiB buffer taken from a pool and given back (never freed, so the allocator is never
/// asked to return it: freed 19 MiB blocks stayed in glibc's per-thread arenas and the process
/// grew to gigabytes), and a short queue; callers beyond it are answered 503 with
/// `Retry-After` at once instead of piling up.
struct PasswordGate {
    permits: Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    buffers: std::sync::Mutex<Vec<Vec<Block>>>,
}

/// The longest a caller waits in the queue before being told to come back.
const MAX_QUEUE_WAIT: Duration = Duration::from_secs(10);

static GATE: LazyLock<PasswordGate> = LazyLock::new(|| {
    // Capped: each permit may keep a 19 MiB buffer for the life of the process.
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    PasswordGate {
        permits: Arc::new(tokio::sync::Semaphore::new(cores)),
        waiting: AtomicUsize::new(0),
        // About a second and a half of work per core: longer waits only answer late.
        max_waiting: cores * 32,
        buffers: std::sync::Mutex::new(Vec::new()),
    }
});

/// Leaves the queue however the wait ends (a caller that hangs up is dropped mid-wait).
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// 503: too many hashes queued. Nothing was checked or changed.
fn busy() -> ApiError {
    let mut e = ApiError::unavailable();
    e.code = "busy";
    e.detail = "El servidor está atendiendo demasiados inicios de sesión a la vez; no se \
                comprobó ni cambió nada. Intente de nuevo en unos segundos."
        .into();
    e.retry_after = Some(2);
    e
}

impl PasswordGate {
    /// Run `work` with a hashing buffer on a blocking thread, once a permit is free.
    async fn run<T: Send + 'static>(
        &'static self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let queued = InQueue(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            return Err(busy());
        }
        let permit = tokio::time::timeout(MAX_QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(ApiError::internal)?;
        drop(queued);
        // The permit and the buffer travel with the blocking work, so a caller that hangs up
        // mid-hash neither frees a permit early nor loses the buffer.
        tokio::task::spawn_blocking(move || {
            let mut buffer = self
                .buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_else(|| vec![Block::default(); params().block_count()]);
            let out = work(&mut buffer);
            self.buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(buffer);
            drop(permit);
            out
        })
        .await
        .map_err(ApiError::internal)
    }
}

/// Hash a password (through the gate: 503 `busy` when too many are waiting).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    GATE.run(
        move |blocks| -> Result<String, argon2::password_hash::Error> {
            let mut salt_bytes = [0u8; 16];
            rand::rng().fill_bytes(&mut salt_bytes);
            let salt = SaltString::encode_b64(&salt_bytes)?;
            let argon = argon2();
            let hash = Output::init_with(32, |out| {
                Ok(argon.hash_password_into_with_memory(
                    password.as_bytes(),
                    &salt_bytes,
                    out,
                    &mut blocks[..],
                )?)
            })?;
            Ok(PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params())?,
                salt: Some(salt.as_salt()),
                hash: Some(hash),
            }
            .to_string())
        },
    )
    .await?
    .map_err(ApiError::internal)
}

/// Verify a password against a stored PHC hash; a malformed hash never verifies. Through the
/// gate: 503 `busy` when too many are waiting.
pub async fn verify_password(hash: String, password: String) -> Result<bool, ApiError> {
    GATE.run(move |blocks| {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        // A hash made with more memory than today's (a future change of parameters) gets a
        // buffer of its own.
        let mut own = Vec::new();
        let memory: &mut [Block] = if params.block_count() <= blocks.len() {
            &mut blocks[..]
        } else {
            own.resize(params.block_count(), Block::default());
            &mut own[..]
        };
        let argon = Argon2::new(algorithm, version, params);
        Output::init_with(expected.len(), |out| {
            Ok(argon.hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                out,
                &mut *memory,
            )?)
        })
        // `Output`'s equality is constant-time.
        .is_ok_and(|got| got == expected)
    })
    .await
}

/// A real hash of nothing, verified against when the e-mail is unknown (or the account is
/// deactivated) so that every refusal takes the same time.
async fn dummy_hash() -> Result<String, ApiError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = hash_password("not a password of anyone".to_string()).await?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

// ---------------------------------------------------------------------------------------------
// Throttling

/// Where a request comes from: the socket peer or, behind a trusted proxy
/// (`VEREDA_TRUSTED_PROXY`), the last `X-Forwarded-For` hop, which that proxy appended (earlier
/// hops are whatever the client wrote). IPv6 clients are counted by their /64, which one
/// subscriber usually holds whole.
pub fn client_address(req: &Request, trusted_proxy: bool) -> String {
    let forwarded = || {
        let last_header = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()?;
        let last_hop = last_header.to_str().ok()?.rsplit(',').next()?;
        last_hop.trim().parse::<IpAddr>().ok()
    };
    let ip = trusted_proxy
        .then(forwarded)
        .flatten()
        .or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()));
    match ip {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Some(ip) => ip.to_string(),
        None => "unknown".to_string(),
    }
}

/// One throttled thing: a hashed key, how many attempts it allows per window, and whether
/// going over locks it for [`throttle::LOCK_SECS`] or only refuses while it is over.
pub struct Limit {
    pub key: String,
    pub max: i64,
    pub locks: bool,
    /// The account this row counts against (SHA-256 of `account:<e-mail>`), so a password
    /// reset can lift its locks from every address ([`clear_account_locks`]).
    pub account: Option<String>,
}

impl Limit {
    fn policy(&self) -> Policy {
        Policy {
            max: self.max,
            locks: self.locks,
        }
    }
}

/// Count one attempt against every limit before anything is checked, in one statement that
/// both counts and says whether the caller is over (so simultaneous attempts each see the
/// count the others left, and no more than `max` of them get through); the counting is
/// [`Counter::count`], the judging [`Counter::refusal`]. Returns the first refusing limit's
/// index and the seconds until it opens; the other limits' counts are given back then.
pub(crate) async fn count_attempt(
    db: &Db,
    limits: &[Limit],
    now: i64,
) -> Result<Option<(usize, u64)>, ApiError> {
    let counters = count_in_db(db, limits, now).await?;
    let refusal = limits.iter().enumerate().find_map(|(i, l)| {
        let (_, counter) = counters.iter().find(|(key, _)| *key == l.key)?;
        let refusal = counter.refusal(l.policy(), now)?;
        Some((i, refusal.retry_after()))
    });
    if let Some((refused, _)) = refusal {
        // Not checked: the limits that let it through do not count it.
        for (i, l) in limits.iter().enumerate() {
            if i != refused {
                refund_attempt(db, &l.key).await?;
            }
        }
    }
    Ok(refusal)
}

/// [`Counter::count`] as one upsert of every limit's row, answering the counters it left.
/// Binds: keys `$1..$n`, now, the stale-before instant, the maxima, the lock ends (NULL for
/// limits that do not lock), the account keys.
fn count_sql(n: usize) -> String {
    let values: Vec<String> = (1..=n)
        .map(|i| format!("(${i}, 1, ${}, NULL, ${})", n + 1, 3 * n + 2 + i))
        .collect();
    let per_key = |first: usize| -> String {
        let cases: String = (1..=n)
            .map(|i| format!(" WHEN ${i} THEN ${}", first + i))
            .collect();
        format!("(CASE login_throttle.email_hash{cases} END)")
    };
    let (max, lock) = (per_key(n + 2), per_key(2 * n + 2));
    // `Counter::is_stale`: the window has passed and no lock holds; the row starts over.
    let fresh = format!(
        "(login_throttle.window_start <= ${} AND (login_throttle.locked_until IS NULL \
         OR login_throttle.locked_until <= ${}))",
        n + 2,
        n + 1
    );
    format!(
        "INSERT INTO login_throttle (email_hash, failures, window_start, locked_until, \
         account_hash) VALUES {} \
         ON CONFLICT (email_hash) DO UPDATE SET \
           account_hash = COALESCE(excluded.account_hash, login_throttle.account_hash), \
           failures = CASE WHEN {fresh} THEN 1 \
                           WHEN login_throttle.failures > {max} THEN login_throttle.failures \
                           ELSE login_throttle.failures + 1 END, \
           locked_until = CASE WHEN {fresh} THEN NULL \
                               WHEN login_throttle.locked_until > ${now} THEN login_throttle.locked_until \
                               WHEN login_throttle.failures + 1 > {max} THEN {lock} \
                               ELSE NULL END, \
           window_start = CASE WHEN {fresh} THEN ${now} ELSE login_throttle.window_start END \
         RETURNING email_hash, failures, window_start, locked_until",
        values.join(", "),
        now = n + 1,
    )
}

/// Count the attempt in every limit's row; each key with the counter it now holds. (Public
/// so a test can hold the SQL to [`Counter::count`] on both databases.)
pub async fn count_in_db(
    db: &Db,
    limits: &[Limit],
    now: i64,
) -> Result<Vec<(String, Counter)>, ApiError> {
    let sql = count_sql(limits.len());
    type Row = (String, i64, i64, Option<i64>);
    let rows: Vec<Row> = on_db!(db, |p| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
        for l in limits {
            q = q.bind(&l.key);
        }
        q = q.bind(now).bind(now - throttle::WINDOW_SECS);
        for l in limits {
            q = q.bind(l.max);
        }
        for l in limits {
            q = q.bind(l.locks.then_some(now + throttle::LOCK_SECS));
        }
        for l in limits {
            q = q.bind(l.account.as_deref());
        }
        q.fetch_all(p).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(key, attempts, window_start, locked_until)| {
            let counter = Counter {
                attempts,
                window_start,
                locked_until,
            };
            (key, counter)
        })
        .collect())
}

/// Take back an attempt counted for nothing (the check never ran, or it succeeded and the
/// limit counts failures only).
pub async fn refund_attempt(db: &Db, key: &str) -> Result<(), ApiError> {
    on_db!(db, |p| sqlx::query(
        "UPDATE login_throttle SET failures = failures - 1 WHERE email_hash = $1 AND failures > 0"
    )
    .bind(key)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The key of an account in `login_throttle.account_hash`.
pub fn account_key(email: &str) -> String {
    sha256_hex(&format!("account:{email}"))
}

/// Lift every sign-in lock of an account, from whatever address (a password was reset), and
/// its count of wrong current passwords.
pub async fn clear_account_locks(tx: &mut Tx, email: &str, user_id: &str) -> Result<(), ApiError> {
    vereda_store::exec!(
        tx,
        sqlx::query("DELETE FROM login_throttle WHERE account_hash = $1 OR email_hash = $2")
            .bind(account_key(email))
            .bind(sha256_hex(&format!("password:{user_id}")))
    )?;
    Ok(())
}

async fn clear_attempts(db: &Db, key: &str) -> Result<(), ApiError> {
    on_db!(db, |p| sqlx::query(
        "DELETE FROM login_throttle WHERE email_hash = $1"
    )
    .bind(key)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Check a signed-in user's `current_password` (password change, payout method change),
/// throttled per account like sign-in: counted before it is checked, 429 once over.
pub async fn check_current_password(
    state: &AppState,
    user_id: &str,
    password: &str,
    field: &str,
) -> Result<(), ApiError> {
    let db = &state.db;
    let now = time::unix(time::now());
    let limit = Limit {
        key: sha256_hex(&format!("password:{user_id}")),
        max: MAX_PASSWORD_CHECKS,
        locks: true,
        account: None,
    };
    if let Some((_, secs)) = count_attempt(db, std::slice::from_ref(&limit), now).await? {
        let mut e = ApiError::too_many_attempts(secs);
        e.detail = format!(
            "Demasiados intentos con una contraseña equivocada. Intente de nuevo en {} minutos.",
            throttle::minutes(secs)
        );
        e.field = Some(field.to_string());
        return Err(e);
    }
    let current: String = on_db!(db, |p| sqlx::query_scalar(
        "SELECT password_hash FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_one(p)
    .await)?;
    match verify_password(current, password.to_string()).await {
        Ok(true) => clear_attempts(db, &limit.key).await,
        Ok(false) => {
            let mut e = ApiError::invalid(field, "is not your current password");
            e.code = "wrong_password";
            Err(e)
        }
        Err(e) => {
            refund_attempt(db, &limit.key).await?;
            Err(e)
        }
    }
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
    pub deactivated_at: Option<i64>,
}

/// A valid token's user, and a worker's skills.
#[derive(sqlx::FromRow)]
struct TokenRow {
    #[sqlx(flatten)]
    user: UserRow,
    worker_skills: Option<String>,
    expires_at: i64,
}

pub const USER_COLUMNS: &str =
    "id, email, name, role, company_id, member_role, worker_id, deactivated_at";

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
            deactivated_at: self.deactivated_at.map(time::from_unix),
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

    /// Forget some tokens (an account deactivated or signed out everywhere).
    pub fn forget_many(&self, token_hashes: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.forgets
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        for h in token_hashes {
            entries.remove(h);
        }
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
        return funder_fenced(req, principal);
    }
    // Taken before the query: a token forgotten while it runs is not remembered stale.
    let (checked, forgets) = (std::time::Instant::now(), state.tokens.forgets());
    let sql = format!(
        "SELECT u.{}, {} AS worker_skills, t.expires_at FROM auth_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
         AND u.deactivated_at IS NULL",
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
    funder_fenced(req, principal)
}

/// What a funder account may reach: the impact report and its own account. Every handler
/// also refuses roles it does not name; this fence keeps a handler that forgets from
/// showing a funder anything else.
const FUNDER_PATHS: &[&str] = &[
    "/v1/reports/impact",
    "/v1/reports/impact/csv",
    "/v1/reports/impact/pdf",
    "/v1/me",
    "/v1/me/password",
    "/v1/auth/logout",
];

fn funder_fenced(req: &Request, principal: Principal) -> poem::Result<Principal> {
    if principal.role == Role::Funder && !FUNDER_PATHS.contains(&req.uri().path()) {
        return Err(ApiError::forbidden("A funder account reads the impact report only.").into());
    }
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
    /// When the account was deactivated (it can no longer sign in); absent while active.
    #[oai(skip_serializing_if_is_none)]
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// Revoke every live token of `user_id` in `tx`; returns their hashes, for
/// [`TokenCache::forget_many`] once the transaction commits.
pub async fn revoke_all_tokens(
    tx: &mut Tx,
    user_id: &str,
    now: i64,
) -> Result<Vec<String>, ApiError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE auth_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
         RETURNING token_hash"
    )
    .bind(now)
    .bind(user_id)
    .fetch_all(&mut *c)
    .await)?)
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
pub enum WebLoginOk {
    /// Signed in: the session is in the `vereda_session` cookie.
    #[oai(status = 200)]
    Ok(
        Json<Me>,
        /// `vereda_session=<token>; HttpOnly; SameSite=Strict; Path=/; Max-Age=<s>` (and
        /// `Secure` behind HTTPS).
        #[oai(header = "Set-Cookie")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum SignedOut {
    /// Signed out. A session held in the `vereda_session` cookie is also cleared.
    #[oai(status = 204)]
    Done(
        /// `vereda_session=; …; Max-Age=0` when the request came with the cookie.
        #[oai(header = "Set-Cookie")]
        Option<String>,
    ),
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

// ---------------------------------------------------------------------------------------------
// The web app's sign-in cookie

/// Name of the cookie that holds a web session's token.
pub const SESSION_COOKIE: &str = "vereda_session";

/// Put in a request's extensions when it was authenticated by the session cookie.
#[derive(Debug, Clone, Copy)]
pub struct CookieSession;

fn secure_attribute(settings: &vereda_store::config::Settings) -> &'static str {
    if settings.public_url_is_https() {
        "; Secure"
    } else {
        ""
    }
}

/// The session token in a request's `Cookie` headers, if any.
fn session_cookie_value(req: &Request) -> Option<String> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_string())
        })
}

/// Whether a request's `Origin` (when it has one) is Vereda's own: the public address's origin
/// or the `Host` the request was sent to. A browser always sends `Origin` on a cross-site POST
/// and a page cannot forge it, nor the `Host` of the server it talks to.
fn origin_is_ours(req: &Request, settings: &vereda_store::config::Settings) -> bool {
    let Some(origin) = req.headers().get(poem::http::header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().to_ascii_lowercase();
    if origin == settings.public_origin() {
        return true;
    }
    let host = req
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match (host, origin.split_once("://")) {
        (Some(host), Some((scheme, authority))) => {
            matches!(scheme, "http" | "https") && authority == host.to_ascii_lowercase()
        }
        _ => false,
    }
}

/// Middleware: a request with the session cookie and no `Authorization` header is treated as
/// if it carried the cookie's token as a bearer token, once it passes the CSRF check: an unsafe
/// method (POST, PUT, PATCH, DELETE) needs `X-Requested-With: vereda` and, when an `Origin` is
/// sent, Vereda's own origin; otherwise 403 `csrf_refused` before any handler runs. Requests
/// with a bearer token are left as they are.
pub async fn session_cookie<E: poem::Endpoint>(
    next: Arc<E>,
    mut req: Request,
) -> poem::Result<poem::Response> {
    use poem::IntoResponse;
    use poem::http::{HeaderValue, Method, header};
    // Routes that take no session leave the cookie alone: a stale cookie (signed out
    // everywhere) must not stand between her and signing in again. The web sign-in checks
    // the `Origin` itself.
    const SESSIONLESS: &[&str] = &[
        "/v1/auth/login",
        "/v1/auth/web-login",
        "/v1/auth/password-reset",
        "/v1/auth/password-reset/confirm",
    ];
    if req.headers().contains_key(header::AUTHORIZATION) || SESSIONLESS.contains(&req.uri().path())
    {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let Some(token) = session_cookie_value(&req) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if unsafe_method {
        let requested_with = req
            .headers()
            .get("x-requested-with")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("vereda"));
        let own_origin = match req.data::<AppState>() {
            Some(state) => origin_is_ours(&req, &state.settings),
            None => false,
        };
        if !requested_with || !own_origin {
            tracing::warn!("cookie request refused by the CSRF check");
            return Ok(ApiError::csrf_refused().into_response());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
        req.headers_mut().insert(header::AUTHORIZATION, value);
        req.extensions_mut().insert(CookieSession);
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Check an e-mail and password (throttled, the same answer for every refusal) and open a
/// session: the token, when it expires, and the user.
async fn sign_in(
    state: &AppState,
    req: &Request,
    body: LoginRequest,
) -> Result<(String, i64, UserRow), ApiError> {
    let email = Email::parse(&body.email).map_err(|e| ApiError::invalid("email", e))?;
    if body.password.len() > identity::MAX_SIGN_IN_PASSWORD_BYTES {
        return Err(ApiError::invalid("password", "is too long"));
    }
    let db = &state.db;
    let now = time::unix(time::now());
    let limits = sign_in_limits(&email, &client_address(req, state.settings.trusted_proxy));
    if let Some((refused, secs)) = count_attempt(db, &limits, now).await? {
        return Err(sign_in_throttled(refused, secs));
    }
    let found = find_credentials(db, &email).await?;
    // A deactivated account is checked like any other, then refused like a wrong password.
    let hash = found.as_ref().map(|(_, hash)| hash.clone());
    let verified = match verify_or_pretend(hash, body.password).await {
        Ok(v) => v,
        Err(e) => {
            // Not checked: the attempt does not count.
            for l in &limits {
                refund_attempt(db, &l.key).await?;
            }
            return Err(e);
        }
    };
    let deactivated = found
        .as_ref()
        .is_some_and(|(u, _)| u.deactivated_at.is_some());
    let verdict = identity::sign_in_verdict(found.is_some(), verified, deactivated);
    let (Ok(()), Some((user, _))) = (verdict, found) else {
        tracing::info!("sign-in refused");
        return Err(ApiError::invalid_credentials());
    };
    // The address limit counts failures: give back this attempt, but only this one (a
    // sign-in to an account of one's own must not clear the guesses made before it).
    refund_attempt(db, &limits[0].key).await?;
    clear_attempts(db, &limits[1].key).await?;
    let (token, expires_at) = open_session(state, &user.id, now).await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok((token, expires_at, user))
}
/// The sign-in limits, address first so every request locks the rows in the same order.
fn sign_in_limits(email: &Email, address: &str) -> [Limit; 2] {
    [
        Limit {
            key: sha256_hex(&format!("login-address:{address}")),
            max: MAX_PER_ADDRESS,
            locks: false,
            account: None,
        },
        Limit {
            key: sha256_hex(&format!("login:{}|{address}", email.as_str())),
            max: MAX_PER_EMAIL_AND_ADDRESS,
            locks: true,
            account: Some(account_key(email.as_str())),
        },
    ]
}

/// 429 for a throttled sign-in; the address limit (index 0) says it is about the connection.
fn sign_in_throttled(refused: usize, secs: u64) -> ApiError {
    let mut e = ApiError::too_many_attempts(secs);
    if refused == 0 {
        e.detail = format!(
            "Demasiados inicios de sesión fallidos desde su conexión. Intente de nuevo \
             en {} minutos.",
            throttle::minutes(secs)
        );
    }
    e
}

/// The account with this e-mail, and its password hash.
async fn find_credentials(db: &Db, email: &Email) -> Result<Option<(UserRow, String)>, ApiError> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
    Ok(on_db!(db, |p| {
        use sqlx::Row;
        sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(email.as_str())
            .fetch_optional(p)
            .await?
            .map(|r| -> Result<_, sqlx::Error> {
                Ok((
                    <UserRow as sqlx::FromRow<_>>::from_row(&r)?,
                    r.try_get("password_hash")?,
                ))
            })
            .transpose()
    })?)
}

/// Verify a password against an account's hash, or against a stand-in when there is no
/// account, so that every refusal takes the same time.
async fn verify_or_pretend(hash: Option<String>, password: String) -> Result<bool, ApiError> {
    let hash = match hash {
        Some(hash) => hash,
        None => dummy_hash().await?,
    };
    verify_password(hash, password).await
}

/// Store a new session of `user_id`: its token and when it expires.
async fn open_session(
    state: &AppState,
    user_id: &str,
    now: i64,
) -> Result<(String, i64), ApiError> {
    let token = new_token();
    let expires_at = now + state.settings.token_ttl.as_secs() as i64;
    on_db!(&state.db, |p| {
        sqlx::query(
            "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(sha256_hex(&token))
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok((token, expires_at))
}

pub struct AuthApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in
    ///
    /// Exchanges an e-mail and password for a bearer token. Wrong credentials answer 401 the
    /// same way whether or not the e-mail exists (or the account is deactivated). Attempts are
    /// limited per e-mail and client address, and per client address (429 with `Retry-After`);
    /// 503 `busy` with `Retry-After` when too many sign-ins are being checked at once.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<LoginRequest>,
    ) -> Result<LoginOk, ApiError> {
        let JsonBody(body) = body;
        let (token, expires_at, user) = sign_in(&state, req, body).await?;
        Ok(LoginOk::Ok(Json(LoginResponse {
            token,
            expires_at: time::from_unix(expires_at),
            user: user.into_me(),
        })))
    }

    /// Sign in from the web app
    ///
    /// The same check and limits as `POST /v1/auth/login`, but the session comes back as an
    /// `HttpOnly; SameSite=Strict` cookie `vereda_session` (`Secure` when the public address is
    /// HTTPS) that no script can read, and the body is the signed-in user, as `GET /v1/me`
    /// answers it. Requests may then authenticate with that cookie instead of the
    /// `Authorization` header; a cookie request with POST, PUT, PATCH or DELETE must carry
    /// `X-Requested-With: vereda` and, when it has an `Origin`, come from Vereda's own origin,
    /// or it is refused with 403 `csrf_refused` and changes nothing. A sign-in whose `Origin`
    /// is another site's is refused the same way.
    #[oai(path = "/auth/web-login", method = "post")]
    async fn web_login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<LoginRequest>,
    ) -> Result<WebLoginOk, ApiError> {
        if !origin_is_ours(req, &state.settings) {
            return Err(ApiError::csrf_refused());
        }
        let JsonBody(body) = body;
        let (token, _, user) = sign_in(&state, req, body).await?;
        let max_age = state.settings.token_ttl.as_secs();
        let cookie = format!(
            "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{}",
            secure_attribute(&state.settings)
        );
        Ok(WebLoginOk::Ok(Json(user.into_me()), cookie))
    }

    /// Sign out
    ///
    /// Revokes the token used for this request.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: BearerAuth,
    ) -> Result<SignedOut, ApiError> {
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
        // Signed in with the cookie: the browser forgets it too.
        let clear = req.extensions().get::<CookieSession>().map(|_| {
            format!(
                "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
                secure_attribute(&state.settings)
            )
        });
        Ok(SignedOut::Done(clear))
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
            deactivated_at: None,
        })))
    }
}
