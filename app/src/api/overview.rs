//! The Artifacts page's data: every artifact with its statuses per tier pair.

use leptos::prelude::*;

use crate::dto::Overview;

/// Every artifact of the default collection with its statuses per tier pair. With `upstream`,
/// the upstreams are asked too; if that fails, the page still shows the rest and says why.
#[server(prefix = "/_sm", endpoint = "overview", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_overview(upstream: bool) -> Result<Overview, ServerFnError> {
    use crate::dto::{OverviewRow, ProjectStatus};

    let backend = super::context::backend()?;
    let list = backend.artifacts().await.map_err(super::context::fail)?;
    let (drift, upstream_error) = match backend.drift(None, upstream).await {
        Ok(d) => (d, None),
        Err(e) if upstream => (
            backend
                .drift(None, false)
                .await
                .map_err(super::context::fail)?,
            Some(e.body.message),
        ),
        Err(e) => return Err(super::context::fail(e)),
    };
    // The checks are advice: when they cannot run, the page shows the rest.
    let checked = backend.check(Vec::new(), None).await.ok();
    let findings_of = |id: &str| {
        checked
            .as_ref()
            .and_then(|c| c.artifacts.iter().find(|a| a.id == id))
            .map(|a| a.findings.clone())
            .unwrap_or_default()
    };
    let rows: Vec<OverviewRow> = list
        .artifacts
        .into_iter()
        .map(|a| {
            let mine = drift.rows.iter().filter(|r| r.id == a.id);
            let mut row = OverviewRow {
                id: a.id.clone(),
                kind: a.kind,
                name: a.name,
                reference: a.reference,
                plugin: a.plugin,
                upstream_status: None,
                upstream_stale: None,
                projects: Vec::new(),
                findings: findings_of(&a.id),
            };
            for r in mine {
                match &r.project_path {
                    None => {
                        row.upstream_status = Some(r.status.clone());
                        row.upstream_stale = r.stale.clone();
                    }
                    Some(p) => row.projects.push(ProjectStatus {
                        name: project_name(p),
                        project: p.clone(),
                        status: r.status.clone(),
                    }),
                }
            }
            for p in drift
                .problems
                .iter()
                .filter(|p| p.id.as_ref() == Some(&a.id))
            {
                match &p.project_path {
                    None => row.upstream_status = Some("error".to_owned()),
                    Some(path) => row.projects.push(ProjectStatus {
                        name: project_name(path),
                        project: path.clone(),
                        status: "error".to_owned(),
                    }),
                }
            }
            row.projects.sort_by(|a, b| a.name.cmp(&b.name));
            row
        })
        .collect();
    let problems = drift.problems.iter().map(|p| p.message.clone()).collect();
    Ok(Overview {
        pending_merges: drift.pending_merges,
        problems,
        collection: list.collection,
        rows,
        upstream_checked: upstream && upstream_error.is_none(),
        upstream_error,
    })
}

/// How the page names a project: its folder's name, or `user` for the user scope (the home
/// folder's `.claude/`, which the server's user is).
#[cfg(feature = "ssr")]
fn project_name(path: &str) -> String {
    let p = std::path::Path::new(path);
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    if home.is_some_and(|h| h == p || h.canonicalize().ok().as_deref() == Some(p)) {
        return "user".to_owned();
    }
    p.file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}
