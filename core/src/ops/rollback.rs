//! `rollback`: a tier's copy back to a recorded version, kept as a new version on top.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::model::error::IoResultExt as _;
use crate::model::hash::{self, ContentHash};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::links::{check_project_links, registered_projects};
use crate::ops::record::Recorder;
use crate::ops::tier::{Tier, artifact_path, lock_tier};
use crate::storage::apply;
use crate::storage::collection::Manifest;
use crate::storage::events::{Event, EventKind};
use crate::storage::records::DeploymentFile;
use crate::storage::versions::{ChangeOrigin, NewVersion, Versions};

/// What `rollback` did.
#[derive(Debug, Clone, Serialize)]
pub struct RolledBack {
    /// Which artifact was rolled back.
    pub id: ArtifactId,
    /// Where: the project, or `None` for the collection.
    pub project: Option<PathBuf>,
    /// The version replaced.
    pub from: Option<ContentHash>,
    /// The version restored.
    pub to: ContentHash,
    /// False when the tier already held that version.
    pub changed: bool,
    /// Problems that did not stop it.
    pub warnings: Vec<String>,
}

/// Restores a recorded version of `id` (a hash prefix or tag) in the collection, or in
/// `project`, atomically and under the tier's lock. The version replaced is recorded first, so
/// a rollback can itself be rolled back; the rollback is recorded as an event with origin
/// `rollback`. Baselines are left as they are: drift then shows the rolled-back copy against
/// what the other tier has.
pub async fn rollback(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    to: &str,
) -> Result<RolledBack, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    if Manifest::load(&collection_dir)?.get(id).is_none() {
        return Err(OpsError::NotInCollection {
            id: id.clone(),
            collection: collection.to_owned(),
        });
    }
    if let Some(pending) = crate::ops::conflicts::into_tier(&ctx.home, id, collection, project)? {
        return Err(OpsError::PendingMerge {
            id: id.clone(),
            path: pending.dir,
        });
    }
    let (path, tier, tier_name) = match project {
        Some(p) => {
            let registered = registered_projects(&ctx.home).await?;
            let canonical = p.canonicalize().context("open the project", p)?;
            if !registered.contains(&canonical) {
                return Err(OpsError::NotRegistered {
                    project: p.to_owned(),
                });
            }
            if DeploymentFile::load(p)?.get(id).is_none() {
                return Err(OpsError::NotDeployed {
                    id: id.clone(),
                    project: p.to_owned(),
                });
            }
            check_project_links(&ctx.home, p).await?;
            (
                artifact_path(&p.join(".claude"), id),
                Tier::Project(p.to_owned()),
                canonical.to_string_lossy().into_owned(),
            )
        }
        None => (
            artifact_path(&collection_dir, id),
            Tier::Collection(collection.to_owned()),
            "collection".to_owned(),
        ),
    };
    let versions = Versions::open(&ctx.home).await?;
    let target = versions.resolve(id, to).await?;
    let files = versions.store().read_tree(&target.tree_id)?;
    let mut recorder = Recorder {
        versions: Some(versions.clone()),
        warnings: Vec::new(),
    };
    let _lock = lock_tier(ctx, &tier, id)?;
    let current = if fs::symlink_metadata(&path).is_ok() {
        Some(hash::hash_path(&path)?)
    } else {
        None
    };
    let changed = current != Some(target.content_hash);
    if changed {
        let replaced = match current {
            Some(_) => {
                recorder
                    .record(NewVersion {
                        artifact: id,
                        path: &path,
                        origin: ChangeOrigin::LocalModification,
                        parents: Vec::new(),
                        parents_of: None,
                        metadata: serde_json::json!({ "snapshot": "pre-rollback" }),
                        now: ctx.now,
                    })
                    .await
            }
            None => None,
        };
        apply::install(&files, id.kind.is_dir(), &path, &mut |_| Ok(()))?;
        let mut event = Event::new(EventKind::Rollback, id, collection, rfc3339(ctx.now));
        event.project = project.map(|_| PathBuf::from(&tier_name));
        event.target = current;
        event.result = Some(target.content_hash);
        event.detail = serde_json::json!({ "to": to });
        if let Err(e) = versions
            .record_event(
                &target,
                replaced.as_ref(),
                ChangeOrigin::Rollback,
                &tier_name,
                ctx.now,
                std::slice::from_ref(&event),
            )
            .await
        {
            recorder
                .warnings
                .push(format!("could not record the rollback of {id}: {e}"));
        }
    }
    Ok(RolledBack {
        id: id.clone(),
        project: project.map(Path::to_owned),
        from: current,
        to: target.content_hash,
        changed,
        warnings: recorder.finish().await,
    })
}
