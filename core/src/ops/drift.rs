//! `drift`: how each deployed copy relates to its collection copy and its upstream (read-only).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::drift::{DriftStatus, classify};
use crate::model::artifact::ArtifactId;
use crate::model::error::IoResultExt as _;
use crate::model::hash::{self, ContentHash};
use crate::model::upstream::UpstreamSpec;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::legacy::baseline_in_v1;
use crate::ops::tier::{artifact_path, final_name};
use crate::storage::collection::{Lock, LockEntry, Manifest};
use crate::storage::fetch::{FetchError, UpstreamCache};
use crate::storage::records::DeploymentFile;
use crate::storage::statcache::StatCache;

/// One row of a drift report.
#[derive(Debug, Clone, Serialize)]
pub struct DriftRow {
    /// Which artifact the row is about.
    pub id: ArtifactId,
    /// `upstream-collection` or `collection-project`.
    pub pair: &'static str,
    /// The project, for `collection-project` rows.
    pub project: Option<PathBuf>,
    /// How the two tiers of `pair` relate (synced, modified, outdated, conflict, …).
    pub status: DriftStatus,
    /// What to do about it.
    pub recommendation: Option<&'static str>,
    /// The baseline the pair was last synced at, where known.
    pub base: Option<ContentHash>,
    /// The version of the tier synced from, where it holds the artifact.
    pub source: Option<ContentHash>,
    /// The version of the tier synced to, where it holds the artifact.
    pub target: Option<ContentHash>,
    /// For an `upstream-collection` row: the upstream could not be asked this time (a rate
    /// limit, the network down), so the row compares with its last known state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<StaleUpstream>,
}

/// An upstream row drawn from the last known state, because the upstream did not answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleUpstream {
    /// When that state was seen (RFC 3339): the last check that reached it, or the last sync.
    pub seen_at: String,
    /// How long ago that was, in seconds.
    pub age_seconds: u64,
    /// Why the upstream could not be asked now.
    pub reason: String,
}

/// Something drift could not check; the rest of the report stands.
#[derive(Debug, Clone, Serialize)]
pub struct DriftProblem {
    /// The artifact, when the problem is one artifact's (else the project's or the upstream's).
    pub id: Option<ArtifactId>,
    /// The pair it stopped, when it is one artifact's.
    pub pair: Option<&'static str>,
    /// The project, when the problem is in one.
    pub project: Option<PathBuf>,
    /// What is wrong and what to do, in one line.
    pub message: String,
}

/// A drift report: the pairs that could be checked, and what could not be.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftReport {
    /// One row per pair checked.
    pub rows: Vec<DriftRow>,
    /// What could not be checked, and why. A problem in one project, artifact or upstream
    /// never hides the rows of the others.
    pub problems: Vec<DriftProblem>,
    /// An upstream check was asked for but the `upstream.checks` setting is off: no upstream
    /// was asked, and the upstream rows compare with the lock.
    pub upstream_checks_off: bool,
    /// The collection's pending merges still open, oldest first, with their age (stale ones
    /// flagged): a merge nobody finished is listed until it is resolved or aborted.
    pub pending_merges: Vec<crate::ops::conflicts::OpenMerge>,
    /// How long each upstream check took (for the server's metrics), failed ones included.
    #[serde(skip)]
    pub upstream_check_times: Vec<std::time::Duration>,
}

impl DriftReport {
    /// Whether any row drifted.
    pub fn drifted(&self) -> bool {
        self.rows.iter().any(|r| r.status.is_drift())
    }

    fn problem(
        &mut self,
        id: Option<&ArtifactId>,
        pair: Option<&'static str>,
        project: Option<&Path>,
        message: impl std::fmt::Display,
    ) {
        self.problems
            .push(DriftProblem::new(id, pair, project, message));
    }
}

