//! Mass assignment (issue 8 §2): fields that are not inputs of a request — `role`,
//! `company_id`, `worker_id`, `status`, amounts, `id`, timestamps — are refused with 422 naming
//! the field, on every write route of the contract and in nested objects, and read-backs show
//! that nothing of a refused request was applied.

use crate::write_routes::*;
use serde_json::{Value, json};
use vereda_tests::*;

/// Fields a client must never set where they are not documented inputs.
fn forbidden() -> Vec<(&'static str, Value)> {
    vec![
        ("role", json!("admin")),
        ("member_role", json!("owner")),
        ("company_id", json!("01900000-0000-7000-8000-000000000000")),
        ("worker_id", json!("01900000-0000-7000-8000-000000000000")),
        ("user_id", json!("01900000-0000-7000-8000-000000000000")),
        ("status", json!("approved")),
        ("id", json!("01900000-0000-7000-8000-000000000000")),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
        ("earnings", json!("99999999")),
        ("fee", json!("0")),
        ("total", json!("1")),
        ("balance", json!("99999999")),
        ("amount", json!("99999999")),
        ("margin", json!("0")),
        ("approved_seconds", json!(999999)),
        ("verified", json!(true)),
        ("is_admin", json!(true)),
    ]
}

#[tokio::test]
async fn fields_that_are_not_inputs_are_refused_on_every_write_route() {
    let app = spawn_app_without_worker().await;
    let fx = Fixture::new(&app).await;
    let spec = app.get("/openapi.json", None).await;
    let spec = spec.ok(200).clone();
    let catalogue = catalogue();
    assert_eq!(
        documented_writes(&spec),
        catalogue
            .iter()
            .map(|w| generic(w.method, w.path))
            .collect(),
        "write routes missing from the catalogue (tests/tests/write_routes)"
    );

    let before = row_counts(&app.db).await;
    let mut failures = Vec::new();
    let mut tried = 0;
    for w in &catalogue {
        let Body::Json(valid) = &w.body else { continue };
        let props = request_properties(&spec, w.method, w.path);
        // Where to inject: the top level, and each object-valued property of the valid body.
        let mut targets: Vec<(String, Vec<String>)> = vec![(
            String::new(),
            props.iter().map(|(n, _)| n.clone()).collect(),
        )];
        for (name, inner) in &props {
            if valid[name].is_object() {
                targets.push((name.clone(), inner.clone()));
            }
        }
        for (at, inputs) in &targets {
            for (field, value) in forbidden() {
                if inputs.iter().any(|i| i == field) {
                    continue; // a documented input of this request: its own tests cover it
                }
                let mut body = fx.body(valid);
                let target = if at.is_empty() {
                    &mut body
                } else {
                    &mut body[at]
                };
                target[field] = value.clone();
                let mut req = app
                    .client
                    .request(w.method.parse().unwrap(), app.url(&fx.path(w.path)))
                    .json(&body);
                if let Some(t) = fx.token(w.actor) {
                    req = req.bearer_auth(t);
                }
                let r = app.send(req).await;
                tried += 1;
                let want = if at.is_empty() {
                    field.to_string()
                } else {
                    format!("{at}.{field}")
                };
                if r.status != 422 || r.field() != want {
                    failures.push(format!(
                        "{} {} with `{want}`: expected 422 naming it, got {} {}",
                        w.method, w.path, r.status, r.text
                    ));
                }
            }
        }
    }
    assert!(tried > 300, "only {tried} attempts");
    assert!(
        failures.is_empty(),
        "{} fields were not refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        row_counts(&app.db).await,
        before,
        "a refused request wrote something"
    );
}

#[tokio::test]
async fn refused_fields_are_never_applied_read_back() {
    let app = spawn_app_without_worker().await;
    let fx = Fixture::new(&app).await;
    let worker_path = format!("/v1/workers/{}", fx.worker_id);

    // A worker cannot rename themselves into someone else's user or change their id.
    let r = app
        .patch(
            &worker_path,
            Some(&fx.worker),
            json!({"municipality": "Otra", "user_id": "01900000-0000-7000-8000-000000000000"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "user_id");
    let read = app.get(&worker_path, Some(&fx.worker)).await;
    assert_eq!(
        read.ok(200)["municipality"],
        "Chaparral",
        "half of a refused patch applied"
    );

    // A worker's own preferences cannot carry a role; /v1/me still says worker.
    let r = app
        .patch(
            "/v1/me/email-preferences",
            Some(&fx.worker),
            json!({"non_essential": false, "role": "admin"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "role");
    let me = app.get("/v1/me", Some(&fx.worker)).await;
    assert_eq!(me.ok(200)["role"], "worker");
    let prefs = app.get("/v1/me/email-preferences", Some(&fx.worker)).await;
    assert_eq!(prefs.ok(200)["non_essential"], true, "{}", prefs.text);

    // A new company's owner cannot be made an administrator.
    let email = format!("owner-{}@empresa.test", short_id());
    let r = app
        .post(
            "/v1/companies",
            Some(&fx.admin),
            json!({"name": "Intrusa", "nit": random_nit(), "billing_email": "b@c.test",
                "owner": {"name": "Olga", "email": email, "password": PASSWORD, "role": "admin"}}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "owner.role");
    let login = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        login.status, 401,
        "the refused owner exists: {}",
        login.text
    );

    // An owner cannot set the margin or NIT (staff only), nor move a task to another company
    // or publish it by `status`.
    let company_path = format!("/v1/companies/{}", fx.company);
    let before = app
        .get(&company_path, Some(&fx.owner))
        .await
        .ok(200)
        .clone();
    let r = app
        .patch(&company_path, Some(&fx.owner), json!({"margin": "0.01"}))
        .await;
    assert!(
        r.status == 403 || r.status == 422,
        "owner set the margin: {}",
        r.text
    );
    let after = app
        .get(&company_path, Some(&fx.owner))
        .await
        .ok(200)
        .clone();
    assert_eq!(before["margin"], after["margin"]);
    assert_eq!(before["nit"], after["nit"]);

    let (other_company, _) = app.company(&fx.admin, "Otra").await;
    let mut task = fixed_task();
    task["company_id"] = json!(other_company);
    task["status"] = json!("published");
    let r = app.post("/v1/tasks", Some(&fx.owner), task).await;
    r.problem(422);
    let draft_path = format!("/v1/tasks/{}", fx.draft);
    let r = app
        .patch(
            &draft_path,
            Some(&fx.owner),
            json!({"slots": 9, "status": "published"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "status");
    let draft = app.get(&draft_path, Some(&fx.owner)).await;
    assert_eq!(draft.ok(200)["status"], "draft");
    assert_eq!(draft.body["slots"], 3);
    // The fixture's published task and draft, and its one-row batch's draft: no more.
    let owner_tasks = app.get("/v1/tasks", Some(&fx.owner)).await;
    assert_eq!(owner_tasks.ok(200)["items"].as_array().unwrap().len(), 3);

    // A worker cannot approve their own work or set what it earns.
    let assignment_path = format!("/v1/assignments/{}", fx.assignment);
    let r = app
        .post(
            &format!("{assignment_path}/submission"),
            Some(&fx.worker),
            json!({"deliverable_url": "https://x.example/a", "status": "approved", "earnings": "99999999"}),
        )
        .await;
    r.problem(422);
    let a = app.get(&assignment_path, Some(&fx.worker)).await;
    assert_eq!(a.ok(200)["status"], "claimed", "{}", a.text);
}
