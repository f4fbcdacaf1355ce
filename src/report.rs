//! What a suite run shows: the console summary (failures and deviations in full, why cases did not
//! apply, flaky cases, totals and simulated time against wall time), JUnit XML for CI systems, one
//! JSON object per trial, and the HTML report's view.

use std::path::Path;

use jiff::SignedDuration;

use crate::catalogue::Catalogue;
use crate::html::{CaseView, FaultView, HtmlReport, ResultView, RuleView};
use crate::runner::CaseRun;
use crate::suite::Verdict;
pub use crate::suite::executor::{SuiteReport, TrialResult};
use crate::suite::snapshot::Regression;

impl TrialResult {
    /// This trial as the HTML report shows it.
    fn result_view(&self) -> ResultView<'_> {
        let verdict = self.verdict.kind();
        let reason = match &self.verdict {
            Verdict::Passed | Verdict::Deviates(_) => None,
            Verdict::Failed(report) => match &self.run {
                Some(CaseRun {
                    aborted: Some(aborted),
                    ..
                }) => Some(aborted.to_string()),
                Some(run) if !run.failures.is_empty() => None,
                _ => Some(report.clone()),
            },
            Verdict::KnownFailure(reason)
            | Verdict::NotApplicable(reason)
            | Verdict::NotRun(reason) => Some(reason.clone()),
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
                    fault: format!("{fault} [{}]", fault.rule.id),
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
            regression: self.regression.state.label(),
            regression_diff: match &self.regression.state {
                Regression::Changed(diff) => Some(diff.clone()),
                _ => None,
            },
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

    /// Whether no case at all was judged: every trial not applicable. Such a run proves
    /// nothing, and must not pass as green.
    pub fn nothing_judged(&self) -> bool {
        self.trials
            .iter()
            .all(|t| matches!(t.verdict, Verdict::NotApplicable(_)))
    }

    /// The summary, plain: failures and deviations in full, why cases did not apply, flaky
    /// cases, then totals and simulated time against wall time.
    pub fn render(&self) -> String {
        self.render_with(Console::default())
    }

    /// The summary for a console: verdicts coloured (the caller's stream strips the colour
    /// where it should not be), and with `verbose` one line per trial first.
    pub fn render_with(&self, console: Console) -> String {
        let mut out = self.render_body(console);
        out.push_str(&self.totals(console));
        out
    }

    /// With several targets: the summary's body, then the differences between targets, then
    /// the totals with a line per target, last, where a reader looks first.
    pub fn render_compared(&self, console: Console) -> String {
        let mut out = self.render_body(console);
        let differences = self.differences();
        if !differences.is_empty() {
            out.push('\n');
            out.push_str(&differences);
        }
        out.push_str(&self.totals(console));
        out
    }

    /// Everything before the totals.
    fn render_body(&self, console: Console) -> String {
        let mut out = String::new();
        if console.verbose {
            for t in &self.trials {
                out.push_str(&format!(
                    "{} [{}] {} ({:.0} ms){}{}\n",
                    console.verdict(&t.verdict),
                    t.target,
                    t.case,
                    t.wall.as_secs_f64() * 1000.0,
                    match &t.regression.state {
                        Regression::Off => String::new(),
                        state => format!(", {}", console.regression(state)),
                    },
                    match &t.verdict {
                        Verdict::NotApplicable(reason)
                        | Verdict::KnownFailure(reason)
                        | Verdict::NotRun(reason) => format!(": {reason}"),
                        _ => String::new(),
                    }
                ));
            }
            out.push('\n');
        }
        for t in &self.trials {
            if let Verdict::Failed(report) | Verdict::Deviates(report) = &t.verdict {
                let note = match t.verdict {
                    Verdict::Deviates(_) => {
                        " (differs only from our own choices; --strict fails it)"
                    }
                    _ => "",
                };
                out.push_str(&format!(
                    "{} [{}] {}{note}\n{report}\n",
                    console.verdict_heading(&t.verdict),
                    t.target,
                    t.case
                ));
            }
        }
        out.push_str(&self.regression_reports(console));
        out.push_str(&self.not_applicable_reasons());
        for flaky in self.flaky() {
            out.push_str(&format!(
                "{} [{}] {}: {}\n",
                console.paint(Paint::Flaky, "FLAKY"),
                flaky.target,
                flaky.case,
                flaky.counts()
            ));
        }
        out
    }

    /// One line per target (only when there are several): its verdict counts.
    fn per_target(&self, targets: &[&str]) -> String {
        if targets.len() < 2 {
            return String::new();
        }
        let mut out = String::new();
        for target in targets {
            let mut counts: Vec<(&'static str, usize)> = Vec::new();
            for t in self.trials.iter().filter(|t| t.target == *target) {
                match counts.iter_mut().find(|(l, _)| *l == t.verdict.label()) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((t.verdict.label(), 1)),
                }
            }
            let shown: Vec<String> = counts.iter().map(|(l, n)| format!("{n} {l}")).collect();
            out.push_str(&format!("  {target}: {}\n", shown.join(", ")));
        }
        out
    }

    /// Trials whose regression state fails the run: a changed timeline, a required snapshot
    /// that is missing, a snapshot that cannot be read or written.
    pub fn regression_failures(&self) -> usize {
        self.trials
            .iter()
            .filter(|t| t.regression.failure.is_some())
            .count()
    }

    /// Each regression that fails the run, with the unified diff of its timeline.
    fn regression_reports(&self, console: Console) -> String {
        let mut out = String::new();
        for t in &self.trials {
            let Some(failure) = &t.regression.failure else {
                continue;
            };
            out.push_str(&format!(
                "{} [{}] {} (verdict: {})\n",
                console.paint(
                    Console::regression_paint(&t.regression.state),
                    &t.regression.state.label().to_uppercase()
                ),
                t.target,
                t.case,
                t.verdict.label()
            ));
            if let Regression::Changed(diff) = &t.regression.state {
                out.push_str(diff);
            }
            out.push_str(&format!("{failure}\n"));
            if let Some(pending) = &t.regression.written {
                out.push_str(&format!("  pending: {}\n", pending.display()));
            }
            out.push('\n');
        }
        out
    }

    /// `regressions: 1 changed, 2 new, 40 unchanged`, and the snapshots written; empty when
    /// snapshots were off.
    fn regressions_line(&self) -> String {
        let count = |label: &str| {
            self.trials
                .iter()
                .filter(|t| t.regression.state.label() == label)
                .count()
        };
        let (changed, new, unchanged) = (count("changed"), count("new"), count("unchanged"));
        if changed + new + unchanged == 0 {
            return String::new();
        }
        let written = self
            .trials
            .iter()
            .filter(|t| {
                t.regression
                    .written
                    .as_ref()
                    .is_some_and(|p| p.extension().is_some_and(|e| e == "snap"))
            })
            .count();
        let written = match written {
            0 if new > 0 => " (record new baselines with --snapshots update)".to_owned(),
            0 => String::new(),
            n => format!(" ({} written)", crate::plural(n, "snapshot")),
        };
        format!("regressions: {changed} changed, {new} new, {unchanged} unchanged{written}\n")
    }

    /// Why cases did not apply, one line per target and reason.
    fn not_applicable_reasons(&self) -> String {
        let mut reasons: Vec<(&str, &str)> = self
            .trials
            .iter()
            .filter(|t| t.repetition == 1)
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
        grouped
            .iter()
            .map(|(target, reason, n)| {
                format!(
                    "not applicable [{target}]: {n} {} {reason}\n",
                    if *n == 1 { "case:" } else { "cases:" }
                )
            })
            .collect()
    }

    fn totals(&self, console: Console) -> String {
        let passed = self.count(|v| matches!(v, Verdict::Passed));
        let deviate = self.count(|v| matches!(v, Verdict::Deviates(_)));
        let not_applicable = self.count(|v| matches!(v, Verdict::NotApplicable(_)));
        let known = self.count(|v| matches!(v, Verdict::KnownFailure(_)));
        let not_run = match self.count(|v| matches!(v, Verdict::NotRun(_))) {
            0 => String::new(),
            n => format!(", {n} not run"),
        };
        let stopped = match &self.stopped {
            Some(cause) => format!("stopped early: {cause}\n"),
            None => String::new(),
        };
        let violations: usize = self.trials.iter().map(|t| t.contract_violations).sum();
        let per_target = self.per_target(&self.target_names());
        let simulated: f64 = self.trials.iter().map(|t| t.simulated.as_secs_f64()).sum();
        let wall = self.wall.as_secs_f64();
        let mut targets: Vec<&str> = self.trials.iter().map(|t| t.target.as_str()).collect();
        targets.dedup();
        let flaky = match self.flaky().len() {
            0 => String::new(),
            n => format!("flaky: {n} (verdicts differ between repetitions)\n"),
        };
        let retries = format!(
            "{}{}{}",
            self.bound_line(),
            self.retries_line(),
            self.regressions_line()
        );
        let failed = self.failed();
        let failed_text = format!("{failed} failed");
        let failed_text = if failed > 0 {
            console.paint(Paint::Failed, &failed_text)
        } else {
            failed_text
        };
        format!(
            "\ntargets: {}\ncontract violations: {violations}\nsimulated time: {} in {wall:.2} s of wall time ({:.0}x)\n{retries}{flaky}{stopped}{per_target}{} passed, {failed_text}, {deviate} deviate, {not_applicable} not applicable, {known} known {}{not_run}\n",
            targets.join(", "),
            crate::model::iso(SignedDuration::from_secs(simulated as i64)),
            if wall > 0.0 { simulated / wall } else { 0.0 },
            console.paint(Paint::Passed, &passed.to_string()),
            if known == 1 { "failure" } else { "failures" }
        )
    }

    /// On a real clock, the least wall time the run could take, beside the wall time it took.
    fn bound_line(&self) -> String {
        let Some(bound) = self.lower_bound else {
            return String::new();
        };
        let wall = self.wall.as_secs_f64();
        let least = bound.wall().as_secs_f64();
        format!(
            "real clock: {wall:.2} s of wall time, {:.2}x its lower bound {least:.2} s = max(longest case {:.2} s, case time x users / {} pooled users {:.2} s)\n",
            if least > 0.0 { wall / least } else { 0.0 },
            bound.longest.as_secs_f64(),
            bound.users,
            bound.spread.as_secs_f64(),
        )
    }

    /// The targets' names, in the order of the run.
    fn target_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.trials.iter().map(|t| t.target.as_str()).collect();
        names.dedup();
        names
    }

