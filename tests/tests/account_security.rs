//! Account security (issue 13 §8, §12, §15, §16): changing where a worker's money goes needs
//! her password, tells her old address and holds the next payout for a day; e-mail addresses
//! cannot differ in ways a person cannot see; personal answers are never cached and companies
//! do not see the platform margin; accounts can be deactivated, members removed and people
//! signed out everywhere, by the right people only, and audited.

use std::time::Duration;

use serde_json::{Value, json};
use vereda_store::on_db;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::smtp::{Received, SmtpServer};
use vereda_tests::worked_example::worked_example;
use vereda_tests::*;

async fn app_with_smtp() -> (TestApp, SmtpServer) {
    let (app, smtp, _) = vereda_tests::spawn_app_with_smtp().await;
    (app, smtp)
}

fn subject(m: &Received) -> String {
    m.parsed().subject().unwrap_or_default().to_string()
}

async fn arrives(smtp: &SmtpServer, to: &str, prefix: &str) -> Received {
    eventually(Duration::from_secs(90), || async {
        smtp.messages()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t == to) && subject(m).starts_with(prefix))
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "no message {prefix:?} to {to}; got {:?}",
            smtp.messages().iter().map(subject).collect::<Vec<_>>()
        )
    })
}

async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/v1/me", Some(token)).await.ok(200)["email"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn user_id_of(app: &TestApp, token: &str) -> String {
    app.get("/v1/me", Some(token)).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn account_events(app: &TestApp, user_id: &str) -> Vec<(String, String)> {
    on_db!(&app.db, |p| sqlx::query_as(
        "SELECT kind, actor_id FROM account_events WHERE user_id = $1 ORDER BY id"
    )
    .bind(user_id)
    .fetch_all(p)
    .await
    .unwrap())
}

const DAVIPLATA: &str = "3209876543";

fn new_method() -> Value {
    json!({"kind": "daviplata", "phone": DAVIPLATA})
}

// ---------------------------------------------------------------------------------------------
// §8 Changing where money goes

#[tokio::test]
async fn changing_the_payout_method_needs_her_current_password() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let path = format!("/v1/workers/{worker_id}");

    let r = app
        .patch(&path, Some(&worker), json!({"payout_method": new_method()}))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "current_password");
    let r = app
        .patch(
            &path,
            Some(&worker),
            json!({"payout_method": new_method(), "current_password": "not-my-password"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "current_password");
    assert_eq!(r.code(), "wrong_password");
    let read = app.get(&path, Some(&worker)).await;
    assert_eq!(read.ok(200)["payout_method"]["kind"], "nequi", "unchanged");

    // Other fields need no password.
    app.patch(&path, Some(&worker), json!({"municipality": "Ataco"}))
        .await
        .ok(200);
    let r = app
        .patch(
            &path,
            Some(&worker),
            json!({"payout_method": new_method(), "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(r.ok(200)["payout_method"]["phone"], DAVIPLATA);
    let user_id = user_id_of(&app, &worker).await;
    assert_eq!(
        account_events(&app, &user_id).await,
        vec![("payout_method_changed".to_string(), user_id.clone())]
    );
}

#[tokio::test]
async fn guessing_the_password_through_the_payout_method_is_throttled() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let path = format!("/v1/workers/{worker_id}");
    let rs = futures::future::join_all((0..23).map(|i| {
        app.patch(
            &path,
            Some(&worker),
            json!({"payout_method": new_method(), "current_password": format!("guess-{i}-guess")}),
        )
    }))
    .await;
    let tried = rs.iter().filter(|r| r.status == 422).count();
    assert!(tried <= 5, "{tried} guesses were checked");
    assert!(rs.iter().all(|r| r.status == 422 || r.status == 429));
    let r = app
        .patch(
            &path,
            Some(&worker),
            json!({"payout_method": new_method(), "current_password": PASSWORD}),
        )
        .await;
    r.problem(429);
    assert!(r.headers.get("retry-after").is_some());
    // The same count as a password change: no second budget of guesses there.
    app.post(
        "/v1/me/password",
        Some(&worker),
        json!({"current_password": PASSWORD, "new_password": "another-long-password"}),
    )
    .await
    .problem(429);
}

#[tokio::test]
async fn her_address_is_told_of_a_change_by_her_or_by_staff() {
    let (app, smtp) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let email = email_of(&app, &worker).await;
    let path = format!("/v1/workers/{worker_id}");
    app.patch(
        &path,
        Some(&worker),
        json!({"payout_method": new_method(), "current_password": PASSWORD}),
    )
    .await
    .ok(200);
    let m = arrives(&smtp, &email, "Cambió su medio de pago").await;
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("Daviplata terminado en 6543"), "{text}");
    assert!(
        !text.contains(DAVIPLATA),
        "the full number stays out of mail"
    );
    assert!(text.contains("24 horas"), "{text}");
    assert!(text.contains("usted"), "{text}");

    // Staff change it on her behalf: no password of hers, but she is told and it is audited.
    app.patch(
        &path,
        Some(&admin),
        json!({"payout_method": {"kind": "bank", "bank": "Bancolombia", "account_type": "savings", "account_number": "123-456789-01"}}),
    )
    .await
    .ok(200);
    let m = eventually(Duration::from_secs(90), || async {
        let all: Vec<Received> = smtp
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == &email) && subject(m).starts_with("Cambió"))
            .collect();
        (all.len() == 2).then(|| all[1].clone())
    })
    .await
    .expect("a second message");
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("Bancolombia terminada en 8901"), "{text}");
    assert!(text.contains("equipo de Vereda"), "{text}");
    let admin_id = user_id_of(&app, &admin).await;
    let user_id = user_id_of(&app, &worker).await;
    let events = account_events(&app, &user_id).await;
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1],
        ("payout_method_changed".to_string(), admin_id.clone())
    );
    // Setting the same method again is no change: no mail, no hold, no event.
    app.patch(
        &path,
        Some(&admin),
        json!({"payout_method": {"kind": "bank", "bank": "Bancolombia", "account_type": "savings", "account_number": "12345678901"}}),
    )
    .await
    .ok(200);
    assert_eq!(account_events(&app, &user_id).await.len(), 2);
}

