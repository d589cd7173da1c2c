//! Putting a version of an artifact in place atomically, and the per-artifact locks that keep
//! two writers (the CLI and a server, two terminals) from writing the same artifact at once.
//!
//! [`install`] writes the new version into a staging folder beside the destination, fsyncs it,
//! and then swaps it with the destination in one `renameat2(RENAME_EXCHANGE)` call, so at every
//! instant the destination is wholly the old version or wholly the new one — also for skills,
//! which are folders (a plain rename cannot replace a non-empty folder). Where the file system
//! cannot exchange, it falls back to two renames with the old version kept beside the
//! destination until the new one is in place.
//!
//! [`ArtifactLock`] is an exclusive `flock` on a file under `$SKILLMEAT_HOME/locks/`. The kernel
//! drops it when its holder exits, however it exits, so a lock can never go stale; a waiter
//! gives up after its timeout and is told who holds the lock.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::model::error::{ErrorKind, IoResultExt as _, PathError};
use crate::model::files::ArtifactFiles;

/// A point of [`install`] at which a test can make it fail, to prove what a crash leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The new version is written in the staging folder; the destination is untouched.
    Staged,
    /// The new version is in place; the old one is still in the staging folder.
    Swapped,
}

/// Why a version could not be put in place. The destination is then unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A file-system step failed.
    #[error(transparent)]
    Io(#[from] PathError),
    /// Another writer holds the artifact's lock.
    #[error("{what} is locked by another SkillMeat process ({holder}); gave up after {waited:?}")]
    Locked {
        what: String,
        holder: String,
        waited: Duration,
    },
}

impl ApplyError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io(_) => ErrorKind::Internal,
            Self::Locked { .. } => ErrorKind::Locked,
        }
    }
}

/// Puts `files` at `dest` (a folder when `as_folder`, else a single file), replacing whatever
/// is there atomically. `hook` is called after each [`Step`]; an error from it aborts the
/// install there, as a crash would (tests use it; callers pass `&mut |_| Ok(())`).
///
/// The caller must hold `dest`'s [`ArtifactLock`]: staging folders of `dest` left by a process
/// that died mid-install are removed here, which is only safe while no one else installs it.
pub fn install(
    files: &ArtifactFiles,
    as_folder: bool,
    dest: &Path,
    hook: &mut dyn FnMut(Step) -> io::Result<()>,
) -> Result<(), ApplyError> {
    let parent = dest
        .parent()
        .ok_or_else(|| PathError::new("write", dest, io::ErrorKind::InvalidInput.into()))?;
    fs::create_dir_all(parent).context("create", parent)?;
    let prefix = staging_prefix(dest);
    remove_stale_staging(parent, &prefix);
    let staging = tempfile::Builder::new()
        .prefix(&prefix)
        .rand_bytes(STAGING_SUFFIX)
        .tempdir_in(parent)
        .context("create a staging folder in", parent)?;
    let staged = staging.path().join("new");
    files
        .write_to(&staged, as_folder)
        .context("write", &staged)?;
    if as_folder {
        crate::storage::atomic::sync_dir(&staged).context("sync", &staged)?;
    }
    hook(Step::Staged).context("stage", dest)?;

    if fs::symlink_metadata(dest).is_ok() {
        exchange(&staged, dest)?;
    } else {
        fs::rename(&staged, dest).context("move into place", dest)?;
    }
    crate::storage::atomic::sync_dir(parent).context("sync", parent)?;
    hook(Step::Swapped).context("finish", dest)?;
    // Dropping the staging folder removes the old version.
    Ok(())
}

/// Takes `dest` (a folder or a file) away in one rename into a staging folder beside it, then
/// deletes it there: a reader sees the whole artifact or none of it, and a kill midway leaves
/// only a staging folder the next install or sweep of `dest` removes. Nothing at `dest` is not
/// an error. The caller must hold `dest`'s [`ArtifactLock`], as for [`install`].
pub fn uninstall(dest: &Path) -> Result<(), ApplyError> {
    if fs::symlink_metadata(dest).is_err() {
        return Ok(());
    }
    let parent = dest
        .parent()
        .ok_or_else(|| PathError::new("remove", dest, io::ErrorKind::InvalidInput.into()))?;
    let prefix = staging_prefix(dest);
    remove_stale_staging(parent, &prefix);
    let staging = tempfile::Builder::new()
        .prefix(&prefix)
        .rand_bytes(STAGING_SUFFIX)
        .tempdir_in(parent)
        .context("create a staging folder in", parent)?;
    fs::rename(dest, staging.path().join("old")).context("move away", dest)?;
    crate::storage::atomic::sync_dir(parent).context("sync", parent)?;
    // Dropping the staging folder deletes what was there.
    Ok(())
}

/// The name every staging folder of `dest` starts with.
fn staging_prefix(dest: &Path) -> String {
    format!(
        ".skillmeat-staging-{}-",
        dest.file_name().unwrap_or_default().to_string_lossy()
    )
}

/// Removes the staging folders a killed [`install`] of `dest` left, for when `dest` already
/// holds what is wanted and no install follows to do it. The caller must hold `dest`'s
/// [`ArtifactLock`], as for `install`.
pub fn sweep_staging(dest: &Path) {
    if let Some(parent) = dest.parent() {
        remove_stale_staging(parent, &staging_prefix(dest));
    }
}

/// Random characters after a staging folder's prefix.
const STAGING_SUFFIX: usize = 8;

