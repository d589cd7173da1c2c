//! Three-way merges of one file and of whole artifact versions, layered like jj's merge code:
//! trivial cases first, then a line-level merge per file, then the tree level.
//!
//! - [`merge_file`]: one file with its base. If only one side moved, that side wins without
//!   looking at lines (a fast-forward); if both made the same change, it is taken. Otherwise
//!   libgit2's xdiff merge (the algorithm of `git merge-file`) runs line by line; what it cannot
//!   reconcile is materialised with diff3-style markers that show the base. Binary files are
//!   never merged line by line: differing binary changes are a conflict.
//! - [`merge_trees`]: every path of an artifact. Added, deleted and mode-changed files are decided
//!   at this level; deleting a file the other side modified is a conflict (never a silent loss);
//!   a file one side renamed (same content, new path) carries the other side's edits to its new
//!   path. Without a known base nothing is merged: the caller must choose a side (DESIGN §3).
//!
//! "Ours" is the tier being written (the target), "theirs" the tier its changes come from.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::engine::diff::is_binary;
use crate::model::error::ErrorKind;
use crate::model::files::{ArtifactFiles, FileContent};

/// The marker lines' length, as git's default.
pub const MARKER_SIZE: usize = 7;

/// Labels written after conflict markers.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    /// After `<<<<<<<`: the target.
    pub ours: &'a str,
    /// After `|||||||`: the common base.
    pub base: &'a str,
    /// After `>>>>>>>`: the source.
    pub theirs: &'a str,
}

impl Default for Labels<'_> {
    fn default() -> Self {
        Self {
            ours: "ours",
            base: "base",
            theirs: "theirs",
        }
    }
}

/// What happened to one file, as shown in a sync plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileAction {
    /// The target keeps what it has.
    Unchanged,
    /// Only the source changed: its version is taken (including an addition or a deletion).
    FastForward,
    /// Both changed and the line merge reconciled them.
    CleanMerge,
    /// Both changed and could not be reconciled: markers, or a delete/modify clash.
    Conflict,
    /// The source's version replaces the target's by explicit choice.
    Overwrite,
    /// Both changed a binary file differently: a conflict no line merge can solve.
    Binary,
}

impl FileAction {
    /// The label printed in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::FastForward => "fast-forward",
            Self::CleanMerge => "clean-merge",
            Self::Conflict => "conflict",
            Self::Overwrite => "overwrite",
            Self::Binary => "binary",
        }
    }

    /// Whether the file needs a decision before the merge can be applied.
    pub fn is_conflict(self) -> bool {
        matches!(self, Self::Conflict | Self::Binary)
    }
}

/// Why a file conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictKind {
    /// Both sides changed the same lines; the file holds markers.
    Content,
    /// Both sides added the file with different content; the file holds markers.
    AddAdd,
    /// Ours deleted the file, theirs modified it; the file holds theirs.
    DeletedByOurs,
    /// Theirs deleted the file, ours modified it; the file holds ours.
    DeletedByTheirs,
    /// A binary file changed on both sides; the file holds ours.
    Binary,
}

/// The merge of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMerge {
    /// The result: the merged file, `None` for a deletion. For a conflict, what is kept
    /// pending: the text with markers, or the surviving side.
    pub result: Option<FileContent>,
    /// What happened.
    pub action: FileAction,
    /// Why it conflicts, for conflicts.
    pub conflict: Option<ConflictKind>,
}

impl FileMerge {
    fn clean(result: Option<FileContent>, action: FileAction) -> Self {
        Self {
            result,
            action,
            conflict: None,
        }
    }

    fn conflict(result: Option<FileContent>, kind: ConflictKind) -> Self {
        let action = if kind == ConflictKind::Binary {
            FileAction::Binary
        } else {
            FileAction::Conflict
        };
        Self {
            result,
            action,
            conflict: Some(kind),
        }
    }
}

/// Why a merge could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// libgit2's merge failed (out of memory, or an input it cannot handle).
    #[error("line merge of {path} failed: {message}")]
    Engine { path: String, message: String },
}

impl MergeError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine { .. } => ErrorKind::Internal,
        }
    }
}

