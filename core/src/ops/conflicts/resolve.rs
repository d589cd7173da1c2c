//! Settling a pending merge: deciding files one by one, applying the merge once nothing is left
//! undecided ([`continue_merge`]), or abandoning it ([`abort_merge`]).

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::merge::has_conflict_markers;
use crate::model::artifact::ArtifactId;
use crate::model::error::{IoResultExt as _, PathError};
use crate::model::files::FileContent;
use crate::model::hash::ContentHash;
use crate::model::time::rfc3339;
use crate::ops::conflicts::pending::{PendingMerge, Settled, pending, set_pending_in_record};
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::Recorder;
use crate::ops::sync::commit::Commit;
use crate::ops::sync::fork::Fork;
use crate::ops::sync::request::Direction;
use crate::ops::sync::sides::Sides;
use crate::ops::sync::sides::UpstreamPoint;
use crate::ops::tier::Tier;
use crate::storage::apply::ArtifactLock;
use crate::storage::conflict_records::{self};
use crate::storage::events::EventKind;
use crate::storage::versions::ChangeOrigin;

/// One side of a conflicted file, chosen whole: the part of [`Resolution`] a resolve job can
/// carry (its parameters are stored as JSON; custom content comes only from the CLI's editor or
/// from settled hunks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileChoice {
    /// The target's version.
    Ours,
    /// The source's version.
    Theirs,
}

impl From<FileChoice> for Resolution {
    fn from(c: FileChoice) -> Self {
        match c {
            FileChoice::Ours => Resolution::Ours,
            FileChoice::Theirs => Resolution::Theirs,
        }
    }
}

/// A resolution of one conflicted file.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// The target's version of the file (its absence, if the target deleted it).
    Ours,
    /// The source's version of the file (its absence, if the source deleted it).
    Theirs,
    /// This content.
    Custom(Vec<u8>),
    /// This content, settled hunk by hunk from the two sides (logged as such).
    Hunks(Vec<u8>),
}

impl Resolution {
    /// How the log names it.
    fn settled(&self) -> Settled {
        match self {
            Self::Ours => Settled::Ours,
            Self::Theirs => Settled::Theirs,
            Self::Custom(_) => Settled::Custom,
            Self::Hunks(_) => Settled::Hunks,
        }
    }
}

/// Settles one conflicted file of the pending merge of `id` with `resolution`, and brings the
/// conflict record's list of unresolved files up to date. A custom resolution that still holds
/// conflict markers is refused.
pub async fn resolve_file(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    path: &str,
    resolution: Resolution,
) -> Result<PendingMerge, OpsError> {
    let mut merge = pending(ctx, id, collection, project)?;
    let Some(index) = merge.files.iter().position(|f| f.path == path) else {
        return Err(OpsError::NotInMerge {
            id: id.clone(),
            path: path.to_owned(),
            files: merge
                .files
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let settled = resolution.settled();
    // The conflicts as they are before this resolution, to record what each became.
    let hunks = merge.hunks(path)?;
    let chosen: Option<FileContent> = match resolution {
        Resolution::Ours => merge.read_part("ours")?.files.remove(path),
        Resolution::Theirs => merge.read_part("theirs")?.files.remove(path),
        Resolution::Custom(bytes) | Resolution::Hunks(bytes) => {
            if has_conflict_markers(&bytes) {
                return Err(OpsError::MarkersLeft {
                    what: "the custom resolution".to_owned(),
                    files: path.to_owned(),
                });
            }
            let executable = merge
                .read_part("files")?
                .files
                .get(path)
                .is_some_and(|f| f.executable);
            Some(FileContent { bytes, executable })
        }
    };
    let target = merge.dir.join("files").join(path);
    match &chosen {
        Some(content) => {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).context("create", parent)?;
            }
            crate::storage::atomic::write_atomic(&target, &content.bytes)?;
            set_executable(&target, content.executable)?;
        }
        None => match fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PathError::new("remove", target, source).into());
            }
        },
    }
    merge.files[index].resolved = true;
    merge.files[index].settled = Some(settled);
    merge.save()?;
    if let (Some(hunks), Some(text)) = (
        hunks,
        chosen
            .as_ref()
            .and_then(|c| std::str::from_utf8(&c.bytes).ok()),
    ) {
        crate::ops::conflicts::rerere::record(ctx, id, merge.project.as_deref(), &hunks, text);
    }
    // The record is an audit trail: failing to update it never undoes the resolution.
    if let Some(record) = merge.conflict_record
        && let Ok(Some(versions)) =
            crate::storage::versions::Versions::open_read_only(&ctx.home).await
    {
        let left = merge.unresolved()?;
        let _ = conflict_records::set_unresolved(versions.database(), record, &left).await;
        versions.close().await;
    }
    Ok(merge)
}

