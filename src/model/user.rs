//! One user's presence: app sessions, the preferred presence, the status message, and how they
//! aggregate at a given instant. Time-driven changes (the fade, expiry) are computed at read time,
//! so simulated hours cost nothing.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::rules::{Semantics, SessionRequest};
use super::values::{Activity, Availability, PresenceState, SessionId, hex_pairs};

/// An instant as the model holds it: the value of a jiff [`Timestamp`] (whole seconds and the
/// nanoseconds, of one sign) in 12 bytes instead of 16, so that a session is 56 bytes, not 64. It
/// orders as the timestamp does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(Rust, packed(4))]
pub(super) struct Instant {
    second: i64,
    nanosecond: i32,
}

impl Instant {
    pub(super) fn new(t: Timestamp) -> Self {
        Instant {
            second: t.as_second(),
            nanosecond: t.subsec_nanosecond(),
        }
    }

    pub(super) fn get(self) -> Timestamp {
        let (second, nanosecond) = (self.second, self.nanosecond);
        // Always in range: every `Instant` was made from a `Timestamp`.
        Timestamp::new(second, nanosecond).unwrap_or(Timestamp::MAX)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

/// An application's presence session for one user (created by setPresence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSession {
    pub id: SessionId,
    set_at: Instant,
    expires_at: Instant,
    /// The state as set; see [`AppSession::state_at`] for what it shows after the fade.
    pub state: PresenceState,
}

impl AppSession {
    pub fn new(
        id: SessionId,
        state: PresenceState,
        set_at: Timestamp,
        expires_at: Timestamp,
    ) -> Self {
        AppSession {
            id,
            set_at: Instant::new(set_at),
            expires_at: Instant::new(expires_at),
            state,
        }
    }

    /// When the session was last set (a keep-alive sets it again).
    pub(crate) fn set_at(&self) -> Timestamp {
        self.set_at.get()
    }

    /// When the session expires.
    pub(crate) fn expires_at(&self) -> Timestamp {
        self.expires_at.get()
    }

    /// The session's state at `now`, or `None` once it has expired.
    pub fn state_at(&self, now: Timestamp, semantics: &Semantics) -> Option<PresenceState> {
        if now >= self.expires_at() {
            return None;
        }
        if self.state.availability != Availability::Available {
            return Some(self.state);
        }
        let age = now.duration_since(self.set_at());
        Some(if age >= semantics.fade_to_away {
            PresenceState::new(Availability::Away, Activity::Away)
        } else if age >= semantics.fade_to_inactive {
            PresenceState::new(Availability::Available, Activity::AvailableInactive)
        } else {
            self.state
        })
    }

    /// Every instant at which this session's shown state changes, fade stages and expiry.
    fn transitions(&self, semantics: &Semantics) -> impl Iterator<Item = Timestamp> + use<> {
        let (set_at, expires_at) = (self.set_at(), self.expires_at());
        let stages = [semantics.fade_to_inactive, semantics.fade_to_away];
        let fades = (self.state.availability == Availability::Available)
            .then(move || {
                stages
                    .into_iter()
                    .filter_map(move |d| set_at.checked_add(d).ok())
                    .filter(move |t| *t < expires_at)
            })
            .into_iter()
            .flatten();
        fades.chain(std::iter::once(expires_at))
    }
}

/// A user's sessions in the order they were first set (the order breaks ties of precedence and
/// instant). Most users have one or two: those are held inline, with no allocation of their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Sessions {
    #[default]
    None,
    One(AppSession),
    Two([AppSession; 2]),
    Many(Vec<AppSession>),
}

