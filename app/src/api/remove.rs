//! Taking an artifact out of the collection, or a copy out of a project, from the pages.

use leptos::prelude::*;

/// With `project`, takes the artifact's copy out of that project (`force`: even with local
/// edits, recorded first), as `DELETE /api/v1/artifacts/{id}/deployments` does; without, takes
/// the artifact out of the collection (`force`: undeploying it first from every project that
/// has it), as `DELETE /api/v1/artifacts/{id}` does. The page loads anew afterwards, so only
/// the refusal comes back.
#[server(prefix = "/_sm", endpoint = "take_out", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn take_out(
    id: String,
    project: Option<String>,
    force: bool,
) -> Result<(), ServerFnError> {
    let backend = super::context::backend()?;
    match project {
        Some(project) => backend.undeploy(id, project, force).await.map(drop),
        None => backend.remove(id, force).await.map(drop),
    }
    .map_err(super::context::fail)
}

/// Unlocks an artifact the kill-switch locked (its syncs failed `sync.lock_after_failures`
/// times in a row), as `DELETE /api/v1/artifacts/{id}/lock` does.
#[server(prefix = "/_sm", endpoint = "unlock", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn unlock(id: String) -> Result<crate::dto::UnlockedView, ServerFnError> {
    let backend = super::context::backend()?;
    backend.unlock(id).await.map_err(super::context::fail)
}
