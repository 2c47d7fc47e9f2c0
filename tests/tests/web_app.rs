//! The worker's web app in a real browser (issue 15): Debian's Chromium, headless, driven over
//! the DevTools protocol (tests/src/browser.rs), at phone size. Each test has its own app (and
//! database: SQLite, or PostgreSQL when VEREDA_TEST_POSTGRES_URL is set). Without Chromium
//! these tests print a notice and pass, unless VEREDA_REQUIRE_BROWSER=1.
//!
//! Screenshots of every screen at 360×740 go to target/screens/ (docs/screens/ with
//! VEREDA_SCREENS_DIR=docs/screens); axe-core (vendored under
//! tests/vendor/) must find no serious or critical violation on any of them.

use std::time::Duration;

use chrono::{Duration as ChronoDuration, Utc};
use serde_json::{Value, json};
use vereda_store::config::Secret;
use vereda_tests::browser::{Browser, Page, check_screen, js_str};
use vereda_tests::smtp::SmtpServer;
use vereda_tests::{PASSWORD, TestApp, TestDb, eventually, short_id, spawn_app, spawn_with};

/// A browser on a phone-sized tab at the app's address.
async fn open(test: &str, app: &TestApp) -> Option<(Browser, Page)> {
    let browser = Browser::launch(test).await?;
    let page = browser.new_page().await;
    page.emulate_phone().await;
    page.goto(&format!("{}/", app.base)).await;
    Some((browser, page))
}

async fn sign_in(page: &Page, email: &str, password: &str) {
    page.wait_for("#signin").await;
    page.type_into("#email", email).await;
    page.type_into("#password", password).await;
    page.click("#signin button[type=submit]").await;
}

#[tokio::test]
async fn the_sign_in_screen_is_spanish_and_accessible() {
    let app = spawn_app().await;
    let Some((browser, page)) = open("the_sign_in_screen_is_spanish_and_accessible", &app).await
    else {
        return;
    };
    page.wait_for("#signin").await;
    assert_eq!(
        page.eval("document.documentElement.lang").await,
        json!("es-CO")
    );
    page.wait_for_text("Entrar a Vereda").await;
    check_screen(&page, "entrar").await;

    // A wrong password is a Spanish sentence, never JSON.
    sign_in(&page, "nadie@correo.test", "una-contraseña-equivocada").await;
    page.wait_for(".form-msg .notice.error").await;
    let said = page
        .eval("document.querySelector('.form-msg').innerText")
        .await;
    let said = said.as_str().unwrap_or("");
    assert!(!said.contains('{') && !said.is_empty(), "{said}");

    page.click_text("¿Olvidó su contraseña?").await;
    page.wait_for("#forgot").await;
    check_screen(&page, "olvido").await;
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `$ 48.485`, as the app writes pesos (whole pesos; centavos only when there are some).
fn pesos(amount: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let digits: Vec<char> = int.chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(*c);
    }
    let cents = format!("{frac:0<2}");
    if cents.starts_with("00") {
        format!("$ {grouped}")
    } else {
        format!("$ {grouped},{}", &cents[..2])
    }
}

