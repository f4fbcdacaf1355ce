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
        message: SentStatusMessage,
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
    CreateSubscription(Box<SubscriptionRequest>),
    ListSubscriptions,
    GetSubscription {
        /// The name the case gave the subscription when it created it.
        subscription: String,
    },
    UpdateSubscription {
        subscription: String,
        /// The new `expirationDateTime`, as an offset from the case start.
        expiration: Field<SignedDuration>,
    },
    DeleteSubscription {
        subscription: String,
    },
    Raw(RawRequest),
}

/// What a createSubscription step sends. The notification and lifecycle URLs default to the
/// runner's webhook receiver (`{webhook}`), the certificate of a rich subscription is the
/// receiver's.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionRequest {
    /// How later steps name it (`{name}` is its id once created).
    pub name: String,
    pub resource: SubscribedResource,
    pub change_type: Field<String>,
    pub notification_url: Field<String>,
    /// Send `lifecycleNotificationUrl` (the receiver's lifecycle endpoint).
    pub lifecycle: bool,
    pub client_state: Field<String>,
    /// `expirationDateTime`, as an offset from the case start.
    pub expiration: Field<SignedDuration>,
    /// `includeResourceData` with the receiver's encryption certificate.
    pub rich: bool,
}

/// The resource a subscription names.
#[derive(Clone, Debug, PartialEq)]
pub enum SubscribedResource {
    /// The presence of these users (`{actor}` placeholders), then `generated` unknown ids: one
    /// id is `/communications/presences/{id}`, more `/communications/presences?$filter=id in
    /// (...)`.
    Presences {
        users: Vec<String>,
        generated: usize,
    },
    /// A resource written out (one that is not presence, for refusals).
    Literal(String),
}

impl SubscribedResource {
    fn render(&self, substitution: &Substitution) -> String {
        let (users, generated) = match self {
            SubscribedResource::Literal(text) => return substitution.fill(text),
            SubscribedResource::Presences { users, generated } => (users, *generated),
        };
        let mut ids: Vec<String> = users.iter().map(|u| substitution.fill(u)).collect();
        ids.extend((0..generated).map(generated_user_id));
        match ids.as_slice() {
            [one] => format!("/communications/presences/{one}"),
            _ => {
                let quoted: Vec<String> = ids.iter().map(|id| format!("'{id}'")).collect();
                format!(
                    "/communications/presences?$filter=id in ({})",
                    quoted.join(",")
                )
            }
        }
    }
}

/// The `i`th generated, distinct user id that no target knows.
fn generated_user_id(i: usize) -> String {
    format!("e0000000-0000-4000-8000-{:012x}", i + 1)
}

/// Where the runner's webhook receiver listens, for a case that subscribes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub notification_url: String,
    pub lifecycle_url: String,
    /// The receiver's encryption certificate (base64 DER).
    pub certificate: String,
}

impl Webhook {
    /// What `cases lint` renders in place of a receiver.
    pub(crate) fn placeholder() -> Self {
        Webhook {
            notification_url: "https://webhook.invalid/notifications".into(),
            lifecycle_url: "https://webhook.invalid/lifecycle".into(),
            certificate: "MIIBcertificate".into(),
        }
    }
}

/// The id the runner gives its encryption certificate (`encryptionCertificateId`).
pub(crate) const CERTIFICATE_ID: &str = "presence-conformance";
/// The placeholder for the runner's notification URL, in a case's literal texts.
pub(crate) const WEBHOOK: &str = "webhook";

/// The location setManualLocation and setAutomaticLocation send.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkLocation {
    pub work_location_type: Field<String>,
    pub place_id: Field<String>,
}

/// The `statusMessage` a setStatusMessage step sends.
#[derive(Clone, Debug, PartialEq)]
pub enum SentStatusMessage {
    /// `null`: clears it.
    Clear,
    Text {
        content: String,
        expiry: Option<SentStatusExpiry>,
    },
}