impl DriftProblem {
    fn new(
        id: Option<&ArtifactId>,
        pair: Option<&'static str>,
        project: Option<&Path>,
        message: impl std::fmt::Display,
    ) -> Self {
        Self {
            id: id.cloned(),
            pair,
            project: project.map(Path::to_owned),
            message: crate::model::display::escaped(&message.to_string()).into_owned(),
        }
    }
}

/// A drift check's rows and problems as they are found, keyed so that the report lists them
/// in the same order whichever order they were checked in: the projects' own problems first,
/// then by the artifact's place in the collection, its upstream pair before its projects, the
/// projects in the order given.
#[derive(Default)]
struct Found {
    rows: Vec<((usize, usize), DriftRow)>,
    problems: Vec<((usize, usize), DriftProblem)>,
}

impl Found {
    /// A row at `(1 + the artifact's place, 0 for its upstream or 1 + the project's place)`.
    fn row(&mut self, key: (usize, usize), row: DriftRow) {
        self.rows.push((key, row));
    }

    /// A problem of one artifact, keyed as its rows are.
    fn problem(&mut self, key: (usize, usize), problem: DriftProblem) {
        self.problems.push((key, problem));
    }

    /// A problem of a whole project (or of a record not in the collection).
    fn project_problem(&mut self, problem: DriftProblem) {
        self.problems.push(((0, 0), problem));
    }

    /// The report's rows and problems, in order (its own problems, none yet, stay first).
    fn into_report(mut self, report: &mut DriftReport) {
        // Stable: what shares a key keeps the order it was found in.
        self.rows.sort_by_key(|(key, _)| *key);
        self.problems.sort_by_key(|(key, _)| *key);
        // Collected in place: the rows are not held twice.
        report.rows = self.rows.into_iter().map(|(_, r)| r).collect();
        report
            .problems
            .extend(self.problems.into_iter().map(|(_, p)| p));
    }
}

