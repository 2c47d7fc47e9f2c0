//! Withholding on payouts by the worker's fiscal profile (issue 20 §3), over HTTP on the real
//! worker: a month paid in four weekly batches withholds exactly what one monthly payout of
//! the same total does, a line the bank failed is not counted (the next one makes up for it),
//! the withholding account holds what was withheld, and the month's statement shows the
//! withholding and a net that is what the bank paid.

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use serde_json::{Value, json};
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::*;

static TASKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Post a fixed-price task for `worker`, log an hour on it, submit it and approve it; wait
/// until her payable balance is `then_owed` pesos.
#[allow(clippy::too_many_arguments)]
async fn earn(
    app: &TestApp,
    owner: &str,
    finance: &str,
    worker_id: &str,
    worker: &str,
    price: i64,
    then_owed: i64,
) {
    let task = app
        .post(
            "/v1/tasks",
            Some(owner),
            json!({
                "title": format!("Clasificar tiquetes {}", short_id()),
                "instructions": "Según la guía de la empresa.",
                "category": "data-entry", "required_skills": ["data-entry"],
                "pricing": {"kind": "fixed", "price": price.to_string(), "estimated_hours": "4"},
                "slots": 1, "claim_minutes": 2880, "review_hours": 72
            }),
        )
        .await;
    let task = task.ok(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/v1/tasks/{task}/publish"), Some(owner), json!({}))
        .await
        .ok(200);
    let claim = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{task}/claims")))
                .bearer_auth(worker),
        )
        .await;
    let assignment = claim.ok(201)["id"].as_str().unwrap().to_string();
    // Each task's hour its own, so no two of her entries overlap.
    let k = TASKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as i64;
    let start = Utc::now() - Span::seconds(2 * 3600 + k * 3660);
    app.post(
        &format!("/v1/assignments/{assignment}/time-entries"),
        Some(worker),
        json!({"started_at": start.to_rfc3339(), "ended_at": (start + Span::seconds(3600)).to_rfc3339()}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/assignments/{assignment}/submission"),
        Some(worker),
        json!({"deliverable_url": "https://docs.example/tiquetes"}),
    )
    .await
    .ok(200);
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(&format!("/v1/assignments/{assignment}"), Some(owner))
            .await;
        (r.body["status"] == "verified").then_some(())
    })
    .await
    .expect("verified");
    app.post(
        &format!("/v1/assignments/{assignment}/review"),
        Some(owner),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    let owed = format!("-{then_owed}");
    eventually(Duration::from_secs(60), || async {
        (app.payable(finance, worker_id).await == owed).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("{worker_id} owed {then_owed}"));
}

/// Build a batch; its lines by worker id.
async fn batch(app: &TestApp, finance: &str) -> (String, Vec<Value>) {
    let job = app.run_job(finance, "/v1/payout-batches", json!({})).await;
    let id = job["subject_id"].as_str().unwrap().to_string();
    let b = app
        .get(&format!("/v1/payout-batches/{id}"), Some(finance))
        .await;
    (id, b.ok(200)["lines"].as_array().unwrap().clone())
}

fn line_of<'a>(lines: &'a [Value], worker_id: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["worker_id"] == worker_id)
        .unwrap_or_else(|| panic!("no line for {worker_id} in {lines:?}"))
}

fn pesos(v: &Value) -> i64 {
    v.as_str().unwrap().parse().unwrap()
}

/// The bank's answer for every line of a batch: the net sent, and paid unless `failed` names it.
async fn confirm(app: &TestApp, finance: &str, batch: &str, lines: &[Value], failed: Option<&str>) {
    let mut file = "reference,amount,status\n".to_string();
    for l in lines {
        let net = pesos(&l["amount"]) - pesos(&l["withholding"]);
        let status = if failed == l["worker_id"].as_str() {
            "failed"
        } else {
            "paid"
        };
        file.push_str(&format!(
            "{},{net},{status}\n",
            l["reference"].as_str().unwrap()
        ));
    }
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
        lines.len(),
        "{job}"
    );
}

