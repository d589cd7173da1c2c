//! `deploy`: collection copies into a project's `.claude/`, never over a copy with edits of its
//! own, with a deployment record per artifact.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::model::files::ArtifactFiles;
use crate::model::hash::{self, ContentHash, HashAlgorithm};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::links::check_project_links;
use crate::ops::record::{Recorder, collection_version};
use crate::ops::tier::{Tier, artifact_path, lock_tier, shared_file_guard};
use crate::storage::apply;
use crate::storage::collection::{Lock, LockEntry, Manifest};
use crate::storage::events::{Event, EventKind};
use crate::storage::records::{DeploymentFile, DeploymentRecord, RecordedStatus};
use crate::storage::versions::Version;

/// What `deploy` did for one artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    /// The artifact's id.
    pub id: ArtifactId,
    /// Where it was written.
    pub path: PathBuf,
    /// The deployed version, now the project's baseline.
    pub content_hash: ContentHash,
    /// False when the project already had exactly this version.
    pub changed: bool,
    /// The deployed version's commit in the version store, when it could be recorded.
    pub snapshot_id: Option<String>,
}

/// What `deploy` did.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    /// The project, as registered (canonical path).
    pub project: PathBuf,
    /// One entry per artifact, in the order asked.
    pub deployed: Vec<Deployed>,
    /// Problems that did not stop the deployment (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
}

/// Deploys artifacts of `collection` into `project/.claude/`, recording each deployed version as
/// the baseline for drift and in the version store, and registering the project. Refuses to
/// overwrite unmanaged files or a project copy with edits; checks every artifact before
/// writing any.
pub async fn deploy(
    ctx: &Context,
    ids: &[ArtifactId],
    project: &Path,
    collection: &str,
) -> Result<DeployReport, OpsError> {
    deploy_checked(ctx, ids, project, collection, false).await
}

/// [`deploy`], with the checks of `crate::ops::check` first: their findings are warnings in
/// the report, or with `strict` an error among them refuses the deploy; two agents that would
/// share one frontmatter name in the project are refused either way. Nothing is written when
/// refused.
pub async fn deploy_checked(
    ctx: &Context,
    ids: &[ArtifactId],
    project: &Path,
    collection: &str,
    strict: bool,
) -> Result<DeployReport, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let lock = Lock::load(&collection_dir)?;
    check_project_links(&ctx.home, project).await?;
    let records = DeploymentFile::load(project)?;
    // Hooks and MCP servers are entries merged into a shared file, not copies.
    let (fragments, files): (Vec<ArtifactId>, Vec<ArtifactId>) =
        ids.iter().cloned().partition(|id| id.kind.is_fragment());
    // Check everything first, so a refusal for one artifact leaves the project untouched.
    for id in &fragments {
        if manifest.get(id).is_none() {
            return Err(OpsError::NotInCollection {
                id: id.clone(),
                collection: collection.to_owned(),
            });
        }
        crate::ops::fragments::check_deploy(id, project, &collection_dir, records.get(id))?;
    }
    let plan = plan_copies(
        &files,
        collection,
        &collection_dir,
        &manifest,
        &records,
        project,
    )?;
    let checked = crate::ops::check::before_deploy(ids, &collection_dir, project, strict)?;
    let mut recorder = Recorder::open(&ctx.home).await;
    let mut new_records = Vec::new();
    let mut out = Vec::new();
    let mut failure = None;
    for copy in plan {
        if copy.changed
            && let Err(e) = install_copy(ctx, copy.id, &copy.source, &copy.dest, project)
        {
            // Keep the records of the artifacts already written true before reporting it.
            failure = Some(e);
            break;
        }
        let events = deploy_event(ctx, &copy, collection, project);
        let previous = recorder.latest_in_collection(copy.id).await;
        let version = recorder
            .record_logged(
                collection_version(
                    ctx,
                    copy.id,
                    &copy.source,
                    &copy.source_hash,
                    lock.get(copy.id),
                    previous.as_ref(),
                ),
                events.as_slice(),
            )
            .await;
        new_records.push(deployment_record(
            ctx,
            &copy,
            collection,
            project,
            lock.get(copy.id),
            version.as_ref(),
        ));
        out.push(Deployed {
            id: copy.id.clone(),
            path: copy.dest,
            content_hash: copy.source_hash,
            changed: copy.changed,
            snapshot_id: version.map(|v| v.commit_id.to_string()),
        });
    }
    if failure.is_none() {
        for id in &fragments {
            let done = match crate::ops::fragments::deploy_one(
                ctx,
                id,
                project,
                collection,
                &collection_dir,
                records.get(id),
                lock.get(id),
            )
            .await
            {
                Ok(done) => done,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            let source = artifact_path(&collection_dir, id);
            let previous = recorder.latest_in_collection(id).await;
            let events: Vec<Event> = done
                .changed
                .then(|| {
                    let mut e = Event::new(EventKind::Deploy, id, collection, rfc3339(ctx.now));
                    e.project = Some(
                        project
                            .canonicalize()
                            .unwrap_or_else(|_| project.to_owned()),
                    );
                    e.direction = Some("collection-to-project".to_owned());
                    e.source = Some(done.hash);
                    e.result = Some(done.hash);
                    e.detail = serde_json::json!({
                        "first": records.get(id).is_none(),
                        "shared_file": done.record.shared_file,
                        "entries": done.record.entries.len(),
                    });
                    e
                })
                .into_iter()
                .collect();
            let version = recorder
                .record_logged(
                    collection_version(
                        ctx,
                        id,
                        &source,
                        &done.hash,
                        lock.get(id),
                        previous.as_ref(),
                    ),
                    &events,
                )
                .await;
            let mut record = done.record;
            record.snapshot_id = version.as_ref().map(|v| v.commit_id.to_string());
            record.version_tag = version.as_ref().and_then(|v| v.version_tag.clone());
            new_records.push(record);
            out.push(Deployed {
                id: id.clone(),
                path: done.path,
                content_hash: done.hash,
                changed: done.changed,
                snapshot_id: version.map(|v| v.commit_id.to_string()),
            });
        }
    }
    save_records(ctx, project, new_records)?;
    if let Some(e) = failure {
        recorder.finish().await;
        return Err(e);
    }
    let project = recorder.register(project, ctx.now).await;
    let mut warnings = checked;
    warnings.extend(recorder.finish().await);
    Ok(DeployReport {
        project,
        deployed: out,
        warnings,
    })
}

