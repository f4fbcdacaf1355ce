//! Running a whole suite outside `cargo test` (the `run` command): trials in parallel, a progress
//! bar, a readable summary with simulated time against wall time, and JUnit XML for CI systems.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::SignedDuration;

use crate::runner::ContractCheck;
use crate::suite::{Judging, SuiteCase, SuiteTarget, Verdict, run_trial};
use crate::target::Target;

#[derive(Debug)]
pub struct TrialResult {
    pub case: String,
    pub target: String,
    pub verdict: Verdict,
    pub contract_violations: usize,
    pub simulated: SignedDuration,
    pub wall: Duration,
}

/// Everything a suite run produced.
#[derive(Debug)]
pub struct SuiteReport {
    pub trials: Vec<TrialResult>,
    pub wall: Duration,
}

/// A contract checker per target, chosen by the caller.
pub type ContractFor = dyn Fn(&dyn Target) -> Option<Arc<dyn ContractCheck>> + Send + Sync;

/// Runs every case whose name contains `filter` on every target, `jobs` at a time.
pub fn run_suite(
    cases: &[SuiteCase],
    targets: &[SuiteTarget],
    filter: Option<&str>,
    jobs: usize,
    contract_for: &ContractFor,
    judging: Judging,
    progress: bool,
) -> SuiteReport {
    let started = Instant::now();
    let mut queue: Vec<(usize, &SuiteTarget)> = Vec::new();
    for target in targets {
        for (i, case) in cases.iter().enumerate() {
            if filter.is_none_or(|f| case.name.contains(f)) {
                queue.push((i, target));
            }
        }
    }
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
                    let Some((index, target)) = next else { break };
                    let result = trial(&cases[index], target, contract_for, judging);
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
    trials.sort_by(|a, b| (&a.target, &a.case).cmp(&(&b.target, &b.case)));
    SuiteReport {
        trials,
        wall: started.elapsed(),
    }
}

fn trial(
    entry: &SuiteCase,
    target: &SuiteTarget,
    contract_for: &ContractFor,
    judging: Judging,
) -> TrialResult {
    let contract = contract_for(target.target.as_ref());
    let outcome = run_trial(entry, target, contract.as_deref(), judging);
    let run = outcome.run.as_ref();
    TrialResult {
        case: entry.name.clone(),
        target: target.target.name().to_owned(),
        verdict: outcome.verdict,
        contract_violations: run.map_or(0, |r| r.contract_violations),
        simulated: run.map_or(SignedDuration::ZERO, |r| r.simulated),
        wall: run.map_or(Duration::ZERO, |r| r.wall),
    }
}

impl SuiteReport {
    pub fn count(&self, pick: fn(&Verdict) -> bool) -> usize {
        self.trials.iter().filter(|t| pick(&t.verdict)).count()
    }

    pub fn failed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Failed(_)))
    }

    /// The summary: failures and deviations in full, the reasons of cases that did not apply,
    /// then totals and simulated time against wall time.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for t in &self.trials {
            match &t.verdict {
                Verdict::Failed(report) => {
                    out.push_str(&format!("FAILED [{}] {}\n{report}\n", t.target, t.case))
                }
                Verdict::Deviates(report) => out.push_str(&format!(
                    "DEVIATES [{}] {} (differs only from our own choices; --strict fails it)\n{report}\n",
                    t.target, t.case
                )),
                _ => {}
            }
        }
        let mut reasons: Vec<(&str, &str)> = self
            .trials
            .iter()
            .filter_map(|t| match &t.verdict {
                Verdict::NotApplicable(reason) => Some((t.target.as_str(), reason.as_str())),
                _ => None,
            })
            .collect();
        reasons.sort();
        let mut grouped: Vec<(&str, &str, usize)> = Vec::new();
        for (target, reason) in reasons {
            match grouped.last_mut() {
                Some((t, r, n)) if *t == target && *r == reason => *n += 1,
                _ => grouped.push((target, reason, 1)),
            }
        }
        for (target, reason, n) in &grouped {
            out.push_str(&format!(
                "not applicable [{target}]: {n} {} {reason}\n",
                if *n == 1 { "case:" } else { "cases:" }
            ));
        }
        let passed = self.count(|v| matches!(v, Verdict::Passed));
        let deviate = self.count(|v| matches!(v, Verdict::Deviates(_)));
        let not_applicable = self.count(|v| matches!(v, Verdict::NotApplicable(_)));
        let known = self.count(|v| matches!(v, Verdict::KnownFailure(_)));
        let violations: usize = self.trials.iter().map(|t| t.contract_violations).sum();
        let simulated: f64 = self.trials.iter().map(|t| t.simulated.as_secs_f64()).sum();
        let wall = self.wall.as_secs_f64();
        let mut targets: Vec<&str> = self.trials.iter().map(|t| t.target.as_str()).collect();
        targets.dedup();
        out.push_str(&format!(
            "\ntargets: {}\ncontract violations: {violations}\nsimulated time: {} in {wall:.2} s of wall time ({:.0}x)\n",
            targets.join(", "),
            crate::model::iso(SignedDuration::from_secs(simulated as i64)),
            if wall > 0.0 { simulated / wall } else { 0.0 },
        ));
        out.push_str(&format!(
            "{passed} passed, {} failed, {deviate} deviate, {not_applicable} not applicable, {known} known {}\n",
            self.failed(),
            if known == 1 { "failure" } else { "failures" }
        ));
        out
    }

    /// JUnit XML: one test suite per target, one test case per case.
    pub fn write_junit(&self, path: &Path) -> anyhow::Result<()> {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new("presence-conformance");
        report.set_time(self.wall);
        let mut suites: Vec<TestSuite> = Vec::new();
        for t in &self.trials {
            if suites.last().is_none_or(|s| s.name.as_str() != t.target) {
                suites.push(TestSuite::new(t.target.clone()));
            }
            let status = match &t.verdict {
                Verdict::Passed => TestCaseStatus::success(),
                Verdict::NotApplicable(reason) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("not applicable: {reason}"));
                    s
                }
                Verdict::KnownFailure(reason) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("known failure: {reason}"));
                    s
                }
                Verdict::Deviates(report) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(
                        "deviates: differs only from our own choices (`ours` rules)".to_owned(),
                    );
                    s.set_description(report.clone());
                    s
                }
                Verdict::Failed(report) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(report.lines().next().unwrap_or("failed").to_owned());
                    s.set_description(report.clone());
                    s
                }
            };
            let mut case = TestCase::new(t.case.clone(), status);
            case.set_classname(t.target.clone());
            case.set_time(t.wall);
            if let Some(suite) = suites.last_mut() {
                suite.add_test_case(case);
            }
        }
        report.add_test_suites(suites);
        let xml = report.to_string()?;
        crate::fsutil::write_atomically(path, xml.as_bytes())?;
        Ok(())
    }
}