/// Yesterday in Bogotá (UTC−5), as the date field wants it.
fn yesterday_in_bogota() -> String {
    (Utc::now() - ChronoDuration::hours(5) - ChronoDuration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

/// An instant yesterday in Bogotá, `hh:mm`, as RFC 3339.
fn yesterday_at(hm: &str) -> String {
    format!("{}T{hm}:00-05:00", yesterday_in_bogota())
}

/// A worker whose e-mail we know; returns (worker id, e-mail, token).
async fn worker(app: &TestApp, admin: &str) -> (String, String, String) {
    let email = format!("luz-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(admin),
            json!({
                "name": "Luz Teletrabajadora",
                "email": email,
                "password": PASSWORD,
                "municipality": "Chaparral",
                "department": "Tolima",
                "skills": ["data-cleaning"],
                "payout_method": {"kind": "nequi", "phone": "3105551234"},
                "document_id": "1012345678",
            }),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    let token = app.login(&email, PASSWORD).await;
    (id, email, token)
}

/// An open hourly data-cleaning task at 18.500 COP/h; returns its id.
async fn hourly_task(app: &TestApp, owner: &str, title: &str, slots: i64) -> String {
    let r = app
        .post(
            "/v1/tasks",
            Some(owner),
            json!({
                "title": title, "instructions": "Quitar los clientes repetidos de la hoja.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"},
                "slots": slots, "claim_minutes": 2880, "review_hours": 72
            }),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/v1/tasks/{id}/publish"), Some(owner), json!({}))
        .await
        .ok(200);
    id
}

async fn go(page: &Page, hash: &str) {
    page.eval(&format!("location.hash = {}", js_str(hash)))
        .await;
}

async fn unsent_says(page: &Page, text: &str) {
    page.wait_until(
        &format!(
            "document.querySelector('#unsent').innerText === {}",
            js_str(text)
        ),
        Duration::from_secs(30),
    )
    .await;
}

async fn live_entries(app: &TestApp, token: &str, assignment: &str) -> Vec<Value> {
    app.get(
        &format!("/v1/assignments/{assignment}/time-entries?limit=100"),
        Some(token),
    )
    .await
    .ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["deleted_at"].is_null())
        .cloned()
        .collect()
}

fn today() -> String {
    (Utc::now() - ChronoDuration::hours(5))
        .format("%Y-%m-%d")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// The worker's day
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_workers_day_in_the_browser_with_a_stretch_offline() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let (worker_id, email, token) = worker(&app, &admin).await;
    let task = hourly_task(&app, &owner, "Limpiar base de clientes", 2).await;

    let Some((browser, page)) = open("the_workers_day", &app).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;

    // Tareas disponibles: pay, most she can earn, deadline, skills.
    page.wait_for_text("Limpiar base de clientes").await;
    page.wait_for_text("$ 18.500 por hora").await;
    page.wait_for_text("Puede ganar hasta $ 185.000").await;
    page.wait_for_text("Habilidades: limpieza de datos").await;
    page.wait_for_text("para entregar después de tomarla").await;
    check_screen(&page, "tareas").await;

    page.click(&format!("a[href='#/tarea/{task}']")).await;
    page.wait_for_text("Instrucciones").await;
    check_screen(&page, "tarea").await;
    page.click_text("Tomar esta tarea").await;
    page.wait_for_text("Iniciar el cronómetro").await;
    let assignment = page
        .eval("location.hash.split('/')[2]")
        .await
        .as_str()
        .unwrap()
        .to_string();
    check_screen(&page, "asignacion").await;

    // The app shell is on the device before the signal goes.
    page.wait_until(
        "navigator.serviceWorker && navigator.serviceWorker.controller",
        Duration::from_secs(30),
    )
    .await;

    page.click_text("Iniciar el cronómetro").await;
    page.wait_for("#timer-running").await;
    check_screen(&page, "cronometro").await;

    // The signal goes.
    page.set_offline(true).await;
    page.wait_for_text("Sin conexión").await;
    page.click("details.add-entry summary").await;
    page.set_value("#new-entry-date", &yesterday_in_bogota())
        .await;
    page.set_value("#new-entry-from", "10:00").await;
    page.set_value("#new-entry-to", "12:37").await;
    page.type_into("#new-entry-note", "Revisé la columna de teléfonos")
        .await;
    page.click("#new-entry button[type=submit]").await;
    unsent_says(&page, "1 registro sin enviar").await;
    page.wait_for_text("2 h 37 min").await;

    // Reload with no connection: her task, the running timer and the unsent entry are there.
    page.reload().await;
    page.wait_for_text("Limpiar base de clientes").await;
    page.wait_for("#timer-running").await;
    page.wait_for_text("Sin enviar").await;
    unsent_says(&page, "1 registro sin enviar").await;
    check_screen(&page, "sin-conexion").await;
    // The lists she saw are there too, saying they are from the last visit.
    go(&page, "#/tareas").await;
    page.wait_for_text("esta es la lista que vio la última vez")
        .await;
    page.wait_for_text("Limpiar base de clientes").await;
    go(&page, "#/mis-tareas").await;
    page.wait_for_text("guardadas en este equipo").await;
    go(&page, &format!("#/asignacion/{assignment}")).await;
    page.wait_for("#timer-running").await;

    tokio::time::sleep(Duration::from_secs(2)).await;
    page.click_text("Detener el cronómetro").await;
    unsent_says(&page, "2 registros sin enviar").await;
    assert!(
        live_entries(&app, &token, &assignment).await.is_empty(),
        "nothing reached the server while offline"
    );

    // Back online: both entries arrive, once.
    page.set_offline(false).await;
    unsent_says(&page, "Todo enviado").await;
    let entries = live_entries(&app, &token, &assignment).await;
    assert_eq!(entries.len(), 2, "{entries:#?}");
    let mut client_ids: Vec<&str> = entries
        .iter()
        .map(|e| e["client_id"].as_str().expect("client_id"))
        .collect();
    client_ids.dedup();
    assert_eq!(client_ids.len(), 2);
    assert!(entries.iter().any(|e| e["seconds"] == 9420));
    // Reloading online sends nothing again.
    page.reload().await;
    unsent_says(&page, "Todo enviado").await;
    assert_eq!(live_entries(&app, &token, &assignment).await.len(), 2);

    // Submit the deliverable.
    page.type_into("#deliverable", "https://docs.example/clientes-limpios")
        .await;
    page.type_into("#notes", "Quedaron 1.204 clientes sin repetir.")
        .await;
    page.click("#submit-work button[type=submit]").await;
    page.wait_for_text("Trabajo entregado").await;

    // The company approves; finance bills and pays.
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(&format!("/v1/assignments/{assignment}"), Some(&owner))
            .await;
        (r.body["status"] == "verified").then_some(())
    })
    .await
    .expect("verified");
    app.post(
        &format!("/v1/assignments/{assignment}/review"),
        Some(&owner),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(
                &format!("/v1/ledger/accounts/worker:{worker_id}:payable"),
                Some(&finance),
            )
            .await;
        (r.status == 200
            && r.body["balance"]
                .as_str()
                .is_some_and(|b| b.starts_with('-')))
        .then_some(())
    })
    .await
    .expect("the approved work is accrued");
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    let job = app.run_job(&finance, "/v1/payout-batches", json!({})).await;
    let batch_id = job["subject_id"].as_str().unwrap().to_string();
    let batch = app
        .get(&format!("/v1/payout-batches/{batch_id}"), Some(&finance))
        .await;
    let line = batch.ok(200)["lines"][0].clone();
    let amount = line["amount"].as_str().unwrap().to_string();
    let reference = line["reference"].as_str().unwrap().to_string();
    let file = format!(
        "reference,amount,status,date\n{reference},{amount},paid,{}\n",
        today()
    );
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch_id}/confirmations"),
            Some(&finance),
            "text/csv",
            file.into_bytes(),
        )
        .await;
    let job_id = r.ok(202)["job_id"].as_str().unwrap().to_string();
    app.wait_job(&finance, &job_id).await;
    // This month's income statement (provisional while the month runs).
    app.run_job(
        &finance,
        "/v1/statement-runs",
        json!({"month": today()[..7].to_string()}),
    )
    .await;

    // Mis tareas: approved, with the approved time.
    go(&page, "#/mis-tareas").await;
    page.wait_for_text("Aprobada").await;
    check_screen(&page, "mis-tareas").await;

    go(&page, "#/cuenta").await;
    page.wait_for_text("Cambiar la contraseña").await;
    check_screen(&page, "cuenta").await;
    // Mi dinero shows what was paid.
    go(&page, "#/dinero").await;
    page.wait_for_text("Pagado").await;
    page.wait_for_text(&pesos(&amount)).await;
    page.wait_for_text("Código de verificación").await;
    page.wait_for("a[href$='/pdf']").await;
    check_screen(&page, "dinero").await;

    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// Refusals she must understand
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_lost_claim_race_says_plainly_that_someone_else_took_the_slot() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let (_, email, _) = worker(&app, &admin).await;
    let (_, _, rival) = worker(&app, &admin).await;
    let task = hourly_task(&app, &owner, "Clasificar tiquetes de soporte", 1).await;

    let Some((browser, page)) = open("a_lost_claim_race", &app).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;
    page.wait_for_text("Clasificar tiquetes de soporte").await;
    go(&page, &format!("#/tarea/{task}")).await;
    page.wait_for_text("Tomar esta tarea").await;

    // Someone else taps first.
    app.send(
        app.client
            .post(app.url(&format!("/v1/tasks/{task}/claims")))
            .bearer_auth(&rival),
    )
    .await
    .ok(201);
    page.click_text("Tomar esta tarea").await;
    page.wait_for_text("Otra persona tomó el último cupo").await;
    let text = page.text().await;
    assert!(!text.contains("task_full") && !text.contains('{'), "{text}");
    check_screen(&page, "tarea-tomada").await;
    browser.close().await;
}

