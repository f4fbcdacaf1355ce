//! The contract checker on fixtures: valid and invalid messages for every operation and schema,
//! each violation at its JSON pointer; `spec lint` and `spec diff` on broken and drifting
//! documents.

use std::path::Path;
use std::process::Command;

use presence_conformance::contract::{Contract, Direction, HttpMessage, SpecDocument, Strictness};

const BIN: &str = env!("CARGO_BIN_EXE_presence-conformance");
const ID: &str = "a0000000-0000-4000-8000-000000000001";

fn contract(strictness: Strictness) -> &'static Contract {
    Contract::bundled(SpecDocument::V1_0, strictness).unwrap()
}

fn json<'a>(method: &'a str, path: &'a str, body: &'a str) -> HttpMessage<'a> {
    HttpMessage {
        method,
        path,
        content_type: Some("application/json"),
        body: body.as_bytes(),
    }
}

/// The pointers of the violations of a request.
fn request_faults(strictness: Strictness, method: &str, path: &str, body: &str) -> Vec<String> {
    contract(strictness)
        .check_request(&json(method, path, body))
        .into_iter()
        .map(|v| v.pointer)
        .collect()
}

/// The pointers of the violations of a response.
fn response_faults(method: &str, path: &str, status: u16, body: &str) -> Vec<String> {
    let request = json(method, path, "");
    let response = json(method, path, body);
    let found = contract(Strictness::Documented).check_response(&request, status, &response);
    assert!(found.iter().all(|v| v.direction == Direction::Response));
    found.into_iter().map(|v| v.pointer).collect()
}

const PRESENCE: &str = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users('x')/presence/$entity","id":"x","availability":"Available","activity":"Available","statusMessage":{"message":{"content":"Hi","contentType":"text"},"expiryDateTime":{"dateTime":"2026-01-05T17:00:00","timeZone":"Pacific Standard Time"},"publishedDateTime":"2026-01-05T09:00:00.0000000Z"},"outOfOfficeSettings":{"message":null,"isOutOfOffice":false},"sequenceNumber":"A0129311063","workLocation":{"placeId":null,"source":"manual","workLocationType":"office"}}"#;

