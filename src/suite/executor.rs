//! Running a whole suite outside `cargo test` (the `run` command): every selected case on every
//! target, `repeat` times, trials in parallel with a progress bar.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use jiff::SignedDuration;

use super::snapshot::{RegressionResult, SnapshotMode};
use super::{Judging, SuiteCase, SuiteTarget, Verdict, contract_for, run_trial_until, skip_reason};
use crate::case::Case;
use crate::runner::CaseRun;
use crate::targets::RealClockPool;

/// The writer named in the header of the snapshots `run` writes.
const SOURCE: &str = "presence-conformance run";

/// How to run a suite.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Only cases whose name contains this.
    pub filter: Option<String>,
    /// Trials at once on virtual-clock targets (real-clock ones run as their user pool allows).
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
    /// Each target's name and URL (`in-process` for the embedded reference), in order.
    pub targets: Vec<(String, String)>,
    /// On real-clock targets, the least wall time the run could take (the largest of them).
    pub lower_bound: Option<LowerBound>,
}

/// The cases `filter` selects, by index.
pub fn selected(cases: &[SuiteCase], filter: Option<&str>) -> Vec<usize> {
    (0..cases.len())
        .filter(|&i| filter.is_none_or(|f| cases[i].name.contains(f)))
        .collect()
}

/// One trial to run: a case (by index), its target, which repetition.
type Job<'a> = (usize, &'a SuiteTarget, u32);

/// Runs every selected case on every target, `repeat` times: on targets with a virtual clock
/// `jobs` at a time, on each real-clock target as its user pool allows (see `RealClockQueue`).
pub fn run_suite(
    cases: &[SuiteCase],
    targets: &[SuiteTarget],
    options: &RunOptions,
) -> SuiteReport {
    let started = Instant::now();
    let (mut cpu_bound, real_clock, total) = plan(cases, targets, options);
    let bar = progress_bar(options.progress, total);
    let lower_bound = real_clock
        .iter()
        .map(|q| q.bound)
        .max_by(|a, b| a.wall().cmp(&b.wall()));
    cpu_bound.reverse();
    let cpu_bound = Mutex::new(cpu_bound);
    let results = Mutex::new(Vec::new());
    let finished = |(index, target, repetition): Job| {
        let result = match options.stop.cause() {
            Some(cause) => {
                bar.set_message("stopping");
                let reason = format!("the run stopped: {cause}");
                not_run(&cases[index], target, repetition, reason)
            }
            None => trial(&cases[index], target, options, repetition),
        };
        bar.set_message(result.case.clone());
        bar.inc(1);
        results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(result);
    };
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let next = cpu_bound.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some(job) = next else {
                        break;
                    };
                    finished(job);
                }
            });
        }
        for queue in &real_clock {
            for _ in 0..queue.workers() {
                scope.spawn(|| {
                    while let Some(job) = queue.next() {
                        finished(job.job);
                        queue.done(job.users);
                    }
                });
            }
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
        targets: targets
            .iter()
            .map(|t| {
                let url = t.target.base_url().unwrap_or("in-process");
                (t.target.name().to_owned(), url.to_owned())
            })
            .collect(),
        lower_bound,
    }
}

/// The trials of a run: those of virtual-clock targets (run `jobs` at a time), a queue per
/// real-clock target, and how many trials there are in all.
fn plan<'a>(
    cases: &[SuiteCase],
    targets: &'a [SuiteTarget],
    options: &RunOptions,
) -> (Vec<Job<'a>>, Vec<RealClockQueue<'a>>, usize) {
    let mut cpu_bound: Vec<Job> = Vec::new();
    let mut real_clock = Vec::new();
    let mut total = 0;
    for target in targets {
        let mut jobs = Vec::new();
        for i in selected(cases, options.filter.as_deref()) {
            for repetition in 1..=options.repeat.max(1) {
                jobs.push((i, target, repetition));
            }
        }
        total += jobs.len();
        match target.target.real_clock_pool() {
            Some(pool) => real_clock.push(RealClockQueue::new(cases, jobs, pool)),
            None => cpu_bound.extend(jobs),
        }
    }
    (cpu_bound, real_clock, total)
}

