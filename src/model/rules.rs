//! The documented rules of Graph presence, and our interpretations where the documents are silent or
//! contradict each other. Every number and every allowed pair lives here and nowhere else; the
//! `docs/interpretations.md` mirrors this file.

use jiff::SignedDuration;

use super::duration::{DurationError, parse_edm_duration};
use super::values::{Activity, Availability, PresenceState, UnknownValue};
use crate::operation::Operation;
pub use crate::operation::Profile;

use Activity as Act;
use Availability as Av;

/// The rules of each API version, beside its definition in the operation table.
impl Profile {
    /// The (availability, activity) pairs setPresence accepts.
    pub(crate) fn session_pairs(self) -> &'static [PresenceState] {
        const CURRENT: &[PresenceState] = &[
            PresenceState::new(Av::Available, Act::Available),
            PresenceState::new(Av::Busy, Act::InACall),
            PresenceState::new(Av::Busy, Act::InAConferenceCall),
            PresenceState::new(Av::Away, Act::Away),
            PresenceState::new(Av::DoNotDisturb, Act::Presenting),
        ];
        match self {
            Profile::V1_0 | Profile::Beta => CURRENT,
            // The 2021 page: "DoNotDisturb (currently not supported for set presence)".
            Profile::Beta2021 => &CURRENT[..4],
        }
    }

    /// The range setPresence's expirationDuration must fall in, both ends included. The range
    /// PT5M..PT4H came with microsoft-graph-docs PR 15124 (December 2021); the June 2021 beta page
    /// gives none, so that profile takes any positive duration the grammar allows.
    pub(crate) fn session_expiration_range(self) -> (SignedDuration, SignedDuration) {
        match self {
            Profile::V1_0 | Profile::Beta => (SESSION_EXPIRATION_MIN, SESSION_EXPIRATION_MAX),
            Profile::Beta2021 => (UNDOCUMENTED_EXPIRATION_MIN, super::duration::LONGEST),
        }
    }

    /// The `workLocationType` values setManualLocation and setAutomaticLocation accept. v1.0:
    /// "The possible values are: office, remote, timeOff"; the beta page also lists `unspecified`
    /// (and the `unknownFutureValue` sentinel of evolvable enums, which is no location: refused).
    pub(crate) fn work_location_types(self) -> &'static [&'static str] {
        match self {
            Profile::V1_0 => &["office", "remote", "timeOff"],
            Profile::Beta | Profile::Beta2021 => &["unspecified", "office", "remote", "timeOff"],
        }
    }

    /// The (availability, activity) pairs setUserPreferredPresence accepts (all profiles).
    pub(crate) fn preferred_pairs(self) -> &'static [PresenceState] {
        const PREFERRED: &[PresenceState] = &[
            PresenceState::new(Av::Available, Act::Available),
            PresenceState::new(Av::Busy, Act::Busy),
            PresenceState::new(Av::DoNotDisturb, Act::DoNotDisturb),
            PresenceState::new(Av::BeRightBack, Act::BeRightBack),
            PresenceState::new(Av::Away, Act::Away),
            PresenceState::new(Av::Offline, Act::OffWork),
        ];
        PREFERRED
    }
}

/// An Available session shows Available/AvailableInactive from this age on ("in five minutes").
pub(crate) const FADE_TO_INACTIVE: SignedDuration = SignedDuration::from_mins(5);
/// ... and Away/Away from this age on ("then Away/Away in another five minutes").
pub(crate) const FADE_TO_AWAY: SignedDuration = SignedDuration::from_mins(10);

/// The time and precedence rules that shape what a user shows: the documented ones are
/// [`Semantics::GRAPH`]. They are data so that a test can build a deliberately wrong server (a
/// fade a minute late, a swapped precedence) and prove that the suite notices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Semantics {
    pub fade_to_inactive: SignedDuration,
    pub fade_to_away: SignedDuration,
    /// Session availabilities from the highest precedence to the lowest.
    pub precedence: [Availability; 4],
}

impl Semantics {
    pub const GRAPH: Semantics = Semantics {
        fade_to_inactive: FADE_TO_INACTIVE,
        fade_to_away: FADE_TO_AWAY,
        precedence: [Av::DoNotDisturb, Av::Busy, Av::Available, Av::Away],
    };

    /// Higher ranks win; availabilities outside the precedence list rank last.
    pub(crate) fn rank(&self, availability: Availability) -> u8 {
        self.precedence
            .iter()
            .position(|a| *a == availability)
            .map_or(0, |i| 4 - i as u8)
    }
}

impl Default for Semantics {
    fn default() -> Self {
        Semantics::GRAPH
    }
}

