//! What a case's request step sends, and how it is rendered for a target: one `Request` variant
//! per Graph operation (plus a raw request), the method and path form from the operation table,
//! the JSON body from the step's parameters, and one substitution that fills `{actor}` with the
//! id the target knows that actor by. The runner, `cases lint` and the cleanup of pooled users
//! all render requests here, and only here.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::model::windows_to_iana;
use crate::operation::{Operation, Via};

/// A body parameter that can be left out, written as `null`, or given.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Given(T),
}

impl<T> Field<T> {
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

/// Written as `null` or the value; an absent field is skipped by its container.
impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Absent | Field::Null => s.serialize_none(),
            Field::Given(v) => s.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Field::Null,
            Some(v) => Field::Given(v),
        })
    }
}

impl<T: JsonSchema> JsonSchema for Field<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Nullable_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Option<T>>::json_schema(generator)
    }
}

/// What a request step sends: one Graph operation with its parameters, or any request. Actor
/// names stand for ids as `{alice}`, filled in when the request is rendered for a target.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    GetPresence {
        user: String,
    },
    GetPresencesByUserId {
        /// `{actor}` placeholders and literal ids, in order.
        ids: Vec<String>,
        /// Then this many generated, distinct, unknown user ids.
        generated: usize,
    },
    SetPresence {
        user: String,
        session_id: Field<String>,
        availability: Field<String>,
        activity: Field<String>,
        expiration_duration: Field<String>,
    },
    ClearPresence {
        user: String,
        session_id: Field<String>,
    },
    SetUserPreferredPresence {
        user: String,
        availability: Field<String>,
        activity: Field<String>,
        expiration_duration: Field<String>,
    },
    ClearUserPreferredPresence {
        user: String,
    },
    SetStatusMessage {
        user: String,
        message: StatusMessage,
    },
    SetManualLocation {
        user: String,
        location: WorkLocation,
    },
    SetAutomaticLocation {
        user: String,
        location: WorkLocation,
    },
    ClearLocation {
        user: String,
    },
    ClearAutomaticLocation {
        user: String,
    },
    Raw(RawRequest),
}

/// The location setManualLocation and setAutomaticLocation send.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkLocation {
    pub work_location_type: Field<String>,
    pub place_id: Field<String>,
}

/// The `statusMessage` a setStatusMessage step sends.
#[derive(Clone, Debug, PartialEq)]
pub enum StatusMessage {
    /// `null`: clears it.
    Clear,
    Text {
        content: String,
        expiry: Option<StatusExpiry>,
    },
}

/// When a status message expires, as Graph's dateTimeTimeZone.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusExpiry {
    pub at: ExpiryInstant,
    pub time_zone: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExpiryInstant {
    /// An offset from the case start, written in the time zone when the request is rendered.
    After(SignedDuration),
    /// A `dateTime` sent as written.
    Literal(String),
}

/// Any request, for negative tests: sent as written after `{actor}` substitution.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    /// `path` is from the server root, not the version root.
    pub from_root: bool,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Request {
    /// The Graph operation, if it is one.
    pub fn operation(&self) -> Option<Operation> {
        Some(match self {
            Request::GetPresence { .. } => Operation::GetPresence,
            Request::GetPresencesByUserId { .. } => Operation::GetPresencesByUserId,
            Request::SetPresence { .. } => Operation::SetPresence,
            Request::ClearPresence { .. } => Operation::ClearPresence,
            Request::SetUserPreferredPresence { .. } => Operation::SetUserPreferredPresence,
            Request::ClearUserPreferredPresence { .. } => Operation::ClearUserPreferredPresence,
            Request::SetStatusMessage { .. } => Operation::SetStatusMessage,
            Request::SetManualLocation { .. } => Operation::SetManualLocation,
            Request::SetAutomaticLocation { .. } => Operation::SetAutomaticLocation,
            Request::ClearLocation { .. } => Operation::ClearLocation,
            Request::ClearAutomaticLocation { .. } => Operation::ClearAutomaticLocation,
            Request::Raw(_) => return None,
        })
    }

    /// The operation's name for reports, `raw` for any other request.
    pub fn name(&self) -> &'static str {
        self.operation().map_or("raw", Operation::name)
    }
}

