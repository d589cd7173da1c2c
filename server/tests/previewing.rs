//! `sync.preview_required` from the outside: an apply names the dry-run job whose plan it
//! applies, and writes an artifact only while its sides and outcome are still that plan's; a
//! request that names no plan, the wrong plan or an unfinished one is refused before anything
//! is queued; with the setting off, applies go straight through.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::{Api, api};

const JOBS: &str = "/api/v1/sync/jobs";

fn deploy_both(a: &Api) -> Value {
    json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix", "skill:review"]})
}

/// Queues `body` as a dry run and waits for its end.
async fn plan(a: &Api, mut body: Value) -> Value {
    body["dry_run"] = json!(true);
    let (status, job) = a.post(JOBS, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    a.wait(job["id"].as_i64().unwrap()).await
}

fn applying(mut body: Value, plan: &Value) -> Value {
    body["dry_run"] = json!(false);
    body["plan_job"] = plan["id"].clone();
    body
}

fn report<'a>(job: &'a Value, id: &str) -> &'a Value {
    job["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no report of {id} in {job}"))
}

/// Both artifacts changed in the collection since they were deployed.
fn change_the_collection(a: &Api) {
    std::fs::write(a.collection_file("commands/fix.md"), "Fixed, v2.\n").unwrap();
    std::fs::write(
        a.collection_file("skills/review/SKILL.md"),
        "# Review, v2\n",
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_without_a_fitting_finished_plan_is_refused_and_nothing_is_queued() {
    let a = api().await;
    change_the_collection(&a);
    let before = std::fs::read(a.project_file("commands/fix.md")).unwrap();
    let (_, jobs_before) = a.get(JOBS).await;

    // No plan named: the default asks for one, and says how.
    let mut body = deploy_both(&a);
    body["dry_run"] = json!(false);
    let (status, err) = a.post(JOBS, body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"], "preview_required", "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("dry_run: true") && message.contains("plan_job"),
        "{message}"
    );
    assert!(message.contains("sync.preview_required"), "{message}");

    // A plan of another request (only one of the two artifacts), one that does not exist, and
    // a plan named by a dry run.
    let other = plan(
        &a,
        json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"]}),
    )
    .await;
    let (status, err) = a.post(JOBS, applying(deploy_both(&a), &other)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "plan_mismatch", "{err}");
    let (status, err) = a
        .post(JOBS, applying(deploy_both(&a), &json!({"id": 999_999})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "unknown_plan_job", "{err}");
    let mut dry = applying(deploy_both(&a), &other);
    dry["dry_run"] = json!(true);
    let (status, err) = a.post(JOBS, dry).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "unexpected_plan_job", "{err}");
    // The same with another strategy is another request.
    let mut theirs = applying(
        json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"], "strategy": "theirs"}),
        &other,
    );
    theirs["dry_run"] = json!(false);
    let (status, err) = a.post(JOBS, theirs).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "plan_mismatch", "{err}");

    // Nothing was queued but the one plan, and nothing written.
    let (_, jobs_after) = a.get(JOBS).await;
    assert_eq!(
        jobs_after["jobs"].as_array().unwrap().len(),
        jobs_before["jobs"].as_array().unwrap().len() + 1,
        "{jobs_after}"
    );
    assert_eq!(
        std::fs::read(a.project_file("commands/fix.md")).unwrap(),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_writes_what_its_plan_showed_and_refuses_an_artifact_that_moved_since() {
    let a = api().await;
    change_the_collection(&a);
    let shown = plan(&a, deploy_both(&a)).await;
    assert_eq!(shown["state"], "success", "{shown}");
    assert_eq!(report(&shown, "command:fix")["outcome"], "fast-forward");
    assert_eq!(report(&shown, "skill:review")["outcome"], "fast-forward");

    // Between the preview and the apply, the user edits the project's copy of one of them.
    std::fs::write(
        a.project_file("commands/fix.md"),
        "Fixed by hand in the project.\n",
    )
    .unwrap();

    let (status, job) = a.post(JOBS, applying(deploy_both(&a), &shown)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["plan_job"], shown["id"]);
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "error", "{done}");
    // The edited copy is refused, untouched, and the message says why and what to do.
    let refused = report(&done, "command:fix")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(refused.contains("changed since its preview"), "{refused}");
    assert!(refused.contains("the target is now"), "{refused}");
    assert!(refused.contains("preview again"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fixed by hand in the project.\n"
    );
    // The other artifact was still the plan: applied.
    assert_eq!(report(&done, "skill:review")["outcome"], "fast-forward");
    assert_eq!(report(&done, "skill:review")["applied"], true);
    assert_eq!(
        std::fs::read_to_string(a.project_file("skills/review/SKILL.md")).unwrap(),
        "# Review, v2\n"
    );

    // A new preview sees the edit (both sides moved: a merge), and applying it goes through.
    let fix = json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"]});
    let again = plan(&a, fix.clone()).await;
    let outcome = report(&again, "command:fix")["outcome"].clone();
    assert_ne!(outcome, "fast-forward", "{again}");
    let (status, job) = a.post(JOBS, applying(fix, &again)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(report(&done, "command:fix")["outcome"], outcome, "{done}");
    assert!(
        report(&done, "command:fix").get("error").is_none(),
        "{done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_setting_off_an_apply_goes_straight_through() {
    let a = api().await;
    let o = crate::cli::skillmeat(
        &a.home,
        a.tmp.path(),
        &["config", "set", "sync.preview_required", "false"],
    );
    assert!(o.status.success(), "{}", crate::cli::text(&o));
    std::fs::write(a.collection_file("commands/fix.md"), "Fixed, v3.\n").unwrap();
    let mut body = json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"]});
    body["dry_run"] = json!(false);
    let (status, job) = a.post(JOBS, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["plan_job"], Value::Null);
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fixed, v3.\n"
    );
}
