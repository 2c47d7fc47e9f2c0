//! Money corrections (issue 14 items 1–4 and 8, issue 13 items 5, 6 and 11): strict whole
//! pesos, spreadsheet-safe CSV exports, duplicate and reversed payments, one combined
//! outstanding amount for payments and credit notes, fixed invoice documents with a statement
//! of account, and credit notes with their own PDF, e-mail and IVA. Each test ends with the
//! ledger invariants.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use vereda_contracts::csvfile;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

fn today() -> String {
    Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string()
}

/// Invoice the worked example; returns the invoice JSON (total 60,024).
async fn invoiced(app: &TestApp, finance: &str) -> Value {
    app.run_job(finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    let list = app.get("/v1/invoices", Some(finance)).await;
    list.ok(200)["items"][0].clone()
}

fn pay(amount: &str, reference: &str) -> Value {
    json!({"amount": amount, "paid_at": Utc::now().to_rfc3339(), "reference": reference})
}

/// Amounts a person might write that are not plain digits; each must be refused.
fn not_digits() -> Vec<String> {
    let mut v: Vec<String> = [
        "100.000",
        "100,000",
        "1.000.000",
        "1e5",
        "+5",
        " 5",
        "5 ",
        "0x10",
        "٥",
        "１２",
        "18500.00",
        "$1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("19999.{}", "9".repeat(40)));
    v
}

#[tokio::test]
async fn whole_peso_amounts_are_digits_only_everywhere() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let inv = invoiced(&app, &a.finance).await;
    let id = inv["id"].as_str().unwrap();
    let payments = format!("/v1/invoices/{id}/payments");
    let notes = format!("/v1/invoices/{id}/credit-notes");

    for bad in not_digits() {
        let r = app
            .post(&payments, Some(&a.finance), pay(&bad, "TRF-1"))
            .await;
        r.problem(422);
        assert_eq!(r.field(), "amount", "{bad:?}: {}", r.text);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("solo con dígitos") && detail.contains("100000"),
            "{bad:?}: {detail}"
        );
        for field in ["work", "fee"] {
            let mut body = json!({"reason": "Ajuste", "work": "0", "fee": "100"});
            body[field] = json!(bad);
            let r = app.post(&notes, Some(&a.finance), body).await;
            r.problem(422);
            assert_eq!(r.field(), field, "{bad:?}: {}", r.text);
        }
        let mut task = json!({
            "title": "Etiquetar", "instructions": "Según la guía.", "category": "labelling",
            "required_skills": ["labelling"],
            "pricing": {"kind": "fixed", "price": bad, "estimated_hours": "4"},
            "slots": 1, "claim_minutes": 600, "review_hours": 72
        });
        let r = app.post("/v1/tasks", Some(&a.owner), task.clone()).await;
        r.problem(422);
        assert_eq!(r.field(), "pricing.price", "{bad:?}: {}", r.text);
        task["pricing"] = json!({"kind": "hourly", "rate": bad, "max_hours": "4"});
        let r = app.post("/v1/tasks", Some(&a.owner), task).await;
        r.problem(422);
        assert_eq!(r.field(), "pricing.rate", "{bad:?}: {}", r.text);
    }
    // Zero: never a payment; a credit note may leave one part at zero, not both.
    let r = app
        .post(&payments, Some(&a.finance), pay("0", "TRF-0"))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "amount");
    let r = app
        .post(
            &notes,
            Some(&a.finance),
            json!({"reason": "Nada", "work": "0", "fee": "0"}),
        )
        .await;
    r.problem(422);

    // Nothing was recorded: `100.000` did not become a payment of 100.
    let after = app
        .get(&format!("/v1/invoices/{id}"), Some(&a.finance))
        .await;
    assert_eq!(after.ok(200)["outstanding"], "60024");
    assert_eq!(after.body["credit_notes"], json!([]));

    // One hundred thousand written as digits is one hundred thousand (more than is owed).
    let r = app
        .post(&payments, Some(&a.finance), pay("100000", "TRF-2"))
        .await;
    r.problem(422);
    assert_eq!(r.code(), "overpayment");
    app.run_job(&a.finance, &payments, pay("60024", "TRF-3"))
        .await;
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn a_bank_file_amount_with_thousands_dots_is_read_and_other_shapes_are_reported() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
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
    let job = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let batch = job["subject_id"].as_str().unwrap().to_string();
    let line = app
        .get(&format!("/v1/payout-batches/{batch}"), Some(&a.finance))
        .await;
    let reference = line.ok(200)["lines"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    // `48.485` is how a Colombian bank writes 48,485: read as exactly that, never as 48
    // (issue 18 §3). A comma between the thousands, or decimals, are refused on their row.
    let file = format!(
        "reference,amount,status\r\n{reference},\"48,485\",paid\r\n{reference},48.48,paid\r\n{reference},48.485,paid\r\n"
    );
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch}/confirmations"),
            Some(&a.finance),
            "text/csv",
            file.into_bytes(),
        )
        .await;
    let job = app
        .wait_job(&a.finance, r.ok(202)["job_id"].as_str().unwrap())
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let invalid = job["result"]["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 2, "{job}");
    for (row, line) in invalid.iter().zip([2, 3]) {
        assert_eq!(row["line"], line, "{row}");
        assert_eq!(row["reference"], reference.as_str());
        let detail = row["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("amount: ") && detail.contains("como 48485 o 48.485"),
            "{detail}"
        );
    }
    let matched = job["result"]["matched"].as_array().unwrap();
    assert_eq!(matched.len(), 1, "{job}");
    assert_eq!(matched[0]["line"], 4);
    let after = app
        .get(&format!("/v1/payout-batches/{batch}"), Some(&a.finance))
        .await;
    assert_eq!(after.ok(200)["lines"][0]["status"], "paid");
    assert_ledger_invariants(&app.db).await;
}