/// setPresence without expirationDuration: "a default expiration of 5 minutes is applied". The
/// June 2021 beta page names no default; that profile keeps this one (our choice).
pub(crate) const SESSION_EXPIRATION_DEFAULT: SignedDuration = SignedDuration::from_mins(5);
/// "The valid duration range is from 5 to 240 minutes (PT5M to PT4H)", both ends included.
pub(crate) const SESSION_EXPIRATION_MIN: SignedDuration = SignedDuration::from_mins(5);
pub(crate) const SESSION_EXPIRATION_MAX: SignedDuration = SignedDuration::from_hours(4);

/// Interpretation: where no range is documented (setUserPreferredPresence; setPresence on the
/// June 2021 beta page), a duration must still be positive: at least one second.
pub(crate) const UNDOCUMENTED_EXPIRATION_MIN: SignedDuration = SignedDuration::from_secs(1);

/// Interpretation: setUserPreferredPresence documents defaults but no range. We accept any
/// positive duration up to 30 days so that every expiry stays a sane instant.
pub(crate) const PREFERRED_EXPIRATION_MAX: SignedDuration = SignedDuration::from_hours(30 * 24);

/// "Maximum of 650 user IDs are supported per API request" (getPresencesByUserId).
pub(crate) const MAX_IDS_PER_BATCH: usize = 650;

/// setUserPreferredPresence without expirationDuration: 1 day for Busy and DoNotDisturb, 7 days
/// for every other availability.
pub(crate) fn preferred_default_expiration(availability: Availability) -> SignedDuration {
    match availability {
        Av::Busy | Av::DoNotDisturb => SignedDuration::from_hours(24),
        _ => SignedDuration::from_hours(7 * 24),
    }
}

/// A request that breaks a documented rule. The server answers each with 400 InvalidArgument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error(transparent)]
    UnknownValue(#[from] UnknownValue),
    #[error(
        "{operation} does not support the availability/activity pair {pair}; supported: {supported}"
    )]
    UnsupportedPair {
        operation: Operation,
        pair: PresenceState,
        supported: String,
    },
    #[error("expirationDuration: {0}")]
    Duration(#[from] DurationError),
}

fn check_pair(
    operation: Operation,
    allowed: &[PresenceState],
    availability: &str,
    activity: &str,
) -> Result<PresenceState, RuleViolation> {
    let pair = PresenceState::new(availability.parse()?, activity.parse()?);
    if allowed.contains(&pair) {
        Ok(pair)
    } else {
        let supported = allowed
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Err(RuleViolation::UnsupportedPair {
            operation,
            pair,
            supported,
        })
    }
}

fn check_range(
    value: SignedDuration,
    text: &str,
    min: SignedDuration,
    max: SignedDuration,
) -> Result<SignedDuration, RuleViolation> {
    if value < min || value > max {
        return Err(DurationError::OutOfRange {
            input: text.to_owned(),
            min,
            max,
        }
        .into());
    }
    Ok(value)
}

/// A validated setPresence: the state the session starts in and how long it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionRequest {
    pub state: PresenceState,
    pub expiration: SignedDuration,
}

/// How one write action's arguments are validated.
struct Validation {
    operation: Operation,
    pairs: &'static [PresenceState],
    default: fn(Availability) -> SignedDuration,
    min: SignedDuration,
    max: SignedDuration,
}

impl Validation {
    fn apply(
        &self,
        availability: &str,
        activity: &str,
        expiration: Option<&str>,
    ) -> Result<SessionRequest, RuleViolation> {
        let state = check_pair(self.operation, self.pairs, availability, activity)?;
        let expiration = match expiration {
            None => (self.default)(state.availability),
            Some(text) => check_range(parse_edm_duration(text)?, text, self.min, self.max)?,
        };
        Ok(SessionRequest { state, expiration })
    }
}

/// Validates setPresence's arguments as the given profile documents them.
pub fn session_request(
    profile: Profile,
    availability: &str,
    activity: &str,
    expiration: Option<&str>,
) -> Result<SessionRequest, RuleViolation> {
    let (min, max) = profile.session_expiration_range();
    Validation {
        operation: Operation::SetPresence,
        pairs: profile.session_pairs(),
        default: |_| SESSION_EXPIRATION_DEFAULT,
        min,
        max,
    }
    .apply(availability, activity, expiration)
}

