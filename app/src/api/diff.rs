//! Diffs between two sides of an artifact, and the unchanged lines a diff hides.

use leptos::prelude::*;

use crate::dto::DiffView;

/// The diff between two sides of an artifact (`upstream`, `collection`, `project`, or a
/// recorded version), the same as `GET /api/v1/artifacts/{id}/diff`.
#[server(prefix = "/_sm", endpoint = "diff", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_diff(
    id: String,
    lhs: String,
    rhs: String,
    project: Option<String>,
) -> Result<DiffView, ServerFnError> {
    super::context::backend()?
        .diff(id, lhs, rhs, project.filter(|p| !p.is_empty()))
        .await
        .map_err(super::context::fail)
}

/// Lines `from..=to` (1-based) of a text file of one side: the unchanged stretch a diff hides.
#[server(prefix = "/_sm", endpoint = "file_lines", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_file_lines(
    id: String,
    side: String,
    path: String,
    project: Option<String>,
    from: u32,
    to: u32,
) -> Result<Vec<String>, ServerFnError> {
    super::context::backend()?
        .file_lines(id, side, path, project, (from, to))
        .await
        .map_err(super::context::fail)
}
