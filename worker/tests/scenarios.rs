//! The worker's scenarios against real databases: faults (crashes, duplicate and late
//! delivery), the marketplace jobs and the queue, one module each, in one binary.

mod common;
mod faults;
mod marketplace;
mod queue;
mod shutdown;
