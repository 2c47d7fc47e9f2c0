//! The reviewer's queue in a real browser (issue 17 §3 and §5): a company's reviewer signs in,
//! sees three submissions oldest first with the time left before each is approved on its own,
//! opens one (link, notes, findings, the time drawn day by day), approves it, approves the next
//! for fewer hours with a reason, asks for changes on the third with a reason from the list
//! (issue 21: the task allows changes, so a rejection must wait for a rework round, and the form
//! says so); each time the next submission opens by itself. Each worker's record is shown. A
//! decision a colleague made meanwhile is refused in Spanish, from the problem's `detail_es`.
//! Then the workers read each outcome over the API.
//!
//! Screenshots of the queue and of a submission, at phone (360×740) and desktop (1280×900)
//! size, go where web_app.rs puts its own; axe-core must find nothing serious on any.

use std::time::Duration;

use serde_json::{Value, json};
use vereda_tests::browser::{Browser, Page, check_screen, desktop, js_str};
use vereda_tests::{PASSWORD, TestApp, eventually, spawn_app};

use crate::review_queue::{Scene, fixed, scene, task};

async fn eval_str(page: &Page, js: &str) -> String {
    page.eval(js).await.as_str().unwrap_or_default().to_string()
}

/// Wait until submission `id` is open with its decision form.
async fn opened(page: &Page, id: &str) {
    // After a decision the address changes a moment before the next item's form replaces the
    // last one: wait for a form not seen before, and mark it seen.
    page.wait_until(
        &format!(
            "location.hash === {} && document.querySelector('#review-form:not([data-seen])')",
            js_str(&format!("#/revision/{id}"))
        ),
        Duration::from_secs(30),
    )
    .await;
    page.eval("document.querySelector('#review-form').dataset.seen = '1'")
        .await;
}

async fn heading(page: &Page) -> String {
    eval_str(page, "document.querySelector('h1').innerText").await
}

/// Wait until the screen's heading is `title` (after a decision the next item's screen
/// replaces the queue's a moment after the address changes), then return it.
async fn heading_becomes(page: &Page, title: &str) -> String {
    page.wait_until(
        &format!(
            "(document.querySelector('h1') || {{}}).innerText === {}",
            js_str(title)
        ),
        Duration::from_secs(30),
    )
    .await;
    heading(page).await
}

async fn form_says(page: &Page) -> String {
    page.wait_for("#review-form .form-msg .notice.error").await;
    eval_str(
        page,
        "document.querySelector('#review-form .form-msg').innerText",
    )
    .await
}

async fn save(page: &Page) {
    page.click("#review-form button[type=submit]").await;
}

async fn assignment(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/v1/assignments/{id}"), Some(token))
        .await
        .ok(200)
        .clone()
}

/// A fourth submission, by the first worker, waiting behind the others once verified.
async fn one_more(s: &Scene) -> String {
    let app = &s.app;
    let id = task(app, &s.owner, "Revisar fichas de asociados", fixed()).await;
    let token = &s.people[0].token;
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{id}/claims")))
                .bearer_auth(token),
        )
        .await;
    let assignment = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/assignments/{assignment}/submission"),
        Some(token),
        json!({"deliverable_url": "https://docs.example.com/fichas"}),
    )
    .await
    .ok(200);
    eventually(Duration::from_secs(60), || async {
        (app.get(&format!("/v1/assignments/{assignment}"), Some(&s.owner))
            .await
            .body["status"]
            == "verified")
            .then_some(())
    })
    .await
    .expect("verified");
    assignment
}

