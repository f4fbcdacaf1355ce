//! Replaying a case on a target: each step at its offset, every exchange through the contract
//! checker, every expectation judged, the observed timeline recorded.

pub mod judge;
mod notifications;
pub mod timeline;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::case::request::Substitution;
use crate::case::{
    Action, Case, Exchange, NotificationCheck, Observation, Request, RuleRef, Step, TokenKind,
};
use crate::catalogue::Level;
use crate::contract::{Clause, ContractCheck, ExchangeRecord, Violation};
use crate::model::iso;
use crate::operation::{Operation, Profile, Via};
use crate::targets::{
    ClockMode, HttpRequest, HttpResponse, HttpSession, Target, TargetError, Traffic,
};
pub use judge::{FaultKind, PresenceField};
pub use timeline::{Acting, Entry, Redactor, SentRequest, Timeline};

/// The rule a contract fault rests on: Microsoft's OpenAPI description and the prose rules of
/// its documentation, or our additions to them (and answers to operations we do not declare).
fn contract_rule(clause: Clause) -> RuleRef {
    let id = match clause.level() {
        Level::Ours => "contract.ours",
        _ => "contract.openapi",
    };
    RuleRef {
        id: id.to_owned(),
        level: clause.level(),
    }
}

/// Makes the webhook receiver's key now (once a process), rather than inside the first case
/// that subscribes; a failure shows when that case starts its receiver.
pub fn prepare_webhooks() {
    let _ = notifications::shared_key();
}

/// How long a notification may take on a real clock when its step gives no `within`.
const NOTIFIED_WITHIN: SignedDuration = SignedDuration::from_secs(30);

/// Something that did not hold, at one step.
#[derive(Clone, Debug)]
pub struct Failure {
    pub line: u64,
    pub at: SignedDuration,
    /// `setPresence by teams`, `observe alice`.
    pub step: String,
    pub faults: Vec<Fault>,
}

/// One expectation that did not hold, and the rule it rests on (its location is its
/// [`Failure`]'s line). Reports render it with `Display`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub rule: RuleRef,
}

impl Fault {
    fn contract(violation: Violation, on_purpose_hint: bool) -> Fault {
        Fault {
            rule: contract_rule(violation.clause),
            kind: FaultKind::Contract {
                violation,
                on_purpose_hint,
            },
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind.fmt(f)
    }
}

/// The kinds of verdict a trial can have: the one vocabulary of the console, JUnit, JSON and
/// HTML reports. A run judges itself `Passed`, `Deviates` or `Failed` ([`CaseRun::outcome`]);
/// the suite adds the others (a known failure, not applicable, not run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    Passed,
    /// A documented or observed expectation did not hold, or the target could not be driven.
    Failed,
    /// Only expectations of our own (level `ours`) differ.
    Deviates,
    NotApplicable,
    KnownFailure,
    /// The run stopped before the trial was judged.
    NotRun,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 6] = [
        VerdictKind::Passed,
        VerdictKind::Failed,
        VerdictKind::Deviates,
        VerdictKind::KnownFailure,
        VerdictKind::NotApplicable,
        VerdictKind::NotRun,
    ];

    /// The CSS class (`passed`, `not-applicable`).
    pub(crate) fn class(self) -> &'static str {
        match self {
            VerdictKind::Passed => "passed",
            VerdictKind::Failed => "failed",
            VerdictKind::Deviates => "deviates",
            VerdictKind::NotApplicable => "not-applicable",
            VerdictKind::KnownFailure => "known-failure",
            VerdictKind::NotRun => "not-run",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VerdictKind::Passed => "passed",
            VerdictKind::Failed => "failed",
            VerdictKind::Deviates => "deviates",
            VerdictKind::NotApplicable => "not applicable",
            VerdictKind::KnownFailure => "known failure",
            VerdictKind::NotRun => "not run",
        }
    }
}

/// Why a case could not be driven to its end: the target's error, and the step it stopped at.
#[derive(Clone, Debug)]
pub struct Aborted {
    /// The case file and the line of the step that could not be driven; none when the case
    /// could not start (its target could not be opened, its webhook receiver not started).
    pub at: Option<(std::path::PathBuf, u64)>,
    pub error: TargetError,
}

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some((path, line)) => write!(f, "{}:{line}: {}", path.display(), self.error),
            None => write!(f, "{}", self.error),
        }
    }
}

