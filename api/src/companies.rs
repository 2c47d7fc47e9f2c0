//! Companies (client organisations) and their members.
//!
//! Admin creates a company together with its owner. Staff see every company; a company's
//! members see only their own (anyone else's answers 404); workers may not list companies.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use vereda_contracts::identity::{Email, MemberRole, Name, Nit, Role};
use vereda_contracts::money::Margin;
use vereda_contracts::time;
use vereda_store::unique_keys::{UniqueKey, unique_key};
use vereda_store::{on_db, on_tx};

use crate::ApiTags;
use crate::accounts::{Membership, NewLogin, insert_user, invite_if_needed, load_me, new_id};
use crate::auth::{BearerAuth, Me, NoContent, Principal};
use crate::body::JsonBody;
use crate::pagination::PageRequest;
use crate::problem::ApiError;
use crate::startup::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum BillingCycle {
    Monthly,
    Weekly,
}

impl BillingCycle {
    fn as_str(self) -> &'static str {
        match self {
            BillingCycle::Monthly => "monthly",
            BillingCycle::Weekly => "weekly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MemberRoleInput {
    Owner,
    Reviewer,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct NewOwner {
    pub name: String,
    pub email: String,
    /// At least 12 characters. Leave it out to e-mail an invitation instead: a link, valid 7
    /// days, with which the person chooses her own password.
    #[oai(skip_serializing_if_is_none)]
    pub password: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CreateCompany {
    pub name: String,
    /// Colombian NIT, with or without its check digit (`900123456-7`).
    pub nit: String,
    pub billing_email: String,
    /// `monthly` (default) or `weekly`.
    #[serde(default)]
    pub billing_cycle: Option<BillingCycle>,
    /// Platform margin for this company as a decimal share (`"0.15"`); default is the
    /// platform's.
    #[serde(default)]
    pub margin: Option<String>,
    pub owner: NewOwner,
}

#[derive(Debug, Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct UpdateCompany {
    #[serde(default)]
    pub name: Option<String>,
    /// Staff only.
    #[serde(default)]
    pub nit: Option<String>,
    #[serde(default)]
    pub billing_email: Option<String>,
    #[serde(default)]
    pub billing_cycle: Option<BillingCycle>,
    /// Staff only. `null` is not accepted; send the platform default to reset.
    #[serde(default)]
    pub margin: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct CreateMember {
    pub name: String,
    pub email: String,
    /// At least 12 characters. Leave it out to e-mail an invitation instead: a link, valid 7
    /// days, with which the person chooses her own password.
    #[oai(skip_serializing_if_is_none)]
    pub password: Option<String>,
    /// `owner` or `reviewer`.
    pub member_role: MemberRoleInput,
}

#[derive(Debug, Object)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub nit: String,
    pub billing_email: String,
    pub billing_cycle: String,
    /// Margin override as a decimal share; shown to platform staff only.
    #[oai(skip_serializing_if_is_none)]
    pub margin: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct CompanyList {
    pub items: Vec<Company>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct MemberList {
    pub items: Vec<Me>,
}

#[derive(ApiResponse)]
pub enum CompanyCreated {
    #[oai(status = 201)]
    Created(Json<Company>),
}

#[derive(ApiResponse)]
pub enum CompanyOk {
    #[oai(status = 200)]
    Ok(Json<Company>),
}

#[derive(ApiResponse)]
pub enum CompanyListOk {
    #[oai(status = 200)]
    Ok(Json<CompanyList>),
}

#[derive(ApiResponse)]
pub enum MemberCreated {
    #[oai(status = 201)]
    Created(Json<Me>),
}

#[derive(ApiResponse)]
pub enum MemberListOk {
    #[oai(status = 200)]
    Ok(Json<MemberList>),
}

#[derive(sqlx::FromRow)]
struct CompanyRow {
    id: String,
    name: String,
    nit: String,
    billing_email: String,
    billing_cycle: String,
    margin_bp: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const COMPANY_COLUMNS: &str =
    "id, name, nit, billing_email, billing_cycle, margin_bp, created_at, updated_at";

impl CompanyRow {
    fn view(self, viewer: &Principal) -> Company {
        Company {
            id: self.id,
            name: self.name,
            nit: self.nit,
            billing_email: self.billing_email,
            billing_cycle: self.billing_cycle,
            margin: self
                .margin_bp
                .filter(|_| viewer.is_staff())
                .and_then(Margin::from_bp)
                .map(|m| m.to_string()),
            created_at: time::from_unix(self.created_at),
            updated_at: time::from_unix(self.updated_at),
        }
    }
}

/// A margin share as basis points (0.2 → 2000); whole basis points only.
fn parse_margin(field: &str, raw: &str) -> Result<i64, ApiError> {
    Margin::parse(raw)
        .map(Margin::bp)
        .map_err(|e| ApiError::invalid(field, e.to_string()))
}

async fn fetch_company(state: &AppState, id: &str) -> Result<Option<CompanyRow>, ApiError> {
    let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = $1");
    Ok(on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .fetch_optional(p)
    .await)?)
}

/// The company if the caller may see it: staff, or one of its members. Otherwise 404 (a
/// worker gets 403: the role never sees companies).
async fn visible_company(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<CompanyRow, ApiError> {
    who.require(&[Role::Admin, Role::Finance, Role::Company])?;
    if who.role == Role::Company && who.company_id.as_deref() != Some(id) {
        return Err(ApiError::not_found("company"));
    }
    fetch_company(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("company"))
}

/// A change to a company, parsed; `None` leaves a field as it is.
struct CompanyChange {
    name: Option<Name>,
    nit: Option<Nit>,
    billing_email: Option<Email>,
    billing_cycle: Option<BillingCycle>,
    margin_bp: Option<i64>,
}

impl CompanyChange {
    /// Each field as on creation (422 naming the first at fault).
    fn parse(req: &UpdateCompany) -> Result<CompanyChange, ApiError> {
        let name = req.name.as_deref().map(Name::parse).transpose();
        let nit = req.nit.as_deref().map(Nit::parse).transpose();
        Ok(CompanyChange {
            name: name.map_err(|e| ApiError::invalid("name", e))?,
            nit: nit.map_err(|e| ApiError::invalid("nit", e))?,
            billing_email: req
                .billing_email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(|e| ApiError::invalid("billing_email", e))?,
            billing_cycle: req.billing_cycle,
            margin_bp: req
                .margin
                .as_deref()
                .map(|m| parse_margin("margin", m))
                .transpose()?,
        })
    }
}

/// Write a change; 409 `nit_taken` when another company has the NIT.
async fn store_company_change(
    state: &AppState,
    id: &str,
    change: &CompanyChange,
) -> Result<(), ApiError> {
    let res = on_db!(&state.db, |p| {
        sqlx::query(
            "UPDATE companies SET name = COALESCE($1, name), nit = COALESCE($2, nit), \
         billing_email = COALESCE($3, billing_email), billing_cycle = COALESCE($4, billing_cycle), \
         margin_bp = COALESCE($5, margin_bp), updated_at = $6 WHERE id = $7",
        )
        .bind(change.name.as_ref().map(Name::as_str))
        .bind(change.nit.as_ref().map(Nit::as_str))
        .bind(change.billing_email.as_ref().map(Email::as_str))
        .bind(change.billing_cycle.map(BillingCycle::as_str))
        .bind(change.margin_bp)
        .bind(time::unix(time::now()))
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    });
    match res {
        Ok(_) => Ok(()),
        Err(e) if unique_key(&e) == Some(UniqueKey::CompanyNit) => {
            let mut err =
                ApiError::conflict("nit_taken", "A company with this NIT already exists.");
            err.field = Some("nit".into());
            Err(err)
        }
        Err(e) => Err(e.into()),
    }
}

pub struct CompaniesApi;

#[OpenApi(prefix_path = "/v1/companies", tag = "ApiTags::Companies")]
impl CompaniesApi {
    /// Create a company and its owner (admin)
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateCompany>,
    ) -> Result<CompanyCreated, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let req = body.0;
        let name = Name::parse(&req.name).map_err(|e| ApiError::invalid("name", e))?;
        let nit = Nit::parse(&req.nit).map_err(|e| ApiError::invalid("nit", e))?;
        let billing_email =
            Email::parse(&req.billing_email).map_err(|e| ApiError::invalid("billing_email", e))?;
        let margin_bp = req
            .margin
            .as_deref()
            .map(|m| parse_margin("margin", m))
            .transpose()?;
        let owner = NewLogin::parse(
            "owner",
            &req.owner.name,
            &req.owner.email,
            req.owner.password.as_deref(),
        )?;
        let cycle = req.billing_cycle.unwrap_or(BillingCycle::Monthly);
        let hash = owner.password_hash().await?;

        let id = new_id();
        let now = time::unix(time::now());
        let mut tx = state.db.begin().await?;
        let inserted = on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO companies (id, name, nit, billing_email, billing_cycle, margin_bp, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (nit) DO NOTHING"
        )
        .bind(&id)
        .bind(name.as_str())
        .bind(nit.as_str())
        .bind(billing_email.as_str())
        .bind(cycle.as_str())
        .bind(margin_bp)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if inserted == 0 {
            let mut e = ApiError::conflict("nit_taken", "A company with this NIT already exists.");
            e.field = Some("nit".into());
            return Err(e);
        }
        let membership = Membership::Company {
            company_id: &id,
            member_role: MemberRole::Owner.as_str(),
        };
        let owner_id = insert_user(&mut tx, &owner, &hash, membership, "owner.email").await?;
        invite_if_needed(&state, &mut tx, &owner, &owner_id, Role::Company, &auth.0).await?;
        tx.commit().await?;
        tracing::info!(company_id = %id, by = %auth.0.user_id, "company created");
        let row = fetch_company(&state, &id)
            .await?
            .ok_or_else(|| ApiError::internal("company vanished"))?;
        Ok(CompanyCreated::Created(Json(row.view(&auth.0))))
    }

    /// List companies
    ///
    /// Staff see all, newest first; a company user sees their own.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        limit: Query<Option<i64>>,
        cursor: Query<Option<String>>,
    ) -> Result<CompanyListOk, ApiError> {
        let who = &auth.0;
        who.require(&[Role::Admin, Role::Finance, Role::Company])?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let only = if who.role == Role::Company {
            who.company_id.clone()
        } else {
            None
        };
        let sql = format!(
            "SELECT {COMPANY_COLUMNS} FROM companies WHERE id < $1 AND ($2 IS NULL OR id = $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<CompanyRow> =
            on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(page.before())
                .bind(only.as_deref())
                .bind(page.fetch())
                .fetch_all(p)
                .await)?;
        let (rows, next_cursor) = page.finish(rows, |r| &r.id);
        Ok(CompanyListOk::Ok(Json(CompanyList {
            items: rows.into_iter().map(|r| r.view(who)).collect(),
            next_cursor,
        })))
    }

    /// Get a company
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<CompanyOk, ApiError> {
        let row = visible_company(&state, &auth.0, &id.0).await?;
        Ok(CompanyOk::Ok(Json(row.view(&auth.0))))
    }

    /// Update a company
    ///
    /// Its owner may change name, billing e-mail and cycle; staff may also change NIT and margin.
    #[oai(path = "/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<UpdateCompany>,
    ) -> Result<CompanyOk, ApiError> {
        let who = &auth.0;
        let current = visible_company(&state, who, &id.0).await?;
        let is_admin = who.role == Role::Admin;
        if !is_admin && !who.owns_company(&current.id) {
            return Err(ApiError::forbidden(
                "Only the company's owner or an admin may change it.",
            ));
        }
        let req = body.0;
        if !is_admin && (req.nit.is_some() || req.margin.is_some()) {
            let mut e =
                ApiError::forbidden("Only platform staff may change the NIT or the margin.");
            e.field = Some(if req.nit.is_some() { "nit" } else { "margin" }.into());
            return Err(e);
        }
        let change = CompanyChange::parse(&req)?;
        store_company_change(&state, &current.id, &change).await?;
        let row = fetch_company(&state, &current.id)
            .await?
            .ok_or_else(|| ApiError::not_found("company"))?;
        Ok(CompanyOk::Ok(Json(row.view(who))))
    }

    /// Add a member (admin or the company's owner)
    #[oai(path = "/:id/members", method = "post")]
    async fn add_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<CreateMember>,
    ) -> Result<MemberCreated, ApiError> {
        let who = &auth.0;
        let company = visible_company(&state, who, &id.0).await?;
        if who.role != Role::Admin && !who.owns_company(&company.id) {
            return Err(ApiError::forbidden(
                "Only the company's owner or an admin may add members.",
            ));
        }
        let req = body.0;
        let login = NewLogin::parse("", &req.name, &req.email, req.password.as_deref())?;
        let member_role = match req.member_role {
            MemberRoleInput::Owner => MemberRole::Owner,
            MemberRoleInput::Reviewer => MemberRole::Reviewer,
        };
        let hash = login.password_hash().await?;
        let mut tx = state.db.begin().await?;
        let membership = Membership::Company {
            company_id: &company.id,
            member_role: member_role.as_str(),
        };
        let user_id = insert_user(&mut tx, &login, &hash, membership, "email").await?;
        invite_if_needed(&state, &mut tx, &login, &user_id, Role::Company, who).await?;
        tx.commit().await?;
        tracing::info!(company_id = %company.id, user_id = %user_id, "member added");
        Ok(MemberCreated::Created(Json(
            load_me(&state, &user_id).await?,
        )))
    }

