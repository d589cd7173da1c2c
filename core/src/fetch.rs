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
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{Direction, ErrorClass, FetchOptions, ObjectType, Oid, RemoteCallbacks, Repository};
use sha2::{Digest, Sha256};

use crate::upstream::{RefSpec, UpstreamSpec};

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
    /// A GitHub token for private repositories (the CLI passes `$GITHUB_TOKEN`). It is handed to
    /// git only through the credentials callback, for github.com, and never written anywhere.
    pub github_token: Option<String>,
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
    /// The local cache or the export destination could not be used.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The cached repository is unusable.
    #[error("upstream cache {path} is unusable: {message} (delete it to start over)")]
    Cache { path: PathBuf, message: String },
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

    /// Fetches the upstream of `spec` into the cache (creating it on first use).
    pub fn fetch(
        &self,
        spec: &UpstreamSpec,
        settings: &FetchSettings,
    ) -> Result<UpstreamRepo, FetchError> {
        let location = spec.fetch_location();
        let dir = self.repo_dir(&location);
        let repo = if dir.join("HEAD").is_file() {
            Repository::open_bare(&dir).map_err(|e| FetchError::Cache {
                path: dir.clone(),
                message: e.message().to_owned(),
            })?
        } else {
            fs::create_dir_all(&dir).map_err(|source| FetchError::Io {
                action: "cannot create",
                path: dir.clone(),
                source,
            })?;
            Repository::init_bare(&dir).map_err(|e| FetchError::Cache {
                path: dir.clone(),
                message: e.message().to_owned(),
            })?
        };
        let remote_err = |e: git2::Error| FetchError::Remote {
            location: location.clone(),
            message: e.message().to_owned(),
        };
        with_retry(settings.retry, || {
            let mut remote = repo.remote_anonymous(&location)?;
            // The default branch comes from the ref advertisement: connect, read it, fetch.
            let default_branch = {
                let connection = remote.connect_auth(
                    Direction::Fetch,
                    Some(callbacks(&location, settings)),
                    None,
                )?;
                connection
                    .default_branch()
                    .ok()
                    .and_then(|b| b.as_str().ok().map(str::to_owned))
            };
            let mut options = FetchOptions::new();
            options.remote_callbacks(callbacks(&location, settings));
            options.download_tags(git2::AutotagOption::All);
            remote.fetch(
                &[
                    "+refs/heads/*:refs/remotes/origin/*",
                    "+refs/tags/*:refs/tags/*",
                ],
                Some(&mut options),
                None,
            )?;
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
        Ok(UpstreamRepo { repo, location })
    }
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

    /// Writes the artifact at `path` in `commit` to `dest`: a folder's files below `dest`, or a
    /// single file as `dest` itself. Exec bits are kept; symlinks and submodules are refused.
    /// `dest` must not exist; on error it may be partly written (callers export into a temp dir).
    pub fn export(&self, commit: &str, path: &str, dest: &Path) -> Result<(), FetchError> {
        let info = self.path_info(commit, path)?;
        let oid = parse_oid(&info.id, &self.location)?;
        if info.is_dir {
            let tree = self.repo.find_tree(oid).map_err(|e| self.cache_err(e))?;
            self.export_tree(&tree, path, dest)
        } else {
            let mode = self
                .commit_tree(commit)?
                .get_path(Path::new(path))
                .map_err(|_| self.missing(path, commit))?
                .filemode();
            self.export_blob(oid, mode, dest)
        }
    }

    fn export_tree(&self, tree: &git2::Tree<'_>, at: &str, dest: &Path) -> Result<(), FetchError> {
        fs::create_dir_all(dest).map_err(|source| FetchError::Io {
            action: "cannot create",
            path: dest.to_owned(),
            source,
        })?;
        for entry in tree.iter() {
            let name = entry
                .name()
                .map_err(|_| self.unsupported(at, "a file name that is not UTF-8"))?;
            let rel = if at.is_empty() {
                name.to_owned()
            } else {
                format!("{at}/{name}")
            };
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let sub = self
                        .repo
                        .find_tree(entry.id())
                        .map_err(|e| self.cache_err(e))?;
                    self.export_tree(&sub, &rel, &dest.join(name))?;
                }
                Some(ObjectType::Blob) if entry.filemode() == 0o120000 => {
                    return Err(self.unsupported(&rel, "a symlink"));
                }
                Some(ObjectType::Blob) => {
                    self.export_blob(entry.id(), entry.filemode(), &dest.join(name))?
                }
                _ => return Err(self.unsupported(&rel, "a submodule")),
            }
        }
        Ok(())
    }

    fn export_blob(&self, oid: Oid, mode: i32, dest: &Path) -> Result<(), FetchError> {
        let blob = self.repo.find_blob(oid).map_err(|e| self.cache_err(e))?;
        let io = |source| FetchError::Io {
            action: "cannot write",
            path: dest.to_owned(),
            source,
        };
        fs::write(dest, blob.content()).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let perm = if mode == 0o100755 { 0o755 } else { 0o644 };
            fs::set_permissions(dest, fs::Permissions::from_mode(perm)).map_err(io)?;
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
    let location = spec.fetch_location();
    let remote_err = |e: git2::Error| FetchError::Remote {
        location: location.clone(),
        message: e.message().to_owned(),
    };
    with_retry(settings.retry, || {
        let mut remote = git2::Remote::create_detached(location.as_str())?;
        let connection =
            remote.connect_auth(Direction::Fetch, Some(callbacks(&location, settings)), None)?;
        let heads = connection.list()?;
        let find = |name: &str| {
            heads
                .iter()
                .find(|h| h.name() == name)
                .map(|h| h.oid().to_string())
        };
        Ok(match &spec.reference {
            RefSpec::Latest => find("HEAD"),
            // An annotated tag's peeled entry (`^{}`) names the commit; a light one names it directly.
            RefSpec::Named(n) => find(&format!("refs/tags/{n}^{{}}"))
                .or_else(|| find(&format!("refs/tags/{n}")))
                .or_else(|| find(&format!("refs/heads/{n}"))),
        })
    })
    .map_err(remote_err)
}

fn callbacks<'a>(location: &str, settings: &'a FetchSettings) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    let github = location.starts_with("https://github.com/");
    if let (true, Some(token)) = (github, settings.github_token.as_deref()) {
        let mut tried = false;
        cb.credentials(move |_url, _user, _allowed| {
            // Offer the token once: a second request means it was refused.
            if tried {
                return Err(git2::Error::from_str(
                    "GITHUB_TOKEN was refused by github.com",
                ));
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
