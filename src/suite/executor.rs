//! Running a whole suite outside `cargo test` (the `run` command): every selected case on every
//! target, `repeat` times, trials in parallel with a progress bar.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::SignedDuration;

use super::snapshot::{RegressionResult, SnapshotMode};
use super::{Judging, SuiteCase, SuiteTarget, Verdict, contract_for, run_trial_until};
use crate::case::Case;
use crate::runner::CaseRun;

/// The writer named in the header of the snapshots `run` writes.
const SOURCE: &str = "presence-conformance run";

/// How to run a suite.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Only cases whose name contains this.
    pub filter: Option<String>,
    /// Trials at once.
    pub jobs: usize,
    pub judging: Judging,
    pub progress: bool,
    /// Runs of each case on each target (a flake check when more than one).
    pub repeat: u32,
    /// Regression snapshots (`run` compares by default; the library default is off).
    pub snapshots: SnapshotMode,
    /// Stops the run early: set by Ctrl-C, or by a target that stops answering.
    pub stop: Arc<super::stop::Stop>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            filter: None,
            jobs: 2,
            judging: Judging::Default,
            progress: false,
            repeat: 1,
            snapshots: SnapshotMode::Off,
            stop: Arc::default(),
        }
    }
}

#[derive(Debug)]
pub struct TrialResult {
    pub case: String,
    pub target: String,
    pub verdict: Verdict,
    pub contract_violations: usize,
    pub simulated: SignedDuration,
    pub wall: Duration,
    /// Which run of the case this is (from 1; several with `--repeat`).
    pub repetition: u32,
    /// The run (timeline and failures), if the case ran.
    pub run: Option<CaseRun>,
    /// The case, if its file loaded.
    pub loaded: Option<Case>,
    /// The regression state of its observed timeline against the target's snapshot.
    pub regression: RegressionResult,
}

/// Everything a suite run produced.
#[derive(Debug)]
pub struct SuiteReport {
    pub trials: Vec<TrialResult>,
    pub wall: Duration,
    /// Why the run stopped before every trial ran, if it did (those trials are "not run").
    pub stopped: Option<String>,
}

/// The cases `filter` selects, by index.
pub fn selected(cases: &[SuiteCase], filter: Option<&str>) -> Vec<usize> {
    (0..cases.len())
        .filter(|&i| filter.is_none_or(|f| cases[i].name.contains(f)))
        .collect()
}

/// Runs every selected case on every target, `repeat` times, `jobs` at a time.
pub fn run_suite(
    cases: &[SuiteCase],
    targets: &[SuiteTarget],
    options: &RunOptions,
) -> SuiteReport {
    let started = Instant::now();
    let mut queue: Vec<(usize, &SuiteTarget, u32)> = Vec::new();
    for target in targets {
        for i in selected(cases, options.filter.as_deref()) {
            for repetition in 1..=options.repeat.max(1) {
                queue.push((i, target, repetition));
            }
        }
    }
    let (jobs, progress) = (options.jobs, options.progress);
    let bar = if progress {
        indicatif::ProgressBar::new(queue.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    queue.reverse();
    let queue = Mutex::new(queue);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some((index, target, repetition)) = next else {
                        break;
                    };
                    let result = match options.stop.cause() {
                        Some(cause) => not_run(
                            &cases[index],
                            target,
                            repetition,
                            format!("the run stopped: {cause}"),
                        ),
                        None => trial(&cases[index], target, options, repetition),
                    };
                    if options.stop.cause().is_some() {
                        bar.set_message("stopping");
                    }
                    bar.set_message(result.case.clone());
                    bar.inc(1);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(result);
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut trials = results.into_inner().unwrap_or_else(|e| e.into_inner());
    // Targets in the order given, then cases by name, then repetitions.
    let order = |name: &str| targets.iter().position(|t| t.target.name() == name);
    trials.sort_by(|a, b| {
        (order(&a.target), &a.case, a.repetition).cmp(&(order(&b.target), &b.case, b.repetition))
    });
    SuiteReport {
        trials,
        wall: started.elapsed(),
        stopped: options.stop.cause().map(str::to_owned),
    }
}

/// A trial the run did not get to (or whose target did not answer), once it stopped.
fn not_run(
    entry: &SuiteCase,
    target: &SuiteTarget,
    repetition: u32,
    reason: String,
) -> TrialResult {
    TrialResult {
        case: entry.name.clone(),
        target: target.target.name().to_owned(),
        verdict: Verdict::NotRun(reason),
        contract_violations: 0,
        simulated: SignedDuration::ZERO,
        wall: Duration::ZERO,
        repetition,
        run: None,
        loaded: entry.case.as_ref().ok().cloned(),
        regression: RegressionResult::off(),
    }
}

/// One case on one target, every exchange checked against the bundled contract, and its
/// timeline against the target's snapshot (on the first repetition only).
fn trial(
    entry: &SuiteCase,
    target: &SuiteTarget,
    options: &RunOptions,
    repetition: u32,
) -> TrialResult {
    let outcome = match contract_for(target.target.as_ref()) {
        Ok(contract) => {
            let outcome = run_trial_until(
                entry,
                target,
                Some(contract),
                options.judging,
                &options.stop,
            );
            match outcome {
                Some(outcome) => outcome,
                None => {
                    let cause = options.stop.cause().unwrap_or_default();
                    let reason = format!("the run stopped while it ran: {cause}");
                    return not_run(entry, target, repetition, reason);
                }
            }
        }
        Err(e) => super::TrialOutcome {
            verdict: Verdict::Failed(format!("the bundled contract does not load: {e}")),
            run: None,
        },
    };
    let run = outcome.run.as_ref();
    // A target that did not answer at all judged nothing: the trial is not run, and a few in a
    // row stop the run.
    let url = target.target.base_url().unwrap_or("in-process");
    if options.stop.note(target.target.name(), url, run) {
        let cause = run.and_then(|r| r.aborted.as_deref()).unwrap_or_default();
        let reason = format!("the target did not answer: {cause}");
        return not_run(entry, target, repetition, reason);
    }
    let regression = match (&entry.case, run) {
        (Ok(case), Some(run)) if repetition == 1 => {
            super::snapshot::check_run(&target.snapshots, case, run, options.snapshots, SOURCE)
        }
        _ => RegressionResult::off(),
    };
    TrialResult {
        case: entry.name.clone(),
        target: target.target.name().to_owned(),
        verdict: outcome.verdict,
        contract_violations: run.map_or(0, |r| r.contract_violations),
        simulated: run.map_or(SignedDuration::ZERO, |r| r.simulated),
        wall: run.map_or(Duration::ZERO, |r| r.wall),
        repetition,
        run: outcome.run,
        loaded: entry.case.as_ref().ok().cloned(),
        regression,
    }
}
