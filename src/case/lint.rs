//! `cases lint` beyond the format: every request a case sends is checked against the spec, so a
//! case cannot send an invalid request by accident, nor claim `contract: invalid-request` for a
//! valid one.

use serde_json::json;

use super::model::{Action, BodyTemplate, Case};
use crate::spec::{Contract, HttpMessage};

/// An id that stands for every actor when a request is checked without a target.
const PLACEHOLDER_ID: &str = "00000000-0000-4000-8000-000000000000";

/// Problems with the requests of `case`, each with its line.
pub fn lint_requests(case: &Case, contract: &Contract) -> Vec<String> {
    let mut problems = Vec::new();
    for step in &case.steps {
        let Action::Send(exchange) = &step.action else {
            continue;
        };
        let request = &exchange.request;
        if request.from_root {
            continue;
        }
        let fill = |text: &str| {
            case.actor_names().fold(text.to_owned(), |out, name| {
                out.replace(
                    &format!("{{{name}:upper}}"),
                    &PLACEHOLDER_ID.to_ascii_uppercase(),
                )
                .replace(&format!("{{{name}}}"), PLACEHOLDER_ID)
            })
        };
        let body = match &request.body {
            None => String::new(),
            Some(BodyTemplate::Text(text)) => fill(text),
            Some(BodyTemplate::Ids { listed, generated }) => {
                let mut ids: Vec<String> = listed.iter().map(|t| fill(t)).collect();
                ids.extend(std::iter::repeat_n(PLACEHOLDER_ID.to_owned(), *generated));
                json!({ "ids": ids }).to_string()
            }
            Some(BodyTemplate::StatusMessage {
                message, time_zone, ..
            }) => json!({ "statusMessage": {
                "message": { "content": message, "contentType": "text" },
                "expiryDateTime": { "dateTime": "2026-01-05T10:00:00", "timeZone": time_zone },
            }})
            .to_string(),
        };
        let content_type = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let path = fill(&request.path);
        let message = HttpMessage {
            method: &request.method,
            path: &path,
            content_type,
            body: body.as_bytes(),
        };
        let violations = contract.check_request(&message);
        let at = format!("{}:{}", case.path.display(), step.line);
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
