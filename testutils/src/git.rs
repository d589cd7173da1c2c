//! Real git repositories in temporary directories, built through git2 with a fixed author and
//! no dependence on the user's git configuration.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature, Time};
use tempfile::TempDir;

/// A non-bare repository with branch `main`, removed on drop.
pub struct GitRepo {
    dir: TempDir,
    repo: Repository,
    tick: std::cell::Cell<i64>,
}

impl std::fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRepo")
            .field("path", &self.dir.path())
            .finish()
    }
}

impl GitRepo {
    /// An empty repository whose initial branch is `main`.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("skillmeat-upstream-")
            .tempdir()
            .expect("temp dir");
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
        Self {
            dir,
            repo,
            tick: std::cell::Cell::new(1_700_000_000),
        }
    }

    /// The work tree's path (also what to fetch from).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating folders), mode 0644.
    pub fn write(&self, rel: &str, content: &str) -> &Self {
        self.write_mode(rel, content.as_bytes(), 0o644)
    }

    /// Writes an executable file, mode 0755.
    pub fn write_exec(&self, rel: &str, content: &str) -> &Self {
        self.write_mode(rel, content.as_bytes(), 0o755)
    }

    /// Writes raw bytes with a mode.
    pub fn write_mode(&self, rel: &str, content: &[u8], mode: u32) -> &Self {
        let path = self.dir.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, content).expect("write");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        self
    }

    /// Creates a symlink at `rel` pointing to `target`.
    pub fn symlink(&self, rel: &str, target: &str) -> &Self {
        let path = self.dir.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, path).expect("symlink");
        self
    }

    /// Removes a file or folder.
    pub fn remove(&self, rel: &str) -> &Self {
        let path: PathBuf = self.dir.path().join(rel);
        if path.is_dir() {
            fs::remove_dir_all(path).expect("rm -r");
        } else {
            fs::remove_file(path).expect("rm");
        }
        self
    }

    /// Commits everything in the work tree (additions, edits, deletions); returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"], None).expect("update");
        index.write().expect("index write");
        self.commit_tree(message, index.write_tree().expect("write tree"))
    }

    /// Commits `tree` on top of HEAD, one tick after the previous commit.
    fn commit_tree(&self, message: &str, tree: git2::Oid) -> String {
        let tree = self.repo.find_tree(tree).expect("tree");
        let t = self.tick.get() + 60;
        self.tick.set(t);
        let sig = Signature::new("SkillMeat Test", "test@example.invalid", &Time::new(t, 0))
            .expect("sig");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self
            .repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit");
        id.to_string()
    }

    /// Creates a lightweight tag at HEAD.
    pub fn tag(&self, name: &str) -> &Self {
        let head = self
            .repo
            .head()
            .expect("head")
            .peel_to_commit()
            .expect("commit");
        self.repo
            .tag_lightweight(name, head.as_object(), true)
            .expect("tag");
        self
    }

    /// Creates an annotated tag at HEAD.
    pub fn tag_annotated(&self, name: &str) -> &Self {
        let head = self
            .repo
            .head()
            .expect("head")
            .peel_to_commit()
            .expect("commit");
        let sig = Signature::new(
            "SkillMeat Test",
            "test@example.invalid",
            &Time::new(self.tick.get(), 0),
        )
        .expect("sig");
        self.repo
            .tag(name, head.as_object(), &sig, name, true)
            .expect("tag");
        self
    }

    /// Creates (or moves) branch `name` at HEAD, without switching to it.
    pub fn branch(&self, name: &str) -> &Self {
        let head = self
            .repo
            .head()
            .expect("head")
            .peel_to_commit()
            .expect("commit");
        self.repo.branch(name, &head, true).expect("branch");
        self
    }
}

/// A tree entry written as raw bytes, for trees that git's own porcelain refuses to make.
#[derive(Debug, Clone)]
pub struct RawEntry {
    /// The entry name, any bytes (`..`, `a/b`, `.git`, NUL…).
    pub name: Vec<u8>,
    /// What the entry holds.
    pub kind: RawKind,
}

