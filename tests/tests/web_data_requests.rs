//! «Solicitudes de datos» in a real browser (issue 22 §3; Ley 1581 arts. 14–15):
//!
//! 1. A worker files a correction of her data through the API (a reclamo: due in 15 Colombian
//!    business days).
//! 2. An admin finds it under «Solicitudes de datos»: her name linked to her profile, the kind in
//!    Spanish, what she asked, when she filed it and the day it is due («lunes 26 de enero», the
//!    day the deadline ends, not 12:00 a. m. of the next one), not extended. Overdue ones are
//!    marked «Vencida» (the list's answer altered in the page: fifteen business days cannot pass
//!    in a test).
//! 3. The admin extends it: refused without a reason, then with one; the card says it was
//!    extended, why, and the new due day, and the extension form is gone. A page that still
//!    offers the form (the answer altered) shows the server's refusal in Spanish.
//! 4. The admin answers it in writing (refused empty first); the API shows `answered_at` and the
//!    answer, and the answered request is listed with its answer under «Respondidas».
//! 5. Finance has no link to the screen (the API refuses them).
//!
//! Screenshots `solicitudes-*` (target/screens/, or VEREDA_SCREENS_DIR), each checked with
//! axe-core, at desktop and phone size (no sideways scrolling). Without Chromium the test prints
//! a notice and passes, unless VEREDA_REQUIRE_BROWSER=1.

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde_json::{Value, json};
use vereda_tests::browser::{
    Browser, Page, check_office_screen, desktop, go, js_str, open_office, sign_in,
};
use vereda_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp, short_id, spawn_app};

const DETAIL: &str = "Mi municipio es Ataco, no Chaparral.";
const REASON: &str = "Estamos confirmando su municipio con la Alcaldía de Ataco.";
const ANSWER: &str = "Corregimos su municipio: ahora dice Ataco (Tolima). Gracias por avisarnos.";

/// The day a deadline ends on, as the screen writes it: `due_at` is a Bogotá midnight (the end
/// of the day before), e.g. `lunes 26 de enero` (the year too when it is not this one).
fn due_day(due: DateTime<Utc>) -> String {
    let bogota = FixedOffset::west_opt(5 * 3600).unwrap();
    let last = (due - chrono::Duration::seconds(1)).with_timezone(&bogota);
    let weekday = [
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    ][last.weekday().num_days_from_monday() as usize];
    let month = [
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
    ][last.month0() as usize];
    let mut s = format!("{weekday} {} de {month}", last.day());
    if last.year() != Utc::now().with_timezone(&bogota).year() {
        s.push_str(&format!(" de {}", last.year()));
    }
    s
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("an instant: {v}"))
        .parse()
        .expect("RFC 3339")
}

async fn eval_str(page: &Page, js: &str) -> String {
    page.eval(js).await.as_str().unwrap_or_default().to_string()
}

/// The refusal or confirmation a form shows (`kind`: `error` or `ok`).
async fn form_says(page: &Page, form: &str, kind: &str) -> String {
    page.wait_for(&format!("{form} .form-msg .notice.{kind}"))
        .await;
    eval_str(
        page,
        &format!(
            "document.querySelector({}).innerText",
            js_str(&format!("{form} .form-msg"))
        ),
    )
    .await
}

/// Replace `window.fetch` so that answers from paths containing `path` go through `change`
/// (a JS function body over `body`): what the page would draw for data a test cannot make.
async fn alter_answers(page: &Page, path: &str, change: &str) {
    page.eval(&format!(
        "(() => {{ const real = window.__realFetch || window.fetch.bind(window); \
         window.__realFetch = real; \
         window.fetch = async (input, init) => {{ \
           const resp = await real(input, init); \
           const url = typeof input === 'string' ? input : input.url; \
           if (!url.includes({}) || !resp.ok) return resp; \
           const body = await resp.clone().json(); \
           ((body) => {{ {change} }})(body); \
           return new Response(JSON.stringify(body), {{ status: resp.status, headers: {{ 'Content-Type': 'application/json' }} }}); \
         }}; return true; }})()",
        js_str(path)
    ))
    .await;
}

async fn real_answers(page: &Page) {
    page.eval(
        "(() => { if (window.__realFetch) window.fetch = window.__realFetch; return true; })()",
    )
    .await;
}

/// Open the screen afresh (a new address first, so it is drawn again even when it is shown)
/// and wait for request `id`'s card.
async fn open_screen(page: &Page, hash: &str, id: &str) {
    go(page, "#/personas").await;
    page.wait_until(
        "location.hash === '#/personas' && document.title.startsWith('Personas')",
        std::time::Duration::from_secs(30),
    )
    .await;
    go(page, hash).await;
    page.wait_for(&format!("[data-request='{id}']")).await;
}

