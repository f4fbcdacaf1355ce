//! Generated timelines: random sequences of presence writes, clock advances that land on and
//! around every timer boundary, and observations, with every expectation computed by the
//! reference model (`model::oracle`, the rules written for a reader, independent of the packed
//! model the reference server runs). Each timeline is written as an ordinary case file and replayed on a target by the normal
//! runner, so a difference is a failing case; proptest shrinks it to a minimal timeline, which is
//! written under `explore-reproducers/` (or `--out`) as a ready case that reproduces it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use serde_saphyr::Location;

use crate::case::Action;
use crate::case::file::{
    AppFile, CaseFile, ClearPreferredFile, ClearPresenceFile, ContractFile, ExpectFile, Field,
    Located, ObserveFile, PreferredFile, RequirementFile, SetPresenceFile, StatusExpiryFile,
    StatusMessageExpectFile, StatusMessageFile, StepFile,
};
use crate::case::load::load_value;
use crate::case::{Case, load_str};
use crate::contract::ContractCheck;
use crate::model::oracle::{Fade, Grounds, PresenceGrounds, ReferenceModel, StatusGrounds, Won};
use crate::model::{
    Command, CommandError, ItemBody, Profile, SessionId, StatusExpiry, StatusMessageInput, UserId,
    iso, preferred_request, session_request,
};
use crate::runner::{CaseRun, VerdictKind, run_case};
use crate::targets::Target;

const USERS: [&str; 2] = ["alice", "bob"];
const APPS: [&str; 3] = ["a1", "a2", "a3"];
const PAIRS: [(&str, &str); 8] = [
    ("Available", "Available"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Away", "Away"),
    ("DoNotDisturb", "Presenting"),
    ("Busy", "Busy"),
    ("BeRightBack", "BeRightBack"),
    ("Offline", "OffWork"),
];
const DURATIONS: [Option<&str>; 7] = [
    None,
    Some("PT5M"),
    Some("PT10M"),
    Some("PT1H"),
    Some("PT4H"),
    Some("PT4M59S"),
    Some("PT4H0M1S"),
];
/// Advances chosen to land on and around the timers: the fade at 5 and 10 minutes, the
/// default expiry at 5, and the longer expiries; and half a minute past the 5 and 10 minutes,
/// where the documented timing rules are judged (`timing.exact-instants` holds the instants).
const ADVANCES: [&str; 11] = [
    "PT1S", "PT59S", "PT1M", "PT4M59S", "PT5M", "PT5M1S", "PT5M30S", "PT9M59S", "PT10M",
    "PT10M30S", "PT1H",
];

/// Preferred presence lifetimes.
const PREFERRED_DURATIONS: [Option<&str>; 3] = [None, Some("PT1H"), Some("PT8H")];

/// Status messages: `None` clears.
const MESSAGES: [Option<&str>; 3] = [None, Some("In a meeting"), Some("Back soon")];
/// Status message lifetimes, from the moment it is set.
const STATUS_EXPIRIES: [Option<&str>; 3] = [None, Some("PT5M"), Some("PT1H")];

/// One generated step.
#[derive(Clone, Debug)]
pub(crate) enum GeneratedStep {
    SetStatus {
        user: usize,
        message: usize,
        expiry: usize,
    },
    Advance(usize),
    SetPresence {
        user: usize,
        app: usize,
        pair: usize,
        duration: usize,
    },
    ClearPresence {
        user: usize,
        app: usize,
    },
    SetPreferred {
        user: usize,
        pair: usize,
        duration: usize,
    },
    ClearPreferred {
        user: usize,
    },
    Observe {
        user: usize,
        looks: Looks,
    },
}

impl GeneratedStep {
    /// The user the step writes or observes; none for a clock advance.
    fn user(&self) -> Option<usize> {
        match *self {
            GeneratedStep::Advance(_) => None,
            GeneratedStep::SetStatus { user, .. }
            | GeneratedStep::SetPresence { user, .. }
            | GeneratedStep::ClearPresence { user, .. }
            | GeneratedStep::SetPreferred { user, .. }
            | GeneratedStep::ClearPreferred { user }
            | GeneratedStep::Observe { user, .. } => Some(user),
        }
    }
}

/// What an observation looks at. Each part is its own observe step resting on its own rule;
/// a generated timeline looks at everything, and its shrunk reproducer keeps only the part that
/// shows the difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Looks {
    All,
    /// The availability and activity.
    Presence,
    StatusMessage,
}

