//! "Quién consultó mis datos" (issue 22 §4): every answer that shows a worker's personal fields
//! to someone other than her is logged with who, when, through which endpoint and which
//! fields; she and the admins read the log, nobody else.

use serde_json::{Value, json};
use vereda_tests::*;

async fn log_of(app: &TestApp, token: &str, worker_id: &str) -> Vec<Value> {
    app.get(&format!("/v1/workers/{worker_id}/data-access"), Some(token))
        .await
        .ok(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn reads_of_personal_data_by_others_are_logged_and_shown_to_her() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let (other_id, other) = app.worker(&admin, &["data-entry"]).await;
    let (_, owner) = app.company(&admin, "Papelería San Juan").await;
    assert!(
        log_of(&app, &worker, &worker_id).await.is_empty(),
        "nothing read yet"
    );

    // Her own reads are not logged; an admin's and finance's are.
    app.get(&format!("/v1/workers/{worker_id}"), Some(&worker))
        .await
        .ok(200);
    assert!(log_of(&app, &worker, &worker_id).await.is_empty());
    app.get(&format!("/v1/workers/{worker_id}"), Some(&admin))
        .await
        .ok(200);
    app.get("/v1/workers?limit=100", Some(&finance))
        .await
        .ok(200);
    app.patch(
        &format!("/v1/workers/{worker_id}"),
        Some(&admin),
        json!({"skills": ["data-entry", "labelling"]}),
    )
    .await
    .ok(200);

    let log = log_of(&app, &worker, &worker_id).await;
    let routes: Vec<&str> = log.iter().map(|r| r["route"].as_str().unwrap()).collect();
    assert_eq!(
        routes,
        [
            "PATCH /v1/workers/{id}",
            "GET /v1/workers",
            "GET /v1/workers/{id}"
        ],
        "newest first"
    );
    let admin_name = app.get("/v1/me", Some(&admin)).await.ok(200)["name"].clone();
    assert_eq!(log[2]["reader_name"], admin_name);
    assert_eq!(log[2]["reader_role"], "admin");
    assert_eq!(log[1]["reader_name"], "Carolina Finanzas");
    assert_eq!(log[1]["reader_role"], "finance");
    assert!(
        log[2]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "document_id")
    );
    assert_eq!(
        log[2]["fields_es"],
        "su nombre, su correo, su celular, su cédula, su municipio y su medio de pago"
    );
    // The list page logged a read for every worker on it.
    assert!(
        log_of(&app, &admin, &other_id)
            .await
            .iter()
            .any(|r| r["route"] == "GET /v1/workers")
    );

    // Her tax status is personal too.
    app.get(
        &format!("/v1/workers/{worker_id}/fiscal-profile"),
        Some(&finance),
    )
    .await
    .ok(200);
    let newest = &log_of(&app, &worker, &worker_id).await[0];
    assert_eq!(
        (&newest["route"], &newest["fields_es"]),
        (
            &json!("GET /v1/workers/{id}/fiscal-profile"),
            &json!("sus datos tributarios y de seguridad social")
        )
    );

    // Only she and the admins read her log.
    let path = format!("/v1/workers/{worker_id}/data-access");
    app.get(&path, Some(&other)).await.problem(404);
    app.get(&path, Some(&finance)).await.problem(403);
    app.get(&path, Some(&owner)).await.problem(403);
    app.get(&path, None).await.problem(401);
    // Pages follow the cursor.
    let first = app.get(&format!("{path}?limit=2"), Some(&worker)).await;
    let cursor = first.ok(200)["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(&format!("{path}?limit=2&cursor={cursor}"), Some(&worker))
        .await;
    assert_eq!(rest.ok(200)["items"][0]["route"], "GET /v1/workers");
}
