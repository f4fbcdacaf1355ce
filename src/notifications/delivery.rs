//! Delivery: notifications leave through a bounded outbox, in order for each URL (one lane, one
//! task at a time per URL), each attempt with a 3-second timeout, so a receiver that hangs or
//! refuses never slows or blocks a write, nor another receiver. A failed
//! attempt (no 2xx in time) is retried on the server's clock (virtual or real) after 10 s, 1 min,
//! 5 min, 15 min, then every 30 minutes until 4 hours after the change, then dropped.
//!
//! The bound holds every notification not yet delivered or given up: queued, in its URL's lane,
//! or waiting for a retry. Each URL has a share of it ([`URL_CAPACITY`]); a notification for a
//! URL whose share is full is dropped (and counted) before it is built, so a receiver that stops
//! answering costs each later write a look-up, not a payload (`scripts/bench-notifications.sh`).
//!
//! Also the endpoint validation of a new subscription: `POST {url}?validationToken=...`, answered
//! 200 `text/plain` with the decoded token within 10 seconds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, Semaphore};

/// How long a receiver has to answer a notification ("within 3 seconds").
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long an endpoint has to answer its validation request ("within 10 seconds").
pub(crate) const VALIDATION_TIMEOUT: Duration = Duration::from_secs(10);

/// How long after a change its notification is still retried ("for up to 4 hours").
pub(crate) const RETRY_WINDOW: SignedDuration = SignedDuration::from_hours(4);

/// The most notifications waiting at once (queued, being attempted, or waiting for a retry);
/// more are dropped (and counted), never waited for.
pub const OUTBOX_CAPACITY: usize = 100_000;

/// The most notifications waiting for one URL: a receiver that hangs or refuses fills its own
/// share, not the whole outbox. Our choice (Graph documents no number): more than a hung
/// receiver's lane can attempt in the 4 hours of retries (one a 3-second timeout: 4,800).
pub const URL_CAPACITY: usize = 10_000;

/// The most attempts in flight at once.
const CONCURRENT_ATTEMPTS: usize = 64;

/// The instants after a change at which a failed notification is tried again.
pub(crate) fn retry_offsets() -> impl Iterator<Item = SignedDuration> {
    let first = [10, 60, 300, 900].map(SignedDuration::from_secs);
    let every_half_hour = (1..=8).map(|k| SignedDuration::from_mins(30 * k));
    first.into_iter().chain(every_half_hour)
}

/// When a notification of a change at `first` that failed at `now` is tried next, if ever.
pub(crate) fn next_retry(first: Timestamp, now: Timestamp) -> Option<Timestamp> {
    retry_offsets()
        .filter(|offset| *offset <= RETRY_WINDOW)
        .filter_map(|offset| first.checked_add(offset).ok())
        .find(|at| *at > now)
}

/// One POST to a subscriber.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: reqwest::Url,
    pub body: String,
    /// The server instant of the change (or lifecycle event) it reports.
    pub first: Timestamp,
}

#[derive(Debug)]
struct Queued {
    outgoing: Arc<Outgoing>,
    attempts: u32,
}

#[derive(Debug, Default)]
struct Outbox {
    /// By due instant, then arrival order.
    queue: BTreeMap<(Timestamp, u64), Queued>,
    arrivals: u64,
    /// Notifications not yet delivered or given up (queued, in a lane, or waiting for a retry),
    /// in all and by URL.
    waiting: usize,
    waiting_for: HashMap<reqwest::Url, usize, foldhash::fast::RandomState>,
}

impl Outbox {
    fn has_room(&self, url: &reqwest::Url) -> bool {
        self.waiting < OUTBOX_CAPACITY
            && self.waiting_for.get(url).copied().unwrap_or(0) < URL_CAPACITY
    }

    fn admit(&mut self, url: &reqwest::Url) {
        self.waiting += 1;
        match self.waiting_for.get_mut(url) {
            Some(n) => *n += 1,
            None => {
                self.waiting_for.insert(url.clone(), 1);
            }
        }
    }

    /// A notification to `url` was delivered, given up, or forgotten.
    fn finished(&mut self, url: &reqwest::Url) {
        self.waiting = self.waiting.saturating_sub(1);
        if let Some(n) = self.waiting_for.get_mut(url) {
            *n -= 1;
            if *n == 0 {
                self.waiting_for.remove(url);
            }
        }
    }
}

/// What delivery has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    pub delivered: u64,
    pub failed_attempts: u64,
    pub given_up: u64,
    pub dropped: u64,
}

/// The attempts started for one URL, sent one after another in order.
#[derive(Debug, Default)]
struct Lane {
    pending: VecDeque<(Queued, Timestamp)>,
    /// Whether a task is draining this lane.
    running: bool,
}

