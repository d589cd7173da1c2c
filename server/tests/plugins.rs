//! Claude Code plugins from the command line: `marketplace list`, `add --plugin`, `list`
//! grouped by plugin, and `update --all` planning and applying what the plugin gained and lost.

use skillmeat_testutils::git::GitRepo;

use crate::cli::{skillmeat, text};

fn marketplace() -> GitRepo {
    let m = GitRepo::new();
    m.write(
        ".claude-plugin/marketplace.json",
        r#"{"name": "team", "owner": {"name": "Platform"},
            "plugins": [
              {"name": "kit", "source": "./kit", "description": "Review kit", "version": "2.1.0"},
              {"name": "pkg", "source": {"source": "npm", "package": "kit"}}
            ]}"#,
    )
    .write(
        "kit/skills/review/SKILL.md",
        "---\nname: review\ndescription: Review.\n---\n",
    )
    .write("kit/commands/fix.md", "Fix.\n")
    .write(
        "kit/agents/planner.md",
        "---\nname: planner\ndescription: Plans.\n---\n",
    );
    m.commit("v1");
    m
}

#[test]
fn plugins_are_listed_added_grouped_and_followed_by_update() {
    let m = marketplace();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let spec = m.path().display().to_string();

    let o = skillmeat(&home, tmp.path(), &["marketplace", "list", &spec]);
    assert!(o.status.success(), "{}", text(&o));
    let shown = text(&o);
    assert!(
        shown.contains("kit") && shown.contains("2.1.0") && shown.contains("Review kit"),
        "{shown}"
    );
    assert!(
        shown.contains("cannot be added") && shown.contains("npm"),
        "{shown}"
    );
    let o = skillmeat(&home, tmp.path(), &["marketplace", "list", &spec, "--json"]);
    let view: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        view["plugins"][0]["artifacts"].as_array().unwrap().len(),
        3,
        "{view}"
    );

    // A name the marketplace lacks: an error naming what it has, nothing added.
    let o = skillmeat(&home, tmp.path(), &["add", &spec, "--plugin", "nope"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("has no plugin `nope`; it has: kit, pkg"),
        "{}",
        text(&o)
    );

    let o = skillmeat(&home, tmp.path(), &["add", &spec, "--plugin", "kit"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("kit@team"), "{}", text(&o));
    let o = skillmeat(&home, tmp.path(), &["list"]);
    let listed = text(&o);
    assert!(listed.contains("PLUGIN"), "{listed}");
    assert_eq!(listed.matches("kit@team").count(), 3, "{listed}");

    // The plugin gains a command and loses its agent.
    m.write("kit/commands/ship.md", "Ship.\n")
        .remove("kit/agents/planner.md");
    m.commit("v2");
    let o = skillmeat(&home, tmp.path(), &["update", "--all", "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    let planned = text(&o);
    assert!(
        planned.contains("command:ship") && planned.contains("planned: added"),
        "{planned}"
    );
    assert!(
        planned.contains("agent:planner") && planned.contains("planned: removed"),
        "{planned}"
    );
    assert!(
        home.join("collections/default/agents/planner.md").is_file(),
        "a dry run removes nothing"
    );

    let o = skillmeat(&home, tmp.path(), &["update", "--all", "--yes", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let result = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["result"].as_str().unwrap().to_owned())
    };
    assert_eq!(result("command:ship").as_deref(), Some("added"), "{rows}");
    assert_eq!(
        result("agent:planner").as_deref(),
        Some("removed"),
        "{rows}"
    );
    assert!(home.join("collections/default/commands/ship.md").is_file());
    assert!(!home.join("collections/default/agents/planner.md").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_over_the_api_are_read_added_and_followed_with_the_plan_they_showed() {
    use axum::http::StatusCode;
    use serde_json::json;
    let a = crate::api::api().await;
    let m = marketplace();
    let spec = m.path().display().to_string();

    let (status, view) = a.get(&format!("/api/v1/marketplace?spec={spec}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["name"], "team");
    assert_eq!(view["plugins"][1]["source"], "npm");
    assert!(
        view["plugins"][1]["problem"]
            .as_str()
            .unwrap()
            .contains("not supported")
    );
    let (status, e) = a.get("/api/v1/marketplace?spec=./relative").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (status, e) = a
        .post(
            "/api/v1/plugins",
            json!({"spec": spec, "plugins": ["kit"], "all": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (status, e) = a
        .post(
            "/api/v1/plugins",
            json!({"spec": spec, "plugins": ["nope"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");

    let (status, added) = a
        .post("/api/v1/plugins", json!({"spec": spec, "plugins": ["kit"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let results: Vec<&str> = added["plugins"][0]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    // The api home already has command:fix and skill:review (not from this plugin): refused,
    // not replaced; the agent is added.
    assert_eq!(
        results.iter().filter(|r| **r == "added").count(),
        1,
        "{added}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == "failed").count(),
        2,
        "{added}"
    );
    let (_, list) = a.get("/api/v1/artifacts").await;
    let from_kit = list["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["plugin"] == "kit@team")
        .count();
    assert_eq!(from_kit, 1, "{list}");

    m.write("kit/commands/ship.md", "Ship.\n");
    m.commit("v2");
    let (status, plan) = a.get("/api/v1/plugins/changes").await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let planned = plan["changes"].clone();
    assert!(
        planned
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["artifact"] == "command:ship" && c["change"] == "added"),
        "{plan}"
    );
    // A plan that is not the current one: refused, nothing done.
    let (status, e) = a
        .post("/api/v1/plugins/changes", json!({"planned": []}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"], "plan_changed");
    assert!(!a.collection_file("commands/ship.md").exists());
    let (status, done) = a
        .post("/api/v1/plugins/changes", json!({"planned": planned}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(a.collection_file("commands/ship.md").is_file(), "{done}");
}

/// A plugin's `hooks/hooks.json` (the wrapper shape plugins use) and `.mcp.json` (the bare map
/// of servers plugins write) become `hook:<plugin>` and `mcp:<plugin>`, deployed key by key
/// beside the project's own; a plugin whose hooks run its own files through
/// `${CLAUDE_PLUGIN_ROOT}` has them listed as not taken, with why.
#[test]
fn a_plugins_hooks_and_servers_are_artifacts_and_plugin_root_ones_are_not_taken() {
    let m = GitRepo::new();
    m.write(
        ".claude-plugin/marketplace.json",
        r#"{"name": "team", "owner": {"name": "Platform"},
            "plugins": [{"name": "guard", "source": "./guard"},
                        {"name": "local", "source": "./local"}]}"#,
    )
    .write(
        "guard/hooks/hooks.json",
        r#"{"description": "Lint after edits",
            "hooks": {"PostToolUse": [{"matcher": "Edit|Write",
              "hooks": [{"type": "command", "command": "npm run lint"}]}]}}"#,
    )
    .write(
        "guard/.mcp.json",
        r#"{"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]},
            "docs": {"type": "http", "url": "https://docs.example.com/mcp"}}"#,
    )
    .write(
        "local/hooks/hooks.json",
        r#"{"hooks": {"SessionStart": [{"hooks": [
              {"type": "command", "command": "${CLAUDE_PLUGIN_ROOT}/start.sh"}]}]}}"#,
    )
    .write("local/commands/go.md", "Go.\n");
    m.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("p");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::write(
        project.join(".mcp.json"),
        "{\"mcpServers\": {\"mine\": {\"command\": \"my-server\"}}}\n",
    )
    .unwrap();
    let spec = m.path().display().to_string();

    let o = skillmeat(&home, tmp.path(), &["marketplace", "list", &spec, "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let view: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let plugin = |name: &str| {
        view["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    let ids = |p: &serde_json::Value| -> Vec<String> {
        p["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&plugin("guard")), ["hook:guard", "mcp:guard"], "{view}");
    assert_eq!(ids(&plugin("local")), ["command:go"], "{view}");
    assert!(
        plugin("local").to_string().contains("CLAUDE_PLUGIN_ROOT"),
        "the hook not taken is listed with why: {view}"
    );

    let o = skillmeat(&home, tmp.path(), &["add", &spec, "--plugin", "guard"]);
    assert!(o.status.success(), "{}", text(&o));
    let p = project.to_str().unwrap();
    let o = skillmeat(
        &home,
        tmp.path(),
        &["deploy", "hook:guard", "mcp:guard", "--project", p],
    );
    assert!(o.status.success(), "{}", text(&o));
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join(".claude/settings.json")).unwrap())
            .unwrap();
    assert_eq!(
        settings["hooks"]["PostToolUse"][0]["hooks"][0]["command"],
        "npm run lint"
    );
    let mcp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join(".mcp.json")).unwrap()).unwrap();
    assert_eq!(mcp["mcpServers"]["mine"]["command"], "my-server", "{mcp}");
    assert_eq!(mcp["mcpServers"]["github"]["command"], "npx", "{mcp}");
    assert_eq!(mcp["mcpServers"]["docs"]["type"], "http", "{mcp}");
    let written = std::fs::read_to_string(project.join(".mcp.json")).unwrap();
    let mine = written
        .find("\"mine\": {\"command\": \"my-server\"}")
        .unwrap_or_else(|| panic!("the user's server keeps its bytes: {written}"));
    assert!(
        mine < written.find("\"docs\"").unwrap() && mine < written.find("\"github\"").unwrap(),
        "and its place, first: {written}"
    );
    let o = skillmeat(&home, tmp.path(), &["drift", "--project", p, "--json"]);
    let drift: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        drift["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "synced"),
        "{drift}"
    );
}
