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
/// `PT240M`, `650 ids` or `1,500 requests` are not taken for one (a comma between digits joins
/// them; "400, and" still names 400).
fn status_codes(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    // Part of a number: a digit, or a comma between two digits.
    let in_number = |i: usize| {
        digit(i) || (bytes.get(i) == Some(&b',') && i > 0 && digit(i - 1) && digit(i + 1))
    };
    let mut codes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !digit(i) {
            i += 1;
            continue;
        }
        let start = i;
        while in_number(i) {
            i += 1;
        }
        let letter = |j: Option<usize>| {
            j.and_then(|j| bytes.get(j))
                .is_some_and(u8::is_ascii_alphabetic)
        };
        let joined =
            (start > 0 && in_number(start - 1)) || letter(start.checked_sub(1)) || letter(Some(i));
        if i - start == 3 && !joined && (b'1'..=b'5').contains(&bytes[start]) {
            codes.push(&text[start..i]);
        }
    }
    codes
}

#[test]
fn status_codes_are_found_standing_alone() {
    assert_eq!(status_codes("gets 400 (not 404)"), ["400", "404"]);
    assert_eq!(status_codes("refused with 400, changing nothing"), ["400"]);
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