fn step_strategy() -> impl Strategy<Value = GeneratedStep> {
    let user = 0..USERS.len();
    let app = 0..APPS.len();
    prop_oneof![
        3 => (0..ADVANCES.len()).prop_map(GeneratedStep::Advance),
        4 => (user.clone(), app.clone(), 0..PAIRS.len(), 0..DURATIONS.len())
            .prop_map(|(user, app, pair, duration)| GeneratedStep::SetPresence { user, app, pair, duration }),
        1 => (user.clone(), app).prop_map(|(user, app)| GeneratedStep::ClearPresence { user, app }),
        1 => (user.clone(), 0..PAIRS.len(), 0..3usize)
            .prop_map(|(user, pair, duration)| GeneratedStep::SetPreferred { user, pair, duration }),
        1 => user.clone().prop_map(|user| GeneratedStep::ClearPreferred { user }),
        1 => (user.clone(), 0..MESSAGES.len(), 0..STATUS_EXPIRIES.len())
            .prop_map(|(user, message, expiry)| GeneratedStep::SetStatus { user, message, expiry }),
        3 => user.prop_map(|user| GeneratedStep::Observe { user, looks: Looks::All }),
    ]
}

/// A generated timeline as it is explored: its steps, then a last look at every user.
pub(crate) fn explored(steps: &[GeneratedStep]) -> Vec<GeneratedStep> {
    let closing = (0..USERS.len()).map(|user| GeneratedStep::Observe {
        user,
        looks: Looks::All,
    });
    steps.iter().cloned().chain(closing).collect()
}

/// The case file of a timeline, expectations from the pure model, as YAML.
pub(crate) fn case_text(steps: &[GeneratedStep], title: &str) -> Result<String, String> {
    yaml(&case_file(steps, title))
}

fn yaml(file: &CaseFile) -> Result<String, String> {
    let yaml = serde_saphyr::to_string(file)
        .map_err(|e| format!("cannot write the generated case: {e}"))?;
    Ok(format!(
        "# yaml-language-server: $schema=../../spec/case.schema.json\n{yaml}"
    ))
}

/// The case of a timeline, as data: each write with the status the model answers, each
/// observation with what the model shows, resting on the rule the model shows it by.
pub(crate) fn case_file(steps: &[GeneratedStep], title: &str) -> CaseFile {
    let mut timeline = Timeline::new();
    for step in steps {
        timeline.step(step);
    }
    CaseFile {
        schema: None,
        title: title.to_owned(),
        source: Some("presence-conformance explore (expectations from the pure model)".into()),
        rules: std::iter::once(GENERATED_RULE)
            .chain(
                timeline
                    .rules
                    .iter()
                    .copied()
                    .filter(|r| *r != GENERATED_RULE),
            )
            .map(|id| here(id.to_owned()))
            .collect(),
        profiles: Some(here(vec!["v1.0".to_owned()])),
        requires: vec![RequirementFile::VirtualClock],
        // Only the actors the steps name: a reproducer declares no one it does not need.
        users: USERS
            .iter()
            .enumerate()
            .filter(|(i, _)| timeline.users.contains(i))
            .map(|(_, u)| here((*u).to_owned()))
            .collect(),
        apps: APPS
            .iter()
            .filter(|a| timeline.apps.contains(*a))
            .map(|a| ((*a).to_owned(), AppFile::default()))
            .collect(),
        steps: timeline.steps,
    }
}

/// The primary rule of generated cases: agreement with the reference model (our own, since
/// the model holds our choices beside the documented rules). The writes rest on it, and the
/// observations that no other rule decides.
pub(crate) const GENERATED_RULE: &str = "explore.model-agreement";

/// The catalogue checks the documented timing rules this far either side of their instant; an
/// observation closer to a timer rests on `timing.exact-instants`.
const TIMING_MARGIN: SignedDuration = SignedDuration::from_secs(30);
const TIMING_RULE: &str = "timing.exact-instants";

/// The rules the availability and the activity shown at `now` rest on.
fn presence_rules(grounds: &Grounds, now: Timestamp) -> (&'static str, &'static str) {
    if near(&grounds.presence_timers, now) {
        return (TIMING_RULE, TIMING_RULE);
    }
    let rule = match grounds.presence {
        PresenceGrounds::NeverSet => "presence.never-seen-offline",
        // Offline is documented; the activity that goes with it is our reading.
        PresenceGrounds::Expired => return ("expiry.offline", "expiry.offline-activity"),
        PresenceGrounds::Cleared => "clearPresence.removes-session",
        PresenceGrounds::PreferredWithoutSession => "preferred.needs-session",
        PresenceGrounds::Preferred => "preferred.overrides-sessions",
        PresenceGrounds::Session { fade, won } => match (fade, won) {
            (_, Won::AmongFaded) => "aggregation.faded-rank",
            (_, Won::Latest) => "aggregation.equal-rank",
            (Fade::Inactive, _) => "fade.available-inactive",
            (Fade::Away, _) => "fade.away",
            (Fade::AsSet, Won::Outranks) => "aggregation.precedence",
            (Fade::AsSet, Won::Alone) => "setPresence.pairs",
        },
    };
    (rule, rule)
}

