//! Content hashes: the version id of an artifact.
//!
//! # The `v1` encoding (the spec)
//!
//! An artifact is a *tree*: the regular files below its folder (a skill), or one file (a command
//! or an agent, whose tree holds that file under its own name, e.g. `fix.md`). Its content hash
//! is SHA-256 over this byte string:
//!
//! ```text
//! "skillmeat-content-v1\n"                       21 bytes, a domain separator
//! u64 BE  number of files
//! for each file, ordered by the bytes of its path:
//!   u32 BE  length of path in bytes
//!   path                                         relative, `/`-separated, UTF-8; no empty,
//!                                                `.` or `..` components
//!   u8      mode                                 0 = regular, 1 = executable (owner x bit)
//!   u64 BE  length of the content in bytes
//!   [u8;32] SHA-256 of the content
//! ```
//!
//! Every variable-length field is length-prefixed, so no two different trees share an encoding
//! (`a`+`bc` and `ab`+`c` differ). Each file's content enters through its own SHA-256, which lets
//! the drift stat cache reuse a file's digest without reading it again. Empty folders are not
//! part of the tree (as in git). Hex form: 64 lowercase characters; short form: the first 12.
//!
//! Not part of any tree: [`IGNORED_NAMES`] (VCS folders, OS litter, Python bytecode).
//! Symlinks are refused with [`HashError::Symlink`] rather than followed, so hashing never
//! reads outside the artifact; so are sockets, FIFOs and devices.
//!
//! # The `legacy` encoding
//!
//! What the Python original wrote into old deployment records, reproduced exactly so they still
//! compare: a single file hashes as SHA-256 of its bytes; a folder as SHA-256 over, for every
//! file in Python's `sorted(path.rglob("*"))` order (component by component), the relative path
//! (UTF-8, `/`-separated) followed by the file's bytes, with no framing and no mode. It is
//! ambiguous and only ever used to read old records, never to write new ones.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::error::{ErrorKind, IoResultExt as _, PathError};

/// The domain separator that starts every `v1` encoding.
pub const V1_MAGIC: &[u8] = b"skillmeat-content-v1\n";

/// File and folder names that are never part of an artifact's tree.
pub const IGNORED_NAMES: &[&str] = &[".git", ".DS_Store", "Thumbs.db", "__pycache__"];

/// File name suffixes that are never part of an artifact's tree.
pub const IGNORED_SUFFIXES: &[&str] = &[".pyc", ".pyo"];

/// Which algorithm produced a hash. Records carry it so old hashes compare correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// The framed encoding of this module's spec. Everything new is hashed with it.
    #[default]
    V1,
    /// The Python original's unframed encoding, for reading old records only.
    Legacy,
}

/// A SHA-256 content hash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes of the SHA-256 digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    /// The first 12 hex characters, for display.
    pub fn short(&self) -> String {
        short(&self.to_hex()).to_owned()
    }
}

/// A hash or commit id in hex text (from records, the database or git) as SkillMeat displays it:
/// its first 12 characters. Never panics: a shorter or odd value is shown whole.
pub fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.short())
    }
}

/// A string that is not a 64-character hex hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a content hash: expected 64 hex characters")]
pub struct ParseHashError {
    /// What was given.
    pub given: String,
}

impl FromStr for ContentHash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseHashError {
            given: s.to_owned(),
        };
        if s.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(err)?;
            let lo = hex_val(pair[1]).ok_or_else(err)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One file of a tree, with its content digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Relative, `/`-separated path.
    pub path: String,
    /// Whether the owner's execute bit is set.
    pub executable: bool,
    /// Content length in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub digest: ContentHash,
}

/// Why a tree could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// A symlink inside the artifact. Links are never followed; the artifact must not hold one.
    #[error("{path} is a symlink; artifacts may not contain symlinks (replace it with the file)")]
    Symlink { path: PathBuf },
    /// A socket, FIFO or device inside the artifact.
    #[error("{path} is not a regular file or folder")]
    SpecialFile { path: PathBuf },
    /// A path that is not UTF-8, which the encoding cannot represent.
    #[error("{path} has a name that is not valid UTF-8")]
    NonUtf8Path { path: PathBuf },
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl HashError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Symlink { .. } | Self::SpecialFile { .. } | Self::NonUtf8Path { .. } => {
                ErrorKind::UnreadableCopy
            }
            Self::Io(_) => ErrorKind::Internal,
        }
    }
}

