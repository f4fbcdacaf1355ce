//! `cases lint` beyond the format: every request a case sends is checked against the spec, so a
//! case cannot send an invalid request by accident, nor claim `contract: invalid-request` for a
//! valid one.

use std::collections::BTreeMap;

use super::error::CaseError;
use super::model::{Action, Case};
use super::request::Substitution;
use crate::contract::{Contract, HttpMessage};

/// An id that stands for every actor when a request is checked without a target.
const PLACEHOLDER_ID: &str = "00000000-0000-4000-8000-000000000000";

/// What `cases lint` found in a set of case files.
#[derive(Debug, Default)]
pub struct LintReport {
    /// Each problem as it is printed: a located load error, or a request against a profile.
    pub problems: Vec<String>,
    /// Files with at least one problem (each counted once, whatever its profiles).
    pub broken_files: usize,
}

/// Checks every case file: that it loads, and that each request it sends is valid (or marked
/// invalid on purpose) against the spec of every profile it applies to.
pub fn lint_files<'c>(
    cases: impl IntoIterator<Item = &'c Result<Case, CaseError>>,
) -> Result<LintReport, crate::contract::SpecError> {
    use crate::contract::{SpecDocument, Strictness};
    let mut report = LintReport::default();
    for case in cases {
        let loaded = match case {
            Ok(loaded) => loaded,
            Err(e) => {
                report.problems.push(format!("{}\n", e.render()));
                report.broken_files += 1;
                continue;
            }
        };
        let mut broken = false;
        for profile in &loaded.profiles {
            let contract = Contract::bundled(SpecDocument::from(*profile), Strictness::Documented)?;
            for problem in lint_requests(loaded, contract) {
                report
                    .problems
                    .push(format!("error: {problem} [{profile}]"));
                broken = true;
            }
        }
        report.broken_files += usize::from(broken);
    }
    Ok(report)
}

/// Problems with the requests of `case`, each with its line.
pub fn lint_requests(case: &Case, contract: &Contract) -> Vec<String> {
    let ids: BTreeMap<String, String> = case
        .actor_names()
        .map(|name| (name.to_owned(), PLACEHOLDER_ID.to_owned()))
        .collect();
    let substitution = Substitution {
        ids: &ids,
        case_start: crate::model::VIRTUAL_EPOCH
            .parse()
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        webhook: None,
    };
    let mut problems = Vec::new();
    for step in &case.steps {
        let Action::Send(exchange) = &step.action else {
            continue;
        };
        let at = format!("{}:{}", case.path.display(), step.line);
        let request = match exchange.request.render(exchange.via, &substitution) {
            Ok(r) if r.from_root => continue,
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        let content_type = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let message = HttpMessage {
            method: &request.method,
            path: &request.path,
            content_type,
            body: &request.body,
        };
        let violations = contract.check_request(&message);
        match (violations.is_empty(), exchange.invalid_request) {
            (true, true) => problems.push(format!(
                "{at}: the step says `contract: invalid-request` but the request is valid; remove the marker"
            )),
            (false, false) => {
                for v in violations {
                    problems.push(format!(
                        "{at}: the request breaks the contract ({v}); mark the step `contract: invalid-request` if that is the point"
                    ));
                }
            }
            _ => {}
        }
    }
    problems
}
