//! The artifact page's data: version cards, deployments, history, the audit trail and pending
//! merges.

use leptos::prelude::*;

use crate::dto::ArtifactDetail;

/// An artifact's version cards (for `project`, or the first project it is deployed in), the
/// projects it is deployed in, its history, timeline and proposed next tag, and with `from` and
/// `to` the changelog between those two versions.
#[server(prefix = "/_sm", endpoint = "artifact", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_artifact(
    id: String,
    project: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<ArtifactDetail, ServerFnError> {
    let backend = super::context::backend()?;
    let deployed_in = backend
        .deployed_in(id.clone())
        .await
        .map_err(super::context::fail)?;
    let project = project
        .filter(|p| !p.is_empty())
        .or_else(|| deployed_in.first().cloned());
    let cards = backend
        .versions(id.clone(), project.clone())
        .await
        .map_err(super::context::fail)?;
    let history = backend
        .history(id.clone())
        .await
        .map_err(super::context::fail)?;
    let log = backend
        .log(id.clone())
        .await
        .map_err(super::context::fail)?;
    // The proposal needs the collection's copy; an artifact only recorded (removed from the
    // collection since) has none to tag.
    let next_tag = backend.next_tag(id.clone()).await.ok();
    let changelog = match (from, to) {
        (Some(from), Some(to)) => Some(
            backend
                .changelog(id.clone(), from, to)
                .await
                .map_err(super::context::fail)?,
        ),
        _ => None,
    };
    let timeline = match &project {
        Some(p) => Some(
            backend
                .timeline(id.clone(), p.clone())
                .await
                .map_err(super::context::fail)?,
        ),
        None => None,
    };
    let pending = backend
        .pending(id.clone())
        .await
        .map_err(super::context::fail)?;
    // The kill-switch's count of this artifact, with the threshold it locks at.
    let failing = backend.failing().await.map_err(super::context::fail)?;
    let limit = failing.lock_after_failures;
    let failing = failing
        .artifacts
        .into_iter()
        .find(|f| f.artifact == id)
        .map(|f| (f, limit));
    // The checks of the collection's copy, and of the project's as a scope (advice: when they
    // cannot run, the page shows the rest).
    let mut findings: Vec<crate::dto::FindingView> = backend
        .check(vec![id.clone()], None)
        .await
        .map(|c| c.artifacts.into_iter().flat_map(|a| a.findings).collect())
        .unwrap_or_default();
    if let Some(p) = &project
        && let Ok(c) = backend.check(vec![id.clone()], Some(p.clone())).await
    {
        for f in c.artifacts.into_iter().flat_map(|a| a.findings) {
            if !findings.contains(&f) {
                findings.push(f);
            }
        }
    }
    Ok(ArtifactDetail {
        cards,
        deployed_in,
        project,
        history,
        log,
        next_tag,
        changelog,
        timeline,
        pending,
        failing,
        findings,
    })
}
