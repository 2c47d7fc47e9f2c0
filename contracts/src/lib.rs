//! The contract between Vereda's parts.
//!
//! Pure and I/O-free: ids, roles and boundary newtypes, job payloads and queue names, and
//! every business rule as a function with a typed refusal (money, time, marketplace,
//! receivables, statements). What touches the database is in `vereda-store`.

pub mod accounts;
pub mod bank_matching;
pub mod batches;
pub mod business_days;
pub mod certificates;
pub mod claims;
pub mod cohorts;
pub mod consent;
pub mod csvfile;
pub mod cufe;
pub mod earnings;
pub mod electronic_documents;
pub mod fair_work;
pub mod fiscal;
pub mod identity;
pub mod ids;
pub mod impact;
pub mod jobs;
pub mod ledger;
pub mod legal;
pub mod marketplace;
pub mod money;
pub mod money_states;
pub mod numbering;
pub mod offline;
pub mod payout_rules;
pub mod personal_data;
pub mod places;
pub mod posting;
pub mod profiles;
pub mod receivable;
pub mod resolutions;
pub mod review;
pub mod skills;
pub mod statements;
pub mod suggest;
pub mod support_weeks;
pub mod throttle;
pub mod time;
pub mod timesheet;
pub mod withholding;
