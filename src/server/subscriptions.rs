//! `/subscriptions` on v1.0 and beta: create (after validating the notification and lifecycle
//! URLs), list, read, renew and delete presence subscriptions, with Graph's shapes and errors; and
//! the JWKS a receiver checks `validationTokens` with. The rules live in `crate::notifications`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::auth::Caller;
use super::config::{SCOPE_READ_ALL, ServerConfig};
use super::{AppState, GraphError};
use crate::model::Profile;
use crate::notifications::{Owner, RenewalBody, SubscriptionBody, SubscriptionError};
use crate::operation::{Method, Operation};
use axum::routing::{MethodFilter, MethodRouter, on};

/// The version segments Graph serves subscriptions on.
fn check_version(version: &str) -> Result<(), GraphError> {
    match version {
        "v1.0" | "beta" => Ok(()),
        other => Err(GraphError::not_found(format!(
            "Invalid version: '{other}'. Use v1.0 or beta."
        ))),
    }
}

/// Who owns the caller's subscriptions: a signed-in user of an app with Presence.Read.All.
/// Application tokens are refused ("Application | Not supported").
fn owner_of(state: &AppState, headers: &HeaderMap) -> Result<Owner, GraphError> {
    let caller = if state.config.no_auth {
        Caller::Anonymous
    } else {
        state.tokens.authenticate(headers)?
    };
    match caller {
        Caller::Anonymous => Ok(Owner {
            app_id: anonymous_app(&state.config),
            user: None,
        }),
        Caller::App { .. } => Err(graph_error(&SubscriptionError::ApplicationNotSupported)),
        Caller::Delegated {
            app_id,
            user,
            scopes,
        } => {
            if scopes
                .iter()
                .any(|s| s.eq_ignore_ascii_case(SCOPE_READ_ALL))
            {
                Ok(Owner {
                    app_id,
                    user: Some(user),
                })
            } else {
                Err(GraphError::forbidden(
                    "Presence subscriptions need the delegated permission Presence.Read.All.",
                ))
            }
        }
    }
}

/// The app id of subscriptions made under `--no-auth`.
fn anonymous_app(config: &ServerConfig) -> String {
    config
        .clients
        .first()
        .map_or_else(|| "anonymous".to_owned(), |c| c.client_id.clone())
}

fn graph_error(e: &SubscriptionError) -> GraphError {
    let (status, code) = e.status();
    GraphError::new(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        code,
        e.to_string(),
    )
}

/// A JSON body, or Graph's 400 for one that is not.
fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, GraphError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(GraphError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    serde_json::from_slice(body)
        .map_err(|e| GraphError::bad_request(format!("The request body is not valid: {e}")))
}

/// A subscription as Graph answers it: `status`, with its `@odata.context`.
fn entity(status: StatusCode, shown: Value, headers: &HeaderMap, version: &str) -> Response {
    (status, Json(with_context(shown, headers, version))).into_response()
}

fn with_context(mut subscription: Value, headers: &HeaderMap, version: &str) -> Value {
    subscription["@odata.context"] = json!(format!(
        "{}/$metadata#subscriptions/$entity",
        base_url(headers, version)
    ));
    subscription
}

fn base_url(headers: &HeaderMap, version: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("graph.local");
    format!("http://{host}/{version}")
}

/// The handler of a subscription operation, at the method its row gives; `None` for the
/// presence operations, which `graph_path` answers.
pub(crate) fn route(operation: Operation) -> Option<MethodRouter<AppState>> {
    let filter = match operation.method() {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Patch => MethodFilter::PATCH,
        Method::Delete => MethodFilter::DELETE,
    };
    Some(match operation {
        Operation::CreateSubscription => on(filter, create),
        Operation::ListSubscriptions => on(filter, list),
        Operation::GetSubscription => on(filter, get),
        Operation::UpdateSubscription => on(filter, renew),
        Operation::DeleteSubscription => on(filter, delete),
        Operation::GetPresence
        | Operation::GetPresencesByUserId
        | Operation::SetPresence
        | Operation::ClearPresence
        | Operation::SetUserPreferredPresence
        | Operation::ClearUserPreferredPresence
        | Operation::SetStatusMessage
        | Operation::SetManualLocation
        | Operation::SetAutomaticLocation
        | Operation::ClearLocation
        | Operation::ClearAutomaticLocation => return None,
    })
}

/// The status a success of `operation` is answered with (its row's reply).
fn success(operation: Operation) -> StatusCode {
    StatusCode::from_u16(operation.reply(Profile::V1_0).status()).unwrap_or(StatusCode::OK)
}

/// `POST /{version}/subscriptions`.
pub async fn create(
    State(state): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    check_version(&version)?;
    let owner = owner_of(&state, &headers)?;
    let body: SubscriptionBody = json_body(&headers, &body)?;
    let now = state.clock.now();
    let shown = state
        .notifier
        .create(body, owner, now, |user| {
            state.store.lock(user).user(user).cloned()
        })
        .await
        .map_err(|e| graph_error(&e))?;
    Ok(entity(
        success(Operation::CreateSubscription),
        shown,
        &headers,
        &version,
    ))
}

/// `GET /{version}/subscriptions`.
pub async fn list(
    State(state): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    check_version(&version)?;
    let owner = owner_of(&state, &headers)?;
    let value = state.notifier.list(&owner, state.clock.now());
    let body = json!({
        "@odata.context": format!("{}/$metadata#subscriptions", base_url(&headers, &version)),
        "value": value,
    });
    Ok((success(Operation::ListSubscriptions), Json(body)).into_response())
}

/// `GET /{version}/subscriptions/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    check_version(&version)?;
    let owner = owner_of(&state, &headers)?;
    let shown = state
        .notifier
        .get(&id, &owner, state.clock.now())
        .map_err(|e| graph_error(&e))?;
    Ok(entity(
        success(Operation::GetSubscription),
        shown,
        &headers,
        &version,
    ))
}

/// `PATCH /{version}/subscriptions/{id}`: renews (up to an hour from now).
pub async fn renew(
    State(state): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    check_version(&version)?;
    let owner = owner_of(&state, &headers)?;
    let body: RenewalBody = json_body(&headers, &body)?;
    let shown = state
        .notifier
        .renew(&id, body, &owner, state.clock.now())
        .map_err(|e| graph_error(&e))?;
    Ok(entity(
        success(Operation::UpdateSubscription),
        shown,
        &headers,
        &version,
    ))
}

/// `DELETE /{version}/subscriptions/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    check_version(&version)?;
    let owner = owner_of(&state, &headers)?;
    state
        .notifier
        .delete(&id, &owner, state.clock.now())
        .map_err(|e| graph_error(&e))?;
    Ok(success(Operation::DeleteSubscription).into_response())
}

/// `GET /{tenant}/discovery/v2.0/keys`: the key validationTokens are signed with.
pub(crate) async fn validation_keys(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Response, GraphError> {
    if !tenant.eq_ignore_ascii_case(&state.config.tenant_id) && tenant != "common" {
        return Err(GraphError::not_found(format!(
            "Tenant '{tenant}' not found."
        )));
    }
    let issuer = state
        .notifier
        .issuer()
        .ok_or_else(|| GraphError::for_status(StatusCode::SERVICE_UNAVAILABLE))?;
    Ok((StatusCode::OK, Json(issuer.jwks())).into_response())
}