/// The rule the status message shown at `now` rests on.
fn status_rule(grounds: &Grounds, now: Timestamp) -> &'static str {
    if near(&grounds.status_timers, now) {
        return TIMING_RULE;
    }
    match grounds.status_message {
        StatusGrounds::NeverSet => GENERATED_RULE,
        StatusGrounds::Shown {
            without_session: false,
        } => "status.set-and-read",
        StatusGrounds::Shown {
            without_session: true,
        } => "status.shown-without-session",
        StatusGrounds::Expired => "status.expires",
        StatusGrounds::Cleared => "status.null-clears",
    }
}

fn near(timers: &[Timestamp], now: Timestamp) -> bool {
    timers
        .iter()
        .any(|t| now.duration_since(*t).abs() < TIMING_MARGIN)
}

fn here<T>(value: T) -> Located<T> {
    Located::new(value, Location::UNKNOWN, Location::UNKNOWN)
}

fn given(text: &str) -> Field<String> {
    Field::Given(text.to_owned())
}

/// The reference model and the case being written, step by step.
struct Timeline {
    model: ReferenceModel,
    start: Timestamp,
    at: SignedDuration,
    steps: Vec<Located<StepFile>>,
    /// The rules the observations rest on, in the order first named.
    rules: Vec<&'static str>,
    /// The users the steps name, and the apps that send them.
    users: std::collections::BTreeSet<usize>,
    apps: std::collections::BTreeSet<&'static str>,
}

impl Timeline {
    fn new() -> Self {
        Timeline {
            model: ReferenceModel::new(),
            start: crate::model::VIRTUAL_EPOCH
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
            at: SignedDuration::ZERO,
            steps: Vec::new(),
            rules: Vec::new(),
            users: std::collections::BTreeSet::new(),
            apps: std::collections::BTreeSet::new(),
        }
    }

    fn now(&self) -> Timestamp {
        self.start.checked_add(self.at).unwrap_or(self.start)
    }

    /// Applies a command to the model; the status a target must answer.
    fn apply(&mut self, user: usize, command: Result<Command, u16>) -> u16 {
        let now = self.now();
        let applied = command.and_then(|c| {
            self.model
                .apply(now, &UserId::new(USERS[user]), c)
                .map_err(status_of)
        });
        applied.err().unwrap_or(200)
    }

    /// A request step sent by `app`, expecting `status`.
    fn send(&mut self, app: &'static str, status: u16, fill: impl FnOnce(&mut StepFile)) {
        self.apps.insert(app);
        let mut step = blank_step(&self.at);
        step.actor = Some(here(app.to_owned()));
        step.expect = Some(ExpectFile {
            status: Some(here(status)),
            error: None,
            body: None,
        });
        fill(&mut step);
        self.steps.push(here(step));
    }

    fn step(&mut self, step: &GeneratedStep) {
        if let Some(user) = step.user() {
            self.users.insert(user);
        }
        match *step {
            GeneratedStep::Advance(i) => {
                if let Ok(d) = crate::model::parse_edm_duration(ADVANCES[i]) {
                    self.at += d;
                }
            }
            GeneratedStep::SetPresence {
                user,
                app,
                pair,
                duration,
            } => self.set_presence(user, app, PAIRS[pair], DURATIONS[duration]),
            GeneratedStep::ClearPresence { user, app } => {
                let command = Command::ClearPresence {
                    session: SessionId::new(APPS[app]),
                };
                let status = self.apply(user, Ok(command));
                self.send(APPS[app], status, |s| {
                    s.clear_presence = Some(ClearPresenceFile {
                        user: here(USERS[user].to_owned()),
                        session_id: Field::Absent,
                    });
                });
            }
            GeneratedStep::SetPreferred {
                user,
                pair,
                duration,
            } => self.set_preferred(user, PAIRS[pair], PREFERRED_DURATIONS[duration]),
            GeneratedStep::ClearPreferred { user } => {
                let status = self.apply(user, Ok(Command::ClearPreferredPresence));
                self.send(APPS[0], status, |s| {
                    s.clear_user_preferred_presence = Some(ClearPreferredFile {
                        user: Some(here(USERS[user].to_owned())),
                    });
                });
            }
            GeneratedStep::SetStatus {
                user,
                message,
                expiry,
            } => self.set_status(user, MESSAGES[message], STATUS_EXPIRIES[expiry]),
            GeneratedStep::Observe { user, looks } => self.observe(user, looks),
        }
    }

