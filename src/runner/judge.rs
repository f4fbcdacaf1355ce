//! Judging what a target did against what a case expects. Each function returns the faults as
//! typed values (which expectation, what was expected, what was observed), so the runner can
//! judge each at the level of the rule it rests on and every report renders them at its edge
//! (`status: expected 404, observed 200`); empty means it held.

use std::fmt;

use serde_json::Value;

use crate::case::{Expect, Field, Observation, RuleRef, StepRules};
use crate::contract::{Direction, Violation};

/// A field of an observed presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceField {
    Availability,
    Activity,
    StatusMessage,
    StatusMessageContent,
    StatusMessageExpiry,
    StatusMessagePublished,
    IsOutOfOffice,
    SequenceNumber,
}

impl PresenceField {
    /// Its path in the presence resource, as reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            PresenceField::Availability => "availability",
            PresenceField::Activity => "activity",
            PresenceField::StatusMessage => "statusMessage",
            PresenceField::StatusMessageContent => "statusMessage.message.content",
            PresenceField::StatusMessageExpiry => "statusMessage.expiryDateTime",
            PresenceField::StatusMessagePublished => "statusMessage.publishedDateTime",
            PresenceField::IsOutOfOffice => "outOfOfficeSettings.isOutOfOffice",
            PresenceField::SequenceNumber => "sequenceNumber",
        }
    }
}

/// What did not hold, with what was expected and what was observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The response's status code; `expected: None` is any 2xx.
    Status {
        expected: Option<u16>,
        observed: u16,
    },
    /// The response's `error.code`; `observed: None` is no Graph error body.
    ErrorCode {
        expected: String,
        observed: Option<String>,
    },
    /// The response body at a JSON pointer (empty: the body as a whole); values as JSON text.
    Body {
        pointer: String,
        expected: String,
        observed: String,
    },
    /// A field of an observed presence.
    Presence {
        field: PresenceField,
        expected: String,
        observed: String,
    },
    /// The read an observation makes did not answer 200.
    PresenceRead { observed: u16 },
    /// What the runner's webhook receiver got (or did not get).
    Notification { expected: String, observed: String },
    /// A contract clause the exchange breaks. `on_purpose_hint`: a request violation the step
    /// did not mark as intended.
    Contract {
        violation: Violation,
        on_purpose_hint: bool,
    },
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Status {
                expected: Some(want),
                observed,
            } => write!(f, "status: expected {want}, observed {observed}"),
            FaultKind::Status {
                expected: None,
                observed,
            } => write!(f, "status: expected 2xx, observed {observed}"),
            FaultKind::ErrorCode { expected, observed } => match observed {
                Some(code) => write!(f, "error.code: expected {expected}, observed {code}"),
                None => write!(
                    f,
                    "error.code: expected {expected}, observed no Graph error body"
                ),
            },
            FaultKind::Body {
                pointer,
                expected,
                observed,
            } => write!(f, "body{pointer}: expected {expected}, observed {observed}"),
            FaultKind::Presence {
                field,
                expected,
                observed,
            } => write!(
                f,
                "{}: expected {expected}, observed {observed}",
                field.as_str()
            ),
            FaultKind::PresenceRead { observed } => {
                write!(f, "GET presence answered {observed}")
            }
            FaultKind::Notification { expected, observed } => {
                write!(f, "notification: expected {expected}, observed {observed}")
            }
            FaultKind::Contract {
                violation,
                on_purpose_hint,
            } => {
                let direction = match violation.direction {
                    Direction::Request => "request",
                    Direction::Response => "response",
                };
                write!(f, "contract: {direction} {violation}")?;
                if *on_purpose_hint {
                    f.write_str(
                        " (mark the step `contract: invalid-request` if this is on purpose)",
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl FaultKind {
    /// The kind's name in JSON reports.
    pub fn label(&self) -> &'static str {
        match self {
            FaultKind::Status { .. } => "status",
            FaultKind::ErrorCode { .. } => "error-code",
            FaultKind::Body { .. } => "body",
            FaultKind::Presence { .. } => "presence",
            FaultKind::PresenceRead { .. } => "presence-read",
            FaultKind::Notification { .. } => "notification",
            FaultKind::Contract { .. } => "contract",
        }
    }

    /// The rule of a step that this expectation rests on: a refusal's status code, an error
    /// code and a sequence number have rules of their own; anything else rests on the step's
    /// general rule. (Contract faults rest on their clause, see the runner.)
    pub fn rule<'r>(&self, rules: &'r StepRules) -> &'r RuleRef {
        match self {
            FaultKind::Status {
                expected: Some(code),
                ..
            } if !(200..300).contains(code) => &rules.status,
            FaultKind::ErrorCode { .. } => &rules.error_code,
            FaultKind::Presence {
                field: PresenceField::SequenceNumber,
                ..
            } => &rules.sequence_number,
            _ => &rules.general,
        }
    }
}

