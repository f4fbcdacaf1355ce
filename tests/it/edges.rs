//! Honest at the edges: each setup mistake is one error naming what to change, with exit 2 and
//! no FAILED verdict; a target that stops answering, or Ctrl-C, stops the run with the reports
//! written for what ran; the suite in use is never a surprise. All traffic stays on 127.0.0.1.

use crate::common;
use common::ServeProcess;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_presence-conformance");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pc-edges-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A profile without auth at `base_url` on `clock`, written to `dir/target.toml`.
fn profile(dir: &Path, base_url: &str, clock: &str) -> PathBuf {
    let path = dir.join("target.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"mine\"\nprofile = \"v1.0\"\nbase_url = \"{base_url}\"\nclock = \"{clock}\"\nrequest_timeout = 5\n[auth]\nkind = \"none\"\n"
        ),
    )
    .unwrap();
    path
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env_remove("PRESENCE_TARGET")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit 2, no verdict at all on stdout, and the one error line on stderr, returned.
fn one_error(out: &Output) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(!stdout.contains("passed"), "{stdout}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0].to_owned()
}

#[test]
fn a_base_url_with_the_api_version_is_one_error_naming_the_key() {
    let dir = scratch("versioned");
    for (given, root) in [
        ("http://127.0.0.1:1/v1.0", "http://127.0.0.1:1"),
        ("http://127.0.0.1:1/beta/", "http://127.0.0.1:1"),
    ] {
        let path = profile(&dir, given, "virtual");
        let error = one_error(&run_in(&dir, &["--target", path.to_str().unwrap()]));
        assert!(error.contains("ends in the API version"), "{error}");
        assert!(
            error.contains(&format!("set base_url = \"{root}\"")),
            "{error}"
        );
    }
}

#[test]
fn a_base_url_without_a_scheme_is_one_error_naming_the_key() {
    let dir = scratch("scheme");
    let path = profile(&dir, "127.0.0.1:8080", "virtual");
    let error = one_error(&run_in(&dir, &["--target", path.to_str().unwrap()]));
    assert!(
        error.contains("set base_url = \"http://127.0.0.1:8080\""),
        "{error}"
    );
}

#[test]
fn a_dead_target_is_one_error_naming_its_url() {
    let dir = scratch("dead");
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let path = profile(&dir, &url, "virtual");
    let error = one_error(&run_in(&dir, &["--target", path.to_str().unwrap()]));
    assert!(
        error.contains(&format!("{url} is not reachable: cannot connect")),
        "{error}"
    );
}

#[test]
fn a_virtual_clock_profile_against_a_real_clock_server_is_one_error_naming_the_key() {
    let dir = scratch("clock");
    let server = ServeProcess::start(&["--clock", "real", "--no-auth"]);
    let path = profile(&dir, &format!("http://{}", server.addr), "virtual");
    let error = one_error(&run_in(&dir, &["--target", path.to_str().unwrap()]));
    assert!(
        error.contains("POST /_conformance/reset answered 404"),
        "{error}"
    );
    assert!(error.contains("Set clock = \"real\""), "{error}");
}

#[test]
fn report_paths_that_cannot_be_written_fail_before_the_first_case() {
    let dir = scratch("outputs");
    for (args, says) in [
        (
            vec!["--html", "."],
            "--html .: cannot write there: it is a directory",
        ),
        (
            vec!["--junit", "missing/junit.xml"],
            "--junit missing/junit.xml: cannot write there: the directory missing does not exist",
        ),
        (
            vec!["--output", "o.json"],
            "--output writes the JSON lines of --format json: add --format json",
        ),
    ] {
        let mut all = vec!["--target", "reference", "timeout::away"];
        all.extend(args);
        let out = run_in(&dir, &all);
        let error = one_error(&out);
        assert!(error.contains(says), "{error}");
        // Before the header: nothing was asked of any target.
        assert!(!text(&out.stderr).contains("target reference"), "{error}");
    }
}

