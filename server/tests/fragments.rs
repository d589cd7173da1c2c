//! Hooks and MCP servers: a team shares one hook and one server across projects. Each lands as
//! entries in the project's own `.claude/settings.json` / `.mcp.json` (`~/.claude.json` for the
//! user) beside what the user and Claude Code keep there, merges entry by entry and key by key
//! when both sides change, keeps a local deletion deleted, never shows a secret, and refuses bad
//! files with nothing written.

use std::path::Path;

use serde_json::{Value, json};
use skillmeat_testutils::git::GitRepo;

use crate::cli::{skillmeat_with_env, text};

const LINT: &str = r#"{
  "PostToolUse": [
    {
      "matcher": "Edit|Write",
      "hooks": [
        { "type": "command", "command": "npm run lint --silent", "timeout": 30 }
      ]
    }
  ]
}
"#;

const GITHUB: &str = r#"{
  "command": "npx",
  "args": ["-y", "@modelcontextprotocol/server-github"],
  "env": { "GITHUB_TOKEN": "${GITHUB_TOKEN}" }
}
"#;

const SETTINGS: &str = "{\n  \"permissions\": {\n    \"allow\": [\"Bash(ls)\"]\n  },\n  \"hooks\": {\n    \"Stop\": [\n      { \"hooks\": [ { \"type\": \"command\", \"command\": \"say done\" } ] }\n    ]\n  },\n  \"model\": \"opus\"\n}\n";

const MCP: &str = "{\n  \"mcpServers\": {\n    \"local-db\": { \"command\": \"pg-mcp\", \"env\": { \"PGPASSWORD\": \"hunter2-local\" } }\n  }\n}\n";

