//! Judging what a target did against what a case expects. Each function returns the mismatches,
//! each a readable line (`status: expected 404, observed 200`) tagged with the expectation it
//! breaks, so the runner can judge it at the level of that expectation's rule; empty means it held.

use serde_json::Value;

use crate::case::{Expect, Field, Observation, RuleRef, StepRules};

/// Which kind of expectation did not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    Status,
    ErrorCode,
    Body,
    /// availability and activity.
    Presence,
    StatusMessage,
    OutOfOffice,
    SequenceNumber,
}

impl Expectation {
    /// The rule of a step that this expectation rests on.
    pub fn rule(self, rules: &StepRules) -> &RuleRef {
        match self {
            Expectation::ErrorCode => &rules.error_code,
            Expectation::SequenceNumber => &rules.sequence_number,
            _ => &rules.general,
        }
    }
}

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub expectation: Expectation,
    pub text: String,
}

fn push(out: &mut Vec<Mismatch>, expectation: Expectation, text: String) {
    out.push(Mismatch { expectation, text });
}

/// The response of a request step.
pub fn exchange(expect: &Expect, status: u16, body: Option<&Value>) -> Vec<Mismatch> {
    let mut out = Vec::new();
    match expect.status {
        Some(want) if want != status => push(
            &mut out,
            Expectation::Status,
            format!("status: expected {want}, observed {status}"),
        ),
        None if !(200..300).contains(&status) => push(
            &mut out,
            Expectation::Status,
            format!("status: expected 2xx, observed {status}"),
        ),
        _ => {}
    }
    if let Some(code) = &expect.error {
        let observed = body
            .and_then(|b| b.pointer("/error/code"))
            .and_then(Value::as_str);
        let text = match observed {
            Some(c) if c.eq_ignore_ascii_case(code) => None,
            Some(c) => Some(format!("error.code: expected {code}, observed {c}")),
            None => Some(format!(
                "error.code: expected {code}, observed no Graph error body"
            )),
        };
        if let Some(text) = text {
            push(&mut out, Expectation::ErrorCode, text);
        }
    }
    if let Some(want) = &expect.body {
        let mut faults = Vec::new();
        match body {
            Some(have) => contains(want, have, "", &mut faults),
            None => faults.push("body: expected a JSON body, observed none".to_owned()),
        }
        for text in faults {
            push(&mut out, Expectation::Body, text);
        }
    }
    out
}

/// True when `have` contains `want`: objects by member, arrays element by element, strings
/// case-insensitively (Graph's casing of values varies between versions).
pub fn contains(want: &Value, have: &Value, pointer: &str, faults: &mut Vec<String>) {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => {
            for (key, wv) in w {
                let here = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match h.get(key) {
                    Some(hv) => contains(wv, hv, &here, faults),
                    None => faults.push(format!("body{here}: expected {wv}, observed nothing")),
                }
            }
        }
        (Value::Array(w), Value::Array(h)) => {
            if w.len() != h.len() {
                faults.push(format!(
                    "body{pointer}: expected {} items, observed {}",
                    w.len(),
                    h.len()
                ));
                return;
            }
            for (i, (wv, hv)) in w.iter().zip(h).enumerate() {
                contains(wv, hv, &format!("{pointer}/{i}"), faults);
            }
        }
        (Value::String(w), Value::String(h)) if w.eq_ignore_ascii_case(h) => {}
        (w, h) if w == h => {}
        (w, h) => faults.push(format!("body{pointer}: expected {w}, observed {h}")),
    }
}

/// A user's presence (the GET body) against an observation. `previous_sequence` is the user's
/// sequenceNumber at their previous observation.
pub fn observation(
    want: &Observation,
    body: &Value,
    previous_sequence: Option<&str>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    for (name, expected) in [
        ("availability", &want.availability),
        ("activity", &want.activity),
    ] {
        if let Some(expected) = expected {
            let fault = match text(name) {
                Some(v) if v.eq_ignore_ascii_case(expected) => continue,
                Some(v) => format!("{name}: expected {expected}, observed {v}"),
                None => format!("{name}: expected {expected}, observed nothing"),
            };
            push(&mut out, Expectation::Presence, fault);
        }
    }
    for fault in status_message(want, body) {
        push(&mut out, Expectation::StatusMessage, fault);
    }
    if let Some(expected) = want.is_out_of_office {
        let observed = body
            .pointer("/outOfOfficeSettings/isOutOfOffice")
            .and_then(Value::as_bool);
        if observed != Some(expected) {
            push(
                &mut out,
                Expectation::OutOfOffice,
                format!(
                    "outOfOfficeSettings.isOutOfOffice: expected {expected}, observed {observed:?}"
                ),
            );
        }
    }
    if let Some(fault) = sequence(want, text("sequenceNumber"), previous_sequence) {
        push(&mut out, Expectation::SequenceNumber, fault);
    }
    out
}

fn status_message(want: &Observation, body: &Value) -> Vec<String> {
    let mut faults = Vec::new();
    let status = body.get("statusMessage").filter(|v| !v.is_null());
    match (&want.status_message, status) {
        (Field::Absent, _) | (Field::Null, None) => {}
        (Field::Null, Some(v)) => {
            faults.push(format!("statusMessage: expected null, observed {v}"))
        }
        (Field::Given(_), None) => {
            faults.push("statusMessage: expected a message, observed null".to_owned())
        }
        (Field::Given(s), Some(v)) => {
            if let Some(content) = &s.content {
                let observed = v.pointer("/message/content").and_then(Value::as_str);
                if observed != Some(content.as_str()) {
                    faults.push(format!(
                        "statusMessage.message.content: expected {content:?}, observed {}",
                        observed.map_or("nothing".to_owned(), |o| format!("{o:?}"))
                    ));
                }
            }
            for (name, shown) in [
                ("expiryDateTime", s.expiry_shown),
                ("publishedDateTime", s.published_shown),
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
                    faults.push(format!("statusMessage.{name}: expected {e}, observed {o}"));
                }
            }
        }
    }
    faults
}

fn sequence(want: &Observation, now: Option<&str>, before: Option<&str>) -> Option<String> {
    use crate::case::SequenceExpect;
    let expect = want.sequence?;
    match (before, now) {
        (_, None) => Some("sequenceNumber: observed none".to_owned()),
        (None, Some(_)) => {
            Some("sequenceNumber: no earlier observation of this user to compare with".to_owned())
        }
        (Some(before), Some(now)) => match expect {
            SequenceExpect::Increased if now <= before => Some(format!(
                "sequenceNumber: expected it to grow past {before}, observed {now}"
            )),
            SequenceExpect::Unchanged if now != before => Some(format!(
                "sequenceNumber: expected {before} unchanged, observed {now}"
            )),
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
        assert!(faults[0].starts_with("body/value/0/id"), "{faults:?}");
    }

    #[test]
    fn default_expectation_is_any_2xx() {
        assert!(exchange(&Expect::default(), 204, None).is_empty());
        let texts = |m: Vec<Mismatch>| m.into_iter().map(|m| m.text).collect::<Vec<_>>();
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
        assert_eq!(found[0].expectation, Expectation::ErrorCode);
        assert_eq!(
            found[0].text,
            "error.code: expected NotFound, observed itemNotFound"
        );
    }
}
