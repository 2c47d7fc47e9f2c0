//! User accounts: creating users of every role, platform staff, and changing one's password.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use vereda_contracts::accounts::{
    AccountAction, AccountRefusal, Effect, Keepers, Person, leaves_keepers, may, reactivable,
};
use vereda_contracts::identity::{Email, MemberRole, Name, Role, check_password};
use vereda_contracts::marketplace::AssignmentStatus;
use vereda_contracts::time;
use vereda_store::db::Tx;
use vereda_store::transitions::{Bind, Move, transition};
use vereda_store::unique_keys::{UniqueKey, unique_key};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::auth::{
    BearerAuth, Me, NoContent, Principal, check_current_password, hash_password, revoke_all_tokens,
};
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
    /// `None`: the account is invited to choose its password ([`invite_if_needed`]).
    pub password: Option<String>,
}

impl NewLogin {
    /// Parse name, e-mail and password; `prefix` is the JSON path of the object holding them.
    pub fn parse(
        prefix: &str,
        name: &str,
        email: &str,
        password: Option<&str>,
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
            password: match password {
                Some(password) => {
                    check_password(password).map_err(|e| ApiError::invalid(at("password"), e))?;
                    Some(password.to_string())
                }
                None => None,
            },
        })
    }

    /// The hash to store: of the password given, or one nobody can sign in with until the
    /// invitation's link sets a password.
    pub async fn password_hash(&self) -> Result<String, ApiError> {
        match &self.password {
            Some(p) => hash_password(p.clone()).await,
            None => Ok(crate::password_links::NO_PASSWORD.to_string()),
        }
    }
}

/// An account created without a password gets its invitation e-mail, in the transaction that
/// created it.
pub async fn invite_if_needed(
    state: &AppState,
    tx: &mut Tx,
    login: &NewLogin,
    user_id: &str,
    role: Role,
    inviter: &Principal,
) -> Result<(), ApiError> {
    if login.password.is_some() {
        return Ok(());
    }
    crate::password_links::invite(
        state,
        tx,
        user_id,
        login.email.as_str(),
        login.name.as_str(),
        role,
        &inviter.name,
        time::unix(time::now()),
    )
    .await
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
        Err(e) if unique_key(&e) == Some(UniqueKey::UserEmail) => {
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
    /// Read-only: the impact report and nothing else.
    Funder,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CreateStaff {
    pub name: String,
    pub email: String,
    /// At least 12 characters. Leave it out to e-mail an invitation instead: a link, valid 7
    /// days, with which the person chooses her own password.
    #[oai(skip_serializing_if_is_none)]
    pub password: Option<String>,
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
        let login = NewLogin::parse("", &req.name, &req.email, req.password.as_deref())?;
        let role = match req.role {
            StaffRole::Admin => Role::Admin,
            StaffRole::Finance => Role::Finance,
            StaffRole::Funder => Role::Funder,
        };
        let hash = login.password_hash().await?;
        let mut tx = state.db.begin().await?;
        let id = insert_user(&mut tx, &login, &hash, Membership::Staff(role), "email").await?;
        invite_if_needed(&state, &mut tx, &login, &id, role, &auth.0).await?;
        tx.commit().await?;
        tracing::info!(user_id = %id, role = role.as_str(), by = %auth.0.user_id, "staff user created");
        Ok(UserCreated::Created(Json(load_me(&state, &id).await?)))
    }

    /// Deactivate an account (admin: anyone; a company owner: her company's members)
    ///
    /// The account can no longer sign in (a sign-in answers as for a wrong password) and every
    /// token of it stops working at once. A worker's open claims are released (the slots go
    /// back to the task); her submitted work, money and history stay. A company is never left
    /// without an active owner (409 `last_owner`). Deactivating again changes nothing.
    #[oai(path = "/users/:id/deactivate", method = "post")]
    async fn deactivate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        act_on_account(&state, &auth.0, &id.0, AccountAction::Deactivate, None).await?;
        Ok(NoContent::Done)
    }

    /// Reactivate an account (admin)
    ///
    /// A deactivated account may sign in again with its password (its sessions stay ended;
    /// claims released stay released). A member her company removed is not reactivated (409
    /// `member_removed`). Reactivating an active account changes nothing.
    #[oai(path = "/users/:id/reactivate", method = "post")]
    async fn reactivate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        act_on_account(&state, &auth.0, &id.0, AccountAction::Reactivate, None).await?;
        Ok(NoContent::Done)
    }

    /// Sign a person out everywhere (herself; a company owner: her members; admin: anyone)
    ///
    /// Revokes every token of the account, the caller's own too when it is hers.
    #[oai(path = "/users/:id/sign-out", method = "post")]
    async fn sign_out_everywhere(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        act_on_account(
            &state,
            &auth.0,
            &id.0,
            AccountAction::SignOutEverywhere,
            None,
        )
        .await?;
        Ok(NoContent::Done)
    }

    /// Change my password
    ///
    /// Needs the current password (wrong guesses are limited as for sign-in: 429). Every other
    /// token of the account is revoked.
    #[oai(path = "/me/password", method = "post")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ChangePassword>,
    ) -> Result<NoContent, ApiError> {
        let req = body.0;
        check_password(&req.new_password).map_err(|e| ApiError::invalid("new_password", e))?;
        check_current_password(
            &state,
            &auth.0.user_id,
            &req.current_password,
            "current_password",
        )
        .await?;
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

/// The target of an account action, as stored.
#[derive(sqlx::FromRow)]
struct TargetRow {
    id: String,
    role: String,
    company_id: Option<String>,
    member_role: Option<String>,
    worker_id: Option<String>,
    deactivated_at: Option<i64>,
    removed_at: Option<i64>,
}

impl TargetRow {
    fn person(&self) -> Result<Person<'_>, ApiError> {
        Ok(Person {
            user_id: &self.id,
            role: Role::parse(&self.role).ok_or_else(|| ApiError::internal("unknown role"))?,
            company_id: self.company_id.as_deref(),
            member_role: self.member_role.as_deref().and_then(MemberRole::parse),
        })
    }
}

