//! The conformance suite as `cargo test`: one libtest-mimic trial per case file and target.
//!
//! `cargo test --test conformance timeout` filters by name, `-- --list` lists, and
//! `cargo nextest run --test conformance --partition count:1/2` splits the suite. Observed
//! timelines are insta snapshots under `snapshots/<target>/`, compared and written by the same
//! module as `presence-conformance run --snapshots` (`suite::snapshot`). Each trial has two
//! results: its verdict, and the regression state of its timeline. A changed snapshot fails with
//! a diff (and, outside CI, a `.snap.new` for `cargo insta review`); a missing one is "new" and
//! does not fail unless `PRESENCE_SNAPSHOTS=require` (`off` skips them; `update`, or
//! `INSTA_UPDATE=always`, records them).

use std::path::Path;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use presence_conformance::suite::snapshot::{
    Regression, RegressionResult, SnapshotMode, check_run,
};
use presence_conformance::suite::{
    Judging, SuiteCase, SuiteTarget, Verdict, contract_for, load_cases, run_trial, select_targets,
    skip_reason,
};

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = match load_cases(&root.join("cases")) {
        Ok(cases) => Arc::new(cases),
        Err(e) => {
            eprintln!("error: cannot read cases/: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let targets = match select_targets(&[]) {
        Ok(targets) => targets,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut trials = Vec::new();
    for target in targets {
        for index in 0..cases.len() {
            trials.push(trial(root, &cases, index, target.clone()));
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

fn trial(root: &Path, cases: &Arc<Vec<SuiteCase>>, index: usize, target: SuiteTarget) -> Trial {
    let entry = &cases[index];
    let kind = target.target.name().to_owned();
    let ignored = match &entry.case {
        Ok(case) => skip_reason(case, target.target.as_ref()).is_some(),
        Err(_) => false,
    };
    // `snapshots/<name>` under the package root (the current directory under `cargo test`),
    // or the directory the target file names.
    let snapshots = root.join(&target.snapshots);
    let cases = cases.clone();
    Trial::test(entry.name.clone(), move || {
        let entry = &cases[index];
        let contract = contract_for(target.target.as_ref())
            .map_err(|e| format!("the bundled contract does not load: {e}"))?;
        let outcome = run_trial(entry, &target, Some(contract), judging());
        // Two results: the conformance verdict, then the regression state of what was observed.
        let regression = match (&entry.case, &outcome.run) {
            (Ok(case), Some(run)) => {
                check_run(&snapshots, case, run, snapshot_mode()?, "tests/conformance.rs")
            }
            _ => RegressionResult::off(),
        };
        let regressed = regression_report(&regression);
        match &outcome.verdict {
            Verdict::Failed(report) => return Err(format!("{report}{regressed}").into()),
            Verdict::NotApplicable(reason) => {
                return Err(format!("not applicable: {reason}").into());
            }
            Verdict::NotRun(reason) => return Err(format!("not run: {reason}").into()),
            // A third-party target that differs only from our own choices.
            Verdict::Deviates(report) => {
                eprintln!("deviates (not a failure; PRESENCE_STRICT=1 fails it):\n{report}")
            }
            Verdict::Passed | Verdict::KnownFailure(_) => {}
        }
        if !regressed.is_empty() {
            return Err(regressed.into());
        }
        if regression.state == Regression::New {
            eprintln!(
                "regression state new: no snapshot in {} yet (PRESENCE_SNAPSHOTS=update records it)",
                snapshots.display()
            );
        }
        Ok(())
    })
    .with_kind(kind)
    .with_ignored_flag(ignored)
}

/// As `run`: deviations from our own choices do not fail a third-party target unless
/// `PRESENCE_STRICT=1` (`run --strict`); the reference server is always judged strictly.
fn judging() -> Judging {
    match std::env::var("PRESENCE_STRICT").as_deref() {
        Ok("1" | "true") => Judging::Strict,
        _ => Judging::Default,
    }
}

/// `PRESENCE_SNAPSHOTS` (compare, require, update, off), as `run --snapshots`;
/// `INSTA_UPDATE=always` records snapshots too, as insta's own variable does.
fn snapshot_mode() -> Result<SnapshotMode, Failed> {
    if std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always") {
        return Ok(SnapshotMode::Update);
    }
    std::env::var("PRESENCE_SNAPSHOTS")
        .unwrap_or_default()
        .parse()
        .map_err(|e| Failed::from(format!("PRESENCE_SNAPSHOTS: {e}")))
}

/// The regression that fails the trial, with its diff; empty when none does.
fn regression_report(regression: &RegressionResult) -> String {
    let Some(failure) = &regression.failure else {
        return String::new();
    };
    let diff = match &regression.state {
        Regression::Changed(diff) => diff.as_str(),
        _ => "",
    };
    let pending = regression
        .written
        .as_ref()
        .map(|p| format!("\npending review: {}", p.display()))
        .unwrap_or_default();
    format!(
        "\nregression: {}: {failure}{pending}\n{diff}",
        regression.state.label()
    )
}
