//! The case file format as written: serde types that mirror the YAML one to one, with source
//! locations on everything a reviewer can get wrong, and for each Graph operation's step key the
//! check that turns its parameters into a `Request`. `load.rs` turns the rest into the checked
//! model. The JSON Schema editors use (`spec/case.schema.json`) is generated from these types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use super::error::CaseError;
pub use super::request::Field;
use super::request::{
    ExpiryInstant, Request, SentStatusExpiry, SentStatusMessage, SubscribedResource,
    SubscriptionRequest, WorkLocation,
};
use crate::model::parse_edm_duration;
use crate::operation::{Operation, Via};

/// A value with the line and column it was written at.
pub(crate) type Located<T> = Spanned<T>;

/// One case: who takes part, which spec profiles it applies to, and what happens when.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CaseFile {
    /// Where editors find this schema (`# yaml-language-server: $schema=...` works too).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// One line: the behaviour this case pins down.
    pub title: String,
    /// Where the rule comes from (a documentation page, an issue), for reviewers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The rules this case checks: ids in `spec/rules.yaml`, the primary rule first. Every
    /// expectation rests on the primary rule unless its step names another (`rule`); error codes
    /// and sequence numbers rest on the first listed rule that `checks` them, else on the
    /// catalogue's default for them (our own choice).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub rules: Vec<Located<String>>,
    /// Spec profiles the case applies to: `v1.0`, `beta`, `beta-2021`. Default: v1.0 and beta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<String>>")]
    pub profiles: Option<Located<Vec<String>>>,
    /// Capabilities a target needs to run this case: `virtual-clock` for cases that check
    /// instants a second apart, which a real clock cannot hit reliably; `credentials` for cases
    /// whose expectations rest on the target knowing the calling app (its token).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<RequirementFile>,
    /// User actors, by name. Targets map each to a real user id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub users: Vec<Located<String>>,
    /// App actors (registrations), by name, with their application permissions. An app's id is
    /// the sessionId of its presence sessions. `observer`, with Presence.Read.All, always exists.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub apps: BTreeMap<String, AppFile>,
    /// The timeline, in order of `at`.
    #[schemars(with = "Vec<StepFile>")]
    pub steps: Vec<Located<StepFile>>,
}

/// An app registration.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AppFile {
    /// Application permissions. Default: `[Presence.ReadWrite.All]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Delegated permissions, used when the app acts for a signed-in user (`delegate`).
    /// Default: `[Presence.Read, Presence.Read.All, Presence.ReadWrite]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// One step of the timeline: exactly one action, at an offset from the case start.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StepFile {
    /// Offset from the case start, an ISO 8601 duration (`PT0S`, `PT5M`, `PT4H`).
    #[schemars(with = "String")]
    pub at: Located<String>,
    /// The app that sends the request. Default: the case's only app, or `observer` for reads.
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub actor: Option<Located<String>>,
    /// A user the app acts for (a delegated token) instead of acting as itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub delegate: Option<Located<String>>,
    /// The rule this step's expectations rest on, instead of the case's primary rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub rule: Option<Located<String>>,
    /// Which credentials to send. Default `valid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenKind>,
    /// Which of Graph's path forms to use. Default `users`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// Why this step is here, for reviewers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_presence: Option<SetPresenceFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_presence: Option<ClearPresenceFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_user_preferred_presence: Option<PreferredFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_user_preferred_presence: Option<ClearPreferredFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_status_message: Option<StatusMessageFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_presence: Option<UserRefFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_presences_by_user_id: Option<BatchFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_manual_location: Option<ManualLocationFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_automatic_location: Option<AutomaticLocationFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_location: Option<ClearLocationFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_automatic_location: Option<ClearAutomaticLocationFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_subscription: Option<CreateSubscriptionFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_subscriptions: Option<ListSubscriptionsFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_subscription: Option<GetSubscriptionFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_subscription: Option<UpdateSubscriptionFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_subscription: Option<DeleteSubscriptionFile>,
    /// Any request, for negative tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RawRequestFile>,
    /// Read a user's presence and state what it must be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observe: Option<ObserveFile>,
    /// The runner's webhook receiver got a change notification since the previous notification
    /// step: about `user`, and the last one as stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<NotifiedFile>,
    /// No change notification about `user` arrived since the previous notification step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_notification: Option<NoNotificationFile>,

    /// What the response must be (request steps). Default: a 2xx status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectFile>,
    /// Against a real-time target, poll until the observation holds or this window ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub within: Option<Located<String>>,
    /// `invalid-request`: the request breaks the spec on purpose; its violations are expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractFile>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RequirementFile {
    VirtualClock,
    Credentials,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    /// A token the target issued for this actor.
    Valid,
    /// No Authorization header.
    None,
    /// A bearer token that no issuer signed.
    Malformed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ContractFile {
    InvalidRequest,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UserRefFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub user: Option<Located<String>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
/// clearUserPreferredPresence: whose preferred presence (default: the signed-in user).
pub(crate) struct ClearPreferredFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub user: Option<Located<String>>,
}

