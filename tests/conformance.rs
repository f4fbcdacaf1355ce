//! The conformance suite as `cargo test`: one libtest-mimic trial per case file and target.
//!
//! `cargo test --test conformance timeout` filters by name, `-- --list` lists, and
//! `cargo nextest run --test conformance --partition count:1/2` splits the suite. Observed
//! timelines are insta snapshots under `snapshots/<target>/`; review changes with
//! `cargo insta review`. Each trial has two results: its verdict, and the regression state of
//! its timeline: a changed snapshot fails; a missing one is "new" and does not fail unless
//! `PRESENCE_SNAPSHOTS=require` (`off` skips them; `INSTA_UPDATE=always` records them).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};
use presence_conformance::runner::CaseRun;
use presence_conformance::suite::{
    Judging, SuiteCase, SuiteTarget, Verdict, contract_for, load_cases, run_trial, select_targets,
    skip_reason,
};

/// insta prints diffs straight to stdout; one at a time keeps them readable.
static SNAPSHOT_LOCK: Mutex<()> = Mutex::new(());

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
    let snapshots = root.join("snapshots").join(target.target.name());
    let cases = cases.clone();
    Trial::test(entry.name.clone(), move || {
        let entry = &cases[index];
        let contract = contract_for(target.target.as_ref())
            .map_err(|e| format!("the bundled contract does not load: {e}"))?;
        let outcome = run_trial(entry, &target, Some(contract), judging());
        // Two results: the conformance verdict, then the regression state of what was observed.
        match &outcome.verdict {
            Verdict::Failed(report) => return Err(report.into()),
            Verdict::NotApplicable(reason) => {
                return Err(format!("not applicable: {reason}").into());
            }
            // A third-party target that differs only from our own choices.
            Verdict::Deviates(report) => {
                eprintln!("deviates (not a failure; PRESENCE_STRICT=1 fails it):\n{report}")
            }
            Verdict::Passed | Verdict::KnownFailure(_) => {}
        }
        match (&outcome.verdict, &entry.case, &outcome.run) {
            (Verdict::Passed | Verdict::Deviates(_), Ok(case), Some(run)) => {
                check_snapshot(&snapshots, &entry.path, case, run)
            }
            _ => Ok(()),
        }
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

fn check_snapshot(
    dir: &PathBuf,
    path: &Path,
    case: &presence_conformance::case::Case,
    run: &CaseRun,
) -> Result<(), Failed> {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(path);
    settings.set_description(case.title.clone());
    let name = case.name.replace("::", "__");
    let mode = std::env::var("PRESENCE_SNAPSHOTS").unwrap_or_default();
    let writing = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always" || v == "new");
    if mode == "off" {
        return Ok(());
    }
    if !dir.join(format!("{name}.snap")).exists() && !writing {
        // A target's first run has no baseline yet: that is "new", not a regression.
        if mode == "require" {
            return Err(format!(
                "no snapshot {}/{name}.snap (PRESENCE_SNAPSHOTS=require); record the baseline with INSTA_UPDATE=always",
                dir.display()
            )
            .into());
        }
        eprintln!(
            "regression state new: no snapshot {}/{name}.snap yet (INSTA_UPDATE=always records it)",
            dir.display()
        );
        return Ok(());
    }
    let _serial = SNAPSHOT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_yaml_snapshot!(name.as_str(), &run.timeline));
    }))
    .map_err(|_| {
        Failed::from(format!(
            "the observed timeline of {} on {} differs from snapshots/{}/{name}.snap; review it with `cargo insta review`",
            case.path.display(),
            run.timeline.target,
            run.timeline.target,
        ))
    })
}
