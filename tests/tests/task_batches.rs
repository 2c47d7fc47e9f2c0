//! Task batches (issue 17 §1): a company posts many tasks from a template and a spreadsheet,
//! sees what they all cost, publishes or cancels them together and downloads the results. A
//! bad file is refused whole, every bad row named, and creates nothing.

use std::time::Duration;

use serde_json::{Value, json};
use vereda_store::on_db;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::*;

fn template(pricing: Value, slots: i64) -> Value {
    json!({
        "title": "Clasificar ticket ${ticket}",
        "instructions": "Lea el ticket ${ticket} de ${cliente} y clasifíquelo según la guía.",
        "category": "support",
        "required_skills": ["customer-support"],
        "pricing": pricing,
        "slots": slots,
        "claim_minutes": 600,
        "review_hours": 72,
        "acceptance": {"deliverable_url_required": true, "min_minutes": 0}
    })
}

fn hourly() -> Value {
    json!({"kind": "hourly", "rate": "18500", "max_hours": "1.5"})
}

/// Twenty rows as Excel in Spanish saves them: a BOM, semicolons, CRLF, a quoted cell.
fn twenty_rows() -> String {
    let mut csv = String::from("\u{feff}ticket;cliente;prioridad\r\n");
    for i in 1..=20 {
        let client = if i == 7 {
            "\"Café; Sur\"".to_string()
        } else {
            format!("Cliente {i}")
        };
        csv.push_str(&format!("T-{i:03};{client};alta\r\n"));
    }
    csv
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    on_db!(&app.db, |p| sqlx::query_scalar(sql).fetch_one(p).await).unwrap()
}

async fn post_batch(app: &TestApp, owner: &str, body: Value, key: Option<&str>) -> Resp {
    let mut req = app
        .client
        .post(app.url("/v1/task-batches"))
        .bearer_auth(owner)
        .json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    app.send(req).await
}