impl Sessions {
    fn as_slice(&self) -> &[AppSession] {
        match self {
            Sessions::None => &[],
            Sessions::One(s) => std::slice::from_ref(s),
            Sessions::Two(s) => s,
            Sessions::Many(s) => s,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [AppSession] {
        match self {
            Sessions::None => &mut [],
            Sessions::One(s) => std::slice::from_mut(s),
            Sessions::Two(s) => s,
            Sessions::Many(s) => s,
        }
    }

    fn push(&mut self, session: AppSession) {
        *self = match std::mem::take(self) {
            Sessions::None => Sessions::One(session),
            Sessions::One(a) => Sessions::Two([a, session]),
            Sessions::Two([a, b]) => Sessions::Many(vec![a, b, session]),
            Sessions::Many(mut all) => {
                all.push(session);
                Sessions::Many(all)
            }
        };
    }

    /// Keeps the sessions `keep` says yes to, in order. Two or fewer go back inline, so a user whose
    /// sessions ended holds no allocation.
    fn retain(&mut self, keep: impl Fn(&AppSession) -> bool) {
        if self.as_slice().iter().all(&keep) {
            return;
        }
        let (inline, spilled) = match std::mem::take(self) {
            Sessions::None => ([None, None], Vec::new()),
            Sessions::One(a) => ([Some(a), None], Vec::new()),
            Sessions::Two([a, b]) => ([Some(a), Some(b)], Vec::new()),
            Sessions::Many(all) => ([None, None], all),
        };
        for session in inline.into_iter().flatten().chain(spilled) {
            if keep(&session) {
                self.push(session);
            }
        }
    }
}

/// The user-preferred presence (setUserPreferredPresence), which overrides every session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreferredPresence {
    pub state: PresenceState,
    expires_at: Instant,
}

impl PreferredPresence {
    pub fn new(state: PresenceState, expires_at: Timestamp) -> Self {
        PreferredPresence {
            state,
            expires_at: Instant::new(expires_at),
        }
    }

    pub(crate) fn expires_at(&self) -> Timestamp {
        self.expires_at.get()
    }
}

/// The body of a status message (`itemBody`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    pub content: String,
    pub content_type: String,
}

/// `statusMessage.expiryDateTime` as the client sent it, and the instant it resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusExpiry {
    pub date_time: String,
    pub time_zone: String,
    pub at: Timestamp,
}

/// A user's status message (setStatusMessage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessage {
    pub message: ItemBody,
    pub expiry: Option<StatusExpiry>,
    pub published_at: Timestamp,
}

impl StatusMessage {
    fn live_at(&self, now: Timestamp) -> bool {
        self.expiry.as_ref().is_none_or(|e| now < e.at)
    }
}

/// One work-location signal (setManualLocation, setAutomaticLocation): a `workLocationType`
/// such as `office`, and an optional place id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkLocation {
    pub location_type: String,
    pub place_id: Option<String>,
}

/// The layers a user's work location aggregates: "Precedence: manual > automatic > scheduled".
/// The scheduled layer (calendar working hours and location) is not part of presence, so this
/// model has none to fall back to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkLocationLayers {
    pub manual: Option<WorkLocation>,
    pub automatic: Option<WorkLocation>,
}

/// Which layer the shown work location comes from (`workLocationSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkLocationSource {
    Manual,
    Automatic,
}

impl WorkLocationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkLocationSource::Manual => "manual",
            WorkLocationSource::Automatic => "automatic",
        }
    }
}

impl WorkLocationLayers {
    /// The aggregated work location: manual over automatic; `None` when neither is set.
    pub fn shown(&self) -> Option<(WorkLocationSource, &WorkLocation)> {
        self.manual
            .as_ref()
            .map(|l| (WorkLocationSource::Manual, l))
            .or_else(|| {
                self.automatic
                    .as_ref()
                    .map(|l| (WorkLocationSource::Automatic, l))
            })
    }

    fn is_empty(&self) -> bool {
        self.manual.is_none() && self.automatic.is_none()
    }
}

/// The lexicographically sortable version stamp of a user's presence (`presence.sequenceNumber`).
///
/// It orders first by the instant of the newest change, then by the count of writes, so it grows
/// with every write, even several at one instant, and with every timer that fires, even though
/// timers are only computed when someone reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SequenceNumber {
    changed_at: Timestamp,
    writes: u64,
}

impl SequenceNumber {
    /// The stamp of a presence whose newest change was at `changed_at`, after `writes` writes.
    pub(super) fn new(changed_at: Timestamp, writes: u64) -> Self {
        SequenceNumber { changed_at, writes }
    }

