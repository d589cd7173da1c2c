//! Diffs between two versions of an artifact: which files were added, deleted, modified or
//! changed mode, with line counts and a unified diff per text file (imara-diff's histogram
//! diff, printed through `similar`'s hunk grouping).
//!
//! A file is *binary* when its first 8,000 bytes hold a NUL or it is not UTF-8 (git's rule plus
//! the encoding check, since diffs are shown as text); binary files are compared by content only.
//! Files over [`INLINE_LIMIT`] on either side are summarised (sizes, no inline diff) so a huge
//! file never stalls a diff. [`git_patch`] renders the same comparison as a patch that
//! `git apply` accepts.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;
use similar::udiff::UnifiedHunkHeader;
use similar::{Algorithm, DiffTag};

use crate::model::files::{ArtifactFiles, FileContent};

/// Files larger than this (bytes, either side) get no inline diff.
pub const INLINE_LIMIT: usize = 1 << 20;

/// Lines of context around each change.
pub const CONTEXT_LINES: usize = 3;

/// How a file differs between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Only on the right.
    Added,
    /// Only on the left.
    Deleted,
    /// Content differs (the mode may too).
    Modified,
    /// Same content, the exec bit changed.
    Mode,
}

impl FileStatus {
    /// The lowercase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Deleted => "deleted",
            Self::Modified => "modified",
            Self::Mode => "mode",
        }
    }
}

/// One file that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// Relative path.
    pub path: String,
    /// How it differs.
    pub status: FileStatus,
    /// Either side is binary: no lines are counted or shown.
    pub binary: bool,
    /// Either side is over [`INLINE_LIMIT`]: no lines are counted or shown.
    pub too_large: bool,
    /// Exec bit on the left, if the file is there.
    pub old_executable: Option<bool>,
    /// Exec bit on the right, if the file is there.
    pub new_executable: Option<bool>,
    /// Size on the left in bytes (0 when absent).
    pub old_size: u64,
    /// Size on the right in bytes (0 when absent).
    pub new_size: u64,
    /// Lines added (text files only).
    pub added: usize,
    /// Lines removed (text files only).
    pub removed: usize,
    /// The unified diff hunks (text files within the limit; `None` otherwise).
    pub unified: Option<String>,
}

/// All files that differ between two versions, ordered by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArtifactDiff {
    /// Only the files that differ, in path order; equal files are left out.
    pub files: Vec<FileDiff>,
    /// Total lines added over text files.
    pub added: usize,
    /// Total lines removed over text files.
    pub removed: usize,
}

impl ArtifactDiff {
    /// Whether the two versions are identical.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Whether content is treated as binary: a NUL in the first 8,000 bytes, or not UTF-8.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0) || std::str::from_utf8(bytes).is_err()
}

/// Compares two versions file by file, summarising files over [`INLINE_LIMIT`].
pub fn diff(lhs: &ArtifactFiles, rhs: &ArtifactFiles) -> ArtifactDiff {
    diff_within(lhs, rhs, INLINE_LIMIT)
}

/// Compares two versions file by file, summarising files over `limit` bytes on either side
/// (the `diff.inline_limit` setting).
pub fn diff_within(lhs: &ArtifactFiles, rhs: &ArtifactFiles, limit: usize) -> ArtifactDiff {
    let mut out = ArtifactDiff::default();
    let mut paths: Vec<&String> = lhs.files.keys().chain(rhs.files.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        if let Some(file) = diff_file_within(path, lhs.files.get(path), rhs.files.get(path), limit)
        {
            out.added += file.added;
            out.removed += file.removed;
            out.files.push(file);
        }
    }
    out
}

/// Compares one file; `None` when both sides are the same (or both absent).
pub fn diff_file(
    path: &str,
    old: Option<&FileContent>,
    new: Option<&FileContent>,
) -> Option<FileDiff> {
    diff_file_within(path, old, new, INLINE_LIMIT)
}

