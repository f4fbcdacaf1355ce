//! `spec diff`: what differs between our spec and an upstream Graph OpenAPI document (such as
//! msgraph-metadata's openapi.yaml), limited to the presence paths: operations, their ids,
//! parameters, status codes, and the properties of the schemas both name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

/// The default path filter: every presence path and the batch read.
pub(crate) const PRESENCE_PATHS: &str = r"(?i)presence";

/// One difference, seen from ours towards upstream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `added` (upstream has it, we do not), `removed` (we have it, upstream does not), `changed`.
    pub kind: &'static str,
    pub subject: String,
    pub detail: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.kind {
            "added" => '+',
            "removed" => '-',
            _ => '~',
        };
        write!(f, "{sign} {}: {}", self.subject, self.detail)
    }
}

struct Op<'a> {
    id: Option<&'a str>,
    value: &'a Value,
    path_item: &'a Value,
}

/// The namespace Microsoft's documents put before every bound action
/// (`/me/presence/microsoft.graph.setPresence`); ours leave it out, as Graph accepts both.
const ACTION_PREFIX: &str = "microsoft.graph.";

/// A path with its action's namespace dropped, so the same action compares equal.
fn normalise_path(path: &str) -> String {
    path.split('/')
        .map(|segment| segment.strip_prefix(ACTION_PREFIX).unwrap_or(segment))
        .collect::<Vec<_>>()
        .join("/")
}

/// What the signs of the text output mean.
pub(crate) const LEGEND: &str =
    "+ upstream has it, ours does not; - ours has it, upstream does not; ~ both, differently";

fn operations<'a>(doc: &'a Value, filter: &Regex) -> BTreeMap<String, Op<'a>> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(paths)) = doc.get("paths") {
        for (path, item) in paths.iter().filter(|(p, _)| filter.is_match(p)) {
            for method in ["get", "put", "post", "delete", "patch"] {
                if let Some(op) = item.get(method) {
                    out.insert(
                        format!("{} {}", method.to_uppercase(), normalise_path(path)),
                        Op {
                            id: op.get("operationId").and_then(Value::as_str),
                            value: op,
                            path_item: item,
                        },
                    );
                }
            }
        }
    }
    out
}

fn parameter_names(op: &Op<'_>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for list in [op.path_item.get("parameters"), op.value.get("parameters")] {
        if let Some(Value::Array(params)) = list {
            for p in params {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| {
                        p.get("$ref")
                            .and_then(Value::as_str)
                            .map(|r| r.rsplit('/').next().unwrap_or(r).to_owned())
                    });
                if let Some(name) = name {
                    names.insert(name);
                }
            }
        }
    }
    names
}

fn statuses(op: &Op<'_>) -> BTreeSet<String> {
    op.value
        .get("responses")
        .and_then(Value::as_object)
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

/// Property names of a schema, through `allOf`.
fn properties(doc: &Value, schema: &Value, depth: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if depth > 8 {
        return out;
    }
    if let Some(Value::Object(p)) = schema.get("properties") {
        out.extend(p.keys().cloned());
    }
    if let Some(Value::Array(parts)) = schema.get("allOf") {
        for part in parts {
            let resolved = part
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| doc.pointer(p))
                .unwrap_or(part);
            out.extend(properties(doc, resolved, depth + 1));
        }
    }
    out
}

fn set_changes(
    out: &mut Vec<Change>,
    subject: &str,
    what: &str,
    ours: &BTreeSet<String>,
    theirs: &BTreeSet<String>,
) {
    for added in theirs.difference(ours) {
        out.push(Change {
            kind: "added",
            subject: subject.to_owned(),
            detail: format!("{what} {added}"),
        });
    }
    for removed in ours.difference(theirs) {
        out.push(Change {
            kind: "removed",
            subject: subject.to_owned(),
            detail: format!("{what} {removed}"),
        });
    }
}

/// The differences between two documents, limited to paths matching `filter`.
pub fn diff(ours: &Value, upstream: &Value, filter: &Regex) -> Vec<Change> {
    let mut out = Vec::new();
    let a = operations(ours, filter);
    let b = operations(upstream, filter);
    for (key, op) in &b {
        if !a.contains_key(key) {
            out.push(Change {
                kind: "added",
                subject: key.clone(),
                detail: format!("operation {}", op.id.unwrap_or("(no operationId)")),
            });
        }
    }
    for (key, op) in &a {
        let Some(theirs) = b.get(key) else {
            out.push(Change {
                kind: "removed",
                subject: key.clone(),
                detail: format!("operation {}", op.id.unwrap_or("(no operationId)")),
            });
            continue;
        };
        if op.id != theirs.id {
            out.push(Change {
                kind: "changed",
                subject: key.clone(),
                detail: format!(
                    "operationId {} -> {}",
                    op.id.unwrap_or("-"),
                    theirs.id.unwrap_or("-")
                ),
            });
        }
        set_changes(
            &mut out,
            key,
            "parameter",
            &parameter_names(op),
            &parameter_names(theirs),
        );
        set_changes(&mut out, key, "status", &statuses(op), &statuses(theirs));
        let body = |o: &Op<'_>| o.value.get("requestBody").is_some();
        if body(op) != body(theirs) {
            let detail = if body(theirs) {
                "request body added"
            } else {
                "request body removed"
            };
            out.push(Change {
                kind: "changed",
                subject: key.clone(),
                detail: detail.into(),
            });
        }
    }
    if let (Some(Value::Object(ours_schemas)), Some(Value::Object(their_schemas))) = (
        ours.pointer("/components/schemas"),
        upstream.pointer("/components/schemas"),
    ) {
        for (name, schema) in ours_schemas {
            let subject = format!("schema {name}");
            match their_schemas.get(name) {
                None => out.push(Change {
                    kind: "removed",
                    subject,
                    detail: "not in upstream".into(),
                }),
                Some(theirs) => {
                    let p = properties(ours, schema, 0);
                    let q = properties(upstream, theirs, 0);
                    set_changes(&mut out, &subject, "property", &p, &q);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(action_path: &str) -> Value {
        serde_json::json!({
            "paths": {
                action_path: { "post": { "operationId": "me.presence.setPresence" } }
            }
        })
    }

    #[test]
    fn the_microsoft_graph_action_prefix_is_not_a_difference() {
        let filter = Regex::new(PRESENCE_PATHS).unwrap();
        let ours = document("/me/presence/setPresence");
        let upstream = document("/me/presence/microsoft.graph.setPresence");
        assert_eq!(diff(&ours, &upstream, &filter), Vec::<Change>::new());
    }
}