const TARGET_COLUMNS: &str = "SELECT id, role, company_id, member_role, worker_id, \
     deactivated_at, removed_at FROM users WHERE id = $1";

fn refused(r: AccountRefusal, action: AccountAction) -> ApiError {
    match r {
        AccountRefusal::NotYours | AccountRefusal::NotAMember => match action {
            AccountAction::RemoveMember => ApiError::not_found("member of this company"),
            _ => ApiError::not_found("user"),
        },
        AccountRefusal::Forbidden => {
            ApiError::forbidden("Esta cuenta no la administra usted; no se cambió nada.")
        }
        AccountRefusal::LastAdmin => ApiError::conflict(
            r.code(),
            "La plataforma quedaría sin un administrador activo; no se cambió nada.",
        ),
        AccountRefusal::LastOwner => ApiError::conflict(
            r.code(),
            "La empresa quedaría sin un propietario activo. Agregue otro propietario antes; no \
             se cambió nada.",
        ),
        AccountRefusal::RemovedMember => ApiError::conflict(
            r.code(),
            "Su empresa retiró a esta persona: no se reactiva; la empresa puede agregarla de \
             nuevo como miembro.",
        ),
    }
}

/// Deactivate, remove from `company`, or sign out everywhere: checked against the rules in
/// `contracts::accounts`, written with its audit row in one transaction that first locks the
/// target's company row (two owners removing each other at once are served one after the
/// other, and the second finds the last owner), then every token of the target is forgotten.
pub(crate) async fn act_on_account(
    state: &AppState,
    actor: &Principal,
    target_id: &str,
    action: AccountAction,
    company: Option<&str>,
) -> Result<(), ApiError> {
    let me = Person {
        user_id: &actor.user_id,
        role: actor.role,
        company_id: actor.company_id.as_deref(),
        member_role: actor.member_role,
    };
    let target: Option<TargetRow> = on_db!(&state.db, |p| sqlx::query_as(TARGET_COLUMNS)
        .bind(target_id)
        .fetch_optional(p)
        .await)?;
    let target = target.ok_or_else(|| refused(AccountRefusal::NotYours, action))?;
    may(&me, &target.person()?, action, company).map_err(|r| refused(r, action))?;

    let now = time::unix(time::now());
    let mut tx = state.db.begin().await?;
    let (target, keepers) = lock_target(&mut tx, &target).await?;
    let active = target.deactivated_at.is_none();
    leaves_keepers(&target.person()?, active, action, keepers).map_err(|r| refused(r, action))?;
    // A worker account is closed (removed) only when her personal data is deleted.
    if action == AccountAction::Reactivate
        && target.worker_id.is_some()
        && target.removed_at.is_some()
    {
        return Err(crate::data_requests::anonymised());
    }
    reactivable(action, target.removed_at.is_some()).map_err(|r| refused(r, action))?;
    let effect = action.effect(target.deactivated_at.is_some(), target.removed_at.is_some());
    apply_effect(&mut tx, target_id, action, effect, &actor.user_id, now).await?;
    if effect.deactivates
        && let Some(worker_id) = &target.worker_id
    {
        release_claims(&mut tx, worker_id, &actor.user_id, now).await?;
    }
    let revoked = revoke_all_tokens(&mut tx, target_id, now).await?;
    tx.commit().await?;
    state.tokens.forget_many(&revoked);
    tracing::info!(user_id = %target_id, by = %actor.user_id, action = action.event_kind(), "account action");
    Ok(())
}

