//! Every problem carries `detail_es`, a Spanish sentence chosen from its code and field
//! (issue 15 §2): a sample of the refusals people meet.

use serde_json::json;
use vereda_tests::*;

/// The sentence of a problem, checked to be Spanish-looking and not the English `detail`.
#[track_caller]
fn spanish(r: &Resp) -> String {
    let es = r.body["detail_es"].as_str().unwrap_or_default().to_string();
    assert!(!es.is_empty(), "no detail_es: {}", r.text);
    assert_ne!(es, r.body["detail"].as_str().unwrap_or_default());
    let lower = format!(" {} ", es.to_lowercase());
    for english in [" the ", " is ", " must ", " not ", " your ", " try "] {
        assert!(!lower.contains(english), "English in {es:?}");
    }
    es
}

#[tokio::test]
async fn problems_say_what_happened_in_spanish() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let r = app.get("/v1/no-such-route", Some(&admin)).await;
    r.problem(404);
    assert_eq!(
        spanish(&r),
        "No encontramos lo que busca, o no le pertenece."
    );

    let r = app.get("/v1/me", None).await;
    r.problem(401);
    assert!(spanish(&r).contains("ingrese de nuevo"), "{}", r.text);

    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "not-the-password"}),
        )
        .await;
    r.problem(401);
    assert_eq!(spanish(&r), "El correo o la contraseña no son correctos.");

    // A field names itself in Spanish.
    let r = app
        .post(
            "/v1/staff",
            Some(&admin),
            json!({"name": "Sofía", "email": "no es un correo", "password": PASSWORD, "role": "finance"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "email");
    assert_eq!(
        spanish(&r),
        "Revise el correo electrónico: el dato no es válido."
    );

    let r = app
        .post_raw("/v1/staff", Some(&admin), "application/json", b"{".to_vec())
        .await;
    r.problem(400);
    spanish(&r);

    // A worker may not create staff.
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let r = app
        .post(
            "/v1/staff",
            Some(&worker),
            json!({"name": "Sofía", "email": "s@vereda.test", "password": PASSWORD, "role": "finance"}),
        )
        .await;
    r.problem(403);
    assert_eq!(spanish(&r), "Su cuenta no tiene permiso para hacer esto.");

    // Too many attempts says how long to wait.
    for _ in 0..5 {
        app.post(
            "/v1/auth/login",
            None,
            json!({"email": "nadie@vereda.test", "password": "not-the-password"}),
        )
        .await;
    }
    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": "nadie@vereda.test", "password": "not-the-password"}),
        )
        .await;
    r.problem(429);
    let es = spanish(&r);
    assert!(es.starts_with("Demasiados intentos. Espere "), "{es}");
    assert!(es.contains("minutos"), "{es}");
}

#[tokio::test]
async fn the_contract_documents_detail_es() {
    let app = spawn_app().await;
    let spec = app.get("/openapi.json", None).await;
    let problem = &spec.ok(200)["components"]["schemas"]["Problem"];
    assert_eq!(problem["properties"]["detail_es"]["type"], "string");
    assert!(
        problem["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "detail_es"),
        "{problem}"
    );
}
