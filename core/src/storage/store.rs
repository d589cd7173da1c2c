//! The content store: `$SKILLMEAT_HOME/store.git`, a bare git repository holding every version
//! of every artifact as a git tree, and its lineage as git commits.
//!
//! A tree holds an artifact's files as [`hash`](crate::model::hash) sees them: a skill's folder, or a
//! command's or agent's single file under its own name. Files are stored with mode `100755` when
//! the owner execute bit is set, else `100644`, so an export gives back the same content hash.
//! Each commit is kept reachable by a ref `refs/keep/<commit id>`, so `git gc` on the store never
//! drops a version. The mapping from content hashes to trees and commits lives in SQLite
//! ([`versions`](crate::storage::versions)); this module is only the object storage.
//!
//! git2 types stay inside this module: callers see [`TreeId`] and [`CommitId`].

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use git2::{ObjectType, Oid, Repository, Signature, Time, TreeWalkMode, TreeWalkResult};
use serde::{Deserialize, Serialize};

use crate::model::error::{ErrorKind, IoResultExt as _, PathError};
use crate::model::files::{ArtifactFiles, FileContent};
use crate::model::hash::{self, ContentHash, HashError};

/// A tree in the store: one version's files. 40 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TreeId(String);

/// A commit in the store: one version's place in the lineage. 40 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommitId(String);

macro_rules! object_id {
    ($t:ident) => {
        impl $t {
            /// Parses a 40-hex object id.
            pub fn parse(text: &str) -> Result<Self, StoreError> {
                Oid::from_str(text)
                    .ok()
                    .filter(|_| text.len() == 40)
                    .map(|oid| Self(oid.to_string()))
                    .ok_or_else(|| StoreError::BadId {
                        id: text.to_owned(),
                    })
            }

            /// The id as 40 lowercase hex characters.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            fn oid(&self) -> Result<Oid, StoreError> {
                Oid::from_str(&self.0).map_err(|_| StoreError::BadId { id: self.0.clone() })
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
object_id!(TreeId);
object_id!(CommitId);

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store repository could not be opened or created.
    #[error("cannot open the version store {path}: {message}")]
    Open { path: PathBuf, message: String },
    /// A git operation inside the store failed.
    #[error("version store: cannot {action}: {message}")]
    Git {
        action: &'static str,
        message: String,
    },
    /// The artifact on disk could not be read.
    #[error(transparent)]
    Read(#[from] HashError),
    /// An id that is not 40 hex characters, or names no object of the right kind.
    #[error("version store: `{id}` is not a known object id")]
    BadId { id: String },
    /// Writing an exported version failed.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl StoreError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Read(e) => e.kind(),
            Self::Open { .. } | Self::Git { .. } | Self::BadId { .. } | Self::Io(_) => {
                ErrorKind::Internal
            }
        }
    }
}

fn git(action: &'static str) -> impl FnOnce(git2::Error) -> StoreError {
    move |e| StoreError::Git {
        action,
        message: e.message().to_owned(),
    }
}

/// A version stored as a tree, with the content hash computed from the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTree {
    /// The git tree holding the version's files, in `store.git`.
    pub tree: TreeId,
    /// The artifact's `v1` content hash.
    pub content_hash: ContentHash,
}

