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