async fn payable(app: &TestApp, finance: &str, worker_id: &str) -> String {
    app.get(
        &format!("/v1/ledger/accounts/worker:{worker_id}:payable"),
        Some(finance),
    )
    .await
    .ok(200)["balance"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

#[tokio::test]
async fn a_payout_to_a_new_destination_waits_a_day() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    // Billing accrues the approved work: her 48,485 is payable.
    app.run_job(&a.finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    let before = payable(&app, &a.finance, &a.worker_id).await;
    assert_eq!(before, "-48485", "credit balance: owed to her");
    app.patch(
        &format!("/v1/workers/{}", a.worker_id),
        Some(&a.worker),
        json!({"payout_method": new_method(), "current_password": PASSWORD}),
    )
    .await
    .ok(200);

    let batch = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let batch_id = batch["subject_id"].as_str().unwrap();
    let b = app
        .get(&format!("/v1/payout-batches/{batch_id}"), Some(&a.finance))
        .await;
    let b = b.ok(200);
    let lines = b["lines"].as_array().cloned().unwrap_or_default();
    assert!(
        lines.iter().all(|l| l["worker_id"] != a.worker_id.as_str()),
        "paid to a destination changed minutes ago: {b}"
    );
    assert_eq!(
        payable(&app, &a.finance, &a.worker_id).await,
        before,
        "her balance stays payable"
    );
    assert_ledger_invariants(&app.db).await;

    // A day later the next batch pays her, to the new destination.
    let day_ago = vereda_contracts::time::unix(vereda_contracts::time::now()) - 24 * 3600 - 60;
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE worker_profiles SET payout_method_changed_at = $1 WHERE id = $2"
    )
    .bind(day_ago)
    .bind(&a.worker_id)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    let batch = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let batch_id = batch["subject_id"].as_str().unwrap();
    let b = app
        .get(&format!("/v1/payout-batches/{batch_id}"), Some(&a.finance))
        .await;
    let b = b.ok(200).clone();
    let line = b["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["worker_id"] == a.worker_id.as_str())
        .unwrap_or_else(|| panic!("not paid after the hold: {b}"))
        .clone();
    assert_eq!(line["amount"], "48485");
    let method: String = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT method FROM payout_lines WHERE worker_id = $1"
    )
    .bind(&a.worker_id)
    .fetch_one(p)
    .await
    .unwrap());
    assert!(method.contains(DAVIPLATA), "{method}");
    assert_eq!(payable(&app, &a.finance, &a.worker_id).await, "0");
    assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn a_change_by_staff_holds_the_payout_too() {
    let app = spawn_app().await;
    let a = worked_example(&app).await;
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    app.run_job(&a.finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    app.patch(
        &format!("/v1/workers/{}", a.worker_id),
        Some(&a.admin),
        json!({"payout_method": new_method()}),
    )
    .await
    .ok(200);
    let batch = app
        .run_job(&a.finance, "/v1/payout-batches", json!({}))
        .await;
    let n: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM payout_lines WHERE batch_id = $1"
    )
    .bind(batch["subject_id"].as_str().unwrap())
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(n, 0);
    assert_ledger_invariants(&app.db).await;
}

// ---------------------------------------------------------------------------------------------
// §12 E-mail addresses

fn worker_body(email: &str) -> Value {
    json!({
        "name": "Luz", "email": email, "password": PASSWORD, "municipality": "Ibagué",
        "department": "Tolima", "skills": ["labelling"],
        "payout_method": {"kind": "nequi", "phone": "3001234567"}
    })
}

#[tokio::test]
async fn lookalike_and_unsendable_addresses_are_refused_everywhere() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for bad in [
        "lu\u{200B}z@correo.test",
        "\u{430}dmin@vereda.test",
        "admin@v\u{435}reda.test",
        "billing>@x.co",
        "luz@correo.test\u{202E}",
    ] {
        let r = app
            .post("/v1/workers", Some(&admin), worker_body(bad))
            .await;
        r.problem(422);
        assert_eq!(r.field(), "email", "{bad:?}: {}", r.text);
        let r = app
            .post(
                "/v1/staff",
                Some(&admin),
                json!({"name": "S", "email": bad, "password": PASSWORD, "role": "finance"}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.field(), "email", "{bad:?}");
        let r = app
            .post(
                "/v1/companies",
                Some(&admin),
                json!({"name": "C", "nit": random_nit(), "billing_email": bad,
                   "owner": {"name": "O", "email": format!("o-{}@x.test", short_id()), "password": PASSWORD}}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.field(), "billing_email", "{bad:?}");
        let r = app
            .post(
                "/v1/companies",
                Some(&admin),
                json!({"name": "C", "nit": random_nit(), "billing_email": "f@x.test",
                   "owner": {"name": "O", "email": bad, "password": PASSWORD}}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.field(), "owner.email", "{bad:?}");
    }
    let (company, owner) = app.company(&admin, "Tienda").await;
    let r = app
        .patch(
            &format!("/v1/companies/{company}"),
            Some(&owner),
            json!({"billing_email": "billing>@x.co"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "billing_email");
    let r = app
        .post(
            &format!("/v1/companies/{company}/members"),
            Some(&owner),
            json!({"name": "M", "email": "m\u{2060}@x.test", "password": PASSWORD, "member_role": "reviewer"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "email");
}

#[tokio::test]
async fn addresses_that_look_the_same_are_one_account() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // "josé" typed with a composed é, then with e + combining acute accent.
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            worker_body("jos\u{e9}@Correo.Test"),
        )
        .await;
    assert_eq!(r.ok(201)["email"], "jos\u{e9}@correo.test");
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            worker_body(" jose\u{301}@correo.test"),
        )
        .await;
    r.problem(409);
    assert_eq!(r.code(), "email_taken");
    // She signs in however her keyboard writes the accent.
    app.login("jose\u{301}@CORREO.test", PASSWORD).await;
}

// ---------------------------------------------------------------------------------------------
// §15 Caching and the margin

#[tokio::test]
async fn personal_answers_are_never_stored_by_caches() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let no_store = |r: &Resp, what: &str| {
        let cc = r
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(cc.contains("no-store"), "{what}: Cache-Control {cc:?}");
    };
    let login = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    no_store(&login, "sign-in");
    no_store(&app.get("/v1/me", Some(&worker)).await, "me");
    no_store(
        &app.get(&format!("/v1/workers/{worker_id}"), Some(&worker))
            .await,
        "worker",
    );
    no_store(&app.get("/v1/workers", Some(&admin)).await, "workers");
    no_store(
        &app.get("/v1/me/timesheet", Some(&worker)).await,
        "timesheet",
    );
    no_store(
        &app.get(
            &format!("/v1/workers/{worker_id}/statements"),
            Some(&worker),
        )
        .await,
        "statements",
    );
    no_store(&app.get("/v1/invoices", Some(&admin)).await, "invoices");
    no_store(
        &app.get("/v1/statements/verify/NOPE-NOPE", None).await,
        "public verification (names a person)",
    );
    no_store(&app.get("/v1/me", None).await, "an error answer");
    // What is the same for everyone may be cached.
    let spec = app.get("/openapi.json", None).await;
    assert!(
        !spec
            .headers
            .get("cache-control")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("no-store")),
        "the contract is public"
    );
}

#[tokio::test]
async fn companies_do_not_see_the_platform_margin_on_tasks() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Tienda").await;
    let reviewer = app.reviewer(&owner, &company).await;
    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Etiquetar", "instructions": "Según la guía.", "category": "labelling",
                "required_skills": ["labelling"],
                "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
                "slots": 3, "claim_minutes": 600, "review_hours": 72
            }),
        )
        .await;
    let created = task.ok(201).clone();
    let id = created["id"].as_str().unwrap();
    assert!(created["cost"]["total"].is_string(), "{created}");
    assert!(
        created["cost"].get("margin").is_none(),
        "company sees margin: {created}"
    );
    // Nor through the company endpoint, nor any other view of the task.
    let own = app
        .get(&format!("/v1/companies/{company}"), Some(&owner))
        .await;
    assert!(own.ok(200).get("margin").is_none());
    for token in [&owner, &reviewer] {
        let one = app.get(&format!("/v1/tasks/{id}"), Some(token)).await;
        assert!(one.ok(200)["cost"].get("margin").is_none(), "{}", one.text);
        let list = app.get("/v1/tasks", Some(token)).await;
        for t in list.ok(200)["items"].as_array().unwrap() {
            assert!(t["cost"].get("margin").is_none(), "{t}");
        }
    }
    let staff = app.get(&format!("/v1/tasks/{id}"), Some(&admin)).await;
    assert_eq!(staff.ok(200)["cost"]["margin"], "0.2");
}

