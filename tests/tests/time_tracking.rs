//! Time tracking (issue 4) through the real API: each hard rule refusing with its code, edits
//! kept in history and locked after submission, offline batches that are safe to repeat (also
//! five at once), timers that stop themselves at the cap, timesheets per Bogotá day, and the
//! worked example of DESIGN §4 from entries to approval.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use vereda_contracts::timesheet::{bogota_day, day_start};
use vereda_tests::*;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

fn now() -> i64 {
    vereda_contracts::time::unix(vereda_contracts::time::now())
}

fn rfc(t: i64) -> String {
    vereda_contracts::time::from_unix(t).to_rfc3339()
}

fn hourly_task(max_hours: &str) -> Value {
    json!({
        "title": "Digitar formularios de la cooperativa",
        "instructions": "Pasar los formularios escaneados a la hoja compartida.",
        "category": "data-entry",
        "required_skills": ["data-entry"],
        "pricing": {"kind": "hourly", "rate": "18500", "max_hours": max_hours},
        "slots": 1,
        "claim_minutes": 2880,
        "review_hours": 72,
        "acceptance": {"deliverable_url_required": true, "min_minutes": 1}
    })
}

/// A company, a worker who can claim its tasks, and the admin.
struct Scene {
    app: TestApp,
    admin: String,
    company: String,
    owner: String,
    worker: String,
}

async fn scene() -> Scene {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (company, owner) = app.company(&admin, "Cooperativa del Tolima").await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    Scene {
        app,
        admin,
        company,
        owner,
        worker,
    }
}

impl Scene {
    /// Post and publish an hourly task, and claim it as `worker`: (task, assignment).
    async fn claimed(&self, worker: &str, max_hours: &str) -> (String, String) {
        let app = &self.app;
        let r = app
            .post("/v1/tasks", Some(&self.owner), hourly_task(max_hours))
            .await;
        let task = r.ok(201)["id"].as_str().unwrap().to_string();
        app.post(
            &format!("/v1/tasks/{task}/publish"),
            Some(&self.owner),
            json!({}),
        )
        .await
        .ok(200);
        let r = app
            .send(
                app.client
                    .post(app.url(&format!("/v1/tasks/{task}/claims")))
                    .bearer_auth(worker),
            )
            .await;
        let assignment = r.ok(201)["id"].as_str().unwrap().to_string();
        (task, assignment)
    }

    async fn log(&self, token: &str, assignment: &str, start: i64, end: i64) -> Resp {
        self.app
            .post(
                &format!("/v1/assignments/{assignment}/time-entries"),
                Some(token),
                json!({"started_at": rfc(start), "ended_at": rfc(end)}),
            )
            .await
    }

    async fn entries(&self, token: &str, assignment: &str) -> Value {
        let r = self
            .app
            .get(
                &format!("/v1/assignments/{assignment}/time-entries?include_deleted=true"),
                Some(token),
            )
            .await;
        r.ok(200).clone()
    }

    async fn logged(&self, token: &str, assignment: &str) -> i64 {
        self.entries(token, assignment).await["logged_seconds"]
            .as_i64()
            .unwrap()
    }

    async fn delete(&self, token: &str, entry: &str) -> Resp {
        let app = &self.app;
        app.send(
            app.client
                .delete(app.url(&format!("/v1/time-entries/{entry}")))
                .bearer_auth(token),
        )
        .await
    }

    async fn timer(&self, assignment: &str, action: &str) -> Resp {
        let app = &self.app;
        app.send(
            app.client
                .post(app.url(&format!("/v1/assignments/{assignment}/timer/{action}")))
                .bearer_auth(&self.worker),
        )
        .await
    }

    async fn sync(&self, entries: &Value) -> Resp {
        self.app
            .post(
                "/v1/time-entries/sync",
                Some(&self.worker),
                json!({ "entries": entries }),
            )
            .await
    }

    async fn wait_for(&self, token: &str, assignment: &str, status: &str) -> Value {
        eventually(Duration::from_secs(60), || async {
            let r = self
                .app
                .get(&format!("/v1/assignments/{assignment}"), Some(token))
                .await;
            (r.body["status"] == status).then(|| r.body.clone())
        })
        .await
        .unwrap_or_else(|| panic!("assignment {assignment} never became {status}"))
    }
}