/// The result of one case on one target.
#[derive(Debug)]
pub struct CaseRun {
    pub timeline: Timeline,
    pub failures: Vec<Failure>,
    /// The target could not be driven to the end (down, timed out, no token).
    pub aborted: Option<Aborted>,
    /// The target throttled the case out (429 past the retry budget, or retries that put it
    /// too far behind its timeline): why, naming the app. Not a conformance failure.
    pub throttled: Option<String>,
    /// On a real clock, the case fell too far behind its timeline to be judged from some step
    /// on (a slow target, a loaded machine): why. Not a conformance failure.
    pub behind: Option<String>,
    /// Retries after 429/503/504 and the wall time spent waiting for them.
    pub traffic: Traffic,
    pub contract_violations: usize,
    pub simulated: SignedDuration,
    pub wall: Duration,
}

impl CaseRun {
    /// Whether every step ran: not aborted, throttled out or left behind its timeline.
    pub(crate) fn ran_to_the_end(&self) -> bool {
        self.aborted.is_none() && self.throttled.is_none() && self.behind.is_none()
    }

    pub fn passed(&self) -> bool {
        self.outcome() == VerdictKind::Passed
    }

    /// How the run went, before known failures and strictness are taken into account.
    pub fn outcome(&self) -> VerdictKind {
        let faults = || self.failures.iter().flat_map(|f| &f.faults);
        if self.aborted.is_some() || faults().any(|f| f.rule.level.fails_by_default()) {
            VerdictKind::Failed
        } else if faults().next().is_some() {
            VerdictKind::Deviates
        } else {
            VerdictKind::Passed
        }
    }

    /// The failure report: each failing step with expected and observed, then the timeline up
    /// to the first failure.
    pub fn report(&self, case: &Case) -> String {
        let path = case.path.display();
        let mut out = String::new();
        if let Some(cause) = &self.aborted {
            out.push_str(&format!(
                "{path}: the target could not be driven: {cause}\n"
            ));
        }
        for f in &self.failures {
            out.push_str(&format!("{path}:{}: at {} {}\n", f.line, iso(f.at), f.step));
            for fault in &f.faults {
                out.push_str(&format!(
                    "    {fault} [{} {}]\n",
                    fault.rule.level, fault.rule.id
                ));
            }
        }
        let until = self.failures.first().map_or(u64::MAX, |f| f.line);
        out.push_str("timeline up to there:\n");
        for e in self.timeline.entries.iter().filter(|e| e.line <= until) {
            out.push_str(&format!("    {} ", iso(e.at)));
            match (&e.request, &e.observed) {
                (Some(request), _) => out.push_str(&format!(
                    "{} {request} -> {}",
                    e.by,
                    e.status.map_or("-".to_owned(), |s| s.to_string())
                )),
                (None, Some(observed)) => out.push_str(&format!("{} observed {observed}", e.by)),
                (None, None) => {}
            }
            out.push('\n');
        }
        out
    }
}

/// Replays `case` on `target`.
pub async fn run_case(
    case: &Case,
    target: &dyn Target,
    contract: Option<&dyn ContractCheck>,
) -> CaseRun {
    let started = Instant::now();
    let mut run = CaseRun {
        timeline: Timeline {
            case: case.name.clone(),
            target: target.name().to_owned(),
            profile: target.profile().to_string(),
            entries: Vec::new(),
        },
        failures: Vec::new(),
        aborted: None,
        throttled: None,
        behind: None,
        traffic: Traffic::default(),
        contract_violations: 0,
        simulated: case.duration(),
        wall: Duration::ZERO,
    };
    match target.open(case).await {
        Err(e @ TargetError::Throttled { .. }) => run.throttled = Some(e.to_string()),
        Err(error) => run.aborted = Some(Aborted { at: None, error }),
        Ok(mut session) => {
            let webhooks = match notifications::Webhooks::start(case, target.webhook_setup()).await
            {
                Ok(webhooks) => webhooks,
                Err(error) => {
                    run.aborted = Some(Aborted { at: None, error });
                    run.wall = started.elapsed();
                    session.close().await;
                    return run;
                }
            };
            let mut redactor = Redactor::new(session.http.actor_ids());
            if let Some(w) = &webhooks {
                redactor.learn(&w.webhook().notification_url, "webhook");
                redactor.learn(&w.webhook().lifecycle_url, "webhook-lifecycle");
            }
            let mut replay = Replay {
                redactor,
                names: session.http.actor_ids().clone(),
                session: &mut session.http,
                contract,
                profile: target.profile(),
                sequences: HashMap::new(),
                webhooks,
                created: notifications::Created::default(),
            };
            replay.replay(case, &mut run).await;
            replay.delete_created().await;
            run.traffic = session.http.traffic();
            session.close().await;
        }
    }
    run.wall = started.elapsed();
    run
}

