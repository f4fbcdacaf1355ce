//! The value types of presence: availability, activity, user and session ids.
//!
//! Graph declares availability and activity as plain strings; the documentation lists PascalCase
//! values in some versions and camelCase in others. They are parsed here, once, case-insensitively,
//! and always written back in the PascalCase that real payloads carry.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a closed enum of Graph string values with case-insensitive parsing and PascalCase output.
macro_rules! graph_string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The PascalCase spelling Graph puts in payloads.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| UnknownValue { kind: $what, value: s.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

graph_string_enum!(
    /// The base presence information of a user (`presence.availability`).
    Availability, "availability" {
        Available, AvailableIdle, Away, BeRightBack, Busy, BusyIdle, DoNotDisturb, Focusing,
        Offline, OutOfOffice, PresenceUnknown,
    }
);

graph_string_enum!(
    /// The supplemental information to availability (`presence.activity`).
    Activity, "activity" {
        Available, AvailableInactive, Away, BeRightBack, Busy, DoNotDisturb, Focusing, InACall,
        InAConferenceCall, Inactive, InAMeeting, Offline, OffWork, OutOfOffice, PresenceUnknown,
        Presenting, UrgentInterruptionsOnly,
    }
);

/// A string that is not one of the known values of an availability or activity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a known {kind} value")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// An availability/activity pair as Graph shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PresenceState {
    pub availability: Availability,
    pub activity: Activity,
}

impl PresenceState {
    pub const fn new(availability: Availability, activity: Activity) -> Self {
        PresenceState {
            availability,
            activity,
        }
    }

    /// What a user with no live presence session shows.
    pub const OFFLINE: PresenceState = PresenceState::new(Availability::Offline, Activity::Offline);
}

impl fmt::Display for PresenceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.availability, self.activity)
    }
}

/// The id of a user (a directory object id). Cheap to clone: the store and its expiry index share it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Arc<str>);

impl UserId {
    pub fn new(id: &str) -> Self {
        UserId(Arc::from(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of an application's presence session: by Graph's rule, the application (client) id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Box<str>);

impl SessionId {
    pub fn new(id: &str) -> Self {
        SessionId(Box::from(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pascal_and_camel_case_and_prints_pascal_case() {
        assert_eq!(
            "DoNotDisturb".parse::<Availability>(),
            Ok(Availability::DoNotDisturb)
        );
        assert_eq!(
            "doNotDisturb".parse::<Availability>(),
            Ok(Availability::DoNotDisturb)
        );
        assert_eq!("inACall".parse::<Activity>(), Ok(Activity::InACall));
        assert_eq!(Activity::InAConferenceCall.to_string(), "InAConferenceCall");
    }

    #[test]
    fn rejects_unknown_values_with_their_kind() {
        let err = "Sleeping".parse::<Availability>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "'Sleeping' is not a known availability value"
        );
        assert!("".parse::<Activity>().is_err());
        assert!("Available ".parse::<Activity>().is_err());
    }
}