/// Validates setUserPreferredPresence's arguments and applies the documented default lifetime.
pub fn preferred_request(
    profile: Profile,
    availability: &str,
    activity: &str,
    expiration: Option<&str>,
) -> Result<SessionRequest, RuleViolation> {
    Validation {
        operation: Operation::SetUserPreferredPresence,
        pairs: profile.preferred_pairs(),
        default: preferred_default_expiration,
        min: UNDOCUMENTED_EXPIRATION_MIN,
        max: PREFERRED_EXPIRATION_MAX,
    }
    .apply(availability, activity, expiration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_accepts_exactly_the_five_documented_session_pairs() {
        let accepted: Vec<PresenceState> = Availability::ALL
            .iter()
            .flat_map(|&a| Activity::ALL.iter().map(move |&b| (a, b)))
            .filter(|(a, b)| session_request(Profile::V1_0, a.as_str(), b.as_str(), None).is_ok())
            .map(|(a, b)| PresenceState::new(a, b))
            .collect();
        assert_eq!(accepted.len(), 5, "{accepted:?}");
        assert!(
            accepted
                .iter()
                .all(|p| Profile::V1_0.session_pairs().contains(p))
        );
    }

    #[test]
    fn beta_2021_has_no_do_not_disturb() {
        let err = session_request(Profile::Beta2021, "DoNotDisturb", "Presenting", None);
        assert!(matches!(err, Err(RuleViolation::UnsupportedPair { .. })));
        assert!(session_request(Profile::Beta, "DoNotDisturb", "Presenting", None).is_ok());
        assert!(session_request(Profile::Beta2021, "Busy", "InAConferenceCall", None).is_ok());
    }

    #[test]
    fn beta_2021_has_no_range() {
        let exp = |p, d| session_request(p, "Busy", "InACall", d).map(|r| r.expiration);
        assert_eq!(
            exp(Profile::Beta2021, Some("PT1M")),
            Ok(SignedDuration::from_mins(1))
        );
        assert_eq!(
            exp(Profile::Beta2021, Some("PT8H")),
            Ok(SignedDuration::from_hours(8))
        );
        assert_eq!(exp(Profile::Beta2021, None), Ok(SESSION_EXPIRATION_DEFAULT));
        assert!(exp(Profile::Beta2021, Some("PT0S")).is_err());
        assert!(exp(Profile::Beta2021, Some("-PT5M")).is_err());
        assert!(exp(Profile::Beta2021, Some("5m")).is_err());
        assert!(exp(Profile::Beta, Some("PT1M")).is_err());
        assert!(exp(Profile::V1_0, Some("PT8H")).is_err());
    }

    #[test]
    fn preferred_pairs_are_six_and_busy_busy_is_not_a_session_pair() {
        for pair in Profile::V1_0.preferred_pairs() {
            let (a, b) = (pair.availability.as_str(), pair.activity.as_str());
            assert!(
                preferred_request(Profile::V1_0, a, b, None).is_ok(),
                "{pair}"
            );
        }
        assert!(session_request(Profile::V1_0, "Busy", "Busy", None).is_err());
        assert!(preferred_request(Profile::V1_0, "Busy", "InACall", None).is_err());
    }

    #[test]
    fn session_expiration_default_and_both_bounds() {
        let ok = |d| session_request(Profile::V1_0, "Away", "Away", d).map(|r| r.expiration);
        assert_eq!(ok(None), Ok(SignedDuration::from_mins(5)));
        assert_eq!(ok(Some("PT5M")), Ok(SignedDuration::from_mins(5)));
        assert_eq!(ok(Some("PT4H")), Ok(SignedDuration::from_hours(4)));
        assert_eq!(ok(Some("PT240M")), Ok(SignedDuration::from_hours(4)));
        for out in ["PT4M59S", "PT4H0M1S", "PT4H0.5S", "P1D", "PT0S", "-PT5M"] {
            assert!(
                matches!(
                    ok(Some(out)),
                    Err(RuleViolation::Duration(DurationError::OutOfRange { .. }))
                ),
                "{out}"
            );
        }
        for bad in ["", "5m", "PT", "P", "PT5m", "banana", "PT1H30", "P1W"] {
            assert!(
                matches!(
                    ok(Some(bad)),
                    Err(RuleViolation::Duration(DurationError::Malformed { .. }))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn preferred_defaults_are_one_day_for_busy_and_dnd_else_seven() {
        let exp = |a: &str, b: &str| {
            preferred_request(Profile::V1_0, a, b, None)
                .unwrap()
                .expiration
        };
        assert_eq!(exp("Busy", "Busy"), SignedDuration::from_hours(24));
        assert_eq!(
            exp("DoNotDisturb", "DoNotDisturb"),
            SignedDuration::from_hours(24)
        );
        for (a, b) in [
            ("Available", "Available"),
            ("Away", "Away"),
            ("BeRightBack", "BeRightBack"),
            ("Offline", "OffWork"),
        ] {
            assert_eq!(exp(a, b), SignedDuration::from_hours(168), "{a}/{b}");
        }
    }

    #[test]
    fn precedence_order_is_dnd_busy_available_away() {
        let ranks: Vec<u8> = [Av::DoNotDisturb, Av::Busy, Av::Available, Av::Away]
            .into_iter()
            .map(|a| Semantics::GRAPH.rank(a))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] > w[1]), "{ranks:?}");
    }
}
