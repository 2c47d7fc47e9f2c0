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
//! And her copy of everything Vereda holds about her (Ley 1581 de 2012), from the same card of
//! «Mi cuenta»: the button says it is working and a second press does nothing, the browser
//! saves one file `mis-datos-vereda-YYYY-MM-DD.json` (Bogotá date) holding her cédula; her own
//! copy is not in her log, an admin's is («una copia de todos sus datos»); without a signal
//! the button says it needs a connection and nothing is saved.
//!
//! Screenshots `datos-*` (target/screens/, or VEREDA_SCREENS_DIR), each checked with axe-core;
//! no screen scrolls sideways. Without Chromium the test prints a notice and passes, unless
//! VEREDA_REQUIRE_BROWSER=1.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, Timelike, Utc};
use serde_json::{Value, json};
use vereda_tests::browser::{Browser, Page, check_screen, go, sign_in};
use vereda_tests::{PASSWORD, TestApp, short_id, spawn_app};

const NEED_ONLINE: &str = "Para ver quién consultó sus datos necesita conexión.";
const MORE_NEEDS_ONLINE: &str = "Para ver más necesita conexión.";
const COPY: &str = "Descargar una copia de mis datos";
const COPY_HINT: &str = "Un archivo con todo lo que Vereda guarda sobre usted: perfil, \
                         autorizaciones, tareas, tiempo, pagos, extractos y correos. El JSON \
                         sirve para llevarlo a otro sistema; el PDF, para leerlo.";
const COPYING: &str = "Preparando su copia…";
const COPY_NEEDS_ONLINE: &str = "Para descargar una copia de sus datos necesita conexión.";
/// The cédula the test worker is created with.
const CEDULA: &str = "1012345678";

/// A new worker (created by the admin, cédula [`CEDULA`]): her id and e-mail.
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
                "document_id": CEDULA,
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
    let (worker_id, email) = new_worker(&app, &admin).await;
    let worker = app.login(&email, PASSWORD).await;
    let profile = format!("/v1/workers/{worker_id}");

    let Some(browser) =
        Browser::launch("she_sees_who_of_vereda_read_her_personal_data_on_her_phone").await
    else {
        return;
    };
    let page = browser.new_page().await;
    page.emulate_android().await;
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