#[tokio::test]
async fn an_overlapping_offline_entry_shows_its_reason_and_can_be_fixed_and_sent() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let (_, email, token) = worker(&app, &admin).await;
    let task = hourly_task(&app, &owner, "Revisar direcciones", 1).await;
    let claim = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{task}/claims")))
                .bearer_auth(&token),
        )
        .await;
    let assignment = claim.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/assignments/{assignment}/time-entries"),
        Some(&token),
        json!({"started_at": yesterday_at("10:00"), "ended_at": yesterday_at("11:00")}),
    )
    .await
    .ok(201);

    let Some((browser, page)) = open("an_overlapping_offline_entry", &app).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;
    page.wait_for("nav a[aria-current=page]").await;
    go(&page, &format!("#/asignacion/{assignment}")).await;
    page.wait_for_text("Agregar tiempo a mano").await;

    page.set_offline(true).await;
    page.wait_for_text("Sin conexión").await;
    page.click("details.add-entry summary").await;
    page.set_value("#new-entry-date", &yesterday_in_bogota())
        .await;
    page.set_value("#new-entry-from", "10:30").await;
    page.set_value("#new-entry-to", "11:30").await;
    page.click("#new-entry button[type=submit]").await;
    unsent_says(&page, "1 registro sin enviar").await;

    page.set_offline(false).await;
    page.wait_for_text("No aceptado").await;
    page.wait_for_text("se cruza").await;
    unsent_says(&page, "1 registro sin enviar").await;
    check_screen(&page, "registro-rechazado").await;
    assert_eq!(live_entries(&app, &token, &assignment).await.len(), 1);

    page.click_text("Corregir y enviar").await;
    page.set_value("#fix-entry-from", "11:00").await;
    page.set_value("#fix-entry-to", "12:00").await;
    page.click("#fix-entry button[type=submit]").await;
    unsent_says(&page, "Todo enviado").await;
    let entries = live_entries(&app, &token, &assignment).await;
    assert_eq!(entries.len(), 2, "{entries:#?}");
    assert!(entries.iter().all(|e| e["seconds"] == 3600));

    // Entries already on the server can be corrected and deleted while the task is open.
    let row = |i: usize| format!("ul.entries li.entry:not(.unsent):nth-of-type({i})");
    page.wait_until(
        "document.querySelectorAll('ul.entries li.entry:not(.unsent)').length === 2",
        Duration::from_secs(30),
    )
    .await;
    let newest = page
        .eval(&format!(
            "document.querySelector({}).innerText",
            js_str(&row(1))
        ))
        .await;
    assert!(
        newest.as_str().unwrap_or("").contains("11:00"),
        "newest first: {newest}"
    );
    page.click(&format!("{} button", row(1))).await;
    page.set_value("#edit-entry-from", "11:00").await;
    page.set_value("#edit-entry-to", "11:30").await;
    page.click("#edit-entry button[type=submit]").await;
    page.wait_for_text("30 min").await;
    page.click(&format!("{} button.danger", row(2))).await;
    page.wait_until(
        "document.querySelectorAll('ul.entries li.entry:not(.unsent)').length === 1",
        Duration::from_secs(30),
    )
    .await;
    let entries = live_entries(&app, &token, &assignment).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["seconds"], 1800);
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// Getting back in
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_forgotten_password_is_reset_from_the_email() {
    let smtp = SmtpServer::start();
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.smtp_url = Some(Secret::new(smtp.url()));
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    let admin = app.admin_token().await;
    let (_, email, _) = worker(&app, &admin).await;

    let Some((browser, page)) = open("a_forgotten_password", &app).await else {
        return;
    };
    page.click_text("¿Olvidó su contraseña?").await;
    page.type_into("#forgot #email", &email).await;
    page.click("#forgot button[type=submit]").await;
    page.wait_for_text("le llegará un mensaje").await;

    let message = eventually(Duration::from_secs(90), || async {
        smtp.messages().into_iter().find(|m| m.to.contains(&email))
    })
    .await
    .expect("the reset e-mail arrives");
    let parsed = message.parsed();
    let body = parsed
        .body_text(0)
        .map(|b| b.to_string())
        .or_else(|| parsed.body_html(0).map(|b| b.to_string()))
        .unwrap_or_default();
    let at = body
        .find("#/contrasena?token=")
        .expect("a set-password link")
        + 19;
    let token: String = body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.~%".contains(*c))
        .collect();
    assert!(!token.is_empty(), "{body}");

    page.goto(&format!("{}/#/contrasena?token={token}", app.base))
        .await;
    page.wait_for("#reset").await;
    check_screen(&page, "contrasena").await;
    let new_password = "una-contraseña-nueva-y-larga";
    page.type_into("#new-password", new_password).await;
    page.type_into("#repeat-password", new_password).await;
    page.click("#reset button[type=submit]").await;
    page.wait_for_text("Su contraseña quedó guardada").await;

    // The link works once.
    page.goto(&format!("{}/#/contrasena?token={token}", app.base))
        .await;
    page.wait_for("#reset").await;
    page.type_into("#new-password", "otra-contraseña-más-larga")
        .await;
    page.type_into("#repeat-password", "otra-contraseña-más-larga")
        .await;
    page.click("#reset button[type=submit]").await;
    page.wait_for(".form-msg .notice.error").await;
    page.wait_for_text("ya se usó").await;

    go(&page, "#/entrar").await;
    sign_in(&page, &email, new_password).await;
    page.wait_for_text("Tareas disponibles").await;
    page.wait_for_text("Por ahora no hay tareas").await;
    browser.close().await;
}

