//! A case session over HTTP: every target, the embedded one included, is driven through this, so
//! the code path under test is the same one third parties get. The single exchange below the
//! retries is a `Transport`: the network, or the embedded server's router in-process.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::transport::{Answer, Transport, form_body};
use super::{ClockMode, HttpRequest, HttpResponse, NoAnswer, TargetError, Traffic};
use crate::model::iso;

/// A client secret or password: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How a session gets bearer tokens.
#[derive(Clone, Debug)]
pub(crate) enum Credentials {
    /// The target takes no tokens.
    None,
    /// OAuth2 at a Microsoft-identity-platform-shaped token endpoint: client credentials for
    /// apps, the password grant for delegated users.
    TokenEndpoint {
        url: String,
        scope: String,
        /// App actor to (client id, secret).
        apps: BTreeMap<String, (String, Secret)>,
        /// User actor to (user principal name, password).
        users: BTreeMap<String, (String, Secret)>,
    },
}

/// Everything an HTTP session needs.
#[derive(Debug)]
pub(crate) struct SessionSettings {
    pub base_url: String,
    pub version_root: String,
    pub actor_ids: BTreeMap<String, String>,
    pub credentials: Credentials,
    pub clock: ClockMode,
    /// Real clock only: presence seconds per wall second on the target.
    pub time_scale: f64,
    /// Presence time a write may stay invisible to reads (the target's propagation).
    pub propagation: Duration,
    pub request_timeout: Duration,
}

struct CachedToken {
    token: String,
    refresh_at: Instant,
}

/// A case session that speaks HTTP to a base URL.
pub struct HttpSession {
    transport: Transport,
    settings: SessionSettings,
    tokens: HashMap<(String, Option<String>), CachedToken>,
    start: Timestamp,
    /// Virtual clock: how far this session has advanced it.
    advanced: SignedDuration,
    wall_start: Instant,
    traffic: Traffic,
    /// Real clock: wall time the case is behind its timeline because of retries, and the app
    /// and request that put it there.
    late: Duration,
    /// Why the case's next step cannot be judged, once it fell too far behind.
    late_by: Option<TargetError>,
    /// Whether retries count against the case's timeline (not for a target's own clean-up).
    keeps_timeline: bool,
}

#[derive(Deserialize)]
struct ClockBody {
    now: Timestamp,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: Option<u64>,
}

impl HttpSession {
    /// Connects over the network; with a virtual clock, resets the target and reads its clock.
    pub(crate) async fn open(settings: SessionSettings) -> Result<Self, TargetError> {
        let transport = Transport::network(settings.request_timeout).map_err(TargetError::Start)?;
        Self::open_with(settings, transport).await
    }

    /// Like [`HttpSession::open`], with the exchanges going through `transport`.
    pub(crate) async fn open_with(
        settings: SessionSettings,
        transport: Transport,
    ) -> Result<Self, TargetError> {
        let mut session = HttpSession {
            transport,
            settings,
            tokens: HashMap::new(),
            start: Timestamp::now(),
            advanced: SignedDuration::ZERO,
            wall_start: Instant::now(),
            traffic: Traffic::default(),
            late: Duration::ZERO,
            late_by: None,
            keeps_timeline: true,
        };
        match session.settings.clock {
            ClockMode::Virtual => {
                session.control("POST", "/_conformance/reset", None).await?;
                session.start = session.read_clock().await?;
            }
            // A sped-up clock runs ahead of ours: where it stands is the case's start, if the
            // target tells (a real tenant runs at x1 and does not).
            ClockMode::Real if session.settings.time_scale != 1.0 => {
                let sent = Instant::now();
                if let Ok(now) = session.read_clock().await {
                    // The target read its clock somewhere between sending and answering: the
                    // midpoint, uncertain by half the round trip, sped up.
                    let round_trip = sent.elapsed();
                    session.start = now;
                    session.wall_start = sent + round_trip / 2;
                    let uncertain = (round_trip / 2).mul_f64(session.settings.time_scale);
                    if uncertain > MAX_LATE {
                        session.late_by = Some(TargetError::Behind(format!(
                            "reading the target's clock took {} ms: at x{} the case's start is uncertain by {}",
                            round_trip.as_millis(),
                            session.settings.time_scale,
                            iso(SignedDuration::try_from(uncertain).unwrap_or(SignedDuration::MAX)),
                        )));
                    }
                }
            }
            ClockMode::Real => {}
        }
        Ok(session)
    }

