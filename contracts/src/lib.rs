//! The contract between Vereda's parts.
//!
//! The default build is pure and I/O-free: ids, roles and boundary newtypes, job payloads and
//! queue names. The `runtime` feature adds what both processes share at run time:
//! configuration and the data layer (pools, dialect, migrations).

pub mod accounts;
pub mod claims;
pub mod csvfile;
pub mod identity;
pub mod jobs;
pub mod ledger;
pub mod legal;
pub mod marketplace;
pub mod money;
pub mod posting;
pub mod receivable;
pub mod review;
pub mod statements;
pub mod time;
pub mod timesheet;

#[cfg(feature = "runtime")]
pub mod config;
#[cfg(feature = "runtime")]
pub mod db;
#[cfg(feature = "runtime")]
pub mod scratch;
