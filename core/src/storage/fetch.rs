//! Fetching upstream repositories through git2, and reading artifacts out of them.
//!
//! Each upstream location gets a bare repository under the cache folder the caller names
//! (normally `$SKILLMEAT_HOME/cache/upstream/`), keyed by a hash of the location. Fetches bring
//! branches (as `refs/remotes/origin/*`), tags, and the remote's default branch (for `latest`),
//! retrying transient network errors with exponential backoff. An *upstream check*
//! ([`remote_commit`]) lists the remote's refs without fetching any objects.
//!
//! Nothing above this module sees git2: commits and trees are 40-character hex strings.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{Direction, ErrorClass, FetchOptions, ObjectType, Oid, RemoteCallbacks, Repository};
use sha2::{Digest, Sha256};

use crate::model::display;
use crate::model::error::{ErrorKind, IoResultExt as _, PathError};
use crate::model::hash::{self, short};
use crate::model::upstream::{RefSpec, UpstreamSpec};
use crate::storage::ssh::{self, SshAttempt};
use crate::storage::upstream_tree::{self, BadName, Limits};

/// How often and how patiently to retry transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubled before each further one.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// Options of a fetch or check.
#[derive(Debug, Clone, Default)]
pub struct FetchSettings {
    /// Retry policy for transient errors.
    pub retry: RetryPolicy,
    /// A GitHub token (the CLI passes `$GITHUB_TOKEN`), sent to GitHub only — github.com, or
    /// the GitHub server in [`Self::github_server`] — and never written anywhere. Fetches send
    /// it with every request (authenticated requests get GitHub's higher rate limit, public
    /// repositories included); a credentials request is answered with it too (private ones).
    pub github_token: Option<String>,
    /// Another GitHub server the token belongs to, as `$GITHUB_SERVER_URL` names it (GitHub
    /// Enterprise; GitHub Actions sets it), e.g. `https://ghe.example.com`.
    pub github_server: Option<String>,
    /// How much one artifact may bring (checked before anything is written).
    pub limits: Limits,
    /// While set, each upstream repository is fetched once for everything that shares it
    /// (one `update --all`, one server job): the artifacts of one repository are all read
    /// from that one fetch, so they see one state of it, planned and applied alike.
    pub run: Option<FetchRun>,
}

/// The upstream repositories fetched so far in one run (see [`FetchSettings::run`]).
#[derive(Debug, Clone, Default)]
pub struct FetchRun(std::sync::Arc<std::sync::Mutex<FetchRunState>>);

#[derive(Debug, Default)]
struct FetchRunState {
    fetched: std::collections::HashSet<String>,
    fetches: usize,
}

impl FetchRun {
    /// How many fetches the run made (each one a conversation with a remote).
    pub fn fetches(&self) -> usize {
        self.0.lock().map_or(0, |s| s.fetches)
    }

    /// Whether `location` was fetched in this run already.
    pub fn is_fetched(&self, location: &str) -> bool {
        self.0.lock().is_ok_and(|s| s.fetched.contains(location))
    }

    fn mark_fetched(&self, location: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.fetched.insert(location.to_owned());
            s.fetches += 1;
        }
    }
}