    async fn read_clock(&self) -> Result<Timestamp, TargetError> {
        let clock = self.control("GET", "/_conformance/clock", None).await?;
        let body: ClockBody = serde_json::from_slice(&clock)
            .map_err(|e| TargetError::Control(format!("GET /_conformance/clock: {e}")))?;
        Ok(body.now)
    }

    /// For a session that replays no case (a target's clean-up): retries never put it behind.
    pub(crate) fn keep_no_timeline(&mut self) {
        self.keeps_timeline = false;
        self.late_by = None;
    }

    async fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<Vec<u8>, TargetError> {
        let url = format!("{}{path}", self.settings.base_url);
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| TargetError::Control(e.to_string()))?;
        let headers = match body {
            Some(_) => vec![("Content-Type".to_owned(), "application/json".to_owned())],
            None => Vec::new(),
        };
        let response = self
            .transport
            .exchange(
                &method,
                &url,
                &headers,
                body.map(String::into_bytes).unwrap_or_default(),
            )
            .await
            .map_err(|cause| TargetError::Transport {
                method: method.to_string(),
                path: path.to_owned(),
                cause,
            })?;
        let status = response.status();
        let bytes = response.into_body();
        if !status.is_success() {
            return Err(TargetError::Control(format!(
                "{method} {path} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )));
        }
        Ok(bytes)
    }

    async fn fetch_token(
        &self,
        app: &str,
        delegate: Option<&str>,
    ) -> Result<(String, u64), TargetError> {
        let actor = match delegate {
            Some(user) => format!("{app} for {user}"),
            None => app.to_owned(),
        };
        let fail = |cause: String| TargetError::Token {
            actor: actor.clone(),
            cause,
        };
        let Credentials::TokenEndpoint {
            url,
            scope,
            apps,
            users,
        } = &self.settings.credentials
        else {
            return Err(fail("the target takes no tokens".into()));
        };
        let (client_id, secret) = apps
            .get(app)
            .ok_or_else(|| fail("no app registration is mapped to this actor".into()))?;
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", client_id),
            ("client_secret", secret.expose()),
            ("scope", scope),
        ];
        if let Some(user) = delegate {
            let (upn, password) = users
                .get(user)
                .ok_or_else(|| fail(format!("no sign-in is mapped to user '{user}'")))?;
            form.extend([
                ("grant_type", "password"),
                ("username", upn),
                ("password", password.expose()),
            ]);
        } else {
            form.push(("grant_type", "client_credentials"));
        }
        let form_type = "application/x-www-form-urlencoded";
        let response = self
            .transport
            .exchange(
                &reqwest::Method::POST,
                url,
                &[("Content-Type".to_owned(), form_type.to_owned())],
                form_body(&form),
            )
            .await
            .map_err(|cause| TargetError::TokenUnanswered {
                actor: actor.clone(),
                cause,
            })?;
        let status = response.status();
        let bytes = response.into_body();
        if !status.is_success() {
            // The identity platform's error description never contains the secret; keep it short.
            let text: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
            return Err(fail(format!(
                "the token endpoint answered {status}: {text}"
            )));
        }
        let body: TokenBody = serde_json::from_slice(&bytes).map_err(|e| {
            fail(format!(
                "the token endpoint answered 200 without a token: {e}"
            ))
        })?;
        Ok((body.access_token, body.expires_in.unwrap_or(3600)))
    }
}

/// 429, 503 and 504 answers are retried this many times, after `Retry-After`.
const MAX_RETRIES: u32 = 3;
/// On a real clock, retries may put a case behind its timeline by this much presence time
/// before it can no longer be judged (its observations would land at other instants).
const MAX_LATE: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured; a target asking for more fails the step instead of
/// stalling the suite.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// How long to wait before retrying a throttled request: `Retry-After` seconds, or a backoff.
fn retry_after(response: &Answer, attempt: u32) -> Duration {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or_else(
            || Duration::from_millis(200 << attempt),
            Duration::from_secs,
        )
        .min(MAX_RETRY_AFTER)
}

/// What the runner uses of a session.
impl HttpSession {
    /// Actor name to the id the target knows it by (user object ids, app client ids).
    pub(crate) fn actor_ids(&self) -> &BTreeMap<String, String> {
        &self.settings.actor_ids
    }

