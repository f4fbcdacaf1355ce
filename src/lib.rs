//! presence-conformance: a conformance harness, OpenAPI contract checker and reference server for
//! the Microsoft Graph presence API.

pub mod model;
pub mod server;
