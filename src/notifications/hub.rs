//! The notifier a server holds: its subscriptions, the users they watch, and the outbox. Requests
//! create, read, renew and delete subscriptions through it; every write to a watched user and every
//! move of the clock hands it the model's state, and it turns changes into notifications.
//!
//! Nothing here holds a lock across a network call: the validation of a new subscription's URLs
//! runs before it is kept, and deliveries run in their own tasks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::change::{Change, Watch};
use super::delivery::{Deliverer, Outgoing, VALIDATION_TIMEOUT, validate_endpoint};
use super::payload::{self, LifecycleEvent};
use super::store::SubscriptionStore;
use super::subscription::{
    MAX_LIFETIME, Owner, RenewalBody, Subscription, SubscriptionBody, SubscriptionError,
    SubscriptionId,
};
use super::token::TokenIssuer;
use crate::model::rules::Semantics;
use crate::model::{UserId, UserPresence};

/// How long before expiry reauthorizationRequired is sent.
pub(crate) const REAUTHORIZE_BEFORE: SignedDuration = SignedDuration::from_mins(15);

/// What a server's notifications do differently (tests build wrong servers with it to prove the
/// suite notices).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The fade sends nothing.
    pub no_fade: bool,
    /// Expired subscriptions keep sending.
    pub after_expiry: bool,
    /// clientState is not echoed.
    pub no_client_state: bool,
    /// URLs are not validated on create.
    pub no_validation: bool,
    /// A 61-minute expiry is taken.
    pub long_expiry: bool,
}

#[derive(Debug)]
struct Held {
    subscriptions: SubscriptionStore,
    watch: Watch,
    /// Subscriptions with a lifecycle URL, and when their reauthorizationRequired is due.
    reauthorize_at: HashMap<SubscriptionId, Timestamp>,
}

/// A server's notifications.
#[derive(Debug)]
pub struct Notifier {
    held: Mutex<Held>,
    /// Whether any user is watched: while none is, a write costs one load, no lock.
    any_watched: AtomicBool,
    deliverer: Arc<Deliverer>,
    issuer: OnceLock<Option<TokenIssuer>>,
    tenant: String,
    validation_timeout: Duration,
    faults: Faults,
}

impl Notifier {
    pub fn new(tenant: &str, semantics: Semantics) -> Self {
        Self::with_faults(tenant, semantics, Faults::default())
    }

    pub(crate) fn with_faults(tenant: &str, semantics: Semantics, faults: Faults) -> Self {
        Notifier {
            any_watched: AtomicBool::new(false),
            held: Mutex::new(Held {
                subscriptions: SubscriptionStore::default(),
                watch: Watch::new(semantics),
                reauthorize_at: HashMap::new(),
            }),
            deliverer: Deliverer::new(),
            issuer: OnceLock::new(),
            tenant: tenant.to_owned(),
            validation_timeout: VALIDATION_TIMEOUT,
            faults,
        }
    }

    /// A notifier whose endpoint validation gives up after `timeout` (tests shorten the 10 s).
    pub fn with_validation_timeout(mut self, timeout: Duration) -> Self {
        self.validation_timeout = timeout;
        self
    }

    pub fn deliverer(&self) -> &Arc<Deliverer> {
        &self.deliverer
    }

    /// The validation-token issuer, made when first needed (an RSA key takes a moment).
    pub(crate) fn issuer(&self) -> Option<&TokenIssuer> {
        self.issuer
            .get_or_init(|| TokenIssuer::generate(&self.tenant).ok())
            .as_ref()
    }