/// Lock what an action on `target` must not race with (her company's row; the admins' rows
/// when she is an admin: two admins deactivating each other at once are served one after the
/// other, and the second finds the last), then read her again and count her keepers under
/// those locks: what another request changed meanwhile counts.
async fn lock_target(tx: &mut Tx, target: &TargetRow) -> Result<(TargetRow, Keepers), ApiError> {
    if let Some(company_id) = &target.company_id {
        vereda_store::locks::company(tx, company_id).await?;
    }
    if target.role == Role::Admin.as_str() {
        vereda_store::locks::admins(tx).await?;
    }
    if let Some(worker_id) = &target.worker_id {
        vereda_store::locks::worker(tx, worker_id).await?;
    }
    let target: TargetRow = on_tx!(tx, |c| sqlx::query_as(TARGET_COLUMNS)
        .bind(&target.id)
        .fetch_one(&mut *c)
        .await)?;
    let mut keepers = Keepers::default();
    if let Some(company_id) = &target.company_id {
        keepers.active_owners = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE company_id = $1 AND member_role = 'owner' \
             AND deactivated_at IS NULL"
        )
        .bind(company_id)
        .fetch_one(&mut *c)
        .await)?;
    }
    if target.role == Role::Admin.as_str() {
        keepers.active_admins = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND deactivated_at IS NULL"
        )
        .fetch_one(&mut *c)
        .await)?;
    }
    Ok((target, keepers))
}

/// Write what an action changes, and its audit row when anything did.
async fn apply_effect(
    tx: &mut Tx,
    target_id: &str,
    action: AccountAction,
    effect: Effect,
    actor_id: &str,
    now: i64,
) -> Result<(), ApiError> {
    if effect.deactivates {
        vereda_store::exec_one!(
            tx,
            sqlx::query(
                "UPDATE users SET deactivated_at = COALESCE(deactivated_at, $1), \
             removed_at = CASE WHEN $2 THEN COALESCE(removed_at, $1) ELSE removed_at END, \
             updated_at = $1 WHERE id = $3"
            )
            .bind(now)
            .bind(effect.removes)
            .bind(target_id)
        )?;
    }
    if effect.reactivates {
        vereda_store::exec_one!(
            tx,
            sqlx::query(
                "UPDATE users SET deactivated_at = NULL, updated_at = $1 \
                 WHERE id = $2 AND removed_at IS NULL"
            )
            .bind(now)
            .bind(target_id)
        )?;
    }
    if effect.changed {
        vereda_store::exec_one!(
            tx,
            sqlx::query(
                "INSERT INTO account_events (id, user_id, kind, actor_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(new_id())
            .bind(target_id)
            .bind(action.event_kind())
            .bind(actor_id)
            .bind(now)
        )?;
    }
    Ok(())
}

/// Release a deactivated worker's open claims (claimed, or sent back for changes): their
/// slots go back to the task board, a timer on them stops. Submitted work waits for its
/// review as before, and what she earned stays hers. The worker's row is locked (by
/// `lock_target`).
async fn release_claims(
    tx: &mut Tx,
    worker_id: &str,
    actor: &str,
    now: i64,
) -> Result<(), ApiError> {
    debug_assert_eq!(
        AssignmentStatus::sql_list(AssignmentStatus::is_active),
        "('claimed', 'changes_requested')"
    );
    let open: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, status FROM assignments WHERE worker_id = $1 \
         AND status IN ('claimed', 'changes_requested') ORDER BY id"
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await)?;
    for (assignment_id, status) in open {
        vereda_store::locks::assignment(tx, &assignment_id).await?;
        let m = Move {
            assignment_id: &assignment_id,
            from: AssignmentStatus::parse(&status).unwrap_or(AssignmentStatus::Claimed),
            to: AssignmentStatus::Released,
            actor: Some(actor),
            action: "account_deactivated",
            reason: Some("La cuenta se desactivó: el cupo quedó libre."),
            details: None,
            at: now,
        };
        if transition(tx, &m, "ended_at = $5", &[Bind::Int(Some(now))]).await? {
            vereda_store::exec!(
                tx,
                sqlx::query("DELETE FROM running_timers WHERE assignment_id = $1")
                    .bind(&assignment_id)
            )?;
        }
    }
    Ok(())
}
