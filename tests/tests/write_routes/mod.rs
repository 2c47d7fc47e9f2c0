//! The catalogue of write routes shared by `bad_input.rs` and `mass_assignment.rs`: every
//! POST/PATCH/PUT/DELETE in the OpenAPI document, who may call it and a valid body. A write
//! route missing from the catalogue fails both tests, so a new endpoint gets the attacks too.

#![allow(dead_code)]

use std::collections::BTreeSet;

use serde_json::{Value, json};
use vereda_store::db::Db;
use vereda_store::on_db;
use vereda_tests::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    Admin,
    Finance,
    Owner,
    Worker,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// The route takes no body.
    None,
    Json(Value),
    Csv(&'static str),
}

pub struct Write {
    pub method: &'static str,
    pub path: &'static str,
    pub actor: Actor,
    pub body: Body,
}

/// Every write route. Placeholders: `{company}`, `{worker}`, `{task}` (published), `{draft}`,
/// `{assignment}` (claimed by the worker), and `{none}` — an id that names nothing, used where
/// the resource would need a billing run: bodies are parsed and checked before any lookup, so
/// the answers below are about the body, never a 404.
pub fn catalogue() -> Vec<Write> {
    use Actor::*;
    let w = |method, path, actor, body| Write {
        method,
        path,
        actor,
        body,
    };
    let j = Body::Json;
    vec![
        w(
            "POST",
            "/v1/auth/login",
            Anonymous,
            j(json!({"email": ADMIN_EMAIL, "password": "not-the-password"})),
        ),
        w(
            "POST",
            "/v1/auth/web-login",
            Anonymous,
            j(json!({"email": ADMIN_EMAIL, "password": "not-the-password"})),
        ),
        w("POST", "/v1/auth/logout", Worker, Body::None),
        w(
            "POST",
            "/v1/auth/password-reset",
            Anonymous,
            j(json!({"email": "nadie@correo.test"})),
        ),
        w(
            "POST",
            "/v1/auth/password-reset/confirm",
            Anonymous,
            j(json!({"token": "vrl_not-a-link", "password": "whatever-long-enough"})),
        ),
        w(
            "POST",
            "/v1/staff",
            Admin,
            j(
                json!({"name": "Sofía Finanzas", "email": "{email}", "password": PASSWORD, "role": "finance"}),
            ),
        ),
        w(
            "POST",
            "/v1/me/password",
            Worker,
            j(
                json!({"current_password": "not-the-password", "new_password": "whatever-long-enough"}),
            ),
        ),
        w(
            "POST",
            "/v1/companies",
            Admin,
            j(
                json!({"name": "Panadería", "nit": "{nit}", "billing_email": "b@c.test",
                "owner": {"name": "Olga", "email": "{email}", "password": PASSWORD}}),
            ),
        ),
        w(
            "PATCH",
            "/v1/companies/{company}",
            Owner,
            j(json!({"billing_email": "nuevo@empresa.test"})),
        ),
        w(
            "POST",
            "/v1/companies/{company}/members",
            Owner,
            j(
                json!({"name": "Marta", "email": "{email}", "password": PASSWORD, "member_role": "reviewer"}),
            ),
        ),
        w(
            "POST",
            "/v1/workers",
            Admin,
            j(
                json!({"name": "Luz", "email": "{email}", "password": PASSWORD, "municipality": "Ibagué",
                "department": "Tolima", "skills": ["labelling"],
                "payout_method": {"kind": "nequi", "phone": "3001234567"}}),
            ),
        ),
        w(
            "PATCH",
            "/v1/workers/{worker}",
            Worker,
            j(json!({"municipality": "Chaparral"})),
        ),
        w(
            "POST",
            "/v1/workers/{worker}/data-requests",
            Worker,
            j(json!({"request": "correction", "detail": "Mi municipio es Ataco."})),
        ),
        w(
            "POST",
            "/v1/data-requests/{none}/extension",
            Admin,
            j(json!({"reason": "Falta un extracto."})),
        ),
        w(
            "POST",
            "/v1/data-requests/{none}/answer",
            Admin,
            j(json!({"answer": "Corregido."})),
        ),
        w(
            "POST",
            "/v1/workers/import",
            Admin,
            Body::Csv(
                "nombre;correo;municipio;departamento;medio_pago;celular\n\
                 Luz;importada@bad.test;Chaparral;Tolima;nequi;3105551234\n",
            ),
        ),
        w(
            "POST",
            "/v1/skills",
            Admin,
            j(json!({"name": "excel", "label": "Hojas de cálculo"})),
        ),
        w("DELETE", "/v1/skills/{none}", Admin, Body::None),
        w(
            "POST",
            "/v1/workers/{worker}/consent",
            Worker,
            j(json!({
                "policy_version": vereda_contracts::consent::POLICY_VERSION,
                "text_hash": vereda_contracts::consent::text_hash(),
                "baseline_monthly_income": "650000",
                "groups": ["youth"]
            })),
        ),
        w(
            "POST",
            "/v1/workers/{worker}/consent/withdrawal",
            Worker,
            Body::None,
        ),
        w(
            "POST",
            "/v1/programme-groups",
            Admin,
            j(json!({"code": "indigena", "label": "Población indígena"})),
        ),
        w("DELETE", "/v1/programme-groups/{none}", Admin, Body::None),
        w("POST", "/v1/tasks", Owner, j(fixed_task())),
        w("PATCH", "/v1/tasks/{draft}", Owner, j(json!({"slots": 4}))),
        w("POST", "/v1/tasks/{draft}/publish", Owner, Body::None),
        w("POST", "/v1/tasks/{draft}/cancel", Owner, Body::None),
        w("POST", "/v1/tasks/{task}/claims", Worker, Body::None),
        w(
            "POST",
            "/v1/tasks/cost-preview",
            Owner,
            j(
                json!({"pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"}, "slots": 5}),
            ),
        ),
        w(
            "POST",
            "/v1/task-batches",
            Owner,
            j(json!({"template": fixed_task(), "csv": "cliente\nTienda\n"})),
        ),
        w(
            "POST",
            "/v1/task-batches/{task_batch}/publish",
            Owner,
            Body::None,
        ),
        w(
            "POST",
            "/v1/task-batches/{task_batch}/cancel",
            Owner,
            Body::None,
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/release",
            Worker,
            Body::None,
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/submission",
            Worker,
            j(json!({"deliverable_url": "https://x.example/a", "notes": "listo"})),
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/review",
            Owner,
            j(json!({"decision": "reject", "reason": "incompleto", "reason_code": "not_original"})),
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/extend",
            Owner,
            j(json!({"minutes": 30})),
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/appeal",
            Worker,
            j(json!({"reason": "Seguí la guía."})),
        ),
        w(
            "POST",
            "/v1/appeals/{none}/decision",
            Admin,
            j(json!({"outcome": "uphold", "decision": "Se mantiene."})),
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/time-entries",
            Worker,
            j(json!({"started_at": "{start}", "ended_at": "{end}", "note": "etiquetado"})),
        ),
        w(
            "PATCH",
            "/v1/time-entries/{none}",
            Worker,
            j(json!({"note": "revisado"})),
        ),
        w("DELETE", "/v1/time-entries/{none}", Worker, Body::None),
        w(
            "POST",
            "/v1/time-entries/sync",
            Worker,
            j(
                json!({"entries": [{"client_id": "c-1", "assignment_id": "{assignment}",
                "started_at": "{start}", "ended_at": "{end}", "source": "offline", "note": "sin red"}]}),
            ),
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/timer/start",
            Worker,
            Body::None,
        ),
        w(
            "POST",
            "/v1/assignments/{assignment}/timer/stop",
            Worker,
            Body::None,
        ),
        w(
            "POST",
            "/v1/billing-runs",
            Finance,
            j(json!({"period_end": "{today}"})),
        ),
        w(
            "POST",
            "/v1/invoices/{none}/payments",
            Finance,
            j(json!({"amount": "1000", "paid_at": "{end}", "reference": "TRF-1"})),
        ),
        w(
            "POST",
            "/v1/invoices/{none}/credit-notes",
            Finance,
            j(json!({"reason": "Ajuste", "work": "0", "fee": "1000"})),
        ),
        w(
            "POST",
            "/v1/payments/{none}/reversal",
            Finance,
            j(json!({"reason": "Transferencia registrada dos veces"})),
        ),
        w("POST", "/v1/payout-batches", Finance, j(json!({}))),
        w(
            "POST",
            "/v1/payout-batches/{none}/confirmations",
            Finance,
            Body::Csv("reference,amount,status\nVRDX,1,paid\n"),
        ),
        w(
            "POST",
            "/v1/statement-runs",
            Finance,
            j(json!({"month": "2026-01"})),
        ),
        w(
            "POST",
            "/v1/certificate-runs",
            Finance,
            j(json!({"year": 2026})),
        ),
        w(
            "POST",
            "/v1/numbering-resolutions",
            Admin,
            j(
                json!({"kind": "support_adjustment", "number": "18760000009", "prefix": "NA",
                     "from": 1, "to": 1000, "valid_from": "2026-01-01",
                     "valid_until": "2030-12-31"}),
            ),
        ),
        w("POST", "/v1/admin/outbox/{none}/retry", Finance, Body::None),
        w(
            "POST",
            "/v1/support-document-runs",
            Finance,
            j(json!({"week": "2026-01-05"})),
        ),
        w(
            "POST",
            "/v1/support-documents/{none}/annulment",
            Finance,
            j(json!({"reason": "Cédula de la vendedora errada"})),
        ),
        w(
            "POST",
            "/v1/electronic-documents/{none}/answer",
            Finance,
            j(json!({"outcome": "accepted"})),
        ),
        w(
            "PUT",
            "/v1/workers/{none}/fiscal-profile",
            Admin,
            j(json!({"concept": "services", "declarante": true, "fewer_than_two_workers": true})),
        ),
        w(
            "PUT",
            "/v1/workers/{none}/social-security/{none}",
            Finance,
            j(json!({"planilla": "8512345678", "health": "1000", "pension": "1000"})),
        ),
        w("POST", "/v1/users/{none}/deactivate", Admin, Body::None),
        w("POST", "/v1/users/{none}/reactivate", Admin, Body::None),
        w("POST", "/v1/users/{none}/sign-out", Admin, Body::None),
        w(
            "DELETE",
            "/v1/companies/{company}/members/{none}",
            Owner,
            Body::None,
        ),
        w(
            "PATCH",
            "/v1/me/email-preferences",
            Worker,
            j(json!({"non_essential": false})),
        ),
    ]
}

