//! E-mail (issue 6) against a real SMTP server on loopback: the statement arrives with its PDF,
//! a second run sends nothing new, invoices and payouts are mailed, a message is sent once
//! however many sends race, permanent failures show to admin, and optional mail can be
//! turned off.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use vereda_contracts::config::{Secret, Settings};
use vereda_contracts::statements::Month;
use vereda_tests::pdf::pdf_text;
use vereda_tests::smtp::{Received, SmtpServer};
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;
use vereda_worker::email::messages::Content;
use vereda_worker::email::outbox::{self, NewMessage};
use vereda_worker::email::{SendOutcome, send};

/// The app, mailing through a fresh SMTP server.
async fn app_with_smtp() -> (TestApp, SmtpServer, Settings) {
    let smtp = SmtpServer::start();
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.smtp_url = Some(Secret::new(smtp.url()));
    let mut app = spawn_with(settings.clone()).await;
    app.test_db = Some(test_db);
    (app, smtp, settings)
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

    // Marketplace news arrived too: the submission for the company, the approval for the worker.
    arrives(
        &smtp,
        &owner_email,
        "Nueva entrega para revisar: «Limpiar base de clientes»",
    )
    .await;
    let approved = arrives(
        &smtp,
        &worker_email,
        "Trabajo aprobado: «Limpiar base de clientes»",
    )
    .await;
    let text = approved.parsed().body_text(0).unwrap().to_string();
    assert!(
        text.contains("2,62 horas") && text.contains("$ 48.485"),
        "{text}"
    );

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
async fn permanent_failures_are_visible_to_admin() {
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
    app.get("/v1/admin/outbox?status=failed", Some(&finance))
        .await
        .problem(403);
    app.get("/v1/admin/outbox?status=lost", Some(&admin))
        .await
        .problem(422);
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

#[tokio::test]
async fn scratch_submission_mail() {
    let (app, smtp, _) = app_with_smtp().await;
    let a = worked_example(&app).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    for m in smtp.messages() {
        eprintln!(
            "TO {:?} SUBJ {}\n{}\n-----",
            m.to,
            subject(&m),
            m.parsed().body_text(0).unwrap()
        );
    }
    let _ = a;
}
