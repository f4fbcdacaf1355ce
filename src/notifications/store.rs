//! The subscriptions the server holds: one per user and app, found by id and by watched user, and
//! forgotten once expired. Pure: every call takes the server's current instant.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use jiff::Timestamp;

use super::subscription::{Owner, RichSettings, Subscription, SubscriptionError, SubscriptionId};
use crate::model::UserId;

/// Every live subscription, with an index from each watched user to the subscriptions on them.
/// The maps a write to a watched user looks in hash with foldhash, as the presence store does.
#[derive(Debug, Default)]
pub struct SubscriptionStore {
    subscriptions: HashMap<SubscriptionId, Subscription, RandomState>,
    by_owner: HashMap<Owner, SubscriptionId>,
    watchers: HashMap<UserId, Vec<SubscriptionId>, RandomState>,
}

impl SubscriptionStore {
    /// Refuses a second subscription by the same user and app while the first lasts (observed:
    /// 409 "A subscripton already exists"). Asked before the URLs are validated and again when
    /// the subscription is kept.
    pub(crate) fn check_free(
        &mut self,
        owner: &Owner,
        now: Timestamp,
    ) -> Result<(), SubscriptionError> {
        self.expire(now);
        if self.by_owner.contains_key(owner) {
            return Err(SubscriptionError::AlreadyExists);
        }
        Ok(())
    }

    /// Keeps a validated subscription.
    pub fn insert(
        &mut self,
        subscription: Subscription,
        now: Timestamp,
    ) -> Result<&Subscription, SubscriptionError> {
        self.check_free(&subscription.owner, now)?;
        let id = subscription.id;
        self.by_owner.insert(subscription.owner.clone(), id);
        for user in subscription.resource.users() {
            self.watchers.entry(user.clone()).or_default().push(id);
        }
        Ok(self.subscriptions.entry(id).or_insert(subscription))
    }

    /// The subscription `id` of `owner`, if it still lasts.
    pub fn get(
        &mut self,
        id: &str,
        owner: &Owner,
        now: Timestamp,
    ) -> Result<&mut Subscription, SubscriptionError> {
        self.expire(now);
        let not_found = || SubscriptionError::NotFound(id.to_owned());
        let key = uuid::Uuid::parse_str(id).map_err(|_| not_found())?;
        self.subscriptions
            .get_mut(&key)
            .filter(|s| &s.owner == owner)
            .ok_or_else(not_found)
    }

    /// `owner`'s app's live subscriptions (Graph lists an app's subscriptions).
    pub fn list(&mut self, owner: &Owner, now: Timestamp) -> Vec<&Subscription> {
        self.expire(now);
        let mut mine: Vec<&Subscription> = self
            .subscriptions
            .values()
            .filter(|s| s.owner == *owner)
            .collect();
        mine.sort_by_key(|s| s.id);
        mine
    }

    /// Moves the expiry of `id` (and its certificate, when a new one is sent).
    pub fn renew(
        &mut self,
        id: &str,
        owner: &Owner,
        expires_at: Timestamp,
        rich: Option<RichSettings>,
        now: Timestamp,
    ) -> Result<&Subscription, SubscriptionError> {
        let subscription = self.get(id, owner, now)?;
        subscription.expires_at = expires_at;
        if rich.is_some() {
            subscription.rich = rich;
        }
        Ok(subscription)
    }

    pub fn delete(
        &mut self,
        id: &str,
        owner: &Owner,
        now: Timestamp,
    ) -> Result<Subscription, SubscriptionError> {
        let key = self.get(id, owner, now)?.id;
        Ok(self.remove(key))
    }

