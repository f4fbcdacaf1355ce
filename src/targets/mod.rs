//! How a case reaches an implementation. A [`Target`] opens one [`CaseSession`] per case: the
//! actor-to-id mapping, credentials, HTTP, and the clock. The embedded reference server, a
//! third-party URL and the real Graph service are implementations of the same two traits.

pub mod config;
pub mod embedded;
pub mod http;
pub mod preflight;
pub mod remote;
pub(crate) mod transport;

use async_trait::async_trait;

use crate::case::Case;
use crate::model::Profile;

pub use embedded::EmbeddedTarget;
pub use http::HttpSession;
pub use preflight::{PreflightError, TargetFacts};

/// A request as the runner builds it: the path is from the server root, with ids filled in.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A response as the target returned it.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the target's presence clock moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// Moved instantly through the control protocol.
    Virtual,
    /// Wall time: the runner waits.
    Real,
}

/// Why a target could not be driven (as opposed to a target that answered wrongly).
#[derive(Clone, Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot start the target: {0}")]
    Start(String),
    /// A request to the target brought no answer (the control protocol's too).
    #[error("{method} {path}: {cause}")]
    Transport {
        method: String,
        path: String,
        cause: NoAnswer,
    },
    /// The token endpoint refused, or a token cannot be asked for (no mapping, no credentials).
    #[error("cannot get a token for '{actor}': {cause}")]
    Token { actor: String, cause: String },
    /// The token endpoint brought no answer.
    #[error("cannot get a token for '{actor}': {cause}")]
    TokenUnanswered { actor: String, cause: NoAnswer },
    #[error("the control protocol failed: {0}")]
    Control(String),
    /// The target throttled an app past the retry budget, or retries after 429/503/504 put the
    /// case too far behind its timeline to judge: not a conformance failure.
    #[error("throttled (app {app}): {cause}")]
    Throttled { app: String, cause: String },
    /// On a real clock, a step started or was answered too long after its instant (a slow
    /// target, a loaded machine): what it saw belongs to another instant than the case says, so
    /// the case is not judged from there on. Not a conformance failure.
    #[error("behind its timeline: {0}")]
    Behind(String),
}

impl TargetError {
    /// Why the target said nothing at all, when that is what happened: no connection, no answer
    /// in time, or a connection that broke. A case that met it judged nothing, and a few in a
    /// row stop the run.
    pub fn unanswered(&self) -> Option<&NoAnswer> {
        match self {
            TargetError::Transport { cause, .. } | TargetError::TokenUnanswered { cause, .. }
                if cause.is_silence() =>
            {
                Some(cause)
            }
            _ => None,
        }
    }
}

/// Why an HTTP exchange brought no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoAnswer {
    /// No connection: refused, no route, a host name that does not resolve.
    #[error("cannot connect{}{}", joined(" to ", .origin), joined(": ", .detail))]
    Connect { origin: String, detail: String },
    /// No answer within the request timeout.
    #[error("timed out{}", joined(": ", .detail))]
    Timeout { detail: String },
    /// The connection broke before the whole answer was read.
    #[error("request failed{}", joined(": ", .detail))]
    Broken { detail: String },
    /// The request could not be sent as built (a URL or header the HTTP stack refuses): the
    /// target was not asked.
    #[error("cannot send the request: {0}")]
    Unsendable(String),
}

impl NoAnswer {
    /// Whether the target was asked and said nothing (as opposed to a request never sent).
    pub fn is_silence(&self) -> bool {
        !matches!(self, NoAnswer::Unsendable(_))
    }
}

/// `text` after `joint`, or nothing when there is no text (an origin or a detail not known).
fn joined(joint: &str, text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{joint}{text}")
    }
}

/// What a session's retries cost: counted in the run summary.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Traffic {
    /// Requests sent again after a 429.
    pub after_429: u32,
    /// Requests sent again after a 503 or 504.
    pub after_5xx: u32,
    /// Wall time spent waiting for `Retry-After`.
    pub waited: std::time::Duration,
    /// Reads sent again because they did not show the expected state yet (a write still
    /// propagating, or a real clock's timer within an observation's `within`).
    pub rereads: u32,
}

impl Traffic {
    pub fn retries(&self) -> u32 {
        self.after_429 + self.after_5xx
    }

    pub(crate) fn add(&mut self, other: Traffic) {
        self.after_429 += other.after_429;
        self.after_5xx += other.after_5xx;
        self.waited += other.waited;
        self.rereads += other.rereads;
    }
}

/// What a real-clock target lends its cases: `users` pooled users (two cases never share one),
/// on a clock `time_scale` times faster than wall time.
#[derive(Clone, Copy, Debug)]
pub struct RealClockPool {
    pub users: usize,
    pub time_scale: f64,
}

