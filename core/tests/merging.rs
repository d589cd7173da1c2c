//! The merge engine against `git merge-file` on generated inputs, and snapshots of what a
//! conflict looks like to the user.

use std::fs;
use std::process::Command;

use skillmeat_core::engine::merge::{self, ConflictKind, FileAction, Labels};
use skillmeat_core::model::files::{ArtifactFiles, FileContent};

/// A small deterministic generator (xorshift64*), so every run checks the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Lines drawn from a small vocabulary, so repeated lines (the hard case for line matching)
/// are common; some blank, some punctuation-only (what git's "alnum" simplification looks at).
fn line(rng: &mut Rng) -> String {
    const WORDS: &[&str] = &[
        "alpha",
        "beta",
        "gamma",
        "delta",
        "",
        "}",
        "---",
        "# Heading",
        "- item",
        "use x;",
    ];
    let w = WORDS[rng.below(WORDS.len())];
    if rng.below(4) == 0 {
        format!("{w} {}", rng.below(5))
    } else {
        w.to_owned()
    }
}

fn edit(rng: &mut Rng, base: &[String]) -> Vec<String> {
    let mut out = base.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(3) {
            0 => out.insert(at, line(rng)),
            1 if at < out.len() => {
                out.remove(at);
            }
            _ if at < out.len() => out[at] = line(rng),
            _ => out.push(line(rng)),
        }
    }
    out
}

fn text(lines: &[String], final_newline: bool) -> String {
    let mut s = lines.join("\n");
    if final_newline && !lines.is_empty() {
        s.push('\n');
    }
    s
}

/// What `git merge-file -p --diff3` makes of the triple: (clean, output).
fn git_merge_file(dir: &std::path::Path, base: &str, ours: &str, theirs: &str) -> (bool, Vec<u8>) {
    for (name, content) in [("base", base), ("ours", ours), ("theirs", theirs)] {
        fs::write(dir.join(name), content).unwrap();
    }
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "merge-file",
            "-p",
            "--diff3",
            "-L",
            "ours",
            "-L",
            "base",
            "-L",
            "theirs",
            "ours",
            "base",
            "theirs",
        ])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!((0..128).contains(&code), "git merge-file failed: {out:?}");
    (code == 0, out.stdout)
}

#[test]
fn agrees_with_git_merge_file_on_generated_triples() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let (mut clean, mut conflicted, mut same_conflict_text) = (0, 0, 0);
    let cases = 1200;
    for case in 0..cases {
        let base: Vec<String> = (0..rng.below(30)).map(|_| line(&mut rng)).collect();
        let ours = edit(&mut rng, &base);
        let theirs = edit(&mut rng, &base);
        // Mostly with a final newline; sometimes one side drops it.
        let nl = |rng: &mut Rng| rng.below(8) != 0;
        let (b, o, t) = (
            text(&base, nl(&mut rng)),
            text(&ours, nl(&mut rng)),
            text(&theirs, nl(&mut rng)),
        );
        let (git_clean, git_out) = git_merge_file(dir.path(), &b, &o, &t);
        let ours_merge = merge::merge_text(
            "f",
            b.as_bytes(),
            o.as_bytes(),
            t.as_bytes(),
            Labels::default(),
        )
        .unwrap();
        let show = || format!("case {case}\n--- base\n{b}\n--- ours\n{o}\n--- theirs\n{t}");
        assert_eq!(ours_merge.clean, git_clean, "verdict differs: {}", show());
        if git_clean {
            clean += 1;
            assert_eq!(
                String::from_utf8_lossy(&ours_merge.bytes),
                String::from_utf8_lossy(&git_out),
                "clean result differs: {}",
                show()
            );
        } else {
            conflicted += 1;
            assert!(merge::has_conflict_markers(&ours_merge.bytes), "{}", show());
            // Known, accepted difference: for conflicts, git merge-file --diff3 and libgit2 may
            // split or trim conflict regions differently (git caps diff3 output at its "eager"
            // simplification level, libgit2 applies its own). Both show base, ours and theirs
            // for every unresolved region; only the exact region boundaries can differ, so the
            // conflicted text is counted, not required to be identical.
            if ours_merge.bytes == git_out {
                same_conflict_text += 1;
            }
        }
    }
    eprintln!(
        "{cases} triples: {clean} clean (all identical to git), {conflicted} conflicted \
         ({same_conflict_text} with byte-identical conflict text)"
    );
    assert!(
        clean > 200 && conflicted > 200,
        "the generator must exercise both verdicts"
    );
}

