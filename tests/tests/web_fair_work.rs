//! Fair work in a real browser (issue 21), the three screens one after another:
//!
//! 1. A company's reviewer opens a submission on a task with a rubric that allows changes: the
//!    worker's record is shown, the form says the first decision against the work is a request
//!    for changes; the server's own refusal (`rework_first`) is shown when the form did not know
//!    (the queue's answer altered in the page); changes are asked with a reason from the list and
//!    a criterion of the rubric.
//! 2. The worker, on a 390 px phone, reads the reason and the criterion, sends the work again;
//!    the reviewer rejects it (now allowed) with another reason and criterion.
//! 3. The worker appeals from her phone: without a signal she is told it needs a connection and
//!    her text stays on the device; with one, the appeal is sent and shown as under review.
//! 4. Programme staff find it under «Apelaciones» (overdue ones marked «Vencida»: the list's
//!    answer altered in the page, as five business days cannot pass in a test), read what the
//!    worker says and what the company decided, and overturn it paying 1 h 30 min of the 2 h
//!    logged, with a written decision.
//! 5. The worker sees the decision and the time paid; the API agrees.
//!
//! Screenshots `justo-*` (target/screens/, or VEREDA_SCREENS_DIR), each checked with axe-core.
//! Without Chromium the test prints a notice and passes, unless VEREDA_REQUIRE_BROWSER=1.

use std::time::Duration;

use serde_json::{Value, json};
use vereda_tests::browser::{
    Browser, Page, check_office_screen, check_screen, desktop, go, js_str, sign_in,
};
use vereda_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp, eventually, short_id, spawn_app,
};

const TITLE: &str = "Clasificar tiquetes de la cooperativa";
const RUBRIC: [&str; 3] = [
    "Cada tiquete tiene su prioridad",
    "Los nombres de los clientes van completos",
    "La hoja conserva las columnas originales",
];

fn rfc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn eval_str(page: &Page, js: &str) -> String {
    page.eval(js).await.as_str().unwrap_or_default().to_string()
}

/// The refusal or confirmation a form shows (`kind`: `error` or `ok`).
async fn form_says(page: &Page, form: &str, kind: &str) -> String {
    page.wait_for(&format!("{form} .form-msg .notice.{kind}"))
        .await;
    eval_str(
        page,
        &format!(
            "document.querySelector({}).innerText",
            js_str(&format!("{form} .form-msg"))
        ),
    )
    .await
}

