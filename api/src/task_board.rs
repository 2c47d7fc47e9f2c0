//! The task board: pages of `GET /v1/tasks` as workers see them, kept serialised for a moment.
//!
//! Browsing is the busiest request a worker makes, and every worker with the same skills sees
//! the same page (the worker's view has no personal field), so a page is built once — one
//! query, 50 tasks to JSON — and answered as bytes to the next callers. Measured in
//! BENCHMARKS.md: the query and the serialising were nearly all of a listing's cost.
//!
//! When a page is stale:
//! - A change committed by this process (a claim, a release, a review, publishing or editing a
//!   task, the in-process worker's sweeps) advances `db::marketplace_epoch` after its commit,
//!   and a page is only kept while the epoch is the one read *before* its query: the next
//!   listing sees the change, as it did before the cache.
//! - A change committed by another process (another `vereda-api`, a separate `vereda-worker`)
//!   is seen once the page is [`MAX_AGE`] old. Claims never trust the board: they lock and
//!   count, so a worker who claims from a page a second old gets the plain "taken" answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use vereda_store::db::marketplace_epoch;

/// How long a page may be served without looking at the database again.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// Pages kept at most (a page of 50 is ~40 kB): distinct skill sets × filters × cursors.
const MAX_PAGES: usize = 512;

/// What a worker's page depends on: their skills and the request's filters and cursor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub skills: Option<String>,
    pub before: String,
    pub limit: i64,
    pub status: Option<String>,
    pub category: Option<String>,
    pub skill: Option<String>,
}

struct Page {
    epoch: u64,
    made: Instant,
    body: Bytes,
}

#[derive(Default)]
pub struct TaskBoard {
    pages: Mutex<HashMap<PageKey, Page>>,
}

impl TaskBoard {
    /// The page for `key` if it is still current.
    pub fn get(&self, key: &PageKey) -> Option<Bytes> {
        let epoch = marketplace_epoch();
        let page = {
            let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
            pages
                .get(key)
                .filter(|p| p.epoch == epoch && p.made.elapsed() < MAX_AGE)
                .map(|p| p.body.clone())
        };
        // Without a recorder (no metrics token) these do nothing.
        if page.is_some() {
            metrics::counter!(vereda_store::metrics::TASK_BOARD_HITS).increment(1);
        } else {
            metrics::counter!(vereda_store::metrics::TASK_BOARD_MISSES).increment(1);
        }
        page
    }

    /// Keep `body`, built from a query that started after `epoch` was read.
    pub fn put(&self, key: PageKey, epoch: u64, made: Instant, body: Bytes) {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_PAGES && !pages.contains_key(&key) {
            let now = marketplace_epoch();
            pages.retain(|_, p| p.epoch == now && p.made.elapsed() < MAX_AGE);
            if pages.len() >= MAX_PAGES {
                pages.clear();
            }
        }
        pages.insert(key, Page { epoch, made, body });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(skills: &str) -> PageKey {
        PageKey {
            skills: Some(skills.into()),
            before: "~".into(),
            limit: 50,
            status: None,
            category: None,
            skill: None,
        }
    }

    #[test]
    fn a_page_is_served_until_the_marketplace_changes() {
        let board = TaskBoard::default();
        let epoch = marketplace_epoch();
        board.put(
            key("excel"),
            epoch,
            Instant::now(),
            Bytes::from_static(b"[1]"),
        );
        assert_eq!(board.get(&key("excel")).as_deref(), Some(&b"[1]"[..]));
        assert_eq!(
            board.get(&key("excel,sql")),
            None,
            "other skills, other page"
        );
        vereda_store::db::marketplace_changed();
        assert_eq!(
            board.get(&key("excel")),
            None,
            "a committed change retires it"
        );
    }

    #[test]
    fn a_page_ages_out() {
        let board = TaskBoard::default();
        let old = Instant::now() - MAX_AGE;
        board.put(
            key("sql"),
            marketplace_epoch(),
            old,
            Bytes::from_static(b"[]"),
        );
        assert_eq!(board.get(&key("sql")), None);
    }

    #[test]
    fn the_board_stays_bounded() {
        let board = TaskBoard::default();
        let epoch = marketplace_epoch();
        for i in 0..(MAX_PAGES * 3) {
            board.put(key(&format!("s{i}")), epoch, Instant::now(), Bytes::new());
        }
        assert!(board.pages.lock().unwrap().len() <= MAX_PAGES);
    }
}
