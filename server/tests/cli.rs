//! The `skillmeat` binary as a user runs it: exit codes, JSON, and errors that say what to do.

use std::path::Path;
use std::process::{Command, Output};

use skillmeat_testutils::git::GitRepo;

pub(crate) fn skillmeat(home: &Path, cwd: &Path, args: &[&str]) -> Output {
    skillmeat_with_env(home, cwd, args, &[])
}

/// [`skillmeat`] with these variables set too (the rest of the environment is cleared).
pub(crate) fn skillmeat_with_env(
    home: &Path,
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skillmeat"))
        .args(["--home", home.to_str().unwrap()])
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("COLUMNS", "100")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub(crate) fn upstream() -> GitRepo {
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
    assert_eq!(o.status.code(), Some(4), "drifted is exit 4: {}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = &report["rows"];
    assert_eq!(report["problems"], serde_json::json!([]));
    assert_eq!(rows[0]["status"], "modified");
    assert_eq!(rows[0]["pair"], "collection-project");
    // Scripts get whole versions (what `rollback` and `history` take), not the display form.
    for side in ["base", "source", "target"] {
        let hex = rows[0][side].as_str().unwrap_or_default();
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{side}: {hex:?}"
        );
    }

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
            vec!["show".into(), "plugin:x".into()],
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
            vec!["add".into(), "--type".into(), "plugin".into(), "o/r".into()],
            2,
            "plugin",
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

#[test]
fn history_tag_and_drift_over_registered_projects() {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (p1, p2) = (tmp.path().join("p1"), tmp.path().join("p2"));
    std::fs::create_dir_all(&p1).unwrap();
    std::fs::create_dir_all(&p2).unwrap();
    let spec = format!("{}#commands/fix.md@v1", up.path().display());
    assert!(
        skillmeat(&home, tmp.path(), &["add", &spec])
            .status
            .success()
    );
    for p in [&p1, &p2] {
        let o = skillmeat(
            &home,
            tmp.path(),
            &["deploy", "command:fix", "--project", p.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", text(&o));
    }

    // From an unrelated folder, drift checks both registered projects.
    let o = skillmeat(&home, tmp.path(), &["drift", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rows"].as_array().unwrap().len(), 2, "{report}");
    std::fs::write(p2.join(".claude/commands/fix.md"), "Fix, mine.\n").unwrap();
    let o = skillmeat(&home, tmp.path(), &["drift"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("modified"), "{}", text(&o));

    // The collection moves on by hand; tagging records and names that version.
    std::fs::write(
        home.join("collections/default/commands/fix.md"),
        "Fix v2.\n",
    )
    .unwrap();
    let o = skillmeat(&home, tmp.path(), &["tag", "command:fix", "reviewed"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("as reviewed"), "{}", text(&o));
    let o = skillmeat(
        &home,
        tmp.path(),
        &["tag", "command:fix", "reviewed", "nope"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("skillmeat history"), "{}", text(&o));

    let o = skillmeat(&home, tmp.path(), &["history", "command:fix", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let history: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history}");
    assert_eq!(versions[0]["change_origin"], "local_modification");
    assert_eq!(versions[0]["version_tag"], "reviewed");
    assert_eq!(versions[1]["change_origin"], "sync");
    assert_eq!(versions[0]["parent_hash"], versions[1]["content_hash"]);
    assert_eq!(history["current"], versions[0]["content_hash"]);

    let o = skillmeat(&home, tmp.path(), &["history", "command:fix"]);
    let out = text(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with(" VERSION"), "{out}");
    assert!(
        lines[1].starts_with('*') && lines[1].contains("reviewed"),
        "{out}"
    );
    assert!(lines[2].contains("sync"), "{out}");

    let o = skillmeat(&home, tmp.path(), &["history", "command:nope"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not in collection"), "{}", text(&o));
}

/// Runs `skillmeat` as an unprivileged user when the tests run as root (root reads any file,
/// so an unreadable file can only be tested without root).
fn skillmeat_unprivileged(home: &Path, cwd: &Path, args: &[&str]) -> Option<Output> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some(skillmeat(home, cwd, args));
    }
    if !Path::new("/usr/bin/setpriv").exists() {
        return None;
    }
    Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_skillmeat"))
        .args(["--home", home.to_str().unwrap()])
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .ok()
}

#[test]
fn an_unreadable_file_is_a_clear_error_and_nothing_is_written() {
    use std::os::unix::fs::PermissionsExt;
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    let spec = format!("{}#skills/review@v1", up.path().display());
    assert!(
        skillmeat(&home, tmp.path(), &["add", &spec])
            .status
            .success()
    );
    let p = project.to_str().unwrap();
    assert!(
        skillmeat(
            &home,
            tmp.path(),
            &["deploy", "skill:review", "--project", p]
        )
        .status
        .success()
    );
    // Everything open to the unprivileged user but the one file.
    let chmod = Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(chmod.success());
    let secret = project.join(".claude/skills/review/SKILL.md");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let records = std::fs::read(project.join(".claude/.skillmeat-deployed.toml")).unwrap();

    let Some(o) = skillmeat_unprivileged(&home, tmp.path(), &["drift", "--project", p]) else {
        eprintln!("SKIPPED: running as root without setpriv: cannot make a file unreadable");
        return;
    };
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("cannot read") && text(&o).contains("SKILL.md"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("panicked"), "{}", text(&o));

    // Deploying over it cannot check for local edits, so it refuses and writes nothing.
    let o = skillmeat_unprivileged(
        &home,
        tmp.path(),
        &["deploy", "skill:review", "--project", p],
    )
    .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("SKILL.md"), "{}", text(&o));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "# Review\n");
    assert_eq!(
        std::fs::read(project.join(".claude/.skillmeat-deployed.toml")).unwrap(),
        records
    );
}

#[test]
fn demo_fills_a_new_home_with_every_drift_status_and_leaves_a_used_one_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let o = skillmeat(&home, tmp.path(), &["demo"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = skillmeat(&home, tmp.path(), &["drift", "--check-all", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
    let rows = &report["rows"];
    let status_of = |id: &str, pair: &str, project: Option<&str>| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["id"] == id
                    && r["pair"] == pair
                    && project.is_none_or(|p| r["project"].as_str().unwrap().ends_with(p))
            })
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no row for {id} {pair} {project:?}: {rows:#}"))
    };
    let uc = "upstream-collection";
    let cp = "collection-project";
    for (id, pair, project, want) in [
        ("skill:changelog", uc, None, "synced"),
        ("skill:code-review", uc, None, "outdated"),
        ("agent:docs-writer", uc, None, "modified"),
        ("command:release-notes", uc, None, "conflict"),
        ("skill:incident-response", uc, None, "conflict"),
        ("command:fix-tests", cp, Some("web-app"), "modified"),
        ("skill:api-docs", cp, Some("web-app"), "outdated"),
        ("agent:docs-writer", cp, Some("api-service"), "conflict"),
        ("agent:reviewer", cp, Some("api-service"), "diverged"),
        ("agent:reviewer", cp, Some("web-app"), "added"),
        ("command:lint", cp, Some("web-app"), "removed"),
    ] {
        assert_eq!(
            status_of(id, pair, project),
            want,
            "{id} {pair} {project:?}"
        );
    }
    // History: api-docs was updated once after being added.
    let o = skillmeat(&home, tmp.path(), &["history", "skill:api-docs", "--json"]);
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(h["versions"].as_array().unwrap().len(), 2, "{h:#}");

    // A second run refuses (exit 2, says what to do); --if-empty succeeds and changes nothing.
    let o = skillmeat(&home, tmp.path(), &["demo"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--if-empty"), "{}", text(&o));
    let before = std::fs::read(home.join("collections/default/collection.toml")).unwrap();
    let o = skillmeat(&home, tmp.path(), &["demo", "--if-empty"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(home.join("collections/default/collection.toml")).unwrap(),
        before
    );
}