#[tokio::test]
async fn a_reviewer_works_through_the_queue_oldest_first() {
    let s = scene(spawn_app().await).await;
    let app = &s.app;
    let Some(browser) = Browser::launch("a_reviewer_works_through_the_queue_oldest_first").await
    else {
        return;
    };
    let page = browser.new_page().await;
    page.emulate_phone().await;
    page.goto(&format!("{}/", app.base)).await;
    page.wait_for("#signin").await;
    page.type_into("#email", &s.reviewer_email).await;
    page.type_into("#password", PASSWORD).await;
    page.click("#signin button[type=submit]").await;

    // A reviewer lands on the queue: three submissions, oldest first.
    page.wait_for("#review-queue").await;
    let order: Vec<String> = page
        .eval(
            "[...document.querySelectorAll('#review-queue > li')].map(li => li.dataset.assignment)",
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = s.work.iter().map(|w| w.assignment.clone()).collect();
    assert_eq!(order, want);
    let text = page.text().await;
    assert!(text.contains("3 entregas esperan su decisión."), "{text}");
    // Three business days to review (their end depends on today's weekday and holidays).
    assert_eq!(text.matches("Se aprueba sola en ").count(), 3, "{text}");
    // Each worker's record: nobody has a decided submission yet.
    assert_eq!(
        text.matches("Historial: todavía no tiene entregas decididas.")
            .count(),
        3,
        "{text}"
    );
    for (w, shown) in s.work.iter().zip(["Ana P.", "Yurany C.", "Luz T."]) {
        assert_eq!(s.people[w.worker].shown_as, shown);
        assert!(text.contains(&format!("Entregada por {shown}")), "{text}");
    }
    for p in &s.people {
        for secret in p.personal() {
            assert!(!text.contains(&secret), "the page shows {secret:?}");
        }
    }
    check_screen(&page, "revision-cola-telefono").await;

    // The oldest: link, notes, findings, the time day by day.
    page.click(&format!("#review-queue a[href='#/revision/{}']", want[0]))
        .await;
    opened(&page, &want[0]).await;
    assert_eq!(
        heading_becomes(&page, s.work[0].title).await,
        s.work[0].title
    );
    let link = page
        .eval("(() => { const a = document.querySelector('#rq-link'); return [a.href, a.target, a.rel]; })()")
        .await;
    assert_eq!(link[0], "https://docs.example.com/entrega-1");
    assert_eq!(link[1], "_blank");
    assert!(link[2].as_str().unwrap().contains("noopener"), "{link}");
    let text = page.text().await;
    assert!(text.contains("Revisé todo dos veces."), "{text}");
    assert!(
        text.contains("Hay tiempo registrado antes de tomar la tarea."),
        "{text}"
    );
    assert!(text.contains("Total: 3 h en "), "{text}");
    // Entries 52, 28 and 3 hours ago: at least three Bogotá days, a bar per stretch, and each
    // bar said in words too.
    let days = page
        .eval("document.querySelectorAll('.tl-day').length")
        .await;
    assert!(days.as_i64().unwrap() >= 3, "{days}");
    let (bars, words) = (
        page.eval("document.querySelectorAll('.tl-bar').length")
            .await,
        page.eval("document.querySelectorAll('.tl-entries li').length")
            .await,
    );
    assert_eq!(bars, words);
    assert!(bars.as_i64().unwrap() >= 3);
    assert!(
        text.contains("desde el equipo"),
        "the offline entry: {text}"
    );
    assert!(text.contains("Avance del día"), "{text}");
    check_screen(&page, "revision-entrega-telefono").await;
    page.eval("document.querySelector('.rq-timeline').scrollIntoView()")
        .await;
    check_screen(&page, "revision-tiempo-telefono").await;

    // The same at desktop size, and the queue.
    desktop(&page).await;
    page.eval("window.scrollTo(0, 0)").await;
    check_screen(&page, "revision-entrega-escritorio").await;
    page.eval("document.querySelector('.rq-timeline').scrollIntoView()")
        .await;
    check_screen(&page, "revision-tiempo-escritorio").await;
    page.eval("location.hash = '#/revision'").await;
    page.wait_for("#review-queue").await;
    check_screen(&page, "revision-cola-escritorio").await;

    // Approve the oldest, on the desktop: the next one opens.
    page.click(&format!("#review-queue a[href='#/revision/{}']", want[0]))
        .await;
    opened(&page, &want[0]).await;
    // No decision chosen: said in Spanish, nothing sent.
    save(&page).await;
    assert_eq!(form_says(&page).await, "Elija una decisión.");
    page.click("#d-approve").await;
    save(&page).await;
    opened(&page, &want[1]).await;
    assert_eq!(
        heading_becomes(&page, s.work[1].title).await,
        s.work[1].title
    );
    page.wait_for_text("Entrega aprobada. Esta es la siguiente entrega.")
        .await;

    // The second, on the phone: fewer hours than logged (1 h 45 min), with a reason.
    page.emulate_phone().await;
    page.click("#d-fewer").await;
    page.wait_until(
        "!document.querySelector('#rq-fewer').hidden",
        Duration::from_secs(5),
    )
    .await;
    page.type_into("#fewer-hours", "2").await;
    page.type_into("#fewer-minutes", "0").await;
    page.type_into("#reason", "Una parte fue de pruebas.").await;
    save(&page).await;
    assert_eq!(
        form_says(&page).await,
        "Escriba un tiempo mayor que cero y menor que lo registrado (1 h 45 min)."
    );
    page.type_into("#fewer-hours", "1").await;
    page.type_into("#fewer-minutes", "15").await;
    page.type_into("#reason", "").await;
    save(&page).await;
    assert_eq!(
        form_says(&page).await,
        "Escriba el motivo: la persona lo leerá."
    );
    page.type_into("#reason", "Una parte del tiempo fue de pruebas.")
        .await;
    page.eval("document.querySelector('#rq-fewer').scrollIntoView({block: 'center'})")
        .await;
    check_screen(&page, "revision-menos-horas-telefono").await;
    save(&page).await;
    opened(&page, &want[2]).await;
    page.wait_for_text("Entrega aprobada por 1 h 15 min.").await;

    // The third is fixed-price: no fewer hours. The task allows changes and this is the first
    // decision against the work: a rejection must wait for a rework round, and the form says so.
    assert_eq!(
        page.eval("!!document.querySelector('#d-fewer')").await,
        json!(false)
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
        page.eval("!document.querySelector('#rq-rework-hint').hidden")
            .await,
        json!(true)
    );
    // Rejecting now leaves only «not original» to choose (never chosen for the reviewer).
    page.click("#d-reject").await;
    assert_eq!(
        eval_str(&page, "document.querySelector('#reason-code').value").await,
        ""
    );
    assert_eq!(
        page.eval("[...document.querySelectorAll('#reason-code option:not([disabled])')].map(o => o.value)")
            .await,
        json!(["", "not_original"])
    );
    // Changes need a reason from the list and the reviewer's own words.
    page.click("#d-changes").await;
    assert_eq!(
        eval_str(&page, "document.querySelector('#reason-code').value").await,
        ""
    );
    save(&page).await;
    assert_eq!(form_says(&page).await, "Elija el motivo de la lista.");
    page.set_value("#reason-code", "incomplete").await;
    save(&page).await;
    assert_eq!(
        form_says(&page).await,
        "Escriba el motivo: la persona lo leerá."
    );
    page.type_into("#reason", "Faltan las etiquetas de prioridad.")
        .await;
    // Meanwhile a fourth submission arrives: it opens next.
    let fourth = one_more(&s).await;
    save(&page).await;
    opened(&page, &fourth).await;
    page.wait_for_text("Se pidieron cambios.").await;

    // A colleague decides the fourth first: the refusal is the API's own Spanish sentence.
    // (Rejected at once: work that is not original needs no rework round.)
    app.post(
        &format!("/v1/assignments/{fourth}/review"),
        Some(&s.owner),
        json!({"decision": "reject", "reason_code": "not_original",
               "reason": "Las fichas son copia de las del mes pasado."}),
    )
    .await
    .ok(200);
    let again = app
        .post(
            &format!("/v1/assignments/{fourth}/review"),
            Some(&s.owner),
            json!({"decision": "approve"}),
        )
        .await;
    let detail_es = again.problem(409).body["detail_es"]
        .as_str()
        .unwrap()
        .to_string();
    page.click("#d-approve").await;
    save(&page).await;
    assert_eq!(form_says(&page).await, detail_es);
    page.eval("document.querySelector('#review-form .form-msg').scrollIntoView({block: 'center'})")
        .await;
    check_screen(&page, "revision-rechazo-telefono").await;
    page.click_text("Volver a la lista").await;
    page.wait_for_text("No hay entregas por revisar.").await;
    check_screen(&page, "revision-vacia-telefono").await;

    // Each worker reads the outcome.
    let worker = |i: usize| &s.people[s.work[i].worker].token;
    let first = assignment(app, worker(0), &want[0]).await;
    assert_eq!(first["status"], "approved");
    assert_eq!(first["approved_seconds"], s.work[0].logged);
    assert_eq!(first["logged_seconds"], 3 * 3600);
    let second = assignment(app, worker(1), &want[1]).await;
    assert_eq!(second["status"], "approved");
    assert_eq!(second["approved_seconds"], 4500);
    assert_eq!(second["reason"], "Una parte del tiempo fue de pruebas.");
    let third = assignment(app, worker(2), &want[2]).await;
    assert_eq!(third["status"], "changes_requested");
    assert_eq!(third["reason"], "Faltan las etiquetas de prioridad.");
    assert_eq!(third["reason_code"], "incomplete");
    assert!(third.get("approved_seconds").is_none());
    let fourth = assignment(app, &s.people[0].token, &fourth).await;
    assert_eq!(fourth["status"], "rejected");
    assert_eq!(fourth["reason_code"], "not_original");
    browser.close().await;
}