#[tokio::test]
async fn a_semicolon_file_makes_twenty_drafts_costed_then_published_together() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Soporte Andino").await;
    let (_, worker) = app.worker(&admin, &["customer-support"]).await;

    let r = post_batch(
        &app,
        &owner,
        json!({"template": template(hourly(), 2), "csv": twenty_rows()}),
        None,
    )
    .await;
    let batch = r.ok(201).clone();
    assert_eq!(batch["status"], "draft");
    assert_eq!(batch["task_count"], 20);
    assert_eq!(batch["slots_per_task"], 2);
    assert_eq!(batch["company_id"], company.as_str());
    assert_eq!(batch["columns"], json!(["ticket", "cliente", "prioridad"]));
    assert_eq!(batch["title"], "Clasificar ticket ${ticket}");
    // 40 slots × 18.500 × 1,5 h = 1.110.000 of work; fee 20 % and IVA 19 % on the fee, as
    // one amount (the way one invoice prices them).
    assert_eq!(batch["cost"]["work"], "1110000");
    assert_eq!(batch["cost"]["fee"], "222000");
    assert_eq!(batch["cost"]["vat"], "42180");
    assert_eq!(batch["cost"]["total"], "1374180");
    assert_eq!(batch["preview"].as_array().unwrap().len(), 5);
    assert_eq!(batch["preview"][0]["title"], "Clasificar ticket T-001");
    assert_eq!(batch["preview"][0]["line"], 2);
    assert_eq!(
        batch["preview"][0]["inputs"][1],
        json!({"column": "cliente", "value": "Cliente 1"})
    );
    let id = batch["id"].as_str().unwrap().to_string();

    // The same batch read back: same cost, same preview; nothing open yet.
    let read = app
        .get(&format!("/v1/task-batches/{id}"), Some(&owner))
        .await;
    let read = read.ok(200);
    assert_eq!(read["cost"], batch["cost"]);
    assert_eq!(read["preview"], batch["preview"]);
    assert_eq!(read["progress"]["open_slots"], 0);
    let board = app.get("/v1/tasks", Some(&worker)).await;
    assert_eq!(board.ok(200)["items"].as_array().unwrap().len(), 0);

    // The seventh row's quoted cell kept its semicolon, and every task knows its batch.
    let tasks = app.get("/v1/tasks?limit=100", Some(&owner)).await;
    let tasks = tasks.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 20);
    assert!(tasks.iter().all(|t| t["batch_id"] == id.as_str()));
    let seventh = tasks
        .iter()
        .find(|t| t["title"] == "Clasificar ticket T-007")
        .unwrap();
    assert_eq!(
        seventh["instructions"],
        "Lea el ticket T-007 de Café; Sur y clasifíquelo según la guía."
    );

    let published = app
        .post(
            &format!("/v1/task-batches/{id}/publish"),
            Some(&owner),
            json!({}),
        )
        .await;
    let published = published.ok(200);
    assert_eq!(published["status"], "open");
    assert_eq!(published["progress"]["open_slots"], 40);
    let board = app.get("/v1/tasks?limit=100", Some(&worker)).await;
    assert_eq!(board.ok(200)["items"].as_array().unwrap().len(), 20);
    let again = app
        .post(
            &format!("/v1/task-batches/{id}/publish"),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(again.problem(409).code(), "not_a_draft");

    // A claim shows as work in progress.
    let task = tasks[0]["id"].as_str().unwrap();
    app.send(
        app.client
            .post(app.url(&format!("/v1/tasks/{task}/claims")))
            .bearer_auth(&worker),
    )
    .await
    .ok(201);
    let read = app
        .get(&format!("/v1/task-batches/{id}"), Some(&owner))
        .await;
    assert_eq!(read.ok(200)["progress"]["in_progress"], 1);
    assert_eq!(read.body["progress"]["open_slots"], 39);
    let list = app.get("/v1/task-batches", Some(&owner)).await;
    assert_eq!(list.ok(200)["items"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_file_with_bad_rows_is_refused_whole_naming_each_and_creates_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Soporte Andino").await;
    let csv = "ticket,cliente,nota\nT-1,Tienda,\nT-2,,urgente\nT-3,Café\nT-4,Sur,\n";
    let r = post_batch(
        &app,
        &owner,
        json!({"template": template(hourly(), 1), "csv": csv}),
        None,
    )
    .await;
    r.problem(422);
    assert_eq!(r.code(), "invalid_row");
    assert_eq!(r.field(), "csv");
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{}", r.text);
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(errors[0]["column"], "cliente");
    assert_eq!(
        errors[0]["detail_es"],
        "Fila 3, columna «cliente»: está vacía."
    );
    assert_eq!(errors[1]["line"], 4);
    assert!(errors[1]["column"].is_null());
    let es = r.body["detail_es"].as_str().unwrap();
    assert!(es.starts_with("El archivo tiene 2 filas con errores; no se creó ninguna tarea."));
    assert!(es.contains("Fila 3") && es.contains("Fila 4"), "{es}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tasks").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM task_batches").await, 0);

    // The file or the template as a whole.
    let cases = [
        (template(hourly(), 1), "".to_string(), "empty_file", "csv"),
        (
            template(hourly(), 1),
            "ticket;cliente\r\n".to_string(),
            "empty_file",
            "csv",
        ),
        (
            template(hourly(), 1),
            "ticket;ticket\nA;B\n".to_string(),
            "bad_header",
            "csv",
        ),
        (
            template(hourly(), 1),
            "ticket\nT-1\n".to_string(),
            "unknown_placeholder",
            "template",
        ),
        (
            template(hourly(), 1),
            format!("ticket,cliente\n{}", "T,C\n".repeat(1001)),
            "too_many_rows",
            "csv",
        ),
        (
            template(
                json!({"kind": "hourly", "rate": "5000", "max_hours": "2"}),
                1,
            ),
            "ticket,cliente\nT,C\n".to_string(),
            "below_minimum_wage",
            "template.pricing.rate",
        ),
        (
            template(hourly(), 0),
            "ticket,cliente\nT,C\n".to_string(),
            "validation_failed",
            "template.slots",
        ),
    ];
    for (template, csv, code, field) in cases {
        let r = post_batch(
            &app,
            &owner,
            json!({"template": template, "csv": csv}),
            None,
        )
        .await;
        r.problem(422);
        assert_eq!((r.code(), r.field()), (code, field), "{}", r.text);
        assert!(!r.body["detail_es"].as_str().unwrap().is_empty());
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tasks").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM task_batches").await, 0);
}

#[tokio::test]
async fn only_the_owner_posts_and_only_the_company_sees_its_batches() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Soporte Andino").await;
    let reviewer = app.reviewer(&owner, &company).await;
    let (_, other_owner) = app.company(&admin, "Otra").await;
    let (_, worker) = app.worker(&admin, &["customer-support"]).await;
    let body = json!({"template": template(hourly(), 1), "csv": "ticket,cliente\nT,C\n"});
    for token in [&reviewer, &worker] {
        let r = post_batch(&app, token, body.clone(), None).await;
        r.problem(403);
    }
    let id = post_batch(&app, &owner, body, None).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!("/v1/task-batches/{id}"), Some(&reviewer))
        .await
        .ok(200);
    for path in ["", "/results.csv"] {
        let r = app
            .get(&format!("/v1/task-batches/{id}{path}"), Some(&other_owner))
            .await;
        r.problem(404);
        app.get(&format!("/v1/task-batches/{id}{path}"), Some(&worker))
            .await
            .problem(403);
    }
    for action in ["publish", "cancel"] {
        let path = format!("/v1/task-batches/{id}/{action}");
        app.post(&path, Some(&other_owner), json!({}))
            .await
            .problem(404);
        app.post(&path, Some(&reviewer), json!({}))
            .await
            .problem(403);
    }
    let theirs = app.get("/v1/task-batches", Some(&other_owner)).await;
    assert_eq!(theirs.ok(200)["items"].as_array().unwrap().len(), 0);
    app.get(&format!("/v1/task-batches/{id}"), Some(&admin))
        .await
        .ok(200);
}

