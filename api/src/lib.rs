//! Vereda's HTTP API (poem + poem-openapi). Handlers are grouped by resource; the SQL each
//! needs sits next to it. See ARCHITECTURE.md.

pub mod accounts;
pub mod appeals;
pub mod assignments;
pub mod auth;
pub mod body;
pub mod bootstrap;
pub mod companies;
pub mod consents;
pub mod data_access;
pub mod data_requests;
pub mod electronic_documents;
pub mod finance;
pub mod fiscal;
pub mod health;
pub mod idempotency;
pub mod jobs;
pub mod my_money;
pub mod operations;
pub mod pagination;
pub mod password_links;
pub mod privacy;
pub mod problem;
pub mod problem_es;
pub mod reports;
pub mod resolutions;
pub mod review_queue;
pub mod skills;
pub mod startup;
pub mod statements;
pub mod task_batches;
pub mod task_board;
pub mod tasks;
pub mod time_entries;
pub mod web;
pub mod withholding;
pub mod workers;

/// Sections of the OpenAPI document.
#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Liveness and readiness
    System,
    /// Sign in and out
    Auth,
    /// Staff accounts and passwords
    Accounts,
    /// Client companies and their members
    Companies,
    /// Teleworkers' profiles
    Workers,
    /// IT micro-tasks posted by companies
    Tasks,
    /// Claims on task slots: submission, review, history
    Assignments,
    /// Time entries, timers, offline sync and timesheets
    TimeTracking,
    /// Ledger, invoices, company payments, payouts and background jobs
    Invoicing,
    /// Workers' monthly income statements and their public verification
    Statements,
    /// E-mail preferences and the outbox
    Email,
}
