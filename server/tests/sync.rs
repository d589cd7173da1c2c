//! `sync`, `update`, `resolve`, `rollback` and `diff` as a user runs them, on real repositories;
//! with the fixture of real skills when it is there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::{skillmeat, text, upstream};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A home with the artifact at `path_spec` (`#path@ref`) of the upstream at `up` added and
/// deployed into a project: (temp dir, home, project).
fn deployed(up: &Path, path_spec: &str, id: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let spec = format!("{}{path_spec}", up.display());
    let o = skillmeat(&home, tmp.path(), &["add", &spec]);
    assert!(o.status.success(), "{}", text(&o));
    let o = skillmeat(
        &home,
        tmp.path(),
        &["deploy", id, "--project", project.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    (tmp, home, project)
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

#[test]
fn a_conflict_through_the_cli_plan_pending_resolve_continue_rollback() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let p = project.to_str().unwrap();
    let spec = format!("{}#commands/fix.md@v1", up.path().display());
    assert!(
        skillmeat(&home, tmp.path(), &["add", &spec])
            .status
            .success()
    );
    assert!(
        skillmeat(
            &home,
            tmp.path(),
            &["deploy", "command:fix", "--project", p]
        )
        .status
        .success()
    );
    let in_project = project.join(".claude/commands/fix.md");
    let in_collection = home.join("collections/default/commands/fix.md");
    std::fs::write(&in_project, "Fix, project.\n").unwrap();
    std::fs::write(&in_collection, "Fix, collection.\n").unwrap();

    // Without a terminal and without --yes: the plan only.
    let sync = [
        "sync",
        "command:fix",
        "--direction",
        "deploy",
        "--project",
        p,
    ];
    let o = skillmeat(&home, tmp.path(), &sync);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("conflict") && text(&o).contains("Not applied"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&in_project).unwrap(),
        "Fix, project.\n"
    );

    let o = skillmeat(&home, tmp.path(), &[&sync[..], &["--yes"]].concat());
    assert_eq!(
        o.status.code(),
        Some(3),
        "conflicts pending → exit 3: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("skillmeat resolve command:fix"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&in_project).unwrap(),
        "Fix, project.\n"
    );

    let o = skillmeat(&home, tmp.path(), &["resolve", "command:fix", "--continue"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("fix.md"), "{}", text(&o));

    let custom = tmp.path().join("mine.md");
    std::fs::write(&custom, "<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n").unwrap();
    let c = custom.to_str().unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &["resolve", "command:fix", "--file", "fix.md", "--custom", c],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "markers are refused: {}",
        text(&o)
    );
    std::fs::write(&custom, "Fix, both.\n").unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &["resolve", "command:fix", "--file", "fix.md", "--custom", c],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = skillmeat(
        &home,
        tmp.path(),
        &["resolve", "command:fix", "--continue", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["resolution"], "resolved");
    assert_eq!(
        std::fs::read_to_string(&in_project).unwrap(),
        "Fix, both.\n"
    );

    // The diff between the tiers shows the project's own line.
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "diff",
            "command:fix",
            "--lhs",
            "collection",
            "--rhs",
            "project",
            "--project",
            p,
        ],
    );
    assert!(
        text(&o).contains("-Fix, collection.") && text(&o).contains("+Fix, both."),
        "{}",
        text(&o)
    );
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "diff",
            "command:fix",
            "--lhs",
            "upstream",
            "--rhs",
            "collection",
            "--stat",
        ],
    );
    assert!(
        text(&o).contains("fix.md") && text(&o).contains("+1 -1"),
        "{}",
        text(&o)
    );

    // Roll the project back to what it had before the merge.
    let o = skillmeat(&home, tmp.path(), &["history", "command:fix", "--json"]);
    let history = json(&o);
    let before = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["metadata"]["snapshot"] == "pre-sync")
        .map(|v| v["content_hash"].as_str().unwrap().to_owned())
        .expect("the pre-sync snapshot is a version");
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "rollback",
            "command:fix",
            "--to",
            &before[..12],
            "--project",
            p,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&in_project).unwrap(),
        "Fix, project.\n"
    );
    let o = skillmeat(
        &home,
        tmp.path(),
        &["rollback", "command:fix", "--to", "0000abcd"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("no recorded version"), "{}", text(&o));

    // Bad input: unknown direction, a project direction without a project, an unknown tier.
    let o = skillmeat(
        &home,
        tmp.path(),
        &["sync", "command:fix", "--direction", "sideways"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = skillmeat(
        &home,
        tmp.path(),
        &["sync", "command:fix", "--direction", "deploy"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "diff",
            "command:fix",
            "--lhs",
            "nowhere",
            "--rhs",
            "collection",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "sync",
            "command:fix",
            "--direction",
            "deploy",
            "--project",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("not a registered project"),
        "{}",
        text(&o)
    );
}

#[test]
fn two_processes_syncing_one_artifact_lose_no_update() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let p = project.to_str().unwrap();
    // Follows the default branch, so the upstream can move.
    let spec = format!("{}#commands/fix.md", up.path().display());
    assert!(
        skillmeat(&home, tmp.path(), &["add", &spec])
            .status
            .success()
    );
    assert!(
        skillmeat(
            &home,
            tmp.path(),
            &["deploy", "command:fix", "--project", p]
        )
        .status
        .success()
    );
    let in_collection = home.join("collections/default/commands/fix.md");
    let mut up_text = "Fix.\n".to_owned();
    for round in 0..8 {
        // Both write the collection: the upstream adds a line at the top, the project at the end.
        let now = std::fs::read_to_string(&in_collection).unwrap();
        std::fs::write(
            project.join(".claude/commands/fix.md"),
            format!("{now}project {round}\n"),
        )
        .unwrap();
        up_text = format!("upstream {round}\n{up_text}");
        up.write("commands/fix.md", &up_text);
        up.commit(&format!("round {round}"));
        let spawn = |direction: &str| {
            Command::new(env!("CARGO_BIN_EXE_skillmeat"))
                .args([
                    "--home",
                    home.to_str().unwrap(),
                    "sync",
                    "command:fix",
                    "--direction",
                    direction,
                    "--yes",
                    "--json",
                ])
                .args(if direction == "project" {
                    vec!["--project", p]
                } else {
                    vec![]
                })
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| spawn("upstream"));
            let b = s.spawn(|| spawn("project"));
            (a.join().unwrap(), b.join().unwrap())
        });
        let after = std::fs::read_to_string(&in_collection).unwrap();
        eprintln!(
            "round {round}: upstream sync {:?}, project capture {:?}",
            a.status.code(),
            b.status.code()
        );
        for (o, line) in [
            (&a, format!("upstream {round}")),
            (&b, format!("project {round}")),
        ] {
            if o.status.success() {
                assert!(
                    after.contains(&line),
                    "a reported success lost its update:\n{after}\n{}",
                    text(o)
                );
            } else {
                assert!(
                    text(o).contains("changed while the sync was being prepared")
                        || text(o).contains("is locked"),
                    "{}",
                    text(o)
                );
            }
        }
        // Settle the round so the next one starts from a synced state.
        for d in ["upstream", "project"] {
            let o = spawn(d);
            assert!(
                o.status.success() || o.status.code() == Some(3),
                "{}",
                text(&o)
            );
            if o.status.code() == Some(3) {
                panic!("unexpected conflict in round {round}: {}", text(&o));
            }
        }
        let settled = std::fs::read_to_string(&in_collection).unwrap();
        assert!(
            settled.contains(&format!("upstream {round}"))
                && settled.contains(&format!("project {round}")),
            "{settled}"
        );
        assert!(
            skillmeat(
                &home,
                tmp.path(),
                &[
                    "sync",
                    "command:fix",
                    "--direction",
                    "deploy",
                    "--project",
                    p,
                    "--yes",
                    "--strategy",
                    "theirs"
                ]
            )
            .status
            .success()
        );
    }
}

