//! Deleting a worker's personal data (issue 22 §3; Ley 1581 art. 15, "supresión"), on the
//! real app: a worker with approved, invoiced and paid work, a final statement and its
//! documento soporte, and a certificate, asks for deletion. Her name, cédula, phone, e-mail
//! and account number leave the data export; the books and every document already issued stay
//! exactly as they were, readable by admins only; she cannot sign in; she gets a confirmation.
//! Ten years later housekeeping removes the documents and payout details, and the ledger
//! stays. While work or money still ties her, the request is refused with the reasons in
//! Spanish and nothing is written.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use vereda_contracts::statements::Month;
use vereda_store::on_db;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

const NAME: &str = "Luz Teletrabajadora";
const CEDULA: &str = "1012345678";
/// Her Nequi number: the account she is paid to.
const ACCOUNT: &str = "3105551234";
const PHONE: &str = "3204447788";

fn today() -> String {
    Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string()
}

async fn scalar(app: &TestApp, sql: &'static str, id: &str) -> i64 {
    on_db!(&app.db, |p| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(p)
        .await
        .unwrap())
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    on_db!(&app.db, |p| sqlx::query_scalar(sql)
        .fetch_one(p)
        .await
        .unwrap())
}

/// The trial balance without the owners' names (hers becomes «Persona retirada»).
async fn trial_balance(app: &TestApp, finance: &str) -> Value {
    let mut tb = app
        .get("/v1/ledger/trial-balance", Some(finance))
        .await
        .ok(200)
        .clone();
    for a in tb["accounts"].as_array_mut().unwrap() {
        a.as_object_mut().unwrap().remove("owner_name");
    }
    tb
}

/// Pay her: a batch with her line, confirmed paid by the bank.
async fn pay(app: &TestApp, finance: &str) {
    let job = app.run_job(finance, "/v1/payout-batches", json!({})).await;
    let batch = job["subject_id"].as_str().unwrap().to_string();
    let lines = app
        .get(&format!("/v1/payout-batches/{batch}"), Some(finance))
        .await;
    let reference = lines.ok(200)["lines"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let file = format!(
        "reference,amount,status,date\n{reference},48485,paid,{}\n",
        today()
    );
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
        1,
        "{job}"
    );
}

