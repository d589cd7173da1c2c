//! `history`, `changelog` and `tag`: an artifact's recorded versions with what each change
//! means in semver terms, the steps between two of them, and names for them (semver tags with a
//! breaking-change marker, and the next one proposed).

use std::fs;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::bump::{self, Suggestion};
use crate::model::artifact::ArtifactId;
use crate::model::files::ArtifactFiles;
use crate::model::hash::{self, ContentHash};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::collection_version;
use crate::ops::tier::artifact_path;
use crate::storage::collection::{Lock, Manifest};
use crate::storage::events::{Event, EventKind};
use crate::storage::versions::{Version, Versions};

/// An artifact's recorded versions.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// Whose history this is.
    pub id: ArtifactId,
    /// The content hash the collection holds now, if it holds the artifact.
    pub current: Option<ContentHash>,
    /// Every recorded version, newest first.
    pub versions: Vec<Version>,
    /// Versions instated again (rollbacks), newest first.
    pub events: Vec<crate::storage::versions::VersionEvent>,
    /// Per version (64 hex) with a recorded first parent: what the change from that parent
    /// means (major / minor / patch, with the reasons).
    pub changes: BTreeMap<String, Suggestion>,
}

/// The recorded versions of `id`, newest first. Read-only: opens nothing for writing and
/// records nothing (a version the collection holds but that was never recorded shows as
/// `current` without a row).
pub async fn history(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
) -> Result<History, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let (versions, events, changes) = match Versions::open_read_only(&ctx.home).await? {
        Some(v) => {
            let read = async {
                let history = v.history(id).await?;
                let events = v.events(id).await?;
                let changes = changes(&v, id, &history)?;
                Ok::<_, OpsError>((history, events, changes))
            }
            .await;
            v.close().await;
            read?
        }
        None => (Vec::new(), Vec::new(), BTreeMap::new()),
    };
    if manifest.get(id).is_none() && versions.is_empty() {
        return Err(OpsError::NotInCollection {
            id: id.clone(),
            collection: collection.to_owned(),
        });
    }
    let path = artifact_path(&collection_dir, id);
    let current = if fs::symlink_metadata(&path).is_ok() {
        Some(hash::hash_path(&path)?)
    } else {
        None
    };
    Ok(History {
        id: id.clone(),
        current,
        versions,
        events,
        changes,
    })
}

/// What each version's change from its recorded first parent means.
fn changes(
    versions: &Versions,
    id: &ArtifactId,
    history: &[Version],
) -> Result<BTreeMap<String, Suggestion>, OpsError> {
    let mut out = BTreeMap::new();
    for v in history {
        let Some(parent) = v
            .parent_hash
            .as_ref()
            .and_then(|p| history.iter().find(|h| &h.content_hash.to_hex() == p))
        else {
            continue;
        };
        let old = versions.store().read_tree(&parent.tree_id)?;
        let new = versions.store().read_tree(&v.tree_id)?;
        out.insert(v.content_hash.to_hex(), bump::suggest(id.kind, &old, &new));
    }
    Ok(out)
}

/// Names a version of `id` with `tag`: the version given (a tag or a hash prefix), else the one
/// the collection holds now (recorded first if it never was). `force` moves a tag that names
/// another version.
pub async fn tag(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    tag: &str,
    version: Option<&str>,
    breaking: bool,
    force: bool,
) -> Result<Version, OpsError> {
    crate::storage::versions::check_tag(tag)?;
    let versions = Versions::open(&ctx.home).await?;
    let tagged = async {
        let target = version_or_current(ctx, &versions, id, collection, version).await?;
        let mut event = Event::new(EventKind::Tag, id, collection, rfc3339(ctx.now));
        event.detail = serde_json::json!({
            "tag": tag,
            "breaking": breaking,
            "previous": target.version_tag,
        });
        Ok::<_, OpsError>(
            versions
                .tag(id, &target.content_hash, tag, breaking, force, &event)
                .await?,
        )
    }
    .await;
    versions.close().await;
    tagged
}

/// The version `given` names (a tag or a hash prefix), else the one the collection holds now,
/// recorded first if it never was.
async fn version_or_current(
    ctx: &Context,
    versions: &Versions,
    id: &ArtifactId,
    collection: &str,
    given: Option<&str>,
) -> Result<Version, OpsError> {
    if let Some(given) = given {
        return Ok(versions.resolve(id, given).await?);
    }
    let collection_dir = ctx.home.collection_dir(collection)?;
    if Manifest::load(&collection_dir)?.get(id).is_none() {
        return Err(OpsError::NotInCollection {
            id: id.clone(),
            collection: collection.to_owned(),
        });
    }
    let path = artifact_path(&collection_dir, id);
    let current = hash::hash_path(&path)?;
    let lock = Lock::load(&collection_dir)?;
    let previous = versions.latest_in_tier(id, "collection").await?;
    Ok(versions
        .record(collection_version(
            ctx,
            id,
            &path,
            &current,
            lock.get(id),
            previous.as_ref(),
        ))
        .await?
        .version)
}

