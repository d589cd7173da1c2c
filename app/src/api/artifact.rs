use leptos::prelude::*;

use crate::dto::ArtifactDetail;

/// An artifact's version cards (for `project`, or the first project it is deployed in), the
/// projects it is deployed in, and its history.
#[server(prefix = "/_sm", endpoint = "artifact")]
pub async fn get_artifact(
    id: String,
    project: Option<String>,
) -> Result<ArtifactDetail, ServerFnError> {
    let backend = super::backend()?;
    let drift = backend.drift(None, false).await.map_err(super::fail)?;
    let mut deployed_in: Vec<String> = drift
        .rows
        .into_iter()
        .filter(|r| r.id == id)
        .filter_map(|r| r.project_path)
        .collect();
    deployed_in.sort();
    deployed_in.dedup();
    let project = project
        .filter(|p| !p.is_empty())
        .or_else(|| deployed_in.first().cloned());
    let cards = backend
        .versions(id.clone(), project.clone())
        .await
        .map_err(super::fail)?;
    let history = backend.history(id.clone()).await.map_err(super::fail)?;
    let pending = backend.pending(id).await.map_err(super::fail)?;
    Ok(ArtifactDetail {
        cards,
        deployed_in,
        project,
        history,
        pending,
    })
}
