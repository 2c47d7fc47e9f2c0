//! A worker's requests about her data (issue 22 §3; Ley 1581 arts. 14–15): filed by her, due
//! in Colombian business days, extended once with a reason, answered in writing by an admin,
//! each step e-mailed to her; nobody else sees them.

use chrono::{DateTime, Utc};
use serde_json::json;
use vereda_contracts::personal_data::{RequestKind, request_due};
use vereda_tests::*;

#[tokio::test]
async fn a_request_is_due_in_business_days_extended_once_and_answered() {
    let (app, smtp, _) = spawn_app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let (_, other) = app.worker(&admin, &["data-entry"]).await;
    let (_, owner) = app.company(&admin, "Granja La Esperanza").await;
    let path = format!("/v1/workers/{worker_id}/data-requests");

    // A correction says what to correct; nobody but she (or an admin) files for her.
    let r = app
        .post(&path, Some(&worker), json!({"request": "correction"}))
        .await;
    assert_eq!(r.problem(422).field(), "detail");
    assert_eq!(
        r.body["detail_es"],
        "Diga qué dato está mal y cómo debe quedar."
    );
    let r = app
        .post(&path, Some(&worker), json!({"request": "borrar"}))
        .await;
    assert_eq!(r.problem(422).field(), "request");
    let copy = json!({"request": "copy"});
    app.post(&path, Some(&other), copy.clone())
        .await
        .problem(404);
    app.post(&path, Some(&finance), copy.clone())
        .await
        .problem(403);
    app.post(&path, Some(&owner), copy.clone())
        .await
        .problem(403);
    // Sent twice with the same key (a lost answer), it is filed once.
    let send = || {
        app.send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&worker)
                .header("Idempotency-Key", "copia-1")
                .json(&copy),
        )
    };
    let filed = send().await.ok(201).clone();
    assert_eq!(send().await.ok(201)["id"], filed["id"]);
    let filed_at: DateTime<Utc> = filed["filed_at"].as_str().unwrap().parse().unwrap();
    let due: DateTime<Utc> = filed["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due.timestamp(),
        request_due(RequestKind::Copy, filed_at.timestamp()),
        "10 Colombian business days"
    );
    assert_eq!(filed["overdue"], false);
    let id = filed["id"].as_str().unwrap().to_string();

    // Admins see every request; she sees hers; others none.
    let open = app.get("/v1/data-requests?open=true", Some(&admin)).await;
    assert!(
        open.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );
    let mine = app.get("/v1/data-requests", Some(&worker)).await;
    assert_eq!(mine.ok(200)["items"].as_array().unwrap().len(), 1);
    let theirs = app.get("/v1/data-requests", Some(&other)).await;
    assert!(theirs.ok(200)["items"].as_array().unwrap().is_empty());
    app.get("/v1/data-requests", Some(&finance))
        .await
        .problem(403);
    let overdue = app
        .get("/v1/data-requests?overdue=true", Some(&admin))
        .await;
    assert!(overdue.ok(200)["items"].as_array().unwrap().is_empty());

    // One extension, with a reason, by an admin: five more business days.
    let extension = format!("/v1/data-requests/{id}/extension");
    let reason = json!({"reason": "Estamos reuniendo sus extractos de 2025."});
    app.post(&extension, Some(&worker), reason.clone())
        .await
        .problem(403);
    let r = app
        .post(&extension, Some(&admin), json!({"reason": " "}))
        .await;
    assert_eq!(r.problem(422).field(), "reason");
    let extended = app.post(&extension, Some(&admin), reason.clone()).await;
    let extended = extended.ok(200).clone();
    let new_due: DateTime<Utc> = extended["due_at"].as_str().unwrap().parse().unwrap();
    let days = (new_due - due).num_days();
    assert!((5..=11).contains(&days), "five business days later: {days}");
    let again = app.post(&extension, Some(&admin), reason.clone()).await;
    assert_eq!(again.problem(409).code(), "request_extended");
    let email = app.email_of(&worker).await;
    let m = smtp
        .arrives(&email, "Su solicitud sobre sus datos tomará")
        .await;
    assert!(
        m.text()
            .contains("Estamos reuniendo sus extractos de 2025.")
    );

    // Answered in writing, once; she reads it in the API and by e-mail.
    let answer = format!("/v1/data-requests/{id}/answer");
    let words = json!({"answer": "Su copia está en Mi cuenta → Descargar una copia de mis datos."});
    let r = app.post(&answer, Some(&admin), words.clone()).await;
    assert!(r.ok(200)["answered_at"].is_string());
    let r = app.post(&answer, Some(&admin), words.clone()).await;
    assert_eq!(r.problem(409).code(), "request_answered");
    let r = app.post(&extension, Some(&admin), reason).await;
    assert_eq!(r.problem(409).code(), "request_answered");
    let mine = app.get("/v1/data-requests", Some(&worker)).await;
    assert_eq!(
        mine.ok(200)["items"][0]["answer"],
        "Su copia está en Mi cuenta → Descargar una copia de mis datos."
    );
    let m = smtp.arrives(&email, "Respuesta a su solicitud").await;
    assert!(m.text().contains("Descargar una copia de mis datos"));
    let answered = app
        .get("/v1/data-requests?answered=true", Some(&admin))
        .await;
    assert_eq!(answered.ok(200)["items"][0]["id"], id.as_str());
    let open = app.get("/v1/data-requests?open=true", Some(&admin)).await;
    assert!(
        !open.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );
}
