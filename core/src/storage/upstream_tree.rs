//! What an upstream tree may bring into an artifact: entry names, kinds and sizes.
//!
//! Everything in an upstream repository is hostile until checked. Git trees can hold entries
//! that `git checkout` itself refuses to write — `..`, `a/b`, `.git`, names with NUL or control
//! characters — because `git fsck` only warns about them and clone and fetch pass them on
//! (`git hash-object --literally` makes them). [`fetch`](crate::storage::fetch) runs every entry of an
//! artifact's tree through [`check_name`] and its sizes through [`Limits`] *before* writing a
//! single byte, so an artifact with one bad entry is refused as a whole.
//!
//! The name rules follow git's own `verify_path` (read-cache.c) with its HFS and NTFS
//! protections switched on, as git does by default on those systems: SkillMeat's users share
//! collections between Linux and macOS, and a name that is harmless on one is `.git` on the
//! other.

/// Why a tree entry name is refused; the text completes "the entry `NAME` is …".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadName {
    #[error("empty")]
    Empty,
    #[error("`.` or `..`, a path out of its folder")]
    Dots,
    #[error("not a single name (it holds `/` or `\\`)")]
    Separator,
    #[error("a name with NUL or a control character")]
    Control,
    #[error(
        "`.git` (or a name that `.git` is on macOS or Windows); a repository inside an artifact could run code"
    )]
    DotGit,
}

/// Checks one tree entry name (one path component, as stored in a git tree).
pub fn check_name(name: &str) -> Result<(), BadName> {
    if name.is_empty() {
        return Err(BadName::Empty);
    }
    if name == "." || name == ".." {
        return Err(BadName::Dots);
    }
    if name.contains('/') || name.contains('\\') {
        return Err(BadName::Separator);
    }
    // NUL would cut the name short in every C API below us; the other control characters
    // forge lines and colours when a name is printed to a terminal. No real skill needs one.
    if name.chars().any(char::is_control) {
        return Err(BadName::Control);
    }
    if is_dotgit(name) {
        return Err(BadName::DotGit);
    }
    Ok(())
}

/// Whether `name` is `.git` on some file system SkillMeat runs on: in any letter case; with
/// the code points HFS+ ignores (git's `is_hfs_dotgit`); with trailing spaces or dots, as an
/// NTFS alternate data stream (`.git::$INDEX_ALLOCATION`) or as the 8.3 short name `git~1`
/// (git's `is_ntfs_dotgit`).
pub fn is_dotgit(name: &str) -> bool {
    let visible: String = name
        .chars()
        .filter(|c| !is_hfs_ignorable(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let stream_cut = visible.split(':').next().unwrap_or_default();
    let trimmed = stream_cut.trim_end_matches([' ', '.']);
    trimmed == ".git" || trimmed == "git~1"
}

/// The code points HFS+ drops when it compares names (git's list in `utf8.c`).
fn is_hfs_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}'
    )
}

/// How much one artifact fetched from an upstream may hold. Checked from the object headers
/// before any content is read into memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file, in bytes.
    pub max_file_bytes: u64,
    /// Largest artifact (all its files together), in bytes.
    pub max_artifact_bytes: u64,
    /// Most files in one artifact.
    pub max_files: usize,
}

impl Limits {
    /// Default largest file: 16 MiB. The largest file of the anthropics/skills fixture is a
    /// 191 KB font; this leaves room for bundled binaries and data files.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 << 20;
    /// Default largest artifact: 64 MiB (the fixture's largest skill, canvas-design, is 5.6 MB).
    pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 64 << 20;
    /// Default most files: 10,000 (the fixture's largest skill has 81).
    pub const DEFAULT_MAX_FILES: usize = 10_000;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            max_artifact_bytes: Self::DEFAULT_MAX_ARTIFACT_BYTES,
            max_files: Self::DEFAULT_MAX_FILES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_refuses_these_and_so_do_we() {
        for (name, why) in [
            ("", BadName::Empty),
            (".", BadName::Dots),
            ("..", BadName::Dots),
            ("a/../../b", BadName::Separator),
            ("/etc/passwd", BadName::Separator),
            ("..\\x", BadName::Separator),
            ("a\0b", BadName::Control),
            ("evil\nrow", BadName::Control),
            ("\u{1b}[31mred", BadName::Control),
            (".git", BadName::DotGit),
            (".GIT", BadName::DotGit),
            (".Git", BadName::DotGit),
            (".git.", BadName::DotGit),
            (".git  ", BadName::DotGit),
            (".git::$INDEX_ALLOCATION", BadName::DotGit),
            ("GIT~1", BadName::DotGit),
            (".g\u{200c}it", BadName::DotGit),
            ("\u{feff}.git", BadName::DotGit),
        ] {
            assert_eq!(check_name(name), Err(why), "{name:?}");
        }
    }

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "SKILL.md",
            ".gitignore",
            ".github",
            "git",
            ".git-blame-ignore-revs",
            "...",
            "a.git",
            "ünïcødé.md",
            "with space.txt",
        ] {
            assert_eq!(check_name(name), Ok(()), "{name:?}");
        }
    }
}
