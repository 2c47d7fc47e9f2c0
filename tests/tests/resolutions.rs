//! DIAN numbering resolutions (issue 19 §3), on the pass's database: admin records one, invoices
//! are numbered under it (prefix and consecutive from its first number), a range used up is
//! refused with its reason and nothing written, a new resolution carries on where DIAN says,
//! the ledger audit accepts the jump, and the admins are e-mailed once when a range is 80 %
//! used or a resolution has 30 days or fewer left.

use std::time::Duration;

use chrono::Duration as Days;
use serde_json::json;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::smtp::Received;
use vereda_tests::*;

fn subject(m: &Received) -> String {
    m.parsed().subject().unwrap_or_default().to_string()
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
}

async fn invoice_numbers(app: &TestApp) -> Vec<String> {
    vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT number FROM invoices ORDER BY seq"
    )
    .fetch_all(p)
    .await
    .unwrap())
}

#[tokio::test]
async fn invoices_are_numbered_under_the_resolution_in_force() {
    let (app, smtp, settings) = spawn_app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let path = "/v1/numbering-resolutions";
    let valid = json!({
        "kind": "invoice", "number": "18760000001", "prefix": "SETT",
        "from": 990000000, "to": 990000001,
        "valid_from": (today() - Days::days(30)).to_string(),
        "valid_until": (today() + Days::days(20)).to_string(),
        "technical_key": "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
    });

    // Refusals name their field; only admin records.
    let with = |key: &str, value: serde_json::Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    for (body, field, code) in [
        (
            with("prefix", json!("VRD-")),
            "prefix",
            "invalid_resolution",
        ),
        (with("to", json!(1)), "to", "invalid_resolution"),
        (
            with("technical_key", json!("  ")),
            "technical_key",
            "invalid_resolution",
        ),
        (
            with("valid_until", json!("2020-01-01")),
            "valid_until",
            "invalid_resolution",
        ),
        (with("kind", json!("receipt")), "kind", "validation_failed"),
        (
            with("number", json!("RES-1")),
            "number",
            "validation_failed",
        ),
    ] {
        let r = app.post(path, Some(&admin), body).await;
        r.problem(422);
        assert_eq!((r.code(), r.field()), (code, field), "{}", r.body);
    }
    app.post(path, Some(&finance), valid.clone())
        .await
        .problem(403);
    let r = app.get(path, Some(&finance)).await;
    assert_eq!(r.ok(200)["items"], json!([]), "nothing half-written");

    let recorded = app.post(path, Some(&admin), valid.clone()).await;
    let recorded = recorded.ok(201);
    assert_eq!(recorded["in_use"], true);
    assert_eq!(recorded["has_technical_key"], true);
    assert!(
        recorded.get("technical_key").is_none(),
        "the key is not shown"
    );

    // Two companies' work: two invoices, numbered from the range's start.
    let (_, first) = app.company(&admin, "Andina Digital").await;
    let (_, second) = app.company(&admin, "Café Sistemas").await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    app.approved_fixed_work(
        &first,
        "Digitar planillas",
        "data-entry",
        50_000,
        &[&worker],
    )
    .await;
    app.approved_fixed_work(&second, "Digitar actas", "data-entry", 40_000, &[&worker])
        .await;
    let today_s = today().to_string();
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today_s}))
        .await;
    let mut numbers = invoice_numbers(&app).await;
    numbers.sort();
    assert_eq!(numbers, ["SETT990000000", "SETT990000001"]);
    assert_ledger_invariants(&app.db).await;

    // A third company: the range is used up. The run leaves it out saying why and what to do;
    // no invoice, no number used.
    let (third_id, third) = app.company(&admin, "Tercera Ltda").await;
    app.approved_fixed_work(&third, "Clasificar fotos", "data-entry", 36_000, &[&worker])
        .await;
    let job = app
        .run_job(&finance, "/v1/billing-runs", json!({"period_end": today_s}))
        .await;
    let problems = job["result"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{job}");
    assert_eq!(problems[0]["subject"], format!("company:{third_id}"));
    assert!(
        problems[0]["error"]
            .as_str()
            .unwrap()
            .contains("range ends at 990000001"),
        "{job}"
    );
    assert!(
        problems[0]["action"]
            .as_str()
            .unwrap()
            .starts_with("Se acabó el rango de numeración autorizado (terminaba en 990000001)"),
        "{job}"
    );
    assert_eq!(invoice_numbers(&app).await.len(), 2);
    assert_ledger_invariants(&app.db).await;

    // The list says so, and what to ask DIAN for.
    let list = app.get(path, Some(&finance)).await;
    let item = &list.ok(200)["items"][0];
    assert_eq!(item["last_issued"], 990000001);
    assert_eq!(item["left"], 0);
    let warnings = item["warnings_es"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{item}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("Se han usado 2 de 2")
    );

    // The daily audit mails the admins once per warning, however often it runs.
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    vereda_worker::ledger_audit::record(&app.db, &settings, now)
        .await
        .unwrap();
    vereda_worker::ledger_audit::record(&app.db, &settings, now + 60)
        .await
        .unwrap();
    let mails = eventually(Duration::from_secs(90), || async {
        let m: Vec<Received> = smtp
            .messages()
            .into_iter()
            .filter(|m| subject(m).contains("nueva resolución de numeración"))
            .collect();
        (m.len() >= 2).then_some(m)
    })
    .await
    .expect("the admins are told");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let told: Vec<String> = smtp
        .messages()
        .iter()
        .filter(|m| subject(m).contains("nueva resolución de numeración"))
        .map(|m| m.parsed().body_text(0).unwrap_or_default().to_string())
        .collect();
    assert_eq!(told.len(), 2, "one e-mail per warning: {told:?}");
    assert!(told.iter().any(|t| t.contains("quedan 0")), "{told:?}");
    assert!(
        told.iter().any(|t| t.contains("faltan 20 días")),
        "{told:?}"
    );
    drop(mails);

    // DIAN authorises a new range: numbering carries on from its start.
    let renewed = json!({
        "kind": "invoice", "number": "18760000002", "prefix": "SETT",
        "from": 990000500, "to": 990001000,
        "valid_from": (today() - Days::days(1)).to_string(),
        "valid_until": (today() + Days::days(365)).to_string(),
        "technical_key": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
    });
    app.post(path, Some(&admin), renewed).await.ok(201);
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today_s}))
        .await;
    assert_eq!(invoice_numbers(&app).await.last().unwrap(), "SETT990000500");
    let list = app.get(path, Some(&admin)).await;
    let items = list.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["in_use"].clone(), items[1]["in_use"].clone()),
        (json!(true), json!(false))
    );
    // The audit accepts the jump to the new range's start, and only there.
    assert_ledger_invariants(&app.db).await;
}
