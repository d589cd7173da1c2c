//! Applying a sync's result: the locked, atomic write of the target and the new baseline.

use std::fs;
use std::path::Path;

use crate::engine::merge::{FileAction, FileOutcome};
use crate::model::artifact::ArtifactId;
use crate::model::files::ArtifactFiles;
use crate::model::hash::{ContentHash, HashAlgorithm};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::Recorder;
use crate::ops::sync::request::{Direction, Outcome, SyncRequest};
use crate::ops::sync::sides::Sides;
use crate::storage::apply::{self, ArtifactLock};
use crate::storage::collection::{Lock, LockEntry};
use crate::storage::events::{Event, EventKind};
use crate::storage::records::{DeploymentFile, RecordedStatus};
use crate::storage::versions::{ChangeOrigin, NewVersion};

/// Everything needed to put a result in place and record it.
pub(crate) struct Commit<'a> {
    pub id: &'a ArtifactId,
    pub direction: Direction,
    pub collection: &'a str,
    pub project: Option<&'a Path>,
    pub sides: &'a Sides,
    /// What the target will hold; `None` or equal to the target means it is not rewritten.
    pub result: Option<&'a ArtifactFiles>,
    pub origin: ChangeOrigin,
    /// The store commit of the pre-sync target.
    pub snapshot: Option<String>,
    /// The event to log for this write (its result is filled in), in the transaction of the
    /// result's version; `None` when the caller logs the change itself.
    pub event: Option<Event>,
}

impl<'a> Commit<'a> {
    /// The commit of what `req` planned on `sides`.
    pub(crate) fn of(
        req: &'a SyncRequest<'a>,
        sides: &'a Sides,
        result: Option<&'a ArtifactFiles>,
        origin: ChangeOrigin,
        snapshot: Option<String>,
        event: Option<Event>,
    ) -> Self {
        Self {
            id: req.id,
            direction: req.direction,
            collection: req.collection,
            project: req.project,
            sides,
            result,
            origin,
            snapshot,
            event,
        }
    }
}

/// Under the target's lock (`_held`, taken by the caller before it read the sides): checks the
/// target is still what was planned against (an editor may have written it), installs the
/// result atomically, records it, and moves the baseline to the source's version.
pub(crate) async fn commit(
    ctx: &Context,
    recorder: &mut Recorder,
    c: &Commit<'_>,
    _held: &ArtifactLock,
) -> Result<ContentHash, OpsError> {
    let now_on_disk = if fs::symlink_metadata(&c.sides.target_path).is_ok() {
        Some(crate::model::hash::hash_path(&c.sides.target_path)?)
    } else {
        None
    };
    if now_on_disk != c.sides.target_hash {
        return Err(OpsError::TargetChanged {
            id: c.id.clone(),
            path: c.sides.target_path.clone(),
        });
    }
    let rewritten = c
        .result
        .filter(|r| Some(r.content_hash()) != c.sides.target_hash);
    let result_hash = match rewritten {
        Some(result) => result.content_hash(),
        None => c.sides.target_hash.unwrap_or(c.sides.source_hash),
    };
    let events: Vec<Event> = c
        .event
        .iter()
        .map(|e| Event {
            result: Some(result_hash),
            ..e.clone()
        })
        .collect();
    match rewritten {
        Some(result) => {
            apply::install(
                result,
                c.id.kind.is_dir(),
                &c.sides.target_path,
                &mut |_| Ok(()),
            )?;
            if result_hash != c.sides.source_hash {
                let parents = [c.sides.target_hash, Some(c.sides.source_hash)]
                    .into_iter()
                    .flatten()
                    .map(|h| h.to_hex())
                    .collect();
                let new = NewVersion {
                    artifact: c.id,
                    path: &c.sides.target_path,
                    origin: c.origin,
                    parents,
                    parents_of: None,
                    metadata: serde_json::json!({ "direction": c.direction.as_str() }),
                    now: ctx.now,
                };
                recorder.record_logged(new, &events).await;
            } else {
                recorder.log(&events).await;
            }
        }
        None => recorder.log(&events).await,
    }
    // The baseline is about to name the source's version: the store must hold it, or the next
    // sync of this pair finds no base.
    let source_origin = match c.direction {
        Direction::UpstreamToCollection | Direction::CollectionToProject => ChangeOrigin::Sync,
        Direction::ProjectToCollection => ChangeOrigin::LocalModification,
    };
    recorder
        .ensure_recorded(
            c.id,
            &c.sides.source,
            c.sides.source_hash,
            source_origin,
            ctx.now,
        )
        .await;
    let source_tag = match c.direction {
        Direction::CollectionToProject => {
            recorder.tag_of(c.id, &c.sides.source_hash.to_hex()).await
        }
        _ => None,
    };
    update_baseline(ctx, c, result_hash, source_tag)?;
    Ok(result_hash)
}