/// A work-location action without parameters: whose location (default: the signed-in user).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SignedInUserFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub user: Option<Located<String>>,
}

/// setManualLocation and setAutomaticLocation: whose location (default: the signed-in user),
/// and the location.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct WorkLocationFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub user: Option<Located<String>>,
    /// `office`, `remote`, `timeOff` (beta also `unspecified`).
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub work_location_type: Field<String>,
    /// The place's id, for `office`.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub place_id: Field<String>,
}

/// setManualLocation's parameters.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct ManualLocationFile(WorkLocationFile);

/// setAutomaticLocation's parameters.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct AutomaticLocationFile(WorkLocationFile);

/// clearLocation's user.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct ClearLocationFile(SignedInUserFile);

/// clearAutomaticLocation's user.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct ClearAutomaticLocationFile(SignedInUserFile);

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SetPresenceFile {
    #[schemars(with = "String")]
    pub user: Located<String>,
    /// Default: the acting app's id. An app actor's name stands for its id; `null` sends null.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub session_id: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub availability: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub activity: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub expiration_duration: Field<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ClearPresenceFile {
    #[schemars(with = "String")]
    pub user: Located<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub session_id: Field<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PreferredFile {
    #[schemars(with = "String")]
    pub user: Located<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub availability: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub activity: Field<String>,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub expiration_duration: Field<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StatusMessageFile {
    #[schemars(with = "String")]
    pub user: Located<String>,
    /// The message text; `null` clears the status message.
    pub message: Field<String>,
    /// When it expires, as Graph's dateTimeTimeZone, with `dateTime` an offset from the case
    /// start (`PT1H`) or a literal date-time without offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<StatusExpiryFile>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StatusExpiryFile {
    /// An ISO 8601 offset from the case start (`PT1H`), turned into a date-time in `timeZone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// A literal `dateTime` (no offset), sent as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<String>,
    /// Default `UTC`. Windows names (`Pacific Standard Time`) and IANA names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BatchFile {
    /// User actors whose presence to read, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub users: Vec<Located<String>>,
    /// Literal ids appended after the users (for invalid ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// Append this many generated, distinct, unknown user ids (for the 650-id limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generated: usize,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawRequestFile {
    pub method: String,
    /// Relative to the version root (`/users/{alice}/presence`); `{actor}` stands for that
    /// actor's id. With `fromRoot: true`, relative to the server root.
    pub path: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_root: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body, sent byte for byte (after `{actor}` substitution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Append this many spaces to the body (oversize bodies that are still valid JSON).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub padding: usize,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ObserveFile {
    #[schemars(with = "String")]
    pub user: Located<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub availability: Option<Located<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub activity: Option<Located<String>>,
    /// `null`: no status message. Otherwise what it must hold.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub status_message: Field<StatusMessageExpectFile>,
    /// `increased` or `unchanged`, compared with this user's previous observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<SequenceExpect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_out_of_office: Option<bool>,
}

/// createSubscription: a presence subscription, to the runner's webhook receiver unless the step
/// names another `notificationUrl`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateSubscriptionFile {
    /// How later steps name it (`getSubscription: { subscription: watch }`). Default
    /// `subscription`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub name: Option<Located<String>>,
    /// The users whose presence to watch: one is `/communications/presences/{id}`, more
    /// `/communications/presences?$filter=id in (...)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub users: Vec<Located<String>>,
    /// Then this many generated, distinct, unknown user ids (for the 650-id limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generated: usize,
    /// A resource written out instead of `users` (`{actor}` stands for an id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Default `updated`; `null` sends null.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub change_type: Field<String>,
    /// Default: the runner's receiver. `{webhook}` stands for its URL.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub notification_url: Field<String>,
    /// Also send the receiver's `lifecycleNotificationUrl`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lifecycle: bool,
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub client_state: Field<String>,
    /// `expirationDateTime` as an offset from this step (ISO 8601). Default `PT45M`, well
    /// inside Graph's hour (a real clock runs on while the request travels); `null` sends null.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub expires_in: Field<String>,
    /// `includeResourceData: true` with the receiver's encryption certificate: notifications
    /// then carry the presence, encrypted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_resource_data: bool,
}

/// listSubscriptions takes nothing: `listSubscriptions: {}`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListSubscriptionsFile {}

/// A subscription the case created, by its name.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SubscriptionRefFile {
    /// Default `subscription`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub subscription: Option<Located<String>>,
}

/// getSubscription's subscription.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct GetSubscriptionFile(SubscriptionRefFile);

/// deleteSubscription's subscription.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct DeleteSubscriptionFile(SubscriptionRefFile);

/// updateSubscription: renews a subscription.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UpdateSubscriptionFile {
    /// Default `subscription`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub subscription: Option<Located<String>>,
    /// The new `expirationDateTime` as an offset from this step (ISO 8601).
    pub expires_in: Field<String>,
}

/// notified: a change (or lifecycle) notification arrived since the previous notification step.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NotifiedFile {
    /// About this user's presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub user: Option<Located<String>>,
    /// From this subscription (its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub subscription: Option<Located<String>>,
    /// The last one's decrypted availability (`includeResourceData`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub availability: Option<Located<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub activity: Option<Located<String>>,
    /// The clientState it must echo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_state: Option<String>,
    /// A lifecycle notification (`reauthorizationRequired`) instead of a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_event: Option<String>,
}

