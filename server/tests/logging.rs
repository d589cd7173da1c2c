//! Every sync logs one line with the fields logs are searched by — operation, artifact,
//! direction, result, duration, auto_merge, conflict_files — for the CLI and for server jobs
//! alike (both go through the same core call); seen here in the CLI's log on stderr, with the
//! trace id its `--json` carries.

use crate::api::api;
use crate::cli::skillmeat_with_env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_logs_one_line_with_its_structured_fields() {
    let a = api().await;
    a.edit_fix_on_both_sides();
    let o = skillmeat_with_env(
        &a.home,
        a.tmp.path(),
        &[
            "sync",
            "command:fix",
            "--direction",
            "deploy",
            "--project",
            a.p(),
            "--yes",
            "--json",
        ],
        &[
            ("SKILLMEAT_LOG", "skillmeat=info,skillmeat_core=debug"),
            ("NO_COLOR", "1"),
        ],
    );
    let log = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{log}");
    // The plan shown first, then the applying sync that left the conflict.
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("sync ended")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains(r#"operation="plan""#), "{}", lines[0]);
    let line = lines[1];
    for field in [
        r#"operation="sync""#,
        "artifact=command:fix",
        r#"direction="collection-to-project""#,
        r#"result="conflict""#,
        "duration_ms=",
        "auto_merge=true",
        "conflict_files=1",
        "conflicted=fix.md",
    ] {
        assert!(line.contains(field), "{field} missing from: {line}");
    }
    // The JSON names the trace its log lines carry.
    let reports: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let trace = reports[0]["trace_id"].as_str().unwrap();
    assert_eq!(trace.len(), 32, "{reports}");
    assert!(line.contains(&format!("trace_id={trace}")), "{line}");

    // A caller's W3C traceparent puts the command into the caller's trace.
    let caller = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{caller}-00f067aa0ba902b7-01");
    let o = skillmeat_with_env(
        &a.home,
        a.tmp.path(),
        &["update", "--all", "--dry-run", "--json"],
        &[("TRACEPARENT", &traceparent)],
    );
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["trace_id"] == caller), "{rows:?}");
}
