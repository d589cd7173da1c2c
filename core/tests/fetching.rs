//! Fetching from real local git repositories: refs, subtree ids, export, upstream checks.

use std::path::Path;
use std::time::Duration;

use skillmeat_core::model::hash;
use skillmeat_core::model::upstream::{RefSpec, UpstreamSpec};
use skillmeat_core::storage::fetch::{
    FetchError, FetchSettings, RetryPolicy, UpstreamCache, remote_commit,
};
use skillmeat_core::storage::upstream_tree::{BadName, Limits};
use skillmeat_testutils::git::{GitRepo, RawEntry, fixture_upstream};

fn settings() -> FetchSettings {
    FetchSettings {
        retry: RetryPolicy {
            attempts: 1,
            first_delay: Duration::ZERO,
        },
        github_token: None,
        github_server: None,
        limits: LIMITS,
        run: None,
    }
}

const LIMITS: Limits = Limits {
    max_file_bytes: Limits::DEFAULT_MAX_FILE_BYTES,
    max_artifact_bytes: Limits::DEFAULT_MAX_ARTIFACT_BYTES,
    max_files: Limits::DEFAULT_MAX_FILES,
};

fn spec(repo: &Path, rest: &str) -> UpstreamSpec {
    UpstreamSpec::parse(&format!("{}{rest}", repo.display())).unwrap()
}

/// An upstream with two skills and a command, tagged v1; then only `b` changes, tagged v2.
fn upstream() -> (GitRepo, String, String) {
    let up = GitRepo::new();
    up.write("skills/a/SKILL.md", "# A\n")
        .write("skills/b/SKILL.md", "# B\n");
    up.write_exec("skills/b/scripts/run.sh", "#!/bin/sh\necho b\n");
    up.write("commands/c.md", "Do C.\n");
    let v1 = up.commit("v1");
    up.tag("v1");
    up.write("skills/b/SKILL.md", "# B, improved\n");
    let v2 = up.commit("v2");
    up.tag_annotated("v2");
    (up, v1, v2)
}

#[test]
fn tags_branches_shas_and_latest_resolve() {
    let (up, v1, v2) = upstream();
    up.branch("stable");
    let cache_dir = tempfile::tempdir().unwrap();
    let repo = UpstreamCache::new(cache_dir.path())
        .fetch(&spec(up.path(), ""), &settings())
        .unwrap();

    assert_eq!(repo.resolve(&RefSpec::Named("v1".into())).unwrap(), v1);
    assert_eq!(
        repo.resolve(&RefSpec::Named("v2".into())).unwrap(),
        v2,
        "annotated tag peels to its commit"
    );
    assert_eq!(repo.resolve(&RefSpec::Named("stable".into())).unwrap(), v2);
    assert_eq!(repo.resolve(&RefSpec::Latest).unwrap(), v2);
    assert_eq!(
        repo.resolve(&RefSpec::Named(v1[..7].to_owned())).unwrap(),
        v1,
        "short sha"
    );
    assert_eq!(
        repo.resolve(&RefSpec::Named(v1.clone())).unwrap(),
        v1,
        "full sha"
    );
    let err = repo.resolve(&RefSpec::Named("v9".into())).unwrap_err();
    assert!(matches!(err, FetchError::UnknownRef { .. }), "{err}");
}

#[test]
fn a_commit_elsewhere_in_the_repository_keeps_the_subtree_id() {
    let (up, v1, v2) = upstream();
    let cache_dir = tempfile::tempdir().unwrap();
    let repo = UpstreamCache::new(cache_dir.path())
        .fetch(&spec(up.path(), ""), &settings())
        .unwrap();
    let a = |c: &str| repo.path_info(c, "skills/a").unwrap();
    let b = |c: &str| repo.path_info(c, "skills/b").unwrap();
    assert_eq!(a(&v1), a(&v2), "skill a did not change");
    assert_ne!(b(&v1).id, b(&v2).id, "skill b changed");
    assert!(a(&v1).is_dir);
    assert!(!repo.path_info(&v1, "commands/c.md").unwrap().is_dir);
    let err = repo.path_info(&v1, "skills/zzz").unwrap_err();
    assert!(matches!(err, FetchError::MissingPath { .. }), "{err}");
}

