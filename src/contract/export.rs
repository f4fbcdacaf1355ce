//! `spec export`: our OpenAPI document as other tools (Schemathesis, Prism, Dredd) need it.
//!
//! `spec/graph-presence.*.openapi.yaml` follows Microsoft's published OpenAPI and keeps the rules
//! the documentation states only in prose in `x-presence-documented` extensions, which those tools
//! ignore: their "valid" data would break the rules and their "invalid" data would miss them. At
//! the `documented` strictness the export states them as JSON Schema keywords, so that
//! "schema-valid" means what the reference server accepts:
//! - the documented `required` members, `additionalProperties: false` (Graph refuses unknown
//!   parameters; `@odata.*` annotations stay allowed), sessionId a non-empty string (with
//!   `session_id`: that app's id, as a token for that app requires);
//! - the availability/activity pairs as `anyOf`, compared case-insensitively as the server does;
//! - expirationDuration: JSON Schema cannot state a duration range exactly, so it takes a subset of
//!   the documented range (whole minutes PT5M..PT240M or hours PT1H..PT4H; for
//!   setUserPreferredPresence, whose range is ours, up to 99 hours or 999 minutes);
//! - the 650-id limit; statusMessage's content type `text` and a real date and time zone;
//! - `$select` names at least one property; workLocationType takes the values the server takes.
//!
//! At the `upstream` strictness the extensions are removed and nothing else changes.

use serde_json::{Map, Value, json};

use super::Strictness;
use crate::model::Profile;

const DOCUMENTED: &str = "x-presence-documented";
/// setPresence's documented range, PT5M..PT4H, in whole minutes or hours.
const SESSION_RANGE: &str = "^PT(?:(?:[5-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|240)M|[1-4]H)$";
/// setUserPreferredPresence: no documented range; ours takes these (and more).
const PREFERRED_RANGE: &str = "^PT(?:[1-9][0-9]?H|[1-9][0-9]{0,2}M)$";
/// A real date (day 1-28, so every month has it) and time, as dateTimeTimeZone carries it.
const DATE_TIME: &str = "^20[3-9][0-9]-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$";

/// `document` (a parsed OpenAPI document of ours) as JSON for other tools at `strictness`.
/// With `session_id`, sessionId must be that app id (a token for that app requires it).
pub fn export(mut document: Value, strictness: Strictness, session_id: Option<&str>) -> Value {
    match strictness {
        Strictness::Upstream => strip_documented(&mut document),
        Strictness::Documented => {
            let profile = profile_of(&document);
            tighten_operations(&mut document, profile, session_id);
            if let Some(schemas) = document
                .pointer_mut("/components/schemas")
                .and_then(Value::as_object_mut)
            {
                status_message_schemas(schemas);
            }
            let schemas = document
                .pointer("/components/schemas")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            inline_nullable_refs(&mut document, &schemas);
        }
    }
    document
}

/// The profile a document serves: its first server's URL ends in `/beta` or not.
fn profile_of(document: &Value) -> Profile {
    let url = document
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if url.ends_with("/beta") {
        Profile::Beta
    } else {
        Profile::V1_0
    }
}

fn strip_documented(node: &mut Value) {
    match node {
        Value::Object(members) => {
            members.shift_remove(DOCUMENTED);
            members.values_mut().for_each(strip_documented);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_documented),
        _ => {}
    }
}

fn tighten_operations(document: &mut Value, profile: Profile, session_id: Option<&str>) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            for parameter in operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                // `$select=` (an empty list and a list of one empty name look alike) is refused.
                if parameter.get("name").and_then(Value::as_str) == Some("$select")
                    && let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut)
                {
                    schema.insert("minItems".into(), json!(1));
                }
            }
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(schema) = operation
                .get_mut("requestBody")
                .and_then(|body| body.pointer_mut("/content/application~1json/schema"))
                .and_then(Value::as_object_mut)
            {
                tighten_body(&id, schema, profile, session_id);
            }
        }
    }
}

