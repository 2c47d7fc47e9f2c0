//! A database outage under load loses nothing. The app runs (API and in-process worker) on a
//! PostgreSQL cluster this test creates for itself (never the shared server): while clients
//! keep creating tasks, the cluster is stopped the hard way and started again. Meanwhile
//! `/readyz` answers 503, every request fails cleanly with a 503 problem in bounded time
//! (no hang, no 500), `/readyz` comes back to 200 without restarting Vereda, writes succeed
//! again, and every write that was acknowledged is there afterwards.
//!
//! Runs once, whatever `VEREDA_TEST_POSTGRES_URL` says: the cluster is its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Mutex;
use vereda_store::config::{Secret, Settings};
use vereda_tests::pgcluster::PgCluster;
use vereda_tests::*;

const CLIENTS: usize = 4;
/// The clients give up on an answer after this long...
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// ...but every answer must come well before: the pool's acquire timeout is 5 s.
const ANSWER_WITHIN: Duration = Duration::from_secs(12);

/// What one request got.
#[derive(Debug)]
enum Outcome {
    /// 201: the task's id and title.
    Acknowledged(String, String),
    /// 503 problem+json `database_unavailable`, after this long.
    Unavailable(Duration),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_postgres_under_load_loses_no_acknowledged_write() {
    if !PgCluster::available() {
        println!("skipped: PostgreSQL server binaries are not installed (/usr/lib/postgresql)");
        return;
    }
    let mut cluster = PgCluster::start().expect("a throw-away PostgreSQL cluster starts");
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_database(&cluster.url(), dir.path()).unwrap();
    settings.admin_email = Some(ADMIN_EMAIL.to_string());
    settings.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    settings.sweep_interval = Duration::from_secs(1);
    let app = Arc::new(spawn_with(settings).await);
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Cooperativa del Tolima").await;
    app.get("/readyz", None).await.ok(200);

    let client = reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<(Instant, Outcome)>::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for c in 0..CLIENTS {
        let (app, client, owner) = (app.clone(), client.clone(), owner.clone());
        let (stop, outcomes, sent) = (stop.clone(), outcomes.clone(), sent.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let title = format!("Digitar formularios, lote {c}-{n}");
                let started = Instant::now();
                sent.fetch_add(1, Ordering::SeqCst);
                let r = app
                    .send(
                        client
                            .post(app.url("/v1/tasks"))
                            .bearer_auth(&owner)
                            .json(&task(&title)),
                    )
                    .await;
                let took = started.elapsed();
                assert!(
                    took < ANSWER_WITHIN,
                    "an answer took {took:?} (status {}): requests must fail fast, not hang",
                    r.status
                );
                let outcome = match r.status {
                    201 => Outcome::Acknowledged(r.body["id"].as_str().unwrap().to_string(), title),
                    _ => {
                        r.problem(503);
                        assert_eq!(r.code(), "database_unavailable", "{}", r.text);
                        Outcome::Unavailable(took)
                    }
                };
                outcomes.lock().await.push((Instant::now(), outcome));
                // Back off a little after a refusal, as a client would.
                if r.status == 503 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    let acknowledged = |o: &[(Instant, Outcome)], after: Instant| {
        o.iter()
            .filter(|(t, x)| *t > after && matches!(x, Outcome::Acknowledged(..)))
            .count()
    };

    // Load running and writes going through.
    let t0 = Instant::now();
    wait_until(Duration::from_secs(30), || async {
        acknowledged(&outcomes.lock().await, t0) >= 3 * CLIENTS
    })
    .await
    .expect("writes succeed before the outage");

    // The outage.
    cluster.stop().expect("the cluster stops");
    let down = Instant::now();
    println!(
        "database stopped after {} requests",
        sent.load(Ordering::SeqCst)
    );
    let r = wait_for_status(&app, "/readyz", 503, Duration::from_secs(15))
        .await
        .expect("/readyz turns 503 while the database is down");
    r.problem(503);
    let started = Instant::now();
    let r = app.get("/v1/me", Some(&owner)).await;
    r.problem(503);
    assert_eq!(r.code(), "database_unavailable");
    assert!(started.elapsed() < ANSWER_WITHIN, "a read fails fast too");
    // Let the clients meet the outage for a while.
    wait_until(Duration::from_secs(30), || async {
        let o = outcomes.lock().await;
        o.iter()
            .filter(|(t, x)| *t > down && matches!(x, Outcome::Unavailable(_)))
            .count()
            >= CLIENTS
    })
    .await
    .expect("writes during the outage are refused with 503");

    // Back.
    cluster.start_again().expect("the cluster starts again");
    let up = Instant::now();
    wait_for_status(&app, "/readyz", 200, Duration::from_secs(60))
        .await
        .unwrap_or_else(|| {
            panic!(
                "/readyz returns to 200 without a restart\n{}",
                cluster.log()
            )
        });
    println!("ready again {:?} after the restart", up.elapsed());
    wait_until(Duration::from_secs(60), || async {
        acknowledged(&outcomes.lock().await, up) >= 3 * CLIENTS
    })
    .await
    .expect("writes succeed again after the outage");
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.expect("a client's checks held");
    }

    // Every acknowledged write is there.
    let outcomes = std::mem::take(&mut *outcomes.lock().await);
    let (mut acked, mut refused, mut slowest) = (0, 0, Duration::ZERO);
    for (_, o) in &outcomes {
        match o {
            Outcome::Acknowledged(id, title) => {
                acked += 1;
                let r = app.get(&format!("/v1/tasks/{id}"), Some(&owner)).await;
                assert_eq!(r.ok(200)["title"], title.as_str(), "task {id}");
            }
            Outcome::Unavailable(took) => {
                refused += 1;
                slowest = slowest.max(*took);
            }
        }
    }
    println!(
        "{acked} writes acknowledged and found again, {refused} refused with 503 \
         (slowest refusal {slowest:?})"
    );
    assert!(refused > 0);
    // And the worker came back too: a job queued now runs.
    let finance = app.finance_token(&admin).await;
    let today = vereda_contracts::time::now()
        .with_timezone(&vereda_contracts::time::BOGOTA)
        .date_naive()
        .to_string();
    app.run_job(&finance, "/v1/billing-runs", json!({"period_end": today}))
        .await;
    drop(app);
    drop(cluster);
}

fn task(title: &str) -> serde_json::Value {
    json!({
        "title": title,
        "instructions": "Pasar los formularios escaneados a la hoja compartida.",
        "category": "data-entry",
        "required_skills": ["data-entry"],
        "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
        "slots": 1, "claim_minutes": 600, "review_hours": 72
    })
}

async fn wait_until<F, Fut>(within: Duration, mut check: F) -> Option<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually(within, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await
}

async fn wait_for_status(app: &TestApp, path: &str, status: u16, within: Duration) -> Option<Resp> {
    eventually(within, || async {
        let r = app.get(path, None).await;
        (r.status == status).then_some(r)
    })
    .await
}
