//! The documented layer: rules Graph's documentation states in prose and Microsoft's OpenAPI
//! does not encode, kept in `x-presence-documented` extensions of our spec and applied only at the
//! documented strictness.

use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::Value;

use super::Clause;
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
    /// The parameters Microsoft's schema makes nullable: requiring one of them is our addition.
    nullable: Vec<String>,
}

/// One prose rule a request body breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Breach {
    /// A member that is not one of the operation's parameters.
    UnknownParameter { name: String, known: Vec<String> },
    /// A required parameter missing or null; `nullable`: Microsoft's schema allows null.
    Missing { name: String, nullable: bool },
    /// An availability/activity pair outside the documented list.
    Pair {
        listed: Vec<(String, String)>,
        availability: String,
        activity: String,
    },
    /// An expirationDuration outside the documented range.
    DurationOutOfRange {
        min: SignedDuration,
        max: SignedDuration,
        found: String,
    },
    /// An expirationDuration that is not an ISO 8601 duration.
    DurationMalformed { found: String },
    /// An array with more items than documented.
    TooMany {
        name: String,
        max: usize,
        found: usize,
    },
}

impl Breach {
    /// The clause it breaks: a prose rule of Microsoft's, or one of our additions.
    pub(crate) fn clause(&self) -> Clause {
        match self {
            Breach::UnknownParameter { .. } | Breach::Missing { nullable: true, .. } => {
                Clause::Ours
            }
            _ => Clause::Documented,
        }
    }

    /// The JSON pointer of the member it concerns (empty: the body as a whole).
    pub(crate) fn pointer(&self) -> String {
        match self {
            Breach::UnknownParameter { name, .. }
            | Breach::Missing { name, .. }
            | Breach::TooMany { name, .. } => format!("/{name}"),
            Breach::Pair { .. } => String::new(),
            Breach::DurationOutOfRange { .. } | Breach::DurationMalformed { .. } => {
                "/expirationDuration".into()
            }
        }
    }

    /// What the rule expects, as a report says it.
    pub(crate) fn expected(&self) -> String {
        match self {
            Breach::UnknownParameter { known, .. } => {
                format!("one of the operation's parameters ({})", known.join(", "))
            }
            Breach::Missing { .. } => "a value (the documentation requires it)".into(),
            Breach::Pair { listed, .. } => {
                let listed: Vec<String> = listed.iter().map(|(x, y)| format!("{x}/{y}")).collect();
                format!("a documented pair ({})", listed.join(", "))
            }
            Breach::DurationOutOfRange { min, max, .. } => {
                format!("{} to {}", crate::model::iso(*min), crate::model::iso(*max))
            }
            Breach::DurationMalformed { .. } => "an ISO 8601 duration".into(),
            Breach::TooMany { max, .. } => format!("at most {max} items"),
        }
    }

    /// What the body holds, as a report says it.
    pub(crate) fn found(&self) -> String {
        match self {
            Breach::UnknownParameter { .. } => "an unknown parameter (Graph refuses it)".into(),
            Breach::Missing { .. } => "none".into(),
            Breach::Pair {
                availability,
                activity,
                ..
            } => format!("{availability}/{activity}"),
            Breach::DurationOutOfRange { found, .. } | Breach::DurationMalformed { found } => {
                found.clone()
            }
            Breach::TooMany { found, .. } => format!("{found} items"),
        }
    }
}

impl DocumentedRules {
    /// Refuse members other than `names` (the schema's declared properties); `nullable` are
    /// those Microsoft's schema lets be null.
    pub(crate) fn with_parameters(mut self, names: Vec<String>, nullable: Vec<String>) -> Self {
        self.parameters = Some(names);
        self.nullable = nullable;
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
            nullable: Vec::new(),
        })
    }

    /// Each rule the body breaks.
    pub fn check(&self, body: &Value) -> Vec<Breach> {
        let mut out = Vec::new();
        if let (Some(known), Some(members)) = (&self.parameters, body.as_object()) {
            for name in members.keys() {
                if !name.starts_with('@') && !known.contains(name) {
                    out.push(Breach::UnknownParameter {
                        name: name.clone(),
                        known: known.clone(),
                    });
                }
            }
        }
        for name in &self.required {
            if body.get(name).is_none_or(Value::is_null) {
                out.push(Breach::Missing {
                    name: name.clone(),
                    nullable: self.nullable.contains(name),
                });
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
            out.push(Breach::Pair {
                listed: self.pairs.clone(),
                availability: a.to_owned(),
                activity: b.to_owned(),
            });
        }
        if let (Some((min, max)), Some(d)) = (self.duration, text("expirationDuration")) {
            match parse_edm_duration(d) {
                Ok(v) if v < min || v > max => out.push(Breach::DurationOutOfRange {
                    min,
                    max,
                    found: d.to_owned(),
                }),
                Ok(_) => {}
                Err(_) => out.push(Breach::DurationMalformed {
                    found: d.to_owned(),
                }),
            }
        }
        for (name, max) in &self.max_items {
            if let Some(Value::Array(items)) = body.get(name)
                && items.len() > *max
            {
                out.push(Breach::TooMany {
                    name: name.clone(),
                    max: *max,
                    found: items.len(),
                });
            }
        }
        out
    }
}
