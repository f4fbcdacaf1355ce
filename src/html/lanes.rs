//! What an observed timeline says, lane by lane: each user's aggregated presence between
//! observations, each app session and the preferred presence from the requests that set and
//! cleared them, every request, and every observation against what the case expected.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde_json::Value;

use crate::case::{Action, Case, Field, Observation, Request as CaseRequest};
use crate::model::{Availability, iso, parse_edm_duration, rules};
use crate::runner::{Entry, SentRequest, Timeline};

/// What a lane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LaneKind {
    /// A user's aggregated presence, as observed.
    User,
    /// One app's presence session for a user.
    Session,
    /// A user's preferred presence.
    Preferred,
    /// Requests that belong to no session (reads, batches, raw requests).
    Other,
}

/// How a band ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// At the next observation of the user, or when the next set replaced it.
    Next,
    /// Still held when the case ended.
    Open,
    Cleared,
    Expires,
}

/// A state held from `from` to `to` on one lane.
#[derive(Clone, Debug)]
pub(crate) struct Band {
    pub(crate) from: SignedDuration,
    /// `None`: until the end of the picture.
    pub(crate) to: Option<SignedDuration>,
    pub(crate) availability: String,
    pub(crate) activity: String,
    pub(crate) end: End,
    /// A failed observation (`HTTP 404`) rather than a state.
    pub(crate) failed: bool,
}

/// One request on a lane.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) at: SignedDuration,
    pub(crate) status: Option<u16>,
    /// `POST setPresence 400`, shown beside the marker where there is room.
    pub(crate) label: String,
    pub(crate) title: String,
}

/// One observation: what the target showed, what the case expected.
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub(crate) at: SignedDuration,
    pub(crate) line: u64,
    pub(crate) availability: String,
    pub(crate) activity: String,
    pub(crate) expected: Option<String>,
    /// What else the observation showed, drawn under it: the status message, the sequence number.
    pub(crate) note: Option<String>,
    /// The observation differs from the expectation, or its step failed.
    pub(crate) highlighted: bool,
    pub(crate) title: String,
}

/// One horizontal lane of the picture.
#[derive(Clone, Debug)]
pub(crate) struct Lane {
    pub(crate) kind: LaneKind,
    pub(crate) label: String,
    pub(crate) bands: Vec<Band>,
    pub(crate) requests: Vec<Request>,
    pub(crate) marks: Vec<Mark>,
}

