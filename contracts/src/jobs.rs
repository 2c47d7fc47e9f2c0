//! Job payloads and their queue names. Jobs carry ids, never truth: the tables are the truth,
//! and every handler is idempotent. Queue names are explicit constants because apalis would
//! otherwise use the Rust type's path, which changes silently when a type moves.

use serde::{Deserialize, Serialize};

/// Periodic clean-up of expired sign-in tokens and stale login-throttle rows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Housekeeping {}

impl Housekeeping {
    pub const QUEUE: &'static str = "vereda.housekeeping";
}
