//! Pruning while serving: finished jobs past their keep time (30 days) and patch bundles past
//! theirs (24 hours) go on the server's schedule, not only at start; fresh ones and files that
//! are not bundles stay.

use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use serde_json::json;
use skillmeat_core::jobs::runner::KEEP_FINISHED;

use crate::api::api;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_jobs_and_bundles_are_pruned_on_the_schedule_and_fresh_ones_stay() {
    let a = api().await;
    let (status, job) = a
        .post(
            "/api/v1/sync/jobs",
            json!({"direction": "collection-to-project", "project_path": a.p()}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_i64().unwrap();
    a.wait(id).await;

    let exports = a.home.join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let now = SystemTime::now();
    let aged = |name: &str, age: Duration| {
        let path = exports.join(name);
        let file = std::fs::File::create(&path).unwrap();
        file.set_modified(now - age).unwrap();
        path
    };
    let old = aged("skill-review-old.tar.gz", Duration::from_secs(25 * 3600));
    let fresh = aged("skill-review-fresh.tar.gz", Duration::from_secs(3600));
    let other = aged("notes.txt", Duration::from_secs(90 * 24 * 3600));

    // A second runner over the same home, as the server's schedule runs it.
    let ctx = skillmeat_core::ops::Context {
        home: skillmeat_core::storage::home::Home::new(&a.home),
        now,
        fetch: Default::default(),
        cwd: a.tmp.path().to_owned(),
        lock_timeout: Duration::from_secs(10),
    };
    let (_state, runner) = skillmeat::serve::app_state(&a.home, ctx).await.unwrap();
    // Today: the job is young, one bundle is old.
    let (jobs, bundles) = skillmeat::serve::prune_once(&runner, &a.home, now).await;
    assert_eq!((jobs, bundles), (0, 1));
    assert!(!old.exists() && fresh.exists() && other.exists());
    let (status, _) = a.get(&format!("/api/v1/sync/jobs/{id}")).await;
    assert_eq!(status, StatusCode::OK);

    // A month on, the finished job goes too (and the other bundle).
    let later = now + KEEP_FINISHED + Duration::from_secs(3600);
    let (jobs, bundles) = skillmeat::serve::prune_once(&runner, &a.home, later).await;
    assert_eq!((jobs, bundles), (1, 1));
    let (status, body) = a.get(&format!("/api/v1/sync/jobs/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        !fresh.exists() && other.exists(),
        "only bundles are SkillMeat's to remove"
    );
}
