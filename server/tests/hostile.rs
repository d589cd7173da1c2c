//! The CLI against hostile input: an upstream whose trees git itself would refuse to check out,
//! a project whose `.claude/` leads out of it, broken records, names that forge output.

use std::path::{Path, PathBuf};

use skillmeat_testutils::git::{GitRepo, RawEntry};

use crate::cli::{skillmeat, text};

fn files_named(root: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == name) {
                found.push(path.clone());
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    found
}

/// A home with the artifact at `path` of the CLI tests' upstream added and deployed into a
/// project: (the upstream, the temp dir, the home, the project).
fn deployed(path: &str, id: &str) -> (GitRepo, tempfile::TempDir, PathBuf, PathBuf) {
    let up = crate::cli::upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let spec = format!("{}#{path}", up.path().display());
    let o = skillmeat(&home, tmp.path(), &["add", &spec]);
    assert!(o.status.success(), "{}", text(&o));
    let o = skillmeat(
        &home,
        tmp.path(),
        &["deploy", id, "--project", project.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    (up, tmp, home, project)
}

/// `add` of an artifact whose tree climbs out with `..` (the attack that overwrote
/// `$HOME/.bashrc`) or carries a `.git` folder: refused, exit 1, the entry and the commit
/// named, nothing written anywhere; an honest artifact of the same upstream still adds.
#[test]
fn add_refuses_a_hostile_tree_and_writes_nothing() {
    let up = GitRepo::new();
    up.write("skills/good/SKILL.md", "# Good\n");
    let commit = up.commit_raw_tree(
        "hostile",
        "skills/evil",
        &[
            RawEntry::file("SKILL.md", "# Evil\n"),
            RawEntry::dir(
                "..",
                vec![RawEntry::dir(
                    "..",
                    vec![RawEntry::dir(
                        "..",
                        vec![RawEntry::file(".bashrc", "pwned\n")],
                    )],
                )],
            ),
        ],
    );
    up.commit_raw_tree(
        "and a repository inside",
        "skills/withgit",
        &[
            RawEntry::file("SKILL.md", "# Git\n"),
            RawEntry::dir(
                ".git",
                vec![RawEntry::file(
                    "config",
                    "[core]\n\tfsmonitor = touch pwned-fsmonitor\n",
                )],
            ),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".bashrc"), "mine\n").unwrap();

    // The second raw commit replaced the work tree's tree: the first is reached by its sha.
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "add",
            &format!("{}#skills/evil@{commit}", up.path().display()),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("skills/evil/.."),
        "names the entry: {}",
        text(&o)
    );
    assert!(
        text(&o).contains(&commit[..12]),
        "names the commit: {}",
        text(&o)
    );
    let o = skillmeat(
        &home,
        tmp.path(),
        &["add", &format!("{}#skills/withgit", up.path().display())],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("skills/withgit/.git"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(home.join(".bashrc")).unwrap(),
        "mine\n"
    );
    assert_eq!(files_named(tmp.path(), ".bashrc"), [home.join(".bashrc")]);
    assert!(files_named(tmp.path(), "pwned-fsmonitor").is_empty());
    assert!(!home.join("collections/default/skills/evil").exists());
    assert!(!home.join("collections/default/skills/withgit").exists());
    let o = skillmeat(&home, tmp.path(), &["list", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "[]",
        "{}",
        text(&o)
    );

    let o = skillmeat(
        &home,
        tmp.path(),
        &["add", &format!("{}#skills/good", up.path().display())],
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// An upstream that turns hostile later: `update --all` refuses that artifact (its collection
/// copy stays as it was) and updates the others; `drift --check-all` shows the healthy rows
/// and one error for it, exit 1.
#[test]
fn update_all_and_drift_go_on_past_one_hostile_artifact() {
    let up = GitRepo::new();
    up.write("skills/good/SKILL.md", "# Good\n")
        .write("skills/turns/SKILL.md", "# Turns\n");
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    for name in ["good", "turns"] {
        let o = skillmeat(
            &home,
            tmp.path(),
            &["add", &format!("{}#skills/{name}", up.path().display())],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    up.write("skills/good/SKILL.md", "# Good, v2\n");
    up.commit_raw_tree(
        "turns hostile",
        "skills/turns",
        &[
            RawEntry::file("SKILL.md", "# Turns, v2\n"),
            RawEntry::file("a/../../../../escaped", "x"),
        ],
    );

    let o = skillmeat(&home, tmp.path(), &["drift", "--check-all", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rows"][0]["id"], "skill:good", "{report:#}");
    assert_eq!(report["rows"][0]["status"], "outdated", "{report:#}");
    assert_eq!(report["problems"][0]["id"], "skill:turns", "{report:#}");

    let o = skillmeat(&home, tmp.path(), &["update", "--all", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("escaped"), "{}", text(&o));
    let collection = home.join("collections/default/skills");
    assert_eq!(
        std::fs::read_to_string(collection.join("good/SKILL.md")).unwrap(),
        "# Good, v2\n"
    );
    assert_eq!(
        std::fs::read_to_string(collection.join("turns/SKILL.md")).unwrap(),
        "# Turns\n"
    );
    assert!(files_named(tmp.path(), "escaped").is_empty());
}

/// `.claude/skills` as a symlink out of the project: deploy is refused with what to do and
/// writes nothing there; `project allow-links` lets it through, `--off` refuses again.
#[test]
fn deploy_through_a_link_out_of_the_project_needs_an_opt_in() {
    let up = crate::cli::upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project, outside) = (
        tmp.path().join("home"),
        tmp.path().join("proj"),
        tmp.path().join("dotfiles/skills"),
    );
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, project.join(".claude/skills")).unwrap();
    let spec = format!("{}#skills/review@v1", up.path().display());
    assert!(
        skillmeat(&home, tmp.path(), &["add", &spec])
            .status
            .success()
    );
    let p = project.to_str().unwrap();

    let o = skillmeat(
        &home,
        tmp.path(),
        &["deploy", "skill:review", "--project", p],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("skillmeat project allow-links"),
        "{}",
        text(&o)
    );
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "nothing written outside"
    );
    assert!(!project.join(".claude/.skillmeat-deployed.toml").exists());

    // A link that stays inside the project is fine without asking.
    let inside = tmp.path().join("proj2");
    std::fs::create_dir_all(inside.join("shared/skills")).unwrap();
    std::fs::create_dir_all(inside.join(".claude")).unwrap();
    std::os::unix::fs::symlink("../shared/skills", inside.join(".claude/skills")).unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "deploy",
            "skill:review",
            "--project",
            inside.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(inside.join("shared/skills/review/SKILL.md").is_file());

    let o = skillmeat(&home, tmp.path(), &["project", "allow-links", p, "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let set: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(set["allow_links_outside"], true, "{set}");
    let o = skillmeat(
        &home,
        tmp.path(),
        &["deploy", "skill:review", "--project", p],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(outside.join("review/SKILL.md").is_file());

    let o = skillmeat(&home, tmp.path(), &["project", "allow-links", p, "--off"]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(
        home.join("collections/default/skills/review/SKILL.md"),
        "# Review, v2\n",
    )
    .unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "sync",
            "skill:review",
            "--direction",
            "deploy",
            "--project",
            p,
            "--yes",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(outside.join("review/SKILL.md")).unwrap(),
        "# Review\n"
    );
}

/// Garbage in records and collection files is reported, never read as something else.
#[test]
fn garbage_in_records_is_reported_not_misread() {
    let (_up, tmp, home, project) = deployed("commands/fix.md", "command:fix");
    let p = project.to_str().unwrap();
    let records_path = project.join(".claude/.skillmeat-deployed.toml");
    let records = std::fs::read_to_string(&records_path).unwrap();

    // A content hash that is not one.
    let hash_line = records
        .lines()
        .find(|l| l.starts_with("content_hash"))
        .unwrap();
    std::fs::write(
        &records_path,
        records.replace(hash_line, "content_hash = \"zzzz\""),
    )
    .unwrap();
    let o = skillmeat(&home, tmp.path(), &["drift", "--project", p]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("content_hash") && text(&o).contains("zzzz"),
        "{}",
        text(&o)
    );
    let o = skillmeat(
        &home,
        tmp.path(),
        &["deploy", "command:fix", "--project", p],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not 64 hex digits"), "{}", text(&o));

    // The same artifact recorded twice.
    let table = &records[records.find("[[deployed]]").unwrap()..];
    std::fs::write(&records_path, format!("{records}\n{table}")).unwrap();
    let o = skillmeat(&home, tmp.path(), &["drift", "--project", p]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("command:fix has two records"),
        "{}",
        text(&o)
    );
    std::fs::write(&records_path, &records).unwrap();

    // A lock hash that is not one: an error, not `removed`.
    let lock_path = home.join("collections/default/collection.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let line = lock
        .lines()
        .find(|l| l.starts_with("content_hash"))
        .unwrap();
    std::fs::write(&lock_path, lock.replace(line, "content_hash = \"\"")).unwrap();
    let o = skillmeat(&home, tmp.path(), &["drift", "--check-all"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!text(&o).contains("removed"), "{}", text(&o));
    assert!(text(&o).contains("collection.lock"), "{}", text(&o));
    std::fs::write(&lock_path, &lock).unwrap();

    // An emptied collection.toml does not hide what is deployed.
    let manifest_path = home.join("collections/default/collection.toml");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(&manifest_path, "").unwrap();
    let o = skillmeat(&home, tmp.path(), &["drift", "--project", p, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not in the collection"),
        "{report:#}"
    );
    std::fs::write(&manifest_path, manifest).unwrap();

    // A deleted project is reported, not skipped; the others are still checked.
    let gone = tmp.path().join("gone");
    std::fs::create_dir_all(&gone).unwrap();
    let g = gone.to_str().unwrap();
    assert!(
        skillmeat(
            &home,
            tmp.path(),
            &["deploy", "command:fix", "--project", g]
        )
        .status
        .success()
    );
    std::fs::remove_dir_all(&gone).unwrap();
    let o = skillmeat(&home, tmp.path(), &["drift", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{report:#}"
    );
    assert_eq!(report["rows"][0]["status"], "synced", "{report:#}");
}

/// A file name with a newline and an ANSI escape is printed escaped: it cannot forge a plan
/// row or recolour the terminal.
#[test]
fn names_with_control_characters_are_printed_escaped() {
    let (_up, tmp, home, project) = deployed("skills/review", "skill:review");
    let p = project.to_str().unwrap();
    let forged = "x\n  unchanged  SKILL.md\u{1b}[2J";
    std::fs::write(
        home.join("collections/default/skills/review").join(forged),
        "hi\n",
    )
    .unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "sync",
            "skill:review",
            "--direction",
            "deploy",
            "--project",
            p,
            "--dry-run",
        ],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(
        out.contains("x\\n  unchanged  SKILL.md\\u{1b}[2J"),
        "{out:?}"
    );
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("unchanged  SKILL.md")),
        "{out:?}"
    );
}