    /// `/v1.0` or `/beta`.
    pub(crate) fn version_root(&self) -> &str {
        &self.settings.version_root
    }

    pub fn clock(&self) -> ClockMode {
        self.settings.clock
    }

    /// The target's presence time when the case started.
    pub(crate) fn case_start(&self) -> Timestamp {
        self.start
    }

    /// Presence seconds per wall second (real clocks sped up with `--time-scale`).
    pub fn time_scale(&self) -> f64 {
        self.settings.time_scale
    }

    /// The wall time a read may poll for until it shows what a case expects: the target's
    /// propagation, or on a real clock an observation's own `within` if longer.
    pub(crate) fn read_window(&self, within: Option<SignedDuration>) -> Duration {
        let scale = match self.settings.clock {
            ClockMode::Real => self.settings.time_scale,
            ClockMode::Virtual => 1.0,
        };
        self.read_tolerance(within).div_f64(scale)
    }

    /// The same window in presence time.
    pub(crate) fn read_tolerance(&self, within: Option<SignedDuration>) -> Duration {
        let within = match (self.settings.clock, within) {
            (ClockMode::Real, Some(w)) => Duration::try_from(w).unwrap_or(Duration::ZERO),
            _ => Duration::ZERO,
        };
        within.max(self.settings.propagation)
    }

    /// A bearer token for an app, acting as itself or for a user; `None` when the target takes
    /// no tokens.
    pub async fn token(
        &mut self,
        app: &str,
        delegate: Option<&str>,
    ) -> Result<Option<String>, TargetError> {
        if matches!(self.settings.credentials, Credentials::None) {
            return Ok(None);
        }
        let key = (app.to_owned(), delegate.map(str::to_owned));
        if let Some(cached) = self.tokens.get(&key)
            && Instant::now() < cached.refresh_at
        {
            return Ok(Some(cached.token.clone()));
        }
        let (token, expires_in) = self.fetch_token(app, delegate).await?;
        // Refresh five minutes early, or at half the lifetime of short-lived tokens.
        let margin = (expires_in / 2).min(300);
        let refresh_at = Instant::now() + Duration::from_secs(expires_in.saturating_sub(margin));
        self.tokens.insert(
            key,
            CachedToken {
                token: token.clone(),
                refresh_at,
            },
        );
        Ok(Some(token))
    }

    /// Drops a cached token, so that the next [`HttpSession::token`] fetches a new one.
    pub(crate) fn forget_token(&mut self, app: &str, delegate: Option<&str>) {
        self.tokens
            .remove(&(app.to_owned(), delegate.map(str::to_owned)));
    }