#[tokio::test]
async fn uploading_again_with_the_same_key_creates_one_batch_even_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Soporte Andino").await;
    let body = json!({"template": template(hourly(), 1), "csv": twenty_rows()});
    let answers = futures::future::join_all(
        (0..6).map(|_| post_batch(&app, &owner, body.clone(), Some("lote-octubre-1"))),
    )
    .await;
    let mut ids = std::collections::BTreeSet::new();
    for r in &answers {
        match r.status {
            201 => {
                ids.insert(r.body["id"].as_str().unwrap().to_string());
            }
            // A duplicate that ran at the very same time is told to retry.
            409 => assert_eq!(r.code(), "idempotency_key_in_use", "{}", r.text),
            _ => panic!("unexpected answer {}", r.text),
        }
    }
    let again = post_batch(&app, &owner, body.clone(), Some("lote-octubre-1")).await;
    ids.insert(again.ok(201)["id"].as_str().unwrap().to_string());
    assert_eq!(ids.len(), 1, "one batch for one key: {ids:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM task_batches").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tasks").await, 20);
    // The same key with another file is a different request.
    let other = json!({"template": template(hourly(), 1), "csv": "ticket,cliente\nT,C\n"});
    let r = post_batch(&app, &owner, other, Some("lote-octubre-1")).await;
    assert_eq!(r.problem(422).code(), "idempotency_key_reused");
}

#[tokio::test]
async fn results_carry_inputs_and_work_defused_and_cancelling_releases_claims() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Soporte Andino").await;
    let (_, worker) = app.worker(&admin, &["customer-support"]).await;
    let (_, other) = app.worker(&admin, &["customer-support"]).await;
    let csv = "ticket,cliente\nT-1,=HYPERLINK(\"http://x\")\nT-2,Sur\nT-3,Norte\n";
    let batch = post_batch(
        &app,
        &owner,
        json!({"template": template(hourly(), 1), "csv": csv}),
        None,
    )
    .await;
    let id = batch.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/task-batches/{id}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let tasks = app.get("/v1/tasks?limit=100", Some(&owner)).await;
    let task_of = |title: &str| {
        tasks.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["title"] == title)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let claim = |token: String, task: String| {
        let app = &app;
        async move {
            app.send(
                app.client
                    .post(app.url(&format!("/v1/tasks/{task}/claims")))
                    .bearer_auth(token),
            )
            .await
            .ok(201)["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // T-1: worked 45 minutes, approved for 30 with a reason.
    let done = claim(worker.clone(), task_of("Clasificar ticket T-1")).await;
    let end = chrono::Utc::now() - chrono::Duration::minutes(1);
    app.post(
        &format!("/v1/assignments/{done}/time-entries"),
        Some(&worker),
        json!({"started_at": (end - chrono::Duration::minutes(45)).to_rfc3339(),
               "ended_at": end.to_rfc3339()}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/assignments/{done}/submission"),
        Some(&worker),
        json!({"deliverable_url": "https://docs.example/t-1", "notes": "-Prioridad alta"}),
    )
    .await
    .ok(200);
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(&format!("/v1/assignments/{done}"), Some(&owner))
            .await;
        (r.body["status"] == "verified").then_some(())
    })
    .await
    .expect("verified");
    app.post(
        &format!("/v1/assignments/{done}/review"),
        Some(&owner),
        json!({"decision": "approve", "approved_seconds": 1800,
               "reason": "Media hora bastaba."}),
    )
    .await
    .ok(200);
    // T-2: claimed by the other worker, still working when the batch is cancelled.
    let working = claim(other.clone(), task_of("Clasificar ticket T-2")).await;
    // The accrual is the worker's job: wait until the amount is known.
    let results = eventually(Duration::from_secs(60), || async {
        let r = app
            .get(&format!("/v1/task-batches/{id}/results.csv"), Some(&owner))
            .await;
        r.text.contains("9250").then_some(r)
    })
    .await
    .expect("the approved work's amount in the results");
    assert!(results.content_type.starts_with("text/csv"));
    assert!(
        results.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("resultados-lote-{id}.csv"))
    );
    let mut lines = results.text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Input.ticket,Input.cliente,tarea,asignacion,estado,enlace_entregable,notas,\
         segundos_trabajados,segundos_aprobados,motivo,valor,estado_codigo"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "{}", results.text);
    let t1 = format!(
        "T-1,\"'=HYPERLINK(\"\"http://x\"\")\",{},{done},aprobada,https://docs.example/t-1,\
         '-Prioridad alta,2700,1800,Media hora bastaba.,9250,approved",
        task_of("Clasificar ticket T-1")
    );
    assert_eq!(rows[0], t1);
    assert!(rows[1].starts_with("T-2,Sur,"), "{}", rows[1]);
    assert!(
        rows[1].contains(&format!(",{working},en curso,")),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].contains(",,sin tomar,,,,,,,unclaimed"),
        "{}",
        rows[2]
    );

    let progress = app
        .get(&format!("/v1/task-batches/{id}"), Some(&owner))
        .await;
    let p = &progress.ok(200)["progress"];
    assert_eq!(
        (&p["approved"], &p["in_progress"], &p["open_slots"]),
        (&json!(1), &json!(1), &json!(1))
    );

    // Cancelling the batch cancels its open tasks and releases the claim being worked.
    let cancelled = app
        .post(
            &format!("/v1/task-batches/{id}/cancel"),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.ok(200)["status"], "cancelled");
    let a = app
        .get(&format!("/v1/assignments/{working}"), Some(&other))
        .await;
    assert_eq!(a.ok(200)["status"], "released");
    let approved = app
        .get(&format!("/v1/assignments/{done}"), Some(&worker))
        .await;
    assert_eq!(approved.ok(200)["status"], "approved");
    let again = app
        .post(
            &format!("/v1/task-batches/{id}/cancel"),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(again.problem(409).code(), "already_cancelled");
    assert_ledger_invariants(&app.db).await;
}

