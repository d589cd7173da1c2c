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
        .map(|e| {
            format!(
                "{} {}",
                e["kind"].as_str().unwrap(),
                e["artifact"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_api_read_one_trail_written_by_both() {
    let a = api().await;
    let cwd = a.tmp.path();
    // The CLI deployed both artifacts (in `api()`); the server resolves a conflict of one.
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
    let (status, job) = a
        .post(
            "/api/v1/sync/resolve",
            json!({"artifact": "command:fix", "project_path": a.p(), "hunks": {"fix.md": ["ours"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(
        a.wait(job["id"].as_i64().unwrap()).await["state"],
        "success"
    );
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
    assert_eq!(
        resolve["conflict_record"],
        all["events"][2]["conflict_record"]
    );
    assert!(
        resolve["summary"]
            .as_str()
            .unwrap()
            .contains("fix.md hunks")
    );
    assert_eq!(all["events"][0]["tag"], "reviewed");

    // The CLI reads the same rows.
    let o = skillmeat(&a.home, cwd, &["log", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let cli: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
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
        .get(&format!(
            "/api/v1/events/log?project_path={}&artifact=command:fix",
            a.p()
        ))
        .await;
    assert_eq!(
        kinds(&here["events"]),
        [
            "resolve command:fix",
            "conflict command:fix",
            "deploy command:fix"
        ]
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
    let o = skillmeat(
        &a.home,
        cwd,
        &["log", "command:fix", "--conflicts", "--json"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let cli: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cli, fix["conflicts"]);
    let o = skillmeat(&a.home, cwd, &["log", "command:fix", "--conflicts"]);
    assert!(
        text(&o).contains("1 conflicted merge — 1 resolved, 0 aborted, 0 pending"),
        "{}",
        text(&o)
    );

    // Bad queries: 422 with a code, or a usage error; nothing is read past them.
    for (uri, code) in [
        ("/api/v1/events/log?kind=nope".to_owned(), "bad_query"),
        ("/api/v1/events/log?limit=0".to_owned(), "bad_query"),
        ("/api/v1/events/log?limit=501".to_owned(), "bad_query"),
        ("/api/v1/events/log?since=yesterday".to_owned(), "bad_query"),
        ("/api/v1/events/log?before=x".to_owned(), "bad_query"),
        (
            "/api/v1/events/log?artifact=nope".to_owned(),
            "bad_artifact_id",
        ),
        (
            "/api/v1/events/log?project_path=/nowhere".to_owned(),
            "unregistered_project",
        ),
        (
            "/api/v1/artifacts/command:fix/events?artifact=skill:review".to_owned(),
            "bad_query",
        ),
        (
            "/api/v1/artifacts/bad%2Fname/events".to_owned(),
            "bad_artifact_id",
        ),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bumps_tags_and_changelogs_through_the_cli_and_the_api() {
    let a = api().await;
    let cwd = a.tmp.path();
    let run = |args: &[&str]| -> Value {
        let o = skillmeat(&a.home, cwd, args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&o)))
    };
    // First tag through the CLI's proposal.
    let next = run(&["tag", "skill:review", "--next", "--json"]);
    assert_eq!(next["proposed"], "v1.0.0");
    assert_eq!(next["tagged"], Value::Null);
    let applied = run(&["tag", "skill:review", "--next", "--yes", "--json"]);
    assert_eq!(applied["tagged"]["version_tag"], "v1.0.0");

    // A file added in the collection: minor, proposed by the API.
    std::fs::write(a.collection_file("skills/review/extra.md"), "More.\n").unwrap();
    std::fs::write(a.collection_file("skills/review/notes.md"), "Notes.\n").unwrap();
    let (status, next) = a.get("/api/v1/artifacts/skill:review/tags/next").await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_eq!(
        (
            next["proposed"].as_str(),
            next["bump"]["bump"].as_str(),
            next["last_tag"].as_str()
        ),
        (Some("v1.1.0"), Some("minor"), Some("v1.0.0"))
    );
    assert_eq!(next["bump"]["reasons"][0]["text"], "extra.md added");
    // Tagging through the API: the proposal, then a taken tag and a bad one.
    let (status, tagged) = a
        .post(
            "/api/v1/artifacts/skill:review/tags",
            json!({"tag": "v1.1.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tagged}");
    assert_eq!(
        (tagged["tag"].as_str(), tagged["breaking"].as_bool()),
        (Some("v1.1.0"), Some(false))
    );
    for (body, want, code) in [
        (json!({"tag": "v1.0.0"}), StatusCode::CONFLICT, "tag_taken"),
        (
            json!({"tag": "no spaces"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            json!({"tag": "v9", "version": "ffff"}),
            StatusCode::NOT_FOUND,
            "unknown_version",
        ),
        (
            json!({"tag": "v9", "bogus": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_body",
        ),
    ] {
        let (status, err) = a
            .post("/api/v1/artifacts/skill:review/tags", body.clone())
            .await;
        assert_eq!(
            (status, err["error"].as_str()),
            (want, Some(code)),
            "{body} → {err}"
        );
    }

    // A file removed: major, and the CLI marks the tag breaking.
    std::fs::remove_file(a.collection_file("skills/review/notes.md")).unwrap();
    let major = run(&["tag", "skill:review", "--next", "--yes", "--json"]);
    assert_eq!(major["proposed"], "v2.0.0");
    assert_eq!(major["breaking"], true);
    assert_eq!(major["tagged"]["breaking"], true);
    let o = skillmeat(&a.home, cwd, &["tag", "skill:review", "--next"]);
    assert!(
        text(&o).contains("skill:review: none since v2.0.0"),
        "{}",
        text(&o)
    );

    // History and the changelog in both edges.
    let (_, h) = a.get("/api/v1/artifacts/skill:review/history").await;
    let v2 = h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["tag"] == "v2.0.0")
        .unwrap()
        .clone();
    assert_eq!(v2["breaking"], true);
    assert_eq!(v2["bump"]["bump"], "major", "{v2}");
    let (status, log) = a
        .get("/api/v1/artifacts/skill:review/changelog?from=v1.0.0&to=v2.0.0")
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let steps: Vec<(String, String)> = log["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["tag"].as_str().unwrap().to_owned(),
                s["bump"]["bump"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("v2.0.0".into(), "major".into()),
            ("v1.1.0".into(), "minor".into())
        ]
    );
    assert_eq!(log["in_order"], true);
    let cli = run(&[
        "changelog",
        "skill:review",
        "--from",
        "v1.0.0",
        "--to",
        "v2.0.0",
        "--json",
    ]);
    assert_eq!(cli["steps"].as_array().unwrap().len(), 2);
    // Over the whole range only a file was added (notes.md came and went): the net change.
    assert_eq!(cli["bump"]["bump"], "minor");
    let o = skillmeat(
        &a.home,
        cwd,
        &["changelog", "skill:review", "--from", "v1.0.0"],
    );
    let out = text(&o);
    assert!(
        out.contains("v2.0.0 (breaking)") && out.contains("deleted"),
        "{out}"
    );
    let (status, err) = a
        .get("/api/v1/artifacts/skill:review/changelog?from=nope")
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_version")),
        "{err}"
    );

    // A diff carries the suggestion in both edges.
    let (_, d) = a
        .get("/api/v1/artifacts/skill:review/diff?lhs=v1.1.0&rhs=collection")
        .await;
    assert_eq!(d["bump"]["summary"], "major: notes.md removed", "{d}");
    let cli = run(&[
        "diff",
        "skill:review",
        "--lhs",
        "v1.1.0",
        "--rhs",
        "collection",
        "--json",
    ]);
    assert_eq!(cli["bump"]["bump"], "major");
    let o = skillmeat(
        &a.home,
        cwd,
        &["diff", "skill:review", "--lhs", "v1.0.0", "--rhs", "v1.1.0"],
    );
    assert!(
        text(&o).contains("Suggested version bump: minor: extra.md added; notes.md added"),
        "{}",
        text(&o)
    );
    // A sync plan says what the target would take: the project lacks extra.md.
    let (_, job) = a
        .post(
            "/api/v1/sync/jobs",
            json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["skill:review"]}),
        )
        .await;
    let plan = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(plan["result"][0]["bump"]["bump"], "minor", "{plan}");
    let o = skillmeat(
        &a.home,
        cwd,
        &[
            "sync",
            "skill:review",
            "--direction",
            "deploy",
            "--project",
            a.p(),
        ],
    );
    assert!(
        text(&o).contains("Suggested version bump: minor: extra.md added"),
        "{}",
        text(&o)
    );
    let o = skillmeat(
        &a.home,
        cwd,
        &["update", "--all", "--project", a.p(), "--json"],
    );
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let review = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "skill:review")
        .unwrap();
    assert_eq!(review["bump"], "minor", "{rows}");
    // And the tags are in the log, the breaking one marked.
    let (_, tags) = a
        .get("/api/v1/artifacts/skill:review/events?kind=tag")
        .await;
    let names: Vec<&str> = tags["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["tag"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v2.0.0", "v1.1.0", "v1.0.0"]);
}

#[test]
fn the_server_checks_projects_on_a_schedule_and_the_timeline_shows_it() {
    let up = crate::cli::upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let spec = format!("{}#commands/fix.md", up.path().display());
    for args in [
        vec!["add", spec.as_str()],
        vec![
            "deploy",
            "command:fix",
            "--project",
            project.to_str().unwrap(),
        ],
    ] {
        let o = skillmeat(&home, tmp.path(), &args);
        assert!(o.status.success(), "{}", text(&o));
    }
    let project = project.canonicalize().unwrap();
    let p = project.to_str().unwrap();
    let show = || -> Value {
        let o = skillmeat(
            &home,
            tmp.path(),
            &["show", "command:fix", "--project", p, "--json"],
        );
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let before = show();
    assert_eq!(before["deployment"]["modified_since"], Value::Null);
    assert!(before["deployment"]["deployed_at"].is_string());
    std::fs::write(project.join(".claude/commands/fix.md"), "Fix it my way.\n").unwrap();

    let mut server = crate::restart::start_with_env(&home, &[("SKILLMEAT_CHECK_EVERY", "200ms")]);
    let token = std::fs::read_to_string(home.join("server-token")).unwrap();
    let token = token.trim();
    let started = std::time::Instant::now();
    let seen = loop {
        let now = show();
        if now["deployment"]["modified_since"].is_string() {
            break now;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no check ran: {now}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(seen["deployment"]["modified_now"], true);
    // Later checks keep the first sighting and move the last check on.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let later = show();
    assert_eq!(
        later["deployment"]["modified_since"],
        seen["deployment"]["modified_since"]
    );
    assert!(
        later["deployment"]["last_checked"].as_str() >= seen["deployment"]["last_checked"].as_str()
    );
    let (status, t) = crate::restart::call_with(
        &server.addr,
        token,
        "GET",
        &format!("/api/v1/artifacts/command:fix/timeline?project_path={p}"),
        None,
        "",
    );
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["modified_since"], later["deployment"]["modified_since"]);
    assert_eq!(t["modified_now"], true);
    assert_eq!(t["versions"].as_u64().map(|n| n >= 1), Some(true));
    let (status, err) = crate::restart::call_with(
        &server.addr,
        token,
        "GET",
        "/api/v1/artifacts/command:fix/timeline",
        None,
        "",
    );
    assert_eq!((status, err["error"].as_str()), (422, Some("bad_query")));
    let o = skillmeat(&home, tmp.path(), &["show", "command:fix", "--project", p]);
    assert!(
        text(&o).contains("modified:      yes, first seen"),
        "{}",
        text(&o)
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
