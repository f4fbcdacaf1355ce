//! The rules of presence written for a reader: a reference model that `explore` uses as its
//! oracle, kept apart from the packed model the server runs (`user.rs`, `store.rs`: packed
//! instants, inline sessions, expiry indexes). Every rule here reads like the page it comes from,
//! with no optimisation; a property test below applies the same writes to both models and
//! requires that they show the same thing at every instant. A mistake in the server's speed work
//! then shows as a difference instead of hitting the server and its oracle together.
//!
//! The numbers (the fade's five and ten minutes) are read from `rules.rs`; the precedence of
//! availabilities is written out again below, on purpose, from the documentation.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::rules::{FADE_TO_AWAY, FADE_TO_INACTIVE};
use super::user::{
    Command, CommandError, PresenceView, SequenceNumber, StatusMessage, WorkLocationLayers,
};
use super::values::{Activity, Availability, PresenceState, SessionId, UserId};

/// One app's presence session, as setPresence left it.
#[derive(Clone, Debug)]
struct Session {
    id: SessionId,
    state: PresenceState,
    set_at: Timestamp,
    expires_at: Timestamp,
}

impl Session {
    /// "The presence session remains Available for five minutes, then Available/AvailableInactive,
    /// then Away/Away five minutes later"; every session ends at its expiration.
    fn shows_at(&self, now: Timestamp) -> Option<PresenceState> {
        if now >= self.expires_at {
            return None;
        }
        let age = now.duration_since(self.set_at);
        let faded = self.state.availability == Availability::Available;
        Some(if faded && age >= FADE_TO_AWAY {
            PresenceState::new(Availability::Away, Activity::Away)
        } else if faded && age >= FADE_TO_INACTIVE {
            PresenceState::new(Availability::Available, Activity::AvailableInactive)
        } else {
            self.state
        })
    }

    /// The instants at which what it shows changes.
    fn changes(&self) -> Vec<Timestamp> {
        let mut at = vec![self.expires_at];
        if self.state.availability == Availability::Available {
            for fade in [FADE_TO_INACTIVE, FADE_TO_AWAY] {
                if let Ok(t) = self.set_at.checked_add(fade)
                    && t < self.expires_at
                {
                    at.push(t);
                }
            }
        }
        at
    }
}

/// "DoNotDisturb > Busy > Available > Away": the aggregated availability is the highest among the
/// sessions. Any other availability ranks below them all.
fn rank(availability: Availability) -> u8 {
    match availability {
        Availability::DoNotDisturb => 4,
        Availability::Busy => 3,
        Availability::Available => 2,
        Availability::Away => 1,
        _ => 0,
    }
}

/// One user's presence, as the documentation describes it.
#[derive(Clone, Debug, Default)]
struct User {
    /// In the order each was first set.
    sessions: Vec<Session>,
    preferred: Option<(PresenceState, Timestamp)>,
    status: Option<StatusMessage>,
    location: WorkLocationLayers,
    /// Acknowledged writes.
    writes: u64,
    /// The newest change so far: a write, or a timer of state that has since been dropped.
    changed_at: Option<Timestamp>,
    /// How the newest session to go went: at its expiration, or by clearPresence.
    last_ended: Option<Ended>,
    /// How the newest status message to go went.
    status_ended: Option<Ended>,
    /// The newest expiration (of a session or the preferred presence) already dropped.
    last_expiry: Option<Timestamp>,
}

/// How something a user held went away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// At its expiration, at that instant.
    Expired(Timestamp),
    Cleared,
}

impl User {
    /// Every instant at which something held now changes what the user shows.
    fn timers(&self) -> Vec<Timestamp> {
        let mut at: Vec<Timestamp> = self.sessions.iter().flat_map(Session::changes).collect();
        at.extend(self.preferred.map(|(_, expires_at)| expires_at));
        at.extend(
            self.status
                .iter()
                .filter_map(|s| s.expiry.as_ref().map(|e| e.at)),
        );
        at
    }

    /// The session that shows at `now`, and what it shows: the highest rank wins; among equals
    /// the latest set, then the latest first set.
    fn top_session(&self, now: Timestamp) -> Option<(&Session, PresenceState)> {
        let mut shown: Option<(&Session, PresenceState, usize)> = None;
        for (order, session) in self.sessions.iter().enumerate() {
            let Some(state) = session.shows_at(now) else {
                continue;
            };
            let better = shown.is_none_or(|(best, best_state, best_order)| {
                (rank(state.availability), session.set_at, order)
                    > (rank(best_state.availability), best.set_at, best_order)
            });
            if better {
                shown = Some((session, state, order));
            }
        }
        shown.map(|(session, state, _)| (session, state))
    }

