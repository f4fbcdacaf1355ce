//! Request bodies of the presence actions: size, content type, JSON, and the parameters of each
//! action checked the way Graph's OData layer checks them (unknown parameter, wrong JSON type,
//! null where the parameter is non-nullable), before the presence rules see them.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use axum::body::Bytes;
use axum::body::HttpBody as _;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::error::GraphError;
use super::{AppState, request_header};
use crate::operation::Operation;

/// A request body, read within the configured size limit.
#[derive(Debug)]
pub struct ActionBody {
    bytes: Bytes,
    content_type: ContentType,
}

/// The body's `Content-Type`, judged once when the body is read.
#[derive(Debug)]
enum ContentType {
    Json,
    /// Another type, as sent (for the 415's message).
    Other(String),
    Missing,
}

impl ContentType {
    fn of(value: Option<&[u8]>) -> Self {
        match value {
            None => ContentType::Missing,
            Some(b"application/json") => ContentType::Json,
            Some(v) => match std::str::from_utf8(v) {
                Ok(text) if is_json(text) => ContentType::Json,
                _ => ContentType::Other(String::from_utf8_lossy(v).into_owned()),
            },
        }
    }
}

/// Reads the body itself, within the server's `body_limit`, rather than through axum's `Bytes`
/// under a `DefaultBodyLimit` layer: that layer costs every request an extension (and the
/// growth of the extension map) for a limit only the body extractors read.
impl FromRequest<AppState> for ActionBody {
    type Rejection = GraphError;

    fn from_request(
        req: Request,
        state: &AppState,
    ) -> impl Future<Output = Result<Self, GraphError>> + Send {
        ActionBody::read(req, state.config.body_limit)
    }
}

impl ActionBody {
    /// A request's body, once it has arrived, with at most `limit` bytes (a 413 beyond).
    ///
    /// Not an `async fn`: its future would keep the whole request (headers and all) for as long
    /// as the body takes to arrive, and make the write's future too large for the allocator's
    /// per-thread cache (`docs/perf/server.md`). The headers are read first; only the body waits.
    pub(crate) fn read(
        req: Request,
        limit: usize,
    ) -> impl Future<Output = Result<Self, GraphError>> + Send + 'static {
        let content_type = ContentType::of(
            request_header(req.headers(), &header::CONTENT_TYPE).map(|v| v.as_bytes()),
        );
        let body = Limited::new(req.into_body(), limit);
        async move {
            Ok(ActionBody {
                bytes: read_all(body).await?,
                content_type,
            })
        }
    }
}