/// What the batch showed is what the invoice bills: every slot approved, then billed.
#[tokio::test]
async fn the_batch_cost_shown_is_the_invoice_billed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (company, owner) = app.company(&admin, "Soporte Andino").await;
    let fixed = json!({"kind": "fixed", "price": "33359", "estimated_hours": "2"});
    let batch = post_batch(
        &app,
        &owner,
        json!({"template": template(fixed, 1), "csv": "ticket,cliente\nA,1\nB,2\nC,3\n"}),
        None,
    )
    .await;
    let batch = batch.ok(201).clone();
    let id = batch["id"].as_str().unwrap();
    app.post(
        &format!("/v1/task-batches/{id}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let tasks = app.get("/v1/tasks?limit=100", Some(&owner)).await;
    for t in tasks.ok(200)["items"].as_array().unwrap() {
        let (_, worker) = app.worker(&admin, &["customer-support"]).await;
        let task = t["id"].as_str().unwrap();
        let a = app
            .send(
                app.client
                    .post(app.url(&format!("/v1/tasks/{task}/claims")))
                    .bearer_auth(&worker),
            )
            .await;
        let a = a.ok(201)["id"].as_str().unwrap().to_string();
        app.post(
            &format!("/v1/assignments/{a}/submission"),
            Some(&worker),
            json!({"deliverable_url": "https://docs.example/x"}),
        )
        .await
        .ok(200);
        eventually(Duration::from_secs(60), || async {
            let r = app.get(&format!("/v1/assignments/{a}"), Some(&owner)).await;
            (r.body["status"] == "verified").then_some(())
        })
        .await
        .expect("verified");
        app.post(
            &format!("/v1/assignments/{a}/review"),
            Some(&owner),
            json!({"decision": "approve"}),
        )
        .await
        .ok(200);
    }
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    // Accruals are the worker's: wait for all three before billing.
    eventually(Duration::from_secs(60), || async {
        (count(&app, "SELECT COUNT(*) FROM accruals").await == 3).then_some(())
    })
    .await
    .expect("three accruals");
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    let r = app
        .get(
            &format!("/v1/invoices?company_id={company}"),
            Some(&finance),
        )
        .await;
    let invoice = &r.ok(200)["items"][0];
    for field in ["work", "fee", "vat", "total"] {
        assert_eq!(
            invoice[field], batch["cost"][field],
            "{field}: shown {}, billed {invoice}",
            batch["cost"]
        );
    }
    assert_ledger_invariants(&app.db).await;
}
