//! The Graph presence surface, described once: the API versions, the path forms, and for each
//! operation its name, method, the path forms each version reaches it by, its parameters, its
//! permission class, and whether it reads or writes. The case loader, the request renderer,
//! `cases lint`, the runner, the HTML lanes, and the reference server's path parse, permission
//! check and dispatch all read this table: an operation's name is written here and nowhere else.

use std::fmt;
use std::str::FromStr;

/// Which version of Graph's documented rules a request is judged by (its API version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// `/v1.0`, as documented today.
    V1_0,
    /// `/beta`, as documented today (same pairs and range as v1.0).
    Beta,
    /// `/beta` as first published in June 2021: four setPresence pairs, no DoNotDisturb.
    Beta2021,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::V1_0, Profile::Beta, Profile::Beta2021];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::V1_0 => "v1.0",
            Profile::Beta => "beta",
            Profile::Beta2021 => "beta-2021",
        }
    }

    /// The URL segment the profile is served under.
    pub(crate) fn url_segment(self) -> &'static str {
        match self {
            Profile::V1_0 => "v1.0",
            Profile::Beta | Profile::Beta2021 => "beta",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown spec profile '{s}' (expected v1.0, beta or beta-2021)"))
    }
}

/// One Graph presence operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    SetPresence,
    ClearPresence,
    SetUserPreferredPresence,
    ClearUserPreferredPresence,
    SetStatusMessage,
    GetPresence,
    GetPresencesByUserId,
    SetManualLocation,
    SetAutomaticLocation,
    ClearLocation,
    ClearAutomaticLocation,
    CreateSubscription,
    ListSubscriptions,
    GetSubscription,
    UpdateSubscription,
    DeleteSubscription,
}

/// Which of Graph's path forms reaches a user's presence (a step's `via:` in case files).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// `/users/{id}/presence`
    #[default]
    Users,
    /// `/me/presence` (a signed-in user; the step needs `delegate`).
    Me,
    /// `/communications/presences/{id}`
    Communications,
}

/// The static segments of Graph's presence paths, for rendering and parsing alike.
pub(crate) mod segment {
    pub(crate) const USERS: &str = "users";
    pub(crate) const ME: &str = "me";
    pub(crate) const PRESENCE: &str = "presence";
    pub(crate) const COMMUNICATIONS: &str = "communications";
    pub(crate) const PRESENCES: &str = "presences";
    pub(crate) const SUBSCRIPTIONS: &str = "subscriptions";
}

/// The HTTP method an operation is called with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET (and HEAD, which answers as GET would without the body).
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// The `Allow` header of a 405 on a presence path (one operation a path).
    pub(crate) fn allow(self) -> &'static str {
        match self {
            Method::Get => "GET,HEAD",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Where Graph binds an operation: what its path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    /// The presence resource itself: `…/presence`.
    Presence,
    /// An action bound to a presence: `…/presence/{name}`.
    PresenceAction,
    /// An action bound to the communications root: `/communications/{name}`.
    Communications,
    /// The subscriptions collection: `/subscriptions`.
    Subscriptions,
    /// One subscription: `/subscriptions/{id}`.
    Subscription,
}

/// Who may call an operation: the class of its row in Graph's permissions tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Presence.Read or Presence.Read.All (delegated), Presence.Read.All or
    /// Presence.ReadWrite.All (application).
    Read,
    /// Presence.ReadWrite (delegated), Presence.ReadWrite.All (application).
    ReadWrite,
    /// Presence.ReadWrite, for a signed-in user only ("Application: Not supported").
    ReadWriteDelegated,
    /// Presence.ReadWrite.All, for an application only ("Delegated (work or school account):
    /// Not Supported").
    ReadWriteApplication,
    /// Presence.Read.All, for a signed-in user only: presence subscriptions ("Application: Not
    /// supported", learn.microsoft.com/graph/changenotifications-for-presence).
    ReadDelegated,
}

impl Permission {
    /// Whether an app acting as itself (client credentials) may call it at all.
    pub fn application(self) -> bool {
        !matches!(
            self,
            Permission::ReadWriteDelegated | Permission::ReadDelegated
        )
    }

    /// Whether an app acting for a signed-in user may call it at all.
    pub fn delegated(self) -> bool {
        !matches!(self, Permission::ReadWriteApplication)
    }
}

