//! `skillmeat remove` / `undeploy` and `DELETE /artifacts/{id}` / `DELETE
//! /artifacts/{id}/deployments` over one home: refusals with what to do, the confirmation a
//! script must give, `--json`, and the copies and records gone afterwards.

use axum::http::StatusCode;
use serde_json::Value;

use crate::api::api;
use crate::cli::{skillmeat, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_api_remove_and_undeploy() {
    let a = api().await;
    let cwd = a.tmp.path();

    // Deployed: refused, naming the project and the way out.
    let o = skillmeat(&a.home, cwd, &["remove", "command:fix", "--yes"]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("still deployed"), "{out}");
    assert!(out.contains("--undeploy"), "{out}");
    // Not on a terminal and no --yes: nothing happens.
    let o = skillmeat(&a.home, cwd, &["remove", "command:fix", "--undeploy"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("--yes"), "{}", text(&o));
    assert!(a.project_file("commands/fix.md").exists());

    // A copy with local edits is refused by undeploy unless forced.
    std::fs::write(a.project_file("commands/fix.md"), "Mine.\n").unwrap();
    let o = skillmeat(
        &a.home,
        cwd,
        &["undeploy", "command:fix", "--project", a.p()],
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("local edits"), "{}", text(&o));
    let o = skillmeat(
        &a.home,
        cwd,
        &[
            "undeploy",
            "command:fix",
            "--project",
            a.p(),
            "--force",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let done: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(done["undeployed"][0]["local_edits"], true, "{done}");
    assert!(!a.project_file("commands/fix.md").exists());
    let o = skillmeat(&a.home, cwd, &["remove", "command:fix", "--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Removed command:fix"), "{}", text(&o));
    let o = skillmeat(&a.home, cwd, &["list", "--json"]);
    assert!(!text(&o).contains("command:fix"), "{}", text(&o));

    // The API: deployed → 409 still_deployed; undeploy then remove.
    let (status, body) = a.delete("/api/v1/artifacts/skill:review").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "still_deployed", "{body}");
    let (status, body) = a
        .delete(&format!(
            "/api/v1/artifacts/skill:review/deployments?project_path={}",
            a.p()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["undeployed"][0]["local_edits"], false);
    assert!(!a.project_file("skills/review").exists());
    let (status, body) = a.delete("/api/v1/artifacts/skill:review").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], "skill:review");
    assert!(!a.collection_file("skills/review").exists());
    let (status, body) = a.delete("/api/v1/artifacts/skill:review").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, log) = a.get("/api/v1/events/log?kind=remove,undeploy").await;
    assert_eq!(log["events"].as_array().unwrap().len(), 4, "{log}");
}
