//! E-mail (issue 6) against a real SMTP server on loopback: the statement arrives with its PDF,
//! a second run sends nothing new, invoices and payouts are mailed, a message is sent once
//! however many sends race, permanent failures show to admin, and optional mail can be
//! turned off.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use serde_json::json;
use vereda_contracts::statements::Month;
use vereda_documents::mail::Content;
use vereda_store::config::Settings;
use vereda_store::on_db;
use vereda_store::outbox::{self, NewMessage};
use vereda_tests::pdf::pdf_text;
use vereda_tests::smtp::{Received, SmtpServer};
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;
use vereda_worker::email::{SendOutcome, send};

/// The app, mailing through a fresh SMTP server.
async fn app_with_smtp() -> (TestApp, SmtpServer, Settings) {
    vereda_tests::spawn_app_with_smtp().await
}

async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/v1/me", Some(token)).await.ok(200)["email"]
        .as_str()
        .unwrap()
        .to_string()
}

fn subject(m: &Received) -> String {
    m.parsed().subject().unwrap_or_default().to_string()
}

/// Messages to `to` whose subject starts with `prefix`.
fn matching(smtp: &SmtpServer, to: &str, prefix: &str) -> Vec<Received> {
    smtp.messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to) && subject(m).starts_with(prefix))
        .collect()
}

/// Wait until exactly one such message has arrived, and return it.
async fn arrives(smtp: &SmtpServer, to: &str, prefix: &str) -> Received {
    eventually(Duration::from_secs(90), || async {
        matching(smtp, to, prefix).into_iter().next()
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "no message {prefix:?} to {to}; got {:?}",
            smtp.messages().iter().map(subject).collect::<Vec<_>>()
        )
    })
}

/// The one PDF a message carries: its file name and bytes.
fn pdf_attachment(m: &Received) -> (String, Vec<u8>) {
    let parsed = m.parsed();
    let pdfs: Vec<_> = parsed
        .attachments()
        .filter(|a| {
            use mail_parser::MimeHeaders;
            a.is_content_type("application", "pdf")
        })
        .collect();
    assert_eq!(pdfs.len(), 1, "one PDF attached");
    use mail_parser::MimeHeaders;
    (
        pdfs[0].attachment_name().unwrap_or_default().to_string(),
        pdfs[0].contents().to_vec(),
    )
}

#[tokio::test]
async fn the_statement_reaches_a_real_smtp_server_with_its_pdf_once() {
    let (app, smtp, _) = app_with_smtp().await;
    let a = worked_example(&app).await;
    let worker_email = email_of(&app, &a.worker).await;
    let owner_email = email_of(&app, &a.owner).await;

    // Marketplace news arrived too: the approval for the worker (the company's news of the
    // submission waits for the hourly digest: see `submission_news_*` below).
    let _ = owner_email;
    let approved = arrives(
        &smtp,
        &worker_email,
        "Trabajo aprobado: «Limpiar base de clientes»",
    )
    .await;
    let text = approved.parsed().body_text(0).unwrap().to_string();
    assert!(
        text.contains("2,62 horas (2 h 37 min)") && text.contains("$ 48.485"),
        "{text}"
    );
    assert!(!text.contains("menos de lo que registró"), "{text}");

    let month = Month::of(Utc::now());
    app.run_job(
        &a.finance,
        "/v1/statement-runs",
        json!({"month": month.to_string()}),
    )
    .await;
    let code = app
        .get(
            &format!("/v1/workers/{}/statements/{month}", a.worker_id),
            Some(&a.worker),
        )
        .await
        .ok(200)["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    let m = arrives(&smtp, &worker_email, "Su certificado de ingresos").await;
    assert_eq!(
        subject(&m),
        format!(
            "Su certificado de ingresos de {} (provisional)",
            month.name_es()
        )
    );
    assert_eq!(m.from, "no-responder@vereda.co");
    let parsed = m.parsed();
    let text = parsed.body_text(0).unwrap().to_string();
    let html = parsed.body_html(0).unwrap().to_string();
    for body in [&text, &html] {
        assert!(body.contains("$ 48.485") && body.contains(&code), "{body}");
    }
    assert!(html.contains("<p>Hola, Luz Teletrabajadora:</p>"), "{html}");
    let (name, pdf) = pdf_attachment(&m);
    assert_eq!(name, format!("certificado-ingresos-{month}-v1.pdf"));
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains("$ 48.485") && text.contains(&code), "{text}");
    }

    // The Message-ID is the outbox id, and admin sees the message as sent once (the server
    // has it a moment before the outbox records it).
    let statement = eventually(Duration::from_secs(10), || async {
        let r = app
            .get("/v1/admin/outbox?status=sent", Some(&a.admin))
            .await;
        r.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == "statement")
            .cloned()
    })
    .await
    .expect("the statement is recorded as sent");
    assert_eq!(statement["attempts"], 1);
    let id = statement["id"].as_str().unwrap();
    assert_eq!(
        parsed.message_id(),
        Some(format!("{id}@vereda.co").as_str())
    );

    // A second run writes nothing new, so nothing more is sent.
    let again = app
        .run_job(
            &a.finance,
            "/v1/statement-runs",
            json!({"month": month.to_string()}),
        )
        .await;
    assert_eq!(again["result"]["new_versions"], 0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        matching(&smtp, &worker_email, "Su certificado de ingresos").len(),
        1
    );
    // Nor was anything else sent twice.
    let mut ids: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| m.parsed().message_id().unwrap().to_string())
        .collect();
    let all = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all, "a message arrived twice");
}

