//! `config.toml`: defaults, a malformed file refused with its line and key, `set` keeping the
//! rest of the file, and each setting changing what the operations do (auto-merge off leaves a
//! pending merge, upstream checks off asks no upstream, the inline diff limit).

use std::fs;

use skillmeat_core::engine::diff;
use skillmeat_core::model::files::{ArtifactFiles, FileContent};
use skillmeat_core::ops::sync::{self, Direction, Outcome, Strategy, SyncRequest};
use skillmeat_core::ops::{self, OpsError};
use skillmeat_core::storage::config::{Config, ConfigError, Source};
use skillmeat_testutils::block_on;

use crate::scenarios::{deploy, edit, id, world};

#[test]
fn a_malformed_file_names_its_line_and_key_and_set_keeps_the_rest() {
    let w = world();
    let path = Config::path(&w.ctx.home);
    assert_eq!(Config::load(&w.ctx.home).unwrap(), Config::default());

    fs::create_dir_all(path.parent().unwrap()).unwrap();
    for (text, line, key) in [
        ("[sync]\nauto_merge = \"nope\"\n", 2, "sync.auto_merge"),
        ("# mine\n\n[jobs]\nconcurency = 2\n", 4, "jobs.concurency"),
        ("[diff]\ninline_limit = -1\n", 2, "diff.inline_limit"),
        ("[sync\n", 1, ""),
    ] {
        fs::write(&path, text).unwrap();
        let err = Config::load(&w.ctx.home).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(&format!("config.toml:{line}:")), "{shown}");
        assert!(shown.contains(key), "{shown}");
        // Every operation that reads it says so, instead of running on a guess.
        let e = ops::drift(&w.ctx, "default", &[], false).unwrap_err();
        assert!(matches!(e, OpsError::Config(_)), "{e}");
    }
    fs::write(&path, "[sync]\ndefault_strategy = \"mine\"\n").unwrap();
    let err = Config::load(&w.ctx.home).unwrap_err();
    assert!(matches!(err, ConfigError::BadValue { .. }), "{err}");
    assert!(err.to_string().contains("sync.default_strategy"), "{err}");

    let text = "# my settings\n[sync]\nauto_merge = true # keep this comment\n";
    fs::write(&path, text).unwrap();
    Config::set(&w.ctx.home, "jobs.concurrency", "8").unwrap();
    Config::set(&w.ctx.home, "sync.auto_merge", "false").unwrap();
    let now = fs::read_to_string(&path).unwrap();
    assert!(
        now.starts_with("# my settings\n[sync]\nauto_merge = false"),
        "{now}"
    );
    assert!(now.contains("# keep this comment"), "{now}");
    let (config, sources) = Config::load_with_sources(&w.ctx.home).unwrap();
    assert_eq!(config.jobs.concurrency, 8);
    assert!(!config.sync.auto_merge);
    assert_eq!(sources[0], Source::File);
    assert_eq!(sources[1], Source::Default);
    // Refused values write nothing.
    for (key, value) in [
        ("jobs.concurrency", "0"),
        ("sync.auto_merge", "perhaps"),
        ("no.such", "1"),
    ] {
        assert!(Config::set(&w.ctx.home, key, value).is_err(), "{key}");
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), now);
}

#[test]
fn auto_merge_off_leaves_a_clean_merge_pending_for_review() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    Config::set(&w.ctx.home, "sync.auto_merge", "false").unwrap();
    for (artifact, rel) in [
        ("skill:review", "skills/review/SKILL.md"),
        ("command:fix", "commands/fix.md"),
        ("agent:planner", "agents/planner.md"),
    ] {
        let original = fs::read_to_string(w.collection(rel)).unwrap();
        edit(&w.collection(rel), &format!("{original}Collection line.\n"));
        edit(
            &w.p1.join(".claude").join(rel),
            &format!("Project line.\n{original}"),
        );
        let artifact = id(artifact);
        let req = SyncRequest {
            id: &artifact,
            direction: Direction::CollectionToProject,
            project: Some(&w.p1),
            collection: "default",
            strategy: Strategy::Auto,
            dry_run: false,
            on_phase: None,
            expect: None,
        };
        let r = block_on(sync::sync(&w.ctx, &req)).unwrap();
        assert_eq!(r.outcome, Outcome::Conflict, "{artifact}");
        assert!(r.pending.is_some());
        // The project copy is untouched until the merge is applied.
        assert_eq!(
            fs::read_to_string(w.p1.join(".claude").join(rel)).unwrap(),
            format!("Project line.\n{original}")
        );
        let done = block_on(ops::conflicts::continue_merge(
            &w.ctx,
            &artifact,
            "default",
            Some(&w.p1),
        ))
        .unwrap();
        assert!(done.result.is_some());
        assert_eq!(
            fs::read_to_string(w.p1.join(".claude").join(rel)).unwrap(),
            format!("Project line.\n{original}Collection line.\n"),
            "{artifact}"
        );
    }
}

#[test]
fn upstream_checks_off_asks_no_upstream_and_the_inline_limit_is_the_setting() {
    let w = world();
    w.add_all();
    Config::set(&w.ctx.home, "upstream.checks", "false").unwrap();
    // The upstream is gone: a check would fail; with checks off none is made.
    let gone = w.up.path().to_owned();
    fs::rename(&gone, gone.with_extension("moved")).unwrap();
    let report = ops::drift(&w.ctx, "default", &[], true).unwrap();
    assert!(report.upstream_checks_off);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(
        report.rows.iter().all(|r| r.stale.is_none()),
        "no upstream was asked"
    );
    Config::set(&w.ctx.home, "upstream.checks", "true").unwrap();
    let report = ops::drift(&w.ctx, "default", &[], true).unwrap();
    assert!(!report.upstream_checks_off);
    // Asked this time, and unreachable: each upstream row is its last known state, so marked.
    let upstream_rows: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.pair == "upstream-collection")
        .collect();
    assert!(!upstream_rows.is_empty(), "{:?}", report.rows);
    assert!(
        upstream_rows.iter().all(|r| r.stale.is_some()),
        "{upstream_rows:?}"
    );

    let file = |text: &str| ArtifactFiles {
        files: [("a.md".to_owned(), FileContent::text(text))].into(),
    };
    let (old, new) = (file(&"x\n".repeat(100)), file(&"y\n".repeat(100)));
    assert!(!diff::diff_within(&old, &new, 1 << 20).files[0].too_large);
    assert!(diff::diff_within(&old, &new, 100).files[0].too_large);
}
