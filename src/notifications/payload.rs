//! The bodies the server POSTs to a subscriber: change notifications (basic, or rich with
//! `encryptedContent` and `validationTokens`) and lifecycle notifications, in the
//! `changeNotificationCollection` shape of Graph's presence page.

use serde_json::{Value, json};

use super::change::Change;
use super::resource::PresenceResource;
use super::rich::{self, RichError};
use super::subscription::Subscription;
use crate::model::UserId;

/// A lifecycle event the server sends to `lifecycleNotificationUrl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LifecycleEvent {
    ReauthorizationRequired,
}

impl LifecycleEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
        }
    }
}

/// The decrypted resource of a rich presence notification, as the presence page shows it.
pub(crate) fn resource_json(change: &Change) -> Value {
    json!({
        "@odata.id": odata_id(&change.user),
        "@odata.type": "#microsoft.graph.presence",
        "id": change.user.to_string(),
        "availability": change.state.availability.as_str(),
        "activity": change.state.activity.as_str(),
    })
}

fn odata_id(user: &UserId) -> String {
    format!("users/{user}/presence")
}

/// One change notification for `subscription`: basic, or rich when it includes resource data.
pub(crate) fn change_item(
    subscription: &Subscription,
    change: &Change,
    tenant: &str,
) -> Result<Value, RichError> {
    let mut item = json!({
        "subscriptionId": subscription.id.to_string(),
        "clientState": subscription.client_state,
        "changeType": "updated",
        "tenantId": tenant,
        "resource": PresenceResource::notification_resource(&change.user),
        "subscriptionExpirationDateTime": subscription.expires_at.to_string(),
        "resourceData": {
            "@odata.id": odata_id(&change.user),
            "@odata.type": "#microsoft.graph.presence",
            "id": change.user.to_string(),
        },
        "organizationId": tenant,
    });
    if let Some(settings) = &subscription.rich {
        let plain = resource_json(change).to_string();
        let content = rich::encrypt(
            &settings.certificate,
            &settings.certificate_id,
            plain.as_bytes(),
        )?;
        item["encryptedContent"] = serde_json::to_value(content).unwrap_or(Value::Null);
    }
    Ok(item)
}

/// A lifecycle notification for `subscription`.
pub(crate) fn lifecycle_item(
    subscription: &Subscription,
    event: LifecycleEvent,
    tenant: &str,
) -> Value {
    json!({
        "subscriptionId": subscription.id.to_string(),
        "subscriptionExpirationDateTime": subscription.expires_at.to_string(),
        "tenantId": tenant,
        "clientState": subscription.client_state,
        "lifecycleEvent": event.as_str(),
    })
}

/// The collection POSTed: the items, and for rich ones the validation tokens.
pub fn collection(items: Vec<Value>, validation_tokens: Option<Vec<String>>) -> Value {
    let mut body = json!({ "value": items });
    if let Some(tokens) = validation_tokens {
        body["validationTokens"] = json!(tokens);
    }
    body
}