#[tokio::test]
async fn deletion_removes_her_personal_data_and_keeps_the_books_and_documents() {
    let (app, smtp, _) = spawn_app_with_smtp().await;
    let a = worked_example(&app).await;
    let email = app.email_of(&a.worker).await;
    let me = format!("/v1/workers/{}", a.worker_id);
    app.patch(&me, Some(&a.worker), json!({"phone": PHONE}))
        .await
        .ok(200);
    eventually(Duration::from_secs(60), || async {
        (app.payable(&a.finance, &a.worker_id).await == "-48485").then_some(())
    })
    .await
    .expect("accrued");
    // Her work was approved last month, so that month is closed: a final statement, and the
    // documento soporte of the week it was approved in.
    let last_month = Month::of(Utc::now()).prev();
    let approved = last_month.start() + 10 * 86_400;
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE accruals SET approved_at = $1 WHERE assignment_id = $2"
    )
    .bind(approved)
    .bind(&a.assignment)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    let month = |m: Month| json!({ "month": m.to_string() });
    app.run_job(&a.finance, "/v1/statement-runs", month(last_month))
        .await;
    let week = vereda_contracts::support_weeks::Week::of(approved).to_string();
    app.run_job(
        &a.finance,
        "/v1/support-document-runs",
        json!({ "week": week }),
    )
    .await;
    app.run_job(
        &a.finance,
        "/v1/billing-runs",
        json!({"period_end": today()}),
    )
    .await;
    pay(&app, &a.finance).await;
    app.run_job(
        &a.finance,
        "/v1/statement-runs",
        month(Month::of(Utc::now())),
    )
    .await;
    let year: i64 = Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .format("%Y")
        .to_string()
        .parse()
        .unwrap();
    app.run_job(&a.finance, "/v1/certificate-runs", json!({ "year": year }))
        .await;
    assert_eq!(app.payable(&a.finance, &a.worker_id).await, "0");

    // Before: the copy holds all of her.
    let export_path = format!("/v1/workers/{}/data-export", a.worker_id);
    let before = app
        .get(&export_path, Some(&a.admin))
        .await
        .ok(200)
        .to_string();
    for personal in [NAME, CEDULA, ACCOUNT, PHONE, email.as_str()] {
        assert!(before.contains(personal), "{personal} in the copy before");
    }
    let support = app
        .get(
            &format!("/v1/support-documents?worker_id={}", a.worker_id),
            Some(&a.admin),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(support["items"].as_array().unwrap().len(), 1, "{support}");
    assert_eq!(support["items"][0]["worker_document_id"], CEDULA);
    let invoice = app.get("/v1/invoices", Some(&a.finance)).await.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let statements = format!("/v1/workers/{}/statements", a.worker_id);
    let documents = [
        format!("{statements}/{last_month}/pdf"),
        format!("{statements}/{last_month}/csv"),
        format!("{statements}/{}/pdf", Month::of(Utc::now())),
        format!("/v1/workers/{}/certificates/{year}/pdf", a.worker_id),
        format!("/v1/invoices/{invoice}/pdf"),
    ];
    let mut issued = Vec::new();
    for d in &documents {
        issued.push(sha256_hex_bytes(&app.bytes(d, &a.admin).await));
    }
    let books = trial_balance(&app, &a.finance).await;
    let entries = count(&app, "SELECT COUNT(*) FROM ledger_entries").await;
    let postings = scalar(
        &app,
        "SELECT COUNT(*) FROM ledger_postings WHERE account_owner = $1",
        &a.worker_id,
    )
    .await;

    // She asks for it herself.
    let r = app
        .post(
            &format!("/v1/workers/{}/data-requests", a.worker_id),
            Some(&a.worker),
            json!({"request": "deletion"}),
        )
        .await;
    let filed = r.ok(201).clone();
    assert_eq!(filed["kind"], "deletion");
    assert!(
        filed["answered_at"].is_string(),
        "answered at once: {filed}"
    );
    let answer = filed["answer"].as_str().unwrap();
    for said in [
        "suprimimos sus datos personales",
        "Ley 962 de 2005, artículo 28",
        "10 años",
    ] {
        assert!(answer.contains(said), "{said:?} in {answer:?}");
    }
    assert_eq!(filed["worker_name"], "Persona retirada");

    // The copy holds none of her.
    let after = app.get(&export_path, Some(&a.admin)).await.ok(200).clone();
    let text = after.to_string();
    for personal in [NAME, CEDULA, ACCOUNT, PHONE, email.as_str()] {
        assert!(
            !text.contains(personal),
            "{personal} still in the copy: {text}"
        );
    }
    let s = &after["sections"];
    assert!(s["profile"][0]["anonymised_at"].is_i64());
    assert_eq!(s["account"][0]["name"], "Persona retirada");
    assert!(s["skills"].as_array().unwrap().is_empty());
    for kept in [
        "earnings",
        "payouts",
        "statements",
        "support_documents",
        "certificates",
    ] {
        assert!(
            !s[kept].as_array().unwrap().is_empty(),
            "{kept} is kept: {after}"
        );
    }
    assert_eq!(
        s["payouts"][0]["method"],
        vereda_store::data_export::RESTRICTED_ES
    );

    // The books are the same, and every document issued is byte for byte what it was.
    assert_eq!(trial_balance(&app, &a.finance).await, books);
    let tb = app.get("/v1/ledger/trial-balance", Some(&a.finance)).await;
    let hers = tb.ok(200)["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["account"] == format!("worker:{}:payable", a.worker_id).as_str())
        .unwrap()
        .clone();
    assert_eq!(hers["owner_name"], "Persona retirada");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM ledger_entries").await,
        entries
    );
    for (d, sha) in documents.iter().zip(&issued) {
        assert_eq!(
            &sha256_hex_bytes(&app.bytes(d, &a.admin).await),
            sha,
            "{d} changed"
        );
    }
    assert_ledger_invariants(&app.db).await;
    // The documento soporte still names its supplier, for admins only.
    let support_after = app
        .get(
            &format!("/v1/support-documents?worker_id={}", a.worker_id),
            Some(&a.admin),
        )
        .await;
    assert_eq!(support_after.ok(200), &support);
    let for_finance = app
        .get(
            &format!("/v1/support-documents?worker_id={}", a.worker_id),
            Some(&a.finance),
        )
        .await;
    let item = &for_finance.ok(200)["items"][0];
    assert_eq!(item["worker_name"], "Persona retirada");
    assert!(item["worker_document_id"].is_null(), "{item}");
    // Nor is her documento soporte annulled and issued again: it would name nobody.
    let annul = app
        .post(
            &format!(
                "/v1/support-documents/{}/annulment",
                item["id"].as_str().unwrap()
            ),
            Some(&a.finance),
            json!({"reason": "Cédula de la vendedora errada"}),
        )
        .await;
    annul.problem(409);
    assert_eq!(annul.body["code"], "worker_erased", "{}", annul.text);
    // Her retained documents: admins only.
    let r = app.get(&documents[0], Some(&a.finance)).await;
    r.problem(403);
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .contains("solo un administrador")
    );
    app.get(&documents[3], Some(&a.finance)).await.problem(403);
    let fiscal = format!("/v1/workers/{}/fiscal-profile", a.worker_id);
    app.get(&fiscal, Some(&a.finance)).await.problem(403);
    app.get(&fiscal, Some(&a.admin)).await.ok(200);
    let reads = format!("/v1/workers/{}/data-access", a.worker_id);
    app.get(&reads, Some(&a.admin)).await.ok(200);

    // She cannot sign in, and her session is over.
    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.problem(401).code(), "invalid_credentials");
    app.get("/v1/me", Some(&a.worker)).await.problem(401);

    // Her profile says what is left of it, to admins and finance alike.
    for token in [&a.admin, &a.finance] {
        let p = app.get(&me, Some(token)).await.ok(200).clone();
        assert_eq!(p["name"], "Persona retirada");
        assert!(
            p["email"].as_str().unwrap().ends_with("@vereda.invalid"),
            "{p}"
        );
        assert_eq!(p["municipality"], "(suprimido)");
        assert_eq!(p["payout_method"], json!({"kind": "erased"}));
        assert!(p["document_id"].is_null() && p["phone"].is_null(), "{p}");
        assert_eq!(p["active"], false);
        assert!(p["anonymised_at"].is_string(), "{p}");
    }
    let list = app.get("/v1/workers", Some(&a.finance)).await;
    assert!(
        list.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == a.worker_id.as_str())
    );
    // …and cannot be changed, reactivated or deleted again.
    let r = app.patch(&me, Some(&a.admin), json!({"name": NAME})).await;
    assert_eq!(r.problem(409).code(), "worker_anonymised");
    let user_id = app.get(&me, Some(&a.admin)).await.ok(200)["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/users/{user_id}/reactivate")))
                .bearer_auth(&a.admin),
        )
        .await;
    assert_eq!(r.problem(409).code(), "worker_anonymised");
    let r = app
        .post(
            &format!("/v1/workers/{}/data-requests", a.worker_id),
            Some(&a.admin),
            json!({"request": "deletion"}),
        )
        .await;
    assert_eq!(r.problem(409).code(), "worker_anonymised");
    assert!(!r.body["detail_es"].as_str().unwrap().is_empty());
    // Nor is anything personal written for her again: sensitive data under a consent, her
    // fiscal profile, a month of social security.
    let p = app.get("/v1/consent-policy", None).await.ok(200).clone();
    let r = app
        .post(
            &format!("/v1/workers/{}/consent", a.worker_id),
            Some(&a.admin),
            json!({"policy_version": p["version"], "text_hash": p["text_hash"], "groups": ["youth"]}),
        )
        .await;
    assert_eq!(r.problem(409).code(), "worker_anonymised");
    let r = app
        .put(
            &fiscal,
            Some(&a.admin),
            json!({"concept": "honorarios", "declarante": false, "fewer_than_two_workers": false}),
        )
        .await;
    assert_eq!(r.problem(409).code(), "worker_anonymised", "{}", r.text);
    let month = vereda_contracts::statements::Month::of(chrono::Utc::now()).prev();
    let r = app
        .put(
            &format!("/v1/workers/{}/social-security/{month}", a.worker_id),
            Some(&a.admin),
            json!({"planilla": "8512345678", "health": "218900", "pension": "280200"}),
        )
        .await;
    assert_eq!(r.problem(409).code(), "worker_anonymised", "{}", r.text);
    // «erased» reads back but is never a method to pay to.
    let r = app
        .post(
            "/v1/workers",
            Some(&a.admin),
            json!({
                "name": "Otra Persona", "email": format!("otra-{}@correo.test", short_id()),
                "password": PASSWORD, "municipality": "Chaparral", "department": "Tolima",
                "skills": ["data-cleaning"], "payout_method": {"kind": "erased"},
            }),
        )
        .await;
    assert_eq!(r.problem(422).field(), "payout_method");
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .contains("Elija Nequi"),
        "{}",
        r.text
    );

    // Her confirmation reached the address she had; then housekeeping wipes it from the copy
    // of the message too.
    let m = smtp
        .arrives(&email, "Respuesta a su solicitud sobre sus datos")
        .await;
    assert!(m.text().contains("supresión de sus datos"), "{}", m.text());
    assert!(m.text().contains("Ley 962 de 2005"), "{}", m.text());
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let keep = 30 * 86_400;
    eventually(Duration::from_secs(30), || async {
        vereda_worker::housekeeping::sweep(&app.db, now, keep)
            .await
            .unwrap();
        let left = scalar(
            &app,
            "SELECT COUNT(*) FROM outbox_messages WHERE recipient = $1",
            &email,
        )
        .await;
        (left == 0).then_some(())
    })
    .await
    .expect("no message keeps her address");

    // Ten years on, housekeeping removes her documents and payout details; the books stay.
    let ten_years_on = now + 10 * 366 * 86_400;
    let report = vereda_worker::housekeeping::sweep(&app.db, ten_years_on, keep)
        .await
        .unwrap();
    assert!(report.retained_documents_removed >= 3, "{report:?}");
    assert!(report.payout_details_removed >= 2, "{report:?}");
    let id = a.worker_id.as_str();
    for (sql, left) in [
        ("SELECT COUNT(*) FROM statements WHERE worker_id = $1", 0),
        (
            "SELECT COUNT(*) FROM withholding_certificates WHERE worker_id = $1",
            0,
        ),
        (
            "SELECT COUNT(*) FROM document_files WHERE kind = 'withholding_certificate' \
             AND subject_id IN (SELECT id FROM withholding_certificates WHERE worker_id = $1)",
            0,
        ),
        (
            "SELECT COUNT(*) FROM payout_lines WHERE worker_id = $1 \
             AND method <> '{\"kind\":\"erased\"}'",
            0,
        ),
        (
            "SELECT COUNT(*) FROM support_documents WHERE worker_id = $1 \
             AND worker_document IS NULL AND worker_name IS NULL",
            1,
        ),
        ("SELECT COUNT(*) FROM accruals WHERE worker_id = $1", 1),
        (
            "SELECT COUNT(*) FROM ledger_postings WHERE account_owner = $1",
            postings,
        ),
    ] {
        assert_eq!(scalar(&app, sql, id).await, left, "{sql}");
    }
    let again = vereda_worker::housekeeping::sweep(&app.db, ten_years_on, keep)
        .await
        .unwrap();
    assert_eq!(
        (
            again.retained_documents_removed,
            again.payout_details_removed
        ),
        (0, 0)
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM ledger_entries").await,
        entries
    );
    assert_ledger_invariants(&app.db).await;
}

