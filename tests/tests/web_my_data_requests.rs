//! «Mis solicitudes sobre mis datos» in a real browser (issue 22 §3; Ley 1581 de 2012,
//! arts. 14–15), on a 390 px phone:
//!
//! 1. From «Sus datos personales» in «Mi cuenta» she opens the screen: her rights in plain
//!    Spanish (a copy in 10 business days, a correction in 15, the privacy notice) and no
//!    requests yet.
//! 2. She asks for a correction without saying what: refused in Spanish, nothing is filed. With
//!    the detail, one press files one request (a second press while it is on its way does
//!    nothing); it shows pending, due «a más tardar el <día>»: the day a Bogotá midnight
//!    `due_at` ends, never 12:00 a. m. of the next one.
//! 3. An admin extends it through the API: after a reload she reads the reason and the new
//!    deadline. The admin answers: after a reload she reads the answer (and the reason still).
//! 4. Without a signal the form says it needs a connection, keeps what she typed (also after
//!    leaving the screen and coming back) and her requests as last seen; with the signal back,
//!    the same text is sent.
//!
//! Screenshots `mis-solicitudes-*` (target/screens/, or VEREDA_SCREENS_DIR), each checked with
//! axe-core; no screen scrolls sideways. Without Chromium the test prints a notice and passes,
//! unless VEREDA_REQUIRE_BROWSER=1.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, Utc};
use serde_json::{Value, json};
use std::time::Duration;
use vereda_tests::browser::{Browser, Page, check_screen, go, js_str, sign_in};
use vereda_tests::{PASSWORD, TestApp, short_id, spawn_app};

const TITLE: &str = "Mis solicitudes sobre mis datos";
const NEED_DETAIL: &str = "Escriba qué dato está mal y cómo debe quedar";
const NEED_ONLINE: &str = "Para enviar su solicitud necesita conexión. Lo que escribió queda \
                           guardado en este equipo";
const OFFLINE_NOW: &str = "Está sin conexión: puede escribir su solicitud";
const CORRECTION: &str = "Mi municipio dice Ibagué y debe decir Chaparral, Tolima.";
const REASON: &str = "Estamos confirmando su municipio con la Registraduría.";
const ANSWER: &str =
    "Corregimos su municipio: ahora dice Chaparral, Tolima. Gracias por avisarnos.";
const OFFLINE_TEXT: &str = "Mi celular terminaba en 34 y cambió: ahora es 3105559876.";

/// A new worker (created by the admin): her id and e-mail.
async fn new_worker(app: &TestApp, admin: &str) -> (String, String) {
    let email = format!("luz-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(admin),
            json!({
                "name": "Luz Teletrabajadora", "email": email, "password": PASSWORD,
                "municipality": "Ibagué", "department": "Tolima",
                "skills": ["data-cleaning"],
                "payout_method": {"kind": "nequi", "phone": "3105551234"},
                "document_id": "1012345678",
            }),
        )
        .await;
    let worker_id = r.ok(201)["id"].as_str().expect("id").to_string();
    (worker_id, email)
}