fn body(pointer: &str, expected: impl ToString, observed: impl ToString) -> FaultKind {
    FaultKind::Body {
        pointer: pointer.to_owned(),
        expected: expected.to_string(),
        observed: observed.to_string(),
    }
}

fn presence(field: PresenceField, expected: impl ToString, observed: impl ToString) -> FaultKind {
    FaultKind::Presence {
        field,
        expected: expected.to_string(),
        observed: observed.to_string(),
    }
}

/// The response of a request step.
pub fn exchange(expect: &Expect, status: u16, body_value: Option<&Value>) -> Vec<FaultKind> {
    let mut out = Vec::new();
    let held = match expect.status {
        Some(want) => want == status,
        None => (200..300).contains(&status),
    };
    if !held {
        out.push(FaultKind::Status {
            expected: expect.status,
            observed: status,
        });
    }
    if let Some(code) = &expect.error {
        let observed = body_value
            .and_then(|b| b.pointer("/error/code"))
            .and_then(Value::as_str);
        if !observed.is_some_and(|c| c.eq_ignore_ascii_case(code)) {
            out.push(FaultKind::ErrorCode {
                expected: code.clone(),
                observed: observed.map(str::to_owned),
            });
        }
    }
    if let Some(want) = &expect.body {
        match body_value {
            Some(have) => contains(want, have, "", &mut out),
            None => out.push(body("", "a JSON body", "none")),
        }
    }
    out
}

/// True when `have` contains `want`: objects by member, arrays element by element, strings
/// case-insensitively (Graph's casing of values varies between versions).
pub fn contains(want: &Value, have: &Value, pointer: &str, faults: &mut Vec<FaultKind>) {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => {
            for (key, wv) in w {
                let here = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match h.get(key) {
                    Some(hv) => contains(wv, hv, &here, faults),
                    None => faults.push(body(&here, wv, "nothing")),
                }
            }
        }
        (Value::Array(w), Value::Array(h)) => {
            if w.len() != h.len() {
                faults.push(body(pointer, format!("{} items", w.len()), h.len()));
                return;
            }
            for (i, (wv, hv)) in w.iter().zip(h).enumerate() {
                contains(wv, hv, &format!("{pointer}/{i}"), faults);
            }
        }
        (Value::String(w), Value::String(h)) if w.eq_ignore_ascii_case(h) => {}
        (w, h) if w == h => {}
        (w, h) => faults.push(body(pointer, w, h)),
    }
}

/// A user's presence (the GET body) against an observation. `previous_sequence` is the user's
/// sequenceNumber at their previous observation.
pub fn observation(
    want: &Observation,
    body: &Value,
    previous_sequence: Option<&str>,
) -> Vec<FaultKind> {
    let mut out = Vec::new();
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    for (field, expected) in [
        (PresenceField::Availability, &want.availability),
        (PresenceField::Activity, &want.activity),
    ] {
        if let Some(expected) = expected {
            match text(field.as_str()) {
                Some(v) if v.eq_ignore_ascii_case(expected) => {}
                observed => out.push(presence(field, expected, observed.unwrap_or("nothing"))),
            }
        }
    }
    status_message(want, body, &mut out);
    if let Some(expected) = want.is_out_of_office {
        let observed = body
            .pointer("/outOfOfficeSettings/isOutOfOffice")
            .and_then(Value::as_bool);
        if observed != Some(expected) {
            let observed = observed.map_or("nothing".to_owned(), |o| o.to_string());
            out.push(presence(PresenceField::IsOutOfOffice, expected, observed));
        }
    }
    out.extend(sequence(want, text("sequenceNumber"), previous_sequence));
    out
}