    /// Retries after 429/503/504, the wall time they waited, the cases throttled out, and the
    /// reads sent again until they showed the expected state; empty when there were none.
    pub(crate) fn retries_line(&self) -> String {
        let mut traffic = crate::targets::Traffic::default();
        let runs = || self.trials.iter().filter_map(|t| t.run.as_ref());
        runs().for_each(|r| traffic.add(r.traffic));
        let throttled = runs().filter(|r| r.throttled.is_some()).count();
        let mut line = String::new();
        if traffic.retries() > 0 || throttled > 0 {
            line = format!(
                "retries: {} ({} after 429, {} after 503/504), {:.1} s waited; throttled: {throttled} {}",
                traffic.retries(),
                traffic.after_429,
                traffic.after_5xx,
                traffic.waited.as_secs_f64(),
                if throttled == 1 { "case" } else { "cases" },
            );
        }
        let behind = runs().filter(|r| r.behind.is_some()).count();
        if behind > 0 {
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&format!(
                "behind their timeline: {behind} {}",
                if behind == 1 { "case" } else { "cases" }
            ));
        }
        if traffic.rereads > 0 {
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&format!(
                "reads repeated until they showed the expected state: {}",
                traffic.rereads
            ));
        }
        if !line.is_empty() {
            line.push('\n');
        }
        line
    }

    /// Cases whose verdicts differ between repetitions on one target.
    pub fn flaky(&self) -> Vec<Flaky<'_>> {
        let mut found: Vec<Flaky<'_>> = Vec::new();
        for t in &self.trials {
            let label = t.verdict.label();
            match found.last_mut() {
                Some(f) if f.target == t.target && f.case == t.case => {
                    match f.labels.iter_mut().find(|(l, _)| *l == label) {
                        Some((_, n)) => *n += 1,
                        None => f.labels.push((label, 1)),
                    }
                }
                _ => found.push(Flaky {
                    target: &t.target,
                    case: &t.case,
                    labels: vec![(label, 1)],
                }),
            }
        }
        found.retain(|f| f.labels.len() > 1);
        found
    }

    /// The cases whose verdicts or observed timelines differ between targets, each with a
    /// unified diff of its timeline against the first target's.
    pub fn differences(&self) -> String {
        let mut out = String::new();
        let mut names: Vec<&str> = self.trials.iter().map(|t| t.case.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let ran: Vec<&TrialResult> = self
                .trials
                .iter()
                .filter(|t| t.case == name && t.repetition == 1)
                .collect();
            let Some((first, others)) = ran.split_first() else {
                continue;
            };
            for other in others {
                let (a, b) = (timeline_text(first), timeline_text(other));
                if first.verdict.label() == other.verdict.label() && a == b {
                    continue;
                }
                out.push_str(&format!(
                    "DIFFERS {name}: {} {}, {} {}\n",
                    first.target,
                    first.verdict.label(),
                    other.target,
                    other.verdict.label()
                ));
                if first.run.is_none() || other.run.is_none() {
                    continue;
                }
                let diff = similar::TextDiff::from_lines(&a, &b);
                out.push_str(
                    &diff
                        .unified_diff()
                        .header(&first.target, &other.target)
                        .to_string(),
                );
            }
        }
        out
    }

    /// One JSON object per trial, one per line: what `--format json` writes.
    pub fn json_lines(&self) -> String {
        self.trials
            .iter()
            .map(|t| format!("{}\n", t.json()))
            .collect()
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
        let meta = crate::html::RunMeta {
            date: jiff::Timestamp::now()
                .strftime("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
            version: format!("presence-conformance {}", env!("CARGO_PKG_VERSION")),
            targets: self.targets.clone(),
            command: String::new(),
            stopped: self.stopped.clone(),
        };
        HtmlReport {
            targets,
            cases,
            rules,
            meta,
        }
    }

    /// JUnit XML: one test suite per target, one test case per case.
    pub fn write_junit(&self, path: &Path) -> anyhow::Result<()> {
        use quick_junit::{Report, TestCase, TestSuite};
        let mut report = Report::new("presence-conformance");
        report.set_time(self.wall);
        let mut suites: Vec<TestSuite> = Vec::new();
        for t in &self.trials {
            if suites.last().is_none_or(|s| s.name.as_str() != t.target) {
                suites.push(TestSuite::new(t.target.clone()));
            }
            let status = junit_status(t);
            let mut case = TestCase::new(t.case.clone(), status);
            case.set_classname(t.target.clone());
            case.set_time(t.wall);
            case.add_property(("verdict", t.verdict.label()));
            case.add_property(("regression", t.regression.state.label()));
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

/// A trial's JUnit status: its verdict, and a failure when its regression state fails the run
/// (a changed timeline with its diff), whatever the verdict.
fn junit_status(t: &TrialResult) -> quick_junit::TestCaseStatus {
    use quick_junit::{NonSuccessKind, TestCaseStatus};
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
        Verdict::NotRun(reason) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("not run: {reason}"));
            s
        }
        Verdict::Deviates(report) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message("deviates: differs only from our own choices (`ours` rules)".to_owned());
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
    let Some(failure) = &t.regression.failure else {
        return status;
    };
    let mut regression = format!("regression: {}: {failure}\n", t.regression.state.label());
    if let Regression::Changed(diff) = &t.regression.state {
        regression.push_str(diff);
    }
    match &t.verdict {
        Verdict::Failed(report) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(report.lines().next().unwrap_or("failed").to_owned());
            s.set_description(format!("{report}\n\n{regression}"));
            s
        }
        verdict => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "regression: {} (verdict: {})",
                t.regression.state.label(),
                verdict.label()
            ));
            s.set_description(regression);
            s
        }
    }
}

