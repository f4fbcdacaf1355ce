//! The HTML report (`run --html FILE`): one self-contained page (inline CSS and SVG, no script,
//! nothing loaded from the network). A matrix of cases by topic and by rule against targets,
//! then a section per case with its rules, its faults and a timeline picture per target.
//!
//! Its input is a view model ([`HtmlReport`]), independent of how the suite reaches verdicts.

mod lanes;
mod svg;

pub use crate::runner::VerdictKind;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::case::Case;
use crate::operation::Operation;
use crate::runner::Timeline;

const STYLE: &str = include_str!("style.css");

/// Everything the page shows.
#[derive(Debug, Default)]
pub struct HtmlReport<'a> {
    /// Target names, in column order.
    pub targets: Vec<String>,
    pub cases: Vec<CaseView<'a>>,
    /// The rule catalogue; cases name rules by id.
    pub rules: Vec<RuleView>,
    /// When, by what and on what the run ran.
    pub meta: RunMeta,
}

/// The run's metadata, at the top of the page.
#[derive(Debug, Default)]
pub struct RunMeta {
    /// UTC, to the second.
    pub date: String,
    /// `presence-conformance 0.1.0`.
    pub version: String,
    /// Each target's name and URL (`in-process` for the embedded reference).
    pub targets: Vec<(String, String)>,
    /// The command line that ran it.
    pub command: String,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
}

/// One case and its result on each target.
#[derive(Debug)]
pub struct CaseView<'a> {
    /// `timeout::available_fades_to_away`; the part before `::` is its topic.
    pub name: String,
    pub title: String,
    /// Where the behaviour is documented (a URL, maybe followed by words).
    pub source: Option<String>,
    /// Rule ids.
    pub rules: Vec<String>,
    /// The loaded case, if it loaded: what each observation expected, who the users are.
    pub case: Option<&'a Case>,
    /// One per target, in the order of [`HtmlReport::targets`].
    pub results: Vec<ResultView<'a>>,
}

/// A case's result on one target.
#[derive(Debug)]
pub struct ResultView<'a> {
    pub target: String,
    pub verdict: VerdictKind,
    /// Why it is not applicable, known to fail, or could not run.
    pub reason: Option<String>,
    pub faults: Vec<FaultView>,
    /// The observed timeline, if the case ran.
    pub timeline: Option<&'a Timeline>,
    /// The regression state of that timeline (`unchanged`, `changed`, `new`, `off`).
    pub regression: &'static str,
    /// A changed timeline's unified diff from its snapshot.
    pub regression_diff: Option<String>,
}

/// One thing that did not hold, at one step.
#[derive(Clone, Debug)]
pub struct FaultView {
    /// The step's line in the case file.
    pub line: u64,
    /// The step's offset (`PT5M`).
    pub at: String,
    /// `observe alice`, `setPresence by teams`.
    pub step: String,
    pub fault: String,
    /// The level of the rule the expectation rests on: documented, observed or ours.
    pub level: String,
}

/// A rule of the catalogue.
#[derive(Clone, Debug)]
pub struct RuleView {
    pub id: String,
    /// documented, observed or ours.
    pub level: String,
    pub statement: String,
    pub url: Option<String>,
}

/// The page.
pub fn render(report: &HtmlReport<'_>) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Presence conformance report" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header id="top" {
                    h1 { "Presence conformance report" }
                    p.lead { (report.cases.len()) " cases on " (report.targets.len()) " target"
                        @if report.targets.len() != 1 { "s" } }
                    (run_meta(&report.meta))
                    (first_things(report))
                    (summary(report))
                    (legend())
                }
                main {
                    (by_topic(report))
                    (by_rule(report))
                    @for case in &report.cases { (case_section(report, case)) }
                }
            }
        }
    }
    .into_string()
}

/// Date, version, targets with their URLs and the command line.
fn run_meta(meta: &RunMeta) -> Markup {
    html! {
        dl.meta {
            @if !meta.date.is_empty() { dt { "date" } dd { (meta.date) } }
            @if !meta.version.is_empty() { dt { "version" } dd { (meta.version) } }
            @for (name, url) in &meta.targets { dt { "target " (name) } dd { code { (url) } } }
            @if !meta.command.is_empty() { dt { "command" } dd { code { (meta.command) } } }
            @if let Some(cause) = &meta.stopped { dt.stopped { "stopped early" } dd.stopped { (cause) } }
        }
    }
}