#[track_caller]
fn refused(r: &Resp, status: u16, code: &str) {
    r.problem(status);
    assert_eq!(r.code(), code, "{}", r.text);
}

#[tokio::test]
async fn each_hard_rule_refuses_with_its_code() {
    let s = scene().await;
    let w = s.worker.clone();
    let (_, a) = s.claimed(&w, "10").await;
    let (_, b) = s.claimed(&w, "10").await;
    let (_, c) = s.claimed(&w, "1").await;
    let t = now();

    let r = s.log(&w, &a, t - 3 * HOUR, t - 2 * HOUR).await;
    let entry = r.ok(201);
    assert_eq!(entry["seconds"], 3600);
    assert_eq!(entry["source"], "manual");
    assert_eq!(entry["assignment_id"], a.as_str());

    let r = s.log(&w, &a, t - HOUR, t - HOUR).await;
    refused(&r, 422, "end_not_after_start");
    assert_eq!(r.field(), "ended_at");
    let r = s.log(&w, &a, t - 600, t + 600).await;
    refused(&r, 422, "entry_in_future");
    // Two minutes of clock skew are allowed.
    s.log(&w, &a, t - 600, t + 60).await.ok(201);
    let r = s.log(&w, &a, t - 15 * DAY, t - 15 * DAY + HOUR).await;
    refused(&r, 422, "entry_too_old");
    assert_eq!(r.field(), "started_at");
    // Overlap counts across the worker's assignments.
    let r = s.log(&w, &b, t - 150 * 60, t - 90 * 60).await;
    refused(&r, 409, "entry_overlaps");
    // Said in Spanish with the other entry's Bogotá times.
    let es = r.body["detail_es"].as_str().unwrap();
    assert!(
        es.starts_with("Este registro se cruza con otro suyo del ")
            && es.contains("(hora de Colombia)"),
        "{es}"
    );
    // A one-hour task takes an hour, not a second more.
    let r = s.log(&w, &c, t - 6 * HOUR, t - 5 * HOUR + 1).await;
    refused(&r, 422, "over_task_cap");
    s.log(&w, &c, t - 6 * HOUR, t - 5 * HOUR).await.ok(201);

    // Twelve hours on one Bogotá day, across assignments, and not a second more.
    let day = day_start(bogota_day(t - 3 * DAY));
    s.log(&w, &a, day + HOUR, day + 9 * HOUR).await.ok(201);
    s.log(&w, &b, day + 9 * HOUR, day + 13 * HOUR).await.ok(201);
    let r = s.log(&w, &b, day + 13 * HOUR, day + 13 * HOUR + 1).await;
    refused(&r, 422, "over_daily_limit");

    // Only the worker's own assignment, and only a worker.
    let (_, other) = s.app.worker(&s.admin, &["data-entry"]).await;
    s.log(&other, &a, t - 5 * DAY, t - 5 * DAY + 60)
        .await
        .problem(404);
    s.log(&s.owner, &a, t - 5 * DAY, t - 5 * DAY + 60)
        .await
        .problem(403);
    // Nothing refused was stored.
    assert_eq!(s.logged(&w, &a).await, 3600 + 660 + 8 * HOUR);
    assert_eq!(s.logged(&w, &b).await, 4 * HOUR);
    assert_eq!(s.logged(&w, &c).await, HOUR);

    // Released: the assignment no longer takes time.
    s.app
        .post(&format!("/v1/assignments/{c}/release"), Some(&w), json!({}))
        .await
        .ok(200);
    let r = s.log(&w, &c, t - 10 * DAY, t - 10 * DAY + 60).await;
    refused(&r, 409, "assignment_not_active");
}