#[tokio::test]
async fn a_device_timer_past_the_tasks_cap_is_cut_there_and_says_why() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let (_, email, token) = worker(&app, &admin).await;
    let r = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Etiquetar fotos", "instructions": "Una etiqueta por foto.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "1"},
                "slots": 1, "claim_minutes": 2880, "review_hours": 72
            }),
        )
        .await;
    let task = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/tasks/{task}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);

    let Some((browser, page)) = open("a_device_timer_past_the_cap", &app).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;
    page.wait_for_text("Etiquetar fotos").await;
    go(&page, &format!("#/tarea/{task}")).await;
    page.click_text("Tomar esta tarea").await;
    page.wait_for_text("Iniciar el cronómetro").await;
    let assignment = page
        .eval("location.hash.split('/')[2]")
        .await
        .as_str()
        .unwrap()
        .to_string();
    page.set_offline(true).await;
    page.click_text("Iniciar el cronómetro").await;
    page.wait_for("#timer-running").await;
    page.wait_for_text("máximo de horas de la tarea").await;

    // The phone was left running for three hours with no signal: move the start back (the
    // device's own record; the limit it computed at the start moves with it).
    page.eval(
        "new Promise((ok, fail) => { const r = indexedDB.open('vereda'); r.onsuccess = () => { \
           const tx = r.result.transaction('kv', 'readwrite'); const kv = tx.objectStore('kv'); \
           const g = kv.get('timer'); g.onsuccess = () => { const t = g.result; \
             const back = 3 * 3600 * 1000; t.started_ms -= back; t.limit_ms -= back; \
             kv.put(t, 'timer'); }; tx.oncomplete = () => ok(true); tx.onerror = fail; }; })",
    )
    .await;
    // The timer stops itself at the cap, and says why.
    page.wait_for_text("El cronómetro se detuvo en 1 h (máximo de horas de la tarea)")
        .await;
    unsent_says(&page, "1 registro sin enviar").await;
    check_screen(&page, "cronometro-cortado").await;

    page.set_offline(false).await;
    unsent_says(&page, "Todo enviado").await;
    let entries = live_entries(&app, &token, &assignment).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["seconds"], 3600);
    browser.close().await;
}

