//! The fork strategy from the outside: `sync --strategy fork` (plan and apply, text and
//! `--json`), `resolve --fork`, a sync job with `strategy: fork`, and a resolve job with
//! `fork: true` (and its refusals), over one home shared by the CLI and the server.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::api;
use crate::cli::{skillmeat, text};

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_forks_a_sync_and_a_pending_merge() {
    let a = api().await;
    let cwd = a.tmp.path();
    a.edit_fix_on_both_sides();

    // The plan says what the fork will be; nothing is written.
    let args = [
        "sync",
        "command:fix",
        "--direction",
        "deploy",
        "--project",
        a.p(),
        "--strategy",
        "fork",
    ];
    let o = skillmeat(&a.home, cwd, &[&args[..], &["--dry-run"]].concat());
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("forked"), "{out}");
    assert!(out.contains("becomes command:fix-fork"), "{out}");
    assert!(!a.project_file("commands/fix-fork.md").exists());

    let o = skillmeat(&a.home, cwd, &[&args[..], &["--yes", "--json"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let report = json_of(&o);
    let report = if report.is_array() {
        report[0].clone()
    } else {
        report
    };
    assert_eq!(report["outcome"], "forked", "{report}");
    assert_eq!(report["fork"], "command:fix-fork", "{report}");
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix, the project's way.\n"
    );
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix-fork.md")).unwrap(),
        "Fix, the collection's way.\n"
    );
    let o = skillmeat(&a.home, cwd, &["list", "--json"]);
    assert!(text(&o).contains("command:fix-fork"), "{}", text(&o));

    // A conflict left pending is settled by `resolve --fork`: the second fork's name is free.
    std::fs::write(
        a.collection_file("commands/fix.md"),
        "Fix, the collection's second way.\n",
    )
    .unwrap();
    std::fs::write(
        a.project_file("commands/fix.md"),
        "Fix, the project's second way.\n",
    )
    .unwrap();
    let o = skillmeat(
        &a.home,
        cwd,
        &[
            "sync",
            "command:fix",
            "--direction",
            "deploy",
            "--project",
            a.p(),
            "--yes",
        ],
    );
    let out = text(&o);
    assert!(out.contains("resolve command:fix --fork"), "{out}");
    let o = skillmeat(
        &a.home,
        cwd,
        &["resolve", "command:fix", "--project", a.p(), "--fork"],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("command:fix-fork-2"), "{out}");
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix, the project's second way.\n"
    );
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix-fork-2.md")).unwrap(),
        "Fix, the collection's second way.\n"
    );
    let o = skillmeat(
        &a.home,
        cwd,
        &["log", "command:fix", "--conflicts", "--json"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("fork"), "{}", text(&o));
    let o = skillmeat(&a.home, cwd, &["log", "command:fix"]);
    let out = text(&o);
    assert!(out.contains("fix.md fork"), "{out}");
    assert!(out.contains("now command:fix-fork-2"), "{out}");

    // Nothing pending now: `resolve --fork` says so and exits non-zero.
    let o = skillmeat(
        &a.home,
        cwd,
        &["resolve", "command:fix", "--project", a.p(), "--fork"],
    );
    assert!(!o.status.success(), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_forks_in_a_sync_job_and_in_a_resolve_job() {
    let a = api().await;
    a.edit_fix_on_both_sides();
    let (_, job) = a
        .apply(
            json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"], "dry_run": false}),
        )
        .await;
    assert_eq!(
        a.wait(job["id"].as_i64().unwrap()).await["state"],
        "conflict"
    );

    // A fork settles the merge whole: choices of files alongside it are refused.
    let (status, body) = a
        .post(
            "/api/v1/sync/resolve",
            json!({"artifact": "command:fix", "project_path": a.p(), "fork": true, "files": {"fix.md": "ours"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("`fork` keeps both"), "{body}");

    let (status, job) = a
        .post(
            "/api/v1/sync/resolve",
            json!({"artifact": "command:fix", "project_path": a.p(), "fork": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(done["result"][0]["fork"], "command:fix-fork", "{done}");
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix-fork.md")).unwrap(),
        "Fix, the collection's way.\n"
    );
    let (_, log) = a.get("/api/v1/artifacts/command:fix/events").await;
    let resolve = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resolve")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(resolve["resolutions"], json!({"fix.md": "fork"}));

    // A sync job with strategy fork: the collection keeps its edit, the upstream's version
    // lands beside it.
    std::fs::write(
        a.collection_file("skills/review/SKILL.md"),
        "# Review, ours\n",
    )
    .unwrap();
    a.move_upstream_review("# Review, theirs\n");
    let (status, job) = a
        .apply(
            json!({"direction": "upstream-to-collection", "artifacts": ["skill:review"], "strategy": "fork", "dry_run": false}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(done["result"][0]["outcome"], "forked", "{done}");
    assert_eq!(done["result"][0]["fork"], "skill:review-fork", "{done}");
    assert_eq!(
        std::fs::read_to_string(a.collection_file("skills/review/SKILL.md")).unwrap(),
        "# Review, ours\n"
    );
    assert_eq!(
        std::fs::read_to_string(a.collection_file("skills/review-fork/SKILL.md")).unwrap(),
        "# Review, theirs\n"
    );
    let (status, artifacts) = a.get("/api/v1/artifacts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        artifacts.to_string().contains("skill:review-fork"),
        "{artifacts}"
    );
}
