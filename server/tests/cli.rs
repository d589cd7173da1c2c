//! The `skillmeat` binary as a user runs it: exit codes, JSON, and errors that say what to do.

use std::path::Path;
use std::process::{Command, Output};

use skillmeat_testutils::git::GitRepo;

fn skillmeat(home: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skillmeat"))
        .args(["--home", home.to_str().unwrap()])
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn upstream() -> GitRepo {
    let up = GitRepo::new();
    up.write("skills/review/SKILL.md", "# Review\n")
        .write("commands/fix.md", "Fix.\n");
    up.commit("v1");
    up.tag("v1");
    up
}

#[test]
fn add_list_deploy_and_drift() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let spec = format!("{}#skills/review@v1", up.path().display());

    let o = skillmeat(&home, tmp.path(), &["init"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = skillmeat(&home, tmp.path(), &["add", &spec]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Added skill:review"), "{}", text(&o));

    let o = skillmeat(&home, tmp.path(), &["list", "--json"]);
    let items: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(items[0]["id"], "skill:review");
    assert_eq!(
        items[0]["upstream"],
        spec.as_str(),
        "the pin is shown as given"
    );
    let o = skillmeat(&home, tmp.path(), &["list"]);
    assert!(text(&o).contains("@v1"), "{}", text(&o));

    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "deploy",
            "skill:review",
            "--project",
            project.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    // In the project folder, drift finds the records by itself; all synced → exit 0.
    let o = skillmeat(&home, &project, &["drift", "--check-all"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("synced"), "{}", text(&o));

    std::fs::write(
        project.join(".claude/skills/review/SKILL.md"),
        "# Review, mine\n",
    )
    .unwrap();
    let o = skillmeat(&home, &project, &["drift", "--json"]);
    assert_eq!(o.status.code(), Some(1), "drift is exit 1: {}", text(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["status"], "modified");
    assert_eq!(rows[0]["pair"], "collection-project");

    let o = skillmeat(
        &home,
        tmp.path(),
        &["migrate", "--project", project.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("current") && text(&o).contains("skill:review"),
        "{}",
        text(&o)
    );

    let o = skillmeat(&home, tmp.path(), &["show", "skill:review", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shown["lock"]["reference"], "v1");
}

#[test]
fn bad_input_is_a_clear_error_never_a_panic() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (vec!["show".into(), "skill".into()], 2, "<type>:<name>"),
        (
            vec!["show".into(), "hook:x".into()],
            2,
            "skill, command, agent",
        ),
        (
            vec!["add".into(), "justaname".into()],
            1,
            "not an upstream spec",
        ),
        (
            vec!["add".into(), "/nonexistent/repo#skills/x".into()],
            1,
            "/nonexistent/repo",
        ),
        (
            vec![
                "add".into(),
                format!("{}#skills/review@v1", up.path().display()),
                "--name".into(),
                "a/b".into(),
            ],
            1,
            "not allowed",
        ),
        (
            vec!["add".into(), "--type".into(), "hook".into(), "o/r".into()],
            2,
            "hook",
        ),
    ];
    for (args, code, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = skillmeat(&home, tmp.path(), &args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{args:?}: {}", text(&o));
    }
    assert!(
        !home.join("collections/default/collection.toml").exists(),
        "a failed add wrote the manifest"
    );

    // A malformed collection.toml: the error names the file and line.
    std::fs::create_dir_all(home.join("collections/default")).unwrap();
    std::fs::write(
        home.join("collections/default/collection.toml"),
        "[[artifact]]\nid = skill:x\n",
    )
    .unwrap();
    let o = skillmeat(&home, tmp.path(), &["list"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("collection.toml:2:"), "{}", text(&o));
}

#[test]
fn a_relative_local_upstream_is_recorded_absolute() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let parent = up.path().parent().unwrap();
    let rel = format!(
        "./{}#commands/fix.md@v1",
        up.path().file_name().unwrap().to_str().unwrap()
    );
    let o = skillmeat(&home, parent, &["add", &rel]);
    assert!(o.status.success(), "{}", text(&o));
    let o = skillmeat(&home, tmp.path(), &["list", "--json"]);
    let items: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        items[0]["upstream"],
        format!("{}#commands/fix.md@v1", up.path().display())
    );
    // From another folder the upstream still resolves.
    let o = skillmeat(&home, tmp.path(), &["drift", "--check-all"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