/// [`diff_file`] with files over `limit` bytes summarised.
pub fn diff_file_within(
    path: &str,
    old: Option<&FileContent>,
    new: Option<&FileContent>,
    limit: usize,
) -> Option<FileDiff> {
    let status = match (old, new) {
        (None, None) => return None,
        (None, Some(_)) => FileStatus::Added,
        (Some(_), None) => FileStatus::Deleted,
        (Some(a), Some(b)) if a.bytes != b.bytes => FileStatus::Modified,
        (Some(a), Some(b)) if a.executable != b.executable => FileStatus::Mode,
        (Some(_), Some(_)) => return None,
    };
    let empty: &[u8] = &[];
    let old_bytes = old.map_or(empty, |f| &f.bytes);
    let new_bytes = new.map_or(empty, |f| &f.bytes);
    let binary = is_binary(old_bytes) || is_binary(new_bytes);
    let too_large = old_bytes.len() > limit || new_bytes.len() > limit;
    let mut file = FileDiff {
        path: path.to_owned(),
        status,
        binary,
        too_large,
        old_executable: old.map(|f| f.executable),
        new_executable: new.map(|f| f.executable),
        old_size: old_bytes.len() as u64,
        new_size: new_bytes.len() as u64,
        added: 0,
        removed: 0,
        unified: None,
    };
    if binary || too_large || status == FileStatus::Mode {
        return Some(file);
    }
    // Both sides are UTF-8 (checked by is_binary).
    let old_text = std::str::from_utf8(old_bytes).unwrap_or_default();
    let new_text = std::str::from_utf8(new_bytes).unwrap_or_default();
    let text = diff_text(old_text, new_text);
    file.added = text.added;
    file.removed = text.removed;
    file.unified = Some(text.unified);
    Some(file)
}

/// A line diff of two texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChanges {
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// Unified diff hunks (no file header), with [`CONTEXT_LINES`] of context.
    pub unified: String,
}

/// The line-diff algorithm of [`diff_text_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffEngine {
    /// imara-diff's histogram diff (git's `--histogram`, optimised), with git's slider
    /// heuristic for where a changed block starts: the default.
    Histogram,
    /// imara-diff's Myers diff with git's heuristics (what `git diff` runs by default).
    Myers,
    /// The `similar` crate's patience diff, with a 5 s deadline: the engine before
    /// 2026-12-07, kept for `skillmeat-bench sync` to compare with.
    Patience,
}

/// Diffs two texts line by line, with [`DiffEngine::Histogram`].
pub fn diff_text(old: &str, new: &str) -> TextChanges {
    diff_text_with(old, new, DiffEngine::Histogram)
}

/// Diffs two texts line by line with `engine`.
///
/// Lines are interned to integers first, so the algorithm compares numbers, not strings. The
/// histogram diff anchors on the rarest lines, so large files with scattered edits diff in
/// near-linear time, and falls back to Myers with git's heuristics on runs of repeated lines
/// instead of going quadratic. Measured on our workloads (`skillmeat-bench sync`, 10 MB with 1%
/// changed; docs/benchmarks.md), it is the fastest of the three and the closest to git.
pub fn diff_text_with(old: &str, new: &str, engine: DiffEngine) -> TextChanges {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = match engine {
        DiffEngine::Patience => patience_ops(&old_lines, &new_lines),
        DiffEngine::Histogram | DiffEngine::Myers => {
            let algorithm = if engine == DiffEngine::Myers {
                imara_diff::Algorithm::Myers
            } else {
                imara_diff::Algorithm::Histogram
            };
            // imara-diff's lines are ours: split after each `\n`, the last without one.
            let input = imara_diff::InternedInput::new(old, new);
            let mut diff = imara_diff::Diff::compute(algorithm, &input);
            diff.postprocess_lines(&input);
            ops_of(&diff, old_lines.len(), new_lines.len())
        }
    };
    let (mut added, mut removed) = (0, 0);
    for op in &ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Insert => added += new_range.len(),
            DiffTag::Delete => removed += old_range.len(),
            DiffTag::Replace => {
                added += new_range.len();
                removed += old_range.len();
            }
            DiffTag::Equal => {}
        }
    }
    let mut unified = String::new();
    for hunk in similar::group_diff_ops(ops, CONTEXT_LINES) {
        let _ = writeln!(unified, "{}", UnifiedHunkHeader::new(&hunk));
        let mut emit = |sign: char, line: &str| {
            unified.push(sign);
            unified.push_str(line);
            if !line.ends_with('\n') {
                unified.push_str("\n\\ No newline at end of file\n");
            }
        };
        for op in &hunk {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            match tag {
                DiffTag::Equal => old_range.for_each(|i| emit(' ', old_lines[i])),
                DiffTag::Delete => old_range.for_each(|i| emit('-', old_lines[i])),
                DiffTag::Insert => new_range.for_each(|i| emit('+', new_lines[i])),
                DiffTag::Replace => {
                    old_range.for_each(|i| emit('-', old_lines[i]));
                    new_range.for_each(|i| emit('+', new_lines[i]));
                }
            }
        }
    }
    TextChanges {
        added,
        removed,
        unified,
    }
}