    /// The availability and activity at `now`.
    fn state_at(&self, now: Timestamp) -> PresenceState {
        // "No presence session: Offline." The preferred presence "takes effect only when at least
        // one presence session exists", and then overrides them all until it expires.
        match (self.top_session(now), self.preferred) {
            (None, _) => PresenceState::OFFLINE,
            (Some(_), Some((preferred, expires_at))) if now < expires_at => preferred,
            (Some((_, state)), _) => state,
        }
    }

    /// Drops what has expired by `now`, keeping the instants its timers fired at.
    fn drop_expired(&mut self, now: Timestamp) {
        self.changed_at = self.newest_change(now);
        let expired = self
            .sessions
            .iter()
            .map(|s| s.expires_at)
            .chain(self.preferred.map(|(_, expires_at)| expires_at))
            .filter(|at| *at <= now);
        self.last_expiry = self.last_expiry.max(expired.max());
        let sessions_ended = self.sessions.iter().map(|s| s.expires_at);
        if let Some(at) = sessions_ended.filter(|at| *at <= now).max() {
            self.last_ended = Some(Ended::Expired(at));
        }
        self.sessions.retain(|s| now < s.expires_at);
        self.preferred = self.preferred.filter(|(_, expires_at)| now < *expires_at);
        let status_expired = self.status.as_ref().and_then(|s| s.expiry.as_ref());
        if let Some(at) = status_expired.map(|e| e.at).filter(|at| *at <= now) {
            self.status_ended = Some(Ended::Expired(at));
        }
        self.status = self
            .status
            .take()
            .filter(|s| s.expiry.as_ref().is_none_or(|e| now < e.at));
    }

    fn newest_change(&self, now: Timestamp) -> Option<Timestamp> {
        let fired = self.timers().into_iter().filter(|t| *t <= now).max();
        self.changed_at.max(fired)
    }

    fn apply(&mut self, now: Timestamp, command: Command) -> Result<(), CommandError> {
        self.drop_expired(now);
        let until = |lasts| {
            now.checked_add(lasts)
                .map_err(|_| CommandError::ExpiryOverflow)
        };
        match command {
            Command::SetPresence { session, request } => {
                let fresh = Session {
                    id: session,
                    state: request.state,
                    set_at: now,
                    expires_at: until(request.expiration)?,
                };
                match self.sessions.iter_mut().find(|s| s.id == fresh.id) {
                    Some(same) => *same = fresh,
                    None => self.sessions.push(fresh),
                }
            }
            Command::ClearPresence { session } => {
                let Some(i) = self.sessions.iter().position(|s| s.id == session) else {
                    return Err(CommandError::SessionNotFound(session));
                };
                self.sessions.remove(i);
                self.last_ended = Some(Ended::Cleared);
            }
            Command::SetPreferredPresence(request) => {
                self.preferred = Some((request.state, until(request.expiration)?));
            }
            Command::ClearPreferredPresence => self.preferred = None,
            Command::SetStatusMessage(input) => {
                // An empty message clears it, as null does.
                self.status =
                    input
                        .filter(|m| !m.message.content.is_empty())
                        .map(|m| StatusMessage {
                            message: m.message,
                            expiry: m.expiry,
                            published_at: now,
                        });
                if self.status.is_none() {
                    self.status_ended = Some(Ended::Cleared);
                }
            }
            Command::SetManualLocation(location) => self.location.manual = Some(location),
            Command::SetAutomaticLocation(location) => self.location.automatic = Some(location),
            Command::ClearAutomaticLocation => self.location.automatic = None,
            Command::ClearLocation => self.location = WorkLocationLayers::default(),
        }
        self.writes += 1;
        self.changed_at = self.changed_at.max(Some(now));
        Ok(())
    }

    fn view(&self, now: Timestamp) -> PresenceView {
        let live = |s: &&StatusMessage| s.expiry.as_ref().is_none_or(|e| now < e.at);
        PresenceView {
            state: self.state_at(now),
            status_message: self.status.as_ref().filter(live).cloned(),
            work_location: self.location.clone(),
            sequence: SequenceNumber::new(
                self.newest_change(now).unwrap_or(Timestamp::UNIX_EPOCH),
                self.writes,
            ),
        }
    }
}