/// One request body's schema with its documented rules as JSON Schema keywords.
fn tighten_body(
    operation_id: &str,
    schema: &mut Map<String, Value>,
    profile: Profile,
    session_id: Option<&str>,
) {
    let rules = schema.shift_remove(DOCUMENTED).unwrap_or(Value::Null);
    schema.insert("additionalProperties".into(), json!(false));
    schema.insert("patternProperties".into(), json!({ "^@": {} }));
    let mut required: Vec<Value> = rules
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let properties = schema
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(properties) = properties else {
        return;
    };
    if properties.contains_key("sessionId") {
        let mut session = json!({ "type": "string", "minLength": 1 });
        if let Some(id) = session_id {
            session["enum"] = json!([id]);
        }
        properties.insert("sessionId".into(), session);
        if !required.contains(&json!("sessionId")) {
            required.push(json!("sessionId"));
        }
    }
    if let Some(duration) = properties
        .get_mut("expirationDuration")
        .and_then(Value::as_object_mut)
    {
        let set_presence = format!(".{}", crate::operation::Operation::SetPresence.name());
        let range = if operation_id.ends_with(&set_presence) {
            SESSION_RANGE
        } else {
            PREFERRED_RANGE
        };
        duration.insert("pattern".into(), json!(range));
        duration.shift_remove("format");
    }
    if properties.contains_key("workLocationType") {
        properties.insert(
            "workLocationType".into(),
            json!({ "type": "string", "enum": profile.work_location_types() }),
        );
    }
    for (name, limit) in rules
        .get("maxItems")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(property) = properties.get_mut(name).and_then(Value::as_object_mut) {
            property.insert("maxItems".into(), limit.clone());
        }
    }
    if operation_id.ends_with(crate::operation::Operation::SetStatusMessage.name()) {
        required.push(json!("statusMessage"));
    }
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    if let Some(pairs) = rules.get("pairs").and_then(Value::as_array)
        && !pairs.is_empty()
    {
        let branches: Vec<Value> = pairs
            .iter()
            .filter_map(|pair| {
                let availability = pair.get(0)?.as_str()?;
                let activity = pair.get(1)?.as_str()?;
                Some(json!({ "properties": {
                    "availability": { "pattern": any_case(availability) },
                    "activity": { "pattern": any_case(activity) },
                }}))
            })
            .collect();
        schema.insert("anyOf".into(), Value::Array(branches));
    }
}

/// A pattern that matches exactly `word`, in any letter case.
fn any_case(word: &str) -> String {
    let mut pattern = String::from("^");
    for c in word.chars() {
        if c.is_ascii_alphabetic() {
            pattern.push('[');
            pattern.push(c.to_ascii_uppercase());
            pattern.push(c.to_ascii_lowercase());
            pattern.push(']');
        } else {
            pattern.push_str(&regex::escape(&c.to_string()));
        }
    }
    pattern.push('$');
    pattern
}

/// statusMessage: the content type the server takes, a real date and a time zone it knows.
fn status_message_schemas(schemas: &mut Map<String, Value>) {
    if let Some(properties) = schemas
        .get_mut("microsoft.graph.itemBody")
        .and_then(|s| s.get_mut("properties"))
        .and_then(Value::as_object_mut)
    {
        properties.insert(
            "contentType".into(),
            json!({ "enum": ["text", null], "nullable": true, "type": "string" }),
        );
    }
    if let Some(zone) = schemas
        .get_mut("microsoft.graph.dateTimeTimeZone")
        .and_then(Value::as_object_mut)
    {
        if let Some(properties) = zone.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert(
                "dateTime".into(),
                json!({ "type": "string", "pattern": DATE_TIME }),
            );
            properties.insert(
                "timeZone".into(),
                json!({
                    "type": "string",
                    "nullable": true,
                    "enum": ["UTC", "Pacific Standard Time", "Europe/Berlin", null],
                }),
            );
        }
        zone.insert("required".into(), json!(["dateTime"]));
    }
}

