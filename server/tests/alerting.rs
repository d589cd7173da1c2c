//! The sync metrics and the Prometheus alert rules shipped in `deploy/prometheus/`: applied and
//! previewed syncs are counted by direction and outcome (merged vs conflict), failures by kind,
//! phases and upstream checks timed; and every rule is well formed and names only metrics the
//! server exports. Where `promtool` is installed, `promtool check rules` must pass too.

use std::collections::BTreeSet;
use std::path::Path;

use axum::http::StatusCode;
use serde_json::json;
use yaml_rust2::{Yaml, YamlLoader};

use crate::api::api;

const RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../deploy/prometheus/skillmeat-alerts.yml"
);

/// The `skillmeat_…` metric names in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("skillmeat_") {
        let start = i + at;
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        names.insert(expr[start..end].to_owned());
        i = end;
    }
    names
}

/// Whether the exposition `text` has metric `name` (a counter's `_total`, a histogram's
/// `_bucket` / `_sum` / `_count` belong to the family their TYPE line names).
fn exported(text: &str, name: &str) -> bool {
    let family = ["_total", "_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    text.lines().any(|l| {
        l.starts_with(&format!("# TYPE {family} ")) || l.starts_with(&format!("# TYPE {name} "))
    })
}

fn balanced(expr: &str) -> bool {
    let mut stack = Vec::new();
    for c in expr.chars() {
        let open = match c {
            '(' | '{' | '[' => {
                stack.push(c);
                continue;
            }
            ')' => '(',
            '}' => '{',
            ']' => '[',
            _ => continue,
        };
        if stack.pop() != Some(open) {
            return false;
        }
    }
    stack.is_empty()
}

fn is_duration(text: &str) -> bool {
    let digits = text.trim_end_matches(['s', 'm', 'h', 'd']);
    !digits.is_empty() && digits.len() < text.len() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_are_counted_by_outcome_and_the_alert_rules_name_only_exported_metrics() {
    let a = api().await;
    // One preview and one applied conflict of command:fix, one preview and applied fast-forward
    // of skill:review, and one upstream check.
    a.edit_fix_on_both_sides();
    std::fs::write(
        a.collection_file("skills/review/SKILL.md"),
        "# Review, v2\n",
    )
    .unwrap();
    for artifact in ["command:fix", "skill:review"] {
        let (status, job) = a
            .apply(json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": [artifact]}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        a.wait(job["id"].as_i64().unwrap()).await;
    }
    let (status, drift) = a.get("/api/v1/drift?check_upstream=true").await;
    assert_eq!(status, StatusCode::OK, "{drift}");

    let (status, text) = a.get_text("/api/v1/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for series in [
        r#"skillmeat_syncs_total{direction="collection-to-project",mode="apply",outcome="conflict"} 1"#,
        r#"skillmeat_syncs_total{direction="collection-to-project",mode="preview",outcome="conflict"} 1"#,
        r#"skillmeat_syncs_total{direction="collection-to-project",mode="apply",outcome="fast-forward"} 1"#,
        r#"skillmeat_sync_phase_duration_seconds_count{phase="fetch"} 4"#,
        r#"skillmeat_sync_phase_duration_seconds_count{phase="merge"} 4"#,
        r#"skillmeat_sync_phase_duration_seconds_count{phase="apply"} 2"#,
        "skillmeat_upstream_check_duration_seconds_count 2",
        "skillmeat_locked_artifacts 0",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }

    // A failing sync is counted by its kind.
    let away = a.upstream_path().with_extension("away");
    std::fs::rename(a.upstream_path(), &away).unwrap();
    let (_, job) = a
        .apply(json!({"direction": "upstream-to-collection", "artifacts": ["skill:review"]}))
        .await;
    a.wait(job["id"].as_i64().unwrap()).await;
    std::fs::rename(&away, a.upstream_path()).unwrap();
    let (_, text) = a.get_text("/api/v1/metrics").await;
    let errors = r#"skillmeat_sync_errors_total{direction="upstream-to-collection",mode="preview",kind="upstream_failed"} 1"#;
    assert!(text.contains(errors), "{errors} missing from:\n{text}");

    // The rules.
    let source = std::fs::read_to_string(RULES).unwrap();
    let docs = YamlLoader::load_from_str(&source).unwrap();
    let groups = docs[0]["groups"].as_vec().expect("a `groups` list");
    assert!(!groups.is_empty());
    let mut alerts = BTreeSet::new();
    for group in groups {
        assert!(group["name"].as_str().is_some(), "a group without a name");
        let rules = group["rules"].as_vec().expect("a group's `rules` list");
        for rule in rules {
            let name = rule["alert"]
                .as_str()
                .expect("every rule is an alert")
                .to_owned();
            assert!(
                name.starts_with("SkillMeat") && name.chars().all(char::is_alphanumeric),
                "{name}"
            );
            assert!(alerts.insert(name.clone()), "{name} twice");
            let expr = rule["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no expr"));
            assert!(balanced(expr), "{name}: unbalanced brackets in {expr}");
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{name}: names no skillmeat metric");
            for metric in &names {
                assert!(
                    exported(&text, metric),
                    "{name}: {metric} is not exported:\n{text}"
                );
            }
            if let Yaml::String(f) = &rule["for"] {
                assert!(is_duration(f), "{name}: for: {f}");
            }
            let severity = rule["labels"]["severity"].as_str().unwrap_or_default();
            assert!(
                ["info", "warning", "critical"].contains(&severity),
                "{name}: severity {severity:?}"
            );
            for key in ["summary", "description"] {
                let text = rule["annotations"][key].as_str().unwrap_or_default();
                assert!(!text.trim().is_empty(), "{name}: no {key}");
            }
        }
    }
    for wanted in ["SkillMeatHighConflictRate", "SkillMeatHighSyncErrorRate"] {
        assert!(alerts.contains(wanted), "{wanted} missing: {alerts:?}");
    }

    // scripts/setup.sh test unpacks it into target/tools/; one on PATH does as well.
    let unpacked = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/promtool");
    let promtool = which("promtool").or_else(|| unpacked.is_file().then_some(unpacked));
    match promtool {
        Some(promtool) => {
            let o = std::process::Command::new(promtool)
                .args(["check", "rules", RULES])
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "promtool check rules:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        None => eprintln!(
            "SKIPPED: promtool is not installed here; {RULES} was checked by this test only \
             (`scripts/setup.sh test` unpacks it from Debian's `prometheus` package into target/tools/)"
        ),
    }
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(tool))
        .find(|p| p.is_file())
}

#[test]
fn the_rule_checks_catch_what_they_look_for() {
    assert_eq!(
        metric_names("sum(increase(skillmeat_syncs_total{a=\"b\"}[1h])) / skillmeat_jobs_total"),
        BTreeSet::from([
            "skillmeat_syncs_total".to_owned(),
            "skillmeat_jobs_total".to_owned()
        ])
    );
    let text = "# TYPE skillmeat_syncs counter\n# TYPE skillmeat_locked_artifacts gauge\n";
    assert!(exported(text, "skillmeat_syncs_total"));
    assert!(exported(text, "skillmeat_locked_artifacts"));
    assert!(!exported(text, "skillmeat_sync_total"));
    assert!(balanced("a(b{c}[d])"));
    assert!(!balanced("a(b{c)]"));
    assert!(is_duration("15m") && is_duration("0m") && !is_duration("m") && !is_duration("15"));
}