#[tokio::test]
async fn invoices_and_payouts_are_mailed_with_their_documents() {
    let (app, smtp, _) = app_with_smtp().await;
    let a = worked_example(&app).await;
    let worker_email = email_of(&app, &a.worker).await;
    let company = app
        .get(&format!("/v1/companies/{}", a.company_id), Some(&a.owner))
        .await;
    let company = company.ok(200).clone();
    let billing = company["billing_email"].as_str().unwrap().to_string();
    let nit = company["nit"].as_str().unwrap().to_string();

    let today = Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    app.run_job(&a.finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    let m = arrives(&smtp, &billing, "Factura VRD-000001").await;
    assert_eq!(
        subject(&m),
        "Factura VRD-000001 de Vereda S.A.S. por $ 60.024"
    );
    let (name, pdf) = pdf_attachment(&m);
    assert_eq!(name, "VRD-000001.pdf");
    if let Some(text) = pdf_text(&pdf) {
        for want in [
            "Factura de venta VRD-000001",
            "NIT 901234567-7",
            nit.as_str(),
            "Tienda Andina",
            "Limpiar base de clientes",
            "$ 48.485",
            "$ 9.697",
            "IVA (19 %)",
            "$ 1.842",
            "$ 60.024",
        ] {
            assert!(text.contains(want), "{want:?} not in the invoice:\n{text}");
        }
    }

    // The same PDF downloads for the company and finance, and for nobody else.
    let invoice = app.get("/v1/invoices", Some(&a.owner)).await.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/invoices/{invoice}/pdf");
    let r = app
        .client
        .get(app.url(&path))
        .bearer_auth(&a.owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    app.get(&path, Some(&a.finance)).await.ok(200);
    let (_, other_owner) = app.company(&a.admin, "Otra").await;
    app.get(&path, Some(&other_owner)).await.problem(404);
    app.get(&path, Some(&a.worker)).await.problem(403);

    app.run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let m = arrives(&smtp, &worker_email, "Le enviamos $ 48.485").await;
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("Nequi terminado en 1234"), "{text}");
    assert!(
        !text.contains("3105551234"),
        "the full number stays out of mail"
    );
}

#[tokio::test]
async fn a_message_is_sent_once_however_many_sends_race() {
    let (app, smtp, settings) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let mut tx = app.db.begin().await.unwrap();
    let id = outbox::enqueue(
        &mut tx,
        NewMessage {
            dedupe_key: "test:race".into(),
            kind: "test",
            recipient: "carrera@correo.test",
            user_id: None,
            content: Content {
                subject: "Prueba de carrera".into(),
                text: "Hola".into(),
                html: "<p>Hola</p>".into(),
            },
            attachment: None,
        },
        now,
    )
    .await
    .unwrap()
    .expect("written");
    tx.commit().await.unwrap();

    // The worker's own job races these two.
    let (x, y) = tokio::join!(
        send(&app.db, &settings, &id, now),
        send(&app.db, &settings, &id, now)
    );
    let outcomes = [x.unwrap(), y.unwrap()];
    assert!(
        outcomes.iter().filter(|o| **o == SendOutcome::Sent).count() <= 1,
        "{outcomes:?}"
    );
    arrives(&smtp, "carrera@correo.test", "Prueba de carrera").await;
    // Late deliveries of the same job change nothing either.
    assert_eq!(
        send(&app.db, &settings, &id, now).await.unwrap(),
        SendOutcome::NotDue
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        matching(&smtp, "carrera@correo.test", "Prueba de carrera").len(),
        1
    );

    // The same fact written again is not a second message.
    let mut tx = app.db.begin().await.unwrap();
    let again = outbox::enqueue(
        &mut tx,
        NewMessage {
            dedupe_key: "test:race".into(),
            kind: "test",
            recipient: "carrera@correo.test",
            user_id: None,
            content: Content {
                subject: "Prueba de carrera".into(),
                text: "Hola".into(),
                html: "<p>Hola</p>".into(),
            },
            attachment: None,
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(again, None);
    let sent = app.get("/v1/admin/outbox?status=sent", Some(&admin)).await;
    let sent = sent.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], id.as_str());
    assert_eq!(sent[0]["attempts"], 1);
}

#[tokio::test]
async fn permanent_failures_are_listed_and_can_be_sent_again() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, worker) = app.worker(&admin, &["labelling"]).await;
    let address = email_of(&app, &worker).await;
    smtp.reject(&address);

    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let mut tx = app.db.begin().await.unwrap();
    outbox::enqueue(
        &mut tx,
        NewMessage {
            dedupe_key: "test:bounce".into(),
            kind: "test",
            recipient: &address,
            user_id: None,
            content: Content {
                subject: "Rebote".into(),
                text: "Hola".into(),
                html: "<p>Hola</p>".into(),
            },
            attachment: None,
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let failed = eventually(Duration::from_secs(90), || async {
        let r = app
            .get("/v1/admin/outbox?status=failed", Some(&admin))
            .await;
        r.ok(200)["items"].as_array().unwrap().first().cloned()
    })
    .await
    .expect("the bounce is listed as failed");
    assert_eq!(failed["recipient"], address.as_str());
    assert_eq!(failed["attempts"], 1, "a permanent error is not retried");
    assert!(
        failed["last_error"].as_str().unwrap().contains("550"),
        "{failed}"
    );
    assert!(smtp.messages().is_empty());
    app.get("/v1/admin/outbox?status=lost", Some(&admin))
        .await
        .problem(422);

    // The mailbox is fixed; finance sees the failure and sends it once more, now.
    smtp.accept(&address);
    let listed = app
        .get("/v1/admin/outbox?status=failed", Some(&finance))
        .await;
    assert_eq!(listed.ok(200)["items"][0]["id"], failed["id"]);
    let id = failed["id"].as_str().unwrap();
    let retry = format!("/v1/admin/outbox/{id}/retry");
    let r = app.post(&retry, Some(&finance), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let sent = eventually(Duration::from_secs(60), || async {
        let r = app.get("/v1/admin/outbox?status=sent", Some(&admin)).await;
        let items = r.ok(200)["items"].as_array().unwrap().clone();
        items.into_iter().find(|m| m["id"] == failed["id"])
    })
    .await
    .expect("sent on retry");
    assert_eq!(sent["attempts"], 2, "{sent}");
    assert_eq!(smtp.messages().len(), 1);
    // Only a failed message is retried; an unknown one is not found; workers may not.
    let r = app.post(&retry, Some(&finance), json!({})).await;
    r.problem(409);
    assert_eq!(r.code(), "not_failed");
    app.post(
        "/v1/admin/outbox/01900000-0000-7000-8000-000000000000/retry",
        Some(&admin),
        json!({}),
    )
    .await
    .problem(404);
    app.post(&retry, Some(&worker), json!({}))
        .await
        .problem(403);
}

#[tokio::test]
async fn a_worker_can_turn_off_optional_mail() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda").await;
    let (_, quiet) = app.worker(&admin, &["labelling"]).await;
    let (_, keen) = app.worker(&admin, &["labelling"]).await;
    let (quiet_email, keen_email) = (email_of(&app, &quiet).await, email_of(&app, &keen).await);

    let prefs = app.get("/v1/me/email-preferences", Some(&quiet)).await;
    assert_eq!(prefs.ok(200), &json!({"non_essential": true}));
    let r = app
        .patch(
            "/v1/me/email-preferences",
            Some(&quiet),
            json!({"non_essential": false}),
        )
        .await;
    assert_eq!(r.ok(200), &json!({"non_essential": false}));
    app.patch(
        "/v1/me/email-preferences",
        Some(&quiet),
        json!({"non_essential": "no"}),
    )
    .await
    .problem(422);
    assert_eq!(
        app.get("/v1/me/email-preferences", Some(&quiet)).await.body,
        json!({"non_essential": false})
    );

    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Etiquetar fotos", "instructions": "Según la guía.", "category": "labelling",
                "required_skills": ["labelling"],
                "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
                "slots": 2, "claim_minutes": 600, "review_hours": 72
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
    for token in [&quiet, &keen] {
        let claim = app
            .send(
                app.client
                    .post(app.url(&format!("/v1/tasks/{task}/claims")))
                    .bearer_auth(token),
            )
            .await;
        claim.ok(201);
    }
    app.post(&format!("/v1/tasks/{task}/cancel"), Some(&owner), json!({}))
        .await
        .ok(200);

    // Both events are handled in one sweep: once the keen worker has hers, the quiet one's
    // would have been sent too.
    let m = arrives(
        &smtp,
        &keen_email,
        "La tarea «Etiquetar fotos» fue cancelada",
    )
    .await;
    assert!(
        m.parsed()
            .body_text(0)
            .unwrap()
            .contains("preferencias de correo")
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(matching(&smtp, &quiet_email, "").is_empty());
}

/// A worker with this name; returns (worker id, token).
async fn named_worker(app: &TestApp, admin: &str, name: &str, skill: &str) -> (String, String) {
    let email = format!("worker-{}@correo.test", short_id());
    let body = app
        .post(
            "/v1/workers",
            Some(admin),
            json!({
                "name": name, "email": email, "password": PASSWORD,
                "municipality": "Chaparral", "department": "Tolima", "skills": [skill],
                "payout_method": {"kind": "nequi", "phone": "3105551234"},
                "document_id": "1012345679",
            }),
        )
        .await;
    let id = body.ok(201)["id"].as_str().unwrap().to_string();
    (id, app.login(&email, PASSWORD).await)
}

/// Post and publish a task; returns its id.
async fn publish(app: &TestApp, owner: &str, body: Value) -> String {
    let task = app.post("/v1/tasks", Some(owner), body).await;
    let task = task.ok(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/v1/tasks/{task}/publish"), Some(owner), json!({}))
        .await
        .ok(200);
    task
}

async fn claim(app: &TestApp, worker: &str, task: &str) -> String {
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{task}/claims")))
                .bearer_auth(worker),
        )
        .await;
    r.ok(201)["id"].as_str().unwrap().to_string()
}

/// Log `seconds` ending `ago` seconds ago.
async fn log(app: &TestApp, worker: &str, assignment: &str, ago: i64, seconds: i64) {
    let end = Utc::now() - chrono::Duration::seconds(ago);
    let start = end - chrono::Duration::seconds(seconds);
    app.post(
        &format!("/v1/assignments/{assignment}/time-entries"),
        Some(worker),
        json!({"started_at": start.to_rfc3339(), "ended_at": end.to_rfc3339()}),
    )
    .await
    .ok(201);
}

async fn submit(app: &TestApp, worker: &str, assignment: &str) {
    app.post(
        &format!("/v1/assignments/{assignment}/submission"),
        Some(worker),
        json!({"deliverable_url": "https://docs.example/entrega"}),
    )
    .await
    .ok(200);
}

async fn wait_status(app: &TestApp, token: &str, assignment: &str, status: &str) {
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(&format!("/v1/assignments/{assignment}"), Some(token))
            .await;
        (r.body["status"] == status).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("{assignment} never became {status}"));
}

/// The digest waits for the end of the clock hour; as if that hour had passed, move the
/// waiting items back by one.
async fn an_hour_passes(app: &TestApp) {
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE submission_digest_items SET created_at = created_at - 3600 \
         WHERE digested_at IS NULL"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
}

/// Issue 14 §9: company members hear of a new submission once, when it is ready for review,
/// by one e-mail each or (the default) an hourly digest, naming the task and the worker —
/// not twice per submission (once when made, again when resubmitted after the automatic
/// checks sent it back), naming neither the worker nor what to do by when.
#[tokio::test]
async fn submission_news_is_one_email_each_or_an_hourly_digest() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Tienda Andina").await;
    let reviewer = app.reviewer(&owner, &company).await;
    let (owner_email, reviewer_email) = (
        email_of(&app, &owner).await,
        email_of(&app, &reviewer).await,
    );
    let (_, luz) = named_worker(&app, &admin, "Luz Teletrabajadora", "data-entry").await;
    let (_, pedro) = named_worker(&app, &admin, "Pedro Digitador", "data-entry").await;

    // Preferences: digest by default for members; the owner asks for one e-mail each.
    let prefs = app.get("/v1/me/email-preferences", Some(&reviewer)).await;
    assert_eq!(
        prefs.ok(200),
        &json!({"non_essential": true, "submissions": "digest"})
    );
    let r = app
        .patch(
            "/v1/me/email-preferences",
            Some(&owner),
            json!({"submissions": "each"}),
        )
        .await;
    assert_eq!(
        r.ok(200),
        &json!({"non_essential": true, "submissions": "each"})
    );
    // `null` is not a value of the enum (the fuzzer found it taken as "no change").
    for bad in [
        json!({"submissions": "weekly"}),
        json!({}),
        json!({"non_essential": false, "submissions": null}),
    ] {
        app.patch("/v1/me/email-preferences", Some(&owner), bad)
            .await
            .problem(422);
    }
    assert_eq!(
        app.get("/v1/me/email-preferences", Some(&owner)).await.body,
        json!({"non_essential": true, "submissions": "each"})
    );
    let r = app
        .patch(
            "/v1/me/email-preferences",
            Some(&luz),
            json!({"submissions": "each"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "submissions");
    assert_eq!(
        app.get("/v1/me/email-preferences", Some(&luz)).await.body,
        json!({"non_essential": true}),
        "workers have no submission news"
    );

    // Luz submits too little time; the checks send it back; she logs more and resubmits.
    let task = publish(
        &app,
        &owner,
        json!({
            "title": "Digitar formularios", "instructions": "A la hoja compartida.",
            "category": "data-entry", "required_skills": ["data-entry"],
            "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"},
            "slots": 2, "claim_minutes": 2880, "review_hours": 72,
            "acceptance": {"deliverable_url_required": true, "min_minutes": 30}
        }),
    )
    .await;
    let a = claim(&app, &luz, &task).await;
    log(&app, &luz, &a, 7200, 600).await;
    submit(&app, &luz, &a).await;
    wait_status(&app, &owner, &a, "changes_requested").await;
    log(&app, &luz, &a, 3600, 1800).await;
    submit(&app, &luz, &a).await;
    wait_status(&app, &owner, &a, "verified").await;

    let m = arrives(
        &smtp,
        &owner_email,
        "Nueva entrega para revisar: «Digitar formularios», de Luz Teletrabajadora",
    )
    .await;
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(
        text.contains("Luz Teletrabajadora entregó su trabajo en la tarea «Digitar formularios»")
            && text.contains("revísela a más tardar el")
            && text.contains("hora de Colombia"),
        "{text}"
    );
    // Whatever else the sweeps do meanwhile, that stays the owner's only e-mail about it, and
    // the reviewer's digest waits for the hour to end.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        matching(&smtp, &owner_email, "Nueva entrega").len(),
        1,
        "{:?}",
        smtp.messages().iter().map(subject).collect::<Vec<_>>()
    );
    assert!(matching(&smtp, &reviewer_email, "").is_empty());

    // Pedro's submission comes in the same hour; then the hour ends: one digest with both.
    let b = claim(&app, &pedro, &task).await;
    log(&app, &pedro, &b, 5400, 2400).await;
    submit(&app, &pedro, &b).await;
    wait_status(&app, &owner, &b, "verified").await;
    arrives(
        &smtp,
        &owner_email,
        "Nueva entrega para revisar: «Digitar formularios», de Pedro Digitador",
    )
    .await;
    an_hour_passes(&app).await;
    let digest = arrives(
        &smtp,
        &reviewer_email,
        "Resumen de entregas para revisar: 2 nuevas",
    )
    .await;
    let text = digest.parsed().body_text(0).unwrap().to_string();
    for want in [
        "Hola, Marta Revisora:",
        "• «Digitar formularios», de Luz Teletrabajadora, entregada el",
        "• «Digitar formularios», de Pedro Digitador, entregada el",
        "revísela a más tardar el",
        "un correo por cada entrega",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    // One digest for the hour: another hour with nothing new sends nothing.
    an_hour_passes(&app).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(matching(&smtp, &reviewer_email, "").len(), 1);
    assert_eq!(matching(&smtp, &owner_email, "Resumen").len(), 0);

    // Work reviewed before its digest goes out is left out of it; a member who turned
    // marketplace news off gets neither kind.
    app.patch(
        "/v1/me/email-preferences",
        Some(&owner),
        json!({"non_essential": false}),
    )
    .await
    .ok(200);
    let task2 = publish(
        &app,
        &owner,
        json!({
            "title": "Revisar direcciones", "instructions": "Con el listado.",
            "category": "data-entry", "required_skills": ["data-entry"],
            "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"},
            "slots": 2, "claim_minutes": 2880, "review_hours": 72
        }),
    )
    .await;
    let c = claim(&app, &luz, &task2).await;
    log(&app, &luz, &c, 900, 600).await;
    submit(&app, &luz, &c).await;
    wait_status(&app, &owner, &c, "verified").await;
    let d = claim(&app, &pedro, &task2).await;
    log(&app, &pedro, &d, 900, 600).await;
    submit(&app, &pedro, &d).await;
    wait_status(&app, &owner, &d, "verified").await;
    app.post(
        &format!("/v1/assignments/{c}/review"),
        Some(&reviewer),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    // The sweep has queued the items by now (the e-mail sweep runs every second).
    let queued = eventually(Duration::from_secs(30), || async {
        let n: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM submission_digest_items WHERE digested_at IS NULL"
        )
        .fetch_one(p)
        .await
        .unwrap());
        (n == 2).then_some(())
    })
    .await;
    assert!(queued.is_some(), "the reviewer's two items are waiting");
    an_hour_passes(&app).await;
    let digest = arrives(
        &smtp,
        &reviewer_email,
        "Resumen de entregas para revisar: «Revisar direcciones», de Pedro Digitador",
    )
    .await;
    let text = digest.parsed().body_text(0).unwrap().to_string();
    assert!(!text.contains("Luz"), "{text}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        matching(&smtp, &owner_email, "Nueva entrega para revisar: «Revisar").is_empty(),
        "the owner turned marketplace news off"
    );
}

