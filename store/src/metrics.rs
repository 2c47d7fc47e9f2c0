//! Numbers an operator watches, in the Prometheus text format (`GET /metrics`).
//!
//! Two kinds. What this process did (requests, job runs) is counted as it happens through the
//! `metrics` facade into one process-wide Prometheus recorder ([`install`]). What the database
//! holds (queue depth, e-mails waiting, the last ledger audit, the pool) is read at scrape time
//! ([`scrape`]), so every process answers the same for the shared state and nothing is kept
//! twice. Names follow Prometheus conventions: `vereda_` prefix, base units (`_seconds`,
//! `_bytes`), `_total` on counters.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::db::Db;
use crate::queue;

pub const HTTP_REQUESTS: &str = "vereda_http_requests_total";
pub const HTTP_DURATION: &str = "vereda_http_request_duration_seconds";
pub const JOB_RUNS: &str = "vereda_job_runs_total";
pub const JOB_RUN_DURATION: &str = "vereda_job_run_duration_seconds";
pub const JOB_PICKUP: &str = "vereda_job_pickup_delay_seconds";
/// Listings the task board answered from a kept page, and those that built theirs.
pub const TASK_BOARD_HITS: &str = "vereda_task_board_hits_total";
pub const TASK_BOARD_MISSES: &str = "vereda_task_board_misses_total";

/// Latency buckets, 5 ms to 2 minutes (a job's timeout).
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process-wide recorder (once; later calls return the same handle). `None` when
/// another recorder was installed first, which only a test harness would do.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route and status");
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route and status"
    );
    metrics::describe_counter!(JOB_RUNS, "Job runs in this process, by kind and outcome");
    metrics::describe_histogram!(
        JOB_RUN_DURATION,
        metrics::Unit::Seconds,
        "Time one job run took, by kind and outcome"
    );
    metrics::describe_histogram!(
        JOB_PICKUP,
        metrics::Unit::Seconds,
        "From when a job was due to when a worker started it (first attempt), by kind"
    );
    metrics::describe_counter!(TASK_BOARD_HITS, "Task listings answered from a kept page");
    metrics::describe_counter!(
        TASK_BOARD_MISSES,
        "Task listings that built their page (none kept, or the kept one stale)"
    );
}

/// One answered request. `route` is the matched pattern (`/v1/tasks/:param0`), not the path, so
/// ids do not become label values.
pub fn record_request(method: &str, route: &str, status: u16, took: Duration) {
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(took.as_secs_f64());
}

/// One job run. `pickup` is how late its first attempt started.
pub fn record_job(kind: &str, ok: bool, took: Duration, pickup: Option<Duration>) {
    let outcome = if ok { "ok" } else { "error" };
    let labels = [("kind", kind.to_string()), ("outcome", outcome.to_string())];
    metrics::counter!(JOB_RUNS, &labels).increment(1);
    metrics::histogram!(JOB_RUN_DURATION, &labels).record(took.as_secs_f64());
    if let Some(p) = pickup {
        metrics::histogram!(JOB_PICKUP, "kind" => kind.to_string()).record(p.as_secs_f64());
    }
}

/// The whole exposition: this process's counters, then the database's state read now.
pub async fn scrape(db: &Db, now: i64) -> String {
    let mut out = install().map(PrometheusHandle::render).unwrap_or_default();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    state(db, now, &mut out).await;
    out
}

fn gauge(out: &mut String, name: &str, help: &str, samples: &[(&str, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// Gauges read from the database. A read that fails is reported as `vereda_scrape_error` with
/// what could not be read, rather than failing the whole scrape.
async fn state(db: &Db, now: i64, out: &mut String) {
    let mut errors: Vec<&str> = Vec::new();

    let (size, idle, max) = db.pool_use();
    let started = Instant::now();
    let waited = match db.acquire_probe().await {
        Ok(()) => Some(started.elapsed().as_secs_f64()),
        Err(_) => {
            errors.push("pool");
            None
        }
    };
    gauge(
        out,
        "vereda_db_pool_connections",
        "Database connections of this process, by state",
        &[
            ("state=\"in_use\"", f64::from(size.saturating_sub(idle))),
            ("state=\"idle\"", f64::from(idle)),
        ],
    );
    gauge(
        out,
        "vereda_db_pool_max_connections",
        "Most connections the pool opens (VEREDA_DB_MAX_CONNECTIONS)",
        &[("", f64::from(max))],
    );
    if let Some(w) = waited {
        gauge(
            out,
            "vereda_db_pool_acquire_seconds",
            "How long this scrape waited for a database connection",
            &[("", w)],
        );
    }

    match queue::depth(db).await {
        Ok(d) => {
            gauge(
                out,
                "vereda_jobs",
                "Jobs on the queue, by state (given_up: failed for good)",
                &[
                    ("state=\"waiting\"", d.waiting as f64),
                    ("state=\"running\"", d.running as f64),
                    ("state=\"given_up\"", d.given_up as f64),
                ],
            );
            gauge(
                out,
                "vereda_jobs_oldest_waiting_seconds",
                "How long the oldest due job has waited (0 when none waits)",
                &[("", d.oldest_due.map_or(0, |t| (now - t).max(0)) as f64)],
            );
        }
        Err(_) => errors.push("queue"),
    }

    match crate::outbox::counts(db).await {
        Ok(c) => gauge(
            out,
            "vereda_emails",
            "E-mails in the outbox, by state (failed: given up)",
            &[
                ("state=\"pending\"", c.pending as f64),
                ("state=\"failed\"", c.failed as f64),
            ],
        ),
        Err(_) => errors.push("outbox"),
    }

    match crate::audit::last_result(db).await {
        Ok(Some((ran_at, ok))) => {
            gauge(
                out,
                "vereda_ledger_audit_ok",
                "1 when every check of the last ledger audit held, else 0",
                &[("", if ok { 1.0 } else { 0.0 })],
            );
            gauge(
                out,
                "vereda_ledger_audit_timestamp_seconds",
                "When the last ledger audit ran (Unix seconds)",
                &[("", ran_at as f64)],
            );
        }
        Ok(None) => {}
        Err(_) => errors.push("ledger_audit"),
    }

    if let Some(rss) = resident_memory_bytes() {
        gauge(
            out,
            "process_resident_memory_bytes",
            "Resident memory of this process",
            &[("", rss as f64)],
        );
    }

    let failed: Vec<(String, f64)> = ["pool", "queue", "outbox", "ledger_audit"]
        .iter()
        .map(|part| {
            (
                format!("part=\"{part}\""),
                if errors.contains(part) { 1.0 } else { 0.0 },
            )
        })
        .collect();
    let failed: Vec<(&str, f64)> = failed.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    gauge(
        out,
        "vereda_scrape_error",
        "1 when this scrape could not read that part of the database's state",
        &failed,
    );
}

/// Resident set size (`VmRSS` of `/proc/self/status`, in kB); `None` off Linux.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kb: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kb * 1024)
}