    fn set_presence(&mut self, user: usize, app: usize, pair: (&str, &str), d: Option<&str>) {
        let (availability, activity) = pair;
        let command = session_request(Profile::V1_0, availability, activity, d)
            .map(|request| Command::SetPresence {
                session: SessionId::new(APPS[app]),
                request,
            })
            .map_err(|_| 400);
        let invalid = invalid_request(&command);
        let status = self.apply(user, command);
        self.send(APPS[app], status, |s| {
            s.contract = invalid;
            s.set_presence = Some(SetPresenceFile {
                user: here(USERS[user].to_owned()),
                session_id: Field::Absent,
                availability: given(availability),
                activity: given(activity),
                expiration_duration: d.map_or(Field::Absent, given),
            });
        });
    }

    fn set_preferred(&mut self, user: usize, pair: (&str, &str), d: Option<&str>) {
        let (availability, activity) = pair;
        let command = preferred_request(Profile::V1_0, availability, activity, d)
            .map(Command::SetPreferredPresence)
            .map_err(|_| 400);
        let invalid = invalid_request(&command);
        let status = self.apply(user, command);
        self.send(APPS[0], status, |s| {
            s.contract = invalid;
            s.set_user_preferred_presence = Some(PreferredFile {
                user: here(USERS[user].to_owned()),
                availability: given(availability),
                activity: given(activity),
                expiration_duration: d.map_or(Field::Absent, given),
            });
        });
    }

    fn set_status(&mut self, user: usize, text: Option<&str>, lifetime: Option<&str>) {
        let now = self.now();
        let lifetime = lifetime.and_then(|d| crate::model::parse_edm_duration(d).ok());
        let input = text.map(|content| StatusMessageInput {
            message: ItemBody {
                content: content.to_owned(),
                content_type: "text".to_owned(),
            },
            expiry: lifetime.map(|d| StatusExpiry {
                date_time: String::new(),
                time_zone: "UTC".to_owned(),
                at: now.checked_add(d).unwrap_or(now),
            }),
        });
        let status = self.apply(user, Ok(Command::SetStatusMessage(input)));
        // The case format's expiry is an offset from the case start.
        let expiry = match (text, lifetime) {
            (Some(_), Some(d)) => Some(StatusExpiryFile {
                after: Some(iso(self.at + d)),
                date_time: None,
                time_zone: None,
            }),
            _ => None,
        };
        self.send(APPS[0], status, |s| {
            s.set_status_message = Some(StatusMessageFile {
                user: here(USERS[user].to_owned()),
                message: text.map_or(Field::Null, given),
                expiry,
            });
        });
    }

    /// Observation steps stating what the model shows, each resting on the rule it shows it
    /// by: the availability and activity (apart when their rules differ), the status message.
    fn observe(&mut self, user: usize, looks: Looks) {
        let (id, now) = (UserId::new(USERS[user]), self.now());
        let view = self.model.view(&id, now);
        let grounds = self.model.grounds(&id, now);
        let availability = || Some(here(view.state.availability.to_string()));
        let activity = || Some(here(view.state.activity.to_string()));
        if looks != Looks::StatusMessage {
            match presence_rules(&grounds, now) {
                (a, b) if a == b => self.look(user, a, |o| {
                    o.availability = availability();
                    o.activity = activity();
                }),
                (a, b) => {
                    self.look(user, a, |o| o.availability = availability());
                    self.look(user, b, |o| o.activity = activity());
                }
            }
        }
        if looks != Looks::Presence {
            let shown = match &view.status_message {
                Some(m) => Field::Given(StatusMessageExpectFile {
                    content: Some(m.message.content.clone()),
                    expiry_shown: None,
                    published_shown: None,
                }),
                None => Field::Null,
            };
            self.look(user, status_rule(&grounds, now), |o| {
                o.status_message = shown
            });
        }
    }

    /// One observe step of `user`, resting on `rule`, stating what `fill` writes.
    fn look(&mut self, user: usize, rule: &'static str, fill: impl FnOnce(&mut ObserveFile)) {
        let mut observe = ObserveFile {
            user: here(USERS[user].to_owned()),
            availability: None,
            activity: None,
            status_message: Field::Absent,
            sequence_number: None,
            is_out_of_office: None,
        };
        fill(&mut observe);
        let mut step = blank_step(&self.at);
        step.rule = Some(here(rule.to_owned()));
        step.observe = Some(observe);
        self.steps.push(here(step));
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
    }
}

/// A request the model refuses before it reaches the presence rules (an undocumented pair, a
/// duration out of range) is sent on purpose: its step says so, so that the contract checker's
/// request faults are expected.
fn invalid_request(command: &Result<Command, u16>) -> Option<ContractFile> {
    command.is_err().then_some(ContractFile::InvalidRequest)
}

/// A step at `at` that does nothing yet.
fn blank_step(at: &SignedDuration) -> StepFile {
    StepFile::blank(here(iso(*at)))
}

