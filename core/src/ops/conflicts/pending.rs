//! The pending merge kept on disk: its `merge.toml`, its parts (`files/`, `base/`, `ours/`,
//! `theirs/`), finding the merges of an artifact and which of them blocks a sync, and creating
//! one when a sync conflicts.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::merge::{ConflictKind, FileOutcome, Hunk, conflict_hunks, has_conflict_markers};
use crate::model::artifact::ArtifactId;
use crate::model::error::{IoResultExt as _, PathError};
use crate::model::files::ArtifactFiles;
use crate::model::hash::ContentHash;
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::Recorder;
use crate::ops::sync::request::{Direction, Strategy, SyncRequest};
use crate::ops::sync::sides::Sides;
use crate::storage::conflict_records::NewConflict;
use crate::storage::events::{Event, EventKind};
use crate::storage::records::{DeploymentFile, RecordedStatus};
use crate::storage::tomlfile;

/// The pending merges folder inside a home.
pub const PENDING_DIR: &str = "pending";

/// One conflicted file of a pending merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFile {
    /// Path in the merged version.
    pub path: String,
    /// Why it conflicts.
    pub kind: ConflictKind,
    /// Whether the user decided it (`resolve --file`).
    pub resolved: bool,
    /// How it was decided, for the log (absent in merges kept by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled: Option<Settled>,
}

/// How one conflicted file was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Settled {
    /// The target's version.
    Ours,
    /// The source's version.
    Theirs,
    /// Content the user wrote (an editor, a file).
    Custom,
    /// Hunk by hunk, each from one side.
    Hunks,
    /// Both kept: the target's version stays, the source's became a fork beside it.
    Fork,
}

impl Settled {
    /// The name logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Theirs => "theirs",
            Self::Custom => "custom",
            Self::Hunks => "hunks",
            Self::Fork => "fork",
        }
    }
}

/// A merge waiting for the user, as kept in `merge.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMerge {
    /// Which artifact the merge is of.
    pub id: ArtifactId,
    /// The collection the artifact belongs to.
    pub collection: String,
    /// The sync that conflicted.
    pub direction: Direction,
    /// The project, for the project directions.
    pub project: Option<PathBuf>,
    /// The strategy asked for.
    pub strategy: Strategy,
    /// The common ancestor the merge was made against, where known.
    pub base: Option<ContentHash>,
    /// The target's version ("ours") when the merge was made; absent if it had none.
    pub ours: Option<ContentHash>,
    /// The source's version ("theirs").
    pub theirs: ContentHash,
    /// When the conflict was found (RFC 3339).
    pub detected_at: String,
    /// Its row in `conflict_records`, when it could be recorded.
    pub conflict_record: Option<i64>,
    /// For upstream syncs: the upstream commit and subtree merged.
    pub upstream_commit: Option<String>,
    pub upstream_tree: Option<String>,
    /// The files with conflicts, and whether each is decided yet.
    pub files: Vec<PendingFile>,
    /// The folder holding it (not stored).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The versions a pending merge keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergePart {
    /// The merged version: clean files merged, conflicted ones with markers.
    Merged,
    Base,
    Ours,
    Theirs,
}

impl MergePart {
    fn dir(self) -> &'static str {
        match self {
            Self::Merged => "files",
            Self::Base => "base",
            Self::Ours => "ours",
            Self::Theirs => "theirs",
        }
    }
}

impl PendingMerge {
    /// This merge as a new `conflict_records` row, with `unresolved` still undecided.
    pub(crate) fn as_new_conflict<'a>(&'a self, unresolved: &'a [String]) -> NewConflict<'a> {
        NewConflict {
            artifact: &self.id,
            direction: self.direction.as_str(),
            project: self.project.as_deref(),
            detected_at: &self.detected_at,
            base: self.base,
            ours: self.ours,
            theirs: self.theirs,
            strategy: self.strategy.as_str(),
            unresolved,
        }
    }

