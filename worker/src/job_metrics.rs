//! Counts every job run for `/metrics`: runs and their time by kind and outcome, and how late
//! a job's first attempt started after it was due (`vereda_store::metrics`).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apalis_core::task::Task;
use tower::{Layer, Service};

/// Records the runs of one queue's jobs; `kind` is the queue's name.
#[derive(Debug, Clone, Copy)]
pub struct JobMetricsLayer {
    kind: &'static str,
    /// The database's `Db::wake_key`, to wake the queue's workers on it when a run ends.
    db: usize,
}

impl JobMetricsLayer {
    pub fn new(kind: &'static str, db: usize) -> Self {
        Self { kind, db }
    }
}

impl<S> Layer<S> for JobMetricsLayer {
    type Service = JobMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JobMetrics {
            inner,
            kind: self.kind,
            db: self.db,
        }
    }
}

#[derive(Debug, Clone)]
pub struct JobMetrics<S> {
    inner: S,
    kind: &'static str,
    db: usize,
}

impl<S, Args> Service<Task<Args>> for JobMetrics<S>
where
    S: Service<Task<Args>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, task: Task<Args>) -> Self::Future {
        let ctx = task.ctx();
        // The first attempt only: a retry's delay is the backoff, not the queue's. Due when it
        // was pushed (the ULID id's milliseconds) or at its `run_at` (whole seconds) if later.
        let pickup = (ctx.attempt() <= 1)
            .then(|| {
                let pushed = ctx
                    .task_id()
                    .and_then(|id| id.as_ulid().or_else(|| id.as_string()?.parse().ok()))
                    .map(|id: ulid::Ulid| id.timestamp_ms());
                let run_at = ctx.run_at().map(|s| s.saturating_mul(1000));
                pushed.max(run_at)
            })
            .flatten()
            .map(|due| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis();
                Duration::from_millis(
                    u64::try_from(now.saturating_sub(u128::from(due))).unwrap_or(u64::MAX),
                )
            });
        let (kind, db) = (self.kind, self.db);
        let started = Instant::now();
        let run = self.inner.call(task);
        Box::pin(async move {
            let outcome = run.await;
            vereda_store::metrics::record_job(kind, outcome.is_ok(), started.elapsed(), pickup);
            // apalis records the outcome when the worker next gets ready for a job, which
            // may be its next poll, seconds away: make it now (the wake-up's repeats cover a
            // worker already fetching).
            vereda_store::queue::wake_on(db, kind);
            outcome
        })
    }
}
