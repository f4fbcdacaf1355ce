//! Reading an OpenAPI document: YAML or JSON into one JSON value, checked to be OpenAPI 3.0 and
//! to deserialize as an `openapiv3` model (which catches misplaced or mistyped members).

use serde_json::Value;

use super::SpecError;

/// Parses a document and checks its shape.
pub fn parse_document(text: &str, origin: &str) -> Result<Value, SpecError> {
    let document: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| SpecError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?
    } else {
        yaml_serde::from_str(text).map_err(|e| SpecError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?
    };
    let version = document
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !version.starts_with("3.0.") {
        return Err(SpecError::Invalid {
            origin: origin.to_owned(),
            pointer: "/openapi".into(),
            message: format!("expected an OpenAPI 3.0.x document, found '{version}'"),
        });
    }
    serde_json::from_value::<openapiv3::OpenAPI>(document.clone()).map_err(|e| {
        SpecError::Invalid {
            origin: origin.to_owned(),
            pointer: String::new(),
            message: format!("not a valid OpenAPI 3.0 document: {e}"),
        }
    })?;
    Ok(document)
}