/// Why a user shows what they show at an instant: which of the rules above decides it. An
/// observation of it rests on that rule (`explore` names the rule in the cases it writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grounds {
    pub presence: PresenceGrounds,
    pub status_message: StatusGrounds,
    /// The instants at which a timer changes, or changed, the availability and activity shown:
    /// the fades and expirations of what the user holds, and the newest expiration of what has
    /// gone since.
    pub presence_timers: Vec<Timestamp>,
    /// The expiry of the status message held, if it has one, and of the one that expired last.
    pub status_timers: Vec<Timestamp>,
}

/// What decides the availability and activity shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceGrounds {
    /// The user never had a session: Offline/Offline.
    NeverSet,
    /// No session is left and the last one to go ended at its expiration: Offline/Offline.
    Expired,
    /// No session is left and the last one to go was cleared: Offline/Offline.
    Cleared,
    /// A preferred presence is set but no session exists: Offline/Offline.
    PreferredWithoutSession,
    /// The preferred presence shows instead of the sessions.
    Preferred,
    /// A session shows: the pair it was set to, or the stage it has faded to; and how it won.
    Session { fade: Fade, won: Won },
}

/// How far a session has faded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fade {
    /// It shows the pair it was set to.
    AsSet,
    /// Available/AvailableInactive, five minutes after it was set.
    Inactive,
    /// Away/Away, ten minutes after it was set.
    Away,
}

/// How the session shown won over the user's other sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Won {
    /// It is the only one.
    Alone,
    /// Its availability ranks above every other session's, none of which has faded.
    Outranks,
    /// Another session of the same rank shows something else: the one set latest shows.
    Latest,
    /// Some session has faded: each ranks by the availability it shows.
    AmongFaded,
}

/// What decides the status message shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusGrounds {
    /// The user never had one.
    NeverSet,
    /// It shows as set; `without_session`: while the user has no session.
    Shown { without_session: bool },
    /// It ended at its expiry.
    Expired,
    /// A null or empty message cleared it.
    Cleared,
}

impl User {
    fn grounds(&self, now: Timestamp) -> Grounds {
        let live_status = self
            .status
            .as_ref()
            .filter(|s| s.expiry.as_ref().is_none_or(|e| now < e.at));
        let presence = self.presence_grounds(now);
        let without_session = matches!(
            presence,
            PresenceGrounds::NeverSet
                | PresenceGrounds::Expired
                | PresenceGrounds::Cleared
                | PresenceGrounds::PreferredWithoutSession
        );
        let status_message = match (live_status, &self.status, self.status_ended) {
            (Some(_), _, _) => StatusGrounds::Shown { without_session },
            (None, Some(_), _) | (None, None, Some(Ended::Expired(_))) => StatusGrounds::Expired,
            (None, None, Some(Ended::Cleared)) => StatusGrounds::Cleared,
            (None, None, None) => StatusGrounds::NeverSet,
        };
        let mut presence_timers: Vec<Timestamp> =
            self.sessions.iter().flat_map(Session::changes).collect();
        presence_timers.extend(self.preferred.map(|(_, expires_at)| expires_at));
        presence_timers.extend(self.last_expiry);
        Grounds {
            presence,
            status_message,
            presence_timers,
            status_timers: self
                .status
                .iter()
                .filter_map(|s| s.expiry.as_ref().map(|e| e.at))
                .chain(match self.status_ended {
                    Some(Ended::Expired(at)) => Some(at),
                    _ => None,
                })
                .collect(),
        }
    }

    fn presence_grounds(&self, now: Timestamp) -> PresenceGrounds {
        let preferred = self.preferred.filter(|(_, expires_at)| now < *expires_at);
        let Some((winner, shown)) = self.top_session(now) else {
            return if preferred.is_some() {
                PresenceGrounds::PreferredWithoutSession
            } else if self.sessions.iter().any(|s| s.expires_at <= now) {
                PresenceGrounds::Expired
            } else {
                match self.last_ended {
                    None => PresenceGrounds::NeverSet,
                    Some(Ended::Expired(_)) => PresenceGrounds::Expired,
                    Some(Ended::Cleared) => PresenceGrounds::Cleared,
                }
            };
        };
        if preferred.is_some() {
            return PresenceGrounds::Preferred;
        }
        let fade = match (winner.state == shown, shown.availability) {
            (true, _) => Fade::AsSet,
            (false, Availability::Away) => Fade::Away,
            (false, _) => Fade::Inactive,
        };
        let live: Vec<(&Session, PresenceState)> = self
            .sessions
            .iter()
            .filter_map(|s| s.shows_at(now).map(|state| (s, state)))
            .collect();
        let rival = |(s, state): &(&Session, PresenceState)| {
            s.id != winner.id
                && rank(state.availability) == rank(shown.availability)
                && *state != shown
        };
        let won = if live.len() == 1 {
            Won::Alone
        } else if live.iter().any(|(s, state)| s.state != *state) {
            Won::AmongFaded
        } else if live.iter().any(rival) {
            Won::Latest
        } else {
            Won::Outranks
        };
        PresenceGrounds::Session { fade, won }
    }
}