/// How a successful write is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// 200 with an empty body, as Graph answers actions.
    Ok,
    /// 204 No Content.
    NoContent,
    /// 201 Created with the new resource (create subscription).
    Created,
    /// 200 with the resource (read or update a subscription).
    Entity,
}

impl Reply {
    /// The status a success is answered with.
    pub fn status(self) -> u16 {
        match self {
            Reply::Ok | Reply::Entity => 200,
            Reply::NoContent => 204,
            Reply::Created => 201,
        }
    }
}

/// A set of path forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Forms(&'static [Via]);

impl Forms {
    /// `/users/{id}`, `/me` and `/communications/presences/{id}`.
    const EVERY: Forms = Forms(&[Via::Users, Via::Me, Via::Communications]);
    /// `/me` only.
    const ME: Forms = Forms(&[Via::Me]);

    pub(crate) fn contains(self, via: Via) -> bool {
        self.0.contains(&via)
    }
}

/// One value for each API version.
#[derive(Clone, Copy, Debug)]
struct PerVersion<T> {
    v1_0: T,
    beta: T,
    beta_2021: T,
}

impl<T: Copy> PerVersion<T> {
    const fn every(value: T) -> Self {
        PerVersion {
            v1_0: value,
            beta: value,
            beta_2021: value,
        }
    }

    fn of(&self, profile: Profile) -> T {
        match profile {
            Profile::V1_0 => self.v1_0,
            Profile::Beta => self.beta,
            Profile::Beta2021 => self.beta_2021,
        }
    }
}

/// An operation, as Graph's pages describe it.
struct Row {
    operation: Operation,
    /// Graph's name: the action's path segment, and the step key of case files.
    name: &'static str,
    method: Method,
    binding: Binding,
    /// The path forms each version serves it under (for operations bound to a presence).
    forms: PerVersion<Forms>,
    /// The body's parameters, in the order Graph's examples write them.
    parameters: &'static [&'static str],
    permission: PerVersion<Permission>,
    reply: PerVersion<Reply>,
}

/// The actions documented for every form and version, answered with 200, the write permission.
const fn action(
    operation: Operation,
    name: &'static str,
    parameters: &'static [&'static str],
) -> Row {
    Row {
        operation,
        name,
        method: Method::Post,
        binding: Binding::PresenceAction,
        forms: PerVersion::every(Forms::EVERY),
        parameters,
        permission: PerVersion::every(Permission::ReadWrite),
        reply: PerVersion::every(Reply::Ok),
    }
}

/// The work-location actions. The v1.0 pages document `/me` only, the beta pages all three forms;
/// their permissions tables say "Application: Not supported"; the beta pages answer 204 No
/// Content.
const fn location(
    operation: Operation,
    name: &'static str,
    parameters: &'static [&'static str],
) -> Row {
    Row {
        forms: PerVersion {
            v1_0: Forms::ME,
            beta: Forms::EVERY,
            beta_2021: Forms::EVERY,
        },
        permission: PerVersion::every(Permission::ReadWriteDelegated),
        reply: PerVersion {
            v1_0: Reply::Ok,
            beta: Reply::NoContent,
            beta_2021: Reply::NoContent,
        },
        ..action(operation, name, parameters)
    }
}

/// The subscription operations (learn.microsoft.com/graph/api/subscription-*): served on v1.0
/// and beta alike, by a signed-in user's app with Presence.Read.All only.
const fn subscription(
    operation: Operation,
    name: &'static str,
    method: Method,
    binding: Binding,
    reply: Reply,
    parameters: &'static [&'static str],
) -> Row {
    Row {
        method,
        binding,
        permission: PerVersion::every(Permission::ReadDelegated),
        reply: PerVersion::every(reply),
        ..action(operation, name, parameters)
    }
}

const STATE: &[&str] = &["availability", "activity", "expirationDuration"];
/// The subscription properties a create sends (the subscription resource's page).
const SUBSCRIPTION: &[&str] = &[
    "changeType",
    "notificationUrl",
    "lifecycleNotificationUrl",
    "resource",
    "expirationDateTime",
    "clientState",
    "includeResourceData",
    "encryptionCertificate",
    "encryptionCertificateId",
];
const WORK_LOCATION: &[&str] = &["workLocationType", "placeId"];

