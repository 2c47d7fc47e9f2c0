//! A copy of everything held about a worker (issue 22 §3): every table that is about her is in
//! it, with her rows as stored, and no secret; only she and the admins get it, and an admin's
//! copy is in her log of who read her data.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use vereda_store::on_db;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

/// Tables with a `worker_id` column whose rows are not hers to receive as such: an invoice
/// line is the company's document (her share of it is in `earnings`).
const NOT_HERS: &[&str] = &["invoice_lines"];

#[tokio::test]
async fn the_copy_holds_everything_about_her_and_nothing_secret() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    eventually(Duration::from_secs(60), || async {
        (app.payable(&a.finance, &a.worker_id).await == "-48485").then_some(())
    })
    .await
    .expect("accrued");
    let month = Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .format("%Y-%m")
        .to_string();
    app.run_job(&a.finance, "/v1/statement-runs", json!({ "month": month }))
        .await;
    app.run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;

    let path = format!("/v1/workers/{}/data-export", a.worker_id);
    let copy = app.get(&path, Some(&a.worker)).await;
    let copy = copy.ok(200).clone();
    let s = &copy["sections"];
    let first = |section: &str| s[section][0].clone();
    assert_eq!(first("profile")["document_id"], "1012345678");
    assert!(
        first("profile")["payout_method"]
            .as_str()
            .unwrap()
            .contains("3105551234")
    );
    assert_eq!(first("account")["email"], app.email_of(&a.worker).await);
    assert_eq!(first("assignments")["id"], a.assignment.as_str());
    assert_eq!(first("earnings")["work"], 4_848_500, "centavos, as stored");
    for section in [
        "skills",
        "assignment_history",
        "time_entries",
        "payouts",
        "statements",
        "emails",
    ] {
        assert!(
            !s[section].as_array().unwrap().is_empty(),
            "{section} is empty: {copy}"
        );
    }
    let text = copy.to_string();
    for secret in ["password_hash", "token_hash", "$argon2"] {
        assert!(!text.contains(secret), "{secret} in the copy");
    }

    // Every table that is about a worker is in it.
    let sql = match &app.db {
        vereda_store::db::Db::Sqlite(_) => {
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'worker_id'"
        }
        vereda_store::db::Db::Postgres(_) => {
            "SELECT table_name::text FROM information_schema.columns \
             WHERE column_name = 'worker_id' AND table_schema = 'public'"
        }
    };
    let tables: Vec<String> =
        on_db!(&app.db, |p| sqlx::query_scalar(sql).fetch_all(p).await).unwrap();
    let covered: BTreeSet<&str> = vereda_store::data_export::SECTIONS
        .iter()
        .flat_map(|(_, sql)| sql.split_whitespace().skip_while(|w| *w != "FROM").nth(1))
        .collect();
    let missing: Vec<&String> = tables
        .iter()
        .filter(|t| !covered.contains(t.as_str()) && !NOT_HERS.contains(&t.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "tables about workers not in the copy: {missing:?}"
    );

    // Only she and the admins; an admin's copy is logged for her to see.
    let (_, other) = app.worker(&a.admin, &["data-cleaning"]).await;
    app.get(&path, Some(&other)).await.problem(404);
    app.get(&path, Some(&a.finance)).await.problem(403);
    app.get(&path, Some(&a.owner)).await.problem(403);
    app.get(&path, Some(&a.admin)).await.ok(200);
    let log = app
        .get(
            &format!("/v1/workers/{}/data-access", a.worker_id),
            Some(&a.worker),
        )
        .await;
    let newest: Value = log.ok(200)["items"][0].clone();
    assert_eq!(newest["route"], "GET /v1/workers/{id}/data-export");
    app.get("/v1/workers/no-such-worker/data-export", Some(&a.admin))
        .await
        .problem(404);

    // The same copy as a PDF she can read: every section titled in Spanish, her records.
    let r = app
        .client
        .get(app.url(&format!("{path}/pdf")))
        .bearer_auth(&a.worker)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        for expected in [
            "Copia de sus datos personales",
            "Perfil (1)",
            "Tareas tomadas",
            "Registros de tiempo",
            "Ganancias causadas",
            "Autorizaciones para datos sensibles",
            "Chaparral",
        ] {
            assert!(
                text.contains(expected),
                "{expected} not in the PDF:\n{text}"
            );
        }
    }
}
