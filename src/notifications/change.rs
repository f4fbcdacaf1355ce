//! Change detection from the pure model: when a watched user's aggregated availability or activity
//! changes, and why (a write, the fade, a session's expiry, the preferred presence's expiry).
//!
//! A user's presence after a write fixes every instant until the next write, so right after each
//! write the timer changes ahead are planned from that state (the model stays pure and may drop
//! expired sessions whenever it likes). A change is one where the aggregate differs from what the
//! user showed just before; a write or timer that leaves it as it was is no change.

use std::collections::{HashMap, VecDeque};

use foldhash::fast::RandomState;
use jiff::Timestamp;
use serde::Serialize;

use crate::model::rules::Semantics;
use crate::model::{PresenceState, UserId, UserPresence};

/// What changed a user's aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Cause {
    /// A request: setPresence, clearPresence, a preferred presence set or cleared.
    Write,
    /// An Available session faded (to AvailableInactive, then Away).
    Fade,
    /// A session expired.
    Expiry,
    /// The preferred presence expired.
    PreferredExpiry,
}

/// One change of a user's aggregated presence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub user: UserId,
    pub at: Timestamp,
    pub state: PresenceState,
    pub cause: Cause,
}

/// A timer change planned ahead: when, what the user shows then, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Planned {
    at: Timestamp,
    state: PresenceState,
    cause: Cause,
}

/// Plans into `ahead` (emptied first) the changes timers make to what `presence` shows after
/// `from`, in time order, counted from `shown`, what it shows at `from`. They hold until the
/// user's next write. `instants` is room to sort the instants in, kept from call to call: this
/// runs on every write to a watched user.
fn plan(
    presence: &UserPresence,
    semantics: &Semantics,
    (from, mut shown): (Timestamp, PresenceState),
    ahead: &mut VecDeque<Planned>,
    instants: &mut Vec<Timestamp>,
) {
    instants.clear();
    instants.extend(presence.transitions(semantics).filter(|t| *t > from));
    instants.sort_unstable();
    instants.dedup();
    ahead.clear();
    for &at in instants.iter() {
        let state = presence.state_under(at, semantics);
        if state != shown {
            ahead.push_back(Planned {
                at,
                state,
                cause: cause_at(presence, at),
            });
            shown = state;
        }
    }
}

/// Why what `presence` shows changes at `at`: an expiry wins over a fade at the same instant.
fn cause_at(presence: &UserPresence, at: Timestamp) -> Cause {
    if presence.sessions().iter().any(|s| s.expires_at() == at) {
        Cause::Expiry
    } else if presence.preferred().is_some_and(|p| p.expires_at() == at) {
        Cause::PreferredExpiry
    } else {
        Cause::Fade
    }
}

/// What one watched user shows now, and the timer changes ahead.
#[derive(Debug)]
struct Outlook {
    shown: PresenceState,
    ahead: VecDeque<Planned>,
}

/// The watched users. Pure: the caller says when things happen and hands in the model's state.
#[derive(Debug)]
pub struct Watch {
    /// foldhash, as the presence store: SipHash cost more than the rest of a lookup.
    users: HashMap<UserId, Outlook, RandomState>,
    semantics: Semantics,
    /// Room for [`plan`]'s instants.
    instants: Vec<Timestamp>,
}

impl Watch {
    pub fn new(semantics: Semantics) -> Self {
        Watch {
            users: HashMap::default(),
            semantics,
            instants: Vec::new(),
        }
    }

    /// Starts watching `user`, whose presence is `presence` (`None`: never written) at `now`.
    /// Watching a user already watched changes nothing.
    pub(crate) fn watch(&mut self, user: &UserId, presence: Option<&UserPresence>, now: Timestamp) {
        if self.users.contains_key(user) {
            return;
        }
        let blank = UserPresence::default();
        let presence = presence.unwrap_or(&blank);
        let shown = presence.state_under(now, &self.semantics);
        let mut ahead = VecDeque::new();
        plan(
            presence,
            &self.semantics,
            (now, shown),
            &mut ahead,
            &mut self.instants,
        );
        self.users.insert(user.clone(), Outlook { shown, ahead });
    }