const TABLE: [Row; 16] = [
    Row {
        // The June 2021 beta page's permissions table: "Delegated (work or school account): Not
        // Supported."; every later page lists Presence.ReadWrite.
        permission: PerVersion {
            beta_2021: Permission::ReadWriteApplication,
            ..PerVersion::every(Permission::ReadWrite)
        },
        ..action(
            Operation::SetPresence,
            "setPresence",
            &[
                "sessionId",
                "availability",
                "activity",
                "expirationDuration",
            ],
        )
    },
    Row {
        // The June 2021 beta page's permissions table lists Application Presence.ReadWrite.All
        // only (microsoft-graph-docs PR 13119).
        permission: PerVersion {
            beta_2021: Permission::ReadWriteApplication,
            ..PerVersion::every(Permission::ReadWrite)
        },
        ..action(Operation::ClearPresence, "clearPresence", &["sessionId"])
    },
    action(
        Operation::SetUserPreferredPresence,
        "setUserPreferredPresence",
        STATE,
    ),
    action(
        Operation::ClearUserPreferredPresence,
        "clearUserPreferredPresence",
        &[],
    ),
    action(
        Operation::SetStatusMessage,
        "setStatusMessage",
        &["statusMessage"],
    ),
    Row {
        method: Method::Get,
        binding: Binding::Presence,
        permission: PerVersion::every(Permission::Read),
        ..action(Operation::GetPresence, "getPresence", &[])
    },
    Row {
        binding: Binding::Communications,
        permission: PerVersion::every(Permission::Read),
        ..action(
            Operation::GetPresencesByUserId,
            "getPresencesByUserId",
            &["ids"],
        )
    },
    location(
        Operation::SetManualLocation,
        "setManualLocation",
        WORK_LOCATION,
    ),
    location(
        Operation::SetAutomaticLocation,
        "setAutomaticLocation",
        WORK_LOCATION,
    ),
    location(Operation::ClearLocation, "clearLocation", &[]),
    location(
        Operation::ClearAutomaticLocation,
        "clearAutomaticLocation",
        &[],
    ),
    subscription(
        Operation::CreateSubscription,
        "createSubscription",
        Method::Post,
        Binding::Subscriptions,
        Reply::Created,
        SUBSCRIPTION,
    ),
    subscription(
        Operation::ListSubscriptions,
        "listSubscriptions",
        Method::Get,
        Binding::Subscriptions,
        Reply::Entity,
        &[],
    ),
    subscription(
        Operation::GetSubscription,
        "getSubscription",
        Method::Get,
        Binding::Subscription,
        Reply::Entity,
        &[],
    ),
    subscription(
        Operation::UpdateSubscription,
        "updateSubscription",
        Method::Patch,
        Binding::Subscription,
        Reply::Entity,
        &["expirationDateTime"],
    ),
    subscription(
        Operation::DeleteSubscription,
        "deleteSubscription",
        Method::Delete,
        Binding::Subscription,
        Reply::NoContent,
        &[],
    ),
];

impl Operation {
    /// Every operation, in the table's order.
    pub fn all() -> impl Iterator<Item = Operation> {
        TABLE.iter().map(|r| r.operation)
    }

