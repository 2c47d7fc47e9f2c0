//! Monthly income statements (issue 6) on the worked example of DESIGN §4: figures, versions,
//! CSV and PDF, the public verification, who may read them, and documentos soporte.

use chrono::Utc;
use serde_json::{Value, json};
use vereda_contracts::statements::Month;
use vereda_tests::pdf::pdf_text;
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

fn this_month() -> String {
    Month::of(Utc::now()).to_string()
}

async fn run_statements(app: &TestApp, finance: &str, month: &str) -> Value {
    let job = app
        .run_job(finance, "/v1/statement-runs", json!({ "month": month }))
        .await;
    assert_eq!(job["kind"], "statement_run");
    job["result"].clone()
}

/// GET a PDF: 200, `application/pdf`, and its bytes.
async fn download_pdf(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename="),
        "{disposition}"
    );
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn the_worked_example_month_statement() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let month = this_month();
    let (_, other_worker) = app.worker(&a.admin, &["data-cleaning"]).await;

    let result = run_statements(&app, &a.finance, &month).await;
    assert_eq!(result["new_versions"], 1, "{result}");
    assert_eq!(result["provisional"], true);

    let path = format!("/v1/workers/{}/statements/{month}", a.worker_id);
    let s = app.get(&path, Some(&a.worker)).await;
    let s = s.ok(200).clone();
    assert_eq!(s["gross"], "48485");
    // Earned but not paid yet: nothing paid, withheld or sent in the month.
    assert_eq!(s["paid_gross"], "0");
    assert_eq!(s["net"], "0");
    assert_eq!(s["withholding"], "0");
    assert_eq!(s["seconds"], 9435);
    assert_eq!(s["hours"], "2.62");
    assert_eq!(s["assignments_approved"], 1);
    assert_eq!(s["provisional"], true);
    assert_eq!(s["version"], 1);
    assert_eq!(s["pending"], "48485");
    assert_eq!(s["paid_out"], "0");
    assert_eq!(s["by_company"][0]["company_id"], a.company_id.as_str());
    assert_eq!(s["by_company"][0]["gross"], "48485");
    assert_eq!(s["comparisons"]["smmlv"], "1750905");
    assert_eq!(s["comparisons"]["share_of_smmlv"], "0.0277");
    assert_eq!(s["comparisons"]["effective_hourly"], "18500");
    assert_eq!(s["comparisons"]["rural_baseline"], "800000");
    assert_eq!(s["social_security"]["required"], false);
    assert_eq!(s["social_security"]["ibc"], "1750905");
    assert!(
        s["social_security"]["note"]
            .as_str()
            .unwrap()
            .contains("no está obligado")
    );
    assert_eq!(s["support_documents"], json!([]), "none while provisional");
    let code = s["verification_code"].as_str().unwrap().to_string();

    // The worker, finance and admin read it; anyone else is told it does not exist.
    app.get(&path, Some(&a.finance)).await.ok(200);
    app.get(&path, Some(&a.admin)).await.ok(200);
    // Both reads are in her log of who read her data, with what they saw (issue 22 §4).
    let log = app
        .get(
            &format!("/v1/workers/{}/data-access", a.worker_id),
            Some(&a.worker),
        )
        .await;
    let log = log.ok(200)["items"].clone();
    assert_eq!(
        (
            &log[0]["reader_role"],
            &log[1]["reader_role"],
            &log[0]["route"],
            &log[0]["fields_es"]
        ),
        (
            &json!("admin"),
            &json!("finance"),
            &json!("GET /v1/workers/{id}/statements/{month}"),
            &json!("su nombre, su cédula y sus ingresos")
        )
    );
    app.get(&path, Some(&other_worker)).await.problem(404);
    app.get(&path, Some(&a.owner)).await.problem(404);
    app.get(&path, None).await.problem(401);
    app.get(&format!("{path}/pdf"), Some(&other_worker))
        .await
        .problem(404);
    app.get(
        &format!("/v1/workers/{}/statements/2026-13", a.worker_id),
        Some(&a.worker),
    )
    .await
    .problem(422);

    let csv = app.get(&format!("{path}/csv"), Some(&a.worker)).await;
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    for line in [
        "resumen,ingreso_bruto,48485",
        "resumen,horas,2.62",
        "empresa,Tienda Andina,48485",
    ] {
        assert!(csv.text.contains(line), "{line} not in\n{}", csv.text);
    }
    assert!(csv.text.contains(&format!("verificacion,codigo,{code}")));

    let bytes = download_pdf(&app, &format!("{path}/pdf"), &a.worker).await;
    if let Some(text) = pdf_text(&bytes) {
        for want in [
            "Certificado de ingresos",
            "Vereda S.A.S.",
            "NIT 901234567-7",
            "Luz Teletrabajadora",
            "Cédula de ciudadanía: 1012345678",
            "Ingreso bruto",
            "$ 48.485",
            "2,62",
            "$ 1.750.905",
            "provisional",
            "Tienda Andina",
            code.as_str(),
        ] {
            assert!(text.contains(want), "{want:?} not in the PDF:\n{text}");
        }
    }

    // A bank checks the code: name, month, gross and net (paid in the month: nothing yet),
    // which version and whether it is final, nothing else.
    let v = app
        .get(&format!("/v1/statements/verify/{code}"), None)
        .await;
    let summary = v.ok(200)["summary"].as_str().unwrap().to_string();
    assert_eq!(
        v.body,
        json!({"kind": "statement", "name": "Luz Teletrabajadora", "month": month, "gross": "48485", "net": "0",
               "version": 1, "status": "provisional", "superseded": false, "latest_version": 1,
               "summary": summary})
    );
    assert!(
        summary.contains("$ 48.485") && summary.contains("provisional"),
        "{summary}"
    );
    let typed = code.to_lowercase().replace('-', "");
    app.get(&format!("/v1/statements/verify/{typed}"), None)
        .await
        .ok(200);
    app.get("/v1/statements/verify/AAAA-BBBB-CCCC", None)
        .await
        .problem(404);

    // Running the month again changes nothing.
    let again = run_statements(&app, &a.finance, &month).await;
    assert_eq!(again["new_versions"], 0, "{again}");
    let list = app
        .get(
            &format!("/v1/workers/{}/statements", a.worker_id),
            Some(&a.worker),
        )
        .await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);

    // She changes her name; the worker is paid: the figures change, so a second version is
    // kept beside the first.
    app.patch(
        &format!("/v1/workers/{}", a.worker_id),
        Some(&a.admin),
        json!({"name": "Luz Marina Teletrabajadora"}),
    )
    .await
    .ok(200);
    app.run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let third = run_statements(&app, &a.finance, &month).await;
    assert_eq!(third["new_versions"], 1, "{third}");
    let v2 = app.get(&path, Some(&a.worker)).await;
    assert_eq!(v2.ok(200)["version"], 2);
    assert_eq!(v2.body["pending"], "0");
    assert_eq!(
        v2.body["gross"], "48485",
        "rebuilding never changes what was earned"
    );
    let v1 = app.get(&format!("{path}?version=1"), Some(&a.worker)).await;
    assert_eq!(v1.ok(200)["pending"], "48485");
    assert_eq!(v1.body["verification_code"], code.as_str());
    // The paper of version 1 still verifies as printed, and says it was replaced.
    let old = app
        .get(&format!("/v1/statements/verify/{code}"), None)
        .await;
    assert_eq!(old.ok(200)["name"], "Luz Teletrabajadora");
    assert_eq!(
        (
            &old.body["version"],
            &old.body["superseded"],
            &old.body["latest_version"]
        ),
        (&json!(1), &json!(true), &json!(2))
    );
    assert!(
        old.body["summary"]
            .as_str()
            .unwrap()
            .contains("reemplazado por la versión 2"),
        "{}",
        old.text
    );
    let new_code = v2.body["verification_code"].as_str().unwrap();
    let new = app
        .get(&format!("/v1/statements/verify/{new_code}"), None)
        .await;
    assert_eq!(new.ok(200)["name"], "Luz Marina Teletrabajadora");
    assert_eq!(new.body["superseded"], false);
    let pdf = download_pdf(&app, &format!("{path}/pdf?version=1"), &a.worker).await;
    if let Some(text) = vereda_tests::pdf::pdf_text(&pdf) {
        assert!(
            text.contains("Luz Teletrabajadora") && !text.contains("Luz Marina"),
            "version 1 prints the name it was made with:\n{text}"
        );
    }
    let list = app
        .get(
            &format!("/v1/workers/{}/statements", a.worker_id),
            Some(&a.finance),
        )
        .await;
    let versions: Vec<i64> = list.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![2, 1]);
}