    /// The longest text form: 16 digits of microseconds, and up to 16 of writes.
    pub(crate) const MAX_LEN: usize = 32;

    /// Writes the text form into `out` and returns it (ASCII): the microseconds since 1970 in 16
    /// upper-case hex digits, then the writes in 10 (more past 2^40 writes). Fixed-width hex
    /// sorts as text exactly as the numbers sort; instants before 1970 clamp to 0. No
    /// formatting machinery and no allocation: the server writes it into a header on every write.
    pub(crate) fn encode<'b>(&self, out: &'b mut [u8; Self::MAX_LEN]) -> &'b [u8] {
        /// 16 upper-case hex digits of `value`, two a byte.
        fn hex(value: u64) -> [u8; 16] {
            static PAIRS: [[u8; 2]; 256] = hex_pairs(b"0123456789ABCDEF");
            let mut digits = [0; 16];
            for (pair, byte) in digits.chunks_exact_mut(2).zip(value.to_be_bytes()) {
                pair.copy_from_slice(&PAIRS[usize::from(byte)]);
            }
            digits
        }
        let micros = u64::try_from(self.changed_at.as_microsecond()).unwrap_or(0);
        let write_digits = (16 - self.writes.leading_zeros() as usize / 4).max(10);
        out[..16].copy_from_slice(&hex(micros));
        out[16..].copy_from_slice(&hex(self.writes));
        // The writes in their last `write_digits` digits, right after the instant's 16.
        out.copy_within(32 - write_digits.., 16);
        &out[..16 + write_digits]
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0; Self::MAX_LEN];
        // Hex digits only: always UTF-8.
        f.write_str(std::str::from_utf8(self.encode(&mut text)).unwrap_or_default())
    }
}

/// What a user's presence shows at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceView {
    pub state: PresenceState,
    pub status_message: Option<StatusMessage>,
    pub work_location: WorkLocationLayers,
    pub sequence: SequenceNumber,
}

/// Why a write was refused by the state (not by the rules of its arguments).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the presence session '{0}' does not exist for this user")]
    SessionNotFound(SessionId),
    #[error("the expiration lies beyond the last representable instant")]
    ExpiryOverflow,
}

/// A write to one user's presence, already validated against the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    SetPresence {
        session: SessionId,
        request: SessionRequest,
    },
    ClearPresence {
        session: SessionId,
    },
    SetPreferredPresence(SessionRequest),
    ClearPreferredPresence,
    /// `None` (or an empty message) clears the status message.
    SetStatusMessage(Option<StatusMessageInput>),
    /// The automatic layer of the work location ("doesn't clear manual or scheduled signals").
    SetAutomaticLocation(WorkLocation),
    /// The manual layer, which "overrides both automatic and scheduled settings".
    SetManualLocation(WorkLocation),
    ClearAutomaticLocation,
    /// Clears both the manual and the automatic layer.
    ClearLocation,
}

/// A status message as a client sends it; `published_at` is stamped by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessageInput {
    pub message: ItemBody,
    pub expiry: Option<StatusExpiry>,
}

/// One user's presence state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPresence {
    sessions: Sessions,
    preferred: Option<PreferredPresence>,
    /// Boxed: most users have none, and a million users must fit in well under a gigabyte.
    status: Option<Box<StatusMessage>>,
    /// Boxed for the same reason.
    location: Option<Box<WorkLocationLayers>>,
    writes: u64,
    /// The newest change already folded in: a write, or a timer that fired before a settle.
    changed_at: Option<Instant>,
}

impl UserPresence {
    pub fn sessions(&self) -> &[AppSession] {
        self.sessions.as_slice()
    }

    pub fn preferred(&self) -> Option<&PreferredPresence> {
        self.preferred.as_ref()
    }

    /// True when nothing is left that could ever show or change.
    pub fn is_idle(&self) -> bool {
        self.sessions().is_empty()
            && self.preferred.is_none()
            && self.status.is_none()
            && self.location.is_none()
    }