    /// An event of `kind` about this merge at `at`: its pair, versions, conflicted files and
    /// how each was decided so far.
    pub(crate) fn event(&self, kind: EventKind, at: String) -> Event {
        let mut e = Event::new(kind, &self.id, &self.collection, at);
        e.project = self.project.clone();
        e.direction = Some(self.direction.as_str().to_owned());
        e.strategy = Some(self.strategy.as_str().to_owned());
        e.status = crate::engine::drift::classify(
            self.base.as_ref(),
            Some(&self.theirs),
            self.ours.as_ref(),
        )
        .map(|s| s.as_str().to_owned());
        e.base = self.base;
        e.source = Some(self.theirs);
        e.target = self.ours;
        e.conflicted = self.files.iter().map(|f| f.path.clone()).collect();
        e.resolutions = self
            .files
            .iter()
            .filter_map(|f| Some((f.path.clone(), f.settled?.as_str().to_owned())))
            .collect();
        if let Some(record) = self.conflict_record {
            e.detail = serde_json::json!({ "conflict_record": record });
        }
        e
    }

    /// The conflicted files still undecided: markers left in their text, or a delete/modify
    /// or binary clash not resolved with ours/theirs.
    pub fn unresolved(&self) -> Result<Vec<String>, OpsError> {
        let merged = self.read_part("files")?;
        Ok(self
            .files
            .iter()
            .filter(|f| {
                if f.resolved {
                    return false;
                }
                match f.kind {
                    ConflictKind::Content | ConflictKind::AddAdd => merged
                        .files
                        .get(&f.path)
                        .is_some_and(|c| has_conflict_markers(&c.bytes)),
                    _ => true,
                }
            })
            .map(|f| f.path.clone())
            .collect())
    }