    fn row(self) -> &'static Row {
        // The table lists the operations in their declaration order.
        &TABLE[self as usize]
    }

    /// Graph's name for it, as case files and reports write it (`setPresence`).
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The operation Graph binds as `binding` under `name`, compared as written.
    pub(crate) fn bound(binding: Binding, name: &str) -> Option<Operation> {
        TABLE
            .iter()
            .find(|r| r.binding == binding && r.name == name)
            .map(|r| r.operation)
    }

    pub fn method(self) -> Method {
        self.row().method
    }

    pub(crate) fn binding(self) -> Binding {
        self.row().binding
    }

    /// Reads change nothing; a case sends them as its `observer` unless it says otherwise.
    pub fn reads(self) -> bool {
        matches!(self.row().permission.v1_0, Permission::Read)
    }

    /// Whether it acts on a change-notification subscription rather than on a presence.
    pub fn on_subscriptions(self) -> bool {
        matches!(
            self.binding(),
            Binding::Subscriptions | Binding::Subscription
        )
    }

    /// The body's parameters, in order.
    pub(crate) fn parameters(self) -> &'static [&'static str] {
        self.row().parameters
    }

    /// Who may call it under `profile`.
    pub fn permission(self, profile: Profile) -> Permission {
        self.row().permission.of(profile)
    }

    /// How a successful call is answered under `profile`.
    pub(crate) fn reply(self, profile: Profile) -> Reply {
        self.row().reply.of(profile)
    }

    /// Whether `profile` serves it under the path form `via` (operations bound to a presence;
    /// one bound to `/communications` has a single path).
    pub(crate) fn served_by(self, profile: Profile, via: Via) -> bool {
        self.row().forms.of(profile).contains(via)
    }

    /// The path relative to the version root: `id` is the user's id (or an `{actor}`
    /// placeholder) for the `users` and `communications` forms (`/me` needs none), or the
    /// subscription's id for an operation on one subscription.
    pub fn path(self, via: Via, id: &str) -> String {
        use segment::{COMMUNICATIONS, ME, PRESENCE, PRESENCES, SUBSCRIPTIONS, USERS};
        let user = id;
        let presence = || match via {
            Via::Users => format!("/{USERS}/{user}/{PRESENCE}"),
            Via::Me => format!("/{ME}/{PRESENCE}"),
            Via::Communications => format!("/{COMMUNICATIONS}/{PRESENCES}/{user}"),
        };
        match self.binding() {
            Binding::Presence => presence(),
            Binding::PresenceAction => format!("{}/{}", presence(), self.name()),
            Binding::Communications => format!("/{COMMUNICATIONS}/{}", self.name()),
            Binding::Subscriptions => format!("/{SUBSCRIPTIONS}"),
            Binding::Subscription => format!("/{SUBSCRIPTIONS}/{id}"),
        }
    }

    /// Every name, for hints (`setPresence, clearPresence, ...`).
    pub fn names() -> String {
        TABLE.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_has_one_row_in_its_place_and_its_paths() {
        assert_eq!(Operation::all().count(), 16);
        for (i, op) in Operation::all().enumerate() {
            assert_eq!(op as usize, i, "{op} is out of place in the table");
            assert_eq!(Operation::bound(op.binding(), op.name()), Some(op));
        }
        assert_eq!(
            Operation::SetPresence.path(Via::Users, "{alice}"),
            "/users/{alice}/presence/setPresence"
        );
        assert_eq!(
            Operation::GetPresence.path(Via::Communications, "x"),
            "/communications/presences/x"
        );
        assert_eq!(
            Operation::ClearPresence.path(Via::Me, "ignored"),
            "/me/presence/clearPresence"
        );
        assert_eq!(
            Operation::GetPresencesByUserId.path(Via::Me, "ignored"),
            "/communications/getPresencesByUserId"
        );
        assert!(Operation::GetPresence.reads() && !Operation::SetStatusMessage.reads());
        assert!(Operation::GetPresencesByUserId.reads());
        assert_eq!(
            Operation::UpdateSubscription.path(Via::Users, "{watch}"),
            "/subscriptions/{watch}"
        );
        assert_eq!(
            Operation::CreateSubscription.path(Via::Me, "ignored"),
            "/subscriptions"
        );
        let create = Operation::CreateSubscription;
        assert!(!create.permission(Profile::V1_0).application());
        assert_eq!(create.reply(Profile::Beta).status(), 201);
        assert!(!Operation::ListSubscriptions.reads() && !create.reads());
    }

    #[test]
    fn versions_differ_where_the_pages_do() {
        let location = Operation::SetManualLocation;
        assert!(location.served_by(Profile::V1_0, Via::Me));
        assert!(!location.served_by(Profile::V1_0, Via::Users));
        assert!(location.served_by(Profile::Beta, Via::Communications));
        assert!(!location.permission(Profile::Beta).application());
        assert_eq!(location.reply(Profile::Beta), Reply::NoContent);
        assert_eq!(location.reply(Profile::V1_0), Reply::Ok);
        let set = Operation::SetPresence;
        assert!(set.permission(Profile::V1_0).delegated());
        assert!(set.permission(Profile::Beta).delegated());
        assert!(!set.permission(Profile::Beta2021).delegated());
        assert!(set.permission(Profile::Beta2021).application());
    }
}
