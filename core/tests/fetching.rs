//! Fetching from real local git repositories: refs, subtree ids, export, upstream checks.

use std::path::Path;
use std::time::Duration;

use skillmeat_core::fetch::{FetchError, FetchSettings, RetryPolicy, UpstreamCache, remote_commit};
use skillmeat_core::hash;
use skillmeat_core::upstream::{RefSpec, UpstreamSpec};
use skillmeat_testutils::git::{GitRepo, fixture_upstream};

fn settings() -> FetchSettings {
    FetchSettings {
        retry: RetryPolicy {
            attempts: 1,
            first_delay: Duration::ZERO,
        },
        github_token: None,
    }
}

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

    repo.export(&v2, "skills/b", &out.path().join("b")).unwrap();
    assert_eq!(
        hash::hash_path(&out.path().join("b")).unwrap(),
        hash::hash_path(&up.path().join("skills/b")).unwrap()
    );
    repo.export(&v2, "commands/c.md", &out.path().join("c.md"))
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
        .export(&c, "skills/x", &out.path().join("x"))
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
        )
        .unwrap();
        repo.export(
            &v2,
            &format!("skills/{n}"),
            &out.path().join(format!("{n}-2")),
        )
        .unwrap();
        let h1 = hash::hash_path(&out.path().join(format!("{n}-1"))).unwrap();
        let h2 = hash::hash_path(&out.path().join(format!("{n}-2"))).unwrap();
        assert_eq!(h1 == h2, same, "{n}");
    }
}