#[tokio::test]
async fn simultaneous_entries_never_break_overlap_or_the_cap_together() {
    let s = scene().await;
    let (_, a) = s.claimed(&s.worker, "10").await;
    let (_, b) = s.claimed(&s.worker, "1").await;
    let t = now() - 2 * DAY;

    // Twenty entries that all overlap each other, at once: exactly one is stored.
    let answers =
        join_all((0..20).map(|i| s.log(&s.worker, &a, t + i * 10, t + i * 10 + 600))).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1);
    for r in answers.iter().filter(|r| r.status != 201) {
        refused(r, 409, "entry_overlaps");
    }

    // Six quarter hours on a one-hour task, at once: exactly four fit.
    let base = t + 10 * HOUR;
    let answers = join_all((0..6).map(|i| {
        let start = base + i * HOUR;
        s.log(&s.worker, &b, start, start + 900)
    }))
    .await;
    assert_eq!(answers.iter().filter(|r| r.status == 201).count(), 4);
    for r in answers.iter().filter(|r| r.status != 201) {
        refused(r, 422, "over_task_cap");
    }
    assert_eq!(s.logged(&s.worker, &b).await, HOUR);
}

#[tokio::test]
async fn edits_and_deletions_are_kept_in_the_history() {
    let s = scene().await;
    let (_, a) = s.claimed(&s.worker, "10").await;
    let t = now() - DAY;
    let first = s.log(&s.worker, &a, t, t + HOUR).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = s
        .log(&s.worker, &a, t + 2 * HOUR, t + 3 * HOUR)
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/time-entries/{first}");

    // Someone else's entry is not found; a company cannot touch entries.
    let (_, other) = s.app.worker(&s.admin, &["data-entry"]).await;
    s.app
        .patch(&path, Some(&other), json!({"note": "x"}))
        .await
        .problem(404);
    s.delete(&other, &first).await.problem(404);
    s.app
        .patch(&path, Some(&s.owner), json!({"note": "x"}))
        .await
        .problem(403);
    s.app
        .patch(&path, Some(&s.worker), json!({}))
        .await
        .problem(422);
    // New times keep every rule.
    let r = s
        .app
        .patch(
            &path,
            Some(&s.worker),
            json!({"ended_at": rfc(t + 2 * HOUR + 1)}),
        )
        .await;
    refused(&r, 409, "entry_overlaps");

    let r = s
        .app
        .patch(
            &path,
            Some(&s.worker),
            json!({"ended_at": rfc(t + 90 * 60), "note": "Formularios 1 a 40"}),
        )
        .await;
    let edited = r.ok(200);
    assert_eq!(edited["seconds"], 5400);
    assert_eq!(edited["note"], "Formularios 1 a 40");
    assert_eq!(edited["history"][0]["action"], "updated");
    assert_eq!(edited["history"][0]["seconds"], 3600);
    assert_eq!(edited["history"][0]["ended_at"], rfc(t + HOUR));
    s.app
        .patch(&path, Some(&s.worker), json!({"note": ""}))
        .await
        .ok(200);
    let r = s.delete(&s.worker, &first).await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.delete(&s.worker, &first).await.problem(404);

    let list = s.entries(&s.owner, &a).await;
    assert_eq!(
        list["logged_seconds"], 3600,
        "only the second entry is live"
    );
    let items = list["items"].as_array().unwrap();
    let gone = items.iter().find(|e| e["id"] == first.as_str()).unwrap();
    assert!(gone["deleted_at"].is_string());
    let actions: Vec<&str> = gone["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["updated", "updated", "deleted"]);
    let live = s
        .app
        .get(
            &format!("/v1/assignments/{a}/time-entries"),
            Some(&s.worker),
        )
        .await;
    let live = live.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["id"], second.as_str());
    // Other workers and other companies see nothing.
    s.app
        .get(&format!("/v1/assignments/{a}/time-entries"), Some(&other))
        .await
        .problem(404);
}

