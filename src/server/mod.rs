//! The reference server: Graph presence over HTTP on top of the pure model, with Graph's auth,
//! Graph-shaped errors, a virtual or real clock, and the test-control protocol.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use presence_conformance::server::{ServerConfig, PresenceClock, RunningServer};
//! let server = RunningServer::start(ServerConfig::default(), PresenceClock::virtual_at_epoch()).await?;
//! println!("Graph presence at http://{}/v1.0", server.addr());
//! # Ok(()) }
//! ```

pub mod auth;
pub mod body;
pub mod clock;
pub mod conditions;
pub mod config;
mod context;
pub mod control;
pub mod error;
mod graph_path;
pub mod presence;
pub mod shards;
pub mod subscriptions;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use axum::{Router, ServiceExt as _};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use auth::{Caller, TokenStore};
pub use clock::PresenceClock;
pub use config::ServerConfig;
pub use error::GraphError;

use crate::model::{PresenceStore, PresenceView, Semantics, UserId};
use crate::notifications::{Faults, Notifier};
use crate::operation::{Operation, Via};

/// Everything the handlers share.
#[derive(Debug)]
pub struct Shared {
    pub config: ServerConfig,
    pub clock: PresenceClock,
    /// Every user's presence, in shards by user.
    pub store: shards::ShardedStore,
    pub tokens: TokenStore,
    /// Tenant conditions (`serve --conditions`): throttling, faults, lag. None by default.
    pub conditions: Option<conditions::Conditions>,
    /// Change-notification subscriptions and their deliveries.
    pub notifier: Notifier,
}

/// The handlers' state: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Holder);

/// How a state is held. axum copies the state several times for every request, and a reference
/// count that two cores increment and decrement on every request moves its cache line between
/// them each time: a point of the server's share of its ceiling (`docs/perf/server.md`).
#[derive(Clone, Debug)]
enum Holder {
    /// Counted: a server that stops and frees its state (tests, the embedded target).
    Counted(Arc<Shared>),
    /// Until the process ends (the `serve` command's one server): copies touch no count.
    Process(&'static Shared),
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        match &self.0 {
            Holder::Counted(shared) => shared,
            Holder::Process(shared) => shared,
        }
    }
}

impl AppState {
    /// This state, kept for the rest of the process and never freed: for a server that runs
    /// until the process exits (`serve`), whose requests then copy it without a reference count.
    pub fn for_the_process(self) -> Self {
        match self.0 {
            Holder::Counted(shared) => {
                let kept: &'static Arc<Shared> = Box::leak(Box::new(shared));
                AppState(Holder::Process(kept))
            }
            held @ Holder::Process(_) => AppState(held),
        }
    }

    pub fn new(config: ServerConfig, clock: PresenceClock) -> Self {
        Self::with_semantics(config, clock, Semantics::GRAPH)
    }

    /// A server that follows other time and precedence rules than Graph's: only tests of the
    /// harness want this, to prove the suite catches a wrong implementation.
    pub fn with_semantics(
        config: ServerConfig,
        clock: PresenceClock,
        semantics: Semantics,
    ) -> Self {
        Self::build(config, clock, semantics, None, Faults::default())
    }

    /// A server whose change notifications are deliberately wrong: only tests of the harness
    /// want this, to prove the suite catches each fault.
    pub fn with_notification_faults(
        config: ServerConfig,
        clock: PresenceClock,
        faults: Faults,
    ) -> Self {
        Self::build(config, clock, Semantics::GRAPH, None, faults)
    }

    /// A Graph server under tenant conditions (`serve --conditions`).
    pub fn with_conditions(
        config: ServerConfig,
        clock: PresenceClock,
        conditions: conditions::Conditions,
    ) -> Self {
        Self::build(
            config,
            clock,
            Semantics::GRAPH,
            Some(conditions),
            Faults::default(),
        )
    }

    fn build(
        mut config: ServerConfig,
        clock: PresenceClock,
        semantics: Semantics,
        conditions: Option<conditions::Conditions>,
        faults: Faults,
    ) -> Self {
        if let Some(seconds) = conditions.as_ref().and_then(|c| c.config.token_lifetime) {
            config.token_lifetime = std::time::Duration::from_secs(seconds);
        }
        let notifier = Notifier::with_faults(&config.tenant_id, semantics, faults);
        AppState(Holder::Counted(Arc::new(Shared {
            config,
            clock,
            store: shards::ShardedStore::new(semantics),
            tokens: TokenStore::default(),
            conditions,
            notifier,
        })))
    }

    pub fn view(&self, user: &UserId) -> PresenceView {
        let now = self.clock.now();
        let mut store = self.store.lock(user);
        store.settle(now);
        let view = store.view(user, now);
        match &self.conditions {
            Some(c) => c.visible(user, view, now),
            None => view,
        }
    }

    pub(crate) fn view_many(&self, users: &[UserId]) -> Vec<PresenceView> {
        let now = self.clock.now();
        let (mut stores, shard_of) = self.store.lock_for(users);
        for store in &mut stores {
            store.settle(now);
        }
        users
            .iter()
            .zip(shard_of)
            .map(|(u, shard)| {
                // Every user's shard is locked: the fallback is never taken.
                let view = stores
                    .get(shard)
                    .map_or_else(|| PresenceStore::new().view(u, now), |s| s.view(u, now));
                match &self.conditions {
                    Some(c) => c.visible(u, view, now),
                    None => view,
                }
            })
            .collect()
    }

