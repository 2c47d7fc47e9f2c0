//! Seeding the programme's people for the impact report's tests (`impact.rs`,
//! `web_impact.rs`): workers in a place, their consent, and approved work moved into a month.

use serde_json::json;
use vereda_contracts::statements::Month;

use crate::{PASSWORD, TestApp, short_id};

/// A worker enrolled in this place (no programme group), and her token.
pub async fn worker_in(
    app: &TestApp,
    admin: &str,
    municipality: &str,
    department: &str,
) -> (String, String) {
    let email = format!("w-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(admin),
            json!({
                "name": "Persona del Programa", "email": email, "password": PASSWORD,
                "municipality": municipality, "department": department,
                "skills": ["data-entry"],
                "payout_method": {"kind": "nequi", "phone": "3105551234"},
            }),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    (id, app.login(&email, PASSWORD).await)
}

/// Her consent to the text in force, with what she chose to give.
pub async fn consent(
    app: &TestApp,
    worker: &str,
    token: &str,
    baseline: Option<&str>,
    groups: &[&str],
) {
    let p = app.get("/v1/consent-policy", None).await.ok(200).clone();
    let mut body = json!({
        "policy_version": p["version"], "text_hash": p["text_hash"], "groups": groups
    });
    if let Some(b) = baseline {
        body["baseline_monthly_income"] = json!(b);
    }
    app.post(&format!("/v1/workers/{worker}/consent"), Some(token), body)
        .await
        .ok(200);
}

/// Move a task's accruals (the approval time is what the report counts by) into a month.
pub async fn approved_in(app: &TestApp, title: &str, month: Month, expected: i64) {
    crate::eventually(std::time::Duration::from_secs(60), || async {
        let n: i64 = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM accruals WHERE task_title = $1"
        )
        .bind(title)
        .fetch_one(p)
        .await
        .unwrap());
        (n == expected).then_some(())
    })
    .await
    .expect("accrued");
    vereda_store::on_db!(&app.db, |p| sqlx::query(
        "UPDATE accruals SET approved_at = $1 WHERE task_title = $2"
    )
    .bind(month.start() + 10 * 86_400)
    .bind(title)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
}