    /// This merge's revision: 64 hex that change whenever anything about it does — a newer
    /// sync replacing it, a file resolved (by anyone, any way), a resolution edited in
    /// `files/`. A caller that shows a merge and later acts on the user's choices passes the
    /// revision it showed, so choices made on one merge are never applied to another
    /// ([`OpsError::MergeChanged`]).
    pub fn revision(&self) -> Result<String, OpsError> {
        use sha2::{Digest, Sha256};
        let toml = self.dir.join("merge.toml");
        let record = fs::read(&toml).context("read", toml)?;
        let merged = self.dir.join(MergePart::Merged.dir());
        let files = if merged.exists() {
            crate::model::hash::hash_path(&merged)?.to_hex()
        } else {
            String::new()
        };
        let mut h = Sha256::new();
        // Length-prefixed, so no two (record, files) pairs hash alike.
        for part in [record.as_slice(), files.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        Ok(crate::model::hash::ContentHash::from_bytes(h.finalize().into()).to_hex())
    }

    /// Fails with [`OpsError::MergeChanged`] unless this merge is at `expected` (when given).
    pub fn expect_revision(&self, expected: Option<&str>) -> Result<(), OpsError> {
        match expected {
            Some(want) if self.revision()? != want => Err(OpsError::MergeChanged {
                id: self.id.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// One of the merge's versions: `files` (the merged one, markers included), `base`, `ours`
    /// or `theirs`. A side that did not exist (no base, an added artifact) reads as empty.
    pub fn part(&self, part: MergePart) -> Result<ArtifactFiles, OpsError> {
        self.read_part(part.dir())
    }

    /// The conflict hunks of a conflicted text file in the merged version; `None` when the file
    /// is absent or not UTF-8 text.
    pub fn hunks(&self, path: &str) -> Result<Option<Vec<Hunk>>, OpsError> {
        let merged = self.read_part("files")?;
        Ok(merged
            .files
            .get(path)
            .filter(|c| !crate::engine::diff::is_binary(&c.bytes))
            .and_then(|c| std::str::from_utf8(&c.bytes).ok())
            .map(conflict_hunks))
    }

    pub(crate) fn read_part(&self, part: &str) -> Result<ArtifactFiles, OpsError> {
        let dir = self.dir.join(part);
        if !dir.exists() {
            return Ok(ArtifactFiles::default());
        }
        Ok(ArtifactFiles::read(&dir)?)
    }

    pub(crate) fn save(&self) -> Result<(), OpsError> {
        Ok(tomlfile::save_toml(
            &self.dir.join("merge.toml"),
            "# A merge SkillMeat keeps aside until you resolve it: see `skillmeat resolve --help`.\n",
            self,
        )?)
    }
}

fn pending_root(ctx_home: &crate::storage::home::Home) -> PathBuf {
    ctx_home.root().join(PENDING_DIR)
}

/// Every pending merge of `id` in `collection`.
pub fn list(
    home: &crate::storage::home::Home,
    id: &ArtifactId,
    collection: &str,
) -> Result<Vec<PendingMerge>, OpsError> {
    let mut out = all(home)?;
    out.retain(|m| &m.id == id && m.collection == collection);
    Ok(out)
}

/// Every pending merge kept in the home, of any artifact and collection, in folder order.
pub fn all(home: &crate::storage::home::Home) -> Result<Vec<PendingMerge>, OpsError> {
    let root = pending_root(home);
    let entries = match fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(PathError::new("read", root, source).into());
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let file = entry.path().join("merge.toml");
        if !file.is_file() {
            continue;
        }
        let Some(mut merge) = tomlfile::load_toml::<PendingMerge>(&file)? else {
            continue;
        };
        merge.dir = entry.path();
        out.push(merge);
    }
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(out)
}

/// The pending merge of `id` for `project` (or the collection's own, without a project); any
/// pending merge of `id` when `project` is `None` and there is exactly one.
pub fn find(
    home: &crate::storage::home::Home,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<Option<PendingMerge>, OpsError> {
    let all = list(home, id, collection)?;
    let Some(project) = project else {
        return match all.len() {
            0 => Ok(None),
            1 => Ok(all.into_iter().next()),
            _ => Err(OpsError::AmbiguousPending { id: id.clone() }),
        };
    };
    let canonical = project.canonicalize().ok();
    Ok(all.into_iter().find(|m| {
        m.project
            .as_ref()
            .is_some_and(|p| p.canonicalize().ok() == canonical)
    }))
}

/// Which project a merge's pair of tiers involves (`None` for upstream ↔ collection), and
/// whether its result goes into that project (`true`) or into the collection.
fn pair_of(direction: Direction, project: Option<&Path>) -> (Option<PathBuf>, bool) {
    let project = project.map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned()));
    match direction {
        Direction::UpstreamToCollection => (None, false),
        Direction::CollectionToProject => (project, true),
        Direction::ProjectToCollection => (project, false),
    }
}

impl PendingMerge {
    fn pair(&self) -> (Option<PathBuf>, bool) {
        pair_of(self.direction, self.project.as_deref())
    }
}

/// The pending merge that stands in the way of a sync of `id` in `direction`: one of the same
/// pair of tiers (upstream ↔ collection, or the collection ↔ that project), or one whose result
/// goes into the same tier (two merges into one copy would overwrite each other). A merge kept
/// for another project, or for the other pair, blocks nothing here.
pub fn blocking(
    home: &crate::storage::home::Home,
    id: &ArtifactId,
    collection: &str,
    direction: Direction,
    project: Option<&Path>,
) -> Result<Option<PendingMerge>, OpsError> {
    let (pair, into_project) = pair_of(direction, project);
    let target = into_project.then(|| pair.clone()).flatten();
    Ok(list(home, id, collection)?.into_iter().find(|m| {
        let (m_pair, m_into_project) = m.pair();
        let m_target = m_into_project.then(|| m_pair.clone()).flatten();
        m_pair == pair || m_target == target
    }))
}

/// The pending merge whose result goes into the collection (`project: None`) or into that
/// project: what blocks a rollback of that copy.
pub fn into_tier(
    home: &crate::storage::home::Home,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<Option<PendingMerge>, OpsError> {
    let target = project.map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned()));
    Ok(list(home, id, collection)?.into_iter().find(|m| {
        let (m_pair, m_into_project) = m.pair();
        m_into_project.then_some(m_pair).flatten() == target
    }))
}

/// Like [`find`], but no pending merge is an error.
pub(crate) fn pending(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<PendingMerge, OpsError> {
    find(&ctx.home, id, collection, project)?
        .ok_or_else(|| OpsError::NoPendingMerge { id: id.clone() })
}

/// Keeps a conflicted merge aside: writes the pending folder, the conflict record and the
/// project record's `pending_conflicts`. The target is not touched.
pub(crate) async fn create(
    ctx: &Context,
    recorder: &mut Recorder,
    req: &SyncRequest<'_>,
    sides: &Sides,
    merged: &ArtifactFiles,
    outcomes: &[FileOutcome],
) -> Result<PathBuf, OpsError> {
    let (key, _) = crate::ops::tier::tier_key(&sides.target_tier, req.id);
    let root = pending_root(&ctx.home);
    let dir = root.join(&key);
    fs::create_dir_all(&root).context("create", &root)?;
    // Built beside its final place and renamed in, so a pending merge is never half there.
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&root)
        .context("create a staging folder in", &root)?;
    let write = |part: &str, files: &ArtifactFiles| {
        let path = staging.path().join(part);
        files.write_to(&path, true).context("write", &path)
    };
    write("files", merged)?;
    write("theirs", &sides.source)?;
    if let Some(ours) = &sides.target {
        write("ours", ours)?;
    }
    if let Some(base) = &sides.base {
        write("base", base)?;
    }
    let files: Vec<PendingFile> = outcomes
        .iter()
        .filter_map(|o| {
            o.conflict.map(|kind| PendingFile {
                path: o.path.clone(),
                kind,
                resolved: false,
                settled: None,
            })
        })
        .collect();
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let mut merge = PendingMerge {
        id: req.id.clone(),
        collection: req.collection.to_owned(),
        direction: req.direction,
        project: req
            .project
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned())),
        strategy: req.strategy,
        base: sides.base_hash,
        ours: sides.target_hash,
        theirs: sides.source_hash,
        detected_at: rfc3339(ctx.now),
        conflict_record: None,
        upstream_commit: sides.upstream.as_ref().map(|u| u.commit.clone()),
        upstream_tree: sides.upstream.as_ref().map(|u| u.tree.clone()),
        files,
        dir: staging.path().to_owned(),
    };
    let mut event = merge.event(EventKind::Conflict, rfc3339(ctx.now));
    event.outcome = Some(
        crate::ops::sync::request::Outcome::Conflict
            .as_str()
            .to_owned(),
    );
    event.merged = outcomes
        .iter()
        .filter(|o| o.action == crate::engine::merge::FileAction::CleanMerge)
        .map(|o| o.path.clone())
        .collect();
    merge.conflict_record = recorder
        .record_conflict(&merge.as_new_conflict(&paths), &event)
        .await;
    merge.save()?;
    let staged = staging.keep();
    fs::rename(&staged, &dir).context("keep the pending merge in", &dir)?;
    merge.dir = dir.clone();
    if let Some(project) = req.project {
        set_pending_in_record(ctx, project, req.id, &paths)?;
    }
    Ok(dir)
}