    /// Creates a subscription: checks the body at `now`, refuses a second one by the same user and
    /// app, validates the notification URL then the lifecycle URL, and keeps it. `presence_of`
    /// gives a watched user's current presence. Nothing is kept on any failure.
    pub async fn create(
        &self,
        body: SubscriptionBody,
        owner: Owner,
        now: Timestamp,
        presence_of: impl Fn(&UserId) -> Option<UserPresence>,
    ) -> Result<Value, SubscriptionError> {
        let subscription = body.validate_capped(owner, now, self.max_lifetime())?;
        self.lock()
            .subscriptions
            .check_free(&subscription.owner, now)?;
        if !self.faults.no_validation {
            let urls = [
                Some(("notificationUrl", &subscription.notification_url)),
                subscription
                    .lifecycle_url
                    .as_ref()
                    .map(|u| ("lifecycleNotificationUrl", u)),
            ];
            for (field, url) in urls.into_iter().flatten() {
                validate_endpoint(self.deliverer.client(), url, self.validation_timeout)
                    .await
                    .map_err(|e| SubscriptionError::Validation {
                        field,
                        reason: e.to_string(),
                    })?;
            }
        }
        if subscription.rich.is_some() {
            // Rich notifications carry validation tokens: make the signing key now, not on the
            // first write that needs it.
            self.issuer();
        }
        // The users' presence is read before the notifier's lock is taken: a write holds its
        // user's store while it tells the notifier, so the other order could deadlock.
        let presences: Vec<(UserId, Option<UserPresence>)> = subscription
            .resource
            .users()
            .iter()
            .map(|u| (u.clone(), presence_of(u)))
            .collect();
        let mut held = self.lock();
        let kept = held.subscriptions.insert(subscription, now)?;
        let shown = kept.to_json();
        let (id, lifecycle, expires_at) = (kept.id, kept.lifecycle_url.is_some(), kept.expires_at);
        for (user, presence) in &presences {
            held.watch.watch(user, presence.as_ref(), now);
        }
        self.any_watched.store(true, Ordering::Release);
        if lifecycle {
            held.reauthorize_at
                .insert(id, reauthorization_instant(now, expires_at));
        }
        Ok(shown)
    }

    pub fn get(&self, id: &str, owner: &Owner, now: Timestamp) -> Result<Value, SubscriptionError> {
        self.lock()
            .subscriptions
            .get(id, owner, now)
            .map(|s| s.to_json())
    }

    pub fn list(&self, owner: &Owner, now: Timestamp) -> Vec<Value> {
        self.lock()
            .subscriptions
            .list(owner, now)
            .into_iter()
            .map(Subscription::to_json)
            .collect()
    }

    pub fn renew(
        &self,
        id: &str,
        body: RenewalBody,
        owner: &Owner,
        now: Timestamp,
    ) -> Result<Value, SubscriptionError> {
        let (expires_at, rich) = body.validate_capped(now, self.max_lifetime())?;
        let mut held = self.lock();
        let renewed = held.subscriptions.renew(id, owner, expires_at, rich, now)?;
        let (shown, key, lifecycle) = (
            renewed.to_json(),
            renewed.id,
            renewed.lifecycle_url.is_some(),
        );
        if lifecycle {
            held.reauthorize_at
                .insert(key, reauthorization_instant(now, expires_at));
        }
        Ok(shown)
    }

    pub fn delete(&self, id: &str, owner: &Owner, now: Timestamp) -> Result<(), SubscriptionError> {
        let mut held = self.lock();
        let gone = held.subscriptions.delete(id, owner, now)?;
        forget(&mut held, &gone);
        self.any_watched
            .store(!held.watch.is_empty(), Ordering::Release);
        Ok(())
    }

    /// Whether anyone is watched, so that a write needs [`Notifier::after_write`]: the cheap test
    /// on every write, one atomic load (`after_write` looks whether the user written is watched,
    /// under the one lock it takes).
    pub fn watching_any(&self) -> bool {
        self.any_watched.load(Ordering::Acquire)
    }

    /// After a write to `user` at `now` left them with `presence`: when they are watched, queues
    /// the notifications of the changes (timers before the write, then the write's own).
    pub fn after_write(&self, user: &UserId, presence: &UserPresence, now: Timestamp) {
        let mut held = self.lock();
        let changes = held.watch.after_write(user, presence, now);
        let queued = self.notify(&held, &changes);
        drop(held);
        if queued {
            self.deliverer.start_due(now);
        }
    }

