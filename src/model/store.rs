//! The presence of every user, with an ordered expiry index so that expired state is freed in
//! time order without ever scanning all users.

use std::collections::BTreeSet;

use foldhash::fast::RandomState;
use indexmap::IndexMap;
use jiff::Timestamp;

use super::rules::Semantics;
use super::user::{Command, CommandError, Instant, PresenceView, SequenceNumber, UserPresence};
use super::values::UserId;

/// All users' presence. Pure: every call takes the current instant.
///
/// Memory is what limits how many users one server holds, so the layout is compact: users live in
/// one dense vector in the order they first appeared (users are never removed, so a user's
/// position never changes), with a hash index beside it, and the expiry index names a user by
/// that position (4 bytes) instead of by id.
#[derive(Debug, Default)]
pub struct PresenceStore {
    users: IndexMap<UserId, UserPresence, RandomState>,
    /// One entry per user with something to expire: (that user's next expiry, user's position).
    expiries: BTreeSet<(Instant, Position)>,
    /// The first instant of `expiries`, kept beside it: every write settles first, and nearly
    /// always finds nothing due without reading a node of the tree.
    next_due: Option<Instant>,
    semantics: Semantics,
}

/// A user's position in the store. Four bytes: four billion users would need a terabyte of memory.
type Position = u32;

impl PresenceStore {
    /// A store that follows the documented rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that follows other rules (tests of the harness build wrong servers with it).
    pub fn with_semantics(semantics: Semantics) -> Self {
        PresenceStore {
            semantics,
            ..Self::default()
        }
    }

    pub fn semantics(&self) -> Semantics {
        self.semantics
    }

    /// Applies a write to one user's presence at `now`, and returns that user's sequenceNumber
    /// right after it (which totally orders the user's acknowledged writes).
    pub fn apply(
        &mut self,
        now: Timestamp,
        user: &UserId,
        command: Command,
    ) -> Result<SequenceNumber, CommandError> {
        let entry = self.users.entry(user.clone());
        let position = Position::try_from(entry.index())
            .unwrap_or_else(|_| unreachable!("more users than memory can hold"));
        let presence = entry.or_default();
        let before = presence.next_expiry();
        let result = presence.apply(now, command, &self.semantics);
        let sequence = presence.sequence_under(now, &self.semantics);
        let after = presence.next_expiry();
        self.reindex(position, before, after);
        result.map(|()| sequence)
    }

    /// What `user` shows at `now`. Users never written to show Offline.
    pub fn view(&self, user: &UserId, now: Timestamp) -> PresenceView {
        match self.users.get(user) {
            Some(presence) => presence.view_under(now, &self.semantics),
            None => UserPresence::default().view_under(now, &self.semantics),
        }
    }

    /// `user`'s sequenceNumber at `now`: the `sequence` of [`PresenceStore::view`], without
    /// building the rest of the view.
    pub fn sequence(&self, user: &UserId, now: Timestamp) -> SequenceNumber {
        match self.users.get(user) {
            Some(presence) => presence.sequence_under(now, &self.semantics),
            None => UserPresence::default().sequence_under(now, &self.semantics),
        }
    }

    pub fn user(&self, user: &UserId) -> Option<&UserPresence> {
        self.users.get(user)
    }

    /// Frees everything that has expired by `now`, earliest first. Returns how many users were
    /// settled. Users keep an empty record so that their sequenceNumber never goes back.
    pub fn settle(&mut self, now: Timestamp) -> usize {
        let mut settled = 0;
        let now_at = Instant::new(now);
        if self.next_due.is_none_or(|due| due > now_at) {
            return 0;
        }
        while let Some(&(due, position)) = self.expiries.first() {
            if due > now_at {
                break;
            }
            self.expiries.pop_first();
            if let Some((_, presence)) = self.users.get_index_mut(position as usize) {
                presence.settle(now, &self.semantics);
                // A user's remaining expiries are all after `now` once settled; re-queueing one
                // that is not would spin this loop forever while holding the store.
                if let Some(next) = presence.next_expiry().filter(|next| *next > now) {
                    self.expiries.insert((Instant::new(next), position));
                }
            }
            settled += 1;
        }
        self.next_due = self.expiries.first().map(|&(due, _)| due);
        settled
    }