impl Lane {
    fn new(kind: LaneKind, label: String) -> Self {
        Lane {
            kind,
            label,
            bands: Vec::new(),
            requests: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// Ends the band held at `at`, if any, and says whether there was one.
    fn end_at(&mut self, at: SignedDuration, end: End) -> bool {
        match self.bands.last_mut() {
            Some(band) if band.to.is_none_or(|to| to > at) => {
                band.to = Some(at);
                band.end = end;
                true
            }
            _ => false,
        }
    }
}

/// A user's lanes: the aggregate, then the sessions, then the preferred presence.
#[derive(Debug)]
struct UserLanes {
    aggregate: Lane,
    sessions: Vec<Lane>,
    preferred: Option<Lane>,
}

/// Every lane of one picture, top to bottom, and the instant the case ends.
#[derive(Debug)]
pub(crate) struct Lanes {
    pub(crate) lanes: Vec<Lane>,
    pub(crate) end: SignedDuration,
}

impl Lanes {
    /// Every instant something starts, ends or happens, up to the end.
    pub(crate) fn instants(&self) -> Vec<SignedDuration> {
        let mut all = vec![SignedDuration::ZERO, self.end];
        for lane in &self.lanes {
            all.extend(lane.bands.iter().map(|b| b.from));
            all.extend(lane.bands.iter().filter_map(|b| b.to));
            all.extend(lane.requests.iter().map(|r| r.at));
            all.extend(lane.marks.iter().map(|m| m.at));
        }
        all.retain(|t| *t <= self.end);
        all.sort();
        all.dedup();
        all
    }
}

/// The lanes of `timeline`; `case` names the observed users and what was expected, `faults`
/// holds the failed steps by line.
pub(crate) fn lanes(
    timeline: &Timeline,
    case: Option<&Case>,
    faults: &BTreeMap<u64, Vec<String>>,
) -> Lanes {
    let mut builder = Builder {
        users: Vec::new(),
        other: Lane::new(LaneKind::Other, "other requests".into()),
        case,
        faults,
    };
    for user in case.into_iter().flat_map(|c| c.users.iter()) {
        builder.user(user);
    }
    let mut end = case.map_or(SignedDuration::ZERO, Case::duration);
    for entry in &timeline.entries {
        let at = entry.at;
        end = end.max(at);
        if let Some(observed) = &entry.observed {
            builder.observation(entry, at, observed);
        } else if let Some(notifications) = &entry.notifications {
            builder.notifications(entry, at, notifications);
        } else if let Some(request) = &entry.request {
            builder.request(entry, at, request);
        }
    }
    builder.finish(end)
}

struct Builder<'a> {
    users: Vec<(String, UserLanes)>,
    other: Lane,
    case: Option<&'a Case>,
    faults: &'a BTreeMap<u64, Vec<String>>,
}

impl Builder<'_> {
    fn user(&mut self, name: &str) -> &mut UserLanes {
        let index = match self.users.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.users.push((
                    name.to_owned(),
                    UserLanes {
                        aggregate: Lane::new(LaneKind::User, name.to_owned()),
                        sessions: Vec::new(),
                        preferred: None,
                    },
                ));
                self.users.len() - 1
            }
        };
        &mut self.users[index].1
    }

    /// The observation step at `line`, if the case is known.
    fn observe_step(&self, line: u64) -> Option<&Observation> {
        self.case?.steps.iter().find_map(|s| match &s.action {
            Action::Observe(o) if s.line == line => Some(o),
            _ => None,
        })
    }

    fn observation(&mut self, entry: &Entry, at: SignedDuration, observed: &Value) {
        let step = self.observe_step(entry.line).cloned();
        let user = match &step {
            Some(o) => o.user.clone(),
            None if self.users.len() == 1 => self.users[0].0.clone(),
            None => "?".to_owned(),
        };
        let (shown, failed) = match observed {
            Value::String(s) => (s.clone(), true),
            other => (
                other
                    .get("presence")
                    .and_then(Value::as_str)
                    .unwrap_or("?/?")
                    .to_owned(),
                false,
            ),
        };
        let (availability, activity) = split_pair(&shown, failed);
        let faults = self.faults.get(&entry.line).cloned().unwrap_or_default();
        let mark = mark(
            at,
            entry.line,
            &user,
            (&availability, &activity, &shown, failed),
            step.as_ref(),
            observed,
            &faults,
        );
        let lane = &mut self.user(&user).aggregate;
        if lane.bands.last().is_some_and(|b| b.from == at) {
            lane.bands.pop();
        }
        lane.end_at(at, End::Next);
        lane.bands.push(Band {
            from: at,
            to: None,
            availability,
            activity,
            end: End::Open,
            failed,
        });
        lane.marks.push(mark);
    }

    /// The change notifications a notification step took, on the lane of the other requests
    /// (the user, the subscription and the rest in the title), with a failed step's faults.
    fn notifications(&mut self, entry: &Entry, at: SignedDuration, notifications: &[Value]) {
        let faults = self.faults.get(&entry.line).cloned().unwrap_or_default();
        let mut title = format!(
            "{} line {}: {} notification(s)",
            crate::model::iso(at),
            entry.line,
            notifications.len()
        );
        for fault in &faults {
            title.push_str(&format!("\nfault: {fault}"));
        }
        if notifications.is_empty() {
            let label = if faults.is_empty() {
                "✉ none"
            } else {
                "✗ ✉ none"
            };
            self.other.requests.push(Request {
                at,
                status: None,
                label: label.to_owned(),
                title,
            });
            return;
        }
        for n in notifications {
            let text = |k: &str| n.get(k).and_then(Value::as_str).map(str::to_owned);
            let label = match (
                text("availability"),
                text("activity"),
                text("lifecycleEvent"),
            ) {
                (_, _, Some(event)) => format!("✉ {event}"),
                (Some(a), Some(b), _) => format!("✉ {a}/{b}"),
                _ => "✉ notified".to_owned(),
            };
            let request = Request {
                at,
                status: None,
                label: if faults.is_empty() {
                    label
                } else {
                    format!("✗ {label}")
                },
                title: format!("{title}\n{}", compact(n)),
            };
            self.other.requests.push(request);
        }
    }

    fn request(&mut self, entry: &Entry, at: SignedDuration, request: &SentRequest) {
        let marker = Request {
            at,
            status: entry.status,
            label: format!(
                "{} {} {}",
                request.method(),
                named(request),
                entry
                    .status
                    .map_or_else(|| "-".to_owned(), |s| s.to_string())
            ),
            title: request_title(entry, request),
        };
        let ok = entry.status.is_some_and(|s| (200..300).contains(&s));
        let write = Write::of(request);
        let lane = match (request.user(), &write) {
            (
                Some(user),
                Some(Write::Session { session, .. } | Write::SessionCleared { session }),
            ) => Some(session_lane(self.user(user), user, session)),
            (Some(user), Some(Write::Preferred { .. } | Write::PreferredCleared)) => {
                let lanes = self.user(user);
                Some(lanes.preferred.get_or_insert_with(|| {
                    Lane::new(LaneKind::Preferred, format!("{user} preferred"))
                }))
            }
            _ => None,
        };
        let lane = match lane {
            Some(lane) => lane,
            None => &mut self.other,
        };
        lane.requests.push(marker);
        if ok && let Some(write) = write {
            apply(lane, &write, at);
        }
    }

    fn finish(self, end: SignedDuration) -> Lanes {
        let mut lanes = Vec::new();
        for (_, user) in self.users {
            lanes.push(user.aggregate);
            lanes.extend(user.sessions);
            lanes.extend(user.preferred);
        }
        if !self.other.requests.is_empty() {
            lanes.push(self.other);
        }
        Lanes { lanes, end }
    }
}

