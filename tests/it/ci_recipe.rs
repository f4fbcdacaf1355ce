//! The CI recipe of the README cannot rot: `examples/ci/conformance.sh` runs against `serve` on
//! a free port (a missing baseline fails, `update` records it, then the baseline holds and both
//! reports are written), and the GitHub Actions workflow uses only flags `run` has.

use crate::common;
use common::ServeProcess;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_presence-conformance");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `targets/local.toml` without auth, at `addr`, with its baseline in `baseline/` beside it.
fn write_profile(dir: &Path, addr: &str) -> PathBuf {
    common::no_auth_profile(dir, addr, "target.toml", Some("mine"))
}

/// The script, from `dir`, with `env` on top of the recipe's settings.
fn recipe(dir: &Path, addr: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new("sh");
    command
        .arg(root().join("examples/ci/conformance.sh"))
        .current_dir(dir)
        .env("PRESENCE_CONFORMANCE", BIN)
        .env("CONFORMANCE_TARGET", "target.toml")
        .env("CONFORMANCE_REPORTS", "reports")
        .env("CONFORMANCE_FILTER", "timeout::away")
        .env("IMPLEMENTATION_READY_URL", format!("http://{addr}/v1.0/"))
        .env("CI", "true")
        .env_remove("PRESENCE_TARGET");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_shell_recipe_checks_the_baseline_and_writes_both_reports() {
    let dir = std::env::temp_dir().join(format!("pc-ci-recipe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let serve = ServeProcess::start(&["--clock", "virtual", "--no-auth"]);
    write_profile(&dir, &serve.addr);

    let missing = recipe(&dir, &serve.addr, &[]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(
        text(&missing).contains("--snapshots require"),
        "{}",
        text(&missing)
    );

    let update = recipe(&dir, &serve.addr, &[("CONFORMANCE_SNAPSHOTS", "update")]);
    assert_eq!(update.status.code(), Some(0), "{}", text(&update));
    assert!(
        dir.join("baseline/timeout__away_does_not_fade.snap")
            .is_file()
    );

    // The recipe starts the implementation itself: a real `serve` on a port of its own, not
    // exec'd (as a user's compound command would not be), and must stop it at the end.
    drop(serve);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    write_profile(&dir, &addr);
    let started = dir.join("started");
    let start = format!(
        "touch '{}'; '{BIN}' serve --addr {addr} --clock virtual --no-auth --quiet",
        started.display()
    );
    let holds = recipe(&dir, &addr, &[("IMPLEMENTATION_START", &start)]);
    let out = text(&holds);
    assert_eq!(holds.status.code(), Some(0), "{out}");
    assert!(
        out.contains("(suite: "),
        "the version line names the suite: {out}"
    );
    assert!(out.contains(" unchanged"), "{out}");
    assert!(
        out.contains("reports: reports/junit.xml, reports/report.html"),
        "{out}"
    );
    assert!(started.exists(), "IMPLEMENTATION_START ran");
    let junit = std::fs::read_to_string(dir.join("reports/junit.xml")).unwrap();
    assert!(junit.contains("timeout::away_does_not_fade"), "{junit}");
    assert!(dir.join("reports/report.html").is_file());
    // Everything the recipe started is stopped: the port refuses connections (the process may
    // take a moment to go once signalled).
    let stopped = (0..50).any(|_| {
        let refused = std::net::TcpStream::connect(&addr).is_err();
        if !refused {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        refused
    });
    assert!(
        stopped,
        "the implementation at {addr} still answers after the recipe"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_github_workflow_pins_the_binary_and_uses_flags_run_has() {
    let workflow = std::fs::read_to_string(root().join("examples/ci/github-actions.yml")).unwrap();
    let options = serde_saphyr::options! { strict_booleans: true };
    let parsed: serde_json::Value =
        serde_saphyr::from_str_with_options(&workflow, options).unwrap();
    let steps = parsed["jobs"]["conformance"]["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    let install = runs.iter().find(|r| r.contains("cargo install")).unwrap();
    assert!(
        install.contains("--locked --git") && install.contains("--tag"),
        "{install}"
    );
    let suite = runs
        .iter()
        .find(|r| r.contains("presence-conformance run"))
        .unwrap();
    for flag in ["--target", "--snapshots require", "--junit", "--html"] {
        assert!(suite.contains(flag), "{flag} missing: {suite}");
    }
    let help = Command::new(BIN).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for flag in suite.split_whitespace().filter(|w| w.starts_with("--")) {
        assert!(help.contains(flag), "run has no {flag}");
    }
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .unwrap();
    assert_eq!(upload["if"], "always()");
    let paths = upload["with"]["path"].as_str().unwrap();
    assert!(paths.contains("junit.xml") && paths.contains("report.html"));
}