/// Failures and changes first: every result that needs a look (failed, deviates, a changed
/// timeline), each with its first line and a link to it, then one line per target for the cases
/// a stopped run did not get to (a list of each would bury the rest); the rest is in the matrix.
fn first_things(report: &HtmlReport<'_>) -> Markup {
    let needs_a_look = |r: &ResultView<'_>| {
        matches!(r.verdict, VerdictKind::Failed | VerdictKind::Deviates)
            || r.regression == "changed"
    };
    let not_run = |target: &str| {
        report
            .cases
            .iter()
            .flat_map(|c| &c.results)
            .filter(|r| r.target == target && r.verdict == VerdictKind::NotRun)
            .count()
    };
    let found: Vec<(&CaseView<'_>, &ResultView<'_>)> = report
        .cases
        .iter()
        .flat_map(|c| c.results.iter().map(move |r| (c, r)))
        .filter(|(_, r)| needs_a_look(r))
        .collect();
    let order = |r: &ResultView<'_>| match r.verdict {
        VerdictKind::Failed => 0,
        _ if r.regression == "changed" => 1,
        _ => 2,
    };
    let mut found = found;
    found.sort_by_key(|(_, r)| order(r));
    html! {
        section.first-things id="first" {
            h2 { "Failures and changes first" }
            @for target in &report.targets {
                @let n = not_run(target);
                @if n > 0 {
                    p.not-run-line {
                        span class={ "verdict " (VerdictKind::NotRun.class()) } { (VerdictKind::NotRun.label()) }
                        " " (n) " case" @if n != 1 { "s" } " on " span.target { (target) }
                        @if let Some(cause) = &report.meta.stopped { span.why { " — the run stopped: " (cause) } }
                    }
                }
            }
            @if found.is_empty() {
                p.none { "Nothing failed, deviated or changed." }
            } @else {
                ol {
                    @for (case, result) in &found {
                        li {
                            span class={ "verdict " (result.verdict.class()) } { (result.verdict.label()) }
                            (regression_badge(result.regression)) " "
                            a href={ "#" (result_anchor(&case.name, &result.target)) } { (case.name) }
                            " on " span.target { (result.target) }
                            @if let Some(line) = first_line(result) { span.why { " — " (line) } }
                        }
                    }
                }
            }
        }
    }
}

/// A result's first fault or reason, in one line.
fn first_line(result: &ResultView<'_>) -> Option<String> {
    let text = match result.faults.first() {
        Some(f) => format!("at {}: {}", f.at, f.fault),
        None => result.reason.as_deref()?.lines().next()?.to_owned(),
    };
    Some(text)
}

