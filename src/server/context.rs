//! The request context around every request: a request id on every response, the caller's
//! client-request-id echoed, every failure rendered in Graph's error shape (axum's own rejections
//! included), the tenant conditions' gate, and one log line per request when asked to. Inside it,
//! Graph's presence paths are answered from their parse (`presence::answer`) and every other
//! request goes to the router.
//!
//! One hand-written service instead of a chain of `axum::middleware::from_fn`: each of those
//! clones and boxes the inner service and boxes a future on every request, which on the write
//! path cost as much as the presence rules themselves.

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use tower_service::Service;

use super::conditions::{self, Rng};
use super::presence::{self, Answer};
use super::{AppState, GraphError, request_header};
use crate::model::format_guid;

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

/// The longest client-request-id echoed back.
const CLIENT_REQUEST_ID_MAX: usize = 128;

/// The router, with Graph's presence paths and the request context around it.
#[derive(Clone, Debug)]
pub(crate) struct WithContext<S> {
    inner: S,
    state: AppState,
}

impl<S> WithContext<S> {
    pub(crate) fn new(inner: S, state: AppState) -> Self {
        WithContext { inner, state }
    }
}

impl<S> Service<Request> for WithContext<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let context = RequestContext::of(&self.state, &request);
        let inner = match conditions::admit(&self.state, &request) {
            Some(refused) => Inner::Ready(Some(refused)),
            None => match presence::answer(&self.state, request) {
                Answer::Now(response) => Inner::Ready(Some(response)),
                Answer::Later(future) => Inner::Presence(future),
                Answer::NotPresence(other) => Inner::Routed(self.inner.call(other)),
            },
        };
        ContextFuture {
            inner,
            context: Some(context),
            state: self.state.clone(),
        }
    }
}

/// The response (the presence answer, the route's, or the conditions' refusal), then the
/// context applied to it.
pub(crate) struct ContextFuture<F> {
    inner: Inner<F>,
    context: Option<RequestContext>,
    state: AppState,
}

enum Inner<F> {
    /// A presence path's answer, once the body has been read.
    Presence(Pin<Box<dyn Future<Output = Response> + Send>>),
    /// Another path's route.
    Routed(F),
    /// Answered at once.
    Ready(Option<Response>),
}

impl<F> Future for ContextFuture<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let response = match &mut this.inner {
            Inner::Routed(future) => match Pin::new(future).poll(cx) {
                Poll::Ready(Ok(response)) => response,
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => return Poll::Pending,
            },
            Inner::Presence(future) => match future.as_mut().poll(cx) {
                Poll::Ready(response) => response,
                Poll::Pending => return Poll::Pending,
            },
            Inner::Ready(ready) => ready.take().unwrap_or_default(),
        };
        Poll::Ready(Ok(match this.context.take() {
            Some(context) => context.finish(&this.state, response),
            None => response,
        }))
    }
}

/// What the context keeps of a request until its response.
struct RequestContext {
    request_id: HeaderValue,
    client_request_id: Option<HeaderValue>,
    /// Only when requests are logged.
    log: Option<(Instant, Method, String)>,
}

impl RequestContext {
    fn of(state: &AppState, request: &Request) -> Self {
        let client_request_id = request_header(request.headers(), &CLIENT_REQUEST_ID)
            .filter(|v| v.to_str().is_ok() && v.len() <= CLIENT_REQUEST_ID_MAX)
            .cloned();
        let log = state.config.log_requests.then(|| {
            (
                Instant::now(),
                request.method().clone(),
                request.uri().path().to_owned(),
            )
        });
        RequestContext {
            request_id: new_request_id(),
            client_request_id,
            log,
        }
    }

    /// The response as the client gets it.
    fn finish(self, state: &AppState, mut response: Response) -> Response {
        if let Some(error) = failure(&mut response) {
            let date = state.clock.now().strftime("%Y-%m-%dT%H:%M:%S").to_string();
            // axum's own 405 names the path's methods in `Allow`; keep it on the Graph error.
            let allow = response.headers().get(header::ALLOW).cloned();
            // A 429, 503 or 504 of the tenant conditions says when to come back.
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            let client = self
                .client_request_id
                .as_ref()
                .and_then(|v| v.to_str().ok());
            let request_id = self.request_id.to_str().unwrap_or_default();
            response = error.render(request_id, client, &date);
            if let Some(allow) = allow {
                response.headers_mut().entry(header::ALLOW).or_insert(allow);
            }
            if let Some(retry_after) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after);
            }
        }
        let headers = response.headers_mut();
        headers.insert(REQUEST_ID, self.request_id);
        if let Some(client) = self.client_request_id {
            headers.insert(CLIENT_REQUEST_ID, client);
        }
        if let Some((started, method, path)) = self.log {
            let status = response.status().as_u16();
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            eprintln!("{method} {path} {status} {millis:.2}ms");
        }
        response
    }
}

/// The Graph error a response stands for: one a handler returned unrendered, or an error status
/// without a JSON body (axum's own rejections, 404 and 405).
fn failure(response: &mut Response) -> Option<GraphError> {
    response
        .extensions_mut()
        .remove::<GraphError>()
        .or_else(|| {
            let status = response.status();
            let failed = status.is_client_error() || status.is_server_error();
            let is_json = || {
                response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
            };
            (failed && !is_json()).then(|| GraphError::for_status(status))
        })
}

/// A random (version 4) UUID, lower-case and hyphenated, as Graph's request ids are. The random
/// bits come from a SplitMix64 per thread, seeded once from the operating system: a request id
/// must be unique, not unpredictable, and one `getrandom` call per request cost more than the
/// rest of the request context.
fn new_request_id() -> HeaderValue {
    thread_local! {
        static RNG: RefCell<Rng> = RefCell::new(Rng::new(uuid::Uuid::new_v4().as_u64_pair().0));
    }
    let (high, low) = RNG.with_borrow_mut(|rng| (rng.next_u64(), rng.next_u64()));
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&high.to_le_bytes());
    bytes[8..].copy_from_slice(&low.to_le_bytes());
    // RFC 9562: version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    HeaderValue::from_bytes(&format_guid(&bytes))
        .unwrap_or_else(|_| HeaderValue::from_static("00000000-0000-4000-8000-000000000000"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|_| new_request_id().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            let parsed = uuid::Uuid::try_parse(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(*id, parsed.hyphenated().to_string());
        }
    }
}