#[tokio::test]
async fn a_batch_stores_its_good_entries_and_rejects_the_rest() {
    let s = scene().await;
    let (_, a) = s.claimed(&s.worker, "10").await;
    let (_, someone_else) = s.app.worker(&s.admin, &["data-entry"]).await;
    let (_, theirs) = s.claimed(&someone_else, "10").await;
    let t = now() - 3 * DAY;
    let entry = |id: &str, assignment: &str, start: i64, end: i64, source: &str| {
        json!({"client_id": id, "assignment_id": assignment, "started_at": rfc(start),
               "ended_at": rfc(end), "source": source})
    };
    let batch = json!([
        entry("c1", &a, t, t + HOUR, "offline"),
        entry("c2", &a, t + 2 * HOUR, t + HOUR, "offline"),
        // Overlaps c1 now, and c7 once c1 is deleted.
        entry("c3", &a, t + 1800, t + 3 * HOUR + 1800, "offline"),
        entry("c4", &theirs, t + 5 * HOUR, t + 6 * HOUR, "offline"),
        entry("c5", &a, t + 7 * HOUR, t + 8 * HOUR, "phone"),
        {"client_id": "c6", "assignment_id": a, "started_at": "ayer", "ended_at": rfc(t), "source": "offline"},
        entry("c7", &a, t + 3 * HOUR, t + 4 * HOUR, "timer"),
        entry("c1", &a, t + 9 * HOUR, t + 10 * HOUR, "offline"),
    ]);
    let r = s.sync(&batch).await;
    let report = r.ok(200).clone();
    let outcome: Vec<(String, String)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_string(),
                r["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("accepted", ""),
        ("rejected", "end_not_after_start"),
        ("rejected", "entry_overlaps"),
        ("rejected", "not_found"),
        ("rejected", "validation_failed"),
        ("rejected", "validation_failed"),
        ("accepted", ""),
        ("duplicate", ""),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(s, c)| (s.to_string(), c.to_string()))
        .collect();
    assert_eq!(outcome, expected, "{report}");
    assert_eq!(report["results"][4]["field"], "source");
    assert_eq!(report["results"][5]["field"], "started_at");
    let counts = ["accepted", "duplicates", "rejected"].map(|k| report[k].as_i64().unwrap());
    assert_eq!(counts, [2, 1, 5]);
    assert_eq!(
        report["results"][7]["entry_id"],
        report["results"][0]["entry_id"]
    );

    // Sent again: the good ones are duplicates, nothing new is stored.
    let again = s.sync(&batch).await;
    let again = again.ok(200);
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["duplicates"], 3);
    assert_eq!(
        again["results"][0]["entry_id"],
        report["results"][0]["entry_id"]
    );
    let list = s.entries(&s.worker, &a).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["logged_seconds"], 2 * HOUR);
    let sources: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    // c7 said `timer`: uploaded time is stored as offline whatever the device says.
    assert_eq!(sources, ["offline", "offline"]);
    // A deleted entry stays deleted when its batch comes again.
    let c1 = report["results"][0]["entry_id"].as_str().unwrap();
    assert_eq!(s.delete(&s.worker, c1).await.status, 204);
    let third = s.sync(&batch).await;
    assert_eq!(third.ok(200)["accepted"], 0);
    assert_eq!(s.logged(&s.worker, &a).await, HOUR);

    // Too many at once.
    let big: Vec<Value> = (0..501)
        .map(|i| {
            entry(
                &format!("b{i}"),
                &a,
                t + 20 * HOUR + i,
                t + 20 * HOUR + i + 1,
                "offline",
            )
        })
        .collect();
    let r = s.sync(&json!(big)).await;
    r.problem(422);
    assert_eq!(r.field(), "entries");
}

#[tokio::test]
async fn the_same_batch_sent_five_times_at_once_is_stored_once() {
    let s = scene().await;
    let (_, a) = s.claimed(&s.worker, "10").await;
    let t = now() - 4 * DAY;
    let batch: Vec<Value> = (0..30)
        .map(|i| {
            let start = t + i * 600;
            json!({"client_id": format!("tel-{i}"), "assignment_id": a,
                   "started_at": rfc(start), "ended_at": rfc(start + 300),
                   "source": "offline", "note": "sin señal"})
        })
        .collect();
    let batch = json!(batch);
    let answers = join_all((0..5).map(|_| s.sync(&batch))).await;
    let mut accepted = 0;
    for r in &answers {
        let report = r.ok(200);
        assert_eq!(report["rejected"], 0, "{report}");
        accepted += report["accepted"].as_i64().unwrap();
        assert_eq!(
            report["accepted"].as_i64().unwrap() + report["duplicates"].as_i64().unwrap(),
            30
        );
    }
    assert_eq!(accepted, 30, "each entry accepted exactly once");
    let list = s.entries(&s.worker, &a).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 30);
    assert_eq!(list["logged_seconds"], 30 * 300);
}

