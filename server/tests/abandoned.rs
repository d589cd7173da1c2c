//! Abandoned conflicts from the outside: pending merges listed with their age in
//! `GET /conflicts`, `GET /drift`, `skillmeat drift` (text and `--json`) and `/metrics`; those
//! older than `conflicts.stale_after` flagged; and a pending merge aborted through the API.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::{Api, api};
use crate::cli::{skillmeat, text};

/// Makes a pending merge of `command:fix` in the project and one of `skill:review` in the
/// collection (upstream against a collection edit), both through sync jobs.
async fn two_pending_merges(a: &Api) {
    a.edit_fix_on_both_sides();
    std::fs::write(
        a.collection_file("skills/review/SKILL.md"),
        "# Review, the collection's way\n",
    )
    .unwrap();
    a.move_upstream_review("# Review, the upstream's way\n");
    for body in [
        json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"], "dry_run": false}),
        json!({"direction": "upstream-to-collection", "artifacts": ["skill:review"], "dry_run": false}),
    ] {
        let (status, job) = a.apply(body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        let done = a.wait(job["id"].as_i64().unwrap()).await;
        assert_eq!(done["state"], "conflict", "{done}");
    }
}

/// Moves the detection time of the pending merge whose `merge.toml` says `direction` back by
/// `days`.
fn age_merge(a: &Api, direction: &str, days: u64) {
    let root = a.home.join("pending");
    for entry in std::fs::read_dir(&root).unwrap() {
        let file = entry.unwrap().path().join("merge.toml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if !text.contains(direction) {
            continue;
        }
        let then = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
        let stamp = humantime::format_rfc3339_seconds(then).to_string();
        let aged: String = text
            .lines()
            .map(|l| {
                if l.starts_with("detected_at") {
                    format!("detected_at = \"{stamp}\"")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&file, aged + "\n").unwrap();
        return;
    }
    panic!("no pending merge {direction} under {}", root.display());
}

fn merge_of<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["merges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["artifact"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_merges_are_listed_with_their_age_flagged_when_stale_and_aborted_through_the_api() {
    let a = api().await;
    two_pending_merges(&a).await;

    let (status, list) = a.get("/api/v1/conflicts").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["merges"].as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list["stale"], 0);
    assert_eq!(list["stale_after_seconds"], 7 * 86_400);
    let fix = merge_of(&list, "command:fix");
    assert_eq!(fix["direction"], "collection-to-project");
    assert_eq!(fix["project_path"], a.p());
    assert_eq!(fix["files"], json!(["fix.md"]));
    assert_eq!(fix["stale"], false);
    assert!(fix["age_seconds"].as_u64().unwrap() < 600, "{fix}");
    assert_eq!(merge_of(&list, "skill:review")["project_path"], Value::Null);

    // Ten days later, the project's merge is stale: first in the list (oldest first), counted,
    // alone under ?stale=true, and in /metrics.
    age_merge(&a, "collection-to-project", 10);
    let (_, list) = a.get("/api/v1/conflicts").await;
    assert_eq!(list["stale"], 1, "{list}");
    assert_eq!(list["merges"][0]["artifact"], "command:fix", "{list}");
    assert_eq!(list["merges"][0]["stale"], true);
    assert!(list["oldest_age_seconds"].as_u64().unwrap() >= 10 * 86_400);
    let (_, only) = a.get("/api/v1/conflicts?stale=true").await;
    assert_eq!(only["merges"].as_array().unwrap().len(), 1, "{only}");
    let (status, metrics) = a.get_text("/api/v1/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "skillmeat_pending_merges 2",
        "skillmeat_pending_merges_stale 1",
    ] {
        assert!(
            metrics.contains(needle),
            "{needle} missing from:\n{metrics}"
        );
    }
    let oldest: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("skillmeat_pending_merge_oldest_age_seconds "))
        .unwrap_or_else(|| panic!("{metrics}"))
        .parse()
        .unwrap();
    assert!(oldest >= 10 * 86_400, "{oldest}");

    // Drift lists them too, in the API and the CLI (text and --json).
    let (_, drift) = a.get("/api/v1/drift").await;
    assert_eq!(
        drift["pending_merges"].as_array().unwrap().len(),
        2,
        "{drift}"
    );
    let o = skillmeat(&a.home, a.tmp.path(), &["drift", "--json"]);
    let report: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(report["pending_merges"][0]["id"], "command:fix", "{report}");
    assert_eq!(report["pending_merges"][0]["stale"], true);
    let o = skillmeat(&a.home, a.tmp.path(), &["drift"]);
    let shown = text(&o);
    assert!(
        shown.contains("Pending merges (2), oldest first"),
        "{shown}"
    );
    assert!(shown.contains("10 d (stale)"), "{shown}");
    assert!(
        shown.contains("1 pending merge is older than `conflicts.stale_after`"),
        "{shown}"
    );

    // A longer setting: nothing is stale.
    std::fs::write(
        a.home.join("config.toml"),
        "[conflicts]\nstale_after = \"30d\"\n",
    )
    .unwrap();
    let (_, list) = a.get("/api/v1/conflicts").await;
    assert_eq!(
        (list["stale"].clone(), list["stale_after_seconds"].clone()),
        (json!(0), json!(30 * 86_400))
    );

    // Aborted through the API: the merge is gone, the project's copy is as it was, the audit
    // trail says so; a second abort finds nothing.
    let uri = format!(
        "/api/v1/artifacts/command:fix/conflicts?project_path={}",
        a.p()
    );
    let (status, done) = a.delete(&uri).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["resolution"], "aborted");
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix, the project's way.\n"
    );
    let (_, list) = a.get("/api/v1/conflicts").await;
    assert_eq!(list["merges"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["merges"][0]["artifact"], "skill:review");
    let (_, log) = a.get("/api/v1/artifacts/command:fix/events").await;
    assert!(
        log["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "abort"),
        "{log}"
    );
    let (status, body) = a.delete(&uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "no_pending_merge", "{body}");

    // The collection's own merge, without a project.
    let (status, done) = a.delete("/api/v1/artifacts/skill:review/conflicts").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, list) = a.get("/api/v1/conflicts").await;
    assert_eq!(list["merges"], json!([]), "{list}");
    let (_, metrics) = a.get_text("/api/v1/metrics").await;
    assert!(metrics.contains("skillmeat_pending_merges 0"), "{metrics}");
}