fn session_lane<'l>(lanes: &'l mut UserLanes, user: &str, session: &str) -> &'l mut Lane {
    let label = format!("{session} session ({user})");
    let index = match lanes.sessions.iter().position(|l| l.label == label) {
        Some(i) => i,
        None => {
            lanes.sessions.push(Lane::new(LaneKind::Session, label));
            lanes.sessions.len() - 1
        }
    };
    &mut lanes.sessions[index]
}

/// The observation's mark and its tooltip.
fn mark(
    at: SignedDuration,
    line: u64,
    user: &str,
    (availability, activity, shown, failed): (&str, &str, &str, bool),
    step: Option<&Observation>,
    observed: &Value,
    faults: &[String],
) -> Mark {
    let expected = step.and_then(expected_pair);
    let differs = step.is_some_and(|o| {
        failed
            || o.availability.as_ref().is_some_and(|a| a != availability)
            || o.activity.as_ref().is_some_and(|a| a != activity)
    });
    let mut title = format!("{} line {line}: observe {user}\n", crate::model::iso(at));
    if let Some(expected) = &expected {
        title.push_str(&format!("expected {expected}\n"));
    }
    title.push_str(&format!("observed {shown}"));
    if let Some(rest) = observed.as_object() {
        for (k, v) in rest.iter().filter(|(k, _)| *k != "presence") {
            title.push_str(&format!("\n  {k}: {}", compact(v)));
        }
    }
    for fault in faults {
        title.push_str(&format!("\nfault: {fault}"));
    }
    Mark {
        at,
        line,
        availability: availability.to_owned(),
        activity: activity.to_owned(),
        expected,
        note: note(observed),
        highlighted: differs || !faults.is_empty(),
        title,
    }
}

