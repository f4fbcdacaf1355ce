//! The case format itself: the committed JSON Schema is current, every case file validates
//! against it, and malformed files give precise, located errors (fixtures in
//! `tests/data/invalid-cases/`, each with the expected report in a `.err` file beside it).

use std::path::Path;

use presence_conformance::case::{json_schema, load_file};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schema_is_current() {
    let path = root().join("spec/case.schema.json");
    let generated = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "spec/case.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test --test it case_format`"
    );
}

#[test]
fn every_case_file_loads_and_validates_against_the_schema() {
    let schema = json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let cases = root().join("cases");
    let files = presence_conformance::case::discover(&cases).unwrap();
    assert!(!files.is_empty());
    for file in files {
        if let Err(e) = load_file(&cases, &file) {
            panic!("{}", e.render());
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

#[test]
fn malformed_cases_report_file_line_and_reason() {
    let dir = root().join("tests/data/invalid-cases");
    let mut checked = 0;
    for file in presence_conformance::case::discover(&dir).unwrap() {
        let expected_path = file.with_extension("err");
        let relative = file.strip_prefix(root()).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let error = presence_conformance::case::load_str("invalid", relative, &text)
            .expect_err(&format!("{} should not load", file.display()));
        let rendered = error.render() + "\n";
        if std::env::var_os("UPDATE_ERRORS").is_some() {
            std::fs::write(&expected_path, &rendered).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        assert_eq!(rendered, expected, "{}", file.display());
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} invalid-case fixtures");
}

#[test]
fn every_request_a_case_sends_is_valid_or_marked_invalid_on_purpose() {
    use presence_conformance::contract::{Contract, SpecDocument, Strictness};
    let cases = root().join("cases");
    let mut problems = Vec::new();
    for file in presence_conformance::case::discover(&cases).unwrap() {
        let case = load_file(&cases, &file).unwrap();
        for profile in &case.profiles {
            let contract =
                Contract::bundled(SpecDocument::from(*profile), Strictness::Documented).unwrap();
            problems.extend(presence_conformance::case::lint::lint_requests(
                &case, contract,
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lint_flags_an_unmarked_invalid_request_and_a_needless_marker() {
    use presence_conformance::contract::{Contract, SpecDocument, Strictness};
    let text = r#"
title: Two wrong markers
users: [alice]
rules: [setPresence.pairs]
apps: { teams: {} }
steps:
  - at: PT0S
    setPresence: { user: alice, availability: Busy, activity: Busy }
    expect: { status: 400 }
  - at: PT0S
    setPresence: { user: alice, availability: Busy, activity: InACall }
    contract: invalid-request
"#;
    let case = presence_conformance::case::load_str("x", Path::new("x.yaml"), text).unwrap();
    let contract = Contract::bundled(SpecDocument::V1_0, Strictness::Documented).unwrap();
    let problems = presence_conformance::case::lint::lint_requests(&case, contract);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("x.yaml:7: the request breaks the contract"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("x.yaml:10: the step says `contract: invalid-request`"),
        "{problems:?}"
    );
}

#[test]
fn a_malformed_case_fails_its_own_trial_and_the_others_still_run() {
    let dir = std::env::temp_dir().join(format!("pc-malformed-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("mixed")).unwrap();
    std::fs::copy(
        root().join("cases/aggregation/busy_outranks_available.yaml"),
        dir.join("mixed/good.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/data/invalid-cases/unknown_actor.yaml"),
        dir.join("mixed/broken.yaml"),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_presence-conformance"))
        .args(["run", "--quiet", "--cases"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED [reference] mixed::broken"),
        "{stdout}"
    );
    assert!(stdout.contains("error: unknown user 'alise'"), "{stdout}");
    assert!(stdout.contains("mixed/broken.yaml:6:22"), "{stdout}");
    // The broken file fails on each of the three reference targets; the good one runs.
    assert!(
        stdout.contains("2 passed, 3 failed, 0 deviate, 1 not applicable, 0 known failures"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