/// Every user's presence, by the documented rules.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReferenceModel {
    users: BTreeMap<UserId, User>,
}

impl ReferenceModel {
    pub fn new() -> Self {
        ReferenceModel::default()
    }

    /// Applies one write to `user`'s presence at `now`, and returns the sequenceNumber right
    /// after it.
    pub fn apply(
        &mut self,
        now: Timestamp,
        user: &UserId,
        command: Command,
    ) -> Result<SequenceNumber, CommandError> {
        let presence = self.users.entry(user.clone()).or_default();
        presence.apply(now, command)?;
        Ok(presence.view(now).sequence)
    }

    /// What `user` shows at `now`.
    pub fn view(&self, user: &UserId, now: Timestamp) -> PresenceView {
        self.users.get(user).cloned().unwrap_or_default().view(now)
    }

    /// Why `user` shows what [`ReferenceModel::view`] says at `now`.
    pub fn grounds(&self, user: &UserId, now: Timestamp) -> Grounds {
        self.users
            .get(user)
            .cloned()
            .unwrap_or_default()
            .grounds(now)
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use proptest::prelude::*;

    use super::*;
    use crate::model::{
        ItemBody, PresenceStore, Profile, StatusExpiry, StatusMessageInput, WorkLocation,
        preferred_request, session_request,
    };

    const USERS: [&str; 2] = ["alice", "bob"];
    const SESSIONS: [&str; 3] = ["a1", "a2", "a3"];
    const MINUTES: [i64; 8] = [1, 4, 5, 6, 9, 10, 11, 60];

    /// A write, or an advance of the clock by some seconds.
    fn step() -> impl Strategy<Value = (usize, u32, u32, u32, i64)> {
        (
            0..USERS.len(),
            0..11u32,
            0..u32::MAX,
            0..u32::MAX,
            0..900i64,
        )
    }

    /// The command a generated step stands for.
    fn command(kind: u32, a: u32, b: u32) -> Command {
        let pick = |list: &[&str], n: u32| list[n as usize % list.len()].to_owned();
        let minutes = MINUTES[b as usize % MINUTES.len()];
        let session = SessionId::new(&pick(&SESSIONS, a));
        let duration = format!("PT{}M", minutes.max(5));
        match kind {
            0..=2 => {
                let pairs = Profile::V1_0.session_pairs();
                let pair = pairs[a as usize % pairs.len()];
                let lasts = b.is_multiple_of(2).then_some(duration.as_str());
                let request = session_request(
                    Profile::V1_0,
                    pair.availability.as_str(),
                    pair.activity.as_str(),
                    lasts,
                );
                match request {
                    Ok(request) => Command::SetPresence { session, request },
                    Err(_) => Command::ClearPreferredPresence,
                }
            }
            3 => Command::ClearPresence { session },
            4 => {
                let pairs = Profile::V1_0.preferred_pairs();
                let pair = pairs[a as usize % pairs.len()];
                let lasts = format!("PT{minutes}M");
                let lasts = (!b.is_multiple_of(3)).then_some(lasts.as_str());
                preferred_request(
                    Profile::V1_0,
                    pair.availability.as_str(),
                    pair.activity.as_str(),
                    lasts,
                )
                .map_or(
                    Command::ClearPreferredPresence,
                    Command::SetPreferredPresence,
                )
            }
            5 => Command::ClearPreferredPresence,
            6 => Command::SetStatusMessage((!a.is_multiple_of(4)).then(|| StatusMessageInput {
                message: ItemBody {
                    content: pick(&["", "In a meeting", "Out"], a),
                    content_type: "text".to_owned(),
                },
                expiry: b.is_multiple_of(2).then(|| StatusExpiry {
                    date_time: String::new(),
                    time_zone: "UTC".to_owned(),
                    at: Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minutes),
                }),
            })),
            7 | 8 => {
                let location = WorkLocation {
                    location_type: pick(&["office", "remote", "timeOff"], a),
                    place_id: b.is_multiple_of(2).then(|| "p1".to_owned()),
                };
                if kind == 7 {
                    Command::SetManualLocation(location)
                } else {
                    Command::SetAutomaticLocation(location)
                }
            }
            9 => Command::ClearAutomaticLocation,
            _ => Command::ClearLocation,
        }
    }

