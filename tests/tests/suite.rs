//! The product's black-box tests, one module per subject, in one binary: each test starts its
//! own app on its own database (`vereda_tests::spawn_app`), so they run side by side.
//! `logs.rs` is its own binary: it installs a process-wide log subscriber.

mod write_routes;

mod account_security;
mod accounts;
mod auth;
mod authorization;
mod backup;
mod bad_input;
mod bank_files;
mod cohorts;
mod concurrency;
mod data_access;
mod data_export;
mod data_requests;
mod email;
mod errors;
mod fair_work;
mod fiscal_profile;
mod idempotency;
mod marketplace;
mod mass_assignment;
mod metrics;
mod money;
mod money_corrections;
mod month_end;
mod my_money;
mod nul_parameters;
mod outage;
mod password_reset;
mod privacy;
mod problems_es;
mod queries;
mod resolutions;
mod review_queue;
mod security_headers;
mod sign_in_throttle;
mod sockets;
mod statements;
mod system;
mod task_batches;
mod time_tracking;
mod unique_violations;
mod verification_page;
mod web_app;
mod web_company;
mod web_data_access;
mod web_data_requests;
mod web_fair_work;
mod web_finance;
mod web_my_data_requests;
mod web_review;
mod web_session;
mod web_staff;
mod withholding;
