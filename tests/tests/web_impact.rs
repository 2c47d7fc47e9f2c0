//! «Reporte de impacto» in a real browser (issue 22 §2):
//!
//! 1. Thirteen consenting workers with approved work last month (six in Tolima who gave a
//!    household income before joining, five in Huila, two in Antioquia) and one who never
//!    consented, the way `impact.rs` seeds them.
//! 2. Finance opens the report from the navigation: by default the last twelve months, last
//!    month in detail: Tolima's six with their figures in pesos, Antioquia «reservado» (two
//!    people) and Huila with it (or Antioquia would be the total minus the rest), and the
//!    one-line explanation. By programme group the victims' group (two) is reserved too.
//! 3. The CSV and the PDF download with the web session: the CSV's rows say what is reserved,
//!    the PDF is a PDF (in Spanish, when pdftotext is there to read it).
//! 4. A funder signs in and sees the report and nothing else: two links (the report and her
//!    account), and any other screen's address brings her back to the report with no data of
//!    it shown.
//!
//! Screenshots `impacto-*` (target/screens/, or VEREDA_SCREENS_DIR), desktop and phone, each
//! checked with axe-core; no screen scrolls sideways. Without Chromium the test prints a notice
//! and passes, unless VEREDA_REQUIRE_BROWSER=1.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use vereda_contracts::statements::Month;
use vereda_tests::browser::{
    Page, check_office_screen, check_screen, fetch_link, go, js_str, open_office, sign_in,
};
use vereda_tests::programme::{approved_in, consent, worker_in};
use vereda_tests::{PASSWORD, TestApp, short_id, spawn_app};

