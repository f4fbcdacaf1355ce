//! The subscription resource: the body a client sends to create or renew one, the limits Graph
//! documents for presence (checked here, at the edge, once), and the subscription as it is kept
//! and shown back.

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use super::resource::{PresenceResource, ResourceError};
use super::rich::{CertificateError, EncryptionCertificate};
use crate::model::UserId;

/// The longest a presence subscription lasts ("a maximum expiration time of an hour").
pub(crate) const MAX_LIFETIME: SignedDuration = SignedDuration::from_mins(60);

/// The longest `clientState` and `encryptionCertificateId` ("The maximum length is 128
/// characters", "The identifier can be up to 128 characters").
pub(crate) const MAX_CLIENT_STATE_CHARS: usize = 128;

/// The id of a subscription (a GUID the server chose).
pub(crate) type SubscriptionId = uuid::Uuid;

/// Who owns a subscription: the app and the signed-in user it was created for. One user holds one
/// presence subscription per app.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    pub app_id: String,
    /// `None` under `--no-auth`, where no user signed in.
    pub user: Option<UserId>,
}

/// The body of `POST /subscriptions` as sent; fields are checked by [`SubscriptionBody::validate`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionBody {
    change_type: Option<String>,
    notification_url: Option<String>,
    lifecycle_notification_url: Option<String>,
    resource: Option<String>,
    expiration_date_time: Option<String>,
    client_state: Option<String>,
    include_resource_data: Option<bool>,
    encryption_certificate: Option<String>,
    encryption_certificate_id: Option<String>,
    latest_supported_tls_version: Option<String>,
}

/// The body of `PATCH /subscriptions/{id}`: a new expiry, and optionally a new certificate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalBody {
    expiration_date_time: Option<String>,
    encryption_certificate: Option<String>,
    encryption_certificate_id: Option<String>,
}

/// Why a subscription request is refused. Each maps to one status in [`SubscriptionError::status`].
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("changeType '{0}' is not supported for presence; use 'updated'")]
    ChangeType(String),
    #[error("{field} '{url}' is not an absolute http or https URL")]
    Url { field: &'static str, url: String },
    #[error("expirationDateTime '{0}' is not a date and time with an offset (RFC 3339)")]
    ExpirationFormat(String),
    #[error("expirationDateTime {at} is not in the future (now is {now})")]
    ExpirationPast { at: Timestamp, now: Timestamp },
    #[error(
        "expirationDateTime {at} is more than 60 minutes after now ({now}); presence subscriptions last at most an hour"
    )]
    ExpirationTooFar { at: Timestamp, now: Timestamp },
    #[error("{field} has {chars} characters; at most {MAX_CLIENT_STATE_CHARS} are allowed")]
    TooLong { field: &'static str, chars: usize },
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error("encryptionCertificate: {0}")]
    Certificate(#[from] CertificateError),
    #[error("includeResourceData needs encryptionCertificate and encryptionCertificateId")]
    CertificateMissing,
    #[error(
        "presence subscriptions need a delegated token; application permissions are not supported"
    )]
    ApplicationNotSupported,
    #[error("A subscripton already exists. It must be deleted before a another can be made.")]
    AlreadyExists,
    #[error("subscription '{0}' was not found")]
    NotFound(String),
    #[error("validation of {field} failed: {reason}")]
    Validation { field: &'static str, reason: String },
}

impl SubscriptionError {
    /// The HTTP status and Graph error code the reference server answers with.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            SubscriptionError::ApplicationNotSupported => (403, "Forbidden"),
            // Observed: "Code: ExtensionError ... Status Code: Conflict".
            SubscriptionError::AlreadyExists => (409, "ExtensionError"),
            SubscriptionError::NotFound(_) => (404, "ResourceNotFound"),
            _ => (400, "BadRequest"),
        }
    }
}

/// A subscription as the server keeps it.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub owner: Owner,
    pub resource: PresenceResource,
    pub notification_url: reqwest::Url,
    pub lifecycle_url: Option<reqwest::Url>,
    pub expires_at: Timestamp,
    pub client_state: Option<String>,
    /// The certificate rich notifications are encrypted with, and the subscriber's id for it.
    pub rich: Option<RichSettings>,
    pub tls_version: String,
}