    pub(crate) fn unwatch(&mut self, user: &UserId) {
        self.users.remove(user);
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn is_watched(&self, user: &UserId) -> bool {
        self.users.contains_key(user)
    }

    /// After a write to `user` at `now` left them with `presence`: the timer changes that came
    /// before it, then the write's own change if the aggregate moved; the timers ahead are planned
    /// again. A timer due at the write's own instant is folded into the write.
    pub(crate) fn after_write(
        &mut self,
        user: &UserId,
        presence: &UserPresence,
        now: Timestamp,
    ) -> Vec<Change> {
        let Some(outlook) = self.users.get_mut(user) else {
            return Vec::new();
        };
        let mut changes = Vec::new();
        while let Some(planned) = outlook.ahead.front().copied().filter(|p| p.at < now) {
            outlook.ahead.pop_front();
            outlook.shown = planned.state;
            changes.push(change(user, planned));
        }
        let state = presence.state_under(now, &self.semantics);
        if state != outlook.shown {
            outlook.shown = state;
            changes.push(Change {
                user: user.clone(),
                at: now,
                state,
                cause: Cause::Write,
            });
        }
        plan(
            presence,
            &self.semantics,
            (now, state),
            &mut outlook.ahead,
            &mut self.instants,
        );
        changes
    }

    /// Every watched user's timer changes due by `now`, in time order (users in id order at the
    /// same instant, so runs repeat exactly).
    pub fn due(&mut self, now: Timestamp) -> Vec<Change> {
        let mut changes = Vec::new();
        for (user, outlook) in &mut self.users {
            while let Some(planned) = outlook.ahead.front().copied().filter(|p| p.at <= now) {
                outlook.ahead.pop_front();
                outlook.shown = planned.state;
                changes.push(change(user, planned));
            }
        }
        changes.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.user.cmp(&b.user)));
        changes
    }

    /// The earliest planned timer change of any watched user.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.users
            .values()
            .filter_map(|o| o.ahead.front().map(|p| p.at))
            .min()
    }

    pub fn clear(&mut self) {
        self.users.clear();
    }
}

