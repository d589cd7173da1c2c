//! Extractors that hand handlers validated inputs: axum's `Json`, `Query` and `Path` with their
//! rejections turned into [`ApiError`]s (422 with a JSON body, 415 and 413 for bodies), and an
//! artifact id read from the path and parsed. A handler that takes them starts from checked
//! values and never unwraps a rejection by hand (the shape of axum's `examples/error-handling`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use skillmeat_core::model::artifact::{ArtifactId, IdError};

use super::ApiError;

/// A JSON request body; a missing content type, a body past the limit or JSON that does not
/// fit `T` is an [`ApiError`].
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// A query string read into `T`; one that does not fit is a 422 `bad_query`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Path parameters read into `T`; ones that do not fit (a job id that is not a number) are a
/// 422 `bad_path`.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// The `{id}` of an artifact route, parsed: a malformed id (no type, an unknown type, a name
/// with a slash) is a 422 `bad_artifact_id` before the handler runs.
#[derive(Debug)]
pub struct IdPath(pub ArtifactId);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiPath(text) = ApiPath::<String>::from_request_parts(parts, state).await?;
        artifact_id(&text).map(Self)
    }
}

/// An artifact id from a request, checked to be well formed.
pub fn artifact_id(text: &str) -> Result<ArtifactId, ApiError> {
    text.parse()
        .map_err(|e: IdError| ApiError::invalid("bad_artifact_id", e.to_string()))
}