async fn card_text(page: &Page, id: &str) -> String {
    eval_str(
        page,
        &format!(
            "document.querySelector({}).innerText",
            js_str(&format!("[data-request='{id}']"))
        ),
    )
    .await
}

/// The due day request `id`'s card shows.
async fn shown_due(page: &Page, id: &str) -> String {
    eval_str(
        page,
        &format!(
            "document.querySelector({}).innerText",
            js_str(&format!("[data-request='{id}'] .dr-due"))
        ),
    )
    .await
}

async fn exists(page: &Page, selector: &str) -> bool {
    page.eval(&format!("!!document.querySelector({})", js_str(selector)))
        .await
        == json!(true)
}

/// The request as the API lists it to `token`.
async fn listed(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get("/v1/data-requests?limit=100", Some(token)).await;
    r.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("request {id} in {}", r.text))
}

#[tokio::test]
async fn an_admin_extends_a_correction_once_and_answers_it_in_writing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;

    // ---- 1. She files a correction ----
    let filed = app
        .post(
            &format!("/v1/workers/{worker_id}/data-requests"),
            Some(&worker),
            json!({"request": "correction", "detail": DETAIL}),
        )
        .await;
    let filed = filed.ok(201).clone();
    let id = filed["id"].as_str().unwrap().to_string();
    assert_eq!(filed["kind"], "correction");
    let due = instant(&filed["due_at"]);
    let card_sel = format!("[data-request='{id}']");

    // ---- 2. The admin finds it ----
    let Some((browser, page)) = open_office("data_requests_admin", &app.base).await else {
        return;
    };
    sign_in(&page, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    page.wait_for("nav a[href='#/solicitudes']").await;
    assert_eq!(
        eval_str(
            &page,
            "document.querySelector(\"nav a[href='#/solicitudes']\").innerText"
        )
        .await,
        "Solicitudes de datos"
    );
    // Fifteen business days cannot pass in a test: the list's answer says it is overdue.
    alter_answers(
        &page,
        "/v1/data-requests",
        "for (const r of body.items || []) r.overdue = true;",
    )
    .await;
    page.click("nav a[href='#/solicitudes']").await;
    page.wait_for(&card_sel).await;
    let card = card_text(&page, &id).await;
    for want in [
        "Luz Teletrabajadora",
        "Vencida",
        "Abierta",
        "Corrección de sus datos (reclamo)",
        DETAIL,
        "Presentada",
        "Sin prórroga",
        "Solo una vez: 8 días hábiles más.",
    ] {
        assert!(card.contains(want), "{want:?} in {card}");
    }
    assert!(card.contains("Responder a más tardar el"), "{card}");
    assert_eq!(shown_due(&page, &id).await, due_day(due));
    assert!(!card.contains("12:00 a. m."), "{card}");
    assert_eq!(
        page.eval(&format!(
            "document.querySelector({}).classList.contains('overdue')",
            js_str(&card_sel)
        ))
        .await,
        json!(true)
    );
    assert_eq!(
        eval_str(
            &page,
            &format!(
                "document.querySelector({}).getAttribute('href')",
                js_str(&format!("{card_sel} h2 a"))
            )
        )
        .await,
        format!("#/persona/{worker_id}")
    );
    check_office_screen(&page, "solicitudes-vencida", &card_sel).await;
    real_answers(&page).await;

    // As the list really says: open, not overdue, first (the only one).
    open_screen(&page, "#/solicitudes", &id).await;
    let card = card_text(&page, &id).await;
    assert!(!card.contains("Vencida"), "{card}");
    assert!(
        page.text().await.contains("Se muestra 1 solicitud."),
        "{}",
        page.text().await
    );

    // ---- 3. Extended once, with a reason ----
    let extend = format!("#extend-{id}");
    page.click(&format!("{extend} button[type=submit]")).await;
    assert_eq!(
        form_says(&page, &extend, "error").await,
        "Escriba el motivo de la prórroga: la persona lo leerá."
    );
    assert!(
        listed(&app, &admin, &id).await.get("extended_at").is_none(),
        "nothing sent"
    );
    page.type_into(&format!("#dr-{id}-reason"), REASON).await;
    page.click(&format!("{extend} button[type=submit]")).await;
    page.wait_for_text("Plazo prorrogado: la solicitud de Luz Teletrabajadora vence ahora el")
        .await;
    let after = listed(&app, &admin, &id).await;
    assert!(after["extended_at"].is_string(), "{after}");
    assert_eq!(after["extension_reason"], REASON);
    let new_due = instant(&after["due_at"]);
    assert!(
        (8..=16).contains(&(new_due - due).num_days()),
        "eight business days more: {due} → {new_due}"
    );
    page.wait_for_text(&format!("vence ahora el {}.", due_day(new_due)))
        .await;
    page.wait_for(&card_sel).await;
    let card = card_text(&page, &id).await;
    for want in ["Prorrogada", REASON] {
        assert!(card.contains(want), "{want:?} in {card}");
    }
    assert!(!card.contains("Sin prórroga"), "{card}");
    assert_eq!(shown_due(&page, &id).await, due_day(new_due));
    assert!(!exists(&page, &extend).await, "the extension form is gone");
    assert!(exists(&page, &format!("#answer-{id}")).await);
    check_office_screen(&page, "solicitudes-prorrogada", &card_sel).await;

    // A page that still offers the form (the answer altered): the server's refusal, in Spanish.
    alter_answers(
        &page,
        "/v1/data-requests",
        "for (const r of body.items || []) { delete r.extended_at; delete r.extension_reason; }",
    )
    .await;
    open_screen(&page, "#/solicitudes", &id).await;
    page.type_into(&format!("#dr-{id}-reason"), "Otra vez.")
        .await;
    page.click(&format!("{extend} button[type=submit]")).await;
    let again = app
        .post(
            &format!("/v1/data-requests/{id}/extension"),
            Some(&admin),
            json!({"reason": "Otra vez."}),
        )
        .await;
    assert_eq!(again.problem(409).code(), "request_extended");
    assert_eq!(
        form_says(&page, &extend, "error").await,
        again.body["detail_es"].as_str().unwrap()
    );
    real_answers(&page).await;
    assert_eq!(
        instant(&listed(&app, &admin, &id).await["due_at"]),
        new_due,
        "extended once only"
    );

    // ---- 4. Answered in writing ----
    open_screen(&page, "#/solicitudes", &id).await;
    assert!(!exists(&page, &extend).await);
    let answer = format!("#answer-{id}");
    page.click(&format!("{answer} button[type=submit]")).await;
    assert_eq!(
        form_says(&page, &answer, "error").await,
        "Escriba la respuesta: la persona la leerá."
    );
    page.type_into(&format!("#dr-{id}-answer"), ANSWER).await;
    page.click(&format!("{answer} button[type=submit]")).await;
    page.wait_for_text("Respuesta enviada: Luz Teletrabajadora la lee en Vereda y por correo.")
        .await;
    page.wait_for("#data-requests-none").await;
    assert_eq!(
        eval_str(
            &page,
            "document.querySelector('#data-requests-none').innerText"
        )
        .await,
        "No hay solicitudes abiertas."
    );
    // She reads it in the API.
    let mine = listed(&app, &worker, &id).await;
    assert!(mine["answered_at"].is_string(), "{mine}");
    assert_eq!(mine["answer"], ANSWER);
    assert_eq!(mine["overdue"], false);

    // Under «Respondidas», with its answer and no forms.
    page.set_value("#estado", "answered").await;
    page.click("#data-requests-filter button[type=submit]")
        .await;
    page.wait_until(
        "location.hash === '#/solicitudes?estado=answered'",
        std::time::Duration::from_secs(30),
    )
    .await;
    page.wait_for(&card_sel).await;
    let card = card_text(&page, &id).await;
    for want in [
        "Respondida",
        "Corrección de sus datos (reclamo)",
        DETAIL,
        REASON,
        "Respuesta",
        ANSWER,
    ] {
        assert!(card.contains(want), "{want:?} in {card}");
    }
    assert!(!exists(&page, &extend).await);
    assert!(!exists(&page, &answer).await);
    check_office_screen(&page, "solicitudes-respondida", &card_sel).await;
    browser.close().await;

    // ---- 5. Finance: no link (the API refuses them) ----
    let finance_email = format!("finanzas-{}@vereda.test", short_id());
    app.post(
        "/v1/staff",
        Some(&admin),
        json!({"name": "Carolina Finanzas", "email": finance_email, "password": PASSWORD, "role": "finance"}),
    )
    .await
    .ok(201);
    let finance = app.login(&finance_email, PASSWORD).await;
    app.get("/v1/data-requests", Some(&finance))
        .await
        .problem(403);
    let Some(browser) = Browser::launch("data_requests_finance").await else {
        return;
    };
    let page = browser.new_page().await;
    desktop(&page).await;
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &finance_email, PASSWORD).await;
    page.wait_for("nav a[href='#/cuenta']").await;
    assert!(!exists(&page, "nav a[href='#/solicitudes']").await);
    assert!(!page.text().await.contains("Solicitudes de datos"));
    browser.close().await;
}