/// Where the runner's webhook receiver listens for a target that reaches it through a public
/// URL (a tunnel to a real tenant): one case at a time holds it.
#[derive(Clone, Debug)]
pub struct WebhookSetup {
    pub listen: std::net::SocketAddr,
    /// What the target is told: `{public_url}/notifications` and `/lifecycle`.
    pub public_url: String,
    pub exclusive: std::sync::Arc<tokio::sync::Semaphore>,
}

/// An implementation under test.
#[async_trait]
pub trait Target: Send + Sync {
    /// The snapshot folder name (`reference`, `local`, `graph-v1`).
    fn name(&self) -> &str;
    fn profile(&self) -> Profile;
    /// Where the target is, if it is not in this process.
    fn base_url(&self) -> Option<&str> {
        None
    }
    /// How the target's clock moves.
    fn clock_mode(&self) -> ClockMode {
        ClockMode::Virtual
    }
    /// Whether deviations from our own choices fail on this target whatever the command line
    /// says: true for the reference server, which must behave exactly as we chose.
    fn judged_strictly(&self) -> bool {
        false
    }
    /// Why this target cannot run `case` at all (the trial is then not applicable, with that
    /// reason).
    fn unsupported(&self, _case: &Case) -> Option<String> {
        None
    }
    /// On a real clock, the users cases borrow from the target's pool and how fast its clock
    /// runs: a run then schedules its cases by the users they need, not by the CPU.
    fn real_clock_pool(&self) -> Option<RealClockPool> {
        None
    }
    /// Where cases that subscribe to change notifications receive them, when not on an
    /// ephemeral 127.0.0.1 port the target can reach directly.
    fn webhook_setup(&self) -> Option<&WebhookSetup> {
        None
    }
    /// Asks the target, once before a run, whether it answers and runs the clock its profile
    /// says: what was found (the run's header), or one error naming the key to change.
    async fn preflight(&self) -> Result<TargetFacts, PreflightError> {
        Ok(TargetFacts {
            url: "in-process".into(),
            auth: "tokens of the embedded server".into(),
            clock: "virtual (a fresh server per case)".into(),
        })
    }
    /// Prepares a fresh world for one case.
    async fn open(&self, case: &Case) -> Result<CaseSession, TargetError>;
}

/// One case's connection to a target: its HTTP session (ids, credentials, the clock) and what
/// it holds until the case ends.
pub struct CaseSession {
    pub http: HttpSession,
    hold: Hold,
}

/// What a case holds besides its HTTP client: nothing for the in-process server, or pooled
/// users and a concurrency slot to give back (on drop).
pub(crate) enum Hold {
    /// The embedded server, called in-process: dropped with the session.
    InProcess,
    Remote(remote::RemoteHold),
}

impl CaseSession {
    pub(crate) fn new(http: HttpSession, hold: Hold) -> Self {
        CaseSession { http, hold }
    }

    /// Releases what the case held, after the client is dropped (its pooled connections would
    /// otherwise hold a server's graceful shutdown open).
    pub async fn close(self) {
        let CaseSession { http, hold } = self;
        drop(http);
        match hold {
            Hold::InProcess => {}
            Hold::Remote(lease) => drop(lease),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_target_that_said_nothing_is_unanswered() {
        let transport = |cause: NoAnswer| TargetError::Transport {
            method: "GET".into(),
            path: "/v1.0/users/x/presence".into(),
            cause,
        };
        let refused = NoAnswer::Connect {
            origin: "http://127.0.0.1:9".into(),
            detail: "Connection refused (os error 111)".into(),
        };
        let dead = transport(refused.clone());
        assert_eq!(dead.unanswered(), Some(&refused));
        assert_eq!(
            dead.to_string(),
            "GET /v1.0/users/x/presence: cannot connect to http://127.0.0.1:9: Connection refused (os error 111)"
        );
        let slow = NoAnswer::Timeout {
            detail: String::new(),
        };
        assert_eq!(slow.to_string(), "timed out");
        let token = TargetError::TokenUnanswered {
            actor: "writer".into(),
            cause: slow.clone(),
        };
        assert_eq!(token.unanswered(), Some(&slow));
        // Asked and answered, or never asked: the target is not silent.
        let never_sent = transport(NoAnswer::Unsendable("invalid header".into()));
        assert_eq!(never_sent.unanswered(), None);
        for answered in [
            TargetError::Control("POST /_conformance/reset answered 500".into()),
            TargetError::Token {
                actor: "writer".into(),
                cause: "the token endpoint answered 400 Bad Request".into(),
            },
            TargetError::Start("the user pool is too small".into()),
        ] {
            assert_eq!(answered.unanswered(), None, "{answered}");
        }
    }
}
