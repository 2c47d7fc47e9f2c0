//! The privacy notice (issue 22 §5): served by the product at `/privacidad`, in Spanish,
//! versioned, naming the responsible party and the contact from settings, the rights of Ley
//! 1581 and their deadlines in business days; plain HTML with no script, escaped, with the
//! security headers of every answer.

use vereda_tests::{TestDb, spawn_with};

#[tokio::test]
async fn the_privacy_notice_names_who_answers_and_how() {
    let db = TestDb::new().await;
    let mut settings = db.settings();
    settings.platform_name = "Vereda & Cía <Pruebas>".to_string();
    settings.platform_nit = "901234567-7".to_string();
    settings.privacy_email = "datos@vereda.test".to_string();
    let mut app = spawn_with(settings).await;
    app.test_db = Some(db);

    let r = app.client.get(app.url("/privacidad")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(headers.contains_key("content-security-policy"));
    let html = r.text().await.unwrap();
    for expected in [
        r#"<html lang="es-CO">"#,
        "Aviso de privacidad",
        "Versión del 6 de diciembre de 2026",
        "Vereda &amp; Cía &lt;Pruebas&gt;, NIT 901234567-7",
        "mailto:datos@vereda.test",
        "Ley 1581 de 2012",
        "10 días hábiles",
        "15 días hábiles",
        "Superintendencia de Industria y Comercio",
        "nunca su cédula",
        "10 años",
        // Deletion waits while work or money ties her, and is asked for in the app.
        "dinero por cobrar o en camino",
        "«Mis solicitudes sobre mis datos»",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert!(
        !html.contains("<script"),
        "plain HTML, readable without JavaScript"
    );
    assert!(!html.contains("<Pruebas>"), "escaped");
    // Its stylesheet is the app's, under its hashed name, and is served.
    let css = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert!(
        css.starts_with("/css/app.") && css != "/css/app.css",
        "{css}"
    );
    let r = app.client.get(app.url(&css)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let icon = html
        .split("<img src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert!(
        icon.starts_with("/icons/icon.") && icon != "/icons/icon.svg",
        "{icon}"
    );
    let r = app.client.get(app.url(&icon)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The sign-in screen links to it, and the service worker leaves it alone.
    let app_js = vereda_api::web::assets()
        .find(|a| a.path.starts_with("/js/app.") && a.path.ends_with(".js"))
        .unwrap();
    assert!(String::from_utf8_lossy(app_js.body).contains("'/privacidad'"));
    // The screen the notice names is called so in the app.
    let es_js = vereda_api::web::assets()
        .find(|a| a.path.starts_with("/js/es.") && a.path.ends_with(".js"))
        .unwrap();
    let es = String::from_utf8_lossy(es_js.body);
    assert!(es.contains("open: 'Mis solicitudes sobre mis datos'"));
    assert!(es.contains("'Mi cuenta'"));
    let sw = vereda_api::web::assets()
        .find(|a| a.path == "/sw.js")
        .unwrap();
    assert!(String::from_utf8_lossy(sw.body).contains("url.pathname === '/privacidad'"));
}