fn status_message(want: &Observation, body: &Value, out: &mut Vec<FaultKind>) {
    let status = body.get("statusMessage").filter(|v| !v.is_null());
    match (&want.status_message, status) {
        (Field::Absent, _) | (Field::Null, None) => {}
        (Field::Null, Some(v)) => out.push(presence(PresenceField::StatusMessage, "null", v)),
        (Field::Given(_), None) => {
            out.push(presence(PresenceField::StatusMessage, "a message", "null"))
        }
        (Field::Given(s), Some(v)) => {
            if let Some(content) = &s.content {
                let observed = v.pointer("/message/content").and_then(Value::as_str);
                if observed != Some(content.as_str()) {
                    out.push(presence(
                        PresenceField::StatusMessageContent,
                        format!("{content:?}"),
                        observed.map_or("nothing".to_owned(), |o| format!("{o:?}")),
                    ));
                }
            }
            for (field, name, shown) in [
                (
                    PresenceField::StatusMessageExpiry,
                    "expiryDateTime",
                    s.expiry_shown,
                ),
                (
                    PresenceField::StatusMessagePublished,
                    "publishedDateTime",
                    s.published_shown,
                ),
            ] {
                let present = v.get(name).is_some();
                if let Some(shown) = shown
                    && shown != present
                {
                    let (e, o) = if shown {
                        ("shown", "absent")
                    } else {
                        ("absent", "shown")
                    };
                    out.push(presence(field, e, o));
                }
            }
        }
    }
}

fn sequence(want: &Observation, now: Option<&str>, before: Option<&str>) -> Option<FaultKind> {
    use crate::case::SequenceExpect;
    let expect = want.sequence?;
    let fault = |expected: String, observed: &str| {
        Some(presence(PresenceField::SequenceNumber, expected, observed))
    };
    match (before, now) {
        (_, None) => fault("a sequenceNumber".to_owned(), "none"),
        (None, Some(now)) => fault(
            "an earlier observation of this user to compare with".to_owned(),
            now,
        ),
        (Some(before), Some(now)) => match expect {
            SequenceExpect::Increased if now <= before => {
                fault(format!("it to grow past {before}"), now)
            }
            SequenceExpect::Unchanged if now != before => fault(format!("{before} unchanged"), now),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_matching_reports_the_pointer_of_each_difference() {
        let mut faults = Vec::new();
        let want = json!({ "value": [{ "id": "{alice}", "availability": "busy" }] });
        let have = json!({ "value": [{ "id": "{alice}", "availability": "Busy", "activity": "InACall" }] });
        contains(&want, &have, "", &mut faults);
        assert!(faults.is_empty(), "{faults:?}");
        let have = json!({ "value": [{ "id": "{bob}", "availability": "Away" }] });
        contains(&want, &have, "", &mut faults);
        assert_eq!(faults.len(), 2);
        assert_eq!(
            faults[0].to_string(),
            r#"body/value/0/id: expected "{alice}", observed "{bob}""#
        );
    }

    #[test]
    fn default_expectation_is_any_2xx() {
        assert!(exchange(&Expect::default(), 204, None).is_empty());
        let texts = |m: Vec<FaultKind>| m.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            texts(exchange(&Expect::default(), 400, None)),
            ["status: expected 2xx, observed 400"]
        );
        let expect = Expect {
            status: Some(404),
            error: Some("NotFound".into()),
            body: None,
        };
        let body = json!({ "error": { "code": "itemNotFound" } });
        let found = exchange(&expect, 404, Some(&body));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0],
            FaultKind::ErrorCode {
                expected: "NotFound".into(),
                observed: Some("itemNotFound".into())
            }
        );
        assert_eq!(
            found[0].to_string(),
            "error.code: expected NotFound, observed itemNotFound"
        );
    }
}
