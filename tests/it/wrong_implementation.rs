//! The suite catches a wrong implementation: the embedded reference server, built with rules
//! that differ from Graph's in one way each, must fail cases that the right server passes.
//! The wrong servers exist only here, through `Semantics`; production code never builds one.

use std::path::Path;
use std::sync::Arc;

use jiff::SignedDuration;
use presence_conformance::model::{Availability, Profile, Semantics};
use presence_conformance::suite::{Judging, SuiteTarget, Verdict, load_cases, run_trial};
use presence_conformance::targets::EmbeddedTarget;

/// The names of the cases that fail on a reference server following `rules`.
fn failing_cases(rules: Semantics) -> Vec<String> {
    let cases = load_cases(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")).unwrap();
    let target = SuiteTarget::new(Arc::new(EmbeddedTarget::with_semantics(
        Profile::V1_0,
        "wrong",
        rules,
    )));
    cases
        .iter()
        .filter(|case| {
            matches!(
                run_trial(case, &target, None, Judging::Default).verdict,
                Verdict::Failed(_)
            )
        })
        .map(|case| case.name.clone())
        .collect()
}

#[test]
fn the_right_server_fails_nothing() {
    assert_eq!(failing_cases(Semantics::GRAPH), Vec::<String>::new());
}

#[test]
fn a_fade_one_minute_late_is_caught() {
    let late = Semantics {
        fade_to_inactive: SignedDuration::from_mins(6),
        ..Semantics::GRAPH
    };
    let failing = failing_cases(late);
    assert!(
        failing.contains(&"timeout::available_fades_to_away".to_owned()),
        "{failing:?}"
    );
}

#[test]
fn a_second_stage_one_minute_early_is_caught() {
    let early = Semantics {
        fade_to_away: SignedDuration::from_mins(9),
        ..Semantics::GRAPH
    };
    assert!(failing_cases(early).contains(&"timeout::available_fades_to_away".to_owned()));
}

#[test]
fn available_outranking_busy_is_caught() {
    use Availability::*;
    let swapped = Semantics {
        precedence: [DoNotDisturb, Available, Busy, Away],
        ..Semantics::GRAPH
    };
    let failing = failing_cases(swapped);
    assert!(
        failing.contains(&"aggregation::busy_outranks_available".to_owned()),
        "{failing:?}"
    );
}

#[test]
fn busy_outranking_do_not_disturb_is_caught() {
    use Availability::*;
    let swapped = Semantics {
        precedence: [Busy, DoNotDisturb, Available, Away],
        ..Semantics::GRAPH
    };
    assert!(
        !failing_cases(swapped).is_empty(),
        "no case pins DoNotDisturb over Busy"
    );
}