/// The next semver tag proposed for a version.
#[derive(Debug, Clone, Serialize)]
pub struct NextTag {
    pub id: ArtifactId,
    /// The version it would name.
    pub version: ContentHash,
    /// The highest semver tag of the artifact so far, and the version it names.
    pub last: Option<(String, ContentHash)>,
    /// The tag proposed (`v1.3.0`), in the last tag's style (with or without the `v`).
    pub proposed: String,
    /// What changed since the last semver tag (`none` when there is none: a first release).
    pub bump: Suggestion,
    /// Whether the change is major, so the tag should mark a breaking change.
    pub breaking: bool,
}

/// Proposes the next semver tag for the version `given` (or the collection's current one): the
/// last semver tag bumped by what changed since the version it names. Without a semver tag yet,
/// `v1.0.0`. Read-only: the collection's copy is read from disk when it was never recorded, and
/// nothing is tagged.
pub async fn next_tag(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    given: Option<&str>,
) -> Result<NextTag, OpsError> {
    let versions = Versions::open_read_only(&ctx.home).await?;
    let next = async {
        let history = match &versions {
            Some(v) => v.history(id).await?,
            None => Vec::new(),
        };
        let (version, new_files) = match (given, &versions) {
            (Some(g), Some(v)) => {
                let found = v.resolve(id, g).await?;
                (found.content_hash, v.store().read_tree(&found.tree_id)?)
            }
            (Some(g), None) => {
                return Err(crate::storage::versions::VersionError::NotFound {
                    artifact: id.clone(),
                    given: g.to_owned(),
                }
                .into());
            }
            (None, _) => {
                let collection_dir = ctx.home.collection_dir(collection)?;
                if Manifest::load(&collection_dir)?.get(id).is_none() {
                    return Err(OpsError::NotInCollection {
                        id: id.clone(),
                        collection: collection.to_owned(),
                    });
                }
                let files = ArtifactFiles::read(&artifact_path(&collection_dir, id))?;
                (files.content_hash(), files)
            }
        };
        let last = history
            .iter()
            .filter_map(|v| {
                let tag = v.version_tag.as_deref()?;
                Some((bump::parse_semver_tag(tag)?, tag, v))
            })
            .max_by(|a, b| a.0.cmp(&b.0));
        let (proposed, suggestion, last) = match (last, &versions) {
            // The version already carries the last semver tag: nothing to propose beyond it.
            (Some((_, tag, v)), Some(_)) if v.content_hash == version => (
                tag.to_owned(),
                Suggestion::default(),
                Some((tag.to_owned(), v.content_hash)),
            ),
            (Some((semver, tag, v)), Some(store)) => {
                let old_files = store.store().read_tree(&v.tree_id)?;
                let suggestion = bump::suggest(id.kind, &old_files, &new_files);
                let prefix = if tag.starts_with('v') { "v" } else { "" };
                let next = bump::next_version(&semver, suggestion.bump);
                (
                    format!("{prefix}{next}"),
                    suggestion,
                    Some((tag.to_owned(), v.content_hash)),
                )
            }
            // The first release: nothing to compare with.
            _ => ("v1.0.0".to_owned(), Suggestion::default(), None),
        };
        Ok::<_, OpsError>(NextTag {
            id: id.clone(),
            version,
            breaking: suggestion.bump == bump::Bump::Major && last.is_some(),
            last,
            proposed,
            bump: suggestion,
        })
    }
    .await;
    if let Some(v) = versions {
        v.close().await;
    }
    next
}

/// One step of a changelog: a release (a tagged version, or the version the changelog ends at)
/// and what changed since the step before it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangelogStep {
    pub version: ContentHash,
    /// The version this step is compared with: the previous step, or the changelog's `from`.
    pub parent: Option<ContentHash>,
    pub created_at: String,
    pub origin: crate::storage::versions::ChangeOrigin,
    pub tag: Option<String>,
    pub breaking: bool,
    /// The files changed since `parent`: path, `added` / `deleted` / `modified` / `mode`, lines
    /// added and removed.
    pub files: Vec<ChangedFile>,
    pub bump: Suggestion,
}

/// A file changed in one step.
#[derive(Debug, Clone, Serialize)]
pub struct ChangedFile {
    pub path: String,
    pub status: String,
    pub added: usize,
    pub removed: usize,
}