/// The progress bar of `total` trials, or a hidden one.
fn progress_bar(shown: bool, total: usize) -> indicatif::ProgressBar {
    let bar = if shown {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The least wall time a real-clock target's trials can take: the longest case, or all the
/// presence time its cases hold pooled users for, spread over the pool, whichever is more.
#[derive(Clone, Copy, Debug)]
pub struct LowerBound {
    /// The longest case, in wall time.
    pub longest: Duration,
    /// Σ (case time × the users it holds) / pooled users, in wall time.
    pub spread: Duration,
    pub users: usize,
}

impl LowerBound {
    pub fn wall(&self) -> Duration {
        self.longest.max(self.spread)
    }
}

/// A trial a worker took, and the pooled users it holds until it is done.
struct Taken<'a> {
    job: Job<'a>,
    users: usize,
}

/// The trials of one real-clock target. They spend their time waiting for the target's clock, not
/// on the CPU, so they are not bounded by `jobs`: the longest case that the free pooled users can
/// serve starts the moment they are free (a case waits only for users, never for a thread).
struct RealClockQueue<'a> {
    /// Trials not started, longest first, each with the users it needs (none for a trial that
    /// will not run: not applicable, or a file that does not load).
    pending: Mutex<(Vec<(Job<'a>, usize)>, usize)>,
    freed: Condvar,
    pool: RealClockPool,
    bound: LowerBound,
}

impl<'a> RealClockQueue<'a> {
    fn new(cases: &[SuiteCase], jobs: Vec<Job<'a>>, pool: RealClockPool) -> Self {
        let mut pending: Vec<(Job<'a>, usize, SignedDuration)> = jobs
            .into_iter()
            .map(|job| {
                let (users, length) = match &cases[job.0].case {
                    Ok(case) if skip_reason(case, job.1.target.as_ref()).is_none() => {
                        (case.users.len(), case.duration())
                    }
                    _ => (0, SignedDuration::ZERO),
                };
                (job, users, length)
            })
            .collect();
        // Longest first; the order is stable, so equal cases keep the order of their names.
        pending.sort_by_key(|p| std::cmp::Reverse(p.2));
        let wall = |presence: SignedDuration| {
            Duration::try_from(presence)
                .unwrap_or_default()
                .div_f64(pool.time_scale)
        };
        let longest = pending.first().map_or(Duration::ZERO, |p| wall(p.2));
        let held = pending
            .iter()
            .fold(SignedDuration::ZERO, |sum, p| sum + p.2 * p.1 as i32);
        let bound = LowerBound {
            longest,
            spread: wall(held).div_f64(pool.users.max(1) as f64),
            users: pool.users,
        };
        RealClockQueue {
            pending: Mutex::new((
                pending
                    .into_iter()
                    .map(|(job, users, _)| (job, users))
                    .collect(),
                pool.users,
            )),
            freed: Condvar::new(),
            pool,
            bound,
        }
    }

    /// One worker per pooled user: every user can be busy at once.
    fn workers(&self) -> usize {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        self.pool.users.max(1).min(pending.0.len())
    }

    /// The longest trial the free users can serve, waiting until one can start; `None` when
    /// every trial has started.
    fn next(&self) -> Option<Taken<'a>> {
        let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let (pending, free) = &mut *guard;
            if pending.is_empty() {
                return None;
            }
            // A case that needs more users than the pool has is not applicable: it takes none.
            let fits = |users: usize| users <= *free || users > self.pool.users;
            if let Some(i) = pending.iter().position(|(_, users)| fits(*users)) {
                let (job, users) = pending.remove(i);
                let users = if users > self.pool.users { 0 } else { users };
                *free -= users;
                return Some(Taken { job, users });
            }
            guard = self.freed.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A trial is over: its users are free again.
    fn done(&self, users: usize) {
        let mut guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        guard.1 += users;
        self.freed.notify_all();
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
        let cause = run
            .and_then(|r| r.aborted.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default();
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
