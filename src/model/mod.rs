//! The pure presence model: values, documented rules, one user's sessions and their aggregation,
//! and the store of all users. No HTTP and no clock: every call takes the instant it happens at.
//! The reference server and the test oracle both use it.

pub mod duration;
pub mod oracle;
pub mod rules;
pub mod store;
pub mod timezones;
pub mod user;
pub mod values;

pub use duration::{DurationError, iso, parse_edm_duration};
pub use rules::{
    Profile, RuleViolation, Semantics, SessionRequest, preferred_request, session_request,
};
pub use store::PresenceStore;
pub use timezones::windows_to_iana;
pub use user::{
    AppSession, Command, CommandError, ItemBody, PreferredPresence, PresenceView, SequenceNumber,
    StatusExpiry, StatusMessage, StatusMessageInput, UserPresence, WorkLocation,
    WorkLocationLayers, WorkLocationSource,
};
/// Where a virtual clock starts: a Monday morning, so that offsets read as times of day.
pub const VIRTUAL_EPOCH: &str = "2026-01-05T09:00:00Z";

pub use values::{Activity, Availability, IdStr, PresenceState, SessionId, UnknownValue, UserId};
pub(crate) use values::{format_guid, parse_guid_any_case};
