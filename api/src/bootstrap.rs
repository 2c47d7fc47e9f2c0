//! The first admin: created on an empty database from `VEREDA_ADMIN_EMAIL` /
//! `VEREDA_ADMIN_PASSWORD`, or with a generated password that is shown once.

use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use vereda_contracts::identity::Role;
use vereda_contracts::time;
use vereda_store::config::Settings;
use vereda_store::db::Db;
use vereda_store::on_db;

use crate::accounts::new_id;
use crate::auth::hash_password;

pub const DEFAULT_ADMIN_EMAIL: &str = "admin@vereda.local";

/// The admin this start created, if it created one.
#[derive(Clone)]
pub struct FirstAdmin {
    pub email: String,
    /// Set only when the password was generated here; shown to the operator once.
    pub generated_password: Option<String>,
}

impl std::fmt::Debug for FirstAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstAdmin")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

pub async fn ensure_first_admin(
    db: &Db,
    settings: &Settings,
) -> anyhow::Result<Option<FirstAdmin>> {
    let admins: i64 = on_db!(db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = $1"
    )
    .bind(Role::Admin.as_str())
    .fetch_one(p)
    .await)?;
    if admins > 0 {
        return Ok(None);
    }
    let email = settings
        .admin_email
        .clone()
        .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_string())
        .trim()
        .to_lowercase();
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.expose().to_string(), false),
        None => {
            let mut bytes = [0u8; 18];
            rand::rng().fill_bytes(&mut bytes);
            (
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
                true,
            )
        }
    };
    // Start-up waits its turn: the gate answers "busy" to sign-ins queued past 10 s, but a
    // process starting beside many others (tests, a fleet restarting) must not fail for it.
    let hash = loop {
        match hash_password(password.clone()).await {
            Err(e) if e.code == "busy" => tokio::time::sleep(Duration::from_millis(200)).await,
            other => {
                break other.map_err(|e| anyhow::anyhow!("hashing the admin password: {e}"))?;
            }
        }
    };
    let now = time::unix(time::now());
    // Two processes starting together both see no admin; the unique e-mail lets one win.
    let inserted = on_db!(db, |p| sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email) DO NOTHING"
    )
    .bind(new_id())
    .bind(&email)
    .bind("Administración Vereda")
    .bind(&hash)
    .bind(Role::Admin.as_str())
    .bind(now)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(None);
    }
    tracing::info!("first admin created");
    Ok(Some(FirstAdmin {
        email,
        generated_password: generated.then_some(password),
    }))
}
