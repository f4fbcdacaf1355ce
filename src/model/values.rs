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
                // The PascalCase spelling, as nearly every client sends it, by one `match` on
                // the text; any other casing by comparing with each value in turn.
                match s {
                    $(stringify!($variant) => return Ok($name::$variant),)+
                    _ => {}
                }
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
    pub(crate) const OFFLINE: PresenceState =
        PresenceState::new(Availability::Offline, Activity::Offline);
}

impl fmt::Display for PresenceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.availability, self.activity)
    }
}

/// An id as the store keeps it. Graph's ids are GUIDs: one in its canonical text form (36
/// characters, lower case, hyphenated) is held as its 16 bytes, without an allocation, and written
/// back to exactly that text. Any other text (a non-canonical spelling, a name in a test) is kept as
/// it came. So equality, hashing and order are those of the text, while a million users with two
/// sessions each hold no id on the heap.
#[derive(Clone, PartialEq, Eq)]
enum CompactId {
    Guid([u8; 16]),
    Text(Arc<str>),
}

/// A GUID is hashed as one 128-bit word (one call into the hasher, where the derived `Hash`
/// made three: the variant, the length, the bytes); the store hashes an id twice on every write.
/// Equal ids hash equally: a GUID's bytes and another text never compare equal.
impl std::hash::Hash for CompactId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            CompactId::Guid(bytes) => state.write_u128(u128::from_le_bytes(*bytes)),
            CompactId::Text(text) => text.hash(state),
        }
    }
}

/// The length of a GUID's canonical text form.
const GUID_LEN: usize = 36;
const GUID_HYPHENS: [usize; 4] = [8, 13, 18, 23];

impl CompactId {
    fn new(id: &str) -> Self {
        match parse_canonical_guid(id) {
            Some(bytes) => CompactId::Guid(bytes),
            None => CompactId::Text(Arc::from(id)),
        }
    }

    fn text(&self) -> IdStr<'_> {
        match self {
            CompactId::Guid(bytes) => IdStr(IdStrRepr::Guid(format_guid(bytes))),
            CompactId::Text(text) => IdStr(IdStrRepr::Text(text)),
        }
    }
}

impl Ord for CompactId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            // Lower-case hex at fixed positions sorts as the bytes do.
            (CompactId::Guid(a), CompactId::Guid(b)) => a.cmp(b),
            _ => self.text().cmp(&other.text()),
        }
    }
}

impl PartialOrd for CompactId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The 16 bytes of `text` when it is a GUID in canonical form (lower case, hyphenated), else `None`.
fn parse_canonical_guid(text: &str) -> Option<[u8; 16]> {
    static LOWER_CASE: [u8; 256] = nibbles(false);
    parse_guid(text, &LOWER_CASE)
}

/// The 16 bytes of `text` when it is a hyphenated GUID in either case (as Graph compares user
/// object ids), else `None`.
pub(crate) fn parse_guid_any_case(text: &str) -> Option<[u8; 16]> {
    static EITHER_CASE: [u8; 256] = nibbles(true);
    parse_guid(text, &EITHER_CASE)
}

/// Marks a byte that is no hex digit in [`nibbles`]: it has a bit a digit's value never has.
const NOT_HEX: u8 = 0xf0;

/// Each byte's value as a hex digit (lower case, and upper case when asked), else `NOT_HEX`.
const fn nibbles(upper_too: bool) -> [u8; 256] {
    let mut table = [NOT_HEX; 256];
    let mut c = 0;
    while c < 10 {
        table[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        table[b'a' as usize + c] = 10 + c as u8;
        if upper_too {
            table[b'A' as usize + c] = 10 + c as u8;
        }
        c += 1;
    }
    table
}

/// The 36-character hyphenated form read with `table`. Whether every digit is one is checked
/// once, after the loop: a table entry with a high bit set spoils the whole.
fn parse_guid(text: &str, table: &[u8; 256]) -> Option<[u8; 16]> {
    let text: &[u8; GUID_LEN] = text.as_bytes().try_into().ok()?;
    if GUID_HYPHENS.iter().any(|&i| text[i] != b'-') {
        return None;
    }
    let mut bytes = [0u8; 16];
    let mut spoiled = 0;
    for (byte, at) in bytes.iter_mut().zip(GUID_DIGITS_AT) {
        let (high, low) = (
            table[usize::from(text[at])],
            table[usize::from(text[at + 1])],
        );
        spoiled |= high | low;
        *byte = (high << 4) | low;
    }
    (spoiled & NOT_HEX == 0).then_some(bytes)
}

/// Where each byte of a GUID has its two digits in the canonical text.
const GUID_DIGITS_AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// Each byte's two hex digits, from `digits` (the sixteen of one case).
pub(crate) const fn hex_pairs(digits: &[u8; 16]) -> [[u8; 2]; 256] {
    let mut table = [[0; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [digits[b >> 4], digits[b & 0xf]];
        b += 1;
    }
    table
}

/// A GUID's canonical text: lower-case hex, hyphenated.
pub(crate) fn format_guid(bytes: &[u8; 16]) -> [u8; GUID_LEN] {
    static PAIRS: [[u8; 2]; 256] = hex_pairs(b"0123456789abcdef");
    let mut out = [b'-'; GUID_LEN];
    for (byte, at) in bytes.iter().zip(GUID_DIGITS_AT) {
        let [high, low] = PAIRS[usize::from(*byte)];
        out[at] = high;
        out[at + 1] = low;
    }
    out
}

/// An id's text, borrowed, or written out on the stack from a GUID's bytes. Derefs to `str`.
#[derive(Clone, Copy)]
pub struct IdStr<'a>(IdStrRepr<'a>);

#[derive(Clone, Copy)]
enum IdStrRepr<'a> {
    Guid([u8; GUID_LEN]),
    Text(&'a str),
}

impl std::ops::Deref for IdStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            // Only ever built by `format_guid`: ASCII hex digits and hyphens.
            IdStrRepr::Guid(text) => std::str::from_utf8(text).unwrap_or_default(),
            IdStrRepr::Text(text) => text,
        }
    }
}