/// The bare repository holding every version. Cheap to clone; opens the repository per call,
/// so it can be shared across threads.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// Opens the store at `path`, creating a bare repository there if there is none.
    pub fn open_or_init(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        let open_err = |e: git2::Error| StoreError::Open {
            path: path.clone(),
            message: e.message().to_owned(),
        };
        match Repository::open_bare(&path) {
            Ok(_) => {}
            Err(e) if e.code() == git2::ErrorCode::NotFound && !path.exists() => {
                Repository::init_bare(&path).map_err(open_err)?;
            }
            Err(e) => return Err(open_err(e)),
        }
        Ok(Self { path })
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn repo(&self) -> Result<Repository, StoreError> {
        Repository::open_bare(&self.path).map_err(|e| StoreError::Open {
            path: self.path.clone(),
            message: e.message().to_owned(),
        })
    }

    /// Stores the artifact at `root` (a skill folder, or a command's or agent's file) as a tree.
    /// Each file is read once, for both the blob and the content hash, so the two always agree.
    pub fn write_tree(&self, root: &Path) -> Result<StoredTree, StoreError> {
        let repo = self.repo()?;
        let mut index = git2::Index::new().map_err(git("create an index"))?;
        let mut digests = Vec::new();
        for (rel, path) in hash::list_files(root)? {
            let meta = fs::symlink_metadata(&path)
                .context("read", &path)
                .map_err(HashError::from)?;
            let content = fs::read(&path)
                .context("read", &path)
                .map_err(HashError::from)?;
            let executable = hash::is_executable_file(&meta);
            let blob = repo.blob(&content).map_err(git("write a blob"))?;
            index
                .add(&index_entry(&rel, blob, executable, content.len()))
                .map_err(git("add a file to the tree"))?;
            digests.push(hash::digest_bytes(rel, executable, &content));
        }
        let tree = index.write_tree_to(&repo).map_err(git("write the tree"))?;
        Ok(StoredTree {
            tree: TreeId(tree.to_string()),
            content_hash: hash::tree_hash(&digests),
        })
    }

    /// Records a version's place in the lineage: a commit of `tree` whose parents are the
    /// commits of the versions it came from, kept reachable by its own ref.
    pub fn commit(
        &self,
        tree: &TreeId,
        parents: &[CommitId],
        message: &str,
        when: SystemTime,
    ) -> Result<CommitId, StoreError> {
        let repo = self.repo()?;
        let tree = repo
            .find_tree(tree.oid()?)
            .map_err(|_| StoreError::BadId { id: tree.0.clone() })?;
        let parents = parents
            .iter()
            .map(|p| {
                repo.find_commit(p.oid()?)
                    .map_err(|_| StoreError::BadId { id: p.0.clone() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let seconds = when
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let signature = Signature::new("SkillMeat", "skillmeat@localhost", &Time::new(seconds, 0))
            .map_err(git("make a signature"))?;
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let oid = repo
            .commit(None, &signature, &signature, message, &tree, &parent_refs)
            .map_err(git("write a commit"))?;
        repo.reference(&format!("refs/keep/{oid}"), oid, true, "keep version")
            .map_err(git("keep the commit"))?;
        Ok(CommitId(oid.to_string()))
    }

    /// The tree of a stored commit.
    pub fn tree_of(&self, commit: &CommitId) -> Result<TreeId, StoreError> {
        let repo = self.repo()?;
        let found = repo
            .find_commit(commit.oid()?)
            .map_err(|_| StoreError::BadId {
                id: commit.0.clone(),
            })?;
        Ok(TreeId(found.tree_id().to_string()))
    }

    /// The files of a stored version.
    pub fn read_tree(&self, tree: &TreeId) -> Result<ArtifactFiles, StoreError> {
        let repo = self.repo()?;
        let tree = repo
            .find_tree(tree.oid()?)
            .map_err(|_| StoreError::BadId { id: tree.0.clone() })?;
        let mut entries = Vec::new();
        let mut bad = None;
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob) {
                let name = entry.name().unwrap_or_default();
                entries.push((format!("{dir}{name}"), entry.id(), entry.filemode()));
            } else if entry.kind() != Some(ObjectType::Tree) {
                bad = Some(entry.id().to_string());
                return TreeWalkResult::Abort;
            }
            TreeWalkResult::Ok
        })
        .map_err(git("read the tree"))?;
        if let Some(id) = bad {
            return Err(StoreError::BadId { id });
        }
        let mut files = ArtifactFiles::default();
        for (path, blob, mode) in entries {
            let blob = repo.find_blob(blob).map_err(|_| StoreError::BadId {
                id: blob.to_string(),
            })?;
            files.files.insert(
                path,
                FileContent {
                    bytes: blob.content().to_vec(),
                    executable: mode == 0o100_755,
                },
            );
        }
        Ok(files)
    }

    /// Writes a stored version to `dest`, which must not exist: a folder for a skill
    /// (`as_folder`), else the single file the tree holds.
    pub fn export(&self, tree: &TreeId, dest: &Path, as_folder: bool) -> Result<(), StoreError> {
        self.read_tree(tree)?
            .write_to(dest, as_folder)
            .context("write", dest)?;
        Ok(())
    }
}

fn index_entry(rel: &str, blob: Oid, executable: bool, size: usize) -> git2::IndexEntry {
    let zero = git2::IndexTime::new(0, 0);
    git2::IndexEntry {
        ctime: zero,
        mtime: zero,
        dev: 0,
        ino: 0,
        mode: if executable { 0o100_755 } else { 0o100_644 },
        uid: 0,
        gid: 0,
        file_size: u32::try_from(size).unwrap_or(u32::MAX),
        id: blob,
        // The low 12 bits hold the path length, capped as git does.
        flags: u16::try_from(rel.len().min(0xfff)).unwrap_or(0xfff),
        flags_extended: 0,
        path: rel.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_init(dir.path().join("store.git")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_folder_round_trips_with_its_hash_and_exec_bits() {
        let (dir, store) = store();
        let skill = dir.path().join("pdf");
        fs::create_dir_all(skill.join("scripts")).unwrap();
        fs::write(skill.join("SKILL.md"), "---\nname: pdf\n---\n").unwrap();
        fs::write(skill.join("scripts/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(
                skill.join("scripts/run.sh"),
                fs::Permissions::from_mode(0o755),
            )
            .unwrap();
        }
        let stored = store.write_tree(&skill).unwrap();
        assert_eq!(stored.content_hash, hash::hash_path(&skill).unwrap());

        let out = dir.path().join("out");
        store.export(&stored.tree, &out, true).unwrap();
        assert_eq!(hash::hash_path(&out).unwrap(), stored.content_hash);
    }

    #[test]
    fn a_single_file_round_trips_and_identical_content_shares_a_tree() {
        let (dir, store) = store();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        fs::write(a.join("fix.md"), "fix it\n").unwrap();
        fs::write(b.join("fix.md"), "fix it\n").unwrap();
        let first = store.write_tree(&a.join("fix.md")).unwrap();
        let second = store.write_tree(&b.join("fix.md")).unwrap();
        assert_eq!(first, second);

        let out = dir.path().join("fix.md");
        store.export(&first.tree, &out, false).unwrap();
        assert_eq!(fs::read_to_string(&out).unwrap(), "fix it\n");
        assert_eq!(hash::hash_path(&out).unwrap(), first.content_hash);
    }

    #[test]
    fn commits_keep_their_parents_and_stay_reachable() {
        let (dir, store) = store();
        let f = dir.path().join("x.md");
        fs::write(&f, "one\n").unwrap();
        let t1 = store.write_tree(&f).unwrap().tree;
        fs::write(&f, "two\n").unwrap();
        let t2 = store.write_tree(&f).unwrap().tree;
        let c1 = store.commit(&t1, &[], "one", UNIX_EPOCH).unwrap();
        let c2 = store
            .commit(&t2, std::slice::from_ref(&c1), "two", UNIX_EPOCH)
            .unwrap();
        assert_eq!(store.tree_of(&c2).unwrap(), t2);

        let repo = Repository::open_bare(store.path()).unwrap();
        let commit = repo
            .find_commit(Oid::from_str(c2.as_str()).unwrap())
            .unwrap();
        assert_eq!(
            commit
                .parent_ids()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            [c1.as_str()]
        );
        assert!(repo.find_reference(&format!("refs/keep/{c1}")).is_ok());
        assert!(matches!(
            store.commit(&t1, &[CommitId("0".repeat(40))], "x", UNIX_EPOCH),
            Err(StoreError::BadId { .. })
        ));
    }
}