/// Every cell of a CSV export, read back with the same reader.
fn cells(csv: &str) -> Vec<Vec<String>> {
    csvfile::read(csv)
        .unwrap()
        .into_iter()
        .map(|r| r.cells)
        .collect()
}

#[track_caller]
fn assert_defused(what: &str, csv: &str, expected: &[&str]) {
    let rows = cells(csv);
    for row in &rows {
        for cell in row {
            let dangerous = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<i64>().is_err());
            assert!(!dangerous, "{what}: cell {cell:?} starts a formula:\n{csv}");
        }
    }
    for want in expected {
        assert!(
            rows.iter().flatten().any(|c| c == want),
            "{what}: no cell {want:?} in\n{csv}"
        );
    }
}

#[tokio::test]
async fn every_csv_export_defuses_what_people_typed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let company_name = "@SUM(1+1)*cmd|' /C calc'!A0";
    let (company_id, owner) = app.company(&admin, company_name).await;
    let worker_name = "=HYPERLINK(\"http://x\",\"y\")";
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            json!({
                "name": worker_name, "email": format!("w-{}@correo.test", short_id()),
                "password": PASSWORD, "municipality": "Chaparral", "department": "Tolima",
                "skills": ["labelling"], "payout_method": {"kind": "bre-b", "key": "+573001234567"},
                "document_id": "1012345678"
            }),
        )
        .await;
    let worker_id = r.ok(201)["id"].as_str().unwrap().to_string();
    let email = app
        .get(&format!("/v1/workers/{worker_id}"), Some(&admin))
        .await;
    let worker = app
        .login(email.ok(200)["email"].as_str().unwrap(), PASSWORD)
        .await;
    let title = "-2+3+cmd|' /C calc'!A0";
    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": title, "instructions": "Según la guía.", "category": "labelling",
                "required_skills": ["labelling"],
                "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
                "slots": 1, "claim_minutes": 600, "review_hours": 72
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
    let claim = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{task}/claims")))
                .bearer_auth(&worker),
        )
        .await;
    let assignment = claim.ok(201)["id"].as_str().unwrap().to_string();
    let start = Utc::now() - chrono::Duration::hours(3);
    app.post(
        &format!("/v1/assignments/{assignment}/time-entries"),
        Some(&worker),
        json!({"started_at": start.to_rfc3339(), "ended_at": (start + chrono::Duration::hours(1)).to_rfc3339()}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/assignments/{assignment}/submission"),
        Some(&worker),
        json!({"deliverable_url": "https://x.example/a"}),
    )
    .await
    .ok(200);
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(&format!("/v1/assignments/{assignment}"), Some(&owner))
            .await;
        (r.body["status"] == "verified").then_some(())
    })
    .await
    .expect("verified");
    app.post(
        &format!("/v1/assignments/{assignment}/review"),
        Some(&owner),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);

    // The invoice CSV (task titles).
    let inv = invoiced(&app, &finance).await;
    assert_eq!(inv["company_id"], company_id.as_str());
    let csv = app
        .get(
            &format!("/v1/invoices/{}/csv", inv["id"].as_str().unwrap()),
            Some(&owner),
        )
        .await;
    assert_defused("invoice", &csv.text, &[&format!("'{title}"), "120000"]);

    // The payout bank file (the worker's own name and Bre-B key).
    let job = app.run_job(&finance, "/v1/payout-batches", json!({})).await;
    let batch = job["subject_id"].as_str().unwrap();
    let csv = app
        .get(
            &format!("/v1/payout-batches/{batch}/export"),
            Some(&finance),
        )
        .await;
    assert_defused(
        "bank file",
        &csv.text,
        // 120,000 less 6 % withheld (no fiscal profile on file: a non-filer for services).
        &[&format!("'{worker_name}"), "'+573001234567", "112800"],
    );

    // The income statement (the company's name, the worker's name).
    let month = vereda_contracts::statements::Month::of(Utc::now());
    app.run_job(
        &finance,
        "/v1/statement-runs",
        json!({"month": month.to_string()}),
    )
    .await;
    let csv = app
        .get(
            &format!("/v1/workers/{worker_id}/statements/{month}/csv"),
            Some(&worker),
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_defused(
        "statement",
        &csv.text,
        &[
            &format!("'{company_name}"),
            &format!("'{worker_name}"),
            "120000",
        ],
    );

    // The timesheet (task titles).
    let day = (Utc::now() - chrono::Duration::hours(3))
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    let csv = app
        .get(
            &format!("/v1/me/timesheet/csv?from={day}&to={}", today()),
            Some(&worker),
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_defused("timesheet", &csv.text, &[&format!("'{title}"), "3600"]);
    assert_ledger_invariants(&app.db).await;
}

async fn ledger_account(app: &TestApp, finance: &str, account: &str) -> Value {
    app.get(&format!("/v1/ledger/accounts/{account}"), Some(finance))
        .await
        .ok(200)
        .clone()
}

#[tokio::test]
async fn a_transfer_recorded_twice_is_refused_unless_intended_and_can_be_reversed() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let inv = invoiced(&app, &a.finance).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let payments = format!("/v1/invoices/{id}/payments");

    let first = app
        .run_job(&a.finance, &payments, pay("20000", "TRF-889912"))
        .await;
    let first = first["subject_id"].as_str().unwrap().to_string();
    // The same transfer typed again, with other spacing and case: 409, nothing recorded.
    let r = app
        .post(&payments, Some(&a.finance), pay("20000", " trf-889912 "))
        .await;
    r.problem(409);
    assert_eq!(r.code(), "duplicate_payment_reference");
    assert_eq!(r.field(), "reference");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("allow_duplicate_reference")
    );
    // Really a second transfer with the same reference: said so, it is recorded.
    let mut body = pay("20000", "TRF-889912");
    body["allow_duplicate_reference"] = json!(true);
    let second = app.run_job(&a.finance, &payments, body).await;
    let second = second["subject_id"].as_str().unwrap().to_string();

    let view = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    let view = view.ok(200).clone();
    assert_eq!(view["paid"], "40000");
    assert_eq!(view["status"], "partially_paid");
    let listed = view["payments"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{view}");
    for p in listed {
        assert_eq!(p["amount"], "20000");
        assert_eq!(p["reference"], "TRF-889912");
        assert_eq!(p["recorded_by_name"], "Carolina Finanzas");
        assert_eq!(p["status"], "posted");
        assert!(p["paid_at"].as_str().is_some() && p["recorded_by"].as_str().is_some());
    }
    // The ledger says which transfer it was.
    let bank = ledger_account(&app, &a.finance, "platform:bank").await;
    let descriptions: Vec<&str> = bank["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["description"].as_str().unwrap())
        .collect();
    assert_eq!(descriptions.len(), 2);
    assert!(
        descriptions
            .iter()
            .all(|d| d.contains("TRF-889912") && d.contains("VRD-000001")),
        "{descriptions:?}"
    );

    // Reverse the second: finance only, with a reason, once.
    let reversal = format!("/v1/payments/{second}/reversal");
    let reason = json!({"reason": "Transferencia registrada dos veces"});
    app.post(&reversal, Some(&a.owner), reason.clone())
        .await
        .problem(403);
    let r = app
        .post(&reversal, Some(&a.finance), json!({"reason": "  "}))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "reason");
    app.post(
        "/v1/payments/01900000-0000-7000-8000-000000000000/reversal",
        Some(&a.finance),
        reason.clone(),
    )
    .await
    .problem(404);
    let job = app.run_job(&a.finance, &reversal, reason.clone()).await;
    assert_eq!(job["kind"], "payment_reversal");
    let r = app.post(&reversal, Some(&a.finance), reason.clone()).await;
    r.problem(409);
    assert_eq!(r.code(), "already_reversed");

    let view = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    let view = view.ok(200).clone();
    assert_eq!(view["paid"], "20000");
    assert_eq!(view["outstanding"], "40024");
    assert_eq!(view["status"], "partially_paid");
    let listed = view["payments"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "nothing deleted: {view}");
    assert_eq!(listed[1]["id"], second.as_str());
    assert_eq!(listed[1]["status"], "reversed");
    assert_eq!(listed[1]["amount"], "20000", "nothing edited");
    assert_eq!(
        listed[1]["reversal_reason"],
        "Transferencia registrada dos veces"
    );
    let receivable = ledger_account(
        &app,
        &a.finance,
        &format!("company:{}:receivable", a.company_id),
    )
    .await;
    assert_eq!(receivable["balance"], "40024");
    let bank = ledger_account(&app, &a.finance, "platform:bank").await;
    assert_eq!(bank["balance"], "20000");
    assert!(
        bank["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "payment_reversal"
                && e["description"].as_str().unwrap().contains("TRF-889912")),
        "{bank}"
    );
    // The payment as finance and the company see it.
    let one = app
        .get(&format!("/v1/payments/{second}"), Some(&a.owner))
        .await;
    assert_eq!(one.ok(200)["status"], "reversed");
    let (_, other) = app.company(&a.admin, "Otra").await;
    app.get(&format!("/v1/payments/{second}"), Some(&other))
        .await
        .problem(404);

    // The first is still there: its reference is still taken.
    app.post(&payments, Some(&a.finance), pay("1000", "TRF-889912"))
        .await
        .problem(409);
    // Reversing the first too leaves the invoice as issued.
    app.run_job(
        &a.finance,
        &format!("/v1/payments/{first}/reversal"),
        reason,
    )
    .await;
    let view = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    assert_eq!(view.ok(200)["paid"], "0");
    assert_eq!(view.body["status"], "issued");

    // Two clerks record the same new transfer at the same moment: one is recorded.
    let (x, y) = tokio::join!(
        app.post(&payments, Some(&a.finance), pay("5000", "TRF-RACE")),
        app.post(&payments, Some(&a.finance), pay("5000", "TRF-RACE")),
    );
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [202, 409], "{} / {}", x.text, y.text);
    let accepted = if x.status == 202 { &x } else { &y };
    app.wait_job(&a.finance, accepted.body["job_id"].as_str().unwrap())
        .await;
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn payments_and_credit_notes_share_one_outstanding_amount_under_races() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let inv = invoiced(&app, &a.finance).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let payments = format!("/v1/invoices/{id}/payments");
    let notes = format!("/v1/invoices/{id}/credit-notes");

    // Eight at once against 60,024: four payments of 30,000 and four notes of 25,950
    // (work 20,000, fee 5,000, IVA 950). At most what is owed can be taken.
    let requests = (0..8).map(|i| {
        let (path, body) = if i % 2 == 0 {
            (payments.clone(), pay("30000", &format!("TRF-{i}")))
        } else {
            (
                notes.clone(),
                json!({"reason": format!("Ajuste {i}"), "work": "20000", "fee": "5000"}),
            )
        };
        let app = &app;
        let finance = a.finance.clone();
        async move { app.post(&path, Some(&finance), body).await }
    });
    let answers = futures::future::join_all(requests).await;
    let mut jobs = Vec::new();
    for r in &answers {
        match r.status {
            202 => jobs.push(r.body["job_id"].as_str().unwrap().to_string()),
            422 => assert!(
                ["overpayment", "exceeds_outstanding", "over_credit"].contains(&r.code()),
                "{}",
                r.text
            ),
            _ => panic!("unexpected answer {} {}", r.status, r.text),
        }
    }
    assert!(
        !jobs.is_empty() && jobs.len() < 8,
        "{} accepted",
        jobs.len()
    );
    for job in &jobs {
        let j = app.wait_job(&a.finance, job).await;
        assert_eq!(j["status"], "succeeded", "{j}");
    }
    let view = app
        .get(&format!("/v1/invoices/{id}"), Some(&a.finance))
        .await;
    let view = view.ok(200).clone();
    let n = |k: &str| view[k].as_str().unwrap().parse::<i64>().unwrap();
    let credited: i64 = view["credit_notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["total"].as_str().unwrap().parse::<i64>().unwrap())
        .sum();
    assert!(n("outstanding") >= 0, "{view}");
    assert_eq!(n("paid") + credited + n("outstanding"), 60_024, "{view}");
    assert_ledger_invariants(&app.db).await;

    // Paid in full, nothing more can be paid or credited (issue 13 §5: −49,520 before).
    let rest = view["outstanding"].as_str().unwrap().to_string();
    if rest != "0" {
        app.run_job(&a.finance, &payments, pay(&rest, "TRF-REST"))
            .await;
    }
    let r = app
        .post(
            &notes,
            Some(&a.finance),
            json!({"reason": "Descuento", "work": "1", "fee": "0"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.code(), "exceeds_outstanding");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("saldo pendiente de $ 0")
    );
    let r = app
        .post(&payments, Some(&a.finance), pay("1", "TRF-MORE"))
        .await;
    r.problem(422);
    assert_eq!(r.code(), "overpayment");
    let view = app
        .get(&format!("/v1/invoices/{id}"), Some(&a.finance))
        .await;
    assert_eq!(view.ok(200)["outstanding"], "0");
    assert_eq!(view.body["status"], "paid");
    let receivable = ledger_account(
        &app,
        &a.finance,
        &format!("company:{}:receivable", a.company_id),
    )
    .await;
    assert_eq!(receivable["balance"], "0");
    assert_ledger_invariants(&app.db).await;

    // A negative balance (money received beyond what is owed, e.g. from before this rule) is
    // shown by the aging report, never filtered out.
    vereda_store::on_db!(&app.db, |p| sqlx::query(
        "UPDATE invoices SET paid = paid + 1500000 WHERE id = $1"
    )
    .bind(&id)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    let aging = app
        .get("/v1/reports/receivables-aging", Some(&a.finance))
        .await;
    assert_eq!(
        aging.ok(200)["totals"]["days_0_30"],
        "-15000",
        "{}",
        aging.text
    );
    assert_eq!(
        aging.body["companies"][0]["company_id"],
        a.company_id.as_str()
    );
    let account = app
        .get(
            &format!("/v1/companies/{}/account-statement", a.company_id),
            Some(&a.owner),
        )
        .await;
    assert_eq!(account.ok(200)["balance_due"], "-15000");
    // Money recorded on the invoice without its journal entry: the audit says so.
    let audit = app.get("/v1/ledger/audit", Some(&a.finance)).await;
    assert_eq!(audit.ok(200)["ok"], false);
    let failed: Vec<&str> = audit.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        ["document_totals", "company_receivables"],
        "{}",
        audit.text
    );
}

/// Write a PDF where a person can look at it (`VEREDA_TEST_PDF_DIR`), when asked to.
fn keep_pdf(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("VEREDA_TEST_PDF_DIR") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(std::path::Path::new(&dir).join(name), bytes);
    }
}