// ---------------------------------------------------------------------------------------------
// §16 Deactivating, removing, signing out everywhere

#[tokio::test]
async fn a_deactivated_account_cannot_sign_in_and_its_tokens_stop_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let email = email_of(&app, &worker).await;
    let second = app.login(&email, PASSWORD).await;
    let id = user_id_of(&app, &worker).await;
    // Cached as checked (the token cache believes a token for 2 s).
    app.get("/v1/me", Some(&worker)).await.ok(200);
    app.get("/v1/me", Some(&second)).await.ok(200);

    let r = app
        .post(
            &format!("/v1/users/{id}/deactivate"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // At once, not within the cache's age.
    app.get("/v1/me", Some(&worker)).await.problem(401);
    app.get("/v1/me", Some(&second)).await.problem(401);

    let right = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    let wrong = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": "not-her-password"}),
        )
        .await;
    right.problem(401);
    assert_eq!(
        right.body, wrong.body,
        "no way to tell a deactivated account"
    );
    let admin_id = user_id_of(&app, &admin).await;
    assert_eq!(
        account_events(&app, &id).await,
        vec![("deactivated".to_string(), admin_id)]
    );
    // Still listed for staff, as deactivated.
    let me = app
        .get(
            &format!(
                "/v1/workers/{}",
                on_db!(&app.db, |p| sqlx::query_scalar::<_, String>(
                    "SELECT worker_id FROM users WHERE id = $1"
                )
                .bind(&id)
                .fetch_one(p)
                .await
                .unwrap())
            ),
            Some(&admin),
        )
        .await;
    me.ok(200);
}

