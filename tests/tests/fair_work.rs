//! Fair work (issue 21) through the real API and worker, on each database: reasons with a
//! code and words, a rework round before any rejection, appeals decided by the platform that
//! pay and invoice, mass rejections held, a record companies see that never counts what was
//! overturned or held, review deadlines in Colombian business days, and paid qualifications.
//! The money tests end with the ledger invariants.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::*;
use vereda_worker::invoicing::{self, AccrueOutcome};

fn today() -> String {
    Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string()
}

fn task(slots: usize, extra: Value) -> Value {
    let mut t = json!({
        "title": "Revisar 300 fichas de inventario",
        "instructions": "Corregir fechas y borrar filas vacías según la guía.",
        "category": "data-cleaning",
        "required_skills": ["data-cleaning"],
        "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
        "slots": slots,
        "claim_minutes": 2880,
    });
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

async fn published(app: &TestApp, owner: &str, body: Value) -> String {
    let r = app.post("/v1/tasks", Some(owner), body).await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/v1/tasks/{id}/publish"), Some(owner), json!({}))
        .await
        .ok(200);
    id
}

async fn status_is(app: &TestApp, token: &str, a: &str, status: &str) -> Value {
    eventually(Duration::from_secs(60), || async {
        let r = app.get(&format!("/v1/assignments/{a}"), Some(token)).await;
        (r.body["status"] == status).then(|| r.body.clone())
    })
    .await
    .unwrap_or_else(|| panic!("assignment {a} never became {status}"))
}

/// Claim a slot of `task` and submit; returns the assignment once verified.
async fn verified_submission(app: &TestApp, owner: &str, worker: &str, task: &str) -> String {
    let a = app
        .post(&format!("/v1/tasks/{task}/claims"), Some(worker), json!({}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    submit(app, worker, &a).await;
    status_is(app, owner, &a, "verified").await;
    a
}

async fn submit(app: &TestApp, worker: &str, a: &str) {
    app.post(
        &format!("/v1/assignments/{a}/submission"),
        Some(worker),
        json!({"deliverable_url": "https://docs.example/fichas"}),
    )
    .await
    .ok(200);
}

fn actions(assignment: &Value) -> Vec<String> {
    assignment["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_send_back_needs_a_code_and_words_and_the_first_is_a_rework_round() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Ferretería El Tolima").await;
    let (_, worker) = app.worker(&admin, &["data-cleaning"]).await;
    let rubric = json!(["Fechas en AAAA-MM-DD", "Sin filas vacías"]);
    let t = published(&app, &owner, task(1, json!({"rubric": rubric}))).await;
    let seen = app.get(&format!("/v1/tasks/{t}"), Some(&owner)).await;
    let seen = seen.ok(200);
    assert_eq!(
        (
            &seen["rubric"],
            &seen["allows_changes"],
            &seen["review_business_days"]
        ),
        (&rubric, &json!(true), &json!(3)),
        "a rework round and three business days unless the company says otherwise"
    );
    let a = verified_submission(&app, &owner, &worker, &t).await;
    let review = format!("/v1/assignments/{a}/review");

    // A send-back without a code, or without words, is refused and changes nothing.
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "reject", "reason": "Las fechas están mal."}),
        )
        .await;
    r.problem(422);
    assert_eq!((r.code(), r.field()), ("validation_failed", "reason_code"));
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .contains("tipo de motivo")
    );
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "reject", "reason_code": "incomplete"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "reason");
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "reject", "reason": "x", "reason_code": "lazy"}),
        )
        .await;
    assert_eq!(r.problem(422).field(), "reason_code");
    // The first decision against it is a rework round, not a rejection.
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "reject", "reason": "Las fechas están mal.",
                   "reason_code": "wrong_output"}),
        )
        .await;
    r.problem(422);
    assert_eq!((r.code(), r.field()), ("rework_first", "decision"));
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "request_changes", "reason": "Revise las fechas.",
                   "reason_code": "wrong_output", "criteria_not_met": [2]}),
        )
        .await;
    assert_eq!(r.problem(422).field(), "criteria_not_met");
    assert_eq!(
        status_is(&app, &owner, &a, "verified").await["history"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "nothing was written by the refusals"
    );
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "request_changes", "reason": "Revise las fechas.",
                   "reason_code": "wrong_output", "criteria_not_met": [0]}),
        )
        .await;
    let back = r.ok(200);
    assert_eq!(back["status"], "changes_requested");
    let mine = app
        .get(&format!("/v1/assignments/{a}"), Some(&worker))
        .await;
    let mine = mine.ok(200);
    assert_eq!(mine["reason_code"], "wrong_output");
    assert_eq!(mine["criteria_not_met"], json!(["Fechas en AAAA-MM-DD"]));
    assert!(
        mine.get("appealable_until").is_none(),
        "a rework round is not appealed"
    );

    // After the round, the work can be rejected; the worker may then appeal.
    submit(&app, &worker, &a).await;
    status_is(&app, &owner, &a, "verified").await;
    let queue = app.get("/v1/review-queue", Some(&owner)).await;
    let item = queue.ok(200)["items"][0].clone();
    assert_eq!(
        (
            &item["rework_rounds"],
            &item["rubric"],
            &item["allows_changes"]
        ),
        (&json!(1), &rubric, &json!(true))
    );
    assert_eq!(
        item["worker_record"],
        json!({"approved": 0, "changes_requested": 1, "rejected": 0})
    );
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "reject", "reason": "Siguen mal las fechas.",
                   "reason_code": "wrong_output", "criteria_not_met": [0]}),
        )
        .await;
    assert_eq!(r.ok(200)["status"], "rejected");
    let mine = app
        .get(&format!("/v1/assignments/{a}"), Some(&worker))
        .await;
    let until: DateTime<Utc> = mine.ok(200)["appealable_until"]
        .as_str()
        .expect("appealable")
        .parse()
        .unwrap();
    let days = (until - Utc::now()).num_days();
    assert!(
        (15..=30).contains(&days),
        "15 business days: {days} calendar days"
    );
}

