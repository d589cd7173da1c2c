//! `remove` (an artifact out of a collection) and `undeploy` (a copy out of a project).
//!
//! Neither loses an edit: a project copy with edits of its own is refused unless forced, and a
//! forced one is recorded in the version store first; a collection copy is recorded before it
//! goes, so `history` still lists it. Everything is checked before anything is written, and the
//! files go in one rename (see [`apply::uninstall`]) before their records, so a kill midway is
//! finished by running the command again.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::model::hash::ContentHash;
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::{Recorder, collection_version};
use crate::ops::tier::{Tier, artifact_path, lock_tier, shared_file_guard};
use crate::storage::apply;
use crate::storage::collection::{LOCK_FILE, Lock, MANIFEST_FILE, Manifest};
use crate::storage::events::{Event, EventKind};
use crate::storage::records::DeploymentFile;
use crate::storage::versions::{ChangeOrigin, NewVersion};

/// What `undeploy` did with one copy.
#[derive(Debug, Clone, Serialize)]
pub struct Undeployed {
    /// The artifact.
    pub id: ArtifactId,
    /// The project (canonical path).
    pub project: PathBuf,
    /// The version the copy held, when there was one.
    pub content_hash: Option<ContentHash>,
    /// Whether it had edits of its own (recorded in the version store before it went).
    pub local_edits: bool,
}

/// What `remove` did.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// The artifact.
    pub id: ArtifactId,
    /// The collection it left.
    pub collection: String,
    /// The version the collection held (still in `history`).
    pub content_hash: Option<ContentHash>,
    /// The copies taken out of projects first (with `undeploy`).
    pub undeployed: Vec<Undeployed>,
    /// Problems that did not stop it (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
}

/// What `undeploy` did.
#[derive(Debug, Clone, Serialize)]
pub struct UndeployReport {
    /// One entry per artifact, in the order asked.
    pub undeployed: Vec<Undeployed>,
    /// Problems that did not stop it.
    pub warnings: Vec<String>,
}

/// One copy checked and ready to take out.
struct PlannedUndeploy {
    id: ArtifactId,
    project: PathBuf,
    path: PathBuf,
    current: Option<ContentHash>,
    local_edits: bool,
    /// A hook or mcp artifact: its entries leave the shared file, no copy is removed.
    fragment: bool,
}

/// Checks that `id` can leave `project`: deployed there, no merge of it pending there, and no
/// edits of its own unless `force`.
fn plan_undeploy(
    ctx: &Context,
    id: &ArtifactId,
    project: &Path,
    collection: &str,
    force: bool,
) -> Result<PlannedUndeploy, OpsError> {
    let records = DeploymentFile::load(project)?;
    let record = records.get(id).ok_or_else(|| OpsError::NotDeployed {
        id: id.clone(),
        project: project.to_owned(),
    })?;
    if let Some(pending) = crate::ops::conflicts::find(&ctx.home, id, collection, Some(project))? {
        return Err(OpsError::PendingMerge {
            id: id.clone(),
            path: pending.dir,
        });
    }
    if id.kind.is_fragment() {
        let path = project.join(
            record
                .shared_file
                .as_deref()
                .unwrap_or(".claude/settings.json"),
        );
        if !record.pending_conflicts.is_empty() {
            return Err(OpsError::PendingMerge {
                id: id.clone(),
                path,
            });
        }
        let collection_dir = ctx.home.collection_dir(collection)?;
        let (base, source, current) =
            crate::ops::fragments::drift_hashes(&collection_dir, project, id, record)?;
        let _ = source;
        let local_edits = current != base;
        if local_edits && !force {
            return Err(OpsError::UndeployEdits {
                id: id.clone(),
                project: project.to_owned(),
            });
        }
        return Ok(PlannedUndeploy {
            id: id.clone(),
            project: project
                .canonicalize()
                .unwrap_or_else(|_| project.to_owned()),
            path,
            current,
            local_edits,
            fragment: true,
        });
    }
    let path = artifact_path(&project.join(".claude"), id);
    let current = if std::fs::symlink_metadata(&path).is_ok() {
        Some(crate::model::hash::hash_path(&path)?)
    } else {
        None
    };
    let baseline = crate::ops::legacy::baseline_in_v1(record, &[&path])?;
    let local_edits = current.is_some() && current != baseline;
    if local_edits && !force {
        return Err(OpsError::UndeployEdits {
            id: id.clone(),
            project: project.to_owned(),
        });
    }
    Ok(PlannedUndeploy {
        id: id.clone(),
        project: project
            .canonicalize()
            .unwrap_or_else(|_| project.to_owned()),
        path,
        current,
        local_edits,
        fragment: false,
    })
}

/// Takes one planned copy out: its edits recorded first when it has any, the files removed
/// under the project's lock, the record dropped, and the event logged.
async fn undeploy_one(
    ctx: &Context,
    recorder: &mut Recorder,
    plan: &PlannedUndeploy,
    collection: &str,
) -> Result<Undeployed, OpsError> {
    let mut event = Event::new(EventKind::Undeploy, &plan.id, collection, rfc3339(ctx.now));
    event.project = Some(plan.project.clone());
    event.target = plan.current;
    event.detail = serde_json::json!({ "local_edits": plan.local_edits });
    if plan.fragment {
        // Edited entries are not recorded: they may hold the user's secrets in clear.
        crate::ops::fragments::undeploy_one(ctx, &plan.id, &plan.project, true).await?;
    } else {
        let _held = lock_tier(ctx, &Tier::Project(plan.project.clone()), &plan.id)?;
        if plan.local_edits {
            recorder
                .record(NewVersion {
                    artifact: &plan.id,
                    path: &plan.path,
                    origin: ChangeOrigin::LocalModification,
                    parents: Vec::new(),
                    parents_of: None,
                    metadata: serde_json::json!({
                        "tier": "project",
                        "project": plan.project.display().to_string(),
                        "recorded": "before undeploy",
                    }),
                    now: ctx.now,
                })
                .await;
        }
        apply::uninstall(&plan.path)?;
    }
    {
        let _guard = shared_file_guard(ctx, &DeploymentFile::path_in(&plan.project))?;
        let mut records = DeploymentFile::load(&plan.project)?;
        records.deployed.retain(|r| r.id() != plan.id);
        records.save(&plan.project)?;
    }
    recorder.log(&[event]).await;
    Ok(Undeployed {
        id: plan.id.clone(),
        project: plan.project.clone(),
        content_hash: plan.current,
        local_edits: plan.local_edits,
    })
}

