//! The server's presence clock: virtual (moved only by the control protocol, so suites run in
//! milliseconds) or real (wall time, optionally sped up with `--time-scale`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

/// Where a virtual clock starts, and returns to on reset: a Monday morning.
pub use crate::model::VIRTUAL_EPOCH;

/// The instant presence rules are evaluated at.
#[derive(Debug)]
pub enum PresenceClock {
    Virtual(VirtualClock),
    Real(RealClock),
}

impl PresenceClock {
    pub fn virtual_at_epoch() -> Self {
        let start = VIRTUAL_EPOCH
            .parse()
            .unwrap_or_else(|e| unreachable!("VIRTUAL_EPOCH is a constant: {e}"));
        PresenceClock::Virtual(VirtualClock::new(start))
    }

    pub fn real(time_scale: f64) -> Self {
        PresenceClock::Real(RealClock::new(time_scale))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            PresenceClock::Virtual(c) => c.now(),
            PresenceClock::Real(c) => c.now(),
        }
    }

    pub(crate) fn as_virtual(&self) -> Option<&VirtualClock> {
        match self {
            PresenceClock::Virtual(c) => Some(c),
            PresenceClock::Real(_) => None,
        }
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct VirtualClock {
    start: Timestamp,
    elapsed_micros: AtomicI64,
}

impl VirtualClock {
    pub fn new(start: Timestamp) -> Self {
        VirtualClock {
            start,
            elapsed_micros: AtomicI64::new(0),
        }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = SignedDuration::from_micros(self.elapsed_micros.load(Ordering::SeqCst));
        self.start.checked_add(elapsed).unwrap_or(Timestamp::MAX)
    }

    /// Moves the clock forward; refuses to go back or past the last representable instant.
    pub fn advance(&self, by: SignedDuration) -> Result<Timestamp, ClockError> {
        if by.is_negative() {
            return Err(ClockError::Backwards);
        }
        let micros = i64::try_from(by.as_micros()).map_err(|_| ClockError::TooFar)?;
        let mut current = self.elapsed_micros.load(Ordering::SeqCst);
        loop {
            let next = current.checked_add(micros).ok_or(ClockError::TooFar)?;
            self.start
                .checked_add(SignedDuration::from_micros(next))
                .map_err(|_| ClockError::TooFar)?;
            match self.elapsed_micros.compare_exchange(
                current,
                next,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(self.now()),
                Err(actual) => current = actual,
            }
        }
    }

    pub fn reset(&self) {
        self.elapsed_micros.store(0, Ordering::SeqCst);
    }
}

/// Why the virtual clock refused to move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("the clock only moves forward")]
    Backwards,
    #[error("that would move the clock past the last representable instant")]
    TooFar,
}

/// Wall time since the server started, multiplied by a scale (60 = a minute per second).
#[derive(Debug)]
pub struct RealClock {
    origin: Timestamp,
    started: Instant,
    scale: f64,
}

impl RealClock {
    pub fn new(scale: f64) -> Self {
        RealClock {
            origin: Timestamp::now(),
            started: Instant::now(),
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    pub fn now(&self) -> Timestamp {
        let scaled = self.started.elapsed().as_secs_f64() * self.scale;
        let elapsed = SignedDuration::try_from_secs_f64(scaled).unwrap_or(SignedDuration::MAX);
        self.origin.checked_add(elapsed).unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_advances_resets_and_refuses_to_go_back() {
        let clock = PresenceClock::virtual_at_epoch();
        let v = clock.as_virtual().unwrap();
        let t0 = clock.now();
        assert_eq!(t0.to_string(), VIRTUAL_EPOCH);
        let t1 = v.advance(SignedDuration::from_mins(5)).unwrap();
        assert_eq!(t1.duration_since(t0), SignedDuration::from_mins(5));
        assert_eq!(
            v.advance(SignedDuration::from_secs(-1)),
            Err(ClockError::Backwards)
        );
        assert_eq!(v.advance(SignedDuration::MAX), Err(ClockError::TooFar));
        v.reset();
        assert_eq!(clock.now(), t0);
    }

    #[test]
    fn real_clock_runs_at_its_scale() {
        let clock = RealClock::new(600.0);
        let a = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let gained = clock.now().duration_since(a);
        assert!(gained >= SignedDuration::from_secs(12), "{gained:?}");
    }
}
