//! Generated timelines: the reference server agrees with the pure model, and a deliberately wrong
//! server is caught, shrunk to a handful of steps, and written as a case that fails on the wrong
//! server and passes on the right one.

use std::path::Path;

use jiff::SignedDuration;
use presence_conformance::case::load_file;
use presence_conformance::explore::{explore, step_count, write_case};
use presence_conformance::model::{Availability, Profile, Semantics};
use presence_conformance::runner::run_case;
use presence_conformance::targets::{EmbeddedTarget, Target};

fn passes(path: &Path, target: &dyn Target) -> bool {
    let case = load_file(path.parent().unwrap(), path).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run_case(&case, target, None)).passed()
}

#[test]
fn the_reference_server_agrees_with_the_model_on_generated_timelines() {
    let found = explore(&EmbeddedTarget::new(Profile::V1_0), 200, 7);
    assert!(found.difference.is_none(), "{:?}", found.difference);
}

fn caught_and_shrunk(name: &str, wrong: Semantics) {
    let target = EmbeddedTarget::with_semantics(Profile::V1_0, name, wrong);
    let found = explore(&target, 500, 3);
    let (text, report) = found
        .difference
        .unwrap_or_else(|| panic!("{name}: no difference in 500 timelines"));
    // The closing observations of both users count as steps.
    assert!(
        step_count(&text) <= 8,
        "{name}: not shrunk enough ({} steps):\n{text}\n{report}",
        step_count(&text)
    );
    eprintln!("{name}: shrunk to {} steps:\n{text}", step_count(&text));
    let dir = std::env::temp_dir().join(format!("pc-explore-{}-{name}", std::process::id()));
    let path = write_case(&dir, name, 3, &text).unwrap();
    assert!(
        !passes(&path, &target),
        "{name}: the written case passes on the wrong server:\n{text}"
    );
    assert!(
        passes(&path, &EmbeddedTarget::new(Profile::V1_0)),
        "{name}: the written case fails on the right server:\n{text}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_fade_one_minute_late_is_found_and_shrunk() {
    let late = Semantics {
        fade_to_inactive: SignedDuration::from_mins(6),
        ..Semantics::GRAPH
    };
    caught_and_shrunk("late-fade", late);
}

#[test]
fn busy_over_do_not_disturb_is_found_and_shrunk() {
    use Availability::*;
    let swapped = Semantics {
        precedence: [Busy, DoNotDisturb, Available, Away],
        ..Semantics::GRAPH
    };
    caught_and_shrunk("swapped-precedence", swapped);
}