/// When a status message expires, as Graph's dateTimeTimeZone.
#[derive(Clone, Debug, PartialEq)]
pub struct SentStatusExpiry {
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
            Request::CreateSubscription(_) => Operation::CreateSubscription,
            Request::ListSubscriptions => Operation::ListSubscriptions,
            Request::GetSubscription { .. } => Operation::GetSubscription,
            Request::UpdateSubscription { .. } => Operation::UpdateSubscription,
            Request::DeleteSubscription { .. } => Operation::DeleteSubscription,
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
    /// The runner's receiver, for a case that subscribes (`{webhook}` is its URL).
    pub webhook: Option<&'a Webhook>,
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
                let webhook = self
                    .webhook
                    .filter(|_| name == WEBHOOK)
                    .map(|w| &w.notification_url);
                self.ids.get(name).or(webhook).map(|id| (close, id, upper))
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
#[error("a date-time out of range: {0}")]
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
        let user = self.path_id().map_or(String::new(), |u| format!("{{{u}}}"));
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
            Request::GetPresencesByUserId { .. }
            | Request::CreateSubscription(_)
            | Request::ListSubscriptions
            | Request::GetSubscription { .. }
            | Request::UpdateSubscription { .. }
            | Request::DeleteSubscription { .. }
            | Request::Raw(_) => None,
        }
    }

    /// The actor or subscription whose `{name}` its path holds, if any.
    pub(crate) fn path_id(&self) -> Option<&str> {
        self.user().or(self.subscription())
    }

    /// The subscription the request is about, by the name the case gave it.
    pub fn subscription(&self) -> Option<&str> {
        match self {
            Request::GetSubscription { subscription }
            | Request::UpdateSubscription { subscription, .. }
            | Request::DeleteSubscription { subscription } => Some(subscription),
            _ => None,
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
            | Request::ListSubscriptions
            | Request::GetSubscription { .. }
            | Request::DeleteSubscription { .. }
            | Request::Raw(_) => return Ok(None),
            Request::CreateSubscription(subscription) => {
                return subscription_body(subscription, substitution).map(Some);
            }
            Request::UpdateSubscription { expiration, .. } => {
                let at = date_time(expiration, substitution.case_start)?;
                put(&mut members, "expirationDateTime", &at);
            }
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
                all.extend((0..*generated).map(generated_user_id));
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

/// A create subscription's body, in the order of the subscription resource's page.
fn subscription_body(
    subscription: &SubscriptionRequest,
    substitution: &Substitution,
) -> Result<String, RenderError> {
    let placeholder = Webhook::placeholder();
    let webhook = substitution.webhook.unwrap_or(&placeholder);
    let mut members = Map::new();
    put(&mut members, "changeType", &subscription.change_type);
    let url = match &subscription.notification_url {
        Field::Absent => Field::Given(webhook.notification_url.clone()),
        other => other.clone(),
    };
    put(&mut members, "notificationUrl", &url);
    if subscription.lifecycle {
        members.insert(
            "lifecycleNotificationUrl".into(),
            json!(webhook.lifecycle_url),
        );
    }
    members.insert(
        "resource".into(),
        json!(subscription.resource.render(substitution)),
    );
    let expiration = date_time(&subscription.expiration, substitution.case_start)?;
    put(&mut members, "expirationDateTime", &expiration);
    put(&mut members, "clientState", &subscription.client_state);
    if subscription.rich {
        members.insert("includeResourceData".into(), json!(true));
        members.insert("encryptionCertificate".into(), json!(webhook.certificate));
        members.insert("encryptionCertificateId".into(), json!(CERTIFICATE_ID));
    }
    Ok(Value::Object(members).to_string())
}

/// An offset from the case start as Graph's DateTimeOffset (`2026-01-05T10:00:00Z`).
fn date_time(
    offset: &Field<SignedDuration>,
    case_start: Timestamp,
) -> Result<Field<String>, RenderError> {
    Ok(match offset {
        Field::Absent => Field::Absent,
        Field::Null => Field::Null,
        Field::Given(offset) => Field::Given(
            case_start
                .checked_add(*offset)
                .map_err(|e| RenderError(e.to_string()))?
                .to_string(),
        ),
    })
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
fn status_message(
    message: &SentStatusMessage,
    case_start: Timestamp,
) -> Result<Value, RenderError> {
    let SentStatusMessage::Text { content, expiry } = message else {
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
    use crate::case::SentStatusExpiry;

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
            webhook: None,
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
            webhook: None,
        };
        let request = Request::SetStatusMessage {
            user: "alice".into(),
            message: SentStatusMessage::Text {
                content: "Out".into(),
                expiry: Some(SentStatusExpiry {
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
