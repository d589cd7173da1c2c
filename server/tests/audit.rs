//! The audit trail from the outside: `skillmeat log` (text and `--json`), `GET /events/log` and
//! `GET /artifacts/{id}/events` over the same home, written by the CLI and by server jobs, with
//! filters, pages and the refusals of bad queries.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::api;
use crate::cli::{skillmeat, text};

fn kinds(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["kind"].as_str().unwrap(), e["artifact"].as_str().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_api_read_one_trail_written_by_both() {
    let a = api().await;
    let cwd = a.tmp.path();
    // The CLI deployed both artifacts (in `api()`); the server resolves a conflict of one.
    std::fs::write(a.collection_file("commands/fix.md"), "Fix, the collection's way.\n").unwrap();
    std::fs::write(a.project_file("commands/fix.md"), "Fix, the project's way.\n").unwrap();
    let (_, job) = a
        .post(
            "/api/v1/sync/jobs",
            json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"], "dry_run": false}),
        )
        .await;
    assert_eq!(a.wait(job["id"].as_i64().unwrap()).await["state"], "conflict");
    let (status, job) = a
        .post(
            "/api/v1/sync/resolve",
            json!({"artifact": "command:fix", "project_path": a.p(), "hunks": {"fix.md": ["ours"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(a.wait(job["id"].as_i64().unwrap()).await["state"], "success");
    // And the CLI tags a version.
    let o = skillmeat(&a.home, cwd, &["tag", "skill:review", "reviewed"]);
    assert!(o.status.success(), "{}", text(&o));

    let (status, all) = a.get("/api/v1/events/log").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        kinds(&all["events"]),
        [
            "tag skill:review",
            "resolve command:fix",
            "conflict command:fix",
            "deploy skill:review",
            "deploy command:fix",
        ]
    );
    assert_eq!(all["next_before"], Value::Null);
    let resolve = &all["events"][1];
    assert_eq!(resolve["resolutions"], json!({"fix.md": "hunks"}));
    assert_eq!(resolve["project"], a.p());
    assert_eq!(resolve["direction"], "collection-to-project");
    assert_eq!(resolve["result"].as_str().unwrap().len(), 64);
    assert_eq!(resolve["conflict_record"], all["events"][2]["conflict_record"]);
    assert!(resolve["summary"].as_str().unwrap().contains("fix.md hunks"));
    assert_eq!(all["events"][0]["tag"], "reviewed");

    // The CLI reads the same rows.
    let o = skillmeat(&a.home, cwd, &["log", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let cli: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = |v: &Value| -> Vec<i64> {
        v.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(ids(&cli["events"]), ids(&all["events"]));
    let o = skillmeat(&a.home, cwd, &["log", "command:fix"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("resolved: fix.md hunks"), "{out}");
    assert!(out.contains("conflict on fix.md"), "{out}");
    assert!(!out.contains("skill:review"), "{out}");

    // Filters and pages.
    let (_, deploys) = a.get("/api/v1/events/log?kind=deploy,tag").await;
    assert_eq!(deploys["events"].as_array().unwrap().len(), 3);
    let (_, first) = a.get("/api/v1/events/log?limit=2").await;
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    let before = first["next_before"].as_i64().unwrap();
    let (_, second) = a
        .get(&format!("/api/v1/events/log?limit=2&before={before}"))
        .await;
    assert_eq!(second["events"][0]["kind"], "conflict");
    let (_, here) = a
        .get(&format!("/api/v1/events/log?project_path={}&artifact=command:fix", a.p()))
        .await;
    assert_eq!(
        kinds(&here["events"]),
        ["resolve command:fix", "conflict command:fix", "deploy command:fix"]
    );
    let (_, later) = a.get("/api/v1/events/log?since=2999-01-01").await;
    assert_eq!(later["events"], json!([]));

    // One artifact's trail, with its conflict history.
    let (status, fix) = a.get("/api/v1/artifacts/command:fix/events").await;
    assert_eq!(status, StatusCode::OK, "{fix}");
    assert_eq!(fix["id"], "command:fix");
    assert_eq!(fix["events"].as_array().unwrap().len(), 3);
    assert_eq!(
        fix["conflicts"],
        json!({"conflicts": 1, "resolved": 1, "aborted": 0,
               "files": [{"path": "fix.md", "times": 1, "settled": {"hunks": 1}}]})
    );
    let o = skillmeat(&a.home, cwd, &["log", "command:fix", "--conflicts", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let cli: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cli, fix["conflicts"]);
    let o = skillmeat(&a.home, cwd, &["log", "command:fix", "--conflicts"]);
    assert!(text(&o).contains("1 conflicted merge — 1 resolved, 0 aborted, 0 pending"), "{}", text(&o));

    // Bad queries: 422 with a code, or a usage error; nothing is read past them.
    for (uri, code) in [
        ("/api/v1/events/log?kind=nope".to_owned(), "bad_query"),
        ("/api/v1/events/log?limit=0".to_owned(), "bad_query"),
        ("/api/v1/events/log?limit=501".to_owned(), "bad_query"),
        ("/api/v1/events/log?since=yesterday".to_owned(), "bad_query"),
        ("/api/v1/events/log?before=x".to_owned(), "bad_query"),
        ("/api/v1/events/log?artifact=nope".to_owned(), "bad_artifact_id"),
        ("/api/v1/events/log?project_path=/nowhere".to_owned(), "unregistered_project"),
        ("/api/v1/artifacts/command:fix/events?artifact=skill:review".to_owned(), "bad_query"),
        ("/api/v1/artifacts/bad%2Fname/events".to_owned(), "bad_artifact_id"),
    ] {
        let (status, err) = a.get(&uri).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{uri} → {err}"
        );
    }
    for args in [
        &["log", "--kind", "nope"][..],
        &["log", "--since", "yesterday"],
        &["log", "--limit", "0"],
        &["log", "--conflicts"],
        &["log", "skill:a/b"],
    ] {
        let o = skillmeat(&a.home, cwd, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
}
