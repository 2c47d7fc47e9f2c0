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
        "100.000", "100,000", "1.000.000", "1e5", "+5", " 5", "5 ", "0x10", "٥", "１２",
        "18500.00", "$1000",
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
    let r = app.post(&payments, Some(&a.finance), pay("0", "TRF-0")).await;
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
    let after = app.get(&format!("/v1/invoices/{id}"), Some(&a.finance)).await;
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
async fn a_bank_file_amount_that_is_not_digits_is_reported_on_its_row() {
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
    // `48.485` is how a Colombian writes 48,485; a decimal reader would take 48.485 pesos.
    let file = format!(
        "reference,amount,status\r\n{reference},48.485,paid\r\n{reference},\"48,485\",paid\r\n{reference}, 48485,paid\r\n"
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
    assert_eq!(invalid.len(), 3, "{job}");
    for (row, line) in invalid.iter().zip([2, 3, 4]) {
        assert_eq!(row["line"], line, "{row}");
        assert_eq!(row["reference"], reference.as_str());
        let detail = row["detail"].as_str().unwrap();
        assert!(detail.starts_with("amount: ") && detail.contains("solo con dígitos"), "{detail}");
    }
    assert_eq!(job["result"]["matched"], json!([]));
    let after = app
        .get(&format!("/v1/payout-batches/{batch}"), Some(&a.finance))
        .await;
    assert_eq!(after.ok(200)["lines"][0]["status"], "pending");
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
    let email = app.get(&format!("/v1/workers/{worker_id}"), Some(&admin)).await;
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
    app.post(&format!("/v1/tasks/{task}/publish"), Some(&owner), json!({}))
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
        .get(&format!("/v1/payout-batches/{batch}/export"), Some(&finance))
        .await;
    assert_defused(
        "bank file",
        &csv.text,
        &[&format!("'{worker_name}"), "'+573001234567", "120000"],
    );

    // The income statement (the company's name, the worker's name).
    let month = vereda_contracts::statements::Month::of(Utc::now());
    app.run_job(&finance, "/v1/statement-runs", json!({"month": month.to_string()}))
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
        &[&format!("'{company_name}"), &format!("'{worker_name}"), "120000"],
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
