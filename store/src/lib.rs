//! Everything that touches the database, for the API and the jobs alike.
//!
//! [`config`] reads the settings; [`db`] holds the pools, the two dialects ([`on_db!`] /
//! [`on_tx!`]) and the migrations; [`queue`] puts jobs on apalis's tables inside our
//! transactions; [`journal`] writes the ledger, once per effect key; [`transitions`] moves an
//! assignment between states; [`outbox`] keeps the e-mail to send; [`document_files`] keeps
//! the fixed documents; [`erasure`] deletes a worker's personal data and keeps what the law
//! keeps for its ten years; [`unique_keys`] tells which unique key an error violated. The read
//! models both processes need ([`stored_statements`], [`company_account`], [`logbook`],
//! [`audit`]) live here too, so the HTTP handlers never reach into the job runner.

pub mod audit;
pub mod backfill;
pub mod backup;
pub mod company_account;
pub mod config;
pub mod counters;
pub mod data_access;
pub mod data_export;
pub mod db;
pub mod document_files;
pub mod electronic_documents;
pub mod erasure;
pub mod fair_work;
pub mod journal;
pub mod locks;
pub mod logbook;
pub mod logs;
pub mod memory;
pub mod metrics;
pub mod outbox;
pub mod queue;
pub mod resolutions;
pub mod scratch;
pub mod signing;
pub mod stored_statements;
pub mod transitions;
pub mod unique_keys;
