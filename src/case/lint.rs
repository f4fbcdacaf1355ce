//! `cases lint` beyond the format: every request a case sends is checked against the spec, so a
//! case cannot send an invalid request by accident, nor claim `contract: invalid-request` for a
//! valid one.

use std::collections::BTreeMap;

use super::model::{Action, Case};
use super::render::Substitution;
use crate::contract::{Contract, HttpMessage};

/// An id that stands for every actor when a request is checked without a target.
const PLACEHOLDER_ID: &str = "00000000-0000-4000-8000-000000000000";

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
