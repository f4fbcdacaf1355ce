//! The `run` command as CI uses it: a filter that matches nothing and a target that is down are
//! one error and exit 2, `--list` runs nothing, `--format json` is one parsable object per trial,
//! no colour off a terminal, `--repeat` reports a flaky target as flaky, and several targets are
//! compared with a diff of what differs.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn};
use axum::response::IntoResponse;

use presence_conformance::model::Profile;
use presence_conformance::suite::executor::{RunOptions, run_suite};
use presence_conformance::suite::{SuiteTarget, load_cases};
use presence_conformance::targets::EmbeddedTarget;
use presence_conformance::targets::embedded::Variation;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_presence-conformance"))
        .arg("run")
        .args(args)
        .current_dir(root())
        .env_remove("PRESENCE_TARGET")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_filter_that_matches_nothing_is_an_error() {
    let out = run(&["nosuchthing"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "error: no case matches 'nosuchthing'\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_target_that_is_down_is_one_error_before_the_run() {
    let dir = std::env::temp_dir().join(format!("pc-run-down-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("down.toml");
    // Port 1 on loopback: nothing listens there.
    std::fs::write(
        &profile,
        "name = \"down\"\nbase_url = \"http://127.0.0.1:1\"\nrequest_timeout = 2\n",
    )
    .unwrap();
    let out = run(&["--target", profile.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    // The header's first line (the suite), then one error naming the target, its file and URL.
    assert!(stderr.starts_with("suite: ./cases, "), "{stderr}");
    let error = stderr.lines().nth(1).unwrap_or_default();
    assert!(
        error.starts_with("error: target 'down' (")
            && error.contains("down.toml): http://127.0.0.1:1 is not reachable: cannot connect"),
        "{stderr}"
    );
    assert!(
        stderr.contains("presence-conformance serve --clock virtual"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn list_prints_the_selected_cases_without_running_them() {
    let out = run(&["--list", "timeout::"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.lines().all(|l| l.starts_with("timeout::")),
        "{stdout}"
    );
    assert!(stdout.contains("timeout::available_fades_to_away\n"));
    assert!(!stdout.contains("passed"), "{stdout}");
}

#[test]
fn json_is_one_object_per_trial() {
    let out = run(&["--format", "json", "--quiet", "timeout::available_fades"]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 3, "one per reference target");
    let first = &lines[0];
    assert_eq!(first["case"], "timeout::available_fades_to_away");
    assert_eq!(first["target"], "reference");
    assert_eq!(first["verdict"], "passed");
    assert_eq!(first["rules"][0], "fade.available-inactive");
    assert!(first["timeline"]["entries"].as_array().unwrap().len() >= 6);
    assert!(first["duration_ms"].as_f64().is_some());
    assert_eq!(lines[2]["verdict"], "not applicable");
    assert!(lines[2]["reason"].as_str().unwrap().contains("beta-2021"));
}

#[test]
fn verbose_lines_carry_no_colour_off_a_terminal() {
    let out = run(&["-v", "--quiet", "duration::p1d"]);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(
        stdout.starts_with("passed [reference] duration::p1d_is_refused ("),
        "{stdout}"
    );
    assert!(stdout.contains("not applicable [reference-beta-2021] duration::p1d_is_refused"));
}

/// A reference server whose every other instance answers observations with 503: a case run
/// three times sees both.
fn flaky() -> Variation {
    static SERVERS: AtomicU64 = AtomicU64::new(0);
    Variation {
        config: None,
        routes: Some(Arc::new(|router: Router| {
            let broken = SERVERS.fetch_add(1, Ordering::SeqCst) % 2 == 1;
            router.layer(from_fn(move |request: Request, next: Next| async move {
                if broken && request.method() == "GET" {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                next.run(request).await
            }))
        })),
    }
}

fn targets(list: Vec<EmbeddedTarget>) -> Vec<SuiteTarget> {
    list.into_iter()
        .map(|t| SuiteTarget::new(Arc::new(t)))
        .collect()
}

#[test]
fn repeat_reports_a_flaky_target_as_flaky() {
    let cases = load_cases(&root().join("cases")).unwrap();
    let options = RunOptions {
        filter: Some("timeout::away_does_not_fade".into()),
        jobs: 1,
        repeat: 3,
        ..RunOptions::default()
    };
    let target = EmbeddedTarget::varied(Profile::V1_0, "flaky", flaky());
    let report = run_suite(&cases, &targets(vec![target]), &options);
    assert_eq!(report.trials.len(), 3);
    let flaky = report.flaky();
    assert_eq!(flaky.len(), 1, "{}", report.render());
    assert_eq!(flaky[0].case, "timeout::away_does_not_fade");
    let counts = flaky[0].counts();
    assert!(
        counts.contains("passed") && counts.contains("failed"),
        "{counts}"
    );
    let summary = report.render();
    assert!(
        summary.contains("FLAKY [flaky] timeout::away_does_not_fade: "),
        "{summary}"
    );
    assert!(summary.contains("flaky: 1"), "{summary}");
}

#[test]
fn several_targets_are_compared_with_a_diff_of_what_differs() {
    use jiff::SignedDuration;
    use presence_conformance::model::Semantics;
    let cases = load_cases(&root().join("cases")).unwrap();
    let late = Semantics {
        fade_to_inactive: SignedDuration::from_mins(6),
        ..Semantics::GRAPH
    };
    let options = RunOptions {
        filter: Some("timeout::".into()),
        ..RunOptions::default()
    };
    let list = vec![
        EmbeddedTarget::named(Profile::V1_0, "reference"),
        EmbeddedTarget::with_semantics(Profile::V1_0, "late", late),
    ];
    let report = run_suite(&cases, &targets(list), &options);
    let differences = report.differences();
    assert!(
        differences
            .contains("DIFFERS timeout::available_fades_to_away: reference passed, late failed"),
        "{differences}"
    );
    assert!(
        differences.contains("--- reference\n+++ late\n"),
        "{differences}"
    );
    assert!(
        differences.contains("-    presence: Available/AvailableInactive"),
        "{differences}"
    );
    assert!(
        !differences.contains("DIFFERS timeout::away_does_not_fade"),
        "{differences}"
    );
}

#[test]
fn the_binary_carries_its_suite_and_runs_from_any_directory() {
    let dir = std::env::temp_dir().join(format!("pc-run-anywhere-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_presence-conformance"));
        command.current_dir(&dir).env_remove("PRESENCE_TARGET");
        command
    };
    let out = bin()
        .args(["run", "--quiet", "timeout::"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(" passed, 0 failed"),
        "{}",
        text(&out.stdout)
    );
    let version = text(&bin().arg("--version").output().unwrap().stdout);
    let in_repo = load_cases(&root().join("cases")).unwrap().len();
    assert!(
        version.contains(&format!("(suite: {in_repo} cases, ")),
        "{version}"
    );
    let out = bin().args(["cases", "export", "mine"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(load_cases(&dir.join("mine")).unwrap().len(), in_repo);
    let again = bin().args(["cases", "export", "mine"]).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "export never overwrites");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A minimal profile for a server without auth: a name, a URL and a clock; no apps, no users.
fn minimal_profile(dir: &Path, addr: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let profile = dir.join("minimal.toml");
    std::fs::write(
        &profile,
        format!("name = \"minimal\"\nbase_url = \"http://{addr}\"\nclock = \"virtual\"\n"),
    )
    .unwrap();
    profile
}

#[test]
fn a_minimal_profile_without_auth_runs_the_suite_on_made_up_ids() {
    let dir = std::env::temp_dir().join(format!("pc-run-minimal-{}", std::process::id()));
    let serve = common::ServeProcess::start(&["--clock", "virtual", "--no-auth"]);
    let profile = minimal_profile(&dir, &serve.addr);
    let out = run(&["--target", profile.to_str().unwrap(), "--snapshots", "off"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // Every v1.0 case that needs neither credentials nor another profile is judged.
    assert!(stdout.contains("114 passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains("no free app registration"), "{stdout}");
    // The three sessionId cases that need the caller's app are not applicable, and say why.
    assert!(
        stdout.contains("it requires credentials: the target must know the calling app"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_run_in_which_no_case_applies_is_an_error_not_a_pass() {
    let dir = std::env::temp_dir().join(format!("pc-run-unjudged-{}", std::process::id()));
    let serve = common::ServeProcess::start(&["--clock", "virtual", "--no-auth"]);
    let profile = minimal_profile(&dir, &serve.addr);
    // Beta-only cases on a v1.0 target: none applies.
    let out = run(&["--target", profile.to_str().unwrap(), "beta_2021"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: no case was judged: every case was not applicable"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