/// Why fetching or reading an upstream failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Git failed talking to the upstream, after retries if the failure looked transient.
    #[error("cannot fetch {location}: {message}")]
    Remote { location: String, message: String },
    /// The ref names no tag, branch or commit of the upstream.
    #[error("`{reference}` is not a tag, branch or commit of {location}")]
    UnknownRef { location: String, reference: String },
    /// The path does not exist at that commit.
    #[error("`{path}` does not exist in {location} at {commit}")]
    MissingPath {
        location: String,
        path: String,
        commit: String,
    },
    /// The tree holds something an artifact may not: a symlink or a submodule.
    #[error("{location} has {what} at `{path}`; artifacts may hold only regular files")]
    Unsupported {
        location: String,
        path: String,
        what: &'static str,
    },
    /// A tree entry could write outside the artifact or smuggle in a repository; the artifact
    /// is refused as a whole and nothing of it was written.
    #[error("{location} at {commit}: the entry `{path}` is {why}; nothing of this artifact was written (ask the upstream's owner to fix the tree)", commit = short(commit))]
    BadEntry {
        location: String,
        commit: String,
        /// The entry's path in the upstream repository (names shown escaped).
        path: String,
        why: BadName,
    },
    /// A file or the whole artifact is larger than the limits allow; nothing was written.
    #[error("{location} at {commit}: {what} over the limit of {limit} at `{path}`; nothing of this artifact was written (raise the limit with SKILLMEAT_MAX_FILE_BYTES, SKILLMEAT_MAX_ARTIFACT_BYTES or SKILLMEAT_MAX_FILES if you trust this upstream)", commit = short(commit))]
    TooLarge {
        location: String,
        commit: String,
        path: String,
        what: &'static str,
        limit: u64,
    },
    /// The local cache or the export destination could not be used.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The cached repository is unusable.
    #[error("upstream cache {path} is unusable: {message} (delete it to start over)")]
    Cache { path: PathBuf, message: String },
}

impl FetchError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unsupported { .. } | Self::BadEntry { .. } | Self::TooLarge { .. } => {
                ErrorKind::UpstreamRefused
            }
            // A ref or path the upstream does not have is answered like an unreachable one:
            // the upstream, not the request, decides it.
            Self::Remote { .. }
            | Self::UnknownRef { .. }
            | Self::MissingPath { .. }
            | Self::Io(_)
            | Self::Cache { .. } => ErrorKind::UpstreamFailed,
        }
    }
}

/// What a path is at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// The git object id of the tree (folder) or blob (file) at the path.
    pub id: String,
    /// Whether it is a folder.
    pub is_dir: bool,
}

/// The cache of fetched upstream repositories.
#[derive(Debug, Clone)]
pub struct UpstreamCache {
    dir: PathBuf,
}

/// A fetched upstream repository.
pub struct UpstreamRepo {
    repo: Repository,
    location: String,
}

impl std::fmt::Debug for UpstreamRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamRepo")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

const DEFAULT_BRANCH_REF: &str = "refs/remotes/origin/HEAD";

impl UpstreamCache {
    /// A cache in `dir` (created on first fetch).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The bare repository for `location`.
    pub fn repo_dir(&self, location: &str) -> PathBuf {
        let digest = Sha256::digest(location.as_bytes());
        let key: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{key}.git"))
    }

    fn lock_repo(&self, dir: &Path) -> Result<fs::File, FetchError> {
        let io = |source| PathError::new("lock", dir, source);
        fs::create_dir_all(&self.dir).map_err(io)?;
        let mut name = dir.file_name().unwrap_or_default().to_owned();
        name.push(".lock");
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(name))
            .map_err(io)?;
        file.lock().map_err(io)?;
        Ok(file)
    }

    /// Fetches the upstream of `spec` into the cache (creating it on first use).
    pub fn fetch(
        &self,
        spec: &UpstreamSpec,
        settings: &FetchSettings,
    ) -> Result<UpstreamRepo, FetchError> {
        let location = spec.fetch_location();
        let dir = self.repo_dir(&location);
        // One fetch of a repository at a time, across threads and processes: two `init_bare`s
        // or two fetches into one cache collide on git's own lock files (`config.lock`) and
        // fail instead of waiting. Held until this fetch is done; the kernel drops it if the
        // process dies.
        let _fetching = self.lock_repo(&dir)?;
        sweep_git_locks(&dir);
        let repo = if dir.join("HEAD").is_file() {
            Repository::open_bare(&dir).map_err(|e| FetchError::Cache {
                path: dir.clone(),
                message: e.message().to_owned(),
            })?
        } else {
            fs::create_dir_all(&dir).context("create", &dir)?;
            Repository::init_bare(&dir).map_err(|e| FetchError::Cache {
                path: dir.clone(),
                message: e.message().to_owned(),
            })?
        };
        let attempt = SshAttempt::default();
        // Checked under the lock: a fetch by another worker of this run that just finished
        // counts.
        if settings
            .run
            .as_ref()
            .is_some_and(|r| r.is_fetched(&location))
        {
            return Ok(UpstreamRepo { repo, location });
        }
        let remote_err = |e: git2::Error| FetchError::Remote {
            location: location.clone(),
            message: ssh::explain(&e, &location, &attempt),
        };
        let header = token_header(&location, settings);
        with_retry(settings.retry, || {
            let mut remote = repo.remote_anonymous(&location)?;
            let mut options = FetchOptions::new();
            options.remote_callbacks(callbacks(&location, settings, &attempt));
            options.download_tags(git2::AutotagOption::All);
            if let Some(header) = &header {
                options.custom_headers(&[header.as_str()]);
            }
            remote.fetch(
                &[
                    "+refs/heads/*:refs/remotes/origin/*",
                    "+refs/tags/*:refs/tags/*",
                ],
                Some(&mut options),
                None,
            )?;
            // The default branch from the ref advertisement of that fetch (libgit2 keeps it
            // after disconnecting): one conversation with the remote, not two.
            let default_branch = remote
                .default_branch()
                .ok()
                .and_then(|b| b.as_str().ok().map(str::to_owned));
            if let Some(branch) = default_branch {
                let target = branch.replacen("refs/heads/", "refs/remotes/origin/", 1);
                repo.reference_symbolic(
                    DEFAULT_BRANCH_REF,
                    &target,
                    true,
                    "skillmeat: remote HEAD",
                )?;
            }
            Ok(())
        })
        .map_err(remote_err)?;
        if let Some(run) = &settings.run {
            run.mark_fetched(&location);
        }
        Ok(UpstreamRepo { repo, location })
    }
}

