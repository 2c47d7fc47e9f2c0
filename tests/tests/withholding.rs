//! Withholding on payouts by the worker's fiscal profile (issue 20 §3), over HTTP on the real
//! worker: a month paid in four weekly batches withholds exactly what one monthly payout of
//! the same total does, a line the bank failed is not counted (the next one makes up for it),
//! the withholding account holds what was withheld, and the month's statement shows the
//! withholding and a net that is what the bank paid.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::*;

/// A fixed-price task for `worker` at `price`, approved; wait until her payable balance is
/// `then_owed` pesos.
async fn earn(
    app: &TestApp,
    (owner, finance): (&str, &str),
    (worker_id, worker): (&str, &str),
    price: i64,
    then_owed: i64,
) {
    let title = format!("Clasificar tiquetes {}", short_id());
    app.approved_fixed_work(owner, &title, "data-entry", price, &[worker])
        .await;
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
    earn(
        &app,
        (&owner, &finance),
        (&weekly_id, &weekly),
        60_000,
        60_000,
    )
    .await;
    let (b1, lines) = batch(&app, &finance).await;
    assert_eq!(lines.len(), 1);
    let l = line_of(&lines, &weekly_id);
    assert_eq!((pesos(&l["amount"]), pesos(&l["withholding"])), (60_000, 0));
    confirm(&app, &finance, &b1, &lines, None).await;

    // Week 2: 60,000 more crosses the base: 4 % of the month's 120,000, all on this line.
    earn(
        &app,
        (&owner, &finance),
        (&weekly_id, &weekly),
        60_000,
        60_000,
    )
    .await;
    let (b2, lines) = batch(&app, &finance).await;
    let l = line_of(&lines, &weekly_id);
    assert_eq!(
        (pesos(&l["amount"]), pesos(&l["withholding"])),
        (60_000, 4_800)
    );
    confirm(&app, &finance, &b2, &lines, None).await;

    // Week 3: 100,000 withholds 4,000 (the month owes 8,800)... and the bank fails it.
    earn(
        &app,
        (&owner, &finance),
        (&weekly_id, &weekly),
        100_000,
        100_000,
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
        &app,
        (&owner, &finance),
        (&weekly_id, &weekly),
        200_000,
        300_000,
    )
    .await;
    earn(
        &app,
        (&owner, &finance),
        (&monthly_id, &monthly),
        420_000,
        420_000,
    )
    .await;
    earn(
        &app,
        (&owner, &finance),
        (&default_id, &default),
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
    // She declared her PILA for the month: the statement compares it with its estimate.
    app.put(
        &format!("/v1/workers/{weekly_id}/social-security/{month}"),
        Some(&weekly),
        json!({"planilla": "8512345678", "health": "218900", "pension": "280200"}),
    )
    .await
    .ok(200);
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
        if id == &weekly_id {
            let ss = &s["social_security"];
            assert_eq!(ss["declared_planilla"], "8512345678", "{ss}");
            assert_eq!(ss["declared_health"], "218900", "{ss}");
            let note = ss["note"].as_str().unwrap();
            assert!(
                note.contains("Declaró la planilla PILA 8512345678"),
                "{note}"
            );
        } else {
            assert!(s["social_security"].get("declared_planilla").is_none());
        }
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

    // Finance's report for the month: by concept and rule, the failed line in neither, and the
    // withholding account's movement equal to it to the peso (4,000 credited on the failed
    // line came back out when the bank failed it).
    let r = app
        .get(&format!("/v1/withholding-reports/{month}"), Some(&finance))
        .await;
    let r = r.ok(200).clone();
    assert_eq!(
        r["rows"],
        json!([
            {"concept": "services", "rule": "below_base", "payments": 1, "payees": 1,
             "paid": "60000", "withheld": "0"},
            {"concept": "services", "rule": "rate", "payments": 4, "payees": 3,
             "paid": "930000", "withheld": "42600"},
        ]),
        "{r}"
    );
    assert_eq!(
        (&r["paid"], &r["withheld"]),
        (&json!("990000"), &json!("42600"))
    );
    assert_eq!(r["account_movement"], r["withheld"]);
    let csv = app
        .get(
            &format!("/v1/withholding-reports/{month}/csv"),
            Some(&finance),
        )
        .await;
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    for line in [
        "concepto,regla,pagos,personas,base,retenido",
        "Servicios,Tarifa del concepto,4,3,930000,42600",
        "Total,,5,,990000,42600",
    ] {
        assert!(csv.text.contains(line), "{line} not in\n{}", csv.text);
    }
    app.get(&format!("/v1/withholding-reports/{month}"), Some(&weekly))
        .await
        .problem(403);

    // The year's certificates: one per worker paid, e-mailed with its PDF, verifiable.
    let year = &month[..4];
    let job = app
        .run_job(
            &finance,
            "/v1/certificate-runs",
            json!({"year": year.parse::<i64>().unwrap()}),
        )
        .await;
    assert_eq!(job["kind"], "certificate_run");
    assert_eq!(job["result"]["workers"], 3, "{job}");
    assert_eq!(job["result"]["new_versions"], 3, "{job}");
    let path = format!("/v1/workers/{weekly_id}/certificates/{year}");
    let c = app.get(&path, Some(&weekly)).await.ok(200).clone();
    assert_eq!(
        c["by_concept"],
        json!([{"concept": "services", "label": "Servicios", "payments": 3,
                "paid": "420000", "withheld": "16800"}]),
        "{c}"
    );
    assert_eq!(
        (&c["paid"], &c["withheld"], &c["net"]),
        (&json!("420000"), &json!("16800"), &json!("403200"))
    );
    assert_eq!(c["version"], 1);
    app.get(&path, Some(&monthly)).await.problem(404);
    app.get(&path, Some(&finance)).await.ok(200);
    let pdf = app
        .client
        .get(app.url(&format!("{path}/pdf")))
        .bearer_auth(&weekly)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap().to_vec();
    if let Some(text) = vereda_tests::pdf::pdf_text(&bytes) {
        for want in [
            "Certificado de ingresos y retenciones",
            &format!("Año gravable {year}"),
            "Servicios",
            "$ 420.000",
            "$ 16.800",
            "$ 403.200",
            c["verification_code"].as_str().unwrap(),
        ] {
            assert!(text.contains(want), "{want:?} not in the PDF:\n{text}");
        }
    }
    let code = c["verification_code"].as_str().unwrap();
    let v = app
        .get(&format!("/v1/statements/verify/{code}"), None)
        .await;
    let v = v.ok(200);
    assert_eq!(v["kind"], "certificate");
    assert_eq!(
        (&v["gross"], &v["withheld"], &v["net"]),
        (&json!("420000"), &json!("16800"), &json!("403200"))
    );
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("Certificado de ingresos y retenciones"),
        "{v}"
    );
    // Each was e-mailed once, with its PDF; a second run changes nothing.
    let mailed: i64 = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox_messages WHERE kind = 'withholding_certificate' \
         AND attachment_document IS NOT NULL"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(mailed, 3);
    let again = app
        .run_job(
            &finance,
            "/v1/certificate-runs",
            json!({"year": year.parse::<i64>().unwrap()}),
        )
        .await;
    assert_eq!(again["result"]["new_versions"], 0, "{again}");
    assert_ledger_invariants(&app.db).await;
}