#[tokio::test]
async fn runs_are_for_finance_and_months_that_exist() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, worker) = app.worker(&admin, &["labelling"]).await;
    let body = |m: &str| json!({ "month": m });
    app.post("/v1/statement-runs", Some(&worker), body(&this_month()))
        .await
        .problem(403);
    let next = Month::of(Utc::now()).next().to_string();
    let r = app
        .post("/v1/statement-runs", Some(&finance), body(&next))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "month");
    app.post("/v1/statement-runs", Some(&finance), body("noviembre"))
        .await
        .problem(422);
    app.post("/v1/statement-runs", Some(&finance), body("2019-06"))
        .await
        .problem(422);
    app.post(
        "/v1/statement-runs",
        Some(&finance),
        json!({"month": "2026-01", "extra": 1}),
    )
    .await
    .problem(422);
    // A month with nobody in it builds nothing.
    let result = run_statements(&app, &finance, "2026-01").await;
    assert_eq!(result["workers"], 0);
}

/// Set the approval time of an assignment's accruals (the accrual carries it), once the
/// accrual job has written them.
async fn approved_at(app: &TestApp, assignment: &str, at: i64) {
    eventually(std::time::Duration::from_secs(60), || async {
        let n: i64 = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM accruals WHERE assignment_id = $1"
        )
        .bind(assignment)
        .fetch_one(p)
        .await
        .unwrap());
        (n == 1).then_some(())
    })
    .await
    .expect("accrued");
    vereda_store::on_db!(&app.db, |p| sqlx::query(
        "UPDATE accruals SET approved_at = $1 WHERE assignment_id = $2"
    )
    .bind(at)
    .bind(assignment)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
}

