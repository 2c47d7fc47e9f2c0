//! "Quién consultó mis datos" in a real browser (issue 22 §4), on a 390 px phone:
//!
//! 1. A new worker opens the screen from «Mi cuenta»: nobody has read her data yet.
//! 2. An admin reads her profile and finance lists the workers (each a logged read); her own
//!    reads are not logged. She sees both reads, newest first, with the readers' names and
//!    teams, what they saw in Spanish, where in plain words and when in Bogotá time.
//! 3. Twenty more reads (an admin listing her statements): the screen shows twenty and «Ver
//!    más» brings the rest; without a signal «Ver más» says it needs a connection.
//! 4. Without a signal the screen says it needs a connection, not an error.
//!
//! Screenshots `datos-*` (target/screens/, or VEREDA_SCREENS_DIR), each checked with axe-core;
//! no screen scrolls sideways. Without Chromium the test prints a notice and passes, unless
//! VEREDA_REQUIRE_BROWSER=1.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, Timelike, Utc};
use serde_json::{Value, json};
use vereda_tests::browser::{Browser, Page, check_screen, js_str};
use vereda_tests::{PASSWORD, TestApp, short_id, spawn_app};

const NEED_ONLINE: &str = "Para ver quién consultó sus datos necesita conexión.";
const MORE_NEEDS_ONLINE: &str = "Para ver más necesita conexión.";

async fn sign_in(page: &Page, email: &str, password: &str) {
    page.wait_for("#signin").await;
    page.type_into("#email", email).await;
    page.type_into("#password", password).await;
    page.click("#signin button[type=submit]").await;
}

async fn go(page: &Page, hash: &str) {
    page.eval(&format!("location.hash = {}", js_str(hash)))
        .await;
}

