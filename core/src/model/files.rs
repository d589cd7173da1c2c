//! An artifact version in memory: its files by relative path, with content and exec bit.
//!
//! This is what diffs and merges work on. It is read from disk ([`ArtifactFiles::read`]) or
//! from the [`store`](crate::storage::store), and written out to a staging location
//! ([`ArtifactFiles::write_to`]) before being renamed into place. A command's or agent's
//! version holds exactly one file, under its own name (`fix.md`), as in [`hash`](crate::model::hash).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::model::error::IoResultExt as _;
use crate::model::hash::{self, ContentHash, HashError};

/// One file of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContent {
    /// The file's content, exactly as read or to be written.
    pub bytes: Vec<u8>,
    /// Whether the owner execute bit is set.
    pub executable: bool,
}

impl FileContent {
    /// A non-executable file.
    pub fn text(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            executable: false,
        }
    }
}

/// The files of one version, keyed by relative `/`-separated path (ordered by bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactFiles {
    /// Path → content.
    pub files: BTreeMap<String, FileContent>,
}

impl ArtifactFiles {
    /// Reads the artifact at `root` (a skill folder, or a command's or agent's file), with the
    /// same rules as hashing: ignored names left out, symlinks and special files refused.
    pub fn read(root: &Path) -> Result<Self, HashError> {
        let mut files = BTreeMap::new();
        for (rel, path) in hash::list_files(root)? {
            let meta = fs::symlink_metadata(&path).context("read", &path)?;
            let bytes = fs::read(&path).context("read", &path)?;
            files.insert(
                rel,
                FileContent {
                    bytes,
                    executable: hash::is_executable_file(&meta),
                },
            );
        }
        Ok(Self { files })
    }

    /// The `v1` content hash of these files, exactly as [`hash::hash_path`] would give on disk.
    pub fn content_hash(&self) -> ContentHash {
        let digests: Vec<_> = self
            .files
            .iter()
            .map(|(path, f)| hash::digest_bytes(path.clone(), f.executable, &f.bytes))
            .collect();
        hash::tree_hash(&digests)
    }

    /// Total size of all files in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.values().map(|f| f.bytes.len() as u64).sum()
    }

    /// Writes the files to `dest`, which must not exist: as a folder (`as_folder`, skills), or
    /// as the single file this version holds. Files are fsynced; the caller renames `dest`
    /// into place and syncs the parent folder.
    pub fn write_to(&self, dest: &Path, as_folder: bool) -> io::Result<()> {
        if !as_folder {
            let mut iter = self.files.values();
            let (Some(only), None) = (iter.next(), iter.next()) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a single-file artifact must have exactly one file, this version has {}",
                        self.files.len()
                    ),
                ));
            };
            return write_file(dest, only);
        }
        fs::create_dir(dest)?;
        for (rel, content) in &self.files {
            let path = dest.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            write_file(&path, content)?;
        }
        Ok(())
    }
}

fn write_file(path: &Path, content: &FileContent) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(&content.bytes)?;
    #[cfg(unix)]
    if content.executable {
        use std::os::unix::fs::PermissionsExt;
        let mut perms = file.metadata()?.permissions();
        perms.set_mode(perms.mode() | 0o111);
        file.set_permissions(perms)?;
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_and_writing_keeps_the_content_hash() {
        let dir = tempfile::tempdir().unwrap();
        let skill = dir.path().join("s");
        fs::create_dir_all(skill.join("a")).unwrap();
        fs::write(skill.join("SKILL.md"), "x").unwrap();
        fs::write(skill.join("a/run.sh"), "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(skill.join("a/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let files = ArtifactFiles::read(&skill).unwrap();
        assert_eq!(files.content_hash(), hash::hash_path(&skill).unwrap());
        let out = dir.path().join("out");
        files.write_to(&out, true).unwrap();
        assert_eq!(hash::hash_path(&out).unwrap(), files.content_hash());

        let one = ArtifactFiles::read(&skill.join("SKILL.md")).unwrap();
        assert!(one.write_to(&dir.path().join("x.md"), false).is_ok());
        assert!(files.write_to(&dir.path().join("y.md"), false).is_err());
    }
}