/// A closed month gets its final statement; the documentos soporte are weekly: last week's is
/// issued (in the configured range while no resolution is recorded), work the week gains later
/// is a further document of the week, running again issues nothing, and the statement of the
/// month the week ends in lists them.
#[tokio::test]
async fn documentos_soporte_are_weekly_and_listed_by_the_month_their_week_ends_in() {
    use vereda_contracts::support_weeks::Week;
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.support_doc_prefix = "DSV".into();
    settings.support_doc_range = 501..=900;
    let mut app = spawn_with(settings.clone()).await;
    app.test_db = Some(test_db);
    let a = worked_example(&app).await;
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    let last_week = Week::of(now).prev();
    // Wednesday noon of last week.
    approved_at(
        &app,
        &a.assignment,
        last_week.start() + 2 * 86_400 + 12 * 3600,
    )
    .await;

    let run = |week: Week| {
        let (db, settings) = (app.db.clone(), settings.clone());
        async move {
            vereda_worker::support_run::issue_weeks(&db, &settings, week, now)
                .await
                .unwrap()
        }
    };
    // Two runs at once (two processes, or a late duplicate): one document (the hourly clock
    // may run the week too, at the top of an hour: the list below is what counts).
    let (one, two) = tokio::join!(run(last_week), run(last_week));
    assert!(one.documents + two.documents <= 1, "{one:?} {two:?}");
    assert!(one.problems.is_empty() && two.problems.is_empty());
    let month = last_week.statement_month().to_string();
    let docs = app
        .get(
            &format!("/v1/support-documents?month={month}"),
            Some(&a.finance),
        )
        .await;
    let docs = docs.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["number"], "DSV-501");
    assert_eq!(docs[0]["kind"], "document");
    assert_eq!(docs[0]["amount"], "48485");
    assert_eq!(docs[0]["week_start"], last_week.monday().to_string());
    assert_eq!(docs[0]["week_end"], last_week.sunday().to_string());
    assert_eq!(docs[0]["worker_name"], "Luz Teletrabajadora");
    app.get("/v1/support-documents", Some(&a.worker))
        .await
        .problem(403);
    // The week in course is not documented yet.
    assert_eq!(run(Week::of(now)).await.documents, 0);

    // More work approved in last week, after its document: a further documento soporte of
    // the week for it (a nota de ajuste only lowers a document).
    app.approved_fixed_work(
        &a.owner,
        "Digitar planillas",
        "data-cleaning",
        52_000,
        &[&a.worker],
    )
    .await;
    let second: String = vereda_store::on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT id FROM assignments WHERE worker_id = $1 AND id <> $2"
    )
    .bind(&a.worker_id)
    .bind(&a.assignment)
    .fetch_one(p)
    .await
    .unwrap());
    approved_at(&app, &second, last_week.start() + 5 * 86_400).await;
    let again = run(last_week).await;
    assert_eq!((again.documents, again.adjustments), (1, 0), "{again:?}");
    assert_eq!(
        run(last_week).await,
        vereda_worker::support_run::SupportReport {
            week: last_week.to_string(),
            ..Default::default()
        }
    );
    // Finance may run it too, for a week that has ended.
    let job = app
        .run_job(
            &a.finance,
            "/v1/support-document-runs",
            json!({"week": last_week.to_string()}),
        )
        .await;
    assert_eq!(job["kind"], "support_document_run");
    assert_eq!(
        (
            job["result"]["documents"].as_i64(),
            job["result"]["adjustments"].as_i64()
        ),
        (Some(0), Some(0))
    );
    for week in [Week::of(now).to_string(), "2026-12-02".to_string()] {
        let r = app
            .post(
                "/v1/support-document-runs",
                Some(&a.finance),
                json!({ "week": week }),
            )
            .await;
        r.problem(422);
        assert_eq!(r.field(), "week");
    }
    app.post(
        "/v1/support-document-runs",
        Some(&a.owner),
        json!({"week": last_week.to_string()}),
    )
    .await
    .problem(403);
    let docs = app
        .get(
            &format!("/v1/support-documents?month={month}"),
            Some(&a.finance),
        )
        .await;
    let docs = docs.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["number"], "DSV-502", "newest first");
    assert_eq!(docs[0]["kind"], "document");
    assert_eq!(docs[0]["amount"], "52000");
    assert_eq!(docs[0]["week_start"], last_week.monday().to_string());
    // What each says, line by line, adds to it.
    let lines: Vec<(String, i64)> = vereda_store::on_db!(&app.db, |p| sqlx::query_as(
        "SELECT s.number, CAST(SUM(l.amount) AS BIGINT) FROM support_document_lines l \
         JOIN support_documents s ON s.id = l.support_document_id GROUP BY s.number ORDER BY 1"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(
        lines,
        [
            ("DSV-501".to_string(), 4_848_500),
            ("DSV-502".to_string(), 5_200_000)
        ]
    );

    // The statement of the month the week ends in lists both.
    run_statements(&app, &a.finance, &month).await;
    let path = format!("/v1/workers/{}/statements/{month}", a.worker_id);
    let s = app.get(&path, Some(&a.worker)).await;
    let s = s.ok(200).clone();
    let listed: Vec<&str> = s["support_documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["number"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["DSV-501", "DSV-502"]);
    if let Some(text) = pdf_text(&download_pdf(&app, &format!("{path}/pdf"), &a.worker).await) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&format!(
                "Documento soporte DSV-501 · semana del {}",
                last_week.label_es()
            )),
            "{text}"
        );
        let screens = vereda_tests::browser::screens_dir();
        std::fs::create_dir_all(&screens).unwrap();
        std::fs::write(
            screens.join("extracto-documentos-soporte.pdf"),
            download_pdf(&app, &format!("{path}/pdf"), &a.worker).await,
        )
        .unwrap();
        assert!(flat.contains("Documento soporte DSV-502"), "{text}");
    }
    vereda_tests::invariants::assert_ledger_invariants(&app.db).await;
}