#[tokio::test]
async fn the_last_admin_cannot_be_deactivated_even_by_two_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin_id = user_id_of(&app, &admin).await;
    let r = app
        .post(
            &format!("/v1/users/{admin_id}/deactivate"),
            Some(&admin),
            json!({}),
        )
        .await;
    r.problem(409);
    assert_eq!(r.code(), "last_admin");
    app.get("/v1/me", Some(&admin)).await.ok(200);
    // A second admin; each deactivates the other at the same moment: one stays.
    let email = format!("admin2-{}@vereda.test", short_id());
    let second_id = app
        .post(
            "/v1/staff",
            Some(&admin),
            json!({"name": "Otra Admin", "email": email, "password": PASSWORD, "role": "admin"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = app.login(&email, PASSWORD).await;
    let (to_second, to_first) = (
        format!("/v1/users/{second_id}/deactivate"),
        format!("/v1/users/{admin_id}/deactivate"),
    );
    let (a, b) = tokio::join!(
        app.post(&to_second, Some(&admin), json!({})),
        app.post(&to_first, Some(&second), json!({})),
    );
    let mut got = [a.status, b.status];
    got.sort();
    assert!(
        got == [204, 409] || got == [204, 401],
        "{} / {}",
        a.text,
        b.text
    );
    let active: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND deactivated_at IS NULL"
    )
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(active, 1);
}

#[tokio::test]
async fn an_owner_manages_her_own_members_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (company, owner) = app.company(&admin, "Tienda").await;
    let (_, other_owner) = app.company(&admin, "Otra").await;
    let reviewer = app.reviewer(&owner, &company).await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let reviewer_id = user_id_of(&app, &reviewer).await;
    let owner_id = user_id_of(&app, &owner).await;
    let path = format!("/v1/users/{reviewer_id}/deactivate");
    app.post(&path, Some(&other_owner), json!({}))
        .await
        .problem(404);
    app.post(&path, Some(&worker), json!({})).await.problem(403);
    app.post(&path, Some(&finance), json!({}))
        .await
        .problem(403);
    app.post(
        &format!("/v1/users/{owner_id}/deactivate"),
        Some(&reviewer),
        json!({}),
    )
    .await
    .problem(403);
    app.get("/v1/me", Some(&reviewer)).await.ok(200);
    let r = app.post(&path, Some(&owner), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/v1/me", Some(&reviewer)).await.problem(401);
    let members = app
        .get(&format!("/v1/companies/{company}/members"), Some(&owner))
        .await;
    let gone = members.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == reviewer_id.as_str())
        .cloned()
        .expect("a deactivated member is still listed");
    assert!(gone["deactivated_at"].is_string(), "{gone}");
    // An owner cannot deactivate the company's last owner (herself).
    let r = app
        .post(
            &format!("/v1/users/{owner_id}/deactivate"),
            Some(&owner),
            json!({}),
        )
        .await;
    r.problem(409);
    assert_eq!(r.code(), "last_owner");
    app.get("/v1/me", Some(&owner)).await.ok(200);
}