#[test]
fn export_reproduces_the_files_with_their_exec_bits() {
    let (up, _, v2) = upstream();
    let cache_dir = tempfile::tempdir().unwrap();
    let repo = UpstreamCache::new(cache_dir.path())
        .fetch(&spec(up.path(), ""), &settings())
        .unwrap();
    let out = tempfile::tempdir().unwrap();

    repo.export(&v2, "skills/b", &out.path().join("b"), &LIMITS)
        .unwrap();
    assert_eq!(
        hash::hash_path(&out.path().join("b")).unwrap(),
        hash::hash_path(&up.path().join("skills/b")).unwrap()
    );
    repo.export(&v2, "commands/c.md", &out.path().join("c.md"), &LIMITS)
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(out.path().join("c.md")).unwrap(),
        "Do C.\n"
    );
}

#[test]
fn symlinks_in_the_upstream_are_refused() {
    let up = GitRepo::new();
    up.write("skills/x/SKILL.md", "# X\n")
        .symlink("skills/x/passwd", "/etc/passwd");
    let c = up.commit("with a link");
    let cache_dir = tempfile::tempdir().unwrap();
    let repo = UpstreamCache::new(cache_dir.path())
        .fetch(&spec(up.path(), ""), &settings())
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = repo
        .export(&c, "skills/x", &out.path().join("x"), &LIMITS)
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::Unsupported { path, .. } if path == "skills/x/passwd"),
        "{err}"
    );
}

#[test]
fn the_upstream_check_sees_new_commits_without_fetching_them() {
    let (up, v1, v2) = upstream();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = UpstreamCache::new(cache_dir.path());
    let repo = cache.fetch(&spec(up.path(), ""), &settings()).unwrap();

    up.write("README.md", "elsewhere\n");
    let v3 = up.commit("v3");
    assert_eq!(
        remote_commit(&spec(up.path(), ""), &settings()).unwrap(),
        Some(v3.clone())
    );
    assert_eq!(
        remote_commit(&spec(up.path(), "@v1"), &settings()).unwrap(),
        Some(v1.clone())
    );
    assert_eq!(
        remote_commit(&spec(up.path(), "@v2"), &settings()).unwrap(),
        Some(v2.clone()),
        "annotated"
    );
    assert_eq!(
        remote_commit(&spec(up.path(), &format!("@{}", &v1[..8])), &settings()).unwrap(),
        None
    );
    // Nothing was fetched by the check: the cache still ends at v2.
    assert_eq!(repo.resolve(&RefSpec::Latest).unwrap(), v2);
    let repo = cache.fetch(&spec(up.path(), ""), &settings()).unwrap();
    assert_eq!(repo.resolve(&RefSpec::Latest).unwrap(), v3);
}

#[test]
fn a_missing_upstream_is_a_clear_error() {
    let cache_dir = tempfile::tempdir().unwrap();
    let missing = UpstreamSpec::parse("/nonexistent/skillmeat-upstream").unwrap();
    let err = UpstreamCache::new(cache_dir.path())
        .fetch(&missing, &settings())
        .unwrap_err();
    assert!(matches!(err, FetchError::Remote { .. }), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/skillmeat-upstream"),
        "{err}"
    );
}

// The realistic case of the issue: real skills at v1 and v2; exactly the three skills the
// fixture's manifest lists as changed have a different subtree id.
#[test]
fn fixture_v1_to_v2_changes_exactly_three_skills() {
    let Some(fixture) = fixture_upstream() else {
        return;
    };
    let cache_dir = tempfile::tempdir().unwrap();
    let repo = UpstreamCache::new(cache_dir.path())
        .fetch(&spec(fixture.path(), ""), &settings())
        .unwrap();
    let v1 = repo.resolve(&RefSpec::Named("v1".into())).unwrap();
    let v2 = repo.resolve(&RefSpec::Named("v2".into())).unwrap();
    let names = [
        "algorithmic-art",
        "brand-guidelines",
        "canvas-design",
        "frontend-design",
        "internal-comms",
        "mcp-builder",
        "skill-creator",
        "slack-gif-creator",
        "theme-factory",
        "web-artifacts-builder",
        "webapp-testing",
    ];
    let changed: Vec<&str> = names
        .into_iter()
        .filter(|n| {
            let path = format!("skills/{n}");
            repo.path_info(&v1, &path).unwrap() != repo.path_info(&v2, &path).unwrap()
        })
        .collect();
    assert_eq!(
        changed,
        ["frontend-design", "skill-creator", "slack-gif-creator"]
    );

    // Exported content hashes agree with the subtree verdict for a changed and an unchanged skill.
    let out = tempfile::tempdir().unwrap();
    for (n, same) in [("skill-creator", false), ("canvas-design", true)] {
        repo.export(
            &v1,
            &format!("skills/{n}"),
            &out.path().join(format!("{n}-1")),
            &LIMITS,
        )
        .unwrap();
        repo.export(
            &v2,
            &format!("skills/{n}"),
            &out.path().join(format!("{n}-2")),
            &LIMITS,
        )
        .unwrap();
        let h1 = hash::hash_path(&out.path().join(format!("{n}-1"))).unwrap();
        let h2 = hash::hash_path(&out.path().join(format!("{n}-2"))).unwrap();
        assert_eq!(h1 == h2, same, "{n}");
    }
}