/// Removes git's own lock files (`refs/…/main.lock`, `packed-refs.lock`, `config.lock`,
/// `HEAD.lock`) from a cache repository. Called under the cache's lock, which every SkillMeat
/// writer of the cache holds: any such file was left by a process that died mid-fetch (a
/// `kill -9`), and would make every later fetch fail with "failed to lock file". Nothing else
/// writes into SkillMeat's cache.
fn sweep_git_locks(dir: &Path) {
    fn sweep(dir: &Path, depth: usize) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && depth > 0 {
                sweep(&path, depth - 1);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "lock") {
                match fs::remove_file(&path) {
                    Ok(()) => tracing::warn!(
                        "removed {}, left by a fetch that did not finish",
                        path.display()
                    ),
                    Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
                }
            }
        }
    }
    for top in [
        "HEAD.lock",
        "config.lock",
        "packed-refs.lock",
        "FETCH_HEAD.lock",
    ] {
        let path = dir.join(top);
        if path.is_file() {
            let _ = fs::remove_file(&path);
        }
    }
    // Ref names nest (refs/remotes/origin/feature/x): deep enough for any sane branch name.
    sweep(&dir.join("refs"), 16);
}

/// What [`UpstreamRepo::read_file`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    Missing,
    /// Larger than allowed (its size); not read.
    TooLarge(usize),
    Content(Vec<u8>),
}