    /// Why the model shows what it shows, as a user's sessions come and go.
    #[test]
    fn the_grounds_name_what_decides_the_presence() {
        let mut model = ReferenceModel::new();
        let (alice, t0) = (UserId::new("alice"), Timestamp::UNIX_EPOCH);
        let at = |minutes| t0 + SignedDuration::from_mins(minutes);
        let presence =
            |model: &ReferenceModel, minutes| model.grounds(&alice, at(minutes)).presence;
        let set = |pair: (&str, &str), lasts| Command::SetPresence {
            session: SessionId::new("a1"),
            request: session_request(Profile::V1_0, pair.0, pair.1, Some(lasts)).unwrap(),
        };
        assert_eq!(presence(&model, 0), PresenceGrounds::NeverSet);
        model
            .apply(at(0), &alice, set(("Available", "Available"), "PT30M"))
            .unwrap();
        let session = |fade, won| PresenceGrounds::Session { fade, won };
        assert_eq!(presence(&model, 1), session(Fade::AsSet, Won::Alone));
        assert_eq!(presence(&model, 6), session(Fade::Inactive, Won::Alone));
        assert_eq!(presence(&model, 11), session(Fade::Away, Won::Alone));
        // Expired, whether or not a write has dropped the session since.
        assert_eq!(presence(&model, 31), PresenceGrounds::Expired);
        let grounds = model.grounds(&alice, at(31));
        assert!(grounds.presence_timers.contains(&at(30)), "{grounds:?}");
        model
            .apply(at(32), &alice, Command::ClearPreferredPresence)
            .unwrap();
        assert_eq!(presence(&model, 32), PresenceGrounds::Expired);
        assert!(
            model
                .grounds(&alice, at(32))
                .presence_timers
                .contains(&at(30))
        );
        model
            .apply(at(40), &alice, set(("Busy", "InACall"), "PT1H"))
            .unwrap();
        model
            .apply(
                at(41),
                &alice,
                Command::ClearPresence {
                    session: SessionId::new("a1"),
                },
            )
            .unwrap();
        assert_eq!(presence(&model, 42), PresenceGrounds::Cleared);
        let status = model.grounds(&alice, at(42)).status_message;
        assert_eq!(status, StatusGrounds::NeverSet);
        model
            .apply(at(43), &alice, Command::SetStatusMessage(None))
            .unwrap();
        let status = model.grounds(&alice, at(43)).status_message;
        assert_eq!(status, StatusGrounds::Cleared);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The packed model the server runs shows what the reference model shows, after every
        /// write and at every second around each write's timers.
        #[test]
        fn the_packed_model_shows_what_the_reference_shows(
            steps in proptest::collection::vec(step(), 1..40)
        ) {
            let mut packed = PresenceStore::new();
            let mut reference = ReferenceModel::new();
            let mut now = Timestamp::UNIX_EPOCH;
            for (user, kind, a, b, seconds) in steps {
                let user = UserId::new(USERS[user]);
                now += SignedDuration::from_secs(seconds);
                // Status message expiries are relative to the epoch: move them to now.
                let mut command = command(kind, a, b);
                if let Command::SetStatusMessage(Some(input)) = &mut command
                    && let Some(expiry) = &mut input.expiry
                {
                    expiry.at = now + expiry.at.duration_since(Timestamp::UNIX_EPOCH);
                }
                prop_assert_eq!(
                    packed.apply(now, &user, command.clone()),
                    reference.apply(now, &user, command)
                );
                for later in [0, 1, 299, 300, 301, 599, 600, 601, 3600] {
                    let at = now + SignedDuration::from_secs(later);
                    for user in USERS.map(UserId::new) {
                        prop_assert_eq!(packed.view(&user, at), reference.view(&user, at));
                    }
                }
            }
        }
    }
}
