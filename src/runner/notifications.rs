//! The runner's side of change notifications: a webhook receiver for each case that subscribes
//! (on 127.0.0.1, or on the `notification_listen` address a public `notification_url` reaches),
//! and the `notified` / `noNotification` checks against what it got.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::judge::FaultKind;
use crate::case::{Case, NotificationCheck, Request, Webhook};
use crate::notifications::ReceiverKey;
use crate::notifications::receiver::{Received, Receiver};
use crate::targets::{TargetError, WebhookSetup};

/// One RSA key for every receiver of the process: making one takes tens of milliseconds.
static KEY: Mutex<Option<Arc<ReceiverKey>>> = Mutex::new(None);

pub(crate) fn shared_key() -> Result<Arc<ReceiverKey>, TargetError> {
    let mut key = KEY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = key.as_ref() {
        return Ok(Arc::clone(key));
    }
    let made = Arc::new(
        ReceiverKey::generate()
            .map_err(|e| TargetError::Start(format!("the webhook receiver's key: {e}")))?,
    );
    *key = Some(Arc::clone(&made));
    Ok(made)
}

/// A case's webhook receiver and what its checks have taken from it.
pub(crate) struct Webhooks {
    receiver: Receiver,
    webhook: Webhook,
    /// The arrival numbers of the notifications an earlier check took.
    taken: BTreeSet<usize>,
    /// Held while the case runs when the receiver's address is fixed (one case at a time).
    _exclusive: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Webhooks {
    /// A receiver for `case` if it subscribes.
    pub(crate) async fn start(
        case: &Case,
        setup: Option<&WebhookSetup>,
    ) -> Result<Option<Self>, TargetError> {
        if !case.subscribes() {
            return Ok(None);
        }
        let exclusive = match setup {
            Some(s) => Some(
                Arc::clone(&s.exclusive)
                    .acquire_owned()
                    .await
                    .map_err(|e| TargetError::Start(e.to_string()))?,
            ),
            None => None,
        };
        let listen = setup.map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |s| s.listen);
        let key = shared_key()?;
        let certificate = key.certificate_base64();
        let receiver = Receiver::start_with_key(listen, Some(key))
            .await
            .map_err(|e| TargetError::Start(e.to_string()))?;
        let base = match setup {
            Some(s) => s.public_url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", receiver.addr()),
        };
        Ok(Some(Webhooks {
            receiver,
            webhook: Webhook {
                notification_url: format!("{base}/notifications"),
                lifecycle_url: format!("{base}/lifecycle"),
                certificate,
            },
            taken: BTreeSet::new(),
            _exclusive: exclusive,
        }))
    }

    pub(crate) fn webhook(&self) -> &Webhook {
        &self.webhook
    }

    /// The notifications `check` is about that no earlier check took, in arrival order.
    pub(crate) fn pending(
        &self,
        check: &NotificationCheck,
        names: &BTreeMap<String, String>,
    ) -> Vec<Received> {
        let id = |name: &Option<String>| name.as_ref().map(|n| names.get(n).unwrap_or(n).clone());
        let (user, subscription) = (id(&check.user), id(&check.subscription));
        let endpoint = match check.lifecycle_event {
            Some(_) => "lifecycle",
            None => "notifications",
        };
        self.receiver
            .received()
            .into_iter()
            .filter(|r| !self.taken.contains(&r.seq) && r.endpoint == endpoint)
            .filter(|r| same(&user, &r.user) && same(&subscription, &r.subscription_id))
            .collect()
    }

    /// Marks `got` as taken by a check.
    pub(crate) fn take(&mut self, got: &[Received]) {
        self.taken.extend(got.iter().map(|r| r.seq));
    }
}

/// Whether an expected id (if any) is the one received (ids compare case-insensitively).
fn same(expected: &Option<String>, received: &Option<String>) -> bool {
    match expected {
        None => true,
        Some(id) => received
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(id)),
    }
}

