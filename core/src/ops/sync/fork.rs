//! The `fork` strategy: keep both versions.
//!
//! The target keeps its version, exactly as with `ours` (the source's version becomes the
//! pair's baseline). The source's version lands beside it as a new artifact of the collection,
//! `<name>-fork` (`<name>-fork-2`, … when taken), with the original's upstream spec and a lock
//! entry of its own, so it can be updated from that upstream or removed later like any other.
//! When the target is a project, the fork is also deployed there, beside the original.
//!
//! A skill's or agent's fork has its frontmatter `name` set to the fork's name: Claude Code
//! knows a subagent by its frontmatter `name` (code.claude.com/docs/en/sub-agents: "Unique
//! identifier using lowercase letters and hyphens"), so two agents of one name in one scope would
//! be one; and a skill's `name` "must match the parent directory name"
//! (agentskills.io/specification). That rename is the fork's only difference from the source's
//! version, recorded as the fork's own first edit: its first version descends from the
//! original's version it was made from, and an update from the upstream merges the upstream's
//! changes with the rename like any local edit.
//!
//! A fork is made before the original's baseline moves: a run killed between the two leaves a
//! fork and an unchanged pair, and the rerun finds that fork (same content, same name) and
//! reuses it instead of making a second.

use std::fs;
use std::path::Path;

use crate::model::artifact::{ArtifactId, ArtifactName, ArtifactType};
use crate::model::files::ArtifactFiles;
use crate::model::hash::{ContentHash, HashAlgorithm};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::Recorder;
use crate::ops::sync::request::{Direction, Outcome, Strategy};
use crate::ops::sync::sides::UpstreamPoint;
use crate::ops::tier::{Tier, artifact_path, final_name, lock_tier, shared_file_guard};
use crate::storage::apply;
use crate::storage::collection::{
    LOCK_FILE, Lock, LockEntry, MANIFEST_FILE, Manifest, ManifestEntry,
};
use crate::storage::events::{Event, EventKind};
use crate::storage::records::DeploymentFile;
use crate::storage::versions::{ChangeOrigin, NewVersion};

/// How many names (`-fork`, `-fork-2`, …) are tried before giving up.
const MAX_FORKS: u32 = 100;

/// What a fork is made of: the original, the pair it was made from, and the source's version.
pub(crate) struct Fork<'a> {
    pub original: &'a ArtifactId,
    pub collection: &'a str,
    pub direction: Direction,
    pub project: Option<&'a Path>,
    pub source: &'a ArtifactFiles,
    pub source_hash: ContentHash,
    /// For an upstream sync: where the upstream was when the source was read.
    pub upstream: Option<&'a UpstreamPoint>,
}

impl Fork<'_> {
    /// The project the fork is deployed into: the target's, when the target is a project.
    fn deployed_into(&self) -> Option<&Path> {
        match self.direction {
            Direction::CollectionToProject => self.project,
            _ => None,
        }
    }
}

/// `files` (a version of `original`) as the artifact `fork`: a command's or agent's file under
/// the fork's file name; with `rename`, a skill's or agent's frontmatter `name` set to the
/// fork's name (see the module's notes).
pub(crate) fn as_fork(
    original: &ArtifactId,
    fork: &ArtifactId,
    files: &ArtifactFiles,
    rename: bool,
) -> ArtifactFiles {
    let mut out = ArtifactFiles::default();
    for (path, content) in &files.files {
        let path = if !original.kind.is_dir() && *path == final_name(original) {
            final_name(fork)
        } else {
            path.clone()
        };
        out.files.insert(path, content.clone());
    }
    if rename {
        let main = match fork.kind {
            ArtifactType::Skill => Some("SKILL.md".to_owned()),
            // An output style's `name` is what Claude Code's picker shows: the fork's differs.
            ArtifactType::Agent | ArtifactType::OutputStyle => Some(final_name(fork)),
            ArtifactType::Command | ArtifactType::Hook | ArtifactType::Mcp => None,
        };
        if let Some(file) = main.and_then(|m| out.files.get_mut(&m))
            && let Some(renamed) =
                crate::engine::frontmatter::set_name(&file.bytes, fork.name.as_str())
        {
            file.bytes = renamed;
        }
    }
    out
}