/// Every name git refuses to check out, as an entry of a skill folder (some one level down):
/// the export is refused as a whole, names the entry and the commit, and writes nothing, not
/// even the files that came before the bad entry, and nothing outside the destination.
#[test]
fn hostile_tree_entries_are_refused_before_anything_is_written() {
    let cases: Vec<(Vec<RawEntry>, &str, BadName)> = vec![
        (vec![RawEntry::file("..", "x")], "..", BadName::Dots),
        (
            vec![RawEntry::dir("..", vec![RawEntry::file("pwned", "x")])],
            "..",
            BadName::Dots,
        ),
        (vec![RawEntry::file(".", "x")], ".", BadName::Dots),
        (vec![RawEntry::file("", "x")], "", BadName::Empty),
        (
            vec![RawEntry::file("a/../../../pwned", "x")],
            "a/../../../pwned",
            BadName::Separator,
        ),
        (
            vec![RawEntry::file("/tmp/pwned-abs", "x")],
            "/tmp/pwned-abs",
            BadName::Separator,
        ),
        (
            vec![RawEntry::file("a\\..\\b", "x")],
            "a\\..\\b",
            BadName::Separator,
        ),
        (vec![RawEntry::file("a\0b", "x")], "a\\0b", BadName::Control),
        (
            vec![RawEntry::file("row\nforged", "x")],
            "row\\nforged",
            BadName::Control,
        ),
        (
            vec![RawEntry::dir(
                ".git",
                vec![RawEntry::file(
                    "config",
                    "[core]\n\tfsmonitor = touch /tmp/pwned\n",
                )],
            )],
            ".git",
            BadName::DotGit,
        ),
        (
            vec![RawEntry::dir(".GIT", vec![RawEntry::file("HEAD", "x")])],
            ".GIT",
            BadName::DotGit,
        ),
        (
            vec![RawEntry::dir("git~1", vec![RawEntry::file("HEAD", "x")])],
            "git~1",
            BadName::DotGit,
        ),
        (
            vec![RawEntry::dir(
                "lib",
                vec![RawEntry::dir(".Git", vec![RawEntry::file("HEAD", "x")])],
            )],
            "lib/.Git",
            BadName::DotGit,
        ),
        (
            vec![RawEntry::dir("lib", vec![RawEntry::file("..", "x")])],
            "lib/..",
            BadName::Dots,
        ),
    ];
    for (i, (bad, shown, why)) in cases.into_iter().enumerate() {
        let up = GitRepo::new();
        up.write("README.md", "hi\n");
        let mut entries = vec![RawEntry::file(
            "A-first.md",
            "written before the bad entry?\n",
        )];
        entries.extend(bad);
        entries.push(RawEntry::file("SKILL.md", "# Evil\n"));
        let commit = up.commit_raw_tree("hostile", "skills/evil", &entries);
        let cache_dir = tempfile::tempdir().unwrap();
        let fetched = UpstreamCache::new(cache_dir.path()).fetch(&spec(up.path(), ""), &settings());
        if why == BadName::Empty || shown.contains("\\0") {
            // libgit2 itself cannot parse a tree with an empty name or a NUL inside one (the
            // NUL ends the name and the rest reads as garbage): the fetch fails, which refuses
            // it just as well (nothing can be read out of it).
            let err = fetched.unwrap_err();
            assert!(err.to_string().contains("parse"), "case {i}: {err}");
            continue;
        }
        let repo = fetched.unwrap_or_else(|e| panic!("case {i}: {e}"));
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("deep/er/evil");
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let err = repo
            .export(&commit, "skills/evil", &dest, &LIMITS)
            .unwrap_err();
        let text = err.to_string();
        match &err {
            FetchError::BadEntry {
                path,
                why: got,
                commit: c,
                ..
            } => {
                assert_eq!(path, &format!("skills/evil/{shown}"), "case {i}: {text}");
                assert_eq!(got, &why, "case {i}: {text}");
                assert_eq!(c, &commit, "case {i}");
            }
            other => panic!("case {i}: expected BadEntry, got {other}"),
        }
        assert!(
            text.contains(&commit[..12]),
            "case {i}: the commit is named: {text}"
        );
        assert!(
            !text.contains('\n'),
            "case {i}: the message is one line: {text}"
        );
        assert!(
            !dest.exists(),
            "case {i}: nothing of the artifact is written"
        );
        let mut left: Vec<_> = walk(out.path());
        left.sort();
        assert_eq!(
            left,
            ["deep", "deep/er"],
            "case {i}: nothing written anywhere"
        );
    }
    assert!(!Path::new("/tmp/pwned-abs").exists());
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

/// Sizes are checked from the object headers: a file over the limit, an artifact over the
/// limit and too many files are each refused with nothing written; the limit names the entry.
#[test]
fn upstream_size_limits_refuse_the_artifact_before_writing() {
    let up = GitRepo::new();
    up.write("skills/big/SKILL.md", "# Big\n")
        .write_mode("skills/big/data.bin", &vec![7u8; 4096], 0o644)
        .write("skills/many/SKILL.md", "# Many\n");
    for i in 0..20 {
        up.write(&format!("skills/many/f{i:02}.md"), "x\n");
    }
    let c = up.commit("sizes");
    let cache_dir = tempfile::tempdir().unwrap();
    let repo = UpstreamCache::new(cache_dir.path())
        .fetch(&spec(up.path(), ""), &settings())
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let small_file = Limits {
        max_file_bytes: 4095,
        ..LIMITS
    };
    let err = repo
        .export(&c, "skills/big", &out.path().join("a"), &small_file)
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::TooLarge { path, limit: 4095, .. } if path == "skills/big/data.bin"),
        "{err}"
    );
    let small_artifact = Limits {
        max_artifact_bytes: 4096,
        ..LIMITS
    };
    let err = repo
        .export(&c, "skills/big", &out.path().join("b"), &small_artifact)
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::TooLarge { limit: 4096, .. }),
        "{err}"
    );
    let few = Limits {
        max_files: 20,
        ..LIMITS
    };
    let err = repo
        .export(&c, "skills/many", &out.path().join("c"), &few)
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::TooLarge { limit: 20, .. }),
        "{err}"
    );
    assert!(walk(out.path()).is_empty(), "nothing written");
    // At the limit exactly, it passes.
    let exact = Limits {
        max_file_bytes: 4096,
        max_artifact_bytes: 4096 + 6,
        max_files: 21,
    };
    repo.export(&c, "skills/big", &out.path().join("d"), &exact)
        .unwrap();
    repo.export(&c, "skills/many", &out.path().join("e"), &exact)
        .unwrap();
}

