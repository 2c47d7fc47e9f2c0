//! The worker's web app in a real browser (issue 15): Debian's Chromium, headless, driven over
//! the DevTools protocol (tests/src/browser.rs), at phone size. Each test has its own app (and
//! database: SQLite, or PostgreSQL when VEREDA_TEST_POSTGRES_URL is set). Without Chromium
//! these tests print a notice and pass, unless VEREDA_REQUIRE_BROWSER=1.
//!
//! Screenshots of every screen at 360×740 go to docs/screens/; axe-core (vendored under
//! tests/vendor/) must find no serious or critical violation on any of them.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use vereda_tests::browser::{Browser, Page, js_str};
use vereda_tests::{TestApp, spawn_app};

fn screens_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
}

/// Screenshot the screen as `name` and check it with axe-core.
async fn check_screen(page: &Page, name: &str) {
    // Let fonts, focus and live regions settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    page.screenshot(&screens_dir().join(format!("{name}.png")))
        .await;
    let violations = page.axe_violations().await;
    assert!(violations.is_empty(), "axe-core on {name}: {violations:#?}");
    let errors = page.script_errors();
    assert!(errors.is_empty(), "script errors on {name}: {errors:#?}");
}

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
    let _ = js_str("");
    browser.close().await;
}