impl Replay<'_> {
    /// Every step in order, until one cannot be driven.
    async fn replay(&mut self, case: &Case, run: &mut CaseRun) {
        {
            for step in &case.steps {
                match self.step(step, run).await {
                    Ok(()) => {}
                    Err(e @ TargetError::Throttled { .. }) => {
                        run.throttled = Some(format!("{e} (line {})", step.line));
                        break;
                    }
                    Err(e @ TargetError::Behind(_)) => {
                        run.behind = Some(format!("{e} (line {})", step.line));
                        break;
                    }
                    Err(error) => {
                        run.aborted = Some(Aborted {
                            at: Some((case.path.clone(), step.line)),
                            error,
                        });
                        break;
                    }
                }
            }
        }
    }

    /// Deletes what the case subscribed and did not delete, so that the next case of a pooled
    /// user starts with none (a second subscription of the same user and app is refused 409).
    /// The case is over: a 429 or 503 is waited out and the delete sent again. A target that
    /// refuses keeps it until it expires.
    async fn delete_created(&mut self) {
        if self.created.held.is_empty() {
            return;
        }
        self.session.keep_no_timeline();
        for (name, _, step) in std::mem::take(&mut self.created.held) {
            let delete = Request::DeleteSubscription { subscription: name };
            if let Ok(request) = self.build(&step, &delete, Via::Users).await {
                let _ = self.session.send(request).await;
            }
        }
    }
}

/// Reads again until a deadline: pauses that double from 50 ms, none past the deadline, and
/// reads until one is sent at or after it. A read sent inside the window saw the target inside
/// it, however late its answer came (a slow or loaded target); only one sent after the deadline
/// says the window is over.
struct Poll {
    deadline: Instant,
    pause: Duration,
    /// When the read being judged was sent (the first just after the poll began).
    sent: Instant,
    /// How late in presence time the first answer may come; taken by [`Poll::first_answer`].
    tolerance: Option<Duration>,
    /// On a virtual clock, the presence time the poll may still let pass (the clock does not
    /// move while a read waits in wall time): each pause advances it instead.
    virtual_left: Option<Duration>,
    /// The presence time to advance a virtual clock by before the next read.
    advance: Duration,
}

impl Poll {
    /// For a request about to be sent, read again within `window` of wall time.
    fn new(window: Duration) -> Self {
        let now = Instant::now();
        Poll {
            deadline: now + window,
            pause: Duration::from_millis(50),
            sent: now,
            tolerance: Some(Duration::ZERO),
            virtual_left: None,
            advance: Duration::ZERO,
        }
    }

    /// For a read: the target's propagation, or the observation's `within` if longer. On a
    /// virtual clock the propagation is waited out on that clock.
    fn reading(session: &HttpSession, within: Option<SignedDuration>) -> Self {
        let tolerance = session.read_tolerance(within);
        if session.clock() == crate::targets::ClockMode::Virtual {
            return Poll {
                virtual_left: Some(tolerance),
                ..Poll::new(Duration::ZERO)
            };
        }
        Poll {
            tolerance: Some(tolerance),
            ..Poll::new(session.read_window(within))
        }
    }

    /// The presence time a virtual clock must pass before the read [`Poll::again`] allowed.
    fn take_advance(&mut self) -> Duration {
        std::mem::take(&mut self.advance)
    }

    /// After the first answer only: how late it may have come.
    fn first_answer(&mut self) -> Option<Duration> {
        self.tolerance.take()
    }

    /// Waits before the next read, which is sent at once; `false` when the last read was
    /// sent at or after the deadline.
    async fn again(&mut self) -> bool {
        if let Some(left) = &mut self.virtual_left {
            if left.is_zero() {
                return false;
            }
            self.advance = self.pause.min(*left);
            *left -= self.advance;
            self.pause = (self.pause * 2).min(Duration::from_secs(2));
            return true;
        }
        if self.sent >= self.deadline {
            return false;
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(self.pause.min(left)).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(2));
        self.sent = Instant::now();
        true
    }
}

