//! What a suite run shows: the console summary (failures and deviations in full, why cases did not
//! apply, flaky cases, totals and simulated time against wall time), JUnit XML for CI systems, one
//! JSON object per trial, and the HTML report's view.

use std::path::Path;

use jiff::SignedDuration;

use crate::catalogue::Catalogue;
use crate::html::{CaseView, FaultView, HtmlReport, ResultView, RuleView, VerdictKind};
use crate::suite::Verdict;
pub use crate::suite::executor::{SuiteReport, TrialResult};

impl TrialResult {
    /// This trial as the HTML report shows it.
    fn result_view(&self) -> ResultView<'_> {
        let (verdict, reason) = match &self.verdict {
            Verdict::Passed => (VerdictKind::Passed, None),
            Verdict::Failed(report) => {
                let reason = match &self.run {
                    Some(run) if run.aborted.is_some() => run.aborted.clone(),
                    Some(run) if !run.failures.is_empty() => None,
                    _ => Some(report.clone()),
                };
                (VerdictKind::Failed, reason)
            }
            Verdict::Deviates(_) => (VerdictKind::Deviates, None),
            Verdict::KnownFailure(reason) => (VerdictKind::KnownFailure, Some(reason.clone())),
            Verdict::NotApplicable(reason) => (VerdictKind::NotApplicable, Some(reason.clone())),
        };
        let faults = self
            .run
            .iter()
            .flat_map(|run| &run.failures)
            .flat_map(|f| {
                f.faults.iter().map(|fault| FaultView {
                    line: f.line,
                    at: crate::model::iso(f.at),
                    step: f.step.clone(),
                    fault: format!("{} [{}]", fault.text, fault.rule.id),
                    level: fault.rule.level.to_string(),
                })
            })
            .collect();
        ResultView {
            target: self.target.clone(),
            verdict,
            reason,
            faults,
            timeline: self.run.as_ref().map(|r| &r.timeline),
        }
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

    /// The HTML report's view: a case per row, a target per column, and the rules.
    pub fn html_view(&self) -> HtmlReport<'_> {
        let mut targets: Vec<String> = self.trials.iter().map(|t| t.target.clone()).collect();
        targets.dedup();
        let mut names: Vec<&str> = self.trials.iter().map(|t| t.case.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let cases = names
            .into_iter()
            .map(|name| {
                let trials: Vec<&TrialResult> =
                    self.trials.iter().filter(|t| t.case == name).collect();
                let loaded = trials.iter().find_map(|t| t.loaded.as_ref());
                CaseView {
                    name: name.to_owned(),
                    title: loaded.map_or_else(
                        || "(the case file does not load)".to_owned(),
                        |c| c.title.clone(),
                    ),
                    source: loaded.and_then(|c| c.source.clone()),
                    rules: loaded.map(|c| c.rules.clone()).unwrap_or_default(),
                    case: loaded,
                    results: targets
                        .iter()
                        .filter_map(|target| trials.iter().find(|t| &t.target == target))
                        .map(|t| t.result_view())
                        .collect(),
                }
            })
            .collect();
        let rules = Catalogue::try_bundled()
            .map(|c| {
                c.rules()
                    .iter()
                    .map(|r| RuleView {
                        id: r.id.clone(),
                        level: r.level.to_string(),
                        statement: r.statement.clone(),
                        url: r.url().map(str::to_owned),
                    })
                    .collect()
            })
            .unwrap_or_default();
        HtmlReport {
            targets,
            cases,
            rules,
        }
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
