//! The company owner's screens in a real browser (issue 17 §2): the company and its members, one
//! task with its live cost preview, a batch from a semicolon CSV, a refused file, the batch's
//! results and the invoice. Desktop first (1280×900), every screen also at phone size
//! (360×740); screenshots in the same folder as the worker's (target/screens/, or
//! VEREDA_SCREENS_DIR), each checked with axe-core. Without Chromium these tests print a
//! notice and pass, unless VEREDA_REQUIRE_BROWSER=1. The first test is the endpoint the live
//! preview uses, over plain HTTP.

use std::time::Duration;

use chrono::{Duration as ChronoDuration, Utc};
use serde_json::{Value, json};
use vereda_tests::browser::{
    Page, check_office_screen as check_screen_at, choose_file, fetch_link, go, js_str, open_office,
    sign_in,
};
use vereda_tests::pdf::pdf_text;
use vereda_tests::{PASSWORD, TestApp, eventually, random_nit, short_id, spawn_app};

// ---------------------------------------------------------------------------------------------
// The cost preview endpoint
// ---------------------------------------------------------------------------------------------

fn hourly(rate: &str) -> Value {
    json!({"kind": "hourly", "rate": rate, "max_hours": "2"})
}

#[tokio::test]
async fn the_cost_preview_is_the_posted_tasks_cost_and_refuses_pay_below_the_minimum() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda Andina").await;

    let preview = app
        .post(
            "/v1/tasks/cost-preview",
            Some(&owner),
            json!({"pricing": hourly("18500"), "slots": 5}),
        )
        .await;
    let preview = preview.ok(200).clone();
    // The same figures as the task once posted with that pay and those slots.
    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Limpiar la base de clientes", "instructions": "Quitar repetidos.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": hourly("18500"), "slots": 5, "claim_minutes": 600, "review_hours": 72
            }),
        )
        .await;
    assert_eq!(task.ok(201)["cost"], preview);
    assert_eq!(preview["work"], "37000");
    assert_eq!(preview["all_slots_work"], "185000");
    assert!(preview.get("margin").is_none(), "{preview}");
    // All slots add up as the invoice adds them.
    let n = |k: &str| preview[k].as_str().unwrap().parse::<f64>().unwrap();
    assert_eq!(
        n("all_slots_work") + n("all_slots_fee") + n("all_slots_vat"),
        n("all_slots_total")
    );

    // Below the legal hourly minimum: refused in Spanish, naming the rate.
    let r = app
        .post(
            "/v1/tasks/cost-preview",
            Some(&owner),
            json!({"pricing": hourly("5000"), "slots": 5}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.code(), "below_minimum_wage");
    assert_eq!(r.field(), "pricing.rate");
    let es = r.body["detail_es"].as_str().unwrap();
    assert!(
        es.contains("mínimo legal") && es.contains("$ 5.000"),
        "{es}"
    );
    // Bad slots and bad amounts are the field's 422, never a 500.
    let r = app
        .post(
            "/v1/tasks/cost-preview",
            Some(&owner),
            json!({"pricing": hourly("18500"), "slots": 0}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "slots");
    let r = app
        .post(
            "/v1/tasks/cost-preview",
            Some(&owner),
            json!({"pricing": hourly("18.500"), "slots": 1}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "pricing.rate");
}

// ---------------------------------------------------------------------------------------------
// Browser helpers
// ---------------------------------------------------------------------------------------------

/// Screenshot the screen on a desktop and on a phone, each checked with axe-core.
async fn check_screen(page: &Page, name: &str) {
    check_screen_at(page, name, "h1").await;
}

/// `$ 48.485`, as the app writes pesos.
fn pesos(amount: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let digits: Vec<char> = int.chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(*c);
    }
    let cents = format!("{frac:0<2}");
    if cents.starts_with("00") {
        format!("$ {grouped}")
    } else {
        format!("$ {grouped},{}", &cents[..2])
    }
}

fn today() -> String {
    (Utc::now() - ChronoDuration::hours(5))
        .format("%Y-%m-%d")
        .to_string()
}

/// A company whose owner's e-mail we know; returns (company id, e-mail, owner token).
async fn company(app: &TestApp, admin: &str) -> (String, String, String) {
    let email = format!("andres-{}@tienda.test", short_id());
    let r = app
        .post(
            "/v1/companies",
            Some(admin),
            json!({
                "name": "Tienda Andina S.A.S.",
                "nit": random_nit(),
                "billing_email": format!("facturas-{}@tienda.test", short_id()),
                "owner": {"name": "Andrés Operaciones", "email": email, "password": PASSWORD}
            }),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    let token = app.login(&email, PASSWORD).await;
    (id, email, token)
}

/// Fill the template part of a task form (ids prefixed `p`).
async fn fill_task(page: &Page, p: &str, title: &str, instructions: &str, skill: &str) {
    page.type_into(&format!("#{p}-title"), title).await;
    page.type_into(&format!("#{p}-instructions"), instructions)
        .await;
    page.set_value(&format!("#{p}-category"), "support").await;
    page.click(&format!("#{p}-skill-{skill}")).await;
}

// ---------------------------------------------------------------------------------------------
// One task: live cost preview, minimum wage, draft, publish, extend a claim
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_owner_posts_a_task_seeing_its_cost_as_she_types_and_extends_a_claim() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, email, owner) = company(&app, &admin).await;
    let (_, worker) = app.worker(&admin, &["customer-support"]).await;
    let Some((browser, page)) = open_office("the_owner_posts_a_task", &app.base).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;
    page.wait_for_text("Todavía no ha publicado tareas").await;
    let links = page.eval("document.querySelector('#nav').innerText").await;
    for link in [
        "Tareas y lotes",
        "Publicar una tarea",
        "Facturas",
        "Empresa",
    ] {
        assert!(links.as_str().unwrap().contains(link), "{links}");
    }
    check_screen(&page, "empresa-tareas-vacio").await;

    go(&page, "#/nueva-tarea").await;
    page.wait_for("#new-task").await;
    fill_task(
        &page,
        "t",
        "Clasificar tiquetes de soporte",
        "Lea cada tiquete y márquelo según la guía.",
        "customer-support",
    )
    .await;
    page.type_into("#t-slots", "5").await;
    // A rate below the legal minimum: the server's Spanish refusal, as it is typed.
    page.type_into("#t-rate", "5000").await;
    page.wait_until(
        "document.querySelector('.cost-refusal') && document.querySelector('.cost-refusal').innerText.includes('mínimo legal')",
        Duration::from_secs(30),
    )
    .await;
    page.wait_for_text("$ 5.000").await;
    check_screen_at(&page, "empresa-nueva-tarea-minimo", ".pricing").await;
    // Raised (written as people write it, with a thousands dot): the preview is the server's.
    page.type_into("#t-rate", "18.500").await;
    page.wait_for("#cost-preview table").await;
    let cost = app
        .post(
            "/v1/tasks/cost-preview",
            Some(&owner),
            json!({"pricing": {"kind": "hourly", "rate": "18500", "max_hours": "2"}, "slots": 5}),
        )
        .await;
    let cost = cost.ok(200).clone();
    for k in ["work", "fee", "vat", "total", "all_slots_total"] {
        page.wait_for_text(&pesos(cost[k].as_str().unwrap())).await;
    }
    page.wait_for_text("Los 5 cupos").await;
    check_screen_at(&page, "empresa-nueva-tarea", ".pricing").await;

    page.click("#new-task button[type=submit]").await;
    page.wait_for_text("Borrador guardado").await;
    let tasks = app.get("/v1/tasks", Some(&owner)).await;
    let task = tasks.ok(200)["items"][0].clone();
    let task_id = task["id"].as_str().unwrap().to_string();
    assert_eq!(task["status"], "draft");
    assert_eq!(task["title"], "Clasificar tiquetes de soporte");
    assert_eq!(task["pricing"]["rate"], "18500");
    assert_eq!(task["required_skills"], json!(["customer-support"]));
    assert_eq!(task["claim_minutes"], 2880);
    assert_eq!(task["cost"], cost);
    page.click("button.publish").await;
    page.wait_for_text("Tarea publicada.").await;
    let read = app.get(&format!("/v1/tasks/{task_id}"), Some(&owner)).await;
    assert_eq!(read.ok(200)["status"], "open");

    // A worker takes it; the owner gives her more time.
    let claim = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{task_id}/claims")))
                .bearer_auth(&worker),
        )
        .await;
    let claim = claim.ok(201).clone();
    let assignment = claim["id"].as_str().unwrap().to_string();
    page.reload().await;
    page.wait_for(&format!("[data-assignment='{assignment}']"))
        .await;
    check_screen(&page, "empresa-tarea").await;
    page.click_text("Dar más tiempo para entregar").await;
    page.set_value(&format!("#extend-{assignment}-minutes"), "240")
        .await;
    check_screen_at(&page, "empresa-tarea-plazo", "#assign-title").await;
    page.click(&format!("#extend-{assignment} button[type=submit]"))
        .await;
    page.wait_for_text("Listo: ahora puede entregar hasta")
        .await;
    let after = app
        .get(&format!("/v1/assignments/{assignment}"), Some(&owner))
        .await;
    let before =
        chrono::DateTime::parse_from_rfc3339(claim["expires_at"].as_str().unwrap()).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(after.ok(200)["expires_at"].as_str().unwrap())
        .unwrap();
    assert_eq!((now - before).num_minutes(), 240);
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// A batch from a semicolon CSV; a refused file; results; the invoice
// ---------------------------------------------------------------------------------------------