struct Replay<'a> {
    session: &'a mut HttpSession,
    redactor: Redactor,
    contract: Option<&'a dyn ContractCheck>,
    /// The API version the target serves.
    profile: Profile,
    /// Each user's sequenceNumber at their last observation.
    sequences: HashMap<String, String>,
    /// What `{name}` stands for: the actors' ids, then the subscriptions' ids as they are made.
    names: BTreeMap<String, String>,
    /// The case's webhook receiver, if it subscribes.
    webhooks: Option<notifications::Webhooks>,
    created: notifications::Created,
}

impl Replay<'_> {
    async fn step(&mut self, step: &Step, run: &mut CaseRun) -> Result<(), TargetError> {
        self.session.wait_until(step.at).await?;
        match &step.action {
            Action::Send(exchange) => self.exchange(step, exchange, run).await,
            Action::Observe(observation) => self.observe(step, observation, run).await,
            Action::Notification(check) => self.notification(step, check, run).await,
        }
    }

    /// A `notified` or `noNotification` step: what the receiver got since the last such step,
    /// once the notifications due now were attempted (a real clock: within the window).
    async fn notification(
        &mut self,
        step: &Step,
        check: &NotificationCheck,
        run: &mut CaseRun,
    ) -> Result<(), TargetError> {
        let Some(webhooks) = &self.webhooks else {
            return Err(TargetError::Start(
                "a notification step in a case that never subscribes".into(),
            ));
        };
        // Graph documents notifications within a minute (under 10 s on average); without a
        // `within`, a real clock waits up to 30 s of presence time (the lateness a real-clock
        // step may have), and at least 50 ms of wall time for a local delivery to land.
        let window = match self.session.clock() {
            ClockMode::Virtual => Duration::ZERO,
            ClockMode::Real => self
                .session
                .read_window(check.within.or(Some(NOTIFIED_WITHIN)))
                .max(Duration::from_millis(50)),
        };
        let mut poll = Poll::new(window);
        let (got, faults) = loop {
            self.session.settle_notifications().await?;
            let got = webhooks.pending(check, &self.names);
            let faults = faults_of(notifications::judge(check, &got), step);
            // An absence is judged once the window is over; an arrival as soon as it holds.
            let wait = if check.arrives {
                !faults.is_empty()
            } else {
                true
            };
            if !wait || !poll.again().await {
                break (got, faults);
            }
        };
        if let Some(webhooks) = &mut self.webhooks {
            webhooks.take(&got);
        }
        let shown = got
            .iter()
            .map(|r| {
                let mut value = notifications::shown(r);
                redact_ids(&self.redactor, &mut value);
                value
            })
            .collect();
        run.timeline.entries.push(Entry {
            notifications: Some(shown),
            ..Self::no_request(step)
        });
        if !faults.is_empty() {
            let what = if check.arrives {
                "notified"
            } else {
                "noNotification"
            };
            run.failures.push(Failure {
                line: step.line,
                at: step.at,
                step: what.to_owned(),
                faults,
            });
        }
        Ok(())
    }

    /// The entry of a step that sends no request of its own (what it saw is filled in).
    fn no_request(step: &Step) -> Entry {
        Entry {
            at: step.at,
            line: step.line,
            by: Self::by(step),
            request: None,
            body: None,
            status: None,
            response: None,
            observed: None,
            notifications: None,
            contract: Vec::new(),
        }
    }

    fn by(step: &Step) -> Acting {
        Acting {
            app: step.actor.clone(),
            delegate: step.delegate.clone(),
        }
    }

    async fn exchange(
        &mut self,
        step: &Step,
        exchange: &Exchange,
        run: &mut CaseRun,
    ) -> Result<(), TargetError> {
        let request = self.build(step, &exchange.request, exchange.via).await?;
        // A read may show the state from before a write until it has propagated: it is sent
        // again until it shows what the case expects or the target's propagation is over.
        let reads = exchange
            .request
            .operation()
            .map_or(request.method == "GET", Operation::reads);
        let mut poll = if reads {
            Poll::reading(self.session, None)
        } else {
            Poll::new(Duration::ZERO)
        };
        let (response, mut faults) = loop {
            let response = self.session.send(request.clone()).await?;
            if let Some(tolerance) = poll.first_answer() {
                self.session.answered_in_time(step.at, tolerance, reads)?;
            }
            let body = serde_json::from_slice::<Value>(&response.body)
                .ok()
                .map(|mut v| {
                    // Judge on the redacted body so that expectations can name actors.
                    redact_ids(&self.redactor, &mut v);
                    v
                });
            let faults = faults_of(
                judge::exchange(&exchange.expect, response.status, body.as_ref()),
                step,
            );
            if faults.is_empty() || !poll.again().await {
                break (response, faults);
            }
            self.session.let_pass(poll.take_advance()).await?;
            self.session.count_reread();
        };
        if let Some((name, id)) =
            self.created
                .after(step, &exchange.request, response.status, &response.body)
        {
            self.redactor.learn(&id, &name);
            self.names.insert(name, id);
        }
        let contract = self.check_contract(
            &request,
            &response,
            exchange.invalid_request,
            &mut faults,
            run,
        );
        let sent = match exchange.request.operation() {
            Some(operation) => SentRequest::Graph {
                operation,
                request: exchange.request.clone(),
                via: exchange.via,
                profile: self.profile,
            },
            None => SentRequest::Raw {
                method: request.method.clone(),
                path: self.redactor.text(&request.path),
            },
        };
        run.timeline.entries.push(Entry {
            at: step.at,
            line: step.line,
            by: Self::by(step),
            request: Some(sent),
            body: self.redactor.body(&request.body),
            status: Some(response.status),
            response: self.redactor.body(&response.body),
            observed: None,
            notifications: None,
            contract,
        });
        if !faults.is_empty() {
            run.failures.push(Failure {
                line: step.line,
                at: step.at,
                step: format!("{} by {}", exchange.request.name(), Self::by(step)),
                faults,
            });
        }
        Ok(())
    }

    /// Runs the contract checker; unexpected violations become faults. Returns them for the
    /// timeline.
    fn check_contract(
        &self,
        request: &HttpRequest,
        response: &HttpResponse,
        invalid_request: bool,
        faults: &mut Vec<Fault>,
        run: &mut CaseRun,
    ) -> Vec<String> {
        let Some(contract) = self.contract else {
            return Vec::new();
        };
        let Some(path) = request.path.strip_prefix(self.session.version_root()) else {
            return Vec::new();
        };
        let request_content_type = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let found = contract.check(&ExchangeRecord {
            method: &request.method,
            path,
            request_content_type,
            request_body: &request.body,
            status: response.status,
            response_content_type: response.header("content-type"),
            response_body: &response.body,
        });
        let counted = found.response.len()
            + if invalid_request {
                0
            } else {
                found.request.len()
            };
        let mut shown = Vec::new();
        for v in &found.response {
            shown.push(format!("response {}", self.redactor.text(&v.to_string())));
            faults.push(Fault::contract(v.clone(), false));
        }
        shown.extend(
            found
                .request
                .iter()
                .map(|v| format!("request {}", self.redactor.text(&v.to_string()))),
        );
        if !invalid_request {
            faults.extend(found.request.into_iter().map(|v| Fault::contract(v, true)));
        }
        run.contract_violations += counted;
        shown
    }

    async fn observe(
        &mut self,
        step: &Step,
        observation: &Observation,
        run: &mut CaseRun,
    ) -> Result<(), TargetError> {
        let read = Request::GetPresence {
            user: observation.user.clone(),
        };
        let request = self.build(step, &read, Via::Users).await?;
        let mut poll = Poll::reading(self.session, observation.within);
        let previous = self.sequences.get(&observation.user).cloned();
        loop {
            let response = self.session.send(request.clone()).await?;
            if let Some(tolerance) = poll.first_answer() {
                self.session.answered_in_time(step.at, tolerance, true)?;
            }
            let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            let mut faults = if response.status == 200 {
                faults_of(
                    judge::observation(observation, &body, previous.as_deref()),
                    step,
                )
            } else {
                vec![Fault {
                    kind: FaultKind::PresenceRead {
                        observed: response.status,
                    },
                    rule: step.rules.general.clone(),
                }]
            };
            if !faults.is_empty() && poll.again().await {
                self.session.let_pass(poll.take_advance()).await?;
                self.session.count_reread();
                continue;
            }
            let contract = self.check_contract(&request, &response, false, &mut faults, run);
            if let Some(seq) = body.get("sequenceNumber").and_then(Value::as_str) {
                self.sequences
                    .insert(observation.user.clone(), seq.to_owned());
            }
            let observed = self.observed(&body, response.status);
            run.timeline.entries.push(Entry {
                observed: Some(observed),
                contract,
                ..Self::no_request(step)
            });
            if !faults.is_empty() {
                run.failures.push(Failure {
                    line: step.line,
                    at: step.at,
                    step: format!("observe {}", observation.user),
                    faults,
                });
            }
            return Ok(());
        }
    }

    /// What an observation shows in the timeline: the pair, and the message and sequence if any.
    fn observed(&mut self, body: &Value, status: u16) -> Value {
        if status != 200 {
            return json!(format!("HTTP {status}"));
        }
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let mut shown = json!({
            "presence": format!("{}/{}", text("availability"), text("activity")),
        });
        if let Some(message) = body.get("statusMessage").filter(|m| !m.is_null()) {
            let mut message = message.clone();
            redact_ids(&self.redactor, &mut message);
            shown["statusMessage"] = self
                .redactor
                .body(message.to_string().as_bytes())
                .unwrap_or(Value::Null);
        }
        if let Some(seq) = body.get("sequenceNumber").and_then(Value::as_str) {
            shown["sequenceNumber"] = json!(self.redactor.sequence(seq));
        }
        shown
    }

    /// The request rendered for this target, with the step's credentials.
    async fn build(
        &mut self,
        step: &Step,
        request: &Request,
        via: Via,
    ) -> Result<HttpRequest, TargetError> {
        let substitution = Substitution {
            ids: &self.names,
            case_start: self.session.case_start(),
            webhook: self.webhooks.as_ref().map(notifications::Webhooks::webhook),
        };
        let rendered = request
            .render(via, &substitution)
            .map_err(|e| TargetError::Start(e.to_string()))?;
        let path = if rendered.from_root {
            rendered.path
        } else {
            format!("{}{}", self.session.version_root(), rendered.path)
        };
        let mut headers = rendered.headers;
        let has_auth = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"));
        if !has_auth && let Some(token) = self.credential(step).await? {
            headers.push(("Authorization".into(), token));
        }
        Ok(HttpRequest {
            method: rendered.method,
            path,
            headers,
            body: rendered.body,
        })
    }

    /// The Authorization header value a step sends, if any.
    async fn credential(&mut self, step: &Step) -> Result<Option<String>, TargetError> {
        Ok(match step.token {
            TokenKind::None => None,
            TokenKind::Malformed => Some("Bearer not-a-token".into()),
            TokenKind::Valid => self
                .session
                .token(&step.actor, step.delegate.as_deref())
                .await?
                .map(|token| format!("Bearer {token}")),
        })
    }
}

