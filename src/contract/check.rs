//! The contract checker: a spec loaded once, every schema compiled once, then each request and
//! response judged: path and method known, status declared (ranges such as `2XX` honoured),
//! content type, body against its schema, and, at the documented strictness, the rules the
//! documentation states in prose (`x-presence-documented`).

use std::sync::{Arc, LazyLock};

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

use super::documented::DocumentedRules;
use super::translate::{pointer_token, translate_document};
use super::{Clause, Direction, HttpMessage, SpecDocument, SpecError, Strictness, Violation};

const BASE: &str = "urn:presence-conformance:spec";

/// A compiled spec.
pub struct Contract {
    operations: Vec<Operation>,
    /// The shared error response, for answers to paths the spec does not have.
    error_schema: Option<Arc<Validator>>,
    strictness: Strictness,
    origin: String,
}

struct Operation {
    id: String,
    method: String,
    template: Vec<Segment>,
    path: String,
    /// Path parameters with a `pattern`: (segment index, name, pattern).
    path_patterns: Vec<(usize, String, regex::Regex)>,
    request: Option<Body>,
    request_required: bool,
    responses: Vec<(StatusKey, Vec<Body>)>,
    documented: Option<DocumentedRules>,
}

enum Segment {
    Literal(String),
    Parameter,
}

/// A declared body: its media type and schema.
struct Body {
    media_type: String,
    schema: Option<Arc<Validator>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatusKey {
    Exact(u16),
    Range(u16),
    Default,
}

impl StatusKey {
    fn parse(key: &str) -> Option<StatusKey> {
        if key == "default" {
            return Some(StatusKey::Default);
        }
        if let Some(class) = key.strip_suffix("XX").or_else(|| key.strip_suffix("xx")) {
            return class
                .parse()
                .ok()
                .filter(|c| (1..=5).contains(c))
                .map(StatusKey::Range);
        }
        key.parse()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .map(StatusKey::Exact)
    }

    /// How well the key matches a status: exact beats range beats default.
    fn rank(self, status: u16) -> Option<u8> {
        match self {
            StatusKey::Exact(s) if s == status => Some(3),
            StatusKey::Range(c) if c == status / 100 => Some(2),
            StatusKey::Default => Some(1),
            _ => None,
        }
    }
}

static BUNDLED: LazyLock<[[Result<Contract, String>; 2]; 2]> = LazyLock::new(|| {
    let load = |text: &str, origin: &str, strictness| {
        Contract::from_yaml_str(text, origin, strictness).map_err(|e| e.to_string())
    };
    let compile = |document: SpecDocument| {
        [Strictness::Upstream, Strictness::Documented]
            .map(|strictness| load(document.bundled_text(), document.origin(), strictness))
    };
    [compile(SpecDocument::V1_0), compile(SpecDocument::Beta)]
});

impl Contract {
    /// The documents under `spec/`, compiled once per process.
    pub fn bundled(
        profile: SpecDocument,
        strictness: Strictness,
    ) -> Result<&'static Contract, SpecError> {
        let row = match profile {
            SpecDocument::V1_0 => &BUNDLED[0],
            SpecDocument::Beta => &BUNDLED[1],
        };
        let cell = match strictness {
            Strictness::Upstream => &row[0],
            Strictness::Documented => &row[1],
        };
        cell.as_ref().map_err(|e| SpecError::Bundled(e.clone()))
    }

    /// Loads a document (YAML or JSON), checks it is OpenAPI 3.0 and compiles every schema.
    pub(crate) fn from_yaml_str(
        text: &str,
        origin: &str,
        strictness: Strictness,
    ) -> Result<Contract, SpecError> {
        let document = super::load::parse_document(text, origin)?;
        Self::from_document(document, origin, strictness)
    }

