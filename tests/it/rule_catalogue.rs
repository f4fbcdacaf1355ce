//! The rule catalogue and the cases agree: every case names rules that exist (the loader checks
//! that), and every documented or observed rule is checked by at least one case.

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
        .filter(|(rule, covering)| rule.level.fails_by_default() && covering.is_empty())
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
