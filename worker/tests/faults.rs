//! Crashes lose nothing and double nothing. A real `vereda-worker` process is killed with
//! SIGKILL at seeded random moments of billing runs, payout batches, statement runs and weekly
//! documento soporte runs (at
//! least ten kills that land in the middle of a run, for each: its job running, its effects
//! incomplete), restarted each time. Batched runs are short, so one that completes before
//! the kill is given fresh work of its kind (new companies and workers) and the kills go on,
//! within a bounded number of tries. Then a healthy process takes over and every job pushed
//! along the way must complete, after which the effects over all the work are exactly those
//! of clean runs and the DESIGN §4 invariants hold.
//! On a SQLite file, and on a throw-away PostgreSQL database when `VEREDA_TEST_POSTGRES_URL`
//! is set; there, two processes on one queue also share the same jobs and each effect
//! happens once.
//!
//! The seed is printed; `VEREDA_FAULT_SEED=0x… cargo test -p vereda-worker --test faults`
//! replays a failure (the kill points are seeded; the machine's timing still varies).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;
use vereda_contracts::jobs::{
    BillingRun, BuildPayoutBatch, BuildStatements, IssueSupportDocuments,
};
use vereda_contracts::support_weeks::Week;
use vereda_contracts::time::{BOGOTA, now, unix};
use vereda_store::db::Db;
use vereda_store::on_db;
use vereda_store::queue::{self, JobState};

/// Kills that must land in the middle of a run, per kind of run.
const KILLS: u32 = 10;
/// Tries (worker started, run pushed, worker killed) allowed per kind of run to land them.
const MAX_TRIES: u32 = 6 * KILLS;
const COMPANIES: i64 = 12;
const WORKERS: i64 = 40;
const PER_WORKER: i64 = 2;
/// Fresh work added whenever a run completes before enough kills have landed: companies
/// (each its own invoice transaction, so a billing run lasts), and workers, more for payouts
/// (all of a batch's lines are one transaction, whose length grows with them).
const MORE_COMPANIES: i64 = 8;
const MORE_WORKERS: i64 = 16;
const MORE_PAYEES: i64 = 48;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_lose_nothing_on_sqlite() {
    // The suite runs once per database: with a PostgreSQL server named, this pass is
    // PostgreSQL's (the SQLite pass, without it, runs this one).
    if vereda_store::scratch::test_postgres_url().is_some() {
        println!("skipped: this is the PostgreSQL pass");
        return;
    }
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

/// The kinds of run the scenario kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Billing,
    /// Fills the book's current batch.
    Payouts,
    Statements,
    /// Up to the week in course, so every week of the book's work (last month) is in reach.
    SupportDocuments,
}

impl Run {
    async fn push(self, db: &Db, book: &Book) -> String {
        match self {
            Run::Billing => {
                let period_end = now().with_timezone(&BOGOTA).date_naive().to_string();
                let job = BillingRun {
                    period_end,
                    cycle: None,
                };
                queue::push(db, BillingRun::QUEUE, &job, None, None).await
            }
            Run::Payouts => {
                let job = BuildPayoutBatch {
                    batch_id: book.batches.last().expect("a batch to fill").clone(),
                };
                queue::push(db, BuildPayoutBatch::QUEUE, &job, None, None).await
            }
            Run::Statements => {
                let job = BuildStatements {
                    month: book.month.to_string(),
                };
                queue::push(db, BuildStatements::QUEUE, &job, None, None).await
            }
            Run::SupportDocuments => {
                let job = IssueSupportDocuments {
                    week: Week::of(unix(now())).to_string(),
                };
                queue::push(db, IssueSupportDocuments::QUEUE, &job, None, None).await
            }
        }
        .unwrap()
    }

    /// Effects committed so far, and how many the book's work has in all.
    async fn progress(self, db: &Db, book: &Book) -> (i64, i64) {
        match self {
            Run::Billing => (
                count(
                    db,
                    "SELECT (SELECT COUNT(*) FROM accruals) + (SELECT COUNT(*) FROM invoices)",
                )
                .await,
                book.assignments + book.companies,
            ),
            Run::Payouts => (
                count(db, "SELECT COUNT(*) FROM payout_lines").await,
                book.workers.len() as i64,
            ),
            Run::Statements => (
                count(db, "SELECT COUNT(*) FROM statements").await,
                book.workers.len() as i64,
            ),
            Run::SupportDocuments => (
                count(db, "SELECT COUNT(*) FROM support_documents").await,
                weeks_bought(db).await.len() as i64,
            ),
        }
    }
}

/// What each worker earned in each week, from the accruals (each week a documento soporte).
async fn weeks_bought(db: &Db) -> std::collections::BTreeMap<(String, Week), i64> {
    let rows: Vec<(String, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT worker_id, approved_at, work FROM accruals"
    )
    .fetch_all(p)
    .await
    .unwrap());
    let mut weeks = std::collections::BTreeMap::new();
    for (worker, at, work) in rows {
        *weeks.entry((worker, Week::of(at))).or_default() += work;
    }
    weeks
}

