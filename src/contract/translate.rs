//! From the OpenAPI 3.0 schema dialect to JSON Schema (draft 4, which OpenAPI 3.0 extends), with
//! the relaxations Graph's published schemas need before they can validate real bodies.

use serde_json::{Map, Value};

/// Rewrites a whole OpenAPI document in place so every schema in it is plain JSON Schema:
///
/// - `nullable: true` becomes a `null` member of `type` (and of `enum`), as OpenAPI 3.0.3 defines it;
/// - `anyOf: [X, {type: object, nullable: true}]`, Graph's way to say "X or null", becomes
///   `anyOf: [X, {type: null}]` (taken literally it would accept any object at all);
/// - `additionalProperties: {type: object}`, the OData open-type marker on every Graph schema,
///   is dropped: inside `allOf` it would reject the members of the other branches;
/// - `required: ['@odata.type']`, a generator artefact Graph's responses do not honour, is dropped;
/// - `$ref`s to `#/...` become absolute (`base#/...`) so a schema cut out of the document still
///   resolves through the registry.
///
/// Members named `example`/`examples` are data, not schemas, and are left alone.
pub(crate) fn translate_document(document: &mut Value, base: &str) {
    walk(document, base);
}

fn walk(value: &mut Value, base: &str) {
    match value {
        Value::Object(map) => {
            translate_schema(map, base);
            for (key, child) in map.iter_mut() {
                if key != "example" && key != "examples" {
                    walk(child, base);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, base)),
        _ => {}
    }
}

fn translate_schema(map: &mut Map<String, Value>, base: &str) {
    if let Some(Value::String(reference)) = map.get_mut("$ref")
        && reference.starts_with("#/")
    {
        *reference = format!("{base}{reference}");
    }
    if map.get("additionalProperties") == Some(&serde_json::json!({ "type": "object" })) {
        map.remove("additionalProperties");
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| r.as_str() != Some("@odata.type"));
        if required.is_empty() {
            map.remove("required");
        }
    }
    if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
        for branch in branches.iter_mut() {
            if is_nullable_any_object(branch) {
                *branch = serde_json::json!({ "type": "null" });
            }
        }
    }
    if map.remove("nullable") == Some(Value::Bool(true)) {
        if let Some(Value::String(t)) = map.get("type") {
            let t = t.clone();
            map.insert("type".into(), serde_json::json!([t, "null"]));
        }
        if let Some(Value::Array(values)) = map.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    // Unknown to JSON Schema, and meaningless for validation.
    map.remove("discriminator");
}

fn is_nullable_any_object(branch: &Value) -> bool {
    let Value::Object(b) = branch else {
        return false;
    };
    b.get("nullable") == Some(&Value::Bool(true))
        && b.get("type").and_then(Value::as_str) == Some("object")
        && !b.contains_key("properties")
        && !b.contains_key("$ref")
}

/// A JSON pointer token, escaped (`~0`, `~1`).
pub(crate) fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_becomes_a_null_type_and_enum_member() {
        let mut doc = json!({ "a": { "type": "string", "nullable": true, "enum": ["x"] } });
        translate_document(&mut doc, "urn:t");
        assert_eq!(
            doc["a"],
            json!({ "type": ["string", "null"], "enum": ["x", null] })
        );
    }

    #[test]
    fn graph_quirks_are_relaxed_and_refs_made_absolute() {
        let mut doc = json!({
            "s": {
                "additionalProperties": { "type": "object" },
                "required": ["@odata.type"],
                "properties": { "m": { "anyOf": [{ "$ref": "#/components/schemas/x" }, { "type": "object", "nullable": true }] } },
                "example": { "nullable": true }
            }
        });
        translate_document(&mut doc, "urn:t");
        assert_eq!(
            doc["s"],
            json!({
                "properties": { "m": { "anyOf": [{ "$ref": "urn:t#/components/schemas/x" }, { "type": "null" }] } },
                "example": { "nullable": true }
            })
        );
    }
}
