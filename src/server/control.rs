//! The optional test-control protocol (`spec/control.openapi.yaml`): reset (presence state, and
//! the tenant conditions' hidden writes and throttling windows), read and advance the virtual
//! clock. Reset and advance are served only when the clock is virtual; a real-clock
//! server answers them 404, which tells the runner to wait in real time. The clock can be read
//! on any clock, so that a runner learns where a sped-up real clock stands.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::body::{ActionBody, Param};
use super::error::GraphError;
use super::presence::format_instant;
use crate::model::parse_edm_duration;

fn clock_json(state: &AppState) -> Response {
    (
        StatusCode::OK,
        Json(json!({ "now": format_instant(state.clock.now()) })),
    )
        .into_response()
}

/// `POST /_conformance/reset`: forget all presence state; the clock returns to its start.
pub async fn reset(State(state): State<AppState>) -> Result<Response, GraphError> {
    let clock = state.clock.as_virtual().ok_or_else(not_virtual)?;
    let rules = state.store.semantics();
    let mut stores = state.store.lock_all();
    for store in &mut stores {
        **store = crate::model::PresenceStore::with_semantics(rules);
    }
    drop(stores);
    if let Some(conditions) = &state.conditions {
        conditions.reset();
    }
    clock.reset();
    state.notifier.reset();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /_conformance/clock`.
pub async fn clock(State(state): State<AppState>) -> Response {
    clock_json(&state)
}

/// `POST /_conformance/clock/advance {"by": "PT5M"}`: fires every timer that falls due, in order,
/// and answers once every change notification due by the new instant was attempted.
pub async fn advance(
    State(state): State<AppState>,
    body: ActionBody,
) -> Result<Response, GraphError> {
    let now = move_clock(&state, &body)?;
    state.notifier.settle(now).await;
    Ok(clock_json(&state))
}

/// Moves the virtual clock by the body's `by` and settles every store at the new instant.
fn move_clock(state: &AppState, body: &ActionBody) -> Result<jiff::Timestamp, GraphError> {
    let clock = state.clock.as_virtual().ok_or_else(not_virtual)?;
    let [by] = body.parameters("advance", ["by"])?;
    let by = match by.value() {
        Some(Param::Text(text)) => parse_edm_duration(text)
            .map_err(|e| GraphError::invalid_argument(format!("by: {e}")))?,
        Some(_) => return Err(by.wrong_type("an ISO 8601 duration string")),
        None => return Err(GraphError::bad_request("The parameter 'by' is required.")),
    };
    let mut stores = state.store.lock_all();
    let now = clock
        .advance(by)
        .map_err(|e| GraphError::invalid_argument(format!("by: {e}")))?;
    for store in &mut stores {
        store.settle(now);
    }
    Ok(now)
}

fn not_virtual() -> GraphError {
    GraphError::not_found("This server runs on a real clock; the control protocol is off.")
}