/// Merges one file given its base. Any side may be absent (not in that version).
pub fn merge_file(
    path: &str,
    base: Option<&FileContent>,
    ours: Option<&FileContent>,
    theirs: Option<&FileContent>,
    labels: Labels<'_>,
) -> Result<FileMerge, MergeError> {
    use FileAction::*;
    // Trivial cases: identical sides, or only one side moved.
    if ours == theirs {
        let action = if ours == base { Unchanged } else { CleanMerge };
        return Ok(FileMerge::clean(ours.cloned(), action));
    }
    if ours == base {
        return Ok(FileMerge::clean(theirs.cloned(), FastForward));
    }
    if theirs == base {
        return Ok(FileMerge::clean(ours.cloned(), Unchanged));
    }
    let (o, t) = match (ours, theirs) {
        (Some(o), Some(t)) => (o, t),
        (None, t) => return Ok(FileMerge::conflict(t.cloned(), ConflictKind::DeletedByOurs)),
        (o, None) => {
            return Ok(FileMerge::conflict(
                o.cloned(),
                ConflictKind::DeletedByTheirs,
            ));
        }
    };
    // Both present and both changed. The exec bit merges on its own: whichever side changed it.
    let executable = match base {
        Some(b) if o.executable == b.executable => t.executable,
        _ => o.executable,
    };
    if o.bytes == t.bytes {
        return Ok(FileMerge::clean(
            Some(FileContent {
                bytes: o.bytes.clone(),
                executable,
            }),
            CleanMerge,
        ));
    }
    let base_bytes: &[u8] = base.map_or(&[], |b| &b.bytes);
    if is_binary(base_bytes) || is_binary(&o.bytes) || is_binary(&t.bytes) {
        return Ok(FileMerge::conflict(Some(o.clone()), ConflictKind::Binary));
    }
    let mut merged = merge_text(path, base_bytes, &o.bytes, &t.bytes, labels)?;
    // A Markdown artifact whose line merge conflicts may still merge key by key in its
    // frontmatter (a clean line merge is never second-guessed).
    if !merged.clean
        && base.is_some()
        && path.ends_with(".md")
        && let Some((bytes, clean)) =
            crate::engine::frontmatter_merge::merge(base_bytes, &o.bytes, &t.bytes, |b, o, t| {
                merge_text(path, b, o, t, labels)
                    .ok()
                    .map(|m| (m.bytes, m.clean))
            })
    {
        merged = TextMerge { bytes, clean };
    }
    let result = Some(FileContent {
        bytes: merged.bytes,
        executable,
    });
    Ok(match (merged.clean, base) {
        (true, _) => FileMerge::clean(result, CleanMerge),
        (false, Some(_)) => FileMerge::conflict(result, ConflictKind::Content),
        (false, None) => FileMerge::conflict(result, ConflictKind::AddAdd),
    })
}

/// The output of a line-level merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMerge {
    /// The merged bytes, with diff3-style markers where it is not clean.
    pub bytes: Vec<u8>,
    /// Whether every change was reconciled.
    pub clean: bool,
}

/// Line-level three-way merge of text (libgit2's xdiff, as `git merge-file --diff3`).
pub fn merge_text(
    path: &str,
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    labels: Labels<'_>,
) -> Result<TextMerge, MergeError> {
    let engine = |e: git2::Error| MergeError::Engine {
        path: path.to_owned(),
        message: e.message().to_owned(),
    };
    // git2's merge_file does not initialise libgit2 itself (its other entry points do), and an
    // uninitialised libgit2 fails with "no error"; any initialising call fixes that.
    let _ = git2::Oid::from_bytes(&[0; 20]);
    // libgit2 also wants a path and a mode on the inputs; neither affects the line merge.
    let input = |content| {
        let mut i = git2::MergeFileInput::new();
        i.content(content)
            .path("file")
            .mode(Some(git2::FileMode::Blob));
        i
    };
    let (b, o, t) = (input(base), input(ours), input(theirs));
    let mut options = git2::MergeFileOptions::new();
    options
        .ancestor_label(labels.base)
        .our_label(labels.ours)
        .their_label(labels.theirs)
        .style_diff3(true)
        .marker_size(MARKER_SIZE as u16);
    let result = git2::merge_file(&b, &o, &t, Some(&mut options)).map_err(engine)?;
    Ok(TextMerge {
        bytes: result.content().to_vec(),
        clean: result.is_automergeable(),
    })
}