#[test]
fn every_write_action_on_every_base_accepts_its_documented_body() {
    let bodies = [
        (
            "setPresence",
            r#"{"sessionId":"s","availability":"Available","activity":"Available","expirationDuration":"PT1H"}"#,
        ),
        ("clearPresence", r#"{"sessionId":"s"}"#),
        (
            "setUserPreferredPresence",
            r#"{"availability":"DoNotDisturb","activity":"DoNotDisturb","expirationDuration":"PT8H"}"#,
        ),
        ("clearUserPreferredPresence", "{}"),
        ("clearUserPreferredPresence", ""),
        (
            "setStatusMessage",
            r#"{"statusMessage":{"message":{"content":"In a meeting","contentType":"text"},"expiryDateTime":{"dateTime":"2022-10-18T17:05:33.2079781","timeZone":"Pacific Standard Time"}}}"#,
        ),
        ("setStatusMessage", r#"{"statusMessage":null}"#),
    ];
    for base in [
        format!("/users/{ID}/presence"),
        "/me/presence".into(),
        format!("/communications/presences/{ID}"),
    ] {
        for (action, body) in bodies {
            let path = format!("{base}/{action}");
            assert_eq!(
                request_faults(Strictness::Documented, "POST", &path, body),
                Vec::<String>::new(),
                "{path} {body}"
            );
            // Actions answer any 2xx without a body, and Graph errors otherwise.
            assert_eq!(
                response_faults("POST", &path, 200, ""),
                Vec::<String>::new()
            );
            assert_eq!(
                response_faults("POST", &path, 204, ""),
                Vec::<String>::new()
            );
            let error = r#"{"error":{"code":"InvalidArgument","message":"no","innerError":{"request-id":"r","date":"d"}}}"#;
            assert_eq!(
                response_faults("POST", &path, 400, error),
                Vec::<String>::new()
            );
        }
    }
}

#[test]
fn request_violations_are_reported_at_their_pointer() {
    let sp = format!("/users/{ID}/presence/setPresence");
    let cases = [
        (
            r#"{"sessionId":"s","availability":1,"activity":"Available"}"#,
            vec!["/availability"],
        ),
        (
            r#"{"sessionId":"s","availability":"Available","activity":null}"#,
            vec!["/activity"],
        ),
        (
            r#"{"sessionId":"s","availability":"Busy","activity":"InACall","expirationDuration":"5m"}"#,
            vec!["/expirationDuration"],
        ),
        (
            r#"{"sessionId":["s"],"availability":"Busy","activity":"InACall"}"#,
            vec!["/sessionId"],
        ),
        ("[]", vec![""]),
        ("{not json", vec![""]),
    ];
    for (body, pointers) in cases {
        assert_eq!(
            request_faults(Strictness::Upstream, "POST", &sp, body),
            pointers,
            "{body}"
        );
    }
    let status = format!("/users/{ID}/presence/setStatusMessage");
    let bad_type = r#"{"statusMessage":{"message":{"content":"x","contentType":"markdown"}}}"#;
    assert_eq!(
        request_faults(Strictness::Upstream, "POST", &status, bad_type),
        ["/statusMessage"]
    );
    let location = "/me/presence/setManualLocation";
    assert_eq!(
        request_faults(
            Strictness::Upstream,
            "POST",
            location,
            r#"{"workLocationType":"moon"}"#
        ),
        ["/workLocationType"]
    );
    for (action, body) in [
        (
            "setManualLocation",
            r#"{"workLocationType":"office","placeId":"eb706f15-137e-4722-b4d1-b601481d9251"}"#,
        ),
        ("setAutomaticLocation", r#"{"workLocationType":"remote"}"#),
        ("clearLocation", ""),
        ("clearAutomaticLocation", ""),
    ] {
        let path = format!("/me/presence/{action}");
        assert_eq!(
            request_faults(Strictness::Documented, "POST", &path, body),
            Vec::<String>::new(),
            "{path} {body}"
        );
    }
    let batch = "/communications/getPresencesByUserId";
    assert_eq!(
        request_faults(Strictness::Upstream, "POST", batch, r#"{"ids":[1]}"#),
        ["/ids/0"]
    );
    // A body where none belongs, and none where one is required.
    assert_eq!(
        request_faults(
            Strictness::Upstream,
            "GET",
            &format!("/users/{ID}/presence"),
            "{}"
        ),
        [""]
    );
    assert_eq!(request_faults(Strictness::Upstream, "POST", &sp, ""), [""]);
}

#[test]
fn the_documented_layer_enforces_pairs_ranges_required_and_limits() {
    let sp = format!("/users/{ID}/presence/setPresence");
    let pref = format!("/users/{ID}/presence/setUserPreferredPresence");
    let documented =
        |path: &str, body: &str| request_faults(Strictness::Documented, "POST", path, body);
    let upstream =
        |path: &str, body: &str| request_faults(Strictness::Upstream, "POST", path, body);
    let busy_busy = r#"{"sessionId":"s","availability":"Busy","activity":"Busy"}"#;
    assert_eq!(documented(&sp, busy_busy), [""]);
    assert_eq!(upstream(&sp, busy_busy), Vec::<String>::new());
    let camel = r#"{"sessionId":"s","availability":"busy","activity":"inACall"}"#;
    assert_eq!(
        documented(&sp, camel),
        Vec::<String>::new(),
        "pairs compare case-insensitively"
    );
    for (duration, faults) in [
        ("PT4M59S", 1),
        ("PT5M", 0),
        ("PT4H", 0),
        ("PT4H0M1S", 1),
        ("P1D", 1),
    ] {
        let body = format!(
            r#"{{"sessionId":"s","availability":"Away","activity":"Away","expirationDuration":"{duration}"}}"#
        );
        assert_eq!(documented(&sp, &body).len(), faults, "{duration}");
    }
    assert_eq!(
        documented(&sp, r#"{"availability":"Away","activity":"Away"}"#),
        ["/sessionId"]
    );
    assert_eq!(
        documented(&pref, r#"{"availability":"Busy","activity":"InACall"}"#),
        [""]
    );
    assert_eq!(
        documented(
            &pref,
            r#"{"availability":"Offline","activity":"OffWork","expirationDuration":"P30D"}"#
        ),
        Vec::<String>::new()
    );
    let ids = |n: usize| format!(r#"{{"ids":[{}]}}"#, vec![format!("\"{ID}\""); n].join(","));
    assert_eq!(
        documented("/communications/getPresencesByUserId", &ids(650)),
        Vec::<String>::new()
    );
    assert_eq!(
        documented("/communications/getPresencesByUserId", &ids(651)),
        ["/ids"]
    );
}

#[test]
fn responses_are_checked_against_status_content_type_and_schema() {
    let get = format!("/users/{ID}/presence");
    assert_eq!(
        response_faults("GET", &get, 200, PRESENCE),
        Vec::<String>::new()
    );
    assert_eq!(
        response_faults(
            "GET",
            &get,
            200,
            r#"{"id":"x","availability":null,"statusMessage":null}"#
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        response_faults("GET", &get, 200, r#"{"id":"x","availability":7}"#),
        ["/availability"]
    );
    assert_eq!(
        response_faults(
            "GET",
            &get,
            200,
            r#"{"id":"x","outOfOfficeSettings":{"isOutOfOffice":"no"}}"#
        ),
        ["/outOfOfficeSettings"]
    );
    assert_eq!(
        response_faults(
            "GET",
            &get,
            200,
            r#"{"id":"x","statusMessage":{"publishedDateTime":"yesterday"}}"#
        ),
        ["/statusMessage"]
    );
    assert_eq!(
        response_faults("GET", &get, 200, ""),
        [""],
        "a GET must have a body"
    );
    assert_eq!(response_faults("GET", &get, 200, "not json"), [""]);
    assert_eq!(
        response_faults("GET", &get, 302, PRESENCE),
        [""],
        "302 is not declared"
    );
    let error_without_code = r#"{"error":{"message":"no"}}"#;
    assert_eq!(
        response_faults("GET", &get, 404, error_without_code),
        ["/error"]
    );
    assert_eq!(
        response_faults("GET", &get, 500, r#"{"error":{"code":"x","message":"y"}}"#),
        Vec::<String>::new()
    );
    let batch = "/communications/getPresencesByUserId";
    let collection =
        format!(r#"{{"value":[{PRESENCE},{{"id":"y","availability":"Away","activity":"Away"}}]}}"#);
    assert_eq!(
        response_faults("POST", batch, 200, &collection),
        Vec::<String>::new()
    );
    assert_eq!(
        response_faults("POST", batch, 200, r#"{"value":[{"id":1}]}"#),
        ["/value/0/id"]
    );
    // A wrong content type is a fault of the whole body.
    let request = json("GET", &get, "");
    let text = HttpMessage {
        content_type: Some("text/plain"),
        ..json("GET", &get, PRESENCE)
    };
    let found = contract(Strictness::Upstream).check_response(&request, 200, &text);
    assert_eq!(found.len(), 1);
    assert!(found[0].expected.contains("application/json"), "{found:?}");
}

#[test]
fn unknown_paths_and_methods_are_violations_and_their_errors_still_checked() {
    let faults =
        contract(Strictness::Upstream).check_request(&json("GET", "/users/x/mailboxSettings", ""));
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].expected, "a path the spec declares");
    let faults = contract(Strictness::Upstream).check_request(&json(
        "DELETE",
        &format!("/users/{ID}/presence"),
        "",
    ));
    assert_eq!(faults[0].expected, "one of the methods GET");
    assert_eq!(
        response_faults("GET", "/users/x/mailboxSettings", 404, r#"{"oops":true}"#),
        [""]
    );
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn scratch(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("pc-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn lint_passes_our_documents_and_catches_a_dangling_ref_and_a_bad_example() {
    let (code, out) = run(&["spec", "lint"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.matches(": ok").count(), 3, "{out}");
    let ours = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/graph-presence.v1.0.openapi.yaml"),
    )
    .unwrap();
    let dangling = scratch(
        "dangling.yaml",
        &ours.replace(
            "'#/components/schemas/microsoft.graph.itemBody'",
            "'#/components/schemas/microsoft.graph.nothing'",
        ),
    );
    let (code, out) = run(&["spec", "lint", &dangling]);
    assert_eq!(code, Some(1));
    assert!(out.contains("points nowhere"), "{out}");
    let bad_example = scratch(
        "example.yaml",
        &ours.replacen("sequenceNumber: A0129311063", "sequenceNumber: 12", 1),
    );
    let (code, out) = run(&["spec", "lint", &bad_example]);
    assert_eq!(code, Some(1));
    assert!(out.contains("/example/sequenceNumber"), "{out}");
}

#[test]
fn diff_reports_drift_against_an_upstream_document_and_exits_1() {
    let upstream = "tests/data/upstream/graph-v1.0-excerpt.openapi.yaml";
    let (code, out) = run(&[
        "spec",
        "diff",
        "spec/graph-presence.v1.0.openapi.yaml",
        upstream,
    ]);
    assert_eq!(code, Some(1));
    // Upstream answers 204 where we declare 2XX, and has no body for clearUserPreferredPresence.
    assert!(
        out.contains("+ POST /communications/presences/{presence-id}/setPresence: status 204"),
        "{out}"
    );
    assert!(
        out.contains("- POST /communications/presences/{presence-id}/setPresence: status 2XX"),
        "{out}"
    );
    assert!(out.contains("~ POST /communications/presences/{presence-id}/clearUserPreferredPresence: request body removed"), "{out}");
    // We have operations and properties the older upstream slice lacks.
    assert!(
        out.contains("- POST /me/presence/setPresence: operation me.presence.setPresence"),
        "{out}"
    );
    assert!(
        out.contains("- schema microsoft.graph.presence: property sequenceNumber"),
        "{out}"
    );
    let (code, out) = run(&[
        "spec",
        "diff",
        "spec/graph-presence.v1.0.openapi.yaml",
        upstream,
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    let changes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "added" && c["detail"] == "status 204")
    );
    let (code, out) = run(&[
        "spec",
        "diff",
        "spec/graph-presence.v1.0.openapi.yaml",
        "spec/graph-presence.v1.0.openapi.yaml",
    ]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn validate_checks_one_message_by_hand() {
    let body = scratch(
        "body.json",
        r#"{"sessionId":"s","availability":"Busy","activity":"Busy"}"#,
    );
    let (code, out) = run(&[
        "validate",
        "--operation",
        "users.user.presence.setPresence",
        "--request",
        &body,
    ]);
    assert_eq!(code, Some(1));
    assert!(out.contains("expected a documented pair"), "{out}");
    let (code, _) = run(&[
        "validate",
        "--operation",
        "users.user.presence.setPresence",
        "--request",
        "--strictness",
        "upstream",
        &body,
    ]);
    assert_eq!(code, Some(0));
    let presence = scratch("presence.json", PRESENCE);
    let (code, out) = run(&[
        "validate",
        "--operation",
        "users.GetPresence",
        "--response",
        "200",
        &presence,
    ]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn lint_and_validate_use_the_embedded_spec_outside_a_checkout() {
    let dir = std::env::temp_dir().join(format!("pc-spec-embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let in_dir = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), format!("{stdout}{stderr}"))
    };
    let (code, out) = in_dir(&["spec", "lint"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("spec/graph-presence.v1.0.openapi.yaml (embedded): ok\n"),
        "{out}"
    );
    assert_eq!(out.matches("(embedded): ok").count(), 3, "{out}");
    std::fs::write(
        dir.join("body.json"),
        format!(
            r#"{{"sessionId":"{ID}","availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}}"#
        ),
    )
    .unwrap();
    for version in ["v1.0", "beta"] {
        let (code, out) = in_dir(&[
            "validate",
            "--version",
            version,
            "--operation",
            "users.user.presence.setPresence",
            "--request",
            "body.json",
        ]);
        assert_eq!(code, Some(0), "{version}: {out}");
        assert!(out.ends_with("0 violations\n"), "{version}: {out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
