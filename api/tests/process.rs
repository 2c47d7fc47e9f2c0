//! The real `vereda-api` binary, started as its own process: its command line and
//! configuration errors, and its memory under a storm of sign-ins.

mod cli;
mod sign_in_memory;