/// The merge of one file inside a tree merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileOutcome {
    /// The path in the result (a renamed file's new path).
    pub path: String,
    /// What happened.
    pub action: FileAction,
    /// Why it conflicts, for conflicts.
    pub conflict: Option<ConflictKind>,
    /// For a file one side renamed: its path in the base.
    pub renamed_from: Option<String>,
}

/// The merge of two artifact versions with their base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeMerge {
    /// The merged files. Conflicted files hold their pending content (markers or the surviving
    /// side), so this is what a user resolves, not something to apply.
    pub files: ArtifactFiles,
    /// Every path any side has, with what happened to it, ordered by path.
    pub outcomes: Vec<FileOutcome>,
}

impl TreeMerge {
    /// The files that need a decision.
    pub fn conflicts(&self) -> impl Iterator<Item = &FileOutcome> {
        self.outcomes.iter().filter(|o| o.action.is_conflict())
    }

    /// Whether the merge can be applied as is.
    pub fn is_clean(&self) -> bool {
        self.conflicts().next().is_none()
    }
}

/// Merges two versions of an artifact with their common base, path by path.
pub fn merge_trees(
    base: &ArtifactFiles,
    ours: &ArtifactFiles,
    theirs: &ArtifactFiles,
    labels: Labels<'_>,
) -> Result<TreeMerge, MergeError> {
    let ours_renames = renames(base, ours, theirs);
    let theirs_renames = renames(base, theirs, ours);
    let mut paths: BTreeSet<&String> = BTreeSet::new();
    paths.extend(base.files.keys());
    paths.extend(ours.files.keys());
    paths.extend(theirs.files.keys());

    let mut files = ArtifactFiles::default();
    let mut outcomes = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for (renamer, from, to) in ours_renames
        .iter()
        .map(|(f, t)| (Side::Ours, f, t))
        .chain(theirs_renames.iter().map(|(f, t)| (Side::Theirs, f, t)))
    {
        // One side moved `from` to `to` unchanged; the other side's version of `from` (edited
        // or not) lands at `to`.
        let (o, t) = match renamer {
            Side::Ours => (ours.files.get(to.as_str()), theirs.files.get(from.as_str())),
            Side::Theirs => (ours.files.get(from.as_str()), theirs.files.get(to.as_str())),
        };
        let mut m = merge_file(to, base.files.get(from.as_str()), o, t, labels)?;
        if matches!(renamer, Side::Theirs) && m.action == FileAction::Unchanged {
            // The content is the target's, but it moves to the source's new path.
            m.action = FileAction::FastForward;
        }
        if let Some(content) = m.result {
            files.files.insert(to.clone(), content);
        }
        outcomes.push(FileOutcome {
            path: to.clone(),
            action: m.action,
            conflict: m.conflict,
            renamed_from: Some(from.clone()),
        });
        done.insert(from);
        done.insert(to);
    }
    for path in paths {
        if done.contains(path.as_str()) {
            continue;
        }
        let m = merge_file(
            path,
            base.files.get(path),
            ours.files.get(path),
            theirs.files.get(path),
            labels,
        )?;
        if let Some(content) = m.result {
            files.files.insert(path.clone(), content);
        }
        outcomes.push(FileOutcome {
            path: path.clone(),
            action: m.action,
            conflict: m.conflict,
            renamed_from: None,
        });
    }
    outcomes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(TreeMerge { files, outcomes })
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Ours,
    Theirs,
}

/// Exact renames on `side`: a base path `side` dropped, whose unchanged content `side` added at
/// a new path, while `other` still has the base path. Each source and target is used once.
fn renames(
    base: &ArtifactFiles,
    side: &ArtifactFiles,
    other: &ArtifactFiles,
) -> Vec<(String, String)> {
    let mut added: BTreeMap<&[u8], Vec<&String>> = BTreeMap::new();
    for (path, content) in &side.files {
        if !base.files.contains_key(path) && !other.files.contains_key(path) {
            added.entry(&content.bytes).or_default().push(path);
        }
    }
    let mut out = Vec::new();
    for (path, content) in &base.files {
        if side.files.contains_key(path) || !other.files.contains_key(path) {
            continue;
        }
        if let Some(targets) = added.get_mut(content.bytes.as_slice())
            && !targets.is_empty()
        {
            let to = targets.remove(0);
            out.push((path.clone(), to.clone()));
        }
    }
    out
}