/// Names that hashing ignores are not placed either: nothing lands where drift cannot see it.
#[test]
fn ignored_names_are_not_placed() {
    let up = GitRepo::new();
    up.write("skills/s/SKILL.md", "# S\n")
        .write("skills/s/__pycache__/m.cpython-311.pyc", "bytecode")
        .write("skills/s/tool.pyc", "bytecode")
        .write("skills/s/.DS_Store", "litter")
        .write("skills/s/tool.py", "print()\n");
    let c = up.commit("litter");
    let cache_dir = tempfile::tempdir().unwrap();
    let repo = UpstreamCache::new(cache_dir.path())
        .fetch(&spec(up.path(), ""), &settings())
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    repo.export(&c, "skills/s", &out.path().join("s"), &LIMITS)
        .unwrap();
    let mut placed = walk(&out.path().join("s"));
    placed.sort();
    assert_eq!(placed, ["SKILL.md", "tool.py"]);
}

#[test]
fn a_fetch_killed_midway_leaves_no_lock_that_stops_the_next() {
    let (up, _, v2) = upstream();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = UpstreamCache::new(cache_dir.path());
    cache.fetch(&spec(up.path(), ""), &settings()).unwrap();
    let repo_dir = std::fs::read_dir(cache_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "git"))
        .unwrap();
    // What a `kill -9` during a fetch leaves: git's own lock files.
    let branch = std::fs::read_dir(repo_dir.join("refs/remotes/origin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let mut stale = branch.into_os_string();
    stale.push(".lock");
    std::fs::write(&stale, "").unwrap();
    std::fs::write(repo_dir.join("packed-refs.lock"), "").unwrap();
    up.write("skills/a/SKILL.md", "# A, again\n");
    let v3 = up.commit("v3");
    let repo = cache.fetch(&spec(up.path(), ""), &settings()).unwrap();
    assert_eq!(repo.resolve(&RefSpec::Latest).unwrap(), v3);
    assert_ne!(v3, v2);
    assert!(!std::path::Path::new(&stale).exists());
    assert!(!repo_dir.join("packed-refs.lock").exists());
}