/// Issue 14 §9: the approval tells the worker when less time was approved than logged, by
/// how much (`2 h 37 min`) and the reviewer's reason.
#[tokio::test]
async fn an_approval_for_less_time_says_by_how_much_and_why() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let (_, luz) = named_worker(&app, &admin, "Luz Teletrabajadora", "data-entry").await;
    let luz_email = email_of(&app, &luz).await;
    let task = publish(
        &app,
        &owner,
        json!({
            "title": "Digitar formularios", "instructions": "A la hoja compartida.",
            "category": "data-entry", "required_skills": ["data-entry"],
            "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"},
            "slots": 1, "claim_minutes": 2880, "review_hours": 72
        }),
    )
    .await;
    let a = claim(&app, &luz, &task).await;
    // 3 h 37 min logged.
    log(&app, &luz, &a, 5 * 3600, 2 * 3600).await;
    log(&app, &luz, &a, 600, 3600 + 37 * 60).await;
    submit(&app, &luz, &a).await;
    wait_status(&app, &owner, &a, "verified").await;
    app.post(
        &format!("/v1/assignments/{a}/review"),
        Some(&owner),
        json!({"decision": "approve", "approved_seconds": 3600,
               "reason": "Dos horas y media fueron de pruebas con la hoja vieja."}),
    )
    .await
    .ok(200);
    let m = arrives(&smtp, &luz_email, "Trabajo aprobado: «Digitar formularios»").await;
    let parsed = m.parsed();
    let text = parsed.body_text(0).unwrap().to_string();
    let html = parsed.body_html(0).unwrap().to_string();
    for want in [
        "Su trabajo en «Digitar formularios» fue aprobado por 1 hora (1 h). Ganó $ 18.500.",
        "Se aprobaron 2 h 37 min menos de lo que registró: registró 3 h 37 min y se aprobaron 1 h.",
        "Motivo de la empresa: Dos horas y media fueron de pruebas con la hoja vieja.",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
        assert!(html.contains(want), "{want:?} not in:\n{html}");
    }
}

