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

/// Gives the empty 405 answers of axum's method routers the JSON body every other error has,
/// naming the methods the route takes (its `Allow` header is kept).
pub async fn method_not_allowed_as_json(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = req.method().clone();
    let response = next.run(req).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(axum::http::header::ALLOW).cloned();
    let takes = allow
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .map(|v| format!("; it takes {v}"))
        .unwrap_or_default();
    let mut json = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed here{takes}"),
    )
    .into_response();
    if let Some(allow) = allow {
        json.headers_mut().insert(axum::http::header::ALLOW, allow);
    }
    json
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
        use skillmeat_core::model::hash::HashError;
        use skillmeat_core::storage::apply::ApplyError;
        use skillmeat_core::storage::fetch::FetchError;
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
            OpsError::Versions(skillmeat_core::storage::versions::VersionError::NotFound {
                ..
            }) => Self::new(StatusCode::NOT_FOUND, "unknown_version", message),
            OpsError::Versions(skillmeat_core::storage::versions::VersionError::Ambiguous {
                ..
            }) => Self::invalid("ambiguous_version", message),
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
            OpsError::LinkOutside(_) => Self::invalid("link_outside_project", message),
            // A copy holding a symlink, a FIFO or a name that is not UTF-8: what the request
            // names cannot be read as an artifact; the message says which file.
            OpsError::Hash(
                HashError::Symlink { .. }
                | HashError::SpecialFile { .. }
                | HashError::NonUtf8Path { .. },
            ) => Self::invalid("unreadable_copy", message),
            OpsError::Fetch(
                FetchError::BadEntry { .. }
                | FetchError::TooLarge { .. }
                | FetchError::Unsupported { .. },
            ) => Self::new(StatusCode::BAD_GATEWAY, "upstream_refused", message),
            OpsError::Fetch(_) => Self::new(StatusCode::BAD_GATEWAY, "upstream_failed", message),
            OpsError::File(
                skillmeat_core::storage::tomlfile::TomlFileError::Parse { .. }
                | skillmeat_core::storage::tomlfile::TomlFileError::Invalid { .. },
            ) => Self::invalid("bad_records", message),
            _ => Self::internal(e),
        }
    }
}
