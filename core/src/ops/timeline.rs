//! The modification timeline of a deployed copy — deployed at, first local modification
//! detected, last checked, how many versions, parent — and the scheduled check that keeps it.
//!
//! `drift` stays read-only, so the times are written by the writes SkillMeat already makes
//! (deploy and sync set them) and by [`check_projects`], which the server runs on a schedule:
//! it sets a copy's `modification_detected_at` the first time the copy is found to differ from
//! its baseline and clears it when the copy is back, and notes when it checked each project in
//! the home's database (`projects.last_checked_at`). The project's records file is written only
//! when a sighting changes — a check that finds nothing new writes nothing into the project,
//! whose records file teams may commit. That file is changed under its lock, on the file as it
//! is then, so a check never loses a record another writer adds meanwhile.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::model::hash::{self, HashAlgorithm};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::storage::records::DeploymentFile;
use crate::storage::versions::Versions;

/// A deployed copy's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub id: ArtifactId,
    /// The project (canonical path).
    pub project: PathBuf,
    /// When the version the project holds as its baseline was deployed or synced in.
    pub deployed_at: Option<String>,
    /// When SkillMeat first found the copy edited since its baseline (cleared when it is back).
    pub modified_since: Option<String>,
    /// When SkillMeat last compared the copy with its baseline: the later of the record's
    /// stamp (a deploy or sync) and the project's last scheduled check.
    pub last_checked: Option<String>,
    /// Whether the copy differs from its baseline right now (read now, nothing written).
    pub modified_now: bool,
    /// The baseline (64 hex) and the version before it.
    pub baseline: Option<String>,
    pub parent: Option<String>,
    /// The baselines the copy has had, newest first.
    pub lineage: Vec<String>,
    /// How many versions of the artifact are recorded (all tiers).
    pub versions: usize,
}

/// The timeline of `id` in `project`. Read-only.
pub async fn timeline(
    ctx: &Context,
    id: &ArtifactId,
    project: &Path,
) -> Result<Timeline, OpsError> {
    let records = DeploymentFile::load(project)?;
    let Some(record) = records.get(id) else {
        return Err(OpsError::NotDeployed {
            id: id.clone(),
            project: project.to_owned(),
        });
    };
    let on_disk = record
        .artifact_path
        .as_deref()
        .map(|rel| project.join(rel))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .map(|p| hash::hash_path(&p))
        .transpose()?;
    let modified_now = match (&record.content_hash, record.hash_algorithm) {
        (Some(base), HashAlgorithm::V1) => on_disk.map(|h| h.to_hex()).as_ref() != Some(base),
        _ => record.local_modifications,
    };
    let canonical = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_owned());
    let (versions, checked) = match Versions::open_read_only(&ctx.home).await? {
        Some(v) => {
            let n = v.history(id).await.map(|h| h.len());
            let checked = crate::storage::projects::last_checked(v.database(), &canonical).await;
            v.close().await;
            (
                n?,
                checked.map_err(crate::storage::versions::VersionError::from)?,
            )
        }
        None => (0, None),
    };
    // RFC 3339 stamps in UTC compare in time order as text.
    let last_checked = record.last_modified_check.clone().max(checked);
    Ok(Timeline {
        id: id.clone(),
        project: canonical,
        deployed_at: record.deployed_at.clone(),
        modified_since: record.modification_detected_at.clone(),
        last_checked,
        modified_now,
        baseline: record.content_hash.clone(),
        parent: record.parent_hash.clone(),
        lineage: record.version_lineage.clone(),
        versions,
    })
}

/// What one scheduled check did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Registered projects whose records were read.
    pub projects: usize,
    /// Deployed copies compared with their baseline.
    pub copies: usize,
    /// Copies found edited for the first time, by project.
    pub newly_modified: Vec<(PathBuf, ArtifactId)>,
    /// What could not be checked, with why (the rest was).
    pub problems: Vec<String>,
}

/// Compares every deployed copy of every registered project with its baseline: a copy first
/// found edited gets `modification_detected_at` (cleared when it is back to its baseline), and
/// each project checked gets `last_checked_at` in the home's database. Copies whose baseline is
/// a legacy hash are counted as checked only (`skillmeat migrate` upgrades them). A project that
/// cannot be read is a problem in the report, never a stop.
pub async fn check_projects(ctx: &Context) -> Result<Checked, OpsError> {
    let mut out = Checked::default();
    let stamp = rfc3339(ctx.now);
    let Some(versions) = Versions::open_read_only(&ctx.home).await? else {
        return Ok(out);
    };
    let projects = match crate::storage::projects::list(versions.database()).await {
        Ok(p) => p,
        Err(e) => {
            versions.close().await;
            return Err(crate::storage::versions::VersionError::from(e).into());
        }
    };
    for project in projects {
        match check_project(ctx, &project, &stamp) {
            Ok((copies, newly)) => {
                out.projects += 1;
                out.copies += copies;
                out.newly_modified
                    .extend(newly.into_iter().map(|id| (project.clone(), id)));
                if let Err(e) =
                    crate::storage::projects::set_checked(versions.database(), &project, &stamp)
                        .await
                {
                    out.problems.push(format!(
                        "{}: could not note the check: {e}",
                        project.display()
                    ));
                }
            }
            Err(e) => out.problems.push(format!("{}: {e}", project.display())),
        }
    }
    versions.close().await;
    Ok(out)
}

/// One project's check, under its records file's lock; the copies compared and those newly
/// found edited.
fn check_project(
    ctx: &Context,
    project: &Path,
    stamp: &str,
) -> Result<(usize, Vec<ArtifactId>), OpsError> {
    let path = DeploymentFile::path_in(project);
    if !path.is_file() {
        return Ok((0, Vec::new()));
    }
    let _guard = crate::ops::tier::shared_file_guard(ctx, &path)?;
    let mut records = DeploymentFile::load(project)?;
    let mut newly = Vec::new();
    let mut copies = 0;
    let mut changed = false;
    for record in &mut records.deployed {
        let Some(rel) = record.artifact_path.as_deref() else {
            continue;
        };
        let copy = project.join(rel);
        let on_disk = if std::fs::symlink_metadata(&copy).is_ok() {
            // An unreadable copy (a symlink, a FIFO) is left for drift to report.
            match hash::hash_path(&copy) {
                Ok(h) => Some(h.to_hex()),
                Err(_) => continue,
            }
        } else {
            None
        };
        copies += 1;
        if record.hash_algorithm != HashAlgorithm::V1 || record.content_hash.is_none() {
            continue;
        }
        let edited = on_disk != record.content_hash;
        match (edited, &record.modification_detected_at) {
            (true, None) => {
                record.modification_detected_at = Some(stamp.to_owned());
                record.last_modified_check = Some(stamp.to_owned());
                newly.push(record.id());
                changed = true;
            }
            (false, Some(_)) => {
                record.modification_detected_at = None;
                record.last_modified_check = Some(stamp.to_owned());
                changed = true;
            }
            _ => {}
        }
    }
    if changed {
        records.save(project)?;
    }
    Ok((copies, newly))
}
