//! Strict parsing of OData `Edm.Duration` values (ISO 8601 durations as Graph accepts them).
//!
//! jiff's own parsers are lenient (they accept `5m`, lower case, fractional minutes), so the
//! grammar is checked first with the pattern Microsoft's OpenAPI publishes for `expirationDuration`,
//! minus the bare `P`/`PT` it lets through; jiff then does the arithmetic.

use std::sync::LazyLock;

use jiff::{SignedDuration, SpanRelativeTo, fmt::temporal::SpanParser};
use regex::Regex;

/// The upstream pattern `^-?P([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+([.][0-9]+)?S)?)?$`, with the
/// empty date and empty time parts forbidden.
static EDM_DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^-?P(?:[0-9]+D(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?|T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)$")
        .unwrap_or_else(|e| unreachable!("the Edm.Duration pattern is a constant: {e}"))
});

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error(
        "'{input}' is not an ISO 8601 duration such as PT30M (days, hours, minutes and seconds only, upper case)"
    )]
    Malformed { input: String },
    #[error("'{input}' is longer than any duration this service handles (1,000 years)")]
    TooLong { input: String },
    #[error("'{input}' is out of range; the valid range is {} to {}", iso(*min), iso(*max))]
    OutOfRange {
        input: String,
        min: SignedDuration,
        max: SignedDuration,
    },
}

/// Parses an `Edm.Duration`; the result may be negative or zero (range checks are the caller's).
pub fn parse_edm_duration(input: &str) -> Result<SignedDuration, DurationError> {
    match parse_common(input) {
        Some(duration) => Ok(duration),
        None => parse_any(input),
    }
}

/// The shapes clients send on every setPresence (`PT5M`, `PT1H`, `PT1H30M`, `PT90S`): `PT`
/// then hours, minutes and seconds of at most four digits each, in that order, at least one.
/// Every such text matches the grammar, and jiff reads it as exactly this sum, far from any of
/// its limits (a test checks both paths agree on every shape). Anything else: `None`.
fn parse_common(input: &str) -> Option<SignedDuration> {
    let mut rest = input.strip_prefix("PT")?.as_bytes();
    let mut seconds = 0i64;
    let mut units = [(b'H', 3600), (b'M', 60), (b'S', 1)].iter();
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 4 {
            return None;
        }
        let value = rest[..digits]
            .iter()
            .fold(0i64, |v, c| v * 10 + i64::from(c - b'0'));
        let designator = *rest.get(digits)?;
        let &(_, unit) = units.find(|(d, _)| *d == designator)?;
        seconds += value * unit;
        rest = &rest[digits + 1..];
    }
    (input.len() > 2).then(|| SignedDuration::from_secs(seconds))
}

/// Any text: the published grammar, then jiff's arithmetic.
fn parse_any(input: &str) -> Result<SignedDuration, DurationError> {
    let malformed = || DurationError::Malformed {
        input: input.to_owned(),
    };
    if !EDM_DURATION.is_match(input) || input.ends_with('T') {
        return Err(malformed());
    }
    let span = SpanParser::new()
        .parse_span(input)
        .map_err(|_| malformed())?;
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| malformed())?;
    // Seconds alone can spell more days than a span may hold; such a duration could not be
    // written back as ISO 8601 (found by the fuzzer: PT743104821003.2S).
    if duration.abs() > LONGEST {
        return Err(DurationError::TooLong {
            input: input.to_owned(),
        });
    }
    Ok(duration)
}

/// Far beyond every expiry the rules allow, and well inside what ISO 8601 spans can express.
pub(crate) const LONGEST: SignedDuration = SignedDuration::from_hours(24 * 366 * 1000);

