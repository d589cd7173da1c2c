//! The audit trail on real folders, a real git upstream and a real SQLite file: every deploy,
//! sync, conflict, resolution, abort, rollback and tag of several artifacts is one event, with
//! the versions and files involved; filters and pages find them; an event that cannot be written
//! takes its change's database row with it.

use std::path::Path;

use skillmeat_core::engine::drift::DriftStatus;
use skillmeat_core::model::hash;
use skillmeat_core::ops::conflicts::{self, Resolution};
use skillmeat_core::ops::sync::{self, Direction, Outcome, Strategy, SyncReport, SyncRequest};
use skillmeat_core::ops::{self, Context};
use skillmeat_core::storage::events::{Event, EventFilter, EventKind};
use skillmeat_core::storage::versions::Versions;
use skillmeat_testutils::block_on;

use crate::scenarios::{World, deploy, edit, id, world};

fn to_project(w: &World, artifact: &str, dry_run: bool) -> SyncReport {
    let artifact = id(artifact);
    block_on(sync::sync(
        &w.ctx,
        &SyncRequest {
            id: &artifact,
            direction: Direction::CollectionToProject,
            project: Some(&w.p1),
            collection: "default",
            strategy: Strategy::Auto,
            dry_run,
            on_phase: None,
            expect: None,
        },
    ))
    .unwrap()
}

fn from_upstream(w: &World, artifact: &skillmeat_core::model::artifact::ArtifactId) -> SyncReport {
    block_on(sync::sync(
        &w.ctx,
        &SyncRequest {
            id: artifact,
            direction: Direction::UpstreamToCollection,
            project: None,
            collection: "default",
            strategy: Strategy::Auto,
            dry_run: false,
            on_phase: None,
            expect: None,
        },
    ))
    .unwrap()
}

fn log(ctx: &Context, filter: EventFilter) -> Vec<Event> {
    block_on(ops::log(ctx, &filter)).unwrap().events
}

fn kinds(events: &[Event]) -> Vec<(String, &'static str)> {
    events
        .iter()
        .map(|e| (e.artifact_id.to_string(), e.kind.as_str()))
        .collect()
}

const SKILL: &str = "skills/review/SKILL.md";
const SCRIPT: &str = "skills/review/scripts/check.sh";

/// Both sides edit both files of the skill: a conflict on each.
fn make_conflict(w: &World, round: u32) {
    edit(
        &w.p1.join(".claude").join(SKILL),
        &format!("# Review\n\nLine one, project {round}.\nLine two.\n"),
    );
    edit(
        &w.collection(SKILL),
        &format!("# Review\n\nLine one, collection {round}.\nLine two.\n"),
    );
    edit(
        &w.p1.join(".claude").join(SCRIPT),
        &format!("#!/bin/sh\nexit 1{round}\n"),
    );
    edit(
        &w.collection(SCRIPT),
        &format!("#!/bin/sh\nexit 2{round}\n"),
    );
}