impl UpstreamRepo {
    /// The location this repository was fetched from.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The commit a ref resolves to: `latest` is the default branch; a name is tried as a tag,
    /// then a branch, then a full or abbreviated commit sha.
    pub fn resolve(&self, reference: &RefSpec) -> Result<String, FetchError> {
        let unknown = || FetchError::UnknownRef {
            location: self.location.clone(),
            reference: reference.to_string(),
        };
        let names: Vec<String> = match reference {
            RefSpec::Latest => vec![DEFAULT_BRANCH_REF.to_owned()],
            RefSpec::Named(name) => vec![
                format!("refs/tags/{name}"),
                format!("refs/remotes/origin/{name}"),
            ],
        };
        for name in &names {
            if let Ok(r) = self.repo.find_reference(name) {
                let commit = r.peel_to_commit().map_err(|_| unknown())?;
                return Ok(commit.id().to_string());
            }
        }
        if let RefSpec::Named(name) = reference
            && (4..=40).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_hexdigit())
            && let Ok(object) = self.repo.revparse_single(name)
            && let Ok(commit) = object.peel_to_commit()
        {
            return Ok(commit.id().to_string());
        }
        Err(unknown())
    }

    /// What `path` is at `commit` (the repository root when `path` is empty).
    pub fn path_info(&self, commit: &str, path: &str) -> Result<PathInfo, FetchError> {
        let tree = self.commit_tree(commit)?;
        if path.is_empty() {
            return Ok(PathInfo {
                id: tree.id().to_string(),
                is_dir: true,
            });
        }
        let entry = tree
            .get_path(Path::new(path))
            .map_err(|_| self.missing(path, commit))?;
        match entry.kind() {
            Some(ObjectType::Tree) => Ok(PathInfo {
                id: entry.id().to_string(),
                is_dir: true,
            }),
            Some(ObjectType::Blob) if entry.filemode() == 0o120000 => {
                Err(self.unsupported(path, "a symlink"))
            }
            Some(ObjectType::Blob) => Ok(PathInfo {
                id: entry.id().to_string(),
                is_dir: false,
            }),
            _ => Err(self.unsupported(path, "a submodule")),
        }
    }

    /// The file at `path` in `commit`, read only if it is at most `max` bytes. A folder or a
    /// symlink there is refused.
    pub fn read_file(&self, commit: &str, path: &str, max: usize) -> Result<FileRead, FetchError> {
        let info = match self.path_info(commit, path) {
            Ok(info) => info,
            Err(FetchError::MissingPath { .. }) => return Ok(FileRead::Missing),
            Err(e) => return Err(e),
        };
        if info.is_dir {
            return Err(self.unsupported(path, "a folder where a file was expected"));
        }
        let oid = parse_oid(&info.id, &self.location)?;
        let odb = self.repo.odb().map_err(|e| self.cache_err(e))?;
        let (size, _) = odb.read_header(oid).map_err(|e| self.cache_err(e))?;
        if size > max {
            return Ok(FileRead::TooLarge(size));
        }
        let blob = self.repo.find_blob(oid).map_err(|e| self.cache_err(e))?;
        Ok(FileRead::Content(blob.content().to_vec()))
    }

    /// The entries of the folder at `path` in `commit` (name, whether it is a folder), sorted;
    /// `None` when there is no folder there. Symlinks and submodules are left out.
    pub fn list_dir(
        &self,
        commit: &str,
        path: &str,
    ) -> Result<Option<Vec<(String, bool)>>, FetchError> {
        let info = match self.path_info(commit, path) {
            Ok(info) if info.is_dir => info,
            Ok(_) | Err(FetchError::MissingPath { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let oid = parse_oid(&info.id, &self.location)?;
        let tree = self.repo.find_tree(oid).map_err(|e| self.cache_err(e))?;
        let mut out: Vec<(String, bool)> = tree
            .iter()
            .filter_map(|e| {
                let name = e.name().ok()?.to_owned();
                match e.kind() {
                    Some(ObjectType::Tree) => Some((name, true)),
                    Some(ObjectType::Blob) if e.filemode() != 0o120000 => Some((name, false)),
                    _ => None,
                }
            })
            .collect();
        out.sort();
        Ok(Some(out))
    }

    /// Writes the artifact at `path` in `commit` to `dest`: a folder's files below `dest`, or a
    /// single file as `dest` itself. Exec bits are kept.
    ///
    /// The whole tree is checked first, and nothing is written unless all of it passes: every
    /// entry name by [`upstream_tree::check_name`] (no `..`, `/`, `.git`, control characters),
    /// no symlinks or submodules, and the sizes in `limits`, read from the object headers before
    /// any content is loaded. Files that hashing ignores (`__pycache__`, `.DS_Store`, …) are not
    /// placed, so nothing lands in a tier that drift cannot see. `dest` must not exist; on an
    /// I/O error it may be partly written (callers export into a temp dir).
    pub fn export(
        &self,
        commit: &str,
        path: &str,
        dest: &Path,
        limits: &Limits,
    ) -> Result<(), FetchError> {
        let info = self.path_info(commit, path)?;
        let oid = parse_oid(&info.id, &self.location)?;
        let mut plan = Plan {
            commit,
            limits,
            dirs: Vec::new(),
            files: Vec::new(),
            bytes: 0,
        };
        if info.is_dir {
            let tree = self.repo.find_tree(oid).map_err(|e| self.cache_err(e))?;
            self.plan_tree(&tree, path, "", &mut plan)?;
        } else {
            let mode = self
                .commit_tree(commit)?
                .get_path(Path::new(path))
                .map_err(|_| self.missing(path, commit))?
                .filemode();
            self.plan_blob(oid, mode, path, String::new(), &mut plan)?;
        }
        if info.is_dir {
            create_dir(dest)?;
        }
        for dir in &plan.dirs {
            create_dir(&dest.join(dir))?;
        }
        for file in &plan.files {
            let to = if file.rel.is_empty() {
                dest.to_owned()
            } else {
                dest.join(&file.rel)
            };
            self.export_blob(file.oid, file.mode, &to)?;
        }
        Ok(())
    }

    /// Checks the entries of `tree` (at `at` in the upstream, `rel` inside the artifact) and
    /// adds what is to be written to `plan`.
    fn plan_tree(
        &self,
        tree: &git2::Tree<'_>,
        at: &str,
        rel: &str,
        plan: &mut Plan<'_>,
    ) -> Result<(), FetchError> {
        for entry in tree.iter() {
            let join = |base: &str, name: &str| {
                if base.is_empty() {
                    name.to_owned()
                } else {
                    format!("{base}/{name}")
                }
            };
            let Ok(name) = entry.name() else {
                let shown = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                return Err(self.bad_entry(
                    plan.commit,
                    &join(at, &shown),
                    "a name that is not UTF-8",
                ));
            };
            let at_name = join(at, name);
            if let Err(why) = upstream_tree::check_name(name) {
                return Err(FetchError::BadEntry {
                    location: self.location.clone(),
                    commit: plan.commit.to_owned(),
                    path: display::escaped(&at_name).into_owned(),
                    why,
                });
            }
            if hash::is_ignored(name) {
                continue;
            }
            let rel_name = join(rel, name);
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let sub = self
                        .repo
                        .find_tree(entry.id())
                        .map_err(|e| self.cache_err(e))?;
                    plan.dirs.push(rel_name.clone());
                    self.plan_tree(&sub, &at_name, &rel_name, plan)?;
                }
                Some(ObjectType::Blob) => {
                    self.plan_blob(entry.id(), entry.filemode(), &at_name, rel_name, plan)?
                }
                _ => return Err(self.unsupported(&at_name, "a submodule")),
            }
        }
        Ok(())
    }

    fn plan_blob(
        &self,
        oid: Oid,
        mode: i32,
        at: &str,
        rel: String,
        plan: &mut Plan<'_>,
    ) -> Result<(), FetchError> {
        let (commit, limits) = (plan.commit, plan.limits);
        if mode == 0o120000 {
            return Err(self.unsupported(at, "a symlink"));
        }
        let (size, kind) = self
            .repo
            .odb()
            .and_then(|odb| odb.read_header(oid))
            .map_err(|e| self.cache_err(e))?;
        if kind != ObjectType::Blob {
            return Err(self.bad_entry(commit, at, "an entry that claims a file but is not one"));
        }
        let size = size as u64;
        let too_large = |limit: u64, what: &'static str| FetchError::TooLarge {
            location: self.location.clone(),
            commit: commit.to_owned(),
            path: at.to_owned(),
            what,
            limit,
        };
        if size > limits.max_file_bytes {
            return Err(too_large(limits.max_file_bytes, "this file is"));
        }
        plan.bytes = plan.bytes.saturating_add(size);
        if plan.bytes > limits.max_artifact_bytes {
            return Err(too_large(
                limits.max_artifact_bytes,
                "the artifact's files are",
            ));
        }
        if plan.files.len() >= limits.max_files {
            return Err(too_large(
                limits.max_files as u64,
                "the artifact's file count is",
            ));
        }
        plan.files.push(PlannedFile { rel, oid, mode });
        Ok(())
    }

    fn export_blob(&self, oid: Oid, mode: i32, dest: &Path) -> Result<(), FetchError> {
        let blob = self.repo.find_blob(oid).map_err(|e| self.cache_err(e))?;
        let io = |source| PathError::new("write", dest, source);
        // create_new: the plan names each file once, so nothing can be written twice or through
        // a link that was already there.
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dest)
            .map_err(io)?;
        file.write_all(blob.content()).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let perm = if mode == 0o100755 { 0o755 } else { 0o644 };
            file.set_permissions(fs::Permissions::from_mode(perm))
                .map_err(io)?;
        }
        Ok(())
    }

    fn commit_tree(&self, commit: &str) -> Result<git2::Tree<'_>, FetchError> {
        let oid = parse_oid(commit, &self.location)?;
        let commit = self.repo.find_commit(oid).map_err(|e| self.cache_err(e))?;
        commit.tree().map_err(|e| self.cache_err(e))
    }

    fn missing(&self, path: &str, commit: &str) -> FetchError {
        FetchError::MissingPath {
            location: self.location.clone(),
            path: path.to_owned(),
            commit: commit.to_owned(),
        }
    }

    fn bad_entry(&self, commit: &str, path: &str, what: &'static str) -> FetchError {
        FetchError::Unsupported {
            location: format!("{} at {}", self.location, short(commit)),
            path: display::escaped(path).into_owned(),
            what,
        }
    }

    fn unsupported(&self, path: &str, what: &'static str) -> FetchError {
        FetchError::Unsupported {
            location: self.location.clone(),
            path: path.to_owned(),
            what,
        }
    }

    fn cache_err(&self, e: git2::Error) -> FetchError {
        FetchError::Cache {
            path: self.repo.path().to_owned(),
            message: e.message().to_owned(),
        }
    }
}