/// One documento soporte per worker and week, for what she earned in it, numbered without a
/// gap however often the run was killed; no nota de ajuste (nothing changed).
async fn assert_support_documents_once(db: &Db) {
    let rows: Vec<(String, String, String, i64, i64)> = on_db!(db, |p| sqlx::query_as(
        "SELECT worker_id, week_start, kind, amount, seq FROM support_documents ORDER BY seq"
    )
    .fetch_all(p)
    .await
    .unwrap());
    let mut documented = std::collections::BTreeMap::new();
    for (n, (worker, week, kind, amount, seq)) in rows.iter().enumerate() {
        assert_eq!(kind, "document", "{worker} {week}: no nota de ajuste");
        assert_eq!(*seq, n as i64 + 1, "numbered without a gap");
        let week = Week::parse(week).expect("a weekly document");
        assert!(
            documented.insert((worker.clone(), week), *amount).is_none(),
            "{worker} {week}: one document"
        );
    }
    assert_eq!(
        documented,
        weeks_bought(db).await,
        "each week documented as earned"
    );
}

async fn crash_scenario(url: &str, dir: &Path, seed: u64) {
    let started = Instant::now();
    let db = open(url).await;
    let mut book = seed_book(&db, COMPANIES, WORKERS, PER_WORKER).await;
    let mut rng = Rng::new(seed);

    kill_and_recover(&db, url, dir, &mut book, Run::Billing, &mut rng).await;
    assert_billed_once(&db, &book).await;
    assert_ledger_invariants(&db).await;

    new_batch(&db, &mut book).await;
    kill_and_recover(&db, url, dir, &mut book, Run::Payouts, &mut rng).await;
    assert_billed_once(&db, &book).await;
    assert_paid_out_once(&db, &book).await;
    assert_ledger_invariants(&db).await;

    kill_and_recover(&db, url, dir, &mut book, Run::Statements, &mut rng).await;
    assert_statements_once(&db, &book).await;
    // Nothing above moved because of the statements.
    assert_billed_once(&db, &book).await;
    assert_paid_out_once(&db, &book).await;
    assert_ledger_invariants(&db).await;

    kill_and_recover(&db, url, dir, &mut book, Run::SupportDocuments, &mut rng).await;
    assert_support_documents_once(&db).await;
    // Fresh work brought for it was billed and paid as before.
    assert_billed_once(&db, &book).await;
    assert_paid_out_once(&db, &book).await;
    assert_ledger_invariants(&db).await;
    println!(
        "done in {:?}: {} companies, {} workers, {} batches",
        started.elapsed(),
        book.companies,
        book.workers.len(),
        book.batches.len()
    );
    db.close().await;
}

