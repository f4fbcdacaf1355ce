//! Any target: the suite against the reference server run as a separate process (virtual and
//! real clock), OAuth2 client credentials end to end, and targets that are down, hang, fail or
//! answer garbage. All traffic stays on 127.0.0.1.

use crate::common;
use common::ServeProcess;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use presence_conformance::model::Profile;
use presence_conformance::suite::{
    Judging, SuiteCase, SuiteTarget, Verdict, load_cases, run_trial,
};
use presence_conformance::targets::EmbeddedTarget;
use presence_conformance::targets::config::load_target;

const BIN: &str = env!("CARGO_BIN_EXE_presence-conformance");
const CANARY: &str = "CANARY-SECRET-4b1d9e2f-do-not-print";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<SuiteCase> {
    load_cases(&root().join("cases")).unwrap()
}

/// A scratch directory for profiles and configurations.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pc-targets-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `targets/local.toml`, pointed at `addr`, with some settings replaced.
fn local_profile(dir: &Path, addr: &str, replace: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join("targets/local.toml")).unwrap();
    text = text.replace("127.0.0.1:8080", addr);
    for (from, to) in replace {
        assert!(text.contains(from), "{from} is not in targets/local.toml");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run_all(
    target: &SuiteTarget,
    cases: &[SuiteCase],
) -> Vec<(String, Verdict, Option<serde_json::Value>, Duration)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                scope.spawn(move || {
                    let outcome = run_trial(case, target, None, Judging::Default);
                    let timeline = outcome
                        .run
                        .as_ref()
                        .map(|r| serde_json::to_value(&r.timeline).unwrap());
                    let wall = outcome.run.as_ref().map_or(Duration::ZERO, |r| r.wall);
                    (case.name.clone(), outcome.verdict, timeline, wall)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn serve_with_a_virtual_clock_passes_the_suite_with_the_embedded_timelines() {
    let server = ServeProcess::start(&[
        "--clock",
        "virtual",
        "--config",
        "targets/local.server.toml",
    ]);
    let dir = scratch("virtual");
    let loaded = load_target(&local_profile(&dir, &server.addr, &[])).unwrap();
    let remote = SuiteTarget::new(loaded.target);
    let embedded = SuiteTarget::new(Arc::new(EmbeddedTarget::new(Profile::V1_0)));
    let cases = cases();
    let mut ran = 0;
    for case in &cases {
        let here = run_trial(case, &remote, None, Judging::Default);
        let there = run_trial(case, &embedded, None, Judging::Default);
        match (&here.verdict, &there.verdict) {
            (Verdict::Passed, Verdict::Passed) => {
                let a = serde_json::to_value(&here.run.unwrap().timeline).unwrap();
                let b = serde_json::to_value(&there.run.unwrap().timeline).unwrap();
                assert_eq!(a, b, "{}: the timelines differ", case.name);
                ran += 1;
            }
            (Verdict::NotApplicable(_), Verdict::NotApplicable(_)) => {}
            (Verdict::NotApplicable(why), _) => panic!("{} cannot run on serve: {why}", case.name),
            (here, there) => panic!("{}: serve {here:?}, embedded {there:?}", case.name),
        }
    }
    assert!(ran >= cases.len() / 2, "only {ran} cases ran");
}

#[test]
fn a_wrong_client_secret_gives_a_clear_401_and_the_secret_is_never_printed() {
    let server = ServeProcess::start(&[
        "--clock",
        "virtual",
        "--config",
        "targets/local.server.toml",
    ]);
    let dir = scratch("secret");
    std::fs::create_dir_all(dir.join("cases/x")).unwrap();
    std::fs::copy(
        root().join("cases/realtime/busy_holds_until_expiry.yaml"),
        dir.join("cases/x/busy.yaml"),
    )
    .unwrap();
    let profile = local_profile(
        &dir,
        &server.addr,
        &[(
            "secret = \"local-secret-1\"",
            "secret_env = \"PC_TEST_SECRET\"",
        )],
    );
    let junit = dir.join("junit.xml");
    let output = Command::new(BIN)
        .args(["run", "--quiet", "--target"])
        .arg(&profile)
        .arg("--cases")
        .arg(dir.join("cases"))
        .arg("--junit")
        .arg(&junit)
        .env("PC_TEST_SECRET", CANARY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("cannot get a token for 'teams'"),
        "{stdout}"
    );
    assert!(
        stdout.contains("401") && stdout.contains("invalid_client"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(&junit).unwrap();
    for (what, text) in [
        ("stdout", &*stdout),
        ("stderr", &*stderr),
        ("junit", &*report),
    ] {
        assert!(!text.contains(CANARY), "the secret leaked into {what}");
    }
}

#[test]
fn real_time_at_600x_passes_the_cases_that_tolerate_real_time() {
    let dir = scratch("real");
    // Tokens of two seconds: the longest case outlives several, so they expire mid-suite.
    let config = std::fs::read_to_string(root().join("targets/local.server.toml")).unwrap();
    let config_path = dir.join("server.toml");
    std::fs::write(&config_path, format!("token_lifetime = 2\n{config}")).unwrap();
    let server = ServeProcess::start(&[
        "--clock",
        "real",
        "--time-scale",
        "600",
        "--config",
        config_path.to_str().unwrap(),
    ]);
    let profile = local_profile(
        &dir,
        &server.addr,
        &[(
            "clock = \"virtual\"",
            "clock = \"real\"\ntime_scale = 600\nconcurrency = 8",
        )],
    );
    let loaded = load_target(&profile).unwrap();
    let target = SuiteTarget::new(loaded.target);
    let started = Instant::now();
    let results = run_all(&target, &cases());
    let wall = started.elapsed();
    let mut passed = 0;
    let mut longest = Duration::ZERO;
    for (name, verdict, _, case_wall) in &results {
        match verdict {
            Verdict::Passed => passed += 1,
            Verdict::NotApplicable(_) => {}
            other => panic!("{name}: {other:?}"),
        }
        longest = longest.max(*case_wall);
    }
    // 122 on a quiet machine. A step answered more than 30 s of presence time (50 ms of wall
    // time at x600) after its instant is not judged: on a loaded machine a few cases are behind
    // their timeline, and that is the runner being honest, not the target failing.
    assert!(passed >= 100, "only {passed} cases passed in real time");
    let fade = results
        .iter()
        .find(|(n, _, _, _)| n == "realtime::fade_and_expiry_with_tolerance");
    assert!(
        fade.is_some_and(|(_, v, _, _)| match v {
            Verdict::Passed => true,
            Verdict::NotApplicable(why) => why.contains("behind its timeline"),
            _ => false,
        }),
        "realtime::fade_and_expiry_with_tolerance: {:?}",
        fade.map(|(_, v, _, _)| v)
    );
    eprintln!(
        "real time x600: {passed} cases passed in {wall:?} of wall time; the longest case took {longest:?}"
    );
}

/// A loopback server that answers every request with `response` (raw HTTP/1.1), or never
/// answers at all when `response` is `None`.
fn fake_target(response: Option<&'static str>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            match response {
                None => held.push(stream),
                Some(text) => {
                    std::thread::spawn(move || {
                        use std::io::{Read, Write};
                        let mut stream = stream;
                        let mut buf = [0u8; 65536];
                        loop {
                            match stream.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(_) => {
                                    if stream.write_all(text.as_bytes()).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                    });
                }
            }
        }
    });
    addr
}

/// Runs a few cases on a broken target: each must fail, with a one-line cause naming `cause`,
/// within its timeout.
fn assert_fails_quickly(addr: &str, clock: &str, cause: &str) {
    let dir = scratch(&format!("fault-{}", addr.replace([':', '.'], "-")));
    let profile = local_profile(
        &dir,
        addr,
        &[
            (
                "clock = \"virtual\"",
                &format!("clock = \"{clock}\"\ntime_scale = 1000000\nconcurrency = 8"),
            ),
            ("request_timeout = 10", "request_timeout = 1"),
        ],
    );
    let loaded = load_target(&profile).unwrap();
    let target = SuiteTarget::new(loaded.target);
    let cases: Vec<SuiteCase> = cases().into_iter().take(4).collect();
    let started = Instant::now();
    for (name, verdict, _, _) in run_all(&target, &cases) {
        match verdict {
            Verdict::Failed(report) => {
                let first = report.lines().next().unwrap_or_default();
                assert!(
                    report.contains(cause),
                    "{name}: expected the cause '{cause}' in:\n{report}"
                );
                assert!(!first.is_empty(), "{name}: no one-line cause");
            }
            Verdict::NotApplicable(_) => {}
            other => panic!("{name} did not fail on a broken target: {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_target_that_refuses_connections_fails_each_case_at_once() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    assert_fails_quickly(&addr, "virtual", "cannot connect");
}

#[test]
fn a_target_that_never_answers_fails_each_case_within_its_timeout() {
    assert_fails_quickly(&fake_target(None), "virtual", "timed out");
}

#[test]
fn a_target_that_answers_500_fails_each_case() {
    let addr = fake_target(Some(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\noops!",
    ));
    assert_fails_quickly(&addr, "real", "500");
}

#[test]
fn a_target_that_answers_invalid_json_fails_each_case() {
    let addr = fake_target(Some(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{not json",
    ));
    assert_fails_quickly(&addr, "real", "token endpoint answered 200 without a token");
}

#[test]
fn tokens_never_reach_timelines_or_reports() {
    let text = format!(
        r#"
title: A raw request carrying its own bearer token
rules: [permissions.get]
users: [alice]
apps: {{ teams: {{}} }}
steps:
  - at: PT0S
    request:
      method: GET
      path: /users/{{alice}}/presence
      headers: {{ Authorization: "Bearer {CANARY}" }}
    expect: {{ status: 200 }}
  - at: PT0S
    getPresence: {{ user: alice }}
"#
    );
    let case =
        presence_conformance::case::load_str("canary", Path::new("canary.yaml"), &text).unwrap();
    let entry = SuiteCase {
        name: case.name.clone(),
        path: case.path.clone(),
        case: Ok(case),
    };
    let target = SuiteTarget::new(Arc::new(EmbeddedTarget::new(Profile::V1_0)));
    let outcome = run_trial(&entry, &target, None, Judging::Default);
    let run = outcome.run.unwrap();
    let shown = serde_json::to_string(&run.timeline).unwrap();
    let report = run.report(entry.case.as_ref().unwrap());
    // The made-up token is refused (401), and neither it nor the real one is recorded.
    assert!(matches!(outcome.verdict, Verdict::Failed(_)));
    assert!(
        report.contains("status: expected 200, observed 401"),
        "{report}"
    );
    for text in [&shown, &report] {
        assert!(!text.contains(CANARY));
        assert!(!text.contains("pcs."), "an issued token leaked: {text}");
    }
}

#[test]
fn without_auth_every_case_that_needs_credentials_is_not_applicable_and_none_fails() {
    let server = ServeProcess::start(&[
        "--clock",
        "virtual",
        "--no-auth",
        "--config",
        "targets/local.server.toml",
    ]);
    let dir = scratch("no-auth");
    let path = common::no_auth_profile(&dir, &server.addr, "no-auth.toml", None);
    let target = SuiteTarget::new(load_target(&path).unwrap().target);
    let results = run_all(&target, &cases());
    let mut not_applicable = 0;
    for (name, verdict, _, _) in &results {
        match verdict {
            Verdict::Failed(report) => panic!("{name} failed without auth:\n{report}"),
            Verdict::NotApplicable(why) if why.contains("credentials") => not_applicable += 1,
            _ => {}
        }
    }
    let needs = |name: &str| {
        results.iter().find(|(n, ..)| n == name).is_some_and(
            |(_, v, ..)| matches!(v, Verdict::NotApplicable(why) if why.contains("auth is none")),
        )
    };
    assert!(needs("auth::no_token_is_401"));
    assert!(needs("auth::delegated_user_cannot_write_another_user"));
    assert!(needs("paths::me_with_a_delegated_token"));
    assert!(not_applicable >= 15, "only {not_applicable} not applicable");
    eprintln!("without auth: {not_applicable} cases not applicable (credentials), none failed");
}

/// `notification_url` with `notification_listen`: the target is told the public URL (here the
/// listen address itself, as a tunnel would forward it), the receiver listens behind it, and the
/// notification cases pass one at a time on it as on the embedded server.
#[test]
fn notification_cases_pass_through_a_public_notification_url() {
    let server = ServeProcess::start(&[
        "--clock",
        "virtual",
        "--config",
        "targets/local.server.toml",
    ]);
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = scratch("webhook");
    let profile = local_profile(&dir, &server.addr, &[]);
    let mut text = std::fs::read_to_string(&profile).unwrap();
    text = format!(
        "notification_url = \"http://{listen}/\"\nnotification_listen = \"{listen}\"\n{text}"
    );
    std::fs::write(&profile, text).unwrap();
    let remote = SuiteTarget::new(load_target(&profile).unwrap().target);
    // A write's notification, the fade's, and a delete's silence: three cases are enough to
    // show the URL works (the whole folder runs on serve in the test above), and few enough not
    // to crowd the real-clock test that runs beside this one.
    let wanted = [
        "notifications::the_client_state_is_echoed",
        "notifications::the_fade_is_notified",
        "notifications::a_deleted_subscription_sends_nothing",
    ];
    let notification_cases: Vec<SuiteCase> = cases()
        .into_iter()
        .filter(|c| wanted.contains(&c.name.as_str()))
        .collect();
    assert_eq!(notification_cases.len(), wanted.len());
    for (name, verdict, _, _) in run_all(&remote, &notification_cases) {
        assert!(
            matches!(verdict, Verdict::Passed),
            "{name}: {verdict:?} through notification_url"
        );
    }
}

#[test]
fn notification_url_without_its_listen_address_is_one_clear_error() {
    let dir = scratch("webhook-half");
    let profile = local_profile(&dir, "127.0.0.1:9", &[]);
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        format!("notification_url = \"https://tunnel.example\"\n{text}"),
    )
    .unwrap();
    let Err(error) = load_target(&profile) else {
        panic!("a notification_url without notification_listen was taken");
    };
    let error = error.to_string();
    assert!(error.contains("notification_listen"), "{error}");
}