/// The log's entry for one copy: a deploy that wrote the project or made a first record of it
/// (a deploy of what the project already holds, recorded as such, is not news).
fn deploy_event(
    ctx: &Context,
    copy: &PlannedCopy<'_>,
    collection: &str,
    project: &Path,
) -> Option<Event> {
    if !copy.changed && copy.existing.is_some() {
        return None;
    }
    let mut e = Event::new(EventKind::Deploy, copy.id, collection, rfc3339(ctx.now));
    e.project = Some(
        project
            .canonicalize()
            .unwrap_or_else(|_| project.to_owned()),
    );
    e.direction = Some("collection-to-project".to_owned());
    e.base = copy
        .existing
        .as_ref()
        .and_then(|r| r.content_hash.as_deref())
        .and_then(|h| h.parse().ok());
    e.source = Some(copy.source_hash);
    e.result = Some(copy.source_hash);
    e.detail = serde_json::json!({ "first": copy.existing.is_none() });
    Some(e)
}

/// One artifact's copy, checked and ready to write.
struct PlannedCopy<'a> {
    id: &'a ArtifactId,
    /// The collection's copy, and its version.
    source: PathBuf,
    source_hash: ContentHash,
    /// Where it goes in the project, and the record it has there now.
    dest: PathBuf,
    existing: Option<DeploymentRecord>,
    /// False when the project already holds exactly this version.
    changed: bool,
}

/// Checks every artifact before any is written: each must be in the collection, and a copy
/// already in the project must be one SkillMeat deployed and left unedited (or equal the
/// source).
fn plan_copies<'a>(
    ids: &'a [ArtifactId],
    collection: &str,
    collection_dir: &Path,
    manifest: &Manifest,
    records: &DeploymentFile,
    project: &Path,
) -> Result<Vec<PlannedCopy<'a>>, OpsError> {
    let claude = project.join(".claude");
    let mut plan = Vec::with_capacity(ids.len());
    for id in ids {
        if manifest.get(id).is_none() {
            return Err(OpsError::NotInCollection {
                id: id.clone(),
                collection: collection.to_owned(),
            });
        }
        let source = artifact_path(collection_dir, id);
        let source_hash = hash::hash_path(&source)?;
        let dest = artifact_path(&claude, id);
        let existing = records.get(id).cloned();
        let mut changed = true;
        if fs::symlink_metadata(&dest).is_ok() {
            let current = hash::hash_path(&dest)?;
            match &existing {
                None if current != source_hash => return Err(OpsError::Unmanaged { path: dest }),
                Some(r) if !matches_baseline(r, &dest, &current)? => {
                    return Err(OpsError::LocalEdits {
                        id: id.clone(),
                        project: project.to_owned(),
                    });
                }
                _ => changed = current != source_hash,
            }
        }
        plan.push(PlannedCopy {
            id,
            source,
            source_hash,
            dest,
            existing,
            changed,
        });
    }
    Ok(plan)
}

