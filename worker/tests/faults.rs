//! Crashes lose nothing and double nothing. A real `vereda-worker` process is killed with
//! SIGKILL at seeded random moments of billing runs, payout batches and statement runs (at
//! least ten kills that land in the middle of a run, for each), restarted each time; then a
//! healthy process takes over and every job pushed along the way must complete, after which
//! the effects are exactly those of one clean run and the DESIGN §4 invariants hold.
//! On a SQLite file, and on a throw-away PostgreSQL database when `VEREDA_TEST_POSTGRES_URL`
//! is set; there, two processes on one queue also share the same jobs and each effect
//! happens once.
//!
//! The seed is printed; `VEREDA_FAULT_SEED=0x… cargo test -p vereda-worker --test faults`
//! replays a failure (the kill points are seeded; the machine's timing still varies).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use vereda_contracts::db::Db;
use vereda_contracts::jobs::{BillingRun, BuildPayoutBatch, BuildStatements};
use vereda_contracts::on_db;
use vereda_contracts::time::{BOGOTA, now};
use vereda_worker::queue::{self, JobState};

/// Kills that must land in the middle of a run, per kind of run.
const KILLS: u32 = 10;
const COMPANIES: i64 = 12;
const WORKERS: i64 = 40;
const PER_WORKER: i64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_lose_nothing_on_sqlite() {
    let seed = seed("sqlite");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("vereda.db").display());
    crash_scenario(&url, dir.path(), seed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_lose_nothing_on_postgres() {
    on_postgres(|url| async move {
        let seed = seed("postgres");
        let dir = tempfile::tempdir().unwrap();
        crash_scenario(&url, dir.path(), seed).await;
    })
    .await;
}

/// The three kinds of run the scenario kills.
#[derive(Debug, Clone)]
enum Run {
    Billing,
    Payouts { batch: String },
    Statements,
}

impl Run {
    async fn push(&self, db: &Db, book: &Book) -> String {
        match self {
            Run::Billing => {
                let period_end = now().with_timezone(&BOGOTA).date_naive().to_string();
                let job = BillingRun {
                    period_end,
                    cycle: None,
                };
                queue::push(db, BillingRun::QUEUE, &job, None, None).await
            }
            Run::Payouts { batch } => {
                let job = BuildPayoutBatch {
                    batch_id: batch.clone(),
                };
                queue::push(db, BuildPayoutBatch::QUEUE, &job, None, None).await
            }
            Run::Statements => {
                let job = BuildStatements {
                    month: book.month.to_string(),
                };
                queue::push(db, BuildStatements::QUEUE, &job, None, None).await
            }
        }
        .unwrap()
    }

    /// Effects committed so far, and how many a complete run has.
    async fn progress(&self, db: &Db, book: &Book) -> (i64, i64) {
        match self {
            Run::Billing => (
                count(
                    db,
                    "SELECT (SELECT COUNT(*) FROM accruals) + (SELECT COUNT(*) FROM invoices)",
                )
                .await,
                book.assignments + book.companies,
            ),
            Run::Payouts { .. } => (
                count(db, "SELECT COUNT(*) FROM payout_lines").await,
                book.workers.len() as i64,
            ),
            Run::Statements => (
                count(
                    db,
                    "SELECT (SELECT COUNT(*) FROM statements) + (SELECT COUNT(*) FROM support_documents)",
                )
                .await,
                2 * book.workers.len() as i64,
            ),
        }
    }
}

async fn crash_scenario(url: &str, dir: &Path, seed: u64) {
    let started = Instant::now();
    let db = open(url).await;
    let book = seed_book(&db, COMPANIES, WORKERS, PER_WORKER).await;
    let mut rng = Rng::new(seed);

    kill_and_recover(&db, url, dir, &book, &Run::Billing, &mut rng).await;
    assert_billed_once(&db, &book).await;
    assert_ledger_invariants(&db).await;

    let batch = new_batch(&db, &book).await;
    let payouts = Run::Payouts {
        batch: batch.clone(),
    };
    kill_and_recover(&db, url, dir, &book, &payouts, &mut rng).await;
    assert_paid_out_once(&db, &book, &batch).await;
    assert_ledger_invariants(&db).await;

    kill_and_recover(&db, url, dir, &book, &Run::Statements, &mut rng).await;
    assert_statements_once(&db, &book).await;
    // Nothing above moved because of the statements.
    assert_billed_once(&db, &book).await;
    assert_paid_out_once(&db, &book, &batch).await;
    assert_ledger_invariants(&db).await;
    println!("done in {:?}", started.elapsed());
    db.close().await;
}

/// Start a worker, push a run, kill the worker at a seeded point of the run; again until
/// [`KILLS`] kills have landed mid-run. Then let a healthy worker finish every job pushed.
async fn kill_and_recover(db: &Db, url: &str, dir: &Path, book: &Book, run: &Run, rng: &mut Rng) {
    let mut jobs = Vec::new();
    let mut landed = 0;
    let mut cycles = 0;
    while landed < KILLS {
        cycles += 1;
        assert!(
            cycles <= 3 * KILLS,
            "{run:?}: only {landed} of {cycles} kills landed in the middle of a run"
        );
        let (before, total) = run.progress(db, book).await;
        assert!(
            before < total,
            "{run:?}: the runs finished after only {landed} mid-run kills"
        );
        // Spread the kills over what is left: the run is killed once it has committed
        // between 1 and `step` more effects, plus a few milliseconds, so some kills cut a
        // transaction half-way.
        let step = ((total - before) / i64::from(2 * (KILLS - landed) + 1)).max(1);
        let target = before + 1 + rng.below(step as u64) as i64;
        let extra = Duration::from_micros(rng.below(3000));
        // A run that commits everything at once shows no progress until its end: such a run
        // is killed a random while after it starts instead.
        let patience = Duration::from_millis(300 + rng.below(1500));

        let child = spawn_worker(url, dir);
        let id = run.push(db, book).await;
        jobs.push(id.clone());
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut running_since = None;
        for polls in 0.. {
            if run.progress(db, book).await.0 >= target {
                break;
            }
            // The job's state matters less; look at it less often, to poll progress tightly.
            if polls % 8 != 0 {
                continue;
            }
            let state = job_state(db, &id).await;
            if state == Some(JobState::Succeeded) {
                break;
            }
            if state == Some(JobState::Running)
                && running_since.get_or_insert_with(Instant::now).elapsed() >= patience
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{run:?}: job {id} never ran ({state:?})"
            );
        }
        tokio::time::sleep(extra).await;
        kill(child);
        let (after, _) = run.progress(db, book).await;
        let state = job_state(db, &id).await;
        // The run had started (it committed something, or apalis marked it running) and had
        // work left when its process died.
        let mid_run = after < total
            && state != Some(JobState::Succeeded)
            && (after > before || state == Some(JobState::Running));
        landed += u32::from(mid_run);
        println!(
            "{run:?} kill {cycles}: {before} → {after} of {total} effects, job {state:?}{}",
            if mid_run { "" } else { " (not mid-run)" }
        );
    }

    // The dead processes' jobs go to the next healthy worker; one more run is pushed too.
    let recovery = Instant::now();
    age_dead_workers(db).await;
    let child = spawn_worker(url, dir);
    jobs.push(run.push(db, book).await);
    wait_all_succeeded(db, &jobs, Duration::from_secs(120)).await;
    kill(child);
    let (done, total) = run.progress(db, book).await;
    assert_eq!(done, total, "{run:?}: every effect is there");
    println!(
        "{run:?}: {landed} mid-run kills in {cycles} tries; {} jobs completed {:?} after the restart",
        jobs.len(),
        recovery.elapsed()
    );
}