#[test]
fn every_change_of_many_artifacts_is_one_event_with_its_versions_and_files() {
    let w = world();
    w.add_all();
    let ids = w.ids();
    deploy(&w.ctx, &ids, &w.p1, "default").unwrap();
    // A second deploy of what the project already holds is not news.
    deploy(&w.ctx, &ids, &w.p1, "default").unwrap();
    let project = w.p1.canonicalize().unwrap();
    let deploys = log(
        &w.ctx,
        EventFilter {
            kinds: vec![EventKind::Deploy],
            ..EventFilter::default()
        },
    );
    assert_eq!(deploys.len(), 3, "{:?}", kinds(&deploys));
    for e in &deploys {
        assert_eq!(e.project.as_deref(), Some(project.as_path()));
        assert_eq!(e.result, e.source);
        assert!(e.result.is_some());
    }

    // Fast-forwards of all three; a dry run and an up-to-date sync log nothing.
    for (artifact, file) in [
        ("skill:review", SKILL),
        ("command:fix", "commands/fix.md"),
        ("agent:planner", "agents/planner.md"),
    ] {
        let text = std::fs::read_to_string(w.collection(file)).unwrap();
        edit(
            &w.collection(file),
            &format!("{text}Added in the collection.\n"),
        );
        to_project(&w, artifact, true);
        let report = to_project(&w, artifact, false);
        assert_eq!(report.outcome, Outcome::FastForward);
        to_project(&w, artifact, false);
    }
    let syncs = log(
        &w.ctx,
        EventFilter {
            kinds: vec![EventKind::Sync],
            ..EventFilter::default()
        },
    );
    assert_eq!(
        kinds(&syncs),
        [
            ("agent:planner".to_owned(), "sync"),
            ("command:fix".to_owned(), "sync"),
            ("skill:review".to_owned(), "sync"),
        ]
    );
    for e in &syncs {
        assert_eq!(e.direction.as_deref(), Some("collection-to-project"));
        assert_eq!(e.strategy.as_deref(), Some("auto"));
        assert_eq!(e.status.as_deref(), Some(DriftStatus::Outdated.as_str()));
        assert_eq!(e.outcome.as_deref(), Some("fast-forward"));
        assert_eq!(e.base, e.target, "an outdated target is its base");
        assert_eq!(e.result, e.source);
        assert_ne!(e.source, e.target);
    }

    // A conflict, settled per file in three ways, then applied.
    let review = id("skill:review");
    make_conflict(&w, 1);
    let report = to_project(&w, "skill:review", false);
    assert_eq!(report.outcome, Outcome::Conflict);
    let resolve = |path: &str, r: Resolution| {
        block_on(conflicts::resolve_file(
            &w.ctx,
            &review,
            "default",
            Some(&w.p1),
            path,
            r,
        ))
        .unwrap();
    };
    resolve(
        "SKILL.md",
        Resolution::Hunks(b"# Review\n\nLine one, both.\nLine two.\n".to_vec()),
    );
    resolve("scripts/check.sh", Resolution::Theirs);
    let done = block_on(conflicts::continue_merge(
        &w.ctx,
        &review,
        "default",
        Some(&w.p1),
    ))
    .unwrap();

    // Another conflict, abandoned.
    make_conflict(&w, 2);
    to_project(&w, "skill:review", false);
    block_on(conflicts::abort_merge(
        &w.ctx,
        &review,
        "default",
        Some(&w.p1),
    ))
    .unwrap();
    // A third, settled with ours and custom content.
    to_project(&w, "skill:review", false);
    resolve("SKILL.md", Resolution::Custom(b"# Mine\n".to_vec()));
    resolve("scripts/check.sh", Resolution::Ours);
    block_on(conflicts::continue_merge(
        &w.ctx,
        &review,
        "default",
        Some(&w.p1),
    ))
    .unwrap();

    let trail = log(
        &w.ctx,
        EventFilter {
            artifact: Some(review.clone()),
            ..EventFilter::default()
        },
    );
    let trail_kinds: Vec<&str> = trail.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        trail_kinds,
        [
            "resolve", "conflict", "abort", "conflict", "resolve", "conflict", "sync", "deploy"
        ]
    );
    let first_conflict = &trail[5];
    assert_eq!(first_conflict.conflicted, ["SKILL.md", "scripts/check.sh"]);
    assert_eq!(first_conflict.status.as_deref(), Some("conflict"));
    assert!(first_conflict.base.is_some() && first_conflict.target.is_some());
    assert!(first_conflict.detail["conflict_record"].is_i64());
    let first_resolve = &trail[4];
    assert_eq!(first_resolve.result, done.result);
    assert_eq!(
        first_resolve.resolutions,
        [
            ("SKILL.md".to_owned(), "hunks".to_owned()),
            ("scripts/check.sh".to_owned(), "theirs".to_owned()),
        ]
        .into()
    );
    assert_eq!(trail[2].kind, EventKind::Abort);
    assert!(trail[2].resolutions.is_empty());

    let history = block_on(ops::conflict_history(&w.ctx, &review)).unwrap();
    assert_eq!(
        (history.conflicts, history.resolved, history.aborted),
        (3, 2, 1)
    );
    assert_eq!(history.files.len(), 2);
    assert_eq!(history.files[0].path, "SKILL.md");
    assert_eq!(history.files[0].times, 3);
    assert_eq!(
        history.files[0].settled,
        [("custom".to_owned(), 1), ("hunks".to_owned(), 1)].into()
    );
    assert_eq!(
        history.files[1].settled,
        [("ours".to_owned(), 1), ("theirs".to_owned(), 1)].into()
    );

    // A rollback and a tag.
    let fix = id("command:fix");
    let first = deploys
        .iter()
        .find(|e| e.artifact_id == fix)
        .and_then(|e| e.result)
        .unwrap();
    let rolled = block_on(ops::rollback(
        &w.ctx,
        &fix,
        "default",
        Some(&w.p1),
        &first.to_hex()[..12],
    ))
    .unwrap();
    assert!(rolled.changed);
    block_on(ops::tag(
        &w.ctx, &fix, "default", "v1.0.0", None, false, false,
    ))
    .unwrap();
    let fix_trail = log(
        &w.ctx,
        EventFilter {
            artifact: Some(fix.clone()),
            ..EventFilter::default()
        },
    );
    assert_eq!(
        fix_trail.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            EventKind::Tag,
            EventKind::Rollback,
            EventKind::Sync,
            EventKind::Deploy
        ]
    );
    assert_eq!(fix_trail[0].detail["tag"], "v1.0.0");
    assert_eq!(fix_trail[1].result, Some(first));
    assert_eq!(fix_trail[1].target, rolled.from);
    assert_eq!(fix_trail[1].project.as_deref(), Some(project.as_path()));

    // Filters combine; pages of 2 walk the whole log once, newest first.
    let everything = log(&w.ctx, EventFilter::default());
    assert_eq!(everything.len(), 3 + 3 + 8 - 2 + 2);
    let mut paged = Vec::new();
    let mut filter = EventFilter {
        limit: 2,
        ..EventFilter::default()
    };
    loop {
        let page = block_on(ops::log(&w.ctx, &filter)).unwrap();
        assert!(page.events.len() <= 2);
        paged.extend(page.events.iter().map(|e| e.id));
        match page.next_before {
            Some(b) => filter.before = Some(b),
            None => break,
        }
    }
    assert_eq!(paged, everything.iter().map(|e| e.id).collect::<Vec<_>>());
    let elsewhere = log(
        &w.ctx,
        EventFilter {
            project: Some(w.p2.clone()),
            ..EventFilter::default()
        },
    );
    assert!(elsewhere.is_empty());
    let none_later = log(
        &w.ctx,
        EventFilter {
            since: Some("2100-01-01T00:00:00Z".to_owned()),
            ..EventFilter::default()
        },
    );
    assert!(none_later.is_empty());
}

