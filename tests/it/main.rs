//! The integration tests, one binary: each file is a module, so `cargo test` links one test
//! executable instead of one per file (`cargo test --test it levels` runs one module's tests).
//! `tests/conformance.rs` stays its own binary: it is a libtest-mimic harness (`harness = false`).

mod case_format;
mod ci_recipe;
mod cli;
mod common;
mod concurrency;
mod conditions;
mod edges;
mod explore;
mod explore_reproducer;
mod hostile;
mod html_report;
mod levels;
mod readme;
mod regression;
mod rule_catalogue;
mod run_command;
mod server_http;
mod spec_contract;
mod subscriptions_http;
mod targets;
mod wrong_implementation;