/// noNotification: nothing about this user arrived since the previous notification step.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NoNotificationFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub user: Option<Located<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub subscription: Option<Located<String>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StatusMessageExpectFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Whether `expiryDateTime` must be shown (it is hidden from other users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_shown: Option<bool>,
    /// Whether `publishedDateTime` must be shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_shown: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceExpect {
    Increased,
    Unchanged,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ExpectFile {
    /// The exact status. Default: any 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<u16>")]
    pub status: Option<Located<u16>>,
    /// The Graph error code (`error.code`), compared case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A JSON subset the response body must contain; actor names stand for their ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Value>")]
    pub body: Option<serde_json::Value>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a step key's check needs of the loader: the case's actors, the app that sends the step
/// and the user it acts for, and errors located in the file.
pub(crate) trait StepCheck {
    /// A user actor of the case.
    fn user(&self, name: &Located<String>) -> Result<String, CaseError>;
    /// The user named, or the signed-in user (`via: me`).
    fn user_or_signed_in(&self, user: &Option<Located<String>>) -> Result<String, CaseError>;
    /// sessionId as sent: the acting app's id by default.
    fn session_id(&self, written: &Field<String>) -> Field<String>;
    fn error(&self, at: &Location, message: String) -> CaseError;
    /// The step's offset from the case start.
    fn at(&self) -> jiff::SignedDuration;
    /// Where the step starts in its file.
    fn location(&self) -> Location;
    /// An ISO 8601 duration the step writes at `at` (`what` names the key).
    fn duration(
        &self,
        text: &str,
        at: &Location,
        what: &str,
    ) -> Result<jiff::SignedDuration, CaseError>;
    /// A subscription the case created earlier, by name (default `subscription`), or the name a
    /// createSubscription step gives a new one.
    fn subscription(
        &self,
        name: &Option<Located<String>>,
        creates: bool,
    ) -> Result<String, CaseError>;
}

/// A step key that sends a Graph operation: its parameters, checked into the request to send.
pub(crate) trait OperationFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError>;
}

impl StepFile {
    /// A step at `at` that does nothing yet (explore fills in one key).
    pub(crate) fn blank(at: Located<String>) -> StepFile {
        StepFile {
            at,
            rule: None,
            actor: None,
            delegate: None,
            token: None,
            via: None,
            note: None,
            set_presence: None,
            clear_presence: None,
            set_user_preferred_presence: None,
            clear_user_preferred_presence: None,
            set_status_message: None,
            get_presence: None,
            get_presences_by_user_id: None,
            set_manual_location: None,
            set_automatic_location: None,
            clear_location: None,
            clear_automatic_location: None,
            create_subscription: None,
            list_subscriptions: None,
            get_subscription: None,
            update_subscription: None,
            delete_subscription: None,
            request: None,
            observe: None,
            notified: None,
            no_notification: None,
            expect: None,
            within: None,
            contract: None,
        }
    }