/// Every data frame of a body, in one buffer: the frame itself when there is one, as there
/// nearly always is for a small body. A body over the limit is a 413.
///
/// Reading stops as soon as the body says it has ended (its declared length has arrived), as
/// `http_body::Body::is_end_stream` allows: asking hyper once more for the end costs the
/// connection task another turn of its loop before the handler can go on.
async fn read_all(mut body: Limited<axum::body::Body>) -> Result<Bytes, GraphError> {
    let mut first = Bytes::new();
    let mut joined: Option<Vec<u8>> = None;
    while !body.is_end_stream() {
        let Some(frame) = body.frame().await else {
            break;
        };
        let frame = frame.map_err(|e| {
            if e.is::<LengthLimitError>() {
                GraphError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                GraphError::bad_request(format!(
                    "The request body could not be read: Failed to buffer the request body: {e}"
                ))
            }
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        match &mut joined {
            Some(all) => all.extend_from_slice(&data),
            None if first.is_empty() => first = data,
            None => {
                let mut all = first.to_vec();
                all.extend_from_slice(&data);
                joined = Some(all);
            }
        }
    }
    Ok(joined.map_or(first, Bytes::from))
}

impl ActionBody {
    /// A body read some other way (tests, the fuzzer).
    pub fn new(bytes: &[u8], content_type: Option<&str>) -> Self {
        ActionBody {
            bytes: Bytes::copy_from_slice(bytes),
            content_type: ContentType::of(content_type.map(str::as_bytes)),
        }
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

impl ActionBody {
    /// The parameters of `operation` named in `names`, in that order, refusing any other (an
    /// unknown parameter is a 400). An empty body is an empty parameter set (Graph's OpenAPI has
    /// no body for clearUserPreferredPresence, its documentation sends `{}`: both work).
    ///
    /// The body is read in one pass, with the checks of a parse into `serde_json::Value` (the
    /// same syntax errors, every value parsed as a `Value` would parse it), but only the named
    /// members are kept, and their strings borrow from the body when they hold no escape: a
    /// write allocates nothing for its parameters.
    pub(crate) fn parameters<'a, const N: usize>(
        &'a self,
        operation: &'a str,
        names: [&'static str; N],
    ) -> Result<[Parameter<'a>; N], GraphError> {
        let mut parameters = names.map(|name| Parameter {
            operation,
            name,
            value: None,
        });
        self.read_parameters(operation, &mut parameters)?;
        Ok(parameters)
    }

    /// The parameters the operation table lists for `operation`, in its order (the same reading
    /// as [`ActionBody::parameters`]).
    pub(crate) fn parameters_of<const N: usize>(
        &self,
        operation: Operation,
    ) -> Result<[Parameter<'_>; N], GraphError> {
        let names = <[&'static str; N]>::try_from(operation.parameters()).map_err(|_| {
            GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                format!(
                    "{operation} takes {} parameters, not {N}.",
                    operation.parameters().len()
                ),
            )
        })?;
        self.parameters(operation.name(), names)
    }

    /// Reads the body into the values of `parameters`.
    fn read_parameters<'a>(
        &'a self,
        operation: &str,
        parameters: &mut [Parameter<'a>],
    ) -> Result<(), GraphError> {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        match &self.content_type {
            ContentType::Json => {}
            ContentType::Other(ct) => {
                return Err(GraphError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    format!("The content type '{ct}' is not supported; send application/json."),
                ));
            }
            ContentType::Missing => {
                return Err(GraphError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    "A request body needs a Content-Type header; send application/json.",
                ));
            }
        }
        let mut members = Members(parameters);
        // A body that is UTF-8 throughout (as any valid one is) is checked once here rather than
        // string by string; any other is read as bytes, for the same errors as before.
        let read = match std::str::from_utf8(&self.bytes) {
            Ok(text) => match read_plain_object(text, &mut members) {
                Some(shape) => Ok(shape),
                None => read_payload(serde_json::Deserializer::from_str(text), &mut members),
            },
            Err(_) => read_payload(
                serde_json::Deserializer::from_slice(&self.bytes),
                &mut members,
            ),
        }
        .map_err(|e| {
            GraphError::bad_request(format!("Unable to read JSON request payload: {e}"))
        })?;
        match read {
            Shape::NotAnObject => Err(GraphError::bad_request(format!(
                "The request payload of '{operation}' must be a JSON object."
            ))),
            Shape::Object {
                first_unknown: Some(unknown),
            } => Err(GraphError::bad_request(format!(
                "The parameter '{unknown}' in the request payload is not a valid parameter for the operation '{operation}'."
            ))),
            Shape::Object {
                first_unknown: None,
            } => Ok(()),
        }
    }
}

/// A parameter's value: a string (borrowed from the body when it has no escape), or any other
/// JSON value (boxed: strings are the common case, and a `Value` is ten words).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param<'a> {
    Text(Cow<'a, str>),
    Json(Box<Value>),
}

impl Param<'_> {
    /// The kind of value, as error messages name it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Param::Text(_) => "a string",
            Param::Json(value) => json_kind(value),
        }
    }

    /// Whether the value is JSON `null`.
    fn is_null(&self) -> bool {
        matches!(self, Param::Json(value) if value.is_null())
    }
}

/// One parameter of an action call: its name and the value that came for it, if one did (the
/// last one, when a name is repeated, as a JSON object keeps it).
#[derive(Debug)]
pub(crate) struct Parameter<'a> {
    operation: &'a str,
    name: &'static str,
    value: Option<Param<'a>>,
}