/// The patience diff of two line lists, by `similar`, as [`DiffOp`]s.
fn patience_ops(old_lines: &[&str], new_lines: &[&str]) -> Vec<similar::DiffOp> {
    let mut ids: HashMap<&str, u32> = HashMap::with_capacity(old_lines.len() + new_lines.len());
    fn intern<'a>(ids: &mut HashMap<&'a str, u32>, lines: &[&'a str]) -> Vec<u32> {
        lines
            .iter()
            .map(|line| {
                let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                *ids.entry(line).or_insert(next)
            })
            .collect()
    }
    let old_ids = intern(&mut ids, old_lines);
    let new_ids = intern(&mut ids, new_lines);
    let deadline = Instant::now() + Duration::from_secs(5);
    similar::capture_diff_slices_deadline(Algorithm::Patience, &old_ids, &new_ids, Some(deadline))
}

/// imara-diff's hunks as `similar`'s ops (equal stretches between them), so one grouping and
/// one printer serve every engine.
fn ops_of(diff: &imara_diff::Diff, old_len: usize, new_len: usize) -> Vec<similar::DiffOp> {
    use similar::DiffOp;
    let mut ops = Vec::new();
    let (mut old_at, mut new_at) = (0usize, 0usize);
    for h in diff.hunks() {
        let (b0, b1) = (h.before.start as usize, h.before.end as usize);
        let (a0, a1) = (h.after.start as usize, h.after.end as usize);
        if b0 > old_at {
            ops.push(DiffOp::Equal {
                old_index: old_at,
                new_index: new_at,
                len: b0 - old_at,
            });
        }
        ops.push(match (b1 > b0, a1 > a0) {
            (true, true) => DiffOp::Replace {
                old_index: b0,
                old_len: b1 - b0,
                new_index: a0,
                new_len: a1 - a0,
            },
            (true, false) => DiffOp::Delete {
                old_index: b0,
                old_len: b1 - b0,
                new_index: a0,
            },
            _ => DiffOp::Insert {
                old_index: b0,
                new_index: a0,
                new_len: a1 - a0,
            },
        });
        (old_at, new_at) = (b1, a1);
    }
    if old_at < old_len {
        ops.push(DiffOp::Equal {
            old_index: old_at,
            new_index: new_at,
            len: old_len - old_at,
        });
    }
    debug_assert_eq!(new_len - new_at, old_len - old_at);
    ops
}

