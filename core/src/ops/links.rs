//! Registered projects and the symlink rule: no write into a project whose `.claude/` leads out
//! of it, unless the user allowed it for that project.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::error::PathError;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::storage::home::Home;
use crate::storage::versions::{VersionError, Versions};

/// Refuses to write into `project` when a folder of its `.claude/` leads out of it through a
/// symlink, unless the user allowed that for this project (`skillmeat project allow-links`).
pub(crate) async fn check_project_links(home: &Home, project: &Path) -> Result<(), OpsError> {
    let Err(outside) = crate::storage::projects::check_links(project) else {
        return Ok(());
    };
    // Only on this rare path: open for writing, which migrates a database older than the
    // setting's column.
    let v = Versions::open(home).await?;
    let allowed =
        crate::storage::projects::allows_links_outside(v.database(), &outside.project).await;
    v.close().await;
    if allowed.map_err(VersionError::from)? {
        Ok(())
    } else {
        Err(outside.into())
    }
}

/// A project's setting for writes through links out of it, as `project allow-links` left it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectLinks {
    /// The project (canonical).
    pub project: PathBuf,
    /// Whether writes through links out of it are allowed.
    pub allow_links_outside: bool,
    /// A folder of its `.claude/` that leads out of it now, and where it leads.
    pub link_outside: Option<(PathBuf, PathBuf)>,
}

/// Allows (or, with `allow` false, refuses again) writes into `project` through folders of its
/// `.claude/` that are symlinks out of it, registering the project if needed.
pub async fn set_project_links(
    ctx: &Context,
    project: &Path,
    allow: bool,
) -> Result<ProjectLinks, OpsError> {
    if !project.is_dir() {
        let missing = std::io::ErrorKind::NotFound.into();
        return Err(PathError::new("open the project", project, missing).into());
    }
    let v = Versions::open(&ctx.home).await?;
    let set =
        crate::storage::projects::set_links_outside(v.database(), project, allow, ctx.now).await;
    v.close().await;
    let canonical = set.map_err(VersionError::from)?;
    Ok(ProjectLinks {
        link_outside: crate::storage::projects::check_links(&canonical)
            .err()
            .map(|e| (e.link, e.resolved)),
        project: canonical,
        allow_links_outside: allow,
    })
}

/// The projects deployments were made into (registered by `deploy`), without writing anything.
pub async fn registered_projects(home: &Home) -> Result<Vec<PathBuf>, OpsError> {
    // Only the database: opening the version store too would start libgit2, and with it
    // OpenSSL's certificate store (a few ms and a MB), for a list of folders.
    let Some((db, owned)) = crate::storage::versions::database_read_only(home)
        .await
        .map_err(VersionError::from)?
    else {
        return Ok(Vec::new());
    };
    let listed = crate::storage::projects::list(&db).await;
    if owned {
        db.close().await;
    }
    Ok(listed.map_err(VersionError::from)?)
}