#[tokio::test]
async fn a_timer_stops_itself_at_the_cap() {
    let s = scene().await;
    let (_, capped) = s.claimed(&s.worker, "1").await;
    let (_, other) = s.claimed(&s.worker, "10").await;
    let t = now();
    // Six seconds of the hour are left.
    s.log(&s.worker, &capped, t - HOUR - 100, t - 106)
        .await
        .ok(201);

    let r = s.timer(&capped, "start").await;
    let running = r.ok(201);
    assert_eq!(running["stop_reason"], "task_cap");
    let started = running["started_at"].as_str().unwrap().to_string();
    let mine = s.app.get("/v1/me/timer", Some(&s.worker)).await;
    assert_eq!(mine.ok(200)["running"]["assignment_id"], capped.as_str());
    // One timer per worker, and it holds the time from its start.
    refused(&s.timer(&other, "start").await, 409, "timer_running");
    refused(&s.timer(&other, "stop").await, 409, "timer_not_running");
    let r = s.log(&s.worker, &other, t - 50, t + 60).await;
    refused(&r, 409, "entry_overlaps");

    tokio::time::sleep(Duration::from_secs(8)).await;
    let r = s.app.get("/v1/me/timer", Some(&s.worker)).await;
    let status = r.ok(200);
    assert!(status.get("running").is_none(), "{status}");
    let stopped = &status["stopped"];
    assert_eq!(stopped["reason"], "task_cap");
    assert_eq!(stopped["entry"]["source"], "timer");
    assert_eq!(stopped["entry"]["started_at"], started.as_str());
    assert_eq!(stopped["entry"]["seconds"], 6);
    assert_eq!(s.logged(&s.worker, &capped).await, HOUR);
    refused(&s.timer(&capped, "stop").await, 409, "timer_not_running");
    refused(&s.timer(&capped, "start").await, 422, "over_task_cap");

    // Stopped by hand, it records the time it ran.
    s.timer(&other, "start").await.ok(201);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = s.timer(&other, "stop").await;
    let stopped = r.ok(200);
    assert_eq!(stopped["reason"], "stopped");
    assert!(stopped["entry"]["seconds"].as_i64().unwrap() >= 1);
    assert!(s.app.get("/v1/me/timer", Some(&s.worker)).await.ok(200)["running"].is_null());
}