/// What a subscription with `includeResourceData` encrypts with.
#[derive(Clone, Debug)]
pub struct RichSettings {
    pub certificate: EncryptionCertificate,
    /// The base64 text as sent, shown back.
    pub certificate_text: String,
    pub certificate_id: String,
}

impl SubscriptionBody {
    /// Checks every field against Graph's limits for presence at `now`, and builds the
    /// subscription (not yet validated against its URLs, not yet stored).
    pub fn validate(self, owner: Owner, now: Timestamp) -> Result<Subscription, SubscriptionError> {
        self.validate_capped(owner, now, MAX_LIFETIME)
    }

    /// As [`SubscriptionBody::validate`], with another longest lifetime (a deliberately wrong
    /// server in tests).
    pub(crate) fn validate_capped(
        self,
        owner: Owner,
        now: Timestamp,
        max_lifetime: SignedDuration,
    ) -> Result<Subscription, SubscriptionError> {
        let change_type = self
            .change_type
            .ok_or(SubscriptionError::Missing("changeType"))?;
        if !change_type.trim().eq_ignore_ascii_case("updated") {
            return Err(SubscriptionError::ChangeType(change_type));
        }
        let notification_url = parse_url(
            "notificationUrl",
            self.notification_url
                .as_deref()
                .ok_or(SubscriptionError::Missing("notificationUrl"))?,
        )?;
        let lifecycle_url = self
            .lifecycle_notification_url
            .as_deref()
            .map(|u| parse_url("lifecycleNotificationUrl", u))
            .transpose()?;
        let resource = PresenceResource::parse(
            self.resource
                .as_deref()
                .ok_or(SubscriptionError::Missing("resource"))?,
        )?;
        let expires_at = check_expiration(self.expiration_date_time.as_deref(), now, max_lifetime)?;
        if let Some(state) = &self.client_state {
            check_length("clientState", state)?;
        }
        let rich = if self.include_resource_data == Some(true) {
            Some(rich_settings(
                self.encryption_certificate,
                self.encryption_certificate_id,
            )?)
        } else {
            None
        };
        Ok(Subscription {
            id: uuid::Uuid::new_v4(),
            owner,
            resource,
            notification_url,
            lifecycle_url,
            expires_at,
            client_state: self.client_state,
            rich,
            tls_version: self
                .latest_supported_tls_version
                .unwrap_or_else(|| "v1_2".to_owned()),
        })
    }
}

impl RenewalBody {
    /// The new expiry and, when sent, the new certificate.
    pub fn validate(
        self,
        now: Timestamp,
    ) -> Result<(Timestamp, Option<RichSettings>), SubscriptionError> {
        self.validate_capped(now, MAX_LIFETIME)
    }

    /// As [`RenewalBody::validate`], with another longest lifetime.
    pub(crate) fn validate_capped(
        self,
        now: Timestamp,
        max_lifetime: SignedDuration,
    ) -> Result<(Timestamp, Option<RichSettings>), SubscriptionError> {
        let expires_at = check_expiration(self.expiration_date_time.as_deref(), now, max_lifetime)?;
        let rich = match (self.encryption_certificate, self.encryption_certificate_id) {
            (None, None) => None,
            (certificate, id) => Some(rich_settings(certificate, id)?),
        };
        Ok((expires_at, rich))
    }
}

fn parse_url(field: &'static str, text: &str) -> Result<reqwest::Url, SubscriptionError> {
    reqwest::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| SubscriptionError::Url {
            field,
            url: text.to_owned(),
        })
}

fn check_expiration(
    text: Option<&str>,
    now: Timestamp,
    max_lifetime: SignedDuration,
) -> Result<Timestamp, SubscriptionError> {
    let text = text.ok_or(SubscriptionError::Missing("expirationDateTime"))?;
    let at: Timestamp = text
        .trim()
        .parse()
        .map_err(|_| SubscriptionError::ExpirationFormat(text.to_owned()))?;
    if at <= now {
        return Err(SubscriptionError::ExpirationPast { at, now });
    }
    if at.duration_since(now) > max_lifetime {
        return Err(SubscriptionError::ExpirationTooFar { at, now });
    }
    Ok(at)
}