/// One file of a pending merge settled from a recorded resolution.
#[derive(Debug, Clone, Serialize)]
pub struct Reused {
    pub path: String,
    /// Its conflicts.
    pub conflicts: usize,
    /// Where the (first) resolution was decided.
    pub resolved_in: Option<std::path::PathBuf>,
    pub artifact: String,
}

/// Settles every undecided file of the pending merge of `id` whose conflicts all have a
/// recorded resolution (byte-identical conflicts only), as hunk resolutions; the others stay
/// undecided. Returns what was settled.
pub async fn reuse_recorded(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<Vec<Reused>, OpsError> {
    let merge = pending(ctx, id, collection, project)?;
    let mut out = Vec::new();
    for path in merge.unresolved()? {
        let Some(hunks) = merge.hunks(&path)? else {
            continue;
        };
        let conflicts = hunks
            .iter()
            .filter(|h| matches!(h, crate::engine::merge::Hunk::Conflict { .. }))
            .count();
        if conflicts == 0 {
            continue;
        }
        let Some((text, from)) = crate::ops::conflicts::rerere::reusable(ctx, &hunks) else {
            continue;
        };
        resolve_file(
            ctx,
            id,
            collection,
            project,
            &path,
            Resolution::Hunks(text.into_bytes()),
        )
        .await?;
        out.push(Reused {
            path,
            conflicts,
            resolved_in: from.project,
            artifact: from.artifact,
        });
    }
    Ok(out)
}

fn set_executable(path: &Path, executable: bool) -> Result<(), OpsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let io = |source| PathError::new("set the mode of", path, source);
        let mut perms = fs::metadata(path).map_err(io)?.permissions();
        let mode = if executable {
            perms.mode() | 0o111
        } else {
            perms.mode() & !0o111
        };
        perms.set_mode(mode);
        fs::set_permissions(path, perms).map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = (path, executable);
    Ok(())
}

/// What finishing or abandoning a pending merge did.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    /// Which artifact's merge ended.
    pub id: ArtifactId,
    /// `resolved` or `aborted`.
    pub resolution: &'static str,
    /// The version the target holds now (for `resolved`).
    pub result: Option<ContentHash>,
    /// The artifact the source's version became, for a merge settled by a fork.
    pub fork: Option<ArtifactId>,
    /// Problems that did not stop it (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
}

/// Applies the pending merge of `id` once every conflicted file is decided: atomically, under
/// the target's lock, and only if the target is still the version the merge was made against.
pub async fn continue_merge(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<Finished, OpsError> {
    let merge = pending(ctx, id, collection, project)?;
    let unresolved = merge.unresolved()?;
    if !unresolved.is_empty() {
        return Err(OpsError::MarkersLeft {
            what: format!("the pending merge of {id}"),
            files: unresolved.join(", "),
        });
    }
    let result = merge.read_part("files")?;
    let (sides, held) = merge_sides(ctx, &merge, id, collection).await?;
    let mut recorder = Recorder::open(&ctx.home).await;
    let hash = crate::ops::sync::commit::commit(
        ctx,
        &mut recorder,
        &Commit {
            id,
            direction: merge.direction,
            collection,
            project: merge.project.as_deref(),
            sides: &sides,
            result: Some(&result),
            origin: ChangeOrigin::Merge,
            snapshot: None,
            event: None,
        },
        &held,
    )
    .await?;
    let mut event = merge.event(EventKind::Resolve, rfc3339(ctx.now));
    event.result = Some(hash);
    recorder
        .finish_conflict(
            merge.conflict_record,
            "resolved",
            Some(&hash.to_hex()),
            ctx.now,
            &event,
        )
        .await;
    remove(&merge)?;
    Ok(Finished {
        id: id.clone(),
        resolution: "resolved",
        result: Some(hash),
        fork: None,
        warnings: recorder.finish().await,
    })
}

/// The sides a pending merge was made of, for applying its outcome, with the target's lock
/// held (until the merge's folder is removed; see `crate::ops::sync::commit::commit`).
async fn merge_sides(
    ctx: &Context,
    merge: &PendingMerge,
    id: &ArtifactId,
    collection: &str,
) -> Result<(Sides, ArtifactLock), OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let (target_path, target_tier) = match (merge.direction, &merge.project) {
        (Direction::CollectionToProject, Some(p)) => {
            crate::ops::links::check_project_links(&ctx.home, p).await?;
            (
                crate::ops::tier::artifact_path(&p.join(".claude"), id),
                Tier::Project(p.clone()),
            )
        }
        _ => (
            crate::ops::tier::artifact_path(&collection_dir, id),
            Tier::Collection(collection.to_owned()),
        ),
    };
    let held = crate::ops::tier::lock_tier(ctx, &target_tier, id)?;
    let sides = Sides {
        target_path,
        target_tier,
        source: merge.read_part("theirs")?,
        source_hash: merge.theirs,
        target: None,
        target_hash: merge.ours,
        base_hash: merge.base,
        base: None,
        upstream: match (&merge.upstream_commit, &merge.upstream_tree) {
            (Some(commit), Some(tree)) => Some(UpstreamPoint {
                commit: commit.clone(),
                tree: tree.clone(),
            }),
            _ => None,
        },
    };
    Ok((sides, held))
}