/// What an export will write, once the whole tree has passed its checks.
struct Plan<'a> {
    commit: &'a str,
    limits: &'a Limits,
    /// Folders to create, parents first, relative to the destination.
    dirs: Vec<String>,
    files: Vec<PlannedFile>,
    /// Total size of `files`.
    bytes: u64,
}

struct PlannedFile {
    /// Relative to the destination; empty for a single-file artifact.
    rel: String,
    oid: Oid,
    mode: i32,
}

fn create_dir(path: &Path) -> Result<(), FetchError> {
    Ok(fs::create_dir(path).context("create", path)?)
}

fn parse_oid(hex: &str, location: &str) -> Result<Oid, FetchError> {
    Oid::from_str(hex).map_err(|_| FetchError::UnknownRef {
        location: location.to_owned(),
        reference: hex.to_owned(),
    })
}

/// The commit `reference` names on the remote *now*, from its ref listing alone (no objects are
/// fetched). `None` for a commit sha, which never moves, and for a name the remote lacks.
pub fn remote_commit(
    spec: &UpstreamSpec,
    settings: &FetchSettings,
) -> Result<Option<String>, FetchError> {
    let heads = list_remote(&spec.fetch_location(), settings)?;
    Ok(commit_in(&heads, &spec.reference))
}

