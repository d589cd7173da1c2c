//! Patch bundle export and rollback to a recorded version.

use leptos::prelude::*;

use crate::dto::{PatchCreated, PatchRequest, RollbackRequest, RolledBackView};

/// Exports a project's edits of an artifact as a patch bundle for its upstream (the same as
/// `POST /api/v1/sync/patch`).
#[server(prefix = "/_sm", endpoint = "export_patch", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn export_patch(req: PatchRequest) -> Result<PatchCreated, ServerFnError> {
    super::context::backend()?
        .patch(req)
        .await
        .map_err(super::context::fail)
}

/// Restores a recorded version (the same as `POST /api/v1/artifacts/{id}/rollback`).
#[server(prefix = "/_sm", endpoint = "rollback", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn rollback_version(
    id: String,
    req: RollbackRequest,
) -> Result<RolledBackView, ServerFnError> {
    super::context::backend()?
        .rollback(id, req)
        .await
        .map_err(super::context::fail)
}
