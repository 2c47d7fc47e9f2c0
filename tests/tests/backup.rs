//! Backups that restore (issue 24 §1), on the embedded SQLite database: a backup taken while
//! companies post, workers claim and submit, owners approve (accruals) and finance bills,
//! restored into a new data folder, starts the product with every write acknowledged before the
//! backup began, and the ledger audit holds. Scheduled backups keep the newest few.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Mutex;
use vereda_store::backup;
use vereda_store::config::BackupSchedule;
use vereda_tests::invariants::assert_ledger_invariants;
use vereda_tests::{TestApp, TestDb, eventually, spawn_with};

/// Writes the product acknowledged, with when.
#[derive(Default)]
struct Acked {
    tasks: Vec<(String, Instant)>,
    claims: Vec<(String, Instant)>,
    submissions: Vec<(String, Instant)>,
    approvals: Vec<(String, Instant)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_with_every_acknowledged_write() {
    let test_db = TestDb::new().await;
    if test_db.is_postgres() {
        println!("skipped: backups are for the embedded SQLite database (PostgreSQL: pg_dump)");
        return;
    }
    let data_dir = test_db.dir.path().to_path_buf();
    // A file in the outbox (mail written to files when no SMTP server is set) goes along.
    std::fs::create_dir_all(data_dir.join("outbox")).unwrap();
    std::fs::write(
        data_dir.join("outbox/prueba.eml"),
        "Subject: hola\r\n\r\nuno",
    )
    .unwrap();
    let mut app = spawn_with(test_db.settings()).await;
    app.test_db = Some(test_db);
    let app = Arc::new(app);

    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Copias Seguras SAS").await;
    let mut workers = Vec::new();
    for _ in 0..4 {
        workers.push(app.worker(&admin, &["data-entry"]).await.1);
    }

    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    // The owner posts and publishes tasks with a slot for each worker.
    load.push(tokio::spawn({
        let (app, acked, stop, owner) = (app.clone(), acked.clone(), stop.clone(), owner.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let r = app
                    .post(
                        "/v1/tasks",
                        Some(&owner),
                        json!({
                            "title": format!("Digitar planillas {n}"), "instructions": "Según la guía.",
                            "category": "data-entry", "required_skills": ["data-entry"],
                            "pricing": {"kind": "fixed", "price": "52000", "estimated_hours": "4"},
                            "slots": 4, "claim_minutes": 600, "review_hours": 72
                        }),
                    )
                    .await;
                let id = r.ok(201)["id"].as_str().unwrap().to_string();
                app.post(&format!("/v1/tasks/{id}/publish"), Some(&owner), json!({}))
                    .await
                    .ok(200);
                acked.lock().await.tasks.push((id, Instant::now()));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }));
    // Each worker claims what is published and submits it.
    for token in workers.clone() {
        let (app, acked, stop) = (app.clone(), acked.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut taken = std::collections::HashSet::new();
            while !stop.load(Ordering::SeqCst) {
                let open: Vec<String> = {
                    let a = acked.lock().await;
                    a.tasks
                        .iter()
                        .map(|(id, _)| id.clone())
                        .filter(|id| !taken.contains(id))
                        .collect()
                };
                let Some(task) = open.first() else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let r = app
                    .post(&format!("/v1/tasks/{task}/claims"), Some(&token), json!({}))
                    .await;
                if r.status != 201 {
                    // At her limit of active claims until the owner approves: wait.
                    assert_eq!(r.status, 409, "{}", r.body);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                taken.insert(task.clone());
                let assignment = r.body["id"].as_str().unwrap().to_string();
                acked
                    .lock()
                    .await
                    .claims
                    .push((assignment.clone(), Instant::now()));
                app.post(
                    &format!("/v1/assignments/{assignment}/submission"),
                    Some(&token),
                    json!({"deliverable_url": "https://docs.example/entrega"}),
                )
                .await
                .ok(200);
                acked
                    .lock()
                    .await
                    .submissions
                    .push((assignment, Instant::now()));
            }
        }));
    }
    // The owner approves what verification passed: each approval accrues on the ledger.
    load.push(tokio::spawn({
        let (app, acked, stop, owner) = (app.clone(), acked.clone(), stop.clone(), owner.clone());
        async move {
            let mut approved = std::collections::HashSet::new();
            while !stop.load(Ordering::SeqCst) {
                let submitted: Vec<String> = {
                    let a = acked.lock().await;
                    a.submissions
                        .iter()
                        .map(|(id, _)| id.clone())
                        .filter(|id| !approved.contains(id))
                        .collect()
                };
                for id in submitted {
                    let r = app
                        .get(&format!("/v1/assignments/{id}"), Some(&owner))
                        .await;
                    if r.body["status"] != "verified" {
                        continue;
                    }
                    app.post(
                        &format!("/v1/assignments/{id}/review"),
                        Some(&owner),
                        json!({"decision": "approve"}),
                    )
                    .await
                    .ok(200);
                    approved.insert(id.clone());
                    acked.lock().await.approvals.push((id, Instant::now()));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }));

    // Let work pile up, and bill it while it goes on.
    eventually(Duration::from_secs(60), || async {
        (acked.lock().await.approvals.len() >= 3).then_some(())
    })
    .await
    .expect("approvals under way");
    let today = chrono::Utc::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    let billing = app
        .post(
            "/v1/billing-runs",
            Some(&finance),
            json!({"period_end": today}),
        )
        .await;
    let billing = billing.ok(202)["job_id"].as_str().unwrap().to_string();

    // The backup, while all of that runs.
    let archive = tempfile::tempdir().unwrap();
    let to = archive.path().join("vereda-respaldo.tar");
    let began = Instant::now();
    let report = backup::backup(&app.db, &data_dir, &to).await.unwrap();
    // The outbox goes with it: at least the mail written before, and, now that jobs start at
    // once, perhaps the billing run's invoice too.
    assert!(report.outbox_files >= 1, "{report:?}");
    assert!(report.bytes > 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.unwrap();
    }
    app.wait_job(&finance, &billing).await;
    let acked = acked.lock().await;
    let before = |list: &Vec<(String, Instant)>| -> Vec<String> {
        list.iter()
            .filter(|(_, at)| *at < began)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let (tasks, claims, submissions, approvals) = (
        before(&acked.tasks),
        before(&acked.claims),
        before(&acked.submissions),
        before(&acked.approvals),
    );
    assert!(!tasks.is_empty() && !claims.is_empty() && !approvals.is_empty());
    // Writes went on after the backup began: it did not stop the product.
    assert!(
        acked.tasks.len() > tasks.len() || acked.claims.len() > claims.len(),
        "the load kept writing during and after the backup"
    );
    assert_ledger_invariants(&app.db).await;

    // Restore into a new data folder and start the product there.
    let restored = TestDb::new().await;
    let mut settings = restored.settings();
    let new_dir = tempfile::tempdir().unwrap();
    settings.data_dir = new_dir.path().to_path_buf();
    let db_file = new_dir.path().join("vereda.db");
    settings.database_url =
        vereda_store::config::Secret::new(format!("sqlite:{}", db_file.display()));
    let done = backup::restore(&to, &db_file, new_dir.path(), false)
        .await
        .unwrap();
    assert_eq!(done.moved_aside, None);
    assert_eq!(
        done.outbox_files, report.outbox_files,
        "restored what was backed up"
    );
    assert_eq!(
        std::fs::read_to_string(new_dir.path().join("outbox/prueba.eml")).unwrap(),
        "Subject: hola\r\n\r\nuno"
    );
    let back = spawn_with(settings).await;
    // The same admin signs in on the restored copy.
    let admin_again = back.admin_token().await;
    let audit = back.get("/v1/ledger/audit", Some(&admin_again)).await;
    assert_eq!(audit.ok(200)["ok"], true, "{}", audit.body);
    assert_ledger_invariants(&back.db).await;

    for id in &tasks {
        back.get(&format!("/v1/tasks/{id}"), Some(&owner))
            .await
            .ok(200);
    }
    for id in &claims {
        back.get(&format!("/v1/assignments/{id}"), Some(&owner))
            .await
            .ok(200);
    }
    for id in &submissions {
        let r = back
            .get(&format!("/v1/assignments/{id}"), Some(&owner))
            .await;
        assert_ne!(
            r.ok(200)["status"],
            "claimed",
            "{id} was submitted before the backup"
        );
    }
    for id in &approvals {
        let r = back
            .get(&format!("/v1/assignments/{id}"), Some(&owner))
            .await;
        assert_eq!(r.ok(200)["status"], "approved", "{id}");
    }
    // Every approval acknowledged before the backup is on the restored ledger once the
    // restored worker has run what was queued (an accrual's job is in the same transaction).
    let accrued = eventually(Duration::from_secs(60), || async {
        let n: i64 = vereda_store::on_db!(&back.db, |p| sqlx::query_scalar(
            "SELECT COUNT(DISTINCT assignment_id) FROM accruals"
        )
        .fetch_one(p)
        .await
        .unwrap());
        (n >= approvals.len() as i64).then_some(n)
    })
    .await;
    assert!(accrued.is_some(), "approvals before the backup accrue");
    assert_ledger_invariants(&back.db).await;
    drop(back);
    drop(restored);

    // Restoring over a database that is there is refused without force, and changes nothing.
    let live_file = data_dir.join("vereda.db");
    let size = std::fs::metadata(&live_file).unwrap().len();
    let refused = backup::restore(&to, &live_file, &data_dir, false).await;
    let why = refused.unwrap_err().to_string();
    assert!(why.contains("--force"), "{why}");
    assert_eq!(std::fs::metadata(&live_file).unwrap().len(), size);
}

#[tokio::test]
async fn scheduled_backups_come_when_due_and_keep_the_newest() {
    let test_db = TestDb::new().await;
    if test_db.is_postgres() {
        println!("skipped: backups are for the embedded SQLite database");
        return;
    }
    let app: TestApp = spawn_with(test_db.settings()).await;
    let folder = tempfile::tempdir().unwrap();
    let schedule = BackupSchedule {
        dir: folder.path().join("respaldos"),
        every: Duration::from_secs(6 * 3600),
        keep: 2,
    };
    let t0 = chrono::Utc::now();
    let hours = |h: i64| t0 + chrono::Duration::hours(h);
    let data = test_db.dir.path();
    let made = |h: i64| {
        let (db, schedule) = (app.db.clone(), schedule.clone());
        async move {
            backup::scheduled_once(&db, data, &schedule, hours(h))
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(made(0).await, "none yet: one now");
    assert!(!made(5).await, "the newest is five hours old");
    assert!(made(6).await);
    assert!(made(13).await);
    assert!(made(30).await);
    let mut names: Vec<String> = std::fs::read_dir(&schedule.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let stamp = |h: i64| format!("vereda-backup-{}.tar", hours(h).format("%Y%m%dT%H%M%SZ"));
    assert_eq!(names, [stamp(13), stamp(30)], "the two newest are kept");
}

/// On either database: a database a newer Vereda migrated further is refused at start, saying
/// why, rather than read by a version that does not know what it holds.
#[tokio::test]
async fn a_database_migrated_by_a_newer_vereda_is_refused_at_start() {
    let app = vereda_tests::spawn_app().await;
    let test_db = app.stop().await.unwrap();
    let db = vereda_store::db::Db::connect(&test_db.url, &Default::default())
        .await
        .unwrap();
    let bytes: Vec<u8> = vec![0];
    vereda_store::on_db!(&db, |p| sqlx::query(
        "INSERT INTO _vereda_migrations \
         (version, description, success, checksum, execution_time) \
         VALUES (99990101, 'from the future', TRUE, $1, 0)"
    )
    .bind(&bytes)
    .execute(p)
    .await
    .unwrap()
    .rows_affected());
    db.close().await;
    let refused = vereda_api::startup::Application::build(
        test_db.settings(),
        vereda_api::startup::RunOptions { with_worker: true },
    )
    .await;
    let why = refused.err().expect("refused").to_string();
    assert!(
        why.contains("newer Vereda") && why.contains("99990101"),
        "{why}"
    );
}
