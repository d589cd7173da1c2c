//! An artifact's three versions side by side — the upstream's as it is now (asked live while
//! upstream checks are on, as the diff beside the cards is), the collection's copy, and a
//! project's copy — each with where it came from, its recorded tag and lineage, and its drift
//! status: what the web UI's version cards show. Reads only (besides the upstream cache).

use std::fs;
use std::path::{Path, PathBuf};

use crate::engine::drift::{DriftStatus, classify};
use crate::model::artifact::ArtifactId;
use crate::model::hash::{self, ContentHash};
use crate::ops::context::Context;
use crate::ops::drift::{LiveUpstream, StaleUpstream, live_upstream};
use crate::ops::error::OpsError;
use crate::ops::tier::artifact_path;
use crate::storage::collection::{Lock, LockEntry, Manifest, ManifestEntry};
use crate::storage::records::{DeploymentFile, DeploymentRecord};
use crate::storage::versions::{Version, Versions};

/// One tier's version of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// The version's content hash (for the upstream, as recorded when it was fetched).
    pub hash: Option<ContentHash>,
    /// When this version got here: fetched, recorded, added or deployed (RFC 3339).
    pub timestamp: Option<String>,
    /// Where it comes from: the upstream's location and path, the collection's upstream spec
    /// (`local` without one), or the project folder.
    pub source: String,
    /// The ref the upstream was asked for (upstream and collection).
    pub reference: Option<String>,
    /// The upstream commit fetched (upstream only).
    pub commit: Option<String>,
    /// The versions recorded before this one, newest first (64 hex).
    pub lineage: Vec<String>,
    /// The version's tag, if it was tagged.
    pub tag: Option<String>,
    /// How the tier relates to the one it syncs from: the collection against the upstream
    /// (with the lock's version as the baseline), the project against the collection (with the
    /// project's baseline).
    pub status: Option<DriftStatus>,
    /// Upstream card: whether the upstream was asked now (false: as last fetched, the lock —
    /// upstream checks are off).
    pub live: bool,
    /// Upstream card: the upstream did not answer, and this is its last known state.
    pub stale: Option<StaleUpstream>,
}

/// The three cards; a tier that does not hold the artifact has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cards {
    /// The upstream's version (live, or as last fetched); none for a local artifact.
    pub upstream: Option<Card>,
    /// The collection's copy; none if its folder is missing.
    pub collection: Option<Card>,
    /// The copy in `project`, when one was asked for and holds it or has a record of it.
    pub project: Option<Card>,
}

/// The version cards of `id` in `collection`, and in `project` when given (a registered project,
/// checked by the caller).
pub async fn version_cards(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
) -> Result<Cards, OpsError> {
    let dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&dir)?;
    let Some(entry) = manifest.get(id) else {
        return Err(OpsError::NotInCollection {
            id: id.clone(),
            collection: collection.to_owned(),
        });
    };
    let lock = Lock::load(&dir)?.get(id).cloned();
    let collection_hash = hash_if_present(&artifact_path(&dir, id))?;
    let deployed = match project {
        Some(p) => {
            let record = DeploymentFile::load(p)?.get(id).cloned();
            match &record {
                // A hook or MCP server is entries in a shared file: its sides are hashes of
                // those entries, not of a folder (see `fragments::drift_hashes`).
                Some(r) if id.kind.is_fragment() => {
                    let (base, source, target) =
                        crate::ops::fragments::drift_hashes(&dir, p, id, r)?;
                    Some((p.to_owned(), record, target, Some((base, source))))
                }
                _ => {
                    let hash = hash_if_present(&artifact_path(&p.join(".claude"), id))?;
                    Some((p.to_owned(), record, hash, None))
                }
            }
        }
        None => None,
    };
    let recorded = Versions::open_read_only(&ctx.home).await?;
    let known = async |hash: Option<ContentHash>| match (&recorded, hash) {
        (Some(v), Some(h)) => v.get(id, &h.to_hex()).await.ok().flatten(),
        _ => None,
    };
    // The upstream as it is now, the way drift and the diff see it: while upstream checks are
    // on, asked (answered from its last known state when it does not answer); otherwise the
    // lock. Asking can block on the network: off the async workers.
    let checks_on = crate::storage::config::Config::load(&ctx.home)?
        .upstream
        .checks;
    let live = match (&entry.upstream, &lock) {
        (Some(spec), Some(locked)) if checks_on => {
            let (ctx_, id_, spec, locked) = (ctx.clone(), id.clone(), spec.clone(), locked.clone());
            let check = tokio::task::spawn_blocking(move || {
                let mut states =
                    crate::storage::upstream_state::UpstreamStates::load(ctx_.home.root());
                let listing = crate::storage::fetch::ListingRun::default();
                let live = live_upstream(&ctx_, &listing, &id_, &spec, &locked, Some(&mut states))?;
                if let Err(e) = states.save() {
                    tracing::warn!("cannot keep the upstreams' last known state: {e}");
                }
                Ok::<_, OpsError>(live)
            })
            .await;
            // A check that could not finish (the runtime shutting down) shows the lock.
            match check {
                Ok(found) => Some(found?),
                Err(_) => None,
            }
        }
        _ => None,
    };
    let base_hash: Option<ContentHash> = lock.as_ref().and_then(|l| l.content_hash.parse().ok());
    let upstream_hash = match &live {
        Some(l) => l.hash,
        None => base_hash,
    };
    let collection_version = known(collection_hash).await;
    let project_version = match &deployed {
        Some((_, _, hash, None)) => known(*hash).await,
        _ => None,
    };
    if let Some(v) = recorded {
        v.close().await;
    }
    Ok(Cards {
        upstream: lock.as_ref().map(|l| upstream_card(l, live)),
        collection: collection_hash.map(|h| {
            collection_card(
                entry,
                lock.as_ref(),
                h,
                (base_hash, upstream_hash),
                collection_version,
            )
        }),
        project: deployed.map(|(path, record, hash, fragment)| {
            project_card(
                path,
                record,
                hash,
                collection_hash,
                project_version,
                fragment,
            )
        }),
    })
}

