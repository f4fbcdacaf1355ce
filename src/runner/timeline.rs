//! The observed timeline of one case on one target: what was sent, what came back, what each
//! user showed. Ids become actor names and volatile values (request ids, dates, tokens) are
//! redacted, so the same behaviour gives the same timeline on any target and any run; it is what
//! the snapshots under `snapshots/<target>/` hold.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use jiff::SignedDuration;
use regex::Regex;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::case::Request;
use crate::model::iso;
use crate::operation::{Operation, Profile, Via};

/// Arrays longer than this are summarised (650-id batches would drown a snapshot).
const ARRAY_SHOWN: usize = 3;
const ARRAY_SUMMARY_ABOVE: usize = 10;
/// Bodies that are not JSON are shown up to this many characters.
const TEXT_SHOWN: usize = 160;

static BASE_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^https?://[^/]+").unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
});
static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
        .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
});

/// A case's observed timeline.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timeline {
    pub case: String,
    /// Which target and profile: known from the snapshot's folder, so not written, which lets
    /// two targets that behave alike share identical snapshots.
    #[serde(skip)]
    pub target: String,
    #[serde(skip)]
    pub profile: String,
    pub entries: Vec<Entry>,
}

/// One step as it happened.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// The step's offset from the case start (`PT5M` in snapshots).
    #[serde(serialize_with = "offset")]
    pub at: SignedDuration,
    /// The step's line, for reports; not in snapshots, so that editing a comment in a case file
    /// does not change its snapshot.
    #[serde(skip)]
    pub line: u64,
    /// The acting app, and the user it acted for.
    #[serde(serialize_with = "as_text")]
    pub by: Acting,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_text"
    )]
    pub request: Option<SentRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Value>,
    /// The change notifications a `notified` or `noNotification` step took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contract: Vec<String>,
}

/// Who sent a step: the app whose credentials were used, and the user it acted for (a
/// delegated token). Written `teams` or `teams for alice`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acting {
    pub app: String,
    pub delegate: Option<String>,
}

impl fmt::Display for Acting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.delegate {
            Some(user) => write!(f, "{} for {user}", self.app),
            None => f.write_str(&self.app),
        }
    }
}

/// A request as a timeline records it: a Graph operation with its parameters, or any other
/// request. Written as its request line with actor names for ids
/// (`POST /v1.0/users/{alice}/presence/setPresence`).
#[derive(Clone, Debug, PartialEq)]
pub enum SentRequest {
    Graph {
        operation: Operation,
        /// The case's request: the user actor and the parameters (actor names for ids).
        request: Request,
        /// The path form it was sent by.
        via: Via,
        /// The API version it was sent to.
        profile: Profile,
    },
    /// Any other request: its method and its path, ids replaced by actor names.
    Raw { method: String, path: String },
}

impl SentRequest {
    /// The Graph operation, if it is one.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            SentRequest::Graph { operation, .. } => Some(*operation),
            SentRequest::Raw { .. } => None,
        }
    }

    /// The user actor whose presence it is about, if the request names one.
    pub fn user(&self) -> Option<&str> {
        match self {
            SentRequest::Graph { request, .. } => request.user(),
            SentRequest::Raw { .. } => None,
        }
    }

    pub fn method(&self) -> &str {
        match self {
            SentRequest::Graph { operation, .. } => operation.method().as_str(),
            SentRequest::Raw { method, .. } => method,
        }
    }
}

impl fmt::Display for SentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SentRequest::Graph {
                operation,
                request,
                via,
                profile,
            } => {
                let user = request
                    .path_id()
                    .map_or(String::new(), |u| format!("{{{u}}}"));
                write!(
                    f,
                    "{} /{}{}",
                    operation.method().as_str(),
                    profile.url_segment(),
                    operation.path(*via, &user)
                )
            }
            SentRequest::Raw { method, path } => write!(f, "{method} {path}"),
        }
    }
}

fn offset<S: Serializer>(at: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso(*at))
}

fn as_text<S: Serializer, T: fmt::Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn optional_text<S: Serializer, T: fmt::Display>(
    value: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => s.collect_str(value),
        None => s.serialize_none(),
    }
}

/// Replaces ids by actor names and volatile values by stable placeholders.
#[derive(Debug)]
pub struct Redactor {
    /// Each id and its `{actor}`, longest id first; the id in upper case follows it when that
    /// differs.
    ids: Vec<RedactedId>,
    /// The shortest id's length: a shorter text holds no id.
    shortest: usize,
    /// Sequence numbers in the order first seen, so growth shows as `[seq 1]`, `[seq 2]`.
    sequences: BTreeMap<String, usize>,
}

/// An id as the redactor looks for it: its searcher is built once per case, not per text.
#[derive(Debug)]
struct RedactedId {
    id: String,
    name: String,
    finder: memchr::memmem::Finder<'static>,
}

impl RedactedId {
    fn new(id: String, name: String) -> Self {
        let finder = memchr::memmem::Finder::new(id.as_bytes()).into_owned();
        RedactedId { id, name, finder }
    }
}