/// Her tax data and PILA months on her phone (issue 20 §2, §4): she signs the art. 383
/// statement, records last month's planilla with amounts as people type them, and the API has
/// them; a bad planilla number is refused in Spanish.
#[tokio::test]
async fn she_keeps_her_tax_data_and_pila_planillas_from_the_account_screen() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, email, token) = worker(&app, &admin).await;
    let Some((browser, page)) = open("she_keeps_her_tax_data", &app).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;
    page.wait_for("#nav a").await;
    go(&page, "#/cuenta").await;
    page.wait_for("#fiscal-profile").await;
    page.click("#fewer").await;
    page.click("#fiscal-profile button[type=submit]").await;
    page.wait_for_text("Datos tributarios guardados.").await;
    let p = app
        .get(&format!("/v1/workers/{id}/fiscal-profile"), Some(&token))
        .await;
    let p = p.ok(200).clone();
    assert_eq!(p["fewer_than_two_workers"], true, "{p}");
    assert_eq!(p["concept"], "services", "{p}");

    // A planilla number with letters is refused, in Spanish; then the right one is kept.
    page.type_into("#pila-planilla", "ABC").await;
    page.type_into("#pila-health", "218.900").await;
    page.type_into("#pila-pension", "280.200").await;
    page.click("#pila button[type=submit]").await;
    page.wait_for("#pila .notice.error").await;
    page.eval("document.getElementById('pila-planilla').value = ''")
        .await;
    page.type_into("#pila-planilla", "8512345678").await;
    page.click("#pila button[type=submit]").await;
    page.wait_for_text("Planilla registrada.").await;
    page.wait_for_text("8512345678").await;
    check_screen(&page, "impuestos").await;
    let months = app
        .get(&format!("/v1/workers/{id}/social-security"), Some(&token))
        .await;
    let months = months.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(months.len(), 1, "{months:?}");
    assert_eq!(
        (
            &months[0]["planilla"],
            &months[0]["health"],
            &months[0]["pension"]
        ),
        (&json!("8512345678"), &json!("218900"), &json!("280200"))
    );

    // Paid this year and certified: her money screen shows the certificate to download.
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let finance = app.finance_token(&admin).await;
    app.approved_fixed_work(&owner, "Limpiar base", "data-cleaning", 150_000, &[&token])
        .await;
    eventually(Duration::from_secs(60), || async {
        (app.payable(&finance, &id).await == "-150000").then_some(())
    })
    .await
    .expect("accrued");
    app.run_job(&finance, "/v1/payout-batches", json!({})).await;
    let year = today()[..4].parse::<i64>().unwrap();
    app.run_job(&finance, "/v1/certificate-runs", json!({ "year": year }))
        .await;
    go(&page, "#/dinero").await;
    page.wait_for_text("Certificado de ingresos y retenciones")
        .await;
    page.wait_for_text("Pagos del año: $ 150.000").await;
    check_screen(&page, "dinero-certificado").await;
    browser.close().await;
}

