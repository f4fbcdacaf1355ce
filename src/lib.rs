//! presence-conformance: a conformance harness, OpenAPI contract checker and reference server for
//! the Microsoft Graph presence API.

// No function in src/ over 80 lines (the threshold is in clippy.toml).
#![warn(clippy::too_many_lines)]

pub mod case;
pub mod catalogue;
pub mod contract;
pub mod explore;
pub mod fsutil;
pub mod html;
pub mod model;
pub mod notifications;
pub mod operation;
pub mod report;
pub mod runner;
pub mod server;
pub mod suite;
pub mod targets;

/// `1 case`, `2 cases`: a count and its noun, singular for one.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
