//! Two results per case, end to end: the built binary, run with `CI=true` from an empty
//! directory (no `cases/`, no `spec/`) against the reference server in another process, gives
//! each case its verdict and its regression state. The first run is all "new" and passes;
//! after `--snapshots update` everything is "unchanged"; a server with a fade a minute late
//! fails the fade cases and changes their timelines, with the diff shown; a server that only
//! makes another silent-point choice (a larger body limit) deviates, and fails the run through
//! its changed timeline alone.

use crate::common;
use common::ServeProcess;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jiff::SignedDuration;
use presence_conformance::model::Semantics;
use presence_conformance::server::{AppState, PresenceClock, RunningServer, ServerConfig};

const BIN: &str = env!("CARGO_BIN_EXE_presence-conformance");
const TIMEOUT: &str = "timeout::";
const FADE: &str = "timeout::available_fades_to_away";
const OVERSIZE: &str = "validation::oversize_body_is_refused";

/// An empty directory of its own.
fn empty_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pc-regression-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `targets/local.toml` without auth, at `addr`, its snapshots in `baseline/` beside it.
fn write_profile(dir: &Path, addr: &str) -> PathBuf {
    common::no_auth_profile(dir, addr, "impl.toml", Some("impl"))
}

/// `presence-conformance run` in `dir` with CI=true.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("run")
        .args(["--quiet", "--target", "impl.toml"])
        .args(args)
        .current_dir(dir)
        .env("CI", "true")
        .env_remove("PRESENCE_TARGET")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn regression_states_apart_from_verdicts_from_an_empty_directory() {
    let dir = empty_dir("states");
    let serve = ServeProcess::start(&["--clock", "virtual", "--no-auth"]);
    write_profile(&dir, &serve.addr);

    // First run: no baseline, every case "new", and that does not fail.
    let first = run(&dir, &[TIMEOUT, "--format", "json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    let trials = json_lines(&first);
    assert!(trials.len() >= 2, "{}", stdout(&first));
    for trial in &trials {
        assert_eq!(trial["verdict"], "passed", "{trial}");
        assert_eq!(trial["regression"], "new", "{trial}");
    }
    assert!(
        !dir.join("baseline").exists(),
        "a normal run writes no snapshot"
    );

    // Record the baseline, then everything is unchanged.
    for filter in [TIMEOUT, OVERSIZE] {
        let update = run(&dir, &[filter, "--snapshots", "update"]);
        assert_eq!(update.status.code(), Some(0), "{}", stdout(&update));
    }
    let snap = dir.join("baseline/timeout__available_fades_to_away.snap");
    let written = std::fs::read_to_string(&snap).unwrap();
    assert!(
        written.starts_with("---\nsource: presence-conformance run\ndescription: "),
        "{written}"
    );
    // insta itself reads what was written, so `cargo insta review` and `accept` work on it.
    let read = insta::Snapshot::from_file(&snap).unwrap();
    assert_eq!(
        read.metadata().input_file(),
        Some("cases/timeout/available_fades_to_away.yaml")
    );
    let second = run(&dir, &[TIMEOUT]);
    let text = stdout(&second);
    assert_eq!(second.status.code(), Some(0), "{text}");
    let n = trials.len();
    assert!(
        text.contains(&format!("regressions: 0 changed, 0 new, {n} unchanged\n")),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), written);
    drop(serve);

    a_wrong_server_is_failed_and_changed(&dir);
    a_conformant_change_is_changed_alone(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The reference server with the first fade a minute late, in this process.
fn a_wrong_server_is_failed_and_changed(dir: &Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let late = Semantics {
        fade_to_inactive: SignedDuration::from_mins(6),
        ..Semantics::GRAPH
    };
    let config = ServerConfig {
        no_auth: true,
        ..ServerConfig::default()
    };
    let state = AppState::with_semantics(config, PresenceClock::virtual_at_epoch(), late);
    let server = runtime
        .block_on(RunningServer::start_state_on(
            "127.0.0.1:0".parse().unwrap(),
            state,
        ))
        .unwrap();
    write_profile(dir, &server.addr().to_string());
    // Every case the late fade fails is changed; a case it does not touch is not.
    let out = run(dir, &[TIMEOUT, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let trials = json_lines(&out);
    let failed: Vec<&serde_json::Value> =
        trials.iter().filter(|t| t["verdict"] == "failed").collect();
    assert!(failed.len() >= 2, "{}", stdout(&out));
    for trial in &failed {
        assert_eq!(trial["regression"], "changed", "{trial}");
        assert!(
            trial["regression_diff"]
                .as_str()
                .unwrap()
                .contains("+++ observed")
        );
    }
    let away = trials
        .iter()
        .find(|t| t["case"] == "timeout::away_does_not_fade")
        .unwrap();
    assert_eq!(
        (&away["verdict"], &away["regression"]),
        (&"passed".into(), &"unchanged".into())
    );
    // The console shows both results and the unified diff.
    let out = run(dir, &[FADE]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("FAILED [impl] {FADE}")), "{text}");
    assert!(
        text.contains(&format!("CHANGED [impl] {FADE} (verdict: failed)\n")),
        "{text}"
    );
    // The snapshot's line out, the observed line in.
    assert!(text.contains("+++ observed\n"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("-      presence: Available/AvailableInactive")),
        "{text}"
    );
    assert!(
        text.contains("regressions: 1 changed, 0 new, 0 unchanged"),
        "{text}"
    );
    // Outside this checkout the hint names the command in use, not the crate's developer tools.
    assert!(
        text.contains("review the diff above and, if the new timeline is right, accept it with `--snapshots update`"),
        "{text}"
    );
    assert!(!text.contains("cargo"), "{text}");
    assert!(
        !dir.join("baseline/timeout__available_fades_to_away.snap.new")
            .exists(),
        "no pending snapshot in CI"
    );
    runtime.block_on(server.shutdown());
}

/// `serve` with a larger body limit than ours: the oversize case deviates (our own choice,
/// 413 over 64 KiB), which alone does not fail; its changed timeline does.
fn a_conformant_change_is_changed_alone(dir: &Path) {
    let config = dir.join("server.toml");
    std::fs::write(&config, "body_limit = 1048576\n").unwrap();
    let serve = ServeProcess::start(&[
        "--clock",
        "virtual",
        "--no-auth",
        "--config",
        config.to_str().unwrap(),
    ]);
    write_profile(dir, &serve.addr);
    let junit = dir.join("junit.xml");
    let html = dir.join("report.html");
    let out = run(
        dir,
        &[
            OVERSIZE,
            "--junit",
            junit.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("DEVIATES [impl] {OVERSIZE}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("CHANGED [impl] {OVERSIZE} (verdict: deviates)\n")),
        "{text}"
    );
    assert!(text.contains("\n-    status: 413\n"), "{text}");
    assert!(text.contains("\n+    status: 200\n"), "{text}");
    assert!(text.contains("0 passed, 0 failed, 1 deviate"), "{text}");
    assert!(
        text.contains("regressions: 1 changed, 0 new, 0 unchanged"),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<failure message="regression: changed (verdict: deviates)""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="regression" value="changed"/>"#),
        "{xml}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains(r#"<span class="regression regression-changed""#));
    assert!(
        page.contains(r#"<span class="del">-    status: 413</span>"#),
        "the diff is in the page, its removed lines marked"
    );
    assert!(
        page.contains(r#"<td class="count regression-changed">1</td>"#),
        "the summary counts the changed case"
    );
}

#[test]
fn require_fails_a_missing_snapshot_and_off_skips_them() {
    let dir = empty_dir("require");
    let serve = ServeProcess::start(&["--clock", "virtual", "--no-auth"]);
    write_profile(&dir, &serve.addr);
    // A new snapshot does not fail by default; the summary says how to record it.
    let compare = run(&dir, &["duration::p1d"]);
    assert_eq!(compare.status.code(), Some(0), "{}", stdout(&compare));
    assert!(
        stdout(&compare).contains(
            "regressions: 0 changed, 1 new, 0 unchanged (record new baselines with --snapshots update)\n"
        ),
        "{}",
        stdout(&compare)
    );
    let out = run(&dir, &["duration::p1d", "--snapshots", "require"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
    assert!(
        text.contains("NEW [impl] duration::p1d_is_refused (verdict: passed)\nno snapshot "),
        "{text}"
    );
    assert!(text.contains("--snapshots update"), "{text}");
    let off = run(&dir, &["duration::p1d", "--snapshots", "off"]);
    assert_eq!(off.status.code(), Some(0));
    assert!(!stdout(&off).contains("regressions:"), "{}", stdout(&off));
    std::fs::remove_dir_all(&dir).unwrap();
}