    /// Moves the notifier to `now`: timer changes due by then, reauthorizations, expiries. Then
    /// starts the deliveries due (without waiting for them).
    pub(crate) fn tick(&self, now: Timestamp) {
        self.queue_due(now);
        self.deliverer.start_due(now);
    }

    /// As `Notifier::tick`, and returns once every notification due by `now` was attempted:
    /// what `POST /_conformance/clock/advance` waits for.
    pub async fn settle(&self, now: Timestamp) {
        self.queue_due(now);
        self.deliverer.settle(now).await;
    }

    /// Forgets every subscription and everything queued (a reset).
    pub fn reset(&self) {
        let mut held = self.lock();
        held.subscriptions.clear();
        held.watch.clear();
        held.reauthorize_at.clear();
        self.any_watched.store(false, Ordering::Release);
        drop(held);
        self.deliverer.clear();
    }

    /// Runs for as long as the server does: every `tick`, the timers due on `now()` (the fade on
    /// a real clock) and the retries that fell due.
    pub async fn run(&self, now: impl Fn() -> Timestamp, tick: Duration) {
        loop {
            tokio::time::sleep(tick).await;
            self.tick(now());
        }
    }

    fn queue_due(&self, now: Timestamp) {
        let mut held = self.lock();
        let changes = held.watch.due(now);
        self.notify(&held, &changes);
        let due: Vec<SubscriptionId> = held
            .reauthorize_at
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            held.reauthorize_at.remove(&id);
            if let Some(s) = held
                .subscriptions
                .all()
                .find(|s| s.id == id && s.live_at(now))
            {
                self.reauthorization(s, now);
            }
        }
        if !self.faults.after_expiry {
            for gone in held.subscriptions.expire(now) {
                forget(&mut held, &gone);
            }
            self.any_watched
                .store(!held.watch.is_empty(), Ordering::Release);
        }
    }

    /// Queues the notifications of `changes` to every subscription live when each happened;
    /// whether any was queued. A notification for a URL whose share of the outbox is full is not
    /// built.
    fn notify(&self, held: &Held, changes: &[Change]) -> bool {
        let mut queued = false;
        for change in changes {
            if self.faults.no_fade && change.cause == super::change::Cause::Fade {
                continue;
            }
            let live = |s: &&Subscription| self.faults.after_expiry || s.live_at(change.at);
            let subscriptions = held.subscriptions.all_watching(&change.user).filter(live);
            for subscription in subscriptions {
                queued |= self
                    .deliverer
                    .enqueue_with(&subscription.notification_url, || {
                        self.change_notification(subscription, change)
                    });
            }
        }
        queued
    }

    fn change_notification(
        &self,
        subscription: &Subscription,
        change: &Change,
    ) -> Option<Outgoing> {
        let mut item = payload::change_item(subscription, change, &self.tenant).ok()?;
        if self.faults.no_client_state {
            item["clientState"] = Value::Null;
        }
        let tokens = match subscription.rich {
            Some(_) => Some(vec![self.issuer()?.issue(&subscription.owner.app_id).ok()?]),
            None => None,
        };
        Some(Outgoing {
            url: subscription.notification_url.clone(),
            body: payload::collection(vec![item], tokens).to_string(),
            first: change.at,
        })
    }

    fn reauthorization(&self, subscription: &Subscription, now: Timestamp) {
        let Some(url) = &subscription.lifecycle_url else {
            return;
        };
        let item = payload::lifecycle_item(
            subscription,
            LifecycleEvent::ReauthorizationRequired,
            &self.tenant,
        );
        self.deliverer.enqueue(Outgoing {
            url: url.clone(),
            body: payload::collection(vec![item], None).to_string(),
            first: now,
        });
    }

    fn max_lifetime(&self) -> SignedDuration {
        if self.faults.long_expiry {
            SignedDuration::from_mins(61)
        } else {
            MAX_LIFETIME
        }
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// When reauthorizationRequired is due for a subscription (re)made at `now` to last until
/// `expires_at`: 15 minutes before expiry, or at once when less remains.
fn reauthorization_instant(now: Timestamp, expires_at: Timestamp) -> Timestamp {
    expires_at
        .checked_sub(REAUTHORIZE_BEFORE)
        .unwrap_or(now)
        .max(now)
}

/// Stops watching the users of a subscription that is gone, unless another still watches them.
fn forget(held: &mut Held, gone: &Subscription) {
    held.reauthorize_at.remove(&gone.id);
    for user in gone.resource.users() {
        if !held.subscriptions.is_watched(user) {
            held.watch.unwatch(user);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap as Map;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{Query, State};
    use axum::routing::post;
    use serde_json::json;

    use super::*;
    use crate::model::{Activity, Availability, Command, PresenceState, SessionId, SessionRequest};
    use crate::notifications::rich::{EncryptedContent, ReceiverKey};

    const ALICE: &str = "11111111-2222-4333-8444-555555555555";

    fn t(minutes: i64) -> Timestamp {
        let start: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        start + SignedDuration::from_mins(minutes)
    }

    type Received = Arc<Mutex<Vec<Value>>>;

    /// A webhook on 127.0.0.1:0 that answers validation and records every notification.
    async fn receiver() -> (String, Received) {
        let received: Received = Arc::default();
        let app = Router::new()
            .route(
                "/hook",
                post(
                    |State(received): State<Received>,
                     Query(q): Query<Map<String, String>>,
                     body: Bytes| async move {
                        if let Some(token) = q.get("validationToken") {
                            return token.clone();
                        }
                        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        received.lock().unwrap().push(value);
                        String::new()
                    },
                ),
            )
            .with_state(Arc::clone(&received));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/hook"), received)
    }

    /// A webhook on 127.0.0.1:0 that answers validation, then holds every notification and never
    /// answers.
    async fn hung_receiver() -> String {
        let app = Router::new().route(
            "/hook",
            post(|Query(q): Query<Map<String, String>>| async move {
                match q.get("validationToken") {
                    Some(token) => token.clone(),
                    None => std::future::pending().await,
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    fn owner() -> Owner {
        Owner {
            app_id: "app-1".into(),
            user: Some(UserId::new(ALICE)),
        }
    }

    fn body(url: &str, edit: impl FnOnce(&mut Value)) -> SubscriptionBody {
        let mut v = json!({
            "changeType": "updated",
            "notificationUrl": url,
            "resource": format!("communications/presences/{ALICE}"),
            "expirationDateTime": t(30).to_string(),
            "clientState": "secret",
        });
        edit(&mut v);
        serde_json::from_value(v).unwrap()
    }

    /// Alice's presence, written as the server would, handed to the notifier.
    struct Alice {
        presence: UserPresence,
    }

    impl Alice {
        fn set(&mut self, notifier: &Notifier, at: Timestamp, state: PresenceState, mins: i64) {
            let command = Command::SetPresence {
                session: SessionId::new("app-1"),
                request: SessionRequest {
                    state,
                    expiration: SignedDuration::from_mins(mins),
                },
            };
            self.presence.apply(at, command, &Semantics::GRAPH).unwrap();
            let user = UserId::new(ALICE);
            if notifier.watching_any() {
                notifier.after_write(&user, &self.presence, at);
            }
        }
    }

    fn shown(received: &Received) -> Vec<(String, String)> {
        received
            .lock()
            .unwrap()
            .iter()
            .map(|b| {
                let item = &b["value"][0];
                (
                    item["clientState"].as_str().unwrap_or("-").to_owned(),
                    item["subscriptionExpirationDateTime"]
                        .as_str()
                        .unwrap_or("-")
                        .to_owned(),
                )
            })
            .collect()
    }

    const AVAILABLE: PresenceState =
        PresenceState::new(Availability::Available, Activity::Available);

    /// Subscribe, write Available at 0, let the clock run to `until`; the notifications received.
    async fn run(faults: Faults, until: i64) -> (Result<Value, SubscriptionError>, Received) {
        let (url, received) = receiver().await;
        let notifier = Notifier::with_faults("tenant", Semantics::GRAPH, faults);
        let created = notifier
            .create(body(&url, |_| {}), owner(), t(0), |_| None)
            .await;
        let mut alice = Alice {
            presence: UserPresence::default(),
        };
        alice.set(&notifier, t(0), AVAILABLE, 60);
        for minute in 0..=until {
            notifier.settle(t(minute)).await;
        }
        (created, received)
    }

    #[tokio::test]
    async fn a_write_and_the_fade_are_notified_until_the_subscription_expires() {
        let (created, received) = run(Faults::default(), 40).await;
        assert_eq!(created.unwrap()["clientState"], "secret");
        // The write (0), the fade to AvailableInactive (5) and to Away (10); the expiry of the
        // session at 60 is after the subscription's own at 30.
        let got = shown(&received);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.iter().all(|(state, _)| state == "secret"));
        let items: Vec<Value> = received
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["value"][0].clone())
            .collect();
        assert_eq!(
            items[0]["resource"],
            format!("communications/presences/{ALICE}")
        );
        assert_eq!(
            items[0]["resourceData"]["@odata.id"],
            format!("users/{ALICE}/presence")
        );
        assert_eq!(items[0]["changeType"], "updated");
        assert_eq!(items[0]["tenantId"], "tenant");
    }

    #[tokio::test]
    async fn writes_while_the_receiver_hangs_return_and_the_outbox_stays_bounded() {
        use crate::notifications::delivery::URL_CAPACITY;
        let url = hung_receiver().await;
        let notifier = Notifier::new("tenant", Semantics::GRAPH);
        let created = notifier
            .create(body(&url, |_| {}), owner(), t(0), |_| None)
            .await
            .unwrap();
        let mut alice = Alice {
            presence: UserPresence::default(),
        };
        let busy = PresenceState::new(Availability::Busy, Activity::InACall);
        let dnd = PresenceState::new(Availability::DoNotDisturb, Activity::Presenting);
        // Every write changes Alice's aggregate, so every one is a notification; the first one's
        // attempt hangs, and each write still returns (`after_write` does not wait).
        for k in 0..URL_CAPACITY + 100 {
            alice.set(&notifier, t(0), if k % 2 == 0 { busy } else { dnd }, 60);
        }
        let deliverer = notifier.deliverer();
        assert_eq!(deliverer.waiting(), URL_CAPACITY);
        assert_eq!(deliverer.stats().dropped, 100);
        assert_eq!(deliverer.stats().delivered, 0);
        // Once no one is watched, a write costs the notifier one load again.
        assert!(notifier.watching_any());
        let id = created["id"].as_str().unwrap();
        notifier.delete(id, &owner(), t(1)).unwrap();
        assert!(!notifier.watching_any());
    }

    #[tokio::test]
    async fn each_deliberate_fault_shows() {
        let (_, received) = run(
            Faults {
                no_fade: true,
                ..Faults::default()
            },
            40,
        )
        .await;
        assert_eq!(shown(&received).len(), 1, "only the write");
        let (_, received) = run(
            Faults {
                no_client_state: true,
                ..Faults::default()
            },
            0,
        )
        .await;
        assert_eq!(shown(&received)[0].0, "-");
        let (url, received) = receiver().await;
        let notifier = Notifier::with_faults(
            "tenant",
            Semantics::GRAPH,
            Faults {
                after_expiry: true,
                ..Faults::default()
            },
        );
        notifier
            .create(body(&url, |_| {}), owner(), t(0), |_| None)
            .await
            .unwrap();
        let mut alice = Alice {
            presence: UserPresence::default(),
        };
        notifier.settle(t(31)).await;
        alice.set(&notifier, t(31), AVAILABLE, 60);
        notifier.settle(t(31)).await;
        assert_eq!(shown(&received).len(), 1, "a notification after expiry");
        let long = Notifier::with_faults(
            "tenant",
            Semantics::GRAPH,
            Faults {
                long_expiry: true,
                ..Faults::default()
            },
        );
        let (url, _) = receiver().await;
        assert!(
            long.create(
                body(&url, |v| v["expirationDateTime"] = json!(t(61).to_string())),
                owner(),
                t(0),
                |_| None
            )
            .await
            .is_ok()
        );
        let right = Notifier::new("tenant", Semantics::GRAPH);
        assert!(
            right
                .create(
                    body(&url, |v| v["expirationDateTime"] = json!(t(61).to_string())),
                    owner(),
                    t(0),
                    |_| None
                )
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_failed_validation_keeps_nothing_and_a_second_subscription_is_409() {
        let notifier = Notifier::new("tenant", Semantics::GRAPH)
            .with_validation_timeout(Duration::from_millis(300));
        let refused = notifier
            .create(
                body("http://127.0.0.1:9/none", |_| {}),
                owner(),
                t(0),
                |_| None,
            )
            .await
            .unwrap_err();
        assert_eq!(refused.status().0, 400, "{refused}");
        assert!(notifier.list(&owner(), t(0)).is_empty());
        let (url, _) = receiver().await;
        let (lifecycle_ok, _) = receiver().await;
        let bad_lifecycle = notifier
            .create(
                body(&url, |v| {
                    v["lifecycleNotificationUrl"] = json!("http://127.0.0.1:9/x")
                }),
                owner(),
                t(0),
                |_| None,
            )
            .await;
        assert!(bad_lifecycle.is_err());
        assert!(notifier.list(&owner(), t(0)).is_empty());
        notifier
            .create(
                body(&url, |v| {
                    v["lifecycleNotificationUrl"] = json!(lifecycle_ok)
                }),
                owner(),
                t(0),
                |_| None,
            )
            .await
            .unwrap();
        let second = notifier
            .create(body(&url, |_| {}), owner(), t(1), |_| None)
            .await
            .unwrap_err();
        assert_eq!(second.status(), (409, "ExtensionError"));
    }

    #[tokio::test]
    async fn reauthorization_goes_to_the_lifecycle_url_before_expiry() {
        let (url, received) = receiver().await;
        let (lifecycle, lifecycle_received) = receiver().await;
        let notifier = Notifier::new("tenant", Semantics::GRAPH);
        let created = notifier
            .create(
                body(&url, |v| v["lifecycleNotificationUrl"] = json!(lifecycle)),
                owner(),
                t(0),
                |_| None,
            )
            .await
            .unwrap();
        notifier.settle(t(14)).await;
        assert!(lifecycle_received.lock().unwrap().is_empty());
        notifier.settle(t(15)).await;
        let events = lifecycle_received.lock().unwrap().clone();
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0]["value"][0]["lifecycleEvent"],
            "reauthorizationRequired"
        );
        assert_eq!(events[0]["value"][0]["subscriptionId"], created["id"]);
        assert!(received.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn rich_notifications_decrypt_to_the_presence() {
        let key = ReceiverKey::generate().unwrap();
        let (url, received) = receiver().await;
        let notifier = Notifier::new("tenant", Semantics::GRAPH);
        notifier
            .create(
                body(&url, |v| {
                    v["includeResourceData"] = json!(true);
                    v["encryptionCertificate"] = json!(key.certificate_base64());
                    v["encryptionCertificateId"] = json!("mine");
                }),
                owner(),
                t(0),
                |_| None,
            )
            .await
            .unwrap();
        let mut alice = Alice {
            presence: UserPresence::default(),
        };
        alice.set(&notifier, t(0), AVAILABLE, 60);
        notifier.settle(t(0)).await;
        let body = received.lock().unwrap()[0].clone();
        let content: EncryptedContent =
            serde_json::from_value(body["value"][0]["encryptedContent"].clone()).unwrap();
        assert_eq!(content.encryption_certificate_id, "mine");
        let plain: Value = serde_json::from_slice(&key.decrypt(&content).unwrap()).unwrap();
        assert_eq!(plain["availability"], "Available");
        assert_eq!(plain["activity"], "Available");
        assert_eq!(plain["id"], ALICE);
        let token = body["validationTokens"][0].as_str().unwrap();
        let claims = notifier.issuer().unwrap().verify(token).unwrap();
        assert_eq!(claims["aud"], "app-1");
    }
}