fn tree(list: &[(&str, &str)]) -> ArtifactFiles {
    let mut t = ArtifactFiles::default();
    for (p, c) in list {
        t.files.insert((*p).to_owned(), FileContent::text(*c));
    }
    t
}

fn labels() -> Labels<'static> {
    Labels {
        ours: "project (.claude/skills/review)",
        base: "base 59951bede04c",
        theirs: "collection",
    }
}

#[test]
fn a_content_conflict_shows_base_ours_and_theirs() {
    let base = "# Review\n\nCheck the tests.\nCheck the docs.\n";
    let ours = "# Review\n\nCheck the tests twice.\nCheck the docs.\n";
    let theirs = "# Review\n\nCheck the tests and lint.\nCheck the docs.\n";
    let m = merge::merge_file(
        "SKILL.md",
        Some(&FileContent::text(base)),
        Some(&FileContent::text(ours)),
        Some(&FileContent::text(theirs)),
        labels(),
    )
    .unwrap();
    assert_eq!(m.conflict, Some(ConflictKind::Content));
    insta::assert_snapshot!(String::from_utf8(m.result.unwrap().bytes).unwrap());
}

#[test]
fn two_conflicts_and_a_clean_edit_in_one_file() {
    let base = "a\nb\nc\nd\ne\nf\ng\nh\n";
    let ours = "A1\nb\nc\nD1\ne\nf\ng\nh\n";
    let theirs = "A2\nb\nc\nD2\ne\nf\ng\nH\n";
    let m = merge::merge_text(
        "x",
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        labels(),
    )
    .unwrap();
    assert!(!m.clean);
    insta::assert_snapshot!(String::from_utf8(m.bytes).unwrap());
}

#[test]
fn an_add_add_conflict_and_a_missing_final_newline() {
    let m = merge::merge_file(
        "notes.md",
        None,
        Some(&FileContent::text("mine\nshared")),
        Some(&FileContent::text("theirs\nshared")),
        labels(),
    )
    .unwrap();
    assert_eq!(m.conflict, Some(ConflictKind::AddAdd));
    insta::assert_snapshot!(String::from_utf8(m.result.unwrap().bytes).unwrap());
}

#[test]
fn a_tree_merge_with_every_kind_of_outcome() {
    let base = tree(&[
        ("SKILL.md", "one\ntwo\nthree\n"),
        ("gone-theirs.md", "x\n"),
        ("gone-ours.md", "y\n"),
        ("edited.md", "e\n"),
        ("moved.md", "m1\nm2\n"),
    ]);
    let ours = tree(&[
        ("SKILL.md", "ONE\ntwo\nthree\n"),
        ("gone-theirs.md", "x, edited\n"),
        ("edited.md", "e\n"),
        ("moved.md", "m1\nm2\n"),
        ("ours-new.md", "o\n"),
    ]);
    let theirs = tree(&[
        ("SKILL.md", "one\ntwo\nTHREE\n"),
        ("gone-ours.md", "y, edited\n"),
        ("edited.md", "E\n"),
        ("docs/moved.md", "m1\nm2\n"),
        ("theirs-new.md", "t\n"),
    ]);
    let m = merge::merge_trees(&base, &ours, &theirs, labels()).unwrap();
    let table: String = m
        .outcomes
        .iter()
        .map(|o| {
            format!(
                "{:<16} {:<13} {:<18} {}\n",
                o.path,
                o.action.as_str(),
                o.conflict.map(|c| format!("{c:?}")).unwrap_or_default(),
                o.renamed_from.as_deref().unwrap_or("")
            )
        })
        .collect();
    insta::assert_snapshot!(table);
    assert_eq!(m.files.files["SKILL.md"].bytes, b"ONE\ntwo\nTHREE\n");
    assert_eq!(m.conflicts().count(), 2);
    assert!(
        m.outcomes
            .iter()
            .all(|o| o.action != FileAction::Conflict || o.conflict.is_some())
    );
}