    pub async fn send(&mut self, mut request: HttpRequest) -> Result<HttpResponse, TargetError> {
        let (shown_method, shown_path) = (request.method.clone(), request.path.clone());
        let transport = |cause: NoAnswer| TargetError::Transport {
            method: shown_method.clone(),
            path: shown_path.clone(),
            cause,
        };
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| transport(NoAnswer::Unsendable(e.to_string())))?;
        let url = format!("{}{}", self.settings.base_url, request.path);
        let mut attempt = 0;
        let mut answers: Vec<u16> = Vec::new();
        let mut renewed = false;
        let response = loop {
            let response = self
                .transport
                .exchange(&method, &url, &request.headers, request.body.clone())
                .await
                .map_err(transport)?;
            let status = response.status().as_u16();
            // A token of ours that came due for renewal while the request was on its way (a
            // slow target, a short lifetime) is renewed, and the request sent again, once.
            if status == 401 && !renewed && self.refresh_bearer(&mut request).await? {
                renewed = true;
                continue;
            }
            if !matches!(status, 429 | 503 | 504) {
                break response;
            }
            answers.push(status);
            if attempt >= MAX_RETRIES {
                // Throttled along the way: the target would not serve it, which says nothing
                // of its behaviour. Only 503/504s all through are judged (a target that is down
                // must not pass as "not applicable").
                if !answers.contains(&429) {
                    break response;
                }
                return Err(self.throttled(
                    &request,
                    format!(
                        "answered {} ({MAX_RETRIES} retries)",
                        answers
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            attempt += 1;
            let pause = retry_after(&response, attempt);
            self.keep_timeline(&request, status, pause)?;
            if status == 429 {
                self.traffic.after_429 += 1;
            } else {
                self.traffic.after_5xx += 1;
            }
            self.traffic.waited += pause;
            tokio::time::sleep(pause).await;
            self.refresh_bearer(&mut request).await?;
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(HttpResponse {
            status,
            headers,
            body: response.into_body(),
        })
    }

    /// Brings the target to `offset` after the case start: advances a virtual clock, or waits.
    pub(crate) async fn wait_until(&mut self, offset: SignedDuration) -> Result<(), TargetError> {
        match self.settings.clock {
            ClockMode::Virtual => {
                let by = offset - self.advanced;
                if by.is_positive() {
                    let body = serde_json::json!({ "by": iso(by) }).to_string();
                    self.control("POST", "/_conformance/clock/advance", Some(body))
                        .await?;
                    self.advanced = offset;
                }
            }
            ClockMode::Real => {
                self.behind()?;
                let wall = offset.as_secs_f64() / self.settings.time_scale;
                let due = self.wall_start + Duration::from_secs_f64(wall.max(0.0));
                tokio::time::sleep_until(due.into()).await;
                let past = self.past(offset);
                if self.keeps_timeline && past > MAX_LATE {
                    return Err(TargetError::Behind(
                        self.late_cause("the step started", past),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Lets `by` of presence time pass on a virtual clock while a read waits for a write to
    /// propagate (a target under lag); the case's later steps keep their instants.
    pub(crate) async fn let_pass(&mut self, by: Duration) -> Result<(), TargetError> {
        if self.settings.clock != ClockMode::Virtual || by.is_zero() {
            return Ok(());
        }
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::ZERO);
        let body = serde_json::json!({ "by": iso(by) }).to_string();
        self.control("POST", "/_conformance/clock/advance", Some(body))
            .await?;
        self.advanced += by;
        Ok(())
    }

    /// On a virtual clock, waits until every change notification due now was attempted (an
    /// advance by nothing); a real clock delivers them as they fall due.
    pub(crate) async fn settle_notifications(&mut self) -> Result<(), TargetError> {
        if self.settings.clock == ClockMode::Virtual {
            let body = serde_json::json!({ "by": "PT0S" }).to_string();
            self.control("POST", "/_conformance/clock/advance", Some(body))
                .await?;
        }
        Ok(())
    }

    /// Counts a read sent again until it shows what the case expects.
    pub(crate) fn count_reread(&mut self) {
        self.traffic.rereads += 1;
    }

    /// On a real clock, after a step's first answer: was it answered within `tolerance` of
    /// presence time (at least 30 s) after the step's instant? A late read is not judged at
    /// all; a late write is (its status stands), and the case stops at its next step.
    pub(crate) fn answered_in_time(
        &mut self,
        offset: SignedDuration,
        tolerance: Duration,
        read: bool,
    ) -> Result<(), TargetError> {
        if self.settings.clock != ClockMode::Real || !self.keeps_timeline {
            return Ok(());
        }
        let past = self.past(offset);
        if past <= tolerance.max(MAX_LATE) {
            return Ok(());
        }
        let late = TargetError::Behind(self.late_cause("answered", past));
        if read {
            return Err(late);
        }
        self.late_by.get_or_insert(late);
        Ok(())
    }

    /// The retries this session made so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }
}

impl HttpSession {
    /// The app a request was sent as: the actor whose cached token it carries, with its id.
    fn app_of(&self, request: &HttpRequest) -> String {
        let bearer = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.strip_prefix("Bearer "));
        let actor = bearer.and_then(|b| {
            self.tokens
                .iter()
                .find(|(_, t)| t.token == b)
                .map(|((app, _), _)| app.clone())
        });
        match actor {
            Some(actor) => match self.settings.actor_ids.get(&actor) {
                Some(id) => format!("{actor}, {id}"),
                None => actor,
            },
            None => "without a token".to_owned(),
        }
    }

    fn throttled(&self, request: &HttpRequest, cause: String) -> TargetError {
        TargetError::Throttled {
            app: self.app_of(request),
            cause: format!("{} {} {cause}", request.method, request.path),
        }
    }

    /// Before a retry's wait on a real clock: the wait puts the case behind its timeline. A
    /// request sent again past [`MAX_LATE`] of presence time behind would be answered at another
    /// instant than the case says, so the case is throttled out at once, a write as well as a
    /// read: a clearPresence sent again 10 s later at x600 finds its session expired (100
    /// minutes later) and answers 404, which says nothing of the target. (The 429 or 503 came
    /// before the write was applied, so nothing of it is left to judge.) A wait within
    /// `MAX_LATE` is counted, and a later step finds the case behind ([`HttpSession::behind`]).
    fn keep_timeline(
        &mut self,
        request: &HttpRequest,
        status: u16,
        pause: Duration,
    ) -> Result<(), TargetError> {
        if self.settings.clock != ClockMode::Real || !self.keeps_timeline {
            return Ok(());
        }
        let late = (self.late + pause).mul_f64(self.settings.time_scale);
        let cause = format!(
            "answered {status} with Retry-After {} s: at x{} the case is {} of presence time behind its timeline",
            pause.as_secs_f64(),
            self.settings.time_scale,
            iso(SignedDuration::try_from(late).unwrap_or(SignedDuration::MAX)),
        );
        if late > MAX_LATE {
            return Err(self.throttled(request, cause));
        }
        self.late += pause;
        Ok(())
    }

    /// Whether retries or a late answer have put the case too far behind for its next step to
    /// be judged.
    fn behind(&self) -> Result<(), TargetError> {
        match &self.late_by {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// How far past the wall instant of `offset` it is now, in presence time.
    fn past(&self, offset: SignedDuration) -> Duration {
        let due = self.wall_start
            + Duration::from_secs_f64(offset.as_secs_f64().max(0.0) / self.settings.time_scale);
        Instant::now()
            .saturating_duration_since(due)
            .mul_f64(self.settings.time_scale)
    }

    fn late_cause(&self, what: &str, past: Duration) -> String {
        format!(
            "{what} {:.0} ms after its instant: at x{} that is {} of presence time",
            past.as_secs_f64() * 1000.0 / self.settings.time_scale,
            self.settings.time_scale,
            iso(SignedDuration::try_from(past).unwrap_or(SignedDuration::MAX)),
        )
    }

    /// After a retry's wait the request's token may have expired: swap in a fresh one.
    /// Whether it swapped one in.
    async fn refresh_bearer(&mut self, request: &mut HttpRequest) -> Result<bool, TargetError> {
        let Some(slot) = request
            .headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        else {
            return Ok(false);
        };
        let bearer = request.headers[slot].1.trim_start_matches("Bearer ");
        let key = self
            .tokens
            .iter()
            .find(|(_, t)| t.token == bearer && Instant::now() >= t.refresh_at)
            .map(|(k, _)| k.clone());
        if let Some((app, delegate)) = key
            && let Some(token) = self.token(&app, delegate.as_deref()).await?
        {
            request.headers[slot].1 = format!("Bearer {token}");
            return Ok(true);
        }
        Ok(false)
    }
}