/// The files of a tree on disk: `root` is a folder (skill) or a single file (command, agent).
///
/// Paths are relative and `/`-separated, ordered by their bytes; ignored names are left out.
/// Symlinks (including `root` itself) and special files are errors.
pub fn list_files(root: &Path) -> Result<Vec<(String, PathBuf)>, HashError> {
    collect_files(root, true)
}

/// A tree as one walk found it: its files with their metadata (read relative to the open
/// folder while walking: `fstatat` on Linux, no second lookup of the whole path), sorted by
/// path, and its folders with theirs, the root first as `""`. Each folder was stat'ed before
/// it was listed, so a change to its entries made after the stat changes its mtime.
#[derive(Debug, Default)]
pub struct WalkedTree {
    pub files: Vec<(String, PathBuf, fs::Metadata)>,
    pub dirs: Vec<(String, fs::Metadata)>,
}

/// The [`WalkedTree`] of a `root` already stat'ed (not following a symlink) as `meta`. A file
/// `root` is one file with the metadata `root` was found with, and no folder.
/// Symlinks (including `root` itself) and special files are errors.
pub fn walk_found(root: &Path, meta: fs::Metadata) -> Result<WalkedTree, HashError> {
    if meta.file_type().is_symlink() {
        return Err(HashError::Symlink {
            path: root.to_owned(),
        });
    }
    if meta.is_file() {
        return Ok(WalkedTree {
            files: vec![(utf8_name(root)?, root.to_owned(), meta)],
            dirs: Vec::new(),
        });
    }
    if !meta.is_dir() {
        return Err(HashError::SpecialFile {
            path: root.to_owned(),
        });
    }
    let mut out = WalkedTree {
        files: Vec::new(),
        dirs: vec![(String::new(), meta)],
    };
    walk_with_meta(root, "", &mut out)?;
    out.files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(out)
}

fn walk_with_meta(dir: &Path, prefix: &str, out: &mut WalkedTree) -> Result<(), HashError> {
    for entry in fs::read_dir(dir).context("read", dir)? {
        let entry = entry.context("read", dir)?;
        let path = entry.path();
        let name = utf8_name(&path)?;
        if is_ignored(&name) {
            continue;
        }
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        // The type as the directory listing gives it (no stat; std stats when the file
        // system does not say), never following a symlink: a link is seen as one.
        let file_type = entry.file_type().context("read", &path)?;
        if file_type.is_symlink() {
            return Err(HashError::Symlink { path });
        }
        if !file_type.is_dir() && !file_type.is_file() {
            return Err(HashError::SpecialFile { path });
        }
        let meta = entry.metadata().context("read", &path)?;
        // Replaced by something else between the listing and the stat: not what it was.
        if meta.file_type().is_symlink() {
            return Err(HashError::Symlink { path });
        }
        if file_type.is_dir() && meta.is_dir() {
            out.dirs.push((rel.clone(), meta));
            walk_with_meta(&path, &rel, out)?;
        } else if file_type.is_file() && meta.is_file() {
            out.files.push((rel, path, meta));
        } else {
            return Err(HashError::SpecialFile { path });
        }
    }
    Ok(())
}

