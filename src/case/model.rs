//! The checked case model: what the runner replays. Every actor reference is resolved, every
//! duration parsed, and every step knows the line it came from.

use std::path::PathBuf;

use jiff::SignedDuration;
use serde::Serialize;

use crate::model::Profile;

pub use super::file::{Field, SequenceExpectFile as SequenceExpect, TokenFile as TokenKind};

/// The implicit reader every case has: an app with `Presence.Read.All`.
pub const OBSERVER: &str = "observer";

/// One conformance case.
#[derive(Clone, Debug)]
pub struct Case {
    /// The trial name: the path under `cases/` with `::` for `/` and no extension.
    pub name: String,
    /// The file, as given to the loader.
    pub path: PathBuf,
    pub title: String,
    /// Where the behaviour is documented (a URL, maybe followed by words).
    pub source: Option<String>,
    pub profiles: Vec<Profile>,
    /// The case checks instants a second apart: a real-clock target cannot run it.
    pub needs_virtual_clock: bool,
    pub users: Vec<String>,
    /// Declared apps plus the observer.
    pub apps: Vec<AppActor>,
    pub steps: Vec<Step>,
}

impl Case {
    /// The offset of the last step: how much simulated time the case covers.
    pub fn duration(&self) -> SignedDuration {
        self.steps.last().map_or(SignedDuration::ZERO, |s| s.at)
    }

    pub fn applies_to(&self, profile: Profile) -> bool {
        self.profiles.contains(&profile)
    }

    /// Every actor name (users, then apps).
    pub fn actor_names(&self) -> impl Iterator<Item = &str> {
        self.users
            .iter()
            .map(String::as_str)
            .chain(self.apps.iter().map(|a| a.name.as_str()))
    }
}

/// An app registration taking part in a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppActor {
    pub name: String,
    pub roles: Vec<String>,
}

/// One step of a timeline.
#[derive(Clone, Debug)]
pub struct Step {
    pub at: SignedDuration,
    /// 1-based line of the step in its file.
    pub line: u64,
    /// The app whose credentials are used.
    pub actor: String,
    /// The user the app acts for, with a delegated token.
    pub delegate: Option<String>,
    pub token: TokenKind,
    pub action: Action,
    pub note: Option<String>,
}

/// What a step does.
#[derive(Clone, Debug)]
pub enum Action {
    Send(Box<Exchange>),
    Observe(Observation),
}

/// A request and what its response must be.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub request: RequestTemplate,
    pub expect: Expect,
    /// The request breaks the spec on purpose: its contract violations are expected.
    pub invalid_request: bool,
}

/// A request whose `{actor}` placeholders are filled in at run time.
#[derive(Clone, Debug, Serialize)]
pub struct RequestTemplate {
    /// The Graph operation, for reports (`setPresence`, `getPresence`, `raw`).
    pub operation: String,
    pub method: String,
    pub path: String,
    pub from_root: bool,
    pub headers: Vec<(String, String)>,
    pub body: Option<BodyTemplate>,
}

#[derive(Clone, Debug, Serialize)]
pub enum BodyTemplate {
    /// Sent byte for byte after substitution.
    Text(String),
    /// A status message whose expiry is an offset from the case start.
    StatusMessage {
        message: Option<String>,
        expiry_after: SignedDuration,
        time_zone: String,
    },
    /// `ids` for getPresencesByUserId: actor placeholders, then this many generated ids.
    Ids {
        listed: Vec<String>,
        generated: usize,
    },
}

/// What a response must be.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// `None`: any 2xx.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub body: Option<serde_json::Value>,
}

/// A statement about a user's aggregated presence at one instant.
#[derive(Clone, Debug)]
pub struct Observation {
    pub user: String,
    pub availability: Option<String>,
    pub activity: Option<String>,
    pub status_message: Field<StatusExpect>,
    pub sequence: Option<SequenceExpect>,
    pub is_out_of_office: Option<bool>,
    /// Against a real-time target: poll until it holds or this window ends.
    pub within: Option<SignedDuration>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusExpect {
    pub content: Option<String>,
    pub expiry_shown: Option<bool>,
    pub published_shown: Option<bool>,
}