/// What did not hold, with the rules of the step it happened at.
fn faults_of(kinds: Vec<FaultKind>, step: &Step) -> Vec<Fault> {
    kinds
        .into_iter()
        .map(|kind| Fault {
            rule: kind.rule(&step.rules).clone(),
            kind,
        })
        .collect()
}

fn redact_ids(redactor: &Redactor, value: &mut Value) {
    match value {
        Value::String(s) => *s = redactor.text(s),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_ids(redactor, v)),
        Value::Object(members) => members.values_mut().for_each(|v| redact_ids(redactor, v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_window_no_second_read() {
        let mut poll = Poll::new(Duration::ZERO);
        assert!(!poll.again().await);
    }

    #[tokio::test]
    async fn a_read_answered_after_the_window_is_sent_once_more() {
        let mut poll = Poll::new(Duration::from_millis(10));
        // The first read was sent inside the window; its answer took longer than the window.
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(
            poll.again().await,
            "the first read saw the target inside the window"
        );
        assert!(
            !poll.again().await,
            "the second read was sent after the window"
        );
    }

    #[tokio::test]
    async fn reads_go_on_until_one_is_sent_at_the_deadline() {
        let started = Instant::now();
        let mut poll = Poll::new(Duration::from_millis(120));
        let mut reads = 1;
        while poll.again().await {
            reads += 1;
        }
        // 50 ms, then 70 ms (the rest of the window, not 100): three reads, the last at the end
        // (two if a loaded machine overslept the first pause past the deadline).
        assert!((2..=3).contains(&reads), "{reads} reads");
        assert!(started.elapsed() >= Duration::from_millis(120));
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