#[tokio::test]
async fn an_appeal_overturned_by_staff_pays_the_worker_and_invoices_the_company() {
    let (app, smtp, _) = spawn_app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Distribuidora Ibagué").await;
    let (worker_id, worker) = app.worker(&admin, &["data-cleaning"]).await;
    let (_, other) = app.worker(&admin, &["data-cleaning"]).await;
    let t = published(&app, &owner, task(1, json!({"allows_changes": false}))).await;
    let a = verified_submission(&app, &owner, &worker, &t).await;
    app.post(
        &format!("/v1/assignments/{a}/review"),
        Some(&owner),
        json!({"decision": "reject", "reason": "No es lo que pedimos.",
               "reason_code": "wrong_output"}),
    )
    .await
    .ok(200);
    let worker_email = app.email_of(&worker).await;
    let owner_email = app.email_of(&owner).await;
    let rejected = smtp.arrives(&worker_email, "Trabajo rechazado").await;
    let text = rejected.text();
    assert!(
        text.contains("El resultado no es el pedido") && text.contains("puede apelar"),
        "{text}"
    );

    // Only the worker appeals, in her own words, once.
    let appeal = format!("/v1/assignments/{a}/appeal");
    let why = json!({"reason": "Entregué las 300 fichas con las fechas como dice la guía."});
    app.post(&appeal, Some(&owner), why.clone())
        .await
        .problem(403);
    app.post(&appeal, Some(&other), why.clone())
        .await
        .problem(404);
    let r = app
        .post(&appeal, Some(&worker), json!({"reason": "   "}))
        .await;
    assert_eq!(r.problem(422).field(), "reason");
    let r = app.post(&appeal, Some(&worker), why.clone()).await;
    let filed = r.ok(201).clone();
    assert_eq!(
        (&filed["kind"], &filed["status"], &filed["overdue"]),
        (&json!("rejection"), &json!("open"), &json!(false))
    );
    let id = filed["id"].as_str().unwrap().to_string();
    let r = app.post(&appeal, Some(&worker), why.clone()).await;
    assert_eq!(r.problem(409).code(), "already_appealed");
    let filed_mail = smtp
        .arrives(&owner_email, "Apelación ante la plataforma")
        .await;
    assert!(
        filed_mail.text().contains("Luz T."),
        "the company sees a first name"
    );

    // The company sees it; staff decide it, not the company nor finance.
    let listed = app.get("/v1/appeals", Some(&owner)).await;
    assert_eq!(listed.ok(200)["items"][0]["id"], id.as_str());
    let listed = app.get("/v1/appeals?status=open", Some(&admin)).await;
    assert!(
        listed.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str())
    );
    let overdue = app.get("/v1/appeals?overdue=true", Some(&admin)).await;
    assert!(
        overdue.ok(200)["items"].as_array().unwrap().is_empty(),
        "due in 5 business days: not overdue yet"
    );
    app.get(&format!("/v1/appeals/{id}"), Some(&other))
        .await
        .problem(404);
    let decide = format!("/v1/appeals/{id}/decision");
    let overturn = json!({"outcome": "overturn",
                          "decision": "La entrega cumple la guía: las fechas están bien."});
    app.post(&decide, Some(&owner), overturn.clone())
        .await
        .problem(403);
    app.post(&decide, Some(&finance), overturn.clone())
        .await
        .problem(403);
    let r = app
        .post(
            &decide,
            Some(&admin),
            json!({"outcome": "overturn", "decision": "Sí", "paid_seconds": 60}),
        )
        .await;
    assert_eq!(
        r.problem(422).field(),
        "paid_seconds",
        "a fixed price pays its price"
    );
    let decided = app.post(&decide, Some(&admin), overturn.clone()).await;
    assert_eq!(decided.ok(200)["status"], "overturned");
    let again = app.post(&decide, Some(&admin), overturn.clone()).await;
    assert_eq!(again.problem(409).code(), "already_decided");

    // The overturn approves the work like any approval: the worker is owed the price…
    let seen = status_is(&app, &worker, &a, "approved").await;
    assert_eq!(seen["appeal"]["status"], "overturned");
    assert_eq!(
        seen["appeal"]["decision"],
        "La entrega cumple la guía: las fechas están bien."
    );
    let history = actions(&seen);
    assert!(
        history.ends_with(&[
            "rejected".into(),
            "appealed".into(),
            "appeal_overturned".into()
        ]),
        "{history:?}"
    );
    eventually(Duration::from_secs(60), || async {
        (app.payable(&finance, &worker_id).await == "-120000").then_some(())
    })
    .await
    .expect("the overturn accrued the worker's pay");
    // …and the company is invoiced for it.
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    let invoices = app.get("/v1/invoices", Some(&owner)).await;
    let inv = invoices.ok(200)["items"][0].clone();
    assert_eq!(inv["work"], "120000");
    assert_eq!(inv["lines"][0]["assignment_id"], a.as_str());
    for to in [&worker_email, &owner_email] {
        let m = smtp.arrives(to, "Decisión de la plataforma: anulada").await;
        assert!(m.text().contains("las fechas están bien"));
    }
    assert!(
        smtp.arrives(&worker_email, "Decisión de la plataforma")
            .await
            .text()
            .contains("$ 120.000")
    );
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn six_rejections_in_a_row_from_one_company_are_held_and_never_count() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Confecciones Natagaima").await;
    let mut workers = Vec::new();
    for _ in 0..6 {
        workers.push(app.worker(&admin, &["data-cleaning"]).await);
    }
    let t = published(&app, &owner, task(6, json!({"allows_changes": false}))).await;
    let mut assignments = Vec::new();
    for (_, token) in &workers {
        assignments.push(verified_submission(&app, &owner, token, &t).await);
    }
    let mut held = Vec::new();
    for a in &assignments {
        let r = app
            .post(
                &format!("/v1/assignments/{a}/review"),
                Some(&owner),
                json!({"decision": "reject", "reason": "No sirve.", "reason_code": "other"}),
            )
            .await;
        let body = r.ok(200);
        assert_eq!(body["status"], "rejected");
        if body["appeal"]["kind"] == "held" {
            assert_eq!(body["appeal"]["status"], "open");
            assert!(actions(body).contains(&"rejection_held".to_string()));
            held.push(a.clone());
        }
    }
    // Counting each: 1/1 … 4/4 are under five decided; the fifth and sixth pass 30 % of five.
    assert_eq!(
        held,
        assignments[4..].to_vec(),
        "the fifth and sixth are held"
    );
    let listed = app.get("/v1/appeals?status=open", Some(&owner)).await;
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 2);

    // A held rejection never counts against the worker; one that stands does.
    let strict = published(
        &app,
        &owner,
        task(
            6,
            json!({"min_record_percent": 50, "allows_changes": false}),
        ),
    )
    .await;
    let claim = |token: String| {
        let app = &app;
        let strict = strict.clone();
        async move {
            app.post(
                &format!("/v1/tasks/{strict}/claims"),
                Some(&token),
                json!({}),
            )
            .await
        }
    };
    let r = claim(workers[0].1.clone()).await;
    r.problem(422);
    assert_eq!(
        (r.code(), r.field()),
        ("record_below_minimum", "min_record_percent")
    );
    claim(workers[4].1.clone()).await.ok(201);

    // Staff uphold one (it now counts) and overturn the other (it never will).
    let appeals = app.get("/v1/appeals?status=open", Some(&admin)).await;
    let by_assignment = |a: &str| {
        appeals.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["assignment_id"] == a)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (up, over) = (by_assignment(&held[0]), by_assignment(&held[1]));
    app.post(
        &format!("/v1/appeals/{up}/decision"),
        Some(&admin),
        json!({"outcome": "uphold", "decision": "La entrega estaba vacía."}),
    )
    .await
    .ok(200);
    app.post(
        &format!("/v1/appeals/{over}/decision"),
        Some(&admin),
        json!({"outcome": "overturn", "decision": "La entrega cumple."}),
    )
    .await
    .ok(200);
    status_is(&app, &owner, &held[1], "approved").await;
    claim(workers[5].1.clone()).await.ok(201);
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn review_deadlines_are_colombian_business_days() {
    use vereda_contracts::business_days::deadline;
    // The example: work verified on Friday 9 January 2026 with one business day to
    // review is due at the end of Tuesday the 13th (Monday the 12th is Reyes, moved).
    let friday = DateTime::parse_from_rfc3339("2026-01-09T16:00:00-05:00")
        .unwrap()
        .timestamp();
    let tuesday_end = DateTime::parse_from_rfc3339("2026-01-14T00:00:00-05:00")
        .unwrap()
        .timestamp();
    assert_eq!(deadline(friday, 1), tuesday_end);

    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Café La Cordillera").await;
    let (_, worker) = app.worker(&admin, &["data-cleaning"]).await;
    // The old field is still accepted, rounded up to whole business days.
    let old = app
        .post(
            "/v1/tasks",
            Some(&owner),
            task(1, json!({"review_hours": 30})),
        )
        .await;
    assert_eq!(old.ok(201)["review_business_days"], 2);
    let r = app
        .post(
            "/v1/tasks",
            Some(&owner),
            task(1, json!({"review_business_days": 31})),
        )
        .await;
    assert_eq!(r.problem(422).field(), "review_business_days");
    let t = published(&app, &owner, task(1, json!({"review_business_days": 2}))).await;
    let a = verified_submission(&app, &owner, &worker, &t).await;
    let seen = app.get(&format!("/v1/assignments/{a}"), Some(&owner)).await;
    let seen = seen.ok(200);
    let verified: DateTime<Utc> = seen["verified_at"].as_str().unwrap().parse().unwrap();
    let due: DateTime<Utc> = seen["review_due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due.timestamp(), deadline(verified.timestamp(), 2));
}

#[tokio::test]
async fn a_paid_qualification_grants_its_skill() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Soporte Andino").await;
    let (worker_id, worker) = app.worker(&admin, &["data-cleaning"]).await;
    let needs = published(
        &app,
        &owner,
        task(
            1,
            json!({"required_skills": ["qa-testing"], "category": "qa-testing"}),
        ),
    )
    .await;
    let r = app
        .post(
            &format!("/v1/tasks/{needs}/claims"),
            Some(&worker),
            json!({}),
        )
        .await;
    assert_eq!(r.problem(422).code(), "missing_skill");
    let r = app
        .post(
            "/v1/tasks",
            Some(&owner),
            task(1, json!({"qualification_skill": "no es una habilidad"})),
        )
        .await;
    assert_eq!(r.problem(422).field(), "qualification_skill");
    let qualification = published(
        &app,
        &owner,
        task(1, json!({"qualification_skill": "qa-testing"})),
    )
    .await;
    let a = verified_submission(&app, &owner, &worker, &qualification).await;
    app.post(
        &format!("/v1/assignments/{a}/review"),
        Some(&owner),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    // Paid like any task (never unpaid work)…
    eventually(Duration::from_secs(60), || async {
        (app.payable(&finance, &worker_id).await == "-120000").then_some(())
    })
    .await
    .expect("the qualification pays");
    // …and the skill is hers, recorded as coming from the task.
    let profile = app
        .get(&format!("/v1/workers/{worker_id}"), Some(&admin))
        .await;
    let skills = profile.ok(200)["skills"].clone();
    assert!(
        skills.as_array().unwrap().iter().any(|s| s == "qa-testing"),
        "{skills}"
    );
    let source: (String, Option<String>) = vereda_store::on_db!(&app.db, |p| sqlx::query_as(
        "SELECT source, source_task_id FROM worker_skills WHERE worker_id = $1 AND skill = $2"
    )
    .bind(&worker_id)
    .bind("qa-testing")
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(source, ("qualification".to_string(), Some(qualification)));
    app.post(
        &format!("/v1/tasks/{needs}/claims"),
        Some(&worker),
        json!({}),
    )
    .await
    .ok(201);
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn an_overturned_cut_pays_the_restored_hours_as_a_second_line() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Transportes del Saldaña").await;
    let (worker_id, worker) = app.worker(&admin, &["data-cleaning"]).await;
    let hourly = json!({"pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"}});
    let t = published(&app, &owner, task(1, hourly)).await;
    let a = app
        .post(&format!("/v1/tasks/{t}/claims"), Some(&worker), json!({}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Two hours logged; the company approves one and a half.
    let end = Utc::now() - chrono::Duration::minutes(5);
    let start = end - chrono::Duration::hours(2);
    app.post(
        &format!("/v1/assignments/{a}/time-entries"),
        Some(&worker),
        json!({"started_at": start.to_rfc3339(), "ended_at": end.to_rfc3339()}),
    )
    .await
    .ok(201);
    submit(&app, &worker, &a).await;
    status_is(&app, &owner, &a, "verified").await;
    app.post(
        &format!("/v1/assignments/{a}/review"),
        Some(&owner),
        json!({"decision": "approve", "approved_seconds": 5400,
               "reason": "Media hora fue para leer la guía."}),
    )
    .await
    .ok(200);
    // 1.5 h × $ 18.500 = $ 27.750 accrued first.
    eventually(Duration::from_secs(60), || async {
        (app.payable(&finance, &worker_id).await == "-27750").then_some(())
    })
    .await
    .expect("the approval accrued");
    let mine = app
        .get(&format!("/v1/assignments/{a}"), Some(&worker))
        .await;
    assert!(
        mine.ok(200)["appealable_until"].is_string(),
        "a cut can be appealed"
    );
    let filed = app
        .post(
            &format!("/v1/assignments/{a}/appeal"),
            Some(&worker),
            json!({"reason": "Leer la guía es parte del trabajo."}),
        )
        .await;
    let filed = filed.ok(201).clone();
    assert_eq!(filed["kind"], "cut");
    let decide = format!("/v1/appeals/{}/decision", filed["id"].as_str().unwrap());
    let r = app
        .post(
            &decide,
            Some(&admin),
            json!({"outcome": "overturn", "decision": "Sí.", "paid_seconds": 5400}),
        )
        .await;
    assert_eq!(r.problem(422).field(), "paid_seconds", "more than approved");
    let decided = app
        .post(
            &decide,
            Some(&admin),
            json!({"outcome": "overturn",
                   "decision": "Leer la guía de la empresa es tiempo de trabajo."}),
        )
        .await;
    assert_eq!(decided.ok(200)["paid_seconds"], 7200);
    // The restored half hour accrues as its own part: 2 h × $ 18.500 = $ 37.000 in all.
    eventually(Duration::from_secs(60), || async {
        (app.payable(&finance, &worker_id).await == "-37000").then_some(())
    })
    .await
    .expect("the restored hours accrued");
    // Delivered again, late and twice at once, and swept: nothing more is accrued.
    let settings = app.test_db.as_ref().unwrap().settings();
    let now = Utc::now().timestamp();
    let again = (0..2).map(|_| invoicing::accrue(&app.db, &settings, &a, now));
    for outcome in futures::future::join_all(again).await {
        assert_eq!(outcome.unwrap(), AccrueOutcome::AlreadyAccrued);
    }
    let swept = invoicing::accrue_pending(&app.db, &settings, now + 1, now).await;
    assert_eq!(swept.unwrap().accrued, 0);
    assert_eq!(app.payable(&finance, &worker_id).await, "-37000");
    let seen = app.get(&format!("/v1/assignments/{a}"), Some(&owner)).await;
    let seen = seen.ok(200);
    assert_eq!(seen["approved_seconds"], 7200);
    assert_eq!(
        seen["reason"], "Media hora fue para leer la guía.",
        "the company's words stay"
    );
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    let inv = app.get("/v1/invoices", Some(&owner)).await.ok(200)["items"][0].clone();
    assert_eq!(inv["work"], "37000");
    let lines = inv["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        (lines[0]["seconds"].as_i64(), lines[1]["seconds"].as_i64()),
        (Some(5400), Some(1800))
    );
    assert!(
        lines[1]["task_title"]
            .as_str()
            .unwrap()
            .starts_with("Horas restituidas por apelación: ")
    );
    // The company's accountant reads both lines on the invoice's PDF.
    let pdf = app
        .client
        .get(app.url(&format!("/v1/invoices/{}/pdf", inv["id"].as_str().unwrap())))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    if let Ok(dir) = std::env::var("VEREDA_KEEP_PDF") {
        std::fs::write(format!("{dir}/factura-horas-restituidas.pdf"), &pdf).unwrap();
    }
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        assert!(text.contains("Horas restituidas por apelación"), "{text}");
        assert!(text.contains("37.000"), "{text}");
    }
    assert_ledger_invariants(&app.db).await;
}

/// The same six rejections sent at once: the company's decisions are weighed one at a time,
/// so exactly the two that pass 30 % of five are held, whichever order they arrive in.
#[tokio::test]
async fn six_rejections_at_once_hold_exactly_two() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Lácteos Rovira").await;
    let t = published(&app, &owner, task(6, json!({"allows_changes": false}))).await;
    let mut assignments = Vec::new();
    for _ in 0..6 {
        let (_, token) = app.worker(&admin, &["data-cleaning"]).await;
        assignments.push(verified_submission(&app, &owner, &token, &t).await);
    }
    let paths: Vec<String> = assignments
        .iter()
        .map(|a| format!("/v1/assignments/{a}/review"))
        .collect();
    let rejections = paths.iter().map(|path| {
        app.post(
            path,
            Some(&owner),
            json!({"decision": "reject", "reason": "No sirve.", "reason_code": "other"}),
        )
    });
    let answers = futures::future::join_all(rejections).await;
    let held = answers
        .iter()
        .filter(|r| r.ok(200)["appeal"]["kind"] == "held")
        .count();
    assert_eq!(held, 2);
    let open = app.get("/v1/appeals?status=open", Some(&owner)).await;
    assert_eq!(open.ok(200)["items"].as_array().unwrap().len(), 2);
}