impl PartialEq for IdStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for IdStr<'_> {}

impl PartialOrd for IdStr<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdStr<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl PartialEq<str> for IdStr<'_> {
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

impl PartialEq<&str> for IdStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

impl fmt::Display for IdStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for IdStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for IdStr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

/// The id of a user (a directory object id). Cheap to clone: a GUID is 16 bytes inline, other
/// text is shared.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(CompactId);

impl UserId {
    pub fn new(id: &str) -> Self {
        UserId(CompactId::new(id))
    }

    /// The user whose object id is this GUID (its canonical text is lower case, hyphenated).
    pub(crate) fn from_guid(bytes: [u8; 16]) -> Self {
        UserId(CompactId::Guid(bytes))
    }

    /// The id as it was given (a GUID in canonical form comes back exactly as it was written).
    pub fn as_str(&self) -> IdStr<'_> {
        self.0.text()
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UserId").field(&&*self.as_str()).finish()
    }
}

/// The id of an application's presence session: by Graph's rule, the application (client) id.
/// Cheap to clone: a GUID is 16 bytes inline, other text is shared.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(CompactId);

impl SessionId {
    pub fn new(id: &str) -> Self {
        SessionId(CompactId::new(id))
    }

    /// The id as it was given (a GUID in canonical form comes back exactly as it was written).
    pub fn as_str(&self) -> IdStr<'_> {
        self.0.text()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionId").field(&&*self.as_str()).finish()
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

    #[test]
    fn canonical_guids_are_held_as_bytes_and_written_back_exactly() {
        let text = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        let id = UserId::new(text);
        assert!(matches!(id.0, CompactId::Guid(_)));
        assert_eq!(id.as_str(), text);
        assert_eq!(id.to_string(), text);
        assert_eq!(format!("{id:?}"), format!("UserId({text:?})"));
        assert_eq!(
            id,
            UserId::from_guid(uuid::Uuid::parse_str(text).unwrap().into_bytes())
        );
        assert_eq!(
            SessionId::new(text).to_string(),
            text,
            "session ids are held the same way"
        );
    }

    proptest::proptest! {
        /// The table parser and the fixed-position writer agree with the uuid crate on every
        /// GUID, and a single non-hex digit anywhere makes the text no GUID.
        #[test]
        fn guids_round_trip_as_the_uuid_crate_writes_them(
            bytes in proptest::prelude::any::<[u8; 16]>(),
            at in 0usize..GUID_LEN,
            other in proptest::prelude::any::<u8>(),
        ) {
            let text = uuid::Uuid::from_bytes(bytes).hyphenated().to_string();
            let written = format_guid(&bytes);
            proptest::prop_assert_eq!(written.as_slice(), text.as_bytes());
            proptest::prop_assert_eq!(parse_canonical_guid(&text), Some(bytes));
            let mut changed = text.clone().into_bytes();
            changed[at] = other;
            let still_hex = if GUID_HYPHENS.contains(&at) {
                other == b'-'
            } else {
                other.is_ascii_digit() || (b'a'..=b'f').contains(&other)
            };
            let parsed = String::from_utf8(changed).ok().and_then(|t| parse_canonical_guid(&t));
            proptest::prop_assert_eq!(parsed.is_some(), still_hex);
            // Upper case: a user object id in the path, not a canonical (stored-as-bytes) id.
            let upper = text.to_ascii_uppercase();
            proptest::prop_assert_eq!(parse_guid_any_case(&upper), Some(bytes));
            proptest::prop_assert_eq!(parse_guid_any_case(&text), Some(bytes));
            let has_letter = upper.bytes().any(|b| b.is_ascii_uppercase());
            proptest::prop_assert_eq!(parse_canonical_guid(&upper).is_some(), !has_letter);
        }
    }

    #[test]
    fn other_text_is_kept_as_it_came_and_never_equals_a_guid() {
        for text in [
            "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
            "{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}",
            "0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d",
            "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g",
            "0a1b2c3d-4e5f-4a6b-8c7d_9e0f1a2b3c4d",
            "alice",
            "",
        ] {
            let id = UserId::new(text);
            assert!(matches!(id.0, CompactId::Text(_)), "{text}");
            assert_eq!(id.as_str(), text);
            assert_ne!(id, UserId::new("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"));
        }
    }

    #[test]
    fn ids_order_as_their_text() {
        let texts = [
            "00000000-0000-4000-8000-000000000001",
            "0000000f-0000-4000-8000-000000000000",
            "0000000F-0000-4000-8000-000000000000",
            "a0000000-0000-4000-8000-000000000000",
            "alice",
            "b",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
        ];
        let mut ids: Vec<UserId> = texts.iter().rev().map(|t| UserId::new(t)).collect();
        ids.sort();
        let mut sorted = texts.to_vec();
        sorted.sort();
        let back: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        assert_eq!(back, sorted);
    }
}
