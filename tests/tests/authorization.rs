//! One declared policy table: every route × every role × own or someone else's resource.
//! A route in the OpenAPI document without a policy row fails the test, so no endpoint ships
//! unguarded.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use vereda_tests::*;

/// The callers, in the order of the letters in each policy row.
const ACTORS: [&str; 8] = [
    "anonymous",
    "worker",
    "other worker",
    "owner",
    "reviewer",
    "other company's owner",
    "finance",
    "admin",
];

/// One route's policy. `expect` has one letter per actor in [`ACTORS`] order:
/// `o` allowed (any answer but 401/403/404, and never 5xx), `u` 401, `f` 403, `n` 404.
struct Policy {
    method: &'static str,
    path: &'static str,
    body: Value,
    expect: &'static str,
}

fn policies() -> Vec<Policy> {
    let p = |method, path, body, expect| Policy {
        method,
        path,
        body,
        expect,
    };
    //                                                                    anon, worker, other worker, owner,
    //                                                                    reviewer, other owner, finance, admin
    vec![
        p("GET", "/healthz", Value::Null, "oooooooo"),
        p("GET", "/readyz", Value::Null, "oooooooo"),
        p(
            "POST",
            "/v1/auth/login",
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            "oooooooo",
        ),
        p(
            "POST",
            "/v1/auth/password-reset",
            json!({"email": "nadie@correo.test"}),
            "oooooooo",
        ),
        p(
            "POST",
            "/v1/auth/password-reset/confirm",
            json!({"token": "vrl_not-a-link", "password": "whatever-long-enough"}),
            "oooooooo",
        ),
        p(
            "POST",
            "/v1/auth/web-login",
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            "oooooooo",
        ),
        p("GET", "/v1/me", Value::Null, "uooooooo"),
        p("GET", "/v1/me/earnings", Value::Null, "uoofffff"),
        p("GET", "/v1/me/payouts", Value::Null, "uoofffff"),
        p(
            "POST",
            "/v1/me/password",
            json!({"current_password": "not-the-password", "new_password": "whatever-long-enough"}),
            "uooooooo",
        ),
        p(
            "POST",
            "/v1/staff",
            json!({"name": "S", "email": "{email}", "password": PASSWORD, "role": "finance"}),
            "uffffffo",
        ),
        p("GET", "/v1/companies", Value::Null, "uffooooo"),
        p(
            "POST",
            "/v1/companies",
            json!({"name": "C", "nit": "{nit}", "billing_email": "b@c.test", "owner": {"name": "O", "email": "{email}", "password": PASSWORD}}),
            "uffffffo",
        ),
        p("GET", "/v1/companies/{company}", Value::Null, "uffoonoo"),
        p(
            "PATCH",
            "/v1/companies/{company}",
            json!({"billing_cycle": "monthly"}),
            "uffofnfo",
        ),
        p(
            "GET",
            "/v1/companies/{company}/members",
            Value::Null,
            "uffoonoo",
        ),
        p(
            "POST",
            "/v1/companies/{company}/members",
            json!({"name": "M", "email": "{email}", "password": PASSWORD, "member_role": "reviewer"}),
            "uffofnfo",
        ),
        p("GET", "/v1/workers", Value::Null, "ufffffoo"),
        p(
            "POST",
            "/v1/workers",
            json!({"name": "W", "email": "{email}", "password": PASSWORD, "municipality": "Ibagué", "department": "Tolima", "skills": ["labelling"], "payout_method": {"kind": "nequi", "phone": "3001234567"}}),
            "uffffffo",
        ),
        p(
            "POST",
            "/v1/workers/import",
            Value::String(
                "nombre;correo;municipio;departamento;medio_pago;celular\n\
                 Luz;importada@matrix.test;Chaparral;Tolima;nequi;3105551234\n"
                    .into(),
            ),
            "uffffffo",
        ),
        p("GET", "/v1/skills", Value::Null, "uooooooo"),
        p(
            "POST",
            "/v1/skills",
            json!({"name": "excel", "label": "Hojas de cálculo"}),
            "uffffffo",
        ),
        p("DELETE", "/v1/skills/{skill}", Value::Null, "uffffffo"),
        p("GET", "/v1/workers/{worker}", Value::Null, "uonnnnoo"),
        // The fiscal profile and PILA months (issue 20 §2): the worker, finance, admin.
        p(
            "GET",
            "/v1/workers/{worker}/fiscal-profile",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "PUT",
            "/v1/workers/{worker}/fiscal-profile",
            json!({"concept": "services", "declarante": false, "fewer_than_two_workers": false}),
            "uonnnnoo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/social-security",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "PUT",
            "/v1/workers/{worker}/social-security/{month}",
            json!({"planilla": "8512345678", "health": "0", "pension": "0"}),
            "uonnnnoo",
        ),
        p(
            "PATCH",
            "/v1/workers/{worker}",
            json!({"municipality": "Chaparral"}),
            "uonnnnfo",
        ),
        p("POST", "/v1/tasks", fixed_task(), "uffofoff"),
        p("GET", "/v1/tasks", Value::Null, "uooooooo"),
        p("GET", "/v1/tasks/{task}", Value::Null, "uoooonoo"),
        p("PATCH", "/v1/tasks/{task}", json!({"slots": 5}), "uffofnff"),
        p("POST", "/v1/tasks/{task}/publish", json!({}), "uffofnff"),
        p("POST", "/v1/tasks/{draft}/cancel", json!({}), "uffofnff"),
        p("POST", "/v1/tasks/{task}/claims", Value::Null, "uoofffff"),
        p(
            "POST",
            "/v1/tasks/cost-preview",
            json!({"pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"}, "slots": 5}),
            "uffofoff",
        ),
        p("POST", "/v1/task-batches", task_batch(), "uffofoff"),
        p("GET", "/v1/task-batches", Value::Null, "uffooooo"),
        p(
            "GET",
            "/v1/task-batches/{task_batch}",
            Value::Null,
            "uffoonoo",
        ),
        p(
            "GET",
            "/v1/task-batches/{task_batch}/results.csv",
            Value::Null,
            "uffoonoo",
        ),
        p(
            "POST",
            "/v1/task-batches/{task_batch}/publish",
            json!({}),
            "uffofnff",
        ),
        p(
            "POST",
            "/v1/task-batches/{task_batch}/cancel",
            json!({}),
            "uffofnff",
        ),
        p("GET", "/v1/assignments", Value::Null, "uooooooo"),
        p(
            "GET",
            "/v1/assignments/{assignment}",
            Value::Null,
            "uonoonoo",
        ),
        // Time tracking. The worker's entry is far too old (422); the timer is started, then
        // stopped. There is no time-entry placeholder: an assignment id names no entry, which
        // checks role and 404 here; real entries' owners are checked in time_tracking.rs.
        p(
            "POST",
            "/v1/assignments/{assignment}/time-entries",
            json!({"started_at": "2020-01-01T08:00:00Z", "ended_at": "2020-01-01T09:00:00Z"}),
            "uonfffff",
        ),
        p(
            "GET",
            "/v1/assignments/{assignment}/time-entries",
            Value::Null,
            "uonoonoo",
        ),
        p(
            "PATCH",
            "/v1/time-entries/{assignment}",
            json!({"note": "revisado"}),
            "unnfffff",
        ),
        p(
            "DELETE",
            "/v1/time-entries/{assignment}",
            Value::Null,
            "unnfffff",
        ),
        p(
            "POST",
            "/v1/time-entries/sync",
            json!({"entries": []}),
            "uoofffff",
        ),
        p(
            "POST",
            "/v1/assignments/{assignment}/timer/start",
            Value::Null,
            "uonfffff",
        ),
        p("GET", "/v1/me/timer", Value::Null, "uoofffff"),
        p(
            "POST",
            "/v1/assignments/{assignment}/timer/stop",
            Value::Null,
            "uonfffff",
        ),
        p("GET", "/v1/me/timesheet", Value::Null, "uoofffff"),
        p("GET", "/v1/me/timesheet/csv", Value::Null, "uoofffff"),
        p("GET", "/v1/tasks/{task}/time", Value::Null, "uffoonoo"),
        p(
            "POST",
            "/v1/assignments/{assignment}/extend",
            json!({"minutes": 30}),
            "uffoonff",
        ),
        p("GET", "/v1/review-queue", Value::Null, "uffooooo"),
        p(
            "POST",
            "/v1/assignments/{assignment}/appeal",
            json!({"reason": "No es justo."}),
            "uonfffff",
        ),
        p("GET", "/v1/appeals", Value::Null, "uooooooo"),
        p(
            "GET",
            "/v1/workers/{worker}/data-access",
            Value::Null,
            "uonffffo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/data-export",
            Value::Null,
            "uonffffo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/data-export/pdf",
            Value::Null,
            "uonffffo",
        ),
        p(
            "POST",
            "/v1/workers/{worker}/data-requests",
            json!({"request": "copy"}),
            "uonffffo",
        ),
        p("GET", "/v1/data-requests", Value::Null, "uooffffo"),
        p("GET", "/v1/consent-policy", Value::Null, "oooooooo"),
        p(
            "GET",
            "/v1/workers/{worker}/consent",
            Value::Null,
            "uonffffo",
        ),
        p(
            "POST",
            "/v1/workers/{worker}/consent",
            json!({"policy_version": "2020-01-01", "text_hash": "00", "groups": ["youth"]}),
            "uonffffo",
        ),
        p(
            "POST",
            "/v1/workers/{worker}/consent/withdrawal",
            json!({}),
            "uonffffo",
        ),
        p("GET", "/v1/programme-groups", Value::Null, "uffffffo"),
        p(
            "POST",
            "/v1/programme-groups",
            json!({"code": "grupo_prueba", "label": "Grupo de prueba"}),
            "uffffffo",
        ),
        p(
            "DELETE",
            "/v1/programme-groups/{code}",
            Value::Null,
            "uffffffo",
        ),
        p("GET", "/v1/reports/impact", Value::Null, "ufffffoo"),
        p("GET", "/v1/reports/impact/csv", Value::Null, "ufffffoo"),
        p("GET", "/v1/reports/impact/pdf", Value::Null, "ufffffoo"),
        p(
            "POST",
            "/v1/data-requests/{data_request}/extension",
            json!({"reason": "Falta un extracto."}),
            "uffffffo",
        ),
        p(
            "POST",
            "/v1/data-requests/{data_request}/answer",
            json!({"answer": "Aquí está."}),
            "uffffffo",
        ),
        p("GET", "/v1/appeals/{appeal}", Value::Null, "unooonoo"),
        p(
            "POST",
            "/v1/appeals/{appeal}/decision",
            json!({"outcome": "uphold", "decision": "Se mantiene."}),
            "uffffffo",
        ),
        p(
            "POST",
            "/v1/assignments/{assignment}/review",
            json!({"decision": "approve"}),
            "uffoonff",
        ),
        p(
            "POST",
            "/v1/assignments/{assignment}/submission",
            json!({"deliverable_url": "https://x.example/a"}),
            "uonfffff",
        ),
        p(
            "POST",
            "/v1/assignments/{assignment}/release",
            json!({}),
            "uonfffff",
        ),
        p(
            "POST",
            "/v1/billing-runs",
            json!({"period_end": "{today}"}),
            "ufffffoo",
        ),
        p("GET", "/v1/jobs", Value::Null, "uooooooo"),
        p("GET", "/v1/jobs/{job}", Value::Null, "unnnnnoo"),
        p("GET", "/v1/invoices", Value::Null, "uffooooo"),
        p("GET", "/v1/invoices/{invoice}", Value::Null, "uffoonoo"),
        p("GET", "/v1/invoices/{invoice}/csv", Value::Null, "uffoonoo"),
        p(
            "POST",
            "/v1/invoices/{invoice}/payments",
            json!({"amount": "1", "paid_at": "2026-01-02T00:00:00Z", "reference": "TRF-1"}),
            "ufffffoo",
        ),
        p(
            "POST",
            "/v1/invoices/{invoice}/credit-notes",
            json!({"reason": "Ajuste", "work": "0", "fee": "1"}),
            "ufffffoo",
        ),
        p("GET", "/v1/payments/{payment}", Value::Null, "uffoonoo"),
        p(
            "POST",
            "/v1/payments/{payment}/reversal",
            json!({"reason": "Transferencia registrada dos veces"}),
            "ufffffoo",
        ),
        p(
            "GET",
            "/v1/credit-notes/{credit_note}/pdf",
            Value::Null,
            "uffoonoo",
        ),
        p(
            "GET",
            "/v1/companies/{company}/account-statement",
            Value::Null,
            "uffoonoo",
        ),
        p(
            "GET",
            "/v1/companies/{company}/account-statement/pdf",
            Value::Null,
            "uffoonoo",
        ),
        p(
            "GET",
            "/v1/reports/receivables-aging",
            Value::Null,
            "ufffffoo",
        ),
        p("POST", "/v1/payout-batches", json!({}), "ufffffoo"),
        p("GET", "/v1/payout-batches", Value::Null, "ufffffoo"),
        p("GET", "/v1/payout-batches/{batch}", Value::Null, "ufffffoo"),
        p(
            "GET",
            "/v1/payout-batches/{batch}/export",
            Value::Null,
            "ufffffoo",
        ),
        p(
            "POST",
            "/v1/payout-batches/{batch}/confirmations",
            json!("reference,amount,status\nVRDX,1,paid\n"),
            "ufffffoo",
        ),
        p("GET", "/v1/ledger/trial-balance", Value::Null, "ufffffoo"),
        p("GET", "/v1/ledger/audit", Value::Null, "ufffffoo"),
        p(
            "GET",
            "/v1/ledger/accounts/{account}",
            Value::Null,
            "ufffffoo",
        ),
        // Statements and e-mail (issue 6). `{month}` and `{code}` stay literal: not a month
        // (422 once the caller may see the worker) and not a code (404 for everyone).
        p(
            "POST",
            "/v1/statement-runs",
            json!({"month": "2026-01"}),
            "ufffffoo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/statements",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/statements/{month}",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/statements/{month}/csv",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/statements/{month}/pdf",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "GET",
            "/v1/statements/verify/{code}",
            Value::Null,
            "nnnnnnnn",
        ),
        // Certificates and the withholding report (issue 20 §6). `{year}` and `{month}` stay
        // literal: 422 once the caller may see the worker (or the report).
        p(
            "POST",
            "/v1/certificate-runs",
            json!({"year": 2026}),
            "ufffffoo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/certificates/{year}",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "GET",
            "/v1/workers/{worker}/certificates/{year}/pdf",
            Value::Null,
            "uonnnnoo",
        ),
        p(
            "GET",
            "/v1/withholding-reports/{month}",
            Value::Null,
            "ufffffoo",
        ),
        p(
            "GET",
            "/v1/withholding-reports/{month}/csv",
            Value::Null,
            "ufffffoo",
        ),
        // DIAN numbering resolutions (issue 19 §3): admin records, admin and finance read.
        p(
            "POST",
            "/v1/numbering-resolutions",
            json!({"kind": "support_adjustment", "number": "18760000009", "prefix": "NA",
                   "from": 1, "to": 1000, "valid_from": "2026-01-01", "valid_until": "2030-12-31"}),
            "uffffffo",
        ),
        p("GET", "/v1/numbering-resolutions", Value::Null, "ufffffoo"),
        p("GET", "/v1/support-documents", Value::Null, "ufffffoo"),
        p("GET", "/v1/invoices/{invoice}/pdf", Value::Null, "uffoonoo"),
        // Numbered before any resolution: 409 for those who see it, which counts as seen.
        p("GET", "/v1/invoices/{invoice}/xml", Value::Null, "uffoonoo"),
        p(
            "GET",
            "/v1/credit-notes/{credit_note}/xml",
            Value::Null,
            "uffoonoo",
        ),
        p("GET", "/v1/electronic-documents", Value::Null, "ufffffoo"),
        p(
            "POST",
            "/v1/support-document-runs",
            json!({"week": "2026-01-05"}),
            "ufffffoo",
        ),
        p(
            "GET",
            "/v1/support-documents/{none}/xml",
            Value::Null,
            "unnfffnn",
        ),
        p(
            "GET",
            "/v1/support-documents/{none}/pdf",
            Value::Null,
            "unnfffnn",
        ),
        p(
            "POST",
            "/v1/support-documents/{none}/annulment",
            json!({"reason": "Cédula de la vendedora errada"}),
            "ufffffnn",
        ),
        // The invoice has no electronic document: staff are told it is not there.
        p(
            "POST",
            "/v1/electronic-documents/{invoice}/answer",
            json!({"outcome": "accepted"}),
            "ufffffnn",
        ),
        p("GET", "/v1/admin/outbox", Value::Null, "ufffffoo"),
        p(
            "POST",
            "/v1/admin/outbox/{message}/retry",
            Value::Null,
            "ufffffoo",
        ),
        p("GET", "/v1/me/email-preferences", Value::Null, "uooooooo"),
        p(
            "PATCH",
            "/v1/me/email-preferences",
            json!({"non_essential": true}),
            "uooooooo",
        ),
        // Account actions (issue 13 §16), on an extra member of the owner's company, so none of
        // the callers above is signed out: first signed out everywhere, then deactivated, then
        // removed (each again by admin, which changes nothing).
        p(
            "POST",
            "/v1/users/{member}/sign-out",
            Value::Null,
            "uffofnfo",
        ),
        p(
            "POST",
            "/v1/users/{member}/deactivate",
            Value::Null,
            "uffofnfo",
        ),
        // Only admin brings the deactivated member back (before the owner removes her).
        p(
            "POST",
            "/v1/users/{member}/reactivate",
            Value::Null,
            "uffffnfo",
        ),
        p(
            "DELETE",
            "/v1/companies/{company}/members/{member_id}",
            Value::Null,
            "uffofnfo",
        ),
        // Last: it signs the caller out.
        p("POST", "/v1/auth/logout", Value::Null, "uooooooo"),
    ]
}

