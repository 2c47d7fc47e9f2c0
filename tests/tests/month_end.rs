//! What finance reads at month end over the API (issue 18 §2): the jobs people started, listed
//! and filtered with their progress and errors, and the ledger with the company's and worker's
//! names beside each account.

use std::time::Duration;

use serde_json::json;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

#[tokio::test]
async fn jobs_are_listed_and_the_ledger_names_its_accounts() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
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
    let billing = app
        .run_job(&a.finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    let payout = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;

    // Newest first, with who started it; filtered by kind and by status.
    let all = app.get("/v1/jobs", Some(&a.finance)).await;
    let items = all.ok(200)["items"].as_array().unwrap().clone();
    let ids: Vec<&str> = items.iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids[..2],
        [
            payout["id"].as_str().unwrap(),
            billing["id"].as_str().unwrap()
        ],
        "{items:?}"
    );
    assert_eq!(items[1]["kind"], "billing_run");
    assert_eq!(items[1]["status"], "succeeded");
    assert!(items[1]["requested_by_name"].is_string(), "{}", items[1]);
    let billing_runs = app
        .get(
            "/v1/jobs?kind=billing_run&status=succeeded",
            Some(&a.finance),
        )
        .await;
    let runs = billing_runs.ok(200)["items"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["id"], billing["id"]);
    assert_eq!(runs[0]["result"], billing["result"]);
    let failed = app.get("/v1/jobs?status=failed", Some(&a.finance)).await;
    assert_eq!(failed.ok(200)["items"], json!([]));
    // One per page, the cursor goes on to the older one.
    let first = app.get("/v1/jobs?limit=1", Some(&a.finance)).await;
    let cursor = first.ok(200)["next_cursor"].as_str().unwrap().to_string();
    let second = app
        .get(
            &format!("/v1/jobs?limit=1&cursor={cursor}"),
            Some(&a.finance),
        )
        .await;
    assert_eq!(second.ok(200)["items"][0]["id"], billing["id"]);
    // Someone who started nothing sees nothing; bad filters name their field.
    let mine = app.get("/v1/jobs", Some(&a.worker)).await;
    assert_eq!(mine.ok(200)["items"], json!([]));
    let r = app.get("/v1/jobs?kind=coffee", Some(&a.finance)).await;
    r.problem(422);
    assert_eq!(r.field(), "kind");
    let r = app.get("/v1/jobs?status=lost", Some(&a.finance)).await;
    r.problem(422);
    assert_eq!(r.field(), "status");

    // The trial balance names each account and its owner.
    let tb = app.get("/v1/ledger/trial-balance", Some(&a.finance)).await;
    let accounts = tb.ok(200)["accounts"].as_array().unwrap().clone();
    let find = |name: &str| {
        accounts
            .iter()
            .find(|x| x["account"] == name)
            .unwrap_or_else(|| panic!("{name} in {accounts:?}"))
            .clone()
    };
    let receivable = find(&format!("company:{}:receivable", a.company_id));
    assert_eq!(receivable["owner_name"], "Tienda Andina");
    assert_eq!(receivable["label_es"], "Cuenta por cobrar a la empresa");
    let payable = find(&format!("worker:{}:payable", a.worker_id));
    assert_eq!(payable["owner_name"], "Luz Teletrabajadora");
    assert_eq!(payable["label_es"], "Por pagar a la persona");
    let fees = find("platform:fees");
    assert_eq!(fees["label_es"], "Comisiones de la plataforma");
    assert!(fees.get("owner_name").is_none(), "{fees}");
    let one = app
        .get(
            &format!("/v1/ledger/accounts/company:{}:receivable", a.company_id),
            Some(&a.finance),
        )
        .await;
    assert_eq!(one.ok(200)["owner_name"], "Tienda Andina");
    assert_eq!(one.body["label_es"], "Cuenta por cobrar a la empresa");

    assert_ledger_invariants(&app.db).await;
}