/// The project's record of `copy` once deployed: the deployed version is its baseline, the
/// previous one its parent, and the upstream fields follow the collection's lock.
fn deployment_record(
    ctx: &Context,
    copy: &PlannedCopy<'_>,
    collection: &str,
    project: &Path,
    locked: Option<&LockEntry>,
    version: Option<&Version>,
) -> DeploymentRecord {
    let claude = project.join(".claude");
    let stamp = rfc3339(ctx.now);
    let hex = copy.source_hash.to_hex();
    let existing = copy.existing.as_ref();
    let mut lineage = existing
        .map(|r| r.version_lineage.clone())
        .unwrap_or_default();
    if lineage.first() != Some(&hex) {
        lineage.insert(0, hex.clone());
    }
    DeploymentRecord {
        artifact_name: copy.id.name.clone(),
        artifact_type: copy.id.kind,
        from_collection: collection.to_owned(),
        deployed_at: Some(stamp.clone()),
        artifact_path: Some(format!(
            ".claude/{}",
            copy.dest
                .strip_prefix(&claude)
                .unwrap_or(&copy.dest)
                .display()
        )),
        content_hash: Some(hex.clone()),
        hash_algorithm: HashAlgorithm::V1,
        local_modifications: false,
        parent_hash: existing
            .and_then(|r| r.content_hash.clone())
            .filter(|h| h != &hex),
        version_lineage: lineage,
        sync_status: RecordedStatus::Synced,
        upstream_ref: locked.map(|l| l.reference.clone()),
        upstream_version: locked
            .map(|l| l.reference.clone())
            .filter(|r| r != "latest"),
        upstream_sha: locked.map(|l| l.commit.clone()),
        last_upstream_check: locked.map(|l| l.fetched_at.clone()),
        pending_conflicts: Vec::new(),
        last_modified_check: Some(stamp),
        modification_detected_at: None,
        merge_base_snapshot: Some(hex),
        snapshot_id: version.map(|v| v.commit_id.to_string()),
        version_tag: version.and_then(|v| v.version_tag.clone()),
        shared_file: None,
        entries: Vec::new(),
        pending_picks: Vec::new(),
        shared_file_backup: None,
    }
}

/// Puts `new_records` into the project's records file as it is now (another writer may have
/// changed other entries since it was read), under the file's own lock.
fn save_records(
    ctx: &Context,
    project: &Path,
    new_records: Vec<DeploymentRecord>,
) -> Result<(), OpsError> {
    let _guard = shared_file_guard(ctx, &DeploymentFile::path_in(project))?;
    let mut current = DeploymentFile::load(project)?;
    for record in new_records {
        current.deployed.retain(|r| r.id() != record.id());
        current.deployed.push(record);
    }
    current.deployed.sort_by_key(DeploymentRecord::id);
    current.save(project)?;
    Ok(())
}

/// Copies the collection's `source` to the project's `dest` under the project tier's lock.
fn install_copy(
    ctx: &Context,
    id: &ArtifactId,
    source: &Path,
    dest: &Path,
    project: &Path,
) -> Result<(), OpsError> {
    let files = ArtifactFiles::read(source)?;
    let _lock = lock_tier(ctx, &Tier::Project(project.to_owned()), id)?;
    apply::install(&files, id.kind.is_dir(), dest, &mut |_| Ok(()))?;
    Ok(())
}

/// Whether the project copy still equals the version recorded as deployed, honouring the
/// algorithm the record was written with.
fn matches_baseline(
    record: &DeploymentRecord,
    path: &Path,
    current_v1: &ContentHash,
) -> Result<bool, OpsError> {
    let Some(base) = record.content_hash.as_deref() else {
        return Ok(false);
    };
    Ok(match record.hash_algorithm {
        HashAlgorithm::V1 => base == current_v1.to_hex(),
        HashAlgorithm::Legacy => base == hash::legacy_hash_path(path)?.to_hex(),
    })
}
