//! «Mis datos para reportes de impacto» in a real browser (issue 22 §1; Ley 1581 de 2012,
//! arts. 5, 6 y 9), on a 390 px phone:
//!
//! 1. From «Sus datos personales» in «Mi cuenta» she opens the screen: the consent text word
//!    for word (as `GET /v1/consent-policy` gives it), its purpose, that each datum is optional
//!    and never changes her access to work; she has not answered yet.
//! 2. Refusals in Spanish next to their field: nothing chosen («al menos un grupo»), an income
//!    with centavos (`650000,50`). Nothing is recorded.
//! 3. She gives $ 650.000 (shown as pesos while she types) and one group: her answer and the
//!    history («Usted autorizó el <día> desde la aplicación») are shown, and kept after a reload.
//! 4. Without a signal the screen shows her answer as last seen, saving says it needs a
//!    connection and what she typed stays on the device (also after leaving the screen); with
//!    the signal back the same figure is saved.
//! 5. She withdraws after a confirmation that says her data are deleted and she will not appear
//!    in later reports: the data are gone (on the screen, after a reload and in the API).
//! 6. An admin records her consent on her behalf (assisted): her history says who registered
//!    it; on her profile the admin reads it on request.
//!
//! Screenshots `impacto-datos-*` (target/screens/, or VEREDA_SCREENS_DIR), each checked with
//! axe-core; no screen scrolls sideways. Without Chromium the test prints a notice and passes,
//! unless VEREDA_REQUIRE_BROWSER=1.

use std::time::Duration;

use chrono::{Datelike, Duration as ChronoDuration, Utc};
use serde_json::{Value, json};
use vereda_tests::browser::{
    Browser, Page, check_office_screen, check_screen, go, js_str, open_office, sign_in,
};
use vereda_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp, short_id, spawn_app};

const TITLE: &str = "Mis datos para reportes de impacto";
const NOTHING_GIVEN: &str = "Indique su ingreso antes de Vereda, al menos un grupo, o ambos.";
const CENTS_REFUSED: &str =
    "El ingreso mensual debe ser una cifra en pesos, sin centavos, de 0 a $ 50.000.000.";
const NEED_ONLINE: &str = "Para guardar su autorización necesita conexión. Lo que escribió \
                           queda guardado en este equipo";

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

/// Today in Bogotá as the screen writes a day: `6 de diciembre de 2026`.
fn today_es() -> String {
    let t = Utc::now() - ChronoDuration::hours(5);
    format!(
        "{} de {} de {}",
        t.day(),
        MONTHS[t.month0() as usize],
        t.year()
    )
}

