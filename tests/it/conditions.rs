//! Tenant conditions (`serve --conditions`): a burst over the limit is throttled with
//! `Retry-After` and the same burst without conditions is not; a case whose write is throttled
//! past its timeline is throttled out, not judged; and the real-time suite survives propagation
//! lag, transient faults and expiring tokens with no failure. All
//! traffic stays on 127.0.0.1.

use crate::common;
use common::ServeProcess;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_presence-conformance");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pc-conditions-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Status, Retry-After and body of each of `n` GETs sent at once.
fn burst(addr: &str, n: usize) -> Vec<(u16, Option<String>, String)> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/v1.0/users/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/presence");
        let mut answers = Vec::new();
        for _ in 0..n {
            let response = client.get(&url).send().await.unwrap();
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            answers.push((status, retry, response.text().await.unwrap()));
        }
        answers
    })
}

#[test]
fn a_burst_over_the_limit_gets_429_with_retry_after_and_none_without_conditions() {
    let dir = scratch("burst");
    let file = dir.join("conditions.toml");
    std::fs::write(&file, "seed = 1\n[throttle]\nlimit = 20\nwindow = 30\n").unwrap();
    let throttled = ServeProcess::start(&["--no-auth", "--conditions", file.to_str().unwrap()]);
    let answers = burst(&throttled.addr, 30);
    assert!(
        answers[..20].iter().all(|(s, _, _)| *s == 200),
        "{answers:?}"
    );
    for (status, retry, body) in &answers[20..] {
        assert_eq!(*status, 429, "{body}");
        let seconds: u64 = retry.as_deref().unwrap().parse().unwrap();
        assert!((1..=30).contains(&seconds), "Retry-After {seconds}");
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "TooManyRequests");
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }
    let plain = ServeProcess::start(&["--no-auth"]);
    let answers = burst(&plain.addr, 30);
    assert!(
        answers.iter().all(|(s, r, _)| *s == 200 && r.is_none()),
        "{answers:?}"
    );
}