/// Counts per verdict (and regression state) per target.
fn summary(report: &HtmlReport<'_>) -> Markup {
    let results = || report.cases.iter().flat_map(|c| &c.results);
    let count = |target: &str, kind: VerdictKind| {
        results()
            .filter(|r| r.target == target && r.verdict == kind)
            .count()
    };
    // The regression states, apart from the verdicts; left out when snapshots were off.
    const REGRESSIONS: [&str; 3] = ["changed", "new", "unchanged"];
    let regressions = |target: &str, state: &str| {
        results()
            .filter(|r| r.target == target && r.regression == state)
            .count()
    };
    let snapshots = results().any(|r| r.regression != "off");
    html! {
        table.summary {
            thead { tr {
                th { "target" }
                @for k in VerdictKind::ALL { th { (k.label()) } }
                @if snapshots { @for state in REGRESSIONS { th.regression-head { (state) } } }
            } }
            tbody {
                @for target in &report.targets {
                    tr {
                        th scope="row" { (target) }
                        @for k in VerdictKind::ALL {
                            @let n = count(target, k);
                            td class={ "count " @if n > 0 { (k.class()) } @else { "zero" } } { (n) }
                        }
                        @if snapshots {
                            @for state in REGRESSIONS {
                                @let n = regressions(target, state);
                                td class={ "count " @if n > 0 { "regression-" (state) } @else { "zero" } } { (n) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A unified diff with its added and removed lines marked for colour.
fn diff_lines(diff: &str) -> Markup {
    html! {
        @for line in diff.lines() {
            @let class = if line.starts_with("+++") || line.starts_with("---") {
                "head"
            } else if line.starts_with('+') {
                "add"
            } else if line.starts_with('-') {
                "del"
            } else {
                "same"
            };
            span class=(class) { (line) } "\n"
        }
    }
}

fn legend() -> Markup {
    const STATES: [(&str, &str, &str); 7] = [
        ("Available", "Available", "Available"),
        ("AvailableInactive, Away, BeRightBack", "Away", "Away"),
        ("Busy", "Busy", "Busy"),
        ("DoNotDisturb", "DoNotDisturb", "DoNotDisturb"),
        ("OffWork, OutOfOffice", "Away", "OutOfOffice"),
        ("Offline", "Offline", "Offline"),
        ("unknown", "PresenceUnknown", "PresenceUnknown"),
    ];
    html! {
        details.legend open {
            summary { "How to read the timelines" }
            p {
                @for (label, availability, activity) in STATES {
                    @let p = svg::paint(availability, activity, false);
                    span.swatch style={ "background:" (p.fill) "; border-color:" (p.stroke.unwrap_or(p.fill)) } {
                        @if p.bar { span.bar {} }
                    }
                    span.swatch-label { (label) }
                }
            }
            p {
                "Lanes: each user's aggregated presence as observed (a band runs from one observation to the next); under it each app session (from " (Operation::SetPresence.name()) " to " (Operation::ClearPresence.name()) " or its expiry; dashed end: expiry, solid: cleared) and the preferred presence. "
                span.req-key.s2xx { "▼" } " request answered 2xx, "
                span.req-key.s4xx { "▼" } " 4xx; "
                span.obs-key { "●" } " observation, "
                span.obs-key.mismatch { "◉" } " observation that differs from the case (expected value below it). "
                "The time axis ticks every instant something happens; gaps are drawn by the logarithm of their length, so seconds stay visible beside hours. Hover a mark for its request, status and values. "
                "A link to a case shows that case alone; its “← index” link brings the whole page back."
            }
        }
    }
}

fn topic(name: &str) -> &str {
    name.split("::").next().unwrap_or(name)
}

/// The fragment id of a case's section.
pub fn case_anchor(name: &str) -> String {
    let slug: String = name
        .replace("::", ".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("case.{slug}")
}

/// The fragment id of a case's result on one target.
pub fn result_anchor(name: &str, target: &str) -> String {
    format!(
        "{}@{}",
        case_anchor(name),
        case_anchor(target).trim_start_matches("case.")
    )
}

/// Cases by topic against targets.
fn by_topic(report: &HtmlReport<'_>) -> Markup {
    let mut topics: Vec<(&str, Vec<&CaseView<'_>>)> = Vec::new();
    for case in &report.cases {
        let t = topic(&case.name);
        match topics.iter_mut().find(|(name, _)| *name == t) {
            Some((_, cases)) => cases.push(case),
            None => topics.push((t, vec![case])),
        }
    }
    html! {
        section.index {
            h2 { "Cases by topic" }
            table.matrix id="by-topic" {
                (matrix_head(report))
                @for (name, cases) in &topics {
                    tbody {
                        tr.group { th colspan=(report.targets.len() + 2) { (name) " " span.n { "(" (cases.len()) ")" } } }
                        @for case in cases { (matrix_row(report, case)) }
                    }
                }
            }
        }
    }
}

fn matrix_head(report: &HtmlReport<'_>) -> Markup {
    html! {
        thead { tr {
            th.case-col { "case" }
            @for t in &report.targets { th.target { (t) } }
            th.title-col { "what it checks" }
        } }
    }
}

fn matrix_row(report: &HtmlReport<'_>, case: &CaseView<'_>) -> Markup {
    let short = case
        .name
        .split_once("::")
        .map_or(case.name.as_str(), |(_, rest)| rest);
    html! {
        tr.case {
            th scope="row" { a href={ "#" (case_anchor(&case.name)) } title=(case.name) { (short) } }
            @for target in &report.targets {
                @match case.results.iter().find(|r| &r.target == target) {
                    Some(r) => td class={ "cell " (r.verdict.class()) } {
                        a href={ "#" (result_anchor(&case.name, target)) } title=[r.reason.as_deref()] { (r.verdict.label()) }
                        (regression_badge(r.regression))
                    },
                    None => td.cell.absent { "—" },
                }
            }
            td.title-col { (case.title) }
        }
    }
}

/// Cases by rule against targets; a note when no case names a rule yet.
fn by_rule(report: &HtmlReport<'_>) -> Markup {
    let mut ids: Vec<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    for case in &report.cases {
        for id in &case.rules {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
    }
    let with = |id: &str| -> Vec<&CaseView<'_>> {
        report
            .cases
            .iter()
            .filter(|c| c.rules.iter().any(|r| r == id))
            .collect()
    };
    let without: Vec<&CaseView<'_>> = report.cases.iter().filter(|c| c.rules.is_empty()).collect();
    let any = report.cases.iter().any(|c| !c.rules.is_empty());
    html! {
        section.index {
            details.by-rule open[any] {
                summary { h2 { "Cases by rule" } }
                @if !any {
                    p.note { "No case names a rule yet." }
                } @else {
                    table.matrix id="by-rule" {
                        (matrix_head(report))
                        @for id in &ids {
                            @let cases = with(id);
                            @if !cases.is_empty() {
                                tbody {
                                    tr.group { th colspan=(report.targets.len() + 2) { (rule_chip(report, id)) " " (rule_statement(report, id)) } }
                                    @for case in cases { (matrix_row(report, case)) }
                                }
                            }
                        }
                        @if !without.is_empty() {
                            tbody {
                                tr.group { th colspan=(report.targets.len() + 2) { "no rule" } }
                                @for case in &without { (matrix_row(report, case)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn rule_statement(report: &HtmlReport<'_>, id: &str) -> Markup {
    let statement = report
        .rules
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.statement.as_str());
    html! { span.statement { (statement.unwrap_or("(not in the rule catalogue)")) } }
}

/// `fade.inactive (documented)`, linked to its source.
fn rule_chip(report: &HtmlReport<'_>, id: &str) -> Markup {
    let rule = report.rules.iter().find(|r| r.id == id);
    let level = rule.map_or("unknown", |r| r.level.as_str());
    html! {
        span class={ "rule level-" (level) } title=[rule.map(|r| r.statement.as_str())] {
            @match rule.and_then(|r| r.url.as_deref()) {
                Some(url) => a href=(url) rel="noreferrer" { (id) },
                None => (id),
            }
            " " span.level { (level) }
        }
    }
}

/// A source: a link when it starts with a URL, the rest of the text beside it.
fn source_link(text: &str) -> Markup {
    let (first, rest) = text.split_once(' ').unwrap_or((text, ""));
    let is_url = first.starts_with("https://") || first.starts_with("http://");
    html! {
        @if is_url {
            a href=(first) rel="noreferrer" { (first) } @if !rest.is_empty() { " " (rest) }
        } @else {
            (text)
        }
    }
}

fn case_section(report: &HtmlReport<'_>, case: &CaseView<'_>) -> Markup {
    html! {
        section.case id=(case_anchor(&case.name)) {
            h2 { a.self href={ "#" (case_anchor(&case.name)) } { (case.name) } a.up href="#top" { "← index" } }
            p.title { (case.title) }
            dl {
                @if !case.rules.is_empty() {
                    dt { "rules" }
                    dd { @for id in &case.rules { (rule_chip(report, id)) " " } }
                }
                @if let Some(source) = &case.source { dt { "source" } dd { (source_link(source)) } }
                @if let Some(c) = case.case { dt { "file" } dd { code { (c.path.display()) } } }
            }
            @for result in &case.results { (result_block(case, result)) }
        }
    }
}

fn result_block(case: &CaseView<'_>, result: &ResultView<'_>) -> Markup {
    let path = case
        .case
        .map_or_else(String::new, |c| c.path.display().to_string());
    html! {
        details.result open id=(result_anchor(&case.name, &result.target)) {
            summary {
                span.target { (result.target) } " "
                span class={ "verdict " (result.verdict.class()) } { (result.verdict.label()) }
                (regression_badge(result.regression))
            }
            @if let Some(reason) = &result.reason { pre.reason { (reason) } }
            @if let Some(diff) = &result.regression_diff {
                p.regression-note { "The observed timeline differs from its snapshot:" }
                pre.diff { (diff_lines(diff)) }
            }
            @if !result.faults.is_empty() { (faults_table(&path, &result.faults)) }
            @if let Some(timeline) = result.timeline {
                div.picture { (svg::timeline(timeline, case.case, &result.faults)) }
            }
        }
    }
}

/// The regression state beside a verdict; nothing when snapshots were off.
fn regression_badge(state: &str) -> Markup {
    html! {
        @if state != "off" {
            " " span class={ "regression regression-" (state) } title="regression state against the snapshot" { (state) }
        }
    }
}

fn faults_table(path: &str, faults: &[FaultView]) -> Markup {
    html! {
        table.faults {
            thead { tr { th { "line" } th { "at" } th { "step" } th { "fault" } th { "rule level" } } }
            tbody {
                @for f in faults {
                    tr {
                        td.line { code { @if !path.is_empty() { (path) ":" } (f.line) } }
                        td { code { (f.at) } }
                        td { (f.step) }
                        td.fault { (f.fault) }
                        td { span class={ "level level-" (f.level) } { (f.level) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_fragment_safe() {
        assert_eq!(
            case_anchor("timeout::available_fades_to_away"),
            "case.timeout.available_fades_to_away"
        );
        assert_eq!(
            result_anchor("a::b c", "reference-beta"),
            "case.a.b-c@reference-beta"
        );
    }

    #[test]
    fn cases_are_grouped_by_rule_with_level_and_source() {
        let result = |target: &str, verdict| ResultView {
            target: target.into(),
            verdict,
            reason: None,
            faults: Vec::new(),
            timeline: None,
            regression: "off",
            regression_diff: None,
        };
        let case = |name: &str, rules: &[&str]| CaseView {
            name: name.into(),
            title: String::new(),
            source: None,
            rules: rules.iter().map(|r| (*r).to_owned()).collect(),
            case: None,
            results: vec![
                result("a", VerdictKind::Passed),
                result("b", VerdictKind::Deviates),
            ],
        };
        let report = HtmlReport {
            targets: vec!["a".into(), "b".into()],
            cases: vec![
                case("timeout::fade", &["fade.inactive"]),
                case("timeout::other", &[]),
            ],
            rules: vec![RuleView {
                id: "fade.inactive".into(),
                level: "documented".into(),
                statement: "Available fades to AvailableInactive after 5 minutes".into(),
                url: Some("https://learn.microsoft.com/graph/x".into()),
            }],
            meta: RunMeta::default(),
        };
        let page = render(&report);
        assert!(page.contains(r#"<table class="matrix" id="by-rule">"#));
        assert!(page.contains(r#"<span class="rule level-documented""#));
        assert!(page.contains(
            r#"<a href="https://learn.microsoft.com/graph/x" rel="noreferrer">fade.inactive</a>"#
        ));
        assert!(page.contains("no rule"));
        assert_eq!(page.matches(r#"class="cell deviates""#).count(), 4);
    }

    #[test]
    fn text_is_escaped_and_nothing_is_loaded() {
        let report = HtmlReport {
            targets: vec!["reference".into()],
            cases: vec![CaseView {
                name: "x::<script>".into(),
                title: "a <b> & c".into(),
                source: Some("https://example.test/doc (section)".into()),
                rules: Vec::new(),
                case: None,
                results: vec![ResultView {
                    target: "reference".into(),
                    verdict: VerdictKind::NotApplicable,
                    reason: Some("needs a virtual clock".into()),
                    faults: Vec::new(),
                    timeline: None,
                    regression: "off",
                    regression_diff: None,
                }],
            }],
            rules: Vec::new(),
            meta: RunMeta::default(),
        };
        let page = render(&report);
        assert!(!page.contains("<script>"));
        assert!(page.contains("a &lt;b&gt; &amp; c"));
        assert!(page.contains(r#"<a href="https://example.test/doc" rel="noreferrer">"#));
        assert!(!page.contains(" src="));
    }
}