/// Settles the pending merge of `id` by keeping both: the target keeps its version (its
/// baseline moves to the source's, as with `ours`), and the source's version becomes the new
/// artifact `<name>-fork` beside it (see [`crate::ops::sync::fork`]). Every conflicted file is
/// logged as settled by `fork`. Refused when the target changed since the merge was made.
pub async fn fork_merge(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<Finished, OpsError> {
    let mut merge = pending(ctx, id, collection, project)?;
    let (sides, held) = merge_sides(ctx, &merge, id, collection).await?;
    let on_disk = if fs::symlink_metadata(&sides.target_path).is_ok() {
        Some(crate::model::hash::hash_path(&sides.target_path)?)
    } else {
        None
    };
    if on_disk != merge.ours {
        return Err(OpsError::TargetChanged {
            id: id.clone(),
            path: sides.target_path.clone(),
        });
    }
    let fork_of = Fork {
        original: id,
        collection,
        direction: merge.direction,
        project: merge.project.as_deref(),
        source: &sides.source,
        source_hash: sides.source_hash,
        upstream: sides.upstream.as_ref(),
    };
    let fork = crate::ops::sync::fork::choose(ctx, &fork_of)?;
    let mut recorder = Recorder::open(&ctx.home).await;
    let placed = crate::ops::sync::fork::place(ctx, &mut recorder, &fork_of, &fork).await?;
    let hash = crate::ops::sync::commit::commit(
        ctx,
        &mut recorder,
        &Commit {
            id,
            direction: merge.direction,
            collection,
            project: merge.project.as_deref(),
            sides: &sides,
            result: None,
            origin: ChangeOrigin::Sync,
            snapshot: None,
            event: None,
        },
        &held,
    )
    .await?;
    for file in &mut merge.files {
        file.settled = Some(Settled::Fork);
    }
    let mut event = merge.event(EventKind::Resolve, rfc3339(ctx.now));
    event.result = Some(hash);
    event.detail["fork"] = serde_json::json!(fork.to_string());
    event.detail["fork_hash"] = serde_json::json!(placed.hash.to_hex());
    recorder
        .finish_conflict(
            merge.conflict_record,
            "resolved",
            Some(&hash.to_hex()),
            ctx.now,
            &event,
        )
        .await;
    remove(&merge)?;
    Ok(Finished {
        id: id.clone(),
        resolution: "resolved",
        result: Some(hash),
        fork: Some(fork),
        warnings: recorder.finish().await,
    })
}

/// Abandons the pending merge of `id`; the target was never touched.
pub async fn abort_merge(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<Finished, OpsError> {
    let merge = pending(ctx, id, collection, project)?;
    let mut recorder = Recorder::open(&ctx.home).await;
    let event = merge.event(EventKind::Abort, rfc3339(ctx.now));
    recorder
        .finish_conflict(merge.conflict_record, "aborted", None, ctx.now, &event)
        .await;
    if let Some(p) = &merge.project {
        set_pending_in_record(ctx, p, id, &[])?;
    }
    remove(&merge)?;
    Ok(Finished {
        id: id.clone(),
        resolution: "aborted",
        result: None,
        fork: None,
        warnings: recorder.finish().await,
    })
}

fn remove(merge: &PendingMerge) -> Result<(), OpsError> {
    Ok(fs::remove_dir_all(&merge.dir).context("remove", &merge.dir)?)
}