/// How the console summary looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Console {
    /// Verdicts in colour (ANSI); the output stream strips it when it is not a terminal or
    /// `NO_COLOR` is set.
    pub colour: bool,
    /// One line per trial, with its verdict and duration.
    pub verbose: bool,
}

#[derive(Clone, Copy)]
enum Paint {
    Passed,
    Failed,
    Deviates,
    Quiet,
    Flaky,
}

impl Console {
    fn paint(self, paint: Paint, text: &str) -> String {
        use anstyle::{AnsiColor, Style};
        if !self.colour {
            return text.to_owned();
        }
        let colour = match paint {
            Paint::Passed => AnsiColor::Green,
            Paint::Failed => AnsiColor::Red,
            Paint::Deviates | Paint::Flaky => AnsiColor::Yellow,
            Paint::Quiet => AnsiColor::BrightBlack,
        };
        let style = Style::new().fg_color(Some(colour.into())).bold();
        format!("{}{text}{}", style.render(), style.render_reset())
    }

    fn regression_paint(state: &Regression) -> Paint {
        match state {
            Regression::Changed(_) => Paint::Failed,
            Regression::New => Paint::Deviates,
            Regression::Unchanged | Regression::Off => Paint::Quiet,
        }
    }

    fn regression(self, state: &Regression) -> String {
        self.paint(Self::regression_paint(state), state.label())
    }