/// Renders a version-to-version diff as a git patch with paths under `prefix` (e.g.
/// `skills/pdf/`), which `git apply` accepts at the repository root. Binary and too-large files
/// cannot be expressed as text and are returned by path in the second value.
pub fn git_patch(lhs: &ArtifactFiles, rhs: &ArtifactFiles, prefix: &str) -> (String, Vec<String>) {
    let mut patch = String::new();
    let mut skipped = Vec::new();
    for file in diff(lhs, rhs).files {
        if file.binary || file.too_large {
            skipped.push(file.path);
            continue;
        }
        let path = format!("{prefix}{}", file.path);
        let mode = |exec: Option<bool>| {
            if exec == Some(true) {
                "100755"
            } else {
                "100644"
            }
        };
        let _ = writeln!(patch, "diff --git a/{path} b/{path}");
        match file.status {
            FileStatus::Added => {
                let _ = writeln!(patch, "new file mode {}", mode(file.new_executable));
            }
            FileStatus::Deleted => {
                let _ = writeln!(patch, "deleted file mode {}", mode(file.old_executable));
            }
            FileStatus::Modified | FileStatus::Mode => {
                if file.old_executable != file.new_executable {
                    let _ = writeln!(patch, "old mode {}", mode(file.old_executable));
                    let _ = writeln!(patch, "new mode {}", mode(file.new_executable));
                }
            }
        }
        let Some(hunks) = file.unified.filter(|h| !h.is_empty()) else {
            continue;
        };
        let old_name = if file.status == FileStatus::Added {
            "/dev/null".to_owned()
        } else {
            format!("a/{path}")
        };
        let new_name = if file.status == FileStatus::Deleted {
            "/dev/null".to_owned()
        } else {
            format!("b/{path}")
        };
        let _ = writeln!(patch, "--- {old_name}\n+++ {new_name}");
        patch.push_str(&hunks);
    }
    (patch, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str, bool)]) -> ArtifactFiles {
        let mut f = ArtifactFiles::default();
        for (path, content, exec) in list {
            f.files.insert(
                (*path).to_owned(),
                FileContent {
                    bytes: content.as_bytes().to_vec(),
                    executable: *exec,
                },
            );
        }
        f
    }

    #[test]
    fn statuses_counts_and_hunks() {
        let lhs = files(&[
            ("SKILL.md", "a\nb\nc\n", false),
            ("gone.md", "x\n", false),
            ("run.sh", "echo\n", false),
        ]);
        let rhs = files(&[
            ("SKILL.md", "a\nB\nc\nd\n", false),
            ("new.md", "y\n", false),
            ("run.sh", "echo\n", true),
        ]);
        let d = diff(&lhs, &rhs);
        let summary: Vec<_> = d
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.status, f.added, f.removed))
            .collect();
        assert_eq!(
            summary,
            [
                ("SKILL.md", FileStatus::Modified, 2, 1),
                ("gone.md", FileStatus::Deleted, 0, 1),
                ("new.md", FileStatus::Added, 1, 0),
                ("run.sh", FileStatus::Mode, 0, 0),
            ]
        );
        assert_eq!((d.added, d.removed), (3, 2));
        assert_eq!(
            d.files[0].unified.as_deref(),
            Some("@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n")
        );
        assert!(diff(&lhs, &lhs).is_empty());
    }

    #[test]
    fn binary_and_large_files_are_summarised() {
        let big = "line\n".repeat(INLINE_LIMIT / 5 + 1);
        let lhs = files(&[("a.bin", "x\0y", false), ("big.txt", "", false)]);
        let rhs = files(&[("a.bin", "x\0z", false), ("big.txt", &big, false)]);
        let d = diff(&lhs, &rhs);
        assert!(d.files[0].binary && d.files[0].unified.is_none());
        assert!(d.files[1].too_large && d.files[1].unified.is_none());
        assert_eq!(d.files[1].new_size, big.len() as u64);
        assert!(is_binary(&[0xff, 0xfe]));
        assert!(!is_binary("héllo".as_bytes()));
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let d = diff(&files(&[("f", "a\n", false)]), &files(&[("f", "a", false)]));
        assert!(
            d.files[0]
                .unified
                .as_deref()
                .unwrap()
                .contains("\\ No newline at end of file"),
            "{:?}",
            d.files[0].unified
        );
    }
}
