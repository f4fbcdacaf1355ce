//! Reading an OpenAPI document: YAML or JSON into one JSON value, checked to be OpenAPI 3.0 and
//! to deserialize as an `openapiv3` model (which catches misplaced or mistyped members).

use serde_json::Value;

use super::SpecError;

/// YAML into a JSON value, with a budget sized for Microsoft's full metadata (tens of MB, millions
/// of parser events) and still bounded: no aliases bombs, no runaway nesting. Several documents in
/// one file: the first is read.
pub fn parse_yaml(text: &str, origin: &str) -> Result<Value, SpecError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 100_000_000,
            max_nodes: 50_000_000,
            max_total_scalar_bytes: 1 << 30,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_depth: 256,
        },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| SpecError::Parse {
        origin: origin.to_owned(),
        message: e.to_string(),
    })
}

/// Parses a document and checks its shape.
pub fn parse_document(text: &str, origin: &str) -> Result<Value, SpecError> {
    let document: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| SpecError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?
    } else {
        parse_yaml(text, origin)?
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