/// Issue 14 §6: a fixed-price task pays its price, and the hours the invoice, the statement
/// and the approval e-mail print for it are the same: the time logged, labelled as such.
#[tokio::test]
async fn fixed_price_hours_agree_on_the_invoice_the_statement_and_the_email() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let (worker_id, luz) = named_worker(&app, &admin, "Luz Teletrabajadora", "labelling").await;
    let luz_email = email_of(&app, &luz).await;
    let task = publish(
        &app,
        &owner,
        json!({
            "title": "Etiquetar fotos", "instructions": "Según la guía.",
            "category": "labelling", "required_skills": ["labelling"],
            "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
            "slots": 1, "claim_minutes": 2880, "review_hours": 72
        }),
    )
    .await;
    let a = claim(&app, &luz, &task).await;
    // 1 h 30 min logged.
    log(&app, &luz, &a, 600, 5400).await;
    submit(&app, &luz, &a).await;
    wait_status(&app, &owner, &a, "verified").await;
    let review = format!("/v1/assignments/{a}/review");
    let r = app
        .post(
            &review,
            Some(&owner),
            json!({"decision": "approve", "approved_seconds": 3600, "reason": "Fue rápido."}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.code(), "fixed_price_seconds");
    let approved = app
        .post(&review, Some(&owner), json!({"decision": "approve"}))
        .await;
    assert_eq!(approved.ok(200)["approved_seconds"], 5400);

    // The e-mail.
    let m = arrives(&smtp, &luz_email, "Trabajo aprobado: «Etiquetar fotos»").await;
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(
        text.contains("Ganó $ 120.000, el precio fijo de la tarea.")
            && text.contains("Tiempo registrado (precio fijo): 1,5 horas (1 h 30 min)."),
        "{text}"
    );

    // The invoice: its line, and its PDF.
    let today = Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    let invoices = app.get("/v1/invoices", Some(&finance)).await;
    let id = invoices.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let invoice = app.get(&format!("/v1/invoices/{id}"), Some(&finance)).await;
    let line = invoice.ok(200)["lines"][0].clone();
    assert_eq!(line["seconds"], 5400, "{line}");
    assert!(line.get("rate").is_none(), "{line}");
    assert_eq!(line["pricing_kind"], "fixed", "{line}");
    assert_eq!(line["work"], "120000");
    let csv = app
        .get(&format!("/v1/invoices/{id}/csv"), Some(&finance))
        .await;
    let first_line = csv.text.lines().nth(1).unwrap_or_default().to_string();
    assert!(
        first_line.contains(",5400,") && first_line.ends_with("precio fijo (tiempo registrado)"),
        "{}",
        csv.text
    );
    let pdf = app
        .client
        .get(app.url(&format!("/v1/invoices/{id}/pdf")))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    if let Some(text) = pdf_text(&pdf) {
        assert!(
            text.contains("1,5 reg.") && text.contains("precio fijo"),
            "{text}"
        );
    }

    // The statement.
    let month = Month::of(Utc::now());
    app.run_job(
        &finance,
        "/v1/statement-runs",
        json!({"month": month.to_string()}),
    )
    .await;
    let s = app
        .get(
            &format!("/v1/workers/{worker_id}/statements/{month}"),
            Some(&luz),
        )
        .await;
    let s = s.ok(200).clone();
    assert_eq!(s["seconds"], 5400, "{s}");
    assert_eq!(s["hours"], "1.5", "{s}");
    assert_eq!(s["by_company"][0]["seconds"], 5400, "{s}");
    vereda_tests::invariants::assert_ledger_invariants(&app.db).await;
}