/// A worker paid to Nequi: warned past 65 UVT in the month, and a payout that would take the
/// wallet past 210.5 UVT held (no line, her balance kept, told why in Spanish).
#[tokio::test]
async fn a_low_amount_wallet_is_warned_then_held_at_its_monthly_limit() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Soporte Andino").await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;

    // 3,700,000 less 6 % (no profile: a non-filer) sends 3,478,000: past 65 UVT (3,404,310).
    earn(
        &app,
        (&owner, &finance),
        (&worker_id, &worker),
        3_700_000,
        3_700_000,
    )
    .await;
    let (b1, lines) = batch(&app, &finance).await;
    assert_eq!(pesos(&line_of(&lines, &worker_id)["withholding"]), 222_000);
    let b = app
        .get(&format!("/v1/payout-batches/{b1}"), Some(&finance))
        .await;
    let notices = b.ok(200)["notices"].as_array().unwrap().clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["code"], "gmf_taxed");
    assert_eq!(notices[0]["held"], false);
    assert!(
        notices[0]["message"]
            .as_str()
            .unwrap()
            .contains("$ 3.404.310")
    );

    // 8,100,000 more would send 7,614,000: 11,092,000 in the month, past 210.5 UVT
    // (11,024,727). Held: no line, and her balance stays payable.
    earn(
        &app,
        (&owner, &finance),
        (&worker_id, &worker),
        8_100_000,
        8_100_000,
    )
    .await;
    let job = app.run_job(&finance, "/v1/payout-batches", json!({})).await;
    let b2 = job["subject_id"].as_str().unwrap().to_string();
    let b = app
        .get(&format!("/v1/payout-batches/{b2}"), Some(&finance))
        .await;
    let b = b.ok(200).clone();
    assert_eq!(b["lines"], json!([]), "{b}");
    assert_eq!(b["notices"][0]["code"], "gmf_held", "{b}");
    assert_eq!(b["notices"][0]["held"], true);
    assert_eq!(b["notices"][0]["worker_name"], "Luz Teletrabajadora");
    let said = b["notices"][0]["message"].as_str().unwrap();
    assert!(
        said.contains("$ 7.614.000") && said.contains("Bre-B"),
        "{said}"
    );
    assert_eq!(app.payable(&finance, &worker_id).await, "-8100000");
    // She is told by e-mail.
    let told = eventually(Duration::from_secs(60), || async {
        let n: i64 = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox_messages WHERE kind = 'payout_notice' \
             AND subject = 'Su pago quedó retenido'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        (n == 1).then_some(())
    })
    .await;
    assert!(told.is_some(), "the held payout's e-mail");
    assert_ledger_invariants(&app.db).await;
}
