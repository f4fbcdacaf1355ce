//! What `explore` writes when a server differs from the model is a reproducer a third party can
//! run: its observation rests on the documented rule the model's expectation comes from, it names
//! the expected and the shown presence in full, it holds only the steps that show the difference,
//! and `run` on it fails (exit 1) against the wrong server and passes on the right one.

use std::path::Path;
use std::process::Command;

use jiff::SignedDuration;
use presence_conformance::case::{Action, load_file};
use presence_conformance::catalogue::Level;
use presence_conformance::explore::{explore, write_case};
use presence_conformance::model::{Profile, Semantics};
use presence_conformance::server::{AppState, PresenceClock, RunningServer, ServerConfig};
use presence_conformance::targets::EmbeddedTarget;

use crate::common::no_auth_profile;

/// A server whose Available sessions fade to AvailableInactive at six minutes instead of five.
const LATE_FADE: Semantics = Semantics {
    fade_to_inactive: SignedDuration::from_mins(6),
    ..Semantics::GRAPH
};

/// `presence-conformance run ARGS` in `dir`: exit code and stdout.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_presence-conformance"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.code(), format!("{stdout}{stderr}"))
}

#[test]
fn a_late_fade_reproducer_fails_at_the_documented_level_with_one_observation() {
    let name = "late-fade";
    let found = explore(
        &EmbeddedTarget::with_semantics(Profile::V1_0, name, LATE_FADE),
        500,
        3,
    );
    let (text, report) = found
        .difference
        .expect("no difference found in 500 timelines");
    let dir = std::env::temp_dir().join(format!("pc-reproducer-{}", std::process::id()));
    let reproducers = dir.join("explore-reproducers");
    let path = write_case(&reproducers, name, 3, &text).unwrap();
    eprintln!("{report}\n{text}");

    // Exactly what shows the difference: the Available write and one look at the fade, half a
    // minute or more past its instant (closer, it would rest on our timing.exact-instants).
    let case = load_file(&reproducers, &path).unwrap();
    let observations: Vec<_> = case
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Observe(_)))
        .collect();
    assert_eq!(observations.len(), 1, "{text}");
    assert_eq!(case.steps.len(), 2, "{text}");
    assert_eq!(case.users, ["alice"], "{text}");
    let look = observations[0];
    assert_eq!(look.rules.general.id, "fade.available-inactive", "{text}");
    assert_eq!(look.rules.general.level, Level::Documented);
    assert!(
        look.at >= SignedDuration::from_secs(330) && look.at < SignedDuration::from_mins(6),
        "{text}"
    );
    let named = "shows Available/Available on late-fade, where the model shows \
                 Available/AvailableInactive [documented fade.available-inactive]";
    assert!(case.title.contains(named), "{}", case.title);
    assert!(report.starts_with("at PT5M"), "{report}");
    assert!(report.lines().next().unwrap().contains(named), "{report}");

    // `run` on it: FAILED against a server with the late fade, over HTTP.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = ServerConfig {
        no_auth: true,
        ..ServerConfig::default()
    };
    let state = AppState::with_semantics(config, PresenceClock::virtual_at_epoch(), LATE_FADE);
    let server = runtime
        .block_on(RunningServer::start_state_on(
            "127.0.0.1:0".parse().unwrap(),
            state,
        ))
        .unwrap();
    let profile = no_auth_profile(&dir, &server.addr().to_string(), "late.toml", None);
    let profile = profile.to_str().unwrap();
    let (code, output) = run(
        &dir,
        &["--cases", "explore-reproducers", "--target", profile],
    );
    eprintln!("{output}");
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("FAILED"), "{output}");
    assert!(
        output.contains("activity: expected AvailableInactive, observed Available"),
        "{output}"
    );
    assert!(
        output.contains("[documented fade.available-inactive]"),
        "{output}"
    );

    // ... and passes on the right server (the embedded reference).
    let (code, output) = run(&dir, &["--cases", "explore-reproducers"]);
    assert_eq!(code, Some(0), "{output}");
    assert!(!output.contains("FAILED"), "{output}");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}
