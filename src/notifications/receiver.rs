//! The runner's webhook: a listener on 127.0.0.1 for one case that answers validation requests
//! (200 `text/plain`, the decoded token), accepts notifications with 202 as Graph asks, records
//! each one in arrival order, and decrypts rich ones with a key it generated itself.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::Value;

use super::rich::{EncryptedContent, ReceiverKey, RichError};

/// One notification as the receiver saw it (one item of a POSTed collection).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Arrival order at this receiver, from 0.
    pub seq: usize,
    /// `notifications` or `lifecycle`: the path it was POSTed to.
    pub endpoint: String,
    pub subscription_id: Option<String>,
    pub client_state: Option<String>,
    /// The user the notification is about (`resourceData.id`).
    pub user: Option<String>,
    /// From the decrypted content of a rich notification.
    pub availability: Option<String>,
    pub activity: Option<String>,
    pub lifecycle_event: Option<String>,
    /// Why a rich notification could not be read, if it could not.
    pub decrypt_error: Option<String>,
    /// How many validation tokens came with it.
    pub validation_tokens: usize,
    #[serde(skip)]
    pub arrived: Option<Instant>,
    /// The item as it came.
    #[serde(skip)]
    pub raw: Value,
}

#[derive(Debug)]
struct Shared {
    records: Mutex<Vec<Received>>,
    validations: Mutex<Vec<String>>,
    key: Option<Arc<ReceiverKey>>,
}

/// A running webhook receiver; stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Starts a receiver on `listen` (`127.0.0.1:0` picks a free port). With `rich`, it makes an
    /// RSA key and certificate to subscribe with.
    pub async fn start(listen: SocketAddr, rich: bool) -> Result<Self, ReceiverError> {
        let key = if rich {
            Some(Arc::new(
                ReceiverKey::generate().map_err(ReceiverError::Key)?,
            ))
        } else {
            None
        };
        Self::start_with_key(listen, key).await
    }

    /// Starts a receiver that decrypts with `key` (one key can serve many receivers: making an
    /// RSA key takes a while).
    pub(crate) async fn start_with_key(
        listen: SocketAddr,
        key: Option<Arc<ReceiverKey>>,
    ) -> Result<Self, ReceiverError> {
        let shared = Arc::new(Shared {
            records: Mutex::default(),
            validations: Mutex::default(),
            key,
        });
        let app = Router::new()
            .route("/{endpoint}", post(receive))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| ReceiverError::Listen(listen, e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ReceiverError::Listen(listen, e.to_string()))?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The notificationUrl to subscribe with.
    pub fn notification_url(&self) -> String {
        format!("http://{}/notifications", self.addr)
    }

    /// The lifecycleNotificationUrl to subscribe with.
    pub fn lifecycle_url(&self) -> String {
        format!("http://{}/lifecycle", self.addr)
    }

    /// The certificate to subscribe with (a rich receiver only).
    pub fn certificate_base64(&self) -> Option<String> {
        self.shared.key.as_ref().map(|key| key.certificate_base64())
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.records).clone()
    }

    /// How many validation requests were answered.
    pub fn validations(&self) -> usize {
        lock(&self.shared.validations).len()
    }

    /// Forgets what was received (between cases).
    pub fn clear(&self) {
        lock(&self.shared.records).clear();
        lock(&self.shared.validations).clear();
    }
}

/// Why a receiver cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("the webhook receiver cannot listen on {0}: {1}")]
    Listen(SocketAddr, String),
    #[error("the webhook receiver cannot make its key: {0}")]
    Key(RichError),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(endpoint): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    if let Some((_, token)) = query.iter().find(|(k, _)| k == "validationToken") {
        lock(&shared.validations).push(token.clone());
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            token.clone(),
        )
            .into_response();
    }
    let Ok(collection) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let tokens = collection["validationTokens"]
        .as_array()
        .map_or(0, Vec::len);
    let items = collection["value"].as_array().cloned().unwrap_or_default();
    let arrived = Instant::now();
    let mut records = lock(&shared.records);
    for item in items {
        let seq = records.len();
        records.push(read_item(&shared, &endpoint, item, seq, tokens, arrived));
    }
    StatusCode::ACCEPTED.into_response()
}