/// The outbox and its workers.
#[derive(Debug)]
pub struct Deliverer {
    /// Made on the first attempt: building one reads the platform's TLS roots, which a server
    /// that never notifies (most of the suite's cases) should not pay for.
    client: std::sync::OnceLock<reqwest::Client>,
    timeout: Duration,
    outbox: Mutex<Outbox>,
    lanes: Mutex<HashMap<reqwest::Url, Lane>>,
    permits: Arc<Semaphore>,
    in_flight: AtomicUsize,
    idle: Notify,
    delivered: AtomicU64,
    failed_attempts: AtomicU64,
    given_up: AtomicU64,
    dropped: AtomicU64,
}

impl Deliverer {
    pub fn new() -> Arc<Self> {
        Self::with_timeout(ATTEMPT_TIMEOUT)
    }

    /// A deliverer whose attempts time out after `timeout` (tests shorten it).
    pub(crate) fn with_timeout(timeout: Duration) -> Arc<Self> {
        Arc::new(Deliverer {
            client: std::sync::OnceLock::new(),
            timeout,
            outbox: Mutex::new(Outbox::default()),
            lanes: Mutex::default(),
            permits: Arc::new(Semaphore::new(CONCURRENT_ATTEMPTS)),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            delivered: AtomicU64::new(0),
            failed_attempts: AtomicU64::new(0),
            given_up: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        })
    }

