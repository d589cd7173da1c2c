//! The modification timeline of a deployed copy — deployed at, first local modification
//! detected, last checked, how many versions, parent — and the scheduled check that keeps it.
//!
//! `drift` stays read-only, so the times are written by the writes SkillMeat already makes
//! (deploy and sync set them) and by [`check_projects`], which the server runs on a schedule:
//! per deployed copy it stamps `last_modified_check`, sets `modification_detected_at` the first
//! time the copy is found to differ from its baseline and clears it when the copy is back to
//! the baseline. Each records file is changed under its lock, on the file as it is then, so a
//! check never loses a record another writer adds meanwhile.

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
    /// When SkillMeat last compared the copy with its baseline.
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
    let versions = match Versions::open_read_only(&ctx.home).await? {
        Some(v) => {
            let n = v.history(id).await.map(|h| h.len());
            v.close().await;
            n?
        }
        None => 0,
    };
    Ok(Timeline {
        id: id.clone(),
        project: project
            .canonicalize()
            .unwrap_or_else(|_| project.to_owned()),
        deployed_at: record.deployed_at.clone(),
        modified_since: record.modification_detected_at.clone(),
        last_checked: record.last_modified_check.clone(),
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

/// Compares every deployed copy of every registered project with its baseline and stamps the
/// records: `last_modified_check` always, `modification_detected_at` when a copy is first found
/// edited (cleared when it is back to its baseline). Copies whose baseline is a legacy hash are
/// stamped as checked only (`skillmeat migrate` upgrades them). A project that cannot be read is
/// a problem in the report, never a stop.
pub async fn check_projects(ctx: &Context) -> Result<Checked, OpsError> {
    let mut out = Checked::default();
    let stamp = rfc3339(ctx.now);
    for project in crate::ops::links::registered_projects(&ctx.home).await? {
        match check_project(ctx, &project, &stamp) {
            Ok((copies, newly)) => {
                out.projects += 1;
                out.copies += copies;
                out.newly_modified
                    .extend(newly.into_iter().map(|id| (project.clone(), id)));
            }
            Err(e) => out.problems.push(format!("{}: {e}", project.display())),
        }
    }
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
        record.last_modified_check = Some(stamp.to_owned());
        if record.hash_algorithm != HashAlgorithm::V1 || record.content_hash.is_none() {
            continue;
        }
        let edited = on_disk != record.content_hash;
        match (edited, &record.modification_detected_at) {
            (true, None) => {
                record.modification_detected_at = Some(stamp.to_owned());
                newly.push(record.id());
            }
            (false, Some(_)) => record.modification_detected_at = None,
            _ => {}
        }
    }
    if copies > 0 {
        records.save(project)?;
    }
    Ok((copies, newly))
}
