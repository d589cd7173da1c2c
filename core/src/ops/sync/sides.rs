//! The three sides of a sync, loaded: the base both tiers last agreed on, the target ("ours")
//! and the source ("theirs"), each recorded as a version before anything is written.

use std::fs;
use std::path::{Path, PathBuf};

use crate::model::artifact::ArtifactId;
use crate::model::error::IoResultExt as _;
use crate::model::files::ArtifactFiles;
use crate::model::hash::{ContentHash, HashAlgorithm};
use crate::model::upstream::UpstreamSpec;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::Recorder;
use crate::ops::sync::request::{Direction, SyncRequest};
use crate::ops::tier::{Tier, artifact_path, final_name};
use crate::storage::collection::{Lock, Manifest, ManifestEntry};
use crate::storage::fetch::UpstreamCache;
use crate::storage::records::DeploymentFile;
use crate::storage::versions::{ChangeOrigin, NewVersion, Versions};

/// Where the upstream was when its content was read, for the lock.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamPoint {
    pub commit: String,
    pub tree: String,
}

/// The three sides of a sync, read from disk and the store.
pub(crate) struct Sides {
    pub target_path: PathBuf,
    pub target_tier: Tier,
    pub source: ArtifactFiles,
    pub source_hash: ContentHash,
    pub target: Option<ArtifactFiles>,
    pub target_hash: Option<ContentHash>,
    pub base_hash: Option<ContentHash>,
    pub base: Option<ArtifactFiles>,
    pub upstream: Option<UpstreamPoint>,
}

/// The upstream's current version of an artifact (at its spec's ref), fetched and read.
pub async fn upstream_files(
    ctx: &Context,
    req: &SyncRequest<'_>,
) -> Result<ArtifactFiles, OpsError> {
    let req = SyncRequest {
        direction: Direction::UpstreamToCollection,
        project: None,
        on_phase: None,
        expect: None,
        ..req.clone()
    };
    Ok(load_sides(ctx, &req, None).await?.source)
}

