//! `skillmeat check` and the checks before every deploy, on artifacts shaped the ways Claude
//! Code trips over: a bad skill name, a skill without frontmatter, a key an upload refuses, an
//! agent Claude Code skips, two agents with one name (one nested, as `.claude/agents/` is read
//! recursively), and a project skill hidden by the user's.

use skillmeat_testutils::git::GitRepo;

use crate::cli::{skillmeat_with_env, text};

#[test]
fn checks_find_what_claude_code_would_skip_or_hide_and_deploy_refuses_duplicate_agents() {
    let up = GitRepo::new();
    up.write(
        "skills/good/SKILL.md",
        "---\nname: good\ndescription: Fine.\n---\n",
    )
    .write(
        "skills/bad/SKILL.md",
        "---\nname: Bad_Name\ndescription: d\n---\n",
    )
    .write("skills/plain/SKILL.md", "# No frontmatter\n")
    .write(
        "skills/upload/SKILL.md",
        "---\nname: upload\ndescription: d\nmodel: opus\n---\n",
    )
    .write(
        "agents/a.md",
        "---\nname: helper\ndescription: Helps.\n---\n",
    )
    .write(
        "agents/team/b.md",
        "---\nname: helper\ndescription: Also helps.\n---\n",
    )
    .write("agents/quiet.md", "Just a prompt.\n");
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let (home, user, project) = (
        tmp.path().join("h"),
        tmp.path().join("me"),
        tmp.path().join("app"),
    );
    std::fs::create_dir_all(user.join(".claude/skills/good")).unwrap();
    std::fs::write(
        user.join(".claude/skills/good/SKILL.md"),
        "---\nname: good\ndescription: Mine.\n---\n",
    )
    .unwrap();
    std::fs::create_dir_all(&project).unwrap();
    let env = [("HOME", user.to_str().unwrap())];
    let run = |args: &[&str]| skillmeat_with_env(&home, tmp.path(), args, &env);
    for (path, name) in [
        ("skills/good", None),
        ("skills/bad", None),
        ("skills/plain", None),
        ("skills/upload", None),
        ("agents/a.md", None),
        ("agents/team/b.md", Some("b")),
        ("agents/quiet.md", None),
    ] {
        let spec = format!("{}#{path}", up.path().display());
        let mut args = vec!["add", spec.as_str()];
        if let Some(n) = name {
            args.extend(["--type", "agent", "--name", n]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", text(&o));
    }

    let o = run(&["check", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes = |id: &str| -> Vec<String> {
        report["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(codes("skill:good").is_empty());
    assert_eq!(codes("skill:bad"), ["bad-name"]);
    assert_eq!(codes("skill:plain"), ["no-frontmatter"]);
    assert_eq!(codes("skill:upload"), ["upload-key"]);
    assert_eq!(codes("agent:quiet"), ["agent-skipped"]);
    let o = run(&["check"]);
    assert!(
        text(&o).contains("Claude Code skips this agent"),
        "{}",
        text(&o)
    );

    // Before a deploy: warnings, or with --strict a refusal that writes nothing.
    let p = project.to_str().unwrap();
    let o = run(&["deploy", "skill:bad", "--project", p, "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("Bad_Name"), "{}", text(&o));
    assert!(!project.join(".claude/skills/bad").exists());
    let o = run(&["deploy", "skill:bad", "--project", p]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("Bad_Name"),
        "the finding is a warning: {}",
        text(&o)
    );

    // Two agents named `helper`: refused together, and one after the other.
    let o = run(&["deploy", "agent:a", "agent:b", "--project", p]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("agent name `helper`") && text(&o).contains("agent:b"),
        "{}",
        text(&o)
    );
    assert!(
        !project.join(".claude/agents/a.md").exists(),
        "nothing was written"
    );
    let o = run(&["deploy", "agent:a", "--project", p]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["deploy", "agent:b", "--project", p]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("a.md"), "{}", text(&o));
    // A hand-written nested agent of the same name is found too.
    std::fs::create_dir_all(project.join(".claude/agents/team")).unwrap();
    std::fs::write(
        project.join(".claude/agents/team/x.md"),
        "---\nname: helper\ndescription: x\n---\n",
    )
    .unwrap();
    let o = run(&["deploy", "skill:good", "--project", p]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["check", "--project", p]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let shown = text(&o);
    assert!(shown.contains("team/x.md"), "{shown}");
    assert!(
        shown.contains("the user skill") && shown.contains("hides this project skill"),
        "{shown}"
    );

    // An agent renamed upstream: the plan says from what to what.
    up.write(
        "agents/a.md",
        "---\nname: helper-two\ndescription: Helps.\n---\n",
    );
    up.commit("rename");
    let o = run(&["sync", "agent:a", "--direction", "upstream", "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("frontmatter `name` changed from `helper` to `helper-two`"),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_checks_the_collection_and_a_project() {
    use axum::http::StatusCode;
    let a = crate::api::api().await;
    let (status, report) = a.get("/api/v1/check").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let review = report["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "skill:review")
        .unwrap();
    assert_eq!(review["findings"][0]["code"], "no-frontmatter", "{report}");
    assert_eq!(review["findings"][0]["severity"], "error");
    let (status, report) = a
        .get(&format!(
            "/api/v1/check?ids=command:fix&project_path={}",
            a.p()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["artifacts"].as_array().unwrap().len(), 1);
    let (status, e) = a.get("/api/v1/check?ids=skill:a%2Fb").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
}