fn status_of(e: CommandError) -> u16 {
    match e {
        CommandError::SessionNotFound(_) => 404,
        CommandError::ExpiryOverflow => 400,
    }
}

/// What an exploration found.
#[derive(Debug)]
pub struct Exploration {
    pub timelines: u32,
    pub wall: Duration,
    /// The minimal failing timeline, as a case file, and the report of its failure.
    pub difference: Option<(String, String)>,
    /// The target could not be driven at all (connection refused, no token, timeout): the
    /// cause. Then there is no difference and nothing to write.
    pub unreachable: Option<String>,
}

fn load(text: &str) -> Result<Case, String> {
    load_str("generated", Path::new("generated.yaml"), text).map_err(|e| e.render())
}

/// The case of a timeline as it is explored (with its closing look), straight from its case
/// file value, checked as a written one is but not written and parsed
/// (`written_timelines_load_to_the_cases_that_are_run` keeps the two the same).
fn generated_case(steps: &[GeneratedStep]) -> Result<Case, String> {
    load_value(
        "generated",
        Path::new("generated.yaml"),
        case_file(&explored(steps), "generated"),
    )
    .map_err(|e| e.render())
}

/// proptest's runner for `timelines` timelines from `seed`: the same seed, the same timelines.
fn seeded_runner(timelines: u32, seed: u64) -> TestRunner {
    let config = Config {
        cases: timelines,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    )
}

fn timeline_strategy() -> impl Strategy<Value = Vec<GeneratedStep>> {
    proptest::collection::vec(step_strategy(), 1..30)
}

/// The timelines proptest generates for `seed`, in the order its runner tries them.
pub(crate) fn generate(timelines: u32, seed: u64) -> Vec<Vec<GeneratedStep>> {
    let generated = std::cell::RefCell::new(Vec::new());
    // The test only collects: it never touches the runner's random numbers.
    let _ = seeded_runner(timelines, seed).run(&timeline_strategy(), |steps| {
        generated.borrow_mut().push(steps);
        Ok(())
    });
    generated.into_inner()
}

/// Runs `timelines` generated timelines on `target` (seeded, so reproducible); stops at the
/// first difference that fails at a documented or observed level (else takes the first
/// difference of any kind) and shrinks it. Every exchange is checked against the bundled
/// contract.
///
/// The timelines are replayed on every core; when one differs, proptest's own run with the same
/// seed replays it (the ones before it are known not to differ as gravely) and shrinks it.
pub fn explore(target: &dyn Target, timelines: u32, seed: u64) -> Exploration {
    let started = Instant::now();
    let failed = |cause: String| Exploration {
        timelines: 0,
        wall: started.elapsed(),
        difference: Some((String::new(), cause)),
        unreachable: None,
    };
    let contract = match crate::suite::contract_for(target) {
        Ok(c) => c as &dyn ContractCheck,
        Err(e) => return failed(format!("the bundled contract does not load: {e}")),
    };
    let generated = generate(timelines, seed);
    let first = match first_difference(target, contract, &generated) {
        Ok(first) => first,
        Err(e) => return failed(e),
    };
    let (difference, unreachable) = match first {
        None => (None, None),
        Some(found) => match shrink(target, contract, (timelines, seed), found) {
            Ok(found) => found,
            Err(e) => return failed(e),
        },
    };
    Exploration {
        timelines,
        wall: started.elapsed(),
        difference,
        unreachable,
    }
}

/// Replays every timeline, on every core: the position of the first one that fails at a
/// documented or observed level (or could not be driven), else of the first that differs from
/// the model only where it rests on our own choices; and which of the two it is. A binding
/// failure is worth more timelines: the replay stops early only once one is found.
fn first_difference(
    target: &dyn Target,
    contract: &dyn ContractCheck,
    timelines: &[Vec<GeneratedStep>],
) -> Result<Option<(usize, VerdictKind)>, String> {
    let next = AtomicUsize::new(0);
    let first_failed = AtomicUsize::new(usize::MAX);
    let first_differing = AtomicUsize::new(usize::MAX);
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(timelines.len().max(1));
    let replay = || -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= timelines.len() || i > first_failed.load(Ordering::Relaxed) {
                    return;
                }
                let outcome = match generated_case(&timelines[i]) {
                    Ok(case) => run_case(&case, target, Some(contract)).await.outcome(),
                    Err(_) => VerdictKind::Failed,
                };
                if outcome == VerdictKind::Failed {
                    first_failed.fetch_min(i, Ordering::Relaxed);
                }
                if outcome != VerdictKind::Passed {
                    first_differing.fetch_min(i, Ordering::Relaxed);
                }
            }
        });
        Ok(())
    };
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..workers).map(|_| scope.spawn(replay)).collect();
        running
            .into_iter()
            .map(|r| {
                r.join()
                    .unwrap_or_else(|_| Err("a replay thread failed".into()))
            })
            .collect()
    });
    results.into_iter().collect::<Result<(), String>>()?;
    let (failed, differing) = (first_failed.into_inner(), first_differing.into_inner());
    Ok(if failed != usize::MAX {
        Some((failed, VerdictKind::Failed))
    } else {
        (differing != usize::MAX).then_some((differing, VerdictKind::Deviates))
    })
}