async fn download(app: &TestApp, token: &str, path: &str) -> (Vec<u8>, String) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let hash = r.headers()["x-content-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(
        hash,
        sha256_bytes(&bytes),
        "{path}: the header is the body's hash"
    );
    (bytes, hash)
}

fn sha256_bytes(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

mod mail {
    use super::*;

    use vereda_tests::smtp::{Received, SmtpServer};

    pub async fn app_with_smtp() -> (TestApp, SmtpServer) {
        let (app, smtp, _) = vereda_tests::spawn_app_with_smtp().await;
        (app, smtp)
    }

    pub fn subject(m: &Received) -> String {
        m.parsed().subject().unwrap_or_default().to_string()
    }

    pub async fn arrives(smtp: &SmtpServer, to: &str, prefix: &str) -> Received {
        eventually(Duration::from_secs(90), || async {
            smtp.messages()
                .into_iter()
                .find(|m| m.to.iter().any(|t| t == to) && subject(m).starts_with(prefix))
        })
        .await
        .unwrap_or_else(|| panic!("no message {prefix:?} to {to}"))
    }

    pub fn pdf_attachment(m: &Received) -> (String, Vec<u8>) {
        use mail_parser::MimeHeaders;
        let parsed = m.parsed();
        let pdfs: Vec<_> = parsed
            .attachments()
            .filter(|a| a.is_content_type("application", "pdf"))
            .collect();
        assert_eq!(pdfs.len(), 1, "one PDF attached");
        (
            pdfs[0].attachment_name().unwrap_or_default().to_string(),
            pdfs[0].contents().to_vec(),
        )
    }
}

#[tokio::test]
async fn an_issued_invoice_is_a_fixed_document_and_the_balance_is_on_the_statement_of_account() {
    use vereda_tests::pdf::pdf_text;
    let (app, smtp) = mail::app_with_smtp().await;
    let a = worked_example(&app).await;
    let company = app
        .get(&format!("/v1/companies/{}", a.company_id), Some(&a.owner))
        .await;
    let billing = company.ok(200)["billing_email"]
        .as_str()
        .unwrap()
        .to_string();
    let inv = invoiced(&app, &a.finance).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let path = format!("/v1/invoices/{id}/pdf");

    // The copy e-mailed at issue is the document every download gives.
    let m = mail::arrives(&smtp, &billing, "Factura VRD-000001").await;
    let (name, mailed) = mail::pdf_attachment(&m);
    assert_eq!(name, "VRD-000001.pdf");
    let (before, hash) = download(&app, &a.owner, &path).await;
    assert_eq!(before, mailed, "the e-mailed invoice is the downloaded one");
    keep_pdf("factura.pdf", &before);

    // Money moves and the company is renamed; the invoice does not change.
    app.run_job(
        &a.finance,
        &format!("/v1/invoices/{id}/payments"),
        pay("20000", "TRF-1"),
    )
    .await;
    app.run_job(
        &a.finance,
        &format!("/v1/invoices/{id}/credit-notes"),
        json!({"reason": "Descuento acordado", "work": "0", "fee": "1000"}),
    )
    .await;
    app.patch(
        &format!("/v1/companies/{}", a.company_id),
        Some(&a.owner),
        json!({"name": "Tienda Andina Renombrada"}),
    )
    .await
    .ok(200);
    let (after, hash_after) = download(&app, &a.finance, &path).await;
    assert_eq!(after, before, "the same bytes every time");
    assert_eq!(hash_after, hash);
    let view = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    assert_eq!(view.ok(200)["document_sha256"], hash.as_str());
    if let Some(text) = pdf_text(&after) {
        for want in [
            "Factura de venta VRD-000001",
            "Tienda Andina",
            "$ 48.485",
            "$ 9.697",
            "$ 1.842",
            "$ 60.024",
            "estado de cuenta",
        ] {
            assert!(text.contains(want), "{want:?} not in the invoice:\n{text}");
        }
        for never in [
            "Renombrada",
            "pagada",
            "Pagado",
            "Saldo",
            "Estado:",
            "Notas crédito",
        ] {
            assert!(
                !text.contains(never),
                "{never:?} in a fixed invoice:\n{text}"
            );
        }
    }

    // The statement of account carries status, payments, notes and the balance.
    let statement = format!("/v1/companies/{}/account-statement", a.company_id);
    let s = app.get(&statement, Some(&a.owner)).await;
    let s = s.ok(200).clone();
    assert_eq!(
        (
            s["invoiced"].as_str(),
            s["credited"].as_str(),
            s["paid"].as_str(),
            s["balance_due"].as_str()
        ),
        (Some("60024"), Some("1190"), Some("20000"), Some("38834")),
        "{s}"
    );
    assert_eq!(s["company_name"], "Tienda Andina Renombrada");
    assert_eq!(s["invoices"][0]["number"], "VRD-000001");
    assert_eq!(s["invoices"][0]["status"], "partially_paid");
    assert_eq!(s["invoices"][0]["outstanding"], "38834");
    assert_eq!(s["payments"][0]["reference"], "TRF-1");
    assert_eq!(s["credit_notes"][0]["number"], "VRD-NC-000001");
    let r = app
        .client
        .get(app.url(&format!("{statement}/pdf")))
        .bearer_auth(&a.owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap().to_vec();
    keep_pdf("estado-de-cuenta.pdf", &pdf);
    if let Some(text) = pdf_text(&pdf) {
        for want in [
            "Estado de cuenta",
            "Tienda Andina Renombrada",
            "VRD-000001",
            "$ 60.024",
            "$ 38.834",
            "TRF-1",
            "VRD-NC-000001",
            "$ 1.190",
            "pagada parcialmente",
            "Saldo por pagar",
        ] {
            assert!(
                text.contains(want),
                "{want:?} not in the statement:\n{text}"
            );
        }
    }
    let (_, other) = app.company(&a.admin, "Otra").await;
    app.get(&statement, Some(&other)).await.problem(404);
    app.get(&format!("{statement}/pdf"), Some(&other))
        .await
        .problem(404);
    app.get(&statement, Some(&a.worker)).await.problem(403);
    app.get(&statement, Some(&a.finance)).await.ok(200);
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn credit_notes_have_their_own_pdf_and_email_and_never_credit_more_iva_than_charged() {
    use vereda_tests::pdf::pdf_text;
    let (app, smtp) = mail::app_with_smtp().await;
    let a = worked_example(&app).await;
    let company = app
        .get(&format!("/v1/companies/{}", a.company_id), Some(&a.owner))
        .await;
    let billing = company.ok(200)["billing_email"]
        .as_str()
        .unwrap()
        .to_string();
    let inv = invoiced(&app, &a.finance).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let notes = format!("/v1/invoices/{id}/credit-notes");

    // Fee 50 (IVA 9.5 → 10), then the rest of the fee, 9,647: that note takes the remaining
    // IVA, 1,832 (per note it would be 1,833: 1,843 in all against 1,842 charged).
    let first = app
        .run_job(
            &a.finance,
            &notes,
            json!({"reason": "Descuento de bienvenida", "work": "0", "fee": "50"}),
        )
        .await;
    assert_eq!(first["result"], "VRD-NC-000001");
    let second = app
        .run_job(
            &a.finance,
            &notes,
            json!({"reason": "Comisión no aplicable", "work": "0", "fee": "9647"}),
        )
        .await;
    assert_eq!(second["result"], "VRD-NC-000002");
    let view = app.get(&format!("/v1/invoices/{id}"), Some(&a.owner)).await;
    let listed = view.ok(200)["credit_notes"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["vat"], "10");
    assert_eq!(listed[1]["vat"], "1832");
    assert_eq!(listed[1]["total"], "11479");
    assert!(listed.iter().all(|n| n["status"] == "issued"));
    let vat = ledger_account(&app, &a.finance, "platform:vat_payable").await;
    assert_eq!(
        vat["balance"], "0",
        "all the IVA charged is credited, no more"
    );

    // Nothing more of the fee, nor more work than billed.
    let r = app
        .post(
            &notes,
            Some(&a.finance),
            json!({"reason": "x", "work": "0", "fee": "1"}),
        )
        .await;
    r.problem(422);
    assert_eq!((r.code(), r.field()), ("over_credit", "fee"));
    let r = app
        .post(
            &notes,
            Some(&a.finance),
            json!({"reason": "x", "work": "48486", "fee": "0"}),
        )
        .await;
    r.problem(422);
    assert_eq!((r.code(), r.field()), ("over_credit", "work"));

    // Each note has its own fixed PDF, in Spanish, e-mailed with the note.
    let note = listed[1]["id"].as_str().unwrap();
    let path = format!("/v1/credit-notes/{note}/pdf");
    let (pdf, hash) = download(&app, &a.owner, &path).await;
    let (again, _) = download(&app, &a.finance, &path).await;
    assert_eq!(pdf, again);
    keep_pdf("nota-credito.pdf", &pdf);
    if let Some(text) = pdf_text(&pdf) {
        for want in [
            "Nota crédito VRD-NC-000002",
            "Corrige la factura VRD-000001",
            "Tienda Andina",
            "Comisión no aplicable",
            "$ 9.647",
            "IVA (19 %)",
            "$ 1.832",
            "$ 11.479",
        ] {
            assert!(text.contains(want), "{want:?} not in the note:\n{text}");
        }
    }
    let m = mail::arrives(&smtp, &billing, "Nota crédito VRD-NC-000002").await;
    assert_eq!(
        mail::subject(&m),
        "Nota crédito VRD-NC-000002 de Vereda S.A.S. por $ 11.479"
    );
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(
        text.contains("VRD-000001") && text.contains("Comisión no aplicable"),
        "{text}"
    );
    let (name, mailed) = mail::pdf_attachment(&m);
    assert_eq!(name, "VRD-NC-000002.pdf");
    assert_eq!(mailed, pdf, "the e-mailed note is the downloaded one");
    assert_eq!(sha256_bytes(&mailed), hash);
    mail::arrives(&smtp, &billing, "Nota crédito VRD-NC-000001").await;

    let (_, other) = app.company(&a.admin, "Otra").await;
    app.get(&path, Some(&other)).await.problem(404);
    app.get(&path, Some(&a.worker)).await.problem(403);
    app.get(
        "/v1/credit-notes/01900000-0000-7000-8000-000000000000/pdf",
        Some(&a.finance),
    )
    .await
    .problem(404);
    assert_ledger_invariants(&app.db).await;
}
