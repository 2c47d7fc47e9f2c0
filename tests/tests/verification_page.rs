//! A bank clerk verifies a statement (issue 18 §4): the public page `/verificar/CODE` at
//! phone size, in Spanish, saying whether it is provisional and whether it was replaced; the
//! statement PDF prints that page's full address; lookups are limited per client address.

use chrono::Utc;
use serde_json::json;
use vereda_contracts::statements::Month;
use vereda_tests::browser::{Browser, check_screen, screens_dir};
use vereda_tests::pdf::pdf_text;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

#[tokio::test]
async fn a_bank_clerk_checks_a_code_on_the_public_page_and_guessing_is_limited() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let month = Month::of(Utc::now()).to_string();
    app.run_job(&a.finance, "/v1/statement-runs", json!({ "month": month }))
        .await;
    let path = format!("/v1/workers/{}/statements/{month}", a.worker_id);
    let s = app.get(&path, Some(&a.worker)).await;
    let code = s.ok(200)["verification_code"].as_str().unwrap().to_string();

    // The PDF prints the page's full address (VEREDA_PUBLIC_URL, here the test server's).
    let pdf = app
        .client
        .get(app.url(&format!("{path}/pdf")))
        .bearer_auth(&a.worker)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // Kept beside the screenshots, to be looked at (the QR code is drawn, not text).
    let dir = screens_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("extracto-con-qr.pdf"), &pdf).unwrap();
    if let Some(text) = pdf_text(&pdf) {
        let url = format!("{}/verificar/{code}", app.base);
        assert!(text.contains(&url), "{url} not in the PDF:\n{text}");
    }

    // The page is served at an address fit for paper, with or without the code.
    for page_path in ["/verificar".to_string(), format!("/verificar/{code}")] {
        let r = app.get(&page_path, None).await;
        assert_eq!(r.status, 200, "{page_path}");
        assert!(r.content_type.starts_with("text/html"), "{page_path}");
        assert!(r.text.contains("Verificar un extracto de ingresos"));
    }

    if let Some(browser) = Browser::launch("verification_page").await {
        let page = browser.new_page().await;
        page.emulate_phone().await;
        page.goto(&format!("{}/verificar/{code}", app.base)).await;
        page.wait_for_text("El código corresponde a un extracto")
            .await;
        let text = page.text().await;
        for want in [
            "Luz Teletrabajadora",
            "$ 48.485",
            "Provisional",
            "Es provisional: se hizo con el mes en curso",
        ] {
            assert!(text.contains(want), "{want:?} not on the page:\n{text}");
        }
        check_screen(&page, "verificar-extracto").await;

        // A mistyped code, typed by hand: a plain Spanish answer.
        page.set_value("#code", "7K2M-Q9XD-4HTX").await;
        page.click("#verify button[type=submit]").await;
        page.wait_for_text("No encontramos un extracto con ese código.")
            .await;
        check_screen(&page, "verificar-no-encontrado").await;
        browser.close().await;
    }

    // Guessing is limited per client address: 60 lookups per 15 minutes, then 429 with
    // Retry-After and a Spanish sentence, for right and wrong codes alike.
    let mut refused = None;
    for i in 0..70 {
        let r = app.get("/v1/statements/verify/AAAA-BBBB-CCCC", None).await;
        if r.status == 429 {
            refused = Some((i, r));
            break;
        }
        r.problem(404);
    }
    let (at, r) = refused.expect("lookups are limited");
    assert!(at <= 60, "refused only after {at} lookups");
    r.problem(429);
    assert!(r.headers.contains_key("retry-after"));
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .starts_with("Demasiados intentos"),
        "{}",
        r.text
    );
    app.get(&format!("/v1/statements/verify/{code}"), None)
        .await
        .problem(429);
}