impl<'a> Parameter<'a> {
    /// The value as it came, for a closer look (complex types, collections).
    pub(crate) fn value(&self) -> Option<&Param<'a>> {
        self.value.as_ref()
    }

    /// A string parameter that may be absent or null.
    pub(crate) fn optional_text(&self) -> Result<Option<&str>, GraphError> {
        match &self.value {
            None => Ok(None),
            Some(Param::Text(s)) => Ok(Some(s)),
            Some(p) if p.is_null() => Ok(None),
            Some(_) => Err(self.wrong_type("a string")),
        }
    }

    /// A non-nullable string parameter (CSDL `Nullable="false"`).
    pub(crate) fn required_text(&self) -> Result<&str, GraphError> {
        match &self.value {
            Some(Param::Text(s)) => Ok(s),
            None => Err(self.required()),
            Some(p) if p.is_null() => Err(GraphError::bad_request(format!(
                "The parameter '{}' of the operation '{}' must not be null.",
                self.name, self.operation
            ))),
            Some(_) => Err(self.wrong_type("a string")),
        }
    }

    /// The 400 for a required parameter that did not come.
    fn required(&self) -> GraphError {
        GraphError::bad_request(format!(
            "The parameter '{}' of the operation '{}' is required.",
            self.name, self.operation
        ))
    }

    /// The 400 for a value of the wrong JSON type.
    pub(crate) fn wrong_type(&self, expected: &str) -> GraphError {
        let found = self.value.as_ref().map_or("absent", Param::kind);
        GraphError::bad_request(format!(
            "The parameter '{}' of the operation '{}' must be {expected}, not {found}.",
            self.name, self.operation
        ))
    }
}

/// Where a read puts the members it keeps: in the parameter of that name.
struct Members<'p, 'a>(&'p mut [Parameter<'a>]);

impl<'a> Members<'_, 'a> {
    /// The value of a member name, if it is one of the parameters read.
    fn slot(&mut self, name: &str) -> Option<&mut Option<Param<'a>>> {
        let parameter = self.0.iter_mut().find(|p| p.name == name)?;
        Some(&mut parameter.value)
    }
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The shape nearly every action body has, read without serde: one object whose members are all
/// strings without escapes (setPresence's four: a GUID, two names and a duration). `None` for
/// anything else (another value type, an escape, a control character, any syntax error), which
/// serde then reads, with its errors. For the bodies read here both give the same parameters
/// (`plain_objects_read_as_serde_reads_them`); serde's generic path cost the write more than the
/// presence rules and the store together (3.7k instructions against 2.6k, `docs/perf/server.md`).
fn read_plain_object<'a>(text: &'a str, members: &mut Members<'_, 'a>) -> Option<Shape<'a>> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    let mut first_unknown = None;
    if bytes.get(at) == Some(&b'}') {
        at += 1;
    } else {
        loop {
            let (slot, after) = match known_name(bytes, at, members.0) {
                Some((slot, after)) => (Some(slot), after),
                None => {
                    let (name, after) = plain_string(text, at)?;
                    if first_unknown.is_none() && !name.starts_with('@') {
                        first_unknown = Some(Cow::Borrowed(name));
                    }
                    (None, after)
                }
            };
            at = skip_space(bytes, after);
            if bytes.get(at) != Some(&b':') {
                return None;
            }
            let (value, after) = plain_string(text, skip_space(bytes, at + 1))?;
            if let Some(slot) = slot {
                members.0.get_mut(slot)?.value = Some(Param::Text(Cow::Borrowed(value)));
            }
            at = skip_space(bytes, after);
            match bytes.get(at) {
                Some(b',') => at = skip_space(bytes, at + 1),
                Some(b'}') => {
                    at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_space(bytes, at) == bytes.len()).then_some(Shape::Object { first_unknown })
}

/// When the member name that starts at `at` is one of the parameters', spelled as it is (the
/// names hold no quote, backslash or control character, so a byte-for-byte match is the whole,
/// plain string): the parameter's position, and the position after the closing quote.
fn known_name(bytes: &[u8], at: usize, parameters: &[Parameter]) -> Option<(usize, usize)> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let rest = bytes.get(at + 1..)?;
    parameters.iter().enumerate().find_map(|(slot, parameter)| {
        let name = parameter.name.as_bytes();
        (rest.get(name.len()) == Some(&b'"') && rest.starts_with(name))
            .then_some((slot, at + name.len() + 2))
    })
}

/// The position of the first byte at or after `at` that is not JSON whitespace.
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The string that starts at `at` when it needs no unescaping, and the position after it.
fn plain_string(text: &str, at: usize) -> Option<(&str, usize)> {
    if text.as_bytes().get(at) != Some(&b'"') {
        return None;
    }
    let start = at + 1;
    let len = plain_len(text.as_bytes().get(start..)?)?;
    Some((text.get(start..start + len)?, start + len + 1))
}

/// How many bytes of `bytes` come before a closing quote, when none of them is a backslash or a
/// control character. Eight bytes at a time (the zero-byte test of "Bit Twiddling Hacks"): the
/// lowest flagged byte is exact, which is the only one read.
fn plain_len(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let flagged = (zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')))
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGHS;
        if flagged != 0 {
            at += flagged.trailing_zeros() as usize / 8;
            return (bytes.get(at) == Some(&b'"')).then_some(at);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    let len = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    (rest.get(len) == Some(&b'"')).then_some(at + len)
}

/// Reads a whole payload into `members`: one JSON value and nothing after it.
fn read_payload<'a, R: serde_json::de::Read<'a>>(
    mut reader: serde_json::Deserializer<R>,
    members: &mut Members<'_, 'a>,
) -> Result<Shape<'a>, serde_json::Error> {
    let shape = Payload { members }.deserialize(&mut reader)?;
    reader.end()?;
    Ok(shape)
}

/// What the top level of a payload was.
enum Shape<'a> {
    NotAnObject,
    /// An object; the first member name (in order) that is neither allowed nor an annotation.
    Object {
        first_unknown: Option<Cow<'a, str>>,
    },
}

/// Reads a payload into `members`.
struct Payload<'p, 'm, 'a> {
    members: &'p mut Members<'m, 'a>,
}

