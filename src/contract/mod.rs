//! The spec and the contract checker: OpenAPI documents of Graph presence (`spec/`), compiled once
//! into validators that judge every request a case sends and every response a target returns,
//! plus `spec lint` and `spec diff` for keeping our documents honest against Microsoft's.

pub mod check;
pub mod cli;
pub mod diff;
pub mod documented;
pub mod export;
pub mod lint;
pub mod load;
pub mod translate;

use std::fmt;

use serde::Serialize;

pub use check::Contract;

use crate::model::Profile;

/// Which document: `/v1.0` or `/beta`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecDocument {
    V1_0,
    Beta,
}

impl SpecDocument {
    /// The document under `spec/`, as it was when the binary was built.
    pub fn bundled_text(self) -> &'static str {
        match self {
            SpecDocument::V1_0 => include_str!("../../spec/graph-presence.v1.0.openapi.yaml"),
            SpecDocument::Beta => include_str!("../../spec/graph-presence.beta.openapi.yaml"),
        }
    }

    /// Where the bundled document comes from, for messages.
    pub fn origin(self) -> &'static str {
        match self {
            SpecDocument::V1_0 => "spec/graph-presence.v1.0.openapi.yaml",
            SpecDocument::Beta => "spec/graph-presence.beta.openapi.yaml",
        }
    }
}

impl From<Profile> for SpecDocument {
    fn from(p: Profile) -> Self {
        match p {
            Profile::V1_0 => SpecDocument::V1_0,
            Profile::Beta | Profile::Beta2021 => SpecDocument::Beta,
        }
    }
}

/// How much of the contract to hold a message to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strictness {
    /// Microsoft's published OpenAPI alone.
    Upstream,
    /// Plus the rules the documentation states in prose (`x-presence-documented`).
    Documented,
}

/// One HTTP message, as the checker sees it. `path` is relative to the version root
/// (`/users/{id}/presence/setPresence`) and may carry a query.
#[derive(Clone, Copy, Debug)]
pub struct HttpMessage<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Request,
    Response,
}

/// One way a message breaks the contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub operation: Option<String>,
    pub direction: Direction,
    /// JSON pointer into the body; empty for the message as a whole.
    pub pointer: String,
    pub expected: String,
    pub found: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.operation.as_deref().unwrap_or("(no operation)");
        let at = if self.pointer.is_empty() {
            "body".to_owned()
        } else {
            format!("at {}", self.pointer)
        };
        write!(
            f,
            "{op} {at}: expected {}, found {}",
            self.expected, self.found
        )
    }
}

/// Why a spec cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}#{pointer}: {message}")]
    Invalid {
        origin: String,
        pointer: String,
        message: String,
    },
    #[error("a bundled spec does not load: {0}")]
    Bundled(String),
}

impl crate::runner::ContractCheck for Contract {
    fn check(&self, exchange: &crate::runner::ExchangeRecord<'_>) -> crate::runner::ContractFaults {
        let request = HttpMessage {
            method: exchange.method,
            path: exchange.path,
            content_type: exchange.request_content_type,
            body: exchange.request_body,
        };
        let response = HttpMessage {
            method: exchange.method,
            path: exchange.path,
            content_type: exchange.response_content_type,
            body: exchange.response_body,
        };
        crate::runner::ContractFaults {
            request: self
                .check_request(&request)
                .iter()
                .map(ToString::to_string)
                .collect(),
            response: self
                .check_response(&request, exchange.status, &response)
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}
