//! Confirmation files as Colombian banks write them (issue 18 §3) and payout batches listed
//! (issue 18 "Why": a lost batch id was a lost batch): semicolons, Windows-1252, statuses in
//! Spanish, amounts with thousands dots; a file with no readable row is refused at upload.

use std::time::Duration;

use serde_json::{Value, json};
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

async fn upload(app: &TestApp, finance: &str, batch: &str, bytes: Vec<u8>) -> String {
    let r = app
        .post_raw(
            &format!("/v1/payout-batches/{batch}/confirmations"),
            Some(finance),
            "text/csv",
            bytes,
        )
        .await;
    r.ok(202)["job_id"].as_str().unwrap().to_string()
}

/// The job's final state, allowing for its retries (a failing job is tried again first).
async fn finished(app: &TestApp, finance: &str, job: &str) -> Value {
    eventually(Duration::from_secs(180), || async {
        let r = app.get(&format!("/v1/jobs/{job}"), Some(finance)).await;
        matches!(r.body["status"].as_str(), Some("succeeded" | "failed")).then(|| r.body.clone())
    })
    .await
    .unwrap_or_else(|| panic!("job {job} did not finish"))
}

#[tokio::test]
async fn a_semicolon_windows_1252_file_in_spanish_is_applied_and_batches_are_listed() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    eventually(Duration::from_secs(60), || async {
        (app.payable(&a.finance, &a.worker_id).await == "-48485").then_some(())
    })
    .await
    .expect("accrued");
    let job = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let batch = job["subject_id"].as_str().unwrap().to_string();
    let view = app
        .get(&format!("/v1/payout-batches/{batch}"), Some(&a.finance))
        .await;
    let reference = view.ok(200)["lines"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();

    // Listed, so a lost id is found again; finance only.
    let list = app.get("/v1/payout-batches", Some(&a.finance)).await;
    let first = &list.ok(200)["items"][0];
    assert_eq!(first["id"], batch.as_str());
    assert_eq!((&first["lines"], &first["pending"]), (&json!(1), &json!(1)));
    assert_eq!(first["total"], "48485");
    app.get("/v1/payout-batches", Some(&a.owner))
        .await
        .problem(403);

    // A file where no row can be read is refused at upload, each row named in Spanish, and
    // changes nothing; no job is queued.
    for unreadable in [
        format!("Referencia;Valor;Estado\r\n{reference};48.485;enviado\r\n"),
        "0".to_string(),
    ] {
        let r = app
            .post_raw(
                &format!("/v1/payout-batches/{batch}/confirmations"),
                Some(&a.finance),
                "text/csv",
                unreadable.clone().into_bytes(),
            )
            .await;
        let problem = &r.problem(422).body;
        assert_eq!(
            problem["code"], "no_readable_row",
            "{unreadable:?}: {problem}"
        );
        assert_eq!(problem["field"], "body");
        let es = problem["detail_es"].as_str().unwrap_or_default();
        assert!(es.contains("no se aplicó nada"), "{problem}");
        if unreadable.contains("enviado") {
            assert!(es.contains("fila 2"), "{problem}");
            assert_eq!(problem["errors"][0]["line"], 2);
            assert_eq!(problem["errors"][0]["column"], "status");
        }
    }
    assert_eq!(app.payable(&a.finance, &a.worker_id).await, "0");

    // As Excel saves it in Colombia: Windows-1252 (the header's ó), semicolons, `48.485`,
    // `rechazado`. The money is back on the worker's balance.
    let mut file = b"Referencia;Valor;Estado;Observaci\xf3n\r\n".to_vec();
    file.extend_from_slice(
        format!("{reference};48.485;rechazado;cuenta inv\u{e1}lida\r\n").as_bytes(),
    );
    let job = upload(&app, &a.finance, &batch, file).await;
    let job = finished(&app, &a.finance, &job).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["result"]["matched"].as_array().unwrap().len(),
        1,
        "{job}"
    );
    assert_eq!(job["result"]["matched"][0]["status"], "failed");
    assert_eq!(app.payable(&a.finance, &a.worker_id).await, "-48485");
    let list = app.get("/v1/payout-batches", Some(&a.finance)).await;
    let first = &list.ok(200)["items"][0];
    assert_eq!(
        (&first["failed"], &first["pending"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(first["status"], "settled");

    // The same money in the next batch, confirmed `Pagado` with a BOM and `$ 48.485,00`.
    let job = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let next = job["subject_id"].as_str().unwrap().to_string();
    let view = app
        .get(&format!("/v1/payout-batches/{next}"), Some(&a.finance))
        .await;
    let reference = view.ok(200)["lines"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let file = format!("\u{feff}referencia;valor;estado\r\n{reference};$ 48.485,00;Pagado\r\n");
    let job = upload(&app, &a.finance, &next, file.into_bytes()).await;
    let job = finished(&app, &a.finance, &job).await;
    assert_eq!(job["result"]["matched"][0]["status"], "paid", "{job}");
    assert_eq!(app.payable(&a.finance, &a.worker_id).await, "0");
    let list = app.get("/v1/payout-batches", Some(&a.finance)).await;
    let items = list.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], next.as_str());
    assert_eq!(items[0]["paid"], 1);
    assert_ledger_invariants(&app.db).await;
}