fn task_batch() -> Value {
    json!({"template": fixed_task(), "csv": "cliente\nTienda\n"})
}

fn fixed_task() -> Value {
    json!({
        "title": "Etiquetar", "instructions": "Según la guía.", "category": "labelling",
        "required_skills": ["labelling"],
        "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
        "slots": 3, "claim_minutes": 600, "review_hours": 72
    })
}

#[tokio::test]
async fn every_route_checks_role_and_ownership() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (company, owner) = app.company(&admin, "Tienda").await;
    let reviewer = app.reviewer(&owner, &company).await;
    let extra = app.reviewer(&owner, &company).await;
    let member = app.get("/v1/me", Some(&extra)).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, other_owner) = app.company(&admin, "Otra").await;
    let (worker_id, worker) = app.worker(&admin, &["labelling"]).await;
    let (other_worker_id, other_worker) = app.worker(&admin, &["labelling"]).await;
    let funder_email = format!("fondo-{}@matrix.test", short_id());
    app.post(
        "/v1/staff",
        Some(&admin),
        json!({"name": "Fundación", "email": funder_email, "password": PASSWORD, "role": "funder"}),
    )
    .await
    .ok(201);
    let funder = app.login(&funder_email, PASSWORD).await;

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
        .post("/v1/task-batches", Some(&owner), task_batch())
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Money fixtures: the other worker's approved work on a second task, invoiced, and a
    // payout batch.
    let billed = app
        .post("/v1/tasks", Some(&owner), fixed_task())
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/tasks/{billed}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{billed}/claims")))
                .bearer_auth(&other_worker),
        )
        .await;
    let done = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/assignments/{done}/submission"),
        Some(&other_worker),
        json!({"deliverable_url": "https://x.example/done"}),
    )
    .await
    .ok(200);
    eventually(std::time::Duration::from_secs(60), || async {
        (app.get(&format!("/v1/assignments/{done}"), Some(&owner))
            .await
            .body["status"]
            == "verified")
            .then_some(())
    })
    .await
    .expect("verified");
    app.post(
        &format!("/v1/assignments/{done}/review"),
        Some(&owner),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    // An appeal: the other worker's work on a third task, rejected and appealed.
    let mut strict = fixed_task();
    strict["allows_changes"] = json!(false);
    let appealed_task = app.post("/v1/tasks", Some(&owner), strict).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/tasks/{appealed_task}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let appealed = app
        .post(
            &format!("/v1/tasks/{appealed_task}/claims"),
            Some(&other_worker),
            json!({}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/assignments/{appealed}/submission"),
        Some(&other_worker),
        json!({"deliverable_url": "https://x.example/appealed"}),
    )
    .await
    .ok(200);
    eventually(std::time::Duration::from_secs(60), || async {
        (app.get(&format!("/v1/assignments/{appealed}"), Some(&owner))
            .await
            .body["status"]
            == "verified")
            .then_some(())
    })
    .await
    .expect("verified");
    app.post(
        &format!("/v1/assignments/{appealed}/review"),
        Some(&owner),
        json!({"decision": "reject", "reason": "No sirve.", "reason_code": "other"}),
    )
    .await
    .ok(200);
    let appeal = app
        .post(
            &format!("/v1/assignments/{appealed}/appeal"),
            Some(&other_worker),
            json!({"reason": "Sí sirve."}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A request about the other worker's data.
    let data_request = app
        .post(
            &format!("/v1/workers/{other_worker_id}/data-requests"),
            Some(&other_worker),
            json!({"request": "copy"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    let job = app
        .run_job(&finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    let job_id = job["id"].as_str().unwrap().to_string();
    let invoice = app.get("/v1/invoices", Some(&finance)).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let batch = app.run_job(&finance, "/v1/payout-batches", json!({})).await["subject_id"]
        .as_str()
        .unwrap()
        .to_string();
    // A posted payment and an issued credit note on that invoice.
    let payment = app
        .run_job(
            &finance,
            &format!("/v1/invoices/{invoice}/payments"),
            json!({"amount": "1000", "paid_at": "2026-01-02T00:00:00Z", "reference": "TRF-AUTH"}),
        )
        .await["subject_id"]
        .as_str()
        .unwrap()
        .to_string();
    let credit_note = app
        .run_job(
            &finance,
            &format!("/v1/invoices/{invoice}/credit-notes"),
            json!({"reason": "Ajuste", "work": "0", "fee": "100"}),
        )
        .await["subject_id"]
        .as_str()
        .unwrap()
        .to_string();
    // An e-mail in the outbox (the invoice's), for the retry route.
    let message = eventually(std::time::Duration::from_secs(60), || async {
        app.get("/v1/admin/outbox", Some(&admin)).await.body["items"][0]["id"]
            .as_str()
            .map(str::to_string)
    })
    .await
    .expect("an e-mail in the outbox");

    let tokens: [Option<&str>; 8] = [
        None,
        Some(&worker),
        Some(&other_worker),
        Some(&owner),
        Some(&reviewer),
        Some(&other_owner),
        Some(&finance),
        Some(&admin),
    ];

    // Every documented route has a policy, and every policy a documented route.
    let spec = app.get("/openapi.json", None).await;
    let mut documented = BTreeSet::new();
    for (path, ops) in spec.ok(200)["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert(format!(
                "{} {}",
                method.to_uppercase(),
                path.replace("{id}", "{*}").replace("{name}", "{*}")
            ));
        }
    }
    let policies = policies();
    let declared: BTreeSet<String> = policies
        .iter()
        .map(|p| {
            let generic = [
                "{company}",
                "{worker}",
                "{task}",
                "{draft}",
                "{assignment}",
                "{invoice}",
                "{batch}",
                "{task_batch}",
                "{job}",
                "{payment}",
                "{credit_note}",
                "{member}",
                "{skill}",
                "{message}",
                "{appeal}",
                "{data_request}",
                "{none}",
            ]
            .iter()
            .fold(p.path.to_string(), |s, k| s.replace(k, "{*}"));
            format!("{} {}", p.method, generic)
        })
        .collect();
    assert_eq!(
        documented, declared,
        "routes without a policy (or policies without a route)"
    );

    let mut failures = Vec::new();
    for policy in &policies {
        assert_eq!(
            policy.expect.len(),
            ACTORS.len(),
            "{} {}",
            policy.method,
            policy.path
        );
        // Denied callers first, so an allowed call's effects cannot change their answer.
        let mut order: Vec<usize> = (0..ACTORS.len()).collect();
        order.sort_by_key(|i| policy.expect.as_bytes()[*i] == b'o');
        let path = policy
            .path
            .replace("{company}", &company)
            .replace("{worker}", &worker_id)
            .replace("{task}", &task)
            .replace("{draft}", &draft)
            .replace("{assignment}", &assignment)
            .replace("{invoice}", &invoice)
            .replace("{task_batch}", &task_batch)
            .replace("{batch}", &batch)
            .replace("{job}", &job_id)
            .replace("{payment}", &payment)
            .replace("{credit_note}", &credit_note)
            .replace("{member_id}", &member)
            .replace("{member}", &member)
            .replace("{skill}", "content-moderation")
            .replace("{message}", &message)
            .replace("{appeal}", &appeal)
            .replace("{data_request}", &data_request)
            .replace("{none}", "no-such-document")
            .replace("{code}", "grupo_prueba")
            .replace("{account}", "platform:fees");
        for i in order {
            let body = policy
                .body
                .to_string()
                .replace("{email}", &format!("u-{}@matrix.test", short_id()))
                .replace("{nit}", &random_nit())
                .replace("{today}", &today);
            let mut req = app
                .client
                .request(policy.method.parse().unwrap(), app.url(&path));
            if let Value::String(csv) = &policy.body {
                // A string body is a file upload (CSV).
                req = req.header("content-type", "text/csv").body(csv.clone());
            } else if !policy.body.is_null() {
                req = req.header("content-type", "application/json").body(body);
            }
            if let Some(t) = tokens[i] {
                req = req.bearer_auth(t);
            }
            let r = app.send(req).await;
            let want = policy.expect.as_bytes()[i];
            let ok = match want {
                b'o' => ![401, 403, 404].contains(&r.status) && r.status < 500,
                b'u' => r.status == 401,
                b'f' => r.status == 403,
                b'n' => r.status == 404,
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {}: expected {}, got {} {}",
                    policy.method, policy.path, ACTORS[i], want as char, r.status, r.text
                ));
            }
            if r.status >= 400 {
                assert!(
                    r.content_type.starts_with("application/problem+json"),
                    "{} {}: {}",
                    policy.method,
                    path,
                    r.text
                );
            }
        }
        // A funder reaches the impact report and her own account, nothing else signed-in.
        let funder_may = [
            "/v1/reports/impact",
            "/v1/reports/impact/csv",
            "/v1/reports/impact/pdf",
            "/v1/me",
            "/v1/me/password",
            "/v1/auth/logout",
        ];
        if policy.expect.starts_with('u') && !funder_may.contains(&policy.path) {
            let mut req = app
                .client
                .request(policy.method.parse().unwrap(), app.url(&path))
                .bearer_auth(&funder);
            if let Value::String(csv) = &policy.body {
                req = req.header("content-type", "text/csv").body(csv.clone());
            } else if !policy.body.is_null() {
                let body = policy
                    .body
                    .to_string()
                    .replace("{email}", &format!("f-{}@matrix.test", short_id()))
                    .replace("{nit}", &random_nit())
                    .replace("{today}", &today);
                req = req.header("content-type", "application/json").body(body);
            }
            let r = app.send(req).await;
            if r.status != 403 {
                failures.push(format!(
                    "{} {} as a funder: expected f, got {} {}",
                    policy.method, policy.path, r.status, r.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} policy violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