/// What a [`RawEntry`] holds.
#[derive(Debug, Clone)]
pub enum RawKind {
    /// A regular file (mode 100644) with this content.
    File(Vec<u8>),
    /// A folder (mode 40000).
    Dir(Vec<RawEntry>),
}

impl RawEntry {
    /// A file entry.
    pub fn file(name: impl AsRef<[u8]>, content: impl AsRef<[u8]>) -> Self {
        Self {
            name: name.as_ref().to_vec(),
            kind: RawKind::File(content.as_ref().to_vec()),
        }
    }

    /// A folder entry.
    pub fn dir(name: impl AsRef<[u8]>, entries: Vec<RawEntry>) -> Self {
        Self {
            name: name.as_ref().to_vec(),
            kind: RawKind::Dir(entries),
        }
    }
}

impl GitRepo {
    /// Commits the work tree with the folder at `at` (e.g. `skills/evil`) replaced by a tree
    /// written byte for byte from `entries`, as `git hash-object -t tree --literally -w` writes
    /// it: no name is checked. Returns the commit id.
    pub fn commit_raw_tree(&self, message: &str, at: &str, entries: &[RawEntry]) -> String {
        let raw = self.write_raw_tree(entries);
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"], None).expect("update");
        let base = index.write_tree().expect("write tree");
        let parts: Vec<&str> = at.split('/').collect();
        // Only the ref moves: the work tree cannot hold this tree.
        self.commit_tree(message, self.replace_at(Some(base), &parts, raw))
    }

    fn write_raw_tree(&self, entries: &[RawEntry]) -> git2::Oid {
        let odb = self.repo.odb().expect("odb");
        let mut bytes = Vec::new();
        for entry in entries {
            let (mode, oid) = match &entry.kind {
                RawKind::File(content) => (
                    "100644",
                    odb.write(git2::ObjectType::Blob, content).expect("blob"),
                ),
                RawKind::Dir(children) => ("40000", self.write_raw_tree(children)),
            };
            bytes.extend_from_slice(mode.as_bytes());
            bytes.push(b' ');
            bytes.extend_from_slice(&entry.name);
            bytes.push(0);
            bytes.extend_from_slice(oid.as_bytes());
        }
        odb.write(git2::ObjectType::Tree, &bytes).expect("raw tree")
    }

    /// `tree` with the entry at `parts` set to the tree `leaf` (folders made as needed).
    fn replace_at(&self, tree: Option<git2::Oid>, parts: &[&str], leaf: git2::Oid) -> git2::Oid {
        let Some((first, rest)) = parts.split_first() else {
            return leaf;
        };
        let existing = tree.map(|t| self.repo.find_tree(t).expect("tree"));
        let mut builder = self
            .repo
            .treebuilder(existing.as_ref())
            .expect("treebuilder");
        let child = existing
            .as_ref()
            .and_then(|t| t.get_name(first).map(|e| e.id()))
            .filter(|_| !rest.is_empty());
        let sub = self.replace_at(child, rest, leaf);
        builder.insert(first, sub, 0o040000).expect("insert");
        builder.write().expect("write tree")
    }
}

impl Default for GitRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// Clones the shared fixture bundle (tags v1–v4 of real skills) into a temp dir with the `git`
/// CLI (libgit2 cannot read bundles). `None`, after saying so on stderr, when the bundle or git
/// is absent: callers skip their test then.
pub fn fixture_upstream() -> Option<TempDir> {
    let Some(bundle) = crate::fixture_bundle() else {
        eprintln!(
            "SKIPPED: ../shared/fixtures/upstream-skills.bundle not found (set SKILLMEAT_FIXTURES)"
        );
        return None;
    };
    let dir = tempfile::Builder::new()
        .prefix("skillmeat-fixture-")
        .tempdir()
        .expect("temp dir");
    let status = std::process::Command::new("git")
        .args(["clone", "--quiet", "--no-checkout"])
        .arg(&bundle)
        .arg(dir.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status();
    match status {
        Ok(s) if s.success() => Some(dir),
        other => {
            eprintln!("SKIPPED: git clone of the fixture bundle failed: {other:?}");
            None
        }
    }
}