/// Notes the files of a pending merge in the project's record (under the records file's lock,
/// on the file as it is now). Emptied by an abort, the status goes back to what the copy on disk
/// says against the baseline, which the merge never moved.
pub(crate) fn set_pending_in_record(
    ctx: &Context,
    project: &Path,
    id: &ArtifactId,
    paths: &[String],
) -> Result<(), OpsError> {
    let _guard = crate::ops::tier::shared_file_guard(ctx, &DeploymentFile::path_in(project))?;
    let mut records = DeploymentFile::load(project)?;
    if let Some(r) = records.deployed.iter_mut().find(|r| &r.id() == id) {
        r.pending_conflicts = paths.to_vec();
        if !paths.is_empty() {
            r.sync_status = RecordedStatus::Conflict;
        } else if r.sync_status == RecordedStatus::Conflict {
            let on_disk = r
                .artifact_path
                .as_deref()
                .and_then(|rel| crate::model::hash::hash_path(&project.join(rel)).ok())
                .map(|h| h.to_hex());
            let edited = on_disk.is_none() || on_disk != r.content_hash;
            r.local_modifications = edited;
            r.sync_status = if edited {
                RecordedStatus::Modified
            } else {
                RecordedStatus::Synced
            };
        }
        records.save(project)?;
    }
    Ok(())
}
