//! The merge engine against `git merge-file` on generated inputs, and snapshots of what a
//! conflict looks like to the user.

use std::fs;
use std::process::Command;

use skillmeat_core::engine::merge::{self, ConflictKind, FileAction, Labels};
use skillmeat_core::model::files::{ArtifactFiles, FileContent};

use skillmeat_testutils::Rng;

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

/// A frontmatter of `keys` (scalars) over `body`.
fn markdown(keys: &[(String, String)], body: &[String]) -> String {
    let mut s = String::from("---\n");
    for (k, v) in keys {
        s.push_str(&format!("{k}: {v}\n"));
    }
    s.push_str("---\n");
    s.push_str(&text(body, true));
    s
}

/// Edits a frontmatter: change, drop or add keys.
fn edit_keys(rng: &mut Rng, base: &[(String, String)], side: &str) -> Vec<(String, String)> {
    let mut out = base.to_vec();
    for _ in 0..=rng.below(3) {
        match rng.below(4) {
            0 | 1 if !out.is_empty() => {
                let at = rng.below(out.len());
                out[at].1 = format!("{side}-{}", rng.below(3));
            }
            2 if !out.is_empty() => {
                out.remove(rng.below(out.len()));
            }
            _ => {
                let key = format!("k{}", 5 + rng.below(4));
                if !out.iter().any(|(k, _)| *k == key) {
                    out.push((key, format!("{side}-new")));
                }
            }
        }
    }
    out
}

/// The frontmatter-aware merge against the line merge on generated Markdown artifacts:
/// whenever the line merge is clean, the result is exactly the line merge; when the line merge
/// conflicts and the frontmatter merges key by key, every key holds what a three-way merge of
/// that key gives and the body is the line merge of the bodies.
#[test]
fn the_frontmatter_merge_agrees_with_the_line_merge_wherever_that_is_clean() {
    let mut rng = Rng(0x0f00_d5ee_d000_0042);
    let (mut line_clean, mut rescued, mut fell_back) = (0, 0, 0);
    let value = |keys: &[(String, String)], k: &str| {
        keys.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    for case in 0..1500 {
        let base_keys: Vec<(String, String)> = (0..1 + rng.below(5))
            .map(|i| (format!("k{i}"), format!("base-{}", rng.below(3))))
            .collect();
        let base_body: Vec<String> = (0..rng.below(8)).map(|_| line(&mut rng)).collect();
        let (ok, tk) = (
            edit_keys(&mut rng, &base_keys, "ours"),
            edit_keys(&mut rng, &base_keys, "theirs"),
        );
        let (ob, tb) = (edit(&mut rng, &base_body), edit(&mut rng, &base_body));
        let (b, o, t) = (
            markdown(&base_keys, &base_body),
            markdown(&ok, &ob),
            markdown(&tk, &tb),
        );
        let show = || format!("case {case}\n--- base\n{b}\n--- ours\n{o}\n--- theirs\n{t}");
        let file = |s: &str| FileContent {
            bytes: s.as_bytes().to_vec(),
            executable: false,
        };
        let got = merge::merge_file(
            "x.md",
            Some(&file(&b)),
            Some(&file(&o)),
            Some(&file(&t)),
            Labels::default(),
        )
        .unwrap();
        let line = merge::merge_text(
            "x.md",
            b.as_bytes(),
            o.as_bytes(),
            t.as_bytes(),
            Labels::default(),
        )
        .unwrap();
        let got_bytes = got.result.map(|r| r.bytes).unwrap_or_default();
        if line.clean {
            line_clean += 1;
            assert_eq!(
                got_bytes,
                line.bytes,
                "a clean line merge is kept: {}",
                show()
            );
            continue;
        }
        if got_bytes == line.bytes {
            fell_back += 1;
            continue;
        }
        rescued += 1;
        let text = String::from_utf8(got_bytes).unwrap();
        let keys = skillmeat_core::engine::frontmatter::parse(text.as_bytes())
            .unwrap()
            .unwrap();
        let all: std::collections::BTreeSet<String> = base_keys
            .iter()
            .chain(&ok)
            .chain(&tk)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &all {
            let (bv, ov, tv) = (value(&base_keys, k), value(&ok, k), value(&tk, k));
            let expected = if ov == tv || tv == bv {
                ov
            } else if ov == bv {
                tv
            } else {
                panic!("a key changed both ways was merged: {k}: {}", show());
            };
            let found = keys
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str().unwrap_or_default().to_owned());
            assert_eq!(found, expected, "key {k}: {}\n--- got\n{text}", show());
        }
        let body_at = text.match_indices("---\n").nth(1).unwrap().0 + 4;
        let bodies = merge::merge_text(
            "x.md",
            text_of_body(&b).as_bytes(),
            text_of_body(&o).as_bytes(),
            text_of_body(&t).as_bytes(),
            Labels::default(),
        )
        .unwrap();
        assert_eq!(
            &text.as_bytes()[body_at..],
            bodies.bytes,
            "the body is the line merge: {}",
            show()
        );
        assert_eq!(
            got.action == FileAction::CleanMerge,
            bodies.clean,
            "{}",
            show()
        );
    }
    eprintln!(
        "1500 Markdown triples: {line_clean} clean by lines (kept as they were), {rescued} merged \
         key by key, {fell_back} left to the line merge's conflict"
    );
    assert!(
        line_clean > 30 && rescued > 100 && fell_back > 50,
        "{line_clean} {rescued} {fell_back}"
    );
}

fn text_of_body(doc: &str) -> &str {
    let at = doc.match_indices("---\n").nth(1).unwrap().0 + 4;
    &doc[at..]
}