/// Whether a run differs from the model as gravely as the difference being shrunk: fails at a
/// documented or observed level when that one did, else differs at all. A run that could not
/// drive the target shows nothing.
fn reaches(run: &CaseRun, worst: VerdictKind) -> bool {
    run.aborted.is_none()
        && match worst {
            VerdictKind::Failed => run.outcome() == VerdictKind::Failed,
            _ => run.outcome() != VerdictKind::Passed,
        }
}

/// A found difference, and what proptest's runner does with one: its own run with the same seed,
/// the timelines before `first` taken as passed, replays timeline `first` from its written case,
/// shrinks it, and [`minimal`] drops what it does not need. The minimal case and its report,
/// or the cause when the target could not be driven.
type Found = (Option<(String, String)>, Option<String>);

fn shrink(
    target: &dyn Target,
    contract: &dyn ContractCheck,
    (timelines, seed): (u32, u64),
    (first, worst): (usize, VerdictKind),
) -> Result<Found, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let replayer = Replayer {
        runtime: &runtime,
        target,
        contract,
        worst,
    };
    let tried = std::cell::Cell::new(0usize);
    // The first run that could not drive the target; every later run (proptest shrinks a
    // failure) fails at once, and the exploration reports the cause instead of a difference.
    let unreachable = std::cell::RefCell::new(None::<String>);
    let result = seeded_runner(timelines, seed).run(&timeline_strategy(), |steps| {
        let this = tried.replace(tried.get() + 1);
        if this < first {
            return Ok(());
        }
        if unreachable.borrow().is_some() {
            return Err(TestCaseError::fail("the target is unreachable"));
        }
        let text = case_text(&explored(&steps), "generated").map_err(TestCaseError::fail)?;
        let (case, run) = replayer.run(&text).map_err(TestCaseError::fail)?;
        if let Some(aborted) = run.aborted {
            *unreachable.borrow_mut() = Some(aborted.error.to_string());
            return Err(TestCaseError::fail("the target is unreachable"));
        }
        if reaches(&run, worst) {
            Err(TestCaseError::fail(run.report(&case)))
        } else {
            Ok(())
        }
    });
    let unreachable = unreachable.into_inner();
    let difference = match result {
        _ if unreachable.is_some() => None,
        Ok(()) => None,
        Err(TestError::Fail(reason, steps)) => Some(
            minimal(&replayer, steps, seed).unwrap_or_else(|_| (String::new(), reason.to_string())),
        ),
        Err(TestError::Abort(reason)) => Some((String::new(), reason.to_string())),
    };
    Ok((difference, unreachable))
}

/// Replays written cases on the target, for shrinking.
struct Replayer<'a> {
    runtime: &'a tokio::runtime::Runtime,
    target: &'a dyn Target,
    contract: &'a dyn ContractCheck,
    /// How grave the difference being shrunk is.
    worst: VerdictKind,
}

impl Replayer<'_> {
    /// A written case and how it ran.
    fn run(&self, text: &str) -> Result<(Case, CaseRun), String> {
        let case = load(text)?;
        let run = self
            .runtime
            .block_on(run_case(&case, self.target, Some(self.contract)));
        Ok((case, run))
    }

    /// Whether a written case still shows the difference, as gravely.
    fn differs(&self, text: Result<String, String>) -> bool {
        text.and_then(|t| self.run(&t))
            .is_ok_and(|(_, run)| reaches(&run, self.worst))
    }
}

/// The reproducer of a shrunk timeline, and the report of its run. proptest shrank values and
/// the list's tail; then the steps the difference does not need go, one at a time: first writes
/// (with the closing look the timeline was explored with), then every observation that does not
/// show the difference and the writes only such observations needed, then the half of an
/// observation split between two rules that shows nothing.
fn minimal(
    replayer: &Replayer,
    steps: Vec<GeneratedStep>,
    seed: u64,
) -> Result<(String, String), String> {
    let steps = drop_needless_steps(steps, |c| {
        replayer.differs(case_text(&explored(c), "generated"))
    });
    let looks = explored(&steps).into_iter().flat_map(apart).collect();
    let steps = drop_needless_steps(looks, |c| replayer.differs(case_text(c, "generated")));
    let written = |title: &str, skipped: &[usize]| {
        let mut file = case_file(&steps, title);
        file.steps = std::mem::take(&mut file.steps)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !skipped.contains(i))
            .map(|(_, step)| step)
            .collect();
        yaml(&file)
    };
    let file = case_file(&steps, "generated");
    let mut skipped = Vec::new();
    for (i, step) in file.steps.iter().enumerate() {
        skipped.push(i);
        if step.value.observe.is_none() || !replayer.differs(written("generated", &skipped)) {
            skipped.pop();
        }
    }
    let (case, run) = replayer.run(&written("generated", &skipped)?)?;
    let title = format!(
        "Generated timeline (seed {seed}): {}",
        summary(&case, &run, replayer.target.name())
    );
    let text = written(&title, &skipped)?;
    let (case, run) = replayer.run(&text)?;
    let report = format!(
        "{}\n{}",
        summary(&case, &run, replayer.target.name()),
        run.report(&case)
    );
    Ok((text, report))
}

