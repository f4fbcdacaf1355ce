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

use crate::case::file::{
    AppFile, CaseFile, ClearPreferredFile, ClearPresenceFile, ContractFile, ExpectFile, Field,
    Located, ObserveFile, PreferredFile, RequirementFile, SetPresenceFile, StatusExpiryFile,
    StatusMessageExpectFile, StatusMessageFile, StepFile,
};
use crate::case::load::load_value;
use crate::case::{Case, load_str};
use crate::contract::ContractCheck;
use crate::model::oracle::ReferenceModel;
use crate::model::{
    Command, CommandError, ItemBody, PresenceView, Profile, SessionId, StatusExpiry,
    StatusMessageInput, UserId, iso, preferred_request, session_request,
};
use crate::runner::run_case;
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
/// default expiry at 5, and the longer expiries.
const ADVANCES: [&str; 9] = [
    "PT1S", "PT59S", "PT1M", "PT4M59S", "PT5M", "PT5M1S", "PT9M59S", "PT10M", "PT1H",
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
    },
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
        3 => user.prop_map(|user| GeneratedStep::Observe { user }),
    ]
}

/// The case file of a timeline, expectations from the pure model, as YAML.
pub(crate) fn case_text(steps: &[GeneratedStep], title: &str) -> Result<String, String> {
    let yaml = serde_saphyr::to_string(&case_file(steps, title))
        .map_err(|e| format!("cannot write the generated case: {e}"))?;
    Ok(format!(
        "# yaml-language-server: $schema=../../spec/case.schema.json\n{yaml}"
    ))
}

/// The case of a timeline, as data: each write with the status the model answers, each
/// observation with what the model shows, and a last look at every user.
pub(crate) fn case_file(steps: &[GeneratedStep], title: &str) -> CaseFile {
    let mut timeline = Timeline::new();
    for step in steps {
        timeline.step(step);
    }
    for user in 0..USERS.len() {
        timeline.observe(user);
    }
    CaseFile {
        schema: None,
        title: title.to_owned(),
        source: Some("presence-conformance explore (expectations from the pure model)".into()),
        rules: vec![here(GENERATED_RULE.to_owned())],
        profiles: Some(here(vec!["v1.0".to_owned()])),
        requires: vec![RequirementFile::VirtualClock],
        users: USERS.iter().map(|u| here((*u).to_owned())).collect(),
        apps: APPS
            .iter()
            .map(|a| ((*a).to_owned(), AppFile::default()))
            .collect(),
        steps: timeline.steps,
    }
}

/// The rule generated cases check: agreement with the reference model (our own, since the
/// model holds our choices beside the documented rules).
pub(crate) const GENERATED_RULE: &str = "explore.model-agreement";

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
    fn send(&mut self, app: &str, status: u16, fill: impl FnOnce(&mut StepFile)) {
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
            GeneratedStep::Observe { user } => self.observe(user),
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

    /// An observation step stating what the model shows.
    fn observe(&mut self, user: usize) {
        let view = self.model.view(&UserId::new(USERS[user]), self.now());
        let mut step = blank_step(&self.at);
        step.observe = Some(observation(USERS[user], &view));
        self.steps.push(here(step));
    }
}

/// A request the model refuses before it reaches the presence rules (an undocumented pair, a
/// duration out of range) is sent on purpose: its step says so, so that the contract checker's
/// request faults are expected.
fn invalid_request(command: &Result<Command, u16>) -> Option<ContractFile> {
    command.is_err().then_some(ContractFile::InvalidRequest)
}