#[test]
fn update_all_brings_the_real_skills_from_v1_to_v3_keeping_a_project_edit() {
    let Some(up) = skillmeat_testutils::git::fixture_upstream() else {
        return;
    };
    let up = up.path();
    git(up, &["branch", "track", "v1"]);
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let p = project.to_str().unwrap();
    let skills = [
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
    for name in skills {
        let spec = format!("{}#skills/{name}@track", up.display());
        let o = skillmeat(&home, tmp.path(), &["add", &spec]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let ids: Vec<String> = skills.iter().map(|s| format!("skill:{s}")).collect();
    let mut deploy = vec!["deploy"];
    deploy.extend(ids.iter().map(String::as_str));
    deploy.extend(["--project", p]);
    assert!(skillmeat(&home, tmp.path(), &deploy).status.success());

    // A team note right after the front matter, a region v1 → v3 leaves alone.
    let skill_md = project.join(".claude/skills/skill-creator/SKILL.md");
    let original = std::fs::read_to_string(&skill_md).unwrap();
    let lines: Vec<&str> = original.split_inclusive('\n').collect();
    assert_eq!(lines[5], "\n", "the fixture's SKILL.md changed shape");
    let note = "> Team note: run the evals before publishing.\n\n";
    let edited = format!("{}{note}{}", lines[..6].concat(), lines[6..].concat());
    std::fs::write(&skill_md, &edited).unwrap();

    git(up, &["branch", "-f", "track", "v3"]);
    let o = skillmeat(
        &home,
        tmp.path(),
        &["update", "--all", "--project", p, "--yes", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rows = json(&o);
    let results: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (id, result) in &results {
        let expected = if id == "skill:skill-creator" {
            "auto-merged"
        } else {
            "updated"
        };
        assert_eq!(result, expected, "{id}: {results:?}");
    }
    assert_eq!(results.len(), 11);

    // The project has v3 everywhere, plus the note.
    let v3 = |rel: &str| {
        let out = Command::new("git")
            .current_dir(up)
            .args(["show", &format!("v3:skills/{rel}")])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let merged = std::fs::read_to_string(&skill_md).unwrap();
    assert!(merged.contains(note), "the project edit was lost");
    assert_eq!(merged.replace(note, ""), v3("skill-creator/SKILL.md"));
    let creator = project.join(".claude/skills/skill-creator");
    assert!(
        creator.join("scripts/run_loop.py").is_file(),
        "an added file is missing"
    );
    assert!(
        !creator.join("scripts/init_skill.py").exists(),
        "a deleted file is still there"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(creator.join("scripts/run_loop.py"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "exec bit lost on an added script");
    }
    let gif = project.join(".claude/skills/slack-gif-creator");
    let count = walk_count(&gif);
    assert_eq!(count, 7, "slack-gif-creator has 7 files at v3");

    // Drift agrees: everything synced but the project's own edit.
    let o = skillmeat(&home, tmp.path(), &["drift", "--json", "--check-all"]);
    for row in json(&o)["rows"].as_array().unwrap() {
        let expected = if row["id"] == "skill:skill-creator" && row["pair"] == "collection-project"
        {
            "modified"
        } else {
            "synced"
        };
        assert_eq!(row["status"], expected, "{row}");
    }
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn a_patch_bundle_applies_to_the_upstream_with_git_apply() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let p = project.to_str().unwrap();
    let spec = format!("{}#skills/review@v1", up.path().display());
    assert!(
        skillmeat(&home, tmp.path(), &["add", &spec])
            .status
            .success()
    );
    assert!(
        skillmeat(
            &home,
            tmp.path(),
            &["deploy", "skill:review", "--project", p]
        )
        .status
        .success()
    );
    let out = tmp.path().join("review.tar.gz");
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "patch",
            "skill:review",
            "--project",
            p,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "no edits, nothing to export: {}",
        text(&o)
    );
    assert!(!out.exists());

    let skill = project.join(".claude/skills/review");
    std::fs::write(skill.join("SKILL.md"), "# Review\n\nAnd check the tests.\n").unwrap();
    std::fs::write(skill.join("checklist.md"), "- tests\n").unwrap();
    std::fs::write(skill.join("logo.png"), [0u8, 1, 2, 3]).unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "patch",
            "skill:review",
            "--project",
            p,
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bundle = json(&o);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bundle["size"], bytes.len());
    let sha = Command::new("sha256sum").arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&sha.stdout).starts_with(bundle["sha256"].as_str().unwrap()));
    assert_eq!(
        bundle["manifest"]["whole_files"][0],
        "skills/review/logo.png"
    );

    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&out)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(unpacked.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["artifact"], "skill:review");
    assert_eq!(manifest["path"], "skills/review");
    assert_eq!(
        std::fs::read(unpacked.join("files/skills/review/logo.png")).unwrap(),
        [0u8, 1, 2, 3]
    );
    // The upstream's work tree is at the base commit: the patch applies cleanly there.
    let apply = Command::new("git")
        .current_dir(up.path())
        .args(["apply", "--check", "-v"])
        .arg(unpacked.join("review.patch"))
        .output()
        .unwrap();
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    let apply = Command::new("git")
        .current_dir(up.path())
        .arg("apply")
        .arg(unpacked.join("review.patch"))
        .status()
        .unwrap();
    assert!(apply.success());
    assert_eq!(
        std::fs::read_to_string(up.path().join("skills/review/SKILL.md")).unwrap(),
        "# Review\n\nAnd check the tests.\n"
    );
    assert_eq!(
        std::fs::read_to_string(up.path().join("skills/review/checklist.md")).unwrap(),
        "- tests\n"
    );
}

#[test]
fn a_sync_killed_at_any_moment_leaves_the_old_or_the_new_version_and_rollback_restores() {
    use skillmeat_core::model::hash::hash_path;
    let up = skillmeat_testutils::git::GitRepo::new();
    // A skill big enough that writing it takes a while: 300 files.
    for i in 0..300 {
        up.write(
            &format!("skills/big/part-{i:03}.md"),
            &format!("old {i}\n{}", "x".repeat(4000)),
        );
    }
    up.write("skills/big/SKILL.md", "# Big\n");
    up.commit("v1");
    let (tmp, home, project) = deployed(up.path(), "#skills/big", "skill:big");
    let p = project.to_str().unwrap();
    let in_project = project.join(".claude/skills/big");
    let old = hash_path(&in_project).unwrap();
    let collection = home.join("collections/default/skills/big");
    for i in 0..300 {
        std::fs::write(
            collection.join(format!("part-{i:03}.md")),
            format!("new {i}\n{}", "y".repeat(4000)),
        )
        .unwrap();
    }
    let new = hash_path(&collection).unwrap();
    // How long a whole sync takes here, to spread the kills over it.
    let t = std::time::Instant::now();
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "sync",
            "skill:big",
            "--direction",
            "deploy",
            "--project",
            p,
            "--yes",
            "--strategy",
            "theirs",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let span = (t.elapsed().as_millis() as u64 * 5 / 4).max(60);
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "rollback",
            "skill:big",
            "--to",
            &old.to_hex()[..12],
            "--project",
            p,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (mut saw_old, mut saw_new) = (0, 0);
    let attempts = 16u64;
    for attempt in 0..attempts {
        let mut child = Command::new(env!("CARGO_BIN_EXE_skillmeat"))
            .args([
                "--home",
                home.to_str().unwrap(),
                "sync",
                "skill:big",
                "--direction",
                "deploy",
            ])
            .args(["--project", p, "--yes", "--strategy", "theirs"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Spread over the sync's span; the last attempt waits long enough for it to finish.
        let wait = if attempt + 1 == attempts {
            span * 4
        } else {
            span * attempt / 14
        };
        std::thread::sleep(std::time::Duration::from_millis(wait));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = hash_path(&in_project).unwrap();
        assert!(
            now == old || now == new,
            "attempt {attempt}: a mix of versions on disk"
        );
        if now == new {
            saw_new += 1;
            // Back to the old version for the next attempt; the lock the killed process held
            // was released by the kernel, so this does not wait.
            let o = skillmeat(
                &home,
                tmp.path(),
                &[
                    "rollback",
                    "skill:big",
                    "--to",
                    &old.to_hex()[..12],
                    "--project",
                    p,
                ],
            );
            assert!(o.status.success(), "{}", text(&o));
            assert_eq!(
                hash_path(&in_project).unwrap(),
                old,
                "rollback did not restore"
            );
        } else {
            saw_old += 1;
        }
    }
    eprintln!(
        "killed {attempts} syncs over {span} ms: {saw_old} left the old version, {saw_new} the new one"
    );
    assert!(
        saw_old > 0 && saw_new > 0,
        "the kills must land both before and after the swap"
    );
    // A sync that runs to the end cleans up what killed ones left behind.
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "sync",
            "skill:big",
            "--direction",
            "deploy",
            "--project",
            p,
            "--yes",
            "--strategy",
            "theirs",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(hash_path(&in_project).unwrap(), new);
    let leftovers: Vec<_> = std::fs::read_dir(project.join(".claude/skills"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "big")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn sync_both_takes_the_upstream_into_the_collection_and_on_into_the_project() {
    let up = upstream();
    let (tmp, home, project) = deployed(up.path(), "#skills/review", "skill:review");
    let p = project.to_str().unwrap();
    up.write("skills/review/SKILL.md", "# Review\n\nNew upstream rule.\n");
    up.commit("v2");
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "sync",
            "skill:review",
            "--direction",
            "both",
            "--project",
            p,
            "--yes",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let reports = json(&o);
    let steps: Vec<(&str, &str)> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["direction"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("upstream-to-collection", "fast-forward"),
            ("collection-to-project", "fast-forward")
        ]
    );
    assert_eq!(
        std::fs::read_to_string(project.join(".claude/skills/review/SKILL.md")).unwrap(),
        "# Review\n\nNew upstream rule.\n"
    );
    // A dry run of the same writes nothing and reports the plan.
    up.write("skills/review/SKILL.md", "# Review\n\nNewer.\n");
    up.commit("v3");
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "sync",
            "skill:review",
            "--direction",
            "both",
            "--project",
            p,
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)[0]["applied"], false);
    assert_eq!(
        std::fs::read_to_string(home.join("collections/default/skills/review/SKILL.md")).unwrap(),
        "# Review\n\nNew upstream rule.\n"
    );
}

/// `update --all` killed between a project install and its records leaves the copy at the
/// collection's version and the record one behind. When that is all the rerun finds, the plan is
/// all "up to date", but the apply must still run and move the record: left behind, the next
/// merge would use the older base. (The replay with kills found this at random steps.)
#[test]
fn update_all_moves_a_lagging_baseline_when_nothing_else_is_to_do() {
    let up = upstream();
    let (tmp, home, project) = deployed(up.path(), "#skills/review", "skill:review");
    let p = project.to_str().unwrap();
    let collection_copy = home.join("collections/default/skills/review/SKILL.md");
    let project_copy = project.join(".claude/skills/review/SKILL.md");
    let record_hash = || {
        let records = skillmeat_core::storage::records::DeploymentFile::load(&project).unwrap();
        let id = "skill:review".parse().unwrap();
        records.get(&id).unwrap().content_hash.clone().unwrap()
    };
    let before = record_hash();
    // The collection moved (a local edit there); a killed update had installed it into the
    // project but not written the record.
    std::fs::write(
        &collection_copy,
        "# Review\n\nA rule kept in the collection.\n",
    )
    .unwrap();
    std::fs::copy(&collection_copy, &project_copy).unwrap();

    let update = ["update", "--all", "--project", p, "--yes", "--json"];
    let o = skillmeat(&home, tmp.path(), &update);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)[0]["result"], "up to date", "{}", text(&o));
    let now = record_hash();
    assert_ne!(now, before, "the record caught up with the copy");
    let collection_hash = skillmeat_core::model::hash::hash_path(collection_copy.parent().unwrap())
        .unwrap()
        .to_hex();
    assert_eq!(now, collection_hash);
    let o = skillmeat(&home, tmp.path(), &["drift", "--project", p, "--json"]);
    let drift = json(&o);
    let row = drift["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pair"] == "collection-project")
        .unwrap()
        .clone();
    assert_eq!(row["status"], "synced", "{drift}");
    // A second run has nothing left to do and changes nothing.
    let o = skillmeat(&home, tmp.path(), &update);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(record_hash(), now);
}

