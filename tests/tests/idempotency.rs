//! `Idempotency-Key` on the requests a bad connection makes people retry: a claim and a
//! company payment. The same key answers the first response again; the same key with a
//! different request is 422; concurrent duplicates get the first answer or 409, and the work is
//! done once either way.

use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;
use serde_json::{Value, json};
use vereda_store::on_db;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    on_db!(&app.db, |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await)
    .unwrap()
}

/// An issued invoice of the worked example (60,024 COP); returns its id.
async fn invoice(app: &TestApp, a: &vereda_tests::worked_example::Approved) -> String {
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(
                &format!("/v1/ledger/accounts/worker:{}:payable", a.worker_id),
                Some(&a.finance),
            )
            .await;
        (r.body["balance"] == "-48485").then_some(())
    })
    .await
    .expect("accrued");
    let today = Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    app.run_job(
        &a.finance,
        "/v1/billing-runs",
        json!({ "period_end": today }),
    )
    .await;
    let list = app.get("/v1/invoices", Some(&a.finance)).await;
    list.ok(200)["items"][0]["id"].as_str().unwrap().to_string()
}

/// When the transfer was made: one instant for every request of a test run, as a client's
/// retry resends the same body (a fresh `now` per call made two calls that straddle a second
/// different requests, and the test failed now and then under load).
static PAID_AT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| Utc::now().to_rfc3339());

async fn pay(app: &TestApp, finance: &str, invoice: &str, key: &str, amount: &str) -> Resp {
    let req = app
        .client
        .post(app.url(&format!("/v1/invoices/{invoice}/payments")))
        .bearer_auth(finance)
        .header("Idempotency-Key", key)
        .json(
            // One transfer per key: a reference already recorded on the invoice is refused.
            &json!({"amount": amount, "paid_at": *PAID_AT,
                      "reference": format!("TRF-{key}")}),
        );
    app.send(req).await
}

#[tokio::test]
async fn a_retried_payment_is_recorded_once() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let inv = invoice(&app, &a).await;

    let first = pay(&app, &a.finance, &inv, "pago-7731", "20000").await;
    let first = first.ok(202).clone();
    let again = pay(&app, &a.finance, &inv, "pago-7731", "20000").await;
    assert_eq!(again.ok(202), &first, "the first answer, again");
    let r = pay(&app, &a.finance, &inv, "pago-7731", "20001").await;
    r.problem(422);
    assert_eq!(r.code(), "idempotency_key_reused");
    assert_eq!(r.field(), "Idempotency-Key");
    // The same key on another invoice's route is another request too.
    let job = app
        .wait_job(&a.finance, first["job_id"].as_str().unwrap())
        .await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM payments").await, 1);
    let got = app
        .get(&format!("/v1/invoices/{inv}"), Some(&a.finance))
        .await;
    assert_eq!(got.ok(200)["paid"], "20000");

    // Eight clerks' retries of one payment at once: one payment, and every answer is either
    // that payment's or a 409 asking to retry.
    let answers = join_all((0..8).map(|_| pay(&app, &a.finance, &inv, "pago-7732", "10000"))).await;
    let accepted: Vec<&Value> = answers
        .iter()
        .filter(|r| r.status == 202)
        .map(|r| &r.body)
        .collect();
    assert!(!accepted.is_empty());
    assert!(accepted.iter().all(|b| *b == accepted[0]), "{accepted:?}");
    for r in answers.iter().filter(|r| r.status != 202) {
        r.problem(409);
        assert_eq!(r.code(), "idempotency_key_in_use");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM payments").await, 2);
    app.wait_job(&a.finance, accepted[0]["job_id"].as_str().unwrap())
        .await;
    let got = app
        .get(&format!("/v1/invoices/{inv}"), Some(&a.finance))
        .await;
    assert_eq!(got.ok(200)["paid"], "30000");
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn concurrent_duplicate_claims_make_one_assignment() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda").await;
    let (_, worker) = app.worker(&admin, &["labelling"]).await;
    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Etiquetar fotos", "instructions": "Una etiqueta por foto.",
                "category": "labelling", "required_skills": ["labelling"],
                "pricing": {"kind": "fixed", "price": "30000", "estimated_hours": "1"},
                "slots": 5, "claim_minutes": 600, "review_hours": 72
            }),
        )
        .await;
    let task = task.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/tasks/{task}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let answers = join_all((0..8).map(|_| {
        app.send(
            app.client
                .post(app.url(&format!("/v1/tasks/{task}/claims")))
                .bearer_auth(&worker)
                .header("Idempotency-Key", "reintento-1"),
        )
    }))
    .await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| &r.body)
        .collect();
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|b| b["id"] == created[0]["id"]),
        "{created:?}"
    );
    for r in answers.iter().filter(|r| r.status != 201) {
        r.problem(409);
    }
    let mine = app.get("/v1/assignments", Some(&worker)).await;
    assert_eq!(mine.ok(200)["items"].as_array().unwrap().len(), 1);
}
