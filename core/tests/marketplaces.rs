//! Claude Code plugin marketplaces as upstreams, on marketplaces built in temp git repositories:
//! every source kind the marketplace reference names (relative, bare name under pluginRoot,
//! git-subdir pinned by sha), one unsupported kind and one hostile path that fail only their own
//! plugin, renames followed, and a plugin's artifacts added one by one with their own pins.

use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::marketplace::{self, Selection};
use skillmeat_core::storage::collection::{Lock, Manifest};
use skillmeat_testutils::block_on;
use skillmeat_testutils::git::GitRepo;

use crate::scenarios::world;

/// A repository holding one plugin in a sub-folder, committed twice: the first commit's sha and
/// the repository.
fn external_plugin() -> (GitRepo, String) {
    let ext = GitRepo::new();
    ext.write(
        "tools/ext-plugin/agents/ext-agent.md",
        "---\nname: ext-agent\ndescription: From elsewhere.\n---\nPinned text.\n",
    );
    let pinned = ext.commit("ext v1");
    ext.write("tools/ext-plugin/agents/ext-agent.md", "Later text.\n");
    ext.commit("ext v2");
    (ext, pinned)
}

fn marketplace(ext: &GitRepo, pinned: &str) -> GitRepo {
    let m = GitRepo::new();
    let json = serde_json::json!({
        "name": "team",
        "owner": {"name": "Platform team"},
        "metadata": {"description": "Golden skills", "pluginRoot": "plugins"},
        "plugins": [
            {"name": "review-kit", "source": "./plugins/review-kit", "description": "Reviews", "version": "1.0.0"},
            {"name": "bare", "source": "bare"},
            {"name": "ext", "source": {"source": "git-subdir", "url": ext.path().display().to_string(), "path": "tools/ext-plugin", "ref": "main", "sha": pinned}},
            {"name": "npm-thing", "source": {"source": "npm", "package": "@x/y"}},
            {"name": "escape", "source": "../../../etc"}
        ],
        "renames": {"old-kit": "review-kit"}
    });
    m.write(".claude-plugin/marketplace.json", &json.to_string())
        .write(
            "plugins/review-kit/.claude-plugin/plugin.json",
            r#"{"name": "review-kit", "version": "1.0.0"}"#,
        )
        .write(
            "plugins/review-kit/skills/review/SKILL.md",
            "---\nname: review\ndescription: Review.\n---\n",
        )
        .write(
            "plugins/review-kit/skills/lint/SKILL.md",
            "---\nname: lint\ndescription: Lint.\n---\n",
        )
        .write("plugins/review-kit/skills/notes.txt", "not a skill\n")
        .write("plugins/review-kit/commands/fix.md", "Fix it.\n")
        .write("plugins/review-kit/commands/nested/deep.md", "Nested.\n")
        .write(
            "plugins/review-kit/agents/planner.md",
            "---\nname: planner\ndescription: Plans.\n---\n",
        )
        .write(
            "plugins/review-kit/agents/team/reviewer.md",
            "---\nname: reviewer\ndescription: Reviews.\n---\n",
        )
        .write("plugins/review-kit/agents/Bad Name.md", "Bad.\n")
        .write(
            "plugins/bare/skills/bare-skill/SKILL.md",
            "---\nname: bare-skill\ndescription: Bare.\n---\n",
        );
    m.commit("marketplace v1");
    m.tag("v1");
    m
}

