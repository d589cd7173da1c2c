//! Hook and mcp artifacts in a project: entries merged into a file the user and Claude Code
//! share, with an ownership ledger in the deployment record (see
//! [`crate::model::fragment`] for the shapes, [`crate::engine::json_merge`] for the merge).
//!
//! Where they go, from Claude Code's documentation: hooks into the `hooks` key of
//! `.claude/settings.json` (the user's `~/.claude/settings.json` with `--user`; hooks reference,
//! "Configuration"); MCP servers into `mcpServers` of `.mcp.json` at the project root, or of
//! `~/.claude.json` for the user scope (MCP page, "MCP installation scopes": user-scope servers
//! are kept in `~/.claude.json` beside Claude Code's login and app state, which SkillMeat never
//! touches — only its own entries change, and the file as it was is kept in the version store
//! before each write).
//!
//! The ledger holds each entry SkillMeat wrote with its value as written (secrets masked): the
//! base of the next three-way merge. An entry the user edited since is theirs to keep or merge;
//! one they deleted stays deleted (kept in the ledger as `deleted`, so a later sync knows);
//! an entry already in the file that SkillMeat did not write is never overwritten.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::engine::json_merge::{self, Clash, EntryChange, Pick};
use crate::engine::merge::{FileAction, FileOutcome};
use crate::model::artifact::{ArtifactId, ArtifactType};
use crate::model::files::{ArtifactFiles, FileContent};
use crate::model::fragment::{self, Entries, EntryKey};
use crate::model::hash::{ContentHash, HashAlgorithm};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::sync::request::{Direction, Outcome, SyncReport, SyncRequest};
use crate::ops::tier::{artifact_path, final_name, shared_file_guard};
use crate::storage::collection::LockEntry;
use crate::storage::records::{DeploymentFile, DeploymentRecord, OwnedEntry, RecordedStatus};
use crate::storage::shared_json::SharedFile;

/// The shared file a `kind` artifact's entries go into in `project`, relative to it.
pub fn shared_file_rel(project: &Path, kind: ArtifactType) -> &'static str {
    match kind {
        ArtifactType::Mcp if is_user_scope(project) => ".claude.json",
        ArtifactType::Mcp => ".mcp.json",
        _ => ".claude/settings.json",
    }
}

/// Whether `project` is the user's home (the `--user` scope).
pub fn is_user_scope(project: &Path) -> bool {
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        return false;
    };
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
    canon(Path::new(&home)) == canon(project)
}

/// The shared file of `record` (or of a first deploy of `kind`) in `project`.
fn shared_path(project: &Path, kind: ArtifactType, record: Option<&DeploymentRecord>) -> PathBuf {
    let rel = record
        .and_then(|r| r.shared_file.clone())
        .filter(|rel| {
            [".claude.json", ".mcp.json", ".claude/settings.json"].contains(&rel.as_str())
        })
        .unwrap_or_else(|| shared_file_rel(project, kind).to_owned());
    project.join(rel)
}

/// The collection's entries of `id`, and the collection copy's content hash.
pub fn collection_entries(
    collection_dir: &Path,
    id: &ArtifactId,
) -> Result<(Entries, ContentHash), OpsError> {
    let path = artifact_path(collection_dir, id);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(OpsError::NoCopy {
            id: id.clone(),
            path,
        });
    }
    let files = ArtifactFiles::read(&path)?;
    Ok((entries_of(&files, id)?, files.content_hash()))
}

/// The entries a fragment artifact's copy holds.
fn entries_of(files: &ArtifactFiles, id: &ArtifactId) -> Result<Entries, OpsError> {
    let name = final_name(id);
    let bytes = files
        .files
        .get(&name)
        .map(|f| f.bytes.as_slice())
        .unwrap_or_default();
    Ok(fragment::entries(id.kind, id.name.as_str(), &name, bytes)?)
}

/// The base of the next merge: the ledger's entries (masked), deleted ones included.
fn base_of(record: &DeploymentRecord) -> Result<Entries, OpsError> {
    record
        .entries
        .iter()
        .map(|e| {
            let value: Value = serde_json::from_str(&e.value).map_err(|err| {
                crate::model::fragment::FragmentError::Json {
                    file: crate::storage::records::RECORDS_FILE.to_owned(),
                    message: format!("the ledger entry of {} is not JSON: {err}", e.entry),
                    line: err.line(),
                    column: err.column(),
                }
            })?;
            Ok((e.entry.clone(), value))
        })
        .collect()
}