async fn second_owner(app: &TestApp, owner: &str, company: &str) -> (String, String) {
    let email = format!("owner2-{}@empresa.test", short_id());
    let r = app
        .post(
            &format!("/v1/companies/{company}/members"),
            Some(owner),
            json!({"name": "Segunda Dueña", "email": email, "password": PASSWORD, "member_role": "owner"}),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    (id, app.login(&email, PASSWORD).await)
}

#[tokio::test]
async fn removing_a_member_and_never_the_last_owner() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Tienda").await;
    let (other_company, other_owner) = app.company(&admin, "Otra").await;
    let reviewer = app.reviewer(&owner, &company).await;
    let reviewer_id = user_id_of(&app, &reviewer).await;
    let owner_id = user_id_of(&app, &owner).await;
    let member = |c: &str, u: &str| format!("/v1/companies/{c}/members/{u}");
    let delete = |path: String, token: String| {
        let app = &app;
        async move {
            app.send(app.client.delete(app.url(&path)).bearer_auth(token))
                .await
        }
    };
    delete(member(&company, &reviewer_id), other_owner.clone())
        .await
        .problem(404);
    // Not a member of the company named.
    delete(member(&other_company, &reviewer_id), admin.clone())
        .await
        .problem(404);
    delete(member(&company, &owner_id), reviewer.clone())
        .await
        .problem(403);
    let r = delete(member(&company, &owner_id), owner.clone()).await;
    r.problem(409);
    assert_eq!(r.code(), "last_owner");

    let r = delete(member(&company, &reviewer_id), owner.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/v1/me", Some(&reviewer)).await.problem(401);
    let members = app
        .get(&format!("/v1/companies/{company}/members"), Some(&owner))
        .await;
    let ids: Vec<&str> = members.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![owner_id.as_str()]);
    assert_eq!(
        account_events(&app, &reviewer_id).await,
        vec![("removed_from_company".to_string(), owner_id.clone())]
    );
    // Admin removes a member too; again is no error.
    let r = delete(member(&company, &reviewer_id), admin.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let _ = other_owner;
}

#[tokio::test]
async fn two_owners_removing_each_other_at_once_leave_one() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Tienda").await;
    let owner_id = user_id_of(&app, &owner).await;
    for round in 0..3 {
        let (second_id, second) = second_owner(&app, &owner, &company).await;
        let (a, b) = tokio::join!(
            app.send(
                app.client
                    .delete(app.url(&format!("/v1/companies/{company}/members/{second_id}")))
                    .bearer_auth(&owner)
            ),
            app.send(
                app.client
                    .delete(app.url(&format!("/v1/companies/{company}/members/{owner_id}")))
                    .bearer_auth(&second)
            ),
        );
        let mut got = [a.status, b.status];
        got.sort();
        // One wins; the other finds the last owner (or, signed out by the winner, 401).
        assert!(
            got == [204, 409] || got == [204, 401],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let active: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE company_id = $1 AND member_role = 'owner' \
             AND deactivated_at IS NULL"
        )
        .bind(&company)
        .fetch_one(p)
        .await
        .unwrap());
        assert_eq!(active, 1, "round {round}");
        if a.status != 204 {
            // The second owner won: carry on with her.
            return;
        }
    }
}