fn change(user: &UserId, planned: Planned) -> Change {
    Change {
        user: user.clone(),
        at: planned.at,
        state: planned.state,
        cause: planned.cause,
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::model::{Activity, Availability, Command, SessionId, SessionRequest};

    const USER: &str = "11111111-2222-4333-8444-555555555555";

    fn t(minutes: i64) -> Timestamp {
        let start: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        start + SignedDuration::from_mins(minutes)
    }

    fn state(a: Availability, b: Activity) -> PresenceState {
        PresenceState::new(a, b)
    }

    fn set(presence: &mut UserPresence, at: Timestamp, app: &str, s: PresenceState, mins: i64) {
        let command = Command::SetPresence {
            session: SessionId::new(app),
            request: SessionRequest {
                state: s,
                expiration: SignedDuration::from_mins(mins),
            },
        };
        presence.apply(at, command, &Semantics::GRAPH).unwrap();
    }

    fn summary(changes: &[Change]) -> Vec<(i64, String, Cause)> {
        changes
            .iter()
            .map(|c| {
                let mins = c.at.duration_since(t(0)).as_secs() / 60;
                (mins, c.state.to_string(), c.cause)
            })
            .collect()
    }

    #[test]
    fn a_write_then_the_fade_then_expiry_are_each_one_change() {
        let user = UserId::new(USER);
        let mut watch = Watch::new(Semantics::GRAPH);
        watch.watch(&user, None, t(0));
        let mut presence = UserPresence::default();
        let available = state(Availability::Available, Activity::Available);
        set(&mut presence, t(0), "app", available, 20);
        let written = watch.after_write(&user, &presence, t(0));
        assert_eq!(
            summary(&written),
            [(0, available.to_string(), Cause::Write)]
        );
        assert_eq!(watch.next_due(), Some(t(5)));
        assert!(watch.due(t(4)).is_empty());
        let timers = watch.due(t(30));
        let expected: Vec<(i64, String, Cause)> = vec![
            (5, "Available/AvailableInactive".into(), Cause::Fade),
            (10, "Away/Away".into(), Cause::Fade),
            (20, "Offline/Offline".into(), Cause::Expiry),
        ];
        assert_eq!(summary(&timers), expected);
        assert!(watch.due(t(60)).is_empty());
    }

    #[test]
    fn no_change_when_the_aggregate_stays() {
        let user = UserId::new(USER);
        let mut watch = Watch::new(Semantics::GRAPH);
        watch.watch(&user, None, t(0));
        let mut presence = UserPresence::default();
        let busy = state(Availability::Busy, Activity::InACall);
        set(&mut presence, t(0), "a", busy, 60);
        assert_eq!(watch.after_write(&user, &presence, t(0)).len(), 1);
        // A lower-ranked session under the Busy one: nothing shown changes, nor when it fades
        // or expires under Busy.
        let available = state(Availability::Available, Activity::Available);
        set(&mut presence, t(1), "b", available, 20);
        assert!(watch.after_write(&user, &presence, t(1)).is_empty());
        assert!(watch.due(t(59)).is_empty());
        // The Busy session's expiry: Offline (b expired at 21).
        assert_eq!(
            summary(&watch.due(t(60))),
            [(60, "Offline/Offline".to_owned(), Cause::Expiry)]
        );
    }

    #[test]
    fn the_preferred_presence_expiry_is_its_own_cause() {
        let user = UserId::new(USER);
        let mut watch = Watch::new(Semantics::GRAPH);
        let mut presence = UserPresence::default();
        let busy = state(Availability::Busy, Activity::InACall);
        set(&mut presence, t(0), "a", busy, 120);
        watch.watch(&user, Some(&presence), t(0));
        let dnd = state(Availability::DoNotDisturb, Activity::DoNotDisturb);
        let command = Command::SetPreferredPresence(SessionRequest {
            state: dnd,
            expiration: SignedDuration::from_mins(30),
        });
        presence.apply(t(2), command, &Semantics::GRAPH).unwrap();
        assert_eq!(
            summary(&watch.after_write(&user, &presence, t(2))),
            [(2, dnd.to_string(), Cause::Write)]
        );
        assert_eq!(
            summary(&watch.due(t(40))),
            [(32, busy.to_string(), Cause::PreferredExpiry)]
        );
    }

    #[test]
    fn timers_before_a_write_come_out_first_and_a_keep_alive_sends_nothing() {
        let user = UserId::new(USER);
        let mut watch = Watch::new(Semantics::GRAPH);
        watch.watch(&user, None, t(0));
        let mut presence = UserPresence::default();
        let available = state(Availability::Available, Activity::Available);
        set(&mut presence, t(0), "a", available, 30);
        watch.after_write(&user, &presence, t(0));
        // No one asked for the timers (a real clock between writes): the write at 7 reports the
        // fade at 5 first, then its own change back to Available.
        set(&mut presence, t(7), "a", available, 30);
        assert_eq!(
            summary(&watch.after_write(&user, &presence, t(7))),
            [
                (5, "Available/AvailableInactive".to_owned(), Cause::Fade),
                (7, available.to_string(), Cause::Write)
            ]
        );
        // A keep-alive before the fade changes nothing shown.
        set(&mut presence, t(9), "a", available, 30);
        assert!(watch.after_write(&user, &presence, t(9)).is_empty());
        assert_eq!(watch.next_due(), Some(t(14)));
    }

    #[test]
    fn an_unwatched_user_has_no_changes() {
        let user = UserId::new(USER);
        let mut watch = Watch::new(Semantics::GRAPH);
        let mut presence = UserPresence::default();
        set(
            &mut presence,
            t(0),
            "a",
            state(Availability::Busy, Activity::Busy),
            10,
        );
        assert!(watch.after_write(&user, &presence, t(0)).is_empty());
        watch.watch(&user, Some(&presence), t(1));
        watch.unwatch(&user);
        assert!(watch.due(t(60)).is_empty());
    }
}