fn collect_files(root: &Path, skip_ignored: bool) -> Result<Vec<(String, PathBuf)>, HashError> {
    let meta = symlink_meta(root)?;
    let mut out = Vec::new();
    if meta.file_type().is_symlink() {
        return Err(HashError::Symlink {
            path: root.to_owned(),
        });
    }
    if meta.is_file() {
        let name = utf8_name(root)?;
        out.push((name, root.to_owned()));
        return Ok(out);
    }
    if !meta.is_dir() {
        return Err(HashError::SpecialFile {
            path: root.to_owned(),
        });
    }
    walk(root, "", skip_ignored, &mut out)?;
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    skip_ignored: bool,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), HashError> {
    for entry in fs::read_dir(dir).context("read", dir)? {
        let entry = entry.context("read", dir)?;
        let path = entry.path();
        let name = utf8_name(&path)?;
        if skip_ignored && is_ignored(&name) {
            continue;
        }
        let file_type = entry.file_type().context("read", &path)?;
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if file_type.is_symlink() {
            return Err(HashError::Symlink { path });
        } else if file_type.is_dir() {
            walk(&path, &rel, skip_ignored, out)?;
        } else if file_type.is_file() {
            out.push((rel, path));
        } else {
            return Err(HashError::SpecialFile { path });
        }
    }
    Ok(())
}

/// Whether a file or folder name is left out of every tree.
pub fn is_ignored(name: &str) -> bool {
    IGNORED_NAMES.contains(&name) || IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

fn utf8_name(path: &Path) -> Result<String, HashError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| HashError::NonUtf8Path {
            path: path.to_owned(),
        })
}

fn symlink_meta(path: &Path) -> Result<fs::Metadata, HashError> {
    Ok(fs::symlink_metadata(path).context("read", path)?)
}

/// Hashes one file's content and reads its mode. Refuses a symlink.
pub fn digest_file(rel: String, path: &Path) -> Result<FileDigest, HashError> {
    let meta = symlink_meta(path)?;
    if meta.file_type().is_symlink() {
        return Err(HashError::Symlink {
            path: path.to_owned(),
        });
    }
    let mut file = fs::File::open(path).context("read", path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).context("read", path)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(FileDigest {
        path: rel,
        executable: is_executable(&meta),
        size,
        digest: ContentHash(hasher.finalize().into()),
    })
}

/// The digest of a file whose content is already in memory.
pub fn digest_bytes(rel: String, executable: bool, content: &[u8]) -> FileDigest {
    FileDigest {
        path: rel,
        executable,
        size: content.len() as u64,
        digest: ContentHash(Sha256::digest(content).into()),
    }
}

