//! `skillmeat config` from the outside: list/get/set with `--json`, an override from the
//! environment, refusals that name the key, and `sync.default_strategy` choosing the strategy
//! of a sync that names none (CLI and server job).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::api;
use crate::cli::{skillmeat, skillmeat_with_env, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_listed_set_overridden_and_used() {
    let a = api().await;
    let cwd = a.tmp.path();
    let o = skillmeat(&a.home, cwd, &["config", "list", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        skillmeat_core::storage::config::KEYS.len(),
        "{list}"
    );
    assert_eq!(list[0]["key"], "sync.auto_merge");
    assert_eq!(list[0]["source"], "default");

    let o = skillmeat(&a.home, cwd, &["config", "set", "jobs.concurrency", "many"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("jobs.concurrency"), "{}", text(&o));
    let o = skillmeat(&a.home, cwd, &["config", "get", "sync.nothing"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("sync.auto_merge"), "{}", text(&o));

    // An override wins over the file, and says where it came from.
    let o = skillmeat_with_env(
        &a.home,
        cwd,
        &["config", "list", "--json"],
        &[("SKILLMEAT_UPSTREAM_CHECKS", "false")],
    );
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let checks = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "upstream.checks")
        .unwrap();
    assert_eq!(
        (&checks["value"], &checks["source"]),
        (&json!("false"), &json!("env"))
    );

    // The default strategy: fork, for the CLI's sync and the server's job alike.
    let o = skillmeat(
        &a.home,
        cwd,
        &["config", "set", "sync.default_strategy", "fork"],
    );
    assert!(o.status.success(), "{}", text(&o));
    a.edit_fix_on_both_sides();
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
            "--dry-run",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("command:fix-fork"), "{}", text(&o));
    let (status, job) = a
        .post(
            "/api/v1/sync/jobs",
            json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"], "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["strategy"], "fork", "{done}");
    assert_eq!(done["result"][0]["fork"], "command:fix-fork", "{done}");

    // A malformed file: the CLI and the API both refuse, naming the line and the key.
    std::fs::write(a.home.join("config.toml"), "[sync]\nauto_merge = 3\n").unwrap();
    let o = skillmeat(&a.home, cwd, &["drift"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("config.toml:2:"), "{}", text(&o));
    assert!(text(&o).contains("sync.auto_merge"), "{}", text(&o));
    let (status, body) = a.get("/api/v1/drift").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"], "bad_config", "{body}");
}
