//! Many writers at once never see the database's own contention. 32 workers race for the slots
//! of two tasks, then all log time entries, sync offline batches and read their timesheets at
//! the same moment, while the company keeps posting tasks, finance starts billing and
//! statement runs, the in-process worker verifies their submissions and sweeps every second. On SQLite (one writer at a
//! time) no client may get a 5xx or a "database is locked"; every accepted entry is there
//! afterwards. Runs on PostgreSQL too when `VEREDA_TEST_POSTGRES_URL` is set.

use std::time::Instant;

use futures::future::join_all;
use serde_json::{Value, json};
use vereda_tests::*;

const CLIENTS: usize = 32;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

fn now() -> i64 {
    vereda_contracts::time::unix(vereda_contracts::time::now())
}

fn rfc(t: i64) -> String {
    vereda_contracts::time::from_unix(t).to_rfc3339()
}

fn hourly_task(slots: usize) -> Value {
    json!({
        "title": "Digitar formularios de la cooperativa",
        "instructions": "Pasar los formularios escaneados a la hoja compartida.",
        "category": "data-entry",
        "required_skills": ["data-entry"],
        "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "40"},
        "slots": slots,
        "claim_minutes": 2880,
        "review_hours": 72
    })
}

/// Fails the test on any answer that shows the database's contention or a server error.
#[track_caller]
fn clean(what: &str, r: &Resp) {
    assert!(
        r.status < 500,
        "{what}: {} {} (a client must never see a server error)",
        r.status,
        r.text
    );
    assert!(
        !r.text.to_lowercase().contains("locked"),
        "{what}: {} {}",
        r.status,
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_writers_never_see_database_is_locked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Cooperativa del Tolima").await;
    let workers: Vec<String> =
        join_all((0..CLIENTS).map(|_| async { app.worker(&admin, &["data-entry"]).await.1 })).await;
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let r = app
            .post("/v1/tasks", Some(&owner), hourly_task(CLIENTS / 2))
            .await;
        let task = r.ok(201)["id"].as_str().unwrap().to_string();
        app.post(
            &format!("/v1/tasks/{task}/publish"),
            Some(&owner),
            json!({}),
        )
        .await
        .ok(200);
        tasks.push(task);
    }

    // Round 1: everyone claims the first task at once; those who find it full take the second.
    let (app, tasks) = (&app, &tasks);
    let claims = join_all(workers.iter().map(|w| async move {
        let mut got = None;
        for task in tasks.iter() {
            let r = app
                .send(
                    app.client
                        .post(app.url(&format!("/v1/tasks/{task}/claims")))
                        .bearer_auth(w),
                )
                .await;
            clean("claim", &r);
            if r.status == 201 {
                got = Some(r.body["id"].as_str().unwrap().to_string());
                break;
            }
            assert_eq!(r.status, 409, "a full task refuses with 409: {}", r.text);
        }
        got.expect("32 slots for 32 workers")
    }))
    .await;

    // Round 2: all of them write at once, with the company, finance and the worker busy too.
    let t = now() - 2 * DAY;
    let started = Instant::now();
    let writers = workers.iter().zip(&claims).map(|(w, a)| async move {
        let mut accepted: i64 = 0;
        for k in 0..3 {
            let start = t + k * HOUR;
            let r = app
                .post(
                    &format!("/v1/assignments/{a}/time-entries"),
                    Some(w),
                    json!({"started_at": rfc(start), "ended_at": rfc(start + 1800)}),
                )
                .await;
            clean("time entry", &r);
            r.ok(201);
            accepted += 1800;
        }
        let batch: Vec<Value> = (0..3)
            .map(|k| {
                let start = t + 4 * HOUR + k * HOUR;
                json!({"client_id": format!("offline-{k}"), "assignment_id": a,
                       "started_at": rfc(start), "ended_at": rfc(start + 1800),
                       "source": "offline"})
            })
            .collect();
        for round in 0..2 {
            // The second sync repeats the first, as a phone that lost the answer would.
            let r = app
                .post("/v1/time-entries/sync", Some(w), json!({"entries": batch}))
                .await;
            clean("sync", &r);
            let body = r.ok(200);
            let expected = if round == 0 { "accepted" } else { "duplicates" };
            assert_eq!(body[expected], 3, "{body}");
        }
        accepted += 3 * 1800;
        let r = app.get("/v1/me/timesheet", Some(w)).await;
        clean("timesheet", &r);
        r.ok(200);
        // Submitting queues a verification job: the worker writes while the others still do.
        let r = app
            .post(
                &format!("/v1/assignments/{a}/submission"),
                Some(w),
                json!({"deliverable_url": "https://docs.example/hoja"}),
            )
            .await;
        clean("submission", &r);
        assert_eq!(r.ok(200)["status"], "submitted");
        (a.clone(), w.clone(), accepted)
    });
    let company = async {
        for i in 0..10 {
            let mut body = hourly_task(1);
            body["title"] = json!(format!("Tarea adicional {i}"));
            let r = app.post("/v1/tasks", Some(&owner), body).await;
            clean("new task", &r);
            r.ok(201);
        }
    };
    let finance_runs = async {
        let today = vereda_contracts::time::now()
            .with_timezone(&vereda_contracts::time::BOGOTA)
            .date_naive()
            .to_string();
        let r = app
            .post(
                "/v1/billing-runs",
                Some(&finance),
                json!({"period_end": today}),
            )
            .await;
        clean("billing run", &r);
        let billing = r.ok(202)["job_id"].as_str().unwrap().to_string();
        let month = &today[..7];
        let r = app
            .post(
                "/v1/statement-runs",
                Some(&finance),
                json!({"month": month}),
            )
            .await;
        clean("statement run", &r);
        let statements = r.ok(202)["job_id"].as_str().unwrap().to_string();
        (billing, statements)
    };
    let (written, (), (billing, statements)) =
        tokio::join!(join_all(writers), company, finance_runs);
    println!(
        "{} clients wrote {} entries each in {:?}",
        CLIENTS,
        6,
        started.elapsed()
    );

    // Everything accepted is there, and the jobs that ran alongside succeeded.
    for (assignment, worker, seconds) in &written {
        let r = app
            .get(
                &format!("/v1/assignments/{assignment}/time-entries"),
                Some(worker),
            )
            .await;
        assert_eq!(r.ok(200)["logged_seconds"], *seconds, "{assignment}");
    }
    for (assignment, worker, _) in &written {
        let verified = eventually(std::time::Duration::from_secs(60), || async {
            let r = app
                .get(&format!("/v1/assignments/{assignment}"), Some(worker))
                .await;
            clean("assignment", &r);
            (r.ok(200)["status"] != "submitted").then_some(())
        })
        .await;
        assert!(verified.is_some(), "the worker verified {assignment}");
    }
    for job in [billing, statements] {
        let state = app.wait_job(&finance, &job).await;
        assert_eq!(state["status"], "succeeded", "{state}");
    }
}