impl<'de> DeserializeSeed<'de> for Payload<'_, '_, 'de> {
    type Value = Shape<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

/// Anything but an object is parsed as a `Value` would be (same errors), then refused.
impl<'de> Visitor<'de> for Payload<'_, '_, 'de> {
    type Value = Shape<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Shape<'de>, E> {
        Ok(Shape::NotAnObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape<'de>, E> {
        Ok(Shape::NotAnObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape<'de>, E> {
        Ok(Shape::NotAnObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape<'de>, E> {
        Ok(Shape::NotAnObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape<'de>, E> {
        Ok(Shape::NotAnObject)
    }
    fn visit_unit<E>(self) -> Result<Shape<'de>, E> {
        Ok(Shape::NotAnObject)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shape<'de>, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(Shape::NotAnObject)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape<'de>, A::Error> {
        let mut first_unknown = None;
        while let Some(Key(name)) = map.next_key()? {
            match self.members.slot(&name) {
                Some(kept) => *kept = Some(map.next_value::<Param>()?),
                None => {
                    map.next_value::<Value>()?;
                    if first_unknown.is_none() && !name.starts_with('@') {
                        first_unknown = Some(name);
                    }
                }
            }
        }
        Ok(Shape::Object { first_unknown })
    }
}

/// A member name, borrowed from the body when it has no escape.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A value as `serde_json::Value` reads it, except that a string stays borrowed when it can.
impl<'de> Deserialize<'de> for Param<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParamVisitor)
    }
}

struct ParamVisitor;

