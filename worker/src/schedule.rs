//! Periodic jobs: a clock in every worker process turns ticks into queued jobs.
//!
//! Housekeeping follows a cron schedule ([`HOUSEKEEPING_CRON`], Bogotá time); the marketplace
//! sweep ticks every `Settings::sweep_interval` ([`Every`]), at the instants that are whole
//! multiples of the interval since the Unix epoch, so every process lands on the same ticks.
//!
//! Every process runs the same clock, so at each tick every process pushes the same job. The
//! job carries the tick as its idempotency key, and the queue keeps one job per key and queue,
//! so however many processes are up, each tick becomes exactly one job, which one worker runs.
//! (apalis's own `pipe_to` cannot do this: it gives each piped tick a fresh random id and no
//! key, so N processes would queue N jobs per tick, and apalis-postgres would fail rather than
//! skip a duplicate key.) If no process is up at a tick, the next tick does the work: periodic
//! jobs are sweeps.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use chrono_tz::Tz;
use vereda_contracts::jobs::{Housekeeping, MarketplaceSweep};
use vereda_store::db::Db;

use vereda_store::queue;

/// Every ten minutes, on the minute (seconds, minutes, hours, day, month, weekday).
pub const HOUSEKEEPING_CRON: &str = "0 */10 * * * *";

pub(crate) fn housekeeping_schedule() -> cron::Schedule {
    cron::Schedule::from_str(HOUSEKEEPING_CRON).expect("HOUSEKEEPING_CRON is a valid schedule")
}

/// The idempotency key of the periodic job due at `tick` (Unix seconds).
pub fn tick_key(tick: u64) -> String {
    format!("tick:{tick}")
}

/// Queue the housekeeping run due at `tick`, once, however many processes ask.
/// Returns the id of the one job for that tick.
pub async fn enqueue_housekeeping(db: &Db, tick: u64) -> anyhow::Result<String> {
    queue::push(
        db,
        Housekeeping::QUEUE,
        &Housekeeping::default(),
        None,
        Some(&tick_key(tick)),
    )
    .await
}

/// The cron worker's handler.
pub(crate) async fn on_housekeeping_tick(tick: Tick<Tz>, db: Data<Db>) -> Result<(), BoxDynError> {
    let id = enqueue_housekeeping(&db, tick.get_timestamp()).await?;
    tracing::debug!(tick = tick.get_timestamp(), job = %id, "housekeeping queued");
    Ok(())
}

/// A schedule that ticks at every whole multiple of a fixed interval since the Unix epoch
/// (every 60 s: at :00 of each minute; every 1 s: each second). Processes started at different
/// moments compute the same ticks, which is what lets the tick key deduplicate their pushes.
#[derive(Debug, Clone)]
pub struct Every {
    secs: u64,
    last: Option<u64>,
}

impl Every {
    /// Ticks `interval` apart (rounded down to whole seconds, at least one second).
    pub fn new(interval: Duration) -> Self {
        Every {
            secs: interval.as_secs().max(1),
            last: None,
        }
    }

    /// The first tick strictly after `now` (Unix seconds), and never one already given.
    pub fn next_after(&mut self, now: u64) -> u64 {
        let mut next = (now / self.secs + 1) * self.secs;
        // A timer that fires a hair early must not hand out the same tick twice.
        if let Some(last) = self.last
            && next <= last
        {
            next = last + self.secs;
        }
        self.last = Some(next);
        next
    }
}

impl<Z> apalis_cron::Schedule<Z> for Every {
    fn next_tick(&mut self, _timezone: &Z) -> Option<Tick<Z>> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        Some(Tick::new(self.next_after(now)))
    }
}

/// The idempotency key of the marketplace sweep due at `tick` (Unix seconds, a multiple of
/// the interval).
pub fn sweep_key(tick: u64) -> String {
    format!("sweep:{tick}")
}

/// Queue the marketplace sweep due at `tick`, once, however many processes ask.
/// Returns the id of the one job for that tick.
pub async fn enqueue_sweep(db: &Db, tick: u64) -> anyhow::Result<String> {
    queue::push(
        db,
        MarketplaceSweep::QUEUE,
        &MarketplaceSweep::default(),
        None,
        Some(&sweep_key(tick)),
    )
    .await
}

/// The sweep clock's handler.
pub(crate) async fn on_sweep_tick(tick: Tick, db: Data<Db>) -> Result<(), BoxDynError> {
    let id = enqueue_sweep(&db, tick.get_timestamp()).await?;
    tracing::debug!(tick = tick.get_timestamp(), job = %id, "marketplace sweep queued");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lands_on_shared_ticks() {
        let mut a = Every::new(Duration::from_secs(60));
        assert_eq!(a.next_after(119), 120);
        assert_eq!(a.next_after(120), 180);
        // Fired early (clock still reads 179): the next tick is not 180 again.
        assert_eq!(a.next_after(179), 240);
        // Another process started later computes the same ticks.
        let mut b = Every::new(Duration::from_secs(60));
        assert_eq!(b.next_after(200), 240);
        let mut fast = Every::new(Duration::from_millis(300));
        assert_eq!(
            fast.next_after(7),
            8,
            "sub-second intervals round up to one second"
        );
    }
}
