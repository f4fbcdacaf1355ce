//! The server's presence store, in shards by user: each shard is a pure [`PresenceStore`] behind
//! its own lock, so requests for different users on different worker threads neither wait for
//! each other nor pull the same memory between cores. One user's writes still go through one
//! lock, in order; the batch read and the control protocol lock every shard they touch, in shard
//! order (so never a deadlock), and see one instant across them, as with a single lock.

use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use foldhash::fast::FixedState;

use crate::model::{PresenceStore, Semantics, UserId};

/// How many shards: well above the worker threads of any machine this runs on.
const SHARDS: usize = 64;

/// Every user's presence, in `SHARDS` pure stores.
#[derive(Debug)]
pub struct ShardedStore {
    shards: Box<[Mutex<PresenceStore>]>,
}

/// A shard's lock. A poisoned lock is taken over: every store method leaves it consistent, and
/// nothing in them panics on client input.
fn lock(shard: &Mutex<PresenceStore>) -> MutexGuard<'_, PresenceStore> {
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

impl ShardedStore {
    pub(crate) fn new(semantics: Semantics) -> Self {
        ShardedStore {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(PresenceStore::with_semantics(semantics)))
                .collect(),
        }
    }

    /// The shard that holds `user` (a fixed hash: the same user, the same shard, every run).
    fn index(&self, user: &UserId) -> usize {
        (FixedState::with_seed(0).hash_one(user) % self.shards.len() as u64) as usize
    }

    /// The store that holds `user`, locked.
    pub(crate) fn lock(&self, user: &UserId) -> MutexGuard<'_, PresenceStore> {
        lock(&self.shards[self.index(user)])
    }

    /// Every shard, locked in order.
    pub(crate) fn lock_all(&self) -> Vec<MutexGuard<'_, PresenceStore>> {
        self.shards.iter().map(lock).collect()
    }

    /// The shards that hold `users`, locked in order, and for each user the position of its
    /// shard among them.
    pub(crate) fn lock_for(
        &self,
        users: &[UserId],
    ) -> (Vec<MutexGuard<'_, PresenceStore>>, Vec<usize>) {
        let indices: Vec<usize> = users.iter().map(|u| self.index(u)).collect();
        let mut wanted = indices.clone();
        wanted.sort_unstable();
        wanted.dedup();
        let guards = wanted.iter().map(|&i| lock(&self.shards[i])).collect();
        let positions = indices
            .iter()
            .map(|i| wanted.binary_search(i).unwrap_or_default())
            .collect();
        (guards, positions)
    }

    /// The rules every shard follows.
    pub(crate) fn semantics(&self) -> Semantics {
        self.shards
            .first()
            .map_or(Semantics::GRAPH, |s| lock(s).semantics())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_spread_over_the_shards_and_stay_in_theirs() {
        let store = ShardedStore::new(Semantics::GRAPH);
        let users: Vec<UserId> = (0..1000)
            .map(|i| UserId::new(&format!("a0000000-0000-4000-8000-{i:012x}")))
            .collect();
        let used: std::collections::HashSet<usize> = users.iter().map(|u| store.index(u)).collect();
        assert!(used.len() > SHARDS / 2, "{}", used.len());
        assert_eq!(store.index(&users[7]), store.index(&users[7].clone()));
        let (guards, positions) = store.lock_for(&users[..10]);
        assert!(guards.len() <= 10);
        assert!(positions.iter().all(|&p| p < guards.len()));
    }
}