#[tokio::test]
async fn a_month_paid_in_four_weekly_batches_withholds_what_one_monthly_payout_would() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Soporte Andino").await;
    let (weekly_id, weekly) = app.worker(&admin, &["data-entry"]).await;
    let (monthly_id, monthly) = app.worker(&admin, &["data-entry"]).await;
    let (default_id, default) = app.worker(&admin, &["data-entry"]).await;
    // Both file income tax and are paid for services: 4 % of the month once it reaches
    // 2 UVT (104,748 in 2026). The third has no profile on file: a non-filer, 6 %.
    for (id, token) in [(&weekly_id, &weekly), (&monthly_id, &monthly)] {
        app.put(
            &format!("/v1/workers/{id}/fiscal-profile"),
            Some(token),
            json!({"concept": "services", "declarante": true, "fewer_than_two_workers": false}),
        )
        .await
        .ok(200);
    }

    // Week 1: 60,000, under the base: nothing withheld.
    earn(&app, &owner, &finance, &weekly_id, &weekly, 60_000, 60_000).await;
    let (b1, lines) = batch(&app, &finance).await;
    assert_eq!(lines.len(), 1);
    let l = line_of(&lines, &weekly_id);
    assert_eq!((pesos(&l["amount"]), pesos(&l["withholding"])), (60_000, 0));
    confirm(&app, &finance, &b1, &lines, None).await;

    // Week 2: 60,000 more crosses the base: 4 % of the month's 120,000, all on this line.
    earn(&app, &owner, &finance, &weekly_id, &weekly, 60_000, 60_000).await;
    let (b2, lines) = batch(&app, &finance).await;
    let l = line_of(&lines, &weekly_id);
    assert_eq!(
        (pesos(&l["amount"]), pesos(&l["withholding"])),
        (60_000, 4_800)
    );
    confirm(&app, &finance, &b2, &lines, None).await;

    // Week 3: 100,000 withholds 4,000 (the month owes 8,800)... and the bank fails it.
    earn(
        &app, &owner, &finance, &weekly_id, &weekly, 100_000, 100_000,
    )
    .await;
    let (b3, lines) = batch(&app, &finance).await;
    let l = line_of(&lines, &weekly_id);
    assert_eq!(
        (pesos(&l["amount"]), pesos(&l["withholding"])),
        (100_000, 4_000)
    );
    confirm(&app, &finance, &b3, &lines, Some(&weekly_id)).await;

    // Week 4: the failed 100,000 back on her balance plus 200,000 new. The month has paid
    // 120,000 and withheld 4,800; with 300,000 it owes 4 % of 420,000 = 16,800: 12,000 now.
    // The other filer is paid the same 420,000 in one line: 16,800 too. The one without a
    // profile, 150,000: 6 %.
    earn(
        &app, &owner, &finance, &weekly_id, &weekly, 200_000, 300_000,
    )
    .await;
    earn(
        &app,
        &owner,
        &finance,
        &monthly_id,
        &monthly,
        420_000,
        420_000,
    )
    .await;
    earn(
        &app,
        &owner,
        &finance,
        &default_id,
        &default,
        150_000,
        150_000,
    )
    .await;
    let (b4, lines) = batch(&app, &finance).await;
    let w = line_of(&lines, &weekly_id);
    assert_eq!(
        (pesos(&w["amount"]), pesos(&w["withholding"])),
        (300_000, 12_000)
    );
    let m = line_of(&lines, &monthly_id);
    assert_eq!(
        (pesos(&m["amount"]), pesos(&m["withholding"])),
        (420_000, 16_800)
    );
    let d = line_of(&lines, &default_id);
    assert_eq!(
        (pesos(&d["amount"]), pesos(&d["withholding"])),
        (150_000, 9_000)
    );
    confirm(&app, &finance, &b4, &lines, None).await;

    // The withholding account holds what the lines that were paid withheld.
    let r = app
        .get(
            "/v1/ledger/accounts/platform:withholding_payable",
            Some(&finance),
        )
        .await;
    assert_eq!(
        r.ok(200)["balance"],
        (-(16_800 + 16_800 + 9_000)).to_string()
    );
    assert_ledger_invariants(&app.db).await;

    // Her statement: 420,000 paid in the month, 16,800 withheld, and a net that is what the
    // bank confirmed (the failed line counted in neither).
    let month = Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .format("%Y-%m")
        .to_string();
    let job = app
        .run_job(&finance, "/v1/statement-runs", json!({"month": month}))
        .await;
    assert!(
        job["result"]["new_versions"].as_u64().unwrap() >= 3,
        "{job}"
    );
    for (id, token, paid, withheld) in [
        (&weekly_id, &weekly, 420_000, 16_800),
        (&monthly_id, &monthly, 420_000, 16_800),
        (&default_id, &default, 150_000, 9_000),
    ] {
        let s = app
            .get(&format!("/v1/workers/{id}/statements/{month}"), Some(token))
            .await;
        let s = s.ok(200);
        assert_eq!(s["paid_gross"], paid.to_string(), "{s}");
        assert_eq!(s["withholding"], withheld.to_string(), "{s}");
        assert_eq!(s["net"], (paid - withheld).to_string(), "{s}");
        assert_eq!(s["net"], s["paid_out"], "{s}");
        let csv = app
            .get(
                &format!("/v1/workers/{id}/statements/{month}/csv"),
                Some(token),
            )
            .await;
        assert!(
            csv.text.contains(&format!("resumen,retencion,{withheld}")),
            "{}",
            csv.text
        );
    }
}
