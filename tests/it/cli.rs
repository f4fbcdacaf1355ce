//! The command line as a user meets it: exit codes, messages, and the edges (broken pipes, a
//! missing file, an address in use). Each test runs the built binary.

use crate::common;
use common::ServeProcess;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_presence-conformance"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command.env_remove("PRESENCE_TARGET");
    command
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_missing_target_file_is_one_line_with_its_path() {
    let out = run(&["run", "--target", "targets/nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: cannot read the target file targets/nope.toml: No such file or directory\n"
    );
}

/// A case that loads but whose request breaks the contract under every profile.
const SHORT_EXPIRY: &str = "title: too short
users: [alice]
apps:
  teams: {}
steps:
  - at: PT0S
    setPresence: { user: alice, availability: Busy, activity: InACall, expirationDuration: PT1M }
    expect: { status: 400 }
rules: [fade.available-inactive]
";

#[test]
fn cases_lint_counts_files_not_files_times_profiles() {
    let dir = scratch("lint-count");
    std::fs::write(dir.join("short.yaml"), SHORT_EXPIRY).unwrap();
    let out = run(&["cases", "lint", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1 case file, 1 with errors\n");
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly() {
    for args in [&["cases", "schema"][..], &["rules"][..]] {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn validate_without_request_or_response_is_a_usage_error() {
    let out = run(&[
        "validate",
        "--operation",
        "users.user.presence.setPresence",
        "Cargo.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--request"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn validate_with_an_unknown_operation_lists_the_operations() {
    let out = run(&["validate", "--operation", "nope", "--request", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("users.user.presence.setPresence"),
        "{stderr}"
    );
}

fn validate_body(body: &str) -> Output {
    let mut child = bin()
        .args([
            "validate",
            "--operation",
            "users.user.presence.setPresence",
            "--request",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn one_violation_is_singular() {
    let out = validate_body(
        r#"{"sessionId":"s","availability":"Available","activity":"Available","expirationDuration":"PT1M"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).ends_with("\n1 violation\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn serve_refuses_a_time_scale_on_a_virtual_clock() {
    let out = run(&["serve", "--clock", "virtual", "--time-scale", "60"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--time-scale"));
}

#[test]
fn serve_on_a_port_in_use_is_not_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["serve", "--addr", &addr, "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&addr));
}

fn serve(args: &[&str]) -> ServeProcess {
    ServeProcess::spawn(args)
}

/// One HTTP/1.0 request; the whole response as text.
fn http(addr: &str, method: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_accepts_a_host_name_and_names_the_token_url_and_tenant() {
    let served = serve(&["--addr", "localhost:0"]);
    assert!(served.banner.contains("tenant "), "{}", served.banner);
    assert!(
        served.banner.contains("/oauth2/v2.0/token"),
        "{}",
        served.banner
    );
    let response = http(&served.addr, "GET", "/v1.0/me/presence");
    assert!(response.starts_with("HTTP/1."), "{response}");
}

#[test]
fn conformance_endpoints_on_a_real_clock_say_they_need_a_virtual_one() {
    let served = serve(&["--addr", "127.0.0.1:0"]);
    for (method, path) in [
        ("POST", "/_conformance/clock/advance"),
        ("POST", "/_conformance/reset"),
    ] {
        let response = http(&served.addr, method, path);
        assert!(response.contains(" 404 "), "{path}: {response}");
        assert!(response.contains("--clock virtual"), "{path}: {response}");
        assert!(response.contains("\"error\""), "{path}: {response}");
    }
}

#[test]
fn a_sped_up_real_clock_can_be_read_and_runs_ahead_of_the_wall() {
    let served = serve(&["--addr", "127.0.0.1:0", "--time-scale", "600"]);
    let read = || {
        let response = http(&served.addr, "GET", "/_conformance/clock");
        assert!(response.contains(" 200 "), "{response}");
        let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
        let now: serde_json::Value = serde_json::from_str(body).unwrap();
        now["now"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    let first = read();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let ran = read().duration_since(first).as_secs_f64();
    // 200 ms of wall time is two minutes at x600 (give or take the requests' own time).
    assert!((110.0..400.0).contains(&ran), "{ran} s");
}

#[test]
fn explore_against_a_target_that_is_down_writes_nothing() {
    let dir = scratch("explore-down");
    // A port nothing listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("targets/local.toml"),
    )
    .unwrap()
    .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let profile_path = dir.join("down.toml");
    std::fs::write(&profile_path, profile).unwrap();
    let out_dir = dir.join("generated");
    let out = run(&[
        "explore",
        "--target",
        profile_path.to_str().unwrap(),
        "--timelines",
        "20",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!out_dir.exists(), "explore wrote {}", out_dir.display());
}

#[test]
fn spec_diff_reads_a_multi_document_file_and_normalises_action_prefixes() {
    let dir = scratch("spec-diff");
    let ours = "spec/graph-presence.v1.0.openapi.yaml";
    let spec = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(ours))
        .unwrap()
        .replace("/presence/set", "/presence/microsoft.graph.set")
        .replace("/presence/clear", "/presence/microsoft.graph.clear");
    let upstream = dir.join("upstream.yaml");
    std::fs::write(&upstream, format!("---\n{spec}\n---\nsecond: document\n")).unwrap();
    let out = run(&["spec", "diff", ours, upstream.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).starts_with("no drift"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn spec_diff_prints_a_legend() {
    let out = run(&[
        "spec",
        "diff",
        "spec/graph-presence.v1.0.openapi.yaml",
        "spec/graph-presence.beta.openapi.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .starts_with("+ upstream has it"),
        "{stdout}"
    );
}

#[test]
fn every_subcommand_help_has_an_example() {
    let commands: &[&[&str]] = &[
        &["run"],
        &["serve"],
        &["cases"],
        &["cases", "lint"],
        &["cases", "schema"],
        &["spec"],
        &["spec", "lint"],
        &["spec", "diff"],
        &["validate"],
        &["explore"],
        &["rules"],
    ];
    for command in commands {
        let out = bin().args(*command).arg("--help").output().unwrap();
        let help = text(&out.stdout);
        assert!(
            help.contains("Example"),
            "{command:?} --help has no example:\n{help}"
        );
    }
    let explore = text(&run(&["explore", "--help"]).stdout);
    for description in ["How many generated timelines", "The random seed"] {
        assert!(explore.contains(description), "{explore}");
    }
    let diff = text(&run(&["spec", "diff", "--help"]).stdout);
    assert!(diff.contains("Our OpenAPI document"), "{diff}");
    assert!(diff.contains("The upstream document"), "{diff}");
}

#[test]
fn validate_refuses_an_unknown_parameter_as_the_server_does() {
    let out = validate_body(
        r#"{"sessionId":"s","availability":"Available","activity":"Available","foo":1}"#,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("/foo"), "{}", text(&out.stdout));
}
