//! The suite catches a wrong implementation: the embedded reference server, built with rules
//! that differ from Graph's in one way each, must fail cases that the right server passes.
//! The wrong servers exist only here, through `Semantics`; production code never builds one.

use std::path::Path;
use std::sync::Arc;

use jiff::SignedDuration;
use presence_conformance::model::{Availability, Profile, Semantics};
use presence_conformance::notifications::Faults;
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

/// The notification cases that fail on a reference server whose notifications are wrong in the
/// ways `faults` says.
fn failing_notification_cases(faults: Faults) -> Vec<String> {
    let cases = load_cases(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")).unwrap();
    let target = SuiteTarget::new(Arc::new(EmbeddedTarget::with_notification_faults(
        Profile::V1_0,
        "wrong",
        faults,
    )));
    cases
        .iter()
        .filter(|case| case.name.starts_with("notifications::"))
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
fn right_notifications_fail_nothing() {
    assert_eq!(
        failing_notification_cases(Faults::default()),
        Vec::<String>::new()
    );
}

/// A server with `faults` fails each of `cases` (notification cases by their file names).
fn assert_caught(faults: Faults, cases: &[&str]) {
    let failing = failing_notification_cases(faults);
    for case in cases {
        assert!(
            failing.contains(&format!("notifications::{case}")),
            "{case} passes on a server with {faults:?}; failing: {failing:?}"
        );
    }
}

#[test]
fn a_missing_fade_notification_is_caught() {
    let no_fade = Faults {
        no_fade: true,
        ..Faults::default()
    };
    assert_caught(no_fade, &["the_fade_is_notified"]);
}

#[test]
fn notifications_after_expiry_are_caught() {
    let after_expiry = Faults {
        after_expiry: true,
        ..Faults::default()
    };
    assert_caught(after_expiry, &["an_expired_subscription_sends_nothing"]);
}

#[test]
fn a_client_state_not_echoed_is_caught() {
    let no_client_state = Faults {
        no_client_state: true,
        ..Faults::default()
    };
    assert_caught(no_client_state, &["the_client_state_is_echoed"]);
}

#[test]
fn a_server_that_does_not_validate_is_caught() {
    let no_validation = Faults {
        no_validation: true,
        ..Faults::default()
    };
    assert_caught(
        no_validation,
        &["a_notification_url_that_fails_validation_is_400"],
    );
}

#[test]
fn sixty_one_minutes_accepted_is_caught() {
    let long_expiry = Faults {
        long_expiry: true,
        ..Faults::default()
    };
    assert_caught(
        long_expiry,
        &[
            "a_subscription_past_an_hour_is_refused",
            "a_renewal_past_an_hour_is_refused",
        ],
    );
}