async fn staff(app: &TestApp, admin: &str, name: &str, role: &str) -> String {
    let email = format!("{role}-{}@vereda.test", short_id());
    let r = app
        .post(
            "/v1/staff",
            Some(admin),
            json!({"name": name, "email": email, "password": PASSWORD, "role": role}),
        )
        .await;
    assert_eq!(r.ok(201)["role"], role);
    email
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

/// The text of the detail table's row for `key` (`total`, a DANE code, a group code).
async fn row(page: &Page, key: &str) -> String {
    inner_text(page, &format!("#impact-detail tr[data-key='{key}']")).await
}

#[tokio::test]
async fn finance_and_a_funder_read_the_impact_report_in_the_browser() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance_email = staff(&app, &admin, "Carolina Finanzas", "finance").await;
    let funder_email = staff(&app, &admin, "Fundación Rural", "funder").await;
    let (_, owner) = app.company(&admin, "Datos Andinos SAS").await;

    // ---- 1. Thirteen consenting workers and one who never consented ----
    let mut everyone = Vec::new();
    for _ in 0..6 {
        let (id, t) = worker_in(&app, &admin, "Chaparral", "Tolima").await;
        consent(&app, &id, &t, Some("400000"), &["woman_head_of_household"]).await;
        everyone.push(t);
    }
    for _ in 0..5 {
        let (id, t) = worker_in(&app, &admin, "Neiva", "Huila").await;
        consent(&app, &id, &t, None, &["youth"]).await;
        everyone.push(t);
    }
    for _ in 0..2 {
        let (id, t) = worker_in(&app, &admin, "Medellín", "Antioquia").await;
        consent(&app, &id, &t, Some("300000"), &["conflict_victim"]).await;
        everyone.push(t);
    }
    let (_, silent) = worker_in(&app, &admin, "Chaparral", "Tolima").await;
    everyone.push(silent);
    let tokens: Vec<&str> = everyone.iter().map(String::as_str).collect();
    let last = Month::of(Utc::now()).prev();
    app.approved_fixed_work(
        &owner,
        "Digitación de encuestas",
        "data-entry",
        900_000,
        &tokens,
    )
    .await;
    approved_in(&app, "Digitación de encuestas", last, 14).await;

    // ---- 2. Finance opens the report ----
    let Some((browser, page)) = open_office("impact_report_finance", &app.base).await else {
        return;
    };
    sign_in(&page, &finance_email, PASSWORD).await;
    let link = "nav a[href='#/impacto']";
    page.wait_for(link).await;
    assert_eq!(inner_text(&page, link).await, "Reporte de impacto");
    page.click(link).await;
    page.wait_for("#impact-detail").await;
    assert_eq!(
        inner_text(&page, "#impact-detail-title").await,
        last.name_es(),
        "last month, the newest with anyone counted, is shown in detail"
    );
    let said = page.text().await;
    for want in [
        "No tiene nombres, y ninguna cifra describe a menos de 5 personas.",
        "«reservado»: son menos de 5 personas, o se oculta para que no se pueda deducir otra cifra pequeña.",
        "Por departamento",
        "SMMLV del mes: $ ",
    ] {
        assert!(said.contains(want), "{want:?} in {said}");
    }
    // The range: the last twelve months, as words.
    let this = Month::of(Utc::now());
    let from = (0..11).fold(this, |m, _| m.prev());
    assert_eq!(
        page.eval("document.querySelector('#desde').value").await,
        json!(from.to_string())
    );
    assert_eq!(
        page.eval("document.querySelector('#hasta').value").await,
        json!(this.to_string())
    );
    assert_eq!(
        inner_text(&page, "#hasta option:checked").await,
        this.name_es()
    );
    // The total: thirteen (the one who never consented is not counted), $ 900.000 each.
    let total = row(&page, "total").await;
    for want in ["Total", "13", "$ 900.000", "100 %"] {
        assert!(total.contains(want), "{want:?} in {total}");
    }
    let tolima = row(&page, "73").await;
    for want in ["Tolima", "6", "$ 900.000"] {
        assert!(tolima.contains(want), "{want:?} in {tolima}");
    }
    for (key, name) in [("05", "Antioquia"), ("41", "Huila")] {
        let r = row(&page, key).await;
        assert!(r.contains(name) && r.contains("reservado"), "{r}");
        assert!(!r.contains('$'), "{r}");
    }
    // The summary: last month's total, and a month with nobody says 0 people, not «reservado».
    let summary = inner_text(&page, "#impact-summary").await;
    assert!(summary.contains(&last.name_es()), "{summary}");
    let empty = inner_text(&page, &format!("#impact-summary tr[data-key='{this}']")).await;
    assert!(
        empty.contains('0') && !empty.contains("reservado"),
        "{empty}"
    );
    check_office_screen(&page, "impacto-reporte-inicio", "body").await;
    check_office_screen(&page, "impacto-reporte", "#impact-detail").await;
    check_office_screen(&page, "impacto-reporte-resumen", "#impact-summary").await;

    // By programme group: the victims' group (two) is reserved.
    page.eval("document.querySelector('#por').value = 'group'; true")
        .await;
    page.click("#impact-filter button[type=submit]").await;
    page.wait_until(
        "location.hash.includes('por=group') && document.querySelector(\"#impact-detail tr[data-key='conflict_victim']\")",
        Duration::from_secs(30),
    )
    .await;
    let victims = row(&page, "conflict_victim").await;
    assert!(
        victims.contains("Víctima del conflicto armado") && victims.contains("reservado"),
        "{victims}"
    );
    let women = row(&page, "woman_head_of_household").await;
    assert!(
        women.contains("Mujer cabeza de hogar") && women.contains("6"),
        "{women}"
    );
    check_office_screen(&page, "impacto-reporte-grupos", "#impact-detail h3").await;

    // ---- 3. The downloads, with the web session ----
    let (status, kind, csv) = fetch_link(&page, "#impact-csv").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let csv = String::from_utf8(csv).expect("UTF-8");
    assert!(
        csv.starts_with("mes,desglose,clave,nombre,reservado,personas"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{last},group,conflict_victim,Víctima del conflicto armado,si,,"
        )),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{last},group,woman_head_of_household,Mujer cabeza de hogar,no,6,"
        )),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("{last},group,total,Total,no,13,")),
        "{csv}"
    );
    for (id, ext) in [("#impact-csv", "csv"), ("#impact-pdf", "pdf")] {
        let download = page
            .eval(&format!(
                "document.querySelector({}).getAttribute('download')",
                js_str(id)
            ))
            .await;
        assert_eq!(
            download,
            json!(format!("reporte-impacto-{from}-{this}-group.{ext}")),
            "{id}"
        );
    }
    let (status, kind, pdf) = fetch_link(&page, "#impact-pdf").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        assert!(text.contains("Reporte de impacto"), "{text}");
        assert!(text.contains("reservado"), "{text}");
    }
    browser.close().await;

    // ---- 4. A funder: the report, her account, nothing else ----
    let Some((browser, page)) = open_office("impact_report_funder", &app.base).await else {
        return;
    };
    page.emulate_android().await;
    sign_in(&page, &funder_email, PASSWORD).await;
    page.wait_until(
        "location.hash === '#/impacto' && document.querySelector('#impact-detail')",
        Duration::from_secs(30),
    )
    .await;
    let links = page
        .eval("[...document.querySelectorAll('#nav a')].map(a => [a.getAttribute('href'), a.innerText])")
        .await;
    assert_eq!(
        links,
        json!([
            ["#/impacto", "Reporte de impacto"],
            ["#/cuenta", "Mi cuenta"]
        ]),
        "{links}"
    );
    let tolima = row(&page, "73").await;
    assert!(
        tolima.contains("Tolima") && tolima.contains("$ 900.000"),
        "{tolima}"
    );
    page.eval("window.scrollTo(0, 0); true").await;
    check_screen(&page, "impacto-financiador-celular").await;
    page.eval("document.querySelector('#impact-detail h3').scrollIntoView({block: 'start'}); true")
        .await;
    check_screen(&page, "impacto-financiador-detalle-celular").await;
    let wide = page
        .eval("document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(
        wide,
        json!(false),
        "the funder's report scrolls sideways on a phone"
    );

    // Any other screen's address: back to the report, none of that screen shown.
    for (hash, theirs) in [
        ("#/personas", "Personas trabajadoras"),
        ("#/cierre", "Pasos del cierre"),
        ("#/solicitudes", "Solicitudes de datos"),
        ("#/tareas", "Tareas disponibles"),
        ("#/dinero", "Mi dinero"),
        ("#/empresa", "Empresa"),
    ] {
        go(&page, "#/cuenta").await;
        page.wait_for("#password").await;
        go(&page, hash).await;
        page.wait_until(
            "location.hash === '#/impacto' && document.querySelector('#impact-detail')",
            Duration::from_secs(30),
        )
        .await;
        let shown = inner_text(&page, "main").await;
        assert!(!shown.contains(theirs), "{hash}: {shown}");
        assert!(shown.contains("Reporte de impacto"), "{hash}: {shown}");
    }
    // Her account: the password and signing out; nothing of a worker's.
    go(&page, "#/cuenta").await;
    page.wait_for("#password").await;
    let account = inner_text(&page, "main").await;
    assert!(account.contains("Cambiar la contraseña"), "{account}");
    assert!(!account.contains("Sus datos personales"), "{account}");
    check_screen(&page, "impacto-financiador-cuenta-celular").await;
    let errors = page.script_errors();
    assert!(errors.is_empty(), "{errors:?}");
    browser.close().await;
}
