//! [`ApiError`]: the one error type of the admin API. It answers
//! `{"code": "...", "message": "..."}` with its status, the shape Node-RED's
//! editor-api `rejectHandler` uses. Server-side failures (5xx) are logged
//! with their detail and answered with a generic message, so file paths
//! and OS errors never reach the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An admin API failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Node-RED's error code (`invalid_api_version`, `version_mismatch`,
    /// `not_found`, ...).
    pub code: String,
    /// What the client is told.
    pub message: String,
    /// For 5xx: what is logged instead of sent.
    detail: Option<String>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            detail: None,
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409 `version_mismatch`: the editor's `rev` is not the deployed one.
    /// The message is Node-RED's (an empty `Error`), which the editor
    /// ignores: it opens its merge dialog on the status alone.
    pub fn version_mismatch() -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "version_mismatch", "Error")
    }

    /// 400 `invalid_api_version`, for a `Node-RED-API-Version` other than v1/v2.
    pub fn invalid_api_version() -> ApiError {
        ApiError::bad_request("invalid_api_version", "Invalid API Version requested")
    }

    /// 500 `unexpected_error`: `detail` is logged, not sent.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "unexpected_error".into(),
            message: "Internal server error; see the runtime log".into(),
            detail: Some(detail.to_string()),
        }
    }

    /// 503 `unavailable` (the runtime is stopping).
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            match &self.detail {
                Some(d) => tracing::error!(code = %self.code, "Admin API request failed: {d}."),
                None => {
                    tracing::error!(code = %self.code, "Admin API request failed: {}.", self.message)
                }
            }
        }
        let body = serde_json::json!({"code": self.code, "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn internal_errors_hide_their_detail() {
        let r = ApiError::internal("cannot write /secret/path: permission denied").into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = r
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("/secret/path"), "{text}");
        assert!(text.contains("\"code\":\"unexpected_error\""), "{text}");
    }
}