    /// The Graph operations this step's keys name, in the table's order (a valid step names at
    /// most one).
    pub(crate) fn operations(&self) -> Vec<(Operation, &dyn OperationFile)> {
        fn named<'a, T: OperationFile>(
            found: &mut Vec<(Operation, &'a dyn OperationFile)>,
            operation: Operation,
            key: &'a Option<T>,
        ) {
            if let Some(parameters) = key {
                found.push((operation, parameters));
            }
        }
        let mut found = Vec::new();
        named(&mut found, Operation::SetPresence, &self.set_presence);
        named(&mut found, Operation::ClearPresence, &self.clear_presence);
        named(
            &mut found,
            Operation::SetUserPreferredPresence,
            &self.set_user_preferred_presence,
        );
        named(
            &mut found,
            Operation::ClearUserPreferredPresence,
            &self.clear_user_preferred_presence,
        );
        named(
            &mut found,
            Operation::SetStatusMessage,
            &self.set_status_message,
        );
        named(&mut found, Operation::GetPresence, &self.get_presence);
        named(
            &mut found,
            Operation::GetPresencesByUserId,
            &self.get_presences_by_user_id,
        );
        named(
            &mut found,
            Operation::SetManualLocation,
            &self.set_manual_location,
        );
        named(
            &mut found,
            Operation::SetAutomaticLocation,
            &self.set_automatic_location,
        );
        named(&mut found, Operation::ClearLocation, &self.clear_location);
        named(
            &mut found,
            Operation::ClearAutomaticLocation,
            &self.clear_automatic_location,
        );
        named(
            &mut found,
            Operation::CreateSubscription,
            &self.create_subscription,
        );
        named(
            &mut found,
            Operation::ListSubscriptions,
            &self.list_subscriptions,
        );
        named(
            &mut found,
            Operation::GetSubscription,
            &self.get_subscription,
        );
        named(
            &mut found,
            Operation::UpdateSubscription,
            &self.update_subscription,
        );
        named(
            &mut found,
            Operation::DeleteSubscription,
            &self.delete_subscription,
        );
        found
    }
}

impl OperationFile for SetPresenceFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::SetPresence {
            user: cx.user(&self.user)?,
            session_id: cx.session_id(&self.session_id),
            availability: self.availability.clone(),
            activity: self.activity.clone(),
            expiration_duration: self.expiration_duration.clone(),
        })
    }
}

impl OperationFile for ClearPresenceFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::ClearPresence {
            user: cx.user(&self.user)?,
            session_id: cx.session_id(&self.session_id),
        })
    }
}

impl OperationFile for PreferredFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::SetUserPreferredPresence {
            user: cx.user(&self.user)?,
            availability: self.availability.clone(),
            activity: self.activity.clone(),
            expiration_duration: self.expiration_duration.clone(),
        })
    }
}

/// `getPresence` takes only the user.
impl OperationFile for UserRefFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::GetPresence {
            user: cx.user_or_signed_in(&self.user)?,
        })
    }
}

impl OperationFile for ClearPreferredFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::ClearUserPreferredPresence {
            user: cx.user_or_signed_in(&self.user)?,
        })
    }
}

impl OperationFile for StatusMessageFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let user = cx.user(&self.user)?;
        let at = &self.user.referenced;
        let message = match (&self.message, &self.expiry) {
            (Field::Absent, _) => {
                return Err(cx.error(
                    at,
                    format!(
                        "{} needs `message` (null clears it)",
                        Operation::SetStatusMessage
                    ),
                ));
            }
            (Field::Null, _) => SentStatusMessage::Clear,
            (Field::Given(text), expiry) => SentStatusMessage::Text {
                content: text.clone(),
                expiry: expiry.as_ref().map(|e| e.expiry(cx, at)).transpose()?,
            },
        };
        Ok(Request::SetStatusMessage { user, message })
    }
}

impl StatusExpiryFile {
    fn expiry(&self, cx: &dyn StepCheck, at: &Location) -> Result<SentStatusExpiry, CaseError> {
        let instant = match (&self.after, &self.date_time) {
            (Some(after), None) => ExpiryInstant::After(
                parse_edm_duration(after)
                    .map_err(|e| cx.error(at, format!("expiry.after: {e}")))?,
            ),
            (None, Some(date_time)) => ExpiryInstant::Literal(date_time.clone()),
            _ => {
                return Err(cx.error(
                    at,
                    "expiry needs exactly one of `after` and `dateTime`".to_owned(),
                ));
            }
        };
        Ok(SentStatusExpiry {
            at: instant,
            time_zone: self.time_zone.clone().unwrap_or_else(|| "UTC".to_owned()),
        })
    }
}

