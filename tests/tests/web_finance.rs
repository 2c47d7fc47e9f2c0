//! The finance clerk's month end in a real browser (issue 18 §2 and §5): the dashboard, a
//! billing run followed live, a partial company payment, a payout batch, its bank file, the
//! bank's confirmation as Excel saves it in Colombia (semicolons, Windows-1252, `pagado` and
//! `rechazado`), the rejected worker's money back on her balance, statements, the ledger with
//! names, the jobs and the e-mail outbox. Desktop first, every screen also at phone size; each
//! screenshot (`finanzas-*`) checked with axe-core. Without Chromium the test prints a notice
//! and passes, unless VEREDA_REQUIRE_BROWSER=1.

use std::time::Duration;

use serde_json::json;
use vereda_tests::browser::{
    Page, check_office_screen, choose_file, fetch_link, go, open_office, sign_in,
};
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::{PASSWORD, TestApp, eventually, short_id, spawn_app};

/// A worker with a name of her own; returns (worker id, token).
async fn worker(app: &TestApp, admin: &str, name: &str, phone: &str) -> (String, String) {
    let email = format!("w-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(admin),
            json!({
                "name": name, "email": email, "password": PASSWORD,
                "municipality": "Chaparral", "department": "Tolima",
                "skills": ["labelling"],
                "payout_method": {"kind": "nequi", "phone": phone},
                "document_id": format!("10{}", &short_id()[..8].bytes().map(|b| (b % 10).to_string()).collect::<String>()),
            }),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    (id, app.login(&email, PASSWORD).await)
}

async fn text(page: &Page) -> String {
    page.text().await
}

#[tokio::test]
async fn the_finance_clerk_closes_the_month_in_the_browser() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let email = format!("carolina-{}@vereda.test", short_id());
    app.post(
        "/v1/staff",
        Some(&admin),
        json!({"name": "Carolina Finanzas", "email": email, "password": PASSWORD, "role": "finance"}),
    )
    .await
    .ok(201);
    let finance = app.login(&email, PASSWORD).await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let (paid_id, paid) = worker(&app, &admin, "Marta Rojas", "3105550001").await;
    let (back_id, back) = worker(&app, &admin, "Yuli Cardona", "3105550002").await;
    app.approved_fixed_work(
        &owner,
        "Etiquetar fotos de productos",
        "labelling",
        60_000,
        &[&paid, &back],
    )
    .await;
    for id in [&paid_id, &back_id] {
        eventually(Duration::from_secs(60), || async {
            (app.payable(&finance, id).await == "-60000").then_some(())
        })
        .await
        .expect("accrued");
    }

    let Some((browser, page)) = open_office("the_finance_clerk", &app.base).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;
    // The dashboard: books balanced, two people owed $ 120.000, nothing run yet.
    page.wait_for_text("Pasos del cierre").await;
    let dash = text(&page).await;
    for seen in [
        "Cuadran",
        "$ 120.000",
        "2 personas tienen saldo por cobrar",
        "Todavía nadie ha iniciado un trabajo",
    ] {
        assert!(dash.contains(seen), "{seen} in {dash}");
    }
    check_office_screen(&page, "finanzas-cierre", "h1").await;

    // Billing, followed live until it says what it issued.
    go(&page, "#/facturacion").await;
    page.wait_for("#billing").await;
    page.click("#billing button[type=submit]").await;
    page.wait_for_text("Se emitió 1 factura").await;
    check_office_screen(&page, "finanzas-facturacion", "#billing-result").await;

    // The invoice, and a partial payment with the bank's reference (typed with a thousands dot).
    go(&page, "#/facturas").await;
    page.wait_for_text("Tienda Andina").await;
    check_office_screen(&page, "finanzas-facturas", "h1").await;
    page.click("table.data tbody a").await;
    page.wait_for("#payment").await;
    page.type_into("#amount", "100.000").await;
    page.type_into("#reference", "TRF-2026-1201").await;
    page.click("#payment button[type=submit]").await;
    page.wait_for_text("Pago de $ 100.000 con referencia TRF-2026-1201 registrado")
        .await;
    page.wait_for_text("Pagada en parte").await;
    let invoice = text(&page).await;
    assert!(invoice.contains("Carolina Finanzas"), "{invoice}");
    check_office_screen(&page, "finanzas-factura", "#payments-title").await;

    // A transfer typed twice under another reference: recorded, then reversed with a reason.
    page.type_into("#amount", "20000").await;
    page.type_into("#reference", "TRF-2026-1202").await;
    page.click("#payment button[type=submit]").await;
    page.wait_for_text("Pago de $ 20.000 con referencia TRF-2026-1202 registrado")
        .await;
    page.eval(
        "[...document.querySelectorAll('tr')].find((r) => r.innerText.includes('TRF-2026-1202')).querySelector('button').click()",
    )
    .await;
    page.wait_for("#reverse").await;
    // No reason, no reversal: said in Spanish.
    page.click("#reverse button[type=submit]").await;
    page.wait_for_text("Escriba por qué se reversa el pago")
        .await;
    page.type_into("#reason", "Registrado dos veces").await;
    check_office_screen(&page, "finanzas-reversar-pago", "#reversal-title").await;
    page.click("#reverse button[type=submit]").await;
    page.wait_for_text("El pago TRF-2026-1202 quedó reversado")
        .await;
    page.wait_for_text("Reversado").await;
    let invoices = app.get("/v1/invoices", Some(&finance)).await;
    let inv = &invoices.ok(200)["items"][0];
    assert_eq!(
        (&inv["status"], &inv["paid"]),
        (&json!("partially_paid"), &json!("100000"))
    );

    // A payout batch: both workers, $ 120.000; the bank's file downloaded from the page.
    go(&page, "#/pagos").await;
    page.wait_for_text("Todavía no hay lotes de pagos").await;
    page.click_text("Crear un lote de pagos").await;
    page.wait_for_text("Lote creado: 2 pagos por $ 120.000")
        .await;
    let batch_page = text(&page).await;
    for seen in ["Marta Rojas", "Yuli Cardona", "Nequi", "Pendiente"] {
        assert!(batch_page.contains(seen), "{seen} in {batch_page}");
    }
    check_office_screen(&page, "finanzas-lote", "h1").await;
    let (status, kind, file) = fetch_link(&page, "#bank-file").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let file = String::from_utf8(file).unwrap();
    let batches = app.get("/v1/payout-batches", Some(&finance)).await;
    let batch = batches.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lines = app
        .get(&format!("/v1/payout-batches/{batch}"), Some(&finance))
        .await;
    let lines = lines.ok(200)["lines"].as_array().unwrap().clone();
    let reference = |worker_id: &str| {
        lines.iter().find(|l| l["worker_id"] == worker_id).unwrap()["reference"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (paid_ref, back_ref) = (reference(&paid_id), reference(&back_id));
    assert!(
        file.contains(&paid_ref) && file.contains(&back_ref),
        "{file}"
    );

    // The bank's answer as Excel saves it here: Windows-1252 (ó, á), semicolons, `48.485`-style
    // amounts, `pagado` and `rechazado`.
    let mut confirmation = b"Referencia;Valor;Estado;Observaci\xf3n\r\n".to_vec();
    confirmation.extend_from_slice(format!("{paid_ref};60.000;pagado;\r\n").as_bytes());
    confirmation.extend_from_slice(format!("{back_ref};60.000;rechazado;cuenta inv").as_bytes());
    confirmation.extend_from_slice(b"\xe1lida\r\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("confirmacion-banco.csv");
    std::fs::write(&path, &confirmation).unwrap();
    choose_file(&page, "#confirmation-file", &path).await;
    page.click("#confirmation button[type=submit]").await;
    page.wait_for_text("Aplicados (2)").await;
    let result = text(&page).await;
    assert!(
        result.contains("rechazado: el dinero volvió al saldo de la persona"),
        "{result}"
    );
    assert!(
        result.contains("Rechazado") && result.contains("Pagado"),
        "{result}"
    );
    check_office_screen(&page, "finanzas-lote-confirmado", "#result-title").await;
    assert_eq!(app.payable(&finance, &paid_id).await, "0");
    assert_eq!(app.payable(&finance, &back_id).await, "-60000");

    // A file the bank did not mean: refused at once, each row named, nothing changed.
    // (The batch has no pending line left, so the upload form is gone: checked over the API.)
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch}/confirmations"),
            Some(&finance),
            "text/csv",
            b"Referencia;Valor;Estado\r\nVRD-X;60.000;enviado\r\n".to_vec(),
        )
        .await;
    assert_eq!(r.problem(422).code(), "no_readable_row");

    // Back on the dashboard: the rejected worker's money is owed again.
    go(&page, "#/cierre").await;
    page.wait_for_text("1 persona tiene saldo por cobrar").await;
    let dash = text(&page).await;
    assert!(dash.contains("$ 60.000"), "{dash}");
    assert!(dash.contains("Confirmación del banco"), "{dash}");

    // The ledger with names; one account's postings.
    go(&page, "#/libro").await;
    page.wait_for_text("Yuli Cardona").await;
    let ledger = text(&page).await;
    for seen in [
        "Tienda Andina",
        "Marta Rojas",
        "Comisiones de la plataforma",
        "Cuadran",
    ] {
        assert!(ledger.contains(seen), "{seen} in {ledger}");
    }
    check_office_screen(&page, "finanzas-libro", "h1").await;
    go(
        &page,
        &format!("#/cuenta-contable/worker%3A{back_id}%3Apayable"),
    )
    .await;
    page.wait_for_text("Por pagar a la persona · Yuli Cardona")
        .await;
    check_office_screen(&page, "finanzas-cuenta", "h1").await;

    // Statements for this month, followed live; documentos soporte listed.
    go(&page, "#/certificados").await;
    page.wait_for("#statement-run").await;
    page.click("#statement-run button[type=submit]").await;
    page.wait_for_text("certificados nuevos enviados").await;
    check_office_screen(&page, "finanzas-certificados", "h1").await;

    // Last week's documentos soporte (the month's work moved into it), issued from the
    // screen; then one annulled from it, with a reason, and issued again.
    let last_week = vereda_contracts::support_weeks::Week::of(vereda_contracts::time::unix(
        vereda_contracts::time::now(),
    ))
    .prev();
    vereda_store::on_db!(&app.db, |p| sqlx::query(
        "UPDATE accruals SET approved_at = $1"
    )
    .bind(last_week.start() + 86_400)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    // Numbered under a DIAN resolution, so each is an electronic document too.
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive();
    app.post(
        "/v1/numbering-resolutions",
        Some(&admin),
        json!({
            "kind": "support_document", "number": "18760000077", "prefix": "SEDS",
            "from": 1, "to": 1000,
            "valid_from": (today - chrono::Duration::days(30)).to_string(),
            "valid_until": (today + chrono::Duration::days(300)).to_string()
        }),
    )
    .await
    .ok(201);
    page.click("#support-run button[type=submit]").await;
    page.wait_for_text("2 documentos soporte emitidos").await;
    page.click_text("Anular…").await;
    page.wait_for("#annul-form").await;
    page.type_into("#reason", "Cédula de la vendedora errada")
        .await;
    check_office_screen(&page, "finanzas-anular-documento-soporte", "#annul").await;
    page.click("#annul-form button[type=submit]").await;
    page.wait_for_text("quedó anulado con la nota de ajuste NA-1")
        .await;
    page.wait_for_text("1 documento soporte emitido").await;
    page.wait_for_text("Corregido por NA-1").await;
    check_office_screen(
        &page,
        "finanzas-documento-soporte-anulado",
        "#support-documents",
    )
    .await;
    let numbers: Vec<String> = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT number FROM support_documents ORDER BY seq, number"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(
        numbers.len(),
        4,
        "two documents, the note, the new one: {numbers:?}"
    );

    // Their way to DIAN: all four delivered to the provider's folder; the clerk records what
    // the provider reports, an acceptance and a rejection with DIAN's reason.
    go(&page, "#/documentos-electronicos").await;
    page.wait_for_text("Entregado al proveedor").await;
    page.wait_for_text("NA-1").await;
    check_office_screen(&page, "finanzas-dian", "h1").await;
    page.click_text("Registrar aceptación").await;
    page.wait_for_text("quedó registrado como aceptado por la DIAN")
        .await;
    page.click_text("Registrar rechazo…").await;
    page.wait_for("#reject-form").await;
    page.type_into("#dian-reason", "FAD06: el número no está autorizado")
        .await;
    page.click("#reject-form button[type=submit]").await;
    page.wait_for_text("quedó registrado como rechazado por la DIAN")
        .await;
    page.wait_for_text("FAD06: el número no está autorizado")
        .await;
    let states: Vec<String> = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT state FROM electronic_documents ORDER BY state"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(states, ["accepted", "delivered", "delivered", "rejected"]);

    // The month's withholding report ties to the ledger; this year's certificates, followed
    // live (one person was paid: the other's payout came back).
    go(&page, "#/retenciones").await;
    page.wait_for_text("Sin retención (bajo la base)").await;
    page.wait_for_text("Cuadra con la cuenta").await;
    let (status, kind, csv) = fetch_link(&page, "#report-csv").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(
        String::from_utf8(csv)
            .unwrap()
            .contains("Total,,1,,60000,0"),
        "the report's CSV"
    );
    let year = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .format("%Y")
        .to_string();
    page.eval(&format!("document.getElementById('year').value = '{year}'"))
        .await;
    page.click("#certificate-run button[type=submit]").await;
    page.wait_for_text("1 persona revisada; 1 certificado nuevo enviado.")
        .await;
    check_office_screen(&page, "finanzas-retenciones", "h1").await;

    // Every job, filtered; the outbox (nothing failed).
    go(&page, "#/trabajos?tipo=bank_confirmation").await;
    page.wait_for_text("Confirmación del banco").await;
    let rows = page
        .eval("[...document.querySelectorAll('table.data tbody tr')].map((r) => r.cells[0].innerText)")
        .await;
    assert_eq!(rows, json!(["Confirmación del banco"]));
    check_office_screen(&page, "finanzas-trabajos", "h1").await;
    go(&page, "#/correos").await;
    page.wait_for_text("Ningún correo ha fallado").await;
    check_office_screen(&page, "finanzas-correos", "h1").await;

    assert_ledger_invariants(&app.db).await;
    browser.close().await;
}
