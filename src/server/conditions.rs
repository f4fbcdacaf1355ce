//! Tenant conditions (`serve --conditions FILE`): what a real tenant does to a client that the
//! polite reference server never does. Opt-in; without a file the server is unchanged.
//!
//! - **Throttling**: a fixed window of wall time (30 s by default) per app (the token's app id;
//!   under `--no-auth` one bucket) in the server's one tenant. Over the limit, `429` with
//!   `Retry-After` (whole seconds until the window frees) and Graph's `TooManyRequests` body.
//! - **Transient faults**: a fraction of requests answers `503` or `504` with `Retry-After: 1`,
//!   before any state is touched. The token endpoint and `/_conformance` are exempt.
//! - **Propagation lag**: a write is applied and acknowledged at once (with its sequenceNumber),
//!   but reads of that user show the view from just before the write until a delay drawn from
//!   the configured range has passed. The delay is time of the server's clock: under
//!   `--time-scale 600` a 2,000 ms lag lasts 3.3 ms of wall time, so that a sped-up rehearsal
//!   keeps the lag in proportion to the API's own timers (the 5-minute fade); on a virtual clock
//!   it lasts until the clock is advanced past it. The pure model stays as it is and sequence
//!   numbers stay
//!   consistent: a reader sees an older, smaller sequenceNumber, never one the model did not
//!   give. Delaying the writes instead would have to predict the sequence number the write
//!   will get, and reorder them against other writes; a stale view needs neither.
//! - **Token lifetime**: `token_lifetime` (seconds) overrides the configuration's.
//!
//! `POST /_conformance/reset` clears every hidden write and every throttling window.
//!
//! Every draw comes from one RNG seeded by `seed`, so one order of requests gives one outcome.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{AppState, GraphError};
use crate::model::{PresenceView, UserId};

/// The conditions file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionsConfig {
    /// Seeds every random draw (faults, lag).
    pub seed: u64,
    /// Seconds an access token lives; overrides the server configuration's.
    pub token_lifetime: Option<u64>,
    pub throttle: Option<ThrottleConfig>,
    pub lag: Option<LagConfig>,
    pub faults: Option<FaultConfig>,
}

/// Requests allowed per app per window.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    pub limit: u32,
    /// The window in wall seconds (default 30).
    #[serde(default = "thirty")]
    pub window: u64,
}

fn thirty() -> u64 {
    30
}

/// The range a write's propagation delay is drawn from, in milliseconds of the server's clock
/// (wall milliseconds times `--time-scale` on a real clock; advanced time on a virtual one).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LagConfig {
    pub min_ms: u64,
    pub max_ms: u64,
}

/// The fraction (0..=1) of requests that fail with 503 or 504.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    pub rate: f64,
}

impl ConditionsConfig {
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let config: ConditionsConfig =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config
            .check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(f) = &self.faults
            && !(0.0..=1.0).contains(&f.rate)
        {
            return Err(format!("faults.rate must be within 0..=1, not {}", f.rate));
        }
        if let Some(l) = &self.lag
            && l.min_ms > l.max_ms
        {
            return Err("lag.min_ms is larger than lag.max_ms".into());
        }
        if let Some(t) = &self.throttle
            && (t.window == 0 || t.limit == 0)
        {
            return Err("throttle.limit and throttle.window must be positive".into());
        }
        Ok(())
    }
}

/// SplitMix64: small, seedable, and good enough for drawing faults and delays.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0.0..1.0`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A delay in `min_ms..=max_ms`.
    pub(crate) fn delay(&mut self, lag: &LagConfig) -> Duration {
        let span = lag.max_ms - lag.min_ms + 1;
        Duration::from_millis(lag.min_ms + self.next_u64() % span)
    }
}

/// One app's fixed window: the pure counter behind throttling. Times are wall milliseconds
/// since any origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Window {
    start_ms: u64,
    count: u32,
}

impl Window {
    /// Counts a request at `now_ms`; over `limit` in the window of `window_ms`, the whole
    /// seconds (at least 1) until the window frees.
    pub(crate) fn admit(&mut self, now_ms: u64, limit: u32, window_ms: u64) -> Result<(), u64> {
        if now_ms >= self.start_ms + window_ms || self.count == 0 {
            self.start_ms = now_ms;
            self.count = 0;
        }
        if self.count >= limit {
            let left = self.start_ms + window_ms - now_ms;
            return Err(left.div_ceil(1000).max(1));
        }
        self.count += 1;
        Ok(())
    }
}

/// A user's view as of before a write that readers do not see yet, until an instant of the
/// server's clock.
#[derive(Debug)]
struct Stale {
    view: PresenceView,
    until: Timestamp,
}

/// The live conditions of one server.
#[derive(Debug)]
pub struct Conditions {
    pub config: ConditionsConfig,
    origin: Instant,
    rng: Mutex<Rng>,
    windows: Mutex<HashMap<String, Window>>,
    stale: Mutex<HashMap<UserId, Stale>>,
}

/// What a request meets before it reaches the handlers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    Pass,
    Throttled { retry_after: u64 },
    Fault { status: u16 },
}

impl Conditions {
    pub fn new(config: ConditionsConfig) -> Self {
        Conditions {
            rng: Mutex::new(Rng::new(config.seed)),
            config,
            origin: Instant::now(),
            windows: Mutex::new(HashMap::new()),
            stale: Mutex::new(HashMap::new()),
        }
    }