fn observation(user: &str, view: &PresenceView) -> ObserveFile {
    ObserveFile {
        user: here(user.to_owned()),
        availability: Some(here(view.state.availability.to_string())),
        activity: Some(here(view.state.activity.to_string())),
        status_message: match &view.status_message {
            Some(m) => Field::Given(StatusMessageExpectFile {
                content: Some(m.message.content.clone()),
                expiry_shown: None,
                published_shown: None,
            }),
            None => Field::Null,
        },
        sequence_number: None,
        is_out_of_office: None,
    }
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

/// The case of a timeline straight from its case file value, checked as a written one is but
/// not written and parsed (`written_timelines_load_to_the_cases_that_are_run` keeps the two the
/// same).
fn generated_case(steps: &[GeneratedStep]) -> Result<Case, String> {
    load_value(
        "generated",
        Path::new("generated.yaml"),
        case_file(steps, "generated"),
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
/// first difference and shrinks it. Every exchange is checked against the bundled contract.
///
/// The timelines are replayed on every core; when one does not pass, proptest's own run with the
/// same seed replays it (the ones before it are known to pass) and shrinks it.
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
        Some(index) => match shrink(target, contract, timelines, seed, index) {
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

/// Replays every timeline, on every core: the position of the first one that does not pass
/// (differs from the model, or could not be driven).
fn first_difference(
    target: &dyn Target,
    contract: &dyn ContractCheck,
    timelines: &[Vec<GeneratedStep>],
) -> Result<Option<usize>, String> {
    let next = AtomicUsize::new(0);
    let first = AtomicUsize::new(usize::MAX);
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
                if i >= timelines.len() || i > first.load(Ordering::Relaxed) {
                    return;
                }
                let passed = match generated_case(&timelines[i]) {
                    Ok(case) => run_case(&case, target, Some(contract)).await.passed(),
                    Err(_) => false,
                };
                if !passed {
                    first.fetch_min(i, Ordering::Relaxed);
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
    let first = first.into_inner();
    Ok((first != usize::MAX).then_some(first))
}

/// A found difference, and what proptest's runner does with one: its own run with the same seed,
/// the timelines before `first` taken as passed, replays timeline `first` from its written case,
/// shrinks it, and the last greedy pass drops needless steps. The minimal case and its report,
/// or the cause when the target could not be driven.
type Found = (Option<(String, String)>, Option<String>);

fn shrink(
    target: &dyn Target,
    contract: &dyn ContractCheck,
    timelines: u32,
    seed: u64,
    first: usize,
) -> Result<Found, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
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
        let text = case_text(&steps, "generated").map_err(TestCaseError::fail)?;
        let case = load(&text).map_err(TestCaseError::fail)?;
        let run = runtime.block_on(run_case(&case, target, Some(contract)));
        if let Some(cause) = run.aborted {
            *unreachable.borrow_mut() = Some(without_step(cause));
            return Err(TestCaseError::fail("the target is unreachable"));
        }
        if run.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail(run.report(&case)))
        }
    });
    let unreachable = unreachable.into_inner();
    let difference = match result {
        _ if unreachable.is_some() => None,
        Ok(()) => None,
        Err(TestError::Fail(reason, steps)) => {
            let steps = drop_needless_steps(steps, |candidate| {
                case_text(candidate, "generated")
                    .and_then(|text| load(&text))
                    .map(|case| {
                        !runtime
                            .block_on(run_case(&case, target, Some(contract)))
                            .passed()
                    })
                    .unwrap_or(false)
            });
            let title = format!(
                "Generated timeline (seed {seed}) that {} answered differently from the model",
                target.name()
            );
            let text = case_text(&steps, &title).unwrap_or_default();
            Some((text, reason.to_string()))
        }
        Err(TestError::Abort(reason)) => Some((String::new(), reason.to_string())),
    };
    Ok((difference, unreachable))
}

/// An abort cause without the generated case's `generated.yaml:LINE: ` in front.
fn without_step(cause: String) -> String {
    match cause.strip_prefix("generated.yaml:") {
        Some(rest) => rest
            .split_once(": ")
            .map_or(cause.clone(), |(_, c)| c.to_owned()),
        None => cause,
    }
}

/// proptest shrinks values and the list's tail; a last greedy pass drops any single step the
/// difference does not need.
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
    use crate::case::Action;

    /// What is run is exactly what is written: the case `explore` builds in memory equals the
    /// case its written YAML loads to, line numbers aside (in-memory steps have none).
    #[test]
    fn written_timelines_load_to_the_cases_that_are_run() {
        let generated = generate(300, 11);
        assert_eq!(generated.len(), 300);
        for steps in generated {
            let mut written = load(&case_text(&steps, "generated").unwrap()).unwrap();
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
            Observe { user: 0 },
            Advance(4),
        ];
        let text = case_text(&steps, "sample").unwrap();
        let case = load(&text).unwrap();
        let setup = "  setStatusMessage:\n    user: alice\n    message: In a meeting\n    expiry:\n      after: PT5M\n";
        assert!(text.contains(setup), "{text}");
        assert!(
            text.contains("    activity: Busy\n  expect:\n    status: 400\n"),
            "{text}"
        );
        // At PT5M the message has expired and the Available session has faded.
        let Action::Observe(faded) = &case.steps[4].action else {
            panic!("{text}")
        };
        assert_eq!(case.steps[4].at, SignedDuration::from_mins(5));
        assert_eq!(faded.activity.as_deref(), Some("AvailableInactive"));
        assert_eq!(faded.status_message, Field::Null);
        assert_eq!(case.rules, [GENERATED_RULE]);
        assert_eq!(step_count(&text), 6);
    }
}