fn sha256_hex_bytes(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// The state a refused deletion must leave as it was.
async fn her_state(app: &TestApp, admin: &str, worker_id: &str) -> Value {
    let profile = app
        .get(&format!("/v1/workers/{worker_id}"), Some(admin))
        .await
        .ok(200)
        .clone();
    let requests = scalar(
        app,
        "SELECT COUNT(*) FROM data_requests WHERE worker_id = $1",
        worker_id,
    )
    .await;
    // Only the mail a data request writes: the sweep may write her submission news at any time.
    let mail = scalar(
        app,
        "SELECT COUNT(*) FROM outbox_messages WHERE kind = 'data_request' AND user_id = \
         (SELECT id FROM users WHERE worker_id = $1)",
        worker_id,
    )
    .await;
    let tokens = scalar(
        app,
        "SELECT COUNT(*) FROM auth_tokens WHERE user_id = \
         (SELECT id FROM users WHERE worker_id = $1)",
        worker_id,
    )
    .await;
    json!({"profile": profile, "requests": requests, "mail": mail, "tokens": tokens})
}

#[tokio::test]
async fn deletion_waits_while_work_or_money_still_ties_her() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    eventually(Duration::from_secs(60), || async {
        (app.payable(&a.finance, &a.worker_id).await == "-48485").then_some(())
    })
    .await
    .expect("accrued");
    // A second task she has claimed and not delivered.
    let task = app
        .post(
            "/v1/tasks",
            Some(&a.owner),
            json!({
                "title": "Revisar direcciones", "instructions": "Según la guía.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": {"kind": "fixed", "price": "30000", "estimated_hours": "2"},
                "slots": 1, "claim_minutes": 600, "review_hours": 72
            }),
        )
        .await;
    let task = task.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/tasks/{task}/publish"),
        Some(&a.owner),
        json!({}),
    )
    .await
    .ok(200);
    app.post(
        &format!("/v1/tasks/{task}/claims"),
        Some(&a.worker),
        json!({}),
    )
    .await
    .ok(201);

    let path = format!("/v1/workers/{}/data-requests", a.worker_id);
    let deletion = json!({"request": "deletion"});
    let before = her_state(&app, &a.admin, &a.worker_id).await;
    let this_week = vereda_contracts::support_weeks::Week::of(Utc::now().timestamp()).label_es();
    for token in [&a.worker, &a.admin] {
        let r = app.post(&path, Some(token), deletion.clone()).await;
        r.problem(409);
        assert_eq!((r.code(), r.field()), ("deletion_blocked", "request"));
        let es = r.body["detail_es"].as_str().unwrap();
        for said in [
            "Todavía no podemos suprimir sus datos; no se cambió nada.",
            "Tiene 1 tarea en curso",
            "Tiene $ 48.485 por cobrar; se lo pagamos en el próximo lote y luego podrá pedir \
             la supresión.",
            &format!("documento soporte de la semana del {this_week}"),
        ] {
            assert!(es.contains(said), "{said:?} in {es:?}");
        }
        assert!(!es.contains("en camino"), "{es}");
    }
    assert_eq!(
        her_state(&app, &a.admin, &a.worker_id).await,
        before,
        "nothing written"
    );
    app.get("/v1/me", Some(&a.worker)).await.ok(200);

    // In a batch the bank has not confirmed yet, the money is on its way.
    app.run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let r = app.post(&path, Some(&a.admin), deletion).await;
    let es = r.problem(409).body["detail_es"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(es.contains("Tiene un pago de $ 48.485 en camino"), "{es}");
    assert!(!es.contains("por cobrar"), "{es}");
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM data_requests WHERE worker_id = $1",
            &a.worker_id
        )
        .await,
        0
    );
    assert!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM worker_profiles WHERE id = $1 AND anonymised_at IS NULL",
            &a.worker_id
        )
        .await
            == 1
    );
}