/// The fork's id: the first of `<name>-fork`, `<name>-fork-2`, … that nothing holds (no entry in
/// the collection, nothing at its place there, and, when the fork is deployed, nothing at its
/// place in the project and no record of it there). A name already holding exactly this fork
/// (a rerun after a kill) is taken again.
pub(crate) fn choose(ctx: &Context, f: &Fork<'_>) -> Result<ArtifactId, OpsError> {
    let collection_dir = ctx.home.collection_dir(f.collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let records = match f.deployed_into() {
        Some(p) => Some(DeploymentFile::load(p)?),
        None => None,
    };
    for n in 1..=MAX_FORKS {
        let name = match n {
            1 => format!("{}-fork", f.original.name),
            n => format!("{}-fork-{n}", f.original.name),
        };
        let id = ArtifactId::new(f.original.kind, ArtifactName::new(&name)?);
        let expected = as_fork(f.original, &id, f.source, true).content_hash();
        let holds = |path: &Path| -> Result<Option<bool>, OpsError> {
            if fs::symlink_metadata(path).is_err() {
                return Ok(None);
            }
            Ok(Some(crate::model::hash::hash_path(path)? == expected))
        };
        let in_collection = holds(&artifact_path(&collection_dir, &id))?;
        let in_project = match f.deployed_into() {
            Some(p) => holds(&artifact_path(&p.join(".claude"), &id))?,
            None => None,
        };
        let listed = manifest.get(&id).is_some();
        let recorded = records.as_ref().is_some_and(|r| r.get(&id).is_some());
        let free = !listed && in_collection.is_none() && in_project.is_none() && !recorded;
        // Ours from an earlier run: the collection holds exactly this fork, and the project
        // either does too or not yet.
        let ours = in_collection == Some(true) && in_project != Some(false);
        if free || ours {
            return Ok(id);
        }
    }
    Err(OpsError::NoForkName {
        id: f.original.clone(),
        tries: MAX_FORKS,
    })
}

/// What [`place`] made.
pub(crate) struct Placed {
    /// The fork's version in the collection.
    pub hash: ContentHash,
}

/// Makes the fork `fork` of `f`: its files in the collection (atomically, under its lock), its
/// versions (the upstream's version it is based on, and its own, whose parent is the source's
/// version of the original), its manifest entry with the original's upstream spec and its lock
/// entry; then, when the target is a project, deploys it there. Logs `event` (a sync or
/// resolution of the original) for the fork too, as made from it.
pub(crate) async fn place(
    ctx: &Context,
    recorder: &mut Recorder,
    f: &Fork<'_>,
    fork: &ArtifactId,
) -> Result<Placed, OpsError> {
    let collection_dir = ctx.home.collection_dir(f.collection)?;
    let original_entry = Manifest::load(&collection_dir)?
        .get(f.original)
        .cloned()
        .ok_or_else(|| OpsError::NotInCollection {
            id: f.original.clone(),
            collection: f.collection.to_owned(),
        })?;
    let files = as_fork(f.original, fork, f.source, true);
    let hash = files.content_hash();
    let held = lock_tier(ctx, &Tier::Collection(f.collection.to_owned()), fork)?;
    let dest = artifact_path(&collection_dir, fork);
    if fs::symlink_metadata(&dest).is_ok() {
        if crate::model::hash::hash_path(&dest)? != hash {
            return Err(OpsError::Unmanaged { path: dest });
        }
    } else {
        apply::install(&files, fork.kind.is_dir(), &dest, &mut |_| Ok(()))?;
    }
    let lock_entry = lock_entry(ctx, recorder, f, fork, &collection_dir).await?;
    let stamp = rfc3339(ctx.now);
    let mut event = Event::new(EventKind::Sync, fork, f.collection, stamp.clone());
    event.project = f
        .project
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned()));
    event.direction = Some(f.direction.as_str().to_owned());
    event.strategy = Some(Strategy::Fork.as_str().to_owned());
    event.outcome = Some(Outcome::Forked.as_str().to_owned());
    event.source = Some(f.source_hash);
    event.result = Some(hash);
    event.detail = serde_json::json!({ "forked_from": f.original.to_string() });
    recorder
        .record_logged(
            NewVersion {
                artifact: fork,
                path: &dest,
                origin: ChangeOrigin::LocalModification,
                parents: vec![f.source_hash.to_hex()],
                parents_of: Some(f.original),
                metadata: serde_json::json!({
                    "tier": "collection",
                    "forked_from": f.original.to_string(),
                    "direction": f.direction.as_str(),
                }),
                now: ctx.now,
            },
            &[event],
        )
        .await;
    {
        // The manifest's lock before the lock file's, as everywhere.
        let _manifest_guard = shared_file_guard(ctx, &collection_dir.join(MANIFEST_FILE))?;
        let mut manifest = Manifest::load(&collection_dir)?;
        if manifest.get(fork).is_none() {
            manifest.artifacts.push(ManifestEntry {
                id: fork.clone(),
                upstream: original_entry.upstream.clone(),
                added_at: Some(stamp),
                // The fork is the user's: the plugin's updates never add to or remove it.
                plugin: None,
            });
        }
        let _lock_guard = shared_file_guard(ctx, &collection_dir.join(LOCK_FILE))?;
        if let Some(entry) = lock_entry {
            let mut lock = Lock::load(&collection_dir)?;
            lock.upsert(entry);
            lock.save(&collection_dir)?;
        }
        manifest.save(&collection_dir)?;
    }
    drop(held);
    if let Some(project) = f.deployed_into() {
        let deployed =
            crate::ops::deploy::deploy(ctx, std::slice::from_ref(fork), project, f.collection)
                .await?;
        recorder.warnings.extend(deployed.warnings);
    }
    Ok(Placed { hash })
}