    /// The earliest instant at which something must be dropped: a session, the preferred presence
    /// or the status message expiring. Fades need no timer: they are computed at read time.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        // A plain loop: the store asks twice on every write (an iterator chain cost twice this).
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        for session in self.sessions() {
            consider(session.expires_at);
        }
        if let Some(preferred) = &self.preferred {
            consider(preferred.expires_at);
        }
        if let Some(expiry) = self.status.as_ref().and_then(|s| s.expiry.as_ref()) {
            consider(Instant::new(expiry.at));
        }
        next.map(Instant::get)
    }

    /// Every instant at which what this user shows may change, due or not.
    pub(crate) fn transitions<'a>(
        &'a self,
        semantics: &'a Semantics,
    ) -> impl Iterator<Item = Timestamp> + 'a {
        let sessions = self
            .sessions()
            .iter()
            .flat_map(move |s| s.transitions(semantics));
        let preferred = self.preferred.iter().map(|p| p.expires_at());
        let status = self
            .status
            .iter()
            .filter_map(|s| s.expiry.as_ref().map(|e| e.at));
        sessions.chain(preferred).chain(status)
    }

    fn newest_change(&self, now: Timestamp, semantics: &Semantics) -> Option<Timestamp> {
        let changed_at = self.changed_at.map(Instant::get);
        // A timer that fired is at or before `now`: a change at `now` or later is the newest
        // (the usual case right after a write), without walking the timers.
        if changed_at.is_some_and(|c| c >= now) {
            return changed_at;
        }
        let fired = self.transitions(semantics).filter(|t| *t <= now).max();
        changed_at.max(fired)
    }

    /// What the user shows at `now`, by the documented rules.
    pub fn view(&self, now: Timestamp) -> PresenceView {
        self.view_under(now, &Semantics::GRAPH)
    }

    /// What the user shows at `now` under `rules`.
    pub(crate) fn view_under(&self, now: Timestamp, semantics: &Semantics) -> PresenceView {
        PresenceView {
            state: self.state_under(now, semantics),
            status_message: self.status.as_deref().filter(|s| s.live_at(now)).cloned(),
            work_location: self.location.as_deref().cloned().unwrap_or_default(),
            sequence: self.sequence_under(now, semantics),
        }
    }

    /// The sequenceNumber of the view at `now` under `rules`, without the rest of the view.
    pub(crate) fn sequence_under(&self, now: Timestamp, semantics: &Semantics) -> SequenceNumber {
        SequenceNumber {
            changed_at: self
                .newest_change(now, semantics)
                .unwrap_or(Timestamp::UNIX_EPOCH),
            writes: self.writes,
        }
    }

    /// The aggregated availability/activity at `now`, by the documented rules.
    pub fn state_at(&self, now: Timestamp) -> PresenceState {
        self.state_under(now, &Semantics::GRAPH)
    }

    /// The aggregated availability/activity at `now` under `rules`.
    pub(crate) fn state_under(&self, now: Timestamp, semantics: &Semantics) -> PresenceState {
        // Among live sessions the highest availability wins; among equals, the latest set.
        let winner = self
            .sessions()
            .iter()
            .enumerate()
            .filter_map(|(order, s)| {
                s.state_at(now, semantics)
                    .map(|state| (state, s.set_at, order))
            })
            .max_by_key(|(state, set_at, order)| {
                (semantics.rank(state.availability), *set_at, *order)
            });
        let Some((session_state, _, _)) = winner else {
            // Preferred presence "takes effect only when at least one presence session exists".
            return PresenceState::OFFLINE;
        };
        match self.preferred {
            Some(p) if now < p.expires_at() => p.state,
            _ => session_state,
        }
    }

    /// Drops everything that has expired by `now`, remembering when the newest timer fired.
    pub fn settle(&mut self, now: Timestamp, semantics: &Semantics) {
        self.changed_at = self.newest_change(now, semantics).map(Instant::new);
        // Sessions that are left give back any allocation: a soak of many short sessions must not
        // keep memory.
        let now_at = Instant::new(now);
        self.sessions.retain(|s| now_at < s.expires_at);
        if self.preferred.is_some_and(|p| now_at >= p.expires_at) {
            self.preferred = None;
        }
        if self.status.as_ref().is_some_and(|s| !s.live_at(now)) {
            self.status = None;
        }
    }

    /// Applies one write at `now`. Expired state is dropped first, so an expired session is gone.
    pub fn apply(
        &mut self,
        now: Timestamp,
        command: Command,
        semantics: &Semantics,
    ) -> Result<(), CommandError> {
        self.settle(now, semantics);
        let expiry =
            |d: SignedDuration| now.checked_add(d).map_err(|_| CommandError::ExpiryOverflow);
        match command {
            Command::SetPresence { session, request } => {
                let expires_at = expiry(request.expiration)?;
                let fresh = AppSession::new(session, request.state, now, expires_at);
                match self
                    .sessions
                    .as_mut_slice()
                    .iter_mut()
                    .find(|s| s.id == fresh.id)
                {
                    Some(existing) => *existing = fresh,
                    None => self.sessions.push(fresh),
                }
            }
            Command::ClearPresence { session } => {
                let before = self.sessions().len();
                self.sessions.retain(|s| s.id != session);
                if self.sessions().len() == before {
                    return Err(CommandError::SessionNotFound(session));
                }
            }
            Command::SetPreferredPresence(request) => {
                self.preferred = Some(PreferredPresence::new(
                    request.state,
                    expiry(request.expiration)?,
                ));
            }
            Command::ClearPreferredPresence => {
                // Clearing nothing succeeds (observed: a second clear is 200); like every
                // acknowledged write it is a new version, so sequence numbers order all writes.
                self.preferred = None;
            }
            Command::SetStatusMessage(input) => {
                self.status = input.filter(|m| !m.message.content.is_empty()).map(|m| {
                    Box::new(StatusMessage {
                        message: m.message,
                        expiry: m.expiry,
                        published_at: now,
                    })
                });
            }
            Command::SetAutomaticLocation(location) => {
                self.location.get_or_insert_default().automatic = Some(location);
            }
            Command::SetManualLocation(location) => {
                self.location.get_or_insert_default().manual = Some(location);
            }
            Command::ClearAutomaticLocation => {
                if let Some(layers) = self.location.as_deref_mut() {
                    layers.automatic = None;
                }
            }
            Command::ClearLocation => self.location = None,
        }
        if self
            .location
            .as_deref()
            .is_some_and(WorkLocationLayers::is_empty)
        {
            self.location = None;
        }
        self.writes += 1;
        let now_at = Instant::new(now);
        self.changed_at = Some(self.changed_at.map_or(now_at, |t| t.max(now_at)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rules::{Profile, preferred_request, session_request};

    const G: Semantics = Semantics::GRAPH;

    fn t0() -> Timestamp {
        "2026-01-05T09:00:00Z".parse().unwrap()
    }

    fn at(offset: &str) -> Timestamp {
        t0().checked_add(crate::model::duration::parse_edm_duration(offset).unwrap())
            .unwrap()
    }

    fn set(user: &mut UserPresence, when: &str, app: &str, a: &str, b: &str, exp: Option<&str>) {
        let request = session_request(Profile::V1_0, a, b, exp).unwrap();
        let command = Command::SetPresence {
            session: SessionId::new(app),
            request,
        };
        user.apply(at(when), command, &Semantics::GRAPH).unwrap();
    }

    fn shows(user: &UserPresence, when: &str) -> String {
        user.state_at(at(when)).to_string()
    }

    #[test]
    fn packed_instants_keep_the_value_and_the_order_of_timestamps() {
        let mut all: Vec<Timestamp> = [
            "-009999-01-02T01:59:59.999999999Z",
            "1969-12-31T23:59:58.5Z",
            "1969-12-31T23:59:59.2Z",
            "1969-12-31T23:59:59.7Z",
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:00:00.000000001Z",
            "2026-01-05T09:00:00.123456789Z",
            "9999-12-30T22:00:00.999999999Z",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        all.extend([Timestamp::MIN, Timestamp::MAX]);
        for a in &all {
            assert_eq!(Instant::new(*a).get(), *a);
            for b in &all {
                assert_eq!(Instant::new(*a).cmp(&Instant::new(*b)), a.cmp(b), "{a} {b}");
            }
        }
    }

    #[test]
    fn sessions_keep_their_order_inline_and_spilled() {
        let mut u = UserPresence::default();
        for (i, app) in ["a", "b", "c", "d"].into_iter().enumerate() {
            let exp = ["PT10M", "PT20M", "PT30M", "PT40M"][i];
            set(&mut u, "PT0S", app, "Busy", "InACall", Some(exp));
        }
        let ids = |u: &UserPresence| -> Vec<String> {
            u.sessions().iter().map(|s| s.id.to_string()).collect()
        };
        assert_eq!(ids(&u), ["a", "b", "c", "d"]);
        set(&mut u, "PT1M", "b", "Away", "Away", Some("PT1H"));
        assert_eq!(
            ids(&u),
            ["a", "b", "c", "d"],
            "a keep-alive keeps its place"
        );
        u.settle(at("PT10M"), &G);
        assert_eq!(ids(&u), ["b", "c", "d"]);
        u.settle(at("PT30M"), &G);
        assert_eq!(ids(&u), ["b", "d"]);
        assert!(matches!(u.sessions, Sessions::Two(_)), "back inline");
        set(&mut u, "PT31M", "e", "Busy", "InACall", Some("PT5M"));
        assert_eq!(ids(&u), ["b", "d", "e"]);
        u.settle(at("PT2H"), &G);
        assert_eq!(u.sessions, Sessions::None);
    }

    #[test]
    fn available_fades_at_five_and_ten_minutes() {
        let mut u = UserPresence::default();
        set(&mut u, "PT0S", "a", "Available", "Available", Some("PT1H"));
        assert_eq!(shows(&u, "PT4M59S"), "Available/Available");
        assert_eq!(shows(&u, "PT5M"), "Available/AvailableInactive");
        assert_eq!(shows(&u, "PT9M59S"), "Available/AvailableInactive");
        assert_eq!(shows(&u, "PT10M"), "Away/Away");
        assert_eq!(shows(&u, "PT59M59S"), "Away/Away");
        assert_eq!(shows(&u, "PT1H"), "Offline/Offline");
    }

    #[test]
    fn calling_again_keeps_the_session_alive() {
        let mut u = UserPresence::default();
        set(&mut u, "PT0S", "a", "Available", "Available", Some("PT1H"));
        set(&mut u, "PT4M", "a", "Available", "Available", Some("PT1H"));
        assert_eq!(shows(&u, "PT8M59S"), "Available/Available");
        assert_eq!(shows(&u, "PT9M"), "Available/AvailableInactive");
        assert_eq!(
            u.sessions().len(),
            1,
            "the same sessionId replaces, not adds"
        );
        assert_eq!(shows(&u, "PT1H3M59S"), "Away/Away");
        assert_eq!(shows(&u, "PT1H4M"), "Offline/Offline");
    }

    #[test]
    fn default_expiration_ends_a_bare_session_before_it_fades() {
        let mut u = UserPresence::default();
        set(&mut u, "PT0S", "a", "Available", "Available", None);
        assert_eq!(shows(&u, "PT4M59S"), "Available/Available");
        assert_eq!(shows(&u, "PT5M"), "Offline/Offline");
    }

    #[test]
    fn busy_does_not_fade_and_expires_at_its_duration() {
        let mut u = UserPresence::default();
        set(&mut u, "PT0S", "a", "Busy", "InACall", Some("PT4H"));
        assert_eq!(shows(&u, "PT3H59M59S"), "Busy/InACall");
        assert_eq!(shows(&u, "PT4H"), "Offline/Offline");
    }

    #[test]
    fn sessions_aggregate_by_precedence() {
        let mut u = UserPresence::default();
        set(&mut u, "PT0S", "away", "Away", "Away", Some("PT1H"));
        assert_eq!(shows(&u, "PT1S"), "Away/Away");
        set(
            &mut u,
            "PT1S",
            "avail",
            "Available",
            "Available",
            Some("PT1H"),
        );
        assert_eq!(shows(&u, "PT2S"), "Available/Available");
        set(
            &mut u,
            "PT2S",
            "busy",
            "Busy",
            "InAConferenceCall",
            Some("PT30M"),
        );
        assert_eq!(shows(&u, "PT3S"), "Busy/InAConferenceCall");
        set(
            &mut u,
            "PT3S",
            "dnd",
            "DoNotDisturb",
            "Presenting",
            Some("PT10M"),
        );
        assert_eq!(shows(&u, "PT4S"), "DoNotDisturb/Presenting");
        // As the higher ones expire, the next one shows through; the Available one has faded.
        assert_eq!(shows(&u, "PT10M3S"), "Busy/InAConferenceCall");
        assert_eq!(shows(&u, "PT30M2S"), "Away/Away");
    }

    #[test]
    fn equal_rank_shows_the_latest_set_session() {
        let mut u = UserPresence::default();
        set(&mut u, "PT0S", "a", "Busy", "InACall", Some("PT1H"));
        set(
            &mut u,
            "PT1M",
            "b",
            "Busy",
            "InAConferenceCall",
            Some("PT1H"),
        );
        assert_eq!(shows(&u, "PT2M"), "Busy/InAConferenceCall");
        set(&mut u, "PT3M", "a", "Busy", "InACall", Some("PT1H"));
        assert_eq!(shows(&u, "PT4M"), "Busy/InACall");
    }

    #[test]
    fn preferred_overrides_sessions_only_while_one_exists() {
        let mut u = UserPresence::default();
        let dnd = preferred_request(Profile::V1_0, "DoNotDisturb", "DoNotDisturb", None).unwrap();
        u.apply(t0(), Command::SetPreferredPresence(dnd), &G)
            .unwrap();
        assert_eq!(shows(&u, "PT1S"), "Offline/Offline");
        set(&mut u, "PT1M", "a", "Available", "Available", Some("PT10M"));
        assert_eq!(shows(&u, "PT2M"), "DoNotDisturb/DoNotDisturb");
        assert_eq!(shows(&u, "PT11M"), "Offline/Offline");
        set(&mut u, "PT23H59M", "a", "Away", "Away", Some("PT4H"));
        assert_eq!(shows(&u, "PT23H59M59S"), "DoNotDisturb/DoNotDisturb");
        assert_eq!(
            shows(&u, "P1D"),
            "Away/Away",
            "preferred Busy/DND lives one day"
        );
        u.apply(at("P1DT1M"), Command::ClearPreferredPresence, &G)
            .unwrap();
        assert_eq!(shows(&u, "P1DT2M"), "Away/Away");
    }

    #[test]
    fn clear_presence_removes_a_session_and_404s_when_absent() {
        let mut u = UserPresence::default();
        set(&mut u, "PT0S", "a", "Busy", "InACall", Some("PT1H"));
        set(&mut u, "PT0S", "b", "Away", "Away", Some("PT1H"));
        let clear = |s: &str| Command::ClearPresence {
            session: SessionId::new(s),
        };
        u.apply(at("PT1M"), clear("a"), &G).unwrap();
        assert_eq!(shows(&u, "PT1M"), "Away/Away");
        assert_eq!(
            u.apply(at("PT1M"), clear("a"), &G),
            Err(CommandError::SessionNotFound(SessionId::new("a")))
        );
        u.apply(at("PT1M"), clear("b"), &G).unwrap();
        assert_eq!(shows(&u, "PT1M"), "Offline/Offline");
        // An expired session no longer exists either.
        set(&mut u, "PT2M", "c", "Away", "Away", Some("PT5M"));
        assert!(u.apply(at("PT7M"), clear("c"), &G).is_err());
        assert!(u.is_idle());
    }

    #[test]
    fn sequence_number_text_is_fixed_width_hex() {
        for (micros, writes) in [
            (0, 0),
            (1_767_603_600_000_000, 1),
            (253_402_207_200_000_000, 0xFF_FFFF_FFFF),
            (1, 0x100_0000_0000),
            (-5, u64::MAX),
        ] {
            let sequence = SequenceNumber {
                changed_at: Timestamp::from_microsecond(micros).unwrap(),
                writes,
            };
            let clamped = u64::try_from(sequence.changed_at.as_microsecond()).unwrap_or(0);
            assert_eq!(sequence.to_string(), format!("{clamped:016X}{writes:010X}"));
        }
    }

    #[test]
    fn sequence_number_grows_with_writes_and_with_fired_timers_only() {
        let mut u = UserPresence::default();
        let seq = |u: &UserPresence, w: &str| u.view(at(w)).sequence;
        set(&mut u, "PT0S", "a", "Available", "Available", Some("PT1H"));
        let s0 = seq(&u, "PT0S");
        assert_eq!(s0, seq(&u, "PT4M59S"), "nothing changed");
        let s1 = seq(&u, "PT5M");
        assert!(s1 > s0);
        set(&mut u, "PT5M", "b", "Away", "Away", Some("PT1H"));
        let s2 = seq(&u, "PT5M");
        assert!(s2 > s1, "a write at the instant of a timer still grows it");
        set(&mut u, "PT5M", "b", "Away", "Away", Some("PT1H"));
        assert!(seq(&u, "PT5M") > s2, "two writes at one instant differ");
        assert!(s1.to_string() > s0.to_string(), "sorts as text");
        // Settling (eviction) keeps it from going back.
        let before = seq(&u, "P1D");
        u.settle(at("P1D"), &G);
        assert_eq!(seq(&u, "P1D"), before);
    }

    #[test]
    fn work_location_manual_over_automatic_and_the_clears() {
        let mut u = UserPresence::default();
        let loc = |t: &str| WorkLocation {
            location_type: t.into(),
            place_id: None,
        };
        let shown = |u: &UserPresence| {
            u.view(t0())
                .work_location
                .shown()
                .map(|(s, l)| (s, l.location_type.clone()))
        };
        assert_eq!(shown(&u), None);
        u.apply(t0(), Command::SetAutomaticLocation(loc("office")), &G)
            .unwrap();
        assert_eq!(
            shown(&u),
            Some((WorkLocationSource::Automatic, "office".into()))
        );
        u.apply(t0(), Command::SetManualLocation(loc("remote")), &G)
            .unwrap();
        assert_eq!(
            shown(&u),
            Some((WorkLocationSource::Manual, "remote".into()))
        );
        u.apply(t0(), Command::ClearAutomaticLocation, &G).unwrap();
        assert_eq!(
            shown(&u),
            Some((WorkLocationSource::Manual, "remote".into()))
        );
        u.apply(t0(), Command::SetAutomaticLocation(loc("office")), &G)
            .unwrap();
        u.apply(t0(), Command::ClearLocation, &G).unwrap();
        assert_eq!(shown(&u), None);
        assert!(u.is_idle());
    }

    #[test]
    fn status_message_expires_and_empty_content_clears_it() {
        let mut u = UserPresence::default();
        let msg = |content: &str, exp: Option<Timestamp>| {
            Command::SetStatusMessage(Some(StatusMessageInput {
                message: ItemBody {
                    content: content.into(),
                    content_type: "text".into(),
                },
                expiry: exp.map(|at| StatusExpiry {
                    date_time: String::new(),
                    time_zone: "UTC".into(),
                    at,
                }),
            }))
        };
        u.apply(t0(), msg("In a meeting", Some(at("PT1H"))), &G)
            .unwrap();
        let view = u.view(at("PT59M59S"));
        assert_eq!(view.status_message.map(|m| m.published_at), Some(t0()));
        assert_eq!(u.view(at("PT1H")).status_message, None);
        u.apply(at("PT2H"), msg("Back", None), &G).unwrap();
        assert!(u.view(at("P7D")).status_message.is_some());
        u.apply(at("PT3H"), msg("", None), &G).unwrap();
        assert_eq!(u.view(at("PT3H")).status_message, None);
    }
}