/// Whether text still holds a conflict marker line written by [`merge_text`] (or by git):
/// `<<<<<<< `, `|||||||`, `=======` or `>>>>>>> ` at the start of a line, exactly
/// [`MARKER_SIZE`] characters long.
pub fn has_conflict_markers(bytes: &[u8]) -> bool {
    let marker = |line: &[u8], c: u8| {
        line.len() >= MARKER_SIZE
            && line[..MARKER_SIZE].iter().all(|&b| b == c)
            && line
                .get(MARKER_SIZE)
                .is_none_or(|&b| b == b' ' || b == b'\n' || b == b'\r')
    };
    let mut open = false;
    for line in bytes.split(|&b| b == b'\n') {
        if marker(line, b'<') {
            open = true;
        } else if open && marker(line, b'>') {
            return true;
        }
    }
    false
}

/// A stretch of a file with conflict markers: text both sides agree on, or one conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Hunk {
    /// Merged text, kept whatever is chosen.
    Clean { text: String },
    /// One conflict: each side's lines (and the base's, when the markers show it), each with
    /// its line ending.
    Conflict {
        ours: String,
        base: Option<String>,
        theirs: String,
    },
}

/// What to keep of one conflict hunk (also how a resolve job stores the choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HunkChoice {
    /// The target's lines.
    Ours,
    /// The source's lines.
    Theirs,
    /// Ours, then theirs.
    Both,
}

/// Splits text holding conflict markers (as [`merge_text`] writes them, with or without the
/// base section) into clean stretches and conflicts. Text without markers is one clean hunk; an
/// unterminated conflict is kept as clean text, so nothing is ever dropped.
pub fn conflict_hunks(text: &str) -> Vec<Hunk> {
    let is = |line: &str, c: char| {
        let mut chars = line.chars();
        (0..MARKER_SIZE).all(|_| chars.next() == Some(c))
            && matches!(chars.next(), None | Some(' ' | '\n' | '\r'))
    };
    enum Part {
        Ours,
        Base,
        Theirs,
    }
    let mut hunks = Vec::new();
    let mut clean = String::new();
    // The conflict being read: its raw text (kept in case it never closes) and its sides.
    let mut open: Option<(String, Part, String, Option<String>, String)> = None;
    for line in text.split_inclusive('\n') {
        let mut closed = false;
        match open.as_mut() {
            None if is(line, '<') => {
                if !clean.is_empty() {
                    hunks.push(Hunk::Clean {
                        text: std::mem::take(&mut clean),
                    });
                }
                open = Some((
                    line.to_owned(),
                    Part::Ours,
                    String::new(),
                    None,
                    String::new(),
                ));
            }
            None => clean.push_str(line),
            Some((raw, part, ours, base, theirs)) => {
                raw.push_str(line);
                match part {
                    Part::Ours if is(line, '|') => {
                        *part = Part::Base;
                        *base = Some(String::new());
                    }
                    Part::Ours | Part::Base if is(line, '=') => *part = Part::Theirs,
                    Part::Theirs if is(line, '>') => closed = true,
                    Part::Ours => ours.push_str(line),
                    Part::Base => base.get_or_insert_with(String::new).push_str(line),
                    Part::Theirs => theirs.push_str(line),
                }
            }
        }
        if closed && let Some((_, _, ours, base, theirs)) = open.take() {
            hunks.push(Hunk::Conflict { ours, base, theirs });
        }
    }
    if let Some((raw, ..)) = open {
        if let Some(Hunk::Clean { text }) = hunks.last_mut() {
            text.push_str(&raw);
        } else {
            clean.push_str(&raw);
        }
    }
    if !clean.is_empty() {
        hunks.push(Hunk::Clean { text: clean });
    }
    hunks
}

