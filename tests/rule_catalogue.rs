//! The rule catalogue and the cases agree: every case names rules that exist (the loader checks
//! that), and every documented or observed rule is checked by at least one case or says why no
//! case can check it. And a rule is exactly as strong as its evidence: a documented or observed
//! rule states a status code only where one of its quotes shows it.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

#[test]
fn every_documented_and_observed_rule_has_a_case() {
    use presence_conformance::catalogue::Catalogue;
    let cases = presence_conformance::suite::load_cases(&root().join("cases")).unwrap();
    let loaded: Vec<_> = cases.iter().filter_map(|c| c.case.as_ref().ok()).collect();
    assert_eq!(loaded.len(), cases.len(), "every case loads");
    let uncovered: Vec<&str> = Catalogue::bundled()
        .coverage(loaded)
        .into_iter()
        .filter(|(rule, covering)| {
            rule.level.fails_by_default() && covering.is_empty() && rule.untestable.is_none()
        })
        .map(|(rule, _)| rule.id.as_str())
        .collect();
    assert_eq!(
        uncovered,
        Vec::<&str>::new(),
        "documented or observed rules no case checks"
    );
}

#[test]
fn every_rule_a_case_names_applies_to_every_profile_it_runs_on() {
    use presence_conformance::catalogue::Catalogue;
    let cases = presence_conformance::suite::load_cases(&root().join("cases")).unwrap();
    let catalogue = Catalogue::bundled();
    let mut mismatched = Vec::new();
    for case in cases.iter().filter_map(|c| c.case.as_ref().ok()) {
        let step_rules = case.steps.iter().flat_map(|s| {
            [
                &s.rules.general.id,
                &s.rules.status.id,
                &s.rules.error_code.id,
                &s.rules.sequence_number.id,
            ]
        });
        for id in case.rules.iter().chain(step_rules) {
            let rule = catalogue.get(id).unwrap();
            for profile in &case.profiles {
                if !rule.applies_to(*profile) {
                    mismatched.push(format!("{}: {id} on {profile}", case.name));
                }
            }
        }
    }
    mismatched.sort();
    mismatched.dedup();
    assert_eq!(mismatched, Vec::<String>::new());
}

/// The HTTP status codes (100..=599) a text names: three digits standing alone, so that
/// `PT240M` or `650 ids` are not taken for one.
fn status_codes(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut codes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            i += 1;
            continue;
        }
        let alone = |b: Option<&u8>| b.is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b',');
        let before = start.checked_sub(1).and_then(|j| bytes.get(j));
        if i - start == 3
            && alone(before)
            && alone(bytes.get(i))
            && (b'1'..=b'5').contains(&bytes[start])
        {
            codes.push(&text[start..i]);
        }
    }
    codes
}

#[test]
fn status_codes_are_found_standing_alone() {
    assert_eq!(status_codes("gets 400 (not 404)"), ["400", "404"]);
    assert_eq!(
        status_codes("PT240M, 650 ids, 1,500 per 30 s, 4041"),
        Vec::<&str>::new()
    );
}

#[test]
fn every_status_code_a_documented_or_observed_rule_states_is_in_one_of_its_quotes() {
    use presence_conformance::catalogue::Catalogue;
    let mut overstated = Vec::new();
    for rule in Catalogue::bundled().rules() {
        if !rule.level.fails_by_default() {
            continue;
        }
        for code in status_codes(&rule.statement) {
            if !rule.quotes().any(|q| status_codes(q).contains(&code)) {
                overstated.push(format!("{}: {code}", rule.id));
            }
        }
    }
    assert_eq!(
        overstated,
        Vec::<String>::new(),
        "status codes no quote of the rule shows: quote a source that shows each, or move the code to an `ours` rule"
    );
}