/// A new worker (created by the admin): her id and e-mail.
async fn new_worker(app: &TestApp, admin: &str) -> (String, String) {
    let email = format!("luz-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(admin),
            json!({
                "name": "Luz Teletrabajadora", "email": email, "password": PASSWORD,
                "municipality": "Chaparral", "department": "Tolima",
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

async fn inner_text(page: &Page, selector: &str) -> String {
    page.wait_for(selector).await;
    page.eval(&format!(
        "document.querySelector({}).innerText",
        js_str(selector)
    ))
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

async fn visible(page: &Page, selector: &str) -> bool {
    page.eval(&format!(
        "(() => {{ const e = document.querySelector({}); return !!e && e.offsetParent !== null; }})()",
        js_str(selector)
    ))
    .await
        == json!(true)
}

/// Open the screen afresh (a new address first, so it is drawn again) and wait for its form.
async fn open_screen(page: &Page) {
    go(page, "#/tareas").await;
    page.wait_until("location.hash === '#/tareas'", Duration::from_secs(30))
        .await;
    go(page, "#/cuenta/impacto").await;
    page.wait_for("#consent-form").await;
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

async fn scroll_to(page: &Page, selector: &str) {
    page.eval(&format!(
        "document.querySelector({}).scrollIntoView({{block: 'start'}}); true",
        js_str(selector)
    ))
    .await;
}

async fn state_of(app: &TestApp, token: &str, worker_id: &str) -> Value {
    app.get(&format!("/v1/workers/{worker_id}/consent"), Some(token))
        .await
        .ok(200)
        .clone()
}

#[tokio::test]
async fn she_gives_and_withdraws_her_consent_to_impact_reports_on_her_phone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (worker_id, email) = new_worker(&app, &admin).await;
    let worker = app.login(&email, PASSWORD).await;
    let policy = app.get("/v1/consent-policy", None).await.ok(200).clone();
    let text = policy["text"].as_str().expect("the text").to_string();

    let Some(browser) =
        Browser::launch("she_gives_and_withdraws_her_consent_to_impact_reports_on_her_phone").await
    else {
        return;
    };
    let page = browser.new_page().await;
    page.emulate_android().await;
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &email, PASSWORD).await;
    page.wait_until("location.hash === '#/tareas'", Duration::from_secs(30))
        .await;

    // ---- 1. From «Mi cuenta»: the text word for word, its purpose, optional ----
    go(&page, "#/cuenta").await;
    let link = "#my-data a[href='#/cuenta/impacto']";
    page.wait_for(link).await;
    assert_eq!(inner_text(&page, link).await, TITLE);
    page.wait_for_text("Cambiar la contraseña").await;
    scroll_to(&page, ".impact-consent-link").await;
    check_screen(&page, "impacto-datos-cuenta").await;
    page.click(link).await;
    page.wait_for("#consent-form").await;
    page.wait_until(
        &format!("document.title.startsWith({})", js_str(TITLE)),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(inner_text(&page, ".consent-words").await, text);
    let said = page.text().await;
    for want in [
        "Para qué se usan: reportes de impacto agregados para el programa y sus financiadores.",
        "cada dato es opcional, y darlos o no darlos nunca cambia su acceso al trabajo",
        "Usted no ha dado esta autorización.",
        "Todavía no ha respondido.",
        "Ingreso mensual de su hogar antes de Vereda",
        "Mujer cabeza de hogar",
        "Autorizo y guardo",
    ] {
        assert!(said.contains(want), "{want:?} in {said}");
    }
    // Nothing to withdraw yet.
    assert!(!visible(&page, "#consent-withdraw-start").await);
    check_screen(&page, "impacto-datos").await;
    not_wider_than_the_phone(&page, "impacto-datos").await;
    scroll_to(&page, "#consent-ask").await;
    check_screen(&page, "impacto-datos-formulario").await;

    // ---- 2. Refusals next to their field ----
    page.click("#consent-form button[type=submit]").await;
    assert_eq!(
        inner_text(&page, "#consent-groups-error .notice.error").await,
        NOTHING_GIVEN
    );
    page.type_into("#consent-income", "650000,50").await;
    // Not whole pesos: nothing is shown as pesos while she types it.
    assert_eq!(inner_text(&page, "#consent-income-shown").await, "");
    page.click("#consent-form button[type=submit]").await;
    assert_eq!(
        inner_text(&page, "#consent-income-error .notice.error").await,
        CENTS_REFUSED
    );
    assert_eq!(
        page.eval("document.querySelector('#consent-income').getAttribute('aria-invalid')")
            .await,
        json!("true")
    );
    scroll_to(&page, "#consent-ask").await;
    check_screen(&page, "impacto-datos-rechazo").await;
    let nothing = state_of(&app, &worker, &worker_id).await;
    assert_eq!(nothing["consenting"], false, "{nothing}");
    assert_eq!(nothing["history"], json!([]), "{nothing}");

    // ---- 3. $ 650.000 and one group ----
    page.type_into("#consent-income", "650000").await;
    page.wait_until(
        "document.querySelector('#consent-income-shown').innerText === 'Se guardará como $ 650.000 al mes.'",
        Duration::from_secs(10),
    )
    .await;
    // The error went with the mistake.
    assert_eq!(inner_text(&page, "#consent-income-error").await, "");
    page.click("#cg-woman_head_of_household").await;
    page.click("#consent-form button[type=submit]").await;
    page.wait_for("#consent-form .form-msg .notice.ok").await;
    assert_eq!(
        inner_text(&page, "#consent-form .form-msg").await,
        "Listo: quedó guardada su autorización con los datos que eligió."
    );
    let autorizo = format!("Usted autorizó el {} desde la aplicación.", today_es());
    let check_given = async |page: &Page| {
        let state = inner_text(page, "#consent-state").await;
        for want in [
            "Usted autorizó que Vereda use estos datos en los reportes de impacto.",
            "Ingreso mensual de su hogar antes de Vereda: $ 650.000",
            "Grupos del programa: Mujer cabeza de hogar",
        ] {
            assert!(state.contains(want), "{want:?} in {state}");
        }
        let history = inner_text(page, "#consent-history").await;
        assert!(history.contains(&autorizo), "{autorizo:?} in {history}");
        // Answered to the text in force: no note about an older one.
        assert!(!history.contains("texto anterior"), "{history}");
        assert_eq!(
            page.eval("document.querySelector('#consent-income').value")
                .await,
            json!("650.000")
        );
        assert_eq!(
            page.eval("document.querySelector('#cg-woman_head_of_household').checked")
                .await,
            json!(true)
        );
        assert!(visible(page, "#consent-withdraw-start").await);
    };
    check_given(&page).await;
    let given = state_of(&app, &worker, &worker_id).await;
    assert_eq!(given["consenting"], true, "{given}");
    assert_eq!(given["baseline_monthly_income"], "650000", "{given}");
    assert_eq!(
        given["groups"],
        json!(["woman_head_of_household"]),
        "{given}"
    );
    assert_eq!(given["history"][0]["channel"], "app", "{given}");
    assert_eq!(
        given["history"][0]["text_hash"], policy["text_hash"],
        "{given}"
    );
    page.eval("window.scrollTo(0, 0); true").await;
    check_screen(&page, "impacto-datos-autorizado").await;
    not_wider_than_the_phone(&page, "impacto-datos-autorizado").await;

    // Kept after a reload.
    page.reload().await;
    page.wait_for("#consent-form").await;
    check_given(&page).await;

    // A new text in force (the answers altered in the page: the text cannot change in a test):
    // she is asked again, her rows say they answered an older text, and saving against a text
    // that is not the one in force is refused and the current one shown, her answer kept.
    alter_answers(
        &page,
        "/consent",
        "if ('asked_again' in body) body.asked_again = true; \
         if ('purpose_es' in body) body.version = '2027-01-15';",
    )
    .await;
    open_screen(&page).await;
    let again = inner_text(&page, "#consent-state").await;
    assert!(
        again.contains("El texto de la autorización cambió desde que usted respondió."),
        "{again}"
    );
    let history = inner_text(&page, "#consent-history").await;
    assert!(
        history.contains("Respondió a un texto anterior, del 6 de diciembre de 2026."),
        "{history}"
    );
    page.eval("window.scrollTo(0, 0); true").await;
    check_screen(&page, "impacto-datos-texto-nuevo").await;
    real_answers(&page).await;
    page.click("#consent-form button[type=submit]").await;
    page.wait_for("#consent-refused").await;
    assert_eq!(
        inner_text(&page, "#consent-refused").await,
        "El texto de la autorización cambió; léalo de nuevo y vuelva a responder."
    );
    assert!(
        !inner_text(&page, "#consent-state")
            .await
            .contains("El texto de la autorización cambió desde")
    );
    assert_eq!(
        page.eval("document.querySelector('#consent-income').value")
            .await,
        json!("650.000")
    );
    page.click("#consent-form button[type=submit]").await;
    page.wait_for("#consent-form .form-msg .notice.ok").await;
    check_given(&page).await;

    // ---- 4. Without a signal: her answer as last seen, the draft kept ----
    page.set_offline(true).await;
    open_screen(&page).await;
    page.wait_for_text("Sin conexión: así estaba su autorización la última vez que la vio.")
        .await;
    check_given(&page).await;
    page.wait_for_text("Está sin conexión: puede llenar sus datos")
        .await;
    page.type_into("#consent-income", "700000").await;
    page.eval("document.querySelector('#consent-income').blur(); true")
        .await;
    assert_eq!(
        page.eval("document.querySelector('#consent-income').value")
            .await,
        json!("700.000")
    );
    page.click("#consent-form button[type=submit]").await;
    page.wait_for("#consent-form .form-msg .notice.warn").await;
    let warn = inner_text(&page, "#consent-form .form-msg").await;
    assert!(warn.contains(NEED_ONLINE), "{warn}");
    scroll_to(&page, "#consent-ask").await;
    check_screen(&page, "impacto-datos-sin-conexion").await;
    open_screen(&page).await;
    assert_eq!(
        page.eval("document.querySelector('#consent-income').value")
            .await,
        json!("700.000")
    );
    page.set_offline(false).await;
    page.wait_until("navigator.onLine", Duration::from_secs(10))
        .await;
    page.click("#consent-form button[type=submit]").await;
    page.wait_for("#consent-form .form-msg .notice.ok").await;
    page.wait_for_text("Ingreso mensual de su hogar antes de Vereda: $ 700.000")
        .await;
    // What is shown is the server's answer now, not the copy kept on the device.
    let now = page.text().await;
    assert!(!now.contains("así estaba su autorización"), "{now}");
    let saved = state_of(&app, &worker, &worker_id).await;
    assert_eq!(saved["baseline_monthly_income"], "700000", "{saved}");
    assert_eq!(
        saved["groups"],
        json!(["woman_head_of_household"]),
        "{saved}"
    );

    // ---- 5. She withdraws, after a confirmation ----
    page.click("#consent-withdraw-start").await;
    page.wait_until(
        "document.querySelector('#consent-withdraw-box').offsetParent !== null",
        Duration::from_secs(10),
    )
    .await;
    let confirm = inner_text(&page, "#consent-withdraw-box").await;
    for want in [
        "¿Seguro que quiere retirar su autorización?",
        "Vereda borrará ahora el ingreso de su hogar antes del programa y sus grupos",
        "no aparecerá en los reportes de impacto siguientes",
        "Sí, retirar mi autorización",
        "No, volver",
    ] {
        assert!(confirm.contains(want), "{want:?} in {confirm}");
    }
    scroll_to(&page, "#consent-withdraw").await;
    check_screen(&page, "impacto-datos-retirar").await;
    // «No, volver» changes nothing.
    page.click("#consent-withdraw-cancel").await;
    assert!(!visible(&page, "#consent-withdraw-box").await);
    assert_eq!(
        state_of(&app, &worker, &worker_id).await["consenting"],
        true
    );
    page.click("#consent-withdraw-start").await;
    page.click("#consent-withdraw-confirm").await;
    page.wait_for("#consent-done .notice.ok").await;
    assert_eq!(
        inner_text(&page, "#consent-done").await,
        "Retiró su autorización: Vereda borró el ingreso de su hogar antes del programa y sus grupos."
    );
    let retiro = format!(
        "Retiró su autorización el {} desde la aplicación.",
        today_es()
    );
    let check_withdrawn = async |page: &Page| {
        let state = inner_text(page, "#consent-state").await;
        assert!(
            state.contains("Usted retiró su autorización. Vereda borró el ingreso de su hogar"),
            "{state}"
        );
        assert!(!state.contains("$ 700.000"), "{state}");
        let history = inner_text(page, "#consent-history").await;
        assert!(history.contains(&retiro), "{retiro:?} in {history}");
        assert!(history.contains(&autorizo), "{history}");
        // Newest first.
        assert!(history.find(&retiro) < history.find(&autorizo), "{history}");
        assert_eq!(
            page.eval("document.querySelector('#consent-income').value")
                .await,
            json!("")
        );
        assert_eq!(
            page.eval("document.querySelector('#cg-woman_head_of_household').checked")
                .await,
            json!(false)
        );
        assert!(!visible(page, "#consent-withdraw-start").await);
    };
    check_withdrawn(&page).await;
    page.eval("window.scrollTo(0, 0); true").await;
    check_screen(&page, "impacto-datos-retirada").await;
    not_wider_than_the_phone(&page, "impacto-datos-retirada").await;
    let gone = state_of(&app, &worker, &worker_id).await;
    assert_eq!(gone["consenting"], false, "{gone}");
    assert!(gone.get("baseline_monthly_income").is_none(), "{gone}");
    assert_eq!(gone["groups"], json!([]), "{gone}");
    assert_eq!(
        gone["history"].as_array().unwrap().last().unwrap()["action"],
        "withdrawn",
        "{gone}"
    );
    page.reload().await;
    page.wait_for("#consent-form").await;
    check_withdrawn(&page).await;

    // ---- 6. An admin records her answer on her behalf ----
    let admin_name = app.get("/v1/me", Some(&admin)).await.ok(200)["name"]
        .as_str()
        .expect("the admin's name")
        .to_string();
    app.post(
        &format!("/v1/workers/{worker_id}/consent"),
        Some(&admin),
        json!({"policy_version": policy["version"], "text_hash": policy["text_hash"],
               "groups": ["youth"]}),
    )
    .await
    .ok(200);
    open_screen(&page).await;
    page.wait_for_text("Grupos del programa: Jóvenes").await;
    let history = inner_text(&page, "#consent-history").await;
    let assisted = format!(
        "Usted autorizó el {} con ayuda del equipo de Vereda.\n\nRegistrado por {admin_name} (asistido).",
        today_es()
    );
    assert!(history.contains(&assisted), "{assisted:?} in {history}");
    scroll_to(&page, "#consent-history").await;
    check_screen(&page, "impacto-datos-asistido").await;
    browser.close().await;

    // On her profile, the admin reads it when asking for it.
    let Some((browser, office)) = open_office("consent_on_her_profile", &app.base).await else {
        return;
    };
    sign_in(&office, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    office.wait_for("nav a[href='#/personas']").await;
    go(&office, &format!("#/persona/{worker_id}")).await;
    office.wait_for("#worker-consent-open").await;
    office.click("#worker-consent-open").await;
    office.wait_for_text("Autoriza el uso de estos datos").await;
    let card = inner_text(&office, "#worker-consent").await;
    for want in [
        "No lo dio",
        "Jóvenes",
        &format!("registrado por {admin_name} (asistido)"),
        &format!("Retiró la autorización el {}", today_es()),
        "desde la aplicación",
    ] {
        assert!(card.contains(want), "{want:?} in {card}");
    }
    check_office_screen(&office, "impacto-datos-perfil", "#worker-consent").await;
    browser.close().await;
}