/// Formats a duration the way Graph documents them (`PT5M`, `PT4H`, `P1D`).
pub fn iso(d: SignedDuration) -> String {
    let mut secs = d.as_secs();
    let mut out = String::new();
    if secs < 0 || d.subsec_nanos() < 0 {
        out.push('-');
        secs = secs.saturating_abs();
    }
    out.push('P');
    let (days, rem) = (secs / 86_400, secs % 86_400);
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    let nanos = d.subsec_nanos().unsigned_abs();
    if rem > 0 || nanos > 0 || days == 0 {
        out.push('T');
        let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || nanos > 0 || (h == 0 && m == 0) {
            if nanos > 0 {
                let frac = format!("{nanos:09}");
                out.push_str(&format!("{s}.{}S", frac.trim_end_matches('0')));
            } else {
                out.push_str(&format!("{s}S"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_edm_duration_grammar() {
        let secs = |s| parse_edm_duration(s).map(|d| d.as_secs());
        assert_eq!(secs("PT5M"), Ok(300));
        assert_eq!(secs("PT4H"), Ok(14_400));
        assert_eq!(secs("PT1H30M"), Ok(5_400));
        assert_eq!(secs("P1D"), Ok(86_400));
        assert_eq!(secs("P1DT1S"), Ok(86_401));
        assert_eq!(secs("PT299.5S"), Ok(299));
        assert_eq!(secs("-PT5M"), Ok(-300));
        assert_eq!(secs("PT0S"), Ok(0));
    }

    #[test]
    fn the_common_shapes_read_as_the_full_parser_reads_them() {
        let values = [
            "0", "1", "5", "07", "59", "60", "90", "240", "999", "1440", "9999",
        ];
        let mut checked = 0;
        for h in std::iter::once(None).chain(values.iter().map(Some)) {
            for m in std::iter::once(None).chain(values.iter().map(Some)) {
                for s in std::iter::once(None).chain(values.iter().map(Some)) {
                    let mut text = "PT".to_owned();
                    for (part, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
                        if let Some(v) = part {
                            text.push_str(v);
                            text.push(unit);
                        }
                    }
                    let common = parse_common(&text);
                    if text == "PT" {
                        assert_eq!(common, None);
                        continue;
                    }
                    assert_eq!(common.map(Ok), Some(parse_any(&text)), "{text}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 12 * 12 * 12 - 1);
        for other in [
            "PT", "PT5", "PT5m", "PT12345M", "PT1M1H", "PT1H1H", "PT5.5S", "P1D", "-PT5M", "PTM",
            "PT5MX", " PT5M",
        ] {
            assert_eq!(parse_common(other), None, "{other}");
        }
    }

    #[test]
    fn rejects_what_lenient_parsers_let_through() {
        for bad in [
            "", "P", "PT", "P1DT", "pt5m", "PT5m", "5m", "2h 30m", "PT5.5M", "P1W", "P1Y", "P1M",
            "PT1H30", " PT5M", "PT5M ", "PT-5M", "P1D1H", "PTS", "PT.5S",
        ] {
            assert!(
                matches!(
                    parse_edm_duration(bad),
                    Err(DurationError::Malformed { .. })
                ),
                "{bad:?} should be malformed"
            );
        }
    }

    #[test]
    fn huge_values_are_refused_not_overflowed() {
        assert!(parse_edm_duration("PT99999999999999999999H").is_err());
        assert!(parse_edm_duration("P9999999999D").is_err());
        // The fuzzer's find: more seconds than a span can hold as days.
        assert!(matches!(
            parse_edm_duration("PT000743104821003.2S"),
            Err(DurationError::TooLong { .. })
        ));
    }

    #[test]
    fn formats_round_trip() {
        for text in [
            "PT5M",
            "PT4H",
            "P1D",
            "P7D",
            "PT4M59S",
            "PT4H0.5S",
            "PT0S",
            "P1DT2H3M4S",
        ] {
            let d = parse_edm_duration(text).unwrap();
            assert_eq!(parse_edm_duration(&iso(d)), Ok(d), "{text} -> {}", iso(d));
        }
        assert_eq!(iso(SignedDuration::from_secs(14_401)), "PT4H1S");
    }
}