/// Whether the file's owner execute bit is set (always false off Unix).
pub fn is_executable_file(meta: &fs::Metadata) -> bool {
    is_executable(meta)
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// The `v1` hash of a tree given its files' digests, in any order (they are sorted here).
///
/// Panics never; duplicate paths are the caller's bug and simply hash as given.
pub fn tree_hash(files: &[FileDigest]) -> ContentHash {
    let mut sorted: Vec<&FileDigest> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut h = TreeHasher::new(sorted.len());
    for f in sorted {
        h.add(&f.path, f.executable, f.size, &f.digest);
    }
    h.finish()
}

/// [`tree_hash`] fed one file at a time, for a caller that already has the files sorted by
/// path (bytewise) and knows how many there are.
pub struct TreeHasher(Sha256);

impl TreeHasher {
    pub fn new(count: usize) -> Self {
        let mut h = Sha256::new();
        h.update(V1_MAGIC);
        h.update((count as u64).to_be_bytes());
        Self(h)
    }

    /// The next file, in path order.
    pub fn add(&mut self, path: &str, executable: bool, size: u64, digest: &ContentHash) {
        // Paths are file-system names: far below u32::MAX bytes.
        let len = u32::try_from(path.len()).unwrap_or(u32::MAX);
        self.0.update(len.to_be_bytes());
        self.0.update(path.as_bytes());
        self.0.update([u8::from(executable)]);
        self.0.update(size.to_be_bytes());
        self.0.update(digest.0);
    }

    pub fn finish(self) -> ContentHash {
        ContentHash(self.0.finalize().into())
    }
}

/// Hashes the artifact at `root` (folder or single file) with the `v1` encoding.
pub fn hash_path(root: &Path) -> Result<ContentHash, HashError> {
    let files = list_files(root)?
        .into_iter()
        .map(|(rel, path)| digest_file(rel, &path))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(tree_hash(&files))
}

/// Hashes the artifact at `root` with the Python original's `legacy` encoding.
pub fn legacy_hash_path(root: &Path) -> Result<ContentHash, HashError> {
    let meta = symlink_meta(root)?;
    let mut h = Sha256::new();
    let read =
        |path: &Path| -> Result<Vec<u8>, HashError> { Ok(fs::read(path).context("read", path)?) };
    if meta.file_type().is_symlink() {
        return Err(HashError::Symlink {
            path: root.to_owned(),
        });
    } else if meta.is_file() {
        h.update(read(root)?);
    } else {
        // The original hashed everything rglob found, VCS folders and bytecode included.
        let mut files = collect_files(root, false)?;
        // Python compares paths component by component, not as whole strings ("a/b" < "a-b/x").
        files.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
        for (rel, path) in files {
            h.update(rel.as_bytes());
            h.update(read(&path)?);
        }
    }
    Ok(ContentHash(h.finalize().into()))
}

/// Hashes `root` with `algorithm`.
pub fn hash_with(algorithm: HashAlgorithm, root: &Path) -> Result<ContentHash, HashError> {
    match algorithm {
        HashAlgorithm::V1 => hash_path(root),
        HashAlgorithm::Legacy => legacy_hash_path(root),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, executable: bool, content: &[u8]) -> FileDigest {
        FileDigest {
            path: path.to_owned(),
            executable,
            size: content.len() as u64,
            digest: ContentHash(Sha256::digest(content).into()),
        }
    }

    fn hex(files: &[FileDigest]) -> String {
        tree_hash(files).to_hex()
    }

    // Golden values computed by an independent implementation of the spec above (Python's
    // hashlib + struct). Changing any of them changes every stored version id: don't.
    #[test]
    fn v1_golden_values() {
        assert_eq!(
            hex(&[]),
            "1cb243517ea2c7047148a19a468c00053a002913a54a71b583441669c53f512b"
        );
        assert_eq!(
            hex(&[file("SKILL.md", false, b"# Hello\n")]),
            "5e0e25e66bf2fe001d096fd85ee7a376a2cfdc23f0bf6cffbfe4cb116c22f0e4"
        );
        assert_eq!(
            hex(&[file("fix.md", false, b"Fix it.\n")]),
            "3ff7d9326dc04528380a6761baf0be3a98a2a3c694ffc7616afe5fc83634c8de"
        );
        assert_eq!(
            hex(&[
                file("scripts/a.py", true, b"print(1)\n"),
                file("a-b", false, b""),
                file("SKILL.md", false, b"x"),
            ]),
            "1d48966a2ebbd6a891cb9495c719f36af47957396822f9a8e167d3ff65a5a78d"
        );
    }

    #[test]
    fn v1_frames_path_and_content_boundaries() {
        let a_bc = hex(&[file("a", false, b"bc")]);
        let ab_c = hex(&[file("ab", false, b"c")]);
        assert_eq!(
            a_bc,
            "9312918053d7ac3396f06d4c6c6ff486b5d1460faacbf226754075132a03fc79"
        );
        assert_eq!(
            ab_c,
            "416a9693b55e59fe8e08acb09a4852099563a053c151abccf3e883259315fc82"
        );
        assert_ne!(a_bc, ab_c);
    }

    #[test]
    fn v1_includes_the_exec_bit() {
        let exec = hex(&[file("run.sh", true, b"#!/bin/sh\n")]);
        let plain = hex(&[file("run.sh", false, b"#!/bin/sh\n")]);
        assert_eq!(
            exec,
            "7d037d7c8049fb47905addf57130ef22fa794906407037c56293b731f7b1a45c"
        );
        assert_eq!(
            plain,
            "9f61db467b0ef9b5b310712d6e4cf445b01ef20b1286788d971effa2b35cd731"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let h = tree_hash(&[]);
        assert_eq!(h.to_hex().parse::<ContentHash>().unwrap(), h);
        assert_eq!(h.to_hex().to_uppercase().parse::<ContentHash>().unwrap(), h);
        assert_eq!(h.short(), "1cb243517ea2");
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
            assert!(bad.parse::<ContentHash>().is_err(), "{bad}");
        }
    }
}