#[tokio::test]
async fn timesheets_split_bogota_days_and_export_csv() {
    let s = scene().await;
    let (task, a) = s.claimed(&s.worker, "10").await;
    let midnight = day_start(bogota_day(now() - 2 * DAY));
    // 23:00 to 01:00 in Bogotá, and half an hour the next afternoon.
    s.log(&s.worker, &a, midnight - HOUR, midnight + HOUR)
        .await
        .ok(201);
    s.log(
        &s.worker,
        &a,
        midnight + 15 * HOUR,
        midnight + 15 * HOUR + 1800,
    )
    .await
    .ok(201);
    let before = bogota_day(midnight - 1);
    let after = bogota_day(midnight);
    let query = format!("from={before}&to={after}");

    let r = s
        .app
        .get(&format!("/v1/me/timesheet?{query}"), Some(&s.worker))
        .await;
    let sheet = r.ok(200);
    assert_eq!(sheet["total_seconds"], 2 * HOUR + 1800);
    let days: Vec<(String, i64)> = sheet["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["total_seconds"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [(before.to_string(), HOUR), (after.to_string(), HOUR + 1800)]
    );
    assert_eq!(sheet["assignments"][0]["assignment_id"], a.as_str());
    assert_eq!(sheet["assignments"][0]["seconds"], 2 * HOUR + 1800);
    // A one-day sheet counts only that day's part.
    let r = s
        .app
        .get(
            &format!("/v1/me/timesheet?from={after}&to={after}"),
            Some(&s.worker),
        )
        .await;
    assert_eq!(r.ok(200)["total_seconds"], HOUR + 1800);

    let r = s
        .app
        .get(&format!("/v1/me/timesheet/csv?{query}"), Some(&s.worker))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type.starts_with("text/csv"), "{}", r.content_type);
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines[0], "fecha,tarea,asignacion,segundos,duracion");
    assert_eq!(
        lines[1],
        format!("{before},Digitar formularios de la cooperativa,{a},3600,1:00:00")
    );
    assert_eq!(lines.last().unwrap(), &"Total,,,9000,2:30:00");

    let r = s
        .app
        .get(
            &format!("/v1/me/timesheet?from={after}&to={before}"),
            Some(&s.worker),
        )
        .await;
    r.problem(422);
    s.app
        .get("/v1/me/timesheet", Some(&s.owner))
        .await
        .problem(403);

    // The company sees the time on its task, per assignment.
    let r = s
        .app
        .get(&format!("/v1/tasks/{task}/time"), Some(&s.owner))
        .await;
    let time = r.ok(200);
    assert_eq!(time["total_seconds"], 2 * HOUR + 1800);
    assert_eq!(time["assignments"][0]["assignment_id"], a.as_str());
    assert_eq!(time["assignments"][0]["entries"], 2);
    let (_, stranger) = s.app.company(&s.admin, "Otra").await;
    s.app
        .get(&format!("/v1/tasks/{task}/time"), Some(&stranger))
        .await
        .problem(404);
}

/// DESIGN §4: 18,500 COP/h, entries of 1:20:10 and 1:17:05 log 9,435 s; once submitted the
/// entries are locked, and the approval pays for exactly that time.
#[tokio::test]
async fn the_worked_example_from_entries_to_approval() {
    let s = scene().await;
    let reviewer = s.app.reviewer(&s.owner, &s.company).await;
    let (task, a) = s.claimed(&s.worker, "10").await;
    let t = now();
    let first = s
        .log(&s.worker, &a, t - 5 * HOUR, t - 5 * HOUR + 4810)
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.log(&s.worker, &a, t - 3 * HOUR, t - 3 * HOUR + 4625)
        .await
        .ok(201);
    assert_eq!(s.logged(&reviewer, &a).await, 9435);
    let r = s
        .app
        .get(&format!("/v1/tasks/{task}/time"), Some(&reviewer))
        .await;
    assert_eq!(r.ok(200)["total_seconds"], 9435);

    s.app
        .post(
            &format!("/v1/assignments/{a}/submission"),
            Some(&s.worker),
            json!({"deliverable_url": "https://docs.example/formularios"}),
        )
        .await
        .ok(200);
    // Submitted: no more time, and the entries are locked.
    refused(
        &s.log(&s.worker, &a, t - 10 * HOUR, t - 9 * HOUR).await,
        409,
        "assignment_not_active",
    );
    let path = format!("/v1/time-entries/{first}");
    refused(
        &s.app
            .patch(&path, Some(&s.worker), json!({"note": "x"}))
            .await,
        409,
        "entry_locked",
    );
    refused(&s.delete(&s.worker, &first).await, 409, "entry_locked");
    refused(&s.timer(&a, "start").await, 409, "assignment_not_active");

    let verified = s.wait_for(&s.owner, &a, "verified").await;
    assert_eq!(verified["logged_seconds"], 9435);
    let r = s
        .app
        .post(
            &format!("/v1/assignments/{a}/review"),
            Some(&reviewer),
            json!({"decision": "approve"}),
        )
        .await;
    let approved = r.ok(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_seconds"], 9435);
    // Approved: still locked.
    refused(&s.delete(&s.worker, &first).await, 409, "entry_locked");
    assert_eq!(s.logged(&s.worker, &a).await, 9435);
}

/// Issue 13 §13: time uploaded from a device is stored as `offline` whatever the device
/// claims, so the reviewer's "manual" and "offline" findings cannot be hidden behind `timer`.
#[tokio::test]
async fn synced_time_is_offline_whatever_the_device_says() {
    let s = scene().await;
    let (_, a) = s.claimed(&s.worker, "10").await;
    let t = now() - 2 * DAY;
    let batch = json!([
        {"client_id": "t1", "assignment_id": a, "started_at": rfc(t), "ended_at": rfc(t + 600),
         "source": "timer"},
        {"client_id": "t2", "assignment_id": a, "started_at": rfc(t + 900),
         "ended_at": rfc(t + 1500), "source": "manual"},
        {"client_id": "t3", "assignment_id": a, "started_at": rfc(t + 1800),
         "ended_at": rfc(t + 2400)},
    ]);
    let r = s.sync(&batch).await;
    assert_eq!(r.ok(200)["accepted"], 3, "{}", r.text);
    let list = s.entries(&s.worker, &a).await;
    let sources: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["offline"; 3], "{list}");
    // Verification tells the reviewer so.
    s.app
        .post(
            &format!("/v1/assignments/{a}/submission"),
            Some(&s.worker),
            json!({"deliverable_url": "https://docs.example/hoja"}),
        )
        .await
        .ok(200);
    let verified = s.wait_for(&s.owner, &a, "verified").await;
    let soft: Vec<&str> = verified["findings"]["soft"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        soft.contains(&"offline_entries") && !soft.contains(&"manual_entries"),
        "{verified}"
    );
}