/// The fork's lock entry: the original's, pointing at the upstream version the fork is based on
/// as the fork sees it (under its own file name), which is recorded as the fork's version so a
/// later update can merge with it. `None` when the original has no upstream.
async fn lock_entry(
    ctx: &Context,
    recorder: &mut Recorder,
    f: &Fork<'_>,
    fork: &ArtifactId,
    collection_dir: &Path,
) -> Result<Option<LockEntry>, OpsError> {
    let lock = Lock::load(collection_dir)?;
    let Some(original) = lock.get(f.original).cloned() else {
        return Ok(None);
    };
    let mut entry = LockEntry {
        id: fork.clone(),
        ..original.clone()
    };
    // An upstream sync's source is the upstream's version now; otherwise the fork is based on
    // what the original's lock names.
    let base = match (f.direction, f.upstream) {
        (Direction::UpstreamToCollection, Some(point)) => {
            entry.commit = point.commit.clone();
            entry.tree = point.tree.clone();
            entry.fetched_at = rfc3339(ctx.now);
            Some((f.source.clone(), f.source_hash.to_hex()))
        }
        _ => match original.hash_algorithm {
            HashAlgorithm::V1 => stored(recorder, f.original, &original.content_hash)
                .await
                .map(|files| (files, original.content_hash.clone())),
            _ => None,
        },
    };
    let Some((base, of)) = base else {
        recorder.warnings.push(format!(
            "the version {} of {} that {fork} is based on is not in the version store: the \
             fork's first update from its upstream will be `diverged` (settle it with ours or \
             theirs)",
            crate::model::hash::short(&original.content_hash),
            f.original
        ));
        return Ok(Some(entry));
    };
    let base = as_fork(f.original, fork, &base, false);
    let base_hash = base.content_hash();
    entry.content_hash = base_hash.to_hex();
    entry.hash_algorithm = HashAlgorithm::V1;
    let staged = tempfile::tempdir().and_then(|dir| {
        let path = dir.path().join(final_name(fork));
        base.write_to(&path, fork.kind.is_dir())?;
        Ok((dir, path))
    });
    match staged {
        Ok((_dir, path)) => {
            recorder
                .record(NewVersion {
                    artifact: fork,
                    path: &path,
                    origin: ChangeOrigin::Sync,
                    parents: vec![of],
                    parents_of: Some(f.original),
                    metadata: serde_json::json!({
                        "source": "upstream",
                        "commit": entry.commit,
                        "forked_from": f.original.to_string(),
                    }),
                    now: ctx.now,
                })
                .await;
        }
        Err(e) => recorder.warnings.push(format!(
            "could not stage the upstream version of {fork} to record it: {e}"
        )),
    }
    Ok(Some(entry))
}

/// The stored content of `id`'s version `hex`, if the store has it.
async fn stored(recorder: &mut Recorder, id: &ArtifactId, hex: &str) -> Option<ArtifactFiles> {
    let versions = recorder.versions.as_ref()?;
    let version = versions.get(id, hex).await.ok()??;
    versions.store().read_tree(&version.tree_id).ok()
}