impl OperationFile for BatchFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let mut ids = Vec::new();
        for u in &self.users {
            ids.push(format!("{{{}}}", cx.user(u)?));
        }
        ids.extend(self.ids.iter().cloned());
        Ok(Request::GetPresencesByUserId {
            ids,
            generated: self.generated,
        })
    }
}

impl WorkLocationFile {
    fn parts(&self, cx: &dyn StepCheck) -> Result<(String, WorkLocation), CaseError> {
        let location = WorkLocation {
            work_location_type: self.work_location_type.clone(),
            place_id: self.place_id.clone(),
        };
        Ok((cx.user_or_signed_in(&self.user)?, location))
    }
}

impl OperationFile for ManualLocationFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let (user, location) = self.0.parts(cx)?;
        Ok(Request::SetManualLocation { user, location })
    }
}

impl OperationFile for AutomaticLocationFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let (user, location) = self.0.parts(cx)?;
        Ok(Request::SetAutomaticLocation { user, location })
    }
}

impl OperationFile for ClearLocationFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let user = cx.user_or_signed_in(&self.0.user)?;
        Ok(Request::ClearLocation { user })
    }
}

impl OperationFile for ClearAutomaticLocationFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let user = cx.user_or_signed_in(&self.0.user)?;
        Ok(Request::ClearAutomaticLocation { user })
    }
}

/// How long a subscription asks to last unless its step says: inside Graph's hour by a margin,
/// since on a real clock the target's now has moved on when the request lands.
const DEFAULT_EXPIRES_IN: &str = "PT45M";

/// An offset from this step, written as an ISO 8601 duration, as an offset from the case start.
fn from_step(
    cx: &dyn StepCheck,
    written: &Field<String>,
    at: &Location,
    what: &str,
) -> Result<Field<jiff::SignedDuration>, CaseError> {
    Ok(match written {
        Field::Absent => Field::Absent,
        Field::Null => Field::Null,
        Field::Given(text) => Field::Given(cx.at() + cx.duration(text, at, what)?),
    })
}

impl OperationFile for CreateSubscriptionFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let name = cx.subscription(&self.name, true)?;
        let at = self
            .name
            .as_ref()
            .or(self.users.first())
            .map_or_else(|| cx.location(), |n| n.referenced);
        let resource = match (&self.resource, self.users.is_empty() && self.generated == 0) {
            (Some(text), true) => SubscribedResource::Literal(text.clone()),
            (None, false) => SubscribedResource::Presences {
                users: self
                    .users
                    .iter()
                    .map(|u| cx.user(u).map(|u| format!("{{{u}}}")))
                    .collect::<Result<_, _>>()?,
                generated: self.generated,
            },
            _ => {
                return Err(cx.error(
                    &at,
                    format!(
                        "{} needs `users` (or `generated`) or a `resource`, not both",
                        Operation::CreateSubscription
                    ),
                ));
            }
        };
        let expires_in = match &self.expires_in {
            Field::Absent => Field::Given(DEFAULT_EXPIRES_IN.to_owned()),
            other => other.clone(),
        };
        Ok(Request::CreateSubscription(Box::new(SubscriptionRequest {
            name,
            resource,
            change_type: match &self.change_type {
                Field::Absent => Field::Given("updated".to_owned()),
                other => other.clone(),
            },
            notification_url: self.notification_url.clone(),
            lifecycle: self.lifecycle,
            client_state: self.client_state.clone(),
            expiration: from_step(cx, &expires_in, &at, "expiresIn")?,
            rich: self.include_resource_data,
        })))
    }
}

impl OperationFile for ListSubscriptionsFile {
    fn request(&self, _: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::ListSubscriptions)
    }
}

impl OperationFile for GetSubscriptionFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::GetSubscription {
            subscription: cx.subscription(&self.0.subscription, false)?,
        })
    }
}

impl OperationFile for DeleteSubscriptionFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        Ok(Request::DeleteSubscription {
            subscription: cx.subscription(&self.0.subscription, false)?,
        })
    }
}

impl OperationFile for UpdateSubscriptionFile {
    fn request(&self, cx: &dyn StepCheck) -> Result<Request, CaseError> {
        let at = self
            .subscription
            .as_ref()
            .map_or_else(|| cx.location(), |n| n.referenced);
        Ok(Request::UpdateSubscription {
            subscription: cx.subscription(&self.subscription, false)?,
            expiration: from_step(cx, &self.expires_in, &at, "expiresIn")?,
        })
    }
}
