//! The impact report (issue 22 §2) over seeded months, on the real app: the doubling share,
//! small cells suppressed with their complements, only consenting workers counted (one who
//! withdraws is gone from the next report), CSV and PDF, and the funder role that reads this
//! report and nothing else.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::{Value, json};
use vereda_contracts::statements::Month;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::programme::{approved_in, consent, worker_in};
use vereda_tests::{PASSWORD, short_id, spawn_app};

fn cells(month: &Value) -> HashMap<String, Value> {
    month["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

/// No figure anywhere describes fewer than five people.
fn assert_no_small_figures(report: &Value) {
    for m in report["months"].as_array().unwrap() {
        let figures = std::iter::once(&m["total"])
            .chain(m["cells"].as_array().unwrap().iter().map(|c| &c["figures"]));
        for f in figures.filter(|f| !f.is_null()) {
            assert!(f["people"].as_i64().unwrap() >= 5, "{f}");
        }
    }
}

#[tokio::test]
async fn the_impact_report_shows_doubling_suppresses_small_cells_and_follows_consent() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Datos Andinos SAS").await;

    // Six in Tolima who gave a baseline of $ 400.000 and are women heads of household, five
    // in Huila who gave nothing but consent, two in Antioquia, victims of the conflict; one
    // more in Tolima who never consented.
    let mut everyone = Vec::new();
    let mut tolima = Vec::new();
    for _ in 0..6 {
        let (id, t) = worker_in(&app, &admin, "Chaparral", "Tolima").await;
        consent(&app, &id, &t, Some("400000"), &["woman_head_of_household"]).await;
        tolima.push((id, t.clone()));
        everyone.push(t);
    }
    for _ in 0..5 {
        let (id, t) = worker_in(&app, &admin, "Neiva", "Huila").await;
        consent(&app, &id, &t, None, &["youth"]).await;
        everyone.push(t);
    }
    for _ in 0..2 {
        let (id, t) = worker_in(&app, &admin, "Medellín", "Antioquia").await;
        consent(&app, &id, &t, Some("300000"), &["conflict_victim"]).await;
        everyone.push(t);
    }
    let (_, silent) = worker_in(&app, &admin, "Chaparral", "Tolima").await;
    everyone.push(silent);
    let tokens: Vec<&str> = everyone.iter().map(String::as_str).collect();

    // Two months of work: $ 900.000 each (twice $ 400.000 and more), then $ 500.000 each.
    let this = Month::of(Utc::now());
    let (october, november) = (this.prev().prev(), this.prev());
    app.approved_fixed_work(
        &owner,
        "Digitación de encuestas",
        "data-entry",
        900_000,
        &tokens,
    )
    .await;
    approved_in(&app, "Digitación de encuestas", october, 14).await;
    app.approved_fixed_work(
        &owner,
        "Limpieza de registros",
        "data-entry",
        500_000,
        &tokens,
    )
    .await;
    approved_in(&app, "Limpieza de registros", november, 14).await;

    let path = format!("/v1/reports/impact?from={october}&to={november}&by=department");
    let report = app.get(&path, Some(&finance)).await;
    let report = report.ok(200).clone();
    assert_no_small_figures(&report);
    let months = report["months"].as_array().unwrap();
    assert_eq!(months.len(), 2);
    let (oct, nov) = (&months[0], &months[1]);
    assert_eq!(oct["month_es"], format!("{}", october.name_es()));

    // The one who never consented is not counted; everyone else earned.
    assert_eq!(oct["total"]["people"], 13);
    assert_eq!(oct["total"]["income_mean"], "900000");
    assert_eq!(oct["total"]["income_median"], "900000");
    // Eight gave a baseline: six of $ 400.000, two of $ 300.000; all doubled it in October,
    // none in November.
    assert_eq!(oct["total"]["people_with_baseline"], 8);
    assert_eq!(oct["total"]["baseline_mean"], "375000");
    assert_eq!(oct["total"]["doubled_percent"], "100.0");
    assert_eq!(nov["total"]["doubled_percent"], "0.0");
    assert_eq!(
        oct["total"]["mean_vs_rural"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );

    // Antioquia (2) is suppressed, and Huila (5) with it, or Antioquia would be the total
    // minus the rest; Tolima (6) is shown with its figures.
    let by_dep = cells(oct);
    assert!(by_dep["05"]["figures"].is_null(), "{by_dep:?}");
    assert!(by_dep["41"]["figures"].is_null(), "{by_dep:?}");
    assert_eq!(by_dep["73"]["figures"]["people"], 6);
    assert_eq!(by_dep["73"]["label"], "Tolima");
    // Of those who gave a baseline, Tolima's six are shown only in the total: with Antioquia's
    // two hidden, Tolima's figure would give theirs away (the total's eight minus six).
    assert_eq!(by_dep["73"]["figures"]["people_with_baseline"], 6);
    assert!(
        by_dep["73"]["figures"].get("doubled_percent").is_none(),
        "{by_dep:?}"
    );

    // Every breakdown keeps the rule; the victims' group (2) is not shown.
    for by in ["municipality", "group", "cohort"] {
        let r = app
            .get(
                &format!("/v1/reports/impact?from={october}&to={november}&by={by}"),
                Some(&admin),
            )
            .await;
        let r = r.ok(200).clone();
        assert_no_small_figures(&r);
        if by == "group" {
            let g = cells(&r["months"][0]);
            assert!(g["conflict_victim"]["figures"].is_null(), "{g:?}");
            assert_eq!(
                g["woman_head_of_household"]["label"],
                "Mujer cabeza de hogar"
            );
        }
    }

    // CSV and PDF of the same report.
    let csv = app
        .get(
            &path.replacen("/impact?", "/impact/csv?", 1),
            Some(&finance),
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert!(
        csv.text
            .starts_with("mes,desglose,clave,nombre,reservado,personas"),
        "{}",
        csv.text
    );
    assert!(
        csv.text
            .contains(&format!("{october},department,05,Antioquia,si,,")),
        "{}",
        csv.text
    );
    assert!(
        csv.text
            .contains(&format!("{october},department,73,Tolima,no,6,")),
        "{}",
        csv.text
    );
    let pdf = app
        .send(
            app.client
                .get(app.url(&path.replacen("/impact?", "/impact/pdf?", 1)))
                .bearer_auth(&finance),
        )
        .await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type, "application/pdf");
    let bytes = app
        .client
        .get(app.url(&path.replacen("/impact?", "/impact/pdf?", 1)))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    if let Some(text) = vereda_tests::pdf::pdf_text(&bytes) {
        assert!(text.contains("Reporte de impacto"), "{text}");
        assert!(text.contains("Tolima"), "{text}");
        assert!(text.contains("reservado"), "{text}");
    }

    // One woman in Tolima withdraws: the next report counts twelve, and Tolima five.
    let (gone, gone_token) = &tolima[0];
    app.post(
        &format!("/v1/workers/{gone}/consent/withdrawal"),
        Some(gone_token),
        json!({}),
    )
    .await
    .ok(200);
    let after = app.get(&path, Some(&finance)).await;
    let after = after.ok(200).clone();
    assert_no_small_figures(&after);
    assert_eq!(after["months"][0]["total"]["people"], 12);
    assert_eq!(after["months"][0]["total"]["people_with_baseline"], 7);

    // Bad parameters name their field.
    for (q, field) in [
        (format!("from=2026-13&to={november}"), "from"),
        (format!("from={november}&to={october}"), "to"),
        ("from=2020-01&to=2026-12".to_string(), "to"),
        (format!("from={october}&to={november}&by=edad"), "by"),
    ] {
        let r = app
            .get(&format!("/v1/reports/impact?{q}"), Some(&finance))
            .await;
        r.problem(422);
        assert_eq!(r.field(), field, "{q}: {}", r.text);
    }
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn a_funder_reads_the_impact_report_and_nothing_else() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let email = format!("fondo-{}@financiador.test", short_id());
    let created = app
        .post(
            "/v1/staff",
            Some(&admin),
            json!({"name": "Fundación Rural", "email": email, "password": PASSWORD, "role": "funder"}),
        )
        .await;
    assert_eq!(created.ok(201)["role"], "funder");
    let funder = app.login(&email, PASSWORD).await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let (company_id, owner) = app.company(&admin, "Datos Andinos SAS").await;

    let this = Month::of(Utc::now());
    let path = format!("/v1/reports/impact?from={}&to={this}", this.prev());
    let r = app.get(&path, Some(&funder)).await;
    let r = r.ok(200);
    // Nobody yet: the months are there, with nothing shown.
    assert!(r["months"][0]["total"].is_null(), "{r}");
    assert_eq!(
        app.get("/v1/me", Some(&funder)).await.ok(200)["role"],
        "funder"
    );

    // Workers, companies and everyone else may not read it.
    app.get(&path, Some(&worker)).await.problem(403);
    app.get(&path, Some(&owner)).await.problem(403);
    app.get(&path, None).await.problem(401);

    // And the funder reads nothing but it, even routes that list "everything" for staff.
    for p in [
        "/v1/workers".to_string(),
        format!("/v1/workers/{worker_id}"),
        format!("/v1/workers/{worker_id}/consent"),
        format!("/v1/companies/{company_id}"),
        "/v1/tasks".to_string(),
        "/v1/assignments".to_string(),
        "/v1/appeals".to_string(),
        "/v1/data-requests".to_string(),
        "/v1/programme-groups".to_string(),
        "/v1/invoices".to_string(),
    ] {
        let r = app.get(&p, Some(&funder)).await;
        assert_eq!(r.status, 403, "{p}: {}", r.text);
    }
}
