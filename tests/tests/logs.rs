//! No secret and no personal datum reaches the logs. The whole product (API and its worker) runs
//! in this process with every crate logging at `debug` into a buffer, through a day's work that
//! handles every kind of secret: sign-ins (good and bad passwords), a password change, bearer
//! tokens, a worker's cédula, phone, bank account, e-mail and name, money runs that export bank
//! files and e-mail statements. Then the buffer is searched for each of those values.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_secrets_and_no_personal_data() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        // Everything at debug (what an operator turns on to chase a problem), except this
        // test's own HTTP client, whose logs are not the product's.
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,reqwest=off,hyper_util::client=off",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let app = spawn_app().await;
    let a = worked_example(&app).await;

    // A worker with every personal field we hold, paid to a bank account.
    let id = short_id();
    let email = format!("maria.{id}@correo.test");
    let password = format!("clave-secreta-{id}");
    let new_password = format!("otra-clave-secreta-{id}");
    let wrong_password = format!("clave-equivocada-{id}");
    let name = "Yuliana Secreto Pérez";
    let cedula = "52987123";
    let phone = "3157771234";
    let account = "0099887766554";
    let r = app
        .post(
            "/v1/workers",
            Some(&a.admin),
            json!({
                "name": name, "email": email, "password": password,
                "municipality": "Ataco", "department": "Tolima", "skills": ["data-cleaning"],
                "payout_method": {"kind": "bank", "bank": "Banco Agrario",
                                  "account_type": "savings", "account_number": account},
                "document_id": cedula, "phone": phone,
            }),
        )
        .await;
    let worker_id = r.ok(201)["id"].as_str().unwrap().to_string();
    // A failed sign-in, a good one, a password change and a sign-in with the new password.
    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": wrong_password}),
        )
        .await;
    r.problem(401);
    let token = app.login(&email, &password).await;
    app.post(
        "/v1/me/password",
        Some(&token),
        json!({"current_password": password, "new_password": new_password}),
    )
    .await
    .ok(204);
    let token = app.login(&email, &new_password).await;
    app.get(&format!("/v1/workers/{worker_id}"), Some(&token))
        .await
        .ok(200);
    // A forged token is refused (and must not be echoed into the logs either).
    let forged = format!("vrd_forged{id}");
    app.get("/v1/me", Some(&forged)).await.problem(401);

    // Money: accrue, bill, pay (bank file export) and e-mail the month's statements.
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(
                &format!("/v1/ledger/accounts/worker:{}:payable", a.worker_id),
                Some(&a.finance),
            )
            .await;
        (r.status == 200 && r.body["balance"] != "0").then_some(())
    })
    .await
    .expect("accrued");
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    app.run_job(
        &a.finance,
        "/v1/billing-runs",
        json!({ "period_end": today }),
    )
    .await;
    let job = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let batch = job["subject_id"].as_str().unwrap();
    app.get(
        &format!("/v1/payout-batches/{batch}/export"),
        Some(&a.finance),
    )
    .await
    .ok(200);
    let month = vereda_contracts::statements::Month::of(chrono::Utc::now()).to_string();
    app.run_job(&a.finance, "/v1/statement-runs", json!({ "month": month }))
        .await;
    // Let the e-mail jobs run too.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let text = logs.text();
    assert!(
        text.contains("signed in") && text.contains("request"),
        "the capture works: the product's own log lines are there:\n{text}"
    );
    let tokens = [&a.admin, &a.finance, &a.owner, &a.worker, &token, &forged];
    let secrets: Vec<(&str, &str)> = [
        ("admin password", ADMIN_PASSWORD),
        ("a user's password", PASSWORD),
        ("the worker's password", password.as_str()),
        ("the new password", new_password.as_str()),
        ("a wrong password", wrong_password.as_str()),
        ("the worker's e-mail", email.as_str()),
        ("the worker's name", name),
        ("the worker's cédula", cedula),
        ("the worker's phone", phone),
        ("the worker's bank account", account),
        ("the example worker's cédula", "1012345678"),
        ("the example worker's Nequi phone", "3105551234"),
        ("the example worker's name", "Luz Teletrabajadora"),
    ]
    .into_iter()
    .chain(tokens.iter().map(|t| ("a bearer token", t.as_str())))
    .collect();
    for (what, value) in secrets {
        if let Some(at) = text.find(value) {
            let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
            panic!("{what} is in the logs: {}", &text[from..to]);
        }
    }
    // A token's random part on its own (without the `vrd_` prefix) is as secret as the token.
    for t in tokens {
        let tail = t.trim_start_matches("vrd_");
        assert!(!text.contains(tail), "a token's secret part is in the logs");
    }
}