/// An event of `kind` about the pair `req` syncs: direction, strategy, the drift status the sides
/// were in, and their versions. The project is its canonical path, whichever way the sync goes.
pub(crate) fn pair_event(
    ctx: &Context,
    kind: EventKind,
    req: &SyncRequest<'_>,
    sides: &Sides,
) -> Event {
    let mut e = Event::new(kind, req.id, req.collection, rfc3339(ctx.now));
    e.project = req
        .project
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned()));
    e.direction = Some(req.direction.as_str().to_owned());
    e.strategy = Some(req.strategy.as_str().to_owned());
    e.status = crate::engine::drift::classify(
        sides.base_hash.as_ref(),
        Some(&sides.source_hash),
        sides.target_hash.as_ref(),
    )
    .map(|s| s.as_str().to_owned());
    e.base = sides.base_hash;
    e.source = Some(sides.source_hash);
    e.target = sides.target_hash;
    e
}

/// The event of a sync that did `outcome`, with the files merged and conflicted.
pub(crate) fn sync_event(
    ctx: &Context,
    req: &SyncRequest<'_>,
    sides: &Sides,
    outcome: Outcome,
    files: &[FileOutcome],
) -> Event {
    let mut e = pair_event(ctx, EventKind::Sync, req, sides);
    e.outcome = Some(outcome.as_str().to_owned());
    e.merged = files
        .iter()
        .filter(|f| f.action == FileAction::CleanMerge)
        .map(|f| f.path.clone())
        .collect();
    e.conflicted = files
        .iter()
        .filter(|f| f.action.is_conflict())
        .map(|f| f.path.clone())
        .collect();
    e
}

/// Records the source's version as the pair's new baseline. Into a project, the record also
/// takes what the collection's copy came from (the lock's ref, commit and fetch time) and the
/// deployed version's tag, as a deploy writes them.
pub(crate) fn update_baseline(
    ctx: &Context,
    c: &Commit<'_>,
    result: ContentHash,
    source_tag: Option<String>,
) -> Result<(), OpsError> {
    let source = c.sides.source_hash.to_hex();
    let stamp = rfc3339(ctx.now);
    match c.direction {
        Direction::UpstreamToCollection => {
            let dir = ctx.home.collection_dir(c.collection)?;
            let _guard = crate::ops::tier::shared_file_guard(
                ctx,
                &dir.join(crate::storage::collection::LOCK_FILE),
            )?;
            let mut lock = Lock::load(&dir)?;
            let Some(upstream) = &c.sides.upstream else {
                return Ok(());
            };
            let Some(old) = lock.get(c.id).cloned() else {
                return Ok(());
            };
            lock.upsert(LockEntry {
                commit: upstream.commit.clone(),
                tree: upstream.tree.clone(),
                content_hash: source,
                hash_algorithm: HashAlgorithm::V1,
                fetched_at: stamp,
                ..old
            });
            lock.save(&dir)?;
        }
        Direction::CollectionToProject | Direction::ProjectToCollection => {
            let Some(project) = c.project else {
                return Ok(());
            };
            let _guard =
                crate::ops::tier::shared_file_guard(ctx, &DeploymentFile::path_in(project))?;
            let mut records = DeploymentFile::load(project)?;
            let Some(record) = records.deployed.iter_mut().find(|r| &r.id() == c.id) else {
                return Ok(());
            };
            let project_hash = if c.direction == Direction::CollectionToProject {
                result
            } else {
                c.sides.source_hash
            };
            if record.content_hash.as_deref() != Some(source.as_str()) {
                record.parent_hash = record.content_hash.take();
            }
            record.content_hash = Some(source.clone());
            record.hash_algorithm = HashAlgorithm::V1;
            record.merge_base_snapshot = Some(source.clone());
            if record.version_lineage.first() != Some(&source) {
                record.version_lineage.insert(0, source.clone());
            }
            record.local_modifications = project_hash != c.sides.source_hash;
            record.sync_status = if record.local_modifications {
                RecordedStatus::Modified
            } else {
                RecordedStatus::Synced
            };
            if record.local_modifications && record.modification_detected_at.is_none() {
                record.modification_detected_at = Some(stamp.clone());
            } else if !record.local_modifications {
                record.modification_detected_at = None;
            }
            record.pending_conflicts.clear();
            record.last_modified_check = Some(stamp.clone());
            if c.direction == Direction::CollectionToProject {
                record.deployed_at = Some(stamp);
                let lock = Lock::load(&ctx.home.collection_dir(c.collection)?)?;
                let locked = lock.get(c.id);
                record.upstream_ref = locked.map(|l| l.reference.clone());
                record.upstream_version = locked
                    .map(|l| l.reference.clone())
                    .filter(|r| r != "latest");
                record.upstream_sha = locked.map(|l| l.commit.clone());
                record.last_upstream_check = locked.map(|l| l.fetched_at.clone());
                record.version_tag = source_tag;
            }
            if let Some(snapshot) = &c.snapshot {
                record.snapshot_id = Some(snapshot.clone());
            }
            records.save(project)?;
        }
    }
    Ok(())
}