/// A cheap Android phone: 390×844 CSS pixels, touch.
async fn phone(page: &Page) {
    page.cmd(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await
    .expect("device metrics");
    page.cmd(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": true}),
    )
    .await
    .expect("touch");
}

async fn not_wider_than_the_phone(page: &Page, name: &str) {
    let wide = page
        .eval("document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(wide, json!(false), "{name} scrolls sideways on a phone");
}

/// Open the screen as she would: «Mi cuenta», then its link.
async fn open_from_account(page: &Page) {
    // A new address first, so the screen is drawn again even when it is on screen.
    go(page, "#/tareas").await;
    page.wait_until(
        "location.hash === '#/tareas'",
        std::time::Duration::from_secs(30),
    )
    .await;
    go(page, "#/cuenta").await;
    page.wait_for("#my-data a[href='#/cuenta/consultas']").await;
    page.click("#my-data a[href='#/cuenta/consultas']").await;
    page.wait_until(
        "location.hash === '#/cuenta/consultas' && document.title.startsWith('Quién consultó mis datos') \
         && (document.querySelector('#data-reads') || document.querySelector('#data-reads-none') \
             || document.querySelector('main .notice'))",
        std::time::Duration::from_secs(30),
    )
    .await;
}

/// Each read shown: its text and its `<time datetime>`.
async fn reads_shown(page: &Page) -> Vec<(String, String)> {
    let v = page
        .eval(
            "[...document.querySelectorAll('#data-reads li.data-read')].map(li => \
             [li.innerText, li.querySelector('time').getAttribute('datetime')])",
        )
        .await;
    v.as_array()
        .expect("a list")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap_or_default().to_string(),
                pair[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn log_of(app: &TestApp, token: &str, worker_id: &str) -> Vec<Value> {
    app.get(
        &format!("/v1/workers/{worker_id}/data-access?limit=200"),
        Some(token),
    )
    .await
    .ok(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

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

/// An instant as the screen writes it in Bogotá (UTC−5): the date (`5 de diciembre de 2026`)
/// and the clock without its a. m./p. m. (`3:40`).
fn in_bogota(at: &str) -> (String, String) {
    let t = DateTime::parse_from_rfc3339(at)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
        - ChronoDuration::hours(5);
    let date = format!(
        "{} de {} de {}",
        t.day(),
        MONTHS[t.month0() as usize],
        t.year()
    );
    let (_, hour) = t.hour12();
    (date, format!("{hour}:{:02}", t.minute()))
}

/// The read shown says when in Bogotá time, the same instant the API logged.
fn says_when(shown: &(String, String), logged: &Value) {
    let at = logged["at"].as_str().expect("at");
    let logged_at = DateTime::parse_from_rfc3339(at).expect("at");
    let shown_at = DateTime::parse_from_rfc3339(&shown.1).expect("datetime attribute");
    assert_eq!(shown_at, logged_at, "{shown:?}");
    let (date, clock) = in_bogota(at);
    assert!(
        shown.0.contains(&date) && shown.0.contains(&clock),
        "{date} {clock} in Bogotá: {shown:?}"
    );
}

#[tokio::test]
async fn she_sees_who_of_vereda_read_her_personal_data_on_her_phone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let admin_name = app.get("/v1/me", Some(&admin)).await.ok(200)["name"]
        .as_str()
        .expect("the admin's name")
        .to_string();
    let email = format!("luz-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
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
    let worker = app.login(&email, PASSWORD).await;
    let profile = format!("/v1/workers/{worker_id}");

    let Some(browser) =
        Browser::launch("she_sees_who_of_vereda_read_her_personal_data_on_her_phone").await
    else {
        return;
    };
    let page = browser.new_page().await;
    phone(&page).await;
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &email, PASSWORD).await;
    page.wait_until(
        "location.hash === '#/tareas'",
        std::time::Duration::from_secs(30),
    )
    .await;

    // 1. «Mi cuenta» leads to the screen; nobody has read her data yet: the explanation and
    //    the empty state.
    go(&page, "#/cuenta").await;
    page.wait_for("#my-data").await;
    page.wait_for_text("Cambiar la contraseña").await;
    page.eval("document.querySelector('#my-data').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "datos-cuenta").await;
    not_wider_than_the_phone(&page, "datos-cuenta").await;
    open_from_account(&page).await;
    page.wait_for("#data-reads-none").await;
    let said = page.text().await;
    for text in [
        "Nadie del equipo de Vereda ha consultado sus datos personales.",
        "Cada vez que alguien del equipo de Vereda ve sus datos personales, queda registrado aquí",
        "Las empresas nunca ven su cédula, su celular, su correo ni su municipio: solo su nombre corto.",
    ] {
        assert!(said.contains(text), "{text:?} in:\n{said}");
    }
    assert_eq!(
        page.eval("document.querySelector('.more-reads')").await,
        Value::Null
    );
    // «Mi cuenta» is the tab she is in.
    assert_eq!(
        page.eval("document.querySelector('nav a[aria-current=page]').getAttribute('href')")
            .await,
        json!("#/cuenta")
    );
    check_screen(&page, "datos-consultas-vacio").await;
    not_wider_than_the_phone(&page, "datos-consultas-vacio").await;

    // 2. Her own reads are not logged; an admin's read of her profile and finance's list are.
    app.get(&profile, Some(&worker)).await.ok(200);
    app.get(&profile, Some(&admin)).await.ok(200);
    app.get("/v1/workers?limit=200", Some(&finance))
        .await
        .ok(200);
    app.get(&profile, Some(&worker)).await.ok(200);
    let log = log_of(&app, &worker, &worker_id).await;
    assert_eq!(log.len(), 2, "{log:#?}");

    open_from_account(&page).await;
    page.wait_for("#data-reads li.data-read").await;
    let shown = reads_shown(&page).await;
    assert_eq!(shown.len(), 2, "{shown:#?}");
    // Newest first: finance's list, then the admin's read of her profile.
    let everything =
        "Vio: su nombre, su correo, su celular, su cédula, su municipio y su medio de pago";
    for text in [
        "Carolina Finanzas, del equipo de finanzas de Vereda",
        everything,
        "Dónde: su perfil, en la lista de personas de Vereda",
    ] {
        assert!(shown[0].0.contains(text), "{text:?} in {:?}", shown[0]);
    }
    for text in [
        format!("{admin_name}, de la administración de Vereda"),
        everything.to_string(),
        "Dónde: su perfil".to_string(),
    ] {
        assert!(shown[1].0.contains(&text), "{text:?} in {:?}", shown[1]);
    }
    assert!(!shown[1].0.contains("lista de personas"), "{:?}", shown[1]);
    says_when(&shown[0], &log[0]);
    says_when(&shown[1], &log[1]);
    // Her own reads are not there: only the two readers of Vereda.
    assert!(
        shown
            .iter()
            .all(|(text, _)| !text.contains("Luz Teletrabajadora")),
        "{shown:#?}"
    );
    assert_eq!(
        page.eval("document.querySelector('.more-reads')").await,
        Value::Null
    );
    check_screen(&page, "datos-consultas").await;
    not_wider_than_the_phone(&page, "datos-consultas").await;

    // 3. Twenty more reads: an admin lists her statements. A page of twenty, then «Ver más».
    for _ in 0..20 {
        app.get(&format!("{profile}/statements"), Some(&admin))
            .await
            .ok(200);
    }
    let log = log_of(&app, &worker, &worker_id).await;
    assert_eq!(log.len(), 22, "{log:#?}");
    open_from_account(&page).await;
    page.wait_for("#data-reads li.data-read").await;
    let shown = reads_shown(&page).await;
    assert_eq!(shown.len(), 20, "a page of twenty");
    assert!(
        shown[0]
            .0
            .contains("Dónde: la lista de sus extractos de ingresos")
            && shown[0]
                .0
                .contains("Vio: su nombre, su cédula y sus ingresos")
            && shown[0]
                .0
                .contains(&format!("{admin_name}, de la administración de Vereda")),
        "{:?}",
        shown[0]
    );
    page.wait_for(".more-reads").await;
    assert_eq!(
        page.eval("document.querySelector('.more-reads').innerText")
            .await,
        json!("Ver más")
    );
    page.eval("document.querySelector('.more-reads').scrollIntoView({block: 'end'}); true")
        .await;
    not_wider_than_the_phone(&page, "datos-consultas-ver-mas").await;

    // Without a signal, «Ver más» says so and keeps what is shown.
    page.set_offline(true).await;
    page.wait_until("!navigator.onLine", std::time::Duration::from_secs(10))
        .await;
    page.click(".more-reads").await;
    page.wait_for_text(MORE_NEEDS_ONLINE).await;
    assert_eq!(reads_shown(&page).await.len(), 20);
    page.eval("document.querySelector('main .notice').scrollIntoView({block: 'end'}); true")
        .await;
    assert_eq!(
        page.eval("document.querySelectorAll('main .notice.error').length")
            .await,
        json!(0),
        "no error while offline"
    );
    check_screen(&page, "datos-consultas-ver-mas-sin-senal").await;
    page.set_offline(false).await;
    page.wait_until("navigator.onLine", std::time::Duration::from_secs(10))
        .await;
    page.click(".more-reads").await;
    page.wait_until(
        "document.querySelectorAll('#data-reads li.data-read').length === 22",
        std::time::Duration::from_secs(30),
    )
    .await;
    let shown = reads_shown(&page).await;
    assert!(
        shown[20].0.contains("Carolina Finanzas")
            && shown[21].0.contains(&admin_name)
            && shown[21].0.contains("Dónde: su perfil")
            && !shown[21].0.contains("lista de personas"),
        "{:#?}",
        &shown[20..]
    );
    for (s, l) in shown.iter().zip(&log) {
        says_when(s, l);
    }
    assert_eq!(
        page.eval("document.querySelector('.more-reads')").await,
        Value::Null
    );
    assert!(!page.text().await.contains(MORE_NEEDS_ONLINE));
    not_wider_than_the_phone(&page, "datos-consultas-todas").await;

    // 4. Without a signal the screen says it needs a connection (not an error); her account
    //    still leads to it.
    page.set_offline(true).await;
    page.wait_until("!navigator.onLine", std::time::Duration::from_secs(10))
        .await;
    open_from_account(&page).await;
    page.wait_for_text(NEED_ONLINE).await;
    assert_eq!(
        page.eval("document.querySelectorAll('main .notice.error').length")
            .await,
        json!(0),
        "no error while offline"
    );
    assert!(!page.text().await.contains("No hay conexión con Vereda"));
    check_screen(&page, "datos-consultas-sin-conexion").await;
    not_wider_than_the_phone(&page, "datos-consultas-sin-conexion").await;
    page.set_offline(false).await;

    browser.close().await;
}
