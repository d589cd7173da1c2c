//! [`ApiError`]: every failed request, as a status and a JSON `{error, message}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use skillmeat_core::model::error::ErrorKind;
use skillmeat_core::ops::OpsError;

use super::types::ErrorBody;

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// For a server failure, what it was: for the log, never for the client.
    detail: Option<String>,
}

/// What a server failure was, carried on its response to the trace middleware, which logs it in
/// the request's span. Turning an [`ApiError`] into a response has no side effect of its own.
#[derive(Debug, Clone)]
pub struct FailureDetail(pub String);

impl ApiError {
    /// A failure with `status`, a stable `code` and a message for people.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail: None,
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

    /// 500; the client sees no internals, the log gets `e` (see [`FailureDetail`]).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self {
            detail: Some(e.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server could not complete the request; its log has the details",
            )
        }
    }

    /// What a server failure was, for the log.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The HTTP status the client gets.
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
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(detail) = self.detail {
            response.extensions_mut().insert(FailureDetail(detail));
        }
        response
    }
}

/// Logs the server failures no request span logged (those outside `/api/v1`, such as `/login`):
/// the outermost layer, so no [`FailureDetail`] leaves the server unlogged.
pub async fn log_failures(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(req).await;
    if let Some(FailureDetail(detail)) = response.extensions_mut().remove::<FailureDetail>() {
        tracing::error!("request failed: {detail}");
    }
    response
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

/// Sorts a core failure into a status by its kind: what the request named is wrong or missing
/// (4xx), the upstream failed (502), or the server failed (500, details only in the log). The
/// match has no fallback, so a new kind of failure cannot reach a client as a 500 unnoticed.
impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> Self {
        match status_of(e.kind()) {
            None => Self::internal(e),
            Some((status, code)) => Self::new(status, code, e.to_string()),
        }
    }
}

/// The `error` code a failure of `kind` answers with (`internal` for the machine's failures):
/// what the metrics count errors by.
pub(super) fn kind_code(kind: ErrorKind) -> &'static str {
    status_of(kind).map_or("internal", |(_, code)| code)
}