/// One resolution, many projects: the same conflict (same base, ours and theirs text) in two
/// projects is resolved once and taken in the other with `resolve --reuse`; a third project
/// whose conflict differs by one line is never touched by it.
#[test]
fn a_conflict_resolved_once_is_reused_where_it_is_byte_identical_and_nowhere_else() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let spec = format!("{}#commands/fix.md@v1", up.path().display());
    assert!(
        skillmeat(&home, tmp.path(), &["add", &spec])
            .status
            .success()
    );
    let base = "# Fix\n\nStep one.\nStep two.\nStep three.\n";
    let in_collection = home.join("collections/default/commands/fix.md");
    std::fs::write(&in_collection, base).unwrap();
    let projects: Vec<PathBuf> = ["a", "b", "c"].iter().map(|n| tmp.path().join(n)).collect();
    for p in &projects {
        std::fs::create_dir_all(p).unwrap();
        let o = skillmeat(
            &home,
            tmp.path(),
            &["deploy", "command:fix", "--project", p.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    // a and b make the same local edit; c another. The collection changes the same line.
    let file = |p: &Path| p.join(".claude/commands/fix.md");
    for (p, edit) in projects
        .iter()
        .zip(["Step two, locally.", "Step two, locally.", "Step 2!"])
    {
        std::fs::write(file(p), base.replace("Step two.", edit)).unwrap();
    }
    std::fs::write(
        &in_collection,
        base.replace("Step two.", "Step two, the team's way.")
            .replace("# Fix", "# Fix it"),
    )
    .unwrap();
    for p in &projects {
        let o = skillmeat(
            &home,
            tmp.path(),
            &[
                "sync",
                "command:fix",
                "--direction",
                "deploy",
                "--project",
                p.to_str().unwrap(),
                "-y",
            ],
        );
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    }
    let [a, b, c] = [0, 1, 2].map(|i| projects[i].to_str().unwrap().to_owned());
    // Nothing recorded yet: --reuse says so and settles nothing.
    let o = skillmeat(
        &home,
        tmp.path(),
        &["resolve", "command:fix", "--project", &b, "--reuse"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("was resolved before"), "{}", text(&o));

    // Resolved in a by taking the team's line (the clean change to the title comes along).
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "resolve",
            "command:fix",
            "--project",
            &a,
            "--file",
            "fix.md",
            "--theirs",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "resolve",
            "command:fix",
            "--project",
            &a,
            "--continue",
            "-y",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let resolved_a = std::fs::read_to_string(file(&projects[0])).unwrap();
    assert!(resolved_a.contains("the team's way") && resolved_a.starts_with("# Fix it"));

    // b: the identical conflict takes a's resolution in one step.
    let o = skillmeat(
        &home,
        tmp.path(),
        &["resolve", "command:fix", "--project", &b, "--reuse"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("resolved the same way as in") && text(&o).contains(&a),
        "{}",
        text(&o)
    );
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "resolve",
            "command:fix",
            "--project",
            &b,
            "--continue",
            "-y",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(file(&projects[1])).unwrap(),
        resolved_a
    );

    // c: a different local line is a different conflict: not reused, nothing written.
    let before = std::fs::read_to_string(file(&projects[2])).unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &["resolve", "command:fix", "--project", &c, "--reuse"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("Still undecided: fix.md"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(file(&projects[2])).unwrap(), before);
}