fn team_upstream() -> GitRepo {
    let up = GitRepo::new();
    up.write("hooks/lint.json", LINT)
        .write("mcp/github.json", GITHUB);
    up.commit("v1");
    up
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn json_of(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// The file's value with SkillMeat's entries taken out, to compare with what the user had.
fn without_ours(mut v: Value) -> Value {
    if let Some(servers) = v.get_mut("mcpServers").and_then(Value::as_object_mut) {
        servers.remove("github");
        if servers.is_empty() {
            v.as_object_mut().unwrap().remove("mcpServers");
        }
    }
    if let Some(events) = v.get_mut("hooks").and_then(Value::as_object_mut) {
        events.remove("PostToolUse");
    }
    v
}

#[test]
fn a_team_hook_and_server_merge_into_projects_key_by_key() {
    let up = team_upstream();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for p in [&a, &b] {
        std::fs::create_dir_all(p.join(".claude")).unwrap();
        std::fs::write(p.join(".claude/settings.json"), SETTINGS).unwrap();
        std::fs::write(p.join(".mcp.json"), MCP).unwrap();
    }
    let run = |args: &[&str]| skillmeat_with_env(&home, tmp.path(), args, &[]);
    for path in ["hooks/lint.json", "mcp/github.json"] {
        let o = run(&["add", &format!("{}#{path}", up.path().display())]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run(&["list", "--json"]);
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["hook:lint", "mcp:github"]);

    for p in [&a, &b] {
        let o = run(&[
            "deploy",
            "hook:lint",
            "mcp:github",
            "--project",
            p.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains(".claude/settings.json"), "{}", text(&o));
        // The user's own keys, hooks and servers are all still there, and ours beside them.
        let settings = json_of(&p.join(".claude/settings.json"));
        assert_eq!(
            without_ours(settings.clone()),
            serde_json::from_str::<Value>(SETTINGS).unwrap()
        );
        assert_eq!(
            settings["hooks"]["PostToolUse"][0]["hooks"][0]["command"],
            "npm run lint --silent"
        );
        let mcp = json_of(&p.join(".mcp.json"));
        assert_eq!(
            without_ours(mcp.clone()),
            serde_json::from_str::<Value>(MCP).unwrap()
        );
        assert_eq!(mcp["mcpServers"]["github"]["command"], "npx");
        // Untouched parts keep their bytes: the user's lines are all still in the file.
        for line in MCP.lines().take(3) {
            assert!(read(&p.join(".mcp.json")).contains(line), "{line}");
        }
    }
    let o = run(&["drift", "--json"]);
    let drift: Value = serde_json::from_slice(&o.stdout).unwrap();
    let statuses: Vec<&str> = drift["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["synced"; 4], "{drift}");

    // a: the user gives the hook more time and the server a local secret; b: deletes the
    // server. Upstream: a status message on the hook, an argument on the server.
    let a_settings =
        read(&a.join(".claude/settings.json")).replace("\"timeout\": 30", "\"timeout\": 60");
    std::fs::write(a.join(".claude/settings.json"), &a_settings).unwrap();
    let mut a_mcp = json_of(&a.join(".mcp.json"));
    a_mcp["mcpServers"]["github"]["env"]["GH_ENTERPRISE_TOKEN"] =
        json!("ghp_0123456789abcdefghijABCDEFGHIJklmnop");
    std::fs::write(
        a.join(".mcp.json"),
        serde_json::to_string_pretty(&a_mcp).unwrap(),
    )
    .unwrap();
    let mut b_mcp = json_of(&b.join(".mcp.json"));
    b_mcp["mcpServers"]
        .as_object_mut()
        .unwrap()
        .remove("github");
    std::fs::write(
        b.join(".mcp.json"),
        serde_json::to_string_pretty(&b_mcp).unwrap(),
    )
    .unwrap();
    up.write(
        "hooks/lint.json",
        &LINT.replace(
            "\"timeout\": 30",
            "\"timeout\": 30, \"statusMessage\": \"Linting\"",
        ),
    )
    .write(
        "mcp/github.json",
        &GITHUB.replace("server-github\"]", "server-github\", \"--read-only\"]"),
    );
    up.commit("v2");

    let o = run(&["drift", "--project", a.to_str().unwrap()]);
    assert!(text(&o).contains("modified"), "{}", text(&o));
    // The secret is never shown: not in a diff, not in the records.
    let o = run(&[
        "diff",
        "mcp:github",
        "--lhs",
        "collection",
        "--rhs",
        "project",
        "--project",
        a.to_str().unwrap(),
    ]);
    assert!(text(&o).contains("GH_ENTERPRISE_TOKEN"), "{}", text(&o));
    assert!(!text(&o).contains("ghp_"), "{}", text(&o));

    let o = run(&["update", "--all", "-y"]);
    assert!(o.status.success(), "{}", text(&o));
    for p in [&a, &b] {
        let o = run(&["update", "--all", "--project", p.to_str().unwrap(), "-y"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    // a: both edits kept, both upstream changes taken.
    let handler = &json_of(&a.join(".claude/settings.json"))["hooks"]["PostToolUse"][0]["hooks"][0];
    assert_eq!(handler["timeout"], 60);
    assert_eq!(handler["statusMessage"], "Linting");
    let server = &json_of(&a.join(".mcp.json"))["mcpServers"]["github"];
    assert_eq!(server["args"][2], "--read-only");
    assert_eq!(
        server["env"]["GH_ENTERPRISE_TOKEN"],
        "ghp_0123456789abcdefghijABCDEFGHIJklmnop"
    );
    let records = read(&a.join(".claude/.skillmeat-deployed.toml"));
    assert!(!records.contains("ghp_"), "{records}");
    // b: the deleted server stays deleted; the hook took the upstream change.
    assert!(
        json_of(&b.join(".mcp.json"))["mcpServers"]
            .get("github")
            .is_none()
    );
    assert!(
        json_of(&b.join(".mcp.json"))["mcpServers"]
            .get("local-db")
            .is_some()
    );
    let o = run(&[
        "sync",
        "mcp:github",
        "--direction",
        "deploy",
        "--project",
        b.to_str().unwrap(),
        "-y",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        json_of(&b.join(".mcp.json"))["mcpServers"]
            .get("github")
            .is_none()
    );
    let o = run(&["drift", "--project", b.to_str().unwrap(), "--json"]);
    let drift: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        drift["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "synced"),
        "a kept local deletion is the agreed state: {drift}"
    );

    // A real clash: both change the server's command. Nothing is written until it is decided.
    let mut a_mcp = json_of(&a.join(".mcp.json"));
    a_mcp["mcpServers"]["github"]["command"] = json!("bunx");
    std::fs::write(
        a.join(".mcp.json"),
        serde_json::to_string_pretty(&a_mcp).unwrap(),
    )
    .unwrap();
    up.write(
        "mcp/github.json",
        &GITHUB
            .replace("server-github\"]", "server-github\", \"--read-only\"]")
            .replace("\"npx\"", "\"pnpm\""),
    );
    up.commit("v3");
    let o = run(&["update", "--all", "-y"]);
    assert!(o.status.success(), "{}", text(&o));
    let before = read(&a.join(".mcp.json"));
    let o = run(&[
        "sync",
        "mcp:github",
        "--direction",
        "deploy",
        "--project",
        a.to_str().unwrap(),
        "-y",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("mcpServers.github › command"),
        "{}",
        text(&o)
    );
    assert_eq!(
        read(&a.join(".mcp.json")),
        before,
        "a conflict writes nothing"
    );
    let o = run(&["drift", "--project", a.to_str().unwrap()]);
    assert!(text(&o).contains("conflict"), "{}", text(&o));
    let o = run(&[
        "resolve",
        "mcp:github",
        "--project",
        a.to_str().unwrap(),
        "--file",
        "nope",
        "--theirs",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("mcpServers.github › command"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "resolve",
        "mcp:github",
        "--project",
        a.to_str().unwrap(),
        "--file",
        "mcpServers.github › command",
        "--theirs",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("--continue"), "{}", text(&o));
    assert_eq!(
        read(&a.join(".mcp.json")),
        before,
        "deciding writes nothing yet"
    );
    let o = run(&[
        "resolve",
        "mcp:github",
        "--project",
        a.to_str().unwrap(),
        "--continue",
        "-y",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let server = &json_of(&a.join(".mcp.json"))["mcpServers"]["github"];
    assert_eq!(server["command"], "pnpm");
    assert_eq!(
        server["env"]["GH_ENTERPRISE_TOKEN"], "ghp_0123456789abcdefghijABCDEFGHIJklmnop",
        "the rest of the local edits stay"
    );

    // Undeploy takes only our entries out; the user's stay, byte for byte where untouched.
    let o = run(&["undeploy", "hook:lint", "--project", b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        json_of(&b.join(".claude/settings.json")),
        serde_json::from_str::<Value>(SETTINGS).unwrap()
    );
    // Edited entries are not taken out without --force.
    let o = run(&["undeploy", "mcp:github", "--project", a.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("local edits"), "{}", text(&o));
    let o = run(&[
        "undeploy",
        "mcp:github",
        "--project",
        a.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        json_of(&a.join(".mcp.json")),
        serde_json::from_str::<Value>(MCP).unwrap()
    );
}

#[test]
fn bad_shared_files_and_entries_not_ours_are_refused_with_nothing_written() {
    let up = team_upstream();
    up.write(
        "mcp/leaky.json",
        r#"{"command": "x", "env": {"API_KEY": "sk-live0123456789abcdefABCDEF"}}"#,
    )
    .write(
        "hooks/bad.json",
        r#"{"Stop": [{"hooks": [{"command": "x"}]}]}"#,
    )
    .write("hooks/folder.json/inner.json", LINT);
    std::os::unix::fs::symlink("/etc/passwd", up.path().join("mcp/link.json")).unwrap();
    up.commit("more");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let p = tmp.path().join("p");
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    let run = |args: &[&str]| skillmeat_with_env(&home, tmp.path(), args, &[]);
    let spec = |path: &str| format!("{}#{path}", up.path().display());
    for path in ["hooks/lint.json", "mcp/github.json"] {
        let o = run(&["add", &spec(path)]);
        assert!(o.status.success(), "{}", text(&o));
    }
    // A hook "file" that is a folder, and a server that is a symlink, are refused at add.
    let o = run(&["add", &spec("hooks/folder.json")]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("is not a hook: it must be one .json file"),
        "{}",
        text(&o)
    );
    let o = run(&["add", &spec("mcp/link.json")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("symlink"), "{}", text(&o));
    assert!(!home.join("collections/default/hooks/folder.json").exists());
    // A hook file that is not the shape Claude Code reads is refused at add.
    let o = run(&["add", &spec("hooks/bad.json")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("must have a `type`"), "{}", text(&o));
    // A literal credential is a warning at add, and at check; never printed.
    let o = run(&["add", &spec("mcp/leaky.json")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("env.API_KEY"), "{}", text(&o));
    assert!(!text(&o).contains("sk-live"), "{}", text(&o));
    let o = run(&["check", "mcp:leaky"]);
    assert!(text(&o).contains("looks like a credential"), "{}", text(&o));
    assert!(!text(&o).contains("sk-live"), "{}", text(&o));

    let p_str = p.to_str().unwrap();
    // Not JSON: refused with line and column, nothing written.
    let broken = "{\n  \"model\": \"opus\",\n  \"hooks\": {\n}\n";
    std::fs::write(p.join(".claude/settings.json"), broken).unwrap();
    let o = run(&["deploy", "hook:lint", "mcp:github", "--project", p_str]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("line 5, column 0") || text(&o).contains("line 4"),
        "{}",
        text(&o)
    );
    assert_eq!(read(&p.join(".claude/settings.json")), broken);
    assert!(
        !p.join(".mcp.json").exists(),
        "nothing of the deploy was written"
    );
    // A folder where the file should be.
    std::fs::remove_file(p.join(".claude/settings.json")).unwrap();
    std::fs::create_dir(p.join(".claude/settings.json")).unwrap();
    let o = run(&["deploy", "hook:lint", "--project", p_str]);
    assert!(!o.status.success());
    assert!(text(&o).contains("is a folder"), "{}", text(&o));
    std::fs::remove_dir(p.join(".claude/settings.json")).unwrap();
    // A symlink: an atomic write would replace the link.
    std::os::unix::fs::symlink("/dev/null", p.join(".claude/settings.json")).unwrap();
    let o = run(&["deploy", "hook:lint", "--project", p_str]);
    assert!(text(&o).contains("is a symlink"), "{}", text(&o));
    std::fs::remove_file(p.join(".claude/settings.json")).unwrap();
    // A server of the same name SkillMeat did not write.
    let theirs = "{\"mcpServers\": {\"github\": {\"command\": \"my-own-github\"}}}\n";
    std::fs::write(p.join(".mcp.json"), theirs).unwrap();
    let o = run(&["deploy", "mcp:github", "--project", p_str]);
    assert!(!o.status.success());
    assert!(text(&o).contains("SkillMeat did not write"), "{}", text(&o));
    assert_eq!(read(&p.join(".mcp.json")), theirs);
    // Exactly the same entry is taken over (as deploy does with an identical copy).
    std::fs::write(
        p.join(".mcp.json"),
        format!("{{\"mcpServers\": {{\"github\": {}}}}}\n", GITHUB.trim()),
    )
    .unwrap();
    let o = run(&["deploy", "mcp:github", "--project", p_str]);
    assert!(o.status.success(), "{}", text(&o));
    // Project to collection is refused: it would carry the project's secrets.
    let o = run(&[
        "sync",
        "mcp:github",
        "--direction",
        "project",
        "--project",
        p_str,
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("from the collection into projects only"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_user_server_goes_into_claude_json_and_nothing_else_there_changes() {
    let up = team_upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, user) = (tmp.path().join("home"), tmp.path().join("me"));
    std::fs::create_dir_all(user.join(".claude")).unwrap();
    // As Claude Code keeps it: login and app state beside the user's servers.
    let state = "{\n  \"numStartups\": 41,\n  \"oauthAccount\": {\n    \"emailAddress\": \"me@example.com\"\n  },\n  \"projects\": {\n    \"/work/app\": {\n      \"mcpServers\": {},\n      \"allowedTools\": []\n    }\n  },\n  \"mcpServers\": {\n    \"mine\": {\n      \"command\": \"my-server\"\n    }\n  }\n}";
    std::fs::write(user.join(".claude.json"), state).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            user.join(".claude.json"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let env = [("HOME", user.to_str().unwrap())];
    let run = |args: &[&str]| skillmeat_with_env(&home, tmp.path(), args, &env);
    for path in ["hooks/lint.json", "mcp/github.json"] {
        let o = run(&["add", &format!("{}#{path}", up.path().display())]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run(&["deploy", "mcp:github", "hook:lint", "--user"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !user.join(".mcp.json").exists(),
        "the user scope is ~/.claude.json"
    );
    let after = read(&user.join(".claude.json"));
    // Every byte before our entry is the file's own, and so is everything after it.
    let cut = state.rfind("\n    }").unwrap() + "\n    }".len();
    assert!(after.starts_with(&state[..cut]), "{after}");
    assert!(after.ends_with("\n  }\n}"), "{after}");
    let mut value: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(value["mcpServers"]["github"]["command"], "npx");
    value["mcpServers"]
        .as_object_mut()
        .unwrap()
        .remove("github");
    assert_eq!(value, serde_json::from_str::<Value>(state).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(user.join(".claude.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the file stays private");
    }
    // The file as it was is kept in the version store.
    let records = read(&user.join(".claude/.skillmeat-deployed.toml"));
    assert!(
        records.contains("shared_file = \".claude.json\""),
        "{records}"
    );
    let backup = records
        .lines()
        .find_map(|l| l.strip_prefix("shared_file_backup = \""))
        .map(|l| l.trim_end_matches('"').to_owned())
        .expect("a backup is recorded");
    let store = git2::Repository::open_bare(home.join("store.git")).unwrap();
    let commit = store
        .find_commit(git2::Oid::from_str(&backup).unwrap())
        .unwrap();
    let tree = commit.tree().unwrap();
    let blob = tree.iter().next().unwrap().to_object(&store).unwrap();
    assert_eq!(blob.as_blob().unwrap().content(), state.as_bytes());
    // The hook went to ~/.claude/settings.json.
    assert_eq!(
        json_of(&user.join(".claude/settings.json"))["hooks"]["PostToolUse"][0]["matcher"],
        "Edit|Write"
    );
    let o = run(&["drift", "--json"]);
    let drift: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(drift["rows"].as_array().unwrap().len(), 2, "{drift}");
    // Undeployed, the file is back to what it was, byte for byte.
    let o = run(&["undeploy", "mcp:github", "--user"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read(&user.join(".claude.json")), state);
}

/// The REST API over the same files: a clash found by a sync job is listed with the open
/// merges, shown per key (secrets masked) by the conflict endpoint the dialog reads, refused
/// when a choice names no clash, resolved by a resolve job, and a second one aborted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_lists_shows_and_resolves_a_clash_per_key() {
    use axum::http::StatusCode;

    let a = crate::api::api().await;
    let up = team_upstream();
    let cwd = a.tmp.path();
    let o = skillmeat_with_env(
        &a.home,
        cwd,
        &["add", &format!("{}#mcp/github.json", up.path().display())],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = skillmeat_with_env(
        &a.home,
        cwd,
        &["deploy", "mcp:github", "--project", a.p()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let mcp_path = Path::new(a.p()).join(".mcp.json");
    let clash = |command: &str| {
        let mut v = json_of(&mcp_path);
        v["mcpServers"]["github"]["command"] = json!(command);
        v["mcpServers"]["github"]["env"]["GH_ENTERPRISE_TOKEN"] =
            json!("ghp_0123456789abcdefghijABCDEFGHIJklmnop");
        std::fs::write(&mcp_path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    };
    clash("bunx");
    up.write("mcp/github.json", &GITHUB.replace("\"npx\"", "\"pnpm\""));
    up.commit("v2");
    let o = skillmeat_with_env(&a.home, cwd, &["update", "mcp:github", "-y"], &[]);
    assert!(o.status.success(), "{}", text(&o));

    let (status, job) = a
        .apply(
            json!({"direction": "collection-to-project", "project_path": a.p(),
                      "artifacts": ["mcp:github"], "dry_run": false}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(job["state"], "conflict", "{job}");
    let label = "mcpServers.github › command";

    let (status, open) = a.get("/api/v1/conflicts").await;
    assert_eq!(status, StatusCode::OK, "{open}");
    let listed = open["merges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["artifact"] == "mcp:github")
        .unwrap_or_else(|| panic!("the clash is an open merge: {open}"));
    assert_eq!(listed["files"], json!([label]), "{listed}");

    let uri = format!(
        "/api/v1/artifacts/mcp:github/conflicts?project_path={}",
        a.p()
    );
    let (status, view) = a.get(&uri).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["files"][0]["path"], label, "{view}");
    assert_eq!(view["files"][0]["kind"], "key", "{view}");
    assert_eq!(view["files"][0]["ours"], "\"bunx\"", "{view}");
    assert_eq!(view["files"][0]["theirs"], "\"pnpm\"", "{view}");
    assert_eq!(view["unresolved"], json!([label]), "{view}");
    assert!(!view.to_string().contains("ghp_"), "{view}");
    let (status, _) = a.get("/api/v1/artifacts/mcp:github/conflicts").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the project is needed"
    );

    let before = read(&mcp_path);
    for bad in [
        json!({"artifact": "mcp:github", "project_path": a.p(), "files": {"nope": "theirs"}}),
        json!({"artifact": "mcp:github", "project_path": a.p(), "hunks": {label: ["theirs"]}}),
        json!({"artifact": "mcp:github", "project_path": a.p(), "files": {label: "theirs"},
               "revision": "0000"}),
    ] {
        let (status, body) = a.post("/api/v1/sync/resolve", bad.clone()).await;
        assert!(status.is_client_error(), "{bad} → {status} {body}");
        assert!(body["error"].is_string(), "{body}");
    }
    assert_eq!(read(&mcp_path), before, "a refused choice writes nothing");

    let (status, job) = a
        .post(
            "/api/v1/sync/resolve",
            json!({"artifact": "mcp:github", "project_path": a.p(),
                   "files": {label: "theirs"}, "revision": view["revision"]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(job["state"], "success", "{job}");
    let server = &json_of(&mcp_path)["mcpServers"]["github"];
    assert_eq!(server["command"], "pnpm");
    assert_eq!(
        server["env"]["GH_ENTERPRISE_TOKEN"],
        "ghp_0123456789abcdefghijABCDEFGHIJklmnop"
    );
    let (_, open) = a.get("/api/v1/conflicts").await;
    assert!(
        !open.to_string().contains("mcp:github"),
        "resolved, it is no longer open: {open}"
    );

    // Another clash, aborted: nothing written, nothing left open.
    clash("bunx");
    up.write("mcp/github.json", &GITHUB.replace("\"npx\"", "\"deno\""));
    up.commit("v3");
    let o = skillmeat_with_env(&a.home, cwd, &["update", "mcp:github", "-y"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (_, job) = a
        .apply(
            json!({"direction": "collection-to-project", "project_path": a.p(),
                      "artifacts": ["mcp:github"], "dry_run": false}),
        )
        .await;
    assert_eq!(
        a.wait(job["id"].as_i64().unwrap()).await["state"],
        "conflict"
    );
    let before = read(&mcp_path);
    let (status, body) = a.delete(&uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resolution"], "aborted", "{body}");
    assert_eq!(read(&mcp_path), before);
    let (status, _) = a.get(&uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// An apply of a hook is its preview's plan, as a file artifact's is: an entry the user edits in
/// the project between the preview and the apply is refused (`plan_changed`), and the shared
/// file is left byte for byte as the user left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_edited_after_its_preview_is_not_applied() {
    let up = team_upstream();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("p");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::write(project.join(".claude/settings.json"), SETTINGS).unwrap();
    let run = |args: &[&str]| skillmeat_with_env(&home, tmp.path(), args, &[]);
    let o = run(&["add", &format!("{}#hooks/lint.json", up.path().display())]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&[
        "deploy",
        "hook:lint",
        "--project",
        project.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let a = crate::api::Api::over(tmp, home, project, up).await;
    // The collection's hook changes, so a sync into the project has something to write.
    let hook = a.collection_file("hooks/lint.json");
    let changed = read(&hook).replace("npm run lint --silent", "npm run lint");
    assert_ne!(changed, read(&hook));
    std::fs::write(&hook, changed).unwrap();

    let body = json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["hook:lint"]});
    let mut preview = body.clone();
    preview["dry_run"] = json!(true);
    let (status, plan) = a.post("/api/v1/sync/jobs", preview).await;
    assert_eq!(status, axum::http::StatusCode::ACCEPTED, "{plan}");
    let plan = a.wait(plan["id"].as_i64().unwrap()).await;
    assert_eq!(plan["state"], "success", "{plan}");

    // Between the two, the user gives the hook more time in the project.
    let settings = a.project_file("settings.json");
    let edited = read(&settings).replace("\"timeout\": 30", "\"timeout\": 60");
    assert_ne!(edited, read(&settings));
    std::fs::write(&settings, &edited).unwrap();
    let mut apply = body;
    apply["dry_run"] = json!(false);
    apply["plan_job"] = plan["id"].clone();
    let (status, job) = a.post("/api/v1/sync/jobs", apply).await;
    assert_eq!(status, axum::http::StatusCode::ACCEPTED, "{job}");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "error", "{done}");
    assert!(
        done.to_string().contains("changed since its preview"),
        "{done}"
    );
    assert_eq!(read(&settings), edited, "the user's file is untouched");
}