    /// `POST /_conformance/reset`: no write stays hidden and every app's window starts afresh.
    pub(crate) fn reset(&self) {
        self.stale.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, Rng> {
        self.rng.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Faults first (they touch nothing, not even the window), then the app's window.
    pub(crate) fn gate(&self, app: &str, now: Instant) -> Gate {
        if let Some(faults) = &self.config.faults {
            let mut rng = self.rng();
            if rng.unit() < faults.rate {
                let status = if rng.next_u64().is_multiple_of(2) {
                    503
                } else {
                    504
                };
                return Gate::Fault { status };
            }
        }
        let Some(throttle) = &self.config.throttle else {
            return Gate::Pass;
        };
        let now_ms = now.saturating_duration_since(self.origin).as_millis() as u64;
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry(app.to_owned()).or_default();
        match window.admit(now_ms, throttle.limit, throttle.window * 1000) {
            Ok(()) => Gate::Pass,
            Err(retry_after) => Gate::Throttled { retry_after },
        }
    }

    /// Called with the view from just before a write at `now` (the server's clock): readers
    /// keep seeing it for a drawn delay of that clock (or, if an earlier write is still hidden,
    /// until the later of both delays).
    pub(crate) fn hide_write(&self, user: &UserId, before: PresenceView, now: Timestamp) {
        let Some(lag) = &self.config.lag else { return };
        let delay = SignedDuration::try_from(self.rng().delay(lag)).unwrap_or(SignedDuration::MAX);
        let until = now.saturating_add(delay).unwrap_or(now);
        let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        match stale.get_mut(user) {
            Some(s) if s.until > now => s.until = s.until.max(until),
            _ => {
                stale.insert(
                    user.clone(),
                    Stale {
                        view: before,
                        until,
                    },
                );
            }
        }
    }

    /// The view a reader gets at `now` (the server's clock): the stale one while a write is
    /// hidden, else `current`.
    pub fn visible(&self, user: &UserId, current: PresenceView, now: Timestamp) -> PresenceView {
        if self.config.lag.is_none() {
            return current;
        }
        let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        match stale.get(user) {
            Some(s) if s.until > now => s.view.clone(),
            Some(_) => {
                stale.remove(user);
                current
            }
            None => current,
        }
    }
}

/// Requests that conditions never touch: tokens and the control protocol.
fn exempt(path: &str) -> bool {
    path.starts_with("/_conformance") || path.ends_with("/oauth2/v2.0/token")
}

/// The gate before the handlers: a fault or a 429 for a request the conditions stop, or `None`
/// to let it through (always, without conditions).
pub(crate) fn admit(state: &AppState, request: &Request) -> Option<Response> {
    let conditions = state.conditions.as_ref()?;
    if exempt(request.uri().path()) {
        return None;
    }
    // A request without a valid token is the handlers' to refuse (401), and counts nowhere.
    let app = if state.config.no_auth {
        "*".to_owned()
    } else {
        state
            .tokens
            .authenticate(request.headers())
            .ok()?
            .app_id()?
            .to_owned()
    };
    match conditions.gate(&app, Instant::now()) {
        Gate::Pass => None,
        Gate::Throttled { retry_after } => Some(with_retry_after(
            GraphError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                format!(
                    "Too many requests from application {app} in this tenant. Retry after {retry_after} seconds."
                ),
            ),
            retry_after,
        )),
        Gate::Fault { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let code = if status == StatusCode::GATEWAY_TIMEOUT {
                "GatewayTimeout"
            } else {
                "ServiceNotAvailable"
            };
            Some(with_retry_after(
                GraphError::new(status, code, "The service is temporarily unavailable."),
                1,
            ))
        }
    }
}

fn with_retry_after(error: GraphError, seconds: u64) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_limit_then_says_when_it_frees() {
        let mut w = Window::default();
        for t in 0..3 {
            assert_eq!(w.admit(1000 + t, 3, 30_000), Ok(()));
        }
        assert_eq!(w.admit(1003, 3, 30_000), Err(30));
        assert_eq!(w.admit(29_500, 3, 30_000), Err(2));
        assert_eq!(w.admit(30_999, 3, 30_000), Err(1));
        assert_eq!(w.admit(31_000, 3, 30_000), Ok(()));
    }

    #[test]
    fn draws_are_deterministic_and_in_range() {
        let lag = LagConfig {
            min_ms: 10,
            max_ms: 20,
        };
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            let d = a.delay(&lag);
            assert_eq!(d, b.delay(&lag));
            assert!((10..=20).contains(&d.as_millis()));
            let u = a.unit();
            assert_eq!(u, b.unit());
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn the_fault_rate_is_about_the_configured_fraction() {
        let conditions = Conditions::new(ConditionsConfig {
            seed: 1,
            token_lifetime: None,
            throttle: None,
            lag: None,
            faults: Some(FaultConfig { rate: 0.05 }),
        });
        let now = Instant::now();
        let faults = (0..10_000)
            .filter(|_| conditions.gate("a", now) != Gate::Pass)
            .count();
        assert!((400..600).contains(&faults), "{faults}");
    }

    #[test]
    fn the_example_file_parses_with_graphs_limit() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/conditions/graph-like.toml");
        let config = ConditionsConfig::from_file(&path).unwrap();
        let throttle = config.throttle.unwrap();
        assert_eq!((throttle.limit, throttle.window), (1500, 30));
    }
}