/// The files in the download folder (a download under way ends in `.crdownload`).
fn downloads(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the download folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Wait for one finished download and return its name and text.
async fn the_download(dir: &std::path::Path) -> (String, String) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let names = downloads(dir);
        if !names.is_empty() && names.iter().all(|n| !n.ends_with(".crdownload")) {
            assert_eq!(names.len(), 1, "one file saved: {names:?}");
            let text = std::fs::read_to_string(dir.join(&names[0])).expect("the saved file");
            return (names[0].clone(), text);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no download in 30 s: {names:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The copy's button as shown: its text and whether it says it is busy.
async fn copy_button(page: &Page) -> Value {
    page.eval(
        "(() => { const b = document.querySelector('#data-copy'); \
         return [b.innerText, b.getAttribute('aria-disabled')]; })()",
    )
    .await
}

#[tokio::test]
async fn she_downloads_a_copy_of_her_data_on_her_phone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (worker_id, email) = new_worker(&app, &admin).await;
    let worker = app.login(&email, PASSWORD).await;

    let Some(browser) = Browser::launch("she_downloads_a_copy_of_her_data_on_her_phone").await
    else {
        return;
    };
    let page = browser.new_page().await;
    page.emulate_android().await;
    // Downloads land in a folder of the test's own, under the names the page gives them.
    let folder = tempfile::Builder::new()
        .prefix("vereda-descargas-")
        .tempdir()
        .expect("a download folder");
    page.cmd(
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": folder.path().display().to_string()}),
    )
    .await
    .expect("allow downloads");
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &email, PASSWORD).await;
    page.wait_until(
        "location.hash === '#/tareas'",
        std::time::Duration::from_secs(30),
    )
    .await;

    // The card «Sus datos personales» in «Mi cuenta» offers the copy and says what it holds.
    go(&page, "#/cuenta").await;
    page.wait_for("#my-data #data-copy").await;
    let card = page
        .eval("document.querySelector('#my-data').innerText")
        .await;
    let card = card.as_str().expect("the card's text");
    for text in [COPY, COPY_HINT] {
        assert!(card.contains(text), "{text:?} in:\n{card}");
    }
    assert_eq!(copy_button(&page).await, json!([COPY, null]));
    page.eval("document.querySelector('#my-data').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "datos-copia").await;
    not_wider_than_the_phone(&page, "datos-copia").await;

    // While the copy is on its way (held here until released), the button says it is working
    // and a second press asks for nothing more.
    page.eval(
        "(() => { window.__exports = 0; const f = window.fetch; \
         window.fetch = (...a) => { if (!String(a[0]).includes('/data-export')) return f(...a); \
         window.__exports++; return new Promise(r => { window.__release = r; }).then(() => f(...a)); }; \
         return true; })()",
    )
    .await;
    page.click("#data-copy").await;
    page.wait_until("window.__release", std::time::Duration::from_secs(10))
        .await;
    assert_eq!(copy_button(&page).await, json!([COPYING, "true"]));
    page.click("#data-copy").await;
    page.click("#data-copy").await;
    assert_eq!(page.eval("window.__exports").await, json!(1), "one request");
    check_screen(&page, "datos-copia-preparando").await;
    page.eval("window.__release(); true").await;

    // The browser saves one file, named for the day in Bogotá, holding everything about her.
    let (name, text) = the_download(folder.path()).await;
    let copy: Value = serde_json::from_str(&text).expect("the file is JSON");
    assert_eq!(copy["worker_id"], json!(worker_id));
    assert_eq!(
        copy["sections"]["profile"][0]["document_id"],
        json!(CEDULA),
        "{copy:#}"
    );
    for section in [
        "profile",
        "account",
        "assignments",
        "time_entries",
        "earnings",
        "payouts",
        "statements",
        "emails",
    ] {
        assert!(
            copy["sections"][section].is_array(),
            "{section} in the copy: {copy:#}"
        );
    }
    let generated_at = DateTime::parse_from_rfc3339(copy["generated_at"].as_str().expect("date"))
        .expect("generated_at")
        .with_timezone(&Utc)
        - ChronoDuration::hours(5);
    let expected = format!("mis-datos-vereda-{}.json", generated_at.format("%Y-%m-%d"));
    assert_eq!(name, expected);
    page.wait_for_text(&format!(
        "Listo: el archivo «{expected}» quedó en las descargas"
    ))
    .await;
    assert_eq!(copy_button(&page).await, json!([COPY, null]));
    assert_eq!(page.eval("window.__exports").await, json!(1), "one request");
    check_screen(&page, "datos-copia-lista").await;
    not_wider_than_the_phone(&page, "datos-copia-lista").await;
    // Her own copy is not a read by someone else.
    assert!(log_of(&app, &worker, &worker_id).await.is_empty());
    std::fs::remove_file(folder.path().join(&name)).expect("remove the copy");

    // Without a signal the button says it needs a connection (not an error); nothing is saved.
    page.set_offline(true).await;
    page.wait_until("!navigator.onLine", std::time::Duration::from_secs(10))
        .await;
    page.click("#data-copy").await;
    page.wait_for_text(COPY_NEEDS_ONLINE).await;
    assert_eq!(
        page.eval("document.querySelectorAll('main .notice.error').length")
            .await,
        json!(0),
        "no error while offline"
    );
    assert!(!page.text().await.contains("Listo: el archivo"));
    assert_eq!(copy_button(&page).await, json!([COPY, null]));
    assert_eq!(page.eval("window.__exports").await, json!(1), "no request");
    page.eval("document.querySelector('#my-data .copy-msg').scrollIntoView({block: 'end'}); true")
        .await;
    check_screen(&page, "datos-copia-sin-conexion").await;
    not_wider_than_the_phone(&page, "datos-copia-sin-conexion").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(downloads(folder.path()).is_empty(), "nothing saved offline");
    page.set_offline(false).await;
    page.wait_until("navigator.onLine", std::time::Duration::from_secs(10))
        .await;

    // The same copy as a PDF to read: the link saves it with her sign-in.
    page.click("#data-copy-pdf").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let pdf = loop {
        let names = downloads(folder.path());
        if names.iter().any(|n| n == "copia-de-mis-datos.pdf") {
            break std::fs::read(folder.path().join("copia-de-mis-datos.pdf")).expect("the PDF");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no PDF in 30 s: {names:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        assert!(text.contains("Copia de sus datos personales"), "{text}");
        assert!(text.contains(CEDULA), "her cédula in her own copy");
    }
    std::fs::remove_file(folder.path().join("copia-de-mis-datos.pdf")).expect("remove the PDF");
    assert!(log_of(&app, &worker, &worker_id).await.is_empty());

    // An admin's copy of her data is a read she sees, in plain words.
    app.get(
        &format!("/v1/workers/{worker_id}/data-export"),
        Some(&admin),
    )
    .await
    .ok(200);
    open_from_account(&page).await;
    page.wait_for("#data-reads li.data-read").await;
    let shown = reads_shown(&page).await;
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(
        shown[0].0.contains("Dónde: una copia de todos sus datos")
            && shown[0].0.contains("de la administración de Vereda"),
        "{:?}",
        shown[0]
    );
    says_when(&shown[0], &log_of(&app, &worker, &worker_id).await[0]);

    browser.close().await;
}