/// Two processes on one PostgreSQL queue, each kind of run pushed several times at once:
/// both processes take jobs, and every effect still happens exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_queue_do_each_effect_once() {
    on_postgres(|url| async move {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&url).await;
        let book = seed_book(&db, 8, 12, 2).await;
        let first = spawn_worker(&url, dir.path());
        let second = spawn_worker(&url, dir.path());
        // Both registered on the queues before any job is pushed.
        let deadline = Instant::now() + Duration::from_secs(60);
        while instances(&db, "SELECT id FROM apalis.workers").await < 2 {
            assert!(Instant::now() < deadline, "two worker processes register");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let batch = new_batch(&db, &book).await;
        let mut all = Vec::new();
        for run in [
            Run::Billing,
            Run::Payouts {
                batch: batch.clone(),
            },
            Run::Statements,
        ] {
            let mut jobs = Vec::new();
            for _ in 0..6 {
                jobs.push(run.push(&db, &book).await);
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            wait_all_succeeded(&db, &jobs, Duration::from_secs(120)).await;
            all.extend(jobs);
        }
        kill(first);
        kill(second);

        assert_billed_once(&db, &book).await;
        assert_paid_out_once(&db, &book, &batch).await;
        assert_statements_once(&db, &book).await;
        assert_ledger_invariants(&db).await;

        let Db::Postgres(p) = &db else { unreachable!() };
        let ran_by: Vec<Option<String>> =
            sqlx::query_scalar("SELECT lock_by FROM apalis.jobs WHERE id = ANY($1)")
                .bind(&all)
                .fetch_all(p)
                .await
                .unwrap();
        let by: std::collections::BTreeSet<_> = ran_by
            .iter()
            .flatten()
            .map(|w| instance_of(w).to_string())
            .collect();
        println!("{} jobs ran on {} processes: {by:?}", all.len(), by.len());
        assert_eq!(by.len(), 2, "both processes took jobs");
        db.close().await;
    })
    .await;
}

/// Worker names are `queue@instance#restarts`; the instance names the process.
fn instance_of(worker: &str) -> &str {
    worker
        .split_once('@')
        .map_or(worker, |(_, rest)| rest.split('#').next().unwrap_or(rest))
}

async fn instances(db: &Db, sql: &'static str) -> usize {
    let names: Vec<String> = on_db!(db, |p| sqlx::query_scalar(sql).fetch_all(p).await.unwrap());
    names
        .iter()
        .map(|n| instance_of(n))
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}
