//! `GET /metrics` (issue 24 §2): behind its token, in the Prometheus text format, and the
//! figures move when work happens: requests by route and status, job runs by kind, the queue,
//! the outbox, the last ledger audit, the pool and the process's memory.

use std::time::Duration;

use vereda_store::config::Secret;
use vereda_tests::{TestDb, eventually, spawn_app, spawn_with};

const TOKEN: &str = "prometheus-scrapes-here-0123";

/// The sum of the samples of `name` whose labels include every `(label, value)` of `want`
/// (0 when there is none).
fn sample(text: &str, name: &str, want: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            (metric == name
                && want
                    .iter()
                    .all(|(k, v)| labels.split(',').any(|p| p == format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

async fn scrape(app: &vereda_tests::TestApp) -> String {
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn metrics_are_behind_a_token_and_move_with_the_work() {
    let db = TestDb::new().await;
    let mut settings = db.settings();
    settings.metrics_token = Some(Secret::new(TOKEN));
    let mut app = spawn_with(settings).await;
    app.test_db = Some(db);

    // No token, a wrong one: 401 as a problem, and nothing of the figures.
    let r = app.get("/metrics", None).await;
    r.problem(401);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("prometheus-scrapes-here-0124")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.text().await.unwrap().contains("vereda_"));

    let before = scrape(&app).await;
    for metric in [
        "# TYPE vereda_jobs gauge",
        "# TYPE vereda_emails gauge",
        "# TYPE vereda_db_pool_connections gauge",
        "# TYPE vereda_db_pool_acquire_seconds gauge",
        "# TYPE vereda_jobs_oldest_waiting_seconds gauge",
        "# TYPE process_resident_memory_bytes gauge",
    ] {
        assert!(before.contains(metric), "{metric} missing:\n{before}");
    }
    assert!(sample(&before, "process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert_eq!(
        sample(&before, "vereda_scrape_error", &[]),
        0.0,
        "every part of the state was read:\n{before}"
    );
    assert!(sample(&before, "vereda_db_pool_max_connections", &[]) >= 1.0);

    // Work: a company posts a task, a worker claims it and submits; verification (a job)
    // runs; the owner approves, which accrues (another job) and mails.
    let admin = app.admin_token().await;
    let (_company, owner) = app.company(&admin, "Metricas SAS").await;
    let (_, worker) = app.worker(&admin, &["support"]).await;
    app.approved_fixed_work(&owner, "Revisar tickets", "support", 60_000, &[&worker])
        .await;
    let posted = [
        ("method", "POST"),
        ("route", "/v1/tasks"),
        ("status", "201"),
    ];
    let claimed = [
        ("method", "POST"),
        ("route", "/v1/tasks/:param0/claims"),
        ("status", "201"),
    ];
    // A refused request counts under its own status, on its route's pattern (not its path).
    app.get("/v1/tasks/no-such-task", Some(&owner))
        .await
        .problem(404);
    let missing = [("route", "/v1/tasks/:param0"), ("status", "404")];

    let verify = [("kind", "vereda.verify-submission"), ("outcome", "ok")];
    let after = eventually(Duration::from_secs(60), || async {
        let text = scrape(&app).await;
        (sample(&text, "vereda_job_runs_total", &verify)
            > sample(&before, "vereda_job_runs_total", &verify))
        .then_some(text)
    })
    .await
    .expect("a verification run is counted");
    // The outbox's gauge is there whether its mail already went (jobs start at once) or not.
    assert!(
        after.contains("vereda_emails{state=\"pending\"}"),
        "{after}"
    );

    for (labels, what) in [
        (&posted[..], "the task posted"),
        (&claimed[..], "the claim"),
        (&missing[..], "the 404"),
    ] {
        assert!(
            sample(&after, "vereda_http_requests_total", labels)
                > sample(&before, "vereda_http_requests_total", labels),
            "{what} is not counted:\n{after}"
        );
        assert!(
            sample(&after, "vereda_http_request_duration_seconds_count", labels) >= 1.0,
            "{what} has no latency:\n{after}"
        );
    }
    // No path with an id became a label.
    assert!(!after.contains("no-such-task"));
    assert!(
        sample(
            &after,
            "vereda_job_run_duration_seconds_count",
            &[("kind", "vereda.verify-submission")]
        ) >= 1.0
    );
    assert!(
        sample(
            &after,
            "vereda_job_pickup_delay_seconds_count",
            &[("kind", "vereda.verify-submission")]
        ) >= 1.0
    );
    assert!(after.contains("# TYPE vereda_http_request_duration_seconds histogram"));

    // Every listing is the task board's hit or miss (other tests in this process list too,
    // so only "at least one more").
    let board = |text: &str| {
        sample(text, "vereda_task_board_hits_total", &[])
            + sample(text, "vereda_task_board_misses_total", &[])
    };
    app.get("/v1/tasks", Some(&worker)).await.ok(200);
    let listed = scrape(&app).await;
    assert!(board(&listed) > board(&after), "{listed}");
    assert!(listed.contains("# HELP vereda_task_board_misses_total"));

    // The last ledger audit: absent until one ran, then its result and time.
    assert!(!after.contains("vereda_ledger_audit_ok"));
    let settings = app.test_db.as_ref().unwrap().settings();
    let now = vereda_contracts::time::unix(vereda_contracts::time::now());
    vereda_worker::ledger_audit::record(&app.db, &settings, now)
        .await
        .unwrap();
    let audited = scrape(&app).await;
    assert_eq!(sample(&audited, "vereda_ledger_audit_ok", &[]), 1.0);
    assert_eq!(
        sample(&audited, "vereda_ledger_audit_timestamp_seconds", &[]),
        now as f64
    );
    vereda_tests::invariants::assert_ledger_invariants(&app.db).await;
}

#[tokio::test]
async fn without_a_token_there_is_no_metrics_route() {
    let app = spawn_app().await;
    app.get("/metrics", None).await.problem(404);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