/// Start a worker, push a run, kill the worker at a seeded moment after the run starts; again
/// until [`KILLS`] kills have landed mid-run (the run's job running, its effects incomplete).
/// A run that completes first gets fresh work of its kind ([`refill`]), so a fast run cannot
/// leave the kills nowhere to land. Then a healthy worker finishes every job pushed.
async fn kill_and_recover(
    db: &Db,
    url: &str,
    dir: &Path,
    book: &mut Book,
    run: Run,
    rng: &mut Rng,
) {
    let mut jobs = Vec::new();
    let (mut landed, mut tries, mut refills) = (0, 0, 0);
    // How long after its job is seen running a run may still be going: the kill comes at a
    // seeded moment within it. Shrunk to what a run was seen to take when the kill came too
    // late, grown a little after each kill that landed.
    let mut span = Duration::from_millis(500);
    while landed < KILLS {
        tries += 1;
        assert!(
            tries <= MAX_TRIES,
            "{run:?}: only {landed} of {MAX_TRIES} kills landed in the middle of a run \
             ({refills} times fresh work; replay with the seed printed above)"
        );
        let (mut before, mut total) = run.progress(db, book).await;
        // The unkilled worker a refill uses may also pick up an earlier, orphaned run of this
        // kind and finish the fresh work itself; then refill again (a few times at most).
        for _ in 0..4 {
            if before < total {
                break;
            }
            refills += 1;
            refill(db, url, dir, book, run).await;
            (before, total) = run.progress(db, book).await;
        }
        assert!(before < total, "{run:?}: fresh work brings new effects");
        let delay = span * rng.below(1000) as u32 / 1000;

        let child = spawn_worker(url, dir);
        let id = run.push(db, book).await;
        jobs.push(id.clone());
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut running_since: Option<Instant> = None;
        loop {
            let state = job_state(db, &id).await;
            if state == Some(JobState::Succeeded) {
                break;
            }
            if state == Some(JobState::Running)
                && running_since.get_or_insert_with(Instant::now).elapsed() >= delay
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{run:?}: job {id} never ran ({state:?})"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ran_for = running_since.map(|t| t.elapsed());
        kill(child);
        // A COMMIT the server had already received may still land after the client died.
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The process is dead: what it committed and its job's state are final.
        let (after, _) = run.progress(db, book).await;
        let state = job_state(db, &id).await;
        let mid_run = state == Some(JobState::Running) && after < total;
        landed += u32::from(mid_run);
        if mid_run {
            // Drift later again, so the kills do not all come at the start of a run.
            span = span.mul_f64(1.25).min(Duration::from_secs(2));
        } else if after >= total {
            // Too late: next time, aim well within what this run took.
            span = ran_for
                .unwrap_or(span / 2)
                .mul_f64(0.75)
                .max(Duration::from_millis(2));
        }
        println!(
            "{run:?} try {tries}: {before} → {after} of {total} effects, job {state:?}, \
             killed {ran_for:?} after it was seen running{}",
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
        "{run:?}: {landed} mid-run kills in {tries} tries, fresh work {refills} times; \
         {} jobs completed {:?} after the restart",
        jobs.len(),
        recovery.elapsed()
    );
}

/// New companies and workers with approved work, brought (by a healthy worker, unharmed)
/// up to where `run` takes over: billed before payouts, billed and paid before statements.
async fn refill(db: &Db, url: &str, dir: &Path, book: &mut Book, run: Run) {
    let workers = if run == Run::Payouts {
        MORE_PAYEES
    } else {
        MORE_WORKERS
    };
    book.extend(db, MORE_COMPANIES, workers, PER_WORKER).await;
    if run == Run::Billing {
        return;
    }
    let child = spawn_worker(url, dir);
    let billing = Run::Billing.push(db, book).await;
    wait_all_succeeded(db, &[billing], Duration::from_secs(120)).await;
    new_batch(db, book).await;
    if matches!(run, Run::Statements | Run::SupportDocuments) {
        let payouts = Run::Payouts.push(db, book).await;
        wait_all_succeeded(db, &[payouts], Duration::from_secs(120)).await;
    }
    kill(child);
}

/// Two processes on one PostgreSQL queue, each kind of run pushed several times at once:
/// both processes take jobs, and every effect still happens exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_queue_do_each_effect_once() {
    on_postgres(|url| async move {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&url).await;
        let mut book = seed_book(&db, 8, 12, 2).await;
        let first = spawn_worker(&url, dir.path());
        let second = spawn_worker(&url, dir.path());
        // Both registered on the queues before any job is pushed.
        let deadline = Instant::now() + Duration::from_secs(60);
        while instances(&db, "SELECT id FROM apalis.workers").await < 2 {
            assert!(Instant::now() < deadline, "two worker processes register");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        new_batch(&db, &mut book).await;
        let mut all = Vec::new();
        for run in [Run::Billing, Run::Payouts, Run::Statements] {
            let mut jobs = Vec::new();
            for _ in 0..6 {
                jobs.push(run.push(&db, &book).await);
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            wait_all_succeeded(&db, &jobs, Duration::from_secs(120)).await;
            all.extend(jobs);
        }
        // Which process takes a job is a race on each poll: a busy machine may let one win all
        // eighteen. More rounds of billing (each a no-op by now), six at once, until both have
        // taken one; the effects are checked after every run.
        let mut by = processes_that_ran(&db, &all).await;
        for _ in 0..10 {
            if by.len() == 2 {
                break;
            }
            let mut jobs = Vec::new();
            for _ in 0..6 {
                jobs.push(Run::Billing.push(&db, &book).await);
            }
            wait_all_succeeded(&db, &jobs, Duration::from_secs(120)).await;
            all.extend(jobs);
            by = processes_that_ran(&db, &all).await;
        }
        kill(first);
        kill(second);

        assert_billed_once(&db, &book).await;
        assert_paid_out_once(&db, &book).await;
        assert_statements_once(&db, &book).await;
        assert_ledger_invariants(&db).await;
        println!("{} jobs ran on {} processes: {by:?}", all.len(), by.len());
        assert_eq!(by.len(), 2, "both processes took jobs");
        db.close().await;
    })
    .await;
}

/// The processes (instances) that ran `jobs`.
async fn processes_that_ran(db: &Db, jobs: &[String]) -> std::collections::BTreeSet<String> {
    let Db::Postgres(p) = db else { unreachable!() };
    let ran_by: Vec<Option<String>> =
        sqlx::query_scalar("SELECT lock_by FROM apalis.jobs WHERE id = ANY($1)")
            .bind(jobs)
            .fetch_all(p)
            .await
            .unwrap();
    ran_by
        .iter()
        .flatten()
        .map(|w| instance_of(w).to_string())
        .collect()
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
