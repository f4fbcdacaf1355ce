//! The documented layer: rules Graph's documentation states in prose and Microsoft's OpenAPI
//! does not encode, kept in `x-presence-documented` extensions of our spec and applied only at the
//! documented strictness.

use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::Value;

use crate::model::parse_edm_duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RulesFile {
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    pairs: Vec<(String, String)>,
    expiration_duration: Option<RangeFile>,
    #[serde(default)]
    max_items: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFile {
    minimum: String,
    maximum: String,
    #[allow(dead_code)] // documented for readers; the checker needs only the bounds
    default: Option<String>,
}

/// The prose rules of one request body.
#[derive(Debug)]
pub(crate) struct DocumentedRules {
    required: Vec<String>,
    pairs: Vec<(String, String)>,
    duration: Option<(SignedDuration, SignedDuration)>,
    max_items: Vec<(String, usize)>,
    /// The parameters the body's schema declares: Graph's OData layer refuses any other member
    /// (annotations, `@...`, aside), although the published schemas are open types.
    parameters: Option<Vec<String>>,
}

impl DocumentedRules {
    /// Refuse members other than `names` (the schema's declared properties).
    pub(crate) fn with_parameters(mut self, names: Vec<String>) -> Self {
        self.parameters = Some(names);
        self
    }

    pub fn parse(value: &Value) -> Result<Self, String> {
        let file: RulesFile = serde_json::from_value(value.clone())
            .map_err(|e| format!("x-presence-documented: {e}"))?;
        let duration = match file.expiration_duration {
            None => None,
            Some(r) => {
                let parse = |t: &str| {
                    parse_edm_duration(t).map_err(|e| format!("x-presence-documented: {e}"))
                };
                Some((parse(&r.minimum)?, parse(&r.maximum)?))
            }
        };
        Ok(DocumentedRules {
            required: file.required,
            pairs: file.pairs,
            duration,
            max_items: file.max_items.into_iter().collect(),
            parameters: None,
        })
    }

    /// (pointer, expected, found) for each rule the body breaks.
    pub fn check(&self, body: &Value) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        if let (Some(known), Some(members)) = (&self.parameters, body.as_object()) {
            for name in members.keys() {
                if !name.starts_with('@') && !known.contains(name) {
                    out.push((
                        format!("/{name}"),
                        format!("one of the operation's parameters ({})", known.join(", ")),
                        "an unknown parameter (Graph refuses it)".into(),
                    ));
                }
            }
        }
        for name in &self.required {
            if body.get(name).is_none_or(Value::is_null) {
                out.push((
                    format!("/{name}"),
                    "a value (the documentation requires it)".into(),
                    "none".into(),
                ));
            }
        }
        let text = |k: &str| body.get(k).and_then(Value::as_str);
        if !self.pairs.is_empty()
            && let (Some(a), Some(b)) = (text("availability"), text("activity"))
            && !self
                .pairs
                .iter()
                .any(|(x, y)| x.eq_ignore_ascii_case(a) && y.eq_ignore_ascii_case(b))
        {
            let listed: Vec<String> = self.pairs.iter().map(|(x, y)| format!("{x}/{y}")).collect();
            out.push((
                "".into(),
                format!("a documented pair ({})", listed.join(", ")),
                format!("{a}/{b}"),
            ));
        }
        if let (Some((min, max)), Some(d)) = (self.duration, text("expirationDuration")) {
            match parse_edm_duration(d) {
                Ok(v) if v < min || v > max => out.push((
                    "/expirationDuration".into(),
                    format!("{} to {}", crate::model::iso(min), crate::model::iso(max)),
                    d.to_owned(),
                )),
                Ok(_) => {}
                Err(_) => out.push((
                    "/expirationDuration".into(),
                    "an ISO 8601 duration".into(),
                    d.to_owned(),
                )),
            }
        }
        for (name, max) in &self.max_items {
            if let Some(Value::Array(items)) = body.get(name)
                && items.len() > *max
            {
                out.push((
                    format!("/{name}"),
                    format!("at most {max} items"),
                    format!("{} items", items.len()),
                ));
            }
        }
        out
    }
}