#[tokio::test]
async fn signing_out_everywhere() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Tienda").await;
    let reviewer = app.reviewer(&owner, &company).await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let worker_email = email_of(&app, &worker).await;
    let other_session = app.login(&worker_email, PASSWORD).await;
    let worker_id = user_id_of(&app, &worker).await;
    let reviewer_id = user_id_of(&app, &reviewer).await;
    app.get("/v1/me", Some(&other_session)).await.ok(200);

    // A worker signs herself out everywhere, this session included.
    let r = app
        .post(
            &format!("/v1/users/{worker_id}/sign-out"),
            Some(&worker),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/v1/me", Some(&worker)).await.problem(401);
    app.get("/v1/me", Some(&other_session)).await.problem(401);
    // She is not deactivated: she signs in again.
    let worker = app.login(&worker_email, PASSWORD).await;

    // Not someone else, unless she manages them.
    app.post(
        &format!("/v1/users/{reviewer_id}/sign-out"),
        Some(&worker),
        json!({}),
    )
    .await
    .problem(403);
    app.post(
        &format!("/v1/users/{worker_id}/sign-out"),
        Some(&owner),
        json!({}),
    )
    .await
    .problem(404);
    let r = app
        .post(
            &format!("/v1/users/{reviewer_id}/sign-out"),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/v1/me", Some(&reviewer)).await.problem(401);
    let r = app
        .post(
            &format!("/v1/users/{worker_id}/sign-out"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/v1/me", Some(&worker)).await.problem(401);
    let admin_id = user_id_of(&app, &admin).await;
    let owner_id = user_id_of(&app, &owner).await;
    assert_eq!(
        account_events(&app, &worker_id).await,
        vec![
            ("signed_out_everywhere".to_string(), worker_id.clone()),
            ("signed_out_everywhere".to_string(), admin_id)
        ]
    );
    assert_eq!(
        account_events(&app, &reviewer_id).await,
        vec![("signed_out_everywhere".to_string(), owner_id)]
    );
    app.post(
        "/v1/users/00000000-0000-7000-8000-000000000000/sign-out",
        Some(&admin),
        json!({}),
    )
    .await
    .problem(404);
}