/// The ledger of `entries` as written (masked), with `deleted` entries marked.
fn ledger(written: &Entries, deleted: &Entries) -> Vec<OwnedEntry> {
    let mut out: Vec<OwnedEntry> = written
        .iter()
        .map(|(k, v)| OwnedEntry {
            entry: k.clone(),
            value: fragment::mask(v).to_string(),
            deleted: false,
        })
        .collect();
    out.extend(deleted.iter().map(|(k, v)| OwnedEntry {
        entry: k.clone(),
        value: v.to_string(),
        deleted: true,
    }));
    out.sort_by(|a, b| a.entry.cmp(&b.entry));
    out
}

/// The ledger's values after a merge: the collection's version of each entry the file keeps
/// (the agreed state, as after a file sync the source's version is the new base, so local
/// edits stay local edits). An entry kept only locally leaves the ledger: it is the user's now.
fn agreed(kept: &Entries, theirs: &Entries) -> Entries {
    kept.keys()
        .filter_map(|k| theirs.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

/// A content hash of masked entries, for drift rows and plans (two equal sets hash equal).
fn entries_hash(masked: &Entries) -> ContentHash {
    use sha2::Digest as _;
    let pairs: Vec<(&EntryKey, &Value)> = masked.iter().collect();
    let bytes = serde_json::to_vec(&pairs).unwrap_or_default();
    ContentHash::from_bytes(sha2::Sha256::digest(&bytes).into())
}

/// The entries of `record`'s ledger the shared file holds now (masked or not).
fn in_file(file: &SharedFile, keys: &[EntryKey]) -> Result<Entries, OpsError> {
    Ok(file.entries(keys)?)
}

/// What a project holds of `id` now, as a file (its entries rendered in the artifact's shape,
/// `env` and `headers` masked unless `clear`): for diffs, `show`, `check`. `None` when none of
/// its entries is left.
pub fn project_files(
    project: &Path,
    id: &ArtifactId,
    clear: bool,
) -> Result<Option<ArtifactFiles>, OpsError> {
    let records = DeploymentFile::load(project)?;
    let record = records.get(id).ok_or_else(|| OpsError::NotDeployed {
        id: id.clone(),
        project: project.to_owned(),
    })?;
    let file = SharedFile::load(&shared_path(project, id.kind, Some(record)))?;
    let keys: Vec<EntryKey> = record.entries.iter().map(|e| e.entry.clone()).collect();
    let mut entries = in_file(&file, &keys)?;
    if entries.is_empty() {
        return Ok(None);
    }
    if !clear {
        entries = json_merge::as_base(&entries);
    }
    let mut files = ArtifactFiles::default();
    files.files.insert(
        final_name(id),
        FileContent::text(fragment::render(id.kind, &entries)),
    );
    Ok(Some(files))
}

/// A collection copy as shown (secrets masked).
pub fn masked_files(id: &ArtifactId, files: &ArtifactFiles) -> ArtifactFiles {
    let name = final_name(id);
    let Some(file) = files.files.get(&name) else {
        return files.clone();
    };
    match fragment::entries(id.kind, id.name.as_str(), &name, &file.bytes) {
        Ok(entries) => {
            let mut out = ArtifactFiles::default();
            out.files.insert(
                name,
                FileContent::text(fragment::render(id.kind, &json_merge::as_base(&entries))),
            );
            out
        }
        Err(_) => files.clone(),
    }
}

/// Base, collection and project hashes of a deployed fragment; `None` where a side holds none.
pub type DriftHashes = (
    Option<ContentHash>,
    Option<ContentHash>,
    Option<ContentHash>,
);

/// The drift of one deployed fragment: (base, collection, project) as hashes of masked entries
/// (the project side is every ledger and collection entry the file holds now, so a local
/// deletion or edit differs from the base).
pub fn drift_hashes(
    collection_dir: &Path,
    project: &Path,
    id: &ArtifactId,
    record: &DeploymentRecord,
) -> Result<DriftHashes, OpsError> {
    let base = base_of(record)?;
    let live_base: Entries = record
        .entries
        .iter()
        .filter(|e| !e.deleted)
        .filter_map(|e| base.get(&e.entry).map(|v| (e.entry.clone(), v.clone())))
        .collect();
    let source = match collection_entries(collection_dir, id) {
        Ok((entries, _)) => Some(json_merge::as_base(&entries)),
        Err(OpsError::NoCopy { .. }) => None,
        Err(e) => return Err(e),
    };
    let file = SharedFile::load(&shared_path(project, id.kind, Some(record)))?;
    let keys: Vec<EntryKey> = record.entries.iter().map(|e| e.entry.clone()).collect();
    let target = json_merge::as_base(&in_file(&file, &keys)?);
    // An entry deleted locally, and still deleted, is the agreed state: the source's value of
    // it is left out of both sides so it does not read as drift forever.
    let deleted: Vec<&EntryKey> = record
        .entries
        .iter()
        .filter(|e| e.deleted)
        .map(|e| &e.entry)
        .collect();
    let source = source.map(|mut s| {
        s.retain(|k, _| !deleted.contains(&k));
        entries_hash(&s)
    });
    Ok((
        Some(entries_hash(&live_base)),
        source,
        Some(entries_hash(&target)),
    ))
}

/// The changes that take the file from `current` to `wanted` over `keys`.
fn changes_between(
    keys: &[EntryKey],
    current: &Entries,
    wanted: &Entries,
) -> Vec<(EntryKey, Option<Value>)> {
    keys.iter()
        .filter(|k| current.get(*k) != wanted.get(*k))
        .map(|k| ((*k).clone(), wanted.get(k).cloned()))
        .collect()
}

/// Writes `changes` into the shared file at `path`, which must still be what `read` was (the
/// caller holds its lock). For `~/.claude.json` the file as it was is first kept in the version
/// store; its commit is returned.
async fn write_changes(
    ctx: &Context,
    id: &ArtifactId,
    read: &SharedFile,
    changes: &[(EntryKey, Option<Value>)],
    keep_backup: bool,
) -> Result<Option<String>, OpsError> {
    let text = read.edited(changes)?;
    let backup = if keep_backup && read.text.is_some() {
        Some(backup(ctx, id, read).await?)
    } else {
        None
    };
    // Checked last, right before the rename: the file may have another writer that does not
    // take our lock (Claude Code, for `~/.claude.json`), so the window is kept to the rename.
    let now = SharedFile::load(&read.path)?;
    if now.bytes() != read.bytes() {
        return Err(OpsError::TargetChanged {
            id: id.clone(),
            path: read.path.clone(),
        });
    }
    crate::storage::atomic::write_atomic(&read.path, text.as_bytes())?;
    Ok(backup)
}

/// Keeps `file` as it is now in the version store (a commit of its own, kept by a ref).
async fn backup(ctx: &Context, id: &ArtifactId, file: &SharedFile) -> Result<String, OpsError> {
    use crate::model::error::IoResultExt as _;
    let dir = tempfile::tempdir().context("create a temp folder", std::env::temp_dir())?;
    let name = file.path.file_name().map_or_else(
        || "shared.json".into(),
        |n| n.to_string_lossy().trim_start_matches('.').to_owned(),
    );
    let copy = dir.path().join(name);
    std::fs::write(&copy, file.bytes()).context("write", &copy)?;
    let versions = crate::storage::versions::Versions::open(&ctx.home).await?;
    let stored = versions.store().write_tree(&copy);
    let commit = stored.and_then(|t| {
        versions.store().commit(
            &t.tree,
            &[],
            &format!("backup of {} before {id} was written", file.path.display()),
            ctx.now,
        )
    });
    versions.close().await;
    Ok(commit?.as_str().to_owned())
}

/// One fragment deployed: the record to keep, and whether the file changed.
pub(crate) struct DeployedFragment {
    pub record: DeploymentRecord,
    pub path: PathBuf,
    pub hash: ContentHash,
    pub changed: bool,
}

/// Checks that `id` can be deployed into `project` as things are now (no entry of someone
/// else's in the way, no local edit a deploy would overwrite); writes nothing.
pub(crate) fn check_deploy(
    id: &ArtifactId,
    project: &Path,
    collection_dir: &Path,
    existing: Option<&DeploymentRecord>,
) -> Result<(), OpsError> {
    let (theirs, _) = collection_entries(collection_dir, id)?;
    let path = shared_path(project, id.kind, existing);
    let file = SharedFile::load(&path)?;
    plan_deploy(id, project, &file, &theirs, existing).map(|_| ())
}

/// The changes a deploy makes to `file`, after the checks.
fn plan_deploy(
    id: &ArtifactId,
    project: &Path,
    file: &SharedFile,
    theirs: &Entries,
    existing: Option<&DeploymentRecord>,
) -> Result<Vec<(EntryKey, Option<Value>)>, OpsError> {
    let base = existing.map(base_of).transpose()?.unwrap_or_default();
    let deleted: Vec<&EntryKey> = existing
        .map(|r| {
            r.entries
                .iter()
                .filter(|e| e.deleted)
                .map(|e| &e.entry)
                .collect()
        })
        .unwrap_or_default();
    let mut keys: Vec<EntryKey> = base.keys().chain(theirs.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let ours = in_file(file, &keys)?;
    for key in &keys {
        let (b, o, t) = (base.get(key), ours.get(key), theirs.get(key));
        match (b, o) {
            // Someone else's entry where ours would go.
            (None, Some(o)) if Some(o) != t => {
                return Err(OpsError::Unowned {
                    id: id.clone(),
                    path: file.path.clone(),
                    entry: key.to_string(),
                });
            }
            // Edited, or deleted, since SkillMeat wrote it: a deploy would overwrite that.
            (Some(b), o)
                if o.map(fragment::mask).as_ref() != Some(b) && !deleted.contains(&key) =>
            {
                return Err(OpsError::LocalEdits {
                    id: id.clone(),
                    project: project.to_owned(),
                });
            }
            _ => {}
        }
    }
    // A deploy writes the collection's entries, except those the user deleted here.
    let mut wanted = theirs.clone();
    wanted.retain(|k, _| !deleted.contains(&k));
    Ok(changes_between(&keys, &ours, &wanted))
}

/// Deploys one fragment: its entries merged into the shared file under the file's lock, the
/// ledger the new record holds. Replans once when another writer got to the file first.
pub(crate) async fn deploy_one(
    ctx: &Context,
    id: &ArtifactId,
    project: &Path,
    collection: &str,
    collection_dir: &Path,
    existing: Option<&DeploymentRecord>,
    locked: Option<&LockEntry>,
) -> Result<DeployedFragment, OpsError> {
    let (theirs, hash) = collection_entries(collection_dir, id)?;
    let path = shared_path(project, id.kind, existing);
    let _guard = shared_file_guard(ctx, &path)?;
    let file = SharedFile::load(&path)?;
    let changes = plan_deploy(id, project, &file, &theirs, existing)?;
    let user = is_user_scope(project) && id.kind == ArtifactType::Mcp;
    let backup = if changes.is_empty() {
        None
    } else {
        write_changes(ctx, id, &file, &changes, user).await?
    };
    let deleted: Entries = existing
        .map(|r| -> Result<Entries, OpsError> {
            let base = base_of(r)?;
            Ok(r.entries
                .iter()
                .filter(|e| e.deleted)
                .filter_map(|e| base.get(&e.entry).map(|v| (e.entry.clone(), v.clone())))
                .collect())
        })
        .transpose()?
        .unwrap_or_default();
    let mut written = theirs.clone();
    written.retain(|k, _| !deleted.contains_key(k));
    let rel = path
        .strip_prefix(project)
        .map_or_else(|_| path.display().to_string(), |r| r.display().to_string());
    let record = fragment_record(
        ctx,
        id,
        collection,
        &rel,
        hash,
        existing,
        locked,
        ledger(&written, &deleted),
        backup.or_else(|| existing.and_then(|r| r.shared_file_backup.clone())),
    );
    Ok(DeployedFragment {
        record,
        path,
        hash,
        changed: !changes.is_empty(),
    })
}

#[allow(clippy::too_many_arguments)]
fn fragment_record(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    rel: &str,
    hash: ContentHash,
    existing: Option<&DeploymentRecord>,
    locked: Option<&LockEntry>,
    entries: Vec<OwnedEntry>,
    backup: Option<String>,
) -> DeploymentRecord {
    let stamp = rfc3339(ctx.now);
    let hex = hash.to_hex();
    let mut lineage = existing
        .map(|r| r.version_lineage.clone())
        .unwrap_or_default();
    if lineage.first() != Some(&hex) {
        lineage.insert(0, hex.clone());
    }
    let local = entries.iter().any(|e| e.deleted);
    DeploymentRecord {
        artifact_name: id.name.clone(),
        artifact_type: id.kind,
        from_collection: collection.to_owned(),
        deployed_at: Some(stamp.clone()),
        artifact_path: Some(rel.to_owned()),
        content_hash: Some(hex.clone()),
        hash_algorithm: HashAlgorithm::V1,
        local_modifications: local,
        parent_hash: existing
            .and_then(|r| r.content_hash.clone())
            .filter(|h| h != &hex),
        version_lineage: lineage,
        sync_status: if local {
            RecordedStatus::Modified
        } else {
            RecordedStatus::Synced
        },
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
        snapshot_id: None,
        version_tag: None,
        shared_file: Some(rel.to_owned()),
        entries,
        pending_picks: Vec::new(),
        shared_file_backup: backup,
    }
}

/// Puts `record` into the project's records file as it is now, under the file's lock.
fn save_record(ctx: &Context, project: &Path, record: DeploymentRecord) -> Result<(), OpsError> {
    let _guard = shared_file_guard(ctx, &DeploymentFile::path_in(project))?;
    let mut current = DeploymentFile::load(project)?;
    current.deployed.retain(|r| r.id() != record.id());
    current.deployed.push(record);
    current.deployed.sort_by_key(DeploymentRecord::id);
    current.save(project)?;
    Ok(())
}

/// How a clash's decision is written in the record (`<label>=ours`).
fn pick_of(picks: &[String], clash: &Clash) -> Option<Pick> {
    let label = clash.label();
    picks.iter().rev().find_map(|p| {
        let (l, side) = p.rsplit_once('=')?;
        (l == label).then_some(match side {
            "theirs" => Pick::Theirs,
            _ => Pick::Ours,
        })
    })
}

/// Syncs a fragment between the collection and a project. Collection → project merges entry
/// by entry into the shared file; project → collection is refused (capturing a project's
/// edits into the collection would carry its secrets; edit the collection's copy instead).
/// `collection_as`, in a dry run, stands for the collection's copy (see
/// [`plan_after`](crate::ops::sync::plan_after)).
pub async fn sync(
    ctx: &Context,
    req: &SyncRequest<'_>,
    collection_as: Option<&ArtifactFiles>,
) -> Result<SyncReport, OpsError> {
    if req.direction != Direction::CollectionToProject {
        return Err(OpsError::FragmentDirection {
            id: req.id.clone(),
            direction: req.direction.as_str(),
        });
    }
    let project = req.project.ok_or(OpsError::ProjectRequired {
        direction: req.direction.as_str(),
    })?;
    let registered = crate::ops::links::registered_projects(&ctx.home).await?;
    let canonical = project
        .canonicalize()
        .map_err(|e| crate::model::error::PathError::new("open the project", project, e))?;
    if !registered.contains(&canonical) {
        return Err(OpsError::NotRegistered {
            project: project.to_owned(),
        });
    }
    let picks = {
        let records = DeploymentFile::load(project)?;
        let record = records.get(req.id).ok_or_else(|| OpsError::NotDeployed {
            id: req.id.clone(),
            project: project.to_owned(),
        })?;
        record.pending_picks.clone()
    };
    let collection_as = collection_as.filter(|_| req.dry_run);
    merge_into_project(ctx, req, project, &picks, req.strategy, collection_as).await
}

/// Settles a fragment's pending merge: `pick` records one decision (by clash label), `apply`
/// writes the merge when every clash is decided. Returns the clashes still open.
pub async fn resolve(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: &Path,
    pick: Option<(&str, Pick)>,
    apply: bool,
) -> Result<SyncReport, OpsError> {
    let mut record = pending_record_of(project, id)?;
    if let Some((label, side)) = pick {
        if !record.pending_conflicts.iter().any(|c| c == label) {
            return Err(OpsError::NoSuchClash {
                id: id.clone(),
                clash: label.to_owned(),
                open: record.pending_conflicts.join(", "),
            });
        }
        record.pending_picks.push(format!(
            "{label}={}",
            if side == Pick::Theirs {
                "theirs"
            } else {
                "ours"
            }
        ));
        save_record(ctx, project, record.clone())?;
    }
    let req = SyncRequest {
        id,
        direction: Direction::CollectionToProject,
        project: Some(project),
        collection,
        strategy: crate::ops::sync::request::Strategy::Auto,
        dry_run: !apply,
        on_phase: None,
        expect: None,
    };
    merge_into_project(
        ctx,
        &req,
        project,
        &record.pending_picks,
        crate::ops::sync::request::Strategy::Auto,
        None,
    )
    .await
}

/// A fragment's pending merge as the dialog shows it: each clash with its three values
/// (masked) and the decision taken so far.
#[derive(Debug, Clone)]
pub struct FragmentMerge {
    pub id: ArtifactId,
    pub collection: String,
    pub project: PathBuf,
    /// The shared file, relative to the project.
    pub shared_file: String,
    /// When the clash was found (RFC 3339).
    pub detected_at: String,
    pub clashes: Vec<(Clash, Option<Pick>)>,
    /// Changes whenever the file, the collection's copy or a decision changes: choices made
    /// on an older view are refused.
    pub revision: String,
}

impl FragmentMerge {
    /// The labels of the clashes not decided yet.
    pub fn unresolved(&self) -> Vec<String> {
        self.clashes
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(c, _)| c.label())
            .collect()
    }

    /// Refuses choices made on another revision of this merge.
    pub fn expect_revision(&self, expected: Option<&str>) -> Result<(), OpsError> {
        match expected {
            Some(e) if e != self.revision => Err(OpsError::MergeChanged {
                id: self.id.clone(),
            }),
            _ => Ok(()),
        }
    }
}

/// The pending merge of fragment `id` in `project`, when there is one. Reads only.
pub fn pending_merge(
    ctx: &Context,
    id: &ArtifactId,
    project: &Path,
) -> Result<Option<FragmentMerge>, OpsError> {
    let records = DeploymentFile::load(project)?;
    let Some(record) = records.get(id).filter(|r| !r.pending_conflicts.is_empty()) else {
        return Ok(None);
    };
    let collection_dir = ctx.home.collection_dir(&record.from_collection)?;
    let (theirs, source_hash) = collection_entries(&collection_dir, id)?;
    let path = shared_path(project, id.kind, Some(record));
    let file = SharedFile::load(&path)?;
    let base = base_of(record)?;
    let mut keys: Vec<EntryKey> = base.keys().chain(theirs.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let ours = in_file(&file, &keys)?;
    let merged = json_merge::merge(&base, &ours, &theirs, &|_| None);
    let clashes: Vec<(Clash, Option<Pick>)> = merged
        .clashes
        .into_iter()
        .map(|c| {
            let pick = pick_of(&record.pending_picks, &c);
            (c, pick)
        })
        .collect();
    let revision = {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(entries_hash(&json_merge::as_base(&ours)).to_hex());
        h.update(source_hash.to_hex());
        for p in &record.pending_picks {
            h.update(p.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    };
    Ok(Some(FragmentMerge {
        id: id.clone(),
        collection: record.from_collection.clone(),
        project: project.to_owned(),
        shared_file: record
            .shared_file
            .clone()
            .unwrap_or_else(|| shared_file_rel(project, id.kind).to_owned()),
        detected_at: record
            .modification_detected_at
            .clone()
            .or_else(|| record.deployed_at.clone())
            .unwrap_or_default(),
        clashes,
        revision,
    }))
}

/// The pending fragment merges in `projects` (of `collection`, or all), for the list of open
/// merges. A project whose records cannot be read is skipped with a warning.
pub fn open_merges(
    ctx: &Context,
    collection: Option<&str>,
    projects: &[PathBuf],
) -> Vec<FragmentMerge> {
    let mut loaded = Vec::new();
    for project in projects {
        match DeploymentFile::load(project) {
            Ok(r) => loaded.push((project.as_path(), r)),
            Err(e) => tracing::warn!("pending merges of {}: {e}", project.display()),
        }
    }
    open_merges_in(ctx, collection, loaded.iter().map(|(p, r)| (*p, r)))
}

/// [`open_merges`] from records already read.
pub fn open_merges_in<'a>(
    ctx: &Context,
    collection: Option<&str>,
    records: impl IntoIterator<Item = (&'a Path, &'a DeploymentFile)>,
) -> Vec<FragmentMerge> {
    let mut out = Vec::new();
    for (project, records) in records {
        for record in &records.deployed {
            let id = record.id();
            if !id.kind.is_fragment()
                || record.pending_conflicts.is_empty()
                || collection.is_some_and(|c| c != record.from_collection)
            {
                continue;
            }
            match pending_merge(ctx, &id, project) {
                Ok(Some(m)) => out.push(m),
                Ok(None) => {}
                Err(e) => tracing::warn!("pending merge of {id} in {}: {e}", project.display()),
            }
        }
    }
    out
}

/// The record of `id` in `project`.
fn record_of(project: &Path, id: &ArtifactId) -> Result<DeploymentRecord, OpsError> {
    DeploymentFile::load(project)?
        .get(id)
        .cloned()
        .ok_or_else(|| OpsError::NotDeployed {
            id: id.clone(),
            project: project.to_owned(),
        })
}

/// The record of `id` in `project`, which must hold a pending merge.
fn pending_record_of(project: &Path, id: &ArtifactId) -> Result<DeploymentRecord, OpsError> {
    let record = record_of(project, id)?;
    if record.pending_conflicts.is_empty() {
        return Err(OpsError::NoPendingMerge { id: id.clone() });
    }
    Ok(record)
}

/// Drops a fragment's pending merge (its decisions too); nothing was written.
pub fn abort(ctx: &Context, id: &ArtifactId, project: &Path) -> Result<(), OpsError> {
    let mut record = pending_record_of(project, id)?;
    record.pending_conflicts.clear();
    record.pending_picks.clear();
    record.sync_status = RecordedStatus::Conflict;
    save_record(ctx, project, record)
}

/// The merge of the collection's entries into the project's shared file, with `picks` deciding
/// clashes (and `strategy` ours / theirs / overwrite deciding all of them).
async fn merge_into_project(
    ctx: &Context,
    req: &SyncRequest<'_>,
    project: &Path,
    picks: &[String],
    strategy: crate::ops::sync::request::Strategy,
    collection_as: Option<&ArtifactFiles>,
) -> Result<SyncReport, OpsError> {
    use crate::ops::sync::request::Strategy;
    let id = req.id;
    let collection_dir = ctx.home.collection_dir(req.collection)?;
    let lock = crate::storage::collection::Lock::load(&collection_dir)?;
    let (theirs, source_hash) = match collection_as {
        Some(files) => (entries_of(files, id)?, files.content_hash()),
        None => collection_entries(&collection_dir, id)?,
    };
    let record = record_of(project, id)?;
    let path = shared_path(project, id.kind, Some(&record));
    let _guard = if req.dry_run {
        None
    } else {
        Some(shared_file_guard(ctx, &path)?)
    };
    let file = SharedFile::load(&path)?;
    let base = base_of(&record)?;
    let mut keys: Vec<EntryKey> = base.keys().chain(theirs.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let ours = in_file(&file, &keys)?;
    for key in theirs.keys() {
        if !base.contains_key(key)
            && let Some(o) = ours.get(key)
            && Some(o) != theirs.get(key)
        {
            return Err(OpsError::Unowned {
                id: id.clone(),
                path: path.clone(),
                entry: key.to_string(),
            });
        }
    }
    let mut base_for_merge = base.clone();
    let mut ours_for_merge = ours.clone();
    if strategy == Strategy::Overwrite {
        // The collection's version, whole: a local deletion is undone too.
        base_for_merge = json_merge::as_base(&ours);
        ours_for_merge = ours.clone();
    }
    let pick = |c: &Clash| match strategy {
        Strategy::Ours => Some(Pick::Ours),
        Strategy::Theirs | Strategy::Overwrite => Some(Pick::Theirs),
        _ => pick_of(picks, c),
    };
    let merged = json_merge::merge(&base_for_merge, &ours_for_merge, &theirs, &pick);
    let merged = if strategy == Strategy::Overwrite {
        json_merge::Merged {
            entries: theirs.clone(),
            ..merged
        }
    } else {
        merged
    };
    let deleted: Entries = merged
        .changes
        .iter()
        .filter(|(_, c)| *c == EntryChange::DeletedLocally)
        .filter_map(|(k, _)| theirs.get(k).map(|v| (k.clone(), fragment::mask(v))))
        .collect();
    let changes = changes_between(&keys, &ours, &merged.entries);
    let mut warnings: Vec<String> = merged
        .deleted_but_changed
        .iter()
        .map(|k| {
            format!(
                "{k}: you deleted it from {}; the collection changed it since, and it stays \
                 deleted (`sync --strategy overwrite` puts the collection's back)",
                path.display()
            )
        })
        .collect();
    let files: Vec<FileOutcome> = merged
        .changes
        .iter()
        .map(|(k, c)| FileOutcome {
            path: k.to_string(),
            action: match c {
                EntryChange::Unchanged | EntryChange::KeptLocal | EntryChange::DeletedLocally => {
                    FileAction::Unchanged
                }
                EntryChange::Updated | EntryChange::Added | EntryChange::Removed => {
                    FileAction::FastForward
                }
                EntryChange::Merged => FileAction::CleanMerge,
                EntryChange::Clash => FileAction::Conflict,
            },
            conflict: (*c == EntryChange::Clash)
                .then_some(crate::engine::merge::ConflictKind::Content),
            renamed_from: None,
        })
        .collect();
    let target_hash = entries_hash(&json_merge::as_base(&ours));
    let result_hash = entries_hash(&json_merge::as_base(&merged.entries));
    let base_hash = entries_hash(&base);
    let new_ledger = ledger(&agreed(&merged.entries, &theirs), &deleted);
    let outcome = if !merged.clashes.is_empty() {
        Outcome::Conflict
    } else if changes.is_empty() && new_ledger == record.entries {
        Outcome::UpToDate
    } else if changes.is_empty() {
        // The file keeps what it has (a local edit, a deletion); the base moves on.
        Outcome::KeptTarget
    } else if merged
        .changes
        .iter()
        .any(|(_, c)| matches!(c, EntryChange::Merged | EntryChange::KeptLocal))
    {
        Outcome::Merged
    } else if strategy == Strategy::Overwrite {
        Outcome::Overwritten
    } else {
        Outcome::FastForward
    };
    for clash in &merged.clashes {
        warnings.push(format!(
            "clash {}: both changed it differently",
            clash.label()
        ));
    }
    let source = entries_hash(&json_merge::as_base(&theirs));
    // An apply that must be its preview's plan checks it before the first write, as a file
    // artifact's does (the shared file's guard is held: what it checks is what it writes over).
    if let Some(planned) = req.expect
        && !req.dry_run
        && let Some(what) = planned.differs(&crate::ops::sync::request::Planned {
            outcome,
            source,
            target: Some(target_hash),
        })
    {
        return Err(OpsError::PlanChanged {
            id: id.clone(),
            what,
        });
    }
    let mut applied = false;
    if !req.dry_run {
        let mut record = record.clone();
        if outcome == Outcome::Conflict {
            if record.pending_conflicts.is_empty() {
                record.modification_detected_at = Some(rfc3339(ctx.now));
            }
            record.pending_conflicts = merged.clashes.iter().map(Clash::label).collect();
            record.sync_status = RecordedStatus::Conflict;
            save_record(ctx, project, record)?;
            warnings.push(format!(
                "nothing was written to {}; decide each clash with `skillmeat resolve {id} \
                 --project {} --file CLASH --ours|--theirs`, then `--continue`",
                path.display(),
                project.display()
            ));
        } else {
            let user = is_user_scope(project) && id.kind == ArtifactType::Mcp;
            let backup = if changes.is_empty() {
                None
            } else {
                write_changes(ctx, id, &file, &changes, user).await?
            };
            let rel = path
                .strip_prefix(project)
                .map_or_else(|_| path.display().to_string(), |r| r.display().to_string());
            let mut new = fragment_record(
                ctx,
                id,
                req.collection,
                &rel,
                source_hash,
                Some(&record),
                lock.get(id),
                new_ledger,
                backup.or(record.shared_file_backup.clone()),
            );
            if merged
                .changes
                .iter()
                .any(|(_, c)| *c == EntryChange::KeptLocal)
            {
                new.local_modifications = true;
                new.sync_status = RecordedStatus::Modified;
            }
            save_record(ctx, project, new)?;
            applied = outcome != Outcome::UpToDate;
        }
    }
    Ok(SyncReport {
        id: id.clone(),
        direction: req.direction,
        project: Some(project.to_owned()),
        strategy: req.strategy,
        outcome,
        base: Some(base_hash),
        source,
        target: Some(target_hash),
        result: (outcome != Outcome::Conflict).then_some(result_hash),
        files,
        bump: bump_of(&merged.changes),
        applied,
        pending: None,
        fork: None,
        warnings,
        planned_files: None,
    })
}

/// What the entries' changes mean in semver terms: an entry gone is major (a hook or a server
/// someone relied on stops), a new one minor, a changed one a patch.
fn bump_of(changes: &[(EntryKey, EntryChange)]) -> crate::engine::bump::Suggestion {
    use crate::engine::bump::{Bump, Reason, Suggestion};
    let mut reasons: Vec<Reason> = changes
        .iter()
        .filter_map(|(k, c)| {
            let (bump, what) = match c {
                EntryChange::Removed => (Bump::Major, "removed"),
                EntryChange::Added => (Bump::Minor, "added"),
                EntryChange::Updated | EntryChange::Merged => (Bump::Patch, "changed"),
                _ => return None,
            };
            Some(Reason {
                bump,
                text: format!("{k} {what}"),
            })
        })
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.bump));
    Suggestion {
        bump: reasons.first().map_or(Bump::None, |r| r.bump),
        reasons,
    }
}

/// Takes a fragment's entries out of the project's shared file: refused when one was edited
/// there (unless `force`); entries the user already deleted are simply forgotten.
pub(crate) async fn undeploy_one(
    ctx: &Context,
    id: &ArtifactId,
    project: &Path,
    force: bool,
) -> Result<bool, OpsError> {
    let records = DeploymentFile::load(project)?;
    let record = records.get(id).ok_or_else(|| OpsError::NotDeployed {
        id: id.clone(),
        project: project.to_owned(),
    })?;
    let path = shared_path(project, id.kind, Some(record));
    let _guard = shared_file_guard(ctx, &path)?;
    let file = SharedFile::load(&path)?;
    let base = base_of(record)?;
    let keys: Vec<EntryKey> = base.keys().cloned().collect();
    let ours = in_file(&file, &keys)?;
    let edited = ours
        .iter()
        .any(|(k, v)| base.get(k) != Some(&fragment::mask(v)));
    if edited && !force {
        return Err(OpsError::UndeployEdits {
            id: id.clone(),
            project: project.to_owned(),
        });
    }
    let changes: Vec<(EntryKey, Option<Value>)> = ours.keys().map(|k| (k.clone(), None)).collect();
    let user = is_user_scope(project) && id.kind == ArtifactType::Mcp;
    if !changes.is_empty() {
        write_changes(ctx, id, &file, &changes, user).await?;
    }
    Ok(edited)
}