/// An observation of everything as observations of each part, so that shrinking can keep only
/// the part that shows the difference.
fn apart(step: GeneratedStep) -> Vec<GeneratedStep> {
    match step {
        GeneratedStep::Observe {
            user,
            looks: Looks::All,
        } => [Looks::Presence, Looks::StatusMessage]
            .map(|looks| GeneratedStep::Observe { user, looks })
            .to_vec(),
        other => vec![other],
    }
}

/// One line naming the difference in full: when, whom, what the target showed, what the model
/// shows, and the rule that rests on (the gravest fault of the run; the first, among equals).
fn summary(case: &Case, run: &CaseRun, target: &str) -> String {
    let faults = || {
        run.failures
            .iter()
            .flat_map(|f| f.faults.iter().map(move |fault| (f, fault)))
    };
    let gravest = faults()
        .find(|(_, fault)| fault.rule.level.fails_by_default())
        .or_else(|| faults().next());
    let Some((failure, fault)) = gravest else {
        return format!("{target} differs from the model");
    };
    let rule = format!("[{} {}]", fault.rule.level, fault.rule.id);
    let at = iso(failure.at);
    let observation = case
        .steps
        .iter()
        .find(|s| s.line == failure.line)
        .and_then(|s| match &s.action {
            Action::Observe(o) => Some(o),
            _ => None,
        });
    let shown = run
        .timeline
        .entries
        .iter()
        .find(|e| e.line == failure.line)
        .and_then(|e| e.observed.as_ref())
        .filter(|v| v.is_object());
    match (observation, shown) {
        (Some(o), Some(shown)) => {
            let pair = shown["presence"].as_str().unwrap_or("?/?");
            let (availability, activity) = pair.split_once('/').unwrap_or((pair, "?"));
            let content = shown.pointer("/statusMessage/message/content");
            let target_shows = described(
                o.availability.as_ref().map(|_| availability),
                o.activity.as_ref().map(|_| activity),
                (!o.status_message.is_absent()).then(|| content.and_then(|c| c.as_str())),
            );
            let expected_message = match &o.status_message {
                Field::Given(m) => Some(Some(m.content.as_deref().unwrap_or(""))),
                Field::Null => Some(None),
                Field::Absent => None,
            };
            let model_shows = described(
                o.availability.as_deref(),
                o.activity.as_deref(),
                expected_message,
            );
            format!(
                "at {at} {} shows {target_shows} on {target}, where the model shows {model_shows} {rule}",
                o.user
            )
        }
        _ => format!("at {at} {} on {target}: {fault} {rule}", failure.step),
    }
}

