//! Tokens as the Microsoft identity platform issues them (client credentials for apps, the password
//! grant for delegated access), and who a bearer token says the caller is.
//!
//! Tokens are opaque and kept in memory; they age in wall-clock time, so advancing the virtual
//! presence clock by hours never expires a suite's credentials.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::config::{
    ClientConfig, ROLE_READ_ALL, ROLE_READ_WRITE_ALL, SCOPE_READ, SCOPE_READ_ALL, SCOPE_READ_WRITE,
    ServerConfig,
};
use super::error::GraphError;
use crate::model::UserId;
use crate::operation::{Operation, Profile};

/// Who is calling, as established from the bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// An app with application permissions (client credentials).
    App { app_id: String, roles: Vec<String> },
    /// An app acting for a signed-in user (delegated permissions).
    Delegated {
        app_id: String,
        user: UserId,
        scopes: Vec<String>,
    },
    /// `--no-auth`: anything goes, and sessionId is not tied to an app.
    Anonymous,
}

impl Caller {
    /// The app id a presence session must carry, when the caller has one.
    pub fn app_id(&self) -> Option<&str> {
        match self {
            Caller::App { app_id, .. } | Caller::Delegated { app_id, .. } => Some(app_id),
            Caller::Anonymous => None,
        }
    }

    pub(crate) fn may_read(&self, user: &UserId) -> Result<(), GraphError> {
        let allowed = match self {
            Caller::Anonymous => true,
            Caller::App { roles, .. } => has(roles, &[ROLE_READ_ALL, ROLE_READ_WRITE_ALL]),
            Caller::Delegated {
                user: me, scopes, ..
            } => {
                has(scopes, &[SCOPE_READ_ALL])
                    || (me == user && has(scopes, &[SCOPE_READ, SCOPE_READ_WRITE]))
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(GraphError::forbidden(
                "Insufficient privileges to read the presence of this user.",
            ))
        }
    }

    /// Whether the caller may run the write `operation` on `user`'s presence under `profile`, by
    /// the operation's permission class. Called after the body was validated: Graph answers a
    /// bad body's 400 before any 403 (observed, osodevops/ms-teams-cli issue 71).
    pub(crate) fn may_write(
        &self,
        user: &UserId,
        profile: Profile,
        operation: Operation,
    ) -> Result<(), GraphError> {
        let permission = operation.permission(profile);
        match self {
            Caller::Anonymous => Ok(()),
            Caller::App { .. } if !permission.application() => Err(GraphError::forbidden(format!(
                "{operation} does not support application permissions; call it for a signed-in user."
            ))),
            Caller::App { roles, .. } if has(roles, &[ROLE_READ_WRITE_ALL]) => Ok(()),
            Caller::App { .. } => Err(GraphError::forbidden(
                "Missing application permission Presence.ReadWrite.All.",
            )),
            // Observed (microsoft-graph-explorer-v4 issue 3096): 401, not 403.
            Caller::Delegated { user: me, .. } if me != user => Err(GraphError::unauthorized(
                "Cannot set the presence of another user.",
            )),
            Caller::Delegated { .. } if !permission.delegated() => {
                Err(GraphError::forbidden(format!(
                    "{operation} does not support delegated permissions in the {profile} API; use an application permission."
                )))
            }
            Caller::Delegated { scopes, .. } if has(scopes, &[SCOPE_READ_WRITE]) => Ok(()),
            Caller::Delegated { .. } => Err(GraphError::forbidden(
                "Missing delegated permission Presence.ReadWrite.",
            )),
        }
    }
}

fn has(granted: &[String], any_of: &[&str]) -> bool {
    granted
        .iter()
        .any(|g| any_of.iter().any(|w| g.eq_ignore_ascii_case(w)))
}

#[derive(Debug)]
struct Grant {
    caller: Caller,
    expires: Instant,
}

/// Issued tokens.
#[derive(Debug, Default)]
pub struct TokenStore {
    grants: Mutex<HashMap<String, Grant>>,
}

impl TokenStore {
    pub fn issue(&self, caller: Caller, lifetime: Duration) -> String {
        let token = format!(
            "pcs.{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // Forget tokens that expired long ago, so a long run does not grow without bound.
        grants.retain(|_, g| g.expires + Duration::from_secs(3600) > now);
        grants.insert(
            token.clone(),
            Grant {
                caller,
                expires: now + lifetime,
            },
        );
        token
    }

    /// Who the `Authorization` header says is calling.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, GraphError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(GraphError::unauthenticated("Access token is empty."));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
        let grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        match grants.get(token) {
            None => Err(GraphError::unauthenticated(
                "Access token validation failure. Invalid audience.",
            )),
            Some(g) if g.expires <= Instant::now() => Err(GraphError::unauthenticated(
                "Lifetime validation failed, the token is expired.",
            )),
            Some(g) => Ok(g.caller.clone()),
        }
    }

    pub fn clear(&self) {
        self.grants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The token request form (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// An OAuth2 error as the identity platform shapes it.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

fn oauth_error(
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: &str,
) -> OAuthError {
    OAuthError {
        status,
        error,
        code,
        description: description.to_owned(),
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {}", self.code, self.description),
            "error_codes": [self.code],
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) async fn token_endpoint(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    let config = &state.config;
    if !tenant.eq_ignore_ascii_case(&config.tenant_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
        )
        .into_response();
    }
    let Ok(Form(form)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must be application/x-www-form-urlencoded.",
        )
        .into_response();
    };
    match issue_for(config, &form) {
        Ok(caller) => {
            let lifetime = config.token_lifetime;
            let token = state.tokens.issue(caller, lifetime);
            let body = json!({
                "token_type": "Bearer",
                "expires_in": lifetime.as_secs(),
                "ext_expires_in": lifetime.as_secs(),
                "access_token": token,
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn issue_for(config: &ServerConfig, form: &TokenRequest) -> Result<Caller, OAuthError> {
    let client = find_client(config, form)?;
    let scope = form.scope.as_deref().unwrap_or_default();
    match form.grant_type.as_deref() {
        Some("client_credentials") => {
            if !scope.split_whitespace().any(|s| s.ends_with("/.default")) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    1002012,
                    "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
                ));
            }
            Ok(Caller::App {
                app_id: client.client_id.clone(),
                roles: client.roles.clone(),
            })
        }
        Some("password") => {
            let username = form.username.as_deref().unwrap_or_default();
            let user = config
                .users
                .iter()
                .find(|u| u.user_principal_name.eq_ignore_ascii_case(username))
                .filter(|u| Some(u.password.as_str()) == form.password.as_deref())
                .ok_or_else(|| {
                    oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        50126,
                        "Error validating credentials due to invalid username or password.",
                    )
                })?;
            Ok(Caller::Delegated {
                app_id: client.client_id.clone(),
                user: UserId::new(&user.id.to_ascii_lowercase()),
                scopes: client.scopes.clone(),
            })
        }
        other => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{}'.",
                other.unwrap_or("")
            ),
        )),
    }
}

fn find_client<'a>(
    config: &'a ServerConfig,
    form: &TokenRequest,
) -> Result<&'a ClientConfig, OAuthError> {
    let id = form.client_id.as_deref().unwrap_or_default();
    let client = config
        .clients
        .iter()
        .find(|c| c.client_id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                &format!("Application with identifier '{id}' was not found in the directory."),
            )
        })?;
    if form.client_secret.as_deref() != Some(client.client_secret.as_str()) {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        ));
    }
    Ok(client)
}
