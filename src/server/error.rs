//! Graph-shaped errors: `{"error":{"code","message","innerError":{"request-id","date","client-request-id"}}}`.
//!
//! Handlers return a [`GraphError`]; the request-context middleware renders every failure, axum's
//! own included, with the request's id and date, so no response ever leaves without that shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failure answered to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The `Allow` header of a 405: the methods the path has.
    pub allow: Option<&'static str>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code,
            message: message.into(),
            allow: None,
        }
    }

    /// A 405 that names the methods the path has.
    pub(crate) fn with_allow(mut self, methods: &'static str) -> Self {
        self.allow = Some(methods);
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// A well-formed request whose arguments break a rule (pairs, durations, sessionId).
    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// A valid token that may not do this (Graph's observed 401 for a signed-in user writing
    /// another user's presence).
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }

    /// The error a status gets when nothing more specific was said (axum's own rejections).
    pub(crate) fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("NotFound", "Resource not found for the segment."),
            StatusCode::METHOD_NOT_ALLOWED => (
                "MethodNotAllowed",
                "The HTTP method is not allowed on this resource.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "RequestEntityTooLarge",
                "The request body is larger than this service accepts.",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "UnsupportedMediaType",
                "The request body must be application/json.",
            ),
            s if s.is_server_error() => ("ServiceError", "An error has occurred."),
            _ => ("BadRequest", "The request is invalid."),
        };
        Self::new(status, code, message)
    }

    /// The body, given the request's id and date.
    pub fn render(
        &self,
        request_id: &str,
        client_request_id: Option<&str>,
        date: &str,
    ) -> Response {
        let mut inner = json!({ "date": date, "request-id": request_id });
        if let Some(client) = client_request_id {
            inner["client-request-id"] = json!(client);
        }
        let body = json!({
            "error": { "code": self.code, "message": self.message, "innerError": inner }
        });
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: `invalid_token` only when the token itself is the problem.
            let challenge = if self.code == "InvalidAuthenticationToken" {
                "Bearer realm=\"\", error=\"invalid_token\""
            } else {
                "Bearer realm=\"\""
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl IntoResponse for GraphError {
    /// An unrendered error: the middleware finds it in the extensions and renders it.
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}