fn ids(p: &marketplace::PluginView) -> Vec<String> {
    let mut ids: Vec<String> = p.artifacts.iter().map(|a| a.id.to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn a_marketplace_lists_its_plugins_and_what_each_holds() {
    let w = world();
    let (ext, pinned) = external_plugin();
    let m = marketplace(&ext, &pinned);
    let view = marketplace::read(&w.ctx, &m.path().display().to_string()).unwrap();
    assert_eq!(view.name, "team");
    assert_eq!(view.description.as_deref(), Some("Golden skills"));
    let plugin = |name: &str| view.plugins.iter().find(|p| p.name == name).unwrap();

    let kit = plugin("review-kit");
    assert_eq!(kit.problem, None);
    assert_eq!(
        ids(kit),
        [
            "agent:planner",
            "agent:reviewer",
            "command:fix",
            "skill:lint",
            "skill:review"
        ]
    );
    assert!(kit.skipped.iter().any(|s| s.contains("nested")), "{kit:?}");
    assert!(
        kit.skipped.iter().any(|s| s.contains("Bad Name")),
        "{kit:?}"
    );
    assert_eq!(ids(plugin("bare")), ["skill:bare-skill"]);
    let ext_plugin = plugin("ext");
    assert_eq!(ids(ext_plugin), ["agent:ext-agent"]);
    assert!(
        ext_plugin.artifacts[0]
            .spec
            .ends_with(&format!("@{pinned}")),
        "sha wins over ref: {ext_plugin:?}"
    );
    // One unsupported and one hostile source fail only themselves.
    let npm = plugin("npm-thing");
    assert!(
        npm.problem.as_deref().unwrap().contains("not supported"),
        "{npm:?}"
    );
    assert!(npm.artifacts.is_empty());
    let escape = plugin("escape");
    assert!(
        escape
            .problem
            .as_deref()
            .unwrap()
            .contains("leaves the repository"),
        "{escape:?}"
    );

    // Nothing was added by reading.
    let dir = w.ctx.home.collection_dir("default").unwrap();
    assert!(Manifest::load(&dir).unwrap().artifacts.is_empty());
}

#[test]
fn a_plugins_artifacts_are_added_each_with_its_own_pin_and_lock_entry() {
    let w = world();
    let (ext, pinned) = external_plugin();
    let m = marketplace(&ext, &pinned);
    let spec = format!("{}@v1", m.path().display());
    // The old name is followed to the new one.
    let done = block_on(marketplace::add_plugins(
        &w.ctx,
        &spec,
        &Selection::Named(vec!["old-kit".into(), "ext".into()]),
        "default",
    ))
    .unwrap();
    assert!(!done.failed(), "{done:?}");
    assert_eq!(done.plugins[0].plugin, "review-kit@team");
    let dir = w.ctx.home.collection_dir("default").unwrap();
    let manifest = Manifest::load(&dir).unwrap();
    let lock = Lock::load(&dir).unwrap();
    assert_eq!(manifest.artifacts.len(), 6, "{manifest:?}");
    for e in &manifest.artifacts {
        let plugin = e.plugin.as_deref().unwrap();
        assert!(["review-kit@team", "ext@team"].contains(&plugin), "{e:?}");
        let locked = lock.get(&e.id).unwrap();
        assert!(!locked.commit.is_empty());
    }
    let review: ArtifactId = "skill:review".parse().unwrap();
    let entry = manifest.get(&review).unwrap();
    assert!(
        entry
            .upstream
            .as_deref()
            .unwrap()
            .contains("#plugins/review-kit/skills/review@v1"),
        "{entry:?}"
    );
    assert_eq!(
        lock.get(&review).unwrap().path,
        "plugins/review-kit/skills/review"
    );
    // The pinned commit's text, not the later one.
    assert!(
        std::fs::read_to_string(dir.join("agents/ext-agent.md"))
            .unwrap()
            .contains("Pinned text."),
    );
    assert_eq!(
        manifest.plugins.iter().map(|p| p.key()).collect::<Vec<_>>(),
        ["review-kit@team", "ext@team"]
    );

    // Again: nothing changes, every artifact is already there.
    let again = block_on(marketplace::add_plugins(
        &w.ctx,
        &spec,
        &Selection::Named(vec!["review-kit".into()]),
        "default",
    ))
    .unwrap();
    assert!(
        again.plugins[0]
            .artifacts
            .iter()
            .all(|a| a.result == "present"),
        "{again:?}"
    );
    assert_eq!(Manifest::load(&dir).unwrap().plugins.len(), 2);

    // --all: the unsupported and hostile plugins fail alone; the rest are added.
    let all = block_on(marketplace::add_plugins(
        &w.ctx,
        &spec,
        &Selection::All,
        "default",
    ))
    .unwrap();
    assert!(all.failed());
    let by = |name: &str| {
        all.plugins
            .iter()
            .find(|p| p.plugin == format!("{name}@team"))
            .unwrap()
    };
    assert!(by("npm-thing").problem.is_some());
    assert!(by("escape").problem.is_some());
    assert_eq!(by("bare").artifacts[0].result, "added");
    assert!(dir.join("skills/bare-skill/SKILL.md").is_file());

    // A plugin the marketplace does not have, by name: a clear error naming those it has.
    let err = block_on(marketplace::add_plugins(
        &w.ctx,
        &spec,
        &Selection::Named(vec!["nope".into()]),
        "default",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("review-kit, bare, ext"), "{err}");
}

#[test]
fn a_broken_or_missing_marketplace_is_a_clear_error() {
    let w = world();
    let m = GitRepo::new();
    m.write(
        ".claude-plugin/marketplace.json",
        "{\"name\": \"x\",\n \"plugins\": [\n  {\"name\": 3}\n]}",
    );
    m.commit("broken");
    let err = marketplace::read(&w.ctx, &m.path().display().to_string()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(".claude-plugin/marketplace.json") && text.contains("line 3"),
        "{text}"
    );
    // The world's upstream is a plain repository of artifacts, no marketplace.
    let err = marketplace::read(&w.ctx, &w.spec("")).unwrap_err();
    assert!(
        err.to_string().contains("is not a plugin marketplace"),
        "{err}"
    );
}

/// The marketplace moves on: the plugin is renamed, gains a skill, loses three artifacts (one
/// untouched, one edited in the collection, one deployed), and another plugin's pin moves. The
/// plan says all of it and changes nothing; the apply adds, removes only the untouched one,
/// keeps the others with why, follows the rename and the new pin.
#[test]
fn updates_follow_the_plugin_and_never_delete_an_edited_or_deployed_copy() {
    let w = world();
    let (ext, pinned) = external_plugin();
    let m = marketplace(&ext, &pinned);
    let spec = m.path().display().to_string();
    block_on(marketplace::add_plugins(
        &w.ctx,
        &spec,
        &Selection::Named(vec!["review-kit".into(), "ext".into()]),
        "default",
    ))
    .unwrap();
    let lint: ArtifactId = "skill:lint".parse().unwrap();
    crate::scenarios::deploy(&w.ctx, std::slice::from_ref(&lint), &w.p1, "default").unwrap();
    let dir = w.ctx.home.collection_dir("default").unwrap();
    std::fs::write(dir.join("agents/planner.md"), "Planned my way.\n").unwrap();

    let later = ext.commit("ext v3");
    let mut json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(m.path().join(".claude-plugin/marketplace.json")).unwrap(),
    )
    .unwrap();
    json["plugins"][0]["name"] = "kit2".into();
    json["plugins"][2]["source"]["sha"] = later.clone().into();
    json["renames"] = serde_json::json!({"old-kit": "kit2", "review-kit": "kit2"});
    m.write(".claude-plugin/marketplace.json", &json.to_string())
        .write(
            "plugins/review-kit/skills/new-skill/SKILL.md",
            "---\nname: new-skill\ndescription: New.\n---\n",
        )
        .remove("plugins/review-kit/skills/review")
        .remove("plugins/review-kit/skills/lint")
        .remove("plugins/review-kit/agents/planner.md");
    m.commit("marketplace v2");

    let before = std::fs::read_to_string(dir.join("collection.toml")).unwrap();
    let plan = block_on(marketplace::follow_plugins(&w.ctx, "default", false)).unwrap();
    let find = |changes: &[marketplace::PluginChange], what: &str| -> Vec<String> {
        let mut v: Vec<String> = changes
            .iter()
            .filter(|c| c.change == what)
            .map(|c| {
                c.id.as_ref()
                    .map_or_else(|| c.plugin.clone(), ToString::to_string)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(find(&plan, "renamed"), ["review-kit@team"], "{plan:#?}");
    assert_eq!(find(&plan, "added"), ["skill:new-skill"], "{plan:#?}");
    assert_eq!(find(&plan, "removed"), ["skill:review"], "{plan:#?}");
    assert_eq!(
        find(&plan, "kept"),
        ["agent:planner", "skill:lint"],
        "{plan:#?}"
    );
    assert_eq!(find(&plan, "moved"), ["agent:ext-agent"], "{plan:#?}");
    assert!(plan.iter().all(|c| !c.applied));
    assert_eq!(
        std::fs::read_to_string(dir.join("collection.toml")).unwrap(),
        before,
        "a plan writes nothing"
    );

    let done = block_on(marketplace::follow_plugins(&w.ctx, "default", true)).unwrap();
    assert_eq!(
        find(&done, "kept"),
        ["agent:planner", "skill:lint"],
        "{done:#?}"
    );
    let manifest = Manifest::load(&dir).unwrap();
    let has = |id: &str| manifest.get(&id.parse().unwrap()).cloned();
    assert!(has("skill:review").is_none());
    assert!(!dir.join("skills/review").exists());
    assert_eq!(
        has("skill:new-skill").unwrap().plugin.as_deref(),
        Some("kit2@team")
    );
    assert_eq!(
        has("skill:lint").unwrap().plugin.as_deref(),
        Some("kit2@team"),
        "renamed, same id"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("agents/planner.md")).unwrap(),
        "Planned my way.\n"
    );
    assert!(
        has("agent:ext-agent")
            .unwrap()
            .upstream
            .unwrap()
            .ends_with(&format!("@{later}"))
    );
    assert!(manifest.plugins.iter().any(|p| p.key() == "kit2@team"));
    // Once followed, there is nothing more to do.
    let again = block_on(marketplace::follow_plugins(&w.ctx, "default", false)).unwrap();
    assert!(again.iter().all(|c| c.change == "kept"), "{again:#?}");
}

/// The real shape: the fixture's anthropics/skills snapshot given the kind of marketplace.json
/// that repository ships (two plugins over one `skills/` folder, `"source": "./"`, each listing
/// its skills). Skipped, saying so, where the fixture is absent.
#[test]
fn the_fixture_as_a_marketplace_splits_its_skills_between_its_plugins() {
    let Some(fixture) = skillmeat_testutils::git::fixture_upstream() else {
        return;
    };
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(fixture.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["checkout", "-q", "-B", "main", "v4"]);
    std::fs::create_dir_all(fixture.path().join(".claude-plugin")).unwrap();
    let json = serde_json::json!({
        "name": "anthropic-agent-skills",
        "owner": {"name": "fixture"},
        "metadata": {"description": "Example skills", "version": "1.0.0"},
        "plugins": [
            {"name": "art-skills", "source": "./", "strict": false,
             "skills": ["./skills/algorithmic-art", "./skills/canvas-design"]},
            {"name": "brand-skills", "source": "./", "strict": false,
             "skills": ["./skills/brand-guidelines"]}
        ]
    });
    std::fs::write(
        fixture.path().join(".claude-plugin/marketplace.json"),
        json.to_string(),
    )
    .unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "marketplace"]);

    let w = world();
    let view = marketplace::read(&w.ctx, &fixture.path().display().to_string()).unwrap();
    assert_eq!(
        ids(&view.plugins[0]),
        ["skill:algorithmic-art", "skill:canvas-design"]
    );
    assert_eq!(ids(&view.plugins[1]), ["skill:brand-guidelines"]);
    let done = block_on(marketplace::add_plugins(
        &w.ctx,
        &view.spec,
        &Selection::All,
        "default",
    ))
    .unwrap();
    assert!(!done.failed(), "{done:?}");
    let dir = w.ctx.home.collection_dir("default").unwrap();
    assert!(dir.join("skills/canvas-design/SKILL.md").is_file());
    assert!(dir.join("skills/algorithmic-art/LICENSE.txt").is_file());
}

/// Output styles are artifacts too: found in a plugin's `output-styles/`, added, deployed into
/// `.claude/output-styles/`, and checked (`keep-coding-instructions` must be a boolean).
#[test]
fn output_styles_come_from_plugins_and_deploy_into_their_folder() {
    let w = world();
    let m = GitRepo::new();
    m.write(
        ".claude-plugin/marketplace.json",
        r#"{"name": "styles", "plugins": [{"name": "voice", "source": "./voice"}]}"#,
    )
    .write(
        "voice/output-styles/terse.md",
        "---\nname: Terse\ndescription: Short answers.\nkeep-coding-instructions: yes please\n---\nBe brief.\n",
    );
    m.commit("v1");
    let spec = m.path().display().to_string();
    let view = marketplace::read(&w.ctx, &spec).unwrap();
    assert_eq!(ids(&view.plugins[0]), ["output-style:terse"]);
    block_on(marketplace::add_plugins(
        &w.ctx,
        &spec,
        &Selection::All,
        "default",
    ))
    .unwrap();
    let id: ArtifactId = "output-style:terse".parse().unwrap();
    let dir = w.ctx.home.collection_dir("default").unwrap();
    assert!(dir.join("output-styles/terse.md").is_file());
    let report =
        skillmeat_core::ops::check::check(&w.ctx, std::slice::from_ref(&id), "default", None, None)
            .unwrap();
    assert_eq!(
        report.artifacts[0].findings[0].code, "bad-value",
        "{report:?}"
    );
    crate::scenarios::deploy(&w.ctx, std::slice::from_ref(&id), &w.p1, "default").unwrap();
    assert_eq!(
        std::fs::read_to_string(w.p1.join(".claude/output-styles/terse.md")).unwrap(),
        std::fs::read_to_string(dir.join("output-styles/terse.md")).unwrap()
    );
    // A symlinked output-styles folder leading out of the project is refused like the others.
    let outside = tempfile::tempdir().unwrap();
    std::fs::remove_dir_all(w.p2.join(".claude/output-styles")).ok();
    std::fs::create_dir_all(w.p2.join(".claude")).unwrap();
    std::os::unix::fs::symlink(outside.path(), w.p2.join(".claude/output-styles")).unwrap();
    let err =
        crate::scenarios::deploy(&w.ctx, std::slice::from_ref(&id), &w.p2, "default").unwrap_err();
    assert!(err.to_string().contains("output-styles"), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}