/// No browser needed: how the app's files are served.
#[tokio::test]
async fn the_app_is_served_at_the_root_with_hashed_immutable_assets_compressed() {
    let app = spawn_app().await;
    let index = app
        .send(
            app.client
                .get(app.url("/"))
                .header("accept-encoding", "identity"),
        )
        .await;
    assert_eq!(index.status, 200);
    assert!(index.content_type.starts_with("text/html"));
    assert_eq!(index.headers["cache-control"], "no-cache");
    assert!(index.text.contains("<html lang=\"es-CO\">"));
    // Every file the page names has a content-hashed name, is cached for good, and comes
    // gzip'd to a client that accepts it.
    let names: Vec<String> = index
        .text
        .split(['"', '\''])
        .filter(|s| s.starts_with('/') && s.len() > 1 && s.contains('.'))
        .map(str::to_string)
        .collect();
    assert!(names.iter().any(|n| n.starts_with("/js/app.")), "{names:?}");
    for name in &names {
        let stem = name.rsplit('/').next().unwrap();
        let parts: Vec<&str> = stem.split('.').collect();
        assert!(
            parts.len() >= 3 && parts[parts.len() - 2].len() == 10,
            "not a hashed name: {name}"
        );
        let raw = app
            .send(
                app.client
                    .get(app.url(name))
                    .header("accept-encoding", "identity"),
            )
            .await;
        assert_eq!(raw.status, 200, "{name}");
        assert_eq!(
            raw.headers["cache-control"], "public, max-age=31536000, immutable",
            "{name}"
        );
        let gz = app
            .send(
                app.client
                    .get(app.url(name))
                    .header("accept-encoding", "gzip"),
            )
            .await;
        if !name.ends_with(".png") {
            assert_eq!(gz.headers["content-encoding"], "gzip", "{name}");
        }
    }
    let sw = app.get("/sw.js", None).await;
    assert_eq!(sw.status, 200);
    assert_eq!(sw.headers["cache-control"], "no-cache");
    assert!(sw.text.contains("/js/app."), "the worker caches the shell");
    // The API, the docs and health are where they were.
    assert_eq!(app.get("/healthz", None).await.status, 200);
    assert_eq!(app.get("/openapi.json", None).await.status, 200);
    assert_eq!(app.get("/v1/me", None).await.status, 401);
    assert_eq!(app.get("/no-such-page", None).await.status, 404);
}