/// Fills `{alice}` with alice's id and `{alice:upper}` with it in upper case (ids are
/// case-insensitive), and knows when the case started (status message expiries are offsets).
#[derive(Clone, Copy, Debug)]
pub struct Substitution<'a> {
    pub ids: &'a BTreeMap<String, String>,
    pub case_start: Timestamp,
}

impl Substitution<'_> {
    /// One pass over `text`: a `{name}` or `{name:upper}` of a known actor becomes its id; any
    /// other brace stays as written.
    pub(crate) fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 32);
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let known = after.find('}').and_then(|close| {
                let inner = &after[..close];
                let (name, upper) = match inner.strip_suffix(":upper") {
                    Some(name) => (name, true),
                    None => (inner, false),
                };
                self.ids.get(name).map(|id| (close, id, upper))
            });
            match known {
                Some((close, id, upper)) => {
                    if upper {
                        out.push_str(&id.to_ascii_uppercase());
                    } else {
                        out.push_str(id);
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// A request ready to send, without credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub method: String,
    /// From the version root (`/users/{id}/presence`), or from the server root when
    /// `from_root`.
    pub path: String,
    pub from_root: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a request cannot be rendered.
#[derive(Debug, thiserror::Error)]
#[error("status message expiry out of range: {0}")]
pub struct RenderError(String);

impl Request {
    /// The request as `substitution` fills it in, by the path form `via`.
    pub fn render(&self, via: Via, substitution: &Substitution) -> Result<Rendered, RenderError> {
        let Some(operation) = self.operation() else {
            return match self {
                Request::Raw(raw) => Ok(render_raw(raw, substitution)),
                _ => unreachable!("only raw requests have no operation"),
            };
        };
        let user = self.user().map_or(String::new(), |u| format!("{{{u}}}"));
        let body = self.body(substitution)?;
        let headers = match body {
            Some(_) => vec![("Content-Type".to_owned(), "application/json".to_owned())],
            None => Vec::new(),
        };
        Ok(Rendered {
            method: operation.method().as_str().to_owned(),
            path: substitution.fill(&operation.path(via, &user)),
            from_root: false,
            headers,
            body: body.map_or_else(Vec::new, |b| substitution.fill(&b).into_bytes()),
        })
    }

    /// The actor whose presence the request is about.
    pub fn user(&self) -> Option<&str> {
        match self {
            Request::GetPresence { user }
            | Request::SetPresence { user, .. }
            | Request::ClearPresence { user, .. }
            | Request::SetUserPreferredPresence { user, .. }
            | Request::ClearUserPreferredPresence { user }
            | Request::SetStatusMessage { user, .. }
            | Request::SetManualLocation { user, .. }
            | Request::SetAutomaticLocation { user, .. }
            | Request::ClearLocation { user }
            | Request::ClearAutomaticLocation { user } => Some(user),
            Request::GetPresencesByUserId { .. } | Request::Raw(_) => None,
        }
    }

    /// The JSON body, placeholders still in it. The work-location clears send none ("Don't
    /// supply a request body for this method").
    fn body(&self, substitution: &Substitution) -> Result<Option<String>, RenderError> {
        let mut members = Map::new();
        match self {
            Request::GetPresence { .. }
            | Request::ClearLocation { .. }
            | Request::ClearAutomaticLocation { .. }
            | Request::Raw(_) => return Ok(None),
            Request::SetManualLocation { location, .. }
            | Request::SetAutomaticLocation { location, .. } => {
                put(
                    &mut members,
                    "workLocationType",
                    &location.work_location_type,
                );
                put(&mut members, "placeId", &location.place_id);
            }
            Request::ClearUserPreferredPresence { .. } => {}
            Request::GetPresencesByUserId { ids, generated } => {
                let mut all: Vec<String> = ids.iter().map(|t| substitution.fill(t)).collect();
                all.extend(
                    (0..*generated).map(|i| format!("e0000000-0000-4000-8000-{:012x}", i + 1)),
                );
                members.insert("ids".into(), json!(all));
            }
            Request::SetPresence {
                session_id,
                availability,
                activity,
                expiration_duration,
                ..
            } => {
                put(&mut members, "sessionId", session_id);
                put_state(&mut members, [availability, activity, expiration_duration]);
            }
            Request::ClearPresence { session_id, .. } => put(&mut members, "sessionId", session_id),
            Request::SetUserPreferredPresence {
                availability,
                activity,
                expiration_duration,
                ..
            } => put_state(&mut members, [availability, activity, expiration_duration]),
            Request::SetStatusMessage { message, .. } => {
                members.insert(
                    "statusMessage".into(),
                    status_message(message, substitution.case_start)?,
                );
            }
        }
        Ok(Some(Value::Object(members).to_string()))
    }
}

fn render_raw(raw: &RawRequest, substitution: &Substitution) -> Rendered {
    Rendered {
        method: raw.method.clone(),
        path: substitution.fill(&raw.path),
        from_root: raw.from_root,
        headers: raw
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), substitution.fill(v)))
            .collect(),
        body: raw
            .body
            .as_deref()
            .map_or_else(Vec::new, |b| substitution.fill(b).into_bytes()),
    }
}