    pub(crate) fn from_document(
        mut document: Value,
        origin: &str,
        strictness: Strictness,
    ) -> Result<Contract, SpecError> {
        let raw = document.clone();
        translate_document(&mut document, BASE);
        let registry = jsonschema::Registry::new()
            .draft(Draft::Draft4)
            .add(BASE, document.clone())
            .and_then(|r| r.prepare())
            .map_err(|e| SpecError::Invalid {
                origin: origin.to_owned(),
                pointer: String::new(),
                message: format!("cannot index the document: {e}"),
            })?;
        let compiler = Compiler {
            raw: &raw,
            document: &document,
            registry: &registry,
            origin,
        };
        let mut operations = Vec::new();
        let paths = raw
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| compiler.invalid("/paths", "the document has no paths".into()))?;
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for method in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                if let Some(op) = item.get(method) {
                    operations.push(compiler.operation(path, method, op)?);
                }
            }
        }
        const ERROR_SCHEMA: &str = "/components/responses/error/content/application~1json/schema";
        let error_schema = match raw.pointer(ERROR_SCHEMA) {
            Some(_) => Some(compiler.compile(ERROR_SCHEMA)?),
            None => None,
        };
        Ok(Contract {
            operations,
            error_schema,
            strictness,
            origin: origin.to_owned(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The operationIds, in document order.
    pub(crate) fn operation_ids(&self) -> impl Iterator<Item = &str> {
        self.operations.iter().map(|o| o.id.as_str())
    }

    fn find(&self, method: &str, path: &str) -> Result<&Operation, Violation> {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let matching: Vec<&Operation> = self
            .operations
            .iter()
            .filter(|o| matches_template(&o.template, &segments))
            .collect();
        // A literal segment beats a parameter (`/presences/$count` over `/presences/{id}`).
        let same_method = matching
            .iter()
            .copied()
            .filter(|o| o.method.eq_ignore_ascii_case(method))
            .max_by_key(|o| {
                o.template
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count()
            });
        if let Some(op) = same_method {
            return Ok(op);
        }
        let violation = |expected: String| Violation {
            operation: None,
            direction: Direction::Request,
            clause: Clause::Undeclared,
            pointer: String::new(),
            expected,
            found: format!("{method} {path}"),
        };
        if matching.is_empty() {
            Err(violation("a path the spec declares".into()))
        } else {
            let mut allowed: Vec<&str> = matching.iter().map(|o| o.method.as_str()).collect();
            allowed.dedup();
            Err(violation(format!(
                "one of the methods {}",
                allowed.join(", ")
            )))
        }
    }

    /// A method and a concrete path that reach `operation_id` (parameters filled with a GUID, which
    /// every id parameter of ours takes).
    pub(crate) fn example_request(&self, operation_id: &str) -> Option<(String, String)> {
        let op = self.operations.iter().find(|o| o.id == operation_id)?;
        let path = op
            .path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "00000000-0000-4000-8000-000000000000"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        Some((op.method.clone(), path))
    }

    /// Violations of one request.
    pub fn check_request(&self, request: &HttpMessage<'_>) -> Vec<Violation> {
        let op = match self.find(request.method, request.path) {
            Ok(op) => op,
            Err(v) => return vec![v],
        };
        let mut out = Vec::new();
        let fault = |pointer: &str, expected: String, found: String| Violation {
            operation: Some(op.id.clone()),
            direction: Direction::Request,
            clause: Clause::Published,
            pointer: pointer.to_owned(),
            expected,
            found,
        };
        let segments: Vec<&str> = request
            .path
            .split('?')
            .next()
            .unwrap_or_default()
            .trim_start_matches('/')
            .split('/')
            .collect();
        for (index, name, pattern) in &op.path_patterns {
            let value = segments.get(*index).copied().unwrap_or_default();
            if !pattern.is_match(value) {
                // The GUID patterns are ours (spec/README.md, Decision 7).
                out.push(Violation {
                    clause: Clause::Ours,
                    ..fault(
                        "",
                        format!("path parameter {name} matching {}", pattern.as_str()),
                        format!("{value:?}"),
                    )
                });
            }
        }
        let empty = request.body.iter().all(u8::is_ascii_whitespace);
        match (&op.request, empty) {
            (None, true) => {}
            (None, false) => out.push(fault(
                "",
                "no request body".into(),
                format!("{} bytes", request.body.len()),
            )),
            (Some(_), true) if op.request_required => {
                out.push(fault("", "a request body".into(), "none".into()))
            }
            (Some(_), true) => {}
            (Some(body), false) => {
                out.extend(check_body(
                    body,
                    request.content_type,
                    request.body,
                    |p, e, f| fault(p, e, f),
                ));
                if self.strictness == Strictness::Documented
                    && let (Some(rules), Ok(json)) = (
                        &op.documented,
                        serde_json::from_slice::<Value>(request.body),
                    )
                {
                    out.extend(rules.check(&json).into_iter().map(|breach| Violation {
                        clause: breach.clause(),
                        ..fault(&breach.pointer(), breach.expected(), breach.found())
                    }));
                }
            }
        }
        out
    }

    /// Answers to paths the spec lacks must still be Graph errors.
    fn undeclared_response(&self, status: u16, response: &HttpMessage<'_>) -> Vec<Violation> {
        let Some(schema) = self.error_schema.as_ref().filter(|_| status >= 400) else {
            return Vec::new();
        };
        let body = Body {
            media_type: "application/json".into(),
            schema: Some(schema.clone()),
        };
        check_body(&body, response.content_type, response.body, |p, e, f| {
            Violation {
                operation: None,
                direction: Direction::Response,
                clause: Clause::Undeclared,
                pointer: p.to_owned(),
                expected: e,
                found: f,
            }
        })
    }

    /// Violations of one response to `request`.
    pub fn check_response(
        &self,
        request: &HttpMessage<'_>,
        status: u16,
        response: &HttpMessage<'_>,
    ) -> Vec<Violation> {
        let fault =
            |operation: Option<&str>, pointer: &str, expected: String, found: String| Violation {
                operation: operation.map(str::to_owned),
                direction: Direction::Response,
                clause: Clause::Published,
                pointer: pointer.to_owned(),
                expected,
                found,
            };
        let Ok(op) = self.find(request.method, request.path) else {
            return self.undeclared_response(status, response);
        };
        let declared = op
            .responses
            .iter()
            .filter_map(|(key, bodies)| key.rank(status).map(|r| (r, bodies)))
            .max_by_key(|(r, _)| *r);
        let Some((_, bodies)) = declared else {
            let keys: Vec<String> = op
                .responses
                .iter()
                .map(|(k, _)| match k {
                    StatusKey::Exact(s) => s.to_string(),
                    StatusKey::Range(c) => format!("{c}XX"),
                    StatusKey::Default => "default".into(),
                })
                .collect();
            return vec![fault(
                Some(&op.id),
                "",
                format!("a declared status ({})", keys.join(", ")),
                status.to_string(),
            )];
        };
        let empty = response.body.iter().all(u8::is_ascii_whitespace);
        if bodies.is_empty() {
            return if empty {
                Vec::new()
            } else {
                vec![fault(
                    Some(&op.id),
                    "",
                    "no body".into(),
                    format!("{} bytes", response.body.len()),
                )]
            };
        }
        if empty {
            return vec![fault(
                Some(&op.id),
                "",
                format!("a {} body", bodies[0].media_type),
                "none".into(),
            )];
        }
        let candidates: Vec<&Body> = bodies.iter().collect();
        let chosen = candidates
            .iter()
            .find(|b| {
                response
                    .content_type
                    .is_some_and(|ct| media_matches(&b.media_type, ct))
            })
            .copied()
            .unwrap_or(candidates[0]);
        check_body(chosen, response.content_type, response.body, |p, e, f| {
            fault(Some(&op.id), p, e, f)
        })
    }
}

/// The path parameters of `path` that declare a `pattern` (path-level and operation-level
/// `parameters`), with the index of their segment.
fn path_patterns(
    path: &str,
    path_level: Option<&Value>,
    operation_level: Option<&Value>,
) -> Result<Vec<(usize, String, regex::Regex)>, String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut out = Vec::new();
    let declared = [path_level, operation_level]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten();
    for parameter in declared {
        if parameter.get("in").and_then(Value::as_str) != Some("path") {
            continue;
        }
        let (Some(name), Some(pattern)) = (
            parameter.get("name").and_then(Value::as_str),
            parameter.pointer("/schema/pattern").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Some(index) = segments.iter().position(|s| *s == format!("{{{name}}}")) else {
            return Err(format!(
                "the path parameter {name} is not in the path {path}"
            ));
        };
        let regex = regex::Regex::new(pattern)
            .map_err(|e| format!("the pattern of path parameter {name}: {e}"))?;
        out.push((index, name.to_owned(), regex));
    }
    Ok(out)
}

fn parse_template(path: &str) -> Vec<Segment> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Parameter
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

fn matches_template(template: &[Segment], segments: &[&str]) -> bool {
    template.len() == segments.len()
        && template.iter().zip(segments).all(|(t, s)| match t {
            Segment::Literal(l) => l == s,
            Segment::Parameter => !s.is_empty(),
        })
}

fn media_matches(declared: &str, content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    declared.eq_ignore_ascii_case(essence) || declared == "*/*"
}

fn check_body(
    body: &Body,
    content_type: Option<&str>,
    bytes: &[u8],
    fault: impl Fn(&str, String, String) -> Violation,
) -> Vec<Violation> {
    match content_type {
        Some(ct) if media_matches(&body.media_type, ct) => {}
        other => {
            return vec![fault(
                "",
                format!("content type {}", body.media_type),
                other.map_or("none".to_owned(), str::to_owned),
            )];
        }
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return vec![fault(
                "",
                "a JSON document".into(),
                format!("invalid JSON ({e})"),
            )];
        }
    };
    let Some(schema) = &body.schema else {
        return Vec::new();
    };
    schema
        .iter_errors(&value)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            let found = value
                .pointer(&pointer)
                .map_or_else(|| json!(null).to_string(), short);
            fault(&pointer, e.to_string(), found)
        })
        .collect()
}