    fn verdict_paint(verdict: &Verdict) -> Paint {
        match verdict {
            Verdict::Passed => Paint::Passed,
            Verdict::Failed(_) => Paint::Failed,
            Verdict::Deviates(_) => Paint::Deviates,
            Verdict::NotApplicable(_) | Verdict::KnownFailure(_) | Verdict::NotRun(_) => {
                Paint::Quiet
            }
        }
    }

    fn verdict(self, verdict: &Verdict) -> String {
        self.paint(Self::verdict_paint(verdict), verdict.label())
    }

    /// `FAILED`, painted: upper case before the colour, so the escape codes stay intact.
    fn verdict_heading(self, verdict: &Verdict) -> String {
        self.paint(
            Self::verdict_paint(verdict),
            &verdict.label().to_uppercase(),
        )
    }
}

/// A case whose verdicts differ between repetitions.
#[derive(Debug)]
pub struct Flaky<'a> {
    pub target: &'a str,
    pub case: &'a str,
    /// Each verdict seen and how often.
    pub labels: Vec<(&'static str, usize)>,
}

impl Flaky<'_> {
    /// `2 passed, 1 failed`.
    pub fn counts(&self) -> String {
        self.labels
            .iter()
            .map(|(label, n)| format!("{n} {label}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A trial's observed timeline as YAML, for diffs.
fn timeline_text(trial: &TrialResult) -> String {
    trial
        .run
        .as_ref()
        .and_then(|r| serde_saphyr::to_string(&r.timeline).ok())
        .unwrap_or_default()
}

impl TrialResult {
    /// The trial as one JSON object: name, target, verdict, rules, faults, the observed
    /// timeline and the duration.
    pub fn json(&self) -> serde_json::Value {
        let faults: Vec<serde_json::Value> = self
            .run
            .iter()
            .flat_map(|run| &run.failures)
            .flat_map(|f| {
                f.faults.iter().map(|fault| {
                    serde_json::json!({
                        "line": f.line,
                        "at": crate::model::iso(f.at),
                        "step": f.step,
                        "fault": fault.to_string(),
                        "kind": fault.kind.label(),
                        "rule": fault.rule.id,
                        "level": fault.rule.level,
                    })
                })
            })
            .collect();
        serde_json::json!({
            "case": self.case,
            "target": self.target,
            "repetition": self.repetition,
            "verdict": self.verdict.label(),
            "regression": self.regression.state.label(),
            "regression_diff": match &self.regression.state {
                Regression::Changed(diff) => Some(diff),
                _ => None,
            },
            "regression_failure": self.regression.failure,
            "reason": match &self.verdict {
                Verdict::NotApplicable(r) | Verdict::KnownFailure(r) | Verdict::NotRun(r) => {
                    Some(r)
                }
                _ => None,
            },
            "rules": self.loaded.as_ref().map(|c| c.rules.clone()).unwrap_or_default(),
            "faults": faults,
            "aborted": self.run.as_ref().and_then(|r| r.aborted.as_ref()).map(ToString::to_string),
            "timeline": self.run.as_ref().map(|r| &r.timeline),
            "duration_ms": self.wall.as_secs_f64() * 1000.0,
            "simulated": crate::model::iso(self.simulated),
        })
    }
}