/// Issue 13 §10: a sync locks only the caller's own assignments, in one order, after checking
/// whose they are; batches naming the same assignments (the caller's and someone else's) in
/// opposite orders, sent at once by two workers, never deadlock into a 5xx, and the other
/// worker's assignments are refused entry by entry.
#[tokio::test]
async fn concurrent_syncs_naming_assignments_in_opposite_orders_never_fail() {
    let s = scene().await;
    let luz = s.worker.clone();
    let (_, ana) = s.app.worker(&s.admin, &["data-entry"]).await;
    let (_, a1) = s.claimed(&luz, "10").await;
    let (_, a2) = s.claimed(&luz, "10").await;
    let (_, b1) = s.claimed(&ana, "10").await;
    let (_, b2) = s.claimed(&ana, "10").await;
    let t = now() - 3 * DAY;
    // Request k of a worker logs four 5-minute entries in its own stretch of time.
    let batch = |who: &str, k: i64, order: &[&String]| -> Value {
        let entries: Vec<Value> = order
            .iter()
            .enumerate()
            .map(|(j, assignment)| {
                let start = t + (k * 4 + j as i64) * 600;
                json!({"client_id": format!("{who}-{k}-{j}"), "assignment_id": assignment,
                       "started_at": rfc(start), "ended_at": rfc(start + 300),
                       "source": "offline"})
            })
            .collect();
        json!({ "entries": entries })
    };
    let forward = [&a1, &b1, &a2, &b2];
    let backward = [&b2, &a2, &b1, &a1];
    let mut requests = Vec::new();
    for k in 0..12 {
        let order: &[&String] = if k % 2 == 0 { &forward } else { &backward };
        requests.push((
            luz.clone(),
            "luz",
            k,
            batch("luz", k, order),
            order.to_vec(),
        ));
        requests.push((
            ana.clone(),
            "ana",
            k,
            batch("ana", k, order),
            order.to_vec(),
        ));
    }
    let answers = join_all(requests.iter().map(|(token, _, _, body, _)| {
        s.app
            .post("/v1/time-entries/sync", Some(token), body.clone())
    }))
    .await;
    let mine = |who: &str, assignment: &String| {
        if who == "luz" {
            *assignment == a1 || *assignment == a2
        } else {
            *assignment == b1 || *assignment == b2
        }
    };
    for ((_, who, k, _, order), r) in requests.iter().zip(&answers) {
        assert_eq!(r.status, 200, "{who} #{k}: {}", r.text);
        let results = r.body["results"].as_array().unwrap();
        for (assignment, result) in order.iter().zip(results) {
            if mine(who, assignment) {
                assert_eq!(result["status"], "accepted", "{who} #{k}: {result}");
            } else {
                assert_eq!(result["status"], "rejected", "{who} #{k}: {result}");
                assert_eq!(result["code"], "not_found", "{who} #{k}: {result}");
            }
        }
    }
    for (token, assignment) in [(&luz, &a1), (&luz, &a2), (&ana, &b1), (&ana, &b2)] {
        assert_eq!(s.logged(token, assignment).await, 12 * 300);
    }
}

