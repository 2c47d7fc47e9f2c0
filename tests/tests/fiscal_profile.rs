//! A worker's fiscal profile and her PILA months over HTTP (issue 20 §2): the default when none
//! is on file, versions kept with who changed them, the statement dated when first signed,
//! refusals naming their field in Spanish, and who may read and change them.

use serde_json::json;
use vereda_tests::*;

#[tokio::test]
async fn the_fiscal_profile_keeps_its_history_and_the_pila_months() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (worker_id, worker) = app.worker(&admin, &["labelling"]).await;
    let (_, other) = app.worker(&admin, &["labelling"]).await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;
    let path = format!("/v1/workers/{worker_id}/fiscal-profile");

    // None on file: the rule that withholds the most.
    let r = app.get(&path, Some(&worker)).await;
    let p = r.ok(200);
    assert_eq!(p["on_file"], false);
    assert_eq!(
        (
            &p["concept"],
            &p["declarante"],
            &p["fewer_than_two_workers"]
        ),
        (&json!("services"), &json!(false), &json!(false))
    );
    assert_eq!(p["history"], json!([]));

    // She signs the statement; the date is today's in Bogotá.
    let body = json!({"concept": "services", "declarante": false, "fewer_than_two_workers": true, "arl_class": 1});
    let r = app.put(&path, Some(&worker), body.clone()).await;
    let p = r.ok(200).clone();
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    assert_eq!(p["on_file"], true);
    assert_eq!(p["statement_signed_on"], today.as_str());
    assert_eq!(p["arl_class"], 1);
    assert_eq!(p["history"].as_array().unwrap().len(), 1);
    assert_eq!(p["history"][0]["changed_by_name"], "Luz Teletrabajadora");
    // The same again is no new version.
    let r = app.put(&path, Some(&worker), body).await;
    assert_eq!(r.ok(200)["history"].as_array().unwrap().len(), 1);
    // Finance records that she files income tax, for honorarios; the statement keeps its date.
    let r = app
        .put(
            &path,
            Some(&finance),
            json!({"concept": "honorarios", "declarante": true, "fewer_than_two_workers": true, "arl_class": 1}),
        )
        .await;
    let p = r.ok(200).clone();
    assert_eq!(p["concept"], "honorarios");
    assert_eq!(p["statement_signed_on"], today.as_str());
    let history = p["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["changed_by_name"], "Carolina Finanzas");
    assert_eq!(history[1]["concept"], "services");
    // Withdrawn: no statement, no date.
    let r = app
        .put(
            &path,
            Some(&admin),
            json!({"concept": "honorarios", "declarante": true, "fewer_than_two_workers": false}),
        )
        .await;
    let p = r.ok(200).clone();
    assert!(p.get("statement_signed_on").is_none(), "{p}");
    assert!(p.get("arl_class").is_none(), "{p}");

    // Refusals name their field, in Spanish, and change nothing.
    for (body, field) in [
        (
            json!({"concept": "salario", "declarante": false, "fewer_than_two_workers": false}),
            "concept",
        ),
        (
            json!({"concept": "services", "declarante": false, "fewer_than_two_workers": false, "arl_class": 7}),
            "arl_class",
        ),
    ] {
        let r = app.put(&path, Some(&worker), body).await;
        r.problem(422);
        assert_eq!(r.field(), field);
        assert!(
            r.body["detail_es"].as_str().unwrap().len() > 10,
            "{}",
            r.text
        );
    }
    let r = app.get(&path, Some(&worker)).await;
    assert_eq!(r.ok(200)["history"].as_array().unwrap().len(), 3);

    // PILA months: declared, replaced, listed newest first; bad ones refused by field.
    let month = |m: &str| format!("/v1/workers/{worker_id}/social-security/{m}");
    let r = app
        .put(
            &month("2026-10"),
            Some(&worker),
            json!({"planilla": "8512345678", "health": "200000", "pension": "256000"}),
        )
        .await;
    assert_eq!(r.ok(200)["health"], "200000");
    app.put(
        &month("2026-11"),
        Some(&worker),
        json!({"planilla": "8512345679", "health": "0", "pension": "0"}),
    )
    .await
    .ok(200);
    let r = app
        .put(
            &month("2026-11"),
            Some(&finance),
            json!({"planilla": "8512345680", "health": "210000", "pension": "268000"}),
        )
        .await;
    assert_eq!(r.ok(200)["recorded_by_name"], "Carolina Finanzas");
    let list = app
        .get(
            &format!("/v1/workers/{worker_id}/social-security"),
            Some(&worker),
        )
        .await;
    let items = list.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            &items[0]["month"],
            &items[0]["planilla"],
            &items[0]["pension"]
        ),
        (&json!("2026-11"), &json!("8512345680"), &json!("268000"))
    );
    for (m, body, field) in [
        (
            "2026-10",
            json!({"planilla": "85-12", "health": "0", "pension": "0"}),
            "planilla",
        ),
        (
            "2026-10",
            json!({"planilla": "85123456", "health": "200.000", "pension": "0"}),
            "health",
        ),
        (
            "2999-01",
            json!({"planilla": "85123456", "health": "0", "pension": "0"}),
            "month",
        ),
        (
            "octubre",
            json!({"planilla": "85123456", "health": "0", "pension": "0"}),
            "month",
        ),
    ] {
        let r = app.put(&month(m), Some(&worker), body).await;
        r.problem(422);
        assert_eq!(r.field(), field, "{}", r.text);
    }

    // Nobody else: another worker and a company get 404, as for her profile.
    for token in [&other, &owner] {
        app.get(&path, Some(token)).await.problem(404);
        app.get(
            &format!("/v1/workers/{worker_id}/social-security"),
            Some(token),
        )
        .await
        .problem(404);
    }
}