    /// Remove a member (admin or the company's owner)
    ///
    /// The member leaves the company's list, cannot sign in any more, and every token of hers
    /// stops working at once. The company's last active owner cannot be removed (409
    /// `last_owner`). Removing again changes nothing.
    #[oai(path = "/:id/members/:member_id", method = "delete")]
    async fn remove_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
        member_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let company = visible_company(&state, &auth.0, &id.0).await?;
        crate::accounts::act_on_account(
            &state,
            &auth.0,
            &member_id.0,
            vereda_contracts::accounts::AccountAction::RemoveMember,
            Some(&company.id),
        )
        .await?;
        Ok(NoContent::Done)
    }

    /// List members
    ///
    /// Deactivated members are listed with `deactivated_at`; removed ones are not.
    #[oai(path = "/:id/members", method = "get")]
    async fn members(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> Result<MemberListOk, ApiError> {
        let company = visible_company(&state, &auth.0, &id.0).await?;
        let sql = format!(
            "SELECT {} FROM users WHERE company_id = $1 AND removed_at IS NULL ORDER BY id",
            crate::auth::USER_COLUMNS
        );
        let rows: Vec<crate::auth::UserRow> =
            on_db!(&state.db, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(&company.id)
                .fetch_all(p)
                .await)?;
        Ok(MemberListOk::Ok(Json(MemberList {
            items: rows.into_iter().map(|r| r.into_me()).collect(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_margin;

    #[test]
    fn margins_are_whole_basis_points() {
        assert_eq!(parse_margin("m", "0.20").unwrap(), 2000);
        assert_eq!(parse_margin("m", "0.125").unwrap(), 1250);
        assert_eq!(parse_margin("m", "0").unwrap(), 0);
        assert!(parse_margin("m", "1").is_err());
        assert!(parse_margin("m", "-0.1").is_err());
        assert!(parse_margin("m", "0.00001").is_err());
        assert!(parse_margin("m", "abc").is_err());
    }
}
