//! The checked case model: what the runner replays. Every actor reference is resolved, every
//! duration parsed, and every step knows the line it came from.

use std::path::PathBuf;

use jiff::SignedDuration;

use super::request::Request;
use crate::catalogue::Level;
use crate::model::Profile;
use crate::operation::Via;

pub use super::file::{SequenceExpect, TokenKind};
pub use super::request::Field;

/// The implicit reader every case has: an app with `Presence.Read.All`.
pub(crate) const OBSERVER: &str = "observer";

/// One conformance case.
#[derive(Clone, Debug)]
pub struct Case {
    /// The trial name: the path under `cases/` with `::` for `/` and no extension.
    pub name: String,
    /// The file, as given to the loader.
    pub path: PathBuf,
    pub title: String,
    /// Where the behaviour comes from, for readers (a page, an issue).
    pub source: Option<String>,
    /// The rules the case checks (ids in `spec/rules.yaml`), its primary rule first.
    pub rules: Vec<String>,
    pub profiles: Vec<Profile>,
    /// The case checks instants a second apart: a real-clock target cannot run it.
    pub needs_virtual_clock: bool,
    /// The case's expectations rest on the target knowing the calling app (`requires:
    /// [credentials]`), such as a sessionId that must be the caller's own app id.
    pub needs_caller: bool,
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

    /// Why this case can only run on a target that checks credentials, if it can: a step sends
    /// no token or a malformed one, acts for a signed-in user, uses `/me`, or expects a refusal
    /// of credentials (401, 403).
    pub(crate) fn needs_credentials(&self) -> Option<String> {
        if self.needs_caller {
            return Some("it requires credentials: the target must know the calling app".into());
        }
        self.steps.iter().find_map(|step| {
            let why = match (&step.token, &step.action) {
                (TokenKind::None, _) => "sends no token",
                (TokenKind::Malformed, _) => "sends a malformed token",
                _ if step.delegate.is_some() => "acts for a signed-in user (a delegated token)",
                (_, Action::Send(e)) if e.uses_me() => "uses /me, which needs a signed-in user",
                (_, Action::Send(e)) if matches!(e.expect.status, Some(401 | 403)) => {
                    "expects credentials to be refused"
                }
                _ => return None,
            };
            Some(format!("line {} {why}", step.line))
        })
    }

    /// Whether a step subscribes to change notifications: the runner then hosts a webhook
    /// receiver for the case.
    pub(crate) fn subscribes(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(&s.action, Action::Send(e) if matches!(e.request, Request::CreateSubscription(_)))
        })
    }

    /// Every actor name (users, then apps).
    pub(crate) fn actor_names(&self) -> impl Iterator<Item = &str> {
        self.users
            .iter()
            .map(String::as_str)
            .chain(self.apps.iter().map(|a| a.name.as_str()))
    }
}

impl crate::catalogue::ChecksRules for Case {
    fn case_name(&self) -> &str {
        &self.name
    }

    fn rule_ids(&self) -> Vec<&str> {
        let resting = self.steps.iter().flat_map(|s| {
            [
                s.rules.general.id.as_str(),
                s.rules.status.id.as_str(),
                s.rules.error_code.id.as_str(),
                s.rules.sequence_number.id.as_str(),
            ]
        });
        self.rules
            .iter()
            .map(String::as_str)
            .chain(resting)
            .collect()
    }
}

/// An app registration taking part in a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppActor {
    pub name: String,
    /// Application permissions.
    pub roles: Vec<String>,
    /// Delegated permissions.
    pub scopes: Vec<String>,
}

/// The delegated permissions an app has unless its case says otherwise.
pub(crate) const DEFAULT_SCOPES: &[&str] =
    &["Presence.Read", "Presence.Read.All", "Presence.ReadWrite"];

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
    /// The rules its expectations rest on.
    pub rules: StepRules,
    pub note: Option<String>,
}

/// A rule as an expectation uses it: its id and what it rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    pub id: String,
    pub level: Level,
}

/// The rules a step's expectations rest on: a refusal's status code, error codes and sequence
/// numbers have rules of their own; every other expectation rests on the general rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRules {
    pub general: RuleRef,
    /// The rule an expected refusal's status code (outside 2xx) rests on.
    pub status: RuleRef,
    pub error_code: RuleRef,
    pub sequence_number: RuleRef,
}

/// What a step does.
#[derive(Clone, Debug)]
pub enum Action {
    Send(Box<Exchange>),
    Observe(Observation),
    /// What the runner's webhook receiver got since the last such step.
    Notification(NotificationCheck),
}

/// A statement about the change notifications the runner's receiver got since the previous
/// notification step (or the case start): that some arrived, the last of them as stated, or
/// that none did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationCheck {
    /// About this user's presence (change notifications).
    pub user: Option<String>,
    /// From this subscription (the name the case gave it).
    pub subscription: Option<String>,
    /// `false`: none arrives (`noNotification`).
    pub arrives: bool,
    /// The last one's decrypted content (a rich subscription).
    pub availability: Option<String>,
    pub activity: Option<String>,
    pub client_state: Option<String>,
    /// A lifecycle notification (`reauthorizationRequired`) instead of a change.
    pub lifecycle_event: Option<String>,
    /// Against a real-time target: wait until it holds or this window ends.
    pub within: Option<SignedDuration>,
}

/// A request and what its response must be.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub request: Request,
    /// Which of Graph's path forms a per-user operation uses.
    pub via: Via,
    pub expect: Expect,
    /// The request breaks the spec on purpose: its contract violations are expected.
    pub invalid_request: bool,
}

impl Exchange {
    /// The request goes to `/me`, which only a signed-in user has.
    pub(crate) fn uses_me(&self) -> bool {
        match &self.request {
            Request::Raw(raw) => !raw.from_root && raw.path.starts_with("/me/"),
            request => {
                self.via == Via::Me
                    && request
                        .operation()
                        .is_some_and(|o| o.path(Via::Me, "").starts_with("/me/"))
            }
        }
    }
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
