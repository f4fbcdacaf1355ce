//! `spec lint`: the document parses as OpenAPI 3.0, every `$ref` resolves, every operation has a
//! unique operationId and documented responses, every schema compiles, and every example
//! validates against its schema.

use jsonschema::Draft;
use serde_json::Value;

use super::load::parse_document;
use super::translate::{pointer_token, translate_document};
use super::{Contract, SpecError, Strictness};

const BASE: &str = "urn:presence-conformance:lint";

/// The problems found in one document, each naming its JSON pointer.
pub fn lint(text: &str, origin: &str) -> Result<Vec<String>, SpecError> {
    let document = parse_document(text, origin)?;
    let mut problems = Vec::new();
    let mut refs = Vec::new();
    collect_refs(&document, "", &mut refs);
    for (at, target) in &refs {
        match target.strip_prefix('#') {
            Some(pointer) if document.pointer(pointer).is_some() => {}
            Some(_) => problems.push(format!("{at}: $ref {target} points nowhere")),
            None => problems.push(format!("{at}: $ref {target} is outside the document")),
        }
    }
    let mut ids = std::collections::BTreeMap::new();
    if let Some(Value::Object(paths)) = document.get("paths") {
        for (path, item) in paths {
            for method in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                let Some(op) = item.get(method) else { continue };
                let at = format!("/paths/{}/{method}", pointer_token(path));
                match op.get("operationId").and_then(Value::as_str) {
                    None => problems.push(format!("{at}: no operationId")),
                    Some(id) => {
                        if let Some(first) = ids.insert(id.to_owned(), at.clone()) {
                            problems
                                .push(format!("{at}: operationId {id} is also used at {first}"));
                        }
                    }
                }
                if op
                    .get("responses")
                    .and_then(Value::as_object)
                    .is_none_or(|r| r.is_empty())
                {
                    problems.push(format!("{at}: no responses"));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Ok(problems);
    }
    if let Err(e) = Contract::from_document(document.clone(), origin, Strictness::Documented) {
        problems.push(e.to_string());
        return Ok(problems);
    }
    problems.extend(check_examples(&document));
    Ok(problems)
}

fn collect_refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push((at.to_owned(), r.clone()));
            }
            for (k, v) in map {
                collect_refs(v, &format!("{at}/{}", pointer_token(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every schema with an `example` next to it: the example must validate.
fn check_examples(document: &Value) -> Vec<String> {
    let mut translated = document.clone();
    translate_document(&mut translated, BASE);
    let registry = match jsonschema::Registry::new()
        .draft(Draft::Draft4)
        .add(BASE, translated.clone())
        .and_then(|r| r.prepare())
    {
        Ok(r) => r,
        Err(e) => return vec![format!("cannot index the document: {e}")],
    };
    let mut found = Vec::new();
    find_examples(&translated, "", &mut found);
    let mut problems = Vec::new();
    for (pointer, schema, example) in found {
        let mut schema = schema.clone();
        if let Value::Object(map) = &mut schema {
            map.remove("example");
        }
        match jsonschema::options()
            .with_draft(Draft::Draft4)
            .with_registry(&registry)
            .build(&schema)
        {
            Err(e) => problems.push(format!("{pointer}: the schema does not compile: {e}")),
            Ok(validator) => {
                for error in validator.iter_errors(&example) {
                    problems.push(format!(
                        "{pointer}/example{}: {error}",
                        error.instance_path()
                    ));
                }
            }
        }
    }
    problems
}

fn find_examples(value: &Value, at: &str, out: &mut Vec<(String, Value, Value)>) {
    if let Value::Object(map) = value {
        if let Some(example) = map.get("example")
            && (map.contains_key("type")
                || map.contains_key("allOf")
                || map.contains_key("properties")
                || map.contains_key("enum"))
        {
            out.push((at.to_owned(), value.clone(), example.clone()));
        }
        for (k, v) in map {
            if k != "example" && k != "examples" {
                find_examples(v, &format!("{at}/{}", pointer_token(k)), out);
            }
        }
    } else if let Value::Array(items) = value {
        for (i, v) in items.iter().enumerate() {
            find_examples(v, &format!("{at}/{i}"), out);
        }
    }
}