/// Twenty rows as Excel in Spanish saves them: a BOM, semicolons, CRLF, a quoted cell.
fn twenty_rows() -> String {
    let mut csv = String::from("\u{feff}cliente;tiquetes\r\n");
    for i in 1..=20 {
        let client = if i == 3 {
            "\"Café; Sur\"".to_string()
        } else {
            format!("Cliente {i}")
        };
        csv.push_str(&format!("{client};{}\r\n", 10 + i));
    }
    csv
}

async fn fill_template(page: &Page) {
    fill_task(
        page,
        "b",
        "Clasificar los tiquetes de ${cliente}",
        "Clasifique los ${tiquetes} tiquetes de ${cliente} según la guía.",
        "customer-support",
    )
    .await;
    page.type_into("#b-rate", "18500").await;
    page.type_into("#b-max-hours", "1,5").await;
    page.type_into("#b-slots", "2").await;
    page.wait_for("#cost-preview table").await;
}

#[tokio::test]
async fn the_owner_posts_a_batch_from_a_csv_then_downloads_its_results_and_invoice() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, email, owner) = company(&app, &admin).await;
    let (_, worker) = app.worker(&admin, &["customer-support"]).await;
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("tiquetes.csv");
    std::fs::write(&good, twenty_rows()).unwrap();
    // Rows on lines 3 and 5 have no client; saved by Excel as Windows-1252 ("Peñalosa").
    let bad = files.path().join("tiquetes-con-errores.csv");
    std::fs::write(
        &bad,
        b"cliente;tiquetes\r\nPe\xf1alosa;1\r\n;2\r\nC;3\r\n;4\r\n",
    )
    .unwrap();

    let Some((browser, page)) = open_office("the_owner_posts_a_batch", &app.base).await else {
        return;
    };
    sign_in(&page, &email, PASSWORD).await;
    page.wait_for_text("Todavía no ha creado lotes").await;
    go(&page, "#/nuevo-lote").await;
    page.wait_for("#new-batch").await;
    page.wait_for_text("${columna}").await;
    fill_template(&page).await;
    choose_file(&page, "#csv-file", &good).await;
    page.wait_for_text("20 filas").await;
    page.wait_for_text("punto y coma").await;
    page.wait_for_text("Café; Sur").await;
    check_screen_at(&page, "empresa-nuevo-lote", "#file-info").await;

    // Record what the page sends, to replay it as a retry would.
    page.eval(
        "(() => { window.__sent = []; const f0 = window.fetch; window.fetch = (u, o) => { \
         if (String(u).endsWith('/v1/task-batches')) window.__sent.push({key: o.headers['Idempotency-Key'], body: o.body}); \
         return f0(u, o); }; return true; })()",
    )
    .await;
    page.click_text("Crear borradores").await;
    page.wait_for(".batch-total").await;
    page.wait_for_text("Se crearon 20 tareas en borrador").await;
    let list = app.get("/v1/task-batches", Some(&owner)).await;
    let batches = list.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(batches.len(), 1);
    let batch = batches[0].clone();
    let batch_id = batch["id"].as_str().unwrap().to_string();
    assert_eq!(batch["task_count"], 20);
    assert_eq!(batch["status"], "draft");
    let total = batch["cost"]["total"].as_str().unwrap();
    let shown = page
        .eval("document.querySelector('.batch-total dd').innerText")
        .await;
    assert_eq!(shown, json!(pesos(total)));
    page.wait_for_text("Clasificar los tiquetes de Cliente 1")
        .await;
    check_screen(&page, "empresa-lote-borrador").await;

    // A retry of the same upload (same key, same body) creates nothing more.
    let sent = page.eval("window.__sent").await;
    assert_eq!(sent.as_array().unwrap().len(), 1, "{sent}");
    let key = sent[0]["key"]
        .as_str()
        .expect("an Idempotency-Key")
        .to_string();
    let replay = page
        .eval(&format!(
            "fetch('/v1/task-batches', {{method: 'POST', credentials: 'same-origin', headers: \
             {{'Content-Type': 'application/json', 'X-Requested-With': 'vereda', 'Idempotency-Key': {}}}, \
             body: window.__sent[0].body}}).then(async r => ({{status: r.status, body: await r.json()}}))",
            js_str(&key)
        ))
        .await;
    assert_eq!(replay["status"], 201, "{replay}");
    assert_eq!(replay["body"]["id"], json!(batch_id));
    let list = app.get("/v1/task-batches", Some(&owner)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);

    page.click_text("Publicar el lote").await;
    page.wait_for_text("Lote publicado").await;
    let read = app
        .get(&format!("/v1/task-batches/{batch_id}"), Some(&owner))
        .await;
    assert_eq!(read.ok(200)["status"], "open");
    assert_eq!(read.body["progress"]["open_slots"], 40);

    // A file with two bad rows: both named, nothing created.
    go(&page, "#/nuevo-lote").await;
    page.wait_for("#new-batch").await;
    fill_template(&page).await;
    choose_file(&page, "#csv-file", &bad).await;
    page.wait_for_text("4 filas").await;
    page.wait_for_text("Peñalosa").await;
    page.click_text("Crear borradores").await;
    page.wait_until(
        "document.querySelectorAll('.row-errors li').length === 2",
        Duration::from_secs(30),
    )
    .await;
    let lines = page
        .eval("[...document.querySelectorAll('.row-errors li')].map(li => [li.dataset.line, li.dataset.column, li.innerText])")
        .await;
    assert_eq!(lines[0][0], "3", "{lines}");
    assert_eq!(lines[1][0], "5", "{lines}");
    assert_eq!(lines[0][1], "cliente", "{lines}");
    for l in lines.as_array().unwrap() {
        let text = l[2].as_str().unwrap();
        assert!(
            text.starts_with("Fila ") && text.contains("cliente"),
            "{text}"
        );
    }
    check_screen_at(&page, "empresa-lote-rechazado", "#csv-file").await;
    let list = app.get("/v1/task-batches", Some(&owner)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);
    let tasks = app.get("/v1/tasks?limit=200", Some(&owner)).await;
    assert_eq!(tasks.ok(200)["items"].as_array().unwrap().len(), 20);

    // A worker does one task; the owner approves it over the API.
    let first = tasks.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Clasificar los tiquetes de Cliente 1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let claim = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{first}/claims")))
                .bearer_auth(&worker),
        )
        .await;
    let assignment = claim.ok(201)["id"].as_str().unwrap().to_string();
    let end = Utc::now() - ChronoDuration::minutes(1);
    app.post(
        &format!("/v1/assignments/{assignment}/time-entries"),
        Some(&worker),
        json!({"started_at": (end - ChronoDuration::minutes(60)).to_rfc3339(),
               "ended_at": end.to_rfc3339()}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/assignments/{assignment}/submission"),
        Some(&worker),
        json!({"deliverable_url": "https://docs.example/cliente-1", "notes": "Listo."}),
    )
    .await
    .ok(200);
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(&format!("/v1/assignments/{assignment}"), Some(&owner))
            .await;
        (r.body["status"] == "verified").then_some(())
    })
    .await
    .expect("verified");
    app.post(
        &format!("/v1/assignments/{assignment}/review"),
        Some(&owner),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    // The accrual is the worker's job: wait until the amount is known (an hour at 18.500).
    eventually(Duration::from_secs(60), || async {
        let r = app
            .get(
                &format!("/v1/task-batches/{batch_id}/results.csv"),
                Some(&owner),
            )
            .await;
        r.text.contains("18500").then_some(())
    })
    .await
    .expect("accrued");

    // The batch's progress and its results, downloaded through the page's link.
    go(&page, "#/tareas-publicadas").await;
    page.wait_for(&format!("[data-batch='{batch_id}']")).await;
    check_screen(&page, "empresa-tareas").await;
    go(&page, &format!("#/lote/{batch_id}")).await;
    page.wait_for("#results-csv").await;
    page.wait_for_text("Aprobadas").await;
    let approved = page
        .eval("[...document.querySelectorAll('.progress .figure')].find(f => f.innerText.includes('Aprobadas')).querySelector('dd').innerText")
        .await;
    assert_eq!(approved, json!("1"));
    check_screen(&page, "empresa-lote").await;
    let (status, content_type, body) = fetch_link(&page, "#results-csv").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let csv = String::from_utf8(body).unwrap();
    assert!(csv.contains("Input.cliente"), "{csv}");
    assert!(csv.contains(&assignment), "{csv}");
    assert!(csv.contains("https://docs.example/cliente-1"), "{csv}");

    // Finance bills; the owner sees the invoice and downloads its PDF.
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today()}))
        .await;
    let invoices = app.get("/v1/invoices", Some(&owner)).await;
    let invoice = invoices.ok(200)["items"][0].clone();
    let invoice_id = invoice["id"].as_str().unwrap().to_string();
    let number = invoice["number"].as_str().unwrap().to_string();
    go(&page, "#/facturas").await;
    page.wait_for_text(&format!("Factura {number}")).await;
    check_screen(&page, "empresa-facturas").await;
    page.click_text(&format!("Factura {number}")).await;
    page.wait_for(".invoice-lines").await;
    page.wait_for_text("Clasificar los tiquetes de Cliente 1")
        .await;
    page.wait_for_text(&pesos(invoice["total"].as_str().unwrap()))
        .await;
    page.wait_for_text("Saldo por pagar").await;
    check_screen(&page, "empresa-factura").await;
    let (status, content_type, pdf) =
        fetch_link(&page, &format!("a[href='/v1/invoices/{invoice_id}/pdf']")).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/pdf");
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains(&number), "{text}");
    }
    let (status, content_type, _) =
        fetch_link(&page, &format!("a[href='/v1/invoices/{invoice_id}/csv']")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// The company and its members; a reviewer gets none of this
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_owner_edits_the_company_invites_and_removes_a_reviewer_who_sees_none_of_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company_id, email, owner) = company(&app, &admin).await;
    let reviewer_email = format!("marta-{}@tienda.test", short_id());
    app.post(
        &format!("/v1/companies/{company_id}/members"),
        Some(&owner),
        json!({"name": "Marta Revisora", "email": reviewer_email, "password": PASSWORD,
               "member_role": "reviewer"}),
    )
    .await
    .ok(201);

    let Some((browser, page)) = open_office("the_owner_edits_the_company", &app.base).await else {
        return;
    };
    // The reviewer first: no owner links, and the owner's screens send her to the review.
    sign_in(&page, &reviewer_email, PASSWORD).await;
    page.wait_until(
        "!location.hash.startsWith('#/entrar')",
        Duration::from_secs(30),
    )
    .await;
    let links = page.eval("document.querySelector('#nav').innerText").await;
    let links = links.as_str().unwrap_or("");
    for owner_only in ["Publicar una tarea", "Facturas", "Empresa"] {
        assert!(!links.contains(owner_only), "{links}");
    }
    go(&page, "#/empresa").await;
    page.wait_for_text("solo para la persona propietaria").await;
    go(&page, "#/cuenta").await;
    page.click("button.signout").await;
    page.wait_for("#signin").await;

    sign_in(&page, &email, PASSWORD).await;
    page.wait_for("#nav a[href='#/empresa']").await;
    go(&page, "#/empresa").await;
    page.wait_for("#company-profile").await;
    page.wait_for_text("Marta Revisora").await;
    check_screen(&page, "empresa-perfil").await;

    page.type_into("#co-billing-email", "cuentas@tienda.test")
        .await;
    page.set_value("#co-cycle", "weekly").await;
    page.click("#company-profile button[type=submit]").await;
    page.wait_for_text("Cambios guardados.").await;
    let co = app
        .get(&format!("/v1/companies/{company_id}"), Some(&owner))
        .await;
    assert_eq!(co.ok(200)["billing_email"], "cuentas@tienda.test");
    assert_eq!(co.body["billing_cycle"], "weekly");

    // Invite a second reviewer by e-mail (no password: she gets a link).
    let invited = format!("julian-{}@tienda.test", short_id());
    page.type_into("#invite-name", "Julián Revisor").await;
    page.type_into("#invite-email", &invited).await;
    page.click("#invite button[type=submit]").await;
    page.wait_for_text(&format!("Invitación enviada a {invited}"))
        .await;
    let members = app
        .get(&format!("/v1/companies/{company_id}/members"), Some(&owner))
        .await;
    let members = members.ok(200)["items"].as_array().unwrap().clone();
    let julian = members
        .iter()
        .find(|m| m["email"] == json!(invited))
        .expect("invited");
    assert_eq!(julian["member_role"], "reviewer");

    // Remove Marta (the page asks first; the harness accepts).
    let marta = members
        .iter()
        .find(|m| m["email"] == json!(reviewer_email))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    page.click(&format!("[data-member='{marta}'] button")).await;
    page.wait_for_text("Marta Revisora ya no es parte de la empresa")
        .await;
    let members = app
        .get(&format!("/v1/companies/{company_id}/members"), Some(&owner))
        .await;
    assert!(
        !members.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == json!(marta))
    );
    // The owner cannot remove herself from the page (no button beside her).
    let me = page
        .eval("[...document.querySelectorAll('#member-list li')].filter(li => li.innerText.includes('(usted)') && li.querySelector('button')).length")
        .await;
    assert_eq!(me, json!(0));
    browser.close().await;
}