/// `Available/AvailableInactive`, `availability Offline`, `status message "Back soon"`, `no
/// status message`: the parts an observation looks at.
fn described(
    availability: Option<&str>,
    activity: Option<&str>,
    message: Option<Option<&str>>,
) -> String {
    let pair = match (availability, activity) {
        (Some(a), Some(b)) => Some(format!("{a}/{b}")),
        (Some(a), None) => Some(format!("availability {a}")),
        (None, Some(b)) => Some(format!("activity {b}")),
        (None, None) => None,
    };
    let message = message.map(|m| match m {
        Some(content) => format!("status message {content:?}"),
        None => "no status message".to_owned(),
    });
    pair.into_iter()
        .chain(message)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Drops, one at a time, any step the difference does not need (proptest shrinks values and
/// the list's tail, not the steps in between).
fn drop_needless_steps(
    mut steps: Vec<GeneratedStep>,
    still_differs: impl Fn(&[GeneratedStep]) -> bool,
) -> Vec<GeneratedStep> {
    let mut i = 0;
    while i < steps.len() {
        let mut candidate = steps.clone();
        candidate.remove(i);
        if still_differs(&candidate) {
            steps = candidate;
        } else {
            i += 1;
        }
    }
    steps
}

/// Writes a found difference as `DIR/<target>-seed-<seed>.yaml`.
pub fn write_case(dir: &Path, target: &str, seed: u64, text: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!(
        "{}_seed_{seed}.yaml",
        target.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    crate::fsutil::write_atomically(&path, text.as_bytes())?;
    Ok(path)
}

/// The number of steps in a case file, the closing observations included.
pub fn step_count(text: &str) -> usize {
    load(text).map_or(0, |case| case.steps.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is run is exactly what is written: the case `explore` builds in memory equals the
    /// case its written YAML loads to, line numbers aside (in-memory steps have none).
    #[test]
    fn written_timelines_load_to_the_cases_that_are_run() {
        let generated = generate(300, 11);
        assert_eq!(generated.len(), 300);
        for steps in generated {
            let text = case_text(&explored(&steps), "generated").unwrap();
            let mut written = load(&text).unwrap();
            for step in &mut written.steps {
                step.line = 0;
            }
            let run = generated_case(&steps).unwrap();
            assert_eq!(format!("{run:?}"), format!("{written:?}"));
        }
    }

    #[test]
    fn the_same_seed_generates_the_same_timelines() {
        let (a, b) = (generate(50, 5), generate(50, 5));
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(format!("{a:?}"), format!("{:?}", generate(50, 6)));
    }

    /// The rule each observe step of a case rests on.
    fn rules_of(case: &Case) -> Vec<(String, &str)> {
        case.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Observe(_)))
            .map(|s| (iso(s.at), s.rules.general.id.as_str()))
            .collect()
    }

    #[test]
    fn the_written_case_carries_the_model_expectations() {
        use GeneratedStep::*;
        let steps = [
            SetStatus {
                user: 0,
                message: 1,
                expiry: 1,
            },
            SetPresence {
                user: 0,
                app: 0,
                pair: 0,
                duration: 3,
            },
            SetPresence {
                user: 1,
                app: 1,
                pair: 5,
                duration: 0,
            },
            Observe {
                user: 0,
                looks: Looks::All,
            },
            Advance(4),
        ];
        let text = case_text(&explored(&steps), "sample").unwrap();
        let case = load(&text).unwrap();
        let setup = "  setStatusMessage:\n    user: alice\n    message: In a meeting\n    expiry:\n      after: PT5M\n";
        assert!(text.contains(setup), "{text}");
        assert!(
            text.contains("    activity: Busy\n  expect:\n    status: 400\n"),
            "{text}"
        );
        // At PT5M the message has expired and the Available session has faded: both at the
        // instant of their timers.
        let Action::Observe(faded) = &case.steps[5].action else {
            panic!("{text}")
        };
        assert_eq!(case.steps[5].at, SignedDuration::from_mins(5));
        assert_eq!(faded.activity.as_deref(), Some("AvailableInactive"));
        let Action::Observe(expired) = &case.steps[6].action else {
            panic!("{text}")
        };
        assert_eq!(expired.status_message, Field::Null);
        assert_eq!(
            rules_of(&case),
            [
                ("PT0S".to_owned(), "setPresence.pairs"),
                ("PT0S".to_owned(), "status.set-and-read"),
                ("PT5M".to_owned(), TIMING_RULE),
                ("PT5M".to_owned(), TIMING_RULE),
                // bob's Busy/Busy was refused: he never had a session, nor a message.
                ("PT5M".to_owned(), "presence.never-seen-offline"),
                ("PT5M".to_owned(), GENERATED_RULE),
            ]
        );
        assert_eq!(
            case.rules,
            [
                GENERATED_RULE,
                "setPresence.pairs",
                "status.set-and-read",
                TIMING_RULE,
                "presence.never-seen-offline"
            ]
        );
        assert_eq!(step_count(&text), 9);
    }

    /// Away from the timers an observation rests on the documented rule the model shows it by;
    /// after an expiry the availability (documented) and the activity (ours) are apart.
    #[test]
    fn observations_rest_on_the_rule_the_model_shows_them_by() {
        use GeneratedStep::*;
        let observe = |user| Observe {
            user,
            looks: Looks::Presence,
        };
        let steps = [
            // alice: Available for an hour; bob: Busy for five minutes.
            SetPresence {
                user: 0,
                app: 0,
                pair: 0,
                duration: 3,
            },
            SetPresence {
                user: 1,
                app: 1,
                pair: 1,
                duration: 1,
            },
            Advance(4),
            Advance(1),
            observe(0),
            observe(1),
            Advance(4),
            observe(0),
        ];
        let case = load(&case_text(&steps, "sample").unwrap()).unwrap();
        assert_eq!(
            rules_of(&case),
            [
                ("PT5M59S".to_owned(), "fade.available-inactive"),
                ("PT5M59S".to_owned(), "expiry.offline"),
                ("PT5M59S".to_owned(), "expiry.offline-activity"),
                ("PT10M59S".to_owned(), "fade.away"),
            ]
        );
    }
}