/// What a check says about `got`: empty when it holds.
pub(crate) fn judge(check: &NotificationCheck, got: &[Received]) -> Vec<FaultKind> {
    let about = describe(check);
    if !check.arrives {
        return match got.first() {
            None => Vec::new(),
            Some(first) => vec![fault(
                format!("no notification {about}"),
                format!("{} (the first {})", got.len(), summary(first)),
            )],
        };
    }
    let Some(last) = got.last() else {
        return vec![fault(format!("a notification {about}"), "none".to_owned())];
    };
    let mut faults = Vec::new();
    if let Some(why) = &last.decrypt_error {
        faults.push(fault("resource data that decrypts".into(), why.clone()));
    }
    // "A change notification with resource data contains an additional property,
    // validationTokens" (change-notifications-with-resource-data).
    if last.raw.get("encryptedContent").is_some() && last.validation_tokens == 0 {
        faults.push(fault(
            "validationTokens with the resource data".into(),
            "none".into(),
        ));
    }
    let fields = [
        ("availability", &check.availability, &last.availability),
        ("activity", &check.activity, &last.activity),
        ("clientState", &check.client_state, &last.client_state),
        (
            "lifecycleEvent",
            &check.lifecycle_event,
            &last.lifecycle_event,
        ),
    ];
    for (name, expected, observed) in fields {
        if let Some(want) = expected
            && observed.as_deref() != Some(want.as_str())
        {
            faults.push(fault(
                format!("{name} {want}"),
                format!("{name} {}", observed.as_deref().unwrap_or("absent")),
            ));
        }
    }
    faults
}

fn fault(expected: String, observed: String) -> FaultKind {
    FaultKind::Notification { expected, observed }
}

/// `about alice from watch`.
fn describe(check: &NotificationCheck) -> String {
    let mut out = String::new();
    if let Some(event) = &check.lifecycle_event {
        out.push_str(&format!("({event})"));
    }
    if let Some(user) = &check.user {
        out.push_str(&format!(" about {user}"));
    }
    if let Some(subscription) = &check.subscription {
        out.push_str(&format!(" from {subscription}"));
    }
    out.trim_start().to_owned()
}

fn summary(r: &Received) -> String {
    match (&r.availability, &r.activity, &r.lifecycle_event) {
        (_, _, Some(event)) => format!("was {event}"),
        (Some(a), Some(b), _) => format!("showed {a}/{b}"),
        _ => "carried no resource data".to_owned(),
    }
}

/// A notification as the timeline shows it (ids still raw: the redactor names them).
pub(crate) fn shown(r: &Received) -> Value {
    let mut out = Map::new();
    let fields = [
        ("subscriptionId", &r.subscription_id),
        ("user", &r.user),
        ("clientState", &r.client_state),
        ("availability", &r.availability),
        ("activity", &r.activity),
        ("lifecycleEvent", &r.lifecycle_event),
        ("decryptError", &r.decrypt_error),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            out.insert(key.into(), json!(v));
        }
    }
    if r.validation_tokens > 0 {
        out.insert("validationTokens".into(), json!(r.validation_tokens));
    }
    Value::Object(out)
}

/// The subscriptions a case created and still holds, to delete when it ends (a real tenant
/// allows one subscription per user and app: a leftover one would refuse the next case's).
#[derive(Default)]
pub(crate) struct Created {
    /// Name, id, and the step that made it (its app and delegate).
    pub(crate) held: Vec<(String, String, crate::case::Step)>,
}

impl Created {
    /// Learns the id a create answered with; forgets one the case deleted.
    pub(crate) fn after(
        &mut self,
        step: &crate::case::Step,
        request: &Request,
        status: u16,
        body: &[u8],
    ) -> Option<(String, String)> {
        match request {
            Request::CreateSubscription(s) if (200..300).contains(&status) => {
                let id = serde_json::from_slice::<Value>(body)
                    .ok()?
                    .get("id")?
                    .as_str()?
                    .to_owned();
                self.held.push((s.name.clone(), id.clone(), step.clone()));
                Some((s.name.clone(), id))
            }
            Request::DeleteSubscription { subscription } if (200..300).contains(&status) => {
                self.held.retain(|(name, _, _)| name != subscription);
                None
            }
            _ => None,
        }
    }
}