/// Issue 13 §14 for time: notes carry no control characters but line breaks and tabs, by
/// hand, in an edit and in an offline batch.
#[tokio::test]
async fn time_entry_notes_have_no_control_characters() {
    let s = scene().await;
    let (_, a) = s.claimed(&s.worker, "10").await;
    let t = now() - 2 * HOUR;
    let path = format!("/v1/assignments/{a}/time-entries");
    let r = s
        .app
        .post(
            &path,
            Some(&s.worker),
            json!({"started_at": rfc(t), "ended_at": rfc(t + 600), "note": "fila\u{1b}[2J"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "note");
    assert_eq!(s.logged(&s.worker, &a).await, 0, "nothing half-written");
    let r = s
        .app
        .post(
            &path,
            Some(&s.worker),
            json!({"started_at": rfc(t), "ended_at": rfc(t + 600), "note": "filas 1-20\r\nrevisadas"}),
        )
        .await;
    let entry = r.ok(201).clone();
    assert_eq!(entry["note"], "filas 1-20\nrevisadas");
    let id = entry["id"].as_str().unwrap();
    let r = s
        .app
        .patch(
            &format!("/v1/time-entries/{id}"),
            Some(&s.worker),
            json!({"note": "otra\u{0}nota"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "note");
    let list = s.entries(&s.worker, &a).await;
    assert_eq!(list["items"][0]["note"], "filas 1-20\nrevisadas");
    let r = s
        .sync(
            &json!([{"client_id": "n1", "assignment_id": a, "started_at": rfc(t + 900),
                       "ended_at": rfc(t + 1200), "note": "sin\u{7}señal"}]),
        )
        .await;
    let report = r.ok(200);
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(report["results"][0]["field"], "note");
}

/// Issue 14 §7: a claim that expires with the timer running keeps the timer's time up to the
/// expiry as a `timer` entry, recorded by the expiry sweep itself (as the cap and the daily
/// limit stop a timer), instead of throwing it away.
#[tokio::test]
async fn a_claim_that_expires_with_the_timer_running_keeps_its_time() {
    let s = scene().await;
    let (_, a) = s.claimed(&s.worker, "10").await;
    let r = s.timer(&a, "start").await;
    let started: chrono::DateTime<chrono::Utc> =
        r.ok(201)["started_at"].as_str().unwrap().parse().unwrap();
    let started = started.timestamp();
    // The claim runs out four seconds after the timer started; the sweep (every second in
    // tests) expires it.
    let expires_at = started + 4;
    vereda_store::on_db!(&s.app.db, |p| sqlx::query(
        "UPDATE assignments SET expires_at = $1 WHERE id = $2"
    )
    .bind(expires_at)
    .bind(&a)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    s.wait_for(&s.worker, &a, "expired").await;
    // The sweep did it: the timer is gone before the worker asks for anything.
    let running: i64 = vereda_store::on_db!(&s.app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM running_timers WHERE assignment_id = $1"
    )
    .bind(&a)
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(running, 0);
    let list = s.entries(&s.worker, &a).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["source"], "timer");
    assert_eq!(items[0]["started_at"], rfc(started).as_str());
    assert_eq!(items[0]["ended_at"], rfc(expires_at).as_str());
    assert_eq!(items[0]["seconds"], 4);
    assert_eq!(list["logged_seconds"], 4);
    // The worker's timer reads idle, and the time shows on her timesheet.
    let timer = s.app.get("/v1/me/timer", Some(&s.worker)).await;
    assert!(timer.ok(200)["running"].is_null(), "{}", timer.text);
    let sheet = s.app.get("/v1/me/timesheet", Some(&s.worker)).await;
    assert_eq!(sheet.ok(200)["total_seconds"], 4, "{}", sheet.text);
}
