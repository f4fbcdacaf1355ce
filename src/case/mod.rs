//! Declarative conformance cases: the file format (`file.rs`), the checked model the runner
//! replays (`model.rs`), the loader with line-accurate errors (`load.rs`, `error.rs`).

pub mod error;
pub mod file;
pub mod lint;
pub mod load;
pub mod model;
pub mod request;

pub use error::CaseError;
pub use load::{case_name, discover, load_file, load_str};
pub use model::*;
pub use request::{
    ExpiryInstant, RawRequest, Request, SentStatusExpiry, SentStatusMessage, SubscribedResource,
    SubscriptionRequest, Webhook,
};

/// The JSON Schema of the case format, for editors (`spec/case.schema.json`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(file::CaseFile)).unwrap_or_default()
}
