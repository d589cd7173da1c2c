//! The user scope: `--user` targets ~/.claude the way `--project` targets a project — deploy,
//! drift (listed as "user"), sync back, rollback, undeploy — and Claude Code's own folders and
//! files there are never read or touched (FIFOs among them would hang any read).

use std::path::{Path, PathBuf};

use crate::cli::{skillmeat_with_env, text, upstream};

/// Every file under `dir` with its bytes and modification time (FIFOs by name only).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else if meta.is_file() {
                out.push((
                    e.path(),
                    std::fs::read(e.path()).unwrap(),
                    meta.modified().unwrap(),
                ));
            } else {
                out.push((e.path(), Vec::new(), meta.modified().unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_user_scope_is_a_tier_like_a_project_and_claude_codes_own_files_stay_untouched() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, user) = (tmp.path().join("sm-home"), tmp.path().join("me"));
    let claude = user.join(".claude");
    // What Claude Code keeps in ~/.claude besides artifacts.
    for dir in [
        "projects/-work-app",
        "plugins/cache",
        "todos",
        "statsig",
        "shell-snapshots",
    ] {
        std::fs::create_dir_all(claude.join(dir)).unwrap();
    }
    std::fs::write(
        claude.join("projects/-work-app/session.jsonl"),
        "{\"type\":\"user\"}\n",
    )
    .unwrap();
    std::fs::write(claude.join("plugins/installed_plugins.json"), "{}").unwrap();
    std::fs::write(claude.join("settings.json"), "{\"model\": \"opus\"}\n").unwrap();
    for fifo in ["todos/live.pipe", "history.jsonl"] {
        let ok = std::process::Command::new("mkfifo")
            .arg(claude.join(fifo))
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo");
    }
    let untouched = snapshot(&claude);
    let env = [("HOME", user.to_str().unwrap())];
    let run = |args: &[&str]| skillmeat_with_env(&home, tmp.path(), args, &env);
    for path in ["commands/fix.md", "skills/review"] {
        let o = run(&["add", &format!("{}#{path}", up.path().display())]);
        assert!(o.status.success(), "{}", text(&o));
    }

    let o = run(&["deploy", "command:fix", "skill:review", "--user"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(claude.join("commands/fix.md")).unwrap(),
        "Fix.\n"
    );
    assert!(claude.join("skills/review/SKILL.md").is_file());
    let o = run(&["drift"]);
    assert!(
        o.status.success(),
        "a registered user scope is checked like a project: {}",
        text(&o)
    );

    // An edit in ~/.claude is drift of the user scope, and syncs back like a project's.
    std::fs::write(claude.join("commands/fix.md"), "Fix, my way.\n").unwrap();
    let o = run(&["drift", "--user"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("user (~/.claude)") && text(&o).contains("modified"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "sync",
        "command:fix",
        "--direction",
        "project",
        "--user",
        "--yes",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(home.join("collections/default/commands/fix.md")).unwrap(),
        "Fix, my way.\n"
    );
    let o = run(&["history", "command:fix", "--json"]);
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = h["versions"].as_array().unwrap().last().unwrap()["content_hash"]
        .as_str()
        .unwrap()[..12]
        .to_owned();
    let o = run(&["rollback", "command:fix", "--to", &first, "--user", "--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(claude.join("commands/fix.md")).unwrap(),
        "Fix.\n"
    );
    let o = run(&["undeploy", "skill:review", "--user"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!claude.join("skills/review").exists());
    // --user and --project together is a usage error.
    let o = run(&["deploy", "command:fix", "--user", "--project", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // Claude Code's files: the same bytes, the same times.
    let now: Vec<_> = snapshot(&claude)
        .into_iter()
        .filter(|(p, _, _)| {
            !p.starts_with(claude.join("commands"))
                && !p.starts_with(claude.join("skills"))
                && p.file_name()
                    .is_some_and(|n| n != ".skillmeat-deployed.toml")
        })
        .collect();
    assert_eq!(now, untouched);
}