    /// The earliest instant at which something expires.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        self.expiries.first().map(|(t, _)| t.get())
    }

    /// How many users have a record.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// How many app sessions are held (expired ones that are not settled yet included).
    pub fn session_count(&self) -> usize {
        self.users.values().map(|u| u.sessions().len()).sum()
    }

    fn reindex(&mut self, user: Position, before: Option<Timestamp>, after: Option<Timestamp>) {
        if before == after {
            return;
        }
        if let Some(t) = before {
            self.expiries.remove(&(Instant::new(t), user));
        }
        if let Some(t) = after {
            self.expiries.insert((Instant::new(t), user));
        }
        self.next_due = self.expiries.first().map(|&(due, _)| due);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rules::{Profile, session_request};
    use crate::model::values::SessionId;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_767_603_600 + secs).unwrap()
    }

    fn set(store: &mut PresenceStore, secs: i64, user: &str, app: &str, exp: &str) {
        let request = session_request(Profile::V1_0, "Busy", "InACall", Some(exp)).unwrap();
        let command = Command::SetPresence {
            session: SessionId::new(app),
            request,
        };
        store.apply(at(secs), &UserId::new(user), command).unwrap();
    }

    #[test]
    fn settle_frees_expired_sessions_in_time_order_and_only_those() {
        let mut store = PresenceStore::new();
        set(&mut store, 0, "u1", "a", "PT10M");
        set(&mut store, 0, "u2", "a", "PT5M");
        set(&mut store, 0, "u2", "b", "PT20M");
        assert_eq!(store.session_count(), 3);
        assert_eq!(store.next_expiry(), Some(at(300)));
        assert_eq!(store.settle(at(299)), 0);
        assert_eq!(store.settle(at(600)), 2, "u2 at 5 min, then u1 at 10 min");
        assert_eq!(store.session_count(), 1);
        assert_eq!(store.next_expiry(), Some(at(1200)));
        assert_eq!(store.settle(at(1200)), 1);
        assert_eq!(store.session_count(), 0);
        assert_eq!(store.next_expiry(), None);
    }

    #[test]
    fn the_first_due_instant_follows_every_change_of_the_index() {
        let mut store = PresenceStore::new();
        set(&mut store, 0, "u1", "a", "PT20M");
        set(&mut store, 0, "u2", "a", "PT5M");
        assert_eq!(store.settle(at(299)), 0);
        assert_eq!(store.settle(at(300)), 1, "u2, the earlier of the two");
        set(&mut store, 400, "u3", "a", "PT5M");
        assert_eq!(store.settle(at(699)), 0);
        assert_eq!(
            store.settle(at(700)),
            1,
            "u3, due before u1 though written after"
        );
        set(&mut store, 800, "u1", "a", "PT20M");
        assert_eq!(
            store.settle(at(1200)),
            0,
            "u1's keep-alive moved it to 2000"
        );
        assert_eq!(store.next_expiry(), Some(at(2000)));
        assert_eq!(store.settle(at(2000)), 1);
        assert_eq!(store.next_expiry(), None);
    }

    #[test]
    fn a_keep_alive_moves_the_index_entry() {
        let mut store = PresenceStore::new();
        set(&mut store, 0, "u", "a", "PT5M");
        set(&mut store, 240, "u", "a", "PT5M");
        assert_eq!(store.next_expiry(), Some(at(540)));
        assert_eq!(store.settle(at(300)), 0);
        assert_eq!(store.session_count(), 1);
    }

    #[test]
    fn the_view_is_the_same_before_and_after_settling() {
        let mut store = PresenceStore::new();
        set(&mut store, 0, "u", "a", "PT5M");
        let user = UserId::new("u");
        let before = store.view(&user, at(400));
        assert_eq!(store.sequence(&user, at(400)), before.sequence);
        store.settle(at(400));
        assert_eq!(store.view(&user, at(400)), before);
        assert_eq!(store.sequence(&user, at(400)), before.sequence);
    }
}