fn check_length(field: &'static str, text: &str) -> Result<(), SubscriptionError> {
    let chars = text.chars().count();
    if chars > MAX_CLIENT_STATE_CHARS {
        return Err(SubscriptionError::TooLong { field, chars });
    }
    Ok(())
}

fn rich_settings(
    certificate: Option<String>,
    id: Option<String>,
) -> Result<RichSettings, SubscriptionError> {
    let (Some(text), Some(certificate_id)) = (certificate, id) else {
        return Err(SubscriptionError::CertificateMissing);
    };
    check_length("encryptionCertificateId", &certificate_id)?;
    let certificate = EncryptionCertificate::from_base64(&text)?;
    Ok(RichSettings {
        certificate,
        certificate_text: text,
        certificate_id,
    })
}

impl Subscription {
    /// Whether the subscription still lasts at `now`.
    pub(crate) fn live_at(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }

    /// The subscription as Graph shows it (`@odata.context` is added by the caller, which knows
    /// the API version).
    pub(crate) fn to_json(&self) -> Value {
        let rich = self.rich.as_ref();
        json!({
            "id": self.id.to_string(),
            "resource": self.resource.to_string(),
            "applicationId": self.owner.app_id,
            "changeType": "updated",
            "clientState": self.client_state,
            "notificationUrl": self.notification_url.as_str(),
            "notificationQueryOptions": null,
            "lifecycleNotificationUrl": self.lifecycle_url.as_ref().map(reqwest::Url::as_str),
            "expirationDateTime": self.expires_at.to_string(),
            "creatorId": self.owner.user.as_ref().map(ToString::to_string),
            "includeResourceData": rich.is_some(),
            "latestSupportedTlsVersion": self.tls_version,
            "encryptionCertificate": rich.map(|r| r.certificate_text.as_str()),
            "encryptionCertificateId": rich.map(|r| r.certificate_id.as_str()),
            "notificationUrlAppId": null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "11111111-2222-4333-8444-555555555555";

    fn now() -> Timestamp {
        "2026-01-05T09:00:00Z".parse().unwrap()
    }

    fn owner() -> Owner {
        Owner {
            app_id: "app".into(),
            user: Some(UserId::new(USER)),
        }
    }

    fn body(edit: impl FnOnce(&mut Value)) -> SubscriptionBody {
        let mut v = json!({
            "changeType": "updated",
            "notificationUrl": "http://127.0.0.1:9/hook",
            "resource": format!("/communications/presences/{USER}"),
            "expirationDateTime": "2026-01-05T09:30:00Z",
            "clientState": "secret",
        });
        edit(&mut v);
        serde_json::from_value(v).unwrap()
    }

    fn refused(edit: impl FnOnce(&mut Value)) -> SubscriptionError {
        body(edit).validate(owner(), now()).unwrap_err()
    }

    #[test]
    fn a_valid_body_makes_a_subscription_shown_back_as_graph_does() {
        let s = body(|_| {}).validate(owner(), now()).unwrap();
        assert_eq!(s.expires_at, "2026-01-05T09:30:00Z".parse().unwrap());
        let shown = s.to_json();
        assert_eq!(shown["changeType"], "updated");
        assert_eq!(shown["clientState"], "secret");
        assert_eq!(shown["creatorId"], USER);
        assert_eq!(shown["includeResourceData"], false);
        assert_eq!(shown["expirationDateTime"], "2026-01-05T09:30:00Z");
    }

    #[test]
    fn every_limit_is_refused_with_its_status() {
        let cases: Vec<(SubscriptionError, u16)> = vec![
            (
                refused(|v| v["expirationDateTime"] = json!("2026-01-05T10:00:01Z")),
                400,
            ),
            (
                refused(|v| v["expirationDateTime"] = json!("2026-01-05T08:59:59Z")),
                400,
            ),
            (
                refused(|v| v["expirationDateTime"] = json!("2026-01-05T09:00:00Z")),
                400,
            ),
            (
                refused(|v| {
                    v.as_object_mut().unwrap().remove("expirationDateTime");
                }),
                400,
            ),
            (
                refused(|v| v["expirationDateTime"] = json!("tomorrow")),
                400,
            ),
            (refused(|v| v["clientState"] = json!("x".repeat(129))), 400),
            (refused(|v| v["changeType"] = json!("created")), 400),
            (refused(|v| v["changeType"] = json!("updated,deleted")), 400),
            (refused(|v| v["resource"] = json!("me/messages")), 400),
            (
                refused(|v| v["notificationUrl"] = json!("ftp://127.0.0.1/x")),
                400,
            ),
            (refused(|v| v["notificationUrl"] = json!("not a url")), 400),
            (refused(|v| v["includeResourceData"] = json!(true)), 400),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().0, status, "{error}");
        }
        // The limits themselves are inclusive: exactly an hour, exactly 128 characters.
        let edge = body(|v| {
            v["expirationDateTime"] = json!("2026-01-05T10:00:00Z");
            v["clientState"] = json!("é".repeat(128));
        });
        assert!(edge.validate(owner(), now()).is_ok());
    }

    #[test]
    fn over_650_ids_is_refused() {
        let ids: Vec<String> = (0..651)
            .map(|i| format!("'{i:08x}-0000-4000-8000-000000000000'"))
            .collect();
        let error = refused(|v| {
            v["resource"] = json!(format!(
                "communications/presences?$filter=id in ({})",
                ids.join(",")
            ))
        });
        assert!(
            matches!(
                error,
                SubscriptionError::Resource(ResourceError::TooManyUsers(651))
            ),
            "{error}"
        );
        assert_eq!(error.status().0, 400);
    }

    const FIELDS: [&str; 9] = [
        "changeType",
        "notificationUrl",
        "lifecycleNotificationUrl",
        "resource",
        "expirationDateTime",
        "clientState",
        "encryptionCertificate",
        "encryptionCertificateId",
        "latestSupportedTlsVersion",
    ];

    proptest::proptest! {
        /// What fuzz/fuzz_targets/subscription_body.rs runs: any body, resource or certificate is
        /// read to a subscription or a refusal with a status, never a panic.
        #[test]
        fn any_body_is_a_subscription_or_a_refusal(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            fields in proptest::collection::vec((0..FIELDS.len(), ".{0,140}"), 0..9),
            rich in proptest::prelude::any::<bool>(),
        ) {
            let mut object = serde_json::Map::new();
            for (field, value) in fields {
                object.insert(FIELDS[field].to_owned(), json!(value));
            }
            object.insert("includeResourceData".to_owned(), json!(rich));
            let text = Value::Object(object).to_string();
            for data in [text.as_bytes(), &bytes[..]] {
                if let Ok(body) = serde_json::from_slice::<SubscriptionBody>(data) {
                    match body.validate(owner(), now()) {
                        Ok(s) => proptest::prop_assert!(s.expires_at > now()),
                        Err(e) => proptest::prop_assert!(e.status().0 >= 400),
                    }
                }
                if let Ok(body) = serde_json::from_slice::<RenewalBody>(data) {
                    let _ = body.validate(now());
                }
                if let Ok(text) = std::str::from_utf8(data) {
                    let _ = PresenceResource::parse(text);
                    let _ = EncryptionCertificate::from_base64(text);
                }
                let _ = EncryptionCertificate::from_der(data);
            }
        }
    }

    #[test]
    fn renewal_takes_the_same_expiry_limits() {
        let renew = |at: &str| {
            serde_json::from_value::<RenewalBody>(json!({ "expirationDateTime": at }))
                .unwrap()
                .validate(now())
        };
        assert!(renew("2026-01-05T10:00:00Z").is_ok());
        assert!(matches!(
            renew("2026-01-05T10:01:00Z"),
            Err(SubscriptionError::ExpirationTooFar { .. })
        ));
        assert!(matches!(
            renew("2026-01-05T08:00:00Z"),
            Err(SubscriptionError::ExpirationPast { .. })
        ));
        let missing = serde_json::from_value::<RenewalBody>(json!({})).unwrap();
        assert!(matches!(
            missing.validate(now()),
            Err(SubscriptionError::Missing("expirationDateTime"))
        ));
    }
}