impl Redactor {
    pub fn new(actor_ids: &BTreeMap<String, String>) -> Self {
        let mut pairs: Vec<(&String, &String)> = actor_ids
            .iter()
            .filter(|(_, id)| !id.is_empty())
            .map(|(name, id)| (id, name))
            .collect();
        pairs.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        let mut ids = Vec::new();
        for (id, name) in pairs {
            let name = format!("{{{name}}}");
            let upper = id.to_ascii_uppercase();
            ids.push(RedactedId::new(id.clone(), name.clone()));
            if upper != *id {
                ids.push(RedactedId::new(upper, name));
            }
        }
        Redactor {
            shortest: ids.iter().map(|r| r.id.len()).min().unwrap_or(0),
            ids,
            sequences: BTreeMap::new(),
        }
    }

    /// Learns one more id and the name it is shown as (a subscription's id, the webhook's URL).
    pub(crate) fn learn(&mut self, id: &str, name: &str) {
        if id.is_empty() {
            return;
        }
        self.ids
            .push(RedactedId::new(id.to_owned(), format!("{{{name}}}")));
        self.ids.sort_by_key(|r| std::cmp::Reverse(r.id.len()));
        self.shortest = self.ids.iter().map(|r| r.id.len()).min().unwrap_or(0);
    }

    /// Ids in a text (a path, a header) replaced by actor names.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if text.len() < self.shortest {
            return out;
        }
        for r in &self.ids {
            if r.finder.find(out.as_bytes()).is_some() {
                out = out.replace(r.id.as_str(), &r.name);
            }
        }
        out
    }

    /// A body as the snapshot shows it: JSON redacted, or a short text.
    pub fn body(&mut self, bytes: &[u8]) -> Option<Value> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(mut value) => {
                self.value(&mut value, None);
                Some(value)
            }
            Err(_) => {
                let text = String::from_utf8_lossy(bytes);
                let shown: String = self.text(&text).chars().take(TEXT_SHOWN).collect();
                Some(Value::String(if text.chars().count() > TEXT_SHOWN {
                    format!("{shown}... ({} bytes)", bytes.len())
                } else {
                    shown
                }))
            }
        }
    }

    /// The ordinal of a sequence number within this case.
    pub fn sequence(&mut self, raw: &str) -> String {
        let next = self.sequences.len() + 1;
        let n = *self.sequences.entry(raw.to_owned()).or_insert(next);
        format!("[seq {n}]")
    }

    fn value(&mut self, value: &mut Value, key: Option<&str>) {
        match value {
            Value::String(s) => {
                *s = match key {
                    Some("request-id" | "client-request-id" | "date") => "[redacted]".to_owned(),
                    Some("access_token") => "[token]".to_owned(),
                    Some("encryptionCertificate") => "[certificate]".to_owned(),
                    Some("sequenceNumber") => self.sequence(s),
                    Some("@odata.context" | "@odata.nextLink") => {
                        BASE_URL.replace(&self.text(s), "{base}").into_owned()
                    }
                    _ if DATE_TIME.is_match(s) => "[datetime]".to_owned(),
                    _ => self.text(s),
                };
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    self.value(item, None);
                }
                if items.len() > ARRAY_SUMMARY_ABOVE {
                    let total = items.len();
                    items.truncate(ARRAY_SHOWN);
                    items.push(Value::String(format!("... {total} items in all")));
                }
            }
            Value::Object(members) => {
                for (k, v) in members.iter_mut() {
                    self.value(v, Some(k));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_become_actor_names_and_volatile_values_placeholders() {
        let ids = BTreeMap::from([(
            "alice".to_owned(),
            "a0000000-0000-4000-8000-000000000001".to_owned(),
        )]);
        let mut r = Redactor::new(&ids);
        let body = json!({
            "@odata.context": "http://127.0.0.1:4321/v1.0/$metadata#users('a0000000-0000-4000-8000-000000000001')/presence/$entity",
            "id": "a0000000-0000-4000-8000-000000000001",
            "sequenceNumber": "00AB",
            "statusMessage": { "publishedDateTime": "2026-01-05T09:00:00.0000000Z" },
            "error": { "innerError": { "request-id": "x", "date": "2026-01-05T09:00:00" } },
        });
        let shown = r.body(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            shown["@odata.context"],
            "{base}/v1.0/$metadata#users('{alice}')/presence/$entity"
        );
        assert_eq!(shown["id"], "{alice}");
        assert_eq!(shown["sequenceNumber"], "[seq 1]");
        assert_eq!(shown["statusMessage"]["publishedDateTime"], "[datetime]");
        assert_eq!(shown["error"]["innerError"]["request-id"], "[redacted]");
        assert_eq!(r.sequence("00AB"), "[seq 1]");
        assert_eq!(r.sequence("00AC"), "[seq 2]");
    }

    #[test]
    fn long_arrays_and_texts_are_summarised() {
        let mut r = Redactor::new(&BTreeMap::new());
        let shown = r
            .body(
                json!({ "value": (0..650).collect::<Vec<_>>() })
                    .to_string()
                    .as_bytes(),
            )
            .unwrap();
        assert_eq!(shown["value"].as_array().map(Vec::len), Some(4));
        let text = r.body(&vec![b'x'; 1000]).unwrap();
        assert!(text.as_str().unwrap().ends_with("(1000 bytes)"));
    }
}
