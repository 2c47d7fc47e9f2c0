//! User accounts: creating users of every role, platform staff, and changing one's password.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use vereda_contracts::db::{Tx, is_unique_violation};
use vereda_contracts::identity::{Email, Name, Role, check_password};
use vereda_contracts::{on_db, on_tx, time};

use crate::ApiTags;
use crate::auth::{BearerAuth, Me, NoContent, hash_password, verify_password};
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::startup::AppState;

/// A new id: UUIDv7, so ids sort by creation time (cursors rely on it).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The parsed sign-in part of any new account.
pub struct NewLogin {
    pub name: Name,
    pub email: Email,
    pub password: String,
}

impl NewLogin {
    /// Parse name, e-mail and password; `prefix` is the JSON path of the object holding them.
    pub fn parse(
        prefix: &str,
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<NewLogin, ApiError> {
        let at = |f: &str| {
            if prefix.is_empty() {
                f.to_string()
            } else {
                format!("{prefix}.{f}")
            }
        };
        Ok(NewLogin {
            name: Name::parse(name).map_err(|e| ApiError::invalid(at("name"), e))?,
            email: Email::parse(email).map_err(|e| ApiError::invalid(at("email"), e))?,
            password: {
                check_password(password).map_err(|e| ApiError::invalid(at("password"), e))?;
                password.to_string()
            },
        })
    }
}

/// Where a new user belongs.
pub enum Membership<'a> {
    Staff(Role),
    Company {
        company_id: &'a str,
        member_role: &'a str,
    },
    Worker {
        worker_id: &'a str,
    },
}

/// Insert a user in `tx`. A taken e-mail is 409 `email_taken`, naming `email_field`.
pub async fn insert_user(
    tx: &mut Tx,
    login: &NewLogin,
    password_hash: &str,
    membership: Membership<'_>,
    email_field: &str,
) -> Result<String, ApiError> {
    let id = new_id();
    let now = time::unix(time::now());
    let (role, company_id, member_role, worker_id) = match membership {
        Membership::Staff(role) => (role.as_str(), None, None, None),
        Membership::Company {
            company_id,
            member_role,
        } => ("company", Some(company_id), Some(member_role), None),
        Membership::Worker { worker_id } => ("worker", None, None, Some(worker_id)),
    };
    let res = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, \
         worker_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
    )
    .bind(&id)
    .bind(login.email.as_str())
    .bind(login.name.as_str())
    .bind(password_hash)
    .bind(role)
    .bind(company_id)
    .bind(member_role)
    .bind(worker_id)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected()));
    match res {
        Ok(_) => Ok(id),
        Err(e) if is_unique_violation(&e) => {
            let mut err =
                ApiError::conflict("email_taken", "An account with this e-mail already exists.");
            err.field = Some(email_field.to_string());
            Err(err)
        }
        Err(e) => Err(e.into()),
    }
}

/// Read one user as `Me`.
pub async fn load_me(state: &AppState, user_id: &str) -> Result<Me, ApiError> {
    let sql = format!(
        "SELECT {} FROM users WHERE id = $1",
        crate::auth::USER_COLUMNS
    );
    let row: crate::auth::UserRow =
        on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .fetch_one(p)
            .await)?;
    Ok(row.into_me())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Admin,
    Finance,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CreateStaff {
    pub name: String,
    pub email: String,
    /// At least 12 characters.
    pub password: String,
    pub role: StaffRole,
}

#[derive(ApiResponse)]
pub enum UserCreated {
    #[oai(status = 201)]
    Created(Json<Me>),
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
}

pub struct AccountsApi;

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Create a staff user (admin)
    ///
    /// Creates an `admin` or `finance` user.
    #[oai(path = "/staff", method = "post")]
    async fn create_staff(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateStaff>,
    ) -> Result<UserCreated, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let req = body.0;
        let login = NewLogin::parse("", &req.name, &req.email, &req.password)?;
        let role = match req.role {
            StaffRole::Admin => Role::Admin,
            StaffRole::Finance => Role::Finance,
        };
        let hash = hash_password(login.password.clone()).await?;
        let mut tx = state.db.begin().await?;
        let id = insert_user(&mut tx, &login, &hash, Membership::Staff(role), "email").await?;
        tx.commit().await?;
        tracing::info!(user_id = %id, role = role.as_str(), by = %auth.0.user_id, "staff user created");
        Ok(UserCreated::Created(Json(load_me(&state, &id).await?)))
    }

    /// Change my password
    ///
    /// Needs the current password. Every other token of the account is revoked.
    #[oai(path = "/me/password", method = "post")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ChangePassword>,
    ) -> Result<NoContent, ApiError> {
        let req = body.0;
        check_password(&req.new_password).map_err(|e| ApiError::invalid("new_password", e))?;
        let current: String = on_db!(&state.db, |p| sqlx::query_scalar(
            "SELECT password_hash FROM users WHERE id = $1"
        )
        .bind(&auth.0.user_id)
        .fetch_one(p)
        .await)?;
        if !verify_password(current, req.current_password).await {
            let mut e = ApiError::invalid("current_password", "is not your current password");
            e.code = "wrong_password";
            return Err(e);
        }
        let hash = hash_password(req.new_password).await?;
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(&hash)
                .bind(now)
                .bind(&auth.0.user_id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())?;
            sqlx::query(
                "UPDATE auth_tokens SET revoked_at = $1 \
                 WHERE user_id = $2 AND revoked_at IS NULL AND token_hash <> $3",
            )
            .bind(now)
            .bind(&auth.0.user_id)
            .bind(auth.0.token_hash())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        state.tokens.forget_all();
        Ok(NoContent::Done)
    }
}
