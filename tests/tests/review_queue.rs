//! The reviewer's queue (issue 17 §3) over the API: oldest submission first, everything a
//! decision needs in one answer, the worker named by first name and initial and by nothing
//! personal, a company's queue for its members only, pages that follow each other.
//! The scene built here is also the browser test's (web_review.rs).

use std::time::Duration;

use serde_json::{Value, json};
use vereda_tests::*;

const HOUR: i64 = 3600;

pub(crate) fn now() -> i64 {
    vereda_contracts::time::unix(vereda_contracts::time::now())
}

pub(crate) fn rfc(t: i64) -> String {
    vereda_contracts::time::from_unix(t).to_rfc3339()
}

/// A worker as the programme registers them, with the personal data the queue must never show.
pub(crate) struct Person {
    pub name: &'static str,
    /// What the queue shows instead of the name.
    pub shown_as: &'static str,
    pub email: String,
    pub document: &'static str,
    pub phone: &'static str,
    pub municipality: &'static str,
    pub worker_id: String,
    pub token: String,
}

impl Person {
    /// Strings that identify the person and must not reach a company's reviewer.
    pub fn personal(&self) -> Vec<String> {
        let mut personal = vec![
            self.email.clone(),
            self.document.to_string(),
            self.phone.to_string(),
            self.municipality.to_string(),
            "Tolima".to_string(),
            self.name.to_string(),
            self.worker_id.clone(),
        ];
        // Every name but the first: middle names and surnames.
        personal.extend(self.name.split_whitespace().skip(1).map(str::to_string));
        personal
    }
}

async fn person(
    app: &TestApp,
    admin: &str,
    (name, shown_as, document, phone, municipality): (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ),
) -> Person {
    let email = format!("persona-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(admin),
            json!({
                "name": name, "email": email, "password": PASSWORD,
                "municipality": municipality, "department": "Tolima",
                "skills": ["data-cleaning"],
                "payout_method": {"kind": "nequi", "phone": phone},
                "document_id": document,
            }),
        )
        .await;
    let worker_id = r.ok(201)["id"].as_str().unwrap().to_string();
    let token = app.login(&email, PASSWORD).await;
    Person {
        name,
        shown_as,
        email,
        document,
        phone,
        municipality,
        worker_id,
        token,
    }
}