/// Computes drift between the collection and `projects` (and, with `check_upstream`, between
/// each upstream and the collection). Writes nothing but the stat caches under `cache/stat/`
/// (and removes those no check used for a month).
///
/// Fails as a whole only when the collection itself cannot be read. A project whose records
/// are unreadable, an artifact copy that holds a symlink or a FIFO, an upstream that cannot be
/// reached: each becomes a [`DriftProblem`] and the other rows are still computed.
pub fn drift(
    ctx: &Context,
    collection: &str,
    projects: &[PathBuf],
    check_upstream: bool,
) -> Result<DriftReport, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let lock = Lock::load(&collection_dir)?;
    // The one-file caches of earlier versions, replaced by one file per tier.
    for old in ["cache/stat-cache.json", "cache/stat-cache.bin"] {
        let _ = fs::remove_file(ctx.home.root().join(old));
    }
    // The cache is an accelerator: failing to save it never fails the drift check.
    let tier_cache = |tier: &Path| crate::storage::statcache::tier_file(ctx.home.root(), tier);
    let mut cache = StatCache::load(&tier_cache(&collection_dir), ctx.now);
    let mut report = DriftReport::default();
    let checks_on = crate::storage::config::Config::load(&ctx.home)?
        .upstream
        .checks;
    report.upstream_checks_off = check_upstream && !checks_on;
    let check_upstream = check_upstream && checks_on;
    // One listing per upstream repository, requests to a host spaced, each repository fetched
    // at most once: however many artifacts share an upstream, it is asked once.
    let listing = crate::storage::fetch::ListingRun::new(
        crate::storage::config::Config::load(&ctx.home)?
            .upstream
            .check_spacing(),
    );
    let mut run_ctx;
    let ctx = if ctx.fetch.run.is_some() {
        ctx
    } else {
        run_ctx = ctx.clone();
        run_ctx.fetch.run = Some(crate::storage::fetch::FetchRun::default());
        &run_ctx
    };
    let mut states = check_upstream
        .then(|| crate::storage::upstream_state::UpstreamStates::load(ctx.home.root()));
    // Each artifact's place in the collection, for the rows' order and the projects' lookups.
    let index: HashMap<ArtifactId, usize> = manifest
        .artifacts
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.clone(), i))
        .collect();
    let mut found = Found::default();

    // The collection's copies first, hashed at once on every core.
    let sources: Vec<PathBuf> = manifest
        .artifacts
        .iter()
        .map(|e| artifact_path(&collection_dir, &e.id))
        .collect();
    let mut collection_hashes: Vec<Option<Option<ContentHash>>> = Vec::with_capacity(sources.len());
    for (i, (entry, hashed)) in manifest
        .artifacts
        .iter()
        .zip(cache.hash_paths(&sources))
        .enumerate()
    {
        let id = &entry.id;
        let key = (1 + i, 0);
        let collection_hash = match hashed {
            Ok(h) => h,
            Err(e) => {
                found.problem(
                    key,
                    DriftProblem::new(Some(id), None, None, OpsError::from(e)),
                );
                // The projects' rows of this artifact cannot be computed either.
                collection_hashes.push(None);
                continue;
            }
        };
        collection_hashes.push(Some(collection_hash));
        if check_upstream && let (Some(spec_text), Some(locked)) = (&entry.upstream, lock.get(id)) {
            let pair = "upstream-collection";
            // Lock::load checked the hash's shape: this parse cannot fail.
            let base: Option<ContentHash> = locked.content_hash.parse().ok();
            let asked = std::time::Instant::now();
            let answer = live_upstream(ctx, &listing, id, spec_text, locked, states.as_mut());
            report.upstream_check_times.push(asked.elapsed());
            let answer = answer.map(|live| (live.hash, live.stale));
            match answer {
                Ok((upstream, stale)) => {
                    if let Some(status) =
                        classify(base.as_ref(), upstream.as_ref(), collection_hash.as_ref())
                    {
                        let mut r = row(id, pair, None, status, base, upstream, collection_hash);
                        r.stale = stale;
                        found.row(key, r);
                    }
                }
                Err(e) => found.problem(key, DriftProblem::new(Some(id), Some(pair), None, e)),
            }
        }
    }

    let _ = cache.save(&tier_cache(&collection_dir));
    drop(cache);

    // Then one project at a time: its records are read, its copies hashed (its own stat cache
    // loaded and saved), its rows found, and all of it dropped before the next project. What a
    // fleet check holds is its rows and one project's records and cache, not every project's.
    let mut fragment_merges = Vec::new();
    for (p, project) in projects.iter().enumerate() {
        let pair = "collection-project";
        let slot = 1 + p;
        if !project.is_dir() {
            found.project_problem(DriftProblem::new(
                None,
                None,
                Some(project),
                format_args!(
                    "the project {} no longer exists (moved or deleted): deploy into its new place to check it again",
                    project.display()
                ),
            ));
            continue;
        }
        let file = match DeploymentFile::load(project) {
            Ok(file) => file,
            Err(e) => {
                found.project_problem(DriftProblem::new(None, None, Some(project), e));
                continue;
            }
        };
        let mut deployed = Vec::with_capacity(file.deployed.len());
        for r in &file.deployed {
            let id = r.id();
            match index.get(&id) {
                Some(&i) => {
                    if collection_hashes[i].is_some() {
                        deployed.push((i, r));
                    }
                }
                None => found.project_problem(DriftProblem::new(
                    Some(&id),
                    Some(pair),
                    Some(project),
                    format_args!(
                        "{id} is deployed in {} but not in the collection `{collection}` \
                         (its collection.toml lists {} artifacts): add it again, or check \
                         that collection.toml was not emptied",
                        project.display(),
                        manifest.artifacts.len()
                    ),
                )),
            }
        }
        // This project's copies, hashed at once on every core (hooks and MCP servers are
        // entries in shared files, compared apart).
        let claude = project.join(".claude");
        let targets: Vec<PathBuf> = deployed
            .iter()
            .filter(|(i, _)| !manifest.artifacts[*i].id.kind.is_fragment())
            .map(|(i, _)| artifact_path(&claude, &manifest.artifacts[*i].id))
            .collect();
        let mut cache = StatCache::load(&tier_cache(project), ctx.now);
        let hashed = cache.hash_paths(&targets);
        let _ = cache.save(&tier_cache(project));
        drop(cache);
        let mut target_hashes = targets.iter().zip(hashed);
        for (i, record) in deployed {
            let id = &manifest.artifacts[i].id;
            let key = (1 + i, slot);
            let collection_hash = collection_hashes[i].flatten();
            if id.kind.is_fragment() {
                // Entries in a shared file: compared entry by entry, secrets masked.
                match crate::ops::fragments::drift_hashes(&collection_dir, project, id, record) {
                    Ok((base, source, target)) => {
                        if let Some(status) =
                            classify(base.as_ref(), source.as_ref(), target.as_ref())
                        {
                            let r = row(
                                id,
                                pair,
                                Some(project.clone()),
                                status,
                                base,
                                source,
                                target,
                            );
                            found.row(key, r);
                        }
                    }
                    Err(e) => found.problem(
                        key,
                        DriftProblem::new(Some(id), Some(pair), Some(project), e),
                    ),
                }
                continue;
            }
            let Some((target_path, target)) = target_hashes.next() else {
                break;
            };
            let checked = target.map_err(OpsError::from).and_then(|target| {
                let base = baseline_in_v1(record, &[target_path, &sources[i]])?;
                Ok((target, base))
            });
            match checked {
                Ok((target, base)) => {
                    if let Some(status) =
                        classify(base.as_ref(), collection_hash.as_ref(), target.as_ref())
                    {
                        let r = row(
                            id,
                            pair,
                            Some(project.clone()),
                            status,
                            base,
                            collection_hash,
                            target,
                        );
                        found.row(key, r);
                    }
                }
                Err(e) => found.problem(
                    key,
                    DriftProblem::new(Some(id), Some(pair), Some(project), e),
                ),
            }
        }
        fragment_merges.extend(crate::ops::fragments::open_merges_in(
            ctx,
            Some(collection),
            [(project.as_path(), &file)],
        ));
    }
    crate::storage::statcache::prune(ctx.home.root(), ctx.now);
    found.into_report(&mut report);
    match crate::ops::conflicts::open_merges(ctx, Some(collection), fragment_merges) {
        Ok(open) => report.pending_merges = open.merges,
        Err(e) => report.problem(None, None, None, format_args!("pending merges: {e}")),
    }
    if let Some(states) = &states
        && let Err(e) = states.save()
    {
        tracing::warn!("cannot keep the upstreams' last known state: {e}");
    }
    Ok(report)
}