/// The releases from one version to another, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Changelog {
    pub id: ArtifactId,
    pub from: ContentHash,
    pub to: ContentHash,
    /// Each tagged version recorded after `from` and up to `to`, and `to` itself, newest first.
    pub steps: Vec<ChangelogStep>,
    /// False when `from` was recorded after `to` (then there are no steps; `bump` still
    /// compares the two).
    pub in_order: bool,
    /// What the whole change from `from` to `to` means.
    pub bump: Suggestion,
}

/// The version `given` names, else `default`; neither is an unknown version.
async fn pick(
    versions: &Versions,
    id: &ArtifactId,
    given: Option<&str>,
    default: Option<&Version>,
) -> Result<Version, OpsError> {
    match given {
        Some(g) => Ok(versions.resolve(id, g).await?),
        None => default.cloned().ok_or_else(|| {
            crate::storage::versions::VersionError::NoVersions {
                artifact: id.clone(),
            }
            .into()
        }),
    }
}

/// The changelog of `id` between two recorded versions (tags or hash prefixes): the releases
/// (tagged versions) recorded in between, each against the one before, so a changelog reads
/// like a CHANGELOG.md. By default from the last semver tag before `to` (or the oldest version)
/// to the version the collection holds (the newest version when that one is not recorded).
/// Read-only.
pub async fn changelog(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Changelog, OpsError> {
    // The collection's line by default: the version it holds now, when recorded.
    let current = {
        let path = artifact_path(&ctx.home.collection_dir(collection)?, id);
        match fs::symlink_metadata(&path) {
            Ok(_) => Some(hash::hash_path(&path)?),
            Err(_) => None,
        }
    };
    let Some(versions) = Versions::open_read_only(&ctx.home).await? else {
        return Err(crate::storage::versions::VersionError::NoVersions {
            artifact: id.clone(),
        }
        .into());
    };
    let log = async {
        let history = versions.history(id).await?;
        let newest = current
            .and_then(|c| history.iter().find(|v| v.content_hash == c))
            .or(history.first());
        let to = pick(&versions, id, to, newest).await?;
        // Recorded before `to` (history is newest first).
        let older = history
            .iter()
            .position(|h| h.content_hash == to.content_hash)
            .map_or(&history[..0], |i| &history[i + 1..]);
        let last_semver = older
            .iter()
            .filter(|v| {
                v.version_tag
                    .as_deref()
                    .is_some_and(|t| bump::parse_semver_tag(t).is_some())
            })
            .max_by_key(|v| v.version_tag.as_deref().and_then(bump::parse_semver_tag));
        let from = pick(
            &versions,
            id,
            from,
            last_semver.or(older.last()).or(Some(&to)),
        )
        .await?;
        // History is newest first, in the order versions were first recorded.
        let at = |v: &Version| {
            history
                .iter()
                .position(|h| h.content_hash == v.content_hash)
        };
        let (Some(i_to), Some(i_from)) = (at(&to), at(&from)) else {
            return Err(OpsError::from(
                crate::storage::versions::VersionError::Corrupt {
                    what: format!("{id}: a resolved version is missing from its history"),
                },
            ));
        };
        let in_order = i_from >= i_to;
        let releases: Vec<&Version> = if i_from > i_to {
            history[i_to..i_from]
                .iter()
                .enumerate()
                .filter(|(k, v)| *k == 0 || v.version_tag.is_some())
                .map(|(_, v)| v)
                .collect()
        } else {
            Vec::new()
        };
        let mut steps = Vec::new();
        for (k, v) in releases.iter().enumerate() {
            let before = releases.get(k + 1).copied().unwrap_or(&from);
            let old = versions.store().read_tree(&before.tree_id)?;
            let new = versions.store().read_tree(&v.tree_id)?;
            let d = crate::engine::diff::diff(&old, &new);
            steps.push(ChangelogStep {
                version: v.content_hash,
                parent: Some(before.content_hash),
                created_at: v.created_at.clone(),
                origin: v.change_origin,
                tag: v.version_tag.clone(),
                breaking: v.breaking,
                files: d
                    .files
                    .iter()
                    .map(|f| ChangedFile {
                        path: f.path.clone(),
                        status: f.status.as_str().to_owned(),
                        added: f.added,
                        removed: f.removed,
                    })
                    .collect(),
                bump: bump::suggest(id.kind, &old, &new),
            });
        }
        let total = bump::suggest(
            id.kind,
            &versions.store().read_tree(&from.tree_id)?,
            &versions.store().read_tree(&to.tree_id)?,
        );
        Ok::<_, OpsError>(Changelog {
            id: id.clone(),
            from: from.content_hash,
            to: to.content_hash,
            steps,
            in_order,
            bump: total,
        })
    }
    .await;
    versions.close().await;
    log
}
