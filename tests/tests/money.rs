//! The money pipeline (issue 5): accrual, invoicing with the margin and IVA, company payments,
//! payouts and bank confirmations, on the worked example of DESIGN §4; duplicate and late job
//! delivery; and the ledger invariants after every test.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use vereda_contracts::jobs::{AccrueAssignment, BillingRun};
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

fn today() -> String {
    Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string()
}

#[tokio::test]
async fn the_worked_example_from_approval_to_bank_confirmation() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;

    // The accrual job posts the worker's earnings (a liability: credit, so balance −48,485).
    eventually(Duration::from_secs(60), || async {
        (app.payable(&a.finance, &a.worker_id).await == "-48485").then_some(())
    })
    .await
    .expect("accrued");

    let job = app
        .run_job(
            &a.finance,
            "/v1/billing-runs",
            json!({"period_end": today()}),
        )
        .await;
    assert_eq!(job["kind"], "billing_run");
    assert_eq!(job["result"]["issued"], json!(["VRD-000001"]));
    assert_eq!(job["progress"], json!({"done": 1, "total": 1}));

    let list = app.get("/v1/invoices", Some(&a.owner)).await;
    let invoices = list.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(invoices.len(), 1);
    let inv = &invoices[0];
    assert_eq!(inv["number"], "VRD-000001");
    assert_eq!(inv["currency"], "COP");
    assert_eq!(
        (
            inv["work"].as_str(),
            inv["fee"].as_str(),
            inv["vat"].as_str(),
            inv["total"].as_str()
        ),
        (Some("48485"), Some("9697"), Some("1842"), Some("60024"))
    );
    assert_eq!(inv["lines"][0]["seconds"], 9435);
    assert_eq!(inv["lines"][0]["rate"], "18500");
    assert_eq!(inv["lines"][0]["assignment_id"], a.assignment.as_str());
    let csv = app
        .get(
            &format!("/v1/invoices/{}/csv", inv["id"].as_str().unwrap()),
            Some(&a.owner),
        )
        .await;
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(
        csv.text.contains("48485") && csv.text.contains("60024"),
        "{}",
        csv.text
    );

    // A second run for the same period issues nothing new.
    let again = app
        .run_job(
            &a.finance,
            "/v1/billing-runs",
            json!({"period_end": today()}),
        )
        .await;
    assert_eq!(again["result"]["issued"], json!([]));
    assert_eq!(
        app.get("/v1/invoices", Some(&a.finance)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_ledger_invariants(&app.db).await;

    // Pay the worker.
    let job = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let batch_id = job["subject_id"].as_str().unwrap().to_string();
    assert_eq!(job["result"]["batch_id"], batch_id.as_str());
    let batch = app
        .get(&format!("/v1/payout-batches/{batch_id}"), Some(&a.finance))
        .await;
    let batch = batch.ok(200).clone();
    assert_eq!(batch["status"], "ready");
    assert_eq!(batch["lines"].as_array().unwrap().len(), 1);
    let line = &batch["lines"][0];
    assert_eq!(line["amount"], "48485");
    assert_eq!(line["worker_id"], a.worker_id.as_str());
    assert_eq!(line["method"], "nequi");
    let reference = line["reference"].as_str().unwrap().to_string();
    assert_eq!(
        app.payable(&a.finance, &a.worker_id).await,
        "0",
        "the money is in transit"
    );
    let export = app
        .get(
            &format!("/v1/payout-batches/{batch_id}/export"),
            Some(&a.finance),
        )
        .await;
    assert!(
        export.text.contains(&format!(
            "{reference},Luz Teletrabajadora,1012345678,nequi,3105551234,48485"
        )),
        "{}",
        export.text
    );
    // The file showed her cédula and account to finance: it is in her log (issue 22 §4).
    let log = app
        .get(
            &format!("/v1/workers/{}/data-access", a.worker_id),
            Some(&a.worker),
        )
        .await;
    assert_eq!(
        log.ok(200)["items"][0]["route"],
        "GET /v1/payout-batches/{id}/export"
    );
    assert_ledger_invariants(&app.db).await;

    // The bank confirms it: in transit → bank.
    let file = format!(
        "reference,amount,status,date\n{reference},48485,paid,{}\n",
        today()
    );
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch_id}/confirmations"),
            Some(&a.finance),
            "text/csv",
            file.clone().into_bytes(),
        )
        .await;
    let job_id = r.ok(202)["job_id"].as_str().unwrap().to_string();
    let job = app.wait_job(&a.finance, &job_id).await;
    assert_eq!(
        job["result"]["matched"].as_array().unwrap().len(),
        1,
        "{job}"
    );
    let batch = app
        .get(&format!("/v1/payout-batches/{batch_id}"), Some(&a.finance))
        .await;
    assert_eq!(batch.body["status"], "settled");
    assert_eq!(batch.body["lines"][0]["status"], "paid");
    assert_eq!(app.payable(&a.finance, &a.worker_id).await, "0");

    // The same file again changes nothing.
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch_id}/confirmations"),
            Some(&a.finance),
            "text/csv",
            file.into_bytes(),
        )
        .await;
    let job = app
        .wait_job(&a.finance, r.ok(202)["job_id"].as_str().unwrap())
        .await;
    assert_eq!(job["result"]["matched"].as_array().unwrap().len(), 0);
    assert_eq!(
        job["result"]["already_settled"].as_array().unwrap().len(),
        1
    );

    let tb = app.get("/v1/ledger/trial-balance", Some(&a.finance)).await;
    let tb = tb.ok(200);
    assert_eq!(tb["balanced"], true);
    let bank = tb["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["account"] == "platform:bank")
        .unwrap();
    assert_eq!(
        bank["balance"], "-48485",
        "the bank paid out the worker's earnings"
    );
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn company_payments_partial_full_and_never_over() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    app.run_job(
        &a.finance,
        "/v1/billing-runs",
        json!({"period_end": today()}),
    )
    .await;
    let inv = app.get("/v1/invoices", Some(&a.finance)).await.body["items"][0].clone();
    let id = inv["id"].as_str().unwrap();
    // Each transfer has its own bank reference (the same one twice is refused: issue 14 §2).
    let pay = |amount: &str| json!({"amount": amount, "paid_at": Utc::now().to_rfc3339(), "reference": format!("TRF-{amount}")});

    app.post(
        &format!("/v1/invoices/{id}/payments"),
        Some(&a.owner),
        pay("1000"),
    )
    .await
    .problem(403);
    let r = app
        .post(
            &format!("/v1/invoices/{id}/payments"),
            Some(&a.finance),
            pay("60025"),
        )
        .await;
    r.problem(422);
    assert_eq!(r.code(), "overpayment");
    app.post(
        &format!("/v1/invoices/{id}/payments"),
        Some(&a.finance),
        pay("1000.50"),
    )
    .await
    .problem(422);

    app.run_job(
        &a.finance,
        &format!("/v1/invoices/{id}/payments"),
        pay("20024"),
    )
    .await;
    let inv = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    assert_eq!(inv.body["status"], "partially_paid");
    assert_eq!(inv.body["outstanding"], "40000");

    let aging = app
        .get("/v1/reports/receivables-aging", Some(&a.finance))
        .await;
    assert_eq!(aging.ok(200)["totals"]["days_0_30"], "40000");
    assert_eq!(
        aging.body["companies"][0]["company_id"],
        a.company_id.as_str()
    );

    app.run_job(
        &a.finance,
        &format!("/v1/invoices/{id}/payments"),
        pay("40000"),
    )
    .await;
    let inv = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    assert_eq!(inv.body["status"], "paid");
    assert_eq!(inv.body["outstanding"], "0");
    app.post(
        &format!("/v1/invoices/{id}/payments"),
        Some(&a.finance),
        pay("1"),
    )
    .await
    .problem(422);
    let receivable = app
        .get(
            &format!("/v1/ledger/accounts/company:{}:receivable", a.company_id),
            Some(&a.finance),
        )
        .await;
    assert_eq!(receivable.ok(200)["balance"], "0");
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn failed_and_mismatched_payouts_change_the_right_things() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    eventually(Duration::from_secs(60), || async {
        (app.payable(&a.finance, &a.worker_id).await == "-48485").then_some(())
    })
    .await
    .expect("accrued");
    let job = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let batch_id = job["subject_id"].as_str().unwrap().to_string();
    let batch = app
        .get(&format!("/v1/payout-batches/{batch_id}"), Some(&a.finance))
        .await;
    let reference = batch.body["lines"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();

    // A second batch while the first is open has nothing for this worker.
    let second = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    assert_eq!(second["result"]["lines"], 0);

    let file =
        format!("reference,amount,status\n{reference},48000,paid\nVRDNOSUCHREF01,1000,paid\n");
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch_id}/confirmations"),
            Some(&a.finance),
            "text/csv",
            file.into_bytes(),
        )
        .await;
    let job = app
        .wait_job(&a.finance, r.ok(202)["job_id"].as_str().unwrap())
        .await;
    assert_eq!(
        job["result"]["mismatched"].as_array().unwrap().len(),
        1,
        "{job}"
    );
    assert_eq!(job["result"]["unknown"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/v1/payout-batches/{batch_id}"), Some(&a.finance))
            .await
            .body["lines"][0]["status"],
        "pending"
    );

    // The wallet payment failed (wrong phone): the money is back on the worker's balance.
    let file = format!("reference,amount,status\n{reference},48485,failed\n");
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch_id}/confirmations"),
            Some(&a.finance),
            "text/csv",
            file.into_bytes(),
        )
        .await;
    app.wait_job(&a.finance, r.ok(202)["job_id"].as_str().unwrap())
        .await;
    assert_eq!(app.payable(&a.finance, &a.worker_id).await, "-48485");
    assert_ledger_invariants(&app.db).await;

    // Next week's batch pays it.
    let job = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    assert_eq!(job["result"]["lines"], 1);
    assert_eq!(job["result"]["total"], "48485");
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn duplicate_and_late_job_deliveries_change_nothing() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let accrue = AccrueAssignment {
        assignment_id: a.assignment.clone(),
    };
    // The same accrual delivered three more times at once, without idempotency keys.
    let pushes = (0..3)
        .map(|_| vereda_store::queue::push(&app.db, AccrueAssignment::QUEUE, &accrue, None, None));
    for id in futures::future::join_all(pushes).await {
        let id = id.unwrap();
        eventually(Duration::from_secs(90), || async {
            vereda_store::queue::job_status(&app.db, &id)
                .await
                .unwrap()
                .filter(|s| s.state.as_str() == "succeeded")
        })
        .await
        .expect("duplicate accrual job ran");
    }
    // Two billing runs at once for the same period, then one late.
    let run = BillingRun {
        period_end: today(),
        cycle: None,
    };
    let ids = futures::future::join_all(
        (0..2).map(|_| vereda_store::queue::push(&app.db, BillingRun::QUEUE, &run, None, None)),
    )
    .await;
    for id in ids {
        let id = id.unwrap();
        eventually(Duration::from_secs(90), || async {
            vereda_store::queue::job_status(&app.db, &id)
                .await
                .unwrap()
                .filter(|s| s.state.as_str() == "succeeded")
        })
        .await
        .expect("billing run ran");
    }
    let late = vereda_store::queue::push(&app.db, AccrueAssignment::QUEUE, &accrue, None, None)
        .await
        .unwrap();
    eventually(Duration::from_secs(90), || async {
        vereda_store::queue::job_status(&app.db, &late)
            .await
            .unwrap()
            .filter(|s| s.state.as_str() == "succeeded")
    })
    .await
    .expect("late accrual ran");

    assert_eq!(
        app.payable(&a.finance, &a.worker_id).await,
        "-48485",
        "accrued once"
    );
    let invoices = app.get("/v1/invoices", Some(&a.finance)).await;
    let items = invoices.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "one invoice");
    assert_eq!(items[0]["total"], "60024");
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn invoices_and_the_ledger_are_for_their_owners() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let job = app
        .run_job(
            &a.finance,
            "/v1/billing-runs",
            json!({"period_end": today()}),
        )
        .await;
    let job_id = job["id"].as_str().unwrap().to_string();
    let (_, other_owner) = app.company(&a.admin, "Otra").await;
    let inv = app.get("/v1/invoices", Some(&a.finance)).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!("/v1/invoices/{inv}"), Some(&other_owner))
        .await
        .problem(404);
    assert!(
        app.get("/v1/invoices", Some(&other_owner)).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.get(&format!("/v1/invoices/{inv}"), Some(&a.worker))
        .await
        .problem(403);
    app.get("/v1/ledger/trial-balance", Some(&a.owner))
        .await
        .problem(403);
    app.get(&format!("/v1/jobs/{job_id}"), Some(&a.owner))
        .await
        .problem(404);
    app.post(
        "/v1/billing-runs",
        Some(&a.owner),
        json!({"period_end": today()}),
    )
    .await
    .problem(403);
    let r = app
        .post(
            "/v1/billing-runs",
            Some(&a.finance),
            json!({"period_end": "2999-01-01"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "period_end");
    app.get(
        "/v1/ledger/accounts/worker:nobody:payable",
        Some(&a.finance),
    )
    .await
    .problem(404);
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn corrections_are_credit_notes_and_the_invoice_never_changes() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    app.run_job(
        &a.finance,
        "/v1/billing-runs",
        json!({"period_end": today()}),
    )
    .await;
    let inv = app.get("/v1/invoices", Some(&a.finance)).await.body["items"][0].clone();
    let id = inv["id"].as_str().unwrap();
    let path = format!("/v1/invoices/{id}/credit-notes");

    app.post(
        &path,
        Some(&a.owner),
        json!({"reason": "x", "work": "0", "fee": "1000"}),
    )
    .await
    .problem(403);
    let r = app
        .post(
            &path,
            Some(&a.finance),
            json!({"reason": "  ", "work": "0", "fee": "1000"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "reason");
    let r = app
        .post(
            &path,
            Some(&a.finance),
            json!({"reason": "Descuento", "work": "0", "fee": "9698"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.code(), "over_credit");

    // Credit 1,000 of fee: its IVA (190) goes with it.
    let job = app
        .run_job(
            &a.finance,
            &path,
            json!({"reason": "Descuento acordado", "work": "0", "fee": "1000"}),
        )
        .await;
    assert_eq!(job["result"], "VRD-NC-000001");
    let after = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    let after = after.ok(200);
    for field in ["number", "work", "fee", "vat", "total", "lines"] {
        assert_eq!(
            after[field], inv[field],
            "{field} of an issued invoice never changes"
        );
    }
    assert_eq!(after["credit_notes"][0]["total"], "1190");
    assert_eq!(after["credit_notes"][0]["status"], "issued");
    assert_eq!(after["outstanding"], "58834");
    let fees = app
        .get("/v1/ledger/accounts/platform:fees", Some(&a.finance))
        .await;
    assert_eq!(fees.ok(200)["balance"], "-8697");
    assert_ledger_invariants(&app.db).await;
}

/// A backlog bigger than one accrual batch, part of it already accrued by the job, swept by
/// three runs at once: every assignment is accrued exactly once, with its ledger entry, and
/// nothing is left pending.
#[tokio::test]
async fn a_backlog_of_several_batches_is_accrued_once_by_concurrent_sweeps() {
    use vereda_store::on_db;
    use vereda_worker::invoicing::{self, AccrueOutcome};

    const WORKERS: usize = 30;
    const TASKS: usize = 40; // 1,200 assignments: more than two batches of 500.
    let app = spawn_app_without_worker().await;
    let settings = app.test_db.as_ref().unwrap().settings();
    let now = vereda_contracts::time::unix(Utc::now());
    let id = || uuid::Uuid::now_v7().to_string();
    let (company, owner) = (id(), id());
    let workers: Vec<String> = (0..WORKERS).map(|_| id()).collect();
    let tasks: Vec<String> = (0..TASKS).map(|_| id()).collect();
    let mut assignments = Vec::new();
    let mut tx = app.db.begin().await.unwrap();
    macro_rules! exec {
        ($sql:expr, $($b:expr),*) => {
            vereda_store::on_tx!(&mut tx, |c| sqlx::query($sql)$(.bind($b))*.execute(&mut *c).await.map(|r| r.rows_affected()))
                .unwrap()
        };
    }
    exec!(
        "INSERT INTO companies (id, name, nit, billing_email, created_at, updated_at) \
         VALUES ($1, 'Lote', '900000001-0', 'f@e.test', $2, $2)",
        &company,
        now
    );
    exec!(
        "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, created_at, updated_at) \
         VALUES ($1, 'lote@e.test', 'Owner', 'x', 'company', $2, 'owner', $3, $3)",
        &owner,
        &company,
        now
    );
    for w in &workers {
        exec!(
            "INSERT INTO worker_profiles (id, municipality, department, payout_method, created_at, updated_at) \
             VALUES ($1, 'Chaparral', 'Tolima', '{\"kind\":\"nequi\",\"phone\":\"3105551234\"}', $2, $2)",
            w,
            now
        );
    }
    for (i, t) in tasks.iter().enumerate() {
        exec!(
            "INSERT INTO tasks (id, company_id, created_by, title, instructions, category, pricing_kind, \
             price_centavos, estimated_seconds, slots, claim_minutes, review_hours, deliverable_url_required, \
             min_minutes, status, created_at, updated_at) \
             VALUES ($1, $2, $3, 'Etiquetar', 'Guía', 'labelling', 'fixed', $4, 14400, 30, 600, 72, $5, 0, 'closed', $6, $6)",
            t,
            &company,
            &owner,
            (10_000 + i as i64 * 5) * 100,
            false,
            now
        );
        for w in &workers {
            let a = id();
            exec!(
                "INSERT INTO assignments (id, task_id, worker_id, company_id, status, claimed_at, expires_at, \
                 approved_seconds, approved_at, updated_at) VALUES ($1, $2, $3, $4, 'approved', $5, $5, 0, $6, $6)",
                &a,
                t,
                w,
                &company,
                now - 7200,
                now - 3600
            );
            assignments.push(a);
        }
    }
    tx.commit().await.unwrap();

    // A few accrued by their job first, one of them twice.
    for a in assignments.iter().step_by(173) {
        assert_eq!(
            invoicing::accrue(&app.db, &settings, a, now).await.unwrap(),
            AccrueOutcome::Accrued
        );
    }
    let early = assignments.iter().step_by(173).count() as u64;
    assert_eq!(
        invoicing::accrue(&app.db, &settings, &assignments[0], now)
            .await
            .unwrap(),
        AccrueOutcome::AlreadyAccrued
    );

    let sweeps = (0..3).map(|_| invoicing::accrue_pending(&app.db, &settings, now, now));
    let accrued: u64 = futures::future::join_all(sweeps)
        .await
        .into_iter()
        .map(|n| n.unwrap().accrued)
        .sum();
    assert_eq!(
        accrued,
        assignments.len() as u64 - early,
        "each accrued by one sweep"
    );
    assert_eq!(
        invoicing::accrue_pending(&app.db, &settings, now, now)
            .await
            .unwrap()
            .accrued,
        0,
        "nothing left to accrue"
    );

    let db = &app.db;
    let count = |sql: &'static str| async move {
        on_db!(db, |p| sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(p)
            .await
            .unwrap())
    };
    let n = assignments.len() as i64;
    assert_eq!(count("SELECT COUNT(*) FROM accruals").await, n);
    assert_eq!(
        count("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'accrual'").await,
        n
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM ledger_postings").await,
        3 * n,
        "receivable, payable and fee for each"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM assignments WHERE status = 'approved' AND accrued_at IS NULL")
            .await,
        0,
        "every accrued assignment is out of the pending index"
    );
    // The company owes what the tasks were worth plus the 20 % fee (prices in steps of 5 pesos).
    let worth: i64 = (0..TASKS as i64)
        .map(|i| (10_000 + i * 5) * 100)
        .sum::<i64>()
        * WORKERS as i64;
    let receivable = on_db!(&app.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(SUM(debit - credit) AS BIGINT) FROM ledger_postings WHERE account = $1"
    )
    .bind(format!("company:{company}:receivable"))
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(receivable, worth + worth / 5);
    assert_ledger_invariants(&app.db).await;
}

/// Post and publish a task for `owner`; returns its id.
async fn published_task(app: &TestApp, owner: &str, pricing: serde_json::Value) -> String {
    let task = app
        .post(
            "/v1/tasks",
            Some(owner),
            json!({
                "title": "Etiquetar fotos", "instructions": "Según la guía.",
                "category": "labelling", "required_skills": ["labelling"],
                "pricing": pricing, "slots": 1, "claim_minutes": 600, "review_hours": 72
            }),
        )
        .await;
    let task = task.ok(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/v1/tasks/{task}/publish"), Some(owner), json!({}))
        .await
        .ok(200);
    task
}

/// Claim `task` as `worker` and mark the claim approved for `seconds` straight in the
/// database, as rows left by older code are (no accrual job is queued for it).
async fn approved_in_db(app: &TestApp, worker: &str, task: &str, seconds: i64) -> String {
    let claim = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{task}/claims")))
                .bearer_auth(worker),
        )
        .await;
    let id = claim.ok(201)["id"].as_str().unwrap().to_string();
    let at = vereda_contracts::time::unix(Utc::now()) - 60;
    exec_sql(
        app,
        "UPDATE assignments SET status = 'approved', approved_seconds = $1, approved_at = $2, \
         reviewed_at = $2, updated_at = $2 WHERE id = $3",
        &[&seconds.to_string(), &at.to_string(), &id],
    )
    .await;
    id
}

/// Run one statement with text binds (numbers cast by the database).
async fn exec_sql(app: &TestApp, sql: &str, binds: &[&str]) {
    use vereda_store::on_db;
    // Both databases take a text bind for an integer column only with a cast; bind numbers
    // as numbers when they parse.
    on_db!(&app.db, |p| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = match b.parse::<i64>() {
                Ok(n) => q.bind(n),
                Err(_) => q.bind(b.to_string()),
            };
        }
        q.execute(p).await.map(|r| r.rows_affected())
    })
    .unwrap();
}

/// Issue 13 §1–2: work approved for nothing, a company with margin 0, and a company whose data
/// the ledger must refuse — billing, payouts and statements still do everyone else, say what
/// they left out, and finish the rest once it is fixed.
#[tokio::test]
async fn one_bad_item_never_stops_the_money_runs_for_everyone_else() {
    let app = spawn_app().await;
    let ex = worked_example(&app).await;
    let (admin, finance) = (&ex.admin, &ex.finance);

    // A company with margin 0: fee 0 and so IVA 0, approved through the API.
    let (free_co, free_owner) = app.company(admin, "Fundación Cero Margen").await;
    app.patch(
        &format!("/v1/companies/{free_co}"),
        Some(admin),
        json!({"margin": "0"}),
    )
    .await
    .ok(200);
    let (free_worker_id, free_worker) = app.worker(admin, &["labelling"]).await;
    let task = published_task(
        &app,
        &free_owner,
        json!({"kind": "fixed", "price": "50000", "estimated_hours": "4"}),
    )
    .await;
    approved_in_db(&app, &free_worker, &task, 0).await;

    // Hourly work approved for 0 seconds (possible before approving 0 s was refused).
    let (_, zero_owner) = app.company(admin, "Taller Nada").await;
    let (zero_worker_id, zero_worker) = app.worker(admin, &["labelling"]).await;
    let task = published_task(
        &app,
        &zero_owner,
        json!({"kind": "hourly", "rate": "18500", "max_hours": "2"}),
    )
    .await;
    let zero = approved_in_db(&app, &zero_worker, &task, 0).await;

    // Work whose approved time was mended by hand to a negative figure: the ledger refuses it.
    let (bad_co, bad_owner) = app.company(admin, "Datos Rotos").await;
    let (_, bad_worker) = app.worker(admin, &["labelling"]).await;
    let task = published_task(
        &app,
        &bad_owner,
        json!({"kind": "hourly", "rate": "18500", "max_hours": "2"}),
    )
    .await;
    let bad = approved_in_db(&app, &bad_worker, &task, -3600).await;

    let run = app
        .run_job(finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    let result = &run["result"];
    assert_eq!(result["issued"].as_array().unwrap().len(), 2, "{run}");
    let problems = result["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{run}");
    assert_eq!(problems[0]["subject"], format!("assignment:{bad}"));
    assert!(
        problems[0]["action"]
            .as_str()
            .unwrap()
            .contains("vuelva a ejecutar la facturación"),
        "{run}"
    );

    let invoices = app
        .get(&format!("/v1/invoices?company_id={free_co}"), Some(finance))
        .await;
    let free = &invoices.ok(200)["items"][0];
    assert_eq!(
        (&free["work"], &free["fee"], &free["vat"], &free["total"]),
        (&json!("50000"), &json!("0"), &json!("0"), &json!("50000"))
    );
    let zero_invoices = app
        .get(&format!("/v1/invoices?company_id={bad_co}"), Some(finance))
        .await;
    assert_eq!(zero_invoices.ok(200)["items"], json!([]));
    // Approved for nothing: accrued (done, never again) with nothing posted.
    assert_eq!(app.payable(finance, &zero_worker_id).await, "0");
    let zero_accrual = app
        .get(&format!("/v1/assignments/{zero}"), Some(&zero_owner))
        .await;
    assert_eq!(zero_accrual.ok(200)["status"], "approved");

    let month = &today()[..7];
    let statements = app
        .run_job(finance, "/v1/statement-runs", json!({ "month": month }))
        .await;
    let problems = statements["result"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{statements}");
    assert_eq!(problems[0]["subject"], format!("assignment:{bad}"));
    for w in [&ex.worker_id, &free_worker_id, &zero_worker_id] {
        app.get(
            &format!("/v1/workers/{w}/statements/{month}"),
            Some(finance),
        )
        .await
        .ok(200);
    }

    let batch = app.run_job(finance, "/v1/payout-batches", json!({})).await;
    assert_eq!(batch["result"]["lines"], 2, "{batch}");
    assert_eq!(batch["result"]["total"], "98485", "{batch}");
    assert_ledger_invariants(&app.db).await;

    // Fixed by hand: the next run of the same period does what was left.
    exec_sql(
        &app,
        "UPDATE assignments SET approved_seconds = 3600 WHERE id = $1",
        &[&bad],
    )
    .await;
    let rerun = app
        .run_job(finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    assert_eq!(
        rerun["result"]["issued"].as_array().unwrap().len(),
        1,
        "{rerun}"
    );
    assert_eq!(rerun["result"]["problems"], json!([]), "{rerun}");
    let fixed = app
        .get(&format!("/v1/invoices?company_id={bad_co}"), Some(finance))
        .await;
    // 18,500 + fee 3,700 + IVA 703.
    assert_eq!(fixed.ok(200)["items"][0]["total"], "22903");
    assert_ledger_invariants(&app.db).await;
}

/// Issue 13 §2: an IVA rate of 0 is legal too — the invoice carries no IVA and nothing is
/// posted for it.
#[tokio::test]
async fn an_iva_rate_of_zero_invoices_without_iva() {
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.legal.vat_rate = vec![vereda_contracts::legal::Dated {
        from: chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap(),
        value: "0".parse().unwrap(),
    }];
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    let ex = worked_example(&app).await;
    let run = app
        .run_job(
            &ex.finance,
            "/v1/billing-runs",
            json!({"period_end": today()}),
        )
        .await;
    assert_eq!(run["result"]["problems"], json!([]), "{run}");
    let invoices = app.get("/v1/invoices", Some(&ex.finance)).await;
    let invoice = &invoices.ok(200)["items"][0];
    assert_eq!(
        (
            &invoice["work"],
            &invoice["fee"],
            &invoice["vat"],
            &invoice["total"]
        ),
        (
            &json!("48485"),
            &json!("9697"),
            &json!("0"),
            &json!("58182")
        )
    );
    assert_ledger_invariants(&app.db).await;
}

/// Issue 14 §5: what a company is shown before publishing is what it is billed, for margins
/// that are not round (the platform's and a company's own), hourly and fixed price.
#[tokio::test]
async fn the_price_shown_is_the_price_billed_for_odd_margins() {
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.margin = vereda_contracts::money::Margin::parse("0.1235").unwrap();
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;

    let (own_margin, own_owner) = app.company(&admin, "Margen Propio").await;
    app.patch(
        &format!("/v1/companies/{own_margin}"),
        Some(&admin),
        json!({"margin": "0.0733"}),
    )
    .await
    .ok(200);
    let (platform_margin, platform_owner) = app.company(&admin, "Margen Plataforma").await;
    let cases = [
        (
            &own_margin,
            &own_owner,
            json!({"kind": "fixed", "price": "33359", "estimated_hours": "4"}),
            0,
        ),
        (
            &platform_margin,
            &platform_owner,
            json!({"kind": "hourly", "rate": "18517", "max_hours": "1.5"}),
            5400,
        ),
    ];
    let mut shown = Vec::new();
    for (company, owner, pricing, seconds) in &cases {
        let task = published_task(&app, owner, pricing.clone()).await;
        let view = app.get(&format!("/v1/tasks/{task}"), Some(owner)).await;
        let cost = view.ok(200)["cost"].clone();
        let (_, worker) = app.worker(&admin, &["labelling"]).await;
        approved_in_db(&app, &worker, &task, *seconds).await;
        shown.push(((*company).clone(), cost));
    }
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    for (company, cost) in shown {
        let r = app
            .get(
                &format!("/v1/invoices?company_id={company}"),
                Some(&finance),
            )
            .await;
        let invoice = &r.ok(200)["items"][0];
        for field in ["work", "fee", "vat", "total"] {
            assert_eq!(
                invoice[field], cost[field],
                "{field}: shown {cost}, billed {invoice}"
            );
        }
    }
    assert_ledger_invariants(&app.db).await;
}

/// Issue 14 §10: the ledger audits itself — for finance and admins only, every check named,
/// a broken book found and said where, and the daily job keeping the result and e-mailing
/// the admins.
#[tokio::test]
async fn the_ledger_audits_itself_and_tells_the_admins() {
    let app = spawn_app().await;
    let ex = worked_example(&app).await;
    app.run_job(
        &ex.finance,
        "/v1/billing-runs",
        json!({"period_end": today()}),
    )
    .await;
    app.run_job(&ex.finance, "/v1/payout-batches", json!({}))
        .await;

    for token in [&ex.finance, &ex.admin] {
        let audit = app.get("/v1/ledger/audit", Some(token)).await;
        assert_eq!(audit.ok(200)["ok"], true, "{}", audit.text);
        let names: Vec<&str> = audit.body["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "balanced_entries",
                "account_columns_agree",
                "trial_balance_zero",
                "worker_payables",
                "one_accrual_per_assignment",
                "gapless_numbers",
                "document_totals",
                "company_receivables",
                "payouts_in_transit"
            ]
        );
    }
    for token in [&ex.owner, &ex.worker] {
        app.get("/v1/ledger/audit", Some(token)).await.problem(403);
    }

    // Someone "fixes" an invoice line by hand: the audit says which document and which check.
    exec_sql(
        &app,
        "UPDATE invoice_lines SET fee = fee + 100 WHERE assignment_id = $1",
        &[&ex.assignment],
    )
    .await;
    let audit = app.get("/v1/ledger/audit", Some(&ex.finance)).await;
    assert_eq!(audit.ok(200)["ok"], false);
    let failed: Vec<&serde_json::Value> = audit.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{}", audit.text);
    assert_eq!(failed[0]["name"], "document_totals");
    assert!(
        failed[0]["detail"].as_str().unwrap().contains("VRD-000001"),
        "{}",
        audit.text
    );

    // The daily job (queued here as its clock would) keeps the result and tells the admins.
    let job = vereda_store::queue::push(
        &app.db,
        vereda_contracts::jobs::LedgerAudit::QUEUE,
        &vereda_contracts::jobs::LedgerAudit::default(),
        None,
        None,
    )
    .await
    .unwrap();
    let db = &app.db;
    let mail: (String, String) = eventually(Duration::from_secs(60), || async {
        vereda_store::on_db!(db, |p| sqlx::query_as(
            "SELECT recipient, body_text FROM outbox_messages WHERE kind = 'ledger_audit_failed'"
        )
        .fetch_optional(p)
        .await)
        .unwrap()
    })
    .await
    .unwrap_or_else(|| panic!("no e-mail from audit job {job}"));
    assert_eq!(mail.0, ADMIN_EMAIL);
    assert!(
        mail.1.contains("document_totals") && mail.1.contains("VRD-000001"),
        "{}",
        mail.1
    );
    let kept: (bool, String) = vereda_store::on_db!(db, |p| sqlx::query_as(
        "SELECT ok, checks FROM ledger_audits"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert!(!kept.0 && kept.1.contains("document_totals"));
}
