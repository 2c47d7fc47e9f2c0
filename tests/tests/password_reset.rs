//! Getting back in (issue 15 §5): a reset link by e-mail through a real SMTP server, used once,
//! expiring, signing out every session and lifting the sign-in lock; no account enumeration.

use std::time::Duration;

use serde_json::json;
use vereda_store::config::Settings;
use vereda_store::on_db;
use vereda_tests::smtp::{Received, SmtpServer};
use vereda_tests::*;

async fn app_with_smtp() -> (TestApp, SmtpServer, Settings) {
    vereda_tests::spawn_app_with_smtp_at("https://vereda.example").await
}

fn subject(m: &Received) -> String {
    m.parsed().subject().unwrap_or_default().to_string()
}

fn to(smtp: &SmtpServer, email: &str) -> Vec<Received> {
    smtp.messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == email))
        .collect()
}

/// Wait for the `n`th message to `email` and return it.
async fn nth_message(smtp: &SmtpServer, email: &str, n: usize) -> Received {
    eventually(Duration::from_secs(60), || async {
        to(smtp, email).into_iter().nth(n - 1)
    })
    .await
    .unwrap_or_else(|| panic!("message {n} to {email} never came"))
}

/// The link in a message's text part, and its token.
pub fn link_in(m: &Received) -> (String, String) {
    let text = m.parsed().body_text(0).unwrap_or_default().to_string();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://vereda.example/#/contrasena?token="))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .to_string();
    let token = link
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    (link, token)
}

async fn reset(app: &TestApp, email: &str) -> Resp {
    app.post("/v1/auth/password-reset", None, json!({"email": email}))
        .await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> Resp {
    app.post(
        "/v1/auth/password-reset/confirm",
        None,
        json!({"token": token, "password": password}),
    )
    .await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Resp {
    app.post(
        "/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn a_forgotten_password_is_reset_from_the_email_link_once() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let (_, phone) = app.worker(&admin, &["data-entry"]).await;
    let email = app.get("/v1/me", Some(&phone)).await.ok(200)["email"]
        .as_str()
        .unwrap()
        .to_string();
    let laptop = app.login(&email, PASSWORD).await;

    // She is locked out after five wrong guesses.
    for _ in 0..5 {
        sign_in(&app, &email, "a-wrong-password-guess").await;
    }
    sign_in(&app, &email, PASSWORD).await.problem(429);

    let r = reset(&app, &email).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let m = nth_message(&smtp, &email, 1).await;
    assert_eq!(subject(&m), "Cree una nueva contraseña para Vereda");
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("Hola, Luz Teletrabajadora:"), "{text}");
    assert!(text.contains("(hora de Colombia)"), "{text}");
    let (link, token) = link_in(&m);
    assert!(!link.contains("invitacion"), "{link}");
    let html = m.parsed().body_html(0).unwrap().to_string();
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    // Stored only as a hash.
    let stored: Vec<String> = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT token_hash FROM password_links"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(stored, vec![sha256_hex(&token)]);

    // The password rules hold here too, and a refusal does not use the link.
    let r = confirm(&app, &token, "short").await;
    r.problem(422);
    assert_eq!(r.field(), "password");

    let new_password = "una-clave-nueva-y-larga";
    let r = confirm(&app, &token, new_password).await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Every session ended; the lock is lifted; the new password works, the old does not.
    app.get("/v1/me", Some(&phone)).await.problem(401);
    app.get("/v1/me", Some(&laptop)).await.problem(401);
    sign_in(&app, &email, PASSWORD).await.problem(401);
    sign_in(&app, &email, new_password).await.ok(200);

    // Single use.
    let r = confirm(&app, &token, "otra-clave-mas-larga-aun").await;
    r.problem(422);
    assert_eq!(r.code(), "reset_token_invalid");
    assert_eq!(r.field(), "token");
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .starts_with("El enlace para crear la contraseña no sirve"),
        "{}",
        r.text
    );
    sign_in(&app, &email, new_password).await.ok(200);

    // Garbage is refused the same way.
    for bad in ["", "vrl_nothing", "not-even-a-token"] {
        let r = confirm(&app, bad, "otra-clave-mas-larga-aun").await;
        assert_eq!(r.code(), "reset_token_invalid", "{}", r.text);
    }
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let email = app.get("/v1/me", Some(&worker)).await.ok(200)["email"]
        .as_str()
        .unwrap()
        .to_string();
    reset(&app, &email).await;
    let (_, token) = link_in(&nth_message(&smtp, &email, 1).await);
    // Made an hour and a second ago.
    let now = chrono::Utc::now().timestamp();
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE password_links SET created_at = $1, expires_at = $2 WHERE token_hash = $3"
    )
    .bind(now - 3601)
    .bind(now - 1)
    .bind(sha256_hex(&token))
    .execute(p)
    .await
    .unwrap()
    .rows_affected());
    let r = confirm(&app, &token, "una-clave-nueva-y-larga").await;
    r.problem(422);
    assert_eq!(r.code(), "reset_token_invalid");
    sign_in(&app, &email, PASSWORD).await.ok(200);
}