/// Removes staging folders of exactly this artifact (`prefix` and [`STAGING_SUFFIX`] random
/// characters, so `review-x`'s are never taken for `review`'s) in `parent`: leftovers of a
/// killed install. Best effort: a leftover that stays is harmless (its name starts with a dot).
fn remove_stale_staging(parent: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix)
            && name.len() == prefix.len() + STAGING_SUFFIX
            && !name[prefix.len()..].contains('-')
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Swaps `staged` and `dest`. Afterwards `staged` holds the old version.
fn exchange(staged: &Path, dest: &Path) -> Result<(), ApplyError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, staged, CWD, dest, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        Err(e)
            if e == rustix::io::Errno::INVAL
                || e == rustix::io::Errno::NOSYS
                || e == rustix::io::Errno::OPNOTSUPP =>
        {
            // No atomic exchange here: move the old version aside, then the new one in.
            let old = staged.with_extension("old");
            fs::rename(dest, &old).context("move aside", dest)?;
            if let Err(e) = fs::rename(staged, dest) {
                let _ = fs::rename(&old, dest);
                return Err(PathError::new("move into place", dest, e).into());
            }
            Ok(fs::rename(&old, staged).context("clean up", &old)?)
        }
        Err(e) => Err(PathError::new("swap into place", dest, e.into()).into()),
    }
}

/// An exclusive lock on one artifact in one tier, held until dropped.
#[derive(Debug)]
pub struct ArtifactLock {
    _file: fs::File,
}

impl ArtifactLock {
    /// Takes the lock named `key` (a file name) under `locks_dir`, waiting up to `timeout`.
    /// `what` names the locked thing in the error.
    pub fn acquire(
        locks_dir: &Path,
        key: &str,
        what: &str,
        timeout: Duration,
        now: SystemTime,
    ) -> Result<Self, ApplyError> {
        fs::create_dir_all(locks_dir).context("create", locks_dir)?;
        let path = locks_dir.join(format!("{key}.lock"));
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .context("open", &path)?;
        let start = Instant::now();
        let mut delay = Duration::from_millis(5);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(delay.min(timeout.saturating_sub(start.elapsed())));
                    delay = (delay * 2).min(Duration::from_millis(200));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    let holder = fs::read_to_string(&path)
                        .ok()
                        .filter(|s| !s.trim().is_empty())
                        .unwrap_or_else(|| "holder unknown".to_owned());
                    return Err(ApplyError::Locked {
                        what: what.to_owned(),
                        holder: holder.trim().to_owned(),
                        waited: timeout,
                    });
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(PathError::new("lock", &path, e).into());
                }
            }
        }
        // Who holds it, for the message a waiter gets.
        let _ = file.set_len(0);
        let _ = writeln!(
            file,
            "pid {} since {}",
            std::process::id(),
            crate::model::time::rfc3339(now)
        );
        Ok(Self { _file: file })
    }
}

/// Takes the lock that serialises changes to `file`, a file shared by many artifacts
/// (`collection.toml`, `collection.lock`, a project's deployment records), across threads and
/// processes. The holder loads the file, changes its own entries and saves it before dropping
/// the lock, so two writers of different artifacts never lose each other's entries (DESIGN §5).
/// Take it after any [`ArtifactLock`] of an artifact; where two are needed (`add`), take the
/// manifest's before the lock file's.
pub fn lock_shared_file(
    locks_dir: &Path,
    file: &Path,
    timeout: Duration,
    now: SystemTime,
) -> Result<ArtifactLock, ApplyError> {
    use sha2::{Digest, Sha256};
    // Keyed by the file's absolute path: the project's records and the collection's lock
    // each get their own; the lock files stay in the home, never in a project.
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    let digest = Sha256::digest(absolute.as_os_str().as_encoded_bytes());
    let key: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    ArtifactLock::acquire(
        locks_dir,
        &format!("file-{key}"),
        &file.display().to_string(),
        timeout,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::files::FileContent;

    fn version(text: &str) -> ArtifactFiles {
        let mut f = ArtifactFiles::default();
        f.files.insert("SKILL.md".into(), FileContent::text(text));
        f.files.insert("ref/a.md".into(), FileContent::text(text));
        f
    }

    #[test]
    fn a_failure_at_any_step_leaves_the_old_or_the_new_version_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("skills/x");
        install(&version("old"), true, &dest, &mut |_| Ok(())).unwrap();
        let old = version("old").content_hash();
        let new = version("new").content_hash();
        for (step, expected) in [(Step::Staged, old), (Step::Swapped, new)] {
            install(&version("old"), true, &dest, &mut |_| Ok(())).unwrap();
            let err = install(&version("new"), true, &dest, &mut |s| {
                if s == step {
                    Err(io::Error::other("injected"))
                } else {
                    Ok(())
                }
            });
            assert!(err.is_err());
            assert_eq!(
                ArtifactFiles::read(&dest).unwrap().content_hash(),
                expected,
                "after a failure at {step:?}"
            );
            // No staging folder is left behind.
            let leftovers: Vec<_> = fs::read_dir(dest.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .filter(|n| n.to_string_lossy().starts_with(".skillmeat-staging"))
                .collect();
            assert!(leftovers.is_empty(), "{leftovers:?}");
        }
    }

    #[test]
    fn a_held_lock_times_out_naming_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::UNIX_EPOCH;
        let held = ArtifactLock::acquire(dir.path(), "k", "skill:x", Duration::ZERO, now).unwrap();
        let err = ArtifactLock::acquire(dir.path(), "k", "skill:x", Duration::from_millis(50), now)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("skill:x is locked") && text.contains("pid"),
            "{text}"
        );
        drop(held);
        assert!(ArtifactLock::acquire(dir.path(), "k", "skill:x", Duration::ZERO, now).is_ok());
    }
}
