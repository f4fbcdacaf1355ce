//! Request bodies of the presence actions: size, content type, JSON, and the parameters of each
//! action checked the way Graph's OData layer checks them (unknown parameter, wrong JSON type,
//! null where the parameter is non-nullable), before the presence rules see them.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::{Map, Value};

use super::error::GraphError;

/// A request body, read within the configured size limit.
#[derive(Debug)]
pub struct ActionBody {
    bytes: Bytes,
    content_type: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for ActionBody {
    type Rejection = GraphError;

    async fn from_request(req: Request, state: &S) -> Result<Self, GraphError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                GraphError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                GraphError::bad_request(format!("The request body could not be read: {rejection}"))
            }
        })?;
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
    pub(crate) fn parameters(
        &self,
        operation: &str,
        allowed: &[&str],
    ) -> Result<Parameters, GraphError> {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Parameters {
                operation: operation.to_owned(),
                members: Map::new(),
            });
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
        let value: Value = serde_json::from_slice(&self.bytes).map_err(|e| {
            GraphError::bad_request(format!("Unable to read JSON request payload: {e}"))
        })?;
        let Value::Object(members) = value else {
            return Err(GraphError::bad_request(format!(
                "The request payload of '{operation}' must be a JSON object."
            )));
        };
        if let Some(unknown) = members
            .keys()
            .find(|k| !k.starts_with('@') && !allowed.contains(&k.as_str()))
        {
            return Err(GraphError::bad_request(format!(
                "The parameter '{unknown}' in the request payload is not a valid parameter for the operation '{operation}'."
            )));
        }
        Ok(Parameters {
            operation: operation.to_owned(),
            members,
        })
    }
}

/// The parameters of one action call.
#[derive(Debug)]
pub(crate) struct Parameters {
    operation: String,
    members: Map<String, Value>,
}

impl Parameters {
    /// A string parameter that may be absent or null.
    pub(crate) fn optional_text(&self, name: &str) -> Result<Option<&str>, GraphError> {
        match self.members.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(name, "a string", other)),
        }
    }

    /// A non-nullable string parameter (CSDL `Nullable="false"`).
    pub(crate) fn required_text(&self, name: &str) -> Result<&str, GraphError> {
        match self.members.get(name) {
            None => Err(GraphError::bad_request(format!(
                "The parameter '{name}' of the operation '{}' is required.",
                self.operation
            ))),
            Some(Value::Null) => Err(GraphError::bad_request(format!(
                "The parameter '{name}' of the operation '{}' must not be null.",
                self.operation
            ))),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self.wrong_type(name, "a string", other)),
        }
    }

    /// A parameter kept as JSON for a closer look (complex types, collections).
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    pub(crate) fn wrong_type(&self, name: &str, expected: &str, found: &Value) -> GraphError {
        GraphError::bad_request(format!(
            "The parameter '{name}' of the operation '{}' must be {expected}, not {}.",
            self.operation,
            json_kind(found)
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
