//! The kill-switch from the outside: server jobs whose syncs of an artifact fail three times in
//! a row lock it; the fourth job, the CLI and the API all refuse it naming the last failure
//! and `skillmeat unlock`; `GET /sync/failures` and `skillmeat unlock --list` show it; the web
//! page data carries it; `DELETE /artifacts/{id}/lock` and `skillmeat unlock` lift it.

use axum::http::StatusCode;
use serde_json::json;

use crate::api::api;
use crate::cli::{skillmeat, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_syncs_lock_an_artifact_for_the_server_and_the_cli_until_unlocked() {
    let a = api().await;
    // Applies straight away: each failing job is one failed sync (with previews on, the failed
    // preview would stop the apply before it tried).
    a.preview_off();
    a.move_upstream_review("# Review, v2\n");
    let away = a.upstream_path().with_extension("away");
    std::fs::rename(a.upstream_path(), &away).unwrap();
    let body = json!({"direction": "upstream-to-collection", "artifacts": ["skill:review"], "dry_run": false});
    let mut errors = Vec::new();
    for _ in 0..4 {
        let (status, job) = a.post("/api/v1/sync/jobs", body.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        let done = a.wait(job["id"].as_i64().unwrap()).await;
        assert_eq!(done["state"], "error", "{done}");
        errors.push(done["result"][0]["error"].as_str().unwrap().to_owned());
    }
    assert!(!errors[2].contains("is locked"), "{}", errors[2]);
    let refused = &errors[3];
    assert!(
        refused.contains("skill:review is locked: its last 3 syncs failed"),
        "{refused}"
    );
    assert!(
        refused.contains("skillmeat unlock skill:review"),
        "{refused}"
    );

    let (status, failing) = a.get("/api/v1/sync/failures").await;
    assert_eq!(status, StatusCode::OK, "{failing}");
    assert_eq!(failing["lock_after_failures"], 3);
    let run = &failing["artifacts"][0];
    assert_eq!(run["artifact"], "skill:review");
    assert_eq!(run["failures"], 3);
    assert!(run["locked_at"].is_string(), "{failing}");

    // The upstream is back; the CLI is refused too, with what to do.
    std::fs::rename(&away, a.upstream_path()).unwrap();
    let cwd = a.tmp.path();
    let o = skillmeat(
        &a.home,
        cwd,
        &["sync", "skill:review", "--direction", "upstream", "--yes"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("is locked"), "{}", text(&o));
    assert!(text(&o).contains("skillmeat unlock"), "{}", text(&o));
    let o = skillmeat(&a.home, cwd, &["unlock", "--list", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(listed[0]["artifact"], "skill:review", "{listed}");

    // Unlocked over the API; a second unlock says there was nothing to do.
    let (status, unlocked) = a.delete("/api/v1/artifacts/skill:review/lock").await;
    assert_eq!(status, StatusCode::OK, "{unlocked}");
    assert_eq!(unlocked["was_locked"], true, "{unlocked}");
    assert_eq!(unlocked["run"]["failures"], 3);
    let o = skillmeat(&a.home, cwd, &["unlock", "skill:review", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(again["was_locked"], false, "{again}");

    // Syncs run again.
    let (_, job) = a.post("/api/v1/sync/jobs", body).await;
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    let (_, failing) = a.get("/api/v1/sync/failures").await;
    assert_eq!(failing["artifacts"], json!([]));
    let o = skillmeat(&a.home, cwd, &["unlock", "--list"]);
    assert!(
        text(&o).contains("No artifact has failing syncs."),
        "{}",
        text(&o)
    );
}