fn upstream_card(lock: &LockEntry, live: Option<LiveUpstream>) -> Card {
    let source = if lock.path.is_empty() {
        lock.location.clone()
    } else {
        format!("{}/{}", lock.location, lock.path)
    };
    match live {
        Some(live) => Card {
            hash: live.hash,
            // When it was seen in this state: now, or when last seen for a stale answer.
            timestamp: Some(live.stale.as_ref().map_or_else(
                || crate::model::time::rfc3339(std::time::SystemTime::now()),
                |s| s.seen_at.clone(),
            )),
            source,
            reference: Some(lock.reference.clone()),
            commit: Some(live.commit),
            lineage: Vec::new(),
            tag: None,
            status: None,
            live: live.stale.is_none(),
            stale: live.stale,
        },
        None => Card {
            hash: lock.content_hash.parse().ok(),
            timestamp: Some(lock.fetched_at.clone()),
            source,
            reference: Some(lock.reference.clone()),
            commit: Some(lock.commit.clone()),
            lineage: Vec::new(),
            tag: None,
            status: None,
            live: false,
            stale: None,
        },
    }
}

fn collection_card(
    entry: &ManifestEntry,
    lock: Option<&LockEntry>,
    hash: ContentHash,
    (base, upstream): (Option<ContentHash>, Option<ContentHash>),
    version: Option<Version>,
) -> Card {
    Card {
        hash: Some(hash),
        timestamp: version
            .as_ref()
            .map(|v| v.created_at.clone())
            .or_else(|| entry.added_at.clone()),
        source: entry.upstream.clone().unwrap_or_else(|| "local".to_owned()),
        reference: lock.map(|l| l.reference.clone()),
        commit: None,
        lineage: earlier(version.as_ref()),
        tag: version.and_then(|v| v.version_tag),
        // Against the upstream as it is now, from the version both last agreed on (the
        // lock): the same comparison as drift's upstream row.
        status: entry
            .upstream
            .as_ref()
            .and_then(|_| classify(base.as_ref(), upstream.as_ref(), Some(&hash))),
        live: false,
        stale: None,
    }
}

fn project_card(
    path: PathBuf,
    record: Option<DeploymentRecord>,
    hash: Option<ContentHash>,
    collection: Option<ContentHash>,
    version: Option<Version>,
    fragment: Option<(Option<ContentHash>, Option<ContentHash>)>,
) -> Card {
    let (base, collection) = match fragment {
        Some(sides) => sides,
        None => (
            record
                .as_ref()
                .and_then(|r| r.content_hash.as_deref())
                .and_then(|h| h.parse().ok()),
            collection,
        ),
    };
    Card {
        hash,
        timestamp: record.and_then(|r| r.deployed_at),
        source: path.display().to_string(),
        reference: None,
        commit: None,
        lineage: earlier(version.as_ref()),
        tag: version.and_then(|v| v.version_tag),
        status: classify(base.as_ref(), collection.as_ref(), hash.as_ref()),
        live: false,
        stale: None,
    }
}

/// The versions recorded before `version`, newest first.
fn earlier(version: Option<&Version>) -> Vec<String> {
    version
        .map(|v| v.version_lineage.iter().skip(1).cloned().collect())
        .unwrap_or_default()
}

/// The content hash of what is at `path`; none when nothing is there.
fn hash_if_present(path: &Path) -> Result<Option<ContentHash>, OpsError> {
    if fs::symlink_metadata(path).is_err() {
        return Ok(None);
    }
    Ok(Some(hash::hash_path(path)?))
}