/// A task of the company, published; returns its id.
pub(crate) async fn task(app: &TestApp, owner: &str, title: &str, pricing: Value) -> String {
    let r = app
        .post(
            "/v1/tasks",
            Some(owner),
            json!({
                "title": title, "instructions": "Según la guía de la empresa.",
                "category": "data-cleaning", "required_skills": ["data-cleaning"],
                "pricing": pricing, "slots": 1, "claim_minutes": 2880, "review_hours": 72
            }),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/v1/tasks/{id}/publish"), Some(owner), json!({}))
        .await
        .ok(200);
    id
}

pub(crate) fn hourly() -> Value {
    json!({"kind": "hourly", "rate": "18500", "max_hours": "10"})
}

pub(crate) fn fixed() -> Value {
    json!({"kind": "fixed", "price": "60000", "estimated_hours": "2"})
}

/// Time entries as (start, hours ago; minutes long).
type Stretches = &'static [(i64, i64)];

/// One piece of work in the queue.
pub(crate) struct Work {
    pub assignment: String,
    pub title: &'static str,
    pub hourly: bool,
    /// Seconds logged.
    pub logged: i64,
    pub worker: usize,
}

/// A company with a reviewer (whose e-mail is known, to sign in through the browser), another
/// company, three workers, and three submissions by them, made one after another (a second
/// apart, so their order is certain) in an order unlike the order of the claims, all verified.
pub(crate) struct Scene {
    pub app: TestApp,
    pub admin: String,
    pub company: String,
    pub owner: String,
    pub reviewer: String,
    pub reviewer_email: String,
    pub other_owner: String,
    pub people: Vec<Person>,
    /// In the order submitted: the queue's order.
    pub work: Vec<Work>,
}

pub(crate) async fn scene(app: TestApp) -> Scene {
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
    let reviewer = app.login(&reviewer_email, PASSWORD).await;
    let (_, other_owner) = app.company(&admin, "Otra Empresa").await;
    let people = vec![
        person(
            &app,
            &admin,
            (
                "Luz Teletrabajadora",
                "Luz T.",
                "1012345678",
                "3105551234",
                "Chaparral",
            ),
        )
        .await,
        person(
            &app,
            &admin,
            (
                "Ana María Rojas Peñaloza",
                "Ana P.",
                "1098765432",
                "3114442211",
                "Planadas",
            ),
        )
        .await,
        person(
            &app,
            &admin,
            (
                "Yurany Campoamor",
                "Yurany C.",
                "1055566677",
                "3123334455",
                "Ataco",
            ),
        )
        .await,
    ];

    // (title, pricing, worker, entries as (start hours ago, minutes)), claimed in this order.
    let plan: [(&'static str, Value, usize, Stretches); 3] = [
        (
            "Digitar encuestas de la vereda",
            hourly(),
            2,
            &[(50, 45), (4, 60)],
        ),
        ("Clasificar correos de soporte", fixed(), 0, &[(27, 30)]),
        (
            "Limpiar base de clientes",
            hourly(),
            1,
            &[(52, 90), (28, 60), (3, 30)],
        ),
    ];
    let mut claimed = Vec::new();
    for (title, pricing, who, entries) in plan {
        let hourly = pricing["kind"] == "hourly";
        let task = task(&app, &owner, title, pricing).await;
        let token = &people[who].token;
        let r = app
            .send(
                app.client
                    .post(app.url(&format!("/v1/tasks/{task}/claims")))
                    .bearer_auth(token),
            )
            .await;
        let assignment = r.ok(201)["id"].as_str().unwrap().to_string();
        let t = now();
        let mut logged = 0;
        for (i, (ago, minutes)) in entries.iter().enumerate() {
            let start = t - ago * HOUR;
            let end = start + minutes * 60;
            logged += minutes * 60;
            if i == 0 && who == 1 {
                // Recorded without a signal and uploaded later: shown as `offline`.
                let r = app
                    .post(
                        "/v1/time-entries/sync",
                        Some(token),
                        json!({"entries": [{"client_id": format!("c-{}", short_id()), "assignment_id": assignment,
                            "started_at": rfc(start), "ended_at": rfc(end)}]}),
                    )
                    .await;
                assert_eq!(r.ok(200)["results"][0]["status"], "accepted", "{}", r.text);
            } else {
                app.post(
                    &format!("/v1/assignments/{assignment}/time-entries"),
                    Some(token),
                    json!({"started_at": rfc(start), "ended_at": rfc(end), "note": "Avance del día"}),
                )
                .await
                .ok(201);
            }
        }
        claimed.push(Work {
            assignment,
            title,
            hourly,
            logged,
            worker: who,
        });
    }
    // Submitted in another order than claimed: the last claim first.
    let order = [2, 0, 1];
    let mut work = Vec::new();
    let mut claimed: Vec<Option<Work>> = claimed.into_iter().map(Some).collect();
    for (n, i) in order.into_iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        let w = claimed[i].take().unwrap();
        app.post(
            &format!("/v1/assignments/{}/submission", w.assignment),
            Some(&people[w.worker].token),
            json!({"deliverable_url": format!("https://docs.example.com/entrega-{}", n + 1),
                   "notes": format!("Entrega {} lista.\nRevisé todo dos veces.", n + 1)}),
        )
        .await
        .ok(200);
        work.push(w);
    }
    for w in &work {
        eventually(Duration::from_secs(60), || async {
            (app.get(&format!("/v1/assignments/{}", w.assignment), Some(&owner))
                .await
                .body["status"]
                == "verified")
                .then_some(())
        })
        .await
        .expect("verified");
    }
    Scene {
        app,
        admin,
        company,
        owner,
        reviewer,
        reviewer_email,
        other_owner,
        people,
        work,
    }
}

fn ids(queue: &Value) -> Vec<String> {
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["assignment_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_queue_is_oldest_first_with_what_deciding_needs_and_nothing_personal() {
    let s = scene(spawn_app().await).await;
    let app = &s.app;
    let want: Vec<String> = s.work.iter().map(|w| w.assignment.clone()).collect();

    let r = app.get("/v1/review-queue", Some(&s.reviewer)).await;
    let queue = r.ok(200).clone();
    assert_eq!(ids(&queue), want, "oldest submitted first: {}", r.text);
    assert_eq!(queue["waiting"], 3);
    assert!(queue.get("next_cursor").is_none());
    let items = queue["items"].as_array().unwrap();
    let mut previous = String::new();
    for (item, w) in items.iter().zip(&s.work) {
        let p = &s.people[w.worker];
        assert_eq!(item["task_title"], w.title);
        assert_eq!(item["worker_name"], p.shown_as);
        assert_eq!(item["status"], "verified");
        assert_eq!(
            item["pricing_kind"],
            if w.hourly { "hourly" } else { "fixed" }
        );
        assert_eq!(item["company_id"], s.company.as_str());
        assert_eq!(item["logged_seconds"], w.logged);
        let entries = item["time_entries"].as_array().unwrap();
        assert_eq!(
            entries
                .iter()
                .map(|e| e["seconds"].as_i64().unwrap())
                .sum::<i64>(),
            w.logged
        );
        for pair in entries.windows(2) {
            assert!(pair[0]["started_at"].as_str() <= pair[1]["started_at"].as_str());
        }
        assert!(
            item["deliverable_url"]
                .as_str()
                .unwrap()
                .starts_with("https://docs.example.com/")
        );
        assert!(item["notes"].as_str().unwrap().contains("Revisé todo"));
        assert!(item["review_due_at"].as_str().unwrap() > item["submitted_at"].as_str().unwrap());
        let submitted = item["submitted_at"].as_str().unwrap().to_string();
        assert!(submitted > previous, "{submitted} after {previous}");
        previous = submitted;
        // Time logged before the claim, by hand, is flagged for the reviewer.
        let soft: Vec<&str> = item["findings"]["soft"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(soft.contains(&"time_before_claim"), "{soft:?}");
        assert!(item["findings"]["hard"].as_array().unwrap().is_empty());
    }
    let cleaning = items
        .iter()
        .find(|i| i["task_title"] == "Limpiar base de clientes")
        .unwrap();
    let sources: Vec<&str> = cleaning["time_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["offline", "manual", "manual"]);
    assert_eq!(cleaning["time_entries"][1]["note"], "Avance del día");

    // Nothing that identifies a worker reaches the company, whoever of it asks.
    for token in [&s.reviewer, &s.owner] {
        let text = app.get("/v1/review-queue", Some(token)).await.text;
        for p in &s.people {
            for secret in p.personal() {
                assert!(
                    !text.contains(&secret),
                    "the queue shows {secret:?}: {text}"
                );
            }
        }
        assert!(!text.contains("worker_id"), "{text}");
    }

    // Another company sees an empty queue, and cannot ask for this one; workers are refused.
    let theirs = app.get("/v1/review-queue", Some(&s.other_owner)).await;
    assert_eq!(theirs.ok(200)["items"], json!([]));
    assert_eq!(theirs.body["waiting"], 0);
    app.get(
        &format!("/v1/review-queue?company_id={}", s.company),
        Some(&s.other_owner),
    )
    .await
    .problem(404);
    app.get("/v1/review-queue", Some(&s.people[0].token))
        .await
        .problem(403);
    app.get("/v1/review-queue", None).await.problem(401);
    // Staff see every company's, or one.
    let all = app.get("/v1/review-queue", Some(&s.admin)).await;
    assert_eq!(ids(all.ok(200)), want);
    let one = app
        .get(
            &format!("/v1/review-queue?company_id={}", s.company),
            Some(&s.admin),
        )
        .await;
    assert_eq!(ids(one.ok(200)), want);

    // Pages follow each other; bad paging is a 422 naming the parameter.
    let first = app.get("/v1/review-queue?limit=2", Some(&s.reviewer)).await;
    let first = first.ok(200).clone();
    assert_eq!(ids(&first), want[..2]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(
            &format!("/v1/review-queue?limit=2&cursor={cursor}"),
            Some(&s.reviewer),
        )
        .await;
    assert_eq!(ids(second.ok(200)), want[2..]);
    assert!(second.body.get("next_cursor").is_none());
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=51", "limit"),
        ("cursor=bm9wZQ", "cursor"),
        ("limit=dos", "limit"),
    ] {
        let r = app
            .get(&format!("/v1/review-queue?{query}"), Some(&s.reviewer))
            .await;
        assert!(
            [400, 422].contains(&r.status),
            "{query}: {} {}",
            r.status,
            r.text
        );
        r.problem(r.status);
        if r.status == 422 {
            assert_eq!(r.field(), field, "{query}");
        }
    }

    // A decision takes the work out of the queue.
    app.post(
        &format!("/v1/assignments/{}/review", want[0]),
        Some(&s.reviewer),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    let after = app.get("/v1/review-queue", Some(&s.reviewer)).await;
    assert_eq!(ids(after.ok(200)), want[1..]);
    assert_eq!(after.body["waiting"], 2);
}

#[tokio::test]
async fn work_still_being_checked_is_listed_as_such_and_cannot_be_decided_yet() {
    // No worker process: the submission stays `submitted`.
    let app = spawn_app_without_worker().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda").await;
    let (_, worker) = app.worker(&admin, &["data-cleaning"]).await;
    let id = task(&app, &owner, "Revisar fichas", fixed()).await;
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/v1/tasks/{id}/claims")))
                .bearer_auth(&worker),
        )
        .await;
    let assignment = r.ok(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/assignments/{assignment}/submission"),
        Some(&worker),
        json!({"deliverable_url": "https://docs.example.com/fichas"}),
    )
    .await
    .ok(200);
    let queue = app.get("/v1/review-queue", Some(&owner)).await;
    let item = &queue.ok(200)["items"][0];
    assert_eq!(item["assignment_id"], assignment.as_str());
    assert_eq!(item["status"], "submitted");
    assert_eq!(item["worker_name"], "Luz T.");
    assert!(item.get("review_due_at").is_none());
    assert_eq!(item["findings"], json!({"hard": [], "soft": []}));
    assert_eq!(item["time_entries"], json!([]));
    assert_eq!(queue.body["waiting"], 0, "nothing is ready for a decision");
    let r = app
        .post(
            &format!("/v1/assignments/{assignment}/review"),
            Some(&owner),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.problem(409).code(), "verification_pending");
}
