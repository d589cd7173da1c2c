//! [`ApiError`]: every failed request, as a status and a JSON `{error, message}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use skillmeat_core::ops::OpsError;

use super::types::ErrorBody;

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// A failure with `status`, a stable `code` and a message for people.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 422: the request is well formed but names something it may not.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500, logged in full; the client sees no internals.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("request failed: {e}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; its log has the details",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body a client sees.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("request bodies are limited to {} bytes", super::BODY_LIMIT),
                )
            }
            other => Self::invalid("bad_body", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::invalid("bad_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::invalid("bad_path", r.body_text())
    }
}

/// Sorts a core failure into a status: what the request named is wrong or missing (4xx), or
/// the server failed (500, details only in the log).
impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> Self {
        use skillmeat_core::apply::ApplyError;
        let message = e.to_string();
        match &e {
            OpsError::NotInCollection { .. } | OpsError::NotDeployed { .. } => {
                Self::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            OpsError::NoPendingMerge { .. } => {
                Self::new(StatusCode::NOT_FOUND, "no_pending_merge", message)
            }
            OpsError::MergeChanged { .. } => {
                Self::new(StatusCode::CONFLICT, "merge_changed", message)
            }
            OpsError::Versions(skillmeat_core::versions::VersionError::NotFound { .. }) => {
                Self::new(StatusCode::NOT_FOUND, "unknown_version", message)
            }
            OpsError::Versions(skillmeat_core::versions::VersionError::Ambiguous { .. }) => {
                Self::invalid("ambiguous_version", message)
            }
            OpsError::Id(_)
            | OpsError::Spec(_)
            | OpsError::ProjectRequired { .. }
            | OpsError::NotRegistered { .. }
            | OpsError::NoUpstream { .. }
            | OpsError::NotInMerge { .. }
            | OpsError::HunkChoices { .. }
            | OpsError::AmbiguousPending { .. }
            | OpsError::NothingToExport { .. } => Self::invalid("invalid", message),
            OpsError::PendingMerge { .. }
            | OpsError::MarkersLeft { .. }
            | OpsError::LocalEdits { .. }
            | OpsError::TargetChanged { .. }
            | OpsError::Apply(ApplyError::Locked { .. }) => {
                Self::new(StatusCode::CONFLICT, "conflict", message)
            }
            OpsError::Fetch(_) => Self::new(StatusCode::BAD_GATEWAY, "upstream_failed", message),
            _ => Self::internal(e),
        }
    }
}