    /// Applies a write and returns the user's sequenceNumber right after it, which totally
    /// orders that user's acknowledged writes.
    pub fn apply(
        &self,
        user: &UserId,
        command: crate::model::Command,
    ) -> Result<crate::model::SequenceNumber, crate::model::CommandError> {
        let now = self.clock.now();
        let mut store = self.store.lock(user);
        store.settle(now);
        let before = self.conditions.as_ref().map(|_| store.view(user, now));
        let sequence = store.apply(now, user, command)?;
        if self.notifier.watching_any()
            && let Some(presence) = store.user(user)
        {
            self.notifier.after_write(user, presence, now);
        }
        if let (Some(c), Some(before)) = (&self.conditions, before) {
            c.hide_write(user, before, now);
        }
        Ok(sequence)
    }
}

/// The first value of `name` in a request's headers, as `HeaderMap::get` finds it, but by a walk
/// over the few headers a request has: `get` first hashes the name byte by byte (FNV), which
/// cost more than the walk.
pub(crate) fn request_header<'h>(
    headers: &'h axum::http::HeaderMap,
    name: &axum::http::HeaderName,
) -> Option<&'h axum::http::HeaderValue> {
    headers
        .iter()
        .find_map(|(n, value)| (n == name).then_some(value))
}

/// The whole HTTP surface, as a `Router` (in-process callers, and tests that put their own
/// middleware around it): the socket server's one service, as the router's fallback.
pub fn app(state: AppState) -> Router {
    Router::new().fallback_service(served(state))
}

/// The whole HTTP surface as the socket server runs it: Graph's presence paths answered from
/// their parse (`graph_path`), every other path by [`routes`], all in one request context.
fn served(state: AppState) -> context::WithContext<Router> {
    context::WithContext::new(routes(state.clone()), state)
}

/// Every route besides Graph's presence paths: the token endpoint, the control protocol, and
/// the 404 for a path nothing holds.
fn routes(state: AppState) -> Router {
    // The token form is the one body read by an axum extractor; the presence bodies apply the
    // limit themselves (`body::ActionBody`).
    let mut router = Router::new()
        .route(
            "/{segment}/oauth2/v2.0/token",
            post(auth::token_endpoint).layer(DefaultBodyLimit::max(state.config.body_limit)),
        )
        .route(
            "/{segment}/discovery/v2.0/keys",
            get(subscriptions::validation_keys),
        );
    // The subscription operations, each at the path and method its row in the operation table
    // gives; `subscriptions::route` says which handler answers it.
    for operation in Operation::all() {
        if let Some(handler) = subscriptions::route(operation) {
            let path = format!("/{{segment}}{}", operation.path(Via::Users, "{id}"));
            router = router.route(
                &path,
                handler.layer(DefaultBodyLimit::max(state.config.body_limit)),
            );
        }
    }
    // The clock can be read on any clock (a sped-up real clock runs ahead of the runner's);
    // only a virtual one can be reset and moved.
    router = router.route("/_conformance/clock", get(control::clock));
    if state.clock.as_virtual().is_some() {
        router = router
            .route("/_conformance/reset", post(control::reset))
            .route("/_conformance/clock/advance", post(control::advance));
    } else {
        router = router.route(
            "/_conformance/{*rest}",
            any(|| async {
                GraphError::not_found(
                    "Resetting and advancing the clock need a virtual clock: start the server \
                     with `presence-conformance serve --clock virtual`.",
                )
            }),
        );
    }
    router
        .fallback(|| async { GraphError::not_found("Resource not found for the segment.") })
        .with_state(state)
}

/// How often a running server looks for notifications that fell due on its clock.
const NOTIFIER_TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// A server listening on a loopback port, stopped when dropped.
pub struct RunningServer {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Starts on `127.0.0.1:0` (a free port).
    pub async fn start(config: ServerConfig, clock: PresenceClock) -> std::io::Result<Self> {
        Self::start_on(
            "127.0.0.1:0"
                .parse()
                .unwrap_or_else(|e| unreachable!("{e}")),
            config,
            clock,
        )
        .await
    }

    pub(crate) async fn start_on(
        addr: SocketAddr,
        config: ServerConfig,
        clock: PresenceClock,
    ) -> std::io::Result<Self> {
        Self::serve(addr, AppState::new(config, clock)).await
    }

    /// Starts on `addr` with the given state (e.g. [`AppState::with_conditions`]).
    pub async fn start_state_on(addr: SocketAddr, state: AppState) -> std::io::Result<Self> {
        Self::serve(addr, state).await
    }

    async fn serve(addr: SocketAddr, state: AppState) -> std::io::Result<Self> {
        let service = served(state.clone()).into_make_service();
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        // Timers on a real clock (the fade) and retries that fall due reach receivers from here;
        // writes and `clock/advance` deliver what they cause themselves.
        let ticking = state.clone();
        let ticker = tokio::spawn(async move {
            ticking
                .notifier
                .run(|| ticking.clock.now(), NOTIFIER_TICK)
                .await;
        });
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
            {
                eprintln!("reference server on {addr} stopped: {e}");
            }
            ticker.abort();
        });
        Ok(RunningServer {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting and waits for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