    /// The one HTTP client of a server's notifications: deliveries and validation requests
    /// (each request states its own timeout when it needs another).
    pub(crate) fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.timeout)
                .no_proxy()
                .build()
                .unwrap_or_default()
        })
    }

    /// Queues a notification, due at once. Never waits: when the outbox or its URL's share is
    /// full it is dropped.
    pub fn enqueue(&self, outgoing: Outgoing) -> bool {
        let mut outbox = self.lock();
        if !outbox.has_room(&outgoing.url) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        outbox.admit(&outgoing.url);
        outbox.arrivals += 1;
        let key = (outgoing.first, outbox.arrivals);
        outbox.queue.insert(
            key,
            Queued {
                outgoing: Arc::new(outgoing),
                attempts: 0,
            },
        );
        true
    }

    /// Queues the notification `build` makes for `url`, when there is room for it: when there is
    /// none, it is dropped (and counted) without being built.
    pub fn enqueue_with(
        &self,
        url: &reqwest::Url,
        build: impl FnOnce() -> Option<Outgoing>,
    ) -> bool {
        if !self.lock().has_room(url) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        build().is_some_and(|outgoing| self.enqueue(outgoing))
    }

    /// Starts every attempt due by `now` and returns at once.
    pub(crate) fn start_due(self: &Arc<Self>, now: Timestamp) {
        let due: Vec<Queued> = {
            let mut outbox = self.lock();
            let later = outbox.queue.split_off(&(now, u64::MAX));
            std::mem::replace(&mut outbox.queue, later)
                .into_values()
                .collect()
        };
        if due.is_empty() {
            return;
        }
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        for queued in due {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let url = queued.outgoing.url.clone();
            let lane = lanes.entry(url.clone()).or_default();
            lane.pending.push_back((queued, now));
            if !lane.running {
                lane.running = true;
                let this = Arc::clone(self);
                tokio::spawn(async move { this.drain(url).await });
            }
        }
    }

    /// Sends a lane's attempts one after another until it is empty.
    async fn drain(self: Arc<Self>, url: reqwest::Url) {
        loop {
            let next = {
                let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
                let Some(lane) = lanes.get_mut(&url) else {
                    return;
                };
                let next = lane.pending.pop_front();
                if next.is_none() {
                    lanes.remove(&url);
                }
                next
            };
            let Some((queued, now)) = next else {
                return;
            };
            Arc::clone(&self).attempt(queued, now).await;
        }
    }

    /// Starts every attempt due by `now` and returns once no attempt is in flight: after it, every
    /// notification due by `now` was attempted.
    pub async fn settle(self: &Arc<Self>, now: Timestamp) {
        self.start_due(now);
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Forgets everything queued (a reset); attempts in flight finish on their own.
    pub fn clear(&self) {
        let mut outbox = self.lock();
        for (_, queued) in std::mem::take(&mut outbox.queue) {
            outbox.finished(&queued.outgoing.url);
        }
    }

    /// Notifications queued and not yet started (new ones, and failed ones before their retry).
    pub fn queued(&self) -> usize {
        self.lock().queue.len()
    }

    /// Notifications not yet delivered or given up: queued, being attempted, or waiting.
    pub fn waiting(&self) -> usize {
        self.lock().waiting
    }

    pub fn stats(&self) -> DeliveryStats {
        DeliveryStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            failed_attempts: self.failed_attempts.load(Ordering::Relaxed),
            given_up: self.given_up.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    async fn attempt(self: Arc<Self>, mut queued: Queued, now: Timestamp) {
        let outgoing = Arc::clone(&queued.outgoing);
        let ok = match Arc::clone(&self.permits).acquire_owned().await {
            Ok(_permit) => self
                .client()
                .post(outgoing.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(outgoing.body.clone())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
            Err(_) => false,
        };
        if ok {
            self.delivered.fetch_add(1, Ordering::Relaxed);
            self.lock().finished(&outgoing.url);
        } else {
            self.failed_attempts.fetch_add(1, Ordering::Relaxed);
            queued.attempts += 1;
            match next_retry(outgoing.first, now) {
                Some(due) => {
                    let mut outbox = self.lock();
                    outbox.arrivals += 1;
                    let key = (due, outbox.arrivals);
                    outbox.queue.insert(key, queued);
                }
                None => {
                    self.given_up.fetch_add(1, Ordering::Relaxed);
                    self.lock().finished(&outgoing.url);
                }
            }
        }
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Outbox> {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why an endpoint failed its validation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ValidationError {
    #[error("it did not answer within {0:?} ({1})")]
    Unreachable(Duration, String),
    #[error("it answered {0}, not 200")]
    Status(u16),
    #[error("it answered with Content-Type '{0}', not text/plain")]
    ContentType(String),
    #[error("it answered a body that is not the validation token")]
    Token,
}

/// The validation token the server sends: opaque text with spaces and a colon, so a receiver
/// must URL-decode it, as Graph's is.
pub(crate) fn new_validation_token() -> String {
    format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        uuid::Uuid::new_v4()
    )
}

/// Validates `url` as a subscription endpoint, within `timeout`.
pub(crate) async fn validate_endpoint(
    client: &reqwest::Client,
    url: &reqwest::Url,
    timeout: Duration,
) -> Result<(), ValidationError> {
    let token = new_validation_token();
    let mut request_url = url.clone();
    request_url
        .query_pairs_mut()
        .append_pair("validationToken", &token);
    let response = client
        .post(request_url)
        .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| ValidationError::Unreachable(timeout, short_reason(&e)))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(ValidationError::Status(status));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !content_type.to_ascii_lowercase().starts_with("text/plain") {
        return Err(ValidationError::ContentType(content_type));
    }
    let body = tokio::time::timeout(timeout, response.text())
        .await
        .map_err(|_| ValidationError::Unreachable(timeout, "the body never ended".to_owned()))?
        .map_err(|e| ValidationError::Unreachable(timeout, short_reason(&e)))?;
    if body != token {
        return Err(ValidationError::Token);
    }
    Ok(())
}

fn short_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection refused".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use axum::Router;
    use axum::extract::{Query, State};
    use axum::http::StatusCode;
    use axum::routing::post;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn retries_follow_the_schedule_and_stop_after_4_hours() {
        let first = at("2026-01-05T09:00:00Z");
        assert_eq!(next_retry(first, first), Some(at("2026-01-05T09:00:10Z")));
        assert_eq!(
            next_retry(first, at("2026-01-05T09:00:10Z")),
            Some(at("2026-01-05T09:01:00Z"))
        );
        // After a long jump of the clock, the next instant after now, not every missed one.
        assert_eq!(
            next_retry(first, at("2026-01-05T10:10:00Z")),
            Some(at("2026-01-05T10:30:00Z"))
        );
        assert_eq!(
            next_retry(first, at("2026-01-05T12:59:59Z")),
            Some(at("2026-01-05T13:00:00Z"))
        );
        assert_eq!(next_retry(first, at("2026-01-05T13:00:00Z")), None);
    }

    /// A receiver on 127.0.0.1:0 that answers each POST with `status`, counting them.
    async fn receiver(status: StatusCode, hang: bool) -> (reqwest::Url, Arc<AtomicU32>) {
        let hits = Arc::new(AtomicU32::new(0));
        let app = Router::new()
            .route(
                "/hook",
                post(
                    move |State(hits): State<Arc<AtomicU32>>,
                          Query(q): Query<std::collections::HashMap<String, String>>| async move {
                        hits.fetch_add(1, Ordering::SeqCst);
                        if hang {
                            std::future::pending::<()>().await;
                        }
                        match q.get("validationToken") {
                            Some(token) => (status, token.clone()),
                            None => (status, String::new()),
                        }
                    },
                ),
            )
            .with_state(Arc::clone(&hits));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/hook").parse().unwrap(), hits)
    }

    fn outgoing(url: &reqwest::Url, first: Timestamp) -> Outgoing {
        Outgoing {
            url: url.clone(),
            body: "{\"value\":[]}".to_owned(),
            first,
        }
    }

    #[tokio::test]
    async fn a_refusing_receiver_is_retried_on_the_servers_clock() {
        let (url, hits) = receiver(StatusCode::INTERNAL_SERVER_ERROR, false).await;
        let deliverer = Deliverer::new();
        let first = at("2026-01-05T09:00:00Z");
        assert!(deliverer.enqueue(outgoing(&url, first)));
        deliverer.settle(first).await;
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // Nothing more until the clock reaches the first retry.
        deliverer.settle(at("2026-01-05T09:00:09Z")).await;
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        deliverer.settle(at("2026-01-05T09:00:10Z")).await;
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        // Four hours later it is given up.
        deliverer.settle(at("2026-01-05T12:00:00Z")).await;
        deliverer.settle(at("2026-01-05T13:00:00Z")).await;
        assert_eq!(hits.load(Ordering::SeqCst), 4);
        deliverer.settle(at("2026-01-05T20:00:00Z")).await;
        assert_eq!(hits.load(Ordering::SeqCst), 4);
        let stats = deliverer.stats();
        assert_eq!((stats.failed_attempts, stats.given_up), (4, 1));
        assert_eq!(deliverer.queued(), 0);
        assert_eq!(deliverer.waiting(), 0, "given up, it leaves the outbox");
    }

    #[tokio::test]
    async fn a_hung_receiver_costs_one_timeout_and_never_blocks_enqueue() {
        let (hung, _) = receiver(StatusCode::OK, true).await;
        let (good, good_hits) = receiver(StatusCode::OK, false).await;
        let deliverer = Deliverer::with_timeout(Duration::from_millis(200));
        let first = at("2026-01-05T09:00:00Z");
        deliverer.enqueue(outgoing(&hung, first));
        deliverer.start_due(first);
        // While the hung attempt is in flight, enqueueing and delivering elsewhere go on.
        for _ in 0..100 {
            assert!(deliverer.enqueue(outgoing(&good, first)));
        }
        deliverer.settle(first).await;
        assert_eq!(good_hits.load(Ordering::SeqCst), 100);
        let stats = deliverer.stats();
        assert_eq!((stats.delivered, stats.failed_attempts), (100, 1));
        assert_eq!(deliverer.queued(), 1, "the hung one waits for its retry");
        assert_eq!(deliverer.waiting(), 1, "the delivered ones left the outbox");
        deliverer.clear();
        assert_eq!(deliverer.waiting(), 0);
    }

    #[tokio::test]
    async fn a_hung_receiver_fills_only_its_share_and_nothing_past_it_is_built() {
        let (hung, _) = receiver(StatusCode::OK, true).await;
        let (other, _) = receiver(StatusCode::OK, true).await;
        // Its first attempt hangs for the whole test; the rest wait in its lane behind it.
        let deliverer = Deliverer::new();
        let first = at("2026-01-05T09:00:00Z");
        let mut built = 0;
        for _ in 0..URL_CAPACITY + 10 {
            deliverer.enqueue_with(&hung, || {
                built += 1;
                Some(outgoing(&hung, first))
            });
            deliverer.start_due(first);
        }
        assert_eq!(built, URL_CAPACITY, "past its share, nothing is built");
        assert_eq!(deliverer.waiting(), URL_CAPACITY);
        assert_eq!(deliverer.stats().dropped, 10);
        // Another URL has a share of its own.
        assert!(deliverer.enqueue(outgoing(&other, first)));
        assert_eq!(deliverer.waiting(), URL_CAPACITY + 1);
    }

    #[tokio::test]
    async fn validation_checks_status_type_and_token() {
        let client = reqwest::Client::new();
        let (ok, _) = receiver(StatusCode::OK, false).await;
        // axum answers a String as text/plain; charset=utf-8, the decoded token as its body.
        validate_endpoint(&client, &ok, VALIDATION_TIMEOUT)
            .await
            .unwrap();
        let (refusing, _) = receiver(StatusCode::FORBIDDEN, false).await;
        assert_eq!(
            validate_endpoint(&client, &refusing, VALIDATION_TIMEOUT).await,
            Err(ValidationError::Status(403))
        );
        let (hung, _) = receiver(StatusCode::OK, true).await;
        assert!(matches!(
            validate_endpoint(&client, &hung, Duration::from_millis(200)).await,
            Err(ValidationError::Unreachable(..))
        ));
        let closed: reqwest::Url = "http://127.0.0.1:9/hook".parse().unwrap();
        assert!(matches!(
            validate_endpoint(&client, &closed, Duration::from_millis(500)).await,
            Err(ValidationError::Unreachable(..))
        ));
    }
}
