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

use crate::catalogue::Level;
use crate::model::Profile;

/// Which document: `/v1.0` or `/beta`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecDocument {
    V1_0,
    Beta,
}

impl SpecDocument {
    /// The document under `spec/`, as it was when the binary was built.
    pub(crate) fn bundled_text(self) -> &'static str {
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

/// The kind of clause a violation breaks, and so the level of evidence it rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Clause {
    /// Microsoft's published description of a declared operation: its paths, status codes,
    /// content types and body schemas (our relaxations only loosen them).
    Published,
    /// A rule the documentation states in prose (`x-presence-documented`): the pairs, the
    /// duration range, parameters the CSDL marks non-nullable, at most 650 ids.
    Documented,
    /// One of our additions (spec/README.md, Decisions): GUID patterns, a parameter required
    /// although Microsoft's schema makes it nullable (sessionId), unknown parameters refused.
    Ours,
    /// The operation is one our spec does not declare (an undocumented method or path): its
    /// answer is still checked as a Graph error, by our choice.
    Undeclared,
}

impl Clause {
    /// The level a violation of this clause is judged at.
    pub fn level(self) -> Level {
        match self {
            Clause::Published | Clause::Documented => Level::Documented,
            Clause::Ours | Clause::Undeclared => Level::Ours,
        }
    }
}

/// One way a message breaks the contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub operation: Option<String>,
    pub direction: Direction,
    pub clause: Clause,
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

/// One exchange as the contract checker sees it. Paths are relative to the version root.
#[derive(Debug)]
pub struct ExchangeRecord<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub request_content_type: Option<&'a str>,
    pub request_body: &'a [u8],
    pub status: u16,
    pub response_content_type: Option<&'a str>,
    pub response_body: &'a [u8],
}

/// Contract faults of one exchange, one line each.
#[derive(Debug, Default)]
pub struct ContractFaults {
    pub request: Vec<Violation>,
    pub response: Vec<Violation>,
}

/// Validates exchanges against a spec (implemented by `contract::Contract`).
pub trait ContractCheck: Send + Sync {
    fn check(&self, exchange: &ExchangeRecord<'_>) -> ContractFaults;
}

impl ContractCheck for Contract {
    fn check(&self, exchange: &ExchangeRecord<'_>) -> ContractFaults {
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
        ContractFaults {
            request: self.check_request(&request),
            response: self.check_response(&request, exchange.status, &response),
        }
    }
}