/// `anyOf: [$ref X, {type: object, nullable: true}]` is Graph's "X or null", but literally it
/// takes any object, and a generator would send any object: make it X, nullable.
fn inline_nullable_refs(node: &mut Value, schemas: &Map<String, Value>) {
    match node {
        Value::Object(members) => {
            if let Some(target) = nullable_ref(members).and_then(|name| schemas.get(name)) {
                let mut inlined = target.clone();
                members.shift_remove("anyOf");
                if let Value::Object(target) = &mut inlined {
                    members.append(target);
                }
                members.insert("nullable".into(), json!(true));
                if let Some(Value::Array(values)) = members.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            for value in members.values_mut() {
                inline_nullable_refs(value, schemas);
            }
        }
        Value::Array(items) => {
            for item in items {
                inline_nullable_refs(item, schemas);
            }
        }
        _ => {}
    }
}

/// The schema name X of `anyOf: [{$ref: .../X}, {type: object, nullable: true}]`.
fn nullable_ref(members: &Map<String, Value>) -> Option<&str> {
    let [reference, null] = members.get("anyOf")?.as_array()?.as_slice() else {
        return None;
    };
    if *null != json!({ "type": "object", "nullable": true }) {
        return None;
    }
    let name = reference.get("$ref")?.as_str()?.rsplit('/').next()?;
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::load::parse_yaml;

    fn bundled(version: &str) -> Value {
        let text = match version {
            "beta" => include_str!("../../spec/graph-presence.beta.openapi.yaml"),
            _ => include_str!("../../spec/graph-presence.v1.0.openapi.yaml"),
        };
        parse_yaml(text, version).unwrap()
    }

    fn set_presence_body(document: &Value) -> &Value {
        document
            .pointer("/paths/~1users~1{user-id}~1presence~1setPresence/post/requestBody/content/application~1json/schema")
            .unwrap()
    }

    #[test]
    fn upstream_has_no_extension_left_and_nothing_else_changes() {
        let document = bundled("v1.0");
        let exported = export(document.clone(), Strictness::Upstream, None);
        assert!(!exported.to_string().contains(&format!("\"{DOCUMENTED}\":")));
        let mut stripped = set_presence_body(&document).clone();
        stripped.as_object_mut().unwrap().shift_remove(DOCUMENTED);
        assert_eq!(set_presence_body(&exported), &stripped);
    }

    #[test]
    fn documented_states_the_prose_rules_as_schema() {
        let exported = export(bundled("v1.0"), Strictness::Documented, Some("app-1"));
        assert!(!exported.to_string().contains(&format!("\"{DOCUMENTED}\":")));
        let body = set_presence_body(&exported);
        assert_eq!(body["additionalProperties"], json!(false));
        assert_eq!(
            body["required"],
            json!(["sessionId", "availability", "activity"])
        );
        assert_eq!(body["properties"]["sessionId"]["enum"], json!(["app-1"]));
        let pairs = body["anyOf"].as_array().unwrap();
        assert_eq!(
            pairs[0]["properties"]["availability"]["pattern"],
            json!("^[Aa][Vv][Aa][Ii][Ll][Aa][Bb][Ll][Ee]$")
        );
        let range = regex::Regex::new(SESSION_RANGE).unwrap();
        let pattern = body["properties"]["expirationDuration"]["pattern"].as_str();
        assert_eq!(pattern, Some(SESSION_RANGE));
        for (text, inside) in [
            ("PT5M", true),
            ("PT4H", true),
            ("PT240M", true),
            ("PT4M", false),
            ("PT5H", false),
            ("PT241M", false),
        ] {
            assert_eq!(range.is_match(text), inside, "{text}");
        }
    }

    #[test]
    fn the_session_range_is_inside_the_documented_one_and_takes_every_whole_minute_of_it() {
        let range = regex::Regex::new(SESSION_RANGE).unwrap();
        for minutes in 0..=600 {
            let text = format!("PT{minutes}M");
            assert_eq!(
                range.is_match(&text),
                (5..=240).contains(&minutes),
                "{text}"
            );
        }
        for hours in 0..=10 {
            let text = format!("PT{hours}H");
            assert_eq!(range.is_match(&text), (1..=4).contains(&hours), "{text}");
        }
    }

    #[test]
    fn work_locations_follow_the_profile() {
        let beta = export(bundled("beta"), Strictness::Documented, None);
        let text = beta.to_string();
        assert!(text.contains(r#""enum":["unspecified","office","remote","timeOff"]"#));
    }
}
