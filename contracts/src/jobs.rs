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

/// Run the automatic checks on a submission (idempotent: a submission already verified or
/// sent back is left alone).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerifySubmission {
    pub assignment_id: String,
}

impl VerifySubmission {
    pub const QUEUE: &'static str = "vereda.verify-submission";
}

/// The marketplace's periodic sweep: expire stale claims, warn of claims about to expire,
/// approve submissions whose review window has passed, and re-queue verifications that were
/// lost. Each part is idempotent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MarketplaceSweep {}

impl MarketplaceSweep {
    pub const QUEUE: &'static str = "vereda.marketplace-sweep";
}

/// Post an approved assignment's earnings and fee to the ledger (the money pipeline).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccrueAssignment {
    pub assignment_id: String,
}

impl AccrueAssignment {
    pub const QUEUE: &'static str = "vereda.accrue-assignment";
}
