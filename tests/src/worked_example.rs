//! DESIGN §4's worked example as a scenario: a worker logs 1:20:10 and 1:17:05 on an hourly
//! task at 18,500 COP/h, submits, passes verification and is approved (9,435 s → 48,485).

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use serde_json::json;

use crate::{TestApp, eventually};

/// Everyone and everything the example made, approved and ready to pay.
pub struct Approved {
    pub admin: String,
    pub finance: String,
    pub owner: String,
    pub company_id: String,
    pub worker_id: String,
    pub worker: String,
    pub task: String,
    pub assignment: String,
}

/// Post, claim, log, submit and approve the worked example.
pub async fn worked_example(app: &TestApp) -> Approved {
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (company_id, owner) = app.company(&admin, "Tienda Andina").await;
    let (worker_id, worker) = app.worker(&admin, &["data-cleaning"]).await;
    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Limpiar base de clientes", "instructions": "Quitar duplicados.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"},
                "slots": 1, "claim_minutes": 2880, "review_hours": 72
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
    // Two sessions worked earlier today: 1:20:10 and 1:17:05.
    let now = Utc::now();
    let entries = [
        (
            now - Span::seconds(6 * 3600),
            Span::seconds(3600 + 20 * 60 + 10),
        ),
        (
            now - Span::seconds(3 * 3600),
            Span::seconds(3600 + 17 * 60 + 5),
        ),
    ];
    for (start, length) in entries {
        app.post(
            &format!("/v1/assignments/{assignment}/time-entries"),
            Some(&worker),
            json!({"started_at": start.to_rfc3339(), "ended_at": (start + length).to_rfc3339()}),
        )
        .await
        .ok(201);
    }
    app.post(
        &format!("/v1/assignments/{assignment}/submission"),
        Some(&worker),
        json!({"deliverable_url": "https://docs.example/clientes"}),
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
    let r = app
        .post(
            &format!("/v1/assignments/{assignment}/review"),
            Some(&owner),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.ok(200)["approved_seconds"], 9435);
    Approved {
        admin,
        finance,
        owner,
        company_id,
        worker_id,
        worker,
        task,
        assignment,
    }
}
