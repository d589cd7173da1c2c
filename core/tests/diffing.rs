//! The diff engine against git, differentially: on generated texts (repeated lines, edits at
//! the ends, files without a final newline) and on every file the real fixture changes between
//! its tags, each patch SkillMeat exports applies with `git apply` and gives back the new side
//! byte for byte, and its hunks change no more lines than `git diff --histogram`'s.

use std::path::Path;
use std::process::Command;

use skillmeat_core::engine::diff::{DiffEngine, diff_text_with, git_patch};
use skillmeat_core::model::files::{ArtifactFiles, FileContent};
use skillmeat_testutils::Rng;

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap()
}

/// Lines changed (`+` and `-`) in a unified diff's hunks.
fn changed_lines(unified: &str) -> usize {
    let mut in_hunk = false;
    unified
        .lines()
        .filter(|l| {
            if l.starts_with("@@") {
                in_hunk = true;
                return false;
            }
            in_hunk
                && ((l.starts_with('+') && !l.starts_with("+++"))
                    || (l.starts_with('-') && !l.starts_with("---")))
        })
        .count()
}

/// Checks one pair: the patch applies and reproduces `new`; no more changed lines than git's
/// histogram diff. Returns (ours, git's) changed-line counts.
fn check(dir: &Path, case: &str, old: &str, new: &str) -> (usize, usize) {
    let one = |text: &str| {
        let mut f = ArtifactFiles::default();
        f.files.insert("f.md".to_owned(), FileContent::text(text));
        f
    };
    let (patch, left_out) = git_patch(&one(old), &one(new), "");
    assert!(left_out.is_empty(), "{case}: {left_out:?}");
    std::fs::write(dir.join("f.md"), old).unwrap();
    std::fs::write(dir.join("new.md"), new).unwrap();
    std::fs::write(dir.join("p.patch"), &patch).unwrap();
    if old != new {
        let o = git(dir, &["apply", "--unidiff-zero", "p.patch"]);
        assert!(
            o.status.success(),
            "{case}: git apply refused the patch: {}\n{patch}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("f.md")).unwrap(),
        new,
        "{case}: the patch does not give the new side\n{patch}"
    );
    std::fs::write(dir.join("f.md"), old).unwrap();
    let theirs = git(
        dir,
        &["diff", "--no-index", "--histogram", "-U3", "f.md", "new.md"],
    );
    let (ours, git_count) = (
        changed_lines(&diff_text_with(old, new, DiffEngine::Histogram).unified),
        changed_lines(&String::from_utf8_lossy(&theirs.stdout)),
    );
    assert!(
        ours <= git_count,
        "{case}: {ours} changed lines against git's {git_count}\n{patch}"
    );
    (ours, git_count)
}

#[test]
fn generated_patches_apply_with_git_and_are_no_larger_than_its_histogram_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert!(git(dir, &["init", "-q"]).status.success());
    // A small vocabulary: repeated lines (braces, blank lines, list markers) as in real files.
    let vocab = [
        "",
        "}",
        "{",
        "- item",
        "## Usage",
        "fn main() {",
        "    return x;",
        "Run the tests.",
        "```",
        "---",
        "name: x",
        "The skill reads every file.",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let (mut ours_total, mut git_total) = (0, 0);
    for case in 0..400 {
        let len = rng.below(120);
        let line = |rng: &mut Rng| -> String {
            if rng.below(3) == 0 {
                format!("unique line {}", rng.next_u64() % 100_000)
            } else {
                vocab[rng.below(vocab.len())].to_owned()
            }
        };
        let old: Vec<String> = (0..len).map(|_| line(&mut rng)).collect();
        let mut new = old.clone();
        for _ in 0..rng.below(8) {
            let at = rng.below(new.len() + 1);
            match rng.below(3) {
                0 => new.insert(at, line(&mut rng)),
                1 if at < new.len() => {
                    new.remove(at);
                }
                _ if at < new.len() => new[at] = line(&mut rng),
                _ => new.push(line(&mut rng)),
            }
        }
        let text = |lines: &[String], final_newline: bool| {
            let mut t = lines.join("\n");
            if final_newline && !t.is_empty() {
                t.push('\n');
            }
            t
        };
        let (old_nl, new_nl) = (rng.below(5) != 0, rng.below(5) != 0);
        let (o, n) = check(
            dir,
            &format!("case {case}"),
            &text(&old, old_nl),
            &text(&new, new_nl),
        );
        ours_total += o;
        git_total += n;
    }
    eprintln!("400 generated pairs: {ours_total} changed lines, git --histogram {git_total}");
}

#[test]
fn every_changed_file_of_the_real_fixture_diffs_as_git_applies_it() {
    let Some(repo) = skillmeat_testutils::git::fixture_upstream() else {
        return;
    };
    let repo = repo.path();
    let tmp = tempfile::tempdir().unwrap();
    assert!(git(tmp.path(), &["init", "-q"]).status.success());
    let tags = ["v1", "v2", "v3", "v4"];
    let mut checked = 0;
    for pair in tags.windows(2) {
        let names = git(
            repo,
            &[
                "diff",
                "--no-renames",
                "--name-only",
                "--diff-filter=M",
                pair[0],
                pair[1],
            ],
        );
        for path in String::from_utf8(names.stdout).unwrap().lines() {
            let show = |tag: &str| {
                let o = git(repo, &["show", &format!("{tag}:{path}")]);
                String::from_utf8(o.stdout).ok()
            };
            let (Some(old), Some(new)) = (show(pair[0]), show(pair[1])) else {
                continue; // binary
            };
            if old.contains('\0') || new.contains('\0') {
                continue;
            }
            check(
                tmp.path(),
                &format!("{path} {}→{}", pair[0], pair[1]),
                &old,
                &new,
            );
            checked += 1;
        }
    }
    assert!(
        checked > 10,
        "the fixture changes files between its tags: {checked}"
    );
}