#[test]
fn an_event_that_cannot_be_written_takes_its_version_row_with_it() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    // Both sides edit different lines: a clean merge, whose result is a new version.
    edit(
        &w.p1.join(".claude").join(SKILL),
        "# Review\n\nLine one, project.\nLine two.\n",
    );
    edit(
        &w.collection(SKILL),
        "# Review\n\nLine one.\nLine two.\nLine three, collection.\n",
    );
    let versions = block_on(Versions::open(&w.ctx.home)).unwrap();
    let pool = versions.database().pool().clone();
    block_on(
        sqlx::query(
            "CREATE TRIGGER refuse_events BEFORE INSERT ON events \
             BEGIN SELECT RAISE(ABORT, 'events refused by the test'); END",
        )
        .execute(&pool),
    )
    .unwrap();
    let report = to_project(&w, "skill:review", false);
    assert_eq!(report.outcome, Outcome::Merged);
    assert!(report.applied, "recording never fails the sync");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("events refused by the test")),
        "{:?}",
        report.warnings
    );
    let result = hash::hash_path(&w.p1.join(".claude/skills/review")).unwrap();
    assert_eq!(Some(result), report.result);
    let rows: i64 = block_on(
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM artifact_versions WHERE artifact_id = ? AND content_hash = ?",
        )
        .bind("skill:review")
        .bind(result.to_hex())
        .fetch_one(&pool),
    )
    .unwrap();
    assert_eq!(rows, 0, "the merge's version was kept without its event");
    block_on(sqlx::query("DROP TRIGGER refuse_events").execute(&pool)).unwrap();
    block_on(versions.close());
    assert!(
        log(
            &w.ctx,
            EventFilter {
                kinds: vec![EventKind::Sync],
                ..EventFilter::default()
            }
        )
        .is_empty()
    );
}