async fn not_wider_than_the_phone(page: &Page, name: &str) {
    let wide = page
        .eval("document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(wide, json!(false), "{name} scrolls sideways on a phone");
}

/// Open the screen as she would: «Mi cuenta», then the link of «Sus datos personales».
async fn open_from_account(page: &Page) {
    // A new address first, so the screen is drawn again even when it is on screen.
    go(page, "#/tareas").await;
    page.wait_until("location.hash === '#/tareas'", Duration::from_secs(30))
        .await;
    go(page, "#/cuenta").await;
    page.wait_for("#my-data a[href='#/cuenta/solicitudes']")
        .await;
    page.click("#my-data a[href='#/cuenta/solicitudes']").await;
    wait_for_screen(page).await;
}

async fn wait_for_screen(page: &Page) {
    page.wait_until(
        &format!(
            "location.hash === '#/cuenta/solicitudes' && document.title.startsWith({}) \
             && document.querySelector('#data-request-form') \
             && document.querySelector('#data-requests').children.length",
            js_str(TITLE)
        ),
        Duration::from_secs(30),
    )
    .await;
}

/// The requests shown: each card's text.
async fn requests_shown(page: &Page) -> Vec<String> {
    let v = page
        .eval("[...document.querySelectorAll('#data-requests li.data-request')].map(li => li.innerText)")
        .await;
    v.as_array()
        .expect("a list")
        .iter()
        .map(|t| t.as_str().unwrap_or_default().to_string())
        .collect()
}

async fn mine(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/v1/data-requests", Some(token)).await.ok(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

const WEEKDAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];
const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// A deadline as she must read it: the Bogotá day it ends (`lunes 26 de enero`, with the year
/// when not this one). A `due_at` at a Bogotá midnight is the end of the day before.
fn due_day(due_at: &str) -> String {
    let due = DateTime::parse_from_rfc3339(due_at)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc);
    let bogota = |t: DateTime<Utc>| t - ChronoDuration::hours(5);
    let local = bogota(due);
    assert_eq!(
        (local.timestamp() % 86_400),
        0,
        "due_at {due_at} is a Bogotá midnight (the end of a business day)"
    );
    let day = local - ChronoDuration::minutes(1);
    let year = if day.year() == bogota(Utc::now()).year() {
        String::new()
    } else {
        format!(" de {}", day.year())
    };
    format!(
        "{} {} de {}{year}",
        WEEKDAYS[day.weekday().num_days_from_monday() as usize],
        day.day(),
        MONTHS[day.month0() as usize]
    )
}

/// The next day, as the screen must never write the deadline.
fn next_day(due_at: &str) -> String {
    let local = DateTime::parse_from_rfc3339(due_at)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
        - ChronoDuration::hours(5);
    format!(
        "{} {} de {}",
        WEEKDAYS[local.weekday().num_days_from_monday() as usize],
        local.day(),
        MONTHS[local.month0() as usize]
    )
}

async fn no_error_shown(page: &Page, what: &str) {
    assert_eq!(
        page.eval("document.querySelectorAll('main .notice.error').length")
            .await,
        json!(0),
        "no error {what}"
    );
}