pub fn fixed_task() -> Value {
    json!({
        "title": "Etiquetar", "instructions": "Según la guía.", "category": "labelling",
        "required_skills": ["labelling"],
        "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
        "slots": 3, "claim_minutes": 600, "review_hours": 72
    })
}

/// `METHOD /path` with every path parameter written `{*}`.
pub fn generic(method: &str, path: &str) -> String {
    let path: Vec<String> = path
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                "{*}".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("{} {}", method.to_uppercase(), path.join("/"))
}

/// The write operations the OpenAPI document declares, generic form.
pub fn documented_writes(spec: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, ops) in spec["paths"].as_object().expect("paths") {
        for method in ops.as_object().unwrap().keys() {
            if ["post", "patch", "put", "delete"].contains(&method.as_str()) {
                out.insert(generic(method, path));
            }
        }
    }
    out
}

/// The request schema's top-level properties and, per object-valued property, its own
/// (`owner` → its fields), resolved through `$ref`s.
pub fn request_properties(spec: &Value, method: &str, path: &str) -> Vec<(String, Vec<String>)> {
    let resolve = |s: &Value| -> Value {
        match s["$ref"].as_str() {
            Some(r) => spec["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => s.clone(),
        }
    };
    let templated = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(p, _)| generic(method, p) == generic(method, path))
        .map(|(_, ops)| ops[method.to_lowercase()].clone())
        .unwrap_or(Value::Null);
    let schema = resolve(&templated["requestBody"]["content"]["application/json"]["schema"]);
    let mut out = Vec::new();
    if let Some(props) = schema["properties"].as_object() {
        for (name, sub) in props {
            let sub = resolve(sub);
            let inner = sub["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            out.push((name.clone(), inner));
        }
    }
    out
}

/// A signed-in cast and one resource of each kind.
pub struct Fixture {
    pub admin: String,
    pub finance: String,
    pub owner: String,
    pub worker: String,
    pub company: String,
    pub worker_id: String,
    pub task: String,
    pub draft: String,
    pub assignment: String,
    pub task_batch: String,
}

impl Fixture {
    pub async fn new(app: &TestApp) -> Fixture {
        let admin = app.admin_token().await;
        let finance = app.finance_token(&admin).await;
        let (company, owner) = app.company(&admin, "Tienda").await;
        let (worker_id, worker) = app.worker(&admin, &["labelling"]).await;
        let task = app
            .post("/v1/tasks", Some(&owner), fixed_task())
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(
            &format!("/v1/tasks/{task}/publish"),
            Some(&owner),
            json!({}),
        )
        .await
        .ok(200);
        let draft = app
            .post("/v1/tasks", Some(&owner), fixed_task())
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let claim = app
            .send(
                app.client
                    .post(app.url(&format!("/v1/tasks/{task}/claims")))
                    .bearer_auth(&worker),
            )
            .await;
        let assignment = claim.ok(201)["id"].as_str().unwrap().to_string();
        let task_batch = app
            .post(
                "/v1/task-batches",
                Some(&owner),
                json!({"template": fixed_task(), "csv": "cliente\nTienda\n"}),
            )
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        Fixture {
            admin,
            finance,
            owner,
            worker,
            company,
            worker_id,
            task,
            draft,
            assignment,
            task_batch,
        }
    }

    pub fn token(&self, actor: Actor) -> Option<&str> {
        match actor {
            Actor::Anonymous => None,
            Actor::Admin => Some(&self.admin),
            Actor::Finance => Some(&self.finance),
            Actor::Owner => Some(&self.owner),
            Actor::Worker => Some(&self.worker),
        }
    }

    pub fn path(&self, template: &str) -> String {
        template
            .replace("{company}", &self.company)
            .replace("{worker}", &self.worker_id)
            .replace("{task}", &self.task)
            .replace("{draft}", &self.draft)
            .replace("{assignment}", &self.assignment)
            .replace("{task_batch}", &self.task_batch)
            .replace("{none}", "01900000-0000-7000-8000-000000000000")
    }

    /// A valid body with placeholders filled (fresh e-mail and NIT each time).
    pub fn body(&self, body: &Value) -> Value {
        let now = chrono::Utc::now();
        let text = body
            .to_string()
            .replace("{email}", &format!("u-{}@bad.test", short_id()))
            .replace("{nit}", &random_nit())
            .replace("{assignment}", &self.assignment)
            .replace(
                "{start}",
                &(now - chrono::Duration::hours(2))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            )
            .replace(
                "{end}",
                &(now - chrono::Duration::hours(1))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            )
            .replace(
                "{today}",
                &now.with_timezone(&vereda_contracts::time::BOGOTA)
                    .date_naive()
                    .to_string(),
            );
        serde_json::from_str(&text).unwrap()
    }
}

/// Rows in every table a write endpoint can touch, to prove a refused request wrote nothing.
pub async fn row_counts(db: &Db) -> Vec<(&'static str, i64)> {
    const TABLES: &[&str] = &[
        "users",
        "companies",
        "worker_profiles",
        "worker_skills",
        "skills",
        "consents",
        "worker_groups",
        "worker_baselines",
        "programme_groups",
        "tasks",
        "task_skills",
        "assignments",
        "assignment_events",
        "time_entries",
        "time_entry_revisions",
        "running_timers",
        "payments",
        "payment_reversals",
        "credit_notes",
        "payout_batches",
        "bank_confirmations",
        "job_requests",
        "statements",
        "email_preferences",
        "idempotency_keys",
    ];
    let mut out = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
        let n: i64 = on_db!(db, |p| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_one(p)
                .await
                .unwrap()
        });
        out.push((*table, n));
    }
    out
}