async fn not_wider_than_the_phone(page: &Page, name: &str) {
    let wide = page
        .eval("document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(wide, json!(false), "{name} scrolls sideways on a phone");
}

/// Replace `window.fetch` so that answers from paths containing `path` go through `change`
/// (a JS function body over `body`): what the page would draw for data a test cannot make.
async fn alter_answers(page: &Page, path: &str, change: &str) {
    page.eval(&format!(
        "(() => {{ const real = window.__realFetch || window.fetch.bind(window); \
         window.__realFetch = real; \
         window.fetch = async (input, init) => {{ \
           const resp = await real(input, init); \
           const url = typeof input === 'string' ? input : input.url; \
           if (!url.includes({}) || !resp.ok) return resp; \
           const body = await resp.clone().json(); \
           ((body) => {{ {change} }})(body); \
           return new Response(JSON.stringify(body), {{ status: resp.status, headers: {{ 'Content-Type': 'application/json' }} }}); \
         }}; return true; }})()",
        js_str(path)
    ))
    .await;
}

async fn real_answers(page: &Page) {
    page.eval(
        "(() => { if (window.__realFetch) window.fetch = window.__realFetch; return true; })()",
    )
    .await;
}

async fn assignment(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/v1/assignments/{id}"), Some(token))
        .await
        .ok(200)
        .clone()
}

async fn verified(app: &TestApp, owner: &str, id: &str) {
    eventually(Duration::from_secs(60), || async {
        (assignment(app, owner, id).await["status"] == "verified").then_some(())
    })
    .await
    .expect("verified");
}

/// Open submission `id` in the review queue (a fresh load of the queue).
async fn open_in_queue(page: &Page, id: &str) {
    // A new address each time, so the queue is read again even when it is on screen.
    page.eval("location.hash = `#/revision?leida=${Date.now()}`")
        .await;
    page.wait_for(&format!("#review-queue a[href='#/revision/{id}']"))
        .await;
    page.click(&format!("#review-queue a[href='#/revision/{id}']"))
        .await;
    page.wait_until(
        &format!(
            "location.hash === {} && document.querySelector('#review-form')",
            js_str(&format!("#/revision/{id}"))
        ),
        Duration::from_secs(30),
    )
    .await;
}

#[tokio::test]
async fn work_sent_back_with_reasons_is_appealed_and_overturned_by_the_platform() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Cooperativa del Tolima").await;
    let reviewer_email = format!("marta-{}@empresa.test", short_id());
    app.post(
        &format!("/v1/companies/{company}/members"),
        Some(&owner),
        json!({"name": "Marta Revisora", "email": reviewer_email, "password": PASSWORD, "member_role": "reviewer"}),
    )
    .await
    .ok(201);
    let worker_email = format!("luz-{}@correo.test", short_id());
    app.post(
        "/v1/workers",
        Some(&admin),
        json!({
            "name": "Luz Teletrabajadora", "email": worker_email, "password": PASSWORD,
            "municipality": "Chaparral", "department": "Tolima",
            "skills": ["data-cleaning"],
            "payout_method": {"kind": "nequi", "phone": "3105551234"},
            "document_id": "1012345678",
        }),
    )
    .await
    .ok(201);
    let worker = app.login(&worker_email, PASSWORD).await;
    // One approved submission before: her record.
    app.approved_fixed_work(
        &owner,
        "Revisar fichas",
        "data-cleaning",
        60_000,
        &[&worker],
    )
    .await;

    // An hourly task with a rubric that allows changes; she logs 2 h and sends her work.
    let r = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": TITLE, "instructions": "Asigne una prioridad a cada tiquete según la guía.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": {"kind": "hourly", "rate": "18500", "max_hours": "10"},
                "slots": 1, "claim_minutes": 2880, "review_business_days": 3,
                "rubric": RUBRIC, "allows_changes": true,
            }),
        )
        .await;
    let task = r.ok(201)["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["rubric"], json!(RUBRIC));
    app.post(
        &format!("/v1/tasks/{task}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let claim = app
        .post(
            &format!("/v1/tasks/{task}/claims"),
            Some(&worker),
            json!({}),
        )
        .await;
    let id = claim.ok(201)["id"].as_str().unwrap().to_string();
    let end = chrono::Utc::now() - chrono::Duration::minutes(5);
    app.post(
        &format!("/v1/assignments/{id}/time-entries"),
        Some(&worker),
        json!({"started_at": rfc(end - chrono::Duration::hours(2)), "ended_at": rfc(end)}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/assignments/{id}/submission"),
        Some(&worker),
        json!({"deliverable_url": "https://docs.example.com/tiquetes", "notes": "Listo."}),
    )
    .await
    .ok(200);
    verified(&app, &owner, &id).await;

    // ---- 1. The reviewer: changes first, with a reason from the list and a criterion ----
    let Some(office) = Browser::launch("fair_work_reviewer").await else {
        return;
    };
    let page = office.new_page().await;
    desktop(&page).await;
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &reviewer_email, PASSWORD).await;
    page.wait_for("#review-queue").await;
    let text = page.text().await;
    assert!(
        text.contains(
            "Historial: 1 aprobada, 0 con cambios, 0 rechazadas de su única entrega decidida"
        ),
        "{text}"
    );

    // The server's own refusal, when the form believes a rework round was given already.
    let refused = app
        .post(
            &format!("/v1/assignments/{id}/review"),
            Some(&owner),
            json!({"decision": "reject", "reason_code": "incomplete", "reason": "Está incompleto."}),
        )
        .await;
    assert_eq!(
        refused.problem(422).code(),
        "rework_first",
        "{}",
        refused.text
    );
    let rework_first = refused.body["detail_es"].as_str().unwrap().to_string();
    alter_answers(
        &page,
        "/v1/review-queue",
        "for (const i of body.items || []) i.rework_rounds = 1;",
    )
    .await;
    open_in_queue(&page, &id).await;
    assert_eq!(
        eval_str(
            &page,
            "document.querySelector('label[for=d-reject]').innerText"
        )
        .await,
        "Rechazar"
    );
    page.click("#d-reject").await;
    page.set_value("#reason-code", "incomplete").await;
    page.type_into("#reason", "Faltan prioridades.").await;
    page.click("#review-form button[type=submit]").await;
    assert_eq!(
        form_says(&page, "#review-form", "error").await,
        rework_first
    );
    // From then on the form says so too: only «not original» for a rejection now.
    assert_eq!(
        page.eval("!document.querySelector('#rq-rework-hint').hidden")
            .await,
        json!(true)
    );
    assert_eq!(
        eval_str(
            &page,
            "document.querySelector('label[for=d-reject]').innerText"
        )
        .await,
        "Rechazar (solo si el trabajo no es original)"
    );
    assert_eq!(
        eval_str(&page, "document.querySelector('#reason-code').value").await,
        ""
    );
    assert_eq!(
        page.eval("[...document.querySelectorAll('#reason-code option:not([disabled])')].map(o => o.value)")
            .await,
        json!(["", "not_original"])
    );
    // Back to changes: the reason she had chosen.
    page.click("#d-changes").await;
    assert_eq!(
        eval_str(&page, "document.querySelector('#reason-code').value").await,
        "incomplete"
    );
    real_answers(&page).await;

    // As the queue really says: the record, the hint, the rubric's criteria to mark.
    open_in_queue(&page, &id).await;
    let text = page.text().await;
    assert!(text.contains("Historial: 1 aprobada"), "{text}");
    assert!(
        text.contains("la primera decisión en contra de este trabajo es pedir cambios"),
        "{text}"
    );
    assert_eq!(
        eval_str(
            &page,
            "document.querySelector('label[for=d-reject]').innerText"
        )
        .await,
        "Rechazar (solo si el trabajo no es original)"
    );
    page.click("#d-changes").await;
    let labels = page
        .eval("[...document.querySelectorAll('#reason-code option')].map(o => o.innerText)")
        .await;
    assert_eq!(
        labels,
        json!([
            "Elija el motivo",
            "No siguió las instrucciones",
            "El trabajo está incompleto",
            "El resultado no es el pedido",
            "El trabajo no es original",
            "No se pudo abrir la entrega",
            "Otro motivo"
        ])
    );
    let criteria = page
        .eval("[...document.querySelectorAll('#rq-criteria label')].map(l => l.innerText)")
        .await;
    assert_eq!(criteria, json!(RUBRIC));
    page.type_into("#reason", "A varios tiquetes les falta la prioridad.")
        .await;
    page.click("#review-form button[type=submit]").await;
    assert_eq!(
        form_says(&page, "#review-form", "error").await,
        "Elija el motivo de la lista."
    );
    page.set_value("#reason-code", "incomplete").await;
    page.click("#crit-0").await;
    page.eval("document.querySelector('#rq-code').scrollIntoView({block: 'center'})")
        .await;
    check_office_screen(&page, "justo-pedir-cambios", "#rq-code").await;
    page.click("#review-form button[type=submit]").await;
    page.wait_for_text("Se pidieron cambios.").await;
    let a = assignment(&app, &worker, &id).await;
    assert_eq!(a["status"], "changes_requested", "{a}");
    assert_eq!(a["reason_code"], "incomplete");
    assert_eq!(a["criteria_not_met"], json!([RUBRIC[0]]));

    // ---- 2. The worker reads why on her phone and sends the work again ----
    let Some(phone_browser) = Browser::launch("fair_work_worker").await else {
        return;
    };
    let her = phone_browser.new_page().await;
    her.emulate_android().await;
    her.goto(&format!("{}/", app.base)).await;
    sign_in(&her, &worker_email, PASSWORD).await;
    her.wait_for("nav a[href='#/mis-tareas']").await;
    go(&her, &format!("#/asignacion/{id}")).await;
    her.wait_for(".reason.said").await;
    let said = eval_str(&her, "document.querySelector('.reason.said').innerText").await;
    assert!(
        said.contains("Motivo: El trabajo está incompleto"),
        "{said}"
    );
    assert!(said.contains(RUBRIC[0]), "{said}");
    assert!(
        said.contains("A varios tiquetes les falta la prioridad."),
        "{said}"
    );
    assert_eq!(
        her.eval("!!document.querySelector('#appeal')").await,
        json!(false)
    );
    check_screen(&her, "justo-cambios-celular").await;
    not_wider_than_the_phone(&her, "justo-cambios-celular").await;
    her.type_into("#deliverable", "https://docs.example.com/tiquetes-v2")
        .await;
    her.click("#submit-work button[type=submit]").await;
    her.wait_for_text("Trabajo entregado.").await;
    verified(&app, &owner, &id).await;

    // The reviewer rejects it now (a rework round was given), with another reason.
    open_in_queue(&page, &id).await;
    assert_eq!(
        eval_str(
            &page,
            "document.querySelector('label[for=d-reject]').innerText"
        )
        .await,
        "Rechazar"
    );
    assert!(page.text().await.contains("Ya se pidieron cambios una vez"));
    page.click("#d-reject").await;
    page.set_value("#reason-code", "wrong_output").await;
    page.click("#crit-2").await;
    page.type_into("#reason", "La hoja perdió las columnas de fecha.")
        .await;
    page.click("#review-form button[type=submit]").await;
    page.wait_for_text("Entrega rechazada.").await;
    office.close().await;
    let a = assignment(&app, &worker, &id).await;
    assert_eq!(a["status"], "rejected", "{a}");
    assert!(a["appealable_until"].is_string(), "{a}");

    // ---- 3. She appeals from the phone ----
    go(&her, "#/mis-tareas").await;
    her.wait_for_text("Rechazada").await;
    let card = her.text().await;
    assert!(
        card.contains("Motivo: El resultado no es el pedido"),
        "{card}"
    );
    assert!(card.contains("Puede apelar hasta:"), "{card}");
    go(&her, &format!("#/asignacion/{id}")).await;
    her.wait_for("#appeal").await;
    let said = eval_str(&her, "document.querySelector('.reason.said').innerText").await;
    assert!(said.contains(RUBRIC[2]), "{said}");
    assert_eq!(
        her.eval("document.querySelector('#appeal-form').hidden")
            .await,
        json!(true)
    );
    her.click(".appeal-open").await;
    her.wait_until(
        "!document.querySelector('#appeal-form').hidden",
        Duration::from_secs(5),
    )
    .await;
    her.click("#appeal-form button[type=submit]").await;
    assert_eq!(
        form_says(&her, "#appeal-form", "error").await,
        "Escriba por qué no está de acuerdo: el equipo de Vereda lo leerá."
    );
    let why = "Las columnas de fecha no venían en la hoja original: lo dice la guía, punto 3.";
    her.type_into("#appeal-reason", why).await;
    // No signal: said plainly, nothing sent, the text kept on the phone.
    her.set_offline(true).await;
    her.click("#appeal-form button[type=submit]").await;
    assert_eq!(
        form_says(&her, "#appeal-form", "error").await,
        "Para apelar necesita conexión. Lo que escribió queda guardado en este equipo: envíelo cuando vuelva la señal."
    );
    her.eval("document.querySelector('#appeal').scrollIntoView({block: 'start'})")
        .await;
    check_screen(&her, "justo-apelar-sin-senal-celular").await;
    not_wider_than_the_phone(&her, "justo-apelar-sin-senal-celular").await;
    go(&her, "#/mis-tareas").await;
    her.wait_for_text("Mis tareas").await;
    her.set_offline(false).await;
    let a = assignment(&app, &worker, &id).await;
    assert!(a.get("appeal").is_none_or(Value::is_null), "{a}");
    // Back on the assignment: the form is open with what she wrote.
    go(&her, &format!("#/asignacion/{id}")).await;
    her.wait_for("#appeal-reason").await;
    assert_eq!(
        eval_str(&her, "document.querySelector('#appeal-reason').value").await,
        why
    );
    her.click("#appeal-form button[type=submit]").await;
    her.wait_for("#appeal-state").await;
    her.wait_for_text("Apelación enviada.").await;
    let state = eval_str(&her, "document.querySelector('#appeal-state').innerText").await;
    assert!(state.contains("En revisión"), "{state}");
    assert!(state.contains(why), "{state}");
    assert!(state.contains("Responderá a más tardar"), "{state}");
    check_screen(&her, "justo-apelacion-enviada-celular").await;
    not_wider_than_the_phone(&her, "justo-apelacion-enviada-celular").await;
    let a = assignment(&app, &worker, &id).await;
    let appeal = a["appeal"].clone();
    assert_eq!(appeal["status"], "open", "{a}");
    assert_eq!(appeal["kind"], "rejection", "{a}");
    assert_eq!(appeal["reason"], why);
    let appeal_id = appeal["id"].as_str().unwrap().to_string();

    // ---- 4. Staff overturn it, paying 1 h 30 min ----
    let Some(staff_browser) = Browser::launch("fair_work_staff").await else {
        return;
    };
    let staff = staff_browser.new_page().await;
    desktop(&staff).await;
    staff.goto(&format!("{}/", app.base)).await;
    sign_in(&staff, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    staff.wait_for("nav a[href='#/apelaciones']").await;
    // Five business days cannot pass in a test: the list's answer says this one is overdue.
    alter_answers(
        &staff,
        "/v1/appeals",
        "for (const p of body.items || []) p.overdue = true;",
    )
    .await;
    go(&staff, "#/apelaciones").await;
    staff
        .wait_for(&format!("[data-appeal='{appeal_id}']"))
        .await;
    let card_sel = format!("[data-appeal='{appeal_id}']");
    let card = eval_str(
        &staff,
        &format!("document.querySelector({}).innerText", js_str(&card_sel)),
    )
    .await;
    for want in [
        TITLE,
        "Vencida",
        "Rechazo",
        "Luz Teletrabajadora", // staff see her full name
        why,
        "Lo que decidió la empresa",
        "Motivo: El resultado no es el pedido",
        RUBRIC[2],
        "La hoja perdió las columnas de fecha.",
        "Tiempo registrado: 2 h",
    ] {
        assert!(card.contains(want), "{want:?} in {card}");
    }
    assert_eq!(
        staff
            .eval(&format!(
                "document.querySelector({}).classList.contains('overdue')",
                js_str(&card_sel)
            ))
            .await,
        json!(true)
    );
    real_answers(&staff).await;
    let form = format!("#decide-{appeal_id}");
    staff.click(&format!("#ap-{appeal_id}-overturn")).await;
    assert_eq!(
        eval_str(
            &staff,
            &format!("document.querySelector('#ap-{appeal_id}-hours').value")
        )
        .await,
        "2"
    );
    staff.click(&format!("{form} button[type=submit]")).await;
    assert_eq!(
        form_says(&staff, &form, "error").await,
        "Escriba la decisión: la persona y la empresa la leerán."
    );
    let decision =
        "La guía no pedía las columnas de fecha: el trabajo cumple. Se pagan 1 h 30 min.";
    staff
        .type_into(&format!("#ap-{appeal_id}-text"), decision)
        .await;
    staff
        .type_into(&format!("#ap-{appeal_id}-hours"), "3")
        .await;
    staff.click(&format!("{form} button[type=submit]")).await;
    assert_eq!(
        form_says(&staff, &form, "error").await,
        "Escriba un tiempo mayor que cero y no mayor que lo registrado (2 h)."
    );
    staff
        .type_into(&format!("#ap-{appeal_id}-hours"), "1")
        .await;
    staff
        .type_into(&format!("#ap-{appeal_id}-minutes"), "30")
        .await;
    check_office_screen(&staff, "justo-apelaciones", &form).await;
    staff.click(&format!("{form} button[type=submit]")).await;
    staff
        .wait_for_text("Decisión guardada: se anuló la decisión")
        .await;
    staff.wait_for("#appeals-none").await;
    staff_browser.close().await;

    let decided = app.get("/v1/appeals?status=overturned", Some(&admin)).await;
    let item = decided.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == appeal_id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the overturned appeal: {}", decided.text));
    assert_eq!(item["paid_seconds"], 5400);
    assert_eq!(item["decision"], decision);
    let a = assignment(&app, &worker, &id).await;
    assert_eq!(a["status"], "approved", "{a}");
    assert_eq!(a["approved_seconds"], 5400, "{a}");
    // The company reads the decision too.
    let seen = assignment(&app, &owner, &id).await;
    assert_eq!(seen["appeal"]["decision"], decision, "{seen}");

    // ---- 5. She sees the decision ----
    go(&her, "#/mis-tareas").await;
    her.wait_for_text("Aprobada: 1 h 30 min").await;
    go(&her, &format!("#/asignacion/{id}")).await;
    her.wait_for("#appeal-decision").await;
    let state = eval_str(&her, "document.querySelector('#appeal-state').innerText").await;
    assert!(state.contains("Decisión anulada"), "{state}");
    assert!(state.contains("Vereda le dio la razón"), "{state}");
    assert!(state.contains(decision), "{state}");
    assert!(
        state.contains("Tiempo que se le paga: 1 h 30 min"),
        "{state}"
    );
    assert!(her.text().await.contains("Aprobada"));
    her.eval("document.querySelector('#appeal-state').scrollIntoView({block: 'start'})")
        .await;
    check_screen(&her, "justo-apelacion-decidida-celular").await;
    not_wider_than_the_phone(&her, "justo-apelacion-decidida-celular").await;
    phone_browser.close().await;
}

/// A worker with an e-mail we know; returns (e-mail, token).
async fn worker_with_email(app: &TestApp, admin: &str, name: &str) -> (String, String) {
    let email = format!("persona-{}@correo.test", short_id());
    app.post(
        "/v1/workers",
        Some(admin),
        json!({
            "name": name, "email": email, "password": PASSWORD,
            "municipality": "Ataco", "department": "Tolima",
            "skills": ["data-cleaning"],
            "payout_method": {"kind": "nequi", "phone": "3123334455"},
        }),
    )
    .await
    .ok(201);
    let token = app.login(&email, PASSWORD).await;
    (email, token)
}

#[tokio::test]
async fn a_mass_rejection_is_held_and_the_company_and_the_worker_are_told_why() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Comercializadora Andina").await;
    let reviewer_email = format!("julian-{}@empresa.test", short_id());
    app.post(
        &format!("/v1/companies/{company}/members"),
        Some(&owner),
        json!({"name": "Julián Revisor", "email": reviewer_email, "password": PASSWORD, "member_role": "reviewer"}),
    )
    .await
    .ok(201);
    // Five slots of a task without a rework round, five workers, five submissions.
    let r = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Etiquetar fotos de productos", "instructions": "Una etiqueta por foto.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": {"kind": "fixed", "price": "60000", "estimated_hours": "2"},
                "slots": 5, "claim_minutes": 2880, "review_business_days": 3,
                "allows_changes": false,
            }),
        )
        .await;
    let task = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/tasks/{task}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let mut work = Vec::new();
    for i in 0..5 {
        let (email, token) = worker_with_email(&app, &admin, &format!("Persona {i} Rojas")).await;
        let claim = app
            .post(&format!("/v1/tasks/{task}/claims"), Some(&token), json!({}))
            .await;
        let id = claim.ok(201)["id"].as_str().unwrap().to_string();
        app.post(
            &format!("/v1/assignments/{id}/submission"),
            Some(&token),
            json!({"deliverable_url": format!("https://docs.example.com/fotos-{i}")}),
        )
        .await
        .ok(200);
        work.push((id, email, token));
    }
    for (id, _, _) in &work {
        verified(&app, &owner, id).await;
    }
    // Four rejected over the API take effect (fewer than five decided so far).
    for (id, _, _) in &work[..4] {
        let r = app
            .post(
                &format!("/v1/assignments/{id}/review"),
                Some(&owner),
                json!({"decision": "reject", "reason_code": "wrong_output", "reason": "Las etiquetas no corresponden."}),
            )
            .await;
        assert_eq!(r.ok(200)["status"], "rejected", "{}", r.text);
    }

    // The fifth, rejected in the browser: held, and the company is told why.
    let (last, email, _) = &work[4];
    let Some(office) = Browser::launch("fair_work_held").await else {
        return;
    };
    let page = office.new_page().await;
    desktop(&page).await;
    page.goto(&format!("{}/", app.base)).await;
    sign_in(&page, &reviewer_email, PASSWORD).await;
    page.wait_for("#review-queue").await;
    open_in_queue(&page, last).await;
    // No rework round on this task: a plain rejection, no hint.
    assert_eq!(
        eval_str(
            &page,
            "document.querySelector('label[for=d-reject]').innerText"
        )
        .await,
        "Rechazar"
    );
    assert_eq!(
        page.eval("document.querySelector('#rq-rework-hint').hidden")
            .await,
        json!(true)
    );
    assert_eq!(
        page.eval("!!document.querySelector('#rq-criteria')").await,
        json!(false)
    );
    page.click("#d-reject").await;
    page.set_value("#reason-code", "wrong_output").await;
    page.type_into("#reason", "Las etiquetas no corresponden.")
        .await;
    page.click("#review-form button[type=submit]").await;
    page.wait_for("main .notice.warn").await;
    let said = eval_str(
        &page,
        "document.querySelector('main .notice.warn').innerText",
    )
    .await;
    assert!(
        said.starts_with("El rechazo quedó en revisión de la plataforma"),
        "{said}"
    );
    assert!(said.contains("más del 30 %"), "{said}");
    check_screen(&page, "justo-rechazo-retenido-escritorio").await;
    office.close().await;
    let a = assignment(&app, &owner, last).await;
    assert_eq!(a["appeal"]["kind"], "held", "{a}");
    assert_eq!(a["appeal"]["status"], "open", "{a}");

    // The worker reads that the platform is reviewing it.
    let Some(phone_browser) = Browser::launch("fair_work_held_worker").await else {
        return;
    };
    let her = phone_browser.new_page().await;
    her.emulate_android().await;
    her.goto(&format!("{}/", app.base)).await;
    sign_in(&her, email, PASSWORD).await;
    her.wait_for("nav a[href='#/mis-tareas']").await;
    go(&her, &format!("#/asignacion/{last}")).await;
    her.wait_for("#appeal-state").await;
    her.wait_for_text("el rechazo está en revisión del equipo de Vereda")
        .await;
    let state = eval_str(&her, "document.querySelector('#appeal-state').innerText").await;
    assert!(state.contains("Revisión del rechazo por Vereda"), "{state}");
    assert!(
        state.contains("El equipo de Vereda está revisando este rechazo"),
        "{state}"
    );
    assert_eq!(
        her.eval("!!document.querySelector('#appeal')").await,
        json!(false)
    );
    check_screen(&her, "justo-rechazo-retenido-celular").await;
    not_wider_than_the_phone(&her, "justo-rechazo-retenido-celular").await;
    phone_browser.close().await;
}