/// Takes `ids` out of `project`: each must be deployed there with no merge pending; a copy with
/// edits of its own is refused unless `force`, which records those edits in the version store
/// first. Every artifact is checked before any is removed.
pub async fn undeploy(
    ctx: &Context,
    ids: &[ArtifactId],
    project: &Path,
    collection: &str,
    force: bool,
) -> Result<UndeployReport, OpsError> {
    crate::ops::links::check_project_links(&ctx.home, project).await?;
    let plans = ids
        .iter()
        .map(|id| plan_undeploy(ctx, id, project, collection, force))
        .collect::<Result<Vec<_>, _>>()?;
    let mut recorder = Recorder::open(&ctx.home).await;
    let mut undeployed = Vec::new();
    for plan in &plans {
        match undeploy_one(ctx, &mut recorder, plan, collection).await {
            Ok(done) => undeployed.push(done),
            Err(e) => {
                recorder.finish().await;
                return Err(e);
            }
        }
    }
    Ok(UndeployReport {
        undeployed,
        warnings: recorder.finish().await,
    })
}

/// The registered projects that hold a copy of `id` deployed from `collection`.
pub(crate) async fn deployed_in(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
) -> Result<Vec<PathBuf>, OpsError> {
    let mut out = Vec::new();
    for project in crate::ops::links::registered_projects(&ctx.home).await? {
        // A registered project that is gone, or whose records are unreadable, holds no copy
        // this can take out; drift reports such projects.
        let Ok(records) = DeploymentFile::load(&project) else {
            continue;
        };
        if records
            .get(id)
            .is_some_and(|r| r.from_collection == collection || r.from_collection.is_empty())
        {
            out.push(project);
        }
    }
    Ok(out)
}

/// Takes `id` out of `collection`: its files, its manifest and lock entries. Refused while a
/// registered project holds a copy, unless `undeploy` (then those copies go first, by the rules
/// of [`undeploy`], `force` included), and while a merge of it is pending in the collection.
/// The collection's copy is recorded as a version before it goes.
pub async fn remove(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    undeploy: bool,
    force: bool,
) -> Result<Removed, OpsError> {
    let dir = ctx.home.collection_dir(collection)?;
    if Manifest::load(&dir)?.get(id).is_none() {
        return Err(OpsError::NotInCollection {
            id: id.clone(),
            collection: collection.to_owned(),
        });
    }
    if let Some(pending) = crate::ops::conflicts::find(&ctx.home, id, collection, None)? {
        return Err(OpsError::PendingMerge {
            id: id.clone(),
            path: pending.dir,
        });
    }
    let projects = deployed_in(ctx, id, collection).await?;
    if !projects.is_empty() && !undeploy {
        return Err(OpsError::StillDeployed {
            id: id.clone(),
            projects: projects
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut plans = Vec::new();
    for project in &projects {
        crate::ops::links::check_project_links(&ctx.home, project).await?;
        plans.push(plan_undeploy(ctx, id, project, collection, force)?);
    }
    let mut recorder = Recorder::open(&ctx.home).await;
    let mut undeployed = Vec::new();
    for plan in &plans {
        match undeploy_one(ctx, &mut recorder, plan, collection).await {
            Ok(done) => undeployed.push(done),
            Err(e) => {
                recorder.finish().await;
                return Err(e);
            }
        }
    }
    let path = artifact_path(&dir, id);
    let lock = Lock::load(&dir)?;
    let current = {
        let _held = lock_tier(ctx, &Tier::Collection(collection.to_owned()), id)?;
        let current = if std::fs::symlink_metadata(&path).is_ok() {
            let hash = crate::model::hash::hash_path(&path)?;
            let previous = recorder.latest_in_collection(id).await;
            recorder
                .record(collection_version(
                    ctx,
                    id,
                    &path,
                    &hash,
                    lock.get(id),
                    previous.as_ref(),
                ))
                .await;
            Some(hash)
        } else {
            None
        };
        apply::uninstall(&path)?;
        current
    };
    {
        let _manifest_guard = shared_file_guard(ctx, &dir.join(MANIFEST_FILE))?;
        let mut manifest = Manifest::load(&dir)?;
        manifest.artifacts.retain(|e| &e.id != id);
        let _lock_guard = shared_file_guard(ctx, &dir.join(LOCK_FILE))?;
        let mut lock = Lock::load(&dir)?;
        lock.artifacts.retain(|e| &e.id != id);
        lock.save(&dir)?;
        manifest.save(&dir)?;
    }
    let mut event = Event::new(EventKind::Remove, id, collection, rfc3339(ctx.now));
    event.target = current;
    event.detail = serde_json::json!({
        "undeployed": undeployed.iter().map(|u| u.project.display().to_string()).collect::<Vec<_>>(),
    });
    recorder.log(&[event]).await;
    Ok(Removed {
        id: id.clone(),
        collection: collection.to_owned(),
        content_hash: current,
        undeployed,
        warnings: recorder.finish().await,
    })
}