/// What the upstream of a locked artifact holds now, as one check found it.
#[derive(Debug, Clone)]
pub struct LiveUpstream {
    /// Its content hash; none when the path is gone from the upstream.
    pub hash: Option<ContentHash>,
    /// The commit the ref names now (the lock's when the upstream did not answer).
    pub commit: String,
    /// Set when the upstream did not answer and this is its last known state.
    pub stale: Option<StaleUpstream>,
}

/// Asks the upstream of `locked` what it holds now. An upstream that does not answer
/// (unreachable, rate-limited, refusing access) is answered from its last known state, with
/// its age: the last check that reached it (`states`, the file under `cache/`), else the last
/// sync (the lock). One that answers with something wrong (a ref or path it lacks) is an error.
/// A check that reached it is remembered in `states`.
pub fn live_upstream(
    ctx: &Context,
    listing: &crate::storage::fetch::ListingRun,
    id: &ArtifactId,
    spec_text: &str,
    locked: &LockEntry,
    states: Option<&mut crate::storage::upstream_state::UpstreamStates>,
) -> Result<LiveUpstream, OpsError> {
    let key = crate::storage::upstream_state::UpstreamStates::key(&id.to_string(), spec_text);
    match upstream_hash(ctx, listing, spec_text, locked) {
        Ok((hash, commit)) => {
            if let Some(states) = states {
                states.set(
                    key,
                    hash.map(|h| h.to_hex()),
                    crate::model::time::rfc3339(ctx.now),
                );
            }
            Ok(LiveUpstream {
                hash,
                commit,
                stale: None,
            })
        }
        Err(e) if unanswered(&e) => {
            let seen = states.as_ref().and_then(|s| s.get(&key));
            let (hash, at) = match seen {
                Some(seen) => (
                    seen.hash.as_deref().and_then(|h| h.parse().ok()),
                    seen.at.clone(),
                ),
                None => (locked.content_hash.parse().ok(), locked.fetched_at.clone()),
            };
            let age = crate::ops::conflicts::open::age(&at, ctx.now).as_secs();
            Ok(LiveUpstream {
                hash,
                commit: locked.commit.clone(),
                stale: Some(StaleUpstream {
                    seen_at: at,
                    age_seconds: age,
                    reason: e.to_string(),
                }),
            })
        }
        Err(e) => Err(e),
    }
}

