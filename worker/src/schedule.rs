//! Periodic jobs: a cron clock in every worker process turns ticks into queued jobs.
//!
//! Every process runs the same clock, so at each tick every process pushes the same job. The
//! job carries the tick as its idempotency key, and the queue keeps one job per key and queue,
//! so however many processes are up, each tick becomes exactly one job, which one worker runs.
//! (apalis's own `pipe_to` cannot do this: it gives each piped tick a fresh random id and no
//! key, so N processes would queue N jobs per tick, and apalis-postgres would fail rather than
//! skip a duplicate key.) If no process is up at a tick, the next tick does the work: periodic
//! jobs are sweeps.

use std::str::FromStr;

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use chrono_tz::Tz;
use vereda_contracts::db::Db;
use vereda_contracts::jobs::Housekeeping;

use crate::queue;

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