#[test]
fn the_real_time_suite_survives_graph_like_conditions() {
    let dir = scratch("real");
    // Graph's conditions as the example states them (its documented limit of 1,500 requests in
    // 30 s an app, 1% of faults, a lag of up to 2 s of the server's clock: 3.3 ms of wall time at
    // x600), with tokens of 2 s so that they expire mid-run. The suite at two cases at once stays
    // under the limit; a run over it is `a_write_sent_again_too_late_is_throttled_out_not_judged`.
    // (A fault's Retry-After of 1 s is ten minutes at x600: its case is then too far behind its
    // timeline to be judged, and is throttled out.)
    let example =
        std::fs::read_to_string(root().join("targets/conditions/graph-like.toml")).unwrap();
    let conditions = example.replace("token_lifetime = 120", "token_lifetime = 2");
    assert_ne!(conditions, example);
    assert!(conditions.contains("max_ms = 2000"), "the example's lag");
    assert!(conditions.contains("rate = 0.01"), "the example's faults");
    let conditions_path = dir.join("conditions.toml");
    std::fs::write(&conditions_path, conditions).unwrap();
    let server = ServeProcess::start(&[
        "--clock",
        "real",
        "--time-scale",
        "600",
        "--conditions",
        conditions_path.to_str().unwrap(),
        "--config",
        "targets/local.server.toml",
    ]);
    let profile = std::fs::read_to_string(root().join("targets/local.toml"))
        .unwrap()
        .replace("127.0.0.1:8080", &server.addr)
        .replacen(
            "clock = \"virtual\"",
            // Two cases at once keep the suite under the example's limit (about 130 requests a
            // second in all, from several apps); eight at once go over it.
            "clock = \"real\"\ntime_scale = 600\nconcurrency = 2",
            1,
        );
    // Reads poll through the lag for up to the target's propagation.
    let profile = format!("propagation = \"PT5S\"\n{profile}");
    let profile_path = dir.join("profile.toml");
    std::fs::write(&profile_path, profile).unwrap();
    let started = Instant::now();
    let output = Command::new(BIN)
        .args(["run", "--target"])
        .arg(&profile_path)
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "{}\n(wall {:?})",
        stdout.lines().rev().take(6).collect::<Vec<_>>().join("\n"),
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    // The faults were met: some cases answered 503/504 and were throttled out, not failed.
    let throttled: usize = stdout
        .split_once("throttled: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(throttled >= 1, "no fault met: {stdout}");
    assert!(stdout.contains(" 0 known failures"), "{stdout}");
    // Not applicable is not a way to pass: of the 124 cases a real clock on v1.0 can run, most
    // are judged (120 on a quiet machine; the rest throttled out or late, each named).
    let passed: usize = stdout
        .lines()
        .rev()
        .find_map(|l| {
            l.split_once(" passed, ")
                .map(|(n, _)| n.trim().parse().ok())
        })
        .flatten()
        .unwrap_or(0);
    assert!(passed >= 80, "only {passed} judged: {stdout}");
    assert!(
        stdout.contains("reads repeated until they showed the expected state: "),
        "the lag never showed: {stdout}"
    );
}

#[test]
fn a_write_is_acknowledged_at_once_and_read_after_the_lag() {
    let dir = scratch("lag");
    let file = dir.join("conditions.toml");
    std::fs::write(&file, "seed = 1\n[lag]\nmin_ms = 400\nmax_ms = 400\n").unwrap();
    let server = ServeProcess::start(&["--no-auth", "--conditions", file.to_str().unwrap()]);
    let base = format!(
        "http://{}/v1.0/users/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/presence",
        server.addr
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let read = || async {
            let body: serde_json::Value = client
                .get(&base)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["availability"].as_str().unwrap().to_owned()
        };
        let write = client
            .post(format!("{base}/setPresence"))
            .header("content-type", "application/json")
            .body(
                r#"{"sessionId":"22222222-2222-4222-8222-222222222222","availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}"#,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(write.status().as_u16(), 200);
        let started = Instant::now();
        assert_eq!(read().await, "Offline", "the write is visible at once");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(read().await, "Busy", "not visible {:?} after", started.elapsed());
    });
}

#[test]
fn on_a_virtual_clock_lag_runs_on_that_clock_and_reset_clears_it_and_the_windows() {
    let dir = scratch("virtual-lag");
    let file = dir.join("conditions.toml");
    std::fs::write(
        &file,
        "seed = 1\n[lag]\nmin_ms = 400\nmax_ms = 400\n[throttle]\nlimit = 6\nwindow = 30\n",
    )
    .unwrap();
    let server = ServeProcess::start(&[
        "--clock",
        "virtual",
        "--no-auth",
        "--conditions",
        file.to_str().unwrap(),
    ]);
    let root = format!("http://{}", server.addr);
    let base = format!("{root}/v1.0/users/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/presence");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let read = || async {
            let response = client.get(&base).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body["availability"].as_str().unwrap_or("-").to_owned())
        };
        let advance = |by: &'static str| {
            client
                .post(format!("{root}/_conformance/clock/advance"))
                .header("content-type", "application/json")
                .body(format!(r#"{{"by":"{by}"}}"#))
                .send()
        };
        let write = client
            .post(format!("{base}/setPresence"))
            .header("content-type", "application/json")
            .body(
                r#"{"sessionId":"22222222-2222-4222-8222-222222222222","availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}"#,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(write.status().as_u16(), 200);
        // Wall time does not end the lag: only the server's clock does.
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        assert_eq!(read().await, (200, "Offline".into()), "visible in wall time");
        assert_eq!(advance("PT0.3S").await.unwrap().status().as_u16(), 200);
        assert_eq!(read().await, (200, "Offline".into()), "visible before 400 ms");
        assert_eq!(advance("PT0.1S").await.unwrap().status().as_u16(), 200);
        assert_eq!(read().await, (200, "Busy".into()), "hidden after 400 ms");
        // That was 4 requests of 6 in the window; a 7th would be throttled. Reset frees it.
        let reset = client
            .post(format!("{root}/_conformance/reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(reset.status().as_u16(), 204);
        for _ in 0..6 {
            assert_eq!(read().await, (200, "Offline".into()), "after reset");
        }
        assert_eq!(read().await.0, 429, "the window counts afresh from the reset");
    });
}

#[test]
fn the_suite_on_a_virtual_clock_under_graph_like_conditions_has_no_failure() {
    let server = ServeProcess::start(&[
        "--clock",
        "virtual",
        "--conditions",
        "targets/conditions/graph-like.toml",
        "--config",
        "targets/local.server.toml",
    ]);
    let dir = scratch("virtual-suite");
    // Reads wait out the lag (up to 2 s of the server's clock) by advancing that clock.
    let profile = std::fs::read_to_string(root().join("targets/local.toml"))
        .unwrap()
        .replace("127.0.0.1:8080", &server.addr);
    let profile_path = dir.join("profile.toml");
    std::fs::write(&profile_path, format!("propagation = \"PT5S\"\n{profile}")).unwrap();
    let output = Command::new(BIN)
        .args(["run", "--snapshots", "off", "--target"])
        .arg(&profile_path)
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("reads repeated until they showed the expected state: "),
        "the lag never showed: {stdout}"
    );
}

/// The once-flaky `session::same_session_replaces_its_state` at x600, made certain: a window of
/// five requests per app lets the clean-up (3) and both setPresence calls through and throttles
/// clearPresence with a Retry-After of about 10 s, 100 minutes of presence time, after which the
/// one-hour session has expired. The retry's 404 belongs to another instant than the case's
/// PT3M: the case is throttled out, never failed.
#[test]
fn a_write_sent_again_too_late_is_throttled_out_not_judged() {
    let dir = scratch("late-write");
    let file = dir.join("conditions.toml");
    std::fs::write(&file, "seed = 14\n[throttle]\nlimit = 5\nwindow = 10\n").unwrap();
    let server = ServeProcess::start(&[
        "--clock",
        "real",
        "--time-scale",
        "600",
        "--conditions",
        file.to_str().unwrap(),
        "--config",
        "targets/local.server.toml",
    ]);
    let profile = std::fs::read_to_string(root().join("targets/local.toml"))
        .unwrap()
        .replace("127.0.0.1:8080", &server.addr)
        .replacen(
            "clock = \"virtual\"",
            "clock = \"real\"\ntime_scale = 600\nconcurrency = 1",
            1,
        );
    let profile_path = dir.join("profile.toml");
    std::fs::write(&profile_path, profile).unwrap();
    let output = Command::new(BIN)
        .args(["run", "--snapshots", "off", "--target"])
        .arg(&profile_path)
        .arg("session::same_session_replaces_its_state")
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("clearPresence answered 429 with Retry-After"),
        "{stdout}"
    );
    assert!(stdout.contains("1 not applicable"), "{stdout}");
    // The one case was not judged: such a run proves nothing.
    assert_eq!(output.status.code(), Some(2), "{stdout}");
}
