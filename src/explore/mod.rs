//! Generated timelines: random sequences of presence writes, clock advances that land on and
//! around every timer boundary, and observations, with every expectation computed by the pure
//! model. Each timeline is written as an ordinary case file and replayed on a target by the normal
//! runner, so a difference is a failing case; proptest shrinks it to a minimal timeline, which is
//! written under `cases/generated/` as a ready case that reproduces it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::case::{Case, load_str};
use crate::model::{
    Command, CommandError, ItemBody, PresenceStore, PresenceView, Profile, SessionId, StatusExpiry,
    StatusMessageInput, UserId, iso, preferred_request, session_request,
};
use crate::runner::run_case;
use crate::target::Target;

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

/// Status messages: `None` clears.
const MESSAGES: [Option<&str>; 3] = [None, Some("In a meeting"), Some("Back soon")];
/// Status message lifetimes, from the moment it is set.
const STATUS_EXPIRIES: [Option<&str>; 3] = [None, Some("PT5M"), Some("PT1H")];

/// One generated step.
#[derive(Clone, Debug)]
pub enum GeneratedStep {
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

/// The case file of a timeline, expectations from the pure model.
pub fn case_text(steps: &[GeneratedStep], title: &str) -> String {
    let start: Timestamp = crate::model::VIRTUAL_EPOCH
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let mut model = PresenceStore::new();
    let mut at = SignedDuration::ZERO;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=../../spec/case.schema.json"
    );
    let _ = writeln!(out, "title: '{}'", title.replace('\'', "''"));
    let _ = writeln!(
        out,
        "source: presence-conformance explore (expectations from the pure model)"
    );
    let _ = writeln!(out, "profiles: [v1.0]");
    let _ = writeln!(out, "requires: [virtual-clock]");
    let _ = writeln!(out, "users: [{}]", USERS.join(", "));
    let _ = writeln!(
        out,
        "apps: {{ {} }}",
        APPS.iter()
            .map(|a| format!("{a}: {{}}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "steps:");
    for step in steps {
        let now = start.checked_add(at).unwrap_or(start);
        let user_id = |u: usize| UserId::new(USERS[u]);
        let expect_status = |result: Result<(), u16>| match result {
            Ok(()) => 200,
            Err(status) => status,
        };
        match step {
            GeneratedStep::Advance(i) => {
                if let Ok(d) = crate::model::parse_edm_duration(ADVANCES[*i]) {
                    at += d;
                }
                continue;
            }
            GeneratedStep::SetPresence {
                user,
                app,
                pair,
                duration,
            } => {
                let (a, b) = PAIRS[*pair];
                let d = DURATIONS[*duration];
                let result = session_request(Profile::V1_0, a, b, d)
                    .map_err(|_| 400)
                    .and_then(|request| {
                        let command = Command::SetPresence {
                            session: SessionId::new(APPS[*app]),
                            request,
                        };
                        model
                            .apply(now, &user_id(*user), command)
                            .map_err(status_of)
                    });
                let duration = d
                    .map(|d| format!(", expirationDuration: {d}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  - at: {}\n    as: {}\n    setPresence: {{ user: {}, availability: {a}, activity: {b}{duration} }}\n    expect: {{ status: {} }}",
                    iso(at),
                    APPS[*app],
                    USERS[*user],
                    expect_status(result)
                );
            }
            GeneratedStep::ClearPresence { user, app } => {
                let command = Command::ClearPresence {
                    session: SessionId::new(APPS[*app]),
                };
                let result = model
                    .apply(now, &user_id(*user), command)
                    .map_err(status_of);
                let _ = writeln!(
                    out,
                    "  - at: {}\n    as: {}\n    clearPresence: {{ user: {} }}\n    expect: {{ status: {} }}",
                    iso(at),
                    APPS[*app],
                    USERS[*user],
                    expect_status(result)
                );
            }
            GeneratedStep::SetPreferred {
                user,
                pair,
                duration,
            } => {
                let (a, b) = PAIRS[*pair];
                let d = [None, Some("PT1H"), Some("PT8H")][*duration];
                let result = preferred_request(Profile::V1_0, a, b, d)
                    .map_err(|_| 400)
                    .and_then(|request| {
                        model
                            .apply(now, &user_id(*user), Command::SetPreferredPresence(request))
                            .map_err(status_of)
                    });
                let duration = d
                    .map(|d| format!(", expirationDuration: {d}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  - at: {}\n    as: a1\n    setUserPreferredPresence: {{ user: {}, availability: {a}, activity: {b}{duration} }}\n    expect: {{ status: {} }}",
                    iso(at),
                    USERS[*user],
                    expect_status(result)
                );
            }
            GeneratedStep::ClearPreferred { user } => {
                let result = model
                    .apply(now, &user_id(*user), Command::ClearPreferredPresence)
                    .map_err(status_of);
                let _ = writeln!(
                    out,
                    "  - at: {}\n    as: a1\n    clearUserPreferredPresence: {{ user: {} }}\n    expect: {{ status: {} }}",
                    iso(at),
                    USERS[*user],
                    expect_status(result)
                );
            }
            GeneratedStep::SetStatus {
                user,
                message,
                expiry,
            } => {
                let text = MESSAGES[*message];
                let lifetime =
                    STATUS_EXPIRIES[*expiry].and_then(|d| crate::model::parse_edm_duration(d).ok());
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
                let result = model
                    .apply(now, &user_id(*user), Command::SetStatusMessage(input))
                    .map_err(status_of);
                let message = text.map_or_else(|| "null".to_owned(), |t| format!("\"{t}\""));
                // The case format's expiry is an offset from the case start.
                let expiry = match (text, lifetime) {
                    (Some(_), Some(d)) => format!(", expiry: {{ after: {} }}", iso(at + d)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "  - at: {}\n    as: a1\n    setStatusMessage: {{ user: {}, message: {message}{expiry} }}\n    expect: {{ status: {} }}",
                    iso(at),
                    USERS[*user],
                    expect_status(result)
                );
            }
            GeneratedStep::Observe { user } => {
                observe_line(
                    &mut out,
                    at,
                    USERS[*user],
                    &model.view(&user_id(*user), now),
                );
            }
        }
    }
    // Every timeline ends by looking at every user, so time advanced at the end still counts.
    let now = start.checked_add(at).unwrap_or(start);
    for user in USERS {
        observe_line(&mut out, at, user, &model.view(&UserId::new(user), now));
    }
    out
}

/// An observation step stating what the model shows.
fn observe_line(out: &mut String, at: SignedDuration, user: &str, view: &PresenceView) {
    let message = match &view.status_message {
        Some(m) => format!("{{ content: \"{}\" }}", m.message.content),
        None => "null".to_owned(),
    };
    let _ = writeln!(
        out,
        "  - at: {}\n    observe: {{ user: {user}, availability: {}, activity: {}, statusMessage: {message} }}",
        iso(at),
        view.state.availability,
        view.state.activity
    );
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
}

fn load(text: &str) -> Result<Case, String> {
    load_str("generated", Path::new("generated.yaml"), text).map_err(|e| e.render())
}

/// Runs `timelines` generated timelines on `target` (seeded, so reproducible); stops at the
/// first difference and shrinks it.
pub fn explore(target: &dyn Target, timelines: u32, seed: u64) -> Exploration {
    let started = Instant::now();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return Exploration {
                timelines: 0,
                wall: started.elapsed(),
                difference: Some((String::new(), e.to_string())),
            };
        }
    };
    let config = Config {
        cases: timelines,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let strategy = proptest::collection::vec(step_strategy(), 1..30);
    let result = runner.run(&strategy, |steps| {
        let text = case_text(&steps, "generated");
        let case = load(&text).map_err(TestCaseError::fail)?;
        let run = runtime.block_on(run_case(&case, target, None));
        if run.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail(run.report(&case)))
        }
    });
    let difference = match result {
        Ok(()) => None,
        Err(TestError::Fail(reason, steps)) => {
            let steps = drop_needless_steps(steps, |candidate| {
                load(&case_text(candidate, "generated"))
                    .map(|case| !runtime.block_on(run_case(&case, target, None)).passed())
                    .unwrap_or(false)
            });
            let title = format!(
                "Generated timeline (seed {seed}) that {} answered differently from the model",
                target.name()
            );
            Some((case_text(&steps, &title), reason.to_string()))
        }
        Err(TestError::Abort(reason)) => Some((String::new(), reason.to_string())),
    };
    Exploration {
        timelines,
        wall: started.elapsed(),
        difference,
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
    text.lines().filter(|l| l.starts_with("  - at:")).count()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let text = case_text(&steps, "sample");
        assert!(text.contains("setStatusMessage: { user: alice, message: \"In a meeting\", expiry: { after: PT5M } }"), "{text}");
        assert!(text.contains("setPresence: { user: bob, availability: Busy, activity: Busy }\n    expect: { status: 400 }"), "{text}");
        assert!(text.contains("at: PT0S\n    observe: { user: alice, availability: Available, activity: Available, statusMessage: { content: \"In a meeting\" } }"), "{text}");
        // At PT5M the message has expired and the Available session has faded.
        assert!(text.contains("at: PT5M\n    observe: { user: alice, availability: Available, activity: AvailableInactive, statusMessage: null }"), "{text}");
        assert!(load(&text).is_ok());
        assert_eq!(step_count(&text), 6);
    }
}