#[tokio::test]
async fn she_asks_vereda_to_correct_her_data_and_reads_the_answer_on_her_phone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_worker_id, email) = new_worker(&app, &admin).await;
    let worker = app.login(&email, PASSWORD).await;

    let Some(browser) =
        Browser::launch("she_asks_vereda_to_correct_her_data_and_reads_the_answer_on_her_phone")
            .await
    else {
        return;
    };
    let page = browser.new_page().await;
    page.emulate_android().await;
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &email, PASSWORD).await;
    page.wait_until("location.hash === '#/tareas'", Duration::from_secs(30))
        .await;

    // 1. «Sus datos personales» leads to the screen: her rights, the form, no requests yet.
    go(&page, "#/cuenta").await;
    page.wait_for("#my-data a[href='#/cuenta/solicitudes']")
        .await;
    let card = page
        .eval("document.querySelector('#my-data').innerText")
        .await;
    assert!(card.as_str().unwrap_or_default().contains(TITLE), "{card}");
    page.eval("document.querySelector('#my-data').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "mis-solicitudes-cuenta").await;
    not_wider_than_the_phone(&page, "mis-solicitudes-cuenta").await;
    open_from_account(&page).await;
    page.wait_for("#data-requests-none").await;
    let said = page.text().await;
    for text in [
        "Todavía no ha hecho ninguna solicitud.",
        "le da derecho a saber qué datos personales guarda Vereda sobre usted y a pedir que corrija",
        "Si pide una copia, Vereda debe responderle en máximo 10 días hábiles.",
        "Si pide corregir un dato, en máximo 15 días hábiles.",
        "La respuesta le llega por escrito aquí y a su correo.",
        "Una copia de mis datos",
        "Corregir un dato",
    ] {
        assert!(said.contains(text), "{text:?} in:\n{said}");
    }
    assert_eq!(
        page.eval("document.querySelector('main a[href=\"/privacidad\"]').innerText")
            .await,
        json!("Lea el aviso de privacidad")
    );
    // «Mi cuenta» is the tab she is in.
    assert_eq!(
        page.eval("document.querySelector('nav a[aria-current=page]').getAttribute('href')")
            .await,
        json!("#/cuenta")
    );
    // The question for a correction shows only when she asks for one.
    assert_eq!(
        page.eval("document.querySelector('#dr-detail-box').hidden")
            .await,
        json!(true)
    );
    check_screen(&page, "mis-solicitudes-vacio").await;
    not_wider_than_the_phone(&page, "mis-solicitudes-vacio").await;

    // 2. A correction without saying what: refused in Spanish, nothing filed.
    page.click("#dr-correction").await;
    page.wait_until(
        "!document.querySelector('#dr-detail-box').hidden",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        page.text()
            .await
            .contains("¿Qué dato está mal y cómo debe quedar?")
    );
    page.type_into("#dr-detail", "   ").await;
    page.click("#data-request-form button[type=submit]").await;
    page.wait_for_text(NEED_DETAIL).await;
    assert_eq!(
        page.eval(
            "document.querySelector('#data-request-form .notice.error').getAttribute('role')"
        )
        .await,
        json!("alert")
    );
    assert!(mine(&app, &worker).await.is_empty(), "nothing filed");
    page.eval("document.querySelector('#data-request-form .form-msg').scrollIntoView({block: 'end'}); true")
        .await;
    check_screen(&page, "mis-solicitudes-falta-el-detalle").await;
    not_wider_than_the_phone(&page, "mis-solicitudes-falta-el-detalle").await;

    // With the detail: while the request is on its way (held here until released), a second
    // press files nothing more.
    page.type_into("#dr-detail", CORRECTION).await;
    page.eval(
        "(() => { window.__posts = 0; const f = window.fetch; \
         window.fetch = (...a) => { const [url, init] = a; \
           if (!String(url).includes('/data-requests') || !init || init.method !== 'POST') return f(...a); \
           window.__posts++; return new Promise(r => { window.__release = r; }).then(() => f(...a)); }; \
         return true; })()",
    )
    .await;
    page.click("#data-request-form button[type=submit]").await;
    page.wait_until("window.__release", Duration::from_secs(10))
        .await;
    assert_eq!(
        page.eval("document.querySelector('#data-request-form button[type=submit]').innerText")
            .await,
        json!("Enviando…")
    );
    page.eval("document.querySelector('#data-request-form').requestSubmit(); true")
        .await;
    page.click("#data-request-form button[type=submit]").await;
    assert_eq!(page.eval("window.__posts").await, json!(1), "one request");
    page.eval("window.__release(); true").await;
    page.wait_for_text("Solicitud enviada.").await;
    assert_eq!(page.eval("window.__posts").await, json!(1), "one request");

    let filed = mine(&app, &worker).await;
    assert_eq!(filed.len(), 1, "{filed:#?}");
    let request = &filed[0];
    assert_eq!(request["kind"], json!("correction"));
    assert_eq!(request["detail"], json!(CORRECTION));
    let id = request["id"].as_str().expect("id").to_string();
    let due = due_day(request["due_at"].as_str().expect("due_at"));
    let wrong_day = next_day(request["due_at"].as_str().expect("due_at"));
    page.wait_for_text(&format!(
        "Solicitud enviada. Vereda debe responderle a más tardar el {due}."
    ))
    .await;
    // The form is empty again (her draft is gone) and the request shows pending.
    assert_eq!(
        page.eval("document.querySelector('#dr-detail').value")
            .await,
        json!("")
    );
    let shown = requests_shown(&page).await;
    assert_eq!(shown.len(), 1, "{shown:#?}");
    for text in [
        "Corrección de un dato",
        "En trámite",
        &format!("Lo que usted escribió: «{CORRECTION}»"),
        &format!("Vereda debe responderle a más tardar el {due}."),
    ] {
        assert!(shown[0].contains(text), "{text:?} in {:?}", shown[0]);
    }
    assert!(
        !shown[0].contains(&wrong_day),
        "{wrong_day} in {:?}",
        shown[0]
    );
    assert!(!shown[0].contains("12:00"), "{:?}", shown[0]);
    page.eval("document.querySelector('#data-requests').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "mis-solicitudes-en-tramite").await;
    not_wider_than_the_phone(&page, "mis-solicitudes-en-tramite").await;

    // After a reload (the screen drawn from the server), the same.
    page.reload().await;
    wait_for_screen(&page).await;
    let shown = requests_shown(&page).await;
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(
        shown[0].contains(&format!("Vereda debe responderle a más tardar el {due}.")),
        "{:?}",
        shown[0]
    );

    // 3. An admin extends it, with a reason: she reads the reason and the new deadline.
    let extended = app
        .post(
            &format!("/v1/data-requests/{id}/extension"),
            Some(&admin),
            json!({"reason": REASON}),
        )
        .await;
    let extended = extended.ok(200).clone();
    let new_due = due_day(extended["due_at"].as_str().expect("due_at"));
    assert_ne!(new_due, due, "the deadline moved");
    page.reload().await;
    wait_for_screen(&page).await;
    let shown = requests_shown(&page).await;
    for text in [
        "Plazo ampliado",
        "Vereda amplió el plazo el ",
        REASON,
        &format!("Nueva fecha: a más tardar el {new_due}."),
    ] {
        assert!(shown[0].contains(text), "{text:?} in {:?}", shown[0]);
    }
    assert!(
        !shown[0].contains(&format!("a más tardar el {due}.")),
        "the old deadline is gone: {:?}",
        shown[0]
    );
    page.eval("document.querySelector('#data-requests').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "mis-solicitudes-plazo-ampliado").await;
    not_wider_than_the_phone(&page, "mis-solicitudes-plazo-ampliado").await;

    // The admin answers in writing: she reads the answer, and still why it took longer.
    app.post(
        &format!("/v1/data-requests/{id}/answer"),
        Some(&admin),
        json!({"answer": ANSWER}),
    )
    .await
    .ok(200);
    page.reload().await;
    wait_for_screen(&page).await;
    let shown = requests_shown(&page).await;
    for text in [
        "Respondida",
        "Respuesta de Vereda (",
        ANSWER,
        "También le llegó a su correo.",
        REASON,
    ] {
        assert!(shown[0].contains(text), "{text:?} in {:?}", shown[0]);
    }
    assert!(
        !shown[0].contains("a más tardar") && !shown[0].contains("En trámite"),
        "answered, no deadline: {:?}",
        shown[0]
    );
    page.eval("document.querySelector('#data-requests').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "mis-solicitudes-respondida").await;
    not_wider_than_the_phone(&page, "mis-solicitudes-respondida").await;

    // 4. Without a signal: the form says so before she presses, and when she presses; what she
    //    typed stays, also after leaving the screen; her requests show as last seen.
    page.set_offline(true).await;
    page.wait_until("!navigator.onLine", Duration::from_secs(10))
        .await;
    page.wait_for_text(OFFLINE_NOW).await;
    page.click("#dr-correction").await;
    page.type_into("#dr-detail", OFFLINE_TEXT).await;
    page.eval("document.querySelector('#dr-detail').dispatchEvent(new Event('input', {bubbles: true})); true")
        .await;
    page.click("#data-request-form button[type=submit]").await;
    page.wait_for_text(NEED_ONLINE).await;
    no_error_shown(&page, "offline").await;
    assert!(!page.text().await.contains("No hay conexión con Vereda"));
    assert_eq!(
        page.eval("document.querySelector('#dr-detail').value")
            .await,
        json!(OFFLINE_TEXT)
    );
    page.eval("document.querySelector('#data-request-form .form-msg').scrollIntoView({block: 'end'}); true")
        .await;
    check_screen(&page, "mis-solicitudes-sin-conexion").await;
    not_wider_than_the_phone(&page, "mis-solicitudes-sin-conexion").await;

    open_from_account(&page).await;
    page.wait_for_text(OFFLINE_NOW).await;
    page.wait_for_text("Sin conexión: estas son sus solicitudes como se vieron la última vez.")
        .await;
    assert_eq!(
        page.eval("[document.querySelector('#dr-detail').value, document.querySelector('#dr-correction').checked, document.querySelector('#dr-detail-box').hidden]")
            .await,
        json!([OFFLINE_TEXT, true, false]),
        "her draft is back"
    );
    let shown = requests_shown(&page).await;
    assert!(shown.len() == 1 && shown[0].contains(ANSWER), "{shown:#?}");
    no_error_shown(&page, "offline").await;
    assert_eq!(mine(&app, &worker).await.len(), 1, "nothing sent offline");

    // The signal is back: the same text is sent, once.
    page.set_offline(false).await;
    page.wait_until("navigator.onLine", Duration::from_secs(10))
        .await;
    page.wait_until(
        &format!("!document.body.innerText.includes({})", js_str(OFFLINE_NOW)),
        Duration::from_secs(10),
    )
    .await;
    page.click("#data-request-form button[type=submit]").await;
    page.wait_for_text("Solicitud enviada.").await;
    let filed = mine(&app, &worker).await;
    assert_eq!(filed.len(), 2, "{filed:#?}");
    assert_eq!(filed[0]["detail"], json!(OFFLINE_TEXT));
    let shown = requests_shown(&page).await;
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(
        shown[0].contains(OFFLINE_TEXT) && shown[0].contains("En trámite"),
        "newest first: {shown:#?}"
    );
    assert!(shown[1].contains(ANSWER), "{shown:#?}");
    // Sent: the draft is gone from the device too.
    open_from_account(&page).await;
    assert_eq!(
        page.eval("document.querySelector('#dr-detail').value")
            .await,
        json!("")
    );

    browser.close().await;
}

const DELETED: &str = "Suprimimos sus datos personales y cerramos su cuenta. Le enviamos la \
                       confirmación a su correo, con lo que Vereda guarda por ley.";

/// «Suprimir mis datos» on the same screen, on a 390 px phone:
///
/// 1. The card says, before anything, what is deleted, what the law keeps (ten years, admins
///    only, documents unchanged) and when it can be done.
/// 2. Pressing it asks again; without ticking «Entiendo…» nothing is sent; «No, volver» puts
///    the card back as it was.
/// 3. While she has a task in course, the refusal lists the reasons in Spanish and nothing is
///    filed; she is still signed in.
/// 4. With the task given back, the deletion is done: the device forgets her, the sign-in
///    screen says what happened, and her e-mail and password no longer open Vereda.
#[tokio::test]
async fn she_deletes_her_data_after_a_warning_and_a_second_yes() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (worker_id, email) = new_worker(&app, &admin).await;
    let worker = app.login(&email, PASSWORD).await;
    // A task she has claimed and not delivered: it ties her to the platform.
    let (_, owner) = app.company(&admin, "Granja La Esperanza").await;
    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Revisar direcciones", "instructions": "Según la guía.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": {"kind": "fixed", "price": "30000", "estimated_hours": "2"},
                "slots": 1, "claim_minutes": 600, "review_hours": 72
            }),
        )
        .await;
    let task = task.ok(201)["id"].as_str().expect("id").to_string();
    app.post(
        &format!("/v1/tasks/{task}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let claim = app
        .post(
            &format!("/v1/tasks/{task}/claims"),
            Some(&worker),
            json!({}),
        )
        .await;
    let assignment = claim.ok(201)["id"].as_str().expect("id").to_string();

    let Some(browser) =
        Browser::launch("she_deletes_her_data_after_a_warning_and_a_second_yes").await
    else {
        return;
    };
    let page = browser.new_page().await;
    page.emulate_android().await;
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &email, PASSWORD).await;
    page.wait_until("location.hash === '#/tareas'", Duration::from_secs(30))
        .await;
    open_from_account(&page).await;

    // 1. The warning, before anything.
    page.wait_for("#data-delete #data-delete-start").await;
    let card = page
        .eval("document.querySelector('#data-delete').innerText")
        .await;
    let card = card.as_str().unwrap_or_default().to_string();
    for text in [
        "Suprimir mis datos",
        "no se puede deshacer: su cuenta se cierra y ya no podrá entrar ni tomar tareas",
        "Se borran: su nombre, cédula, celular, correo, municipio, medio de pago y habilidades, \
         su contraseña y sus sesiones.",
        "Se guardan 10 años, porque la ley lo exige (Ley 962 de 2005, artículo 28), y solo los \
         pueden ver los administradores de Vereda",
        "pagos, facturas, documentos soporte, extractos y certificados",
        "Los documentos que ya recibió no cambian.",
        "Solo se puede cuando no tenga tareas en curso ni dinero por cobrar o en camino.",
    ] {
        assert!(card.contains(text), "{text:?} in:\n{card}");
    }
    assert_eq!(
        page.eval("document.querySelector('#data-delete-box').hidden")
            .await,
        json!(true),
        "the second question waits for the first press"
    );
    page.eval("document.querySelector('#data-delete').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "suprimir-mis-datos-aviso").await;
    not_wider_than_the_phone(&page, "suprimir-mis-datos-aviso").await;

    // 2. A second question; without «Entiendo…» nothing is sent; «No, volver» undoes it.
    page.click("#data-delete-start").await;
    page.wait_until(
        "!document.querySelector('#data-delete-box').hidden",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        page.text()
            .await
            .contains("¿Seguro que quiere suprimir sus datos?")
    );
    page.eval(
        "(() => { window.__deletions = 0; const f = window.fetch; \
         window.fetch = (...a) => { if (String(a[0]).includes('/data-requests') && a[1] \
           && a[1].method === 'POST') window.__deletions++; return f(...a); }; return true; })()",
    )
    .await;
    page.click("#data-delete-confirm").await;
    page.wait_for_text("Marque la casilla para confirmar que entiende lo que pasa.")
        .await;
    assert_eq!(page.eval("window.__deletions").await, json!(0));
    page.eval("document.querySelector('#data-delete').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "suprimir-mis-datos-confirmar").await;
    not_wider_than_the_phone(&page, "suprimir-mis-datos-confirmar").await;
    page.click("#data-delete-cancel").await;
    assert_eq!(
        page.eval("[document.querySelector('#data-delete-box').hidden, document.querySelector('#data-delete-start').hidden]")
            .await,
        json!([true, false])
    );

    // 3. A task in course: refused, the reasons in Spanish, nothing filed.
    page.click("#data-delete-start").await;
    page.click("#dd-understand").await;
    page.click("#data-delete-confirm").await;
    page.wait_for("#data-delete-refused").await;
    let refused = page
        .eval("document.querySelector('#data-delete-refused').innerText")
        .await;
    let refused = refused.as_str().unwrap_or_default().to_string();
    assert!(
        refused.contains("Todavía no podemos suprimir sus datos; no se cambió nada."),
        "{refused}"
    );
    let reasons = page
        .eval("[...document.querySelectorAll('#data-delete-refused li')].map(li => li.innerText)")
        .await;
    assert_eq!(
        reasons,
        json!([
            "Tiene 1 tarea en curso; cuando termine (aprobada, rechazada o devuelta) podrá pedir \
             la supresión."
        ])
    );
    assert_eq!(
        page.eval("document.querySelector('#data-delete-refused').getAttribute('role')")
            .await,
        json!("alert")
    );
    assert!(mine(&app, &worker).await.is_empty(), "nothing filed");
    app.get("/v1/me", Some(&worker)).await.ok(200);
    page.eval("document.querySelector('#data-delete').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "suprimir-mis-datos-rechazada").await;
    not_wider_than_the_phone(&page, "suprimir-mis-datos-rechazada").await;

    // 4. The task given back: the deletion goes through, and the device forgets her.
    app.send(
        app.client
            .post(app.url(&format!("/v1/assignments/{assignment}/release")))
            .bearer_auth(&worker),
    )
    .await
    .ok(200);
    page.click("#data-delete-start").await;
    page.click("#dd-understand").await;
    page.click("#data-delete-confirm").await;
    page.wait_until("location.hash === '#/entrar'", Duration::from_secs(30))
        .await;
    page.wait_for_text(DELETED).await;
    no_error_shown(&page, "after the deletion").await;
    check_screen(&page, "suprimir-mis-datos-hecho").await;
    not_wider_than_the_phone(&page, "suprimir-mis-datos-hecho").await;
    let profile = app
        .get(&format!("/v1/workers/{worker_id}"), Some(&admin))
        .await;
    let profile = profile.ok(200);
    assert!(profile["anonymised_at"].is_string(), "{profile}");
    assert_eq!(profile["name"], "Persona retirada");
    // Her e-mail and password open nothing any more, and the app says so in Spanish.
    sign_in(&page, &email, PASSWORD).await;
    page.wait_for_text("El correo o la contraseña no son correctos.")
        .await;
    assert_eq!(
        page.eval("location.hash").await,
        json!("#/entrar"),
        "still outside"
    );

    browser.close().await;
}