/// A value shown in a report: compact JSON, cut at 80 characters.
pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}...", text.chars().take(77).collect::<String>())
    } else {
        text
    }
}

/// Compiles one OpenAPI document: its operations, their bodies and every schema in them.
struct Compiler<'a> {
    /// The document as written (for `$ref`s to responses and request bodies).
    raw: &'a Value,
    /// The document translated to JSON Schema draft 4.
    document: &'a Value,
    registry: &'a jsonschema::Registry<'a>,
    origin: &'a str,
}

impl Compiler<'_> {
    fn invalid(&self, pointer: &str, message: String) -> SpecError {
        SpecError::Invalid {
            origin: self.origin.to_owned(),
            pointer: pointer.to_owned(),
            message,
        }
    }

    fn compile(&self, pointer: &str) -> Result<Arc<Validator>, SpecError> {
        let schema = self
            .document
            .pointer(pointer)
            .ok_or_else(|| self.invalid(pointer, "no schema here".into()))?;
        jsonschema::options()
            .with_draft(Draft::Draft4)
            .with_registry(self.registry)
            .build(schema)
            .map(Arc::new)
            .map_err(|e| self.invalid(pointer, format!("the schema does not compile: {e}")))
    }

    fn bodies(&self, pointer: &str, content: Option<&Value>) -> Result<Vec<Body>, SpecError> {
        let mut out = Vec::new();
        if let Some(Value::Object(content)) = content {
            for (media_type, spec) in content {
                let schema_pointer =
                    format!("{pointer}/content/{}/schema", pointer_token(media_type));
                let schema = match spec.get("schema") {
                    Some(_) => Some(self.compile(&schema_pointer)?),
                    None => None,
                };
                out.push(Body {
                    media_type: media_type.clone(),
                    schema,
                });
            }
        }
        Ok(out)
    }

    /// `$ref: '#/components/responses/error'` and the like, resolved in the raw document: the
    /// pointer of what was found (`fallback` when written in place) and the value.
    fn resolve(&self, value: &Value, fallback: String) -> (String, Option<Value>) {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => (pointer.to_owned(), self.raw.pointer(pointer).cloned()),
            None => (fallback, Some(value.clone())),
        }
    }

    fn operation(&self, path: &str, method: &str, op: &Value) -> Result<Operation, SpecError> {
        let op_pointer = format!("/paths/{}/{method}", pointer_token(path));
        let id = op.get("operationId").and_then(Value::as_str).map_or_else(
            || format!("{} {path}", method.to_uppercase()),
            str::to_owned,
        );
        let (request, request_required, documented) = match op.get("requestBody") {
            None => (None, false, None),
            Some(body) => self.request_body(&op_pointer, body)?,
        };
        let path_level = self
            .raw
            .pointer(&format!("/paths/{}/parameters", pointer_token(path)));
        let path_patterns = path_patterns(path, path_level, op.get("parameters"))
            .map_err(|m| self.invalid(&op_pointer, m))?;
        Ok(Operation {
            id,
            method: method.to_uppercase(),
            template: parse_template(path),
            path: path.to_owned(),
            path_patterns,
            request,
            request_required,
            responses: self.responses(&op_pointer, op)?,
            documented,
        })
    }

    /// The request body: its (first) declared media type, whether it is required, and the
    /// documented layer of rules on it.
    fn request_body(
        &self,
        op_pointer: &str,
        body: &Value,
    ) -> Result<(Option<Body>, bool, Option<DocumentedRules>), SpecError> {
        let (pointer, resolved) = self.resolve(body, format!("{op_pointer}/requestBody"));
        let resolved = resolved.unwrap_or(Value::Null);
        let declared = self.bodies(&pointer, resolved.get("content"))?;
        let schema = resolved.pointer("/content/application~1json/schema");
        let properties = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object);
        let parameters: Option<Vec<String>> = properties.map(|p| p.keys().cloned().collect());
        let nullable: Vec<String> = properties
            .into_iter()
            .flatten()
            .filter(|(_, p)| p.get("nullable") == Some(&Value::Bool(true)))
            .map(|(name, _)| name.clone())
            .collect();
        let documented = schema
            .and_then(|s| s.get("x-presence-documented"))
            .map(|d| DocumentedRules::parse(d).map_err(|m| self.invalid(&pointer, m)))
            .transpose()?
            .map(|rules| match parameters {
                Some(names) => rules.with_parameters(names, nullable),
                None => rules,
            });
        let required = resolved
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // Graph's actions take JSON only; the first declared body is the one.
        Ok((declared.into_iter().next(), required, documented))
    }

    fn responses(
        &self,
        op_pointer: &str,
        op: &Value,
    ) -> Result<Vec<(StatusKey, Vec<Body>)>, SpecError> {
        let mut responses = Vec::new();
        let Some(Value::Object(declared)) = op.get("responses") else {
            return Ok(responses);
        };
        for (key, response) in declared {
            let status = StatusKey::parse(key).ok_or_else(|| {
                self.invalid(
                    op_pointer,
                    format!("'{key}' is not a status code, a range or default"),
                )
            })?;
            let fallback = format!("{op_pointer}/responses/{}", pointer_token(key));
            let (pointer, resolved) = self.resolve(response, fallback);
            let resolved = resolved.ok_or_else(|| {
                self.invalid(op_pointer, format!("the response {key} points nowhere"))
            })?;
            responses.push((status, self.bodies(&pointer, resolved.get("content"))?));
        }
        Ok(responses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<'a>(method: &'a str, path: &'a str, body: &'a str) -> HttpMessage<'a> {
        HttpMessage {
            method,
            path,
            content_type: Some("application/json"),
            body: body.as_bytes(),
        }
    }

    #[test]
    fn the_bundled_documents_load_at_both_strictness_levels() {
        // Work-location actions: on /me only in v1.0, on every base in beta; and the five
        // subscription operations on both.
        for (profile, count) in [(SpecDocument::V1_0, 28), (SpecDocument::Beta, 36)] {
            for strictness in [Strictness::Upstream, Strictness::Documented] {
                let contract = Contract::bundled(profile, strictness).unwrap();
                assert_eq!(contract.operation_ids().count(), count);
            }
        }
    }

    #[test]
    fn the_documented_layer_adds_the_prose_rules_only_when_asked() {
        let body = r#"{"sessionId":"x","availability":"Busy","activity":"Busy","expirationDuration":"PT4M"}"#;
        let request = message(
            "POST",
            "/users/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/presence/setPresence",
            body,
        );
        let upstream = Contract::bundled(SpecDocument::V1_0, Strictness::Upstream).unwrap();
        assert_eq!(upstream.check_request(&request), Vec::new());
        let documented = Contract::bundled(SpecDocument::V1_0, Strictness::Documented).unwrap();
        let pointers: Vec<String> = documented
            .check_request(&request)
            .into_iter()
            .map(|v| v.pointer)
            .collect();
        assert_eq!(pointers, ["", "/expirationDuration"]);
    }
}
