//! Her money (issue 15 §4): earnings and payouts of the signed-in worker, consistent with the
//! ledger through the worked example, a failed payout (with its e-mail) and a paid one.

use std::time::Duration;

use serde_json::{Value, json};
use vereda_store::config::Secret;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::smtp::SmtpServer;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

async fn earnings(app: &TestApp, worker: &str) -> Value {
    app.get("/v1/me/earnings", Some(worker))
        .await
        .ok(200)
        .clone()
}

async fn payouts(app: &TestApp, worker: &str) -> Vec<Value> {
    app.get("/v1/me/payouts", Some(worker)).await.ok(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Her balance agrees with the ledger (which counts her payable as a credit).
async fn agrees_with_the_ledger(app: &TestApp, finance: &str, worker_id: &str, e: &Value) {
    let ledger = app.payable(finance, worker_id).await;
    let balance = e["balance_payable"].as_str().unwrap();
    let expected = if balance == "0" {
        "0".to_string()
    } else {
        format!("-{balance}")
    };
    assert_eq!(ledger, expected, "{e}");
}

async fn confirm(app: &TestApp, finance: &str, batch: &str, reference: &str, status: &str) {
    let file = format!("reference,amount,status\n{reference},48485,{status}\n");
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch}/confirmations"),
            Some(finance),
            "text/csv",
            file.into_bytes(),
        )
        .await;
    let job = app
        .wait_job(finance, r.ok(202)["job_id"].as_str().unwrap())
        .await;
    assert_eq!(
        job["result"]["matched"].as_array().unwrap().len(),
        1,
        "{job}"
    );
}

/// Run a payout batch; returns its id and her line's reference.
async fn batch(app: &TestApp, finance: &str) -> (String, String) {
    let job = app.run_job(finance, "/v1/payout-batches", json!({})).await;
    let id = job["subject_id"].as_str().unwrap().to_string();
    let b = app
        .get(&format!("/v1/payout-batches/{id}"), Some(finance))
        .await;
    let reference = b.body["lines"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    (id, reference)
}

#[tokio::test]
async fn her_earnings_and_payouts_follow_the_ledger_through_a_failed_and_a_paid_payout() {
    let smtp = SmtpServer::start();
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.smtp_url = Some(Secret::new(smtp.url()));
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    let a = worked_example(&app).await;
    let email = app.get("/v1/me", Some(&a.worker)).await.ok(200)["email"]
        .as_str()
        .unwrap()
        .to_string();

    // Approved and accrued: 48,485 owed, nothing paid.
    let e = eventually(Duration::from_secs(60), || async {
        let e = earnings(&app, &a.worker).await;
        (e["balance_payable"] == "48485").then_some(e)
    })
    .await
    .expect("accrued");
    assert_eq!(e["pending_review"], "0");
    assert_eq!(e["approved_unpaid"], "48485");
    assert_eq!(e["paid"], "0");
    assert_eq!(e["in_transit"], "0");
    let line = &e["assignments"][0];
    assert_eq!(line["assignment_id"], a.assignment.as_str());
    assert_eq!(line["task_title"], "Limpiar base de clientes");
    assert_eq!(line["company_name"], "Tienda Andina");
    assert_eq!(line["status"], "approved");
    assert_eq!(line["approved_seconds"], 9435);
    assert_eq!(line["amount"], "48485");
    agrees_with_the_ledger(&app, &a.finance, &a.worker_id, &e).await;
    assert!(payouts(&app, &a.worker).await.is_empty());

    // In a batch: in transit, still unpaid, nothing payable.
    let (batch_id, reference) = batch(&app, &a.finance).await;
    let e = earnings(&app, &a.worker).await;
    assert_eq!(
        (
            &e["balance_payable"],
            &e["in_transit"],
            &e["approved_unpaid"]
        ),
        (&json!("0"), &json!("48485"), &json!("48485"))
    );
    agrees_with_the_ledger(&app, &a.finance, &a.worker_id, &e).await;
    let p = payouts(&app, &a.worker).await;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["status"], "pending");
    assert_eq!(p[0]["amount"], "48485");
    assert_eq!(p[0]["method"], "nequi");
    assert_eq!(p[0]["destination_masked"], "******1234");
    assert!(p[0].get("paid_at").is_none() && p[0].get("failure_reason").is_none());
    assert!(
        !p[0].to_string().contains("3105551234"),
        "unmasked: {}",
        p[0]
    );

    // The bank fails it: back on her balance, the reason in Spanish, and an e-mail.
    confirm(&app, &a.finance, &batch_id, &reference, "failed").await;
    let e = earnings(&app, &a.worker).await;
    assert_eq!(e["balance_payable"], "48485");
    assert_eq!(e["in_transit"], "0");
    assert_eq!(e["paid"], "0");
    agrees_with_the_ledger(&app, &a.finance, &a.worker_id, &e).await;
    let p = payouts(&app, &a.worker).await;
    assert_eq!(p[0]["status"], "failed");
    let reason = p[0]["failure_reason"].as_str().unwrap();
    assert!(reason.contains("volvió a su saldo"), "{reason}");
    assert!(reason.contains("terminado en 1234"), "{reason}");
    assert_ledger_invariants(&app.db).await;
    let m = eventually(Duration::from_secs(90), || async {
        smtp.messages().into_iter().find(|m| {
            m.to.contains(&email)
                && m.parsed()
                    .subject()
                    .is_some_and(|s| s.starts_with("No pudimos entregarle $ 48.485"))
        })
    })
    .await
    .expect("the failed payout e-mail");
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("volvió a su saldo"), "{text}");
    assert!(text.contains("su Nequi terminado en 1234"), "{text}");
    assert!(!text.contains("3105551234"), "{text}");

    // The next batch pays it.
    let (batch_id, reference) = batch(&app, &a.finance).await;
    confirm(&app, &a.finance, &batch_id, &reference, "paid").await;
    let e = earnings(&app, &a.worker).await;
    assert_eq!(
        (
            &e["balance_payable"],
            &e["in_transit"],
            &e["approved_unpaid"],
            &e["paid"]
        ),
        (&json!("0"), &json!("0"), &json!("0"), &json!("48485"))
    );
    agrees_with_the_ledger(&app, &a.finance, &a.worker_id, &e).await;
    let p = payouts(&app, &a.worker).await;
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["status"], "paid");
    assert!(p[0]["paid_at"].is_string());
    assert_eq!(p[1]["status"], "failed");
    // Paginated like other lists.
    let page = app.get("/v1/me/payouts?limit=1", Some(&a.worker)).await;
    let page = page.ok(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/v1/me/payouts?limit=1&cursor={next}"),
            Some(&a.worker),
        )
        .await;
    assert_eq!(rest.ok(200)["items"][0]["status"], "failed");
    assert_ledger_invariants(&app.db).await;

    // Only her own: another worker sees none of it; other roles are refused.
    let (_, other) = app.worker(&a.admin, &["data-entry"]).await;
    let e = earnings(&app, &other).await;
    assert_eq!(e["assignments"], json!([]));
    assert_eq!(e["paid"], "0");
    assert!(payouts(&app, &other).await.is_empty());
    for token in [&a.owner, &a.finance, &a.admin] {
        app.get("/v1/me/earnings", Some(token)).await.problem(403);
        app.get("/v1/me/payouts", Some(token)).await.problem(403);
    }
    app.get("/v1/me/earnings", None).await.problem(401);
}
