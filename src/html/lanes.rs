//! What an observed timeline says, lane by lane: each user's aggregated presence between
//! observations, each app session and the preferred presence from the requests that set and
//! cleared them, every request, and every observation against what the case expected.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde_json::Value;

use crate::case::{Action, Case, Observation};
use crate::runner::{Entry, Timeline};

/// The default `expirationDuration` of an app session.
const SESSION_DEFAULT: SignedDuration = SignedDuration::from_mins(5);

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

/// An ISO 8601 offset (`PT5M`, `P1DT2H`) as written in timelines and request bodies.
pub(crate) fn offset(text: &str) -> Option<SignedDuration> {
    text.parse::<SignedDuration>()
        .ok()
        .or_else(|| crate::model::parse_edm_duration(text).ok())
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
        let Some(at) = offset(&entry.at) else {
            continue;
        };
        end = end.max(at);
        if let Some(observed) = &entry.observed {
            builder.observation(entry, at, observed);
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

    fn request(&mut self, entry: &Entry, at: SignedDuration, request: &str) {
        let parsed = ParsedRequest::new(entry, request);
        let marker = Request {
            at,
            status: entry.status,
            label: format!(
                "{} {} {}",
                request.split(' ').next().unwrap_or(""),
                parsed.operation,
                entry
                    .status
                    .map_or_else(|| "-".to_owned(), |s| s.to_string())
            ),
            title: request_title(entry, request),
        };
        let ok = entry.status.is_some_and(|s| (200..300).contains(&s));
        let lane = match (&parsed.user, parsed.operation.as_str()) {
            (Some(user), "setPresence" | "clearPresence") => parsed
                .session
                .as_ref()
                .map(|session| session_lane(self.user(user), user, session)),
            (Some(user), "setUserPreferredPresence" | "clearUserPreferredPresence") => {
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
        if ok {
            apply(lane, &parsed, at);
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
        highlighted: differs || !faults.is_empty(),
        title,
    }
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

/// A successful write's effect on its lane.
fn apply(lane: &mut Lane, request: &ParsedRequest, at: SignedDuration) {
    match request.operation.as_str() {
        "clearPresence" | "clearUserPreferredPresence" => {
            lane.end_at(at, End::Cleared);
        }
        "setPresence" | "setUserPreferredPresence" => {
            lane.end_at(at, End::Next);
            let default = if request.operation == "setPresence" {
                SESSION_DEFAULT
            } else {
                preferred_default(&request.availability)
            };
            let lasts = request.expiration.unwrap_or(default);
            lane.bands.push(Band {
                from: at,
                to: Some(at.saturating_add(lasts)),
                availability: request.availability.clone(),
                activity: request.activity.clone(),
                end: End::Expires,
                failed: false,
            });
        }
        _ => {}
    }
}

/// A preferred presence lasts a day when Busy or DoNotDisturb, else seven days.
fn preferred_default(availability: &str) -> SignedDuration {
    match availability {
        "Busy" | "DoNotDisturb" => SignedDuration::from_hours(24),
        _ => SignedDuration::from_hours(24 * 7),
    }
}

/// What a recorded request line and body say.
#[derive(Debug)]
struct ParsedRequest {
    /// The last path segment: `setPresence`, `presence`, `getPresencesByUserId`.
    operation: String,
    user: Option<String>,
    session: Option<String>,
    availability: String,
    activity: String,
    expiration: Option<SignedDuration>,
}

impl ParsedRequest {
    fn new(entry: &Entry, request: &str) -> Self {
        let path = request.split_once(' ').map_or(request, |(_, p)| p);
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let after = |name: &str| {
            segments
                .iter()
                .position(|s| *s == name)
                .and_then(|i| segments.get(i + 1))
                .map(|s| actor(s))
        };
        let user = after("users").or_else(|| after("presences")).or_else(|| {
            // `/me/...`: the user the app acted for (`teams for alice`).
            segments
                .contains(&"me")
                .then(|| entry.by.split_once(" for ").map(|(_, u)| u.to_owned()))
                .flatten()
        });
        let body = entry.body.as_ref();
        let text = |k: &str| {
            body.and_then(|b| b.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        ParsedRequest {
            operation: segments
                .last()
                .map_or_else(String::new, |s| (*s).to_owned()),
            user,
            session: text("sessionId").map(|s| actor(&s)),
            availability: text("availability").unwrap_or_else(|| "?".into()),
            activity: text("activity").unwrap_or_else(|| "?".into()),
            expiration: text("expirationDuration").and_then(|d| offset(&d)),
        }
    }
}

/// `{alice}` → `alice`; ids that are not actors stay as they are.
fn actor(segment: &str) -> String {
    segment
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(segment)
        .to_owned()
}

fn request_title(entry: &Entry, request: &str) -> String {
    let status = entry
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    let mut title = format!("{} {}: {request} → {status}", entry.at, entry.by);
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
    use serde_json::json;

    fn entry(
        at: &str,
        request: Option<&str>,
        body: Option<Value>,
        observed: Option<Value>,
    ) -> Entry {
        Entry {
            at: at.into(),
            line: 0,
            by: "teams".into(),
            request: request.map(str::to_owned),
            body,
            status: request.map(|_| 200),
            response: None,
            observed,
            contract: Vec::new(),
        }
    }

    #[test]
    fn sessions_expire_and_observations_make_bands() {
        let set = "POST /v1.0/users/{alice}/presence/setPresence";
        let timeline = Timeline {
            entries: vec![
                entry(
                    "PT0S",
                    Some(set),
                    Some(
                        json!({"sessionId": "{teams}", "availability": "Busy", "activity": "InACall"}),
                    ),
                    None,
                ),
                entry(
                    "PT1M",
                    None,
                    None,
                    Some(json!({"presence": "Busy/InACall"})),
                ),
                entry("PT10M", None, None, Some(json!("HTTP 404"))),
            ],
            ..Timeline::default()
        };
        let lanes = lanes(&timeline, None, &BTreeMap::new());
        assert_eq!(lanes.end, SignedDuration::from_mins(10));
        let session = &lanes.lanes[1];
        assert_eq!(session.kind, LaneKind::Session);
        assert_eq!(session.bands[0].to, Some(SignedDuration::from_mins(5)));
        assert_eq!(session.bands[0].end, End::Expires);
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
    fn preferred_presence_defaults_by_availability() {
        assert_eq!(preferred_default("Busy"), SignedDuration::from_hours(24));
        assert_eq!(preferred_default("Away"), SignedDuration::from_hours(168));
        assert_eq!(offset("P7D"), Some(SignedDuration::from_hours(168)));
        assert_eq!(offset("PT4M59S"), Some(SignedDuration::from_secs(299)));
    }
}