/// The text of `hunks` with each conflict settled by the next of `choices` (in order).
/// `None` when there are fewer choices than conflicts.
pub fn settle_hunks(hunks: &[Hunk], choices: &[HunkChoice]) -> Option<String> {
    let mut out = String::new();
    let mut choices = choices.iter();
    for hunk in hunks {
        match hunk {
            Hunk::Clean { text } => out.push_str(text),
            Hunk::Conflict { ours, theirs, .. } => match choices.next()? {
                HunkChoice::Ours => out.push_str(ours),
                HunkChoice::Theirs => out.push_str(theirs),
                HunkChoice::Both => {
                    out.push_str(ours);
                    if !ours.is_empty() && !ours.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(theirs);
                }
            },
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> FileContent {
        FileContent::text(s)
    }

    fn action(base: Option<&str>, ours: Option<&str>, theirs: Option<&str>) -> FileAction {
        let (b, o, t) = (base.map(f), ours.map(f), theirs.map(f));
        merge_file("x", b.as_ref(), o.as_ref(), t.as_ref(), Labels::default())
            .unwrap()
            .action
    }

    #[test]
    fn the_trivial_cases() {
        use FileAction::*;
        let (a, b, c) = (Some("a\n"), Some("b\n"), Some("c\n"));
        // (base, ours, theirs) → action
        let table = [
            (a, a, a, Unchanged),
            (a, a, b, FastForward),
            (a, b, a, Unchanged),
            (a, b, b, CleanMerge),
            (a, b, c, Conflict),
            (None, None, b, FastForward),
            (None, b, None, Unchanged),
            (None, b, b, CleanMerge),
            (None, b, c, Conflict),
            (a, None, a, Unchanged),
            (a, a, None, FastForward),
            (a, None, None, CleanMerge),
            (a, None, b, Conflict),
            (a, b, None, Conflict),
        ];
        for (base, ours, theirs, expected) in table {
            assert_eq!(
                action(base, ours, theirs),
                expected,
                "base {base:?} ours {ours:?} theirs {theirs:?}"
            );
        }
    }

    #[test]
    fn fast_forwards_take_the_moved_side_whole() {
        let m = merge_file(
            "x",
            Some(&f("a\n")),
            Some(&f("a\n")),
            None,
            Labels::default(),
        )
        .unwrap();
        assert_eq!(m.result, None, "theirs deleted it: the result deletes it");
        let m = merge_file(
            "x",
            Some(&f("a\n")),
            None,
            Some(&f("b\n")),
            Labels::default(),
        )
        .unwrap();
        assert_eq!(m.conflict, Some(ConflictKind::DeletedByOurs));
        assert_eq!(
            m.result,
            Some(f("b\n")),
            "the modified side is what is kept"
        );
    }

    #[test]
    fn edits_in_different_places_merge_cleanly() {
        let base = "one\ntwo\nthree\nfour\nfive\n";
        let ours = "ONE\ntwo\nthree\nfour\nfive\n";
        let theirs = "one\ntwo\nthree\nfour\nFIVE\n";
        let m = merge_text(
            "x",
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            Labels::default(),
        )
        .unwrap();
        assert!(m.clean);
        assert_eq!(m.bytes, b"ONE\ntwo\nthree\nfour\nFIVE\n");
    }

    #[test]
    fn binary_changes_on_both_sides_conflict_and_keep_ours() {
        let bin = |s: &str| FileContent::text(format!("\0{s}"));
        let m = merge_file(
            "x.png",
            Some(&bin("a")),
            Some(&bin("b")),
            Some(&bin("c")),
            Labels::default(),
        )
        .unwrap();
        assert_eq!(m.action, FileAction::Binary);
        assert_eq!(m.result, Some(bin("b")));
    }

    #[test]
    fn the_exec_bit_merges_on_its_own() {
        let mut exec = f("a\nb\n");
        exec.executable = true;
        let theirs = f("a\nB\n");
        let m = merge_file(
            "x",
            Some(&f("a\nb\n")),
            Some(&exec),
            Some(&theirs),
            Labels::default(),
        )
        .unwrap();
        assert_eq!(m.action, FileAction::CleanMerge);
        let result = m.result.unwrap();
        assert!(result.executable);
        assert_eq!(result.bytes, b"a\nB\n");
    }

    fn tree(list: &[(&str, &str)]) -> ArtifactFiles {
        let mut t = ArtifactFiles::default();
        for (p, c) in list {
            t.files.insert((*p).to_owned(), f(c));
        }
        t
    }

    #[test]
    fn a_rename_carries_the_other_sides_edit() {
        let base = tree(&[("SKILL.md", "s\n"), ("old.md", "a\nb\n")]);
        let ours = tree(&[("SKILL.md", "s\n"), ("new.md", "a\nb\n")]);
        let theirs = tree(&[("SKILL.md", "s\n"), ("old.md", "a\nB\n")]);
        let m = merge_trees(&base, &ours, &theirs, Labels::default()).unwrap();
        assert!(m.is_clean(), "{:?}", m.outcomes);
        assert_eq!(m.files, tree(&[("SKILL.md", "s\n"), ("new.md", "a\nB\n")]));
        let renamed = m.outcomes.iter().find(|o| o.path == "new.md").unwrap();
        assert_eq!(renamed.renamed_from.as_deref(), Some("old.md"));
    }

    #[test]
    fn a_tree_merge_reports_every_path() {
        let base = tree(&[("a", "1\n"), ("b", "1\n"), ("c", "1\n")]);
        let ours = tree(&[("a", "2\n"), ("b", "1\n"), ("d", "new\n")]);
        let theirs = tree(&[("a", "1\n"), ("b", "3\n"), ("c", "4\n")]);
        let m = merge_trees(&base, &ours, &theirs, Labels::default()).unwrap();
        let summary: Vec<_> = m
            .outcomes
            .iter()
            .map(|o| (o.path.as_str(), o.action.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("a", "unchanged"),
                ("b", "fast-forward"),
                ("c", "conflict"),
                ("d", "unchanged")
            ]
        );
        assert_eq!(
            m.files.files["c"],
            f("4\n"),
            "the modified side is kept pending"
        );
    }

    #[test]
    fn markers_are_recognised_only_as_whole_marker_lines() {
        assert!(has_conflict_markers(
            b"<<<<<<< ours\na\n||||||| base\nb\n=======\nc\n>>>>>>> theirs\n"
        ));
        assert!(!has_conflict_markers(b"<<<<<<<< eight\n>>>>>>>> eight\n"));
        assert!(!has_conflict_markers(b"text <<<<<<< inside\n>>>>>>> x\n"));
        assert!(!has_conflict_markers(b"=======\nunderline\n"));
    }

    #[test]
    fn conflict_hunks_split_a_merge_and_settle_back_to_each_side() {
        let base = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let ours = "a\nB1\nc\nd\ne\nf\nG1\nh\n";
        let theirs = "a\nB2\nc\nd\ne\nf\nG2\nh\n";
        let m = merge_text(
            "f",
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            Labels::default(),
        )
        .unwrap();
        assert!(!m.clean);
        let text = String::from_utf8(m.bytes).unwrap();
        let hunks = conflict_hunks(&text);
        let conflicts: Vec<_> = hunks
            .iter()
            .filter_map(|h| match h {
                Hunk::Conflict { ours, base, theirs } => {
                    Some((ours.as_str(), base.as_deref(), theirs.as_str()))
                }
                Hunk::Clean { .. } => None,
            })
            .collect();
        assert_eq!(
            conflicts,
            [("B1\n", Some("b\n"), "B2\n"), ("G1\n", Some("g\n"), "G2\n")]
        );
        use HunkChoice::*;
        assert_eq!(settle_hunks(&hunks, &[Ours, Ours]).unwrap(), ours);
        assert_eq!(settle_hunks(&hunks, &[Theirs, Theirs]).unwrap(), theirs);
        assert_eq!(
            settle_hunks(&hunks, &[Ours, Both]).unwrap(),
            "a\nB1\nc\nd\ne\nf\nG1\nG2\nh\n"
        );
        assert_eq!(settle_hunks(&hunks, &[Ours]), None);
    }

    #[test]
    fn conflict_hunks_keep_text_without_markers_and_unclosed_conflicts_whole() {
        assert_eq!(conflict_hunks(""), []);
        let plain = "x\n=======\ny";
        assert_eq!(
            conflict_hunks(plain),
            [Hunk::Clean {
                text: plain.to_owned()
            }]
        );
        let unclosed = "a\n<<<<<<< ours\nb\n=======\nc\n";
        assert_eq!(
            conflict_hunks(unclosed),
            [Hunk::Clean {
                text: unclosed.to_owned()
            }]
        );
        // Without the base section, and without a final newline.
        assert_eq!(
            conflict_hunks("<<<<<<< o\nx\n=======\ny\n>>>>>>> t"),
            [Hunk::Conflict {
                ours: "x\n".into(),
                base: None,
                theirs: "y\n".into()
            }]
        );
    }
}