/// The status and `error` code of a failure of `kind`; `None` for the machine's own failures,
/// answered as 500 `internal` with their details in the log only.
fn status_of(kind: ErrorKind) -> Option<(StatusCode, &'static str)> {
    use StatusCode as S;
    Some(match kind {
        ErrorKind::NotFound | ErrorKind::NotInCollection | ErrorKind::NotDeployed => {
            (S::NOT_FOUND, "not_found")
        }
        ErrorKind::NoPendingMerge => (S::NOT_FOUND, "no_pending_merge"),
        ErrorKind::UnknownVersion => (S::NOT_FOUND, "unknown_version"),
        ErrorKind::AmbiguousVersion => (S::UNPROCESSABLE_ENTITY, "ambiguous_version"),
        ErrorKind::Usage
        | ErrorKind::Invalid
        | ErrorKind::BadSpec
        | ErrorKind::UnknownType
        | ErrorKind::NotRegistered
        | ErrorKind::AmbiguousPending
        | ErrorKind::NothingToExport => (S::UNPROCESSABLE_ENTITY, "invalid"),
        ErrorKind::MergeChanged => (S::CONFLICT, "merge_changed"),
        ErrorKind::PlanChanged => (S::CONFLICT, "plan_changed"),
        ErrorKind::SyncLocked => (S::CONFLICT, "artifact_locked"),
        ErrorKind::TagTaken => (S::CONFLICT, "tag_taken"),
        ErrorKind::StillDeployed => (S::CONFLICT, "still_deployed"),
        // The request is fine but the state of the artifact refuses it: settle that first.
        ErrorKind::AlreadyAdded
        | ErrorKind::PendingMerge
        | ErrorKind::Unresolved
        | ErrorKind::LocalEdits
        | ErrorKind::Unmanaged
        | ErrorKind::Changed
        | ErrorKind::Locked
        | ErrorKind::Cancelled => (S::CONFLICT, "conflict"),
        ErrorKind::LinkOutside => (S::UNPROCESSABLE_ENTITY, "link_outside_project"),
        // A copy holding a symlink, a FIFO or a name that is not UTF-8: what the request
        // names cannot be read as an artifact; the message says which file.
        ErrorKind::UnreadableCopy => (S::UNPROCESSABLE_ENTITY, "unreadable_copy"),
        ErrorKind::BadRecords => (S::UNPROCESSABLE_ENTITY, "bad_records"),
        // The server's own config.toml (or an override) is malformed: no request can fix
        // it, and the operator needs the file, line and key the message names.
        ErrorKind::BadConfig => (S::INTERNAL_SERVER_ERROR, "bad_config"),
        ErrorKind::UpstreamRefused => (S::BAD_GATEWAY, "upstream_refused"),
        ErrorKind::UpstreamFailed => (S::BAD_GATEWAY, "upstream_failed"),
        ErrorKind::Internal => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use skillmeat_core::model::artifact::{ArtifactId, ArtifactType};
    use skillmeat_core::model::error::PathError;
    use skillmeat_core::storage::versions::VersionError;

    use super::*;

    /// A server failure's detail rides on the response for the log and never reaches its body;
    /// making the response logs nothing by itself.
    #[test]
    fn a_server_failure_keeps_its_detail_out_of_the_body() {
        let e = ApiError::internal("cannot read /home/u/.skillmeat/skillmeat.db: disk on fire");
        assert_eq!(
            e.detail(),
            Some("cannot read /home/u/.skillmeat/skillmeat.db: disk on fire")
        );
        let body = e.body();
        assert_eq!(body.error, "internal");
        assert!(!body.message.contains("disk on fire"), "{}", body.message);
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let detail = response
            .extensions()
            .get::<FailureDetail>()
            .map(|d| d.0.as_str());
        assert_eq!(
            detail,
            Some("cannot read /home/u/.skillmeat/skillmeat.db: disk on fire")
        );
        // User errors carry none: there is nothing to log.
        let response = ApiError::not_found("no such job").into_response();
        assert!(response.extensions().get::<FailureDetail>().is_none());
    }

    fn id() -> ArtifactId {
        "skill:pdf".parse().unwrap()
    }

    /// Failures a caller causes and can fix used to fall through to a 500 "internal"; each now
    /// has a 4xx status and a code, and only the machine's own failures stay 500.
    #[test]
    fn user_errors_are_4xx_and_only_machine_failures_are_500() {
        let cases: Vec<(OpsError, StatusCode, &str)> = vec![
            (
                OpsError::AlreadyAdded {
                    id: id(),
                    collection: "default".into(),
                },
                StatusCode::CONFLICT,
                "conflict",
            ),
            (
                OpsError::Versions(VersionError::TagTaken {
                    artifact: id(),
                    tag: "v1".into(),
                    other: "abc".into(),
                }),
                StatusCode::CONFLICT,
                "tag_taken",
            ),
            (
                OpsError::Versions(VersionError::BadTag {
                    tag: "a b".into(),
                    why: "has a space",
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                OpsError::UnknownType { path: "x".into() },
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                OpsError::WrongShape {
                    path: "x".into(),
                    kind: ArtifactType::Skill,
                    why: "no SKILL.md",
                },
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                OpsError::Unmanaged {
                    path: PathBuf::from("/p/.claude/skills/pdf"),
                },
                StatusCode::CONFLICT,
                "conflict",
            ),
            (
                OpsError::UnknownSide {
                    side: "somewhere".into(),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                OpsError::SourceMissing {
                    id: id(),
                    direction: "collection-to-project",
                },
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                OpsError::NoCopy {
                    id: id(),
                    path: PathBuf::from("/p"),
                },
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                OpsError::Cancelled {
                    id: id(),
                    phase: "apply",
                },
                StatusCode::CONFLICT,
                "conflict",
            ),
            (
                OpsError::Home(skillmeat_core::storage::home::HomeError::BadCollectionName(
                    "x:../y".parse::<ArtifactId>().unwrap_err(),
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                OpsError::Io(PathError::new(
                    "read",
                    "/p/SKILL.md",
                    std::io::ErrorKind::PermissionDenied.into(),
                )),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (e, status, code) in cases {
            let shown = e.to_string();
            let api = ApiError::from(e);
            assert_eq!(
                (api.status(), api.body().error.as_str()),
                (status, code),
                "{shown}"
            );
            if status != StatusCode::INTERNAL_SERVER_ERROR {
                assert_eq!(
                    api.body().message,
                    shown,
                    "a 4xx tells the caller what happened"
                );
            } else {
                assert!(
                    !api.body().message.contains("/p/"),
                    "a 500 shows no internals"
                );
            }
        }
    }
}