fn read_item(
    shared: &Shared,
    endpoint: &str,
    item: Value,
    seq: usize,
    validation_tokens: usize,
    arrived: Instant,
) -> Received {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let mut received = Received {
        seq,
        endpoint: endpoint.to_owned(),
        subscription_id: text(&item["subscriptionId"]),
        client_state: text(&item["clientState"]),
        user: text(&item["resourceData"]["id"]),
        availability: None,
        activity: None,
        lifecycle_event: text(&item["lifecycleEvent"]),
        decrypt_error: None,
        validation_tokens,
        arrived: Some(arrived),
        raw: Value::Null,
    };
    if !item["encryptedContent"].is_null() {
        match decrypt(shared, &item["encryptedContent"]) {
            Ok(plain) => {
                received.availability = text(&plain["availability"]);
                received.activity = text(&plain["activity"]);
            }
            Err(e) => received.decrypt_error = Some(e),
        }
    }
    received.raw = item;
    received
}

fn decrypt(shared: &Shared, content: &Value) -> Result<Value, String> {
    let key = shared
        .key
        .as_ref()
        .ok_or("a rich notification came to a receiver without a key")?;
    let content: EncryptedContent =
        serde_json::from_value(content.clone()).map_err(|e| format!("encryptedContent: {e}"))?;
    let plain = key.decrypt(&content).map_err(|e| e.to_string())?;
    serde_json::from_slice(&plain).map_err(|e| format!("the decrypted data is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use serde_json::json;

    use super::*;
    use crate::model::rules::Semantics;
    use crate::model::{
        Activity, Availability, Command, PresenceState, SessionId, SessionRequest, UserId,
        UserPresence,
    };
    use crate::notifications::{Notifier, Owner, SubscriptionBody};

    const ALICE: &str = "11111111-2222-4333-8444-555555555555";

    #[tokio::test]
    async fn the_receiver_validates_records_and_decrypts_what_the_notifier_sends() {
        let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), true)
            .await
            .unwrap();
        let now: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        let notifier = Notifier::new("tenant", Semantics::GRAPH);
        let body: SubscriptionBody = serde_json::from_value(json!({
            "changeType": "updated",
            "notificationUrl": receiver.notification_url(),
            "lifecycleNotificationUrl": receiver.lifecycle_url(),
            "resource": format!("/communications/presences?$filter=id in ('{ALICE}')"),
            "expirationDateTime": (now + SignedDuration::from_mins(10)).to_string(),
            "clientState": "state",
            "includeResourceData": true,
            "encryptionCertificate": receiver.certificate_base64().unwrap(),
            "encryptionCertificateId": "runner",
        }))
        .unwrap();
        let owner = Owner {
            app_id: "app".into(),
            user: None,
        };
        notifier.create(body, owner, now, |_| None).await.unwrap();
        assert_eq!(
            receiver.validations(),
            2,
            "the notification URL, then the lifecycle URL"
        );
        let mut presence = UserPresence::default();
        let busy = PresenceState::new(Availability::Busy, Activity::InACall);
        let command = Command::SetPresence {
            session: SessionId::new("app"),
            request: SessionRequest {
                state: busy,
                expiration: SignedDuration::from_mins(5),
            },
        };
        presence.apply(now, command, &Semantics::GRAPH).unwrap();
        notifier.after_write(&UserId::new(ALICE), &presence, now);
        // Expiry of the session at +5 (Offline), reauthorization at once (10 minutes left).
        notifier.settle(now + SignedDuration::from_mins(5)).await;
        let got = receiver.received();
        let summary: Vec<(String, Option<String>, Option<String>)> = got
            .iter()
            .map(|r| {
                (
                    r.endpoint.clone(),
                    r.availability.clone(),
                    r.lifecycle_event.clone(),
                )
            })
            .collect();
        assert!(summary.contains(&("notifications".into(), Some("Busy".into()), None)));
        assert!(summary.contains(&("notifications".into(), Some("Offline".into()), None)));
        assert!(summary.contains(&(
            "lifecycle".into(),
            None,
            Some("reauthorizationRequired".into())
        )));
        assert!(got.iter().all(|r| r.decrypt_error.is_none()));
        let busy_item = got
            .iter()
            .find(|r| r.availability.as_deref() == Some("Busy"))
            .unwrap();
        assert_eq!(busy_item.activity.as_deref(), Some("InACall"));
        assert_eq!(busy_item.user.as_deref(), Some(ALICE));
        assert_eq!(busy_item.client_state.as_deref(), Some("state"));
        assert_eq!(busy_item.validation_tokens, 1);
    }
}