#[test]
fn a_home_without_a_database_has_an_empty_log() {
    let w = world();
    let page = block_on(ops::log(&w.ctx, &EventFilter::default())).unwrap();
    assert!(page.events.is_empty() && page.next_before.is_none());
    assert!(!Path::new(&w.ctx.home.root().join("skillmeat.db")).exists());
}

#[test]
fn a_baseline_never_names_a_version_the_store_lacks() {
    let w = world();
    w.add_all();
    // The upstream moves the agent (it follows the default branch).
    w.up.write("agents/planner.md", "Plan the work.\nThen check it.\n");
    w.up.commit("v2");
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("planner.md");
    std::fs::write(&file, "Plan the work.\nThen check it.\n").unwrap();
    let incoming = hash::hash_path(&file).unwrap();
    // The first try to record that version is dropped (as a recording that failed would be).
    let versions = block_on(Versions::open(&w.ctx.home)).unwrap();
    let pool = versions.database().pool().clone();
    block_on(sqlx::query("CREATE TABLE refuse_once (hash TEXT)").execute(&pool)).unwrap();
    block_on(
        sqlx::query("INSERT INTO refuse_once VALUES (?)")
            .bind(incoming.to_hex())
            .execute(&pool),
    )
    .unwrap();
    block_on(
        sqlx::query(
            "CREATE TRIGGER drop_once BEFORE INSERT ON artifact_versions \
             WHEN NEW.content_hash IN (SELECT hash FROM refuse_once) \
             BEGIN DELETE FROM refuse_once; SELECT RAISE(IGNORE); END",
        )
        .execute(&pool),
    )
    .unwrap();
    let planner = id("agent:planner");
    let report = from_upstream(&w, &planner);
    assert_eq!(report.outcome, Outcome::FastForward);
    assert!(
        report.warnings.iter().any(|w| w.contains("vanished")),
        "the dropped recording is reported: {:?}",
        report.warnings
    );
    // The baseline moved to the incoming version, and the store holds it.
    let lock = skillmeat_core::storage::collection::Lock::load(
        &w.ctx.home.collection_dir("default").unwrap(),
    )
    .unwrap();
    assert_eq!(lock.get(&planner).unwrap().content_hash, incoming.to_hex());
    assert!(
        block_on(versions.get(&planner, &incoming.to_hex()))
            .unwrap()
            .is_some()
    );
    block_on(versions.close());
    // So the next change on both sides merges instead of being diverged.
    edit(
        &w.collection("agents/planner.md"),
        "Plan the work, carefully.\nThen check it.\n",
    );
    w.up.write(
        "agents/planner.md",
        "Plan the work.\nThen check it.\nThen ship it.\n",
    );
    w.up.commit("v3");
    let report = from_upstream(&w, &planner);
    assert_eq!(report.outcome, Outcome::Merged, "{report:?}");
}