/// The status message (quoted, cut at 28 characters) and the sequence number an observation
/// showed besides its presence: `“Back at two” · seq 2`.
fn note(observed: &Value) -> Option<String> {
    let message = observed
        .pointer("/statusMessage/message/content")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(|m| {
            let cut: String = m.chars().take(28).collect();
            let more = if m.chars().count() > 28 { "…" } else { "" };
            format!("“{cut}{more}”")
        });
    let sequence = observed.get("sequenceNumber").map(|s| match s {
        Value::String(s) => s.trim_matches(['[', ']']).to_owned(),
        other => format!("seq {other}"),
    });
    let parts: Vec<String> = message.into_iter().chain(sequence).collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// `Available/AvailableInactive` from an observation step; `?` for what it leaves open.
fn expected_pair(o: &Observation) -> Option<String> {
    if o.availability.is_none() && o.activity.is_none() {
        return None;
    }
    Some(format!(
        "{}/{}",
        o.availability.as_deref().unwrap_or("?"),
        o.activity.as_deref().unwrap_or("?")
    ))
}

fn split_pair(shown: &str, failed: bool) -> (String, String) {
    if failed {
        return (shown.to_owned(), String::new());
    }
    match shown.split_once('/') {
        Some((a, b)) => (a.to_owned(), b.to_owned()),
        None => (shown.to_owned(), String::new()),
    }
}

/// What a request's marker is labelled with: the operation's name, or a raw request's last path
/// segment.
fn named(request: &SentRequest) -> String {
    match request {
        SentRequest::Graph { operation, .. } => operation.name().to_owned(),
        SentRequest::Raw { path, .. } => {
            let path = path.split('?').next().unwrap_or(path);
            path.rsplit('/')
                .find(|s| !s.is_empty())
                .unwrap_or("")
                .to_owned()
        }
    }
}

/// A write that shapes a session lane or the preferred-presence lane.
#[derive(Debug)]
enum Write {
    Session {
        session: String,
        state: (String, String),
        expiration: Option<SignedDuration>,
    },
    SessionCleared {
        session: String,
    },
    Preferred {
        state: (String, String),
        expiration: Option<SignedDuration>,
    },
    PreferredCleared,
}

impl Write {
    fn of(request: &SentRequest) -> Option<Write> {
        let SentRequest::Graph { request, .. } = request else {
            return None;
        };
        let text = |field: &Field<String>| match field {
            Field::Given(value) => value.clone(),
            Field::Absent | Field::Null => "?".to_owned(),
        };
        let lasts = |field: &Field<String>| match field {
            Field::Given(d) => parse_edm_duration(d).ok(),
            Field::Absent | Field::Null => None,
        };
        // A session is named by its app: `{teams}` is the app teams.
        let session = |field: &Field<String>| match field {
            Field::Given(id) => Some(
                id.strip_prefix('{')
                    .and_then(|s| s.strip_suffix('}'))
                    .unwrap_or(id)
                    .to_owned(),
            ),
            Field::Absent | Field::Null => None,
        };
        match request {
            CaseRequest::SetPresence {
                session_id,
                availability,
                activity,
                expiration_duration,
                ..
            } => Some(Write::Session {
                session: session(session_id)?,
                state: (text(availability), text(activity)),
                expiration: lasts(expiration_duration),
            }),
            CaseRequest::ClearPresence { session_id, .. } => Some(Write::SessionCleared {
                session: session(session_id)?,
            }),
            CaseRequest::SetUserPreferredPresence {
                availability,
                activity,
                expiration_duration,
                ..
            } => Some(Write::Preferred {
                state: (text(availability), text(activity)),
                expiration: lasts(expiration_duration),
            }),
            CaseRequest::ClearUserPreferredPresence { .. } => Some(Write::PreferredCleared),
            _ => None,
        }
    }
}

/// A successful write's effect on its lane. A write without `expirationDuration` lasts the
/// default of `model::rules`.
fn apply(lane: &mut Lane, write: &Write, at: SignedDuration) {
    let (state, lasts) = match write {
        Write::SessionCleared { .. } | Write::PreferredCleared => {
            lane.end_at(at, End::Cleared);
            return;
        }
        Write::Session {
            state, expiration, ..
        } => (
            state,
            expiration.unwrap_or(rules::SESSION_EXPIRATION_DEFAULT),
        ),
        Write::Preferred { state, expiration } => {
            // An availability the model does not know falls under "every other availability".
            let availability = state.0.parse().unwrap_or(Availability::Offline);
            let default = rules::preferred_default_expiration(availability);
            (state, expiration.unwrap_or(default))
        }
    };
    lane.end_at(at, End::Next);
    lane.bands.push(Band {
        from: at,
        to: Some(at.saturating_add(lasts)),
        availability: state.0.clone(),
        activity: state.1.clone(),
        end: End::Expires,
        failed: false,
    });
}

fn request_title(entry: &Entry, request: &SentRequest) -> String {
    let status = entry
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    let mut title = format!("{} {}: {request} → {status}", iso(entry.at), entry.by);
    if let Some(body) = &entry.body {
        title.push_str(&format!("\nbody {}", compact(body)));
    }
    if let Some(error) = entry
        .response
        .as_ref()
        .and_then(|r| r.pointer("/error/code"))
    {
        title.push_str(&format!("\nerror {}", compact(error)));
    }
    title
}

/// A JSON value on one line, cut to a length a tooltip can show.
fn compact(value: &Value) -> String {
    const SHOWN: usize = 240;
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > SHOWN {
        format!("{}…", text.chars().take(SHOWN).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::{Profile, Via};
    use serde_json::json;

    fn entry(minutes: i64, request: Option<CaseRequest>, observed: Option<Value>) -> Entry {
        Entry {
            at: SignedDuration::from_mins(minutes),
            line: 0,
            by: crate::runner::Acting {
                app: "teams".into(),
                delegate: None,
            },
            status: request.as_ref().map(|_| 200),
            request: request.map(|request| SentRequest::Graph {
                operation: request.operation().unwrap(),
                request,
                via: Via::Users,
                profile: Profile::V1_0,
            }),
            body: None,
            response: None,
            observed,
            notifications: None,
            contract: Vec::new(),
        }
    }

    fn given(text: &str) -> Field<String> {
        Field::Given(text.to_owned())
    }

    #[test]
    fn sessions_expire_and_observations_make_bands() {
        let set = CaseRequest::SetPresence {
            user: "alice".into(),
            session_id: given("{teams}"),
            availability: given("Busy"),
            activity: given("InACall"),
            expiration_duration: Field::Absent,
        };
        let timeline = Timeline {
            entries: vec![
                entry(0, Some(set), None),
                entry(1, None, Some(json!({"presence": "Busy/InACall"}))),
                entry(10, None, Some(json!("HTTP 404"))),
            ],
            ..Timeline::default()
        };
        let lanes = lanes(&timeline, None, &BTreeMap::new());
        assert_eq!(lanes.end, SignedDuration::from_mins(10));
        let session = &lanes.lanes[1];
        assert_eq!(session.kind, LaneKind::Session);
        assert_eq!(session.label, "teams session (alice)");
        assert_eq!(session.bands[0].to, Some(SignedDuration::from_mins(5)));
        assert_eq!(session.bands[0].end, End::Expires);
        assert_eq!(session.requests[0].label, "POST setPresence 200");
        let user = &lanes.lanes[0];
        assert_eq!(user.label, "alice");
        assert_eq!(user.bands.len(), 2);
        assert_eq!(user.bands[0].to, Some(SignedDuration::from_mins(10)));
        assert!(user.bands[1].failed);
        assert_eq!(
            lanes.instants(),
            [0, 1, 5, 10].map(SignedDuration::from_mins).to_vec()
        );
    }

    #[test]
    fn preferred_presence_lasts_the_model_s_default_by_availability() {
        let preferred = |availability: &str, activity: &str| {
            let set = CaseRequest::SetUserPreferredPresence {
                user: "alice".into(),
                availability: given(availability),
                activity: given(activity),
                expiration_duration: Field::Absent,
            };
            let timeline = Timeline {
                entries: vec![entry(0, Some(set), None)],
                ..Timeline::default()
            };
            let lanes = lanes(&timeline, None, &BTreeMap::new());
            assert_eq!(lanes.lanes[1].kind, LaneKind::Preferred);
            lanes.lanes[1].bands[0].to
        };
        assert_eq!(
            preferred("Busy", "Busy"),
            Some(SignedDuration::from_hours(24))
        );
        assert_eq!(
            preferred("Away", "Away"),
            Some(SignedDuration::from_hours(168))
        );
    }
}