/// Whether an upstream failure means it did not answer (the network, a rate limit, a refusal
/// of access), as opposed to answering without the ref or path asked for.
fn unanswered(e: &OpsError) -> bool {
    matches!(e, OpsError::Fetch(FetchError::Remote { .. }))
}

/// The upstream's current content hash for a locked artifact (unchanged when its subtree id
/// is), and the commit its ref names.
fn upstream_hash(
    ctx: &Context,
    listing: &crate::storage::fetch::ListingRun,
    spec_text: &str,
    locked: &LockEntry,
) -> Result<(Option<ContentHash>, String), OpsError> {
    let spec = UpstreamSpec::parse(spec_text)?;
    let unchanged = || (locked.content_hash.parse().ok(), locked.commit.clone());
    // First the cheap check: the remote's ref listing. If the ref still names the locked commit
    // (or is a commit sha, which never moves), nothing is fetched.
    match listing.commit(&spec, &ctx.fetch)? {
        Some(commit) if commit == locked.commit => return Ok(unchanged()),
        None if is_sha(&locked.reference) => return Ok(unchanged()),
        _ => {}
    }
    let location = spec.fetch_location();
    if let Some(failed) = listing.failure(&location) {
        return Err(failed.into());
    }
    if !ctx
        .fetch
        .run
        .as_ref()
        .is_some_and(|r| r.is_fetched(&location))
    {
        listing.space(&location);
    }
    let repo = UpstreamCache::new(ctx.home.root().join("cache/upstream"))
        .fetch(&spec, &ctx.fetch)
        .inspect_err(|e| listing.note_failure(e))?;
    let commit = repo.resolve(&spec.reference)?;
    let info = match repo.path_info(&commit, &spec.path) {
        Ok(info) => info,
        Err(FetchError::MissingPath { .. }) => return Ok((None, commit)),
        Err(e) => return Err(e.into()),
    };
    if info.id == locked.tree {
        return Ok((locked.content_hash.parse().ok(), commit));
    }
    let scratch = tempfile::tempdir().context("create a temp folder in", std::env::temp_dir())?;
    let out = scratch.path().join(final_name(&locked.id));
    repo.export(&commit, &spec.path, &out, &ctx.fetch.limits)?;
    Ok((Some(hash::hash_path(&out)?), commit))
}

fn is_sha(reference: &str) -> bool {
    (4..=40).contains(&reference.len()) && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

fn row(
    id: &ArtifactId,
    pair: &'static str,
    project: Option<PathBuf>,
    status: DriftStatus,
    base: Option<ContentHash>,
    source: Option<ContentHash>,
    target: Option<ContentHash>,
) -> DriftRow {
    DriftRow {
        id: id.clone(),
        pair,
        project,
        status,
        recommendation: status.recommendation(),
        base,
        source,
        target,
        stale: None,
    }
}