/// availability, activity and expirationDuration, in that order (as Graph's examples write them).
fn put_state(body: &mut Map<String, Value>, fields: [&Field<String>; 3]) {
    for (key, field) in ["availability", "activity", "expirationDuration"]
        .into_iter()
        .zip(fields)
    {
        put(body, key, field);
    }
}

fn put(body: &mut Map<String, Value>, key: &str, field: &Field<String>) {
    match field {
        Field::Absent => {}
        Field::Null => {
            body.insert(key.to_owned(), Value::Null);
        }
        Field::Given(v) => {
            body.insert(key.to_owned(), Value::String(v.clone()));
        }
    }
}

/// Graph's presenceStatusMessage: `null`, or the text and, if it expires, its dateTimeTimeZone.
fn status_message(message: &StatusMessage, case_start: Timestamp) -> Result<Value, RenderError> {
    let StatusMessage::Text { content, expiry } = message else {
        return Ok(Value::Null);
    };
    let mut value = json!({ "message": { "content": content, "contentType": "text" } });
    if let Some(expiry) = expiry {
        let date_time = match &expiry.at {
            ExpiryInstant::Literal(text) => text.clone(),
            ExpiryInstant::After(offset) => {
                let at = case_start
                    .checked_add(*offset)
                    .map_err(|e| RenderError(e.to_string()))?;
                let zone = windows_to_iana(&expiry.time_zone)
                    .map_or_else(|| TimeZone::get(&expiry.time_zone), TimeZone::get)
                    .unwrap_or(TimeZone::UTC);
                zone.to_datetime(at)
                    .strftime("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            }
        };
        value["expiryDateTime"] = json!({ "dateTime": date_time, "timeZone": expiry.time_zone });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::StatusExpiry;

    fn ids() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("alice".to_owned(), "a1".to_owned()),
            ("teams".to_owned(), "c1".to_owned()),
        ])
    }

    #[test]
    fn one_substitution_fills_path_and_body() {
        let ids = ids();
        let substitution = Substitution {
            ids: &ids,
            case_start: Timestamp::UNIX_EPOCH,
        };
        let request = Request::SetPresence {
            user: "alice".into(),
            session_id: Field::Given("{teams}".into()),
            availability: Field::Given("Busy".into()),
            activity: Field::Null,
            expiration_duration: Field::Absent,
        };
        let rendered = request.render(Via::Communications, &substitution).unwrap();
        assert_eq!(rendered.method, "POST");
        assert_eq!(rendered.path, "/communications/presences/a1/setPresence");
        assert_eq!(
            String::from_utf8(rendered.body).unwrap(),
            r#"{"sessionId":"c1","availability":"Busy","activity":null}"#
        );
    }

    #[test]
    fn status_message_expiry_is_written_in_its_time_zone() {
        let ids = ids();
        let substitution = Substitution {
            ids: &ids,
            case_start: "2026-01-05T09:00:00Z".parse().unwrap(),
        };
        let request = Request::SetStatusMessage {
            user: "alice".into(),
            message: StatusMessage::Text {
                content: "Out".into(),
                expiry: Some(StatusExpiry {
                    at: ExpiryInstant::After(jiff::SignedDuration::from_hours(1)),
                    time_zone: "Pacific Standard Time".into(),
                }),
            },
        };
        let body = request.render(Via::Users, &substitution).unwrap().body;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body["statusMessage"]["expiryDateTime"]["dateTime"],
            "2026-01-05T02:00:00"
        );
    }
}