    /// The live subscriptions that watch `user` at `now`.
    pub fn watching<'s>(
        &'s self,
        user: &UserId,
        now: Timestamp,
    ) -> impl Iterator<Item = &'s Subscription> + 's {
        self.all_watching(user).filter(move |s| s.live_at(now))
    }

    /// Every subscription that watches `user`, live or not yet forgotten (the caller judges
    /// liveness at the instant of a change).
    pub(crate) fn all_watching<'s>(
        &'s self,
        user: &UserId,
    ) -> impl Iterator<Item = &'s Subscription> + 's {
        self.watchers
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.subscriptions.get(id))
    }

    /// Whether any subscription (live or not yet forgotten) watches `user`: the cheap test on
    /// every write.
    pub(crate) fn is_watched(&self, user: &UserId) -> bool {
        self.watchers.contains_key(user)
    }

    /// Every subscription, live or not yet forgotten.
    pub fn all(&self) -> impl Iterator<Item = &Subscription> {
        self.subscriptions.values()
    }

    /// Forgets every subscription that has expired by `now`; returns them.
    pub fn expire(&mut self, now: Timestamp) -> Vec<Subscription> {
        let expired: Vec<SubscriptionId> = self
            .subscriptions
            .values()
            .filter(|s| !s.live_at(now))
            .map(|s| s.id)
            .collect();
        expired.into_iter().map(|id| self.remove(id)).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    fn remove(&mut self, id: SubscriptionId) -> Subscription {
        let Some(subscription) = self.subscriptions.remove(&id) else {
            unreachable!("a subscription found by id is in the map");
        };
        self.by_owner.remove(&subscription.owner);
        for user in subscription.resource.users() {
            if let Some(ids) = self.watchers.get_mut(user) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.watchers.remove(user);
                }
            }
        }
        subscription
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::notifications::subscription::SubscriptionBody;

    const ALICE: &str = "11111111-2222-4333-8444-555555555555";
    const BOB: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn owner(app: &str, user: &str) -> Owner {
        Owner {
            app_id: app.into(),
            user: Some(UserId::new(user)),
        }
    }

    fn subscription(owner: Owner, watched: &str, until: &str) -> Subscription {
        let body: SubscriptionBody = serde_json::from_value(json!({
            "changeType": "updated",
            "notificationUrl": "http://127.0.0.1:9/hook",
            "resource": format!("communications/presences/{watched}"),
            "expirationDateTime": until,
        }))
        .unwrap();
        body.validate(owner, at("2026-01-05T09:00:00Z")).unwrap()
    }

    #[test]
    fn one_subscription_per_user_and_app() {
        let now = at("2026-01-05T09:00:00Z");
        let mut store = SubscriptionStore::default();
        let first = subscription(owner("app", ALICE), BOB, "2026-01-05T09:30:00Z");
        store.insert(first, now).unwrap();
        // Same user, same app, another resource: 409.
        let second = subscription(owner("app", ALICE), ALICE, "2026-01-05T09:30:00Z");
        let error = store.insert(second, now).unwrap_err();
        assert_eq!(error.status(), (409, "ExtensionError"));
        // Another app, or another user of the same app, may.
        let other_app = subscription(owner("other", ALICE), BOB, "2026-01-05T09:30:00Z");
        store.insert(other_app, now).unwrap();
        let other_user = subscription(owner("app", BOB), BOB, "2026-01-05T09:30:00Z");
        store.insert(other_user, now).unwrap();
        assert_eq!(store.watching(&UserId::new(BOB), now).count(), 3);
    }

    #[test]
    fn an_expired_subscription_is_gone_and_frees_its_place() {
        let mut store = SubscriptionStore::default();
        let s = subscription(owner("app", ALICE), BOB, "2026-01-05T09:10:00Z");
        let id = s.id.to_string();
        store.insert(s, at("2026-01-05T09:00:00Z")).unwrap();
        let before = at("2026-01-05T09:09:59Z");
        assert!(store.get(&id, &owner("app", ALICE), before).is_ok());
        assert_eq!(store.watching(&UserId::new(BOB), before).count(), 1);
        let expiry = at("2026-01-05T09:10:00Z");
        assert_eq!(store.watching(&UserId::new(BOB), expiry).count(), 0);
        assert!(matches!(
            store.get(&id, &owner("app", ALICE), expiry),
            Err(SubscriptionError::NotFound(_))
        ));
        assert!(!store.is_watched(&UserId::new(BOB)));
        let again = subscription(owner("app", ALICE), BOB, "2026-01-05T09:30:00Z");
        assert!(store.insert(again, expiry).is_ok());
    }

    #[test]
    fn renew_and_delete_belong_to_the_owner() {
        let now = at("2026-01-05T09:00:00Z");
        let mut store = SubscriptionStore::default();
        let s = subscription(owner("app", ALICE), BOB, "2026-01-05T09:10:00Z");
        let id = s.id.to_string();
        store.insert(s, now).unwrap();
        assert!(
            store
                .renew(
                    &id,
                    &owner("other", ALICE),
                    at("2026-01-05T09:50:00Z"),
                    None,
                    now
                )
                .is_err()
        );
        let renewed = store
            .renew(
                &id,
                &owner("app", ALICE),
                at("2026-01-05T09:50:00Z"),
                None,
                now,
            )
            .unwrap();
        assert_eq!(renewed.expires_at, at("2026-01-05T09:50:00Z"));
        assert!(store.delete(&id, &owner("other", ALICE), now).is_err());
        store.delete(&id, &owner("app", ALICE), now).unwrap();
        assert!(store.is_empty());
        assert!(!store.is_watched(&UserId::new(BOB)));
        assert!(
            store
                .delete("not-a-guid", &owner("app", ALICE), now)
                .is_err()
        );
    }
}