impl<'de> Visitor<'de> for ParamVisitor {
    type Value = Param<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Param<'de>, E> {
        Ok(Param::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Param<'de>, E> {
        Ok(Param::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Param<'de>, E> {
        Ok(Param::Text(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Param<'de>, E> {
        Ok(Param::Json(Box::new(Value::Bool(v))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Param<'de>, E> {
        Ok(Param::Json(Box::new(Value::Number(v.into()))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Param<'de>, E> {
        Ok(Param::Json(Box::new(Value::Number(v.into()))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Param<'de>, E> {
        Ok(Param::Json(Box::new(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        )))
    }
    fn visit_unit<E>(self) -> Result<Param<'de>, E> {
        Ok(Param::Json(Box::new(Value::Null)))
    }
    fn visit_none<E>(self) -> Result<Param<'de>, E> {
        Ok(Param::Json(Box::new(Value::Null)))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Param<'de>, D::Error> {
        Param::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Param<'de>, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(|v| Param::Json(Box::new(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Param<'de>, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(|v| Param::Json(Box::new(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALLOWED: [&str; 4] = [
        "sessionId",
        "availability",
        "activity",
        "expirationDuration",
    ];

    type Outcome = (String, Vec<Option<Param<'static>>>);

    /// What a read left: the shape (as text) and every parameter's value.
    fn outcome(shape: Shape<'_>, parameters: &[Parameter<'_>]) -> Outcome {
        let shape = match shape {
            Shape::NotAnObject => "not an object".to_owned(),
            Shape::Object { first_unknown } => format!("object, first unknown {first_unknown:?}"),
        };
        let values = parameters
            .iter()
            .map(|parameter| {
                parameter.value().map(|p| match p {
                    Param::Text(t) => Param::Text(Cow::Owned(t.to_string())),
                    Param::Json(j) => Param::Json(j.clone()),
                })
            })
            .collect();
        (shape, values)
    }

    /// Reads `text` with the plain reader (`plain`) or serde, as setPresence's parameters.
    fn read(text: &str, plain: bool) -> Option<Result<Outcome, serde_json::Error>> {
        let mut parameters = ALLOWED.map(|name| Parameter {
            operation: "setPresence",
            name,
            value: None,
        });
        let mut members = Members(&mut parameters);
        let shape = if plain {
            Ok(read_plain_object(text, &mut members)?)
        } else {
            read_payload(serde_json::Deserializer::from_str(text), &mut members)
        };
        Some(shape.map(|shape| outcome(shape, &parameters)))
    }

    /// A member name or value as it may appear in a body: plain, escaped, or not a string.
    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "\"sessionId\"",
                "\"availability\"",
                "\"activity\"",
                "\"expirationDuration\"",
                "\"@odata.type\"",
                "\"unknown\"",
                "\"activityX\"",
                "\"sessionI\"",
                "\"11111111-2222-4333-8444-555555555555\"",
                "\"PT1H\"",
                "\"\"",
                "\"caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e\"",
                "\"a\\\"b\"",
                "\"\\u0041\"",
                "\"tab\there\"",
                "\"\u{1}\"",
                "null",
                "12",
                "true",
                "[\"x\"]",
                "{\"a\":\"b\"}",
            ])
            .prop_map(str::to_owned),
            "[ -~]{0,20}".prop_map(|s| format!("\"{s}\"")),
        ]
    }

    /// Bodies near the plain shape: members from `token`, random spacing, and a random cut.
    fn body() -> impl Strategy<Value = String> {
        let space = prop::sample::select(vec!["", " ", "\n\t", "\r\n  "]);
        (
            prop::collection::vec((token(), token(), space.clone()), 0..6),
            space,
            any::<bool>(),
            0usize..200,
        )
            .prop_map(|(members, space, cut, at)| {
                let inner: Vec<String> = members
                    .iter()
                    .map(|(k, v, s)| format!("{s}{k}{s}:{s}{v}{s}"))
                    .collect();
                let text = format!("{space}{{{}}}{space}", inner.join(","));
                if cut {
                    text.chars().take(at).collect()
                } else {
                    text
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn plain_objects_read_as_serde_reads_them(text in body()) {
            if let Some(Ok(plain)) = read(&text, true) {
                let serde = read(&text, false);
                prop_assert!(matches!(serde, Some(Ok(_))), "serde refused {:?}: {:?}", text, serde);
                prop_assert_eq!(Some(plain), serde.and_then(Result::ok), "{:?}", text);
            }
        }
    }

    #[test]
    fn the_common_bodies_take_the_plain_path_and_the_rest_serde() {
        for text in [
            r#"{"sessionId":"11111111-2222-4333-8444-555555555555","availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}"#,
            "{}",
            " {\n  \"sessionId\" : \"a\" ,\n  \"@odata.type\": \"x\"\n} ",
        ] {
            assert!(read(text, true).is_some(), "{text}");
        }
        for text in [
            r#"{"a":1}"#,
            r#"{"a":"\n"}"#,
            r#"{"a":"b",}"#,
            "{",
            r#"{"a":"b"} x"#,
            "[]",
            r#"{"a":"0123456789abcdef\u0041"}"#,
        ] {
            assert!(read(text, true).is_none(), "{text}");
        }
    }
}