#[test]
fn the_header_names_the_suite_and_cases_is_used_only_when_it_holds_case_files() {
    let dir = scratch("suite");
    std::fs::create_dir_all(dir.join("cases/empty")).unwrap();
    let out = run_in(&dir, &["--target", "reference", "timeout::away"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("suite: embedded in "), "{stderr}");
    assert!(
        stderr.contains("target reference: in-process, profile v1.0"),
        "{stderr}"
    );
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/timeout/away_does_not_fade.yaml");
    std::fs::copy(case, dir.join("cases/mine.yaml")).unwrap();
    let out = run_in(&dir, &["--target", "reference-beta"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.starts_with("suite: ./cases, 1 case file (found in the working directory"),
        "{stderr}"
    );
    assert!(stderr.contains("target reference-beta: "), "{stderr}");
}

/// `run` in `dir` with stderr read line by line; returns once the header's target line is there.
fn spawn_run(dir: &Path, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env_remove("PRESENCE_TARGET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut header = String::new();
    while !header.contains("target mine") {
        if stderr.read_line(&mut header).unwrap() == 0 {
            break;
        }
    }
    let mut rest = String::new();
    std::thread::spawn(move || {
        let _ = stderr.read_to_string(&mut rest);
    });
    (child, header)
}

fn finish(mut child: Child) -> (Option<i32>, String) {
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    (child.wait().unwrap().code(), stdout)
}

#[test]
fn a_target_that_stops_answering_stops_the_run_and_the_reports_are_written() {
    let dir = scratch("dies");
    let server = ServeProcess::start(&["--clock", "virtual", "--no-auth"]);
    let url = format!("http://{}", server.addr);
    let path = profile(&dir, &url, "virtual");
    let args = [
        "--target",
        path.to_str().unwrap(),
        "--jobs",
        "1",
        "--snapshots",
        "off",
        "--junit",
        "junit.xml",
        "--html",
        "report.html",
    ];
    let (child, header) = spawn_run(&dir, &args);
    assert!(header.contains("target mine ("), "{header}");
    drop(server);
    let (code, stdout) = finish(child);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "stopped early: target 'mine' at {url} stopped answering: cannot connect"
        )),
        "{stdout}"
    );
    assert!(stdout.contains(" not run\n"), "{stdout}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("not run: "), "{junit}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // The top of the page: the run's metadata (the target's URL, the command line, why it
    // stopped), then failures and changes first, with one line for what did not run.
    let first = html
        .find("Failures and changes first")
        .expect("the top section");
    let matrix = html.find("Cases by topic").unwrap();
    assert!(first < matrix);
    for shown in [
        format!("<code>{url}</code>"),
        "stopped early".to_owned(),
        "--junit junit.xml --html report.html".to_owned(),
        "class=\"not-run-line\"".to_owned(),
    ] {
        assert!(
            html[..matrix].contains(&shown),
            "{shown} missing at the top"
        );
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_run_and_the_reports_are_written() {
    let dir = scratch("interrupt");
    // A real clock at x1: a case waits minutes, so the run is mid-case when interrupted.
    let server = ServeProcess::start(&["--clock", "real", "--no-auth"]);
    let path = profile(&dir, &format!("http://{}", server.addr), "real");
    let args = [
        "--target",
        path.to_str().unwrap(),
        "--snapshots",
        "off",
        "--format",
        "json",
        "--output",
        "trials.json",
        "--junit",
        "junit.xml",
        "--html",
        "report.html",
    ];
    let (child, _) = spawn_run(&dir, &args);
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let (code, _) = finish(child);
    assert_eq!(code, Some(2));
    let trials = std::fs::read_to_string(dir.join("trials.json")).unwrap();
    let verdicts: Vec<String> = trials
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["verdict"].to_string())
        .collect();
    assert!(!verdicts.iter().any(|v| v == "\"failed\""), "{trials}");
    assert!(verdicts.iter().any(|v| v == "\"not run\""), "{trials}");
    assert!(dir.join("junit.xml").is_file() && dir.join("report.html").is_file());
}

#[test]
fn with_several_targets_the_differences_come_before_the_summary_and_it_has_a_line_per_target() {
    let dir = scratch("several");
    let out = run_in(
        &dir,
        &[
            "--target",
            "reference",
            "--target",
            "reference-beta",
            "timeout::",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let differs = stdout
        .find("DIFFERS ")
        .expect("v1.0 and beta differ in their URLs");
    let totals = stdout.rfind("\ntargets: ").unwrap();
    assert!(differs < totals, "{stdout}");
    assert!(stdout.contains("\n  reference: 10 passed\n"), "{stdout}");
    assert!(
        stdout.contains("\n  reference-beta: 10 passed\n"),
        "{stdout}"
    );
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("20 passed, 0 failed"), "{last}");
}

#[test]
fn an_observed_value_in_the_wrong_case_is_a_load_error_with_a_hint() {
    let dir = scratch("enum-case");
    let case = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("cases/session/same_session_replaces_its_state.yaml"),
    )
    .unwrap()
    .replace(
        "observe: { user: alice, availability: Away, activity: Away }",
        "observe: { user: alice, availability: Away, activity: away }",
    );
    assert!(case.contains("activity: away"));
    std::fs::write(dir.join("wrong.yaml"), case).unwrap();
    let out = Command::new(BIN)
        .args(["cases", "lint", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("'away' is not a known activity value"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean 'Away'?"), "{stderr}");
}