/// Whether the GitHub token goes to `location`: an `https://` location on github.com, or on
/// the configured GitHub server.
fn token_applies(location: &str, settings: &FetchSettings) -> bool {
    let on = |server: &str| {
        let server = server.trim_end_matches('/');
        !server.is_empty()
            && location
                .strip_prefix(server)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    settings.github_token.is_some()
        && (on("https://github.com") || settings.github_server.as_deref().is_some_and(on))
}

/// The `Authorization` header a fetch from GitHub sends with the token: HTTP Basic with the
/// user `x-access-token`, the form GitHub documents for installation and personal tokens over
/// git's smart HTTP.
fn token_header(location: &str, settings: &FetchSettings) -> Option<String> {
    use base64::Engine as _;
    let token = settings.github_token.as_deref()?;
    token_applies(location, settings).then(|| {
        let pair = format!("x-access-token:{token}");
        format!(
            "Authorization: Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    })
}

/// One bulk check's conversations with the upstreams (`drift --check-all`, `GET /drift`, the
/// artifacts page): each repository's refs are listed once, however many artifacts come from
/// it, and requests to one host are spaced by `spacing` (`upstream.check_spacing`), so fifty
/// artifacts from GitHub are one request, and fifty repositories are fifty requests in a row
/// rather than a burst. A listing that failed fails every artifact of that repository without
/// asking again.
#[derive(Debug, Default)]
pub struct ListingRun {
    spacing: Duration,
    state: std::sync::Mutex<ListingState>,
}

#[derive(Debug, Default)]
struct ListingState {
    /// By fetch location: the advertised refs (name, commit), or the failure's message.
    listings: std::collections::HashMap<String, Result<Vec<(String, String)>, String>>,
    /// By host: when the last request to it started.
    last: std::collections::HashMap<String, std::time::Instant>,
}

impl ListingRun {
    pub fn new(spacing: Duration) -> Self {
        Self {
            spacing,
            state: std::sync::Mutex::default(),
        }
    }

    /// Waits until a request to `location`'s host may go, and notes that one goes now.
    pub fn space(&self, location: &str) {
        if self.spacing.is_zero() {
            return;
        }
        let host = host_of(location);
        let wait = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let now = std::time::Instant::now();
            let at = state
                .last
                .get(&host)
                .map_or(now, |last| (*last + self.spacing).max(now));
            state.last.insert(host, at);
            at - now
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    /// The commit `spec`'s reference names on its remote now (see [`remote_commit`]), from
    /// this run's one listing of that remote. `Ok(None)` also when the remote is GitHub and a
    /// token is set: a listing cannot carry the token, so the caller fetches (which does, and
    /// costs no more than a listing when nothing changed).
    pub fn commit(
        &self,
        spec: &UpstreamSpec,
        settings: &FetchSettings,
    ) -> Result<Option<String>, FetchError> {
        let location = spec.fetch_location();
        if token_applies(&location, settings) {
            return Ok(None);
        }
        let known = self
            .state
            .lock()
            .ok()
            .and_then(|s| s.listings.get(&location).cloned());
        let listing = match known {
            Some(listing) => listing,
            None => {
                self.space(&location);
                let listing = list_remote(&location, settings).map_err(|e| match e {
                    FetchError::Remote { message, .. } => message,
                    other => other.to_string(),
                });
                if let Ok(mut state) = self.state.lock() {
                    state.listings.insert(location.clone(), listing.clone());
                }
                listing
            }
        };
        match listing {
            Ok(heads) => Ok(commit_in(&heads, &spec.reference)),
            Err(message) => Err(FetchError::Remote { location, message }),
        }
    }
}

impl ListingRun {
    /// The failure of an earlier request to `location` in this run, if one failed: the same
    /// answer for every artifact of that repository, without asking again.
    pub fn failure(&self, location: &str) -> Option<FetchError> {
        let state = self.state.lock().ok()?;
        match state.listings.get(location) {
            Some(Err(message)) => Some(FetchError::Remote {
                location: location.to_owned(),
                message: message.clone(),
            }),
            _ => None,
        }
    }

    /// Notes that a request to `location` failed with `error` (a remote's failure only).
    pub fn note_failure(&self, error: &FetchError) {
        if let FetchError::Remote { location, message } = error
            && let Ok(mut state) = self.state.lock()
        {
            state
                .listings
                .insert(location.clone(), Err(message.clone()));
        }
    }
}

/// The host part of a location (`github.com` of `https://github.com/o/r`, of `git@github.com:o/r`);
/// the whole location for a local path.
fn host_of(location: &str) -> String {
    let rest = location.split_once("://").map_or(location, |(_, r)| r);
    let authority = rest.split(['/', ':']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_owned()
}

/// The refs a remote advertises, (name, commit), with retries on transient failures.
fn list_remote(
    location: &str,
    settings: &FetchSettings,
) -> Result<Vec<(String, String)>, FetchError> {
    let attempt = SshAttempt::default();
    let remote_err = |e: git2::Error| FetchError::Remote {
        location: location.to_owned(),
        message: ssh::explain(&e, location, &attempt),
    };
    with_retry(settings.retry, || {
        let mut remote = git2::Remote::create_detached(location)?;
        let connection = remote.connect_auth(
            Direction::Fetch,
            Some(callbacks(location, settings, &attempt)),
            None,
        )?;
        Ok(connection
            .list()?
            .iter()
            .map(|h| (h.name().to_owned(), h.oid().to_string()))
            .collect())
    })
    .map_err(remote_err)
}

/// The commit `reference` names among `heads`.
fn commit_in(heads: &[(String, String)], reference: &RefSpec) -> Option<String> {
    let find = |name: &str| {
        heads
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, oid)| oid.clone())
    };
    match reference {
        RefSpec::Latest => find("HEAD"),
        // An annotated tag's peeled entry (`^{}`) names the commit; a light one names it directly.
        RefSpec::Named(n) => find(&format!("refs/tags/{n}^{{}}"))
            .or_else(|| find(&format!("refs/tags/{n}")))
            .or_else(|| find(&format!("refs/heads/{n}"))),
    }
}

fn callbacks<'a>(
    location: &str,
    settings: &'a FetchSettings,
    attempt: &'a SshAttempt,
) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    if ssh::is_ssh(location) {
        ssh::install(&mut cb, attempt);
        return cb;
    }
    if let (true, Some(token)) = (
        token_applies(location, settings),
        settings.github_token.as_deref(),
    ) {
        let mut tried = false;
        cb.credentials(move |_url, _user, _allowed| {
            // Offer the token once: a second request means it was refused.
            if tried {
                return Err(git2::Error::from_str("GITHUB_TOKEN was refused by GitHub"));
            }
            tried = true;
            git2::Cred::userpass_plaintext("x-access-token", token)
        });
    }
    cb
}

/// Runs `op`, retrying with exponential backoff while it fails with a transient error.
pub(crate) fn with_retry<T>(
    policy: RetryPolicy,
    mut op: impl FnMut() -> Result<T, git2::Error>,
) -> Result<T, git2::Error> {
    let mut delay = policy.first_delay;
    let mut attempt = 1;
    loop {
        match op() {
            Err(e) if attempt < policy.attempts && is_transient(&e) => {
                std::thread::sleep(delay);
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn is_transient(e: &git2::Error) -> bool {
    // A rate limit or a refusal is not cured by asking again at once: it only spends more of
    // the limit (drift shows the upstream's last known state instead).
    if e.class() == ErrorClass::Http && [" 429", " 403"].iter().any(|s| e.message().ends_with(s)) {
        return false;
    }
    matches!(
        e.class(),
        ErrorClass::Net | ErrorClass::Os | ErrorClass::Http | ErrorClass::Ssl
    ) && !matches!(
        e.code(),
        git2::ErrorCode::Auth | git2::ErrorCode::NotFound | git2::ErrorCode::Certificate
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net_error() -> git2::Error {
        git2::Error::new(
            git2::ErrorCode::GenericError,
            ErrorClass::Net,
            "connection reset",
        )
    }

    #[test]
    fn transient_errors_are_retried_then_succeed() {
        let policy = RetryPolicy {
            attempts: 4,
            first_delay: Duration::ZERO,
        };
        let mut calls = 0;
        let result = with_retry(policy, || {
            calls += 1;
            if calls < 3 {
                Err(net_error())
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result.unwrap(), 3);
    }

    #[test]
    fn retries_stop_at_the_limit_and_never_retry_permanent_errors() {
        let policy = RetryPolicy {
            attempts: 3,
            first_delay: Duration::ZERO,
        };
        let mut calls = 0;
        assert!(
            with_retry(policy, || -> Result<(), _> {
                calls += 1;
                Err(net_error())
            })
            .is_err()
        );
        assert_eq!(calls, 3);

        let mut calls = 0;
        let auth = || git2::Error::new(git2::ErrorCode::Auth, ErrorClass::Http, "401");
        assert!(
            with_retry(policy, || -> Result<(), _> {
                calls += 1;
                Err(auth())
            })
            .is_err()
        );
        assert_eq!(calls, 1);
    }
}