/// Reads the source, target and base of a sync. Writes nothing (an upstream is fetched into
/// the cache, which is not a tier). `collection_as`, when given, stands for the collection's
/// copy (a plan of a step after one not yet applied).
pub(crate) async fn load_sides(
    ctx: &Context,
    req: &SyncRequest<'_>,
    collection_as: Option<&ArtifactFiles>,
) -> Result<Sides, OpsError> {
    let collection_dir = ctx.home.collection_dir(req.collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let entry = manifest
        .get(req.id)
        .ok_or_else(|| OpsError::NotInCollection {
            id: req.id.clone(),
            collection: req.collection.to_owned(),
        })?;
    let mut sides = match req.direction {
        Direction::UpstreamToCollection => upstream_sides(ctx, req, entry, &collection_dir)?,
        Direction::CollectionToProject | Direction::ProjectToCollection => {
            project_sides(ctx, req, &collection_dir, collection_as).await?
        }
    };
    if let Some(base_hash) = sides.base_hash {
        sides.base = base_content(ctx, req.id, base_hash, &sides).await?;
    }
    Ok(sides)
}

/// The artifact at `path`, or none when nothing is there.
fn read_if_present(path: &Path) -> Result<Option<ArtifactFiles>, OpsError> {
    if fs::symlink_metadata(path).is_err() {
        return Ok(None);
    }
    Ok(Some(ArtifactFiles::read(path)?))
}

/// Upstream → collection: the source fetched from the upstream at the ref asked, the target the
/// collection's copy, the base what the lock says was last taken from the upstream.
fn upstream_sides(
    ctx: &Context,
    req: &SyncRequest<'_>,
    entry: &ManifestEntry,
    collection_dir: &Path,
) -> Result<Sides, OpsError> {
    let spec_text = entry
        .upstream
        .as_deref()
        .ok_or_else(|| OpsError::NoUpstream { id: req.id.clone() })?;
    let lock = Lock::load(collection_dir)?;
    let spec = UpstreamSpec::parse(spec_text)?;
    let repo =
        UpstreamCache::new(ctx.home.root().join("cache/upstream")).fetch(&spec, &ctx.fetch)?;
    let commit = repo.resolve(&spec.reference)?;
    let info = repo.path_info(&commit, &spec.path)?;
    let scratch = tempfile::tempdir().context("create a temp folder", std::env::temp_dir())?;
    let out = scratch.path().join(final_name(req.id));
    repo.export(&commit, &spec.path, &out, &ctx.fetch.limits)?;
    let source = ArtifactFiles::read(&out)?;
    let in_collection = artifact_path(collection_dir, req.id);
    let target = read_if_present(&in_collection)?;
    Ok(Sides {
        target_path: in_collection,
        target_tier: Tier::Collection(req.collection.to_owned()),
        source_hash: source.content_hash(),
        source,
        target_hash: target.as_ref().map(ArtifactFiles::content_hash),
        target,
        base_hash: lock
            .get(req.id)
            .filter(|l| l.hash_algorithm == HashAlgorithm::V1)
            .and_then(|l| l.content_hash.parse().ok()),
        base: None,
        upstream: Some(UpstreamPoint {
            commit,
            tree: info.id,
        }),
    })
}

/// Collection ↔ a registered project: the two copies (which is source and which target by the
/// direction), the base the project's deployment record holds (in the current hash algorithm).
async fn project_sides(
    ctx: &Context,
    req: &SyncRequest<'_>,
    collection_dir: &Path,
    collection_as: Option<&ArtifactFiles>,
) -> Result<Sides, OpsError> {
    let project = req.project.ok_or(OpsError::ProjectRequired {
        direction: req.direction.as_str(),
    })?;
    let registered = crate::ops::links::registered_projects(&ctx.home).await?;
    let canonical = project
        .canonicalize()
        .context("open the project", project)?;
    if !registered.contains(&canonical) {
        return Err(OpsError::NotRegistered {
            project: project.to_owned(),
        });
    }
    if req.direction == Direction::CollectionToProject {
        crate::ops::links::check_project_links(&ctx.home, project).await?;
    }
    let records = DeploymentFile::load(project)?;
    let record = records.get(req.id).ok_or_else(|| OpsError::NotDeployed {
        id: req.id.clone(),
        project: project.to_owned(),
    })?;
    let in_collection = artifact_path(collection_dir, req.id);
    let in_project = artifact_path(&project.join(".claude"), req.id);
    let collection_copy = match collection_as {
        Some(planned) => Some(planned.clone()),
        None => read_if_present(&in_collection)?,
    };
    let project_copy = read_if_present(&in_project)?;
    let base_hash = crate::ops::legacy::baseline_in_v1(record, &[&in_project, &in_collection])?;
    let (source, target, target_path, target_tier) =
        if req.direction == Direction::CollectionToProject {
            (
                collection_copy,
                project_copy,
                in_project,
                Tier::Project(project.to_owned()),
            )
        } else {
            (
                project_copy,
                collection_copy,
                in_collection,
                Tier::Collection(req.collection.to_owned()),
            )
        };
    let source = source.ok_or_else(|| OpsError::SourceMissing {
        id: req.id.clone(),
        direction: req.direction.as_str(),
    })?;
    Ok(Sides {
        target_path,
        target_tier,
        source_hash: source.content_hash(),
        source,
        target_hash: target.as_ref().map(ArtifactFiles::content_hash),
        target,
        base_hash,
        base: None,
        upstream: None,
    })
}

/// The base's content: a side that still is the base, or the version store's copy of it; none
/// when neither has it (the merge then has no common ancestor and will not guess one).
async fn base_content(
    ctx: &Context,
    id: &ArtifactId,
    base_hash: ContentHash,
    sides: &Sides,
) -> Result<Option<ArtifactFiles>, OpsError> {
    if base_hash == sides.source_hash {
        return Ok(Some(sides.source.clone()));
    }
    if Some(base_hash) == sides.target_hash {
        return Ok(sides.target.clone());
    }
    let Some(versions) = Versions::open_read_only(&ctx.home).await? else {
        return Ok(None);
    };
    let base = async {
        match versions.get(id, &base_hash.to_hex()).await? {
            Some(v) => Ok::<_, OpsError>(Some(versions.store().read_tree(&v.tree_id)?)),
            None => Ok(None),
        }
    }
    .await;
    versions.close().await;
    base
}

/// Records the target as it is now (the pre-sync snapshot) and the source; returns the
/// target's store commit.
pub(crate) async fn record_sides(
    ctx: &Context,
    req: &SyncRequest<'_>,
    sides: &Sides,
    recorder: &mut Recorder,
) -> Option<String> {
    let base: Vec<String> = sides.base_hash.iter().map(|h| h.to_hex()).collect();
    let scratch = tempfile::tempdir().ok()?;
    let mut record = async |files: &ArtifactFiles, hash: ContentHash, origin, metadata| {
        let path = scratch.path().join(hash.to_hex()).join(final_name(req.id));
        let parent = path.parent()?.to_owned();
        fs::create_dir_all(&parent).ok()?;
        files.write_to(&path, req.id.kind.is_dir()).ok()?;
        let parents = if Some(hash) == sides.base_hash {
            Vec::new()
        } else {
            base.clone()
        };
        recorder
            .record(NewVersion {
                artifact: req.id,
                path: &path,
                origin,
                parents,
                parents_of: None,
                metadata,
                now: ctx.now,
            })
            .await
    };
    let source_origin = match req.direction {
        Direction::ProjectToCollection => ChangeOrigin::LocalModification,
        Direction::UpstreamToCollection => ChangeOrigin::Sync,
        // The collection's copy: from its upstream unless edited since the last fetch.
        Direction::CollectionToProject => {
            let locked = ctx
                .home
                .collection_dir(req.collection)
                .ok()
                .and_then(|d| Lock::load(&d).ok())
                .and_then(|l| l.get(req.id).map(|e| e.content_hash.clone()));
            if locked.as_deref() == Some(sides.source_hash.to_hex().as_str()) {
                ChangeOrigin::Sync
            } else {
                ChangeOrigin::LocalModification
            }
        }
    };
    let source_meta = match &sides.upstream {
        Some(u) => serde_json::json!({ "source": "upstream", "commit": u.commit }),
        None => serde_json::json!({ "tier": source_tier_name(req.direction) }),
    };
    record(&sides.source, sides.source_hash, source_origin, source_meta).await;
    let (target, hash) = (sides.target.as_ref()?, sides.target_hash?);
    let version = record(
        target,
        hash,
        ChangeOrigin::LocalModification,
        serde_json::json!({ "tier": target_tier_name(req.direction), "snapshot": "pre-sync" }),
    )
    .await?;
    Some(version.commit_id.to_string())
}

pub(crate) fn source_tier_name(direction: Direction) -> &'static str {
    match direction {
        Direction::UpstreamToCollection => "upstream",
        Direction::CollectionToProject => "collection",
        Direction::ProjectToCollection => "project",
    }
}

pub(crate) fn target_tier_name(direction: Direction) -> &'static str {
    match direction {
        Direction::UpstreamToCollection | Direction::ProjectToCollection => "collection",
        Direction::CollectionToProject => "project",
    }
}
