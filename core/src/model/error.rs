//! How failures are told apart and what they name: [`ErrorKind`], the sorting every error of core
//! offers its edges, and [`PathError`], the one way an I/O failure carries the path it was about.
//!
//! This module owns no failure of its own and must not know about an edge: HTTP statuses, exit
//! codes and hints are chosen by the server from the kind, in one exhaustive match per edge.

use std::io;
use std::path::{Path, PathBuf};

/// What kind of failure an error is, as far as a caller can act on it.
///
/// Every error type of core has a `kind()` that names one of these for each of its variants,
/// matched without a fallback; the CLI and the HTTP API each map every kind exhaustively. A new
/// failure therefore has to be sorted where it is made, and a new kind has to be given a status
/// and an exit code at each edge before the workspace builds again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The call itself is incomplete: an argument it needs is missing.
    Usage,
    /// A value the caller gave is malformed or names nothing that can exist.
    Invalid,
    /// An upstream spec that is none of the accepted forms.
    BadSpec,
    /// An upstream path whose artifact type cannot be told or whose shape does not fit the type.
    UnknownType,
    /// Something the caller named does not exist (a copy, a source tier's artifact).
    NotFound,
    /// The artifact is not in the collection.
    NotInCollection,
    /// The folder is not a project SkillMeat deployed into.
    NotRegistered,
    /// The artifact is not deployed in the project.
    NotDeployed,
    /// A version reference matches no recorded version.
    UnknownVersion,
    /// A version reference matches several recorded versions.
    AmbiguousVersion,
    /// The artifact is already in the collection.
    AlreadyAdded,
    /// The tag names another version already.
    TagTaken,
    /// There is no pending merge to resolve.
    NoPendingMerge,
    /// Several pending merges match; a tier must be named.
    AmbiguousPending,
    /// A merge of the artifact is pending and has to be settled first.
    PendingMerge,
    /// The pending merge changed since the caller read it.
    MergeChanged,
    /// An apply is not the plan its preview showed any more (or the preview has no plan for it).
    PlanChanged,
    /// The artifact's syncs failed too often in a row; it is locked until unlocked.
    SyncLocked,
    /// A resolution does not settle the conflict it names (markers left, choices that do not fit).
    Unresolved,
    /// Writing would overwrite local edits.
    LocalEdits,
    /// The artifact is still deployed in projects; it has to leave them first.
    StillDeployed,
    /// A file SkillMeat does not manage is in the way.
    Unmanaged,
    /// The target changed while the write was being prepared; nothing was written.
    Changed,
    /// Another writer holds the lock.
    Locked,
    /// The project copy has nothing to export.
    NothingToExport,
    /// A folder of the project's `.claude/` links out of the project.
    LinkOutside,
    /// A copy holds something that cannot be read as an artifact (a symlink, a special file, a
    /// name that is not UTF-8).
    UnreadableCopy,
    /// The upstream answered with something SkillMeat refuses (an entry, a size, a file type).
    UpstreamRefused,
    /// The upstream could not be reached or read.
    UpstreamFailed,
    /// A records or collection file is malformed.
    BadRecords,
    /// `config.toml` or a setting's override is malformed.
    BadConfig,
    /// A job was cancelled before the step; nothing of it was written.
    Cancelled,
    /// SkillMeat or the machine failed (I/O, the database, the version store).
    Internal,
}

/// An I/O failure and the path it was about.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {path}: {source}")]
pub struct PathError {
    /// What was being done, as a verb phrase that reads after "cannot" ("write", "create a
    /// staging folder in").
    pub action: &'static str,
    /// What the action was done to (a file or a folder), as the message prints it.
    pub path: PathBuf,
    /// The failure the system reported.
    #[source]
    pub source: io::Error,
}

impl PathError {
    /// `source` while doing `action` on `path`.
    pub fn new(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self {
            action,
            path: path.into(),
            source,
        }
    }

    /// Whether the path did not exist.
    pub fn is_not_found(&self) -> bool {
        self.source.kind() == io::ErrorKind::NotFound
    }
}

/// Attaches the path to an I/O result: `fs::read(&p).context("read", &p)?`.
pub trait IoResultExt<T> {
    /// The error, if any, as a [`PathError`] doing `action` on `path`.
    fn context(self, action: &'static str, path: impl AsRef<Path>) -> Result<T, PathError>;
}

impl<T> IoResultExt<T> for io::Result<T> {
    fn context(self, action: &'static str, path: impl AsRef<Path>) -> Result<T, PathError> {
        self.map_err(|source| PathError::new(action, path.as_ref(), source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_error_reads_as_a_sentence_with_its_path() {
        let err = std::fs::read("/nonexistent/skillmeat/x")
            .context("read", "/nonexistent/skillmeat/x")
            .unwrap_err();
        assert!(err.is_not_found());
        let text = err.to_string();
        assert!(
            text.starts_with("cannot read /nonexistent/skillmeat/x: "),
            "{text}"
        );
    }
}
