//! Shutting down without losing work (issue 24 §5). A real `vereda-worker` gets SIGTERM in
//! the middle of a billing run. With a grace period longer than the run, it finishes the run
//! and then exits cleanly. With a grace shorter than what is left of the run, it exits when the
//! grace is up, leaving the run unfinished; the next process to start picks the job up again
//! and it completes, once: every accrual and invoice once, invoice numbers without a gap, the
//! ledger balanced. On a SQLite file and on a throw-away PostgreSQL database.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use vereda_contracts::jobs::BillingRun;
use vereda_contracts::time::{BOGOTA, now};
use vereda_store::db::Db;
use vereda_store::queue::{self, JobState};

/// A `vereda-worker` process with a given grace period; killed if dropped still running.
struct Graceful(Child);

impl Drop for Graceful {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_graceful(url: &str, dir: &Path, grace_secs: u64) -> Graceful {
    Graceful(
        Command::new(env!("CARGO_BIN_EXE_vereda-worker"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("VEREDA_DATABASE_URL", url)
            .env("VEREDA_DATA_DIR", dir)
            .env("VEREDA_SHUTDOWN_GRACE_SECONDS", grace_secs.to_string())
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vereda-worker starts"),
    )
}

/// Send SIGTERM (what systemd and container runtimes send) and wait for the process to exit;
/// returns how long that took and whether it exited with success.
fn terminate(mut p: Graceful) -> (Duration, bool) {
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &p.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = sent + Duration::from_secs(120);
    loop {
        if let Some(exit) = p.0.try_wait().unwrap() {
            return (sent.elapsed(), exit.success());
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not exit on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn push_billing(db: &Db) -> String {
    let job = BillingRun {
        period_end: now().with_timezone(&BOGOTA).date_naive().to_string(),
        cycle: None,
    };
    queue::push(db, BillingRun::QUEUE, &job, None, None)
        .await
        .unwrap()
}

/// Accruals and invoices made so far, of how many in all.
async fn progress(db: &Db, book: &Book) -> (i64, i64) {
    (
        count(
            db,
            "SELECT (SELECT COUNT(*) FROM accruals) + (SELECT COUNT(*) FROM invoices)",
        )
        .await,
        book.assignments + book.companies,
    )
}

/// Wait until the run has begun its effects (its job running, some done, not all).
async fn wait_mid_run(db: &Db, book: &Book, id: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = job_state(db, id).await;
        let (done, total) = progress(db, book).await;
        if state == Some(JobState::Running) && done > 0 && done < total {
            return true;
        }
        if state == Some(JobState::Succeeded) {
            return false;
        }
        assert!(Instant::now() < deadline, "job {id} never ran ({state:?})");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_billing_loses_nothing_on_sqlite() {
    if vereda_store::scratch::test_postgres_url().is_some() {
        println!("skipped: this is the PostgreSQL pass");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("vereda.db").display());
    scenario(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_billing_loses_nothing_on_postgres() {
    on_postgres(|url| async move {
        let dir = tempfile::tempdir().unwrap();
        scenario(&url, dir.path()).await;
    })
    .await;
}

async fn scenario(url: &str, dir: &Path) {
    let db = open(url).await;
    let mut book = seed_book(&db, 30, 60, 2).await;

    // A long grace: the run in progress finishes, then the process exits cleanly.
    let mut finished_within_grace = false;
    for round in 0..8 {
        let worker = spawn_graceful(url, dir, 60);
        let id = push_billing(&db).await;
        let mid = wait_mid_run(&db, &book, &id).await;
        let (took, clean) = terminate(worker);
        if !mid {
            // The run was over before the signal: more work (doubling, as a busy machine
            // may poll late), and again.
            println!("long grace, round {round}: the run was over before SIGTERM");
            book.extend(&db, 20 << round, 40 << round, 2).await;
            continue;
        }
        assert!(clean, "exits with success after the grace it needed");
        assert_eq!(
            job_state(&db, &id).await,
            Some(JobState::Succeeded),
            "the run in progress finished before the process exited ({took:?})"
        );
        let (done, total) = progress(&db, &book).await;
        assert_eq!(done, total);
        println!("long grace: the run finished, exit {took:?} after SIGTERM");
        finished_within_grace = true;
        break;
    }
    assert!(finished_within_grace, "SIGTERM landed mid-run");
    assert_billed_once(&db, &book).await;
    assert_ledger_invariants(&db).await;

    // A one-second grace, and more work than a second's worth: the process exits when the
    // grace is up, the run unfinished; a new process completes it once.
    let mut cut_short = None;
    // Doubling the fresh work each round: PostgreSQL bills a few hundred companies in well
    // under a second.
    for round in 0..6 {
        let seeding = Instant::now();
        book.extend(&db, 150 << round, 300 << round, 2).await;
        println!("round {round}: work seeded in {:?}", seeding.elapsed());
        let worker = spawn_graceful(url, dir, 1);
        let id = push_billing(&db).await;
        if !wait_mid_run(&db, &book, &id).await {
            terminate(worker);
            println!("short grace, round {round}: the run was over before SIGTERM");
            continue;
        }
        let (took, _) = terminate(worker);
        assert!(
            took < Duration::from_secs(15),
            "the grace bounds the exit: {took:?}"
        );
        let (done, total) = progress(&db, &book).await;
        if done < total {
            assert_ne!(job_state(&db, &id).await, Some(JobState::Succeeded));
            println!("short grace: exit {took:?} after SIGTERM with {done} of {total} effects");
            cut_short = Some(id);
            break;
        }
        println!("short grace, round {round}: the run finished within the grace ({took:?})");
    }
    let id = cut_short.expect("a run outlasted a one-second grace");
    // The next process takes the job over once this one's heartbeats have lapsed (a minute
    // with the product's settings; dated back here rather than waited for).
    age_dead_workers(&db).await;
    let worker = spawn_graceful(url, dir, 30);
    wait_all_succeeded(&db, &[id], Duration::from_secs(120)).await;
    let (took, clean) = terminate(worker);
    assert!(clean, "an idle worker exits at once and cleanly ({took:?})");
    assert_billed_once(&db, &book).await;
    assert_ledger_invariants(&db).await;
    db.close().await;
}
