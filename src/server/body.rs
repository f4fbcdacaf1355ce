//! Request bodies of the presence actions: size, content type, JSON, and the parameters of each
//! action checked the way Graph's OData layer checks them (unknown parameter, wrong JSON type,
//! null where the parameter is non-nullable), before the presence rules see them.

use std::borrow::Cow;
use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::AppState;
use super::error::GraphError;

/// A request body, read within the configured size limit.
#[derive(Debug)]
pub struct ActionBody {
    bytes: Bytes,
    content_type: Option<String>,
}

/// Reads the body itself, within the server's `body_limit`, rather than through axum's `Bytes`
/// under a `DefaultBodyLimit` layer: that layer costs every request an extension (and the
/// growth of the extension map) for a limit only the body extractors read.
impl FromRequest<AppState> for ActionBody {
    type Rejection = GraphError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, GraphError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let limited = Limited::new(req.into_body(), state.config.body_limit);
        let bytes = match limited.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => {
                return Err(GraphError::for_status(StatusCode::PAYLOAD_TOO_LARGE));
            }
            Err(e) => {
                return Err(GraphError::bad_request(format!(
                    "The request body could not be read: Failed to buffer the request body: {e}"
                )));
            }
        };
        Ok(ActionBody {
            bytes,
            content_type,
        })
    }
}

impl ActionBody {
    /// A body read some other way (tests, the fuzzer).
    pub fn new(bytes: &[u8], content_type: Option<&str>) -> Self {
        ActionBody {
            bytes: Bytes::copy_from_slice(bytes),
            content_type: content_type.map(str::to_owned),
        }
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

impl ActionBody {
    /// The parameters of `operation`, refusing any that are not in `allowed`. An empty body is
    /// an empty parameter set (Graph's OpenAPI has no body for clearUserPreferredPresence, its
    /// documentation sends `{}`: both work).
    ///
    /// The body is read in one pass, with the checks of a parse into `serde_json::Value` (the
    /// same syntax errors, every value parsed as a `Value` would parse it), but only the
    /// `allowed` members are kept, and their strings borrow from the body when they hold no
    /// escape: a write allocates nothing for its parameters.
    pub(crate) fn parameters<'a>(
        &'a self,
        operation: &'a str,
        allowed: &'a [&'a str],
    ) -> Result<Parameters<'a>, GraphError> {
        let mut members = Parameters {
            operation,
            allowed,
            values: std::iter::repeat_with(|| None)
                .take(allowed.len())
                .collect(),
        };
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(members);
        }
        match self.content_type.as_deref() {
            Some(ct) if is_json(ct) => {}
            Some(ct) => {
                return Err(GraphError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    format!("The content type '{ct}' is not supported; send application/json."),
                ));
            }
            None => {
                return Err(GraphError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    "A request body needs a Content-Type header; send application/json.",
                ));
            }
        }
        let mut reader = serde_json::Deserializer::from_slice(&self.bytes);
        let read = Payload {
            members: &mut members,
        }
        .deserialize(&mut reader)
        .and_then(|shape| reader.end().map(|()| shape))
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
            } => Ok(members),
        }
    }
}

/// A parameter's value: a string (borrowed from the body when it has no escape), or any other
/// JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    Text(Cow<'a, str>),
    Json(Value),
}

impl Param<'_> {
    /// The kind of value, as error messages name it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Param::Text(_) => "a string",
            Param::Json(value) => json_kind(value),
        }
    }
}

/// The parameters of one action call: the value of each allowed name that came (the last one,
/// when a name is repeated, as a JSON object keeps it).
#[derive(Debug)]
pub(crate) struct Parameters<'a> {
    operation: &'a str,
    allowed: &'a [&'a str],
    values: Vec<Option<Param<'a>>>,
}

impl<'a> Parameters<'a> {
    /// A string parameter that may be absent or null.
    pub(crate) fn optional_text(&self, name: &str) -> Result<Option<&str>, GraphError> {
        match self.raw(name) {
            None | Some(Param::Json(Value::Null)) => Ok(None),
            Some(Param::Text(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(name, "a string", other)),
        }
    }

    /// A non-nullable string parameter (CSDL `Nullable="false"`).
    pub(crate) fn required_text(&self, name: &str) -> Result<&str, GraphError> {
        match self.raw(name) {
            None => Err(GraphError::bad_request(format!(
                "The parameter '{name}' of the operation '{}' is required.",
                self.operation
            ))),
            Some(Param::Json(Value::Null)) => Err(GraphError::bad_request(format!(
                "The parameter '{name}' of the operation '{}' must not be null.",
                self.operation
            ))),
            Some(Param::Text(s)) => Ok(s),
            Some(other) => Err(self.wrong_type(name, "a string", other)),
        }
    }

    /// A parameter kept as it came, for a closer look (complex types, collections). Only the
    /// names `parameters` allowed are ever present.
    pub(crate) fn raw(&self, name: &str) -> Option<&Param<'a>> {
        let slot = self.allowed.iter().position(|a| *a == name)?;
        self.values.get(slot)?.as_ref()
    }

    pub(crate) fn wrong_type(&self, name: &str, expected: &str, found: &Param) -> GraphError {
        GraphError::bad_request(format!(
            "The parameter '{name}' of the operation '{}' must be {expected}, not {}.",
            self.operation,
            found.kind()
        ))
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

/// What the top level of a payload was.
enum Shape<'a> {
    NotAnObject,
    /// An object; the first member name (in order) that is neither allowed nor an annotation.
    Object {
        first_unknown: Option<Cow<'a, str>>,
    },
}

/// Reads a payload into `members`.
struct Payload<'p, 'a> {
    members: &'p mut Parameters<'a>,
}

impl<'de> DeserializeSeed<'de> for Payload<'_, 'de> {
    type Value = Shape<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

/// Anything but an object is parsed as a `Value` would be (same errors), then refused.
impl<'de> Visitor<'de> for Payload<'_, 'de> {
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
            match self.members.allowed.iter().position(|a| **a == *name) {
                Some(slot) => {
                    let value = map.next_value::<Param>()?;
                    if let Some(kept) = self.members.values.get_mut(slot) {
                        *kept = Some(value);
                    }
                }
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
        Ok(Param::Json(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Param<'de>, E> {
        Ok(Param::Json(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Param<'de>, E> {
        Ok(Param::Json(Value::Number(v.into())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Param<'de>, E> {
        Ok(Param::Json(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_unit<E>(self) -> Result<Param<'de>, E> {
        Ok(Param::Json(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Param<'de>, E> {
        Ok(Param::Json(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Param<'de>, D::Error> {
        Param::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Param<'de>, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Param::Json)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Param<'de>, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Param::Json)
    }
}