#[tokio::test]
async fn an_unknown_email_gets_the_same_answer_and_no_mail() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let known = app.get("/v1/me", Some(&worker)).await.ok(200)["email"]
        .as_str()
        .unwrap()
        .to_string();
    let a = reset(&app, "nadie-aqui@correo.test").await;
    let b = reset(&app, &known).await;
    assert_eq!((a.status, b.status), (202, 202));
    assert_eq!(a.text, b.text);
    nth_message(&smtp, &known, 1).await;
    // Given time to be sent, nothing goes to the unknown address.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(to(&smtp, "nadie-aqui@correo.test").is_empty());
    let rows: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox_messages WHERE recipient = 'nadie-aqui@correo.test'"
    )
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(rows, 0);

    // Not a way to spam someone: a few links per address, then quiet 202s.
    for _ in 0..5 {
        assert_eq!(reset(&app, &known).await.status, 202);
    }
    let links: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox_messages WHERE recipient = $1 AND kind = 'password_reset'"
    )
    .bind(&known)
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(links, 3);
    // And one client address cannot ask endlessly.
    let mut last = 0;
    for i in 0..30 {
        last = reset(&app, &format!("otra-{i}@correo.test")).await.status;
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn accounts_created_without_a_password_are_invited_to_choose_one() {
    let (app, smtp, settings) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let admin_name = app.get("/v1/me", Some(&admin)).await.ok(200)["name"]
        .as_str()
        .unwrap()
        .to_string();

    // A worker, with no password.
    let email = format!("invitada-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            json!({
                "name": "Luz Invitada", "email": email,
                "municipality": "Chaparral", "department": "Tolima",
                "skills": ["data-entry"],
                "payout_method": {"kind": "nequi", "phone": "3105551234"},
            }),
        )
        .await;
    r.ok(201);
    // No password works until she chooses one.
    sign_in(&app, &email, "!invited").await.problem(401);

    let m = nth_message(&smtp, &email, 1).await;
    assert_eq!(
        subject(&m),
        format!("{admin_name} creó su cuenta en Vereda")
    );
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("Hola, Luz Invitada:"), "{text}");
    assert!(text.contains(&settings.platform_name), "{text}");
    assert!(text.contains("(hora de Colombia)"), "{text}");
    let (link, token) = link_in(&m);
    assert!(link.ends_with("&invitacion=1"), "{link}");
    let valid_for: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT expires_at - created_at FROM password_links WHERE token_hash = $1 \
         AND purpose = 'invitation'"
    )
    .bind(sha256_hex(&token))
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(valid_for, 7 * 24 * 3600);

    let first = "mi-primera-clave-segura";
    assert_eq!(confirm(&app, &token, first).await.status, 204);
    let me = sign_in(&app, &email, first).await;
    assert_eq!(me.ok(200)["user"]["role"], "worker");
    assert_eq!(
        confirm(&app, &token, "otra-clave-mas-larga").await.code(),
        "reset_token_invalid"
    );

    // Staff, a company's owner and a company's member alike; a given password sends nothing.
    let finance = format!("finanzas-{}@vereda.test", short_id());
    app.post(
        "/v1/staff",
        Some(&admin),
        json!({"name": "Sofía Finanzas", "email": finance, "role": "finance"}),
    )
    .await
    .ok(201);
    let owner = format!("duena-{}@empresa.test", short_id());
    let company = app
        .post(
            "/v1/companies",
            Some(&admin),
            json!({"name": "Tienda Invitada", "nit": random_nit(),
                   "billing_email": "facturas@empresa.test",
                   "owner": {"name": "Olga Dueña", "email": owner}}),
        )
        .await;
    let company = company.ok(201)["id"].as_str().unwrap().to_string();
    let member = format!("revisora-{}@empresa.test", short_id());
    app.post(
        &format!("/v1/companies/{company}/members"),
        Some(&admin),
        json!({"name": "Marta Revisora", "email": member, "member_role": "reviewer"}),
    )
    .await
    .ok(201);
    for to_whom in [&finance, &owner, &member] {
        let m = nth_message(&smtp, to_whom, 1).await;
        assert!(
            subject(&m).ends_with("creó su cuenta en Vereda"),
            "{}",
            subject(&m)
        );
        let (link, _) = link_in(&m);
        assert!(link.ends_with("&invitacion=1"), "{link}");
    }
    let typed = format!("con-clave-{}@vereda.test", short_id());
    app.post(
        "/v1/staff",
        Some(&admin),
        json!({"name": "Con Clave", "email": typed, "password": PASSWORD, "role": "finance"}),
    )
    .await
    .ok(201);
    sign_in(&app, &typed, PASSWORD).await.ok(200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(to(&smtp, &typed).is_empty());
    // A null password is refused, not taken for "invite".
    let r = app
        .post(
            "/v1/staff",
            Some(&admin),
            json!({"name": "Nula", "email": "nula@vereda.test", "password": null, "role": "finance"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "password");
}
